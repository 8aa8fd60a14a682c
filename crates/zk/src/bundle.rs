//! The proof bundle: a versioned JSON file with every Groth16 proof, its public inputs, the
//! commitment and the circuit digests. Decoding validates everything: field elements below the
//! modulus, proof points on the curve and in the subgroup, exact proof length, a size limit.
//!
//! Groth16 proofs are malleable (anyone can re-randomise a valid proof), so a bundle is never
//! identified by its proof bytes; [`ProofBundle::statement_digest`] names what it proves.

use ark_bn254::{Bn254, Fr};
use ark_groth16::Proof;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

use crate::commit::{Commitment, read_json_limited, write_json};
use crate::encode::{digest_hex, fr_hex_vec, fr_to_hex};
use crate::error::{Result, ZkError};
use crate::keys::CircuitDigests;

/// Version of the bundle format.
pub const BUNDLE_VERSION: u32 = 1;
/// Largest bundle file accepted.
pub const MAX_BUNDLE_BYTES: u64 = 256 << 20;
/// Bytes of a compressed BN254 Groth16 proof (G1 + G2 + G1).
pub const PROOF_BYTES: usize = 128;

/// One chunk's proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkProof {
    /// Chunk index.
    pub index: u64,
    /// `[policy digest, chunk root, active, (acc_in, acc_out)]`.
    #[serde(with = "fr_hex_vec")]
    pub public_inputs: Vec<Fr>,
    /// Compressed proof, hex.
    pub proof: String,
}

/// A revealed aggregate value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revealed {
    /// `aggregate.sum` or `aggregate.count`.
    pub name: String,
    /// Decimal integer (canonical encoding units: a sum of a decimal column is in units of
    /// 10^-scale).
    pub value: String,
}

/// The final proof of the aggregate bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinalProof {
    /// `[policy digest, accumulator, records, revealed...]`.
    #[serde(with = "fr_hex_vec")]
    pub public_inputs: Vec<Fr>,
    /// The revealed values, named.
    pub revealed: Vec<Revealed>,
    /// Compressed proof, hex.
    pub proof: String,
}

/// A complete proof that a committed dataset satisfies a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofBundle {
    /// Format version.
    pub version: u32,
    /// The circuits proven.
    pub circuit: CircuitDigests,
    /// The commitment the proofs are bound to.
    pub commitment: Commitment,
    /// The policy digest.
    #[serde(with = "digest_hex")]
    pub policy_digest: [u8; 32],
    /// One proof per chunk, in order.
    pub chunks: Vec<ChunkProof>,
    /// The aggregate proof, for policies with aggregates.
    #[serde(rename = "final", default, skip_serializing_if = "Option::is_none")]
    pub final_: Option<FinalProof>,
}

impl ProofBundle {
    pub(crate) fn new(
        circuit: CircuitDigests,
        commitment: Commitment,
        policy_digest: [u8; 32],
        chunks: Vec<ChunkProof>,
        final_: Option<FinalProof>,
    ) -> ProofBundle {
        ProofBundle {
            version: BUNDLE_VERSION,
            circuit,
            commitment,
            policy_digest,
            chunks,
            final_,
        }
    }

    /// Digest of what the bundle states (circuits, commitment, policy, every public input),
    /// excluding the malleable proof bytes: the identifier to record on a ledger.
    pub fn statement_digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"trustspace-statement-v1\0");
        h.update(serde_json::to_vec(&self.circuit).expect("serializable"));
        h.update(serde_json::to_vec(&self.commitment).expect("serializable"));
        h.update(self.policy_digest);
        for c in &self.chunks {
            for x in &c.public_inputs {
                h.update(fr_to_hex(x));
            }
        }
        if let Some(f) = &self.final_ {
            for x in &f.public_inputs {
                h.update(fr_to_hex(x));
            }
        }
        h.finalize().into()
    }

    /// Writes the bundle as JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_json(path, self)
    }

    /// Reads a bundle (at most [`MAX_BUNDLE_BYTES`]); field elements are validated on the way
    /// in, proofs when verified.
    pub fn load(path: &Path) -> Result<ProofBundle> {
        let b: ProofBundle = read_json_limited(path, "proof bundle", MAX_BUNDLE_BYTES)?;
        if b.version != BUNDLE_VERSION {
            return Err(ZkError::Format {
                what: format!("proof bundle {}", path.display()),
                reason: format!("unsupported version {}", b.version),
            });
        }
        Ok(b)
    }
}

/// Hex of a compressed proof.
pub fn proof_to_hex(p: &Proof<Bn254>) -> String {
    let mut b = Vec::with_capacity(PROOF_BYTES);
    p.serialize_compressed(&mut b).expect("serializable");
    hex::encode(b)
}

/// Decodes a proof: exact length, points on the curve and in the prime-order subgroup.
pub fn proof_from_hex(s: &str, what: &str) -> Result<Proof<Bn254>> {
    let bad = |reason: String| ZkError::Format {
        what: what.to_string(),
        reason,
    };
    let bytes = hex::decode(s).map_err(|e| bad(format!("not hex: {e}")))?;
    if bytes.len() != PROOF_BYTES {
        return Err(bad(format!(
            "{} bytes, a proof has {PROOF_BYTES}",
            bytes.len()
        )));
    }
    Proof::deserialize_compressed(&bytes[..])
        .map_err(|e| bad(format!("not a valid proof encoding: {e}")))
}

impl ProofBundle {
    /// A part of a bundle: the proofs of some chunks (and the final proof, if the part holds the
    /// last chunk), to be [merged](ProofBundle::merge) with the other parts.
    pub fn part(
        keys: &crate::keys::ProvingKeys,
        commitment: &Commitment,
        policy: &crate::policy::Policy,
        mut chunks: Vec<ChunkProof>,
        final_: Option<FinalProof>,
    ) -> ProofBundle {
        chunks.sort_by_key(|c| c.index);
        ProofBundle::new(
            keys.digests.clone(),
            commitment.clone(),
            policy.digest(),
            chunks,
            final_,
        )
    }

    /// Merges parts proven separately (`--chunks`) into one bundle; they must be for the same
    /// circuits, commitment and policy, and cover every chunk exactly once.
    pub fn merge(parts: Vec<ProofBundle>) -> Result<ProofBundle> {
        let mut it = parts.into_iter();
        let mut out = it
            .next()
            .ok_or_else(|| ZkError::Parameter("nothing to merge".into()))?;
        for p in it {
            if p.circuit != out.circuit
                || p.commitment != out.commitment
                || p.policy_digest != out.policy_digest
            {
                return Err(ZkError::Mismatch(
                    "parts are for different circuits, commitments or policies".into(),
                ));
            }
            out.chunks.extend(p.chunks);
            match (&out.final_, p.final_) {
                (Some(_), Some(_)) => {
                    return Err(ZkError::Mismatch("two parts hold a final proof".into()));
                }
                (None, f) => out.final_ = f,
                _ => {}
            }
        }
        out.chunks.sort_by_key(|c| c.index);
        let n = out.commitment.chunks();
        for (i, c) in out.chunks.iter().enumerate() {
            if c.index != i as u64 {
                let what = if c.index < i as u64 {
                    "proven twice"
                } else {
                    "missing"
                };
                return Err(ZkError::Mismatch(format!("chunk {i} is {what}")));
            }
        }
        if out.chunks.len() as u64 != n {
            return Err(ZkError::Mismatch(format!(
                "the parts cover {} of {n} chunks",
                out.chunks.len()
            )));
        }
        Ok(out)
    }
}
