//! Phase 2 of a Groth16 setup ceremony (Bowe–Gabizon–Miers 2017), exactly as snarkjs runs it,
//! so that a state *is* a snarkjs `.zkey` ([`crate::zkey`]): snarkjs contributes to and
//! verifies our states, and we to and of its.
//!
//! Per circuit, each contributor picks a secret `d`, multiplies δ by it (in G1 and G2), divides
//! the `L` (snarkjs's `C`) and `H` queries by it, and publishes a proof of knowledge of `d`: a
//! random G1 point `s`, `s·d`, and `r·d` where `r` is the G2 point
//! ([`crate::sampling::hash_to_g2`]) of its transcript, the BLAKE2b-512 of the circuit's hash
//! ([`Phase2::cs_hash`], fixed by the start), every earlier contribution's public key and
//! `(s, s·d)`. A public beacon can close the chain: its secret is drawn from the beacon, so
//! anyone re-derives it. The keys are sound if any one contributor destroyed its `d`.
//!
//! [`Phase2::verify`] checks the whole chain against the initial state: every transcript follows
//! the contributions before it (nothing skipped, reordered or replayed), every proof of
//! knowledge and every δ step pairs with the transcript's point, a beacon's key is the one its
//! beacon derives, the final δ is the last contribution's and agrees in G1 and G2, `L` and `H`
//! were divided by exactly what δ was multiplied by (random linear combinations), and nothing
//! else changed.

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{Field, UniformRand, Zero};
use ark_groth16::{ProvingKey, VerifyingKey};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use blake2::{Blake2b512, Digest};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;
use zeroize::Zeroize;

use crate::encoding::{g1_u, g2_u};
use crate::error::{CeremonyError, Check};
use crate::record::{Source, check_beacon, checked_name};
use crate::sampling::{SnarkjsRng, hash_to_g2, nonzero};
use crate::start::fft_in_place;

/// One coefficient of the A or B matrix, as a `.zkey` keeps the circuit (section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coef {
    /// 0 for A, 1 for B.
    pub matrix: u32,
    /// Its row: a constraint, or `constraints + i` for public input `i`'s extra row.
    pub constraint: u32,
    /// Its wire.
    pub signal: u32,
    /// Its value.
    pub value: Fr,
}

/// One contribution's public record, as snarkjs keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// δ in G1 after it.
    pub delta_after: G1Affine,
    /// Its proof of knowledge: a random point `s`...
    pub s: G1Affine,
    /// ... `s·d` ...
    pub s_delta: G1Affine,
    /// ... and `r·d`, `r` the G2 point of [`Contribution::transcript`].
    pub r_delta: G2Affine,
    /// Its transcript hash (the circuit's hash, the public keys before it, `s` and `s·d`).
    pub transcript: [u8; 64],
    /// Where its secret came from.
    pub source: Source,
    /// Its contributor's name, if given.
    pub name: Option<String>,
}

impl Contribution {
    /// Feeds its public key to `h`, as the transcripts after it and its hash take it.
    fn hash_key(&self, h: &mut Blake2b512) {
        let mut bytes = Vec::with_capacity(3 * 64 + 128 + 64);
        g1_u(&self.delta_after, &mut bytes);
        g1_u(&self.s, &mut bytes);
        g1_u(&self.s_delta, &mut bytes);
        g2_u(&self.r_delta, &mut bytes);
        bytes.extend_from_slice(&self.transcript);
        h.update(&bytes);
    }

    /// Its hash (BLAKE2b-512 of its public key), which its contributor publishes and
    /// `snarkjs zkey verify` prints.
    pub fn hash(&self) -> [u8; 64] {
        let mut h = Blake2b512::new();
        self.hash_key(&mut h);
        h.finalize().into()
    }
}

/// A phase-2 state: a circuit's Groth16 parameters as a `.zkey` holds them, and every
/// contribution so far.
#[derive(Clone, PartialEq, Eq)]
pub struct Phase2 {
    /// Wires, the constant one included.
    pub variables: usize,
    /// Public inputs (the constant one excluded).
    pub public: usize,
    /// The QAP domain's size.
    pub domain: usize,
    /// α in G1.
    pub alpha_g1: G1Affine,
    /// β in G1.
    pub beta_g1: G1Affine,
    /// β in G2.
    pub beta_g2: G2Affine,
    /// γ in G2 (the generator).
    pub gamma_g2: G2Affine,
    /// δ in G1.
    pub delta_g1: G1Affine,
    /// δ in G2.
    pub delta_g2: G2Affine,
    /// The public inputs' points (`public + 1`).
    pub ic: Vec<G1Affine>,
    /// The A and B matrices' coefficients.
    pub coefs: Vec<Coef>,
    /// `A_i(τ)` per wire.
    pub a: Vec<G1Affine>,
    /// `B_i(τ)` in G1 per wire.
    pub b_g1: Vec<G1Affine>,
    /// `B_i(τ)` in G2 per wire.
    pub b_g2: Vec<G2Affine>,
    /// The witness wires' points divided by δ (arkworks' `L` query).
    pub c: Vec<G1Affine>,
    /// `H` on the odd coset of the doubled domain (circom's reduction), divided by δ.
    pub h: Vec<G1Affine>,
    /// The circuit's hash, fixed by the start: every transcript begins with it.
    pub cs_hash: [u8; 64],
    /// The contributions, in order.
    pub contributions: Vec<Contribution>,
}

