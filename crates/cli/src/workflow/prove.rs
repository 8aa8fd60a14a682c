//! Step 3, the proofs: each holder proves that its committed dataset complies with the
//! registered policy; the regulator verifies each bundle against the ledger, keeps the evidence
//! file, and re-checks it offline (the evidence and the validators' keys only).

use super::commit::Committed;
use super::error::WorkflowError;
use super::printer::Printer;
use super::{HOLDERS, Options};
use anyhow::Result;
use rand_chacha::ChaCha20Rng;
use std::path::PathBuf;
use std::time::Instant;
use trustspace_data::Record;
use trustspace_ledger_verifier::{Evidence, Pin};
use trustspace_zk::bundle::Revealed;

/// The regulator's verdict on one holder's bundle.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    /// The holder.
    pub holder: String,
    /// Records that comply.
    pub records: u64,
    /// The holder's dataset entry on the ledger.
    pub dataset_entry: u64,
    /// The totals the policy reveals (formatted in the column's units).
    pub revealed: Vec<Revealed>,
    /// The evidence file, which re-checked offline.
    pub evidence: PathBuf,
}

/// Row 3 of the closing table.
#[derive(Clone, Debug, PartialEq)]
pub struct ProveRow {
    /// Datasets proven to comply ...
    pub complied: u32,
    /// ... of this many.
    pub holders: u32,
    /// The policy's name.
    pub policy: String,
    /// Whether the policy reveals totals to the regulator (beyond compliance).
    pub reveals_totals: bool,
    /// Wall time, seconds.
    pub secs: f64,
}

/// Step 3: bundles in `OUT/zk`, evidence files in `OUT/evidence`.
pub(super) fn run(
    o: &Options,
    names: &[String],
    c: &Committed,
    holder_rows: &[Vec<Record>],
    rng: &mut ChaCha20Rng,
    p: &mut Printer<'_>,
) -> Result<ProveRow> {
    let t = Instant::now();
    let evidence_dir = o.out.join("evidence");
    std::fs::create_dir_all(&evidence_dir)?;
    let config = c.ledger.config().clone();
    let mut complied = 0;
    let mut reveals_totals = false;
    for ((name, rows), (commitment, opening)) in names.iter().zip(holder_rows).zip(&c.commitments) {
        let pb = p.spinner(format!("{name} proving {} records", rows.len()));
        let bundle =
            trustspace_zk::prove_all(&c.compiled, &c.pk, commitment, opening, rows, &mut *rng)?;
        pb.finish_and_clear();
        bundle.save(&c.zk_dir.join(format!("{name}.bundle.json")))?;
        let (verdict, evidence) =
            trustspace_ledger_verifier::verify(&bundle, &c.vk, &c.ledger, &config, None)?;
        let path = evidence_dir.join(format!("{name}.evidence.json"));
        evidence.save(&path)?;
        // The regulator's offline re-check: the evidence file and the validators' keys only.
        // It pins the policy's verifying keys (its own: the evidence carries keys too).
        let again = trustspace_ledger_verifier::verify_evidence(
            &Evidence::load(&path)?,
            &config,
            &Pin::Keys(c.vk.digest()),
            None,
        )?;
        let v = Verified {
            holder: name.clone(),
            records: verdict.records,
            dataset_entry: verdict.dataset_index,
            revealed: verdict.revealed.clone(),
            evidence: path,
        };
        p.verified(&v)?;
        if again.records != verdict.records {
            return Err(WorkflowError::RecheckDisagrees {
                evidence: v.evidence,
            }
            .into());
        }
        reveals_totals |= !v.revealed.is_empty();
        complied += 1;
    }
    Ok(ProveRow {
        complied,
        holders: HOLDERS,
        policy: c.policy_name.clone(),
        reveals_totals,
        secs: t.elapsed().as_secs_f64(),
    })
}
