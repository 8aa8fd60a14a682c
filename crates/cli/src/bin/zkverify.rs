//! `zkverify`: verify a proof bundle — against a commitment you hold, against a ledger, or from
//! an offline evidence file.
//!
//! Exit codes: 0 valid; 1 not valid (invalid proof; a bundle for another commitment, policy or
//! circuit; unknown dataset or policy; checkpoint without quorum; fork; key mismatch; ...);
//! 2 bad input (unreadable or malformed files, unreachable ledger, usage errors).

use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use trustspace_ledger_verifier::log::{Checkpoint, LedgerConfig};
use trustspace_ledger_verifier::{Evidence, LedgerError, verify_evidence};
use trustspace_zk::bundle::{ProofBundle, Revealed};
use trustspace_zk::{Commitment, VerifyingKeys, ZkError};

#[derive(Parser)]
#[command(
    name = "zkverify",
    version,
    about = "Verify a trustspace proof bundle",
    after_help = "Examples:\n  zkverify --keys run/verifying.json --commitment run/commitment.json run/bundle.json\n  zkverify --ledger led/ --trust led/config.json --keys run/verifying.json --evidence-out ev.json run/bundle.json\n  zkverify --ledger http://127.0.0.1:7800 --trust config.json --seen seen.json --keys vk.json bundle.json\n  zkverify --evidence ev.json --trust config.json\n  zkverify --chain http://127.0.0.1:8545 --registry 0x... --block 0x<block hash> --onchain --keys vk.json bundle.json\n\nExit codes: 0 valid; 1 invalid proof, mismatch, or ledger check failed; 2 bad input."
)]
struct Cli {
    /// Verifying keys from `zkprove setup` (not with --evidence, which carries them).
    #[arg(long, required_unless_present = "evidence")]
    keys: Option<PathBuf>,
    /// The commitment the verifier trusts (without a ledger).
    #[arg(long, conflicts_with_all = ["ledger", "evidence"])]
    commitment: Option<PathBuf>,
    /// Verify against a ledger: a directory or an `http://` URL.
    #[arg(long, requires = "trust", conflicts_with = "evidence")]
    ledger: Option<String>,
    /// Verify an evidence file offline.
    #[arg(long, requires = "trust")]
    evidence: Option<PathBuf>,
    /// The ledger configuration you trust (validators and threshold).
    #[arg(long)]
    trust: Option<PathBuf>,
    /// A file holding the last checkpoint you accepted: the ledger must prove it extends it;
    /// updated after a successful verification against a ledger.
    #[arg(long)]
    seen: Option<PathBuf>,
    /// With --ledger: after a successful verification, record the verdict on the ledger, signed
    /// with this key (from `ledger keygen`).
    #[arg(long, requires = "ledger")]
    record: Option<PathBuf>,
    /// With --ledger: write an evidence file that re-verifies offline.
    #[arg(long, requires = "ledger")]
    evidence_out: Option<PathBuf>,
    /// Verify against a trustspace registry on an EVM chain: its JSON-RPC URL. The registry's
    /// storage is proven with eth_getProof against the block header, which is hashed locally.
    #[arg(long, requires = "registry", conflicts_with_all = ["ledger", "evidence", "commitment"])]
    chain: Option<String>,
    /// With --chain: the registry contract's address.
    #[arg(long, requires = "chain")]
    registry: Option<String>,
    /// With --chain: the block to verify at. A block hash is the trust anchor (the header must
    /// hash to it); a number or `latest` (the default) only checks the header against its own
    /// hash, which is printed for you to compare with a source you trust.
    #[arg(long, requires = "chain")]
    block: Option<String>,
    /// With --chain: also ask the registry contract (eth_call of verifyBundle at that block) and
    /// require its answer to agree.
    #[arg(long, requires = "chain")]
    onchain: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// The proof bundle (not with --evidence).
    #[arg(required_unless_present = "evidence", conflicts_with = "evidence")]
    bundle: Option<PathBuf>,
}

/// Why verification did not succeed, with its exit code.
enum Failure {
    Invalid(String),
    BadInput(String),
}

impl From<ZkError> for Failure {
    fn from(e: ZkError) -> Failure {
        match e {
            ZkError::InvalidProof(_) | ZkError::Mismatch(_) => Failure::Invalid(e.to_string()),
            _ => Failure::BadInput(e.to_string()),
        }
    }
}

impl From<LedgerError> for Failure {
    fn from(e: LedgerError) -> Failure {
        match e {
            LedgerError::Proof(z) => z.into(),
            LedgerError::Malformed { .. }
            | LedgerError::Io { .. }
            | LedgerError::Remote { .. }
            | LedgerError::Store { .. } => Failure::BadInput(e.to_string()),
            _ => Failure::Invalid(e.to_string()),
        }
    }
}

