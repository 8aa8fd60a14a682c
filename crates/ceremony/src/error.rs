//! The ceremony's errors, by cause: a malformed file, or the contribution and the check that
//! failed.

use thiserror::Error;

/// Result with [`CeremonyError`].
pub type Result<T> = std::result::Result<T, CeremonyError>;

/// Why a ceremony file or chain was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CeremonyError {
    /// Bytes that are not a ceremony file (bad tag, point off the curve or outside the
    /// subgroup, wrong sizes, trailing bytes).
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// A ceremony file of a format version this build does not read.
    #[error("a ceremony file of version {found}; this build reads version {expected}")]
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
    /// A phase-1 power outside 1..=28 (BN254's roots of unity reach 2^28).
    #[error("phase-1 power {0} is outside 1..=28")]
    Power(u32),
    /// A reduced phase-1 file (fewer powers than its ceremony made) cannot be contributed to.
    #[error(
        "this phase-1 file was reduced to power {power} from {ceremony_power}: contribute to the full file"
    )]
    Reduced {
        /// Its power.
        power: u32,
        /// The ceremony's power.
        ceremony_power: u32,
    },
    /// A ceremony with no secret contribution yet: its secrets are 1, or follow from public
    /// beacons.
    #[error("the ceremony has no secret contribution yet (beacons alone are public)")]
    NoContribution,
    /// A beacon with no value, a value over 255 bytes, or an iteration exponent over 28.
    #[error("a beacon needs a value of 1 to 255 bytes and an iteration exponent of at most 28")]
    BadBeacon,
    /// A contributor name over 64 bytes.
    #[error("a contributor name is at most 64 bytes (this one has {0})")]
    NameTooLong(usize),
    /// The powers of tau are too few for the circuit's domain.
    #[error("the circuit needs a domain of {needed} points; the powers of tau reach {available}")]
    TooSmall {
        /// Points the circuit's domain needs.
        needed: usize,
        /// Points the powers allow.
        available: usize,
    },
    /// A phase-2 start that is not the one the powers and the circuit give.
    #[error("not the start computed from these powers of tau and this circuit: {0} differs")]
    NotTheStart(&'static str),
    /// The constraint system is not a finalized R1CS (no matrices to read).
    #[error("the constraint system holds no R1CS matrices (not finalized for setup?)")]
    NotACircuit,
    /// The policy's circuit could not be synthesized.
    #[error("the policy's circuit: {0}")]
    Circuit(String),
    /// No contribution of that index.
    #[error("the ceremony has no contribution {0}")]
    NoSuchContribution(usize),
    /// Verifying keys that carry no ceremony record (made by `zkprove setup`, say).
    #[error("the keys carry no setup ceremony record")]
    NoRecord,
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
    /// Its contributor's signature does not verify.
    Signature,
    /// A beacon contribution's key is not the one its beacon derives.
    Beacon,
    /// The proof of knowledge of one of its secrets (τ, α or β) does not verify.
    KeyProof(&'static str),
    /// Its τ, α or β is not the previous one times the secret it proves knowledge of.
    NotFollowing(&'static str),
    /// The powers after it are not consistent powers of its τ, α and β.
    Powers(&'static str),
    /// Its next challenge is not the hash of its response and the powers.
    NextChallenge,
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
            Check::Signature => write!(f, "its contributor's signature does not verify"),
            Check::Beacon => write!(f, "its key is not the one its beacon derives"),
            Check::KeyProof(which) => {
                write!(
                    f,
                    "the proof of knowledge of its {which} secret does not verify"
                )
            }
            Check::NotFollowing(what) => {
                write!(f, "{what} does not follow the previous contribution")
            }
            Check::Powers(what) => write!(f, "the powers are inconsistent: {what}"),
            Check::NextChallenge => write!(
                f,
                "its next challenge is not the hash of its response and the powers"
            ),
        }
    }
}

impl From<trustspace_zk::ZkError> for CeremonyError {
    fn from(e: trustspace_zk::ZkError) -> Self {
        CeremonyError::Circuit(e.to_string())
    }
}
