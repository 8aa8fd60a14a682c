//! [`FormatProblem`]: why a file or an encoded value (JSON, hex, field element, curve point)
//! was rejected while decoding.

/// Why a file or encoded value is malformed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatProblem {
    /// Not JSON, or not shaped as the format (serde's message, with line and column).
    #[error("{0}")]
    Json(String),
    /// The file is larger than the limit for its kind.
    #[error("larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// A format version this build does not read.
    #[error("unsupported version {found}")]
    UnsupportedVersion {
        /// The version found.
        found: u32,
    },
    /// A field element is not `0x`-prefixed.
    #[error("expected 0x-prefixed hex")]
    FieldPrefix,
    /// A field element has another number of hex digits than 64.
    #[error("expected 64 hex digits, got {digits}")]
    FieldLength {
        /// Digits found.
        digits: usize,
    },
    /// Not hexadecimal.
    #[error("{0}")]
    Hex(hex::FromHexError),
    /// A field element is not below the BN254 scalar field modulus.
    #[error("not below the BN254 scalar field modulus")]
    FieldNotBelowModulus,
    /// A proving-key file too short to hold its magic.
    #[error("too short")]
    TooShort,
    /// A file that is not a trustspace proving-key file.
    #[error("not a trustspace proving-key file (bad magic)")]
    BadMagic,
    /// A proving-key file cut inside its header.
    #[error("truncated header")]
    TruncatedHeader,
    /// A proving-key header longer than the limit.
    #[error("header too large")]
    HeaderTooLarge {
        /// Its declared length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// Bytes after the end of an encoded value (a proving-key file, a verifying key's hex).
    #[error("unexpected bytes after the end")]
    TrailingBytes,
    /// Key points that do not decode (off the curve, not in the subgroup, truncated).
    #[error("{0}")]
    Points(String),
    /// A verifying key for another number of public inputs than its circuit has.
    #[error("key takes {key} public inputs, the circuit has {circuit}")]
    KeyInputs {
        /// Inputs the key takes.
        key: usize,
        /// Inputs the circuit has.
        circuit: usize,
    },
    /// Revealed values and their scales do not pair up, or a scale is above 18.
    #[error("one decimal scale (at most 18) per revealed value")]
    RevealScales,
    /// A final key, final digest and aggregate counters must be all present or all absent.
    #[error("final key, final digest and counters must come together")]
    FinalKeyParts,
    /// A proof that is not hexadecimal.
    #[error("not hex: {0}")]
    ProofHex(hex::FromHexError),
    /// A proof of another length than a compressed Groth16 proof.
    #[error("{found} bytes, a proof has {expected}")]
    ProofLength {
        /// Bytes found.
        found: usize,
        /// Bytes of a proof.
        expected: usize,
    },
    /// Proof bytes that are not points on the curve in the prime-order subgroup.
    #[error("not a valid proof encoding: {0}")]
    ProofEncoding(String),
    /// A commitment's chunk size is not a power of two up to the limit.
    #[error("chunk size {chunk_size} is not a power of two up to {max}")]
    CommitmentChunkSize {
        /// The chunk size.
        chunk_size: u64,
        /// The largest chunk size.
        max: u64,
    },
    /// A commitment's record count is outside `1..=max`.
    #[error("record count {records} is outside 1..={max}")]
    CommitmentRecords {
        /// The record count.
        records: u64,
        /// The most records a commitment holds.
        max: u64,
    },
    /// An opening's key is not hexadecimal.
    #[error("key is not hex")]
    OpeningKeyHex,
    /// An opening's key is not 32 bytes.
    #[error("key is not 32 bytes")]
    OpeningKeyLength,
}