impl From<trustspace_evm::EvmError> for Failure {
    fn from(e: trustspace_evm::EvmError) -> Failure {
        use trustspace_evm::EvmError as E;
        match e {
            E::Zk(z) => z.into(),
            E::Rpc { .. } | E::Format { .. } => Failure::BadInput(e.to_string()),
            E::Untrusted(_) | E::NotRegistered(_) | E::Mismatch(_) | E::Reverted { .. } => {
                Failure::Invalid(e.to_string())
            }
        }
    }
}

/// Verification against an EVM registry (`--chain`).
fn verify_chain(
    cli: &Cli,
    url: &str,
    bundle: &ProofBundle,
    keys: &VerifyingKeys,
) -> Result<Outcome, Failure> {
    use trustspace_evm::rpc::{Registry, Rpc};
    use trustspace_evm::state::{BlockRef, verify_against_chain};
    let address = cli
        .registry
        .as_deref()
        .expect("clap: requires registry")
        .parse()
        .map_err(|e| Failure::BadInput(format!("--registry: {e}")))?;
    let block: BlockRef = cli.block.as_deref().unwrap_or("latest").parse()?;
    let rpc = Rpc::new(url);
    let v = verify_against_chain(&rpc, address, block, bundle, keys)?;
    let mut summary = serde_json::json!({
        "block_number": v.block_number,
        "block_hash": v.block_hash.to_string(),
        "block_trusted_by_hash": matches!(block, BlockRef::Hash(_)),
        "registry": address.to_string(),
        "dataset_owner": v.dataset.owner.to_string(),
        "policy_issuer": v.policy.issuer.to_string(),
        "recorded_verdict": v.verdict.as_ref().map(|d| serde_json::json!({
            "block_number": d.block_number, "submitter": d.submitter.to_string(),
        })),
    });
    if cli.onchain {
        let at = format!("{:#x}", v.block_number);
        // The registered verifiers must embed these keys (as they report them).
        let mut verifiers = vec![(v.policy.chunk_verifier, &keys.chunk)];
        if let (Some(a), Some(vk)) = (v.policy.final_verifier, &keys.final_) {
            verifiers.push((a, vk));
        }
        for (a, vk) in verifiers {
            let reported = trustspace_evm::rpc::verifier_digest(&rpc, a, &at)?;
            if reported.0 != trustspace_evm::encode::vk_digest(vk) {
                return Err(Failure::Invalid(format!(
                    "the registered verifier {a} embeds another verifying key than yours"
                )));
            }
        }
        let registry = Registry::at(rpc, address);
        match registry.check_bundle(bundle, keys, &at) {
            Ok(()) => summary["onchain"] = "valid".into(),
            Err(e) => {
                return Err(Failure::Invalid(format!(
                    "the proofs verify locally but the registry contract disagrees: {e}"
                )));
            }
        }
    }
    let revealed = keys.format_all(&v.verified.revealed);
    Ok(Outcome {
        records: v.verified.records,
        revealed,
        ledger: None,
        chain: Some(summary),
    })
}

struct Outcome {
    chain: Option<serde_json::Value>,
    records: u64,
    revealed: Vec<Revealed>,
    ledger: Option<serde_json::Value>,
}

fn load_seen(path: Option<&Path>, config: &LedgerConfig) -> Result<Option<Checkpoint>, Failure> {
    let Some(p) = path.filter(|p| p.exists()) else {
        return Ok(None);
    };
    let cp: trustspace_ledger_verifier::CosignedCheckpoint = serde_json::from_slice(
        &std::fs::read(p).map_err(|e| Failure::BadInput(format!("{}: {e}", p.display())))?,
    )
    .map_err(|e| Failure::BadInput(format!("{}: {e}", p.display())))?;
    cp.verify(config)?;
    Ok(Some(cp.checkpoint))
}

fn ledger_summary(v: &trustspace_ledger_verifier::Verdict) -> serde_json::Value {
    serde_json::json!({
        "checkpoint_size": v.checkpoint.size,
        "checkpoint_root": hex::encode(v.checkpoint.root),
        "dataset": { "index": v.dataset_index, "name": v.dataset_name, "owner": v.owner, "registered_at": v.registered_at },
        "policy": { "index": v.policy_index, "name": v.policy_name, "issuer": v.issuer },
    })
}

/// Appends a signed verdict for `bundle` naming the entries it was verified against.
fn record_verdict(
    view: &dyn trustspace_ledger_verifier::LedgerView,
    key: &Path,
    bundle: &ProofBundle,
    ev: &Evidence,
) -> Result<u64, Failure> {
    use trustspace_ledger_verifier::{Body, Entry, Identity, VerdictEntry};
    let id = Identity::load(key)?;
    let digest = |hex: &str| -> Result<[u8; 32], Failure> { Ok(Entry::from_hex(hex)?.digest()?) };
    let body = Body::Verdict(VerdictEntry::new(
        bundle,
        (ev.dataset.index, digest(&ev.dataset.entry)?),
        (ev.policy.index, digest(&ev.policy.entry)?),
        true,
    ));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let receipt = view.append(vec![Entry::sign(body, now, &id)?])?;
    Ok(receipt.first_index)
}

