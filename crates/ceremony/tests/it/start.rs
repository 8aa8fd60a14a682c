//! Phase 2 started from phase 1: the initial parameters are exactly arkworks' QAP evaluated at
//! the powers' τ, α and β (γ = δ = 1); a ceremony run from them proves and verifies with the
//! stock Groth16 prover, and refuses proofs of other statements; too few powers are refused.

use ark_bn254::{Bn254, Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{Field, One};
use ark_groth16::Groth16;
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_poly::Radix2EvaluationDomain;
use ark_snark::SNARK;
use trustspace_ceremony::start::{check_initial, initial_params};
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
    let powers = known_powers(4, tau, alpha, beta);
    let cs = synthesized(Cubic { x: None }).unwrap();
    let pk = initial_params(&powers, cs.clone()).unwrap();
    let (a, b, c, zt, _, n) = LibsnarkReduction::instance_map_with_evaluation::<
        Fr,
        Radix2EvaluationDomain<Fr>,
    >(cs.clone(), &tau)
    .unwrap();
    let g1 = |k: Fr| (G1Affine::generator() * k).into_affine();
    let g2 = |k: Fr| (G2Affine::generator() * k).into_affine();
    let instance = cs.num_instance_variables();
    assert_eq!(pk.a_query, a.iter().map(|k| g1(*k)).collect::<Vec<_>>());
    assert_eq!(pk.b_g1_query, b.iter().map(|k| g1(*k)).collect::<Vec<_>>());
    assert_eq!(pk.b_g2_query, b.iter().map(|k| g2(*k)).collect::<Vec<_>>());
    let abc: Vec<G1Affine> = (0..a.len())
        .map(|i| g1(beta * a[i] + alpha * b[i] + c[i]))
        .collect();
    assert_eq!(pk.vk.gamma_abc_g1, abc[..instance]);
    assert_eq!(pk.l_query, abc[instance..]);
    let h: Vec<G1Affine> = (0..n - 1).map(|i| g1(tau.pow([i as u64]) * zt)).collect();
    assert_eq!(pk.h_query, h);
    assert_eq!(pk.vk.alpha_g1, g1(alpha));
    assert_eq!((pk.beta_g1, pk.vk.beta_g2), (g1(beta), g2(beta)));
    assert_eq!(
        (pk.delta_g1, pk.vk.delta_g2),
        (g1(Fr::one()), g2(Fr::one()))
    );
    assert_eq!(pk.vk.gamma_g2, G2Affine::generator());
}

#[test]
fn a_ceremony_from_phase_one_proves_and_verifies() {
    let mut phase1 = Phase1::new(3).unwrap();
    phase1.contribute(&mut rng(1), Some("hospital")).unwrap();
    phase1.beacon(&[7; 32], 2, None).unwrap();
    phase1.verify(&mut rng(2)).unwrap();
    let initial = initial_params(&phase1.powers, synthesized(Cubic { x: None }).unwrap()).unwrap();
    let mut state = Phase2::new(initial.clone());
    state.contribute(&mut rng(3));
    state.contribute(&mut rng(4));
    state.verify(&initial, &mut rng(5)).unwrap();

    let x = Fr::from(3u64);
    let out = x * x * x + x + Fr::from(5u64);
    let proof = Groth16::<Bn254>::prove(&state.params, Cubic { x: Some(x) }, &mut rng(6)).unwrap();
    assert!(Groth16::<Bn254>::verify(&state.params.vk, &[out], &proof).unwrap());
    assert!(!Groth16::<Bn254>::verify(&state.params.vk, &[out + Fr::one()], &proof).unwrap());
    // The start's keys (δ = 1) do not accept the ceremony's proofs.
    assert!(!Groth16::<Bn254>::verify(&initial.vk, &[out], &proof).unwrap());

    // Powers of 2^2 are too few for the circuit's 8-point domain.
    let mut small = Phase1::new(2).unwrap();
    small.contribute(&mut rng(1), None).unwrap();
    assert_eq!(
        initial_params(&small.powers, synthesized(Cubic { x: None }).unwrap()).unwrap_err(),
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
    let honest = initial_params(&phase1.powers, cs()).unwrap();
    check_initial(&phase1.powers, cs(), &honest, &mut rng(2)).unwrap();
    let other = G1Affine::generator();
    let refused = |tamper: &dyn Fn(&mut ark_groth16::ProvingKey<Bn254>)| {
        let mut p = honest.clone();
        tamper(&mut p);
        match check_initial(&phase1.powers, cs(), &p, &mut rng(3)).unwrap_err() {
            CeremonyError::NotTheStart(what) => what,
            e => panic!("{e}"),
        }
    };
    assert_eq!(refused(&|p| p.a_query[2] = other), "the A query");
    assert_eq!(refused(&|p| p.b_g1_query[1] = other), "the B query in G1");
    assert_eq!(
        refused(&|p| p.b_g2_query[1] = G2Affine::generator()),
        "the B query in G2"
    );
    assert_eq!(
        refused(&|p| p.l_query[0] = other),
        "the inputs' or the L query"
    );
    assert_eq!(
        refused(&|p| p.vk.gamma_abc_g1[1] = other),
        "the inputs' or the L query"
    );
    assert_eq!(refused(&|p| p.h_query[3] = other), "the H query");
    assert_eq!(refused(&|p| p.vk.alpha_g1 = other), "alpha or beta");
    assert_eq!(
        refused(&|p| p.delta_g1 = p.beta_g1),
        "gamma or delta (1 at the start)"
    );
    assert_eq!(refused(&|p| p.l_query.truncate(1)), "the number of points");
    // Another phase 1's start.
    let mut again = Phase1::new(3).unwrap();
    again.contribute(&mut rng(4), None).unwrap();
    let theirs = initial_params(&again.powers, cs()).unwrap();
    assert!(check_initial(&phase1.powers, cs(), &theirs, &mut rng(5)).is_err());
}
