//! The public key set of n authorities and one authority's secret share of the decryption key.
//!
//! A [`KeySet`] is public: the joint encryption key, the threshold and every authority's
//! public key share (so that each partial decryption can be checked against its author). It is
//! named by a [`KeyId`], a SHA-256 digest of all of it, which every ciphertext, total and partial
//! decryption carries, so material made under another key set is refused up front.
//!
//! An [`Authority`] holds one share of the decryption key, as produced by the
//! [distributed key generation](super::dkg). No party ever holds the whole key. The share is
//! zeroized when dropped (elastic-elgamal's `SecretKey`), and never appears in `Debug` output.

use std::fmt;

use elastic_elgamal::PublicKey;
use elastic_elgamal::group::Ristretto;
use elastic_elgamal::sharing::{ActiveParticipant, Params, PublicKeySet};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::codec;
use super::wire::{self, MAX_KEY_DOC_BYTES, MAX_SECRET_DOC_BYTES};
use crate::error::{HeError, Result};

/// Largest number of authorities (n); DKG messages and key files grow with n.
pub const MAX_AUTHORITIES: u32 = 256;

/// The SHA-256 digest naming a key set (its threshold, joint key and every share's public key).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; 32]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", &hex::encode(self.0)[..16])
    }
}

/// Checks that `found` names the key set in use.
pub(crate) fn check_key(what: &str, found: &KeyId, expected: &KeyId) -> Result<()> {
    if found != expected {
        return Err(HeError::KeyMismatch {
            what: what.to_string(),
            found: found.to_string(),
            expected: expected.to_string(),
        });
    }
    Ok(())
}

/// Checks `1 <= threshold <= authorities <= MAX_AUTHORITIES`.
pub(crate) fn check_params(authorities: u32, threshold: u32) -> Result<Params> {
    if authorities == 0 || authorities > MAX_AUTHORITIES {
        return Err(HeError::InvalidParameter {
            what: "authorities",
            reason: format!("{authorities} is outside 1..={MAX_AUTHORITIES}"),
        });
    }
    if threshold == 0 || threshold > authorities {
        return Err(HeError::InvalidParameter {
            what: "threshold",
            reason: format!("{threshold} is outside 1..={authorities} (the number of authorities)"),
        });
    }
    Ok(Params::new(authorities as usize, threshold as usize))
}

/// The public side of a threshold key: joint encryption key, threshold, each authority's share key.
#[derive(Clone)]
pub struct KeySet {
    inner: PublicKeySet<Ristretto>,
    id: KeyId,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("authorities", &self.authorities())
            .field("threshold", &self.threshold())
            .field("id", &self.id)
            .finish()
    }
}

impl PartialEq for KeySet {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for KeySet {}

impl KeySet {
    pub(crate) fn from_inner(inner: PublicKeySet<Ristretto>) -> Self {
        let mut h = Sha256::new();
        h.update(b"trustspace-he/ristretto/keyset/v1");
        h.update((inner.params().shares as u32).to_le_bytes());
        h.update((inner.params().threshold as u32).to_le_bytes());
        h.update(inner.shared_key().as_bytes());
        for k in inner.participant_keys() {
            h.update(k.as_bytes());
        }
        KeySet {
            id: KeyId(h.finalize().into()),
            inner,
        }
    }

    /// Rebuilds a key set from the authorities' public key shares, in index order; checks that
    /// they lie on one polynomial of degree `threshold - 1` (else they cannot be a sharing).
    pub fn from_share_keys(threshold: u32, share_keys: &[[u8; 32]]) -> Result<Self> {
        let n = u32::try_from(share_keys.len()).unwrap_or(u32::MAX);
        let params = check_params(n, threshold)?;
        let keys = share_keys
            .iter()
            .enumerate()
            .map(|(i, k)| codec::public_key(k, &format!("public key share of authority {i}")))
            .collect::<Result<Vec<_>>>()?;
        let inner = PublicKeySet::from_participants(params, keys).map_err(|e| HeError::Format {
            what: "key set".into(),
            reason: format!("the share keys are not a {threshold}-of-{n} sharing: {e}"),
        })?;
        Ok(KeySet::from_inner(inner))
    }

    /// Number of authorities, n.
    pub fn authorities(&self) -> u32 {
        self.inner.params().shares as u32
    }

    /// Partial decryptions needed to decrypt, t.
    pub fn threshold(&self) -> u32 {
        self.inner.params().threshold as u32
    }

    /// The digest that names this key set.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The joint encryption key (canonical ristretto255 encoding).
    pub fn joint_key(&self) -> [u8; 32] {
        to_array(self.inner.shared_key())
    }

    /// Authority `index`'s public key share, against which its partial decryptions are checked.
    pub fn share_key(&self, index: u32) -> Option<[u8; 32]> {
        self.inner.participant_key(index as usize).map(to_array)
    }

    pub(crate) fn inner(&self) -> &PublicKeySet<Ristretto> {
        &self.inner
    }

    pub(crate) fn encryption_key(&self) -> &PublicKey<Ristretto> {
        self.inner.shared_key()
    }

    /// Encodes as a versioned JSON document ([`super::wire`]).
    pub fn to_json(&self) -> String {
        let doc = KeySetDoc {
            version: wire::VERSION,
            kind: wire::KIND_KEY_SET.into(),
            key_id: self.id.to_string(),
            authorities: self.authorities(),
            threshold: self.threshold(),
            joint_key: hex::encode(self.joint_key()),
            share_keys: self
                .inner
                .participant_keys()
                .iter()
                .map(|k| hex::encode(k.as_bytes()))
                .collect(),
        };
        wire::to_json(&doc)
    }

