//! The verifiable log (RFC 9162 Merkle tree via `ct-merkle`), its checkpoints and their quorum.
//!
//! Leaves are entry digests (`SHA-256(0x00 ‖ entry digest)` per RFC 9162 leaf hashing). A
//! [`Checkpoint`] (log id, size, root, time) is valid only as a [`CosignedCheckpoint`] carrying
//! signatures by at least `threshold` distinct validators of the [`LedgerConfig`]. Everything a
//! verifier accepts is proven against such a checkpoint: entries by [`InclusionProof`], and a
//! newer checkpoint against an older one by [`ConsistencyProof`].

use ct_merkle::RootHash;
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;

use crate::error::{ForkCause, InclusionFailure, LedgerError, Result};
use crate::keys::PublicKey;

/// Largest log size a checkpoint may claim (keeps proof-index arithmetic far from overflow).
pub const MAX_LOG_SIZE: u64 = 1 << 48;
/// Largest number of validators in a configuration.
pub const MAX_VALIDATORS: usize = 256;
/// Largest configuration file, bytes.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// Largest encoded co-signed checkpoint, bytes (far above [`MAX_VALIDATORS`] signatures).
pub const MAX_CHECKPOINT_BYTES: usize = 1 << 20;
const CHECKPOINT_TAG: &[u8] = b"trustspace-checkpoint-v1\0";

/// Hex serde for 32-byte digests.
pub(crate) mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(x: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(x))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        crate::keys::hex32(&s, "digest").map_err(serde::de::Error::custom)
    }
}

mod hex64 {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(x: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(x))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let s = String::deserialize(d)?;
        let mut out = [0u8; 64];
        hex::decode_to_slice(&s, &mut out)
            .map_err(|_| serde::de::Error::custom("expected 128 hex digits"))?;
        Ok(out)
    }
}

mod hex_list {
    use serde::{Deserialize, Deserializer, Serializer, ser::SerializeSeq};
    pub fn serialize<S: Serializer>(x: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(x.len()))?;
        for d in x {
            seq.serialize_element(&hex::encode(d))?;
        }
        seq.end()
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        // An RFC 9162 proof for a log of at most 2^48 entries has at most 2 * 48 hashes.
        if v.len() > 128 {
            return Err(serde::de::Error::custom(
                "proof longer than any valid proof",
            ));
        }
        v.iter()
            .map(|s| crate::keys::hex32(s, "proof hash").map_err(serde::de::Error::custom))
            .collect()
    }
}

/// Version of the trust configuration (2: the accountable parties and pins).
pub const CONFIG_VERSION: u32 = 2;

/// A consortium's trust configuration: the log, its validators and quorum, and the parties it
/// holds accountable — the keys allowed to register policies, and optionally the only policies
/// and verifying keys its members accept. The verifier's trust anchor; the validators enforce
/// it before they co-sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    /// Format version ([`CONFIG_VERSION`]).
    pub version: u32,
    /// The log's identity, signed into every checkpoint (a checkpoint of another log is refused).
    pub log_id: String,
    /// Validators' public keys.
    pub validators: Vec<PublicKey>,
    /// Signatures needed for a valid checkpoint.
    pub threshold: usize,
    /// The keys allowed to register policies: a policy entry by any other key is refused by the
    /// validators and by every verifier.
    pub issuers: Vec<PublicKey>,
    /// If not empty, the only policy digests verifiers accept (hex).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "digests")]
    pub policies: Vec<[u8; 32]>,
    /// If not empty, the only verifying-key digests verifiers accept (hex).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "digests")]
    pub keys: Vec<[u8; 32]>,
    /// The EVM accounts allowed to register policies in a registry on a chain (`0x` and 40
    /// hex digits), for `zkverify --chain`.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "accounts")]
    pub chain_issuers: Vec<[u8; 20]>,
}

/// Serde of a configuration's digest lists (64 hex digits each).
mod digests {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(x: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(x.iter().map(hex::encode))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        if v.len() > super::MAX_VALIDATORS {
            return Err(serde::de::Error::custom("too many digests"));
        }
        v.iter()
            .map(|s| crate::keys::hex32(s, "digest").map_err(serde::de::Error::custom))
            .collect()
    }
}

