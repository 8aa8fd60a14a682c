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
pub use crate::digests::{CIRCUIT_VERSION, CircuitDigests, circuit_digest};
use crate::error::{FormatProblem, Result, ZkError};
use crate::files;

/// Version of the key file formats.
pub const KEYS_VERSION: u32 = 2;
const PK_MAGIC: &[u8; 8] = b"TSZKPK01";
/// Largest proving-key header (the circuit digests, JSON).
const MAX_PK_HEADER: usize = 4096;
/// Largest verifying-key file.
pub const MAX_VK_FILE: u64 = 1 << 20;

/// The prover's keys.
#[derive(Clone, PartialEq)]
pub struct ProvingKeys {
    /// Which circuits they are for.
    pub digests: CircuitDigests,
    /// Chunk circuit key.
    pub chunk: ProvingKey<Bn254>,
    /// Final circuit key.
    pub final_: Option<ProvingKey<Bn254>>,
}

impl std::fmt::Debug for ProvingKeys {
    /// The digests and the keys' sizes (the points would be megabytes of text).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let size = |k: &ProvingKey<Bn254>| k.uncompressed_size();
        f.debug_struct("ProvingKeys")
            .field("digests", &self.digests)
            .field("chunk_bytes", &size(&self.chunk))
            .field("final_bytes", &self.final_.as_ref().map(size))
            .finish()
    }
}

impl ProvingKeys {
    /// Writes the keys' file format to `w`: magic, the circuit digests (JSON) with their length
    /// (`u32`, little-endian), then the keys, uncompressed.
    pub fn write_to<W: Write>(&self, mut w: W) -> std::io::Result<()> {
        let header = serde_json::to_vec(&self.digests).expect("serializable");
        w.write_all(PK_MAGIC)?;
        w.write_all(&(header.len() as u32).to_le_bytes())?;
        w.write_all(&header)?;
        let ser = |e: ark_serialize::SerializationError| std::io::Error::other(e.to_string());
        self.chunk.serialize_uncompressed(&mut w).map_err(ser)?;
        if let Some(f) = &self.final_ {
            f.serialize_uncompressed(&mut w).map_err(ser)?;
        }
        w.flush()
    }

    /// The keys' file bytes, as [`ProvingKeys::save`] writes them.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        self.write_to(&mut b).expect("writing to memory");
        b
    }

    /// Writes the keys (binary: magic, JSON header, uncompressed keys).
    pub fn save(&self, path: &Path) -> Result<()> {
        let io = |source| ZkError::Io {
            path: path.to_path_buf(),
            source,
        };
        let w = BufWriter::new(std::fs::File::create(path).map_err(io)?);
        self.write_to(w).map_err(io)
    }

    /// Reads keys written by [`ProvingKeys::save`], streaming (they can be gigabytes), with the
    /// checks of [`ProvingKeys::from_bytes`].
    pub fn load(path: &Path) -> Result<ProvingKeys> {
        let f = std::fs::File::open(path).map_err(|source| ZkError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        ProvingKeys::read_from(BufReader::new(f), &files::named("proving keys", path))
    }

    /// Decodes a proving-key file's bytes: magic, a header of at most 4 KiB, then the keys,
    /// with nothing after them. The proving key is the prover's own local artefact, so while
    /// every point must be on its curve (and the embedded verifying key's in the prime-order
    /// subgroup), the G2 points of the key are not subgroup-checked (that would take minutes);
    /// the circuit digests are checked against the policy before any use.
    pub fn from_bytes(bytes: &[u8]) -> Result<ProvingKeys> {
        ProvingKeys::read_from(bytes, "proving keys")
    }

    /// The decoder of [`ProvingKeys::from_bytes`] over any reader.
    pub fn read_from<R: Read>(mut r: R, what: &str) -> Result<ProvingKeys> {
        let bad = |reason: FormatProblem| ZkError::Format {
            what: what.to_string(),
            reason,
        };
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
        let key = |r: &mut R| {
            let k = ProvingKey::deserialize_uncompressed_unchecked(&mut *r)
                .map_err(|e| bad(FormatProblem::Points(e.to_string())))?;
            check_points(&k).map_err(bad)?;
            Ok::<_, ZkError>(k)
        };
        let chunk = key(&mut r)?;
        let final_ = match digests.final_ {
            Some(_) => Some(key(&mut r)?),
            None => None,
        };
        let mut one = [0u8; 1];
        loop {
            match r.read(&mut one) {
                Ok(0) => break,
                Ok(_) => return Err(bad(FormatProblem::TrailingBytes)),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(bad(FormatProblem::Points(e.to_string()))),
            }
        }
        Ok(ProvingKeys {
            digests,
            chunk,
            final_,
        })
    }
}

