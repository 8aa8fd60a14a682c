//! Phase 2 end to end on a small circuit: an honest chain of contributions verifies and its
//! keys prove and verify; every way of breaking the chain is refused by its check. A ceremony
//! over a real policy's keys is in [`keys`].

mod keys;
mod phase1;
mod snarkjs;
mod start;

use ark_bn254::{Bn254, Fr, G1Affine, G2Affine, G2Projective};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{Field, UniformRand};
use ark_groth16::{Groth16, ProvingKey};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError, Variable};
use ark_relations::lc;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use ark_snark::SNARK;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use trustspace_ceremony::{CeremonyError, Check, Phase2};

/// Knowledge of `x` with `x^3 + x + 5 = out` (`out` public), over a few constraints so that
/// `L` and `H` are not trivial.
#[derive(Clone)]
struct Cubic {
    x: Option<Fr>,
}

impl ConstraintSynthesizer<Fr> for Cubic {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let x_val = self.x;
        let out_val = x_val.map(|x| x * x * x + x + Fr::from(5u64));
        let x = cs.new_witness_variable(|| x_val.ok_or(SynthesisError::AssignmentMissing))?;
        let sq_val = x_val.map(|x| x * x);
        let sq = cs.new_witness_variable(|| sq_val.ok_or(SynthesisError::AssignmentMissing))?;
        let cube_val = sq_val.zip(x_val).map(|(s, x)| s * x);
        let cube = cs.new_witness_variable(|| cube_val.ok_or(SynthesisError::AssignmentMissing))?;
        let out = cs.new_input_variable(|| out_val.ok_or(SynthesisError::AssignmentMissing))?;
        let one = Variable::one();
        cs.enforce_r1cs_constraint(|| lc![x], || lc![x], || lc![sq])?;
        cs.enforce_r1cs_constraint(|| lc![sq], || lc![x], || lc![cube])?;
        cs.enforce_r1cs_constraint(
            || {
                lc![
                    (Fr::from(1u64), cube),
                    (Fr::from(1u64), x),
                    (Fr::from(5u64), one)
                ]
            },
            || lc![one],
            || lc![out],
        )?;
        Ok(())
    }
}

/// Compares `bytes` with the golden file `tests/golden/NAME`; `TRUSTSPACE_UPDATE_GOLDEN=1`
/// rewrites it (a format change is then reviewed as a diff of the golden files).
fn golden(name: &str, bytes: &[u8]) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("TRUSTSPACE_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
    let pinned = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (bless with TRUSTSPACE_UPDATE_GOLDEN=1)",
            path.display()
        )
    });
    assert!(
        pinned == bytes,
        "{name} differs from its golden file (a format change?)"
    );
}

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// The circuit's initial parameters and a state after `n` contributions.
fn ceremony(n: usize) -> (ProvingKey<Bn254>, Phase2) {
    let (initial, _) =
        Groth16::<Bn254>::circuit_specific_setup(Cubic { x: None }, &mut rng(1)).unwrap();
    let mut state = Phase2::new(initial.clone());
    for i in 0..n {
        state.contribute(&mut rng(100 + i as u64));
    }
    (initial, state)
}

fn refused(state: &Phase2, initial: &ProvingKey<Bn254>) -> CeremonyError {
    state.verify(initial, &mut rng(7)).unwrap_err()
}

#[test]
fn an_honest_chain_verifies_and_its_keys_prove() {
    let (initial, state) = ceremony(3);
    state.verify(&initial, &mut rng(7)).unwrap();
    assert_ne!(state.params.delta_g1, initial.delta_g1);
    let x = Fr::from(3u64);
    let out = x * x * x + x + Fr::from(5u64);
    let proof = Groth16::<Bn254>::prove(&state.params, Cubic { x: Some(x) }, &mut rng(9)).unwrap();
    let vk = &state.params.vk;
    assert!(Groth16::<Bn254>::verify(vk, &[out], &proof).unwrap());
    assert!(!Groth16::<Bn254>::verify(vk, &[out + Fr::from(1u64)], &proof).unwrap());
    // The initial keys' verifier does not accept it: δ moved.
    assert!(!Groth16::<Bn254>::verify(&initial.vk, &[out], &proof).unwrap());
    // A state with no contribution is the initial parameters, and verifies as such.
    Phase2::new(initial.clone())
        .verify(&initial, &mut rng(7))
        .unwrap();
    // The file round-trips.
    let back = Phase2::from_bytes(&state.to_bytes()).unwrap();
    assert!(back == state);
}

fn contribution_refused(e: CeremonyError, index: usize, check: Check) {
    assert_eq!(e, CeremonyError::Contribution { index, check }, "{e}");
}

