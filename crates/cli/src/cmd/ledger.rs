//! `ledger`: create, serve, inspect and monitor a trustspace ledger, run a validator for its
//! own party, and load a ledger for crash tests. One handler per subcommand, writing what it prints to `out`; [`exit_code`] classifies
//! a failure: `ledger monitor` exits 1 on a fork, a rewrite, a rollback or a bad signature (the
//! alert), 2 on bad input or an unreachable ledger.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use trustspace_ledger_verifier::http::{Handler, Service, serve_with};
use trustspace_ledger_verifier::log::LedgerConfig;
use trustspace_ledger_verifier::monitor::{Monitor, Observation};
use trustspace_ledger_verifier::replica::{RemoteEntry, Replica, route};
use trustspace_ledger_verifier::{
    Body, CosignedCheckpoint, DatasetEntry, Entry, Identity, Ledger, LedgerError, LedgerView, Pins,
    PublicKey,
};
use trustspace_zk::commit::COMMITMENT_VERSION;
use trustspace_zk::{Commitment, VerifyingKeys};

const EXAMPLES: &str = "\
Examples:
  ledger init --dir led/ --validators 3 --threshold 2 --issuer regulator.key
  ledger init --dir led/ --threshold 2 --issuer regulator.key \
      --remote-validator <PUBLIC KEY>=http://127.0.0.1:7801 (one per party)
  ledger validator --key v1.key --trust led/config.json --server <SERVER KEY> --state v1/ \
      --addr 127.0.0.1:7801
  ledger keygen --out owner.key
  ledger serve --dir led/ --addr 127.0.0.1:7800
  ledger status --ledger http://127.0.0.1:7800
  ledger monitor --ledger http://127.0.0.1:7800 --trust led/config.json --state seen.json --interval 10";

/// `ledger`'s arguments.
#[derive(Parser, Debug)]
#[command(name = "ledger", version, about = "The trustspace consortium ledger", after_help = EXAMPLES)]
pub struct Cli {
    #[allow(missing_docs)]
    #[command(subcommand)]
    pub command: Command,
}

