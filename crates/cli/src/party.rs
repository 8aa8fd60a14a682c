//! Running one MPC compute party: build the mesh, serve sessions, log what was answered (never
//! a result: the parties do not see results). Shared by `mpc-party run` and the party processes
//! `dataspace run` starts.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;
use std::time::Duration;
use trustspace_data::error::escape_controls;
use trustspace_mpc::service::PartyService;
use trustspace_mpc::transport::tls::PartyConfig;

/// Serves `sessions` sessions (or until killed), logging to `log`; returns whether every
/// session succeeded. Configuration and mesh errors are `Err`; a failed session is logged and,
/// with a session count, ends the run as unsuccessful (at once: the service does not linger on
/// a dead peer).
///
/// The service keeps the mesh (and the listener clients reach) across sessions: a failed
/// session is aborted at the other parties and the mesh resynchronised, or rebuilt when a
/// party is gone, so the next query runs on its first try.
pub fn run_party(
    config: &Path,
    sessions: Option<u64>,
    join_timeout: Duration,
    log: &mut dyn Write,
) -> Result<bool> {
    let cfg = PartyConfig::load(config)?;
    let me = format!("party-{}", cfg.id);
    let mut service = PartyService::start(&cfg, join_timeout)
        .with_context(|| format!("{me}: building the mesh"))?;
    if let Some(addr) = service.local_addr() {
        writeln!(log, "{me}: mesh up on {addr}")?;
    }
    let mut done = 0u64;
    while sessions.is_none_or(|n| done < n) {
        writeln!(log, "{me}: waiting for a query")?;
        let outcome = service.serve();
        done += 1;
        match outcome {
            Ok(r) => {
                let holders: Vec<String> = r
                    .holders
                    .iter()
                    .map(|(h, n)| format!("{h} ({n} rows)"))
                    .collect();
                writeln!(
                    log,
                    "{me}: session {} answered {:?} from {} for {} in {:.2} s ({} products, {} rounds)",
                    r.session,
                    r.sql,
                    holders.join(", "),
                    r.recipients.join(", "),
                    r.elapsed.as_secs_f64(),
                    r.products,
                    r.rounds
                )?;
            }
            Err(e) => {
                // Reasons may quote what a client sent: control characters are escaped.
                writeln!(
                    log,
                    "{me}: session failed: {}",
                    escape_controls(&e.to_string())
                )?;
                if sessions.is_some() {
                    return Ok(false);
                }
            }
        }
    }
    Ok(true)
}
