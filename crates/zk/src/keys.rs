//! Proving and verifying keys, identified by circuit digests ([`crate::digests`]): a key
//! derived for another schema, policy or chunk size is refused with a clear error instead of
//! failing as an invalid proof.

use ark_bn254::Bn254;
use ark_groth16::{ProvingKey, VerifyingKey};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use serde::{Deserialize, Serialize};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use crate::bundle::Revealed;
use crate::canon;
use crate::circuit::Compiled;
use crate::commit::{read_json_limited, write_json};
pub use crate::digests::{CIRCUIT_VERSION, CircuitDigests, circuit_digest};
use crate::error::{FormatProblem, Result, ZkError};

/// Version of the key file formats.
pub const KEYS_VERSION: u32 = 1;
const PK_MAGIC: &[u8; 8] = b"TSZKPK01";
/// Largest proving-key header (the circuit digests, JSON).
const MAX_PK_HEADER: usize = 4096;
/// Largest verifying-key file.
const MAX_VK_FILE: u64 = 1 << 20;

/// The prover's keys.
pub struct ProvingKeys {
    /// Which circuits they are for.
    pub digests: CircuitDigests,
    /// Chunk circuit key.
    pub chunk: ProvingKey<Bn254>,
    /// Final circuit key.
    pub final_: Option<ProvingKey<Bn254>>,
}

impl ProvingKeys {
    /// Writes the keys (binary: magic, JSON header, uncompressed keys).
    pub fn save(&self, path: &Path) -> Result<()> {
        let io = |source| ZkError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut w = BufWriter::new(std::fs::File::create(path).map_err(io)?);
        let header = serde_json::to_vec(&self.digests).expect("serializable");
        w.write_all(PK_MAGIC).map_err(io)?;
        w.write_all(&(header.len() as u32).to_le_bytes())
            .map_err(io)?;
        w.write_all(&header).map_err(io)?;
        let ser = |e: ark_serialize::SerializationError| ZkError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        };
        self.chunk.serialize_uncompressed(&mut w).map_err(ser)?;
        if let Some(f) = &self.final_ {
            f.serialize_uncompressed(&mut w).map_err(ser)?;
        }
        w.flush().map_err(io)
    }

    /// Reads keys written by [`ProvingKeys::save`]. The proving key is the prover's own local
    /// artefact, so its points are not subgroup-checked (that would take minutes); the circuit
    /// digests are checked against the policy before any use.
    pub fn load(path: &Path) -> Result<ProvingKeys> {
        let io = |source| ZkError::Io {
            path: path.to_path_buf(),
            source,
        };
        let bad = |reason: FormatProblem| ZkError::Format {
            what: format!("proving keys {}", path.display()),
            reason,
        };
        let mut r = BufReader::new(std::fs::File::open(path).map_err(io)?);
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic)
            .map_err(|_| bad(FormatProblem::TooShort))?;
        if &magic != PK_MAGIC {
            return Err(bad(FormatProblem::BadMagic));
        }
        let mut len = [0u8; 4];
        r.read_exact(&mut len)
            .map_err(|_| bad(FormatProblem::TruncatedHeader))?;
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_PK_HEADER {
            return Err(bad(FormatProblem::HeaderTooLarge {
                len,
                limit: MAX_PK_HEADER,
            }));
        }
        let mut header = vec![0u8; len];
        r.read_exact(&mut header)
            .map_err(|_| bad(FormatProblem::TruncatedHeader))?;
        let digests: CircuitDigests =
            serde_json::from_slice(&header).map_err(|e| bad(FormatProblem::Json(e.to_string())))?;
        let de = |e: ark_serialize::SerializationError| bad(FormatProblem::Points(e.to_string()));
        let chunk = ProvingKey::deserialize_uncompressed_unchecked(&mut r).map_err(de)?;
        let final_ = match digests.final_ {
            Some(_) => Some(ProvingKey::deserialize_uncompressed_unchecked(&mut r).map_err(de)?),
            None => None,
        };
        Ok(ProvingKeys {
            digests,
            chunk,
            final_,
        })
    }
}

