//! `mpc-party`: one compute party of a three-party secret-shared query service, and the key
//! material of a test deployment.
//!
//! Exit status: 0 when the requested sessions ran, 1 when a session failed (a party died or
//! lied, a participant never came), 2 on bad configuration.

use crate::party::run_party;
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use trustspace_mpc::pki::add_client;
use trustspace_mpc::transport::tls::{ClientLinkConfig, PartyConfig};

const EXAMPLES: &str = "\
Examples:
  mpc-party keygen --dir mpc/ --clients hospital-a,hospital-b,hospital-c,analyst
  mpc-party run --config mpc/party-0.json      # and party-1, party-2 in two more terminals
  mpc-party add-client --dir mpc/ --name regulator";

/// `mpc-party`'s arguments.
#[derive(Parser, Debug)]
#[command(name = "mpc-party", version, about = "A compute party of trustspace's secret-shared queries", after_help = EXAMPLES)]
pub struct Cli {
    #[allow(missing_docs)]
    #[command(subcommand)]
    pub command: Command,
}

/// `mpc-party`'s subcommands.
// A clap field's doc comment is its --help text: fields shown without help have none.
#[allow(missing_docs)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write a test deployment on loopback: a consortium CA, certificates and keys for the three
    /// parties and the named clients, and a JSON configuration for each (party-N.json, NAME.json).
    Keygen {
        #[arg(long)]
        dir: PathBuf,
        /// Client names (data holders, result recipients), comma-separated.
        #[arg(long, value_delimiter = ',')]
        clients: Vec<String>,
        /// Party N listens on 127.0.0.1:(BASE_PORT + N).
        #[arg(long, default_value_t = 7900)]
        base_port: u16,
        /// Receive timeout, seconds: a party or client silent this long is taken for dead.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// Issue a certificate and configuration for one more client from DIR/ca.key.
    AddClient {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        name: String,
    },
    /// Run a party: build the mesh with the other two, serve sessions.
    Run {
        #[arg(long)]
        config: PathBuf,
        /// Stop after this many sessions (default: serve until killed).
        #[arg(long)]
        sessions: Option<u64>,
        /// Longest wait for every participant of a session to join, seconds.
        #[arg(long, default_value_t = 600)]
        join_timeout: u64,
    },
}

/// Runs one parsed command; returns whether every session succeeded (`run`; always true
/// otherwise). What it prints goes to `out`, a party's log to `log`.
pub fn run(cli: Cli, out: &mut dyn Write, log: &mut dyn Write) -> Result<bool> {
    match cli.command {
        Command::Keygen {
            dir,
            clients,
            base_port,
            timeout,
        } => {
            let names: Vec<&str> = clients.iter().map(String::as_str).collect();
            keygen(&dir, &names, base_port, timeout, out)?;
            Ok(true)
        }
        Command::AddClient { dir, name } => {
            add(&dir, &name, out)?;
            Ok(true)
        }
        Command::Run {
            config,
            sessions,
            join_timeout,
        } => run_party(&config, sessions, Duration::from_secs(join_timeout), log),
    }
}

/// The three parties' loopback addresses from `base_port`.
pub fn addresses(base_port: u16) -> Result<Vec<String>> {
    (0..3u16)
        .map(|i| {
            let port = base_port
                .checked_add(i)
                .context("--base-port too high for three parties")?;
            Ok(format!("127.0.0.1:{port}"))
        })
        .collect()
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// Client configuration with paths relative to the deployment directory (where it is written).
fn client_config(name: &str, addrs: &[String], timeout: u64) -> ClientLinkConfig {
    ClientLinkConfig::for_dir(Path::new(""), name, addrs, timeout)
}

/// `mpc-party keygen`: a test deployment in `dir` (CA, certificates, `party-N.json` and
/// `NAME.json` per client) for parties on `base_port`..`base_port + 2`; receive timeout in
/// seconds.
pub fn keygen(
    dir: &Path,
    clients: &[&str],
    base_port: u16,
    timeout: u64,
    out: &mut dyn Write,
) -> Result<()> {
    let addrs = addresses(base_port)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    trustspace_mpc::pki::keygen(dir, 3, clients)?;
    for id in 0..3 {
        let c = PartyConfig::for_dir(Path::new(""), id, &addrs, timeout);
        write_json(&dir.join(format!("party-{id}.json")), &c)?;
    }
    for n in clients {
        write_json(
            &dir.join(format!("{n}.json")),
            &client_config(n, &addrs, timeout),
        )?;
    }
    writeln!(
        out,
        "wrote a test deployment to {}: parties on {}; clients {}",
        dir.display(),
        addrs.join(", "),
        if clients.is_empty() {
            "none".to_string()
        } else {
            clients.join(", ")
        }
    )?;
    Ok(())
}

/// `mpc-party add-client`: a certificate and `NAME.json` for one more client.
pub fn add(dir: &Path, name: &str, out: &mut dyn Write) -> Result<()> {
    add_client(dir, name)?;
    let p0 = PartyConfig::load(&dir.join("party-0.json"))
        .context("reading party-0.json for the party addresses")?;
    write_json(
        &dir.join(format!("{name}.json")),
        &client_config(name, &p0.parties, p0.timeout_secs),
    )?;
    writeln!(out, "added client {name} to {}", dir.display())?;
    Ok(())
}
