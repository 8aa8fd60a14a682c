//! `zkprove`: commit to a dataset, generate keys, and prove that the dataset complies with a
//! policy. See `zkprove --help`.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::OsRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;
use trustspace_data::{Record, Schema};
use trustspace_zk::bundle::ProofBundle;
use trustspace_zk::{
    Commitment, Compiled, Opening, Policy, Prover, ProvingKeys, commit_with, setup,
};

const EXAMPLES: &str = "\
Examples:
  zkprove commit --schema s.toml --data hospital.csv --chunk-size 1024 --out run/
  zkprove setup  --schema s.toml --policy policy.toml --chunk-size 1024 --out run/
  zkprove prove  --schema s.toml --policy policy.toml --data hospital.csv \\
                 --commitment run/commitment.json --opening run/opening.json \\
                 --keys run/proving.key --out run/bundle.json
  # spread one job over machines, then merge the parts:
  zkprove prove ... --chunks 0..16 --out part0.json
  zkprove prove ... --chunks 16..32 --out part1.json
  zkprove merge --out run/bundle.json part0.json part1.json
  zkverify --keys run/verifying.json --commitment run/commitment.json run/bundle.json
  # on a ledger (see `ledger init`, `ledger keygen`):
  zkprove register --ledger led/ --identity owner.key --name hospital-1 dataset --commitment run/commitment.json
  zkprove register --ledger led/ --identity issuer.key --name reference policy --keys run/verifying.json
  zkverify --ledger led/ --trust led/config.json --keys run/verifying.json --evidence-out ev.json run/bundle.json";

