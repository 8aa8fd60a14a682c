//! Ledger entries: dataset commitments, policies and proof results, each signed by its submitter.
//!
//! An entry has one canonical binary encoding (below), so its digest — the Merkle leaf of the
//! log — is well defined, and decoding is strict: every length is bounded, trailing bytes,
//! unknown kinds, invalid points and field elements ≥ the BN254 modulus are refused.
//!
//! ```text
//! "TSLE" | version u8 = 2 | kind u8 | timestamp u64 | submitter [32] | body | signature [64]
//! ```
//! A dataset body is `commitment version u32 | root [32] | schema digest [32] | records u64 |
//! chunk size u64 | owner [32] | name | metadata` (version 2 added the owner: version 1 entries
//! are refused, naming their version); a policy body `policy digest [32] | chunk circuit [32] |
//! final circuit flag u8 (and [32]) | keys digest [32] | name`; a verdict body `statement [32] |
//! dataset index u64 | dataset entry digest [32] | policy index u64 | policy entry digest [32] |
//! valid u8`.
//! Integers are big-endian; strings are a u16 length then UTF-8; metadata is a u32 length then
//! bytes. The signature covers everything before it, prefixed by a domain-separation tag.

use ark_bn254::Fr;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use trustspace_zk::keys::CircuitDigests;
use trustspace_zk::{Commitment, ProofBundle, VerifyingKeys};

use crate::error::{LedgerError, Result};
use crate::keys::{Identity, PublicKey};

/// Entry encoding version.
pub const ENTRY_VERSION: u8 = 2;
const MAGIC: &[u8; 4] = b"TSLE";
const SIGN_TAG: &[u8] = b"trustspace-ledger-entry-v2\0";
/// Largest free metadata of a dataset entry, bytes.
pub const MAX_METADATA: usize = 4096;
/// Largest name, bytes.
pub const MAX_NAME: usize = 256;
/// Largest encoded entry, bytes.
pub const MAX_ENTRY: usize = 8192;

/// A dataset commitment as registered by its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetEntry {
    /// The public commitment (root, schema digest, record count, chunk size, owner). Its owner
    /// must be the entry's submitter.
    pub commitment: Commitment,
    /// Human-readable dataset name, e.g. `hospital-1/encounters-2026Q3`.
    pub name: String,
    /// Free metadata (e.g. JSON), at most [`MAX_METADATA`] bytes.
    pub metadata: Vec<u8>,
}

/// A policy with the circuits and verifying keys that check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEntry {
    /// Canonical digest of the policy.
    pub policy_digest: [u8; 32],
    /// Digest of the chunk circuit.
    pub chunk_circuit: [u8; 32],
    /// Digest of the final circuit (policies with aggregates).
    pub final_circuit: Option<[u8; 32]>,
    /// Digest of the verifying keys ([`VerifyingKeys::digest`]).
    pub vk_digest: [u8; 32],
    /// Human-readable policy name.
    pub name: String,
}

/// A verifier's recorded result for a proof bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictEntry {
    /// [`ProofBundle::statement_digest`] (never the malleable proof bytes).
    pub statement: [u8; 32],
    /// Index and digest of the dataset entry checked against.
    pub dataset: (u64, [u8; 32]),
    /// Index and digest of the policy entry checked against.
    pub policy: (u64, [u8; 32]),
    /// Whether the bundle verified.
    pub valid: bool,
}

/// What an entry records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A dataset commitment.
    Dataset(DatasetEntry),
    /// A policy.
    Policy(PolicyEntry),
    /// A proof result.
    Verdict(VerdictEntry),
}

impl Body {
    fn kind(&self) -> u8 {
        match self {
            Body::Dataset(_) => 1,
            Body::Policy(_) => 2,
            Body::Verdict(_) => 3,
        }
    }

    /// The kind as a word, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Body::Dataset(_) => "dataset",
            Body::Policy(_) => "policy",
            Body::Verdict(_) => "verdict",
        }
    }
}

/// A signed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Seconds since the Unix epoch, as claimed by the submitter.
    pub timestamp: u64,
    /// Who submitted (and signed) it: the dataset owner, the policy issuer, the verifier.
    pub submitter: PublicKey,
    /// What it records.
    pub body: Body,
    /// Ed25519 signature over the encoding before it.
    pub signature: [u8; 64],
}