    /// Decodes and validates a key set document: canonical non-identity points, share keys that
    /// form a sharing, and a joint key and key id that match them.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let doc: KeySetDoc = codec::json(bytes, "key set document", MAX_KEY_DOC_BYTES)?;
        wire::check_header(
            doc.version,
            &doc.kind,
            wire::KIND_KEY_SET,
            "key set document",
        )?;
        if doc.share_keys.len() as u64 != u64::from(doc.authorities) {
            return Err(HeError::Format {
                what: "key set document".into(),
                reason: format!(
                    "declares {} authorities but lists {} share keys",
                    doc.authorities,
                    doc.share_keys.len()
                ),
            });
        }
        if doc.share_keys.len() > MAX_AUTHORITIES as usize {
            return Err(HeError::TooLarge {
                what: "key set document".into(),
                size: doc.share_keys.len() as u64,
                limit: u64::from(MAX_AUTHORITIES),
                unit: "authorities",
            });
        }
        let keys = doc
            .share_keys
            .iter()
            .enumerate()
            .map(|(i, k)| codec::hex_array::<32>(k, &format!("share key {i}")))
            .collect::<Result<Vec<_>>>()?;
        let set = KeySet::from_share_keys(doc.threshold, &keys)?;
        let joint = codec::hex_array::<32>(&doc.joint_key, "joint key")?;
        codec::public_key(&joint, "joint key")?;
        if joint != set.joint_key() {
            return Err(HeError::Format {
                what: "key set document".into(),
                reason: "the joint key is not the one the share keys interpolate to".into(),
            });
        }
        let id = codec::hex_array::<32>(&doc.key_id, "key id")?;
        check_key("key set document", &KeyId(id), &set.id)?;
        Ok(set)
    }
}

fn to_array(k: &PublicKey<Ristretto>) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(k.as_bytes());
    out
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeySetDoc {
    version: u32,
    kind: String,
    key_id: String,
    authorities: u32,
    threshold: u32,
    joint_key: String,
    share_keys: Vec<String>,
}

/// One authority: its index, the key set, and its secret share of the decryption key.
pub struct Authority {
    inner: ActiveParticipant<Ristretto>,
    key_set: KeySet,
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authority")
            .field("index", &self.index())
            .field("key_set", &self.key_set.id)
            .field("share", &"<secret>")
            .finish()
    }
}

impl Authority {
    pub(crate) fn new(inner: ActiveParticipant<Ristretto>) -> Self {
        let key_set = KeySet::from_inner(inner.key_set().clone());
        Authority { inner, key_set }
    }

    /// This authority's index, 0-based.
    pub fn index(&self) -> u32 {
        self.inner.index() as u32
    }

    /// The key set this authority holds a share of.
    pub fn key_set(&self) -> &KeySet {
        &self.key_set
    }

    pub(crate) fn participant(&self) -> &ActiveParticipant<Ristretto> {
        &self.inner
    }

    /// Encodes the authority, secret share included, as a JSON document for its own storage.
    /// The text is zeroized when dropped; keep it out of logs and off shared disks.
    pub fn to_secret_json(&self) -> Zeroizing<String> {
        let share = Zeroizing::new(hex::encode(
            self.inner.secret_share().expose_scalar().as_bytes(),
        ));
        let doc = AuthorityDoc {
            version: wire::VERSION,
            kind: wire::KIND_AUTHORITY.into(),
            index: self.index(),
            key_set: serde_json::from_str(&self.key_set.to_json()).unwrap_or_default(),
            secret_share: share.as_str().to_string(),
        };
        let text = Zeroizing::new(wire::to_json(&doc));
        let mut doc = doc;
        zeroize::Zeroize::zeroize(&mut doc.secret_share);
        text
    }

    /// Decodes an authority document; checks the share against the authority's public share key.
    pub fn from_secret_json(bytes: &[u8]) -> Result<Self> {
        let mut doc: AuthorityDoc = codec::json(bytes, "authority document", MAX_SECRET_DOC_BYTES)?;
        let result = (|| {
            wire::check_header(
                doc.version,
                &doc.kind,
                wire::KIND_AUTHORITY,
                "authority document",
            )?;
            let key_set = KeySet::from_json(doc.key_set.to_string().as_bytes())?;
            if doc.index >= key_set.authorities() {
                return Err(HeError::Format {
                    what: "authority document".into(),
                    reason: format!(
                        "index {} is not below the {} authorities",
                        doc.index,
                        key_set.authorities()
                    ),
                });
            }
            let bytes = codec::hex_secret::<32>(&doc.secret_share, "secret share")?;
            let share = elastic_elgamal::SecretKey::<Ristretto>::from_bytes(bytes.as_ref())
                .ok_or_else(|| HeError::MalformedScalar {
                    what: "secret share".into(),
                    reason: "not a canonical scalar".into(),
                })?;
            let inner = ActiveParticipant::new(key_set.inner.clone(), doc.index as usize, share)
                .map_err(|_| HeError::ShareMismatch {
                    authority: doc.index,
                })?;
            Ok(Authority { inner, key_set })
        })();
        zeroize::Zeroize::zeroize(&mut doc.secret_share);
        result
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorityDoc {
    version: u32,
    kind: String,
    index: u32,
    key_set: serde_json::Value,
    secret_share: String,
}
