//! Running one MPC compute party: build the mesh, serve sessions, log what was answered (never
//! a result: the parties do not see results). Shared by `mpc-party run` and the party processes
//! `dataspace run` starts.

use anyhow::{Context, Result};
use std::path::Path;
use std::time::Duration;
use trustspace_mpc::service::serve_session;
use trustspace_mpc::transport::tls::{PartyConfig, TlsTransport};

/// Serves `sessions` sessions (or until killed), one fresh mesh each; returns whether every
/// session succeeded. Configuration and mesh errors are `Err`; a failed session is logged and,
/// with a session count, ends the run as unsuccessful.
pub fn run_party(config: &Path, sessions: Option<u64>, join_timeout: Duration) -> Result<bool> {
    let cfg = PartyConfig::load(config)?;
    let me = format!("party-{}", cfg.id);
    let mut done = 0u64;
    while sessions.is_none_or(|n| done < n) {
        let mut net =
            TlsTransport::connect(&cfg).with_context(|| format!("{me}: building the mesh"))?;
        eprintln!("{me}: mesh up on {}; waiting for a query", net.local_addr());
        let outcome = serve_session(&mut net, join_timeout);
        drop(net);
        done += 1;
        match outcome {
            Ok(r) => {
                let holders: Vec<String> = r
                    .holders
                    .iter()
                    .map(|(h, n)| format!("{h} ({n} rows)"))
                    .collect();
                eprintln!(
                    "{me}: answered {:?} from {} for {} in {:.2} s ({} products, {} rounds)",
                    r.sql,
                    holders.join(", "),
                    r.recipients.join(", "),
                    r.elapsed.as_secs_f64(),
                    r.products,
                    r.rounds
                );
            }
            Err(e) => {
                eprintln!("{me}: session failed: {e}");
                if sessions.is_some() {
                    return Ok(false);
                }
            }
        }
    }
    Ok(true)
}
