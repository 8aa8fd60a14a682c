//! The ceremony's errors, by cause: a malformed file, or the contribution and the check that
//! failed.

use thiserror::Error;

/// Result with [`CeremonyError`].
pub type Result<T> = std::result::Result<T, CeremonyError>;

/// Why a ceremony file or chain was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CeremonyError {
    /// Bytes that are not a phase-2 state (bad tag, point off the curve or outside the
    /// subgroup, trailing bytes).
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// A phase-2 state of a format version this build does not read.
    #[error("phase-2 state of version {found}; this build reads version {expected}")]
    Version {
        /// The file's version.
        found: u32,
        /// The version read.
        expected: u32,
    },
    /// The state does not start from the initial parameters it is checked against.
    #[error("the state does not start from these initial parameters")]
    OtherStart,
    /// Contribution `index` (0-based) failed `check`.
    #[error("contribution {index} refused: {check}")]
    Contribution {
        /// Its position in the chain.
        index: usize,
        /// The check it failed.
        check: Check,
    },
    /// The final parameters fail `check` (not a contribution's record).
    #[error("final parameters refused: {0}")]
    Final(Check),
}

/// A check of the ceremony's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// A point is the identity.
    ZeroPoint(&'static str),
    /// Its transcript hash is not the hash of the chain before it and its public key: a
    /// skipped, reordered, replayed or altered contribution.
    Transcript,
    /// Its proof of knowledge does not verify against the transcript's G2 point.
    ProofOfKnowledge,
    /// δ after it is not δ before it times the secret its proof of knowledge is for.
    DeltaNotExtended,
    /// The final δ is not the last contribution's.
    FinalDelta,
    /// δ in G1 and in G2 differ.
    DeltaG2,
    /// The `L` or `H` query was not divided by the product of the contributions' secrets.
    Query(&'static str),
    /// A parameter besides δ, `L` and `H` changed.
    Changed(&'static str),
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Check::ZeroPoint(what) => write!(f, "{what} is the identity"),
            Check::Transcript => write!(
                f,
                "its transcript does not follow the chain (skipped, reordered, replayed or altered)"
            ),
            Check::ProofOfKnowledge => write!(f, "its proof of knowledge does not verify"),
            Check::DeltaNotExtended => {
                write!(
                    f,
                    "delta is not extended by the secret it proves knowledge of"
                )
            }
            Check::FinalDelta => write!(f, "delta is not the last contribution's"),
            Check::DeltaG2 => write!(f, "delta in G1 and in G2 differ"),
            Check::Query(which) => write!(
                f,
                "the {which} query is not divided by the contributions' secrets"
            ),
            Check::Changed(what) => write!(f, "{what} changed (only delta, L and H may)"),
        }
    }
}
