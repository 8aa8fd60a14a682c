//! `zkprove commit`: streams a data file (validated against its schema) into a commitment,
//! writing `commitment.json` (public) and `opening.json` (secret).

use super::args::CommitArgs;
use anyhow::{Context, Result};
use rand::rngs::OsRng;
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;
use std::time::Instant;
use trustspace_data::Schema;
use trustspace_zk::{Opening, ZkError, commit_with};

/// What `commit` wrote.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct CommitSummary {
    /// The commitment file.
    pub commitment: PathBuf,
    /// The opening file.
    pub opening: PathBuf,
    /// The commitment's root, hex.
    pub root: String,
    /// Records committed to.
    pub records: u64,
    /// Chunks.
    pub chunks: u64,
    /// Wall time.
    pub seconds: f64,
}

/// The data file cannot be committed to (an empty dataset, say): the library's cause, with
/// the file named.
#[derive(Debug)]
pub struct DataFileError {
    /// The data file.
    pub path: PathBuf,
    /// What the commitment refused.
    pub error: ZkError,
}

impl fmt::Display for DataFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.error)
    }
}

// No `source`: the message already includes the cause.
impl std::error::Error for DataFileError {}

/// `zkprove commit`.
pub fn commit(a: &CommitArgs) -> Result<CommitSummary> {
    let schema = Schema::load(&a.schema)?;
    let owner = a.owner.bytes()?;
    let started = Instant::now();
    let opening = Opening::generate(&mut OsRng);
    let mut records = trustspace_data::open(&a.data, &schema)?;
    let mut error = None;
    let stream = std::iter::from_fn(|| match records.next()? {
        Ok(r) => Some(r),
        Err(e) => {
            error = Some(e);
            None
        }
    });
    let commitment = commit_with(&schema, stream, a.chunk_size, &owner, &opening);
    if let Some(e) = error {
        anyhow::bail!("invalid record: {e}");
    }
    // The library does not know the file: name it when the data is at fault.
    let commitment = commitment.map_err(|e| match e {
        ZkError::Dataset(_) => anyhow::Error::new(DataFileError {
            path: a.data.clone(),
            error: e,
        }),
        other => other.into(),
    })?;
    let out = &a.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    commitment.save(&out.join("commitment.json"))?;
    opening.save(&out.join("opening.json"))?;
    Ok(CommitSummary {
        commitment: out.join("commitment.json"),
        opening: out.join("opening.json"),
        root: trustspace_zk::encode::fr_to_hex(&commitment.root),
        records: commitment.records,
        chunks: commitment.chunks(),
        seconds: started.elapsed().as_secs_f64(),
    })
}
