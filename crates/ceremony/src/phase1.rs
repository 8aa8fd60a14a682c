//! Phase 1 of a Groth16 setup ceremony: powers of tau over BN254 with the α and β terms, as the
//! Zcash and Perpetual Powers of Tau ceremonies and snarkjs run it. The state is
//! `τ^i·G1` (i < 2n − 1), `τ^i·G2`, `ατ^i·G1`, `βτ^i·G1` (i < n) and `β·G2` for n = 2^power;
//! each contributor multiplies τ, α and β by secrets of its own and publishes, for each, a proof
//! of knowledge: a random G1 point `s`, `s·x`, and `r·x` where `r` is the G2 point of the hash
//! of the previous challenge, `s` and `s·x` ([`crate::sampling::hash_to_g2`]). A random beacon
//! (a public value nobody controls, hashed many times) can close the ceremony.
//!
//! The state, its records and its hash chain are exactly snarkjs's (`.ptau`, [`crate::ptau`]):
//! a public Perpetual Powers of Tau file is read as is, and a file written here verifies with
//! `snarkjs powersoftau verify`. [`Phase1::verify`] makes snarkjs's checks: every contribution's
//! proofs of knowledge and its link to the one before, a beacon's key re-derived from the
//! beacon, the powers consistent (random linear combinations paired against `τ·G2`), and the
//! last record's challenge recomputed from the powers.

use ark_bn254::g2::Config as G2Config;
use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::pairing::Pairing;
use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{Field, One, UniformRand, Zero};
use blake2::{Blake2b512, Digest};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;
use zeroize::Zeroize;

use crate::encoding::{G1_LEN, G2_LEN, g1_u, g2_u};
use crate::error::{CeremonyError, Check};
pub use crate::record::{MAX_BEACON_EXP, MAX_NAME, Source};
use crate::record::{check_beacon, checked_name};
use crate::sampling::{SnarkjsRng, hash_to_g2, nonzero};

/// The largest power of a phase-1 state: BN254's scalar field has roots of unity of order 2^28.
pub const MAX_POWER: u32 = 28;

/// The powers: `τ^i·G1` for i < 2n − 1, `τ^i·G2`, `ατ^i·G1`, `βτ^i·G1` for i < n, `β·G2`.
#[derive(Clone, PartialEq, Eq)]
pub struct Powers {
    /// `τ^i·G1`, i < 2n − 1.
    pub tau_g1: Vec<G1Affine>,
    /// `τ^i·G2`, i < n.
    pub tau_g2: Vec<G2Affine>,
    /// `ατ^i·G1`, i < n.
    pub alpha_tau_g1: Vec<G1Affine>,
    /// `βτ^i·G1`, i < n.
    pub beta_tau_g1: Vec<G1Affine>,
    /// `β·G2`.
    pub beta_g2: G2Affine,
}

impl std::fmt::Debug for Powers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Powers")
            .field("tau_g1", &self.tau_g1.len())
            .field("tau_g2", &self.tau_g2.len())
            .finish_non_exhaustive()
    }
}

impl Powers {
    /// The state before any contribution (τ = α = β = 1): every point a generator.
    pub fn initial(power: u32) -> Powers {
        let n = 1usize << power;
        let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
        Powers {
            tau_g1: vec![g1; 2 * n - 1],
            tau_g2: vec![g2; n],
            alpha_tau_g1: vec![g1; n],
            beta_tau_g1: vec![g1; n],
            beta_g2: g2,
        }
    }

    /// Every point in the `U` encoding, in the file's order (what a challenge hashes).
    fn hash_into(&self, h: &mut Blake2b512) {
        hash_points(h, &self.tau_g1, g1_u, G1_LEN);
        hash_points(h, &self.tau_g2, g2_u, G2_LEN);
        hash_points(h, &self.alpha_tau_g1, g1_u, G1_LEN);
        hash_points(h, &self.beta_tau_g1, g1_u, G1_LEN);
        hash_points(h, std::slice::from_ref(&self.beta_g2), g2_u, G2_LEN);
    }
}

