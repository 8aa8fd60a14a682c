//! The proof bundle: a versioned JSON file with every Groth16 proof, its public inputs, the
//! commitment and the circuit digests. Decoding validates everything: a size limit, the version,
//! field elements below the modulus, the commitment's parameters ([`ProofBundle::from_bytes`]);
//! proofs' exact length and points on the curve and in the subgroup ([`proof_from_hex`], when
//! verified).
//!
//! Groth16 proofs are malleable (anyone can re-randomise a valid proof), so a bundle is never
//! identified by its proof bytes; [`ProofBundle::statement_digest`] names what it proves.

use ark_bn254::{Bn254, Fr};
use ark_groth16::Proof;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::canon;
use crate::commit::Commitment;
use crate::digests::CircuitDigests;
use crate::encode::{digest_hex, fr_hex_vec};
use crate::error::{FormatProblem, Mismatch, ParameterProblem, Result, ZkError};
use crate::files;

/// Version of the bundle format.
pub const BUNDLE_VERSION: u32 = 2;
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
    /// `[policy digest, chunk root, active, owner, (acc_in, acc_out)]`.
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

    /// Digest of what the bundle states (circuits, commitment, policy, every chunk's index and
    /// public inputs, the final public inputs), excluding the malleable proof bytes: the
    /// identifier to record on a ledger. SHA-256 of a canonical encoding
    /// ([`canon::STATEMENT`], layout in [`crate::canon`]).
    pub fn statement_digest(&self) -> [u8; 32] {
        self.statement_canonical().sha256()
    }

    /// The canonical encoding [`ProofBundle::statement_digest`] hashes ([`canon::STATEMENT`]).
    pub fn statement_canonical(&self) -> canon::Canon {
        let frs = |c: &mut canon::Canon, xs: &Vec<ark_bn254::Fr>| {
            c.seq(xs.iter(), canon::fr);
        };
        let mut c = canon::STATEMENT.start();
        c.str(&self.circuit.chunk)
            .option(self.circuit.final_.as_deref(), |c, d| {
                c.str(d);
            })
            .u32(self.commitment.version);
        canon::fr(&mut c, &self.commitment.root);
        c.raw(&self.commitment.schema_digest)
            .u64(self.commitment.records)
            .u64(self.commitment.chunk_size)
            .raw(&self.commitment.owner)
            .raw(&self.policy_digest)
            .seq(self.chunks.iter(), |c, chunk| {
                c.u64(chunk.index);
                frs(c, &chunk.public_inputs);
            })
            .option(self.final_.as_ref(), |c, f| frs(c, &f.public_inputs));
        c
    }

    /// The bundle file's bytes (pretty JSON), as [`ProofBundle::save`] writes them.
    pub fn to_bytes(&self) -> Vec<u8> {
        files::json_bytes(self)
    }

    /// Writes the bundle as JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        files::write(path, &self.to_bytes())
    }

    /// Reads a bundle: at most [`MAX_BUNDLE_BYTES`], then [`ProofBundle::from_bytes`].
    pub fn load(path: &Path) -> Result<ProofBundle> {
        let bytes = files::read_limited(path, "proof bundle", MAX_BUNDLE_BYTES)?;
        ProofBundle::decode(&bytes, &files::named("proof bundle", path))
    }

    /// Decodes a bundle file's bytes (JSON, at most [`MAX_BUNDLE_BYTES`]): the version, field
    /// elements below the modulus, and the commitment it carries validated as
    /// [`Commitment::from_bytes`] validates one. Proofs are decoded (length, points on the
    /// curve and in the subgroup) by [`proof_from_hex`] when verified.
    pub fn from_bytes(bytes: &[u8]) -> Result<ProofBundle> {
        ProofBundle::decode(bytes, "proof bundle")
    }

    fn decode(bytes: &[u8], what: &str) -> Result<ProofBundle> {
        let b: ProofBundle =
            files::versioned_json_from_bytes(bytes, what, MAX_BUNDLE_BYTES, BUNDLE_VERSION)?;
        if b.version != BUNDLE_VERSION {
            return Err(ZkError::Format {
                what: what.to_string(),
                reason: FormatProblem::UnsupportedVersion { found: b.version },
            });
        }
        b.commitment.validate(&format!("{what}: commitment"))?;
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
    let bad = |reason: FormatProblem| ZkError::Format {
        what: what.to_string(),
        reason,
    };
    let bytes = hex::decode(s).map_err(|e| bad(FormatProblem::ProofHex(e)))?;
    if bytes.len() != PROOF_BYTES {
        return Err(bad(FormatProblem::ProofLength {
            found: bytes.len(),
            expected: PROOF_BYTES,
        }));
    }
    Proof::deserialize_compressed(&bytes[..])
        .map_err(|e| bad(FormatProblem::ProofEncoding(e.to_string())))
}

impl ProofBundle {
    /// Merges parts proven separately (`--chunks`) into one bundle; they must be for the same
    /// circuits, commitment and policy, and cover every chunk exactly once.
    pub fn merge(parts: Vec<ProofBundle>) -> Result<ProofBundle> {
        let mut it = parts.into_iter();
        let mut out = it
            .next()
            .ok_or(ZkError::Parameter(ParameterProblem::NothingToMerge))?;
        for p in it {
            if p.circuit != out.circuit
                || p.commitment != out.commitment
                || p.policy_digest != out.policy_digest
            {
                return Err(Mismatch::PartsDiffer.into());
            }
            out.chunks.extend(p.chunks);
            match (&out.final_, p.final_) {
                (Some(_), Some(_)) => {
                    return Err(Mismatch::TwoFinalProofs.into());
                }
                (None, f) => out.final_ = f,
                _ => {}
            }
        }
        out.chunks.sort_by_key(|c| c.index);
        // Parts built in memory are not decoded: check the commitment here as well.
        out.commitment.validate("proof bundle: commitment")?;
        let n = out.commitment.chunks();
        for (i, c) in out.chunks.iter().enumerate() {
            let chunk = i as u64;
            if c.index < chunk {
                return Err(Mismatch::ChunkProvenTwice { chunk }.into());
            }
            if c.index > chunk {
                return Err(Mismatch::ChunkMissing { chunk }.into());
            }
        }
        if out.chunks.len() as u64 != n {
            return Err(Mismatch::PartsCoverage {
                covered: out.chunks.len(),
                chunks: n,
            }
            .into());
        }
        Ok(out)
    }
}