/// The unique key under which the ledger indexes an entry: a second entry with the same key is
/// a duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EntryKey {
    /// A commitment root with its owner ([`EntryKey::dataset`]).
    Dataset([u8; 32]),
    /// A policy digest.
    Policy([u8; 32]),
    /// A statement checked against a dataset entry and a policy entry.
    Verdict([u8; 32]),
}

impl EntryKey {
    /// Bytes used as the store's index key.
    pub fn to_bytes(&self) -> [u8; 33] {
        let (tag, d) = match self {
            EntryKey::Dataset(d) => (1u8, d),
            EntryKey::Policy(d) => (2, d),
            EntryKey::Verdict(d) => (3, d),
        };
        let mut out = [0u8; 33];
        out[0] = tag;
        out[1..].copy_from_slice(d);
        out
    }

    /// The kind of entry it indexes, as a word (`dataset`, `policy`, `verdict`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            EntryKey::Dataset(_) => "dataset",
            EntryKey::Policy(_) => "policy",
            EntryKey::Verdict(_) => "verdict",
        }
    }

    /// Decodes [`EntryKey::to_bytes`].
    pub fn from_bytes(b: &[u8; 33]) -> Result<EntryKey> {
        let d: [u8; 32] = b[1..].try_into().expect("32 bytes");
        match b[0] {
            1 => Ok(EntryKey::Dataset(d)),
            2 => Ok(EntryKey::Policy(d)),
            3 => Ok(EntryKey::Verdict(d)),
            _ => Err(LedgerError::malformed("entry key", "unknown kind")),
        }
    }

    /// The key of the dataset entry for `commitment`: its root with its owner, so that whoever
    /// learns a root before its owner registers it (a ledger operator, a watcher) cannot take
    /// the owner's place by registering it under another owner first; such an entry is filed
    /// under that other owner, and a bundle made for the owner finds the owner's.
    pub fn dataset(commitment: &Commitment) -> EntryKey {
        let mut h = Sha256::new();
        h.update(b"trustspace-dataset-key\0");
        h.update(fr_bytes(&commitment.root));
        h.update(commitment.owner);
        EntryKey::Dataset(h.finalize().into())
    }

    /// The key of the policy entry for a policy digest.
    pub fn policy(policy_digest: [u8; 32]) -> EntryKey {
        EntryKey::Policy(policy_digest)
    }
}

fn fr_bytes(x: &Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    x.serialize_compressed(&mut out[..])
        .expect("an Fr is 32 bytes");
    out
}

fn circuit_bytes(hex_digest: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    // Circuit digests are produced by trustspace-zk as 64 hex digits; the keys file loader
    // validates them. A malformed one maps to zeros, which then never matches a registration.
    let _ = hex::decode_to_slice(hex_digest, &mut out);
    out
}

impl PolicyEntry {
    /// The entry registering `keys` (their policy, circuits and digest).
    pub fn for_keys(keys: &VerifyingKeys, name: &str) -> PolicyEntry {
        PolicyEntry {
            policy_digest: keys.policy_digest,
            chunk_circuit: circuit_bytes(&keys.digests.chunk),
            final_circuit: keys.digests.final_.as_deref().map(circuit_bytes),
            vk_digest: keys.digest(),
            name: name.to_string(),
        }
    }

    /// Whether these are the circuits a bundle was proven for.
    pub fn matches_circuits(&self, c: &CircuitDigests) -> bool {
        self.chunk_circuit == circuit_bytes(&c.chunk)
            && self.final_circuit == c.final_.as_deref().map(circuit_bytes)
    }
}

impl VerdictEntry {
    /// The verdict for `bundle` checked against the given dataset and policy entries.
    pub fn new(
        bundle: &ProofBundle,
        dataset: (u64, [u8; 32]),
        policy: (u64, [u8; 32]),
        valid: bool,
    ) -> VerdictEntry {
        VerdictEntry {
            statement: bundle.statement_digest(),
            dataset,
            policy,
            valid,
        }
    }
}

impl Entry {
    /// Builds and signs an entry.
    pub fn sign(body: Body, timestamp: u64, who: &Identity) -> Result<Entry> {
        let mut e = Entry {
            timestamp,
            submitter: who.public(),
            body,
            signature: [0u8; 64],
        };
        let unsigned = e.encode_unsigned()?;
        e.signature = who.sign(&signing_message(&unsigned));
        Ok(e)
    }

