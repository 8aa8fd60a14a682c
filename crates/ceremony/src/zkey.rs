//! snarkjs's Groth16 `.zkey` file, read: the header (curve, sizes, α, β, γ, δ), and the key's
//! points (IC, A, B in G1 and G2, C, H), every point checked on the curve and in its subgroup.
//! The constraint coefficients (section 4) and the phase-2 contributions (section 10) are not
//! read yet. [`Zkey::proving_key`] turns the key into arkworks' form.
//!
//! Its keys follow the QAP arkworks' generator builds (the same variables, Lagrange basis and
//! input rows, with γ = 1) except for `H`, which snarkjs evaluates on the odd coset of the
//! doubled domain (circom's reduction) where arkworks keeps `τ^i·Z(τ)`.

use ark_bn254::{Bn254, Fq, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::PrimeField;
use ark_groth16::{ProvingKey, VerifyingKey};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use rayon::prelude::*;

use crate::binfile::{Reader, Sections, malformed};
use crate::encoding::{G1_LEN, G2_LEN, PointError, g1_from_lem, g2_from_lem};
use crate::start::fft_in_place;

const MAGIC: &[u8; 4] = b"zkey";
const VERSION: u32 = 1;
const WHAT: &str = "zkey file";
/// The largest domain read (2^28, BN254's roots of unity).
const MAX_DOMAIN: u32 = 1 << 28;

/// A Groth16 `.zkey`'s header and points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zkey {
    /// Variables (wires), the constant one included.
    pub variables: usize,
    /// Public inputs (and outputs).
    pub public: usize,
    /// The QAP domain's size.
    pub domain: usize,
    /// α in G1.
    pub alpha_g1: G1Affine,
    /// β in G1.
    pub beta_g1: G1Affine,
    /// β in G2.
    pub beta_g2: G2Affine,
    /// γ in G2 (the generator: snarkjs takes γ = 1).
    pub gamma_g2: G2Affine,
    /// δ in G1.
    pub delta_g1: G1Affine,
    /// δ in G2.
    pub delta_g2: G2Affine,
    /// The inputs' points (`public + 1`).
    pub ic: Vec<G1Affine>,
    /// `A_i(τ)` per variable.
    pub a: Vec<G1Affine>,
    /// `B_i(τ)` in G1 per variable.
    pub b_g1: Vec<G1Affine>,
    /// `B_i(τ)` in G2 per variable.
    pub b_g2: Vec<G2Affine>,
    /// The witness variables' points, divided by δ.
    pub c: Vec<G1Affine>,
    /// `H`, on the odd coset of the doubled domain, divided by δ.
    pub h: Vec<G1Affine>,
}

fn points<P: Send>(
    s: &Sections<'_>,
    id: u32,
    count: usize,
    decode: fn(&[u8]) -> Result<P, PointError>,
    len: usize,
) -> crate::Result<Vec<P>> {
    let bytes = s.require(id, WHAT)?;
    if bytes.len() != count * len {
        return Err(malformed(
            WHAT,
            &format!("section {id} does not hold {count} points"),
        ));
    }
    bytes
        .par_chunks(len)
        .enumerate()
        .map(|(i, b)| {
            decode(b).map_err(|e| malformed(WHAT, &format!("section {id} point {i}: {e}")))
        })
        .collect()
}

