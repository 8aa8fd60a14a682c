//! The crate's one error type: a variant per cause, each message naming the input and the reason.
//!
//! Where a caller may branch on *which* check failed, the cause is data, not text: an inclusion
//! proof's [`InclusionFailure`], a fork's [`ForkCause`], a bundle's [`MismatchCause`], a refused
//! request's [`Refusal`], a damaged store's [`StoreFailure`] and a remote ledger's
//! [`RemoteCause`] (which carries the service's [`ErrorCode`]). Messages are unchanged by this:
//! each cause displays as the reason the message has always given.

use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

use crate::entry::EntryKey;
use trustspace_data::error::escape_untrusted;

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
        /// The submitter's key, hex.
        submitter: String,
    },
    /// An entry or request the ledger does not accept (e.g. a verdict on an entry it does not
    /// hold); which rule refused it is the [`Refusal`].
    #[error("entry refused: {0}")]
    Refused(Refusal),
    /// The same entry, or a second registration of the same commitment/policy/verdict.
    #[error("duplicate entry: this {} is already registered", key.kind_name())]
    Duplicate {
        /// The key already registered (its kind and digest).
        key: EntryKey,
    },
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
    /// A checkpoint signature by a key that is not a configured validator (the key, hex).
    #[error("checkpoint signed by {0}, which is not a validator of this ledger")]
    UnknownSigner(String),
    /// The same validator signed a checkpoint twice (its key, hex).
    #[error("checkpoint carries two signatures by validator {0}")]
    DuplicateSigner(String),
    /// A validator signature that does not verify (the validator's key, hex).
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
        "fork or rewritten history: checkpoint {new_size} does not extend checkpoint {old_size} ({cause})"
    )]
    Fork {
        /// Older checkpoint's size.
        old_size: u64,
        /// Newer checkpoint's size.
        new_size: u64,
        /// Which check failed.
        cause: ForkCause,
    },
    /// An inclusion proof that does not place the entry under the checkpoint.
    #[error("entry {index} is not included under the checkpoint of size {size}: {cause}")]
    NotIncluded {
        /// Entry index.
        index: u64,
        /// Checkpoint size.
        size: u64,
        /// Which check failed.
        cause: InclusionFailure,
    },
    /// The verifying keys differ from the ones registered with the policy.
    #[error(
        "key mismatch: the verifying keys are not the ones registered with policy entry {policy_index}"
    )]
    KeyMismatch {
        /// Index of the policy entry whose key digest differs.
        policy_index: u64,
    },
    /// The bundle does not match the registered entries.
    #[error("bundle does not match the ledger: {0}")]
    Mismatch(MismatchCause),
    /// The policy is not one the verifier trusts: an issuer outside the configuration, or not
    /// what the verifier or the configuration pinned.
    #[error("untrusted policy: {0}")]
    Untrusted(crate::trust::TrustFailure),
    /// The zero-knowledge proofs do not verify (or do not match the keys).
    #[error("invalid proof: {0}")]
    Proof(#[from] trustspace_zk::ZkError),
    /// The store is damaged or disagrees with its own checkpoint.
    #[error("ledger store {path}: {cause}")]
    Store {
        /// Store file.
        path: String,
        /// What is wrong.
        cause: StoreFailure,
    },
    /// A remote ledger could not be reached or answered with an error.
    #[error("ledger service {url}: {reason}")]
    Remote {
        /// Service address.
        url: String,
        /// What went wrong, as data.
        cause: RemoteCause,
        /// What went wrong, in words (the service's own message for an error it answered).
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
    /// A [`LedgerError::Malformed`]; the reason may quote the input (serde names an unknown
    /// field as written), so it is escaped ([`escape_untrusted`]).
    pub(crate) fn malformed(what: impl Into<String>, reason: impl Into<String>) -> LedgerError {
        LedgerError::Malformed {
            what: escape_untrusted(&what.into()),
            reason: escape_untrusted(&reason.into()),
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> LedgerError {
        LedgerError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// The error's stable, machine-readable name (what the HTTP service sends as `code`).
    pub fn code(&self) -> ErrorCode {
        match self {
            LedgerError::Malformed { .. } => ErrorCode::Malformed,
            LedgerError::BadEntrySignature { .. } => ErrorCode::BadEntrySignature,
            LedgerError::Refused(_) => ErrorCode::Refused,
            LedgerError::Duplicate { .. } => ErrorCode::Duplicate,
            LedgerError::UnknownDataset(_) => ErrorCode::UnknownDataset,
            LedgerError::UnknownPolicy(_) => ErrorCode::UnknownPolicy,
            LedgerError::NoSuchEntry { .. } => ErrorCode::NoSuchEntry,
            LedgerError::NoQuorum { .. } => ErrorCode::NoQuorum,
            LedgerError::UnknownSigner(_) => ErrorCode::UnknownSigner,
            LedgerError::DuplicateSigner(_) => ErrorCode::DuplicateSigner,
            LedgerError::BadCheckpointSignature(_) => ErrorCode::BadCheckpointSignature,
            LedgerError::WrongLog { .. } => ErrorCode::WrongLog,
            LedgerError::StaleCheckpoint { .. } => ErrorCode::StaleCheckpoint,
            LedgerError::Fork { .. } => ErrorCode::Fork,
            LedgerError::NotIncluded { .. } => ErrorCode::NotIncluded,
            LedgerError::KeyMismatch { .. } => ErrorCode::KeyMismatch,
            LedgerError::Mismatch(_) => ErrorCode::Mismatch,
            LedgerError::Untrusted(_) => ErrorCode::Untrusted,
            LedgerError::Proof(_) => ErrorCode::Proof,
            LedgerError::Store { .. } => ErrorCode::Store,
            LedgerError::Remote { .. } => ErrorCode::Remote,
            LedgerError::Io { .. } => ErrorCode::Io,
        }
    }
}

/// The stable name of a [`LedgerError`] variant, sent by the HTTP service with every error so
/// that clients branch on data, not on the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// [`LedgerError::Malformed`].
    Malformed,
    /// [`LedgerError::BadEntrySignature`].
    BadEntrySignature,
    /// [`LedgerError::Refused`].
    Refused,
    /// [`LedgerError::Duplicate`].
    Duplicate,
    /// [`LedgerError::UnknownDataset`].
    UnknownDataset,
    /// [`LedgerError::UnknownPolicy`].
    UnknownPolicy,
    /// [`LedgerError::NoSuchEntry`].
    NoSuchEntry,
    /// [`LedgerError::NoQuorum`].
    NoQuorum,
    /// [`LedgerError::UnknownSigner`].
    UnknownSigner,
    /// [`LedgerError::DuplicateSigner`].
    DuplicateSigner,
    /// [`LedgerError::BadCheckpointSignature`].
    BadCheckpointSignature,
    /// [`LedgerError::WrongLog`].
    WrongLog,
    /// [`LedgerError::StaleCheckpoint`].
    StaleCheckpoint,
    /// [`LedgerError::Fork`].
    Fork,
    /// [`LedgerError::NotIncluded`].
    NotIncluded,
    /// [`LedgerError::KeyMismatch`].
    KeyMismatch,
    /// [`LedgerError::Mismatch`].
    Mismatch,
    /// [`LedgerError::Untrusted`].
    Untrusted,
    /// [`LedgerError::Proof`].
    Proof,
    /// [`LedgerError::Store`].
    Store,
    /// [`LedgerError::Remote`].
    Remote,
    /// [`LedgerError::Io`].
    Io,
}

impl ErrorCode {
    /// The code's wire name (snake_case, e.g. `no_such_entry`).
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => s,
            _ => String::new(),
        }
    }

    /// Parses a code sent by a service; `None` for a code this version does not know.
    pub fn parse(s: &str) -> Option<ErrorCode> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

/// Which check of an inclusion proof failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InclusionFailure {
    /// The proof is for another tree size than the checkpoint's.
    OtherTreeSize,
    /// The index is not below the checkpoint's size.
    IndexOutsideTree,
    /// The proof is for another index than the entry's.
    OtherIndex,
    /// The path does not lead from the entry to the checkpoint's root (the Merkle library's
    /// reason).
    Path(String),
}

impl fmt::Display for InclusionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InclusionFailure::OtherTreeSize => f.write_str("the proof is for another tree size"),
            InclusionFailure::IndexOutsideTree => f.write_str("index outside the tree"),
            InclusionFailure::OtherIndex => f.write_str("the proof is for another index"),
            InclusionFailure::Path(reason) => f.write_str(reason),
        }
    }
}