    /// Checks the signature.
    pub fn check_signature(&self) -> Result<()> {
        let unsigned = self.encode_unsigned()?;
        if self
            .submitter
            .verify(&signing_message(&unsigned), &self.signature)
        {
            Ok(())
        } else {
            Err(LedgerError::BadEntrySignature {
                submitter: self.submitter.to_hex(),
            })
        }
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = self.encode_unsigned()?;
        out.extend_from_slice(&self.signature);
        Ok(out)
    }

    /// SHA-256 of the canonical encoding: the entry's identifier and Merkle leaf.
    pub fn digest(&self) -> Result<[u8; 32]> {
        Ok(Sha256::digest(self.encode()?).into())
    }

    /// The index key ([`EntryKey`]).
    pub fn key(&self) -> EntryKey {
        match &self.body {
            Body::Dataset(d) => EntryKey::dataset(&d.commitment),
            Body::Policy(p) => EntryKey::Policy(p.policy_digest),
            Body::Verdict(v) => {
                let mut h = Sha256::new();
                h.update(b"trustspace-verdict-key\0");
                h.update(v.statement);
                h.update(v.dataset.1);
                h.update(v.policy.1);
                EntryKey::Verdict(h.finalize().into())
            }
        }
    }

    fn encode_unsigned(&self) -> Result<Vec<u8>> {
        let mut w = Vec::with_capacity(256);
        w.extend_from_slice(MAGIC);
        w.push(ENTRY_VERSION);
        w.push(self.body.kind());
        w.extend_from_slice(&self.timestamp.to_be_bytes());
        w.extend_from_slice(&self.submitter.to_bytes());
        match &self.body {
            Body::Dataset(d) => {
                w.extend_from_slice(&d.commitment.version.to_be_bytes());
                w.extend_from_slice(&fr_bytes(&d.commitment.root));
                w.extend_from_slice(&d.commitment.schema_digest);
                w.extend_from_slice(&d.commitment.records.to_be_bytes());
                w.extend_from_slice(&d.commitment.chunk_size.to_be_bytes());
                w.extend_from_slice(&d.commitment.owner);
                put_str(&mut w, &d.name)?;
                if d.metadata.len() > MAX_METADATA {
                    return Err(LedgerError::malformed(
                        "dataset entry",
                        format!("metadata over {MAX_METADATA} bytes"),
                    ));
                }
                w.extend_from_slice(&(d.metadata.len() as u32).to_be_bytes());
                w.extend_from_slice(&d.metadata);
            }
            Body::Policy(p) => {
                w.extend_from_slice(&p.policy_digest);
                w.extend_from_slice(&p.chunk_circuit);
                match &p.final_circuit {
                    Some(f) => {
                        w.push(1);
                        w.extend_from_slice(f);
                    }
                    None => w.push(0),
                }
                w.extend_from_slice(&p.vk_digest);
                put_str(&mut w, &p.name)?;
            }
            Body::Verdict(v) => {
                w.extend_from_slice(&v.statement);
                w.extend_from_slice(&v.dataset.0.to_be_bytes());
                w.extend_from_slice(&v.dataset.1);
                w.extend_from_slice(&v.policy.0.to_be_bytes());
                w.extend_from_slice(&v.policy.1);
                w.push(u8::from(v.valid));
            }
        }
        Ok(w)
    }