impl Zkey {
    /// The key in arkworks' form, so that the stock `ark_groth16` prover (libsnark's reduction)
    /// proves with it. Everything but `H` carries over; `H` is turned from snarkjs's odd-coset
    /// points into `τ^i·Z(τ)/δ`: with ω the doubled domain's root, `x^i·Z(x)` is 0 on the even
    /// points and `−2·ω^{i(2m+1)}` on the odd point `2m+1`, so `h_i = −2·ω^i·FFT(H)_i` (one group
    /// FFT). This reads the key as it is: check it first (`snarkjs zkey verify`).
    pub fn proving_key(&self) -> ProvingKey<Bn254> {
        let n = self.domain;
        let small = Radix2EvaluationDomain::<Fr>::new(n).expect("a radix-2 size");
        let doubled = Radix2EvaluationDomain::<Fr>::new(2 * n).expect("a radix-2 size");
        let mut h = self.h.clone();
        fft_in_place(&small, &mut h);
        let twiddles: Vec<Fr> = doubled.elements().take(n - 1).collect();
        let h: Vec<G1Projective> = h[..n - 1]
            .par_iter()
            .zip(&twiddles)
            .map(|(p, w)| p.into_group() * (-Fr::from(2u64) * w))
            .collect();
        let vk = VerifyingKey {
            alpha_g1: self.alpha_g1,
            beta_g2: self.beta_g2,
            gamma_g2: self.gamma_g2,
            delta_g2: self.delta_g2,
            gamma_abc_g1: self.ic.clone(),
        };
        ProvingKey {
            vk,
            beta_g1: self.beta_g1,
            delta_g1: self.delta_g1,
            a_query: self.a.clone(),
            b_g1_query: self.b_g1.clone(),
            b_g2_query: self.b_g2.clone(),
            h_query: G1Projective::normalize_batch(&h),
            l_query: self.c.clone(),
        }
    }

    /// Reads a Groth16 `.zkey` over BN254.
    pub fn from_bytes(bytes: &[u8]) -> crate::Result<Zkey> {
        let s = Sections::read(bytes, MAGIC, VERSION, WHAT)?;
        let mut r = Reader {
            rest: s.require(1, WHAT)?,
            what: WHAT,
        };
        if r.u32()? != 1 {
            return Err(malformed(WHAT, "not a Groth16 key"));
        }
        r.finish()?;
        let mut h = Reader {
            rest: s.require(2, WHAT)?,
            what: WHAT,
        };
        let modulus = |m: ark_ff::BigInt<4>| -> Vec<u8> {
            m.0.iter().flat_map(|l| l.to_le_bytes()).collect()
        };
        if h.u32()? != 32 || h.take(32)? != modulus(Fq::MODULUS).as_slice() {
            return Err(malformed(WHAT, "not over BN254 (bn128)"));
        }
        if h.u32()? != 32 || h.take(32)? != modulus(Fr::MODULUS).as_slice() {
            return Err(malformed(WHAT, "not over BN254 (bn128)"));
        }
        let (variables, public, domain) = (h.u32()?, h.u32()?, h.u32()?);
        if public >= variables || !domain.is_power_of_two() || domain > MAX_DOMAIN {
            return Err(malformed(WHAT, "inconsistent sizes"));
        }
        let g1 = |h: &mut Reader<'_>| -> crate::Result<G1Affine> {
            g1_from_lem(h.take(G1_LEN)?).map_err(|e| malformed(WHAT, &format!("header: {e}")))
        };
        let g2 = |h: &mut Reader<'_>| -> crate::Result<G2Affine> {
            g2_from_lem(h.take(G2_LEN)?).map_err(|e| malformed(WHAT, &format!("header: {e}")))
        };
        let alpha_g1 = g1(&mut h)?;
        let beta_g1 = g1(&mut h)?;
        let beta_g2 = g2(&mut h)?;
        let gamma_g2 = g2(&mut h)?;
        let delta_g1 = g1(&mut h)?;
        let delta_g2 = g2(&mut h)?;
        h.finish()?;
        let (v, p, d) = (variables as usize, public as usize, domain as usize);
        Ok(Zkey {
            variables: v,
            public: p,
            domain: d,
            alpha_g1,
            beta_g1,
            beta_g2,
            gamma_g2,
            delta_g1,
            delta_g2,
            ic: points(&s, 3, p + 1, g1_from_lem, G1_LEN)?,
            a: points(&s, 5, v, g1_from_lem, G1_LEN)?,
            b_g1: points(&s, 6, v, g1_from_lem, G1_LEN)?,
            b_g2: points(&s, 7, v, g2_from_lem, G2_LEN)?,
            c: points(&s, 8, v - p - 1, g1_from_lem, G1_LEN)?,
            h: points(&s, 9, d, g1_from_lem, G1_LEN)?,
        })
    }
}