/// Which check connecting two checkpoints failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForkCause {
    /// The checkpoints name different logs.
    DifferentLogs,
    /// The newer checkpoint is smaller than the older one (checked by a consistency proof).
    NewerIsSmaller,
    /// The consistency proof is for other sizes than the two checkpoints'.
    ProofForOtherSizes,
    /// The newer checkpoint's size is over [`crate::log::MAX_LOG_SIZE`].
    SizeOverLimit,
    /// An older checkpoint of size 0 whose root is not the empty tree's (or a proof with hashes).
    EmptyTreeRoot,
    /// Two checkpoints of the same size with different roots.
    TwoRootsForOneSize,
    /// The consistency proof does not verify (the Merkle library's reason).
    Proof(String),
    /// The ledger's newest checkpoint is smaller than one seen before (seen by the monitor).
    Shrank,
    /// The ledger answered without the consistency proof the monitor asked for.
    NoProofFromLedger,
    /// The evidence carries no consistency proof from the checkpoint the verifier saw.
    NoProofInEvidence,
    /// The proposed root is not the root of the log with the proposed entries appended (or the
    /// sizes do not add up).
    RootOfOtherEntries,
    /// A checkpoint of size 0 whose root is not the empty tree's (seen by the monitor).
    EmptyCheckpointRoot,
}

