//! `zkprove chain`: deploys and uses the trustspace registry on an EVM chain; transactions are
//! sent from an account the node holds (`--from`, or its first) or signed here (`--key`).

use super::args::{ChainArgs, ChainCommand};
use super::hex0x;
use anyhow::{Context, Result};
use serde::Serialize;
use trustspace_evm::rpc::{Address, Artifact, Registry, Rpc, Sender, TxReceipt, deploy};
use trustspace_zk::{Commitment, ProofBundle, VerifyingKeys};

/// A mined transaction.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Its hash.
    pub transaction: String,
    /// The block it is in.
    pub block: u64,
    /// Gas it used.
    pub gas_used: u64,
}

impl From<&TxReceipt> for Receipt {
    fn from(r: &TxReceipt) -> Receipt {
        Receipt {
            transaction: r.transaction_hash.to_string(),
            block: r.block_number.saturating_to::<u64>(),
            gas_used: r.gas_used.saturating_to::<u64>(),
        }
    }
}

/// What a `chain` subcommand did.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(untagged)]
pub enum ChainSummary {
    /// `deploy-registry`.
    Registry {
        /// The registry's address.
        registry: String,
        /// The deployment.
        receipt: Receipt,
    },
    /// `deploy-verifier`.
    Verifier {
        /// The verifier's address.
        verifier: String,
        /// The deployment.
        receipt: Receipt,
    },
    /// `register-dataset`.
    Dataset {
        /// The registered root's key.
        root: String,
        /// The transaction.
        receipt: Receipt,
    },
    /// `register-policy`.
    Policy {
        /// The registered keys' digest.
        keys_digest: String,
        /// The transaction.
        receipt: Receipt,
    },
    /// `verify`.
    Verified {
        /// Always true: a bundle that does not verify reverts.
        verified: bool,
        /// The transaction.
        receipt: Receipt,
    },
}

fn address(s: &str, what: &str) -> Result<Address> {
    s.parse()
        .with_context(|| format!("{what}: `{s}` is not an address"))
}

/// `zkprove chain`.
pub fn chain(a: &ChainArgs) -> Result<ChainSummary> {
    let rpc = Rpc::new(&a.rpc);
    let from = match (&a.from, &a.key) {
        (_, Some(k)) => Sender::from_key_file(k)?,
        (Some(f), None) => Sender::Node(address(f, "--from")?),
        (None, None) => Sender::Node(
            *rpc.accounts()?
                .first()
                .context("the node holds no account: give --key or --from")?,
        ),
    };
    let from = &from;
    Ok(match &a.what {
        ChainCommand::DeployRegistry => {
            let (reg, r) = Registry::deploy(rpc, from)?;
            ChainSummary::Registry {
                registry: reg.address.to_string(),
                receipt: (&r).into(),
            }
        }
        ChainCommand::DeployVerifier { artifact } => {
            let text = std::fs::read_to_string(artifact)
                .with_context(|| format!("reading {}", artifact.display()))?;
            let art = Artifact::parse(&text)?;
            let (addr, r) = deploy(&rpc, from, &art.bytecode)?;
            ChainSummary::Verifier {
                verifier: addr.to_string(),
                receipt: (&r).into(),
            }
        }
        ChainCommand::RegisterDataset {
            registry,
            commitment,
            bundle,
            metadata,
        } => {
            let reg = Registry::at(rpc, address(registry, "--registry")?);
            let commitment = Commitment::load(commitment)?;
            let bundle = ProofBundle::load(bundle)?;
            let roots: Vec<_> = bundle
                .chunks
                .iter()
                .map(|c| c.public_inputs.get(1).copied().unwrap_or_default())
                .collect();
            let meta = trustspace_evm::rpc::keccak256(metadata.as_bytes());
            let r = reg.register_dataset(from, &commitment, &roots, meta)?;
            ChainSummary::Dataset {
                root: trustspace_evm::rpc::root_key(&commitment).to_string(),
                receipt: (&r).into(),
            }
        }
        ChainCommand::RegisterPolicy {
            registry,
            keys,
            chunk_verifier,
            final_verifier,
        } => {
            let reg = Registry::at(rpc, address(registry, "--registry")?);
            let keys = VerifyingKeys::load(keys)?;
            let fv = final_verifier
                .as_deref()
                .map(|f| address(f, "--final-verifier"))
                .transpose()?;
            let r = reg.register_policy(
                from,
                &keys,
                address(chunk_verifier, "--chunk-verifier")?,
                fv,
            )?;
            ChainSummary::Policy {
                keys_digest: hex0x(&keys.digest()),
                receipt: (&r).into(),
            }
        }
        ChainCommand::Verify {
            registry,
            keys,
            bundle,
        } => {
            let reg = Registry::at(rpc, address(registry, "--registry")?);
            let keys = VerifyingKeys::load(keys)?;
            let bundle = ProofBundle::load(bundle)?;
            let r = reg.verify_bundle(from, &bundle, &keys)?;
            ChainSummary::Verified {
                verified: true,
                receipt: (&r).into(),
            }
        }
    })
}
