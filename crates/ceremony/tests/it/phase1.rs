//! Phase 1 (powers of tau): a snarkjs file (two contributions and a beacon, prepared for phase
//! 2) reads and verifies here; a ceremony run here verifies, round-trips through `.ptau` byte
//! for byte and is pinned by a golden file; every way of breaking it is refused by its check.

use ark_bn254::{Fq2, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::One;
use trustspace_ceremony::encoding::g2_lem;
use trustspace_ceremony::phase1::Source;
use trustspace_ceremony::{CeremonyError, Check, Phase1};

use crate::rng;

const SNARKJS: &[u8] = include_bytes!("../data/snarkjs-power4.ptau");
const BEACON: &[u8] = &[0x42; 32];

/// A ceremony at power 4: two contributions and a beacon.
fn ours() -> Phase1 {
    let mut state = Phase1::new(4).unwrap();
    state.contribute(&mut rng(1), Some("hospital A")).unwrap();
    state.contribute(&mut rng(2), None).unwrap();
    state.beacon(BEACON, 3, Some("beacon")).unwrap();
    state
}

fn refused(state: &Phase1) -> CeremonyError {
    state.verify(&mut rng(9)).unwrap_err()
}

fn contribution(index: usize, check: Check) -> CeremonyError {
    CeremonyError::Contribution { index, check }
}

#[test]
fn a_snarkjs_file_reads_verifies_and_takes_a_contribution() {
    let mut state = Phase1::from_ptau(SNARKJS).unwrap();
    assert_eq!((state.power, state.ceremony_power), (4, 4));
    let names: Vec<_> = state.contributions.iter().map(|c| c.name.clone()).collect();
    assert_eq!(
        names,
        [
            Some("First org".into()),
            Some("Second".into()),
            Some("Final Beacon".into())
        ]
    );
    assert!(matches!(
        &state.contributions[2].source,
        Source::Beacon { iterations_exp: 10, hash } if hash[..] == (1..=31).collect::<Vec<u8>>()
    ));
    let report = state.verify(&mut rng(3)).unwrap();
    // snarkjs records its response hash as a BLAKE2b mid-state, which no Rust BLAKE2b resumes.
    assert!(!report.challenge_checked);
    state.contribute(&mut rng(4), Some("regulator")).unwrap();
    let report = state.verify(&mut rng(5)).unwrap();
    assert!(report.challenge_checked);
    assert_eq!(Phase1::from_ptau(&state.to_ptau()).unwrap(), state);
}

#[test]
fn a_ceremony_verifies_round_trips_and_is_pinned_by_a_golden_file() {
    let state = ours();
    assert!(state.verify(&mut rng(3)).unwrap().challenge_checked);
    let bytes = state.to_ptau();
    assert_eq!(Phase1::from_ptau(&bytes).unwrap(), state);
    // A beacon alone is deterministic: its file is pinned.
    let mut beacon = Phase1::new(2).unwrap();
    beacon.beacon(BEACON, 2, Some("beacon")).unwrap();
    crate::golden("phase1-beacon-power2.ptau", &beacon.to_ptau());
}

#[test]
fn a_ceremony_without_contributions_is_refused_and_bad_parameters_too() {
    assert_eq!(
        refused(&Phase1::new(3).unwrap()),
        CeremonyError::NoContribution
    );
    // Beacons alone are public: nobody's secret went in.
    let mut beacon_only = Phase1::new(2).unwrap();
    beacon_only.beacon(BEACON, 1, None).unwrap();
    assert_eq!(refused(&beacon_only), CeremonyError::NoContribution);
    assert_eq!(Phase1::new(0).unwrap_err(), CeremonyError::Power(0));
    assert_eq!(Phase1::new(29).unwrap_err(), CeremonyError::Power(29));
    let mut state = Phase1::new(2).unwrap();
    assert_eq!(
        state.beacon(BEACON, 29, None).unwrap_err(),
        CeremonyError::BadBeacon
    );
    assert_eq!(
        state.beacon(&[], 1, None).unwrap_err(),
        CeremonyError::BadBeacon
    );
    let long = "x".repeat(65);
    assert_eq!(
        state.contribute(&mut rng(1), Some(&long)).unwrap_err(),
        CeremonyError::NameTooLong(65)
    );
    assert!(state.contributions.is_empty());
}

#[test]
fn a_broken_ceremony_is_refused_naming_the_contribution_and_the_check() {
    let honest = ours();
    let other = G1Affine::generator() * ark_bn254::Fr::from(7u64);
    let other = other.into_affine();

    // A wrong proof of knowledge (its G2 half replaced).
    let mut s = honest.clone();
    s.contributions[1].key.alpha.g2_spx = G2Affine::generator();
    assert_eq!(refused(&s), contribution(1, Check::KeyProof("alpha")));

    // A replayed proof: the first contribution's key again, against another challenge.
    let mut s = honest.clone();
    s.contributions[1].key = s.contributions[0].key;
    assert_eq!(refused(&s), contribution(1, Check::KeyProof("tau")));

    // A skipped contributor, and reordered ones.
    let mut s = honest.clone();
    s.contributions.remove(0);
    assert_eq!(refused(&s), contribution(0, Check::KeyProof("tau")));
    let mut s = honest.clone();
    s.contributions.swap(0, 1);
    assert_eq!(refused(&s), contribution(0, Check::KeyProof("tau")));

    // A zero point in a key.
    let mut s = honest.clone();
    s.contributions[0].key.beta.g1_s = G1Affine::zero();
    assert_eq!(refused(&s), contribution(0, Check::KeyProof("beta")));

    // τ that does not follow the proven secret.
    let mut s = honest.clone();
    s.contributions[0].tau_g1 = other;
    assert_eq!(refused(&s), contribution(0, Check::NotFollowing("tau*G1")));

    // A beacon whose key is not its beacon's.
    let mut s = honest.clone();
    if let Source::Beacon { hash, .. } = &mut s.contributions[2].source {
        hash[0] ^= 1;
    }
    assert_eq!(refused(&s), contribution(2, Check::Beacon));

    // An altered challenge.
    let mut s = honest.clone();
    s.contributions[0].next_challenge[0] ^= 1;
    assert_eq!(refused(&s), contribution(1, Check::KeyProof("tau")));
    let mut s = honest.clone();
    s.contributions[2].next_challenge[0] ^= 1;
    assert_eq!(refused(&s), contribution(2, Check::NextChallenge));

    // Inconsistent powers: one power replaced, in each group and term.
    for (i, what) in [
        (0usize, "tau*G1"),
        (1, "alpha*tau*G1"),
        (2, "beta*tau*G1"),
        (3, "tau*G2"),
    ] {
        let mut s = honest.clone();
        let p = &mut s.powers;
        match i {
            0 => p.tau_g1[20] = other,
            1 => p.alpha_tau_g1[5] = other,
            2 => p.beta_tau_g1[15] = other,
            _ => p.tau_g2[7] = G2Affine::generator(),
        }
        assert_eq!(refused(&s), contribution(2, Check::Powers(what)), "{what}");
    }
    let mut s = honest.clone();
    s.powers.tau_g1[1] = other;
    assert_eq!(
        refused(&s),
        contribution(2, Check::Powers("tau is not the last contribution's"))
    );
}

#[test]
fn a_reduced_file_takes_no_contribution() {
    let mut state = ours();
    state.ceremony_power = 5;
    // Its first challenge is the larger ceremony's, so its records no longer verify here…
    assert!(matches!(
        refused(&state),
        CeremonyError::Contribution { index: 0, .. }
    ));
    // …and it cannot be extended.
    assert_eq!(
        state.contribute(&mut rng(1), None).unwrap_err(),
        CeremonyError::Reduced {
            power: 4,
            ceremony_power: 5
        }
    );
}

/// Offsets of the sections in a `.ptau` file (id → body start).
fn section(bytes: &[u8], id: u32) -> usize {
    let mut at = 12;
    loop {
        let sid = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let size = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().unwrap()) as usize;
        if sid == id {
            return at + 12;
        }
        at += 12 + size;
    }
}

