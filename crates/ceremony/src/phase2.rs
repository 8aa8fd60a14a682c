//! Phase 2 of a Groth16 setup ceremony (Bowe–Gabizon–Miers 2017, as in Zcash's Sapling
//! ceremony and snarkjs): per circuit, each contributor picks a secret `d`, multiplies δ by it
//! (in G1 and G2), divides the `L` and `H` queries by it, and publishes a proof of knowledge of
//! `d`: a random G1 point `s`, `s·d`, and `r·d` where `r` is the G2 point of the transcript
//! hash over everything before it and `(s, s·d)` ([`crate::transcript`]). The keys are sound if
//! any one contributor destroyed its `d`.
//!
//! [`Phase2::verify`] checks the whole chain against the initial parameters: every transcript
//! follows the one before (nothing skipped, reordered or replayed), every proof of knowledge
//! and every δ step pairs with the transcript's point, the final δ is the last contribution's
//! and agrees in G1 and G2, `L` and `H` were divided by exactly what δ was multiplied by
//! (checked on random linear combinations), and nothing else changed.

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{Field, UniformRand, Zero};
use ark_groth16::ProvingKey;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;
use zeroize::Zeroize;

use crate::error::{CeremonyError, Check};
use crate::sampling::nonzero;
use crate::transcript::{bytes, hash, hash_to_g2};

/// The format version of a phase-2 state file.
pub const VERSION: u32 = 1;
/// What every phase-2 state file starts with.
const MAGIC: &[u8; 16] = b"trustspace-ph2\0\0";
/// Domain separation of the transcript's start and steps.
const START_TAG: &[u8] = b"trustspace/phase2/start/v1";
const STEP_TAG: &[u8] = b"trustspace/phase2/contribution/v1";

/// One contribution's public record.
#[derive(Debug, Clone, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct Contribution {
    /// δ in G1 after it.
    pub delta_after: G1Affine,
    /// Its proof of knowledge: a random point `s`...
    pub s: G1Affine,
    /// ... `s·d` ...
    pub s_delta: G1Affine,
    /// ... and `r·d`, `r` the G2 point of [`Contribution::transcript`].
    pub r_delta: G2Affine,
    /// The transcript hash after it (the previous one, `s` and `s·d`).
    pub transcript: [u8; 64],
}

/// A phase-2 state: the current parameters and every contribution so far.
#[derive(Clone, PartialEq, CanonicalSerialize, CanonicalDeserialize)]
pub struct Phase2 {
    /// The transcript's start: the hash of the initial parameters.
    pub start: [u8; 64],
    /// The parameters after the last contribution (the proving key, with its verifying key).
    pub params: ProvingKey<Bn254>,
    /// The contributions, in order.
    pub contributions: Vec<Contribution>,
}

impl std::fmt::Debug for Phase2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Phase2")
            .field("contributions", &self.contributions.len())
            .field("constraints_h", &self.params.h_query.len())
            .finish_non_exhaustive()
    }
}

/// The transcript's start for initial parameters `initial`.
fn start_of(initial: &ProvingKey<Bn254>) -> [u8; 64] {
    hash(&[START_TAG, &bytes(initial)])
}

