//! `zkprove`: commit to a dataset, generate keys, and prove that the dataset complies with a
//! policy; register on a ledger; export verifiers and calldata for EVM chains. One module per
//! subcommand, each handler taking its clap arguments ([`args`]) as its input and returning a
//! typed summary, which [`print_summary`] prints as text or JSON.
//!
//! - [`commit`], [`setup`], [`prove`], [`merge`]: the proof pipeline;
//! - [`ceremony`]: a multi-party setup ceremony over a policy's keys;
//! - [`register`]: a dataset or policy entry on a ledger;
//! - [`export`]: Solidity verifiers, EVM calldata, snarkjs files;
//! - [`chain`]: deploy and use the registry on an EVM chain.
//!
//! Exit status: 0 on success, 1 on any failure (`Error: ` and the cause on stderr), 2 on a
//! usage error.

pub mod args;
pub mod ceremony;
pub mod chain;
pub mod commit;
pub mod export;
pub mod merge;
pub mod prove;
pub mod register;
pub mod setup;

use anyhow::{Context, Result};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

pub use args::{Cli, Command};

/// What a `zkprove` subcommand reports.
#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(untagged)]
pub enum Summary {
    /// `commit`.
    Commit(commit::CommitSummary),
    /// `setup`.
    Setup(setup::SetupSummary),
    /// `prove`.
    Prove(prove::ProveSummary),
    /// `register`.
    Register(register::RegisterSummary),
    /// `merge`.
    Merge(merge::MergeSummary),
    /// `export-verifier`.
    ExportVerifier(export::VerifierSummary),
    /// `export-calldata`, `export-snarkjs`.
    Export(export::ExportSummary),
    /// `chain`.
    Chain(chain::ChainSummary),
    /// `ceremony`.
    Ceremony(ceremony::CeremonySummary),
}

/// Sizes rayon's global pool (`--threads`); once per process, before any handler runs.
pub fn init_threads(threads: Option<usize>) -> Result<()> {
    if let Some(t) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .context("--threads")?;
    }
    Ok(())
}

/// Runs one subcommand; `quiet` hides the progress bar (with `--json`).
pub fn run(command: Command, quiet: bool) -> Result<Summary> {
    Ok(match command {
        Command::Commit(a) => Summary::Commit(commit::commit(&a)?),
        Command::Setup(a) => Summary::Setup(setup::setup(&a)?),
        Command::Prove(a) => Summary::Prove(prove::prove(&a, quiet)?),
        Command::Register(a) => Summary::Register(register::register(&a)?),
        Command::Merge(a) => Summary::Merge(merge::merge(&a)?),
        Command::ExportVerifier(a) => Summary::ExportVerifier(export::export_verifier(&a)?),
        Command::Chain(a) => Summary::Chain(chain::chain(&a)?),
        Command::ExportCalldata(a) => Summary::Export(export::export_calldata(&a)?),
        Command::ExportSnarkjs(a) => Summary::Export(export::export_snarkjs(&a)?),
        Command::Ceremony(a) => Summary::Ceremony(ceremony::ceremony(&a, quiet)?),
    })
}

/// Prints a summary: pretty JSON, or one `key: value` line per field (keys in sorted order,
/// right-aligned).
pub fn print_summary(summary: &impl Serialize, json: bool, out: &mut dyn Write) -> Result<()> {
    let value = serde_json::to_value(summary)?;
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else if let serde_json::Value::Object(m) = value {
        for (k, v) in m {
            writeln!(
                out,
                "{k:>18}: {}",
                match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                }
            )?;
        }
    }
    Ok(())
}

/// Runs a parsed command line: sizes the thread pool, runs the subcommand and prints its
/// summary to `out`.
pub fn main(cli: Cli, out: &mut dyn Write) -> Result<Summary> {
    init_threads(cli.threads)?;
    let summary = run(cli.command, cli.json)?;
    print_summary(&summary, cli.json, out)?;
    Ok(summary)
}

/// Writes a text file, naming it on failure.
fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// A 32-byte digest as `0x` and lowercase hex.
fn hex0x(d: &[u8; 32]) -> String {
    format!("0x{}", super::hex_digest(d))
}