    /// Decodes (strictly) an encoding made by [`Entry::encode`]. Does not check the signature.
    pub fn decode(bytes: &[u8]) -> Result<Entry> {
        if bytes.len() > MAX_ENTRY {
            return Err(LedgerError::malformed(
                "entry",
                format!("{} bytes, over the limit of {MAX_ENTRY}", bytes.len()),
            ));
        }
        let mut r = Reader {
            b: bytes,
            what: "entry",
        };
        if r.take(4)? != MAGIC {
            return Err(LedgerError::malformed(
                "entry",
                "not a trustspace ledger entry",
            ));
        }
        let version = r.u8()?;
        if version != ENTRY_VERSION {
            return Err(LedgerError::malformed(
                "entry",
                format!("unsupported version {version}"),
            ));
        }
        let kind = r.u8()?;
        let timestamp = r.u64()?;
        let submitter = PublicKey::from_bytes(&r.array()?)?;
        let body = match kind {
            1 => {
                let version = r.u32()?;
                let root_bytes: [u8; 32] = r.array()?;
                let root = Fr::deserialize_compressed(&root_bytes[..]).map_err(|_| {
                    LedgerError::malformed("dataset entry", "root is not below the BN254 modulus")
                })?;
                let commitment = Commitment {
                    version,
                    root,
                    schema_digest: r.array()?,
                    records: r.u64()?,
                    chunk_size: r.u64()?,
                    owner: r.array()?,
                };
                let name = r.str()?;
                let len = r.u32()? as usize;
                if len > MAX_METADATA {
                    return Err(LedgerError::malformed(
                        "dataset entry",
                        format!("metadata over {MAX_METADATA} bytes"),
                    ));
                }
                let metadata = r.take(len)?.to_vec();
                Body::Dataset(DatasetEntry {
                    commitment,
                    name,
                    metadata,
                })
            }
            2 => {
                let policy_digest = r.array()?;
                let chunk_circuit = r.array()?;
                let final_circuit = match r.u8()? {
                    0 => None,
                    1 => Some(r.array()?),
                    _ => return Err(LedgerError::malformed("policy entry", "bad flag")),
                };
                Body::Policy(PolicyEntry {
                    policy_digest,
                    chunk_circuit,
                    final_circuit,
                    vk_digest: r.array()?,
                    name: r.str()?,
                })
            }
            3 => Body::Verdict(VerdictEntry {
                statement: r.array()?,
                dataset: (r.u64()?, r.array()?),
                policy: (r.u64()?, r.array()?),
                valid: match r.u8()? {
                    0 => false,
                    1 => true,
                    _ => return Err(LedgerError::malformed("verdict entry", "bad flag")),
                },
            }),
            k => {
                return Err(LedgerError::malformed("entry", format!("unknown kind {k}")));
            }
        };
        let signature = r.array()?;
        if !r.b.is_empty() {
            return Err(LedgerError::malformed(
                "entry",
                format!("{} trailing bytes", r.b.len()),
            ));
        }
        Ok(Entry {
            timestamp,
            submitter,
            body,
            signature,
        })
    }

    /// Hex of the encoding (for JSON files and the HTTP service).
    pub fn to_hex(&self) -> Result<String> {
        Ok(hex::encode(self.encode()?))
    }

    /// Decodes hex made by [`Entry::to_hex`].
    pub fn from_hex(s: &str) -> Result<Entry> {
        if s.len() > 2 * MAX_ENTRY {
            return Err(LedgerError::malformed("entry", "over the size limit"));
        }
        let bytes = hex::decode(s).map_err(|_| LedgerError::malformed("entry", "not hex"))?;
        Entry::decode(&bytes)
    }
}

fn signing_message(unsigned: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGN_TAG.len() + unsigned.len());
    m.extend_from_slice(SIGN_TAG);
    m.extend_from_slice(unsigned);
    m
}

fn put_str(w: &mut Vec<u8>, s: &str) -> Result<()> {
    if s.len() > MAX_NAME {
        return Err(LedgerError::malformed(
            "entry",
            format!("name over {MAX_NAME} bytes"),
        ));
    }
    w.extend_from_slice(&(s.len() as u16).to_be_bytes());
    w.extend_from_slice(s.as_bytes());
    Ok(())
}

struct Reader<'a> {
    b: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.b.len() < n {
            return Err(LedgerError::malformed(self.what, "truncated"));
        }
        let (head, tail) = self.b.split_at(n);
        self.b = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("length checked"))
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    fn str(&mut self) -> Result<String> {
        let len = u16::from_be_bytes(self.array()?) as usize;
        if len > MAX_NAME {
            return Err(LedgerError::malformed(self.what, "name too long"));
        }
        String::from_utf8(self.take(len)?.to_vec())
            .map_err(|_| LedgerError::malformed(self.what, "name is not UTF-8"))
    }
}

/// An entry in JSON files: its index in the log and its canonical encoding (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexedEntry {
    /// Position in the log.
    pub index: u64,
    /// Canonical encoding, hex.
    pub entry: String,
}
