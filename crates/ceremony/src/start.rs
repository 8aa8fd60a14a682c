//! The start of phase 2 from phase 1: a circuit's initial Groth16 parameters computed from the
//! powers of tau, with γ = δ = 1, exactly as snarkjs's `zkey new` computes them (the same
//! points, coefficients and circuit hash, so that snarkjs checks our ceremonies and we check
//! its). Nobody knows τ, α or β (phase 1 made them), and phase 2 then makes δ; so no single
//! party knows a trapdoor of the final keys.
//!
//! The circuit's quadratic arithmetic program is arkworks' (libsnark's reduction, over the
//! radix-2 domain of `constraints + instance variables` points), which is also snarkjs's: the
//! query of each variable is a sparse sum of the Lagrange basis evaluated at τ in the exponent,
//! the inverse FFT of the powers of tau ([`Lagrange`]). `H` is kept as snarkjs keeps it, on the
//! odd coset of the doubled domain; [`crate::Phase2::proving_key`] turns it into arkworks'
//! `τ^i·Z(τ)` for the stock `ark_groth16` prover.

use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ec::short_weierstrass::{Affine, Projective};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{BigInteger, Field, One, PrimeField, UniformRand, Zero};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use ark_relations::gr1cs::ConstraintSystemRef;
use blake2::{Blake2b512, Digest};
use rand::RngCore;
use rayon::prelude::*;
use std::ops::{Add, AddAssign, MulAssign, Sub, SubAssign};

use crate::encoding::{G1_LEN, G2_LEN, encode_all, g1_u, g2_u};
use crate::error::CeremonyError;
use crate::phase1::Powers;
use crate::phase2::{Coef, Phase2};
use crate::r1cs::{Row, rows};

/// The Lagrange basis of a domain of `n` points evaluated at τ, in the exponent:
/// `L_c(τ)·G1`, `L_c(τ)·G2`, `αL_c(τ)·G1`, `βL_c(τ)·G1` for c < n.
#[derive(Clone, PartialEq, Eq)]
pub struct Lagrange {
    /// `L_c(τ)·G1`.
    pub tau_g1: Vec<G1Affine>,
    /// `L_c(τ)·G2`.
    pub tau_g2: Vec<G2Affine>,
    /// `αL_c(τ)·G1`.
    pub alpha_tau_g1: Vec<G1Affine>,
    /// `βL_c(τ)·G1`.
    pub beta_tau_g1: Vec<G1Affine>,
}

impl std::fmt::Debug for Lagrange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lagrange")
            .field("size", &self.tau_g1.len())
            .finish_non_exhaustive()
    }
}

/// A projective point multiplied by scalars through the curve's GLV endomorphism (arkworks'
/// `GLVConfig`: ark-bn254 multiplies G2 points by plain double-and-add otherwise), for the
/// FFT's twiddle factors.
struct Glv<P: GLVConfig>(Projective<P>);

impl<P: GLVConfig> Clone for Glv<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: GLVConfig> Copy for Glv<P> {}

impl<P: GLVConfig> PartialEq for Glv<P> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<P: GLVConfig> std::fmt::Debug for Glv<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<P: GLVConfig> Add for Glv<P> {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Glv(self.0 + other.0)
    }
}

impl<P: GLVConfig> Sub for Glv<P> {
    type Output = Self;
    fn sub(self, other: Self) -> Self {
        Glv(self.0 - other.0)
    }
}

impl<P: GLVConfig> AddAssign for Glv<P> {
    fn add_assign(&mut self, other: Self) {
        self.0 += other.0;
    }
}

impl<P: GLVConfig> SubAssign for Glv<P> {
    fn sub_assign(&mut self, other: Self) {
        self.0 -= other.0;
    }
}

impl<P: GLVConfig> Zero for Glv<P> {
    fn zero() -> Self {
        Glv(Projective::zero())
    }
    fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
}

impl<P: GLVConfig> MulAssign<P::ScalarField> for Glv<P> {
    fn mul_assign(&mut self, k: P::ScalarField) {
        self.0 = P::glv_mul_projective(self.0, k);
    }
}

