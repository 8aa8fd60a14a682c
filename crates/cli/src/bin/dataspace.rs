//! `dataspace`: the operator's command for trusted data spaces.
//!
//! - `dataspace gen`: write a synthetic table (CSV or JSON Lines) and its schema, split across
//!   data holders, with planted policy violations listed beside it.
//! - `dataspace validate`: stream data files against a schema and report every rejection.
//! - `dataspace run`: the data-space workflow end to end on embedded defaults.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::Instant;
use trustspace_data::synth::{Generator, Spec, Table};
use trustspace_data::{Schema, validate};

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

#[derive(Clone, Copy, ValueEnum)]
enum FileFormat {
    Csv,
    Jsonl,
}

#[derive(Clone, Copy, ValueEnum)]
enum Scenario {
    Healthcare,
    Finance,
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
        /// Records per data holder.
        #[arg(long, default_value_t = 10_000)]
        records: u64,
        /// Directory for every artefact.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Seed for the synthetic datasets.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn parse_table(s: &str) -> Result<Table, String> {
    Table::from_name(s).ok_or_else(|| {
        let names: Vec<_> = Table::ALL.iter().map(|t| t.name()).collect();
        format!("unknown table `{s}`; one of: {}", names.join(", "))
    })
}

/// Files written for one generated table.
struct Written {
    schema: PathBuf,
    /// Each holder's file, its row count and the seconds it took to generate and write.
    files: Vec<(PathBuf, u64, f64)>,
    violations: Option<PathBuf>,
}

fn generate(spec: Spec, format: FileFormat, out: &Path, stem: &str) -> Result<Written> {
    let g = Generator::new(spec)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let schema_path = out.join(format!("{stem}.schema.toml"));
    std::fs::write(&schema_path, g.schema().to_toml())
        .with_context(|| format!("writing {}", schema_path.display()))?;
    let ext = match format {
        FileFormat::Csv => "csv",
        FileFormat::Jsonl => "jsonl",
    };
    let mut files = Vec::new();
    for h in 0..spec.holders {
        let name = if spec.holders == 1 {
            format!("{stem}.{ext}")
        } else {
            format!("{stem}-holder{h}.{ext}")
        };
        let path = out.join(name);
        let started = Instant::now();
        let file =
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let w = std::io::BufWriter::with_capacity(1 << 20, file);
        let n = match format {
            FileFormat::Csv => {
                trustspace_data::write::write_csv(w, g.schema(), g.holder_records(h))
            }
            FileFormat::Jsonl => {
                trustspace_data::write::write_jsonl(w, g.schema(), g.holder_records(h))
            }
        }
        .with_context(|| format!("writing {}", path.display()))?;
        files.push((path, n, started.elapsed().as_secs_f64()));
    }
    // The table's reference policy, where it has one, for `zkprove`.
    let policy = match spec.table {
        Table::Encounters => Some(trustspace_zk::reference::healthcare_policy()),
        Table::Transactions => Some(trustspace_zk::reference::finance_policy(spec.seed)),
        _ => None,
    };
    if let Some(text) = policy {
        let path = out.join(format!("{stem}.policy.toml"));
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let violations = if spec.violations > 0 {
        let path = out.join(format!("{stem}.violations.csv"));
        let mut text = String::from("row,holder,violation\n");
        for (row, v) in g.violations() {
            let holder = (0..spec.holders)
                .find(|&h| g.holder_range(h).contains(&row))
                .expect("every row has a holder");
            text.push_str(&format!("{row},{holder},{v:?}\n"));
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        Some(path)
    } else {
        None
    };
    Ok(Written {
        schema: schema_path,
        files,
        violations,
    })
}

/// Validates one file, printing its rejections; returns (accepted, rejected, seconds).
fn validate_file(schema: &Schema, path: &Path, max_errors: usize) -> Result<(u64, u64, f64)> {
    let t = Instant::now();
    let v = validate(path, schema, max_errors)?;
    for e in &v.errors {
        println!("  rejected: {e}");
    }
    if v.rejected as usize > v.errors.len() {
        println!("  … and {} more", v.rejected as usize - v.errors.len());
    }
    Ok((v.accepted, v.rejected, t.elapsed().as_secs_f64()))
}

fn run(scenario: Scenario, records: u64, out: &Path, seed: u64) -> Result<()> {
    const HOLDERS: u32 = 3;
    let (tables, who): (&[Table], &str) = match scenario {
        Scenario::Healthcare => (
            &[Table::Encounters, Table::Diagnoses, Table::Medications],
            "hospital",
        ),
        Scenario::Finance => (
            &[Table::Transactions, Table::Exposures, Table::Revenues],
            "bank",
        ),
    };
    if records == 0 {
        bail!("--records must be at least 1");
    }
    println!(
        "trustspace data space: {} {who}s, {records} records each per table, artefacts in {}",
        HOLDERS,
        out.display()
    );
    println!();
    println!("step 1: each {who} generates its datasets and checks them against the schema");
    let mut rows = Vec::new();
    for &table in tables {
        let spec = Spec {
            table,
            rows: records * u64::from(HOLDERS),
            seed,
            holders: HOLDERS,
            violations: 0,
        };
        let w = generate(spec, FileFormat::Csv, out, table.name())?;
        let schema = Schema::load(&w.schema)?;
        for (h, (path, n, gen_secs)) in w.files.iter().enumerate() {
            let (ok, bad, secs) = validate_file(&schema, path, 5)?;
            rows.push((
                format!("{who} {h}"),
                table.name(),
                *n,
                ok,
                bad,
                *gen_secs,
                secs,
            ));
        }
    }
    println!();
    println!(
        "{:<12} {:<13} {:>10} {:>10} {:>9} {:>10} {:>12}",
        "holder", "table", "written", "valid", "rejected", "gen (s)", "validate (s)"
    );
    let mut failed = false;
    for (holder, table, n, ok, bad, g, v) in &rows {
        println!("{holder:<12} {table:<13} {n:>10} {ok:>10} {bad:>9} {g:>10.3} {v:>12.3}");
        failed |= *bad > 0 || ok != n;
    }
    println!();
    println!(
        "revealed: nothing has left any {who} yet (datasets stay local in {}).",
        out.display()
    );
    if failed {
        bail!("some generated records failed validation");
    }
    println!("result: every dataset is valid against its schema.");
    Ok(())
}

fn main() -> Result<()> {
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
        } => run(scenario, records, &out, seed),
    }
}