/// Hashes `points` encoded by `encode`, encoding chunks in parallel.
fn hash_points<P: Sync>(
    h: &mut Blake2b512,
    points: &[P],
    encode: fn(&P, &mut Vec<u8>),
    len: usize,
) {
    for chunk in points.chunks(1 << 14) {
        let bytes: Vec<Vec<u8>> = chunk
            .par_chunks(1 << 10)
            .map(|part| {
                let mut out = Vec::with_capacity(part.len() * len);
                part.iter().for_each(|p| encode(p, &mut out));
                out
            })
            .collect();
        bytes.iter().for_each(|b| h.update(b));
    }
}

/// One secret's public key: `s`, `s·x` and `r·x` (`r` derived from the challenge, `s`, `s·x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPart {
    /// A random G1 point.
    pub g1_s: G1Affine,
    /// `s·x`.
    pub g1_sx: G1Affine,
    /// `r·x`.
    pub g2_spx: G2Affine,
}

/// A contribution's public key: one part per secret (τ, α, β).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    /// τ's part (personalisation 0).
    pub tau: KeyPart,
    /// α's part (personalisation 1).
    pub alpha: KeyPart,
    /// β's part (personalisation 2).
    pub beta: KeyPart,
}

impl PublicKey {
    /// The parts with their personalisation bytes and names.
    pub fn parts(&self) -> [(u8, &'static str, &KeyPart); 3] {
        [
            (0, "tau", &self.tau),
            (1, "alpha", &self.alpha),
            (2, "beta", &self.beta),
        ]
    }

    /// The key in the `U` encoding (what the response hash covers).
    pub fn u_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(6 * G1_LEN + 3 * G2_LEN);
        for (_, _, part) in self.parts() {
            g1_u(&part.g1_s, &mut out);
            g1_u(&part.g1_sx, &mut out);
        }
        for (_, _, part) in self.parts() {
            g2_u(&part.g2_spx, &mut out);
        }
        out
    }
}

/// One contribution's public record, as snarkjs keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// `τ·G1` after it.
    pub tau_g1: G1Affine,
    /// `τ·G2` after it.
    pub tau_g2: G2Affine,
    /// `α·G1` after it.
    pub alpha_g1: G1Affine,
    /// `β·G1` after it.
    pub beta_g1: G1Affine,
    /// `β·G2` after it.
    pub beta_g2: G2Affine,
    /// Its public key.
    pub key: PublicKey,
    /// The response hash's BLAKE2b state before the key (snarkjs's `partialHash`).
    pub partial_hash: [u8; 216],
    /// The challenge the next contribution answers: BLAKE2b-512 of the response hash and the
    /// powers after this contribution.
    pub next_challenge: [u8; 64],
    /// Where its secrets came from.
    pub source: Source,
    /// Its contributor's name, if given.
    pub name: Option<String>,
}

impl Contribution {
    /// The response hash (BLAKE2b-512 of the previous challenge, the new powers compressed
    /// and the key), when its recorded state can be resumed here: states that have not
    /// compressed a block yet, as this crate writes them. `None` for snarkjs's mid-states:
    /// no maintained Rust BLAKE2b resumes one.
    pub fn response_hash(&self) -> Option<[u8; 64]> {
        let pending = pending_prefix(&self.partial_hash)?;
        let mut h = Blake2b512::new();
        h.update(pending);
        h.update(self.key.u_bytes());
        Some(h.finalize().into())
    }
}