impl std::fmt::Debug for Phase2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Phase2")
            .field("variables", &self.variables)
            .field("domain", &self.domain)
            .field("contributions", &self.contributions.len())
            .finish_non_exhaustive()
    }
}

/// Whether `e(a, d) == e(b, c)`: `(a, b)` and `(c, d)` are in the same ratio.
fn same_ratio(a: G1Affine, b: G1Affine, c: G2Affine, d: G2Affine) -> bool {
    Bn254::multi_pairing([a, (-b.into_group()).into_affine()], [d, c]).is_zero()
}

/// Every point of `points` times `k`, in parallel (from projective points: arkworks
/// multiplies those with the GLV endomorphism on BN254, affine ones by double-and-add).
fn scale(points: &[G1Affine], k: Fr) -> Vec<G1Affine> {
    let scaled: Vec<G1Projective> = points.par_iter().map(|p| p.into_group() * k).collect();
    G1Projective::normalize_batch(&scaled)
}

impl Phase2 {
    /// The running transcript: the circuit's hash and every contribution's public key.
    fn transcript_hasher(&self) -> Blake2b512 {
        let mut h = Blake2b512::new();
        h.update(self.cs_hash);
        self.contributions.iter().for_each(|c| c.hash_key(&mut h));
        h
    }

    /// Contributes a fresh secret from `rng` (erased before it returns) under `name` (at most
    /// [`crate::record::MAX_NAME`] bytes) and returns its record.
    pub fn contribute<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        name: Option<&str>,
    ) -> crate::Result<&Contribution> {
        let name = checked_name(name)?;
        let mut d = nonzero(rng);
        let s = loop {
            let s = G1Projective::rand(rng).into_affine();
            if !s.is_zero() {
                break s;
            }
        };
        self.apply(&d, s, Source::Secret, name);
        d.zeroize();
        Ok(self.contributions.last().expect("just pushed"))
    }

    /// Contributes a secret anyone re-derives from a public beacon: `hash` (1 to 255 bytes)
    /// SHA-256'd `2^iterations_exp` times (at most [`crate::record::MAX_BEACON_EXP`]), as
    /// `snarkjs zkey beacon` does.
    pub fn beacon(
        &mut self,
        hash: &[u8],
        iterations_exp: u8,
        name: Option<&str>,
    ) -> crate::Result<&Contribution> {
        check_beacon(hash, iterations_exp)?;
        let name = checked_name(name)?;
        let (d, s) = beacon_key(hash, iterations_exp);
        if d.is_zero() || s.is_zero() {
            return Err(CeremonyError::BadBeacon);
        }
        let source = Source::Beacon {
            hash: hash.to_vec(),
            iterations_exp,
        };
        self.apply(&d, s, source, name);
        Ok(self.contributions.last().expect("just pushed"))
    }

    /// Multiplies δ by `d` (non-zero), divides `L` and `H` by it and records the proof of
    /// knowledge with random point `s`.
    fn apply(&mut self, d: &Fr, s: G1Affine, source: Source, name: Option<String>) {
        let mut d_inverse = d.inverse().expect("non-zero");
        let s_delta = (s * d).into_affine();
        let mut h = self.transcript_hasher();
        let mut key = Vec::with_capacity(128);
        g1_u(&s, &mut key);
        g1_u(&s_delta, &mut key);
        h.update(&key);
        let transcript: [u8; 64] = h.finalize().into();
        let r_delta = (hash_to_g2(&transcript) * d).into_affine();
        self.delta_g1 = (self.delta_g1 * d).into_affine();
        self.delta_g2 = (self.delta_g2 * d).into_affine();
        self.c = scale(&self.c, d_inverse);
        self.h = scale(&self.h, d_inverse);
        d_inverse.zeroize();
        self.contributions.push(Contribution {
            delta_after: self.delta_g1,
            s,
            s_delta,
            r_delta,
            transcript,
            source,
            name,
        });
    }

    /// Checks the whole chain from `initial` (a start with no contribution) to this state (see
    /// the module's doc); `rng` draws the verifier's random linear combinations of `L` and `H`.
    pub fn verify<R: RngCore>(&self, initial: &Phase2, rng: &mut R) -> crate::Result<()> {
        let q = initial;
        if !q.contributions.is_empty() || self.cs_hash != q.cs_hash {
            return Err(CeremonyError::OtherStart);
        }
        let changed = |what| Err(CeremonyError::Final(Check::Changed(what)));
        if (self.variables, self.public, self.domain) != (q.variables, q.public, q.domain) {
            return changed("the circuit's sizes");
        }
        if self.alpha_g1 != q.alpha_g1 {
            return changed("alpha");
        }
        if self.beta_g1 != q.beta_g1 || self.beta_g2 != q.beta_g2 {
            return changed("beta");
        }
        if self.gamma_g2 != q.gamma_g2 || self.ic != q.ic {
            return changed("gamma");
        }
        if self.coefs != q.coefs {
            return changed("the constraint coefficients");
        }
        if self.a != q.a || self.b_g1 != q.b_g1 || self.b_g2 != q.b_g2 {
            return changed("the A and B queries");
        }
        if self.c.len() != q.c.len() || self.h.len() != q.h.len() {
            return changed("the number of L or H elements");
        }
        let mut transcript = Blake2b512::new();
        transcript.update(self.cs_hash);
        let mut delta = q.delta_g1;
        for (index, c) in self.contributions.iter().enumerate() {
            let refuse = |check| Err(CeremonyError::Contribution { index, check });
            for (what, zero) in [
                ("delta", c.delta_after.is_zero()),
                ("s", c.s.is_zero()),
                ("s*d", c.s_delta.is_zero()),
                ("r*d", c.r_delta.is_zero()),
            ] {
                if zero {
                    return refuse(Check::ZeroPoint(what));
                }
            }
            let mut ours = transcript.clone();
            let mut key = Vec::with_capacity(128);
            g1_u(&c.s, &mut key);
            g1_u(&c.s_delta, &mut key);
            ours.update(&key);
            if <[u8; 64]>::from(ours.finalize()) != c.transcript {
                return refuse(Check::Transcript);
            }
            let r = hash_to_g2(&c.transcript);
            if !same_ratio(c.s, c.s_delta, r, c.r_delta) {
                return refuse(Check::ProofOfKnowledge);
            }
            if !same_ratio(delta, c.delta_after, r, c.r_delta) {
                return refuse(Check::DeltaNotExtended);
            }
            if let Source::Beacon {
                hash,
                iterations_exp,
            } = &c.source
            {
                check_beacon(hash, *iterations_exp).map_err(|_| CeremonyError::Contribution {
                    index,
                    check: Check::Beacon,
                })?;
                let (d, s) = beacon_key(hash, *iterations_exp);
                if c.s != s || c.s_delta != (s * d).into_affine() {
                    return refuse(Check::Beacon);
                }
            }
            c.hash_key(&mut transcript);
            delta = c.delta_after;
        }
        if self.delta_g1 != delta {
            return Err(CeremonyError::Final(Check::FinalDelta));
        }
        if !same_ratio(q.delta_g1, self.delta_g1, q.delta_g2, self.delta_g2) {
            return Err(CeremonyError::Final(Check::DeltaG2));
        }
        // L·δ is what it was: e(Σρ·L_now, δ_now) = e(Σρ·L_initial, δ_initial); H alike.
        for (which, now, before) in [("L", &self.c, &q.c), ("H", &self.h, &q.h)] {
            let rho: Vec<Fr> = (0..now.len()).map(|_| Fr::rand(rng)).collect();
            let combine = |points: &[G1Affine]| {
                G1Projective::msm(points, &rho)
                    .expect("as many scalars as points")
                    .into_affine()
            };
            let (now, before) = (combine(now), combine(before));
            if !same_ratio(now, before, q.delta_g2, self.delta_g2) {
                return Err(CeremonyError::Final(Check::Query(which)));
            }
        }
        Ok(())
    }

    /// The key in arkworks' form, so that the stock `ark_groth16` prover (libsnark's reduction)
    /// proves with it. Everything but `H` carries over; `H` is turned from the odd-coset points
    /// into `τ^i·Z(τ)/δ`: with ω the doubled domain's root, `x^i·Z(x)` is 0 on the even points
    /// and `−2·ω^{i(2m+1)}` on the odd point `2m+1`, so `h_i = −2·ω^i·FFT(H)_i` (one group FFT).
    /// This takes the state as it is: verify it first.
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
        ProvingKey {
            vk: self.verifying_key(),
            beta_g1: self.beta_g1,
            delta_g1: self.delta_g1,
            a_query: self.a.clone(),
            b_g1_query: self.b_g1.clone(),
            b_g2_query: self.b_g2.clone(),
            h_query: G1Projective::normalize_batch(&h),
            l_query: self.c.clone(),
        }
    }

    /// The verifying key.
    pub fn verifying_key(&self) -> VerifyingKey<Bn254> {
        VerifyingKey {
            alpha_g1: self.alpha_g1,
            beta_g2: self.beta_g2,
            gamma_g2: self.gamma_g2,
            delta_g2: self.delta_g2,
            gamma_abc_g1: self.ic.clone(),
        }
    }
}

/// A beacon's secret and proof-of-knowledge point, drawn as snarkjs draws them.
fn beacon_key(hash: &[u8], iterations_exp: u8) -> (Fr, G1Affine) {
    let mut rng = SnarkjsRng::from_beacon(hash, iterations_exp);
    let d = rng.fr();
    (d, rng.g1())
}
