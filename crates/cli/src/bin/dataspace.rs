//! `dataspace`: the operator's command for trusted data spaces.
//!
//! - `dataspace gen`: write a synthetic table (CSV or JSON Lines) and its schema, split across
//!   data holders, with planted policy violations listed beside it.
//! - `dataspace validate`: stream data files against a schema and report every rejection.
//! - `dataspace run`: the data-space workflow end to end on embedded defaults.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;
use trustspace_cli::workflow::{self, FileFormat, Options, Scenario, generate, validate_file};
use trustspace_data::Schema;
use trustspace_data::synth::{Spec, Table};

#[derive(Parser)]
#[command(
    name = "dataspace",
    version,
    about = "Trusted data spaces: datasets, proofs, aggregates"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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

fn workflow_party(config: &std::path::Path, sessions: Option<u64>) -> Result<bool> {
    trustspace_cli::party::run_party(config, sessions, Duration::from_secs(600))
}

fn main() -> std::process::ExitCode {
    match run_cli() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dataspace: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_cli() -> Result<()> {
    match Cli::parse().command {
        Command::Gen {
            table,
            rows,
            seed,
            holders,
            violations,
            format,
            out,
        } => {
            let spec = Spec {
                table,
                rows,
                seed,
                holders,
                violations,
            };
            let w = generate(spec, format, &out, table.name())?;
            println!("schema: {}", w.schema.display());
            for (p, n, _) in &w.files {
                println!("data:   {} ({n} rows)", p.display());
            }
            if let Some(p) = &w.violations {
                println!(
                    "violations planted: {violations}, listed in {}",
                    p.display()
                );
            }
            Ok(())
        }
        Command::Validate {
            schema,
            files,
            max_errors,
        } => {
            let schema = Schema::load(&schema)?;
            let mut any_bad = false;
            for f in &files {
                println!("{}", f.display());
                let (ok, bad, secs) = validate_file(&schema, f, max_errors)?;
                println!(
                    "  {ok} valid, {bad} rejected, {secs:.2} s ({:.0} rows/s)",
                    (ok + bad) as f64 / secs.max(1e-9)
                );
                any_bad |= bad > 0;
            }
            if any_bad {
                bail!("validation failed");
            }
            Ok(())
        }
        Command::Run {
            scenario,
            records,
            out,
            seed,
        } => {
            let started = std::time::Instant::now();
            let me = std::env::current_exe().context("locating this program")?;
            let report = workflow::run(&Options {
                scenario,
                records,
                out,
                seed,
                party_command: (me, vec!["party".into()]),
            })?;
            workflow::print_report(&report);
            println!(
                "\nall steps succeeded in {:.1} s.",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Party { config, sessions } => {
            if workflow_party(&config, sessions)? {
                Ok(())
            } else {
                bail!("a session failed")
            }
        }
    }
}
