//! Errors of `trustspace-zk`: one enum, [`ZkError`], with a variant per kind of failure; each
//! carries its cause as data (an enum per variant where callers may branch on it), so no caller
//! needs to read an error's text.
//!
//! - [`Mismatch`]: a key, bundle or commitment belongs to another circuit, policy or dataset;
//! - [`FormatProblem`]: a file or encoded value is malformed;
//! - [`PolicyError`]: a policy does not compile (which rule or aggregate, which column, why);
//! - [`DatasetProblem`], [`Unsatisfied`], [`ParameterProblem`], [`BadProof`]: below.

use std::path::PathBuf;
use trustspace_data::error::escape_controls;

mod format;
mod mismatch;
mod policy;

pub use format::FormatProblem;
pub use mismatch::{ChunkMismatch, Mismatch};
pub use policy::{AggregateProblem, PolicyError, PredicateProblem, RulePart};

/// Errors of commitment, policy compilation, proving and verification.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZkError {
    /// The schema's records are too wide to commit to (more field elements than a leaf holds).
    #[error(
        "schema: records of {bits} bits need {elements} field elements; at most {limit} are supported"
    )]
    RecordTooWide {
        /// Bits of one canonically encoded record.
        bits: u32,
        /// Field elements one record would need.
        elements: usize,
        /// Field elements of a leaf.
        limit: usize,
    },
    /// The policy file is malformed or does not fit the schema.
    #[error("policy {source_name}: {reason}")]
    Policy {
        /// File or name of the policy.
        source_name: String,
        /// What is wrong: which rule or aggregate, which column, why (boxed: it is large, and
        /// every `Result` of this crate carries the error's size).
        reason: Box<PolicyError>,
    },
    /// The policy file is not valid TOML or not shaped as a policy (a value of the wrong type,
    /// an unknown or missing key), with the line and column the TOML parser points at.
    #[error("policy {source_name}: {error}")]
    PolicyToml {
        /// File or name of the policy.
        source_name: String,
        /// Where and what.
        error: trustspace_data::error::TomlError,
    },
    /// A parameter is out of range (chunk size, nothing to merge, a prover without keys).
    #[error("{0}")]
    Parameter(ParameterProblem),
    /// The dataset does not match the commitment or the opening.
    #[error("dataset: {0}")]
    Dataset(DatasetProblem),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file or encoded value is malformed: wrong version, bad hex, a point not on the curve or
    /// not in the subgroup, a field element not below the modulus, a size over the limit.
    #[error("{what}: {reason}")]
    Format {
        /// What was being decoded.
        what: String,
        /// Why it was rejected.
        reason: FormatProblem,
    },
    /// A key, bundle or commitment belongs to another circuit, schema, policy or dataset.
    #[error("mismatch: {0}")]
    Mismatch(Mismatch),
    /// A proof did not verify.
    #[error("invalid proof: {0}")]
    InvalidProof(BadProof),
    /// The data does not satisfy the policy, so no proof can be made; names the first broken
    /// rule.
    #[error("the dataset does not satisfy the policy: {0}")]
    Unsatisfied(Unsatisfied),
    /// The constraint system could not be built or proven.
    #[error("proof system: {0}")]
    Synthesis(#[from] ark_relations::gr1cs::SynthesisError),
    /// Error from the dataset model.
    #[error(transparent)]
    Data(#[from] trustspace_data::DataError),
}

impl From<Mismatch> for ZkError {
    fn from(m: Mismatch) -> Self {
        ZkError::Mismatch(m)
    }
}

impl From<DatasetProblem> for ZkError {
    fn from(d: DatasetProblem) -> Self {
        ZkError::Dataset(d)
    }
}

/// Result with [`ZkError`].
pub type Result<T, E = ZkError> = std::result::Result<T, E>;

/// Which proof of a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofId {
    /// The proof of chunk `n`.
    Chunk(u64),
    /// The final (aggregate) proof.
    Final,
}

impl std::fmt::Display for ProofId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProofId::Chunk(n) => write!(f, "chunk {n}"),
            ProofId::Final => f.write_str("final proof"),
        }
    }
}

/// A proof that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{proof}{}", match .error { Some(e) => format!(": {e}"), None => " does not verify".into() })]
pub struct BadProof {
    /// Which proof.
    pub proof: ProofId,
    /// The verifier's error, when it failed rather than answered no.
    pub error: Option<String>,
}

