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
    Commitment, Compiled, Opening, Policy, Prover, ProvingKeys, VerifyingKeys, commit_with, setup,
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
  zkverify --ledger led/ --trust led/config.json --keys run/verifying.json --evidence-out ev.json run/bundle.json
  # on an EVM chain (see contracts/ and the README):
  zkprove export-verifier --keys run/verifying.json --out run/evm/
  zkprove export-calldata --keys run/verifying.json --bundle run/bundle.json --out run/calldata.json
  zkprove export-snarkjs  --keys run/verifying.json --bundle run/bundle.json --out run/snarkjs/
  zkverify --chain http://127.0.0.1:8545 --registry 0x... --block 0x<trusted block hash> --keys run/verifying.json run/bundle.json";

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
    /// Render Solidity Groth16 verifiers for verifying keys (EVM chains with the BN254
    /// precompiles): ChunkVerifier.sol, FinalVerifier.sol (with aggregates) and the
    /// IGroth16Verifier.sol they import; compile with `node contracts/build.js --compile`.
    ExportVerifier {
        /// Verifying keys from `zkprove setup`.
        #[arg(long)]
        keys: PathBuf,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the EVM calldata of a bundle: the registry's `verifyBundle` call and each proof's
    /// `verifyProof` call on its verifier (JSON, hex).
    ExportCalldata {
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        bundle: PathBuf,
        /// Output file (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Deploy and use the trustspace registry on an EVM chain (transactions are sent with
    /// eth_sendTransaction from an account the node holds).
    Chain {
        /// The node's JSON-RPC URL.
        #[arg(long)]
        rpc: String,
        /// The sending account, held by the node (default: the node's first account).
        #[arg(long, conflicts_with = "key")]
        from: Option<String>,
        /// Sign transactions here with this secp256k1 key (a file holding 32 bytes in hex),
        /// for nodes that hold no account.
        #[arg(long)]
        key: Option<PathBuf>,
        #[command(subcommand)]
        what: ChainCommand,
    },
    /// Write snarkjs-compatible files: for each proof a directory with proof.json, public.json
    /// and verification_key.json (`snarkjs groth16 verify verification_key.json public.json
    /// proof.json`).
    ExportSnarkjs {
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        bundle: PathBuf,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum ChainCommand {
    /// Deploy the registry (contracts/out/TrustspaceRegistry.json, built into this binary).
    DeployRegistry,
    /// Deploy a compiled verifier (`node contracts/build.js --compile FILE.sol NAME > art.json`).
    DeployVerifier {
        /// The artifact JSON (abi and bytecode).
        #[arg(long)]
        artifact: PathBuf,
    },
    /// Register a dataset commitment (as its owner) with the chunk roots from a bundle.
    RegisterDataset {
        #[arg(long)]
        registry: String,
        #[arg(long)]
        commitment: PathBuf,
        /// A bundle for the commitment: its chunk roots are registered (checked to combine
        /// into the root first).
        #[arg(long)]
        bundle: PathBuf,
        /// Metadata; its keccak256 is registered.
        #[arg(long, default_value = "")]
        metadata: String,
    },
    /// Register a policy (as its issuer) with its deployed verifiers.
    RegisterPolicy {
        #[arg(long)]
        registry: String,
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        chunk_verifier: String,
        /// For policies with aggregates.
        #[arg(long)]
        final_verifier: Option<String>,
    },
    /// Verify a bundle on chain and record the verdict.
    Verify {
        #[arg(long)]
        registry: String,
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        bundle: PathBuf,
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
            // The library does not know the file: name it when the data is at fault (an empty
            // dataset, say).
            let commitment = commitment.map_err(|e| match e {
                trustspace_zk::ZkError::Dataset(_) => anyhow::anyhow!("{}: {e}", data.display()),
                other => other.into(),
            })?;
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
        Command::ExportVerifier { keys, out } => export_verifier(&keys, &out),
        Command::Chain {
            rpc,
            from,
            key,
            what,
        } => chain(&rpc, from.as_deref(), key.as_deref(), what),
        Command::ExportCalldata { keys, bundle, out } => export_calldata(&keys, &bundle, &out),
        Command::ExportSnarkjs { keys, bundle, out } => export_snarkjs(&keys, &bundle, &out),
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn address(s: &str, what: &str) -> Result<trustspace_evm::rpc::Address> {
    s.parse()
        .with_context(|| format!("{what}: `{s}` is not an address"))
}

fn chain(
    url: &str,
    from: Option<&str>,
    key: Option<&Path>,
    what: ChainCommand,
) -> Result<serde_json::Value> {
    use trustspace_evm::rpc::{Artifact, Registry, Rpc, Sender, deploy};
    let rpc = Rpc::new(url);
    let from = match (from, key) {
        (_, Some(k)) => Sender::from_key_file(k)?,
        (Some(f), None) => Sender::Node(address(f, "--from")?),
        (None, None) => Sender::Node(
            *rpc.accounts()?
                .first()
                .context("the node holds no account: give --key or --from")?,
        ),
    };
    let from = &from;
    let receipt = |r: &trustspace_evm::rpc::TxReceipt| {
        serde_json::json!({
            "transaction": r.transaction_hash.to_string(),
            "block": r.block_number.saturating_to::<u64>(),
            "gas_used": r.gas_used.saturating_to::<u64>(),
        })
    };
    Ok(match what {
        ChainCommand::DeployRegistry => {
            let (reg, r) = Registry::deploy(rpc, from)?;
            serde_json::json!({ "registry": reg.address.to_string(), "receipt": receipt(&r) })
        }
        ChainCommand::DeployVerifier { artifact } => {
            let text = std::fs::read_to_string(&artifact)
                .with_context(|| format!("reading {}", artifact.display()))?;
            let art = Artifact::parse(&text)?;
            let (a, r) = deploy(&rpc, from, &art.bytecode)?;
            serde_json::json!({ "verifier": a.to_string(), "receipt": receipt(&r) })
        }
        ChainCommand::RegisterDataset {
            registry,
            commitment,
            bundle,
            metadata,
        } => {
            let reg = Registry::at(rpc, address(&registry, "--registry")?);
            let commitment = Commitment::load(&commitment)?;
            let bundle = ProofBundle::load(&bundle)?;
            let roots: Vec<_> = bundle
                .chunks
                .iter()
                .map(|c| c.public_inputs.get(1).copied().unwrap_or_default())
                .collect();
            let meta = trustspace_evm::rpc::keccak256(metadata.as_bytes());
            let r = reg.register_dataset(from, &commitment, &roots, meta)?;
            serde_json::json!({ "root": trustspace_evm::rpc::root_key(&commitment).to_string(), "receipt": receipt(&r) })
        }
        ChainCommand::RegisterPolicy {
            registry,
            keys,
            chunk_verifier,
            final_verifier,
        } => {
            let reg = Registry::at(rpc, address(&registry, "--registry")?);
            let keys = VerifyingKeys::load(&keys)?;
            let fv = final_verifier
                .map(|f| address(&f, "--final-verifier"))
                .transpose()?;
            let r = reg.register_policy(
                from,
                &keys,
                address(&chunk_verifier, "--chunk-verifier")?,
                fv,
            )?;
            serde_json::json!({
                "keys_digest": format!("0x{}", hex_digest(&trustspace_evm::encode::keys_digest(&keys))),
                "receipt": receipt(&r),
            })
        }
        ChainCommand::Verify {
            registry,
            keys,
            bundle,
        } => {
            let reg = Registry::at(rpc, address(&registry, "--registry")?);
            let keys = VerifyingKeys::load(&keys)?;
            let bundle = ProofBundle::load(&bundle)?;
            let r = reg.verify_bundle(from, &bundle, &keys)?;
            serde_json::json!({ "verified": true, "receipt": receipt(&r) })
        }
    })
}

fn export_verifier(keys: &Path, out: &Path) -> Result<serde_json::Value> {
    use trustspace_evm::encode::{keys_digest, policy_genesis, render_verifier, vk_digest};
    let keys = VerifyingKeys::load(keys)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut files = vec![];
    let chunk = render_verifier(
        &keys.chunk,
        "ChunkVerifier",
        &format!("chunk {}", keys.digests.chunk),
    )?;
    write(&out.join("ChunkVerifier.sol"), &chunk)?;
    files.push("ChunkVerifier.sol");
    let mut summary = serde_json::json!({
        "chunk_vk_digest": format!("0x{}", hex_digest(&vk_digest(&keys.chunk))),
    });
    if let (Some(vk), Some(d)) = (&keys.final_, &keys.digests.final_) {
        write(
            &out.join("FinalVerifier.sol"),
            &render_verifier(vk, "FinalVerifier", &format!("final {d}"))?,
        )?;
        files.push("FinalVerifier.sol");
        summary["final_vk_digest"] = format!("0x{}", hex_digest(&vk_digest(vk))).into();
    }
    write(
        &out.join("IGroth16Verifier.sol"),
        trustspace_evm::VERIFIER_INTERFACE,
    )?;
    files.push("IGroth16Verifier.sol");
    summary["keys_digest"] = format!("0x{}", hex_digest(&keys_digest(&keys))).into();
    summary["policy_digest"] = format!("0x{}", hex_digest(&keys.policy_digest)).into();
    summary["genesis"] = format!("{:#066x}", policy_genesis(&keys)).into();
    summary["files"] = files.into();
    summary["out"] = out.display().to_string().into();
    Ok(summary)
}

fn export_calldata(keys: &Path, bundle: &Path, out: &Path) -> Result<serde_json::Value> {
    use trustspace_evm::encode::{keys_digest, verify_bundle_calldata, verify_proof_calldata};
    use trustspace_zk::bundle::proof_from_hex;
    let keys = VerifyingKeys::load(keys)?;
    let bundle = ProofBundle::load(bundle)?;
    // Refuse a bundle that does not verify locally: calldata for it would only revert.
    trustspace_zk::verify(&bundle, &keys, &bundle.commitment)?;
    let kd = keys_digest(&keys);
    let mut proofs = Vec::new();
    for c in &bundle.chunks {
        let what = format!("chunk {}", c.index);
        let p = proof_from_hex(&c.proof, &what)?;
        proofs.push(serde_json::json!({
            "proof": what, "verifier": "ChunkVerifier",
            "calldata": format!("0x{}", hex::encode(verify_proof_calldata(&p, &c.public_inputs))),
        }));
    }
    if let Some(f) = &bundle.final_ {
        let p = proof_from_hex(&f.proof, "final proof")?;
        proofs.push(serde_json::json!({
            "proof": "final", "verifier": "FinalVerifier",
            "calldata": format!("0x{}", hex::encode(verify_proof_calldata(&p, &f.public_inputs))),
        }));
    }
    let doc = serde_json::json!({
        "root": trustspace_evm::rpc::root_key(&bundle.commitment).to_string(),
        "keys_digest": format!("0x{}", hex_digest(&kd)),
        "verify_bundle": format!("0x{}", hex::encode(verify_bundle_calldata(&bundle, &kd)?)),
        "verify_proof": proofs,
    });
    write(out, &serde_json::to_string_pretty(&doc)?)?;
    Ok(
        serde_json::json!({ "out": out.display().to_string(), "proofs": bundle.chunks.len() + usize::from(bundle.final_.is_some()) }),
    )
}

fn export_snarkjs(keys: &Path, bundle: &Path, out: &Path) -> Result<serde_json::Value> {
    use trustspace_evm::encode::{snarkjs_proof, snarkjs_public, snarkjs_vk};
    use trustspace_zk::bundle::proof_from_hex;
    let keys = VerifyingKeys::load(keys)?;
    let bundle = ProofBundle::load(bundle)?;
    trustspace_zk::verify(&bundle, &keys, &bundle.commitment)?;
    let mut jobs = Vec::new();
    for c in &bundle.chunks {
        jobs.push((
            format!("chunk-{}", c.index),
            &keys.chunk,
            &c.public_inputs,
            &c.proof,
        ));
    }
    if let (Some(f), Some(vk)) = (&bundle.final_, &keys.final_) {
        jobs.push(("final".to_string(), vk, &f.public_inputs, &f.proof));
    }
    for (name, vk, inputs, proof) in &jobs {
        let dir = out.join(name);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let p = proof_from_hex(proof, name)?;
        write(
            &dir.join("proof.json"),
            &serde_json::to_string_pretty(&snarkjs_proof(&p))?,
        )?;
        write(
            &dir.join("public.json"),
            &serde_json::to_string_pretty(&snarkjs_public(inputs))?,
        )?;
        write(
            &dir.join("verification_key.json"),
            &serde_json::to_string_pretty(&snarkjs_vk(vk))?,
        )?;
    }
    Ok(serde_json::json!({ "out": out.display().to_string(), "proofs": jobs.len() }))
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
