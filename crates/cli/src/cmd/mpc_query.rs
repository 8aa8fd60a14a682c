//! `mpc-query`: take part in a secret-shared query as a data holder (`--data`) and/or a result
//! recipient. Every participant the query names runs it with the same query; only recipients
//! get the answer.
//!
//! Exit status: 0 on success, 1 when the session failed at a party (or a party lied:
//! [`SessionFailed`]), 2 on bad input or configuration ([`exit_code`]).

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use trustspace_data::error::escape_controls;
use trustspace_data::{Record, Schema};
use trustspace_mpc::MpcError;
use trustspace_mpc::engine::Mode;
use trustspace_mpc::query::{QueryResult, Strategy};
use trustspace_mpc::service::{QuerySpec, participate};
use trustspace_mpc::transport::tls::ClientLinkConfig;

const EXAMPLES: &str = "\
Examples (each hospital runs the same query with its own rows):
  mpc-query --config mpc/hospital-a.json --schema encounters.schema.toml --data a.csv \\
      --holders hospital-a,hospital-b,hospital-c --recipients hospital-a \\
      --sql \"SELECT medication, COUNT(*), AVG(cost) FROM encounters WHERE age >= 65 GROUP BY medication\"";

/// `--mode` (a value's doc comment would become its --help text: these have none).
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    SemiHonest,
    Malicious,
}

/// `--strategy` (a value's doc comment would become its --help text: these have none).
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    Partials,
    Rows,
}

/// `mpc-query`'s arguments.
#[derive(Parser, Debug, Clone)]
#[command(name = "mpc-query", version, about = "Join a three-party secret-shared query", after_help = EXAMPLES)]
pub struct Cli {
    /// This client's configuration (from `mpc-party keygen`).
    #[arg(long)]
    pub config: PathBuf,
    /// The table's schema (TOML).
    #[arg(long)]
    pub schema: PathBuf,
    /// The query: one SELECT of aggregates.
    #[arg(long)]
    pub sql: String,
    /// This holder's rows (CSV or JSON Lines); required when this client is a holder.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Client names of the data holders, comma-separated (the same order for everyone).
    #[arg(long, value_delimiter = ',', required = true)]
    pub holders: Vec<String>,
    /// Client names that receive the result, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub recipients: Vec<String>,
    #[allow(missing_docs)]
    #[arg(long, value_enum, default_value = "semi-honest")]
    pub mode: ModeArg,
    /// `partials`: holders share per-group partial aggregates; `rows`: every row is shared.
    #[arg(long, value_enum, default_value = "partials")]
    pub strategy: StrategyArg,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What this participant got.
#[derive(Debug, Clone, PartialEq)]
pub enum Answered {
    /// The result (a recipient).
    Result(QueryResult),
    /// Only the contribution (a holder that is not a recipient).
    Contributed {
        /// Rows contributed.
        rows: usize,
    },
}

/// The session failed at a party, or a party lied (exit 1); other errors are bad input or
/// configuration (exit 2).
#[derive(Debug)]
pub struct SessionFailed {
    /// This client's name.
    pub client: String,
    /// The cause.
    pub error: MpcError,
}

impl fmt::Display for SessionFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.client, self.error)
    }
}

// No `source`: the message already includes the cause.
impl std::error::Error for SessionFailed {}

/// The exit code of a failure (1 for [`SessionFailed`], else 2) and its line for stderr
/// (control characters escaped: reasons may come from a party or a peer).
pub fn exit_code(e: &anyhow::Error) -> (u8, String) {
    match e.downcast_ref::<SessionFailed>() {
        Some(s) => (
            1,
            format!(
                "mpc-query: {}: {}",
                s.client,
                escape_controls(&s.error.to_string())
            ),
        ),
        None => (
            2,
            format!("mpc-query: {}", escape_controls(&format!("{e:#}"))),
        ),
    }
}

fn load_rows(path: &Path, schema: &Schema) -> Result<Vec<Record>> {
    let rows = trustspace_data::load::open(path, schema)
        .with_context(|| format!("opening {}", path.display()))?;
    rows.map(|r| r.map_err(anyhow::Error::from))
        .collect::<Result<Vec<_>>>()
        .with_context(|| format!("reading {}", path.display()))
}

/// The query `cli` describes.
pub fn spec(cli: &Cli) -> Result<QuerySpec> {
    let schema_text = std::fs::read_to_string(&cli.schema)
        .with_context(|| format!("reading {}", cli.schema.display()))?;
    Ok(QuerySpec {
        sql: cli.sql.clone(),
        schema: schema_text,
        holders: cli.holders.clone(),
        recipients: cli.recipients.clone(),
        mode: match cli.mode {
            ModeArg::SemiHonest => Mode::SemiHonest,
            ModeArg::Malicious => Mode::Malicious,
        },
        strategy: match cli.strategy {
            StrategyArg::Partials => Strategy::Partials,
            StrategyArg::Rows => Strategy::Rows,
        },
    })
}

/// Joins the query, prints the result (a table, or JSON with `--json`) or what was
/// contributed to `out`.
pub fn run(cli: &Cli, out: &mut dyn Write) -> Result<Answered> {
    let config = ClientLinkConfig::load(&cli.config)?;
    let spec = spec(cli)?;
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
                writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
            } else {
                writeln!(out, "{}", result.columns.join(" | "))?;
                for r in &result.rows {
                    writeln!(out, "{}", r.join(" | "))?;
                }
            }
            Ok(Answered::Result(result))
        }
        Ok(None) => {
            let rows = rows.as_ref().map_or(0, Vec::len);
            writeln!(
                out,
                "{name}: contributed {rows} rows; the result went to {}",
                spec.recipients.join(", ")
            )?;
            Ok(Answered::Contributed { rows })
        }
        Err(
            error @ (MpcError::Remote { .. }
            | MpcError::Contested { .. }
            | MpcError::SessionMismatch { .. }
            | MpcError::Aborted { .. }
            | MpcError::CheatingDetected { .. }
            | MpcError::Timeout { .. }
            | MpcError::Disconnected { .. }),
        ) => Err(SessionFailed {
            client: name.to_string(),
            error,
        }
        .into()),
        Err(e) => Err(e.into()),
    }
}
