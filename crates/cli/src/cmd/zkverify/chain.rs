//! `zkverify --chain`: the bundle verified against a trustspace registry on an EVM chain, its
//! storage proven against a block header hashed locally; with `--onchain`, the registered
//! verifiers' keys and the registry contract's own answer checked too.

use super::{Cause, Cli, Failure, Outcome, required};
use serde::Serialize;
use std::io::{self, Write};
use trustspace_evm::rpc::{Address, Registry, Rpc};
use trustspace_evm::state::{BlockRef, verify_against_chain};
use trustspace_ledger_verifier::PinKind;
use trustspace_ledger_verifier::log::LedgerConfig;
use trustspace_zk::VerifyingKeys;
use trustspace_zk::bundle::ProofBundle;

/// A verdict recorded on chain.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct RecordedVerdict {
    /// The block it was recorded in.
    pub block_number: u64,
    /// Who recorded it.
    pub submitter: String,
}

/// What the registry established.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ChainCheck {
    /// The block verified at.
    pub block_number: u64,
    /// Its hash, computed locally.
    pub block_hash: String,
    /// Whether that block was given by hash (the trust anchor) rather than number.
    pub block_trusted_by_hash: bool,
    /// The registry's address.
    pub registry: String,
    /// Who registered the dataset.
    pub dataset_owner: String,
    /// Who registered the policy.
    pub policy_issuer: String,
    /// The registered policy's digest, hex.
    pub policy_digest: String,
    /// The registered verifying keys' digest (the keys verified with), hex.
    pub keys_digest: String,
    /// A verdict recorded on chain for the bundle, if any.
    pub recorded_verdict: Option<RecordedVerdict>,
    /// With `--onchain`: `valid`, the registry contract agreeing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onchain: Option<String>,
}

impl ChainCheck {
    /// The text lines `zkverify` prints for it.
    pub fn render(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "  on chain: registry {} at block {} (hash {}{})",
            self.registry,
            self.block_number,
            self.block_hash,
            if self.block_trusted_by_hash {
                ", the block you trust"
            } else {
                ": compare it with a source you trust, or pass --block HASH"
            }
        )?;
        writeln!(
            out,
            "  policy digest {}, verifying keys {}",
            self.policy_digest, self.keys_digest
        )?;
        writeln!(
            out,
            "  issued by {}, dataset owned by {}",
            self.policy_issuer, self.dataset_owner
        )?;
        if self.onchain.as_deref() == Some("valid") {
            writeln!(
                out,
                "  the registry contract agrees (verifyBundle at that block)"
            )?;
        }
        if let Some(d) = &self.recorded_verdict {
            writeln!(
                out,
                "  verdict recorded on chain in block {}",
                d.block_number
            )?;
        }
        Ok(())
    }
}

/// What `--chain` trusts: the accounts whose registered policies it accepts, and the
/// configuration's pinned policy and keys digests (empty: none pinned).
struct ChainTrust {
    issuers: Vec<Address>,
    policies: Vec<[u8; 32]>,
    keys: Vec<[u8; 32]>,
}

/// The trust of `--chain`: `--issuer` (which narrows the configuration's `chain_issuers` to
/// that account, as `--issuer` narrows the ledger's issuers) and the `--trust` configuration's
/// `chain_issuers` and pins; no issuer at all is bad input.
fn chain_trust(cli: &Cli) -> Result<ChainTrust, Failure> {
    let arg = |m: String| Failure::bad_input(Cause::Argument(m));
    let config = cli.trust.as_deref().map(LedgerConfig::load).transpose()?;
    let configured: Option<Vec<Address>> = config
        .as_ref()
        .map(|c| c.chain_issuers.iter().map(|a| Address::from(*a)).collect());
    let issuers = match (&cli.issuer, configured) {
        (Some(i), configured) => {
            let i = i.parse::<Address>().map_err(|e| {
                arg(format!(
                    "--issuer: with --chain, an EVM account (0x and 40 hex digits): {e}"
                ))
            })?;
            if configured.is_some_and(|c| !c.contains(&i)) {
                return Err(arg(format!(
                    "--issuer {i} is not among the --trust configuration's chain_issuers"
                )));
            }
            vec![i]
        }
        (None, Some(configured)) if !configured.is_empty() => configured,
        (None, _) => {
            return Err(arg(
                "nothing pinned: give --issuer 0x... (the account whose policies you trust) or \
                 a --trust configuration with chain_issuers"
                    .into(),
            ));
        }
    };
    let (policies, keys) = config.map_or((Vec::new(), Vec::new()), |c| (c.policies, c.keys));
    Ok(ChainTrust {
        issuers,
        policies,
        keys,
    })
}