/// The verifier's keys with what they are for: small, public, JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyingKeys {
    /// Which circuits.
    pub digests: CircuitDigests,
    /// The policy digest, hex.
    pub policy_digest: [u8; 32],
    /// The schema digest, hex.
    pub schema_digest: [u8; 32],
    /// Records per chunk.
    pub chunk_size: u64,
    /// Names of the revealed values, in order.
    pub reveals: Vec<String>,
    /// Decimal places of each revealed value's units.
    pub reveal_scales: Vec<u32>,
    /// Number of accumulated counters (0 without aggregates).
    pub counters: usize,
    /// Chunk circuit key.
    pub chunk: VerifyingKey<Bn254>,
    /// Final circuit key.
    pub final_: Option<VerifyingKey<Bn254>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VkFile {
    version: u32,
    digests: CircuitDigests,
    #[serde(with = "crate::encode::digest_hex")]
    policy_digest: [u8; 32],
    #[serde(with = "crate::encode::digest_hex")]
    schema_digest: [u8; 32],
    chunk_size: u64,
    reveals: Vec<String>,
    reveal_scales: Vec<u32>,
    counters: usize,
    chunk: String,
    #[serde(rename = "final", default, skip_serializing_if = "Option::is_none")]
    final_: Option<String>,
}

/// Public inputs of a chunk proof for a policy with `counters` counters.
pub fn chunk_inputs(counters: usize) -> usize {
    if counters > 0 { 5 } else { 3 }
}

/// A verifying key, compressed (ark-serialize's canonical form).
fn vk_bytes(vk: &VerifyingKey<Bn254>) -> Vec<u8> {
    let mut b = Vec::new();
    vk.serialize_compressed(&mut b).expect("serializable");
    b
}

fn vk_hex(vk: &VerifyingKey<Bn254>) -> String {
    hex::encode(vk_bytes(vk))
}

fn vk_from_hex(s: &str, inputs: usize, what: &str) -> Result<VerifyingKey<Bn254>> {
    let bad = |reason: FormatProblem| ZkError::Format {
        what: what.to_string(),
        reason,
    };
    let bytes = hex::decode(s).map_err(|e| bad(FormatProblem::Hex(e)))?;
    // Points are checked to be on the curve and in the prime-order subgroup.
    let vk = VerifyingKey::<Bn254>::deserialize_compressed(&bytes[..])
        .map_err(|e| bad(FormatProblem::Points(e.to_string())))?;
    if vk.gamma_abc_g1.len() != inputs + 1 {
        return Err(bad(FormatProblem::KeyInputs {
            key: vk.gamma_abc_g1.len().saturating_sub(1),
            circuit: inputs,
        }));
    }
    Ok(vk)
}

impl VerifyingKeys {
    pub(crate) fn new(
        compiled: &Compiled,
        digests: CircuitDigests,
        chunk: VerifyingKey<Bn254>,
        final_: Option<VerifyingKey<Bn254>>,
    ) -> VerifyingKeys {
        let plan = compiled.policy().plan();
        VerifyingKeys {
            digests,
            policy_digest: compiled.policy().digest(),
            schema_digest: plan.schema_digest,
            chunk_size: compiled.chunk_size(),
            reveals: plan.reveals.iter().map(|r| r.name.clone()).collect(),
            reveal_scales: plan.reveals.iter().map(|r| r.scale).collect(),
            counters: plan.counters.len(),
            chunk,
            final_,
        }
    }

    /// A revealed value (integer units) as text in its column's units, e.g. `2050115.56`.
    pub fn format_revealed(&self, index: usize, value: &str) -> String {
        let scale = self.reveal_scales.get(index).copied().unwrap_or(0);
        match value.parse::<i128>() {
            Ok(units) if scale > 0 => trustspace_data::format_units(units, scale),
            _ => value.to_string(),
        }
    }

    /// Revealed values with their values in column units.
    pub fn format_all(&self, revealed: &[Revealed]) -> Vec<Revealed> {
        revealed
            .iter()
            .enumerate()
            .map(|(i, r)| Revealed {
                name: r.name.clone(),
                value: self.format_revealed(i, &r.value),
            })
            .collect()
    }

