//! `mpc-party`: one compute party of a three-party secret-shared query service, and the key
//! material of a test deployment. See `mpc-party --help`.
//!
//! Exit status: 0 when the requested sessions ran, 1 when a session failed (a party died or
//! lied, a participant never came), 2 on bad configuration.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use trustspace_cli::party::run_party;
use trustspace_mpc::transport::tls::{ClientLinkConfig, PartyConfig, add_client, keygen};

const EXAMPLES: &str = "\
Examples:
  mpc-party keygen --dir mpc/ --clients hospital-a,hospital-b,hospital-c,analyst
  mpc-party run --config mpc/party-0.json      # and party-1, party-2 in two more terminals
  mpc-party add-client --dir mpc/ --name regulator";

#[derive(Parser)]
#[command(name = "mpc-party", version, about = "A compute party of trustspace's secret-shared queries", after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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

fn addresses(base_port: u16) -> Result<Vec<String>> {
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

fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Keygen {
            dir,
            clients,
            base_port,
            timeout,
        } => {
            let addrs = addresses(base_port)?;
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let names: Vec<&str> = clients.iter().map(String::as_str).collect();
            keygen(&dir, 3, &names)?;
            for id in 0..3 {
                let c = PartyConfig::for_dir(Path::new(""), id, &addrs, timeout);
                write_json(&dir.join(format!("party-{id}.json")), &c)?;
            }
            for n in &names {
                write_json(
                    &dir.join(format!("{n}.json")),
                    &client_config(n, &addrs, timeout),
                )?;
            }
            println!(
                "wrote a test deployment to {}: parties on {}; clients {}",
                dir.display(),
                addrs.join(", "),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::AddClient { dir, name } => {
            add_client(&dir, &name)?;
            let p0 = PartyConfig::load(&dir.join("party-0.json"))
                .context("reading party-0.json for the party addresses")?;
            write_json(
                &dir.join(format!("{name}.json")),
                &client_config(&name, &p0.parties, p0.timeout_secs),
            )?;
            println!("added client {name} to {}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            config,
            sessions,
            join_timeout,
        } => {
            let ok = run_party(&config, sessions, Duration::from_secs(join_timeout))?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            // Errors may quote what a peer sent: control characters are escaped.
            eprintln!(
                "mpc-party: {}",
                trustspace_data::error::escape_controls(&format!("{e:#}"))
            );
            ExitCode::from(2)
        }
    }
}