/// BLAKE2b-512's initial chaining value (the SHA-512 IV, parameter block XORed in for a
/// 64-byte unkeyed digest): the state of a hash that has not compressed a block yet.
const BLAKE2B_512_START: [u64; 8] = [
    0x6a09e667f3bcc908 ^ 0x0101_0040,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// snarkjs's serialisation of a BLAKE2b-512 state that holds `pending` (≤ 128 bytes) and has
/// compressed nothing: buffer, chaining value (u64 LE), bytes compressed, bytes pending.
fn partial_hash_of(pending: &[u8]) -> [u8; 216] {
    let mut out = [0u8; 216];
    out[..pending.len()].copy_from_slice(pending);
    for (i, h) in BLAKE2B_512_START.iter().enumerate() {
        out[128 + 8 * i..136 + 8 * i].copy_from_slice(&h.to_le_bytes());
    }
    out[200..204].copy_from_slice(&(pending.len() as u32).to_le_bytes());
    out
}

/// The bytes pending in a recorded state that has compressed nothing, if it is one.
fn pending_prefix(partial: &[u8; 216]) -> Option<&[u8]> {
    let pos = u32::from_le_bytes(partial[200..204].try_into().expect("4 bytes")) as usize;
    let fresh = partial[128..192]
        .chunks_exact(8)
        .zip(BLAKE2B_512_START)
        .all(|(b, h)| b == h.to_le_bytes());
    let nothing_compressed = partial[192..200].iter().all(|b| *b == 0);
    let padded = partial
        .get(pos..128)
        .is_some_and(|r| r.iter().all(|b| *b == 0));
    (fresh && nothing_compressed && pos <= 128 && padded).then(|| &partial[..pos])
}

/// A phase-1 state: the powers and every contribution's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase1 {
    /// n = 2^power.
    pub power: u32,
    /// The power the ceremony ran at (larger than `power` for a reduced file).
    pub ceremony_power: u32,
    /// The powers after the last contribution.
    pub powers: Powers,
    /// The contributions, in order.
    pub contributions: Vec<Contribution>,
}

/// What [`Phase1::verify`] checked, for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase1Report {
    /// n = 2^power.
    pub power: u32,
    /// The power the ceremony ran at.
    pub ceremony_power: u32,
    /// Whether the last record's challenge was recomputed from the powers (not for a reduced
    /// file, nor for a snarkjs mid-state response hash).
    pub challenge_checked: bool,
}

/// The first challenge of a ceremony at `power`: BLAKE2b-512 of the empty hash and the
/// initial (all-generator) powers.
pub fn first_challenge(power: u32) -> [u8; 64] {
    let mut h = Blake2b512::new();
    h.update(Blake2b512::digest([]));
    let (mut g1, mut g2) = (Vec::new(), Vec::new());
    g1_u(&G1Affine::generator(), &mut g1);
    g2_u(&G2Affine::generator(), &mut g2);
    let n = 1usize << power;
    let repeat = |h: &mut Blake2b512, unit: &[u8], count: usize| {
        let block = unit.repeat(4096);
        for _ in 0..count / 4096 {
            h.update(&block);
        }
        for _ in 0..count % 4096 {
            h.update(unit);
        }
    };
    repeat(&mut h, &g1, 2 * n - 1);
    repeat(&mut h, &g2, n);
    repeat(&mut h, &g1, 2 * n);
    h.update(&g2);
    h.finalize().into()
}

/// The G2 point a key part for personalisation `pers` pairs with.
fn key_point(pers: u8, challenge: &[u8; 64], part: &KeyPart) -> G2Affine {
    let mut h = Blake2b512::new();
    h.update([pers]);
    h.update(challenge);
    let mut s = Vec::with_capacity(2 * G1_LEN);
    g1_u(&part.g1_s, &mut s);
    g1_u(&part.g1_sx, &mut s);
    h.update(&s);
    hash_to_g2(&h.finalize().into())
}

/// Whether `e(a, d) == e(b, c)` with no point the identity (snarkjs's `sameRatio`).
fn same_ratio(a: G1Affine, b: G1Affine, c: G2Affine, d: G2Affine) -> bool {
    if a.is_zero() || b.is_zero() || c.is_zero() || d.is_zero() {
        return false;
    }
    Bn254::multi_pairing([a, (-b.into_group()).into_affine()], [d, c]).is_zero()
}

/// A key for secrets `x` (τ, α, β) answering `challenge`, its `s` points drawn by `draw_s`.
fn make_key(
    secrets: &[Fr; 3],
    challenge: &[u8; 64],
    mut draw_s: impl FnMut() -> G1Affine,
) -> PublicKey {
    let mut part = |pers: u8, x: Fr| {
        let g1_s = draw_s();
        let g1_sx = (g1_s * x).into_affine();
        let mut part = KeyPart {
            g1_s,
            g1_sx,
            g2_spx: G2Affine::zero(),
        };
        part.g2_spx = (key_point(pers, challenge, &part) * x).into_affine();
        part
    };
    PublicKey {
        tau: part(0, secrets[0]),
        alpha: part(1, secrets[1]),
        beta: part(2, secrets[2]),
    }
}