/// The inverse FFT of `points` over `domain`: coefficient c is `(1/n)·Σ_j ω^{-cj}·P_j`.
fn ifft<P: GLVConfig<ScalarField = Fr>>(
    domain: &Radix2EvaluationDomain<Fr>,
    points: &[Affine<P>],
) -> Vec<Affine<P>> {
    let mut glv: Vec<Glv<P>> = points.par_iter().map(|p| Glv(p.into_group())).collect();
    domain.ifft_in_place(&mut glv);
    let projective: Vec<Projective<P>> = glv.into_iter().map(|p| p.0).collect();
    Projective::normalize_batch(&projective)
}

/// The FFT of `points` over `domain`, in place: point i becomes `Σ_j ω^{ij}·P_j`.
pub fn fft_in_place(domain: &Radix2EvaluationDomain<Fr>, points: &mut [G1Affine]) {
    let mut glv: Vec<Glv<ark_bn254::g1::Config>> =
        points.par_iter().map(|p| Glv(p.into_group())).collect();
    domain.fft_in_place(&mut glv);
    let projective: Vec<G1Projective> = glv.into_iter().map(|p| p.0).collect();
    points.copy_from_slice(&G1Projective::normalize_batch(&projective));
}

impl Lagrange {
    /// The basis of the domain of `n` points (a power of two no larger than the powers').
    pub fn of(powers: &Powers, n: usize) -> crate::Result<Lagrange> {
        if !n.is_power_of_two() || n > powers.tau_g2.len() {
            return Err(CeremonyError::TooSmall {
                needed: n,
                available: powers.tau_g2.len(),
            });
        }
        let domain = Radix2EvaluationDomain::<Fr>::new(n).expect("n ≤ 2^28 is a radix-2 size");
        Ok(Lagrange {
            tau_g1: ifft(&domain, &powers.tau_g1[..n]),
            tau_g2: ifft(&domain, &powers.tau_g2[..n]),
            alpha_tau_g1: ifft(&domain, &powers.alpha_tau_g1[..n]),
            beta_tau_g1: ifft(&domain, &powers.beta_tau_g1[..n]),
        })
    }
}

/// `k·p`, cheaply when `k` or `−k` is small (most coefficients of a circuit are), else
/// through the GLV endomorphism.
fn times<P: GLVConfig<ScalarField = Fr>>(p: &Affine<P>, k: &Fr) -> Projective<P> {
    if k.is_one() {
        return p.into_group();
    }
    let small = |v: &<Fr as PrimeField>::BigInt| v.num_bits() <= 64;
    let plain = k.into_bigint();
    if small(&plain) {
        return p.mul_bigint(plain);
    }
    let negated = (-*k).into_bigint();
    if small(&negated) {
        return -p.mul_bigint(negated);
    }
    P::glv_mul_projective(p.into_group(), *k)
}

/// `Σ k·basis[c]` over `terms` (coefficient, row).
fn combine<P: GLVConfig<ScalarField = Fr>>(
    terms: &[(Fr, usize)],
    basis: &[Affine<P>],
) -> Projective<P> {
    terms
        .iter()
        .fold(Projective::zero(), |sum, (k, c)| sum + times(&basis[*c], k))
}

/// The size of a circuit's QAP domain: constraints and instance variables (one extra row
/// each, libsnark's reduction), rounded up to a power of two. Phase 1 needs at least as many
/// powers.
pub fn domain_size(cs: &ConstraintSystemRef<Fr>) -> usize {
    (cs.num_constraints() + cs.num_instance_variables()).next_power_of_two()
}

/// The largest QAP domain of a phase-2 state: `H`'s odd coset needs the doubled domain's roots
/// of unity, which BN254 has up to 2^28.
pub const MAX_DOMAIN: usize = 1 << 27;

/// Refuses a circuit whose domain exceeds [`MAX_DOMAIN`].
fn check_domain(n: usize) -> crate::Result<()> {
    if n > MAX_DOMAIN {
        return Err(CeremonyError::Circuit(format!(
            "a domain of {n} points; phase 2 takes at most 2^27"
        )));
    }
    Ok(())
}

