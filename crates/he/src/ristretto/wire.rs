//! The exchange format: one JSON document per message, so parties in different processes (or
//! organisations) can pass them around as files or HTTP bodies.
//!
//! Every document is an object with `"version": 1` and a `"kind"` naming what it is; unknown
//! fields are refused. Fixed-size binary items — points, ciphertexts, digests, DLEQ proofs,
//! shares — are lowercase hex of their canonical bytes; range proofs and DKG proofs of
//! possession are elastic-elgamal's own serde encoding (objects of base64url strings).
//! Decoding checks the document's size before parsing, every length before decoding, and
//! decodes points only from canonical ristretto255 encodings.
//!
//! | kind | written by | holds |
//! |---|---|---|
//! | `he-ristretto-key-set` | any authority after the DKG | n, t, joint key, every share key, key id |
//! | `he-ristretto-authority` | an authority, for its own storage (secret) | index, key set, secret share |
//! | `he-ristretto-encrypted-column` | a holder | key id, sum spec id, label, ciphertexts with range proofs |
//! | `he-ristretto-total` | the aggregator | key id, sum spec id, label, count, span, offset, scale, ciphertext |
//! | `he-ristretto-partial-decryption` | an authority | key id, total digest, index, share point, DLEQ proof |
//! | `he-ristretto-dkg-*` | DKG participants | commitment, reveal, share (secret), complaint, answer ([`super::dkg`]) |

use serde::Serialize;

use crate::error::{HeError, Result, clip};

/// Format version written and accepted.
pub const VERSION: u32 = 1;

/// Largest key set or DKG document accepted, in bytes.
pub const MAX_KEY_DOC_BYTES: usize = 1 << 20;
/// Largest authority (secret) document accepted, in bytes.
pub const MAX_SECRET_DOC_BYTES: usize = 1 << 20;
/// Largest DKG message document accepted, in bytes.
pub const MAX_DKG_DOC_BYTES: usize = 1 << 20;
/// Largest total or partial decryption document accepted, in bytes.
pub const MAX_SMALL_DOC_BYTES: usize = 64 << 10;
/// Largest encrypted column document accepted, in bytes.
pub const MAX_COLUMN_DOC_BYTES: usize = 512 << 20;
/// Most values in one encrypted column document (larger columns are split).
pub const MAX_VALUES_PER_DOC: usize = 65_536;

pub(crate) const KIND_KEY_SET: &str = "he-ristretto-key-set";
pub(crate) const KIND_AUTHORITY: &str = "he-ristretto-authority";
pub(crate) const KIND_COLUMN: &str = "he-ristretto-encrypted-column";
pub(crate) const KIND_TOTAL: &str = "he-ristretto-total";
pub(crate) const KIND_PARTIAL: &str = "he-ristretto-partial-decryption";

/// Checks a document's version.
pub(crate) fn check_version(version: u32, what: &str) -> Result<()> {
    if version != VERSION {
        return Err(HeError::UnsupportedVersion {
            what: what.to_string(),
            found: version,
            supported: VERSION,
        });
    }
    Ok(())
}

/// Checks a document's version and kind.
pub(crate) fn check_header(
    version: u32,
    kind: &str,
    expected: &'static str,
    what: &str,
) -> Result<()> {
    check_version(version, what)?;
    if kind != expected {
        return Err(HeError::WrongKind {
            what: what.to_string(),
            found: clip(kind),
            expected,
        });
    }
    Ok(())
}

/// Serializes a document. The document types hold only strings, integers and elastic-elgamal
/// proof objects, which always serialize.
pub(crate) fn to_json<T: Serialize>(doc: &T) -> String {
    serde_json::to_string(doc).unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
}
