//! Step 2, the commitments: an embedded ledger whose three validators co-sign each checkpoint
//! (two must sign); the regulator compiles the published policy, sets up its proving keys and
//! registers it; each holder commits to its dataset and registers the commitment.

use super::printer::Printer;
use super::workload::Workload;
use super::{HOLDERS, Options};
use crate::unix_now;
use anyhow::Result;
use rand_chacha::ChaCha20Rng;
use std::path::PathBuf;
use std::time::Instant;
use trustspace_data::{Record, Schema};
use trustspace_ledger_verifier::PolicyEntry;
use trustspace_ledger_verifier::{Body, DatasetEntry, Entry, Identity, Ledger, LedgerView};
use trustspace_zk::{Commitment, Compiled, Opening, ProvingKeys, VerifyingKeys};

/// Validators of the embedded ledger.
pub const VALIDATORS: usize = 3;
/// Validator signatures a checkpoint needs.
pub const THRESHOLD: usize = 2;

/// What step 2 leaves for the proofs.
pub struct Committed {
    /// The embedded ledger (`OUT/ledger`).
    pub ledger: Ledger,
    /// The policy, compiled for the chunk size.
    pub compiled: Compiled,
    /// Its proving keys.
    pub pk: ProvingKeys,
    /// Its verifying keys (also in `OUT/zk/verifying-keys.json`).
    pub vk: VerifyingKeys,
    /// The policy's name, as registered.
    pub policy_name: String,
    /// Each holder's commitment and opening.
    pub commitments: Vec<(Commitment, Opening)>,
    /// Where the proof artefacts go (`OUT/zk`).
    pub zk_dir: PathBuf,
}

/// The regulator's registration of the policy.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyRegistered {
    /// The policy's name.
    pub name: String,
    /// Its ledger entry.
    pub entry: u64,
}

/// A holder's registration of its commitment.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetRegistered {
    /// The holder.
    pub holder: String,
    /// Records committed to.
    pub records: u64,
    /// The ledger entry.
    pub entry: u64,
    /// Entries under the checkpoint that includes it.
    pub checkpoint_size: u64,
    /// Validators who signed that checkpoint.
    pub signatures: usize,
}

/// Row 2 of the closing table.
#[derive(Clone, Debug, PartialEq)]
pub struct CommitRow {
    /// Commitments registered.
    pub commitments: u32,
    /// Policies registered.
    pub policies: u32,
    /// Signatures each checkpoint needs ...
    pub threshold: usize,
    /// ... of this many validators.
    pub validators: usize,
    /// Wall time, seconds.
    pub secs: f64,
}

/// Step 2: the ledger in `OUT/ledger`, signing keys in `OUT/keys`, keys and commitments in
/// `OUT/zk`.
pub(super) fn run(
    o: &Options,
    w: &Workload,
    names: &[String],
    schema: &Schema,
    holder_rows: &[Vec<Record>],
    rng: &mut ChaCha20Rng,
    p: &mut Printer<'_>,
) -> Result<(Committed, CommitRow)> {
    let t = Instant::now();
    let keys_dir = o.out.join("keys");
    std::fs::create_dir_all(&keys_dir)?;
    let issuer = Identity::generate();
    issuer.save(&keys_dir.join("regulator.key"))?;
    // The consortium's trust configuration: the regulator is the one policy issuer.
    let ledger = Ledger::init(
        &o.out.join("ledger"),
        "trustspace",
        VALIDATORS,
        THRESHOLD,
        vec![issuer.public()],
    )?;
    let policy = trustspace_zk::Policy::from_toml(&w.policy, "reference policy", None, schema)?;
    let chunk = o.records.next_power_of_two().clamp(16, w.chunk_max);
    let compiled = Compiled::new(schema, &policy, chunk)?;
    let pb = p.spinner(format!(
        "setting up proving keys (chunks of {chunk} records)"
    ));
    let (pk, vk) = trustspace_zk::setup(&compiled, rng)?;
    pb.finish_and_clear();
    let zk_dir = o.out.join("zk");
    std::fs::create_dir_all(&zk_dir)?;
    vk.save(&zk_dir.join("verifying-keys.json"))?;
    let policy_name = policy.plan().name.clone();
    let receipt = ledger.append(vec![Entry::sign(
        Body::Policy(PolicyEntry::for_keys(&vk, &policy_name)),
        unix_now(),
        &issuer,
    )?])?;
    p.policy_registered(&PolicyRegistered {
        name: policy_name.clone(),
        entry: receipt.first_index,
    })?;
    let mut commitments = Vec::new();
    for (name, rows) in names.iter().zip(holder_rows) {
        let id = Identity::generate();
        id.save(&keys_dir.join(format!("{name}.key")))?;
        let (commitment, opening) = trustspace_zk::commit(
            schema,
            rows.iter().cloned(),
            chunk,
            &id.public().to_bytes(),
            rng,
        )?;
        commitment.save(&zk_dir.join(format!("{name}.commitment.json")))?;
        let receipt = ledger.append(vec![Entry::sign(
            Body::Dataset(DatasetEntry {
                commitment: commitment.clone(),
                name: format!("{name}/{}", schema.name()),
                metadata: Vec::new(),
            }),
            unix_now(),
            &id,
        )?])?;
        p.dataset_registered(&DatasetRegistered {
            holder: name.clone(),
            records: commitment.records,
            entry: receipt.first_index,
            checkpoint_size: receipt.checkpoint.checkpoint.size,
            signatures: receipt.checkpoint.signatures.len(),
        })?;
        commitments.push((commitment, opening));
    }
    let row = CommitRow {
        commitments: HOLDERS,
        policies: 1,
        threshold: THRESHOLD,
        validators: VALIDATORS,
        secs: t.elapsed().as_secs_f64(),
    };
    let committed = Committed {
        ledger,
        compiled,
        pk,
        vk,
        policy_name,
        commitments,
        zk_dir,
    };
    Ok((committed, row))
}