/// The powers' `τ^i·G1` as the `H` terms read them: for i < 2n, with `τ^{2n−1}` the identity
/// when the powers stop at `2n − 2` (a circuit of the phase-1 file's full size), as snarkjs's
/// prepared files have it.
fn tau_g1_padded(powers: &Powers, n: usize) -> Vec<G1Affine> {
    let mut t = powers.tau_g1[..(2 * n).min(powers.tau_g1.len())].to_vec();
    t.resize(2 * n, G1Affine::zero());
    t
}

/// `τ^i·Z(τ) = τ^{n+i} − τ^i` for i < `count` (≤ n), from the padded powers `t`.
fn z_multiples(t: &[G1Affine], n: usize, count: usize) -> Vec<G1Affine> {
    let z: Vec<G1Projective> = (0..count)
        .into_par_iter()
        .map(|i| t[i + n].into_group() - t[i])
        .collect();
    G1Projective::normalize_batch(&z)
}

/// `H` on the odd coset of the doubled domain (snarkjs's section 9): with ω the doubled
/// domain's root, `x^i·Z(x)` takes `−2·ω^{i(2m+1)}` on odd point `2m+1` (and 0 on the even
/// ones), so the odd Lagrange points are the inverse FFT of `τ^i·Z(τ)·(−1/2)·ω^{−i}`.
fn coset_h(t: &[G1Affine], n: usize) -> Vec<G1Affine> {
    let doubled = Radix2EvaluationDomain::<Fr>::new(2 * n).expect("n ≤ 2^27 is a radix-2 size");
    let half = -Fr::from(2u64).inverse().expect("non-zero");
    let factors: Vec<Fr> = doubled
        .elements()
        .take(n)
        .map(|w| half * w.inverse().expect("a root of unity"))
        .collect();
    let scaled: Vec<G1Projective> = z_multiples(t, n, n)
        .par_iter()
        .zip(&factors)
        .map(|(p, k)| p.into_group() * k)
        .collect();
    let small = Radix2EvaluationDomain::<Fr>::new(n).expect("a radix-2 size");
    ifft(&small, &G1Projective::normalize_batch(&scaled))
}

/// The A and B coefficients as a `.zkey` lists them: per constraint its A terms then its B
/// terms, then each public input's extra A row (libsnark's reduction, as snarkjs's).
fn coefficients(rows: &[Row], instance: usize) -> Vec<Coef> {
    let mut coefs = Vec::new();
    for (constraint, [a, b, _]) in rows.iter().enumerate() {
        for (matrix, terms) in [(0, a), (1, b)] {
            coefs.extend(terms.iter().map(|(signal, value)| Coef {
                matrix,
                constraint: constraint as u32,
                signal: *signal as u32,
                value: *value,
            }));
        }
    }
    coefs.extend((0..instance).map(|s| Coef {
        matrix: 0,
        constraint: (rows.len() + s) as u32,
        signal: s as u32,
        value: Fr::one(),
    }));
    coefs
}

/// The circuit's hash as snarkjs's `zkey new` computes it (BLAKE2b-512 of the start's α, β,
/// γ, δ and its queries, uncompressed, each list after its length; `H` as `τ^i·Z(τ)`, `h`).
fn circuit_hash(p: &Phase2, h: &[G1Affine]) -> [u8; 64] {
    let mut hasher = Blake2b512::new();
    let mut head = Vec::new();
    g1_u(&p.alpha_g1, &mut head);
    g1_u(&p.beta_g1, &mut head);
    g2_u(&p.beta_g2, &mut head);
    g2_u(&p.gamma_g2, &mut head);
    g1_u(&p.delta_g1, &mut head);
    g2_u(&p.delta_g2, &mut head);
    hasher.update(&head);
    for list in [&p.ic, h, &p.c, &p.a, &p.b_g1] {
        hasher.update((list.len() as u32).to_be_bytes());
        hasher.update(encode_all(list, g1_u, G1_LEN));
    }
    hasher.update((p.b_g2.len() as u32).to_be_bytes());
    hasher.update(encode_all(&p.b_g2, g2_u, G2_LEN));
    hasher.finalize().into()
}

