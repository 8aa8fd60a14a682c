//! Verification of a proof bundle against verifying keys and a trusted commitment.
//!
//! The verifier derives every public input it can (policy digest, active count per chunk, the
//! owner, the accumulator chain, the record count) and refuses a bundle whose stated inputs differ; it
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
use crate::error::{BadProof, ChunkMismatch, Mismatch, ProofId, Result, ZkError};
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

/// Verifies `bundle` under `keys` for the `commitment` the verifier trusts (from the ledger, or
/// published by the holder).
pub fn verify(
    bundle: &ProofBundle,
    keys: &VerifyingKeys,
    commitment: &Commitment,
) -> Result<Verified> {
    if bundle.circuit != keys.digests {
        return Err(Mismatch::BundleCircuits.into());
    }
    if bundle.policy_digest != keys.policy_digest {
        return Err(Mismatch::BundlePolicy.into());
    }
    if &bundle.commitment != commitment {
        return Err(Mismatch::BundleCommitment.into());
    }
    if commitment.schema_digest != keys.schema_digest || commitment.chunk_size != keys.chunk_size {
        return Err(Mismatch::CommitmentParameters.into());
    }
    let n = commitment.chunks();
    if bundle.chunks.len() as u64 != n {
        return Err(Mismatch::ChunkProofCount {
            proofs: bundle.chunks.len(),
            chunks: n,
        }
        .into());
    }
    let digest = fr_from_digest(&keys.policy_digest);
    let owner = commitment.owner_fr();
    let aggregates = keys.final_.is_some();
    let mut acc = None;
    let mut roots = Vec::with_capacity(n as usize);
    for (i, c) in bundle.chunks.iter().enumerate() {
        let at = |problem| {
            ZkError::Mismatch(Mismatch::Chunk {
                chunk: i as u64,
                problem,
            })
        };
        if c.index != i as u64 {
            return Err(at(ChunkMismatch::OutOfOrder));
        }
        let x = &c.public_inputs;
        if x.len() != chunk_inputs(keys.counters) {
            return Err(at(ChunkMismatch::InputCount {
                found: x.len(),
                expected: chunk_inputs(keys.counters),
            }));
        }
        if x[0] != digest {
            return Err(at(ChunkMismatch::PolicyInput));
        }
        if x[2] != Fr::from(commitment.active_in_chunk(i as u64)) {
            return Err(at(ChunkMismatch::ActiveCount));
        }
        if x[3] != owner {
            return Err(at(ChunkMismatch::Owner));
        }
        if aggregates {
            let expected_in = acc.unwrap_or_else(|| genesis(keys.counters));
            if x[4] != expected_in {
                return Err(at(ChunkMismatch::Accumulator));
            }
            acc = Some(x[5]);
        }
        roots.push(x[1]);
    }
    commitment.check_chunk_roots(&roots)?;

    let mut jobs: Vec<(
        ProofId,
        &ark_groth16::VerifyingKey<Bn254>,
        &Vec<Fr>,
        &String,
    )> = bundle
        .chunks
        .iter()
        .map(|c| {
            (
                ProofId::Chunk(c.index),
                &keys.chunk,
                &c.public_inputs,
                &c.proof,
            )
        })
        .collect();
    let revealed = match (&keys.final_, &bundle.final_) {
        (None, None) => Vec::new(),
        (Some(_), None) => return Err(Mismatch::MissingFinalProof.into()),
        (None, Some(_)) => return Err(Mismatch::UnexpectedFinalProof.into()),
        (Some(vk), Some(f)) => {
            let x = &f.public_inputs;
            if x.len() != keys.final_inputs() {
                return Err(Mismatch::FinalInputCount {
                    found: x.len(),
                    expected: keys.final_inputs(),
                }
                .into());
            }
            if x[0] != digest || Some(x[1]) != acc || x[2] != Fr::from(commitment.records) {
                return Err(Mismatch::FinalInputs.into());
            }
            if f.revealed.len() != keys.reveals.len() {
                return Err(Mismatch::RevealedValues.into());
            }
            let mut out = Vec::new();
            for ((r, name), xi) in f.revealed.iter().zip(&keys.reveals).zip(&x[3..]) {
                let v: u128 = r
                    .value
                    .parse()
                    .map_err(|_| Mismatch::RevealedNotInteger { name: name.clone() })?;
                if &r.name != name || Fr::from(v) != *xi {
                    return Err(Mismatch::RevealedDiffers { name: name.clone() }.into());
                }
                out.push(Revealed {
                    name: name.clone(),
                    value: r.value.clone(),
                });
            }
            jobs.push((ProofId::Final, vk, &f.public_inputs, &f.proof));
            out
        }
    };
    jobs.par_iter().try_for_each(|&(id, vk, inputs, proof)| {
        let proof = proof_from_hex(proof, &id.to_string())?;
        let bad = |error| ZkError::InvalidProof(BadProof { proof: id, error });
        let ok =
            Groth16::<Bn254>::verify(vk, inputs, &proof).map_err(|e| bad(Some(e.to_string())))?;
        if ok { Ok(()) } else { Err(bad(None)) }
    })?;
    Ok(Verified {
        records: commitment.records,
        chunks: n,
        revealed,
    })
}
