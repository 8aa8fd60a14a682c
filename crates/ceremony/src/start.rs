//! The start of phase 2 from phase 1: a circuit's initial Groth16 parameters computed from the
//! powers of tau, with γ = δ = 1, as snarkjs's `zkey new` does. Nobody knows τ, α or β (phase 1
//! made them), and phase 2 then makes δ; so no single party knows a trapdoor of the final keys.
//!
//! The circuit's quadratic arithmetic program is arkworks' (libsnark's reduction, over the
//! radix-2 domain of `constraints + instance variables` points): the query of each variable is
//! a sparse sum of the Lagrange basis evaluated at τ in the exponent, which is the inverse FFT
//! of the powers of tau ([`Lagrange`]), and `H` is `τ^i·(τ^n − 1)`, from the powers directly.
//! The keys prove with `ark_groth16::Groth16::<Bn254>` unchanged.

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ec::short_weierstrass::{Affine, Projective};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{BigInteger, One, PrimeField, UniformRand, Zero};
use ark_groth16::{ProvingKey, VerifyingKey};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use ark_relations::gr1cs::{ConstraintSystemRef, Matrix, R1CS_PREDICATE_LABEL};
use rand::RngCore;
use rayon::prelude::*;
use std::ops::{Add, AddAssign, MulAssign, Sub, SubAssign};

use crate::error::CeremonyError;
use crate::phase1::Powers;

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

/// A finalized constraint system's R1CS matrices A, B and C (rows of (coefficient, variable)).
pub(crate) fn r1cs_matrices(cs: &ConstraintSystemRef<Fr>) -> crate::Result<[Matrix<Fr>; 3]> {
    let matrices = cs
        .to_matrices()
        .ok()
        .and_then(|mut m| m.remove(R1CS_PREDICATE_LABEL))
        .ok_or(CeremonyError::NotACircuit)?;
    <[Matrix<Fr>; 3]>::try_from(matrices).map_err(|_| CeremonyError::NotACircuit)
}

/// The size of a circuit's QAP domain: constraints and instance variables (one extra row
/// each, libsnark's reduction), rounded up to a power of two. Phase 1 needs at least as many
/// powers.
pub fn domain_size(cs: &ConstraintSystemRef<Fr>) -> usize {
    (cs.num_constraints() + cs.num_instance_variables()).next_power_of_two()
}

