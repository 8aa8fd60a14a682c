//! The crate's one error type: a variant per cause, each message naming the input and the reason;
//! where a caller may branch on the cause, it is data ([`Exclusion`], [`JsonCause`], and the
//! DKG's [`Misbehaviour`], [`Violation`], [`Failure`]).
//!
//! No message ever carries a plaintext value, a secret share or any other secret: an
//! out-of-range value is reported by record and column, never by its value.

use std::fmt;

use thiserror::Error;

use crate::ristretto::dkg::{Failure, Misbehaviour, Violation};

/// Result with [`HeError`].
pub type Result<T> = std::result::Result<T, HeError>;

/// Why a homomorphic-sum operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum HeError {
    /// Parameters that cannot work (threshold above the number of authorities, empty label, ...).
    #[error("invalid parameter {what}: {reason}")]
    InvalidParameter {
        /// The parameter.
        what: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// The schema has no column of that name.
    #[error("the schema has no column `{column}`")]
    UnknownColumn {
        /// The column asked for.
        column: String,
    },
    /// The column's type has no meaningful sum (dates, timestamps, categories).
    #[error("column `{column}` is of type {kind}, which cannot be summed")]
    UnsupportedColumn {
        /// The column.
        column: String,
        /// Its type.
        kind: String,
    },
    /// The declared range is too wide for a range proof, or holds a single value.
    #[error("range of {what} is unusable: {reason}")]
    UnusableRange {
        /// Whose range (a column, an explicit range).
        what: String,
        /// Why.
        reason: String,
    },
    /// A value outside its declared range (the value itself is not reported: it is secret).
    #[error("{input}: value is outside the declared range {range}")]
    ValueOutOfRange {
        /// Which input (record number and column).
        input: String,
        /// The declared range, as text.
        range: String,
    },
    /// A record too short for the column asked for.
    #[error("record {record} has {len} fields, column `{column}` is field {index}")]
    ShortRecord {
        /// Record number (0-based).
        record: usize,
        /// Fields in the record.
        len: usize,
        /// The column.
        column: String,
        /// The column's position.
        index: usize,
    },
    /// Inputs prepared for another schema, column, label or range than the one in use.
    #[error("{what} does not match: {reason}")]
    SpecMismatch {
        /// The mismatching input.
        what: String,
        /// What differs.
        reason: String,
    },
    /// A ciphertext, total or partial decryption made under another key set.
    #[error("{what} was made under key set {found}, expected {expected}")]
    KeyMismatch {
        /// The input.
        what: String,
        /// Key id (hex) the input names.
        found: String,
        /// Key id (hex) in use.
        expected: String,
    },
    /// An encrypted input whose range proof does not verify: it is refused.
    #[error("{input}: range proof does not verify ({reason}); input refused")]
    InvalidRangeProof {
        /// Which input (holder, value number), as text.
        input: String,
        /// The refused holder's position among the columns aggregated together, when the
        /// aggregation was given several at once.
        holder: Option<usize>,
        /// The failing value's position in its column (ristretto), or the failing list's
        /// (tfhe paths).
        index: usize,
        /// The verifier's reason.
        reason: String,
    },
    /// Bytes that are not the canonical encoding of a ristretto255 point.
    #[error("{what}: not a canonical ristretto255 point encoding")]
    MalformedPoint {
        /// Which field.
        what: String,
    },
    /// A point that must not be the identity (a public key, a ciphertext's randomness).
    #[error("{what}: the identity point is not allowed here")]
    IdentityPoint {
        /// Which field.
        what: String,
    },
    /// Bytes that are not a canonical scalar, or a proof that does not decode.
    #[error("{what}: {reason}")]
    MalformedScalar {
        /// Which field.
        what: String,
        /// Why.
        reason: String,
    },
    /// A document that does not decode: bad hex, a bad length, inconsistent fields, a
    /// truncated binary encoding (JSON errors, versions and kinds have variants of their own).
    #[error("malformed {what}: {reason}")]
    Format {
        /// What was being decoded.
        what: String,
        /// Why it was refused.
        reason: String,
    },
    /// A JSON document that does not parse into the expected shape.
    #[error("malformed {what}: {reason}")]
    Json {
        /// What was being decoded.
        what: String,
        /// Why, as data: bad syntax, cut short, or the wrong fields or types.
        cause: JsonCause,
        /// The parser's message (clipped).
        reason: String,
    },
    /// A document of a format version this build does not read.
    #[error("malformed {what}: unsupported version {found} (this build reads {supported})")]
    UnsupportedVersion {
        /// What was being decoded.
        what: String,
        /// The version the document declares.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// A document of another kind than the one expected (a total where a key set belongs).
    #[error("malformed {what}: kind is {found:?}, expected {expected:?}")]
    WrongKind {
        /// What was being decoded.
        what: String,
        /// The kind the document declares (clipped).
        found: String,
        /// The kind expected.
        expected: &'static str,
    },
    /// An authority document whose secret share is not the one its public share key commits to.
    #[error(
        "malformed authority document: the secret share does not match authority {authority}'s \
         public share key"
    )]
    ShareMismatch {
        /// The authority's index.
        authority: u32,
    },
    /// A document or collection above its size limit.
    #[error("{what} is {size} {unit}, above the limit of {limit}")]
    TooLarge {
        /// What.
        what: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
        /// Bytes, values, authorities, ...
        unit: &'static str,
    },
    /// Fewer valid partial decryptions than the threshold.
    #[error(
        "{valid} valid partial decryptions, the threshold is {needed}{}",
        excluded_note(excluded)
    )]
    NotEnoughPartials {
        /// Partial decryptions that verified.
        valid: usize,
        /// The threshold.
        needed: usize,
        /// Partials that were excluded, with the reason.
        excluded: Vec<Excluded>,
    },
    /// A total whose bound (count × largest value) is beyond what can be decrypted.
    #[error("{what}: the total can reach {bound}, above the limit {limit}; {hint}")]
    TotalBound {
        /// Which total or request.
        what: String,
        /// count × span.
        bound: u128,
        /// The table's or the crate's limit.
        limit: u128,
        /// What to do about it.
        hint: &'static str,
    },
    /// The decrypted point is not `total·G` for any total within the bound.
    #[error(
        "decrypted total is not within 0..={bound}: inputs or partial decryptions are inconsistent"
    )]
    TotalNotFound {
        /// The bound searched.
        bound: u64,
    },
    /// A DKG participant misbehaved and is disqualified.
    #[error("DKG: authority {party} disqualified: {reason}")]
    Disqualified {
        /// The authority's index.
        party: u32,
        /// What it did.
        reason: Misbehaviour,
    },
    /// A DKG message that does not fit the session (unknown sender, sent twice, misaddressed).
    #[error("DKG protocol: {0}")]
    DkgProtocol(Violation),
    /// The DKG ended with too few qualified authorities, or without a needed share.
    #[error("DKG failed: {0}")]
    DkgFailed(Failure),
    /// More values or lists than the parameters were declared for (the noise budget and the
    /// no-overflow guarantee hold only up to the declared counts).
    #[error("{what}: {count} {unit} exceed the declared maximum of {limit}")]
    CountExceeded {
        /// Which count.
        what: String,
        /// The count reached.
        count: u64,
        /// The declared maximum.
        limit: u64,
        /// Values, lists, ...
        unit: &'static str,
    },
    /// Parameters whose decryption failure probability is above the 2^-64 budget.
    #[error("noise budget not met: {reason}")]
    NoiseBudget {
        /// The figures that fail.
        reason: String,
    },
    /// The same input offered twice (a replayed list or column).
    #[error("{what} was already aggregated; duplicate refused")]
    Duplicate {
        /// Which input.
        what: String,
    },
    /// tfhe refused an operation (its message names no secret).
    #[error("tfhe: {what}: {reason}")]
    Tfhe {
        /// What was being done.
        what: &'static str,
        /// tfhe's reason.
        reason: String,
    },
}

