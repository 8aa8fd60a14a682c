//! Who may register what, and what a verifier re-checks from the entries it sees: each attack
//! on the trust around the proofs, reproduced and refused by its cause.

use trustspace_ledger_verifier::*;

use crate::common::{FixedLedger, issuer, owner, world};

fn dataset(who: &Identity) -> Entry {
    let body = Body::Dataset(DatasetEntry {
        commitment: world().commitment.clone(),
        name: "hospital-1/encounters".into(),
        metadata: Vec::new(),
    });
    Entry::sign(body, 1_790_000_000, who).unwrap()
}

fn policy() -> Entry {
    let body = Body::Policy(PolicyEntry::for_keys(&world().vk, "healthcare reference"));
    Entry::sign(body, 1_790_000_001, &issuer()).unwrap()
}

#[test]
fn a_commitment_is_registered_only_by_its_owner() {
    // Front-running: an attacker registers the holder's published commitment under its own
    // key before the holder does. The commitment names its owner, so the ledger refuses.
    let w = world();
    let attacker = Identity::from_seed(&[0x66; 32]);
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::init(dir.path(), "trust", 3, 2).unwrap();
    let e = ledger.append(vec![dataset(&attacker)]).unwrap_err();
    assert!(
        matches!(&e, LedgerError::Refused(Refusal::NotTheOwner { submitter })
            if *submitter == attacker.public().to_hex()),
        "{e:?}"
    );
    assert_eq!(ledger.checkpoint().unwrap().checkpoint.size, 0);
    // The owner registers it, and the bundle verifies with the owner named.
    ledger.append(vec![dataset(&owner()), policy()]).unwrap();
    let (verdict, _) = verify(&w.bundle, &w.vk, &ledger, ledger.config(), None).unwrap();
    assert_eq!(verdict.owner, owner().public());
}

#[test]
fn a_verifier_rechecks_the_owner_of_the_entry_it_is_shown() {
    // A ledger that let the attacker's registration in (this one checks signatures and
    // duplicates only) still cannot make a verifier name the attacker as the owner.
    let w = world();
    let attacker = Identity::from_seed(&[0x66; 32]);
    let l = FixedLedger::new("lax");
    l.append(vec![dataset(&attacker), policy()]).unwrap();
    let e = verify(&w.bundle, &w.vk, &l, &l.config, None).unwrap_err();
    assert!(
        matches!(
            e,
            LedgerError::Mismatch(MismatchCause::Owner { dataset_index: 0 })
        ),
        "{e:?}"
    );
}