/// The transcript after a contribution with public key `(s, s_delta)` following `previous`.
fn step(previous: &[u8; 64], s: &G1Affine, s_delta: &G1Affine) -> [u8; 64] {
    hash(&[STEP_TAG, previous, &bytes(s), &bytes(s_delta)])
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
    /// The start of phase 2 from `initial`, the circuit's parameters.
    pub fn new(initial: ProvingKey<Bn254>) -> Phase2 {
        Phase2 {
            start: start_of(&initial),
            params: initial,
            contributions: Vec::new(),
        }
    }

    /// The transcript hash so far (what the next contribution extends).
    pub fn transcript(&self) -> [u8; 64] {
        self.contributions
            .last()
            .map_or(self.start, |c| c.transcript)
    }

    /// Contributes a fresh secret from `rng` (erased before it returns) and returns its record.
    pub fn contribute<R: RngCore + CryptoRng>(&mut self, rng: &mut R) -> &Contribution {
        let mut d = nonzero(rng);
        let mut d_inverse = d.inverse().expect("non-zero");
        let s = G1Projective::rand(rng).into_affine();
        let s_delta = (s * d).into_affine();
        let transcript = step(&self.transcript(), &s, &s_delta);
        let r_delta = (hash_to_g2(&transcript) * d).into_affine();
        let p = &mut self.params;
        p.delta_g1 = (p.delta_g1 * d).into_affine();
        p.vk.delta_g2 = (p.vk.delta_g2 * d).into_affine();
        p.h_query = scale(&p.h_query, d_inverse);
        p.l_query = scale(&p.l_query, d_inverse);
        d.zeroize();
        d_inverse.zeroize();
        self.contributions.push(Contribution {
            delta_after: p.delta_g1,
            s,
            s_delta,
            r_delta,
            transcript,
        });
        self.contributions.last().expect("just pushed")
    }

    /// Checks the whole chain from `initial` to these parameters (see the module's doc);
    /// `rng` draws the verifier's random linear combinations of `L` and `H`.
    pub fn verify<R: RngCore>(
        &self,
        initial: &ProvingKey<Bn254>,
        rng: &mut R,
    ) -> crate::Result<()> {
        if self.start != start_of(initial) {
            return Err(CeremonyError::OtherStart);
        }
        let (p, q) = (&self.params, initial);
        let changed = |what| Err(CeremonyError::Final(Check::Changed(what)));
        if p.vk.alpha_g1 != q.vk.alpha_g1 {
            return changed("alpha");
        }
        if p.vk.beta_g2 != q.vk.beta_g2 || p.beta_g1 != q.beta_g1 {
            return changed("beta");
        }
        if p.vk.gamma_g2 != q.vk.gamma_g2 || p.vk.gamma_abc_g1 != q.vk.gamma_abc_g1 {
            return changed("gamma");
        }
        if p.a_query != q.a_query || p.b_g1_query != q.b_g1_query || p.b_g2_query != q.b_g2_query {
            return changed("the A and B queries");
        }
        if p.h_query.len() != q.h_query.len() || p.l_query.len() != q.l_query.len() {
            return changed("the number of L or H elements");
        }
        let mut transcript = self.start;
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
            transcript = step(&transcript, &c.s, &c.s_delta);
            if transcript != c.transcript {
                return refuse(Check::Transcript);
            }
            let r = hash_to_g2(&transcript);
            if !same_ratio(c.s, c.s_delta, r, c.r_delta) {
                return refuse(Check::ProofOfKnowledge);
            }
            if !same_ratio(delta, c.delta_after, r, c.r_delta) {
                return refuse(Check::DeltaNotExtended);
            }
            delta = c.delta_after;
        }
        if p.delta_g1 != delta {
            return Err(CeremonyError::Final(Check::FinalDelta));
        }
        // δ moved by the same factor in G2 as in G1 (the initial parameters' generators
        // need not be the standard ones).
        if !same_ratio(q.delta_g1, p.delta_g1, q.vk.delta_g2, p.vk.delta_g2) {
            return Err(CeremonyError::Final(Check::DeltaG2));
        }
        // L·δ is what it was: e(Σρ·L_now, δ_now) = e(Σρ·L_initial, δ_initial); H alike.
        for (which, now, before) in [("L", &p.l_query, &q.l_query), ("H", &p.h_query, &q.h_query)] {
            let rho: Vec<Fr> = (0..now.len()).map(|_| Fr::rand(rng)).collect();
            let combine = |points: &[G1Affine]| {
                G1Projective::msm(points, &rho)
                    .expect("as many scalars as points")
                    .into_affine()
            };
            let (now, before) = (combine(now), combine(before));
            if !same_ratio(now, before, q.vk.delta_g2, p.vk.delta_g2) {
                return Err(CeremonyError::Final(Check::Query(which)));
            }
        }
        Ok(())
    }

    /// The state as a versioned file: [`MAGIC`], the version, then the canonical compressed
    /// encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        self.serialize_compressed(&mut out)
            .expect("writing to a vector cannot fail");
        out
    }

    /// Reads a state file, checking every point is on the curve and in the prime-order
    /// subgroup, that nothing follows it and that it is the state's one encoding.
    pub fn from_bytes(bytes: &[u8]) -> crate::Result<Phase2> {
        let malformed = |reason: String| CeremonyError::Malformed {
            what: "phase-2 state",
            reason,
        };
        let rest = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| malformed("not a trustspace phase-2 state".into()))?;
        let (version, mut body) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| malformed("truncated".into()))?;
        let found = u32::from_le_bytes(*version);
        if found != VERSION {
            return Err(CeremonyError::Version {
                found,
                expected: VERSION,
            });
        }
        let state = Phase2::deserialize_with_mode(&mut body, Compress::Yes, Validate::Yes)
            .map_err(|e| malformed(e.to_string()))?;
        if !body.is_empty() {
            return Err(malformed(format!("{} bytes after the state", body.len())));
        }
        // One encoding per state (arkworks accepts some points' flags in more than one form).
        if state.to_bytes() != bytes {
            return Err(malformed("not the canonical encoding".into()));
        }
        Ok(state)
    }
}
