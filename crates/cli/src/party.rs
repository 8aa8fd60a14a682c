//! Running one MPC compute party: build the mesh, serve sessions, log what was answered (never
//! a result: the parties do not see results). Shared by `mpc-party run` and the party processes
//! `dataspace run` starts.

use anyhow::{Context, Result};
use std::path::Path;
use std::time::Duration;
use trustspace_mpc::service::serve_session;
use trustspace_mpc::transport::tls::{PartyConfig, TlsTransport};

/// Serves `sessions` sessions (or until killed); returns whether every session succeeded.
/// Configuration and mesh errors are `Err`; a failed session is logged and, with a session
/// count, ends the run as unsuccessful.
///
/// The mesh (and the listener clients reach) is kept across successful sessions — the parties
/// end a successful session in step — so a client of the next session never meets a listener
/// that is going away. After a failed session the mesh is rebuilt from scratch.
pub fn run_party(config: &Path, sessions: Option<u64>, join_timeout: Duration) -> Result<bool> {
    let cfg = PartyConfig::load(config)?;
    let me = format!("party-{}", cfg.id);
    let mut done = 0u64;
    let mut mesh: Option<TlsTransport> = None;
    while sessions.is_none_or(|n| done < n) {
        let net = match &mut mesh {
            Some(net) => net,
            None => {
                let net = TlsTransport::connect(&cfg)
                    .with_context(|| format!("{me}: building the mesh"))?;
                eprintln!("{me}: mesh up on {}", net.local_addr());
                mesh.insert(net)
            }
        };
        eprintln!("{me}: waiting for a query");
        let outcome = serve_session(net, join_timeout);
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
                mesh = None;
                if sessions.is_some() {
                    return Ok(false);
                }
            }
        }
    }
    Ok(true)
}
