//! `dataspace`: the operator's command for trusted data spaces.
//!
//! - `dataspace gen`: write a synthetic table (CSV or JSON Lines) and its schema, split across
//!   data holders, with planted policy violations listed beside it ([`generate`]).
//! - `dataspace validate`: stream data files against a schema and report every rejection
//!   ([`validate`]).
//! - `dataspace run`: the data-space workflow end to end on embedded defaults ([`run_job`]).
//! - `dataspace party` (hidden): a compute party of the main job ([`party`]).
//!
//! Exit status: 0 on success, 1 on any failure (`dataspace: ` and the cause on stderr), 2 on
//! a usage error.

use crate::party::run_party;
use crate::workflow::{self, Checked, FileFormat, Options, Printer, Row, Scenario, Written};
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use trustspace_data::Schema;
use trustspace_data::synth::{Spec, Table};

/// `dataspace`'s arguments.
#[derive(Parser, Debug)]
#[command(
    name = "dataspace",
    version,
    about = "Trusted data spaces: datasets, proofs, aggregates"
)]
pub struct Cli {
    #[allow(missing_docs)]
    #[command(subcommand)]
    pub command: Command,
}

/// `dataspace`'s subcommands.
// A clap field's doc comment is its --help text: the hidden `party`'s fields have none.
#[allow(missing_docs)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate a synthetic table and its schema.
    Gen {
        /// Table: encounters, diagnoses, medications, transactions, exposures, revenues.
        #[arg(long, value_parser = parse_table)]
        table: Table,
        /// Rows of the logical table (all holders together).
        #[arg(long, default_value_t = 1000)]
        rows: u64,
        /// Seed: the same seed gives the same bytes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Data holders to split the rows across (one file each).
        #[arg(long, default_value_t = 1)]
        holders: u32,
        /// Rows that break the table's reference policy.
        #[arg(long, default_value_t = 0)]
        violations: u64,
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: FileFormat,
        /// Output directory (created if missing).
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Validate data files (CSV or JSON Lines, told by extension) against a schema.
    Validate {
        /// Schema file (TOML).
        #[arg(long)]
        schema: PathBuf,
        /// Data files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Rejections to print per file.
        #[arg(long, default_value_t = 20)]
        max_errors: usize,
    },
    /// Run the data-space workflow end to end on embedded defaults.
    Run {
        /// Which reference workload.
        #[arg(long, value_enum, default_value = "healthcare")]
        scenario: Scenario,
        /// Records per data holder and table.
        #[arg(long, default_value_t = 500)]
        records: u64,
        /// Directory for every artefact.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Seed for the synthetic datasets.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// A compute party of the main job's secret-shared queries (started by `run`).
    #[command(hide = true)]
    Party {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        sessions: Option<u64>,
    },
}

fn parse_table(s: &str) -> Result<Table, String> {
    Table::from_name(s).ok_or_else(|| {
        let names: Vec<_> = Table::ALL.iter().map(|t| t.name()).collect();
        format!("unknown table `{s}`; one of: {}", names.join(", "))
    })
}

/// Why a `dataspace` command failed, where the cause is not another crate's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataspaceError {
    /// `validate` rejected records.
    ValidationFailed {
        /// Each file with rejections, and how many.
        rejected: Vec<(PathBuf, u64)>,
    },
    /// A main-job party's session failed (its log says how).
    SessionFailed,
}

impl fmt::Display for DataspaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataspaceError::ValidationFailed { .. } => write!(f, "validation failed"),
            DataspaceError::SessionFailed => write!(f, "a session failed"),
        }
    }
}

impl std::error::Error for DataspaceError {}

/// Runs one parsed command; what it prints goes to `out`, a party's log to `log`.
pub fn run(cli: Cli, out: &mut dyn Write, log: &mut dyn Write) -> Result<()> {
    match cli.command {
        Command::Gen {
            table,
            rows,
            seed,
            holders,
            violations,
            format,
            out: dir,
        } => {
            let spec = Spec {
                table,
                rows,
                seed,
                holders,
                violations,
            };
            generate(spec, format, &dir, out)?;
        }
        Command::Validate {
            schema,
            files,
            max_errors,
        } => {
            validate(&schema, &files, max_errors, out)?;
        }
        Command::Run {
            scenario,
            records,
            out: dir,
            seed,
        } => {
            let me = std::env::current_exe().context("locating this program")?;
            run_job(
                &Options {
                    scenario,
                    records,
                    out: dir,
                    seed,
                    party_command: (me, vec!["party".into()]),
                },
                out,
            )?;
        }
        Command::Party { config, sessions } => party(&config, sessions, log)?,
    }
    Ok(())
}

/// `dataspace gen`: writes the table into `dir` (files named for the table) and lists them.
pub fn generate(
    spec: Spec,
    format: FileFormat,
    dir: &Path,
    out: &mut dyn Write,
) -> Result<Written> {
    let w = workflow::generate(spec, format, dir, spec.table.name())?;
    writeln!(out, "schema: {}", w.schema.display())?;
    for (p, n, _) in &w.files {
        writeln!(out, "data:   {} ({n} rows)", p.display())?;
    }
    if let Some(p) = &w.violations {
        writeln!(
            out,
            "violations planted: {}, listed in {}",
            spec.violations,
            p.display()
        )?;
    }
    Ok(w)
}

/// `dataspace validate`: checks each file against the schema, printing the first
/// `max_errors` rejections of each; fails with [`DataspaceError::ValidationFailed`] when any
/// record is rejected.
pub fn validate(
    schema: &Path,
    files: &[PathBuf],
    max_errors: usize,
    out: &mut dyn Write,
) -> Result<Vec<Checked>> {
    let schema = Schema::load(schema)?;
    let mut checked = Vec::new();
    for f in files {
        writeln!(out, "{}", f.display())?;
        let c = workflow::validate_file(&schema, f, max_errors)?;
        Printer::new(out).rejections(&c)?;
        writeln!(
            out,
            "  {} valid, {} rejected, {:.2} s ({:.0} rows/s)",
            c.accepted,
            c.rejected,
            c.secs,
            (c.accepted + c.rejected) as f64 / c.secs.max(1e-9)
        )?;
        checked.push(c);
    }
    let rejected: Vec<(PathBuf, u64)> = files
        .iter()
        .zip(&checked)
        .filter(|(_, c)| c.rejected > 0)
        .map(|(f, c)| (f.clone(), c.rejected))
        .collect();
    if !rejected.is_empty() {
        return Err(DataspaceError::ValidationFailed { rejected }.into());
    }
    Ok(checked)
}

/// `dataspace run`: the main job, then its closing table; returns the table's rows.
pub fn run_job(o: &Options, out: &mut dyn Write) -> Result<Vec<Row>> {
    let started = Instant::now();
    let rows = workflow::run(o, out)?;
    workflow::print_report(out, &rows)?;
    writeln!(
        out,
        "\nall steps succeeded in {:.1} s.",
        started.elapsed().as_secs_f64()
    )?;
    Ok(rows)
}

/// `dataspace party`: serves `sessions` sessions of the main job as one compute party.
pub fn party(config: &Path, sessions: Option<u64>, log: &mut dyn Write) -> Result<()> {
    if run_party(config, sessions, Duration::from_secs(600), log)? {
        Ok(())
    } else {
        Err(DataspaceError::SessionFailed.into())
    }
}