/// A circuit's initial phase-2 parameters (γ = δ = 1) from phase-1 `powers`. `cs` is the
/// circuit synthesized for setup and finalized (as `ark_groth16`'s generator synthesizes it).
pub fn initial_params(
    powers: &Powers,
    cs: ConstraintSystemRef<Fr>,
) -> crate::Result<ProvingKey<Bn254>> {
    let constraints = cs.num_constraints();
    let instance = cs.num_instance_variables();
    let variables = instance + cs.num_witness_variables();
    let n = domain_size(&cs);
    // H needs τ^i for i ≤ 2n − 2, which the powers hold when n ≤ their size.
    let lagrange = Lagrange::of(powers, n)?;
    let [a, b, c] = &r1cs_matrices(&cs)?;
    // Per variable: its (coefficient, row) in A, B and C; instance variable i also takes row
    // `constraints + i` in A (libsnark's reduction, which keeps the inputs independent).
    let mut columns = vec![[Vec::new(), Vec::new(), Vec::new()]; variables];
    for (m, matrix) in [a, b, c].into_iter().enumerate() {
        for (row, terms) in matrix.iter().enumerate().take(constraints) {
            for (k, var) in terms {
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
    let h: Vec<G1Projective> = (0..n - 1)
        .into_par_iter()
        .map(|i| powers.tau_g1[i + n].into_group() - powers.tau_g1[i])
        .collect();
    let abc = G1Projective::normalize_batch(&abc);
    let vk = VerifyingKey {
        alpha_g1: powers.alpha_tau_g1[0],
        beta_g2: powers.beta_g2,
        gamma_g2: G2Affine::generator(),
        delta_g2: G2Affine::generator(),
        gamma_abc_g1: abc[..instance].to_vec(),
    };
    Ok(ProvingKey {
        vk,
        beta_g1: powers.beta_tau_g1[0],
        delta_g1: G1Affine::generator(),
        a_query: G1Projective::normalize_batch(&a_query),
        b_g1_query: G1Projective::normalize_batch(&b_g1),
        b_g2_query: G2Projective::normalize_batch(&b_g2),
        h_query: G1Projective::normalize_batch(&h),
        l_query: abc[instance..].to_vec(),
    })
}

/// Checks that `params` are exactly what [`initial_params`] computes for `cs` from `powers`,
/// without its group FFT: each query is compared on a random linear combination, whose
/// Lagrange coefficients a scalar inverse FFT turns into coefficients of the powers (so one
/// multi-scalar multiplication over the powers gives what the combination must be). A wrong
/// point passes with probability about 1/r. This is what a verifier runs: cheap, and it takes
/// nothing from whoever computed the start.
pub fn check_initial<R: RngCore>(
    powers: &Powers,
    cs: ConstraintSystemRef<Fr>,
    params: &ProvingKey<Bn254>,
    rng: &mut R,
) -> crate::Result<()> {
    let constraints = cs.num_constraints();
    let instance = cs.num_instance_variables();
    let variables = instance + cs.num_witness_variables();
    let n = domain_size(&cs);
    if n > powers.tau_g2.len() {
        return Err(CeremonyError::TooSmall {
            needed: n,
            available: powers.tau_g2.len(),
        });
    }
    let [a, b, c] = &r1cs_matrices(&cs)?;
    let p = params;
    let not = |what| Err(CeremonyError::NotTheStart(what));
    if p.a_query.len() != variables
        || p.b_g1_query.len() != variables
        || p.b_g2_query.len() != variables
        || p.vk.gamma_abc_g1.len() != instance
        || p.l_query.len() != variables - instance
        || p.h_query.len() != n - 1
    {
        return not("the number of points");
    }
    let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
    if p.vk.alpha_g1 != powers.alpha_tau_g1[0]
        || p.beta_g1 != powers.beta_tau_g1[0]
        || p.vk.beta_g2 != powers.beta_g2
    {
        return not("alpha or beta");
    }
    if p.vk.gamma_g2 != g2 || p.delta_g1 != g1 || p.vk.delta_g2 != g2 {
        return not("gamma or delta (1 at the start)");
    }
    let msm1 = |bases: &[G1Affine], scalars: &[Fr]| {
        G1Projective::msm(bases, scalars).expect("as many scalars as points")
    };
    let msm2 = |bases: &[G2Affine], scalars: &[Fr]| {
        G2Projective::msm(bases, scalars).expect("as many scalars as points")
    };
    // H: τ^i·(τ^n − 1).
    let r: Vec<Fr> = (0..n - 1).map(|_| Fr::rand(rng)).collect();
    let expected = msm1(&powers.tau_g1[n..2 * n - 1], &r) - msm1(&powers.tau_g1[..n - 1], &r);
    if msm1(&p.h_query, &r) != expected {
        return not("the H query");
    }
    // The variables' queries: a combination r of the variables is the combination v of the
    // rows (v_c = Σ_i r_i·M_ci), i.e. Σ_c v_c·L_c(τ) = Σ_j IFFT(v)_j·τ^j.
    let r: Vec<Fr> = (0..variables).map(|_| Fr::rand(rng)).collect();
    let domain = Radix2EvaluationDomain::<Fr>::new(n).expect("n ≤ 2^28 is a radix-2 size");
    let rows = |matrix: &Vec<Vec<(Fr, usize)>>| {
        let mut v = vec![Fr::zero(); n];
        for (row, terms) in matrix.iter().enumerate().take(constraints) {
            v[row] = terms.iter().map(|(k, var)| *k * r[*var]).sum();
        }
        v
    };
    let mut va = rows(a);
    for (i, ri) in r.iter().enumerate().take(instance) {
        va[constraints + i] += ri;
    }
    let (ra, rb, rc) = (
        domain.ifft(&va),
        domain.ifft(&rows(b)),
        domain.ifft(&rows(c)),
    );
    let tau_g1 = &powers.tau_g1[..n];
    if msm1(&p.a_query, &r) != msm1(tau_g1, &ra) {
        return not("the A query");
    }
    if msm1(&p.b_g1_query, &r) != msm1(tau_g1, &rb) {
        return not("the B query in G1");
    }
    if msm2(&p.b_g2_query, &r) != msm2(&powers.tau_g2[..n], &rb) {
        return not("the B query in G2");
    }
    let abc = msm1(&p.vk.gamma_abc_g1, &r[..instance]) + msm1(&p.l_query, &r[instance..]);
    let expected = msm1(&powers.beta_tau_g1[..n], &ra)
        + msm1(&powers.alpha_tau_g1[..n], &rb)
        + msm1(tau_g1, &rc);
    if abc != expected {
        return not("the inputs' or the L query");
    }
    Ok(())
}
