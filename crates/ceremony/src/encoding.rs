//! Points as snarkjs writes them: in its files (`LEM`: affine coordinates in Montgomery form,
//! 32-byte little-endian words, the identity all zeros) and in its hashes (`U`: canonical
//! big-endian coordinates, the G2 ones imaginary part first, the identity all zeros).
//!
//! Reading checks every word is below the modulus, every point is on the curve and in the
//! prime-order subgroup: a file's bytes are untrusted.

use ark_bn254::{Fq, Fq2, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInt, Field, PrimeField};
use rayon::prelude::*;
use std::sync::OnceLock;

use crate::binfile::malformed;

/// Bytes of a G1 point (either encoding).
pub const G1_LEN: usize = 64;
/// Bytes of a G2 point (either encoding).
pub const G2_LEN: usize = 128;

/// Why a point's bytes were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointError {
    /// A coordinate word is not below the field's modulus.
    NotCanonical,
    /// The coordinates are not a point of the curve.
    NotOnCurve,
    /// The point is outside the prime-order subgroup.
    NotInSubgroup,
}

impl std::fmt::Display for PointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PointError::NotCanonical => "a coordinate is not below the field's modulus",
            PointError::NotOnCurve => "not a point of the curve",
            PointError::NotInSubgroup => "not in the prime-order subgroup",
        })
    }
}

/// 2^256 mod q: multiplying by it turns an element into its Montgomery form's value.
fn montgomery_r() -> Fq {
    static R: OnceLock<Fq> = OnceLock::new();
    *R.get_or_init(|| Fq::from(2u64).pow([256]))
}

fn limbs_le(v: BigInt<4>, out: &mut Vec<u8>) {
    for limb in v.0 {
        out.extend_from_slice(&limb.to_le_bytes());
    }
}

fn limbs_be(v: BigInt<4>, out: &mut Vec<u8>) {
    for limb in v.0.iter().rev() {
        out.extend_from_slice(&limb.to_be_bytes());
    }
}

fn fq_lem(x: Fq, out: &mut Vec<u8>) {
    limbs_le((x * montgomery_r()).into_bigint(), out);
}

fn fq_from_lem(bytes: &[u8]) -> Result<Fq, PointError> {
    let mut limbs = [0u64; 4];
    for (limb, word) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
        *limb = u64::from_le_bytes(word.try_into().expect("8-byte chunks"));
    }
    let v = BigInt(limbs);
    if v >= Fq::MODULUS {
        return Err(PointError::NotCanonical);
    }
    Ok(Fq::new_unchecked(v))
}

/// Appends `p` in the `LEM` encoding.
pub fn g1_lem(p: &G1Affine, out: &mut Vec<u8>) {
    match p.xy() {
        Some((x, y)) => {
            fq_lem(x, out);
            fq_lem(y, out);
        }
        None => out.extend_from_slice(&[0; G1_LEN]),
    }
}

/// Appends `p` in the `LEM` encoding.
pub fn g2_lem(p: &G2Affine, out: &mut Vec<u8>) {
    match p.xy() {
        Some((x, y)) => {
            for c in [x.c0, x.c1, y.c0, y.c1] {
                fq_lem(c, out);
            }
        }
        None => out.extend_from_slice(&[0; G2_LEN]),
    }
}

/// Appends `p` in the `U` encoding.
pub fn g1_u(p: &G1Affine, out: &mut Vec<u8>) {
    match p.xy() {
        Some((x, y)) => {
            limbs_be(x.into_bigint(), out);
            limbs_be(y.into_bigint(), out);
        }
        None => out.extend_from_slice(&[0; G1_LEN]),
    }
}

/// Appends `p` in the `U` encoding.
pub fn g2_u(p: &G2Affine, out: &mut Vec<u8>) {
    match p.xy() {
        Some((x, y)) => {
            for c in [x.c1, x.c0, y.c1, y.c0] {
                limbs_be(c.into_bigint(), out);
            }
        }
        None => out.extend_from_slice(&[0; G2_LEN]),
    }
}

/// Reads a G1 point from its `LEM` encoding (exactly [`G1_LEN`] bytes).
pub fn g1_from_lem(bytes: &[u8]) -> Result<G1Affine, PointError> {
    if bytes.iter().all(|b| *b == 0) {
        return Ok(G1Affine::zero());
    }
    let p = G1Affine::new_unchecked(fq_from_lem(&bytes[..32])?, fq_from_lem(&bytes[32..64])?);
    checked(p)
}

/// Reads a G2 point from its `LEM` encoding (exactly [`G2_LEN`] bytes).
pub fn g2_from_lem(bytes: &[u8]) -> Result<G2Affine, PointError> {
    if bytes.iter().all(|b| *b == 0) {
        return Ok(G2Affine::zero());
    }
    let c = |i: usize| fq_from_lem(&bytes[32 * i..32 * (i + 1)]);
    let p = G2Affine::new_unchecked(Fq2::new(c(0)?, c(1)?), Fq2::new(c(2)?, c(3)?));
    checked(p)
}

fn checked<P: ark_ec::short_weierstrass::SWCurveConfig>(
    p: ark_ec::short_weierstrass::Affine<P>,
) -> Result<ark_ec::short_weierstrass::Affine<P>, PointError> {
    if !p.is_on_curve() {
        return Err(PointError::NotOnCurve);
    }
    if !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(PointError::NotInSubgroup);
    }
    Ok(p)
}

/// `points` encoded by `encode` (`len` bytes each), in parallel chunks.
pub fn encode_all<P: Sync>(points: &[P], encode: fn(&P, &mut Vec<u8>), len: usize) -> Vec<u8> {
    let parts: Vec<Vec<u8>> = points
        .par_chunks(1 << 12)
        .map(|chunk| {
            let mut out = Vec::with_capacity(chunk.len() * len);
            chunk.iter().for_each(|p| encode(p, &mut out));
            out
        })
        .collect();
    parts.concat()
}

/// Exactly `count` points of `len` bytes each, decoded (and checked) in parallel; errors name
/// the file (`what`) and the `section`.
pub fn decode_all<P: Send>(
    bytes: &[u8],
    count: usize,
    decode: fn(&[u8]) -> Result<P, PointError>,
    len: usize,
    what: &'static str,
    section: &str,
) -> crate::Result<Vec<P>> {
    if Some(bytes.len()) != count.checked_mul(len) {
        return Err(malformed(
            what,
            &format!("the {section} section does not hold {count} points"),
        ));
    }
    bytes
        .par_chunks(len)
        .enumerate()
        .map(|(i, b)| decode(b).map_err(|e| malformed(what, &format!("{section} point {i}: {e}"))))
        .collect()
}
