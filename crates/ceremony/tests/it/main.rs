//! Phase 2 end to end on a small circuit: an honest chain of contributions (and a closing
//! beacon) verifies and its keys prove and verify; every way of breaking the chain is refused
//! by its check; malformed `.zkey` files are refused by cause. A ceremony over a real policy's
//! keys is in [`keys`].

mod keys;
mod phase1;
mod snarkjs;
mod start;

use ark_bn254::{Bn254, Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{Field, UniformRand};
use ark_groth16::Groth16;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError, Variable};
use ark_relations::lc;
use ark_snark::SNARK;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use trustspace_ceremony::phase1::Source;
use trustspace_ceremony::start::initial_state;
use trustspace_ceremony::{CeremonyError, Check, Phase1, Phase2};
use trustspace_zk::prove::synthesized;

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

/// The Cubic circuit's start from a phase 1 of 2^3 points (one contribution): its domain
/// fills the powers, so `H`'s last power is the identity, as snarkjs pads it.
fn start() -> Phase2 {
    let mut phase1 = Phase1::new(3).unwrap();
    phase1.contribute(&mut rng(1), Some("phase 1")).unwrap();
    initial_state(&phase1.powers, synthesized(Cubic { x: None }).unwrap()).unwrap()
}

/// The start and a state after `n` named contributions.
fn ceremony(n: usize) -> (Phase2, Phase2) {
    let initial = start();
    let mut state = initial.clone();
    for i in 0..n {
        state
            .contribute(&mut rng(100 + i as u64), Some(&format!("member {i}")))
            .unwrap();
    }
    (initial, state)
}

fn refused(state: &Phase2, initial: &Phase2) -> CeremonyError {
    state.verify(initial, &mut rng(7)).unwrap_err()
}

#[test]
fn an_honest_chain_verifies_and_its_keys_prove() {
    let (initial, mut state) = ceremony(3);
    state.verify(&initial, &mut rng(7)).unwrap();
    assert_ne!(state.delta_g1, initial.delta_g1);
    let pk = state.proving_key();
    let x = Fr::from(3u64);
    let out = x * x * x + x + Fr::from(5u64);
    let proof = Groth16::<Bn254>::prove(&pk, Cubic { x: Some(x) }, &mut rng(9)).unwrap();
    let vk = &pk.vk;
    assert!(Groth16::<Bn254>::verify(vk, &[out], &proof).unwrap());
    assert!(!Groth16::<Bn254>::verify(vk, &[out + Fr::from(1u64)], &proof).unwrap());
    // The initial keys' verifier does not accept it: δ moved.
    assert!(!Groth16::<Bn254>::verify(&initial.verifying_key(), &[out], &proof).unwrap());
    // A state with no contribution is the start, and verifies as such.
    initial.verify(&initial, &mut rng(7)).unwrap();
    // A beacon closes the chain; anyone re-derives its secret.
    state
        .beacon(&[0xbe; 32], 3, Some("closing beacon"))
        .unwrap();
    state.verify(&initial, &mut rng(7)).unwrap();
    let last = state.contributions.last().unwrap();
    assert_eq!(last.name.as_deref(), Some("closing beacon"));
    assert_eq!(
        last.source,
        Source::Beacon {
            hash: vec![0xbe; 32],
            iterations_exp: 3
        }
    );
    assert_eq!(state.contributions[1].name.as_deref(), Some("member 1"));
    // The .zkey round-trips, and is pinned by its golden file.
    let back = Phase2::from_zkey(&state.to_zkey()).unwrap();
    assert!(back == state);
    golden("phase2-cubic.zkey", &state.to_zkey());
    // Bad beacons and names are refused before anything changes.
    let before = state.clone();
    assert_eq!(
        state.beacon(&[], 3, None).unwrap_err(),
        CeremonyError::BadBeacon
    );
    assert_eq!(
        state.beacon(&[1], 29, None).unwrap_err(),
        CeremonyError::BadBeacon
    );
    assert_eq!(
        state
            .contribute(&mut rng(1), Some(&"x".repeat(65)))
            .unwrap_err(),
        CeremonyError::NameTooLong(65)
    );
    assert!(state == before);
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

    // A secret contribution passed off as a public beacon's.
    let mut relabelled = state.clone();
    relabelled.contributions[1].source = Source::Beacon {
        hash: vec![1; 32],
        iterations_exp: 2,
    };
    contribution_refused(refused(&relabelled, &initial), 1, Check::Beacon);

    // Identity points.
    let mut zero = state.clone();
    zero.contributions[0].s = G1Affine::zero();
    contribution_refused(refused(&zero, &initial), 0, Check::ZeroPoint("s"));

    // The final δ replaced (by a δ whose secret the forger knows), L and H left alone.
    let mut rogue = state.clone();
    let k = Fr::from(7u64);
    rogue.delta_g1 = (rogue.delta_g1 * k).into_affine();
    rogue.delta_g2 = (rogue.delta_g2 * k).into_affine();
    assert_eq!(
        refused(&rogue, &initial),
        CeremonyError::Final(Check::FinalDelta)
    );
    // δ in G2 alone.
    let mut g2_only = state.clone();
    g2_only.delta_g2 = (g2_only.delta_g2 * k).into_affine();
    assert_eq!(
        refused(&g2_only, &initial),
        CeremonyError::Final(Check::DeltaG2)
    );
    // L (or H) not divided by the secrets, one element at a time.
    for which in ["L", "H"] {
        let mut stale = state.clone();
        let q = match which {
            "L" => &mut stale.c,
            _ => &mut stale.h,
        };
        q[0] = (q[0] * k.inverse().unwrap()).into_affine();
        assert_eq!(
            refused(&stale, &initial),
            CeremonyError::Final(Check::Query(which))
        );
    }
    // Any other parameter.
    let mut alpha = state.clone();
    alpha.alpha_g1 = (alpha.alpha_g1 * k).into_affine();
    assert_eq!(
        refused(&alpha, &initial),
        CeremonyError::Final(Check::Changed("alpha"))
    );
    let mut coefs = state.clone();
    coefs.coefs[0].value += Fr::from(1u64);
    assert_eq!(
        refused(&coefs, &initial),
        CeremonyError::Final(Check::Changed("the constraint coefficients"))
    );
    // Another start than the state's (another circuit hash), or a start with contributions.
    let mut other = initial.clone();
    other.cs_hash[0] ^= 1;
    assert_eq!(refused(&state, &other), CeremonyError::OtherStart);
    assert_eq!(refused(&state, &state), CeremonyError::OtherStart);
}

