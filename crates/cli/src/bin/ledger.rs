//! `ledger`: create, serve, inspect and monitor a trustspace ledger. See `ledger --help`.
//!
//! `ledger monitor` exits 1 on a fork, a rewrite, a rollback or a bad signature (the alert),
//! 2 on bad input or an unreachable ledger.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use trustspace_ledger_verifier::log::LedgerConfig;
use trustspace_ledger_verifier::monitor::{Monitor, Observation};
use trustspace_ledger_verifier::{
    Body, Entry, Identity, Ledger, LedgerError, LedgerView, PolicyEntry,
};

const EXAMPLES: &str = "\
Examples:
  ledger init --dir led/ --validators 3 --threshold 2
  ledger keygen --out owner.key
  ledger serve --dir led/ --addr 127.0.0.1:7800
  ledger status --ledger http://127.0.0.1:7800
  ledger monitor --ledger http://127.0.0.1:7800 --trust led/config.json --state seen.json --interval 10";

#[derive(Parser)]
#[command(name = "ledger", version, about = "The trustspace consortium ledger", after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an embedded ledger with fresh validator keys (a test deployment: the validators'
    /// keys live in DIR/validators; a real consortium keeps each on its own machine).
    Init {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value = "trustspace")]
        log_id: String,
        #[arg(long, default_value_t = 3)]
        validators: usize,
        #[arg(long, default_value_t = 2)]
        threshold: usize,
    },
    /// Generate a signing key for a data owner, policy issuer or verifier (file mode 0600).
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Serve an embedded ledger over HTTP/JSON (default: loopback only).
    Serve {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:7800")]
        addr: String,
        #[arg(long, default_value_t = 4)]
        threads: usize,
    },
    /// Print the latest checkpoint of a ledger (directory or URL).
    Status {
        #[arg(long)]
        ledger: String,
    },
    /// Follow a ledger: check each new checkpoint's quorum and consistency with the last seen.
    Monitor {
        #[arg(long)]
        ledger: String,
        /// The ledger configuration you trust.
        #[arg(long)]
        trust: PathBuf,
        /// Where to remember the last accepted checkpoint between runs.
        #[arg(long)]
        state: Option<PathBuf>,
        /// Seconds between checks; without it, check once and exit.
        #[arg(long)]
        interval: Option<u64>,
    },
    /// Append COUNT synthetic policy entries, one transaction each, printing `acked N` after
    /// each is durable (load and crash testing).
    Stress {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        count: u64,
        /// Entries per append.
        #[arg(long, default_value_t = 1)]
        batch: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let alert = e.downcast_ref::<LedgerError>().is_some_and(|l| {
                !matches!(
                    l,
                    LedgerError::Malformed { .. }
                        | LedgerError::Io { .. }
                        | LedgerError::Remote { .. }
                        | LedgerError::Store { .. }
                )
            });
            eprintln!("{}: {e:#}", if alert { "ALERT" } else { "error" });
            ExitCode::from(if alert { 1 } else { 2 })
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init {
            dir,
            log_id,
            validators,
            threshold,
        } => {
            let l = Ledger::init(&dir, &log_id, validators, threshold)?;
            println!(
                "ledger {log_id:?} in {}: {validators} validators, {threshold} must sign; give verifiers {}",
                dir.display(),
                dir.join("config.json").display()
            );
            drop(l);
        }
        Command::Keygen { out } => {
            let id = Identity::generate();
            id.save(&out)?;
            println!("{} (public key {})", out.display(), id.public());
        }
        Command::Serve { dir, addr, threads } => {
            let l = Arc::new(Ledger::open(&dir)?);
            let service = trustspace_ledger_verifier::http::serve(l, &addr, threads)?;
            println!("serving {} on {}", dir.display(), service.url());
            service.wait();
        }
        Command::Status { ledger } => {
            let view = trustspace_ledger_verifier::http::open(&ledger)?;
            let cp = view.checkpoint()?;
            println!("{}", serde_json::to_string_pretty(&cp)?);
        }
        Command::Monitor {
            ledger,
            trust,
            state,
            interval,
        } => {
            let config = LedgerConfig::load(&trust)?;
            let mut m = Monitor::new(config, state.as_deref())?;
            let view = trustspace_ledger_verifier::http::open(&ledger)?;
            loop {
                match m.check(view.as_ref())? {
                    Observation::Empty => println!("ok: empty ledger, nothing recorded yet"),
                    Observation::First { size } => println!("ok: first checkpoint, {size} entries"),
                    Observation::Unchanged { size } => println!("ok: unchanged, {size} entries"),
                    Observation::Extended { from, to } => {
                        println!("ok: {from} -> {to} entries, consistent")
                    }
                }
                match interval {
                    Some(s) => std::thread::sleep(Duration::from_secs(s.max(1))),
                    None => break,
                }
            }
        }
        Command::Stress { dir, count, batch } => {
            let l = Ledger::open(&dir)?;
            let who = Identity::generate();
            let started = Instant::now();
            let base = l.checkpoint()?.checkpoint.size;
            let mut done = 0u64;
            while done < count {
                let n = batch.min(count - done);
                let entries = (0..n)
                    .map(|i| {
                        let k = base + done + i;
                        let mut digest = [0u8; 32];
                        digest[..8].copy_from_slice(&k.to_be_bytes());
                        digest[8..16].copy_from_slice(&who.public().to_bytes()[..8]);
                        let body = Body::Policy(PolicyEntry {
                            policy_digest: digest,
                            chunk_circuit: [1; 32],
                            final_circuit: None,
                            vk_digest: [2; 32],
                            name: format!("stress-{k}"),
                        });
                        Entry::sign(body, k, &who)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let r = l.append(entries).context("append")?;
                done += n;
                println!("acked {}", r.first_index + r.count);
            }
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "{count} entries in {secs:.2} s ({:.0} entries/s)",
                count as f64 / secs
            );
        }
    }
    Ok(())
}