fn run(cli: &Cli) -> Result<Outcome, Failure> {
    if let Some(path) = &cli.evidence {
        let config = LedgerConfig::load(cli.trust.as_ref().expect("clap: requires trust"))?;
        let seen = load_seen(cli.seen.as_deref(), &config)?;
        let ev = Evidence::load(path)?;
        let v = verify_evidence(&ev, &config, seen.as_ref())?;
        return Ok(Outcome {
            records: v.records,
            revealed: v.revealed.clone(),
            ledger: Some(ledger_summary(&v)),
            chain: None,
        });
    }
    let keys = VerifyingKeys::load(cli.keys.as_ref().expect("clap: required"))?;
    let bundle = ProofBundle::load(cli.bundle.as_ref().expect("clap: required"))?;
    if let Some(url) = &cli.chain {
        return verify_chain(cli, url, &bundle, &keys);
    }
    if let Some(location) = &cli.ledger {
        let config = LedgerConfig::load(cli.trust.as_ref().expect("clap: requires trust"))?;
        let seen = load_seen(cli.seen.as_deref(), &config)?;
        let view = trustspace_ledger_verifier::http::open(location)?;
        let (v, ev) = trustspace_ledger_verifier::verify(
            &bundle,
            &keys,
            view.as_ref(),
            &config,
            seen.as_ref(),
        )?;
        if let Some(out) = &cli.evidence_out {
            ev.save(out)?;
        }
        let mut summary = ledger_summary(&v);
        if let Some(key) = &cli.record {
            summary["verdict_entry"] = record_verdict(view.as_ref(), key, &bundle, &ev)?.into();
        }
        if let Some(p) = &cli.seen {
            let text = serde_json::to_string_pretty(&ev.checkpoint).expect("serializable");
            std::fs::write(p, text)
                .map_err(|e| Failure::BadInput(format!("{}: {e}", p.display())))?;
        }
        return Ok(Outcome {
            records: v.records,
            revealed: v.revealed.clone(),
            ledger: Some(summary),
            chain: None,
        });
    }
    let Some(commitment) = &cli.commitment else {
        return Err(Failure::BadInput(
            "give --commitment, --ledger with --trust, or --evidence with --trust".into(),
        ));
    };
    let commitment = Commitment::load(commitment)?;
    let v = trustspace_zk::verify(&bundle, &keys, &commitment)?;
    let revealed = keys.format_all(&v.revealed);
    Ok(Outcome {
        records: v.records,
        revealed,
        ledger: None,
        chain: None,
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let started = std::time::Instant::now();
    let result = run(&cli);
    let secs = started.elapsed().as_secs_f64();
    let code = match &result {
        Ok(_) => 0,
        Err(Failure::Invalid(_)) => 1,
        Err(Failure::BadInput(_)) => 2,
    };
    if cli.json {
        let v = match &result {
            Ok(o) => serde_json::json!({
                "valid": true, "records": o.records, "revealed": o.revealed,
                "ledger": o.ledger, "chain": o.chain, "seconds": secs,
            }),
            Err(Failure::Invalid(e) | Failure::BadInput(e)) => {
                serde_json::json!({ "valid": false, "error": e, "exit_code": code })
            }
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&v).expect("serializable")
        );
    } else {
        match &result {
            Ok(o) => {
                println!(
                    "VALID: {} records comply with the policy ({secs:.3} s)",
                    o.records
                );
                for x in &o.revealed {
                    println!("  revealed {} = {}", x.name, x.value);
                }
                if let Some(c) = &o.chain {
                    println!(
                        "  on chain: registry {} at block {} (hash {}{})",
                        c["registry"].as_str().unwrap_or_default(),
                        c["block_number"],
                        c["block_hash"].as_str().unwrap_or_default(),
                        if c["block_trusted_by_hash"] == true {
                            ", the block you trust"
                        } else {
                            ": compare it with a source you trust, or pass --block HASH"
                        }
                    );
                    if c["onchain"] == "valid" {
                        println!("  the registry contract agrees (verifyBundle at that block)");
                    }
                    if !c["recorded_verdict"].is_null() {
                        println!(
                            "  verdict recorded on chain in block {}",
                            c["recorded_verdict"]["block_number"]
                        );
                    }
                }
                if let Some(l) = &o.ledger {
                    if let Some(i) = l.get("verdict_entry") {
                        println!("  verdict recorded on the ledger as entry {i}");
                    }
                    println!(
                        "  on the ledger: dataset entry {} ({}), policy entry {} ({}), checkpoint of {} entries",
                        l["dataset"]["index"],
                        l["dataset"]["name"],
                        l["policy"]["index"],
                        l["policy"]["name"],
                        l["checkpoint_size"]
                    );
                }
            }
            Err(Failure::Invalid(e)) => eprintln!("INVALID: {e}"),
            Err(Failure::BadInput(e)) => eprintln!("error: {e}"),
        }
    }
    ExitCode::from(code)
}
