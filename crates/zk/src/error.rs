//! Errors of `trustspace-zk`: one enum, variants by cause.

use std::path::PathBuf;

/// Errors of commitment, policy compilation, proving and verification.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZkError {
    /// The schema cannot be committed to (for example, records wider than a leaf).
    #[error("schema: {0}")]
    Schema(String),
    /// The policy file is malformed or does not fit the schema.
    #[error("policy {source_name}: {reason}")]
    Policy {
        /// File or name of the policy.
        source_name: String,
        /// What is wrong.
        reason: String,
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
    /// An aggregate's `min_share` or `max_share` is outside `[0, 1]`: a share is a fraction of
    /// all records, so such a bound could never bind (a maximum) or never hold (a minimum).
    #[error(
        "policy {source_name}: aggregate `{}`: `{key}` = {value:?} is outside 0..=1 (a share is a fraction of all records, such as \"0.01\")",
        trustspace_data::error::escape_controls(.aggregate)
    )]
    ShareOutOfRange {
        /// File or name of the policy.
        source_name: String,
        /// The aggregate's name.
        aggregate: String,
        /// `min_share` or `max_share`.
        key: &'static str,
        /// The bound as written.
        value: String,
    },
    /// A parameter is out of range (chunk size, record count, chunk selection...).
    #[error("{0}")]
    Parameter(String),
    /// The dataset does not match the commitment or the opening.
    #[error("dataset: {0}")]
    Dataset(String),
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
        reason: String,
    },
    /// A key, bundle or commitment belongs to another circuit, schema, policy or dataset.
    #[error("mismatch: {0}")]
    Mismatch(String),
    /// A proof did not verify.
    #[error("invalid proof: {0}")]
    InvalidProof(String),
    /// The data does not satisfy the policy, so no proof can be made; names the first broken
    /// rule.
    #[error("the dataset does not satisfy the policy: {0}")]
    Unsatisfied(String),
    /// The constraint system could not be built or proven.
    #[error("proof system: {0}")]
    Synthesis(String),
    /// Error from the dataset model.
    #[error(transparent)]
    Data(#[from] trustspace_data::DataError),
}

impl From<ark_relations::gr1cs::SynthesisError> for ZkError {
    fn from(e: ark_relations::gr1cs::SynthesisError) -> Self {
        ZkError::Synthesis(e.to_string())
    }
}

/// Result with [`ZkError`].
pub type Result<T, E = ZkError> = std::result::Result<T, E>;