/// A circuit's initial phase-2 state (γ = δ = 1), exactly as `snarkjs zkey new` computes it
/// from phase-1 `powers` and the circuit's `.r1cs` ([`crate::r1cs`]). `cs` is the circuit
/// synthesized for setup and finalized (as `ark_groth16`'s generator synthesizes it).
pub fn initial_state(powers: &Powers, cs: ConstraintSystemRef<Fr>) -> crate::Result<Phase2> {
    let constraints = cs.num_constraints();
    let instance = cs.num_instance_variables();
    let variables = instance + cs.num_witness_variables();
    let n = domain_size(&cs);
    check_domain(n)?;
    let lagrange = Lagrange::of(powers, n)?;
    let rows = rows(&cs)?;
    // Per variable: its (coefficient, row) in A, B and C; instance variable i also takes row
    // `constraints + i` in A (libsnark's reduction, which keeps the inputs independent).
    let mut columns = vec![[Vec::new(), Vec::new(), Vec::new()]; variables];
    for (row, terms) in rows.iter().enumerate() {
        for (m, matrix) in terms.iter().enumerate() {
            for (var, k) in matrix {
                columns[*var][m].push((*k, row));
            }
        }
    }
    for (i, column) in columns.iter_mut().enumerate().take(instance) {
        column[0].push((Fr::one(), constraints + i));
    }
    let l = &lagrange;
    let a_query: Vec<G1Projective> = columns
        .par_iter()
        .map(|[a, _, _]| combine(a, &l.tau_g1))
        .collect();
    let b_g1: Vec<G1Projective> = columns
        .par_iter()
        .map(|[_, b, _]| combine(b, &l.tau_g1))
        .collect();
    let b_g2: Vec<G2Projective> = columns
        .par_iter()
        .map(|[_, b, _]| combine(b, &l.tau_g2))
        .collect();
    let abc: Vec<G1Projective> = columns
        .par_iter()
        .map(|[a, b, c]| {
            combine(a, &l.beta_tau_g1) + combine(b, &l.alpha_tau_g1) + combine(c, &l.tau_g1)
        })
        .collect();
    let abc = G1Projective::normalize_batch(&abc);
    let t = tau_g1_padded(powers, n);
    let mut state = Phase2 {
        variables,
        public: instance - 1,
        domain: n,
        alpha_g1: powers.alpha_tau_g1[0],
        beta_g1: powers.beta_tau_g1[0],
        beta_g2: powers.beta_g2,
        gamma_g2: G2Affine::generator(),
        delta_g1: G1Affine::generator(),
        delta_g2: G2Affine::generator(),
        ic: abc[..instance].to_vec(),
        coefs: coefficients(&rows, instance),
        a: G1Projective::normalize_batch(&a_query),
        b_g1: G1Projective::normalize_batch(&b_g1),
        b_g2: G2Projective::normalize_batch(&b_g2),
        c: abc[instance..].to_vec(),
        h: coset_h(&t, n),
        cs_hash: [0; 64],
        contributions: Vec::new(),
    };
    state.cs_hash = circuit_hash(&state, &z_multiples(&t, n, n - 1));
    Ok(state)
}

