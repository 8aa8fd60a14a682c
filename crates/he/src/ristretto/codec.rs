//! Validated decoding of the fixed-size binary items: hex text, ristretto255 points, scalars.
//!
//! Every decoder checks the length before it decodes, and a point decodes only from its
//! canonical encoding (curve25519-dalek's ristretto decompression refuses every other one).

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::traits::IsIdentity;
use elastic_elgamal::group::Ristretto;
use elastic_elgamal::{Ciphertext, LogEqualityProof, PublicKey};
use zeroize::Zeroizing;

use serde_json::error::Category;

use crate::error::{HeError, JsonCause, Result, clip};

/// Size of an encoded point.
pub(crate) const POINT_BYTES: usize = 32;
/// Size of an encoded ciphertext: two points.
pub(crate) const CIPHERTEXT_BYTES: usize = 64;
/// Size of an encoded DLEQ proof: two scalars.
pub(crate) const DLEQ_PROOF_BYTES: usize = 64;

/// Decodes hex text of exactly `N` bytes; the length is checked before anything is decoded.
pub(crate) fn hex_array<const N: usize>(text: &str, what: &str) -> Result<[u8; N]> {
    if text.len() != 2 * N {
        return Err(HeError::Format {
            what: what.to_string(),
            reason: format!("expected {} hex digits, got {}", 2 * N, text.len()),
        });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|e| HeError::Format {
        what: what.to_string(),
        reason: format!("not hex: {e}"),
    })?;
    Ok(out)
}

/// Decodes secret hex text of exactly `N` bytes into zeroizing storage.
pub(crate) fn hex_secret<const N: usize>(text: &str, what: &str) -> Result<Zeroizing<[u8; N]>> {
    let mut out = Zeroizing::new([0u8; N]);
    if text.len() != 2 * N {
        return Err(HeError::Format {
            what: what.to_string(),
            reason: format!("expected {} hex digits, got {}", 2 * N, text.len()),
        });
    }
    hex::decode_to_slice(text, out.as_mut()).map_err(|_| HeError::Format {
        what: what.to_string(),
        reason: "not hex".into(),
    })?;
    Ok(out)
}

/// Decodes a canonical ristretto255 point encoding.
pub(crate) fn point(bytes: &[u8], what: &str) -> Result<RistrettoPoint> {
    let compressed = CompressedRistretto::from_slice(bytes).map_err(|_| HeError::Format {
        what: what.to_string(),
        reason: format!("a point is {POINT_BYTES} bytes, got {}", bytes.len()),
    })?;
    compressed
        .decompress()
        .ok_or_else(|| HeError::MalformedPoint {
            what: what.to_string(),
        })
}

/// Decodes a canonical point that must not be the identity.
pub(crate) fn non_identity_point(bytes: &[u8], what: &str) -> Result<RistrettoPoint> {
    let p = point(bytes, what)?;
    if p.is_identity() {
        return Err(HeError::IdentityPoint {
            what: what.to_string(),
        });
    }
    Ok(p)
}

/// Decodes a public key (canonical, not the identity).
pub(crate) fn public_key(bytes: &[u8], what: &str) -> Result<PublicKey<Ristretto>> {
    non_identity_point(bytes, what)?;
    PublicKey::from_bytes(bytes).map_err(|e| HeError::MalformedPoint {
        what: format!("{what} ({e})"),
    })
}

/// Decodes a ciphertext: two canonical points, the first (the randomness `r·G`) not the identity.
pub(crate) fn ciphertext(bytes: &[u8], what: &str) -> Result<Ciphertext<Ristretto>> {
    if bytes.len() != CIPHERTEXT_BYTES {
        return Err(HeError::Format {
            what: what.to_string(),
            reason: format!(
                "a ciphertext is {CIPHERTEXT_BYTES} bytes, got {}",
                bytes.len()
            ),
        });
    }
    let r = non_identity_point(&bytes[..32], &format!("{what} (random element)"))?;
    let b = point(&bytes[32..], &format!("{what} (blinded element)"))?;
    Ok(Ciphertext::from_elements(r, b))
}

/// Decodes a ciphertext of two canonical points, either of which may be the identity (a total).
pub(crate) fn ciphertext_allowing_identity(
    bytes: &[u8],
    what: &str,
) -> Result<Ciphertext<Ristretto>> {
    if bytes.len() != CIPHERTEXT_BYTES {
        return Err(HeError::Format {
            what: what.to_string(),
            reason: format!(
                "a ciphertext is {CIPHERTEXT_BYTES} bytes, got {}",
                bytes.len()
            ),
        });
    }
    let r = point(&bytes[..32], &format!("{what} (random element)"))?;
    let b = point(&bytes[32..], &format!("{what} (blinded element)"))?;
    Ok(Ciphertext::from_elements(r, b))
}

/// Encodes a ciphertext as its 64 bytes.
pub(crate) fn ciphertext_bytes(c: &Ciphertext<Ristretto>) -> [u8; CIPHERTEXT_BYTES] {
    let mut out = [0u8; CIPHERTEXT_BYTES];
    out[..32].copy_from_slice(c.random_element().compress().as_bytes());
    out[32..].copy_from_slice(c.blinded_element().compress().as_bytes());
    out
}

/// Decodes a Chaum–Pedersen (DLEQ) proof: two canonical scalars.
pub(crate) fn dleq_proof(bytes: &[u8], what: &str) -> Result<LogEqualityProof<Ristretto>> {
    if bytes.len() != DLEQ_PROOF_BYTES {
        return Err(HeError::Format {
            what: what.to_string(),
            reason: format!("a proof is {DLEQ_PROOF_BYTES} bytes, got {}", bytes.len()),
        });
    }
    LogEqualityProof::from_bytes(bytes).ok_or_else(|| HeError::MalformedScalar {
        what: what.to_string(),
        reason: "proof scalars are not canonical".into(),
    })
}

/// Parses JSON after checking the size limit; errors are clipped so input cannot flood a log.
pub(crate) fn json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &str,
    limit: usize,
) -> Result<T> {
    if bytes.len() > limit {
        return Err(HeError::TooLarge {
            what: what.to_string(),
            size: bytes.len() as u64,
            limit: limit as u64,
            unit: "bytes",
        });
    }
    serde_json::from_slice(bytes).map_err(|e| HeError::Json {
        what: what.to_string(),
        cause: match e.classify() {
            Category::Eof => JsonCause::Truncated,
            Category::Data => JsonCause::Shape,
            Category::Syntax | Category::Io => JsonCause::Syntax,
        },
        reason: clip(&e.to_string()),
    })
}