/// `ledger`'s subcommands.
// A clap field's doc comment is its --help text: fields shown without help have none.
#[allow(missing_docs)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create an embedded ledger and its trust configuration DIR/config.json, with validators
    /// run by other parties (--remote-validator) and/or fresh ones in this process (a test
    /// deployment: their keys live in DIR/validators).
    Init {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value = "trustspace")]
        log_id: String,
        /// Validators in the ledger's process, with fresh keys (default: 3 without
        /// --remote-validator, else none).
        #[arg(long)]
        validators: Option<usize>,
        /// A validator run by another party (repeatable): its public key (64 hex digits) or
        /// key file, `=`, and the URL its `ledger validator` serves on.
        #[arg(long = "remote-validator", value_name = "KEY=URL")]
        remote_validators: Vec<String>,
        #[arg(long, default_value_t = 2)]
        threshold: usize,
        /// A key allowed to register policies (repeatable, at least one): its key file or its
        /// public key (64 hex digits).
        #[arg(long = "issuer", required = true)]
        issuers: Vec<String>,
        /// The only policies verifiers accept (repeatable): policy digests, 64 hex digits.
        #[arg(long = "pin-policy")]
        pin_policies: Vec<String>,
        /// The only verifying keys verifiers accept (repeatable): verifying-key files.
        #[arg(long = "pin-keys")]
        pin_keys: Vec<PathBuf>,
        /// An EVM account allowed to register policies in a registry (repeatable), for
        /// `zkverify --chain`.
        #[arg(long = "chain-issuer")]
        chain_issuers: Vec<String>,
    },
    /// Run a validator for its own party: it keeps its own copy of the log in STATE, checks
    /// every append the ledger's server proposes against the rules of the configuration it
    /// trusts, and signs only checkpoints that extend what it signed before.
    Validator {
        /// Its signing key (one of the configuration's validators).
        #[arg(long)]
        key: PathBuf,
        /// The ledger configuration it enforces.
        #[arg(long)]
        trust: PathBuf,
        /// The ledger server's public key (64 hex digits, as `ledger init` printed it): it
        /// takes proposals signed by that key only.
        #[arg(long)]
        server: String,
        /// The directory of its copy of the log.
        #[arg(long)]
        state: PathBuf,
        #[arg(long, default_value = "127.0.0.1:7801")]
        addr: String,
        #[arg(long, default_value_t = 2)]
        threads: usize,
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

/// Runs one parsed command; what it prints goes to `out`, `stress`'s rate to `log`.
pub fn run(cli: Cli, out: &mut dyn Write, log: &mut dyn Write) -> Result<()> {
    match cli.command {
        Command::Init {
            dir,
            log_id,
            validators,
            remote_validators,
            threshold,
            issuers,
            pin_policies,
            pin_keys,
            chain_issuers,
        } => {
            let trust = Trust {
                issuers: issuers
                    .iter()
                    .map(|s| super::public_key(s))
                    .collect::<Result<_>>()?,
                pins: Pins {
                    policies: pin_policies
                        .iter()
                        .map(|s| super::digest_arg(s, "--pin-policy"))
                        .collect::<Result<_>>()?,
                    keys: pin_keys
                        .iter()
                        .map(|p| Ok(VerifyingKeys::load(p)?.digest()))
                        .collect::<Result<_>>()?,
                    chain_issuers: chain_issuers
                        .iter()
                        .map(|s| account(s))
                        .collect::<Result<_>>()?,
                },
            };
            let remote = remote_validators
                .iter()
                .map(|s| remote_validator(s))
                .collect::<Result<Vec<_>>>()?;
            let local = validators.unwrap_or(if remote.is_empty() { 3 } else { 0 });
            init(&dir, &log_id, local, &remote, threshold, &trust, out)
        }
        Command::Validator {
            key,
            trust,
            server,
            state,
            addr,
            threads,
        } => {
            let server = super::public_key(&server)?;
            let (service, replica) = validator(&key, &trust, server, &state, &addr, threads)?;
            writeln!(
                out,
                "validator {} serving on {} (its copy: {} entries)",
                replica.public(),
                service.url(),
                replica.size()
            )?;
            out.flush()?;
            service.wait();
            Ok(())
        }
        Command::Keygen { out: path } => keygen(&path, out).map(drop),
        Command::Serve { dir, addr, threads } => serve(&dir, &addr, threads, out),
        Command::Status { ledger } => status(&ledger, out).map(drop),
        Command::Monitor {
            ledger,
            trust,
            state,
            interval,
        } => monitor(
            &ledger,
            &trust,
            state.as_deref(),
            interval.map(Duration::from_secs),
            out,
        )
        .map(drop),
        Command::Stress { dir, count, batch } => stress(&dir, count, batch, out, log),
    }
}

/// Whether a failure is an alert (the ledger misbehaved: exit 1) rather than bad input or an
/// unreachable ledger (exit 2); returns the exit code and the line's prefix.
pub fn exit_code(e: &anyhow::Error) -> (u8, &'static str) {
    let alert = e.downcast_ref::<LedgerError>().is_some_and(|l| {
        !matches!(
            l,
            LedgerError::Malformed { .. }
                | LedgerError::Io { .. }
                | LedgerError::Remote { .. }
                | LedgerError::Store { .. }
        )
    });
    if alert { (1, "ALERT") } else { (2, "error") }
}

/// Who a new ledger's trust configuration holds accountable, and what it pins.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// The keys allowed to register policies.
    pub issuers: Vec<PublicKey>,
    /// What the configuration pins besides (none: any policy from an issuer).
    pub pins: Pins,
}

/// An EVM account: `0x` and 40 hex digits.
fn account(s: &str) -> Result<[u8; 20]> {
    let mut a = [0u8; 20];
    s.strip_prefix("0x")
        .and_then(|h| hex::decode_to_slice(h, &mut a).ok())
        .ok_or_else(|| anyhow::anyhow!("an EVM account is 0x and 40 hex digits"))?;
    Ok(a)
}

/// A `--remote-validator` argument: `KEY=URL`, the key as 64 hex digits or a key file.
fn remote_validator(s: &str) -> Result<RemoteEntry> {
    let (key, url) = s
        .split_once('=')
        .ok_or_else(|| anyhow::anyhow!("--remote-validator is KEY=URL"))?;
    if !url.starts_with("http://") {
        anyhow::bail!("--remote-validator: the URL is http://HOST:PORT");
    }
    Ok(RemoteEntry {
        key: super::public_key(key)?,
        url: url.to_string(),
    })
}

/// `ledger init`: a ledger in `dir` with `local` fresh validators, the `remote` ones run by
/// other parties, and the trust configuration.
pub fn init(
    dir: &Path,
    log_id: &str,
    local: usize,
    remote: &[RemoteEntry],
    threshold: usize,
    trust: &Trust,
    out: &mut dyn Write,
) -> Result<()> {
    let ledger = Ledger::init_consortium(
        dir,
        log_id,
        local,
        remote,
        threshold,
        trust.issuers.clone(),
        &trust.pins,
    )?;
    writeln!(
        out,
        "ledger {log_id:?} in {}: {} validators ({} run by other parties), {threshold} must \
         sign, {} policy issuer(s); give verifiers and validators {}",
        dir.display(),
        local + remote.len(),
        remote.len(),
        trust.issuers.len(),
        dir.join("config.json").display()
    )?;
    if let Some(key) = ledger.server_key() {
        writeln!(out, "server key (each `ledger validator --server`): {key}")?;
    }
    Ok(())
}

