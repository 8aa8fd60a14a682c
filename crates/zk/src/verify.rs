//! Verification of a proof bundle against verifying keys and a trusted commitment.
//!
//! The verifier derives every public input it can (policy digest, active count per chunk, the
//! accumulator chain, the record count) and refuses a bundle whose stated inputs differ; it
//! recombines the chunk roots into the commitment root; it checks each input count against the
//! key (ark-groth16 does not) and then each proof.

use ark_bn254::{Bn254, Fr};
use ark_groth16::Groth16;
use ark_snark::SNARK;
use rayon::prelude::*;

use crate::bundle::{ProofBundle, Revealed, proof_from_hex};
use crate::circuit::genesis;
use crate::commit::Commitment;
use crate::encode::fr_from_digest;
use crate::error::{Result, ZkError};
use crate::keys::{VerifyingKeys, chunk_inputs};

/// What a verified bundle establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Records covered.
    pub records: u64,
    /// Chunk proofs checked.
    pub chunks: u64,
    /// Revealed aggregate values, named by the verifying keys.
    pub revealed: Vec<Revealed>,
}

fn mismatch(m: impl Into<String>) -> ZkError {
    ZkError::Mismatch(m.into())
}

/// Verifies `bundle` under `keys` for the `commitment` the verifier trusts (from the ledger, or
/// published by the holder).
pub fn verify(
    bundle: &ProofBundle,
    keys: &VerifyingKeys,
    commitment: &Commitment,
) -> Result<Verified> {
    if bundle.circuit != keys.digests {
        return Err(mismatch(
            "the bundle was proven for other circuits than these verifying keys",
        ));
    }
    if bundle.policy_digest != keys.policy_digest {
        return Err(mismatch("the bundle proves another policy"));
    }
    if &bundle.commitment != commitment {
        return Err(mismatch("the bundle is bound to another commitment"));
    }
    if commitment.schema_digest != keys.schema_digest || commitment.chunk_size != keys.chunk_size {
        return Err(mismatch(
            "the commitment's schema or chunk size differs from the keys'",
        ));
    }
    let n = commitment.chunks();
    if bundle.chunks.len() as u64 != n {
        return Err(mismatch(format!(
            "{} chunk proofs for {n} chunks",
            bundle.chunks.len()
        )));
    }
    let digest = fr_from_digest(&keys.policy_digest);
    let aggregates = keys.final_.is_some();
    let mut acc = None;
    let mut roots = Vec::with_capacity(n as usize);
    for (i, c) in bundle.chunks.iter().enumerate() {
        let at = |m: &str| mismatch(format!("chunk {i}: {m}"));
        if c.index != i as u64 {
            return Err(at("out of order"));
        }
        let x = &c.public_inputs;
        if x.len() != chunk_inputs(keys.counters) {
            return Err(at(&format!(
                "{} public inputs, the key takes {}",
                x.len(),
                chunk_inputs(keys.counters)
            )));
        }
        if x[0] != digest {
            return Err(at("public input 0 is not the policy digest"));
        }
        if x[2] != Fr::from(commitment.active_in_chunk(i as u64)) {
            return Err(at("active-record count differs from the commitment's"));
        }
        if aggregates {
            let expected_in = acc.unwrap_or_else(|| genesis(keys.counters));
            if x[3] != expected_in {
                return Err(at("accumulator does not continue the previous chunk's"));
            }
            acc = Some(x[4]);
        }
        roots.push(x[1]);
    }
    commitment.check_chunk_roots(&roots)?;

    let mut jobs: Vec<(String, &ark_groth16::VerifyingKey<Bn254>, &Vec<Fr>, &String)> = bundle
        .chunks
        .iter()
        .map(|c| {
            (
                format!("chunk {}", c.index),
                &keys.chunk,
                &c.public_inputs,
                &c.proof,
            )
        })
        .collect();
    let revealed = match (&keys.final_, &bundle.final_) {
        (None, None) => Vec::new(),
        (Some(_), None) => {
            return Err(mismatch(
                "the policy has aggregates but the bundle no final proof",
            ));
        }
        (None, Some(_)) => {
            return Err(mismatch(
                "the bundle has a final proof the policy does not need",
            ));
        }
        (Some(vk), Some(f)) => {
            let x = &f.public_inputs;
            if x.len() != keys.final_inputs() {
                return Err(mismatch(format!(
                    "final proof: {} public inputs, the key takes {}",
                    x.len(),
                    keys.final_inputs()
                )));
            }
            if x[0] != digest || Some(x[1]) != acc || x[2] != Fr::from(commitment.records) {
                return Err(mismatch(
                    "final proof: public inputs do not continue the chunks",
                ));
            }
            if f.revealed.len() != keys.reveals.len() {
                return Err(mismatch(
                    "final proof: revealed values do not match the policy",
                ));
            }
            let mut out = Vec::new();
            for ((r, name), xi) in f.revealed.iter().zip(&keys.reveals).zip(&x[3..]) {
                let v: u128 = r
                    .value
                    .parse()
                    .map_err(|_| mismatch(format!("revealed `{name}` is not an integer")))?;
                if &r.name != name || Fr::from(v) != *xi {
                    return Err(mismatch(format!(
                        "revealed `{name}` differs from the proof's public input"
                    )));
                }
                out.push(Revealed {
                    name: name.clone(),
                    value: r.value.clone(),
                });
            }
            jobs.push(("final proof".into(), vk, &f.public_inputs, &f.proof));
            out
        }
    };
    jobs.par_iter().try_for_each(|(what, vk, inputs, proof)| {
        let proof = proof_from_hex(proof, what)?;
        let ok = Groth16::<Bn254>::verify(vk, inputs, &proof)
            .map_err(|e| ZkError::InvalidProof(format!("{what}: {e}")))?;
        if ok {
            Ok(())
        } else {
            Err(ZkError::InvalidProof(format!("{what} does not verify")))
        }
    })?;
    Ok(Verified {
        records: commitment.records,
        chunks: n,
        revealed,
    })
}