#[test]
fn malformed_files_are_refused() {
    let (_, state) = ceremony(1);
    let file = state.to_zkey();
    let err = |bytes: &[u8]| Phase2::from_zkey(bytes).unwrap_err();
    let malformed = |bytes: &[u8]| match err(bytes) {
        CeremonyError::Malformed { reason, .. } => reason,
        e => panic!("{e}"),
    };
    assert_eq!(malformed(b"nonsense"), "wrong magic");
    assert_eq!(malformed(&file[..file.len() - 1]), "truncated");
    let mut trailing = file.clone();
    trailing.push(0);
    assert_eq!(malformed(&trailing), "bytes after the last section");
    let mut v2 = file.clone();
    v2[4..8].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(
        err(&v2),
        CeremonyError::Version {
            found: 2,
            expected: 1
        }
    );
    // The file rebuilt section by section, one of them replaced.
    let sections = sections(&file);
    let with = |id: u32, body: Vec<u8>| {
        let mut s = sections.clone();
        s.iter_mut().find(|(i, _)| *i == id).unwrap().1 = body;
        container(&s)
    };
    assert_eq!(container(&sections), file);
    let mut extra = sections.clone();
    extra.push((11, vec![]));
    assert_eq!(malformed(&container(&extra)), "unknown section 11");
    assert_eq!(
        malformed(&with(1, 2u32.to_le_bytes().to_vec())),
        "not a Groth16 key"
    );
    // Coefficients: a value not below the modulus, a wire or row out of range, a count the
    // section does not hold.
    let coefs = &sections.iter().find(|(i, _)| *i == 4).unwrap().1;
    let mut high = coefs.clone();
    high[16..48].copy_from_slice(&[0xff; 32]);
    assert_eq!(
        malformed(&with(4, high)),
        "coefficient 0 is not below the modulus"
    );
    let mut wire = coefs.clone();
    wire[12..16].copy_from_slice(&99u32.to_le_bytes());
    assert_eq!(malformed(&with(4, wire)), "coefficient 0 is out of range");
    let mut count = coefs.clone();
    count[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(malformed(&with(4, count)).contains("does not hold"));
    // A section of points one point short.
    let a = &sections.iter().find(|(i, _)| *i == 5).unwrap().1;
    assert_eq!(
        malformed(&with(5, a[..a.len() - 64].to_vec())),
        "the A section does not hold 5 points"
    );
    // A contribution count the section cannot hold.
    let mpc = &sections.iter().find(|(i, _)| *i == 10).unwrap().1;
    let mut many = mpc.clone();
    many[64..68].copy_from_slice(&1000u32.to_le_bytes());
    assert_eq!(
        malformed(&with(10, many)),
        "more contributions than the section holds"
    );
    // A G2 point on the curve but outside the prime-order subgroup (its cofactor not
    // cleared), written where the contribution's r·d is.
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
    assert_eq!(
        malformed(&bad.to_zkey()),
        "contribution 0: not in the prime-order subgroup"
    );
    let mut bad = state.clone();
    bad.h[1] = G1Affine::new_unchecked(ark_bn254::Fq::from(1u64), ark_bn254::Fq::from(1u64));
    assert_eq!(
        malformed(&bad.to_zkey()),
        "H point 1: not a point of the curve"
    );
}

/// A container's sections (id, body), in order.
fn sections(file: &[u8]) -> Vec<(u32, Vec<u8>)> {
    let count = u32::from_le_bytes(file[8..12].try_into().unwrap());
    let mut at = 12;
    (0..count)
        .map(|_| {
            let id = u32::from_le_bytes(file[at..at + 4].try_into().unwrap());
            let len = u64::from_le_bytes(file[at + 4..at + 12].try_into().unwrap()) as usize;
            at += 12 + len;
            (id, file[at - len..at].to_vec())
        })
        .collect()
}

/// A `.zkey` container of `sections`.
fn container(sections: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = b"zkey".to_vec();
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    for (id, body) in sections {
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(body);
    }
    out
}
