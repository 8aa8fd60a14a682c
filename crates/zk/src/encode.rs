//! Text encodings of field elements and byte strings for the JSON file formats, decoded with
//! validation: fixed length, hex only, field elements strictly below the modulus.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use serde::{Deserialize, Deserializer, Serializer};

use crate::error::{FormatProblem, Result, ZkError};

/// `0x` + 64 hex digits, big-endian (the convention of EVM tooling).
pub fn fr_to_hex(x: &Fr) -> String {
    format!("0x{}", hex::encode(x.into_bigint().to_bytes_be()))
}

/// Parses [`fr_to_hex`] output; rejects other lengths and values `>= p`.
pub fn fr_from_hex(s: &str, what: &str) -> Result<Fr> {
    let bad = |reason| ZkError::Format {
        what: what.to_string(),
        reason,
    };
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| bad(FormatProblem::FieldPrefix))?;
    if digits.len() != 64 {
        return Err(bad(FormatProblem::FieldLength {
            digits: digits.len(),
        }));
    }
    let bytes = hex::decode(digits).map_err(|e| bad(FormatProblem::Hex(e)))?;
    let mut limbs = [0u64; 4];
    for (i, chunk) in bytes.rchunks(8).enumerate() {
        limbs[i] = u64::from_be_bytes(chunk.try_into().expect("8 bytes"));
    }
    Fr::from_bigint(ark_ff::BigInt(limbs)).ok_or_else(|| bad(FormatProblem::FieldNotBelowModulus))
}

/// Maps 32 bytes (a SHA-256 digest) to a field element by reduction mod p.
pub fn fr_from_digest(d: &[u8; 32]) -> Fr {
    Fr::from_be_bytes_mod_order(d)
}

/// Serde adapter for `Fr` as [`fr_to_hex`].
pub mod fr_hex {
    use super::*;
    /// Serializes.
    pub fn serialize<S: Serializer>(x: &Fr, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&fr_to_hex(x))
    }
    /// Deserializes with validation.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Fr, D::Error> {
        let s = String::deserialize(d)?;
        fr_from_hex(&s, "field element").map_err(serde::de::Error::custom)
    }
}

/// Serde adapter for `Vec<Fr>`.
pub mod fr_hex_vec {
    use super::*;
    /// Serializes.
    pub fn serialize<S: Serializer>(x: &[Fr], s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(x.iter().map(fr_to_hex))
    }
    /// Deserializes with validation.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<Fr>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| fr_from_hex(s, "field element").map_err(serde::de::Error::custom))
            .collect()
    }
}

/// Serde adapter for 32-byte digests as 64 hex digits.
pub mod digest_hex {
    use super::*;
    /// Serializes.
    pub fn serialize<S: Serializer>(x: &[u8; 32], s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(x))
    }
    /// Deserializes with validation.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        let v = hex::decode(&s).map_err(serde::de::Error::custom)?;
        v.try_into()
            .map_err(|_| serde::de::Error::custom("expected 32 bytes (64 hex digits)"))
    }
}
