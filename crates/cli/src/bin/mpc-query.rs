//! `mpc-query`: take part in a secret-shared query as a data holder (`--data`) and/or a result
//! recipient. Every participant the query names runs it with the same query; only recipients
//! get the answer. See `mpc-query --help`.
//!
//! Exit status: 0 on success, 1 when the session failed at a party (or a party lied), 2 on bad
//! input or configuration.

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use trustspace_data::{Record, Schema};
use trustspace_mpc::MpcError;
use trustspace_mpc::engine::Mode;
use trustspace_mpc::query::Strategy;
use trustspace_mpc::service::{QuerySpec, participate};
use trustspace_mpc::transport::tls::ClientLinkConfig;

const EXAMPLES: &str = "\
Examples (each hospital runs the same query with its own rows):
  mpc-query --config mpc/hospital-a.json --schema encounters.schema.toml --data a.csv \\
      --holders hospital-a,hospital-b,hospital-c --recipients hospital-a \\
      --sql \"SELECT medication, COUNT(*), AVG(cost) FROM encounters WHERE age >= 65 GROUP BY medication\"";

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    SemiHonest,
    Malicious,
}

#[derive(Clone, Copy, ValueEnum)]
enum StrategyArg {
    Partials,
    Rows,
}

#[derive(Parser)]
#[command(name = "mpc-query", version, about = "Join a three-party secret-shared query", after_help = EXAMPLES)]
struct Cli {
    /// This client's configuration (from `mpc-party keygen`).
    #[arg(long)]
    config: PathBuf,
    /// The table's schema (TOML).
    #[arg(long)]
    schema: PathBuf,
    /// The query: one SELECT of aggregates.
    #[arg(long)]
    sql: String,
    /// This holder's rows (CSV or JSON Lines); required when this client is a holder.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Client names of the data holders, comma-separated (the same order for everyone).
    #[arg(long, value_delimiter = ',', required = true)]
    holders: Vec<String>,
    /// Client names that receive the result, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    recipients: Vec<String>,
    #[arg(long, value_enum, default_value = "semi-honest")]
    mode: ModeArg,
    /// `partials`: holders share per-group partial aggregates; `rows`: every row is shared.
    #[arg(long, value_enum, default_value = "partials")]
    strategy: StrategyArg,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

fn load_rows(path: &std::path::Path, schema: &Schema) -> Result<Vec<Record>> {
    let rows = trustspace_data::load::open(path, schema)
        .with_context(|| format!("opening {}", path.display()))?;
    rows.map(|r| r.map_err(anyhow::Error::from))
        .collect::<Result<Vec<_>>>()
        .with_context(|| format!("reading {}", path.display()))
}

fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    let config = ClientLinkConfig::load(&cli.config)?;
    let schema_text = std::fs::read_to_string(&cli.schema)
        .with_context(|| format!("reading {}", cli.schema.display()))?;
    let spec = QuerySpec {
        sql: cli.sql,
        schema: schema_text,
        holders: cli.holders,
        recipients: cli.recipients,
        mode: match cli.mode {
            ModeArg::SemiHonest => Mode::SemiHonest,
            ModeArg::Malicious => Mode::Malicious,
        },
        strategy: match cli.strategy {
            StrategyArg::Partials => Strategy::Partials,
            StrategyArg::Rows => Strategy::Rows,
        },
    };
    let (schema, _) = spec.check()?;
    let rows = match &cli.data {
        Some(p) => Some(load_rows(p, &schema)?),
        None => None,
    };
    let name = config.name()?;
    match participate(&config, &spec, rows.as_deref()) {
        Ok(Some(result)) => {
            if cli.json {
                let rows: Vec<serde_json::Value> = result
                    .rows
                    .iter()
                    .map(|r| {
                        serde_json::Value::Object(
                            result
                                .columns
                                .iter()
                                .cloned()
                                .zip(r.iter().cloned().map(serde_json::Value::String))
                                .collect(),
                        )
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!("{}", result.columns.join(" | "));
                for r in &result.rows {
                    println!("{}", r.join(" | "));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Ok(None) => {
            println!(
                "{name}: contributed {} rows; the result went to {}",
                rows.as_ref().map_or(0, Vec::len),
                spec.recipients.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(
            e @ (MpcError::Remote { .. }
            | MpcError::Contested { .. }
            | MpcError::SessionMismatch { .. }
            | MpcError::Aborted { .. }
            | MpcError::CheatingDetected { .. }
            | MpcError::Timeout { .. }
            | MpcError::Disconnected { .. }),
        ) => {
            // The reason may come from a party: control characters are shown escaped.
            eprintln!(
                "mpc-query: {name}: {}",
                trustspace_data::error::escape_controls(&e.to_string())
            );
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            // Errors may quote what a peer sent: control characters are escaped.
            eprintln!(
                "mpc-query: {}",
                trustspace_data::error::escape_controls(&format!("{e:#}"))
            );
            ExitCode::from(2)
        }
    }
}