/// Checks a proving key read without validation: every point on its curve (BN254's G1 has
/// cofactor 1, so its points are then in the subgroup), the embedded verifying key fully
/// (on the curve and in the subgroup: it is small).
fn check_points(k: &ProvingKey<Bn254>) -> std::result::Result<(), FormatProblem> {
    use ark_serialize::Valid;
    use rayon::prelude::*;
    let off = || FormatProblem::Points("a point is not on the curve".into());
    k.vk.check()
        .map_err(|e| FormatProblem::Points(e.to_string()))?;
    let g1 = [&k.a_query, &k.b_g1_query, &k.h_query, &k.l_query];
    let on_curve = k.beta_g1.is_on_curve()
        && k.delta_g1.is_on_curve()
        && g1.iter().all(|q| q.par_iter().all(|p| p.is_on_curve()))
        && k.b_g2_query.par_iter().all(|p| p.is_on_curve());
    if on_curve { Ok(()) } else { Err(off()) }
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
    /// The setup ceremony that made the keys, when one did (`trustspace-ceremony` writes and
    /// checks it): part of the keys' digest, so a ledger that registers the keys registers it.
    pub ceremony: Option<CeremonyRecord>,
}

/// A setup ceremony's public record, carried with the keys it made: which powers of tau, each
/// circuit's hash and every contribution's public key, and who contributed, signed. With the
/// keys alone, `trustspace_ceremony::provenance` checks that the keys' δ is the product of
/// these contributions' secrets and that each signature is its signer's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyRecord {
    /// Phase 1's last challenge (BLAKE2b-512, hex): which powers of tau.
    pub phase1: String,
    /// Per circuit, the chunk circuit's first.
    pub circuits: Vec<CircuitRecord>,
    /// Per contribution, in order.
    pub contributors: Vec<ContributorRecord>,
}

/// One circuit's part of a [`CeremonyRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitRecord {
    /// Its circuit hash (snarkjs's, hex), which every transcript starts from.
    pub circuit_hash: String,
    /// Each contribution's public key: δ after it, `s`, `s·d`, `r·d` (snarkjs's point
    /// encoding) and its transcript, hex.
    pub contributions: Vec<String>,
}

/// Who made one contribution, as a [`CeremonyRecord`] lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContributorRecord {
    /// The name in its record, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A public beacon's value (hex) and iteration exponent, for a beacon's contribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beacon: Option<(String, u8)>,
    /// Its contributor's ledger identity (ed25519 public key, hex), when it signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// That signature over the contribution's hash, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ceremony: Option<CeremonyRecord>,
}

/// Public inputs of a chunk proof for a policy with `counters` counters.
pub fn chunk_inputs(counters: usize) -> usize {
    if counters > 0 { 6 } else { 4 }
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
    let mut rest = &bytes[..];
    let vk = VerifyingKey::<Bn254>::deserialize_compressed(&mut rest)
        .map_err(|e| bad(FormatProblem::Points(e.to_string())))?;
    if !rest.is_empty() {
        return Err(bad(FormatProblem::TrailingBytes));
    }
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
            ceremony: None,
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
    /// revealed values, the compressed key points, and a ceremony's record when there is one).
    /// What a ledger registers so a verifier knows it holds the keys the policy issuer
    /// published.
    pub fn digest(&self) -> [u8; 32] {
        self.canonical().sha256()
    }

    /// The canonical encoding [`VerifyingKeys::digest`] hashes ([`canon::VERIFYING_KEYS`]).
    pub fn canonical(&self) -> canon::Canon {
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
        // Appended only when present, so keys without a ceremony keep their digests (the
        // encoding before it is complete on its own: nothing else can follow it).
        if let Some(record) = &self.ceremony {
            c.bytes(&serde_json::to_vec(record).expect("plain data serializes"));
        }
        c
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
            ceremony: self.ceremony.clone(),
        }
    }

    /// The key file's bytes (pretty JSON), as [`VerifyingKeys::save`] writes them.
    pub fn to_bytes(&self) -> Vec<u8> {
        files::json_bytes(&self.to_file())
    }

    /// Writes the keys as JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        files::write(path, &self.to_bytes())
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

    /// Reads a verifying-key file: at most 1 MiB, then [`VerifyingKeys::from_bytes`].
    pub fn load(path: &Path) -> Result<VerifyingKeys> {
        let bytes = files::read_limited(path, "verifying keys", MAX_VK_FILE)?;
        Self::decode(&bytes, files::named("verifying keys", path))
    }

    /// Decodes a verifying-key file's bytes (JSON, at most 1 MiB) and validates it: version,
    /// revealed values and scales, final parts together, key points on the curve and in the
    /// prime-order subgroup, each key's number of public inputs.
    pub fn from_bytes(bytes: &[u8]) -> Result<VerifyingKeys> {
        Self::decode(bytes, "verifying keys".to_string())
    }

    fn decode(bytes: &[u8], what: String) -> Result<VerifyingKeys> {
        let f: VkFile = files::versioned_json_from_bytes(bytes, &what, MAX_VK_FILE, KEYS_VERSION)?;
        Self::from_file(f, what)
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
            ceremony: f.ceremony,
        })
    }
}