impl HeError {
    /// Wraps a tfhe error for the step `what`.
    #[cfg(feature = "tfhe")]
    pub(crate) fn tfhe(what: &'static str, err: impl std::fmt::Display) -> Self {
        HeError::Tfhe {
            what,
            reason: clip(&err.to_string()),
        }
    }
}

/// A partial decryption that was left out of a decryption, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excluded {
    /// The authority's index the partial claims.
    pub authority: u32,
    /// Why it was excluded.
    pub reason: Exclusion,
}

/// Why a partial decryption was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exclusion {
    /// It was made under another key set (the key id it names, hex).
    OtherKeySet {
        /// The key id the partial names.
        key_id: String,
    },
    /// It was made for another total.
    OtherTotal,
    /// It names an authority index beyond n.
    NoSuchAuthority {
        /// n.
        authorities: u32,
    },
    /// A second partial from the same authority.
    Duplicate,
    /// Its point is not a canonical ristretto255 encoding.
    NonCanonicalShare,
    /// Its DLEQ proof does not verify against the authority's public share key.
    InvalidProof {
        /// The verifier's reason.
        reason: String,
    },
}

impl fmt::Display for Exclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exclusion::OtherKeySet { key_id } => write!(f, "made under key set {key_id}"),
            Exclusion::OtherTotal => f.write_str("made for another total"),
            Exclusion::NoSuchAuthority { authorities } => {
                write!(f, "no such authority (there are {authorities})")
            }
            Exclusion::Duplicate => f.write_str("second partial from the same authority"),
            Exclusion::NonCanonicalShare => f.write_str("share is not a canonical point"),
            Exclusion::InvalidProof { reason } => {
                write!(f, "DLEQ proof does not verify ({reason})")
            }
        }
    }
}

/// What kind of JSON error refused a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonCause {
    /// Not JSON: bad syntax or trailing characters.
    Syntax,
    /// The text ends in the middle of the document.
    Truncated,
    /// JSON, but not the document's shape: a missing, unknown or mistyped field.
    Shape,
}

fn excluded_note(excluded: &[Excluded]) -> String {
    if excluded.is_empty() {
        return String::new();
    }
    let list: Vec<String> = excluded
        .iter()
        .map(|e| format!("authority {}: {}", e.authority, e.reason))
        .collect();
    format!(" (excluded: {})", list.join("; "))
}

/// Shortens untrusted text for an error message, so a huge field cannot flood a log.
pub(crate) fn clip(text: &str) -> String {
    const MAX: usize = 120;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(MAX).collect();
        s.push('…');
        s
    }
}