/// Checks that `state` is exactly what [`initial_state`] computes for `cs` from `powers`,
/// without its group FFTs: each query is compared on a random linear combination, whose
/// Lagrange coefficients a scalar FFT turns into coefficients of the powers (so one
/// multi-scalar multiplication over the powers gives what the combination must be); the
/// coefficients and the circuit's hash are recomputed. A wrong point passes with probability
/// about 1/r. This is what a verifier runs: cheap, and it takes nothing from whoever computed
/// the start.
pub fn check_initial<R: RngCore>(
    powers: &Powers,
    cs: ConstraintSystemRef<Fr>,
    state: &Phase2,
    rng: &mut R,
) -> crate::Result<()> {
    let constraints = cs.num_constraints();
    let instance = cs.num_instance_variables();
    let variables = instance + cs.num_witness_variables();
    let n = domain_size(&cs);
    check_domain(n)?;
    if n > powers.tau_g2.len() {
        return Err(CeremonyError::TooSmall {
            needed: n,
            available: powers.tau_g2.len(),
        });
    }
    let rows = rows(&cs)?;
    let p = state;
    let not = |what| Err(CeremonyError::NotTheStart(what));
    if !p.contributions.is_empty() {
        return not("the contributions (a start has none)");
    }
    if (p.variables, p.public, p.domain) != (variables, instance - 1, n)
        || p.a.len() != variables
        || p.b_g1.len() != variables
        || p.b_g2.len() != variables
        || p.ic.len() != instance
        || p.c.len() != variables - instance
        || p.h.len() != n
    {
        return not("the number of points");
    }
    let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
    if p.alpha_g1 != powers.alpha_tau_g1[0]
        || p.beta_g1 != powers.beta_tau_g1[0]
        || p.beta_g2 != powers.beta_g2
    {
        return not("alpha or beta");
    }
    if p.gamma_g2 != g2 || p.delta_g1 != g1 || p.delta_g2 != g2 {
        return not("gamma or delta (1 at the start)");
    }
    if p.coefs != coefficients(&rows, instance) {
        return not("the constraint coefficients");
    }
    let t = tau_g1_padded(powers, n);
    let msm1 = |bases: &[G1Affine], scalars: &[Fr]| {
        G1Projective::msm(bases, scalars).expect("as many scalars as points")
    };
    let msm2 = |bases: &[G2Affine], scalars: &[Fr]| {
        G2Projective::msm(bases, scalars).expect("as many scalars as points")
    };
    let domain = Radix2EvaluationDomain::<Fr>::new(n).expect("n ≤ 2^28 is a radix-2 size");
    // H: Σ ρ_m·H_m over the coset points is Σ_i IFFT-dual coefficients times τ^i·Z(τ): with
    // H = IFFT(z_i·c_i), Σ_m ρ'_m·H_m = Σ_i z_i·c_i·IFFT(ρ')_i, so ρ' = FFT(ρ_i / c_i) makes it
    // Σ ρ_i·z_i, where 1/c_i = −2·ω^i.
    let rho: Vec<Fr> = (0..n).map(|_| Fr::rand(rng)).collect();
    let expected = msm1(&t[n..], &rho) - msm1(&t[..n], &rho);
    let doubled = Radix2EvaluationDomain::<Fr>::new(2 * n).expect("a radix-2 size");
    let minus_two = -Fr::from(2u64);
    let dual: Vec<Fr> = rho
        .iter()
        .zip(doubled.elements())
        .map(|(r, w)| *r * minus_two * w)
        .collect();
    if msm1(&p.h, &domain.fft(&dual)) != expected {
        return not("the H query");
    }
    // The variables' queries: a combination r of the variables is the combination v of the
    // rows (v_c = Σ_i r_i·M_ci), i.e. Σ_c v_c·L_c(τ) = Σ_j IFFT(v)_j·τ^j.
    let r: Vec<Fr> = (0..variables).map(|_| Fr::rand(rng)).collect();
    let combined = |m: usize| {
        let mut v = vec![Fr::zero(); n];
        for (row, terms) in rows.iter().enumerate() {
            v[row] = terms[m].iter().map(|(var, k)| *k * r[*var]).sum();
        }
        v
    };
    let mut va = combined(0);
    for (i, ri) in r.iter().enumerate().take(instance) {
        va[constraints + i] += ri;
    }
    let (ra, rb, rc) = (
        domain.ifft(&va),
        domain.ifft(&combined(1)),
        domain.ifft(&combined(2)),
    );
    let tau_g1 = &powers.tau_g1[..n];
    if msm1(&p.a, &r) != msm1(tau_g1, &ra) {
        return not("the A query");
    }
    if msm1(&p.b_g1, &r) != msm1(tau_g1, &rb) {
        return not("the B query in G1");
    }
    if msm2(&p.b_g2, &r) != msm2(&powers.tau_g2[..n], &rb) {
        return not("the B query in G2");
    }
    let abc = msm1(&p.ic, &r[..instance]) + msm1(&p.c, &r[instance..]);
    let expected = msm1(&powers.beta_tau_g1[..n], &ra)
        + msm1(&powers.alpha_tau_g1[..n], &rb)
        + msm1(tau_g1, &rc);
    if abc != expected {
        return not("the inputs' or the L query");
    }
    if p.cs_hash != circuit_hash(p, &z_multiples(&t, n, n - 1)) {
        return not("the circuit's hash");
    }
    Ok(())
}