/// Serde of EVM accounts as `0x` and 40 hex digits.
mod accounts {
    use serde::{Deserialize, Deserializer, Serializer, ser::SerializeSeq};
    pub fn serialize<S: Serializer>(x: &[[u8; 20]], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(x.len()))?;
        for a in x {
            seq.serialize_element(&format!("0x{}", hex::encode(a)))?;
        }
        seq.end()
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 20]>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        if v.len() > super::MAX_VALIDATORS {
            return Err(serde::de::Error::custom("too many accounts"));
        }
        v.iter()
            .map(|s| {
                let mut a = [0u8; 20];
                s.strip_prefix("0x")
                    .and_then(|h| hex::decode_to_slice(h, &mut a).ok())
                    .map(|()| a)
                    .ok_or_else(|| serde::de::Error::custom("an account is 0x and 40 hex digits"))
            })
            .collect()
    }
}

impl LedgerConfig {
    /// A configuration, checked: `issuers` may register policies; no pins.
    pub fn new(
        log_id: &str,
        validators: Vec<PublicKey>,
        threshold: usize,
        issuers: Vec<PublicKey>,
    ) -> Result<LedgerConfig> {
        let c = LedgerConfig {
            version: CONFIG_VERSION,
            log_id: log_id.to_string(),
            validators,
            threshold,
            issuers,
            policies: Vec::new(),
            keys: Vec::new(),
            chain_issuers: Vec::new(),
        };
        c.check()?;
        Ok(c)
    }

    /// Whether `key` may register policies.
    pub fn is_issuer(&self, key: &PublicKey) -> bool {
        self.issuers.contains(key)
    }

    /// Refuses configurations no checkpoint could satisfy, or that a single key could, and
    /// lists with a key twice.
    pub fn check(&self) -> Result<()> {
        let bad = |r: String| Err(LedgerError::malformed("ledger configuration", r));
        if self.version != CONFIG_VERSION {
            return bad(format!("unsupported version {}", self.version));
        }
        if self.log_id.is_empty() || self.log_id.len() > 128 {
            return bad("log id must be 1 to 128 bytes".into());
        }
        let n = self.validators.len();
        if n == 0 || n > MAX_VALIDATORS {
            return bad(format!("1 to {MAX_VALIDATORS} validators, not {n}"));
        }
        if self.threshold == 0 || self.threshold > n {
            return bad(format!(
                "threshold {} is not between 1 and the {n} validators",
                self.threshold
            ));
        }
        let distinct: HashSet<_> = self.validators.iter().collect();
        if distinct.len() != n {
            return bad("a validator is listed twice".into());
        }
        let lists = [
            (
                "issuers",
                self.issuers.len(),
                self.issuers.iter().collect::<HashSet<_>>().len(),
            ),
            (
                "policies",
                self.policies.len(),
                self.policies.iter().collect::<HashSet<_>>().len(),
            ),
            (
                "keys",
                self.keys.len(),
                self.keys.iter().collect::<HashSet<_>>().len(),
            ),
            (
                "chain issuers",
                self.chain_issuers.len(),
                self.chain_issuers.iter().collect::<HashSet<_>>().len(),
            ),
        ];
        for (what, len, distinct) in lists {
            if len > MAX_VALIDATORS {
                return bad(format!("at most {MAX_VALIDATORS} {what}, not {len}"));
            }
            if distinct != len {
                return bad(format!("one of the {what} is listed twice"));
            }
        }
        Ok(())
    }

    /// Reads and checks a configuration file (at most [`MAX_CONFIG_BYTES`]).
    pub fn load(path: &std::path::Path) -> Result<LedgerConfig> {
        let bytes = crate::keys::read_limited(path, MAX_CONFIG_BYTES)?;
        LedgerConfig::from_bytes(&bytes, &path.display().to_string())
    }

    /// Decodes and checks a configuration file's bytes (JSON); `what` names it in errors.
    pub fn from_bytes(bytes: &[u8], what: &str) -> Result<LedgerConfig> {
        if bytes.len() as u64 > MAX_CONFIG_BYTES {
            return Err(LedgerError::malformed(
                what,
                format!("larger than the limit of {MAX_CONFIG_BYTES} bytes"),
            ));
        }
        // The version first: an older file is refused by its version, not by a field it lacks.
        #[derive(Deserialize)]
        struct Versioned {
            version: Option<u32>,
        }
        if let Ok(Versioned { version: Some(v) }) = serde_json::from_slice(bytes)
            && v != CONFIG_VERSION
        {
            return Err(LedgerError::malformed(
                "ledger configuration",
                format!("unsupported version {v}"),
            ));
        }
        let c: LedgerConfig = serde_json::from_slice(bytes)
            .map_err(|e| LedgerError::malformed(what, e.to_string()))?;
        c.check()?;
        Ok(c)
    }