fn malformed(bytes: &[u8]) -> String {
    match Phase1::from_ptau(bytes).unwrap_err() {
        CeremonyError::Malformed { reason, .. } => reason,
        e => panic!("not a malformed-file error: {e}"),
    }
}

#[test]
fn malformed_ptau_files_are_refused() {
    let good = ours().to_ptau();
    let tau_g1 = section(&good, 2);
    let tau_g2 = section(&good, 3);

    // A point off the curve.
    let mut bad = good.clone();
    bad[tau_g1 + 64 + 40] ^= 1;
    assert!(malformed(&bad).contains("tau*G1 point 1: not a point of the curve"));

    // A coordinate not below the modulus.
    let mut bad = good.clone();
    bad[tau_g1 + 64..tau_g1 + 96].fill(0xff);
    assert!(malformed(&bad).contains("not below the field's modulus"));

    // A G2 point on the curve outside the prime-order subgroup.
    let outside = (1u64..)
        .find_map(|x| {
            let p = G2Affine::get_point_from_x_unchecked(Fq2::new(x.into(), One::one()), false)?;
            (!p.is_in_correct_subgroup_assuming_on_curve()).then_some(p)
        })
        .unwrap();
    let mut enc = Vec::new();
    g2_lem(&outside, &mut enc);
    let mut bad = good.clone();
    bad[tau_g2 + 128..tau_g2 + 256].copy_from_slice(&enc);
    assert!(malformed(&bad).contains("tau*G2 point 1: not in the prime-order subgroup"));

    // Wrong sizes, truncation, another curve, trailing bytes, a duplicated section.
    assert!(malformed(&good[..good.len() - 1]).contains("truncated"));
    let mut bad = good.clone();
    bad.push(0);
    assert!(malformed(&bad).contains("bytes after the last section"));
    let mut bad = good.clone();
    bad[section(&good, 1) + 4] ^= 1; // the header's modulus
    assert_eq!(
        Phase1::from_ptau(&bad).unwrap_err(),
        CeremonyError::Malformed {
            what: "ptau file",
            reason: "not a BN254 (bn128) file".into()
        }
    );
    let mut bad = good.clone();
    bad[8] = 9; // a section count past the sections there are
    assert!(malformed(&bad).contains("truncated"));
    let mut bad = b"zkey".to_vec();
    bad.extend_from_slice(&good[4..]);
    assert!(malformed(&bad).contains("wrong magic"));
    let mut bad = good.clone();
    let header = section(&bad, 1);
    bad[header + 36..header + 40].copy_from_slice(&5u32.to_le_bytes()); // power 5
    bad[header + 40..header + 44].copy_from_slice(&5u32.to_le_bytes());
    assert!(malformed(&bad).contains("does not hold 63 points"));

    // A record's beacon without its value.
    let mut state = Phase1::new(1).unwrap();
    state.beacon(BEACON, 1, None).unwrap();
    let mut bytes = state.to_ptau();
    let n = bytes.len();
    // The record ends with the params [2, exp, 3, 32, hash]: turn the value's tag into 4.
    bytes[n - 34] = 4;
    assert!(malformed(&bytes).contains("unknown parameter"));

    // The zero point where a key point must be: read, then refused by verification.
    let mut state = ours();
    state.contributions[0].key.tau.g1_sx = G1Affine::zero();
    let state = Phase1::from_ptau(&state.to_ptau()).unwrap();
    assert_eq!(refused(&state), contribution(0, Check::KeyProof("tau")));
}