#[derive(Parser)]
#[command(name = "zkprove", version, about = "Prove in zero knowledge that a committed dataset complies with a policy", after_help = EXAMPLES)]
struct Cli {
    /// Print a JSON summary instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Worker threads (default: all cores).
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Commit to a dataset: writes commitment.json (public) and opening.json (secret).
    Commit {
        #[arg(long)]
        schema: PathBuf,
        /// Data file (.csv, .jsonl); streamed, validated against the schema.
        #[arg(long)]
        data: PathBuf,
        /// Records per chunk proof (a power of two).
        #[arg(long, default_value_t = 1024)]
        chunk_size: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Generate the proving key (proving.key) and verifying keys (verifying.json) of a policy.
    Setup {
        #[arg(long)]
        schema: PathBuf,
        #[arg(long)]
        policy: PathBuf,
        #[arg(long, default_value_t = 1024)]
        chunk_size: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Prove that the committed dataset satisfies the policy.
    Prove {
        #[arg(long)]
        schema: PathBuf,
        #[arg(long)]
        policy: PathBuf,
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        commitment: PathBuf,
        #[arg(long)]
        opening: PathBuf,
        /// Proving key from `zkprove setup`.
        #[arg(long)]
        keys: PathBuf,
        /// Only these chunks, `A..B` (end exclusive); writes a part to merge.
        #[arg(long)]
        chunks: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Register a dataset commitment or a policy's verifying keys on a ledger, signed by you.
    Register {
        /// Ledger: a directory (embedded) or an `http://` URL (a `ledger serve` service).
        #[arg(long)]
        ledger: String,
        /// Your signing key (from `ledger keygen`).
        #[arg(long)]
        identity: PathBuf,
        /// Name recorded with the entry.
        #[arg(long)]
        name: String,
        #[command(subcommand)]
        what: Registration,
    },
    /// Merge parts proven with `--chunks` into one bundle.
    Merge {
        #[arg(long)]
        out: PathBuf,
        #[arg(required = true)]
        parts: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum Registration {
    /// A dataset commitment (as its owner).
    Dataset {
        #[arg(long)]
        commitment: PathBuf,
        /// Free metadata (at most 4096 bytes), e.g. JSON.
        #[arg(long, default_value = "")]
        metadata: String,
    },
    /// A policy, by its verifying keys (as its issuer).
    Policy {
        #[arg(long)]
        keys: PathBuf,
    },
}

/// Streams a data file, one chunk of records at a time; the first invalid record aborts.
fn chunks_of<'s>(
    path: &Path,
    schema: &'s Schema,
    size: u64,
) -> Result<impl Iterator<Item = Result<Vec<Record>>> + 's> {
    let mut records = trustspace_data::open(path, schema)?;
    Ok(std::iter::from_fn(move || {
        let mut chunk = Vec::with_capacity(size as usize);
        for r in records.by_ref() {
            match r {
                Ok(r) => chunk.push(r),
                Err(e) => return Some(Err(anyhow::anyhow!("invalid record: {e}"))),
            }
            if chunk.len() as u64 == size {
                break;
            }
        }
        (!chunk.is_empty()).then_some(Ok(chunk))
    }))
}

fn parse_range(s: &str, n: u64) -> Result<std::ops::Range<u64>> {
    let (a, b) = s.split_once("..").context("--chunks takes A..B")?;
    let (a, b): (u64, u64) = (
        a.parse().context("--chunks start")?,
        b.parse().context("--chunks end")?,
    );
    if a >= b || b > n {
        bail!("--chunks {a}..{b} is not within 0..{n}");
    }
    Ok(a..b)
}

fn bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} chunks, {elapsed} (eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    b.set_message(what.to_string());
    b
}

fn run(cli: Cli) -> Result<serde_json::Value> {
    match cli.command {
        Command::Commit {
            schema,
            data,
            chunk_size,
            out,
        } => {
            let schema = Schema::load(&schema)?;
            let started = Instant::now();
            let opening = Opening::generate(&mut OsRng);
            let mut records = trustspace_data::open(&data, &schema)?;
            let mut error = None;
            let stream = std::iter::from_fn(|| match records.next()? {
                Ok(r) => Some(r),
                Err(e) => {
                    error = Some(e);
                    None
                }
            });
            let commitment = commit_with(&schema, stream, chunk_size, &opening);
            if let Some(e) = error {
                bail!("invalid record: {e}");
            }
            let commitment = commitment?;
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            commitment.save(&out.join("commitment.json"))?;
            opening.save(&out.join("opening.json"))?;
            Ok(serde_json::json!({
                "commitment": out.join("commitment.json"),
                "opening": out.join("opening.json"),
                "root": trustspace_zk::encode::fr_to_hex(&commitment.root),
                "records": commitment.records,
                "chunks": commitment.chunks(),
                "seconds": started.elapsed().as_secs_f64(),
            }))
        }
        Command::Setup {
            schema,
            policy,
            chunk_size,
            out,
        } => {
            let schema = Schema::load(&schema)?;
            let policy = Policy::load(&policy, &schema)?;
            let compiled = Compiled::new(&schema, &policy, chunk_size)?;
            let started = Instant::now();
            let (pk, vk) = setup(&compiled, &mut ChaCha20Rng::from_rng(OsRng)?)?;
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            pk.save(&out.join("proving.key"))?;
            vk.save(&out.join("verifying.json"))?;
            Ok(serde_json::json!({
                "proving_key": out.join("proving.key"),
                "verifying_keys": out.join("verifying.json"),
                "policy_digest": hex_digest(&policy.digest()),
                "chunk_circuit": vk.digests.chunk,
                "seconds": started.elapsed().as_secs_f64(),
            }))
        }
        Command::Prove {
            schema,
            policy,
            data,
            commitment,
            opening,
            keys,
            chunks,
            out,
        } => {
            let schema = Schema::load(&schema)?;
            let policy = Policy::load(&policy, &schema)?;
            let commitment = Commitment::load(&commitment)?;
            let opening = Opening::load(&opening)?;
            let compiled = Compiled::new(&schema, &policy, commitment.chunk_size)?;
            let keys = ProvingKeys::load(&keys)?;
            let mut prover = Prover::new(&compiled, &keys, &commitment, &opening)?;
            let started = Instant::now();
            // Pass 1 (native, cheap): check every record, compute the running totals.
            for chunk in chunks_of(&data, &schema, commitment.chunk_size)? {
                prover.scan_chunk(&chunk?)?;
            }
            // Refuse a dataset whose aggregates break the policy before hours of proving.
            prover.check_aggregates()?;
            let n = commitment.chunks();
            let range = match &chunks {
                Some(s) => parse_range(s, n)?,
                None => 0..n,
            };
            // Pass 2: prove the selected chunks, a batch of one chunk per thread at a time.
            let threads = rayon::current_num_threads().max(1);
            let progress = bar(range.end - range.start, "proving", cli.json);
            let mut proofs = Vec::new();
            let mut batch: Vec<(u64, Vec<Record>)> = Vec::new();
            let flush = |batch: &mut Vec<(u64, Vec<Record>)>, proofs: &mut Vec<_>| -> Result<()> {
                let done = batch
                    .par_iter()
                    .map(|(c, recs)| {
                        let p = prover.prove_chunk(*c, recs, &mut ChaCha20Rng::from_rng(OsRng)?);
                        progress.inc(1);
                        Ok(p?)
                    })
                    .collect::<Result<Vec<_>>>()?;
                proofs.extend(done);
                batch.clear();
                Ok(())
            };
            for (c, chunk) in chunks_of(&data, &schema, commitment.chunk_size)?.enumerate() {
                let c = c as u64;
                if c >= range.end {
                    break;
                }
                let chunk = chunk?;
                if c >= range.start {
                    batch.push((c, chunk));
                    if batch.len() == threads {
                        flush(&mut batch, &mut proofs)?;
                    }
                }
            }
            flush(&mut batch, &mut proofs)?;
            progress.finish_and_clear();
            let final_proof = if range.end == n {
                prover.prove_final(&mut ChaCha20Rng::from_rng(OsRng)?)?
            } else {
                None
            };
            let bundle = if range == (0..n) {
                prover.finish(proofs, final_proof)?
            } else {
                trustspace_zk::bundle::ProofBundle::part(
                    &keys,
                    &commitment,
                    &policy,
                    proofs,
                    final_proof,
                )
            };
            bundle.save(&out)?;
            let secs = started.elapsed().as_secs_f64();
            let records: u64 = range.clone().map(|c| commitment.active_in_chunk(c)).sum();
            Ok(serde_json::json!({
                "bundle": out,
                "chunks": format!("{}..{}", range.start, range.end),
                "complete": range == (0..n),
                "records": records,
                "seconds": secs,
                "records_per_second": records as f64 / secs,
                // In the column's units (the bundle holds integer units).
                "revealed": bundle.final_.as_ref().map(|f| {
                    f.revealed
                        .iter()
                        .zip(&compiled.policy().plan().reveals)
                        .map(|(r, plan)| serde_json::json!({
                            "name": r.name,
                            "value": r.value.parse::<i128>().map_or(r.value.clone(), |u| {
                                trustspace_data::format_units(u, plan.scale)
                            }),
                        }))
                        .collect::<Vec<_>>()
                }),
                "statement": hex_digest(&bundle.statement_digest()),
            }))
        }
        Command::Register {
            ledger,
            identity,
            name,
            what,
        } => register(&ledger, &identity, &name, what),
        Command::Merge { out, parts } => {
            let parts = parts
                .iter()
                .map(|p| ProofBundle::load(p).with_context(|| format!("reading {}", p.display())))
                .collect::<Result<Vec<_>>>()?;
            let bundle = ProofBundle::merge(parts)?;
            bundle.save(&out)?;
            Ok(serde_json::json!({ "bundle": out, "chunks": bundle.chunks.len() }))
        }
    }
}

fn register(
    ledger: &str,
    identity: &Path,
    name: &str,
    what: Registration,
) -> Result<serde_json::Value> {
    use trustspace_ledger_verifier::{Body, DatasetEntry, Entry, Identity, PolicyEntry};
    let id = Identity::load(identity)?;
    let body = match what {
        Registration::Dataset {
            commitment,
            metadata,
        } => Body::Dataset(DatasetEntry {
            commitment: Commitment::load(&commitment)?,
            name: name.to_string(),
            metadata: metadata.into_bytes(),
        }),
        Registration::Policy { keys } => Body::Policy(PolicyEntry::for_keys(
            &trustspace_zk::VerifyingKeys::load(&keys)?,
            name,
        )),
    };
    let kind = body.kind_name();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let entry = Entry::sign(body, now, &id)?;
    let view = trustspace_ledger_verifier::http::open(ledger)?;
    let receipt = view.append(vec![entry])?;
    Ok(serde_json::json!({
        "registered": kind,
        "index": receipt.first_index,
        "checkpoint_size": receipt.checkpoint.checkpoint.size,
        "checkpoint_root": hex_digest(&receipt.checkpoint.checkpoint.root),
        "signatures": receipt.checkpoint.signatures.len(),
    }))
}

fn hex_digest(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Some(t) = cli.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .context("--threads")?;
    }
    let json = cli.json;
    let summary = run(cli)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else if let serde_json::Value::Object(m) = summary {
        for (k, v) in m {
            println!(
                "{k:>18}: {}",
                match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                }
            );
        }
    }
    Ok(())
}