    /// The configuration file's bytes: pretty JSON and a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = serde_json::to_vec_pretty(self).expect("plain data serializes");
        text.push(b'\n');
        text
    }

    /// Writes the configuration as JSON ([`LedgerConfig::to_bytes`]).
    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        std::fs::write(path, self.to_bytes()).map_err(|e| LedgerError::io(path, e))
    }
}

/// A signed statement of the log's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The log's identity.
    pub log_id: String,
    /// Number of entries.
    pub size: u64,
    /// RFC 9162 Merkle tree hash of the entries.
    #[serde(with = "hex32")]
    pub root: [u8; 32],
    /// Milliseconds since the Unix epoch when the checkpoint was made.
    pub timestamp_ms: u64,
}

impl Checkpoint {
    /// What validators sign.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(CHECKPOINT_TAG.len() + self.log_id.len() + 56);
        m.extend_from_slice(CHECKPOINT_TAG);
        m.extend_from_slice(&(self.log_id.len() as u64).to_be_bytes());
        m.extend_from_slice(self.log_id.as_bytes());
        m.extend_from_slice(&self.size.to_be_bytes());
        m.extend_from_slice(&self.root);
        m.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        m
    }

    fn root_hash(&self) -> RootHash<Sha256> {
        RootHash::new(self.root.into(), self.size)
    }
}

/// One validator's signature on a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointSignature {
    /// The validator.
    pub validator: PublicKey,
    /// Ed25519 signature over [`Checkpoint::signing_message`].
    #[serde(with = "hex64")]
    pub signature: [u8; 64],
}

/// A checkpoint with its validators' signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosignedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Validators' signatures.
    pub signatures: Vec<CheckpointSignature>,
}

impl CosignedCheckpoint {
    /// Decodes a co-signed checkpoint's JSON (as the store keeps it and the service sends it;
    /// at most [`MAX_CHECKPOINT_BYTES`]). Its quorum is not checked here: see
    /// [`CosignedCheckpoint::verify`].
    pub fn from_bytes(bytes: &[u8]) -> Result<CosignedCheckpoint> {
        if bytes.len() > MAX_CHECKPOINT_BYTES {
            return Err(LedgerError::malformed(
                "checkpoint",
                format!("larger than the limit of {MAX_CHECKPOINT_BYTES} bytes"),
            ));
        }
        serde_json::from_slice(bytes)
            .map_err(|e| LedgerError::malformed("checkpoint", e.to_string()))
    }

    /// The checkpoint's JSON (compact), as the store keeps it and the service sends it.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("plain data serializes")
    }

    /// Checks the quorum under `config`: right log, plausible size, every signature by a distinct
    /// configured validator and valid, and at least `threshold` of them. A checkpoint carrying
    /// any bad, foreign or repeated signature is refused outright, so tampering is never
    /// silently tolerated.
    pub fn verify(&self, config: &LedgerConfig) -> Result<()> {
        let cp = &self.checkpoint;
        if cp.log_id != config.log_id {
            return Err(LedgerError::WrongLog {
                expected: config.log_id.clone(),
                found: cp.log_id.clone(),
            });
        }
        if cp.size > MAX_LOG_SIZE {
            return Err(LedgerError::malformed(
                "checkpoint",
                format!("size {} over the limit {MAX_LOG_SIZE}", cp.size),
            ));
        }
        if self.signatures.len() > config.validators.len() {
            return Err(LedgerError::malformed(
                "checkpoint",
                "more signatures than validators",
            ));
        }
        let msg = cp.signing_message();
        let mut seen = HashSet::new();
        for s in &self.signatures {
            if !config.validators.contains(&s.validator) {
                return Err(LedgerError::UnknownSigner(s.validator.to_hex()));
            }
            if !seen.insert(s.validator) {
                return Err(LedgerError::DuplicateSigner(s.validator.to_hex()));
            }
            if !s.validator.verify(&msg, &s.signature) {
                return Err(LedgerError::BadCheckpointSignature(s.validator.to_hex()));
            }
        }
        if seen.len() < config.threshold {
            return Err(LedgerError::NoQuorum {
                size: cp.size,
                have: seen.len(),
                need: config.threshold,
            });
        }
        Ok(())
    }
}

/// Proof that an entry digest is the leaf at `index` of the tree of `size` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// Leaf index.
    pub index: u64,
    /// Tree size the proof is for.
    pub size: u64,
    /// Sibling hashes, leaf to root.
    #[serde(with = "hex_list")]
    pub hashes: Vec<[u8; 32]>,
}

