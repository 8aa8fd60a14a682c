//! Phase 2 started from phase 1: the initial parameters are exactly arkworks' QAP evaluated at
//! the powers' τ, α and β (γ = δ = 1), `H` on snarkjs's odd coset; a ceremony run from them
//! proves and verifies with the stock Groth16 prover, and refuses proofs of other statements;
//! too few powers are refused; a claimed start is checked without recomputing it.

use ark_bn254::{Bn254, Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{Field, One};
use ark_groth16::Groth16;
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use ark_snark::SNARK;
use trustspace_ceremony::start::{check_initial, initial_state};
use trustspace_ceremony::{CeremonyError, Phase1, Phase2, Powers};
use trustspace_zk::prove::synthesized;

use crate::{Cubic, rng};

/// Powers of known τ, α, β (a test's trapdoor, to compare against arkworks' own evaluation).
fn known_powers(power: u32, tau: Fr, alpha: Fr, beta: Fr) -> Powers {
    let n = 1usize << power;
    let pow = |i: usize| tau.pow([i as u64]);
    let g1 = |k: Fr| (G1Affine::generator() * k).into_affine();
    let g2 = |k: Fr| (G2Affine::generator() * k).into_affine();
    Powers {
        tau_g1: (0..2 * n - 1).map(|i| g1(pow(i))).collect(),
        tau_g2: (0..n).map(|i| g2(pow(i))).collect(),
        alpha_tau_g1: (0..n).map(|i| g1(alpha * pow(i))).collect(),
        beta_tau_g1: (0..n).map(|i| g1(beta * pow(i))).collect(),
        beta_g2: g2(beta),
    }
}

#[test]
fn initial_parameters_are_the_circuits_qap_at_the_powers() {
    let (tau, alpha, beta) = (Fr::from(1234567u64), Fr::from(89u64), Fr::from(1011u64));
    // 2^4 powers for an 8-point domain (H's last power is in them), and 2^3 (it is not).
    for power in [4, 3] {
        let powers = known_powers(power, tau, alpha, beta);
        let cs = synthesized(Cubic { x: None }).unwrap();
        let state = initial_state(&powers, cs.clone()).unwrap();
        let (a, b, c, zt, _, n) = LibsnarkReduction::instance_map_with_evaluation::<
            Fr,
            Radix2EvaluationDomain<Fr>,
        >(cs.clone(), &tau)
        .unwrap();
        let g1 = |k: Fr| (G1Affine::generator() * k).into_affine();
        let g2 = |k: Fr| (G2Affine::generator() * k).into_affine();
        let instance = cs.num_instance_variables();
        assert_eq!(state.a, a.iter().map(|k| g1(*k)).collect::<Vec<_>>());
        assert_eq!(state.b_g1, b.iter().map(|k| g1(*k)).collect::<Vec<_>>());
        assert_eq!(state.b_g2, b.iter().map(|k| g2(*k)).collect::<Vec<_>>());
        let abc: Vec<G1Affine> = (0..a.len())
            .map(|i| g1(beta * a[i] + alpha * b[i] + c[i]))
            .collect();
        assert_eq!(state.ic, abc[..instance]);
        assert_eq!(state.c, abc[instance..]);
        // H on the odd coset: the doubled domain's odd Lagrange polynomials at τ, with τ^{2n−1}
        // taken as 0 when the powers stop short of it (as snarkjs pads it).
        let doubled = Radix2EvaluationDomain::<Fr>::new(2 * n).unwrap();
        let lagrange = doubled.evaluate_all_lagrange_coefficients(tau);
        let mut coset: Vec<G1Affine> = (0..n).map(|m| g1(lagrange[2 * m + 1])).collect();
        if power == 3 {
            // Σ_m L_{2m+1}(x)·ω^{−(2m+1)(2n−1)}/(2n) is x^{2n−1}'s share of the odd points.
            let top = tau.pow([(2 * n - 1) as u64]);
            let w = doubled.group_gen;
            let share = |m: usize| {
                top * w
                    .pow([((2 * m + 1) * (2 * n - 1)) as u64])
                    .inverse()
                    .unwrap()
                    / Fr::from((2 * n) as u64)
            };
            coset = (0..n).map(|m| g1(lagrange[2 * m + 1] - share(m))).collect();
        }
        assert_eq!(state.h, coset, "power {power}");
        // Turned into arkworks' form, H is τ^i·Z(τ).
        let h: Vec<G1Affine> = (0..n - 1).map(|i| g1(tau.pow([i as u64]) * zt)).collect();
        assert_eq!(state.proving_key().h_query, h);
        assert_eq!(state.alpha_g1, g1(alpha));
        assert_eq!((state.beta_g1, state.beta_g2), (g1(beta), g2(beta)));
        assert_eq!(
            (state.delta_g1, state.delta_g2),
            (g1(Fr::one()), g2(Fr::one()))
        );
        assert_eq!(state.gamma_g2, G2Affine::generator());
    }
}

#[test]
fn a_ceremony_from_phase_one_proves_and_verifies() {
    let mut phase1 = Phase1::new(3).unwrap();
    phase1.contribute(&mut rng(1), Some("hospital")).unwrap();
    phase1.beacon(&[7; 32], 2, None).unwrap();
    phase1.verify(&mut rng(2)).unwrap();
    let initial = initial_state(&phase1.powers, synthesized(Cubic { x: None }).unwrap()).unwrap();
    let mut state = initial.clone();
    state.contribute(&mut rng(3), None).unwrap();
    state.contribute(&mut rng(4), None).unwrap();
    state.verify(&initial, &mut rng(5)).unwrap();

    let pk = state.proving_key();
    let x = Fr::from(3u64);
    let out = x * x * x + x + Fr::from(5u64);
    let proof = Groth16::<Bn254>::prove(&pk, Cubic { x: Some(x) }, &mut rng(6)).unwrap();
    assert!(Groth16::<Bn254>::verify(&pk.vk, &[out], &proof).unwrap());
    assert!(!Groth16::<Bn254>::verify(&pk.vk, &[out + Fr::one()], &proof).unwrap());
    // The start's keys (δ = 1) do not accept the ceremony's proofs.
    assert!(!Groth16::<Bn254>::verify(&initial.verifying_key(), &[out], &proof).unwrap());

    // Powers of 2^2 are too few for the circuit's 8-point domain.
    let mut small = Phase1::new(2).unwrap();
    small.contribute(&mut rng(1), None).unwrap();
    assert_eq!(
        initial_state(&small.powers, synthesized(Cubic { x: None }).unwrap()).unwrap_err(),
        CeremonyError::TooSmall {
            needed: 8,
            available: 4
        }
    );
}

#[test]
fn a_start_is_checked_against_the_powers_without_recomputing_it() {
    let mut phase1 = Phase1::new(3).unwrap();
    phase1.contribute(&mut rng(1), None).unwrap();
    let cs = || synthesized(Cubic { x: None }).unwrap();
    let honest = initial_state(&phase1.powers, cs()).unwrap();
    check_initial(&phase1.powers, cs(), &honest, &mut rng(2)).unwrap();
    let other = G1Affine::generator();
    let refused = |tamper: &dyn Fn(&mut Phase2)| {
        let mut p = honest.clone();
        tamper(&mut p);
        match check_initial(&phase1.powers, cs(), &p, &mut rng(3)).unwrap_err() {
            CeremonyError::NotTheStart(what) => what,
            e => panic!("{e}"),
        }
    };
    assert_eq!(refused(&|p| p.a[2] = other), "the A query");
    assert_eq!(refused(&|p| p.b_g1[1] = other), "the B query in G1");
    assert_eq!(
        refused(&|p| p.b_g2[1] = G2Affine::generator()),
        "the B query in G2"
    );
    assert_eq!(refused(&|p| p.c[0] = other), "the inputs' or the L query");
    assert_eq!(refused(&|p| p.ic[1] = other), "the inputs' or the L query");
    assert_eq!(refused(&|p| p.h[3] = other), "the H query");
    assert_eq!(refused(&|p| p.cs_hash[5] ^= 1), "the circuit's hash");
    assert_eq!(refused(&|p| p.alpha_g1 = other), "alpha or beta");
    assert_eq!(
        refused(&|p| p.delta_g1 = p.beta_g1),
        "gamma or delta (1 at the start)"
    );
    assert_eq!(refused(&|p| p.c.truncate(1)), "the number of points");
    assert_eq!(
        refused(&|p| p.coefs[1].value = Fr::from(3u64)),
        "the constraint coefficients"
    );
    assert_eq!(
        refused(&|p| {
            p.contribute(&mut rng(9), None).unwrap();
        }),
        "the contributions (a start has none)"
    );
    // Another phase 1's start.
    let mut again = Phase1::new(3).unwrap();
    again.contribute(&mut rng(4), None).unwrap();
    let theirs = initial_state(&again.powers, cs()).unwrap();
    assert!(check_initial(&phase1.powers, cs(), &theirs, &mut rng(5)).is_err());
}
