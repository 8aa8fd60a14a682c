//! A ceremony over the reference healthcare policy's circuits (chunk and final), started from a
//! phase-1 ceremony: the keys it yields prove a real dataset and verify with
//! `trustspace_zk::verify`; the keys it started from do not accept those proofs; a broken chain
//! or other keys are refused.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use trustspace_ceremony::provenance::check_record;
use trustspace_ceremony::{CeremonyError, Check, KeysCeremony, Phase1, Phase2};
use trustspace_data::Record;
use trustspace_data::synth::{Generator, Spec, Table};
use trustspace_ledger_verifier::Identity;
use trustspace_zk::VerifyingKeys;
use trustspace_zk::verify::verify;
use trustspace_zk::{Compiled, Policy, commit, prove_all, reference, setup};

#[test]
fn a_ceremony_over_a_policys_keys_yields_keys_that_prove_and_verify() {
    let g = Generator::new(Spec::new(Table::Encounters, 20, 5)).unwrap();
    let schema = g.schema().clone();
    let records: Vec<Record> = g.records().collect();
    let policy =
        Policy::from_toml(&reference::healthcare_policy(), "reference", None, &schema).unwrap();
    let compiled = Compiled::new(&schema, &policy, 16).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let mut phase1 = Phase1::new(13).unwrap();
    phase1.contribute(&mut rng, Some("regulator")).unwrap();
    phase1.verify(&mut rng).unwrap();
    let (initial, vk) = KeysCeremony::from_phase1(&compiled, &phase1.powers).unwrap();
    assert!(
        initial.final_.is_some(),
        "the reference policy has aggregates"
    );

    // Two members contribute, each to both circuits, each passing the file on.
    let mut state = initial.clone();
    let first = state
        .contribute(&mut ChaCha20Rng::seed_from_u64(21), Some("hospital"))
        .unwrap();
    // Passed on as .zkey files.
    let mut state = KeysCeremony {
        chunk: Phase2::from_zkey(&state.chunk.to_zkey()).unwrap(),
        final_: Some(Phase2::from_zkey(&state.final_.unwrap().to_zkey()).unwrap()),
    };
    state
        .contribute(&mut ChaCha20Rng::seed_from_u64(22), Some("regulator"))
        .unwrap();
    assert_eq!(state.contribution_hash(0), Some(first));
    assert_eq!(state.contribution_hash(2), None);
    state.verify(&initial, &mut rng).unwrap();

    let (pk, mut ceremony_vk) = state.keys(&vk).unwrap();
    provenance(&state, &mut ceremony_vk);
    let owner = [7u8; 32];
    let (commitment, opening) = commit(&schema, records.clone(), 16, &owner, &mut rng).unwrap();
    let bundle = prove_all(&compiled, &pk, &commitment, &opening, &records, &mut rng).unwrap();
    let verified = verify(&bundle, &ceremony_vk, &commitment).unwrap();
    assert_eq!(verified.records, 20);
    assert!(verify(&bundle, &vk, &commitment).is_err());
    assert_ne!(ceremony_vk.digest(), vk.digest());

    // The final circuit's chain broken alone is caught (its contributions reordered), and one
    // contribution short of the chunk circuit's.
    let mut short = state.clone();
    short.final_.as_mut().unwrap().contributions.pop();
    assert!(matches!(
        short.verify(&initial, &mut rng),
        Err(CeremonyError::Final(Check::Changed(_)))
    ));
    let mut broken = state.clone();
    broken.final_.as_mut().unwrap().contributions.swap(0, 1);
    assert_eq!(
        broken.verify(&initial, &mut rng),
        Err(CeremonyError::Contribution {
            index: 0,
            check: Check::Transcript
        })
    );
    // Another policy's (or setup's) keys: not the ceremony's start.
    let (_, other_vk) = setup(&compiled, &mut rng).unwrap();
    assert_eq!(
        state.keys(&other_vk).unwrap_err(),
        CeremonyError::OtherStart
    );
    // A verifier checks the start against the powers and the policy, and gets its keys.
    assert_eq!(
        initial
            .check_start(&compiled, &phase1.powers, &mut rng)
            .unwrap(),
        vk
    );
    let mut other_powers = Phase1::new(13).unwrap();
    other_powers.contribute(&mut rng, None).unwrap();
    assert!(matches!(
        initial.check_start(&compiled, &other_powers.powers, &mut rng),
        Err(CeremonyError::NotTheStart(_))
    ));
    assert_eq!(
        state.check_start(&compiled, &phase1.powers, &mut rng),
        Err(CeremonyError::NotTheStart(
            "the contributions (a start has none)"
        )),
        "a state with contributions is not a start"
    );
}

/// The ceremony's record in its keys: signed by its contributors, checked with the keys alone;
/// a forged signature, a record of another chain or with a contribution left out are refused;
/// the record is part of the keys' digest (what the ledger registers).
fn provenance(state: &KeysCeremony, vk: &mut VerifyingKeys) {
    let (hospital, regulator) = (Identity::from_seed(&[1; 32]), Identity::from_seed(&[2; 32]));
    let signatures = [
        state.sign(0, &hospital).unwrap(),
        state.sign(1, &regulator).unwrap(),
    ];
    assert_eq!(
        state.sign(2, &hospital).unwrap_err(),
        CeremonyError::NoSuchContribution(2)
    );
    let unsigned_digest = vk.digest();
    vk.ceremony = Some(state.record(&[9; 64], &signatures).unwrap());
    assert_ne!(
        vk.digest(),
        unsigned_digest,
        "the record is part of the digest"
    );
    let back = VerifyingKeys::from_bytes(&vk.to_bytes()).unwrap();
    assert_eq!(&back, vk);
    let contributors = check_record(vk).unwrap();
    let signers: Vec<_> = contributors.iter().map(|c| c.signer).collect();
    assert_eq!(signers, [Some(hospital.public()), Some(regulator.public())]);
    assert_eq!(contributors[1].name.as_deref(), Some("regulator"));

    // A signature by another key than it names: refused, at the record and at the check.
    let mut forged = signatures.clone();
    forged[1].signer = hospital.public();
    assert_eq!(
        state.record(&[9; 64], &forged).unwrap_err(),
        CeremonyError::Contribution {
            index: 1,
            check: Check::Signature
        }
    );
    let mut tampered = vk.clone();
    let record = tampered.ceremony.as_mut().unwrap();
    record.contributors[1].signer = Some(hospital.public().to_hex());
    assert_eq!(
        check_record(&tampered).unwrap_err(),
        CeremonyError::Contribution {
            index: 1,
            check: Check::Signature
        }
    );
    // A contribution left out (its signer claims a δ it did not make): the chain no longer
    // reaches the keys' δ.
    let mut short = vk.clone();
    let record = short.ceremony.as_mut().unwrap();
    record.contributors.remove(0);
    for c in &mut record.circuits {
        c.contributions.remove(0);
    }
    assert!(matches!(
        check_record(&short).unwrap_err(),
        CeremonyError::Contribution { index: 0, .. }
    ));
    // The chunk circuit's chain given for the final circuit.
    let mut swapped = vk.clone();
    swapped.ceremony.as_mut().unwrap().circuits.swap(0, 1);
    assert!(check_record(&swapped).is_err());
    // Keys without a record.
    let mut none = vk.clone();
    none.ceremony = None;
    assert_eq!(check_record(&none).unwrap_err(), CeremonyError::NoRecord);
}
