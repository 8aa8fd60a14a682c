//! `zkprove register`: signs a dataset commitment or a policy's verifying keys with your key
//! and appends it to a ledger (a directory or a `ledger serve` URL).

use super::args::{RegisterArgs, Registration};
use crate::cmd::hex_digest;
use crate::unix_now;
use anyhow::Result;
use serde::Serialize;
use trustspace_ledger_verifier::{Body, DatasetEntry, Entry, Identity, PolicyEntry};
use trustspace_zk::{Commitment, VerifyingKeys};

/// Where the entry went.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct RegisterSummary {
    /// `dataset` or `policy`.
    pub registered: &'static str,
    /// The entry's index.
    pub index: u64,
    /// Entries under the checkpoint that includes it.
    pub checkpoint_size: u64,
    /// That checkpoint's root, hex.
    pub checkpoint_root: String,
    /// Validators who signed it.
    pub signatures: usize,
}

/// `zkprove register`.
pub fn register(a: &RegisterArgs) -> Result<RegisterSummary> {
    let id = Identity::load(&a.identity)?;
    let body = match &a.what {
        Registration::Dataset {
            commitment,
            metadata,
        } => Body::Dataset(DatasetEntry {
            commitment: Commitment::load(commitment)?,
            name: a.name.clone(),
            metadata: metadata.clone().into_bytes(),
        }),
        Registration::Policy { keys } => {
            Body::Policy(PolicyEntry::for_keys(&VerifyingKeys::load(keys)?, &a.name))
        }
    };
    let registered = body.kind_name();
    let entry = Entry::sign(body, unix_now(), &id)?;
    let view = trustspace_ledger_verifier::http::open(&a.ledger)?;
    let receipt = view.append(vec![entry])?;
    Ok(RegisterSummary {
        registered,
        index: receipt.first_index,
        checkpoint_size: receipt.checkpoint.checkpoint.size,
        checkpoint_root: hex_digest(&receipt.checkpoint.checkpoint.root),
        signatures: receipt.checkpoint.signatures.len(),
    })
}