/// The secrets and key of a beacon (snarkjs's `createPTauKey` on the beacon's stream).
fn beacon_key(challenge: &[u8; 64], hash: &[u8], iterations_exp: u8) -> ([Fr; 3], PublicKey) {
    let mut rng = SnarkjsRng::from_beacon(hash, iterations_exp);
    let secrets = [rng.fr(), rng.fr(), rng.fr()];
    let key = make_key(&secrets, challenge, || rng.g1());
    (secrets, key)
}

/// `points[i] · (first · step^i)`, in parallel chunks.
fn scale_g1(points: &mut [G1Affine], first: Fr, step: Fr) {
    scale(
        points,
        first,
        step,
        |p, k| p.into_group() * k,
        G1Projective::normalize_batch,
    );
}

/// As [`scale_g1`], through G2's GLV endomorphism (ark-bn254 multiplies G2 points by plain
/// double-and-add otherwise).
fn scale_g2(points: &mut [G2Affine], first: Fr, step: Fr) {
    let mul = |p: &G2Affine, k| G2Config::glv_mul_projective(p.into_group(), k);
    scale(points, first, step, mul, G2Projective::normalize_batch);
}

fn scale<A: Send + Sync + Copy, P: Send>(
    points: &mut [A],
    first: Fr,
    step: Fr,
    mul: impl Fn(&A, Fr) -> P + Sync,
    normalize: impl Fn(&[P]) -> Vec<A> + Sync,
) {
    const CHUNK: usize = 1 << 12;
    points
        .par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            let mut k = first * step.pow([(c * CHUNK) as u64]);
            let scaled: Vec<P> = chunk
                .iter()
                .map(|p| {
                    let q = mul(p, k);
                    k *= step;
                    q
                })
                .collect();
            k.zeroize();
            chunk.copy_from_slice(&normalize(&scaled));
        });
}

impl Phase1 {
    /// A new ceremony at `power` (n = 2^power, 1 ≤ power ≤ [`MAX_POWER`]).
    pub fn new(power: u32) -> crate::Result<Phase1> {
        if !(1..=MAX_POWER).contains(&power) {
            return Err(CeremonyError::Power(power));
        }
        Ok(Phase1 {
            power,
            ceremony_power: power,
            powers: Powers::initial(power),
            contributions: Vec::new(),
        })
    }

    /// The challenge the next contribution answers.
    pub fn challenge(&self) -> [u8; 64] {
        self.contributions.last().map_or_else(
            || first_challenge(self.ceremony_power),
            |c| c.next_challenge,
        )
    }