impl fmt::Display for ForkCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ForkCause::DifferentLogs => "the checkpoints are of different logs",
            ForkCause::NewerIsSmaller => "the newer checkpoint is smaller",
            ForkCause::ProofForOtherSizes => "the proof is for other sizes",
            ForkCause::SizeOverLimit => "size over the limit",
            ForkCause::EmptyTreeRoot => "the empty tree has another root",
            ForkCause::TwoRootsForOneSize => "two different roots for the same size",
            ForkCause::Proof(reason) => reason,
            ForkCause::Shrank => "the ledger shrank (entries removed)",
            ForkCause::NoProofFromLedger => "the ledger gave no consistency proof",
            ForkCause::NoProofInEvidence => "no consistency proof from the checkpoint seen before",
            ForkCause::RootOfOtherEntries => {
                "the proposed root is not the root of the log with these entries"
            }
            ForkCause::EmptyCheckpointRoot => {
                "a checkpoint of size 0 whose root is not the empty tree's"
            }
        })
    }
}

/// How a bundle disagrees with the entries registered on the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MismatchCause {
    /// The entry given as the dataset is of another kind.
    NotADatasetEntry {
        /// Its index.
        index: u64,
    },
    /// The entry given as the policy is of another kind.
    NotAPolicyEntry {
        /// Its index.
        index: u64,
    },
    /// The bundle is bound to another commitment than the dataset entry registers.
    Commitment {
        /// The dataset entry's index.
        dataset_index: u64,
    },
    /// The dataset entry was signed by another key than the commitment's owner.
    Owner {
        /// The dataset entry's index.
        dataset_index: u64,
    },
    /// The bundle proves another policy than the policy entry registers.
    Policy {
        /// The policy entry's index.
        policy_index: u64,
    },
    /// The bundle was proven for other circuits than the policy entry registers.
    Circuits {
        /// The policy entry's index.
        policy_index: u64,
    },
}

impl fmt::Display for MismatchCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MismatchCause::NotADatasetEntry { index } => {
                write!(f, "entry {index} is not a dataset entry")
            }
            MismatchCause::NotAPolicyEntry { index } => {
                write!(f, "entry {index} is not a policy entry")
            }
            MismatchCause::Owner { dataset_index } => write!(
                f,
                "dataset entry {dataset_index} was not registered by its commitment's owner"
            ),
            MismatchCause::Commitment { dataset_index } => write!(
                f,
                "the bundle is bound to another commitment than dataset entry {dataset_index}"
            ),
            MismatchCause::Policy { policy_index } => write!(
                f,
                "the bundle proves another policy than policy entry {policy_index}"
            ),
            MismatchCause::Circuits { policy_index } => write!(
                f,
                "the bundle was proven for other circuits than policy entry {policy_index} registers"
            ),
        }
    }
}

