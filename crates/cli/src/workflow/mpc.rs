//! Step 4, the secret-shared queries: a test deployment of three compute parties on loopback
//! ports (certificates in `OUT/mpc`), each a separate process; every holder contributes its
//! rows to each query of the workload and receives the result, which must agree.

use super::error::WorkflowError;
use super::generate::{GeneratedTable, load_rows};
use super::printer::Printer;
use super::workload::Workload;
use super::{HOLDERS, Options};
use anyhow::{Context, Result};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;
use trustspace_data::Record;
use trustspace_mpc::MpcError;
use trustspace_mpc::pki::keygen;
use trustspace_mpc::query::{QueryResult, Strategy};
use trustspace_mpc::service::{QuerySpec, participate};
use trustspace_mpc::transport::tls::{ClientLinkConfig, PartyConfig};

/// One query and the result every holder received.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// The SQL, as the workload wrote it.
    pub sql: String,
    /// The result.
    pub result: QueryResult,
}

/// Row 4 of the closing table.
#[derive(Clone, Debug, PartialEq)]
pub struct MpcRow {
    /// `hospital` or `bank`.
    pub who: &'static str,
    /// Queries answered.
    pub queries: usize,
    /// Holders who contributed to each.
    pub holders: u32,
    /// Wall time, seconds.
    pub secs: f64,
}

/// Three free loopback addresses (held while they are chosen, so they differ).
fn free_loopback_ports() -> Result<Vec<String>> {
    let held: Vec<std::net::TcpListener> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<_>>()
        .context("binding loopback ports")?;
    held.iter()
        .map(|l| Ok(l.local_addr()?.to_string()))
        .collect()
}

/// Kills the party processes if the step fails half-way.
struct Parties(Vec<Child>);

impl Drop for Parties {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Step 4: starts the parties (`o.party_command`), runs every query of the workload, prints
/// the answers, and waits for the parties to exit successfully.
pub(super) fn run(
    o: &Options,
    w: &Workload,
    names: &[String],
    tables: &[GeneratedTable],
    p: &mut Printer<'_>,
) -> Result<MpcRow> {
    let t = Instant::now();
    let answers = queries(o, w, names, tables, p)?;
    p.answers(&answers)?;
    Ok(MpcRow {
        who: w.who,
        queries: answers.len(),
        holders: HOLDERS,
        secs: t.elapsed().as_secs_f64(),
    })
}

fn queries(
    o: &Options,
    w: &Workload,
    names: &[String],
    tables: &[GeneratedTable],
    p: &mut Printer<'_>,
) -> Result<Vec<Answer>> {
    let dir = o.out.join("mpc");
    std::fs::create_dir_all(&dir)?;
    let clients: Vec<&str> = names.iter().map(String::as_str).collect();
    keygen(&dir, 3, &clients)?;
    let addrs = free_loopback_ports()?;
    let mut parties = Parties(Vec::new());
    for i in 0..3 {
        let cfg = PartyConfig::for_dir(Path::new(""), i, &addrs, 120);
        let path = dir.join(format!("party-{i}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&cfg)?)?;
        let log = std::fs::File::create(dir.join(format!("party-{i}.log")))?;
        let (program, lead) = &o.party_command;
        parties.0.push(
            Command::new(program)
                .args(lead)
                .arg("--config")
                .arg(&path)
                .args(["--sessions", &w.queries.len().to_string()])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .with_context(|| format!("starting compute party {i} ({})", program.display()))?,
        );
    }
    let mut answers = Vec::new();
    for (table, sql, mode) in &w.queries {
        let generated = tables
            .iter()
            .find(|g| g.table == *table)
            .context("a query on a table the workload does not generate")?;
        let schema = &generated.schema;
        let spec = QuerySpec {
            sql: sql.clone(),
            schema: schema.to_toml(),
            holders: names.to_vec(),
            recipients: names.to_vec(),
            mode: *mode,
            strategy: Strategy::Partials,
        };
        let rows: Vec<Vec<Record>> = generated
            .written
            .files
            .iter()
            .map(|(path, _, _)| load_rows(schema, path))
            .collect::<Result<_>>()?;
        let pb = p.spinner(format!("{} ({:?})", table.name(), mode));
        let results: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = names
                .iter()
                .zip(&rows)
                .map(|(name, rows)| {
                    let cfg = ClientLinkConfig::for_dir(&dir, name, &addrs, 120);
                    let spec = &spec;
                    s.spawn(move || participate(&cfg, spec, Some(rows)))
                })
                .collect();
            hs.into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        pb.finish_and_clear();
        // A holder that failed at once makes the others wait for it until their timeout:
        // report the cause, not the waiting.
        let mut results: Vec<(&String, Result<Option<QueryResult>, MpcError>)> =
            names.iter().zip(results).collect();
        if let Some(i) = results
            .iter()
            .position(|(_, r)| matches!(r, Err(e) if !matches!(e, MpcError::Timeout { .. })))
            && let (name, Err(error)) = results.swap_remove(i)
        {
            return Err(query_failed(name, error));
        }
        let mut first: Option<QueryResult> = None;
        for (name, r) in results {
            let r = r
                .map_err(|error| query_failed(name, error))?
                .ok_or_else(|| WorkflowError::NoResult {
                    holder: name.clone(),
                })?;
            if first.as_ref().is_some_and(|f| *f != r) {
                return Err(WorkflowError::ResultsDiffer { who: w.who }.into());
            }
            first = Some(r);
        }
        let result = first.context("a query without holders")?;
        answers.push(Answer {
            sql: sql.clone(),
            result,
        });
    }
    for (i, mut c) in std::mem::take(&mut parties.0).into_iter().enumerate() {
        let status = c.wait()?;
        if !status.success() {
            return Err(WorkflowError::PartyFailed {
                party: i,
                status: status.to_string(),
                log: dir.join(format!("party-{i}.log")),
            }
            .into());
        }
    }
    Ok(answers)
}

fn query_failed(holder: &str, error: MpcError) -> anyhow::Error {
    WorkflowError::QueryFailed {
        holder: holder.to_string(),
        error,
    }
    .into()
}