#[test]
fn a_broken_chain_is_refused_naming_the_contribution_and_the_check() {
    let (initial, state) = ceremony(3);
    // Skipped, reordered or replayed contributions break the transcript.
    let mut skipped = state.clone();
    skipped.contributions.remove(1);
    contribution_refused(refused(&skipped, &initial), 1, Check::Transcript);
    let mut reordered = state.clone();
    reordered.contributions.swap(0, 1);
    contribution_refused(refused(&reordered, &initial), 0, Check::Transcript);
    let mut replayed = state.clone();
    let first = replayed.contributions[0].clone();
    replayed.contributions.push(first);
    contribution_refused(refused(&replayed, &initial), 3, Check::Transcript);

    // A proof of knowledge for another secret.
    let mut wrong_pok = state.clone();
    let c = &mut wrong_pok.contributions[1];
    c.r_delta = (c.r_delta * Fr::from(2u64)).into_affine();
    contribution_refused(refused(&wrong_pok, &initial), 1, Check::ProofOfKnowledge);

    // A contribution whose δ is not extended by the secret it proves (it keeps its own proof
    // of knowledge but claims a δ of its choosing).
    let mut forged = state.clone();
    forged.contributions[2].delta_after = G1Affine::generator();
    contribution_refused(refused(&forged, &initial), 2, Check::DeltaNotExtended);

    // Identity points.
    let mut zero = state.clone();
    zero.contributions[0].s = G1Affine::zero();
    contribution_refused(refused(&zero, &initial), 0, Check::ZeroPoint("s"));

    // The final δ replaced (by a δ whose secret the forger knows), L and H left alone.
    let mut rogue = state.clone();
    let k = Fr::from(7u64);
    rogue.params.delta_g1 = (rogue.params.delta_g1 * k).into_affine();
    rogue.params.vk.delta_g2 = (rogue.params.vk.delta_g2 * k).into_affine();
    assert_eq!(
        refused(&rogue, &initial),
        CeremonyError::Final(Check::FinalDelta)
    );
    // δ in G2 alone.
    let mut g2_only = state.clone();
    g2_only.params.vk.delta_g2 = (g2_only.params.vk.delta_g2 * k).into_affine();
    assert_eq!(
        refused(&g2_only, &initial),
        CeremonyError::Final(Check::DeltaG2)
    );
    // L (or H) not divided by the secrets, one element at a time.
    for which in ["L", "H"] {
        let mut stale = state.clone();
        let q = match which {
            "L" => &mut stale.params.l_query,
            _ => &mut stale.params.h_query,
        };
        q[0] = (q[0] * k.inverse().unwrap()).into_affine();
        assert_eq!(
            refused(&stale, &initial),
            CeremonyError::Final(Check::Query(which))
        );
    }
    // Any other parameter.
    let mut alpha = state.clone();
    alpha.params.vk.alpha_g1 = (alpha.params.vk.alpha_g1 * k).into_affine();
    assert_eq!(
        refused(&alpha, &initial),
        CeremonyError::Final(Check::Changed("alpha"))
    );
    // Other initial parameters than the state started from.
    let (other, _) = ceremony(0);
    let mut other = other;
    other.beta_g1 = (other.beta_g1 * k).into_affine();
    assert_eq!(refused(&state, &other), CeremonyError::OtherStart);
}

#[test]
fn malformed_files_are_refused() {
    let (_, state) = ceremony(1);
    let file = state.to_bytes();
    let err = |bytes: &[u8]| Phase2::from_bytes(bytes).unwrap_err();
    assert!(matches!(err(b"nonsense"), CeremonyError::Malformed { .. }));
    assert!(matches!(
        err(&file[..file.len() - 1]),
        CeremonyError::Malformed { .. }
    ));
    let mut trailing = file.clone();
    trailing.push(0);
    assert!(matches!(err(&trailing), CeremonyError::Malformed { .. }));
    let mut v2 = file.clone();
    v2[16..20].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(
        err(&v2),
        CeremonyError::Version {
            found: 2,
            expected: 1
        }
    );
    // A flag bit set where arkworks' decoder ignores it (an identity point's sign): the same
    // state in other bytes, refused so that each state has one encoding (found by the fuzz
    // smoke).
    let (_, initial) = ceremony(0);
    let canonical = initial.to_bytes();
    let mut aliases = 0;
    for i in 20..canonical.len() {
        let mut flipped = canonical.clone();
        flipped[i] ^= 0x80;
        let Ok(decoded) = Phase2::deserialize_compressed(&flipped[20..]) else {
            continue;
        };
        if decoded.to_bytes() != flipped {
            aliases += 1;
            assert!(matches!(
                Phase2::from_bytes(&flipped),
                Err(CeremonyError::Malformed { .. })
            ));
        }
    }
    assert!(aliases > 0, "no alias encoding left to refuse");
    // A G2 point on the curve but outside the prime-order subgroup (its cofactor not
    // cleared), written where the last contribution's r·d is.
    let mut r = rng(5);
    let outside = loop {
        let x = ark_bn254::Fq2::rand(&mut r);
        if let Some(p) = G2Affine::get_point_from_x_unchecked(x, false)
            && !p.is_in_correct_subgroup_assuming_on_curve()
        {
            break p;
        }
    };
    let mut bad = state.clone();
    bad.contributions[0].r_delta = outside;
    let file = bad.to_bytes();
    assert!(matches!(err(&file), CeremonyError::Malformed { .. }));
    // And a G2 point of the subgroup checks fine where it belongs.
    let inside = G2Projective::rand(&mut r).into_affine();
    assert!(inside.is_in_correct_subgroup_assuming_on_curve());
    let mut fine = Vec::new();
    inside.serialize_compressed(&mut fine).unwrap();
    assert_eq!(fine.len(), 64);
}