    /// Contributes fresh secrets from `rng` (erased before it returns), under `name`.
    pub fn contribute<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        name: Option<&str>,
    ) -> crate::Result<&Contribution> {
        let mut secrets = [(); 3].map(|_| nonzero(rng));
        let challenge = self.challenge();
        let key = make_key(&secrets, &challenge, || {
            G1Projective::rand(rng).into_affine()
        });
        let result = self.apply(&secrets, key, challenge, Source::Secret, name);
        secrets.zeroize();
        result
    }

    /// Closes the ceremony with a public random beacon: secrets anyone re-derives from
    /// `hash` ([`MAX_BEACON_EXP`] at most).
    pub fn beacon(
        &mut self,
        hash: &[u8],
        iterations_exp: u8,
        name: Option<&str>,
    ) -> crate::Result<&Contribution> {
        check_beacon(hash, iterations_exp)?;
        let challenge = self.challenge();
        let (secrets, key) = beacon_key(&challenge, hash, iterations_exp);
        let source = Source::Beacon {
            hash: hash.to_vec(),
            iterations_exp,
        };
        self.apply(&secrets, key, challenge, source, name)
    }

    fn apply(
        &mut self,
        secrets: &[Fr; 3],
        key: PublicKey,
        challenge: [u8; 64],
        source: Source,
        name: Option<&str>,
    ) -> crate::Result<&Contribution> {
        if self.power != self.ceremony_power {
            return Err(CeremonyError::Reduced {
                power: self.power,
                ceremony_power: self.ceremony_power,
            });
        }
        let name = checked_name(name)?;
        let [tau, alpha, beta] = *secrets;
        let p = &mut self.powers;
        scale_g1(&mut p.tau_g1, Fr::one(), tau);
        scale_g2(&mut p.tau_g2, Fr::one(), tau);
        scale_g1(&mut p.alpha_tau_g1, alpha, tau);
        scale_g1(&mut p.beta_tau_g1, beta, tau);
        p.beta_g2 = (p.beta_g2 * beta).into_affine();
        let partial_hash = partial_hash_of(&challenge);
        let mut response = Blake2b512::new();
        response.update(challenge);
        response.update(key.u_bytes());
        let mut next = Blake2b512::new();
        next.update(response.finalize());
        p.hash_into(&mut next);
        self.contributions.push(Contribution {
            tau_g1: p.tau_g1[1],
            tau_g2: p.tau_g2[1],
            alpha_g1: p.alpha_tau_g1[0],
            beta_g1: p.beta_tau_g1[0],
            beta_g2: p.beta_g2,
            key,
            partial_hash,
            next_challenge: next.finalize().into(),
            source,
            name,
        });
        Ok(self.contributions.last().expect("just pushed"))
    }

    /// Checks the whole ceremony (see the module's doc); `rng` draws the verifier's random
    /// linear combinations. A state without a secret contribution is refused: its τ is 1, or
    /// derivable from public beacons.
    pub fn verify<R: RngCore>(&self, rng: &mut R) -> crate::Result<Phase1Report> {
        let last = self
            .contributions
            .last()
            .ok_or(CeremonyError::NoContribution)?;
        // Beacons alone would leave τ, α and β derivable by anyone from public values.
        if !self
            .contributions
            .iter()
            .any(|c| c.source == Source::Secret)
        {
            return Err(CeremonyError::NoContribution);
        }
        let mut previous = Previous::initial(self.ceremony_power);
        for (index, c) in self.contributions.iter().enumerate() {
            verify_step(&previous, c)
                .map_err(|check| CeremonyError::Contribution { index, check })?;
            previous = Previous::after(c);
        }
        self.verify_powers(last, rng)
            .map_err(|check| CeremonyError::Contribution {
                index: self.contributions.len() - 1,
                check,
            })?;
        let challenge_checked = match (self.power == self.ceremony_power, last.response_hash()) {
            (true, Some(response)) => {
                let mut next = Blake2b512::new();
                next.update(response);
                self.powers.hash_into(&mut next);
                if <[u8; 64]>::from(next.finalize()) != last.next_challenge {
                    return Err(CeremonyError::Contribution {
                        index: self.contributions.len() - 1,
                        check: Check::NextChallenge,
                    });
                }
                true
            }
            _ => false,
        };
        Ok(Phase1Report {
            power: self.power,
            ceremony_power: self.ceremony_power,
            challenge_checked,
        })
    }

    /// The powers are those of the last contribution's τ, α and β (random linear
    /// combinations of consecutive powers paired against `τ·G2` or `τ·G1`).
    fn verify_powers<R: RngCore>(&self, last: &Contribution, rng: &mut R) -> Result<(), Check> {
        let p = &self.powers;
        let n = 1usize << self.power;
        if p.tau_g1.len() != 2 * n - 1
            || p.tau_g2.len() != n
            || p.alpha_tau_g1.len() != n
            || p.beta_tau_g1.len() != n
        {
            return Err(Check::Powers("the number of powers"));
        }
        let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
        if p.tau_g1[0] != g1 || p.tau_g2[0] != g2 {
            return Err(Check::Powers("the first power is not the generator"));
        }
        if p.tau_g1[1] != last.tau_g1 || p.tau_g2[1] != last.tau_g2 {
            return Err(Check::Powers("tau is not the last contribution's"));
        }
        if p.alpha_tau_g1[0] != last.alpha_g1 || p.beta_tau_g1[0] != last.beta_g1 {
            return Err(Check::Powers(
                "alpha or beta is not the last contribution's",
            ));
        }
        if p.beta_g2 != last.beta_g2 {
            return Err(Check::Powers("beta in G2 is not the last contribution's"));
        }
        for (what, points) in [
            ("tau*G1", &p.tau_g1),
            ("alpha*tau*G1", &p.alpha_tau_g1),
            ("beta*tau*G1", &p.beta_tau_g1),
        ] {
            let (r1, r2) = consecutive(points, rng, G1Projective::msm);
            if !same_ratio(r1.into_affine(), r2.into_affine(), g2, last.tau_g2) {
                return Err(Check::Powers(what));
            }
        }
        let (r1, r2) = consecutive(&p.tau_g2, rng, G2Projective::msm);
        if !same_ratio(g1, last.tau_g1, r1.into_affine(), r2.into_affine()) {
            return Err(Check::Powers("tau*G2"));
        }
        Ok(())
    }
}

