//! The data-space workflow end to end, on embedded defaults (`dataspace run`): three holders
//! (hospitals or banks) generate their datasets; commit and register them on an embedded ledger
//! whose validators co-sign each checkpoint; prove compliance with the published policy, which
//! a regulator verifies against the ledger (keeping an evidence file it re-checks offline); run
//! secret-shared queries with three compute-party processes on loopback; and sum encrypted values
//! under a key the holders share, decrypting only the total. Every artefact is written under the
//! output directory; the closing table says what was revealed to whom.
//!
//! One module per step, each returning its row of the closing table as a typed value, and one
//! printer for everything the job prints:
//! - [`generate`]: 1, the datasets (also the work of `dataspace gen` and `dataspace validate`);
//! - [`commit`]: 2, the commitments and the policy registered on an embedded ledger;
//! - [`prove`]: 3, the proofs, verified against the ledger and re-checked offline;
//! - [`mpc`]: 4, secret-shared queries across three compute-party processes;
//! - [`he`]: 5, a homomorphic sum under a key the holders share;
//! - [`threshold`]: 5b, an encrypted threshold check of which only the verdict is decrypted;
//! - [`printer`]: the narration and the closing table;
//! - [`workload`]: what each scenario runs; [`error`]: why the job stopped.

pub mod commit;
pub mod error;
pub mod generate;
pub mod he;
pub mod mpc;
pub mod printer;
pub mod prove;
pub mod threshold;
pub mod workload;

use anyhow::{Context, Result};
use clap::ValueEnum;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use error::WorkflowError;
pub use generate::{Checked, Written, generate, validate_file};
pub use printer::{Printer, print_report};

/// Output format of generated tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    /// Comma-separated values.
    Csv,
    /// JSON Lines.
    Jsonl,
}

/// Which reference workload the main job runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Three hospitals: encounters (proofs, queries, sums), diagnoses (comorbidity).
    Healthcare,
    /// Three banks: transactions (proofs, queries, sums), revenues (market concentration).
    Finance,
}

/// Holders in the main job.
pub const HOLDERS: u32 = 3;

/// What the main job is asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// Healthcare or finance.
    pub scenario: Scenario,
    /// Records per holder and table.
    pub records: u64,
    /// Directory for every artefact (created; a previous run's directory is replaced).
    pub out: PathBuf,
    /// Seed of the synthetic data.
    pub seed: u64,
    /// How to start a compute-party process: the program and its leading arguments (the
    /// configuration and session count are appended).
    pub party_command: (PathBuf, Vec<String>),
}

/// One row of the closing table: what a step did, as data ([`printer`] renders it).
#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    /// 1: the datasets.
    Datasets(generate::DatasetsRow),
    /// 2: the commitments and the policy on the ledger.
    Committed(commit::CommitRow),
    /// 3: the proofs, verified against the ledger.
    Proven(prove::ProveRow),
    /// 4: the secret-shared queries.
    Queried(mpc::MpcRow),
    /// 5: the homomorphic sum.
    Summed(he::SumRow),
    /// 5b: the encrypted threshold check.
    Threshold(threshold::ThresholdRow),
}

impl Row {
    /// Wall time of the step, seconds.
    pub fn secs(&self) -> f64 {
        match self {
            Row::Datasets(r) => r.secs,
            Row::Committed(r) => r.secs,
            Row::Proven(r) => r.secs,
            Row::Queried(r) => r.secs,
            Row::Summed(r) => r.secs,
            Row::Threshold(r) => r.secs,
        }
    }
}

/// Marker left in an output directory the main job owns (so a rerun may replace it).
pub const MARKER: &str = ".dataspace-run";

/// Prepares the output directory: created if missing; a previous run's replaced; anything
/// else refused (never delete what the job did not write).
fn prepare(out: &Path) -> Result<()> {
    if out.exists() {
        let empty = std::fs::read_dir(out)
            .with_context(|| format!("reading {}", out.display()))?
            .next()
            .is_none();
        if !empty {
            if !out.join(MARKER).exists() {
                return Err(WorkflowError::NotOurs {
                    dir: out.to_path_buf(),
                }
                .into());
            }
            std::fs::remove_dir_all(out).with_context(|| format!("clearing {}", out.display()))?;
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(out.join(MARKER), "written by dataspace run\n")?;
    Ok(())
}

/// Runs the main job, printing as it goes to `out`; returns the closing table's rows (print
/// them with [`print_report`]).
pub fn run(o: &Options, out: &mut dyn Write) -> Result<Vec<Row>> {
    if o.records == 0 {
        return Err(WorkflowError::NoRecords.into());
    }
    let w = workload::workload(o);
    prepare(&o.out)?;
    let names: Vec<String> = (0..HOLDERS).map(|h| format!("{}-{h}", w.who)).collect();
    let mut p = Printer::new(out);
    p.intro(w.who, o.records, &o.out)?;
    let mut rows = Vec::new();
    let mut rng = ChaCha20Rng::from_entropy();

    p.datasets_heading(w.who)?;
    let (tables, row) = generate::run(o, &w, &mut p)?;
    rows.push(Row::Datasets(row));
    let holder_rows = generate::holder_rows(&tables[0])?;
    let proof_schema = &tables[0].schema;

    p.commit_heading(w.who)?;
    let (committed, row) =
        commit::run(o, &w, &names, proof_schema, &holder_rows, &mut rng, &mut p)?;
    rows.push(Row::Committed(row));

    p.prove_heading(w.who)?;
    let row = prove::run(o, &names, &committed, &holder_rows, &mut rng, &mut p)?;
    rows.push(Row::Proven(row));

    p.mpc_heading(w.who)?;
    let row = mpc::run(o, &w, &names, &tables, &mut p)?;
    rows.push(Row::Queried(row));

    p.he_heading(w.who, w.he_column)?;
    let row = he::run(&w, proof_schema, &holder_rows, &mut rng, &mut p)?;
    rows.push(Row::Summed(row));

    let row = threshold::run(&w, proof_schema, &holder_rows, &mut p)?;
    rows.push(Row::Threshold(row));
    Ok(rows)
}