/// Why the data cannot be proven compliant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unsatisfied {
    /// A record breaks a per-record rule.
    #[error("record {record} breaks rule `{}`", escape_controls(.rule))]
    Rule {
        /// The record's index in the dataset.
        record: u64,
        /// The rule's name.
        rule: String,
    },
    /// An aggregate bound fails on the dataset's totals.
    #[error("aggregate bound `{}` fails", escape_controls(.bound))]
    Aggregate {
        /// The bound's name (the aggregate's name and which bound).
        bound: String,
    },
}

/// A parameter out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParameterProblem {
    /// The chunk size is not a power of two within the layout's range.
    #[error(
        "chunk size must be a power of two between {min} (records per leaf) and {max}, got {got}"
    )]
    ChunkSize {
        /// The chunk size asked for.
        got: u64,
        /// Records per leaf (the least chunk size).
        min: u64,
        /// The largest chunk size.
        max: u64,
    },
    /// [`crate::bundle::ProofBundle::merge`] was given no part.
    #[error("nothing to merge")]
    NothingToMerge,
    /// A prover built without keys was asked to prove.
    #[error("this prover has no proving keys")]
    NoProvingKeys,
}

/// Why records do not match a schema, a commitment or an opening.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetProblem {
    /// A record has another number of values than the schema has columns.
    #[error("record {record} has {values} values, the schema {columns} columns")]
    RecordLength {
        /// The record's index.
        record: u64,
        /// Values in the record.
        values: usize,
        /// Columns in the schema.
        columns: usize,
    },
    /// A record's value is not an encoding its column allows.
    #[error("record {record}, column `{column}`: encoding {encoding} is outside {min}..={max}")]
    OutOfBounds {
        /// The record's index.
        record: u64,
        /// The column's name.
        column: String,
        /// The value's encoding.
        encoding: u64,
        /// The least allowed encoding.
        min: u64,
        /// The greatest allowed encoding.
        max: u64,
    },
    /// A commitment needs at least one record and at most [`crate::commit::MAX_RECORDS`].
    #[error("a commitment needs 1..={max} records, got {count}")]
    RecordCount {
        /// Records given.
        count: u64,
        /// The most records a commitment holds.
        max: u64,
    },
    /// A record has another number of values than the circuit has columns.
    #[error("record {record} has {values} values")]
    Values {
        /// The record's index.
        record: u64,
        /// Values in the record.
        values: usize,
    },
    /// A record's value is wider than its column.
    #[error("record {record}: a value is wider than its column")]
    TooWide {
        /// The record's index.
        record: u64,
    },
    /// A record does not fit the schema: its number of values, or a value outside its
    /// column's declared domain (width, `min`/`max`, dictionary size), which the circuit
    /// enforces.
    #[error("record {record} does not fit the schema's domains")]
    Domains {
        /// The record's index.
        record: u64,
    },
    /// More records than the commitment holds.
    #[error("more records than the {committed} committed")]
    MoreThanCommitted {
        /// Records committed.
        committed: u64,
    },
    /// A chunk has another number of records than the commitment implies.
    #[error("chunk {chunk} has {records} records, the commitment implies {expected}")]
    ChunkLength {
        /// The chunk.
        chunk: u64,
        /// Records given.
        records: usize,
        /// Records the commitment implies.
        expected: u64,
    },
    /// Proving was asked for before every chunk was scanned.
    #[error("{scanned} of {chunks} chunks were scanned; scan every chunk before proving")]
    NotScanned {
        /// Chunks scanned.
        scanned: u64,
        /// Chunks committed.
        chunks: u64,
    },
    /// The chunk proofs given do not cover each chunk exactly once.
    #[error("a bundle needs exactly one proof for each of the {chunks} chunks")]
    ChunkProofs {
        /// Chunks committed.
        chunks: u64,
    },
    /// Another number of records than committed.
    #[error("{given} records given, {committed} committed")]
    RecordsGiven {
        /// Records given.
        given: u64,
        /// Records committed.
        committed: u64,
    },
    /// The records and opening do not give the commitment's root.
    #[error("the records and opening do not match the commitment")]
    Opening,
}