impl InclusionProof {
    /// Checks that `entry_digest` is the leaf at `self.index` under `checkpoint`.
    pub fn verify(&self, entry_digest: &[u8; 32], checkpoint: &Checkpoint) -> Result<()> {
        let fail = |cause: InclusionFailure| LedgerError::NotIncluded {
            index: self.index,
            size: checkpoint.size,
            cause,
        };
        if self.size != checkpoint.size {
            return Err(fail(InclusionFailure::OtherTreeSize));
        }
        if checkpoint.size > MAX_LOG_SIZE || self.index >= checkpoint.size {
            return Err(fail(InclusionFailure::IndexOutsideTree));
        }
        let proof =
            ct_merkle::InclusionProof::<Sha256>::from_digests(self.hashes.iter().map(|h| h.into()));
        checkpoint
            .root_hash()
            .verify_inclusion(entry_digest, self.index, &proof)
            .map_err(|e| fail(InclusionFailure::Path(e.to_string())))
    }
}

/// Proof that the tree of `to` entries extends the tree of `from` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    /// Older size.
    pub from: u64,
    /// Newer size.
    pub to: u64,
    /// Node hashes.
    #[serde(with = "hex_list")]
    pub hashes: Vec<[u8; 32]>,
}

impl ConsistencyProof {
    /// Checks that `new` extends `old` (same log, no entry rewritten or removed).
    pub fn verify(&self, old: &Checkpoint, new: &Checkpoint) -> Result<()> {
        let fork = |cause: ForkCause| LedgerError::Fork {
            old_size: old.size,
            new_size: new.size,
            cause,
        };
        if old.log_id != new.log_id {
            return Err(fork(ForkCause::DifferentLogs));
        }
        if new.size < old.size {
            return Err(fork(ForkCause::NewerIsSmaller));
        }
        if self.from != old.size || self.to != new.size {
            return Err(fork(ForkCause::ProofForOtherSizes));
        }
        if new.size > MAX_LOG_SIZE {
            return Err(fork(ForkCause::SizeOverLimit));
        }
        if old.size == 0 {
            // Every tree extends the empty one; its root is fixed.
            return if old.root == empty_root() && self.hashes.is_empty() {
                Ok(())
            } else {
                Err(fork(ForkCause::EmptyTreeRoot))
            };
        }
        if old.size == new.size {
            return if old.root == new.root && self.hashes.is_empty() {
                Ok(())
            } else {
                Err(fork(ForkCause::TwoRootsForOneSize))
            };
        }
        let proof = ct_merkle::ConsistencyProof::<Sha256>::from_digests(
            self.hashes.iter().map(|h| h.into()),
        );
        new.root_hash()
            .verify_consistency(&old.root_hash(), &proof)
            .map_err(|e| fork(ForkCause::Proof(e.to_string())))
    }
}

/// Root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> [u8; 32] {
    Sha256::digest(b"").into()
}

/// The in-memory Merkle tree over entry digests (the store rebuilds it on open).
#[derive(Default)]
pub struct LogTree(MemoryBackedTree<Sha256, [u8; 32]>);

impl LogTree {
    /// An empty tree.
    pub fn new() -> LogTree {
        LogTree(MemoryBackedTree::new())
    }

    /// Appends an entry digest.
    pub fn push(&mut self, digest: [u8; 32]) {
        self.0.push(digest);
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.0.len()
    }

    /// Current root.
    pub fn root(&self) -> [u8; 32] {
        (*self.0.root().as_bytes()).into()
    }

    /// Entry digest at `index`.
    pub fn leaf(&self, index: u64) -> Option<[u8; 32]> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.0.get(i))
            .copied()
    }

    /// Inclusion proof of leaf `index` in the current tree.
    pub fn prove_inclusion(&self, index: u64) -> Result<InclusionProof> {
        let size = self.size();
        if index >= size {
            return Err(LedgerError::NoSuchEntry { index, size });
        }
        let p = self.0.prove_inclusion(index as usize);
        Ok(InclusionProof {
            index,
            size,
            hashes: split(p.as_bytes()),
        })
    }

    /// Consistency proof from the tree of `from` entries to the current tree.
    pub fn prove_consistency(&self, from: u64) -> Result<ConsistencyProof> {
        let to = self.size();
        if from > to {
            return Err(LedgerError::StaleCheckpoint {
                offered: to,
                seen: from,
            });
        }
        let hashes = if from == 0 || from == to {
            Vec::new()
        } else {
            split(self.0.prove_consistency((to - from) as usize).as_bytes())
        };
        Ok(ConsistencyProof { from, to, hashes })
    }
}

fn split(bytes: &[u8]) -> Vec<[u8; 32]> {
    bytes
        .chunks_exact(32)
        .map(|c| c.try_into().expect("32-byte chunks"))
        .collect()
}
