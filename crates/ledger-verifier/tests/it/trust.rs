//! Who may register what, and what a verifier re-checks from the entries it sees: each attack
//! on the trust around the proofs, reproduced and refused by its cause.

use trustspace_ledger_verifier::*;

use crate::common::{FixedLedger, issuer, owner, pin, world};

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
    let ledger = Ledger::init(dir.path(), "trust", 3, 2, vec![issuer().public()]).unwrap();
    let e = ledger.append(vec![dataset(&attacker)]).unwrap_err();
    assert!(
        matches!(&e, LedgerError::Refused(Refusal::NotTheOwner { submitter })
            if *submitter == attacker.public().to_hex()),
        "{e:?}"
    );
    assert_eq!(ledger.checkpoint().unwrap().checkpoint.size, 0);
    // So it squats the root instead: the holder's root in a commitment naming the attacker as
    // owner, which the rules accept (nobody can tell without the opening). It is filed under
    // the attacker, and does not keep the holder from registering.
    let mut squatted = w.commitment.clone();
    squatted.owner = attacker.public().to_bytes();
    let squat = Entry::sign(
        Body::Dataset(DatasetEntry {
            commitment: squatted,
            name: "hospital-1/encounters".into(),
            metadata: Vec::new(),
        }),
        1_790_000_000,
        &attacker,
    )
    .unwrap();
    ledger.append(vec![squat]).unwrap();
    // The owner registers it, and the bundle verifies with the owner named.
    ledger.append(vec![dataset(&owner()), policy()]).unwrap();
    let (verdict, _) = verify(&w.bundle, &w.vk, &ledger, ledger.config(), None).unwrap();
    assert_eq!(verdict.owner, owner().public());
    assert_eq!(verdict.dataset_index, 1);
    // A second registration of the same root by the same owner is a duplicate.
    let e = ledger.append(vec![dataset(&owner())]).unwrap_err();
    assert!(matches!(e, LedgerError::Duplicate { .. }), "{e:?}");
}

