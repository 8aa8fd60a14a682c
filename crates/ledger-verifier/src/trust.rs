//! What a verifier trusts beyond the validators' quorum: the consortium's accountable policy
//! issuers and optional pins (its [`LedgerConfig`]), and a [`Pin`] of its own — the verifying
//! keys, the policy or the issuer it verifies against. Nothing a verification accepts is chosen
//! by the party it checks: a holder may register a lax policy of its own and prove against it,
//! but its key is no issuer of the configuration, and its keys, policy and key are not what the
//! verifier pinned.

use std::fmt;

use crate::entry::PolicyEntry;
use crate::keys::PublicKey;
use crate::log::LedgerConfig;

/// What a verifier pins: the policy it checks bundles against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// Its own verifying keys, by digest: the registered keys must be these.
    Keys([u8; 32]),
    /// A policy digest: the registered policy must be this one.
    Policy([u8; 32]),
    /// An issuer it trusts: the policy must be registered by this key (which the configuration
    /// must allow as well).
    Issuer(PublicKey),
    /// What the configuration pins (its `policies` or `keys`); refused if it pins neither.
    Configuration,
}

/// What a trust configuration pins for every verifier besides its issuers (empty lists: nothing
/// pinned), as [`crate::store::Ledger::init_pinned`] writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pins {
    /// The only policy digests verifiers accept.
    pub policies: Vec<[u8; 32]>,
    /// The only verifying-key digests verifiers accept.
    pub keys: Vec<[u8; 32]>,
    /// The EVM accounts allowed to register policies in a registry on a chain.
    pub chain_issuers: Vec<[u8; 20]>,
}

/// Which pin a registered policy failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinKind {
    /// The verifier's verifying keys.
    Keys,
    /// The verifier's policy digest.
    Policy,
    /// The verifier's issuer.
    Issuer,
    /// The configuration's list of policies.
    ConfigurationPolicies,
    /// The configuration's list of verifying keys.
    ConfigurationKeys,
}

impl fmt::Display for PinKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PinKind::Keys => "its verifying keys are not the verifier's",
            PinKind::Policy => "it is not the policy the verifier pinned",
            PinKind::Issuer => "its issuer is not the one the verifier pinned",
            PinKind::ConfigurationPolicies => "it is not among the configuration's policies",
            PinKind::ConfigurationKeys => "its keys are not among the configuration's keys",
        })
    }
}

/// Why a verifier does not trust the policy it was shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustFailure {
    /// The policy was registered by a key the configuration does not allow to issue policies.
    IssuerNotAllowed {
        /// The policy entry's index.
        policy_index: u64,
        /// Who registered it, hex.
        issuer: String,
    },
    /// The registered policy is not the one pinned.
    NotPinned {
        /// The policy entry's index.
        policy_index: u64,
        /// Which pin it failed.
        pin: PinKind,
    },
    /// The verifier pinned [`Pin::Configuration`], and the configuration pins nothing.
    NothingPinned,
}

impl fmt::Display for TrustFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustFailure::IssuerNotAllowed {
                policy_index,
                issuer,
            } => write!(
                f,
                "policy entry {policy_index} was registered by {issuer}, which the trust \
                 configuration does not allow to issue policies"
            ),
            TrustFailure::NotPinned { policy_index, pin } => {
                write!(f, "policy entry {policy_index}: {pin}")
            }
            TrustFailure::NothingPinned => f.write_str(
                "nothing pinned: give the verifying keys, a policy digest or an issuer, or a \
                 configuration that lists its policies or keys",
            ),
        }
    }
}

/// Checks a policy entry, registered at `policy_index` by `issuer`, against the configuration's
/// issuers and pins and against the verifier's `pin`.
pub fn check_policy(
    config: &LedgerConfig,
    pin: &Pin,
    policy_index: u64,
    issuer: &PublicKey,
    policy: &PolicyEntry,
) -> Result<(), TrustFailure> {
    if !config.is_issuer(issuer) {
        return Err(TrustFailure::IssuerNotAllowed {
            policy_index,
            issuer: issuer.to_hex(),
        });
    }
    let not = |pin| Err(TrustFailure::NotPinned { policy_index, pin });
    if !config.policies.is_empty() && !config.policies.contains(&policy.policy_digest) {
        return not(PinKind::ConfigurationPolicies);
    }
    if !config.keys.is_empty() && !config.keys.contains(&policy.vk_digest) {
        return not(PinKind::ConfigurationKeys);
    }
    match pin {
        Pin::Keys(d) if *d != policy.vk_digest => not(PinKind::Keys),
        Pin::Policy(d) if *d != policy.policy_digest => not(PinKind::Policy),
        Pin::Issuer(k) if k != issuer => not(PinKind::Issuer),
        Pin::Configuration if config.policies.is_empty() && config.keys.is_empty() => {
            Err(TrustFailure::NothingPinned)
        }
        _ => Ok(()),
    }
}
