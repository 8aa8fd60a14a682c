//! The EVM exports: `zkprove export-verifier` (Solidity Groth16 verifiers for verifying keys),
//! `export-calldata` (a bundle's `verifyBundle` and `verifyProof` calls) and `export-snarkjs`
//! (snarkjs-compatible proof, public input and key files). Calldata and snarkjs files are only
//! written for a bundle that verifies locally.

use super::args::{ExportCalldataArgs, ExportSnarkjsArgs, ExportVerifierArgs};
use super::{hex0x, write};
use anyhow::{Context, Result};
use serde::Serialize;
use trustspace_zk::bundle::proof_from_hex;
use trustspace_zk::{ProofBundle, VerifyingKeys};

/// What `export-verifier` wrote.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct VerifierSummary {
    /// The chunk verifying key's digest, `0x` hex.
    pub chunk_vk_digest: String,
    /// The final verifying key's digest (policies with aggregates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_vk_digest: Option<String>,
    /// The keys' digest the registry records.
    pub keys_digest: String,
    /// The policy's digest.
    pub policy_digest: String,
    /// The policy's genesis value on chain, `0x` and 64 hex digits.
    pub genesis: String,
    /// The files written.
    pub files: Vec<String>,
    /// The output directory.
    pub out: String,
}

/// What `export-calldata` or `export-snarkjs` wrote.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// The output file or directory.
    pub out: String,
    /// Proofs exported.
    pub proofs: usize,
}

/// `zkprove export-verifier`.
pub fn export_verifier(a: &ExportVerifierArgs) -> Result<VerifierSummary> {
    use trustspace_evm::encode::{policy_genesis, render_verifier, vk_digest};
    let keys = VerifyingKeys::load(&a.keys)?;
    let out = &a.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut files = vec![];
    let chunk = render_verifier(
        &keys.chunk,
        "ChunkVerifier",
        &format!("chunk {}", keys.digests.chunk),
    )?;
    write(&out.join("ChunkVerifier.sol"), &chunk)?;
    files.push("ChunkVerifier.sol".to_string());
    let mut final_vk_digest = None;
    if let (Some(vk), Some(d)) = (&keys.final_, &keys.digests.final_) {
        write(
            &out.join("FinalVerifier.sol"),
            &render_verifier(vk, "FinalVerifier", &format!("final {d}"))?,
        )?;
        files.push("FinalVerifier.sol".to_string());
        final_vk_digest = Some(hex0x(&vk_digest(vk)));
    }
    write(
        &out.join("IGroth16Verifier.sol"),
        trustspace_evm::VERIFIER_INTERFACE,
    )?;
    files.push("IGroth16Verifier.sol".to_string());
    Ok(VerifierSummary {
        chunk_vk_digest: hex0x(&vk_digest(&keys.chunk)),
        final_vk_digest,
        keys_digest: hex0x(&keys.digest()),
        policy_digest: hex0x(&keys.policy_digest),
        genesis: format!("{:#066x}", policy_genesis(&keys)),
        files,
        out: out.display().to_string(),
    })
}

/// One proof's `verifyProof` call.
#[derive(Serialize)]
struct ProofCall {
    proof: String,
    verifier: &'static str,
    calldata: String,
}

/// The calldata file.
#[derive(Serialize)]
struct CalldataDoc {
    root: String,
    keys_digest: String,
    verify_bundle: String,
    verify_proof: Vec<ProofCall>,
}

/// `zkprove export-calldata`.
pub fn export_calldata(a: &ExportCalldataArgs) -> Result<ExportSummary> {
    use trustspace_evm::encode::{verify_bundle_calldata, verify_proof_calldata};
    let keys = VerifyingKeys::load(&a.keys)?;
    let bundle = ProofBundle::load(&a.bundle)?;
    // Refuse a bundle that does not verify locally: calldata for it would only revert.
    trustspace_zk::verify(&bundle, &keys, &bundle.commitment)?;
    let kd = keys.digest();
    let mut proofs = Vec::new();
    for c in &bundle.chunks {
        let what = format!("chunk {}", c.index);
        let p = proof_from_hex(&c.proof, &what)?;
        proofs.push(ProofCall {
            proof: what,
            verifier: "ChunkVerifier",
            calldata: format!(
                "0x{}",
                hex::encode(verify_proof_calldata(&p, &c.public_inputs))
            ),
        });
    }
    if let Some(f) = &bundle.final_ {
        let p = proof_from_hex(&f.proof, "final proof")?;
        proofs.push(ProofCall {
            proof: "final".into(),
            verifier: "FinalVerifier",
            calldata: format!(
                "0x{}",
                hex::encode(verify_proof_calldata(&p, &f.public_inputs))
            ),
        });
    }
    let doc = CalldataDoc {
        root: trustspace_evm::rpc::root_key(&bundle.commitment).to_string(),
        keys_digest: hex0x(&kd),
        verify_bundle: format!("0x{}", hex::encode(verify_bundle_calldata(&bundle, &kd)?)),
        verify_proof: proofs,
    };
    // Through a `Value`: keys in sorted order, as the file has always had them.
    let doc = serde_json::to_value(&doc)?;
    write(&a.out, &serde_json::to_string_pretty(&doc)?)?;
    Ok(ExportSummary {
        out: a.out.display().to_string(),
        proofs: bundle.chunks.len() + usize::from(bundle.final_.is_some()),
    })
}

/// `zkprove export-snarkjs`.
pub fn export_snarkjs(a: &ExportSnarkjsArgs) -> Result<ExportSummary> {
    use trustspace_evm::encode::{snarkjs_proof, snarkjs_public, snarkjs_vk};
    let keys = VerifyingKeys::load(&a.keys)?;
    let bundle = ProofBundle::load(&a.bundle)?;
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
        let dir = a.out.join(name);
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
    Ok(ExportSummary {
        out: a.out.display().to_string(),
        proofs: jobs.len(),
    })
}