/// `ledger validator`: opens the validator's copy in `state` (checked against the last
/// checkpoint it signed) and serves it on `addr` to the ledger server with key `server`;
/// returns the running service and the validator.
pub fn validator(
    key: &Path,
    trust: &Path,
    server: PublicKey,
    state: &Path,
    addr: &str,
    threads: usize,
) -> Result<(Service, Arc<Replica>)> {
    let config = LedgerConfig::load(trust)?;
    let replica = Arc::new(Replica::open(state, Identity::load(key)?, config, server)?);
    let serving = replica.clone();
    let handler: Handler = Arc::new(move |method, url, body| route(&serving, method, url, body));
    let service = serve_with(handler, addr, threads)?;
    Ok((service, replica))
}

/// `ledger keygen`: a fresh signing key in `path`; returns its public key.
pub fn keygen(path: &Path, out: &mut dyn Write) -> Result<PublicKey> {
    let id = Identity::generate();
    id.save(path)?;
    writeln!(out, "{} (public key {})", path.display(), id.public())?;
    Ok(id.public())
}

/// `ledger serve`: serves the ledger in `dir` until the process ends.
pub fn serve(dir: &Path, addr: &str, threads: usize, out: &mut dyn Write) -> Result<()> {
    let l = Arc::new(Ledger::open(dir)?);
    let service = trustspace_ledger_verifier::http::serve(l, addr, threads)?;
    writeln!(out, "serving {} on {}", dir.display(), service.url())?;
    out.flush()?;
    service.wait();
    Ok(())
}

/// `ledger status`: prints and returns the latest checkpoint.
pub fn status(ledger: &str, out: &mut dyn Write) -> Result<CosignedCheckpoint> {
    let view = trustspace_ledger_verifier::http::open(ledger)?;
    let cp = view.checkpoint()?;
    writeln!(out, "{}", serde_json::to_string_pretty(&cp)?)?;
    Ok(cp)
}

/// `ledger monitor`: checks the ledger against `trust` (and the checkpoint remembered in
/// `state`); with an `interval`, again and again until a check fails. Returns what the (only)
/// check saw; an alert is a [`LedgerError`] (see [`exit_code`]).
pub fn monitor(
    ledger: &str,
    trust: &Path,
    state: Option<&Path>,
    interval: Option<Duration>,
    out: &mut dyn Write,
) -> Result<Observation> {
    let config = LedgerConfig::load(trust)?;
    let mut m = Monitor::new(config, state)?;
    let view = trustspace_ledger_verifier::http::open(ledger)?;
    loop {
        let seen = m.check(view.as_ref())?;
        match &seen {
            Observation::Empty => writeln!(out, "ok: empty ledger, nothing recorded yet")?,
            Observation::First { size } => writeln!(out, "ok: first checkpoint, {size} entries")?,
            Observation::Unchanged { size } => writeln!(out, "ok: unchanged, {size} entries")?,
            Observation::Extended { from, to } => {
                writeln!(out, "ok: {from} -> {to} entries, consistent")?
            }
        }
        match interval {
            Some(d) => std::thread::sleep(d.max(Duration::from_secs(1))),
            None => return Ok(seen),
        }
    }
}

/// `ledger stress`: appends `count` synthetic dataset entries (commitments of one record, each
/// registered by its owner, a fresh key), `batch` per append, printing
/// `acked N` to `out` after each append is durable and the rate to `log`.
pub fn stress(
    dir: &Path,
    count: u64,
    batch: u64,
    out: &mut dyn Write,
    log: &mut dyn Write,
) -> Result<()> {
    let l = Ledger::open(dir)?;
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
                let body = Body::Dataset(DatasetEntry {
                    commitment: Commitment {
                        version: COMMITMENT_VERSION,
                        root: trustspace_zk::encode::fr_from_digest(&digest),
                        schema_digest: [0; 32],
                        records: 1,
                        chunk_size: 16,
                        owner: who.public().to_bytes(),
                    },
                    name: format!("stress-{k}"),
                    metadata: Vec::new(),
                });
                Entry::sign(body, crate::unix_now(), &who)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let r = l.append(entries).context("append")?;
        done += n;
        writeln!(out, "acked {}", r.first_index + r.count)?;
        out.flush()?;
    }
    let secs = started.elapsed().as_secs_f64();
    writeln!(
        log,
        "{count} entries in {secs:.2} s ({:.0} entries/s)",
        count as f64 / secs
    )?;
    Ok(())
}
