//! Why the main job stopped, where a caller (or a test) may branch on the cause. Other failures
//! (an unreadable file, a library's own error) arrive as the library's error with context.

use std::fmt;
use std::path::PathBuf;

/// A failure of the main job with its cause as data.
#[derive(Debug)]
pub enum WorkflowError {
    /// `--records 0`: every holder needs at least one record.
    NoRecords,
    /// The output directory holds files the job did not write: it is never replaced.
    NotOurs {
        /// The directory.
        dir: PathBuf,
    },
    /// A generated file failed its own schema (a generator bug, never expected).
    GeneratedInvalid {
        /// The file.
        path: PathBuf,
        /// Records rejected.
        rejected: u64,
    },
    /// The regulator's offline re-check of an evidence file found another record count.
    RecheckDisagrees {
        /// The evidence file.
        evidence: PathBuf,
    },
    /// A holder's query failed (the first holder to fail other than by waiting for the others).
    QueryFailed {
        /// The holder.
        holder: String,
        /// What the MPC service reported.
        error: trustspace_mpc::MpcError,
    },
    /// A holder ended a query without the result it is a recipient of.
    NoResult {
        /// The holder.
        holder: String,
    },
    /// The recipients of one query received different results.
    ResultsDiffer {
        /// `hospital` or `bank`.
        who: &'static str,
    },
    /// A compute-party process exited unsuccessfully.
    PartyFailed {
        /// The party's id.
        party: usize,
        /// Its exit status, as the system reports it.
        status: String,
        /// Its log file.
        log: PathBuf,
    },
}

impl fmt::Display for WorkflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkflowError::NoRecords => write!(f, "--records must be at least 1"),
            WorkflowError::NotOurs { dir } => write!(
                f,
                "{} exists and is not from a previous `dataspace run`; choose another --out",
                dir.display()
            ),
            WorkflowError::GeneratedInvalid { path, rejected } => write!(
                f,
                "{}: {rejected} generated records failed validation",
                path.display()
            ),
            WorkflowError::RecheckDisagrees { .. } => write!(f, "the offline re-check disagrees"),
            WorkflowError::QueryFailed { holder, error } => {
                write!(f, "{holder}: query failed: {error}")
            }
            WorkflowError::NoResult { holder } => write!(f, "{holder}: no result"),
            WorkflowError::ResultsDiffer { who } => {
                write!(f, "the {who}s received different results")
            }
            WorkflowError::PartyFailed { party, status, log } => write!(
                f,
                "compute party {party} failed ({status}); see {}",
                log.display()
            ),
        }
    }
}

// No `source`: the message already says it all (`{e:#}` must not repeat the cause).
impl std::error::Error for WorkflowError {}