/// `(Σ ρ_i·P_i, Σ ρ_i·P_{i+1})` over consecutive points, ρ random: in the same ratio as τ
/// (except with negligible probability) only if every `P_{i+1} = τ·P_i`.
fn consecutive<A, P: PrimeGroup, R: RngCore>(
    points: &[A],
    rng: &mut R,
    msm: impl Fn(&[A], &[Fr]) -> Result<P, usize>,
) -> (P, P) {
    let m = points.len() - 1;
    let rho: Vec<Fr> = (0..m).map(|_| Fr::rand(rng)).collect();
    let first = msm(&points[..m], &rho).expect("as many scalars as points");
    let second = msm(&points[1..], &rho).expect("as many scalars as points");
    (first, second)
}

/// What a contribution extends: the state's τ, α, β after the one before it, and its
/// challenge.
struct Previous {
    tau_g1: G1Affine,
    tau_g2: G2Affine,
    alpha_g1: G1Affine,
    beta_g1: G1Affine,
    beta_g2: G2Affine,
    challenge: [u8; 64],
}

impl Previous {
    /// Before the first contribution: generators, and the first challenge.
    fn initial(ceremony_power: u32) -> Previous {
        let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
        Previous {
            tau_g1: g1,
            tau_g2: g2,
            alpha_g1: g1,
            beta_g1: g1,
            beta_g2: g2,
            challenge: first_challenge(ceremony_power),
        }
    }

    fn after(c: &Contribution) -> Previous {
        Previous {
            tau_g1: c.tau_g1,
            tau_g2: c.tau_g2,
            alpha_g1: c.alpha_g1,
            beta_g1: c.beta_g1,
            beta_g2: c.beta_g2,
            challenge: c.next_challenge,
        }
    }
}

/// One contribution against the one before it: a beacon's key re-derived, the proofs of
/// knowledge, and the new τ, α, β each the old one times the secret proven.
fn verify_step(previous: &Previous, c: &Contribution) -> Result<(), Check> {
    let challenge = &previous.challenge;
    if let Source::Beacon {
        hash,
        iterations_exp,
    } = &c.source
    {
        check_beacon(hash, *iterations_exp).map_err(|_| Check::Beacon)?;
        if beacon_key(challenge, hash, *iterations_exp).1 != c.key {
            return Err(Check::Beacon);
        }
    }
    let mut r = [G2Affine::zero(); 3];
    for (i, (pers, what, part)) in c.key.parts().into_iter().enumerate() {
        r[i] = key_point(pers, challenge, part);
        if !same_ratio(part.g1_s, part.g1_sx, r[i], part.g2_spx) {
            return Err(Check::KeyProof(what));
        }
    }
    let [tau, alpha, beta] = [&c.key.tau, &c.key.alpha, &c.key.beta];
    let links = [
        (
            "tau*G1",
            same_ratio(previous.tau_g1, c.tau_g1, r[0], tau.g2_spx),
        ),
        (
            "tau*G2",
            same_ratio(tau.g1_s, tau.g1_sx, previous.tau_g2, c.tau_g2),
        ),
        (
            "alpha*G1",
            same_ratio(previous.alpha_g1, c.alpha_g1, r[1], alpha.g2_spx),
        ),
        (
            "beta*G1",
            same_ratio(previous.beta_g1, c.beta_g1, r[2], beta.g2_spx),
        ),
        (
            "beta*G2",
            same_ratio(beta.g1_s, beta.g1_sx, previous.beta_g2, c.beta_g2),
        ),
    ];
    match links.into_iter().find(|(_, ok)| !ok) {
        Some((what, _)) => Err(Check::NotFollowing(what)),
        None => Ok(()),
    }
}
