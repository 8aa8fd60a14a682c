//! Ed25519 identities of submitters (data owners, policy issuers, verifiers) and validators.
//!
//! A [`PublicKey`] names a party everywhere (entries, checkpoints, configurations); an
//! [`Identity`] holds the secret half, is zeroized on drop, and is stored in a file readable only
//! by its owner.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::path::Path;
use zeroize::Zeroizing;

use crate::error::{LedgerError, Result};

/// A party's public key (an Ed25519 point, validated on decode).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Decodes 32 bytes, refusing encodings that are not a valid, non-weak curve point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey> {
        let key = VerifyingKey::from_bytes(bytes)
            .map_err(|_| LedgerError::malformed("public key", "not a valid Ed25519 point"))?;
        if key.is_weak() {
            return Err(LedgerError::malformed(
                "public key",
                "a small-order Ed25519 point",
            ));
        }
        Ok(PublicKey(key))
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Lower-case hex of the encoding.
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }

    /// Decodes hex.
    pub fn from_hex(s: &str) -> Result<PublicKey> {
        Self::from_bytes(&hex32(s, "public key")?)
    }

    /// Verifies `sig` on `msg` (strict: no malleable or small-order signatures).
    pub fn verify(&self, msg: &[u8], sig: &[u8; 64]) -> bool {
        self.0
            .verify_strict(msg, &Signature::from_bytes(sig))
            .is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PublicKey::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// Decodes exactly 32 bytes of hex.
pub(crate) fn hex32(s: &str, what: &str) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out)
        .map_err(|_| LedgerError::malformed(what, "expected 64 hex digits"))?;
    Ok(out)
}

/// A party's signing key. Never printed; zeroized on drop.
pub struct Identity(SigningKey);

impl Identity {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Identity {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(seed.as_mut());
        Identity(SigningKey::from_bytes(&seed))
    }

    /// A key from a 32-byte seed (tests and deterministic deployments).
    pub fn from_seed(seed: &[u8; 32]) -> Identity {
        Identity(SigningKey::from_bytes(seed))
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg).to_bytes()
    }

    /// Writes the key as hex to a new file readable only by its owner.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = Zeroizing::new(format!(
            "{{\"version\":1,\"ed25519_secret\":\"{}\"}}\n",
            hex::encode(self.0.to_bytes())
        ));
        write_private(path, text.as_bytes())
    }

    /// Reads a key written by [`Identity::save`].
    pub fn load(path: &Path) -> Result<Identity> {
        #[derive(Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
        #[serde(deny_unknown_fields)]
        struct File {
            version: u32,
            ed25519_secret: String,
        }
        let text = Zeroizing::new(read_limited(path, 4096)?);
        let f: File = serde_json::from_slice(&text).map_err(|e| {
            // serde's message may quote input; keep only its position.
            LedgerError::malformed(
                path.display().to_string(),
                format!("not a key file (line {}, column {})", e.line(), e.column()),
            )
        })?;
        if f.version != 1 {
            return Err(LedgerError::malformed(
                path.display().to_string(),
                format!("unsupported key file version {}", f.version),
            ));
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(f.ed25519_secret.as_bytes(), seed.as_mut()).map_err(|_| {
            LedgerError::malformed(path.display().to_string(), "secret is not 64 hex digits")
        })?;
        Ok(Identity(SigningKey::from_bytes(&seed)))
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({})", self.public())
    }
}

/// Reads at most `limit` bytes of a file, refusing larger ones.
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| LedgerError::io(path, e))?;
    let mut buf = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| LedgerError::io(path, e))?;
    if buf.len() as u64 > limit {
        return Err(LedgerError::malformed(
            path.display().to_string(),
            format!("larger than the limit of {limit} bytes"),
        ));
    }
    Ok(buf)
}

/// Creates `path` (refusing to overwrite) with mode 0600 and writes `bytes`.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| LedgerError::io(path, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| LedgerError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_bad_points_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let id = Identity::generate();
        let p = dir.path().join("k.json");
        id.save(&p).unwrap();
        let again = id.save(&p);
        assert!(
            matches!(&again, Err(LedgerError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists),
            "an existing key file is never overwritten: {again:?}"
        );
        let back = Identity::load(&p).unwrap();
        assert_eq!(back.public(), id.public());
        let sig = id.sign(b"m");
        assert!(id.public().verify(b"m", &sig));
        assert!(!id.public().verify(b"n", &sig));
        // The identity point (small order) and a non-canonical y are refused.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = PublicKey::from_bytes(&identity);
        assert!(
            matches!(&weak, Err(LedgerError::Malformed { what, .. }) if what == "public key"),
            "{weak:?}"
        );
        let not_hex = PublicKey::from_hex("zz");
        assert!(
            matches!(&not_hex, Err(LedgerError::Malformed { what, .. }) if what == "public key"),
            "{not_hex:?}"
        );
        assert!(!format!("{id:?}").contains(&hex::encode(id.0.to_bytes())));
    }
}