/// Which rule refused an entry or a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// `init` in a directory that already holds a ledger.
    LedgerExists {
        /// The directory.
        dir: String,
    },
    /// A validator key file whose key is not in the configuration.
    NotAValidator {
        /// The key file.
        key_file: String,
    },
    /// A verdict naming an entry index the log does not hold (or holds with another digest).
    UnknownReference {
        /// `"dataset"` or `"policy"`.
        what: &'static str,
        /// The index named.
        index: u64,
    },
    /// A verdict naming an entry of the wrong kind.
    WrongReferenceKind {
        /// `"dataset"` or `"policy"`.
        what: &'static str,
        /// The index named.
        index: u64,
    },
    /// A policy entry signed by a key the trust configuration does not allow to issue policies.
    IssuerNotAllowed {
        /// The entry's submitter, hex.
        issuer: String,
    },
    /// An entry dated before the entry preceding it.
    TimestampBackwards {
        /// The preceding entry's timestamp.
        previous: u64,
        /// This entry's.
        found: u64,
    },
    /// An entry dated more than [`crate::rules::MAX_CLOCK_SKEW`] seconds after its checkpoint.
    TimestampAhead {
        /// This entry's timestamp.
        found: u64,
        /// The latest allowed.
        limit: u64,
    },
    /// A dataset entry not signed by its commitment's owner (someone else's commitment).
    NotTheOwner {
        /// The entry's submitter, hex.
        submitter: String,
    },
    /// An append of no entries or of more than [`crate::store::MAX_BATCH`].
    BatchSize {
        /// The largest batch.
        max: usize,
    },
    /// An HTTP append of more than [`crate::http::MAX_HTTP_BATCH`] entries.
    TooManyEntries {
        /// The largest request.
        max: usize,
    },
    /// An HTTP audit of more than [`crate::http::MAX_AUDIT`] indices.
    TooManyIndices {
        /// The largest request.
        max: usize,
    },
    /// An HTTP request for a path the service does not serve.
    NoSuchEndpoint {
        /// The path asked for.
        url: String,
    },
    /// A proposal to a validator not signed by the ledger's server it serves.
    NotFromTheServer,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::LedgerExists { dir } => write!(f, "{dir} already holds a ledger"),
            Refusal::NotAValidator { key_file } => {
                write!(f, "{key_file} is not a validator of this ledger")
            }
            Refusal::UnknownReference { what, index } => write!(
                f,
                "the verdict names {what} entry {index}, which the log does not hold"
            ),
            Refusal::IssuerNotAllowed { issuer } => write!(
                f,
                "{issuer} is not allowed to register policies by the trust configuration"
            ),
            Refusal::TimestampBackwards { previous, found } => write!(
                f,
                "timestamp {found} is before the preceding entry's {previous}"
            ),
            Refusal::TimestampAhead { found, limit } => write!(
                f,
                "timestamp {found} is after {limit}, the latest this checkpoint allows"
            ),
            Refusal::NotTheOwner { submitter } => write!(
                f,
                "the dataset entry's commitment names another owner than its submitter {submitter}"
            ),
            Refusal::WrongReferenceKind { what, index } => {
                write!(f, "entry {index} is not a {what} entry")
            }
            Refusal::BatchSize { max } => write!(f, "an append takes 1 to {max} entries"),
            Refusal::TooManyEntries { max } => write!(f, "at most {max} entries per request"),
            Refusal::TooManyIndices { max } => write!(f, "at most {max} indices per audit"),
            Refusal::NoSuchEndpoint { url } => write!(f, "no such endpoint: {url}"),
            Refusal::NotFromTheServer => {
                write!(
                    f,
                    "the proposal is not signed by this validator's ledger server"
                )
            }
        }
    }
}

/// What is wrong with a ledger store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreFailure {
    /// The database itself failed or found itself damaged (redb's reason).
    Database(String),
    /// An entry index is missing from the stored sequence.
    MissingEntry(u64),
    /// A stored entry is not indexed under its key.
    NotIndexed(u64),
    /// A stored entry does not decode.
    BadEntry {
        /// Its index.
        index: u64,
        /// Why.
        reason: String,
    },
    /// The stored checkpoint does not decode.
    BadCheckpoint(String),
    /// The stored checkpoint fails its quorum under the configuration.
    CheckpointQuorum(String),
    /// Entries are stored without a checkpoint.
    EntriesWithoutCheckpoint,
    /// The stored entries do not reproduce the stored checkpoint.
    Diverged {
        /// Stored entries.
        entries: u64,
        /// The checkpoint's size.
        checkpoint_size: u64,
    },
}

impl fmt::Display for StoreFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreFailure::Database(reason) => f.write_str(reason),
            StoreFailure::MissingEntry(i) => write!(f, "entry {i} is missing"),
            StoreFailure::NotIndexed(i) => write!(f, "entry {i} is not indexed"),
            StoreFailure::BadEntry { index, reason } => write!(f, "entry {index}: {reason}"),
            StoreFailure::BadCheckpoint(reason) => write!(f, "checkpoint: {reason}"),
            StoreFailure::CheckpointQuorum(reason) => write!(f, "stored checkpoint: {reason}"),
            StoreFailure::EntriesWithoutCheckpoint => f.write_str("entries without a checkpoint"),
            StoreFailure::Diverged {
                entries,
                checkpoint_size,
            } => write!(
                f,
                "the {entries} stored entries do not reproduce the checkpoint of size {checkpoint_size}"
            ),
        }
    }
}

/// What went wrong with a remote ledger service.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoteCause {
    /// The service could not listen on the address asked for.
    Listen,
    /// No answer: the service is unreachable, timed out, or the connection broke.
    Transport,
    /// The service answered with an error status.
    Status {
        /// The HTTP status.
        status: u16,
        /// The error's [`ErrorCode`], if the service sent one this version knows.
        code: Option<ErrorCode>,
    },
    /// The service answered, but not with what was asked for.
    BadAnswer,
}