    /// SHA-256 of the keys' canonical encoding ([`canon::VERIFYING_KEYS`], layout in
    /// [`crate::canon`]): everything that defines them (circuits, policy, schema, chunk size,
    /// revealed values, and the compressed key points). What a ledger registers so a verifier
    /// knows it holds the keys the policy issuer published.
    pub fn digest(&self) -> [u8; 32] {
        let mut c = canon::VERIFYING_KEYS.start();
        c.str(&self.digests.chunk)
            .option(self.digests.final_.as_deref(), |c, d| {
                c.str(d);
            })
            .raw(&self.policy_digest)
            .raw(&self.schema_digest)
            .u64(self.chunk_size)
            .seq(self.reveals.iter(), |c, name| {
                c.str(name);
            })
            .seq(self.reveal_scales.iter(), |c, &scale| {
                c.u32(scale);
            });
        canon::idx(&mut c, self.counters);
        c.bytes(&vk_bytes(&self.chunk))
            .option(self.final_.as_ref(), |c, vk| {
                c.bytes(&vk_bytes(vk));
            });
        c.sha256()
    }

    /// Public inputs of the final proof.
    pub fn final_inputs(&self) -> usize {
        3 + self.reveals.len()
    }

    fn to_file(&self) -> VkFile {
        VkFile {
            version: KEYS_VERSION,
            digests: self.digests.clone(),
            policy_digest: self.policy_digest,
            schema_digest: self.schema_digest,
            chunk_size: self.chunk_size,
            reveals: self.reveals.clone(),
            reveal_scales: self.reveal_scales.clone(),
            counters: self.counters,
            chunk: vk_hex(&self.chunk),
            final_: self.final_.as_ref().map(vk_hex),
        }
    }

    /// Writes the keys as JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_json(path, &self.to_file())
    }

    /// The keys as a JSON value (the file format), e.g. to embed in an evidence file.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.to_file()).expect("serializable")
    }

    /// Reads and validates keys from a JSON value made by [`VerifyingKeys::to_json`].
    pub fn from_json(value: serde_json::Value, what: &str) -> Result<VerifyingKeys> {
        let f: VkFile = serde_json::from_value(value).map_err(|e| ZkError::Format {
            what: what.to_string(),
            reason: FormatProblem::Json(e.to_string()),
        })?;
        Self::from_file(f, what.to_string())
    }

    /// Reads and validates a verifying-key file.
    pub fn load(path: &Path) -> Result<VerifyingKeys> {
        let f: VkFile = read_json_limited(path, "verifying keys", MAX_VK_FILE)?;
        Self::from_file(f, format!("verifying keys {}", path.display()))
    }

    fn from_file(f: VkFile, what: String) -> Result<VerifyingKeys> {
        if f.version != KEYS_VERSION {
            return Err(ZkError::Format {
                what,
                reason: FormatProblem::UnsupportedVersion { found: f.version },
            });
        }
        if f.reveal_scales.len() != f.reveals.len() || f.reveal_scales.iter().any(|&s| s > 18) {
            return Err(ZkError::Format {
                what,
                reason: FormatProblem::RevealScales,
            });
        }
        let has_final = f.digests.final_.is_some();
        if has_final != f.final_.is_some() || has_final != (f.counters > 0) {
            return Err(ZkError::Format {
                what,
                reason: FormatProblem::FinalKeyParts,
            });
        }
        let chunk = vk_from_hex(&f.chunk, chunk_inputs(f.counters), &what)?;
        let final_ = match &f.final_ {
            Some(s) => Some(vk_from_hex(s, 3 + f.reveals.len(), &what)?),
            None => None,
        };
        Ok(VerifyingKeys {
            digests: f.digests,
            policy_digest: f.policy_digest,
            schema_digest: f.schema_digest,
            chunk_size: f.chunk_size,
            reveals: f.reveals,
            reveal_scales: f.reveal_scales,
            counters: f.counters,
            chunk,
            final_,
        })
    }
}
