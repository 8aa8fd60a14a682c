//! The crate's one error type: a variant per cause, each message naming the input and the reason.

use thiserror::Error;

/// Result with [`LedgerError`].
pub type Result<T> = std::result::Result<T, LedgerError>;

/// Why a ledger operation or a verification failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// Bytes or a file that do not decode as what they claim to be.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being decoded.
        what: String,
        /// Why it was refused.
        reason: String,
    },
    /// An entry whose signature does not verify under its submitter's key.
    #[error("entry signature does not verify under the submitter's key {submitter}")]
    BadEntrySignature {
        /// Submitter key, hex.
        submitter: String,
    },
    /// An entry the submitter is not allowed to make (e.g. a verdict on another owner's dataset).
    #[error("entry refused: {0}")]
    Refused(String),
    /// The same entry, or a second registration of the same commitment/policy/verdict.
    #[error("duplicate entry: {0}")]
    Duplicate(String),
    /// No dataset entry registers this commitment.
    #[error("unknown dataset: no entry registers commitment root {0}")]
    UnknownDataset(String),
    /// No policy entry registers this policy digest.
    #[error("unknown policy: no entry registers policy digest {0}")]
    UnknownPolicy(String),
    /// An entry index beyond the log.
    #[error("no entry {index}: the log holds {size}")]
    NoSuchEntry {
        /// Requested index.
        index: u64,
        /// Log size.
        size: u64,
    },
    /// A checkpoint without enough valid validator signatures.
    #[error(
        "checkpoint of size {size} has {have} valid validator signatures, the quorum is {need}"
    )]
    NoQuorum {
        /// Tree size of the checkpoint.
        size: u64,
        /// Distinct valid member signatures.
        have: usize,
        /// Threshold.
        need: usize,
    },
    /// A checkpoint signature by a key that is not a configured validator.
    #[error("checkpoint signed by {0}, which is not a validator of this ledger")]
    UnknownSigner(String),
    /// The same validator signed a checkpoint twice.
    #[error("checkpoint carries two signatures by validator {0}")]
    DuplicateSigner(String),
    /// A validator signature that does not verify.
    #[error("checkpoint signature by validator {0} does not verify")]
    BadCheckpointSignature(String),
    /// A checkpoint of another log.
    #[error("checkpoint is for log {found:?}, expected {expected:?}")]
    WrongLog {
        /// Log the verifier trusts.
        expected: String,
        /// Log named by the checkpoint.
        found: String,
    },
    /// A checkpoint older than one the verifier has already seen.
    #[error("stale checkpoint: size {offered} is older than the size {seen} already seen")]
    StaleCheckpoint {
        /// Size offered now.
        offered: u64,
        /// Size seen before.
        seen: u64,
    },
    /// Two checkpoints that no append-only history connects: the log forked or was rewritten.
    #[error(
        "fork or rewritten history: checkpoint {new_size} does not extend checkpoint {old_size} ({reason})"
    )]
    Fork {
        /// Older checkpoint's size.
        old_size: u64,
        /// Newer checkpoint's size.
        new_size: u64,
        /// Which check failed.
        reason: String,
    },
    /// An inclusion proof that does not place the entry under the checkpoint.
    #[error("entry {index} is not included under the checkpoint of size {size}: {reason}")]
    NotIncluded {
        /// Entry index.
        index: u64,
        /// Checkpoint size.
        size: u64,
        /// Which check failed.
        reason: String,
    },
    /// The verifying keys differ from the ones registered with the policy.
    #[error("key mismatch: {0}")]
    KeyMismatch(String),
    /// The bundle does not match the registered entries.
    #[error("bundle does not match the ledger: {0}")]
    Mismatch(String),
    /// The zero-knowledge proofs do not verify (or do not match the keys).
    #[error("invalid proof: {0}")]
    Proof(#[from] trustspace_zk::ZkError),
    /// The store is damaged or disagrees with its own checkpoint.
    #[error("ledger store {path}: {reason}")]
    Store {
        /// Store file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A remote ledger could not be reached or answered with an error.
    #[error("ledger service {url}: {reason}")]
    Remote {
        /// Service address.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl LedgerError {
    pub(crate) fn malformed(what: impl Into<String>, reason: impl Into<String>) -> LedgerError {
        LedgerError::Malformed {
            what: what.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> LedgerError {
        LedgerError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
