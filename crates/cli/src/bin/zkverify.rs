//! `zkverify`: verify a proof bundle against verifying keys and a commitment.
//!
//! Exit codes: 0 the bundle proves the policy for the commitment; 1 it does not (invalid proof,
//! or a bundle for another commitment, policy or circuit); 2 bad input (unreadable or malformed
//! files, usage errors).

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use trustspace_zk::bundle::ProofBundle;
use trustspace_zk::{Commitment, VerifyingKeys, ZkError, verify};

#[derive(Parser)]
#[command(
    name = "zkverify",
    version,
    about = "Verify a trustspace proof bundle",
    after_help = "Examples:\n  zkverify --keys run/verifying.json --commitment run/commitment.json run/bundle.json\n  zkverify --json --keys vk.json --commitment c.json bundle.json\n\nExit codes: 0 valid; 1 invalid proof or mismatch; 2 bad input."
)]
struct Cli {
    /// Verifying keys from `zkprove setup`.
    #[arg(long)]
    keys: PathBuf,
    /// The commitment the verifier trusts (published by the holder or read from the ledger).
    #[arg(long)]
    commitment: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// The proof bundle.
    bundle: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let loaded = (|| -> Result<_, ZkError> {
        Ok((
            VerifyingKeys::load(&cli.keys)?,
            Commitment::load(&cli.commitment)?,
            ProofBundle::load(&cli.bundle)?,
        ))
    })();
    let (keys, commitment, bundle) = match loaded {
        Ok(x) => x,
        Err(e) => return report(cli.json, Err(e)),
    };
    let started = std::time::Instant::now();
    let result = verify(&bundle, &keys, &commitment).map(|mut v| {
        // Show revealed values in their column's units.
        for (i, r) in v.revealed.iter_mut().enumerate() {
            r.value = keys.format_revealed(i, &r.value);
        }
        (v, started.elapsed().as_secs_f64())
    });
    report(cli.json, result)
}

fn report(json: bool, r: Result<(trustspace_zk::Verified, f64), ZkError>) -> ExitCode {
    let code = match &r {
        Ok(_) => 0,
        Err(ZkError::InvalidProof(_) | ZkError::Mismatch(_)) => 1,
        Err(_) => 2,
    };
    if json {
        let v = match &r {
            Ok((v, secs)) => serde_json::json!({
                "valid": true, "records": v.records, "chunks": v.chunks,
                "revealed": v.revealed, "seconds": secs,
            }),
            Err(e) => {
                serde_json::json!({ "valid": false, "error": e.to_string(), "exit_code": code })
            }
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&v).expect("serializable")
        );
    } else {
        match &r {
            Ok((v, secs)) => {
                println!(
                    "VALID: {} records in {} chunks comply with the policy ({secs:.3} s)",
                    v.records, v.chunks
                );
                for x in &v.revealed {
                    println!("  revealed {} = {}", x.name, x.value);
                }
            }
            Err(e) if code == 1 => eprintln!("INVALID: {e}"),
            Err(e) => eprintln!("error: {e}"),
        }
    }
    ExitCode::from(code)
}