/// `zkverify --chain URL`.
pub(super) fn verify_chain(
    cli: &Cli,
    url: &str,
    bundle: &ProofBundle,
    keys: &VerifyingKeys,
) -> Result<Outcome, Failure> {
    let address: Address = required(cli.registry.as_deref(), "--registry")?
        .parse()
        .map_err(|e| Failure::bad_input(Cause::Argument(format!("--registry: {e}"))))?;
    let block: BlockRef = cli.block.as_deref().unwrap_or("latest").parse()?;
    if !matches!(block, BlockRef::Hash(_)) && !cli.allow_untrusted_block {
        return Err(Failure::invalid(Cause::UntrustedBlock));
    }
    let trust = chain_trust(cli)?;
    // The configuration's pins hold for the keys verified with (the registered ones: the
    // registry files the policy under their digest).
    if !trust.policies.is_empty() && !trust.policies.contains(&keys.policy_digest) {
        return Err(Failure::invalid(Cause::NotInConfiguration {
            pin: PinKind::ConfigurationPolicies,
        }));
    }
    if !trust.keys.is_empty() && !trust.keys.contains(&keys.digest()) {
        return Err(Failure::invalid(Cause::NotInConfiguration {
            pin: PinKind::ConfigurationKeys,
        }));
    }
    let rpc = Rpc::new(url);
    let v = verify_against_chain(&rpc, address, block, bundle, keys)?;
    if !trust.issuers.contains(&v.policy.issuer) {
        return Err(Failure::invalid(Cause::IssuerNotTrusted {
            issuer: v.policy.issuer.to_string(),
        }));
    }
    let mut check = ChainCheck {
        block_number: v.block_number,
        block_hash: v.block_hash.to_string(),
        block_trusted_by_hash: matches!(block, BlockRef::Hash(_)),
        registry: address.to_string(),
        dataset_owner: v.dataset.owner.to_string(),
        policy_issuer: v.policy.issuer.to_string(),
        policy_digest: hex::encode(keys.policy_digest),
        keys_digest: hex::encode(keys.digest()),
        recorded_verdict: v.verdict.as_ref().map(|d| RecordedVerdict {
            block_number: d.block_number,
            submitter: d.submitter.to_string(),
        }),
        onchain: None,
    };
    if cli.onchain {
        let at = format!("{:#x}", v.block_number);
        // The registered verifiers must embed these keys (as they report them).
        let mut verifiers = vec![(v.policy.chunk_verifier, &keys.chunk)];
        if let (Some(a), Some(vk)) = (v.policy.final_verifier, &keys.final_) {
            verifiers.push((a, vk));
        }
        for (a, vk) in verifiers {
            let reported = trustspace_evm::rpc::verifier_digest(&rpc, a, &at)?;
            if reported.0 != trustspace_evm::encode::vk_digest(vk) {
                return Err(Failure::invalid(Cause::VerifierKeyMismatch {
                    verifier: a.to_string(),
                }));
            }
        }
        let registry = Registry::at(rpc, address);
        match registry.check_bundle(bundle, keys, &at) {
            Ok(()) => check.onchain = Some("valid".into()),
            Err(e) => return Err(Failure::invalid(Cause::ContractDisagrees(e))),
        }
    }
    let revealed = keys.format_all(&v.verified.revealed);
    Ok(Outcome {
        records: v.verified.records,
        revealed,
        ledger: None,
        binding: super::Binding::new(keys, check.dataset_owner.clone()),
        chain: Some(check),
        ceremony: None,
    })
}
