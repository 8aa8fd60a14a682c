//! Why a verification did not succeed: not valid (exit 1) or bad input (exit 2), each with its
//! cause as data (the library's error where there is one).

use std::fmt;
use std::path::PathBuf;
use trustspace_evm::EvmError;
use trustspace_ledger_verifier::{LedgerError, PinKind, TrustFailure};
use trustspace_zk::ZkError;

/// Whether a failed verification is a verdict or a refusal to give one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Not valid (exit 1): an invalid proof, a mismatch, a ledger or chain check that failed.
    Invalid,
    /// Bad input (exit 2): unreadable or malformed files, an unreachable ledger or node, usage.
    BadInput,
}

/// A failed verification: its kind (the exit code) and its cause.
#[derive(Debug)]
pub struct Failure {
    kind: Kind,
    cause: Box<Cause>,
}

/// What went wrong.
#[derive(Debug)]
pub enum Cause {
    /// The proof system's error.
    Zk(ZkError),
    /// The ledger's error.
    Ledger(LedgerError),
    /// The chain's error.
    Evm(EvmError),
    /// A registered verifier contract embeds other verifying keys than the ones given.
    VerifierKeyMismatch {
        /// The verifier's address.
        verifier: String,
    },
    /// The proofs verify locally, but the registry contract's `verifyBundle` disagrees.
    ContractDisagrees(EvmError),
    /// A file this command reads or writes itself (the `--seen` checkpoint).
    File {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// Arguments that do not make a verification.
    Argument(String),
    /// `--chain` at a block not given by hash, without `--allow-untrusted-block`.
    UntrustedBlock,
    /// `--chain`: the policy was registered by an account the verifier does not trust.
    IssuerNotTrusted {
        /// The registering account.
        issuer: String,
    },
    /// `--chain`: the keys verified with fail a pin of the `--trust` configuration.
    NotInConfiguration {
        /// The pin they fail.
        pin: PinKind,
    },
    /// `--policy-digest`: the keys verified with are for another policy.
    OtherPolicy {
        /// The policy digest the keys carry, hex.
        digest: String,
    },
    /// The keys' setup ceremony record does not check, or lacks a required contributor.
    Ceremony(String),
}

impl Failure {
    /// Not valid (exit 1) because of `cause`.
    pub fn invalid(cause: Cause) -> Failure {
        Failure {
            kind: Kind::Invalid,
            cause: Box::new(cause),
        }
    }

    /// Bad input (exit 2) because of `cause`.
    pub fn bad_input(cause: Cause) -> Failure {
        Failure {
            kind: Kind::BadInput,
            cause: Box::new(cause),
        }
    }

    /// Not valid, or bad input.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The process exit code: 1 not valid, 2 bad input.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::Invalid => 1,
            Kind::BadInput => 2,
        }
    }

    /// The cause.
    pub fn cause(&self) -> &Cause {
        &self.cause
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.cause().fmt(f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Zk(e) => e.fmt(f),
            Cause::Ledger(e) => e.fmt(f),
            Cause::Evm(e) => e.fmt(f),
            Cause::VerifierKeyMismatch { verifier } => write!(
                f,
                "the registered verifier {verifier} embeds another verifying key than yours"
            ),
            Cause::ContractDisagrees(e) => write!(
                f,
                "the proofs verify locally but the registry contract disagrees: {e}"
            ),
            Cause::File { path, reason } => write!(f, "{}: {reason}", path.display()),
            Cause::UntrustedBlock => f.write_str(
                "the block was not given by hash: a lying RPC could have made up the whole \
                 state; pass --block HASH (a hash you trust) or --allow-untrusted-block",
            ),
            Cause::IssuerNotTrusted { issuer } => write!(
                f,
                "the policy was registered by {issuer}, not an issuer you trust"
            ),
            Cause::NotInConfiguration { pin } => write!(f, "the registered policy: {pin}"),
            Cause::OtherPolicy { digest } => write!(
                f,
                "the verifying keys are for policy {digest}, not the policy you pinned \
                 (--policy-digest)"
            ),
            Cause::Argument(m) => f.write_str(m),
            Cause::Ceremony(m) => write!(f, "the keys' setup ceremony: {m}"),
        }
    }
}

impl std::error::Error for Failure {}

impl From<ZkError> for Failure {
    fn from(e: ZkError) -> Failure {
        match e {
            ZkError::InvalidProof { .. } | ZkError::Mismatch { .. } => {
                Failure::invalid(Cause::Zk(e))
            }
            _ => Failure::bad_input(Cause::Zk(e)),
        }
    }
}

impl From<LedgerError> for Failure {
    fn from(e: LedgerError) -> Failure {
        match e {
            LedgerError::Proof(z) => z.into(),
            LedgerError::Malformed { .. }
            | LedgerError::Io { .. }
            | LedgerError::Remote { .. }
            | LedgerError::Store { .. }
            | LedgerError::Untrusted(TrustFailure::NothingPinned) => {
                Failure::bad_input(Cause::Ledger(e))
            }
            _ => Failure::invalid(Cause::Ledger(e)),
        }
    }
}

impl From<EvmError> for Failure {
    fn from(e: EvmError) -> Failure {
        match e {
            EvmError::Zk(z) => z.into(),
            EvmError::Rpc { .. } | EvmError::Format { .. } => Failure::bad_input(Cause::Evm(e)),
            EvmError::Untrusted { .. }
            | EvmError::NotRegistered { .. }
            | EvmError::Mismatch { .. }
            | EvmError::Reverted { .. } => Failure::invalid(Cause::Evm(e)),
        }
    }
}