#[test]
fn a_verifier_rechecks_the_owner_of_the_entry_it_is_shown() {
    // A ledger whose quorum let the attacker's registration in (compromised validators sign
    // anything) still cannot make a verifier name the attacker as the owner.
    let w = world();
    let attacker = Identity::from_seed(&[0x66; 32]);
    let l = FixedLedger::compromised("lax");
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

/// A holder's own policy: its key is no issuer, and its keys are not the regulator's.
fn holders_policy(holder: &Identity) -> Entry {
    let body = Body::Policy(PolicyEntry::for_keys(
        &world().other_vk,
        "healthcare reference",
    ));
    Entry::sign(body, 1_790_000_001, holder).unwrap()
}

#[test]
fn only_the_configurations_issuers_register_policies() {
    // The holder registers a policy under the real one's name with keys from its own setup.
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::init(dir.path(), "trust", 3, 2, vec![issuer().public()]).unwrap();
    let e = ledger
        .append(vec![dataset(&owner()), holders_policy(&owner())])
        .unwrap_err();
    assert!(
        matches!(&e, LedgerError::Refused(Refusal::IssuerNotAllowed { issuer })
            if *issuer == owner().public().to_hex()),
        "{e:?}"
    );
    assert_eq!(
        ledger.checkpoint().unwrap().checkpoint.size,
        0,
        "all or none"
    );
}

#[test]
fn offline_evidence_is_checked_against_what_the_verifier_pins() {
    // Finding 1: evidence names its own policy and carries its own keys. Under a compromised
    // quorum the holder's policy is on the log; no pin of an honest verifier accepts it.
    let w = world();
    let l = FixedLedger::compromised("pins");
    l.append(vec![dataset(&owner()), holders_policy(&owner())])
        .unwrap();
    let audit = l.audit(&[0, 1], None).unwrap();
    let [di, pi]: [_; 2] = audit.inclusions.try_into().unwrap();
    let ev = Evidence {
        version: verify::EVIDENCE_VERSION,
        checkpoint: audit.checkpoint,
        dataset: entry::IndexedEntry {
            index: 0,
            entry: l.entry(0).unwrap().to_hex().unwrap(),
        },
        dataset_inclusion: di,
        policy: entry::IndexedEntry {
            index: 1,
            entry: l.entry(1).unwrap().to_hex().unwrap(),
        },
        policy_inclusion: pi,
        consistency: None,
        bundle: w.bundle.clone(),
        verifying_keys: w.other_vk.to_json(),
    };
    let untrusted = |pin: Pin| verify_evidence(&ev, &l.config, &pin, None).unwrap_err();
    // The issuer is no issuer of the configuration, whatever the pin.
    let holder = owner().public().to_hex();
    for p in [
        pin(),
        Pin::Policy(w.vk.policy_digest),
        Pin::Issuer(issuer().public()),
        Pin::Configuration,
    ] {
        let e = untrusted(p);
        assert!(
            matches!(&e, LedgerError::Untrusted(TrustFailure::IssuerNotAllowed { policy_index: 1, issuer })
                if *issuer == holder),
            "{e:?}"
        );
    }
    // A configuration that did allow the holder to issue: the pins still refuse.
    let mut lax = l.config.clone();
    lax.issuers.push(owner().public());
    let refused = |pin: Pin, kind: PinKind| {
        let e = verify_evidence(&ev, &lax, &pin, None).unwrap_err();
        assert!(
            matches!(&e, LedgerError::Untrusted(TrustFailure::NotPinned { policy_index: 1, pin })
                if *pin == kind),
            "{e:?}"
        );
    };
    refused(pin(), PinKind::Keys);
    refused(Pin::Issuer(issuer().public()), PinKind::Issuer);
    let e = verify_evidence(&ev, &lax, &Pin::Configuration, None).unwrap_err();
    assert!(
        matches!(e, LedgerError::Untrusted(TrustFailure::NothingPinned)),
        "{e:?}"
    );
    let mut pinned = lax.clone();
    pinned.keys = vec![w.vk.digest()];
    let e = verify_evidence(&ev, &pinned, &Pin::Configuration, None).unwrap_err();
    assert!(
        matches!(
            e,
            LedgerError::Untrusted(TrustFailure::NotPinned {
                pin: PinKind::ConfigurationKeys,
                ..
            })
        ),
        "{e:?}"
    );
}

#[test]
fn validators_refuse_what_the_rules_refuse_whatever_the_server_proposes() {
    // Finding 3: a hostile server proposes a checkpoint over an invalid entry (the holder's
    // own policy) to the validators directly; each refuses by the rule, and its copy of the log
    // is unchanged, so the next honest append is signed.
    use trustspace_ledger_verifier::log::{Checkpoint, LogTree};
    use trustspace_ledger_verifier::validator::Validator;
    let config = FixedLedger::new("hostile").config;
    let mut v = Validator::new(crate::common::validator_identities().remove(0), config);
    let bad = vec![dataset(&owner()), holders_policy(&owner())];
    let mut tree = LogTree::new();
    for e in &bad {
        tree.push(e.digest().unwrap());
    }
    let proposal = Checkpoint {
        log_id: "hostile".into(),
        size: 2,
        root: tree.root(),
        timestamp_ms: 1_790_000_002_000,
    };
    let e = v.cosign(&bad, &proposal).unwrap_err();
    assert!(
        matches!(e, LedgerError::Refused(Refusal::IssuerNotAllowed { .. })),
        "{e:?}"
    );
    assert_eq!(v.size(), 0);
    // A proposal whose root is not the root of its entries is refused too.
    let good = vec![dataset(&owner()), policy()];
    let wrong = Checkpoint {
        root: [7; 32],
        ..proposal.clone()
    };
    let e = v.cosign(&good, &wrong).unwrap_err();
    assert!(
        matches!(
            e,
            LedgerError::Fork {
                cause: ForkCause::RootOfOtherEntries,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(v.size(), 0, "its copy is back to before the proposal");
    let mut tree = LogTree::new();
    for e in &good {
        tree.push(e.digest().unwrap());
    }
    let right = Checkpoint {
        root: tree.root(),
        ..proposal
    };
    let sig = v.cosign(&good, &right).unwrap();
    assert!(
        sig.validator
            .verify(&right.signing_message(), &sig.signature)
    );
    // Timestamps: an entry may be dated a little before its predecessor (clocks disagree), at
    // most twice the tolerance; one dated earlier than that is refused.
    let verdict_at = |t: u64| {
        Entry::sign(
            Body::Verdict(VerdictEntry::new(
                &world().bundle,
                (0, good[0].digest().unwrap()),
                (1, good[1].digest().unwrap()),
                true,
            )),
            t,
            &owner(),
        )
        .unwrap()
    };
    let previous = 1_790_000_001;
    let next_with = |e: &Entry| {
        let mut t = LogTree::new();
        for x in good.iter().chain([e]) {
            t.push(x.digest().unwrap());
        }
        Checkpoint {
            size: 3,
            root: t.root(),
            ..right.clone()
        }
    };
    let late = verdict_at(previous - 2 * rules::MAX_CLOCK_SKEW - 1);
    let e = v
        .cosign(std::slice::from_ref(&late), &next_with(&late))
        .unwrap_err();
    assert!(
        matches!(
            e,
            LedgerError::Refused(Refusal::TimestampBackwards { previous: p, found })
                if p == previous && found == late.timestamp
        ),
        "{e:?}"
    );
    assert_eq!(v.size(), 2, "its copy is unchanged");
    let slightly_late = verdict_at(previous - 2);
    v.cosign(
        std::slice::from_ref(&slightly_late),
        &next_with(&slightly_late),
    )
    .unwrap();
}

#[test]
fn an_entry_dated_ahead_cannot_lock_honest_clients_out() {
    // Someone registers with a timestamp as far ahead as the checkpoint allows; a client whose
    // clock is behind the checkpoint's by up to the tolerance still gets its entry in.
    use trustspace_ledger_verifier::log::{Checkpoint, LogTree};
    use trustspace_ledger_verifier::validator::Validator;
    let config = FixedLedger::new("clocks").config;
    let mut v = Validator::new(crate::common::validator_identities().remove(0), config);
    let now = 1_790_000_000;
    let ahead = Entry::sign(
        Body::Dataset(DatasetEntry {
            commitment: world().commitment.clone(),
            name: "ahead".into(),
            metadata: Vec::new(),
        }),
        now + rules::MAX_CLOCK_SKEW,
        &owner(),
    )
    .unwrap();
    let honest = Entry::sign(
        Body::Policy(PolicyEntry::for_keys(&world().vk, "healthcare reference")),
        now - rules::MAX_CLOCK_SKEW,
        &issuer(),
    )
    .unwrap();
    let mut tree = LogTree::new();
    let mut cosign = |v: &mut Validator, e: &Entry, at_ms: u64, clock_ms: u64| {
        tree.push(e.digest().unwrap());
        let cp = Checkpoint {
            log_id: "clocks".into(),
            size: tree.size(),
            root: tree.root(),
            timestamp_ms: at_ms,
        };
        v.cosign_at(std::slice::from_ref(e), &cp, clock_ms)
    };
    cosign(&mut v, &ahead, now * 1000, now * 1000).unwrap();
    cosign(&mut v, &honest, now * 1000 + 1, now * 1000 + 1).unwrap();

    // A checkpoint dated beyond the tolerance ahead of the validator's own clock (which a
    // hostile server would use to let entries dated far ahead in) is refused.
    let mut v = Validator::new(
        crate::common::validator_identities().remove(0),
        FixedLedger::new("clocks").config,
    );
    let far = (now + rules::MAX_CLOCK_SKEW + 1) * 1000;
    let mut tree = LogTree::new();
    tree.push(ahead.digest().unwrap());
    let cp = Checkpoint {
        log_id: "clocks".into(),
        size: 1,
        root: tree.root(),
        timestamp_ms: far,
    };
    let e = v
        .cosign_at(std::slice::from_ref(&ahead), &cp, now * 1000)
        .unwrap_err();
    assert!(
        matches!(e, LedgerError::Refused(Refusal::TimestampAhead { .. })),
        "{e:?}"
    );
    assert_eq!(v.size(), 0);
}

#[test]
fn a_services_error_text_is_escaped() {
    // Finding 6: a hostile ledger service answers an error whose text would rewrite the
    // verifier's screen.
    let body = br#"{"error":"\r\u001b[2KVALID: 64 records comply\u202e","code":"refused"}"#;
    let e =
        http::read_answer::<log::CosignedCheckpoint>("http://127.0.0.1:1", 400, body).unwrap_err();
    let shown = e.to_string();
    assert!(
        !shown.contains('\r') && !shown.contains('\u{1b}') && !shown.contains('\u{202e}'),
        "{shown:?}"
    );
    assert!(shown.contains("VALID: 64 records comply"), "{shown}");
}

#[test]
fn a_monitor_rechecks_every_entry_it_fetches() {
    // A compromised quorum co-signs an attacker's registration; the quorum and the
    // consistency hold, but the monitor replays the entries through the rules and alerts.
    use trustspace_ledger_verifier::monitor::{Monitor, Observation};
    let honest = FixedLedger::new("watched");
    honest.append(vec![dataset(&owner()), policy()]).unwrap();
    let mut m = Monitor::new(honest.config.clone(), None).unwrap();
    assert_eq!(m.check(&honest).unwrap(), Observation::First { size: 2 });

    let l = FixedLedger::compromised("watched");
    l.append(vec![dataset(&owner()), holders_policy(&owner())])
        .unwrap();
    let mut m = Monitor::new(l.config.clone(), None).unwrap();
    let e = m.check(&l).unwrap_err();
    assert!(
        matches!(&e, LedgerError::Refused(Refusal::IssuerNotAllowed { .. })),
        "{e:?}"
    );
    // The alert repeats until an operator intervenes.
    assert!(m.check(&l).is_err());
}
