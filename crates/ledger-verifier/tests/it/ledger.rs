//! The embedded ledger, its proofs and quorum, the HTTP service, the monitor, and verification of
//! real Groth16 bundles against it — with everything a verifier must refuse, each by its cause.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use trustspace_ledger_verifier::entry::IndexedEntry;
use trustspace_ledger_verifier::http::{RemoteLedger, serve};
use trustspace_ledger_verifier::log::{CheckpointSignature, ConsistencyProof, InclusionProof};
use trustspace_ledger_verifier::monitor::{Monitor, Observation};
use trustspace_ledger_verifier::*;
use trustspace_zk::{Commitment, VerifyingKeys};

use crate::common::{issuer, owner, pin, world};

fn dataset_entry(c: &Commitment, name: &str, who: &Identity) -> Entry {
    let body = Body::Dataset(DatasetEntry {
        commitment: c.clone(),
        name: name.into(),
        metadata: b"{\"hospital\":1}".to_vec(),
    });
    Entry::sign(body, 1_790_000_000, who).unwrap()
}

fn policy_entry(vk: &VerifyingKeys) -> Entry {
    Entry::sign(
        Body::Policy(PolicyEntry::for_keys(vk, "healthcare reference")),
        1_790_000_000,
        &issuer(),
    )
    .unwrap()
}

fn ledger(dir: &Path) -> Ledger {
    Ledger::init(dir, "trustspace-test", 3, 2, vec![issuer().public()]).unwrap()
}

/// A ledger with the world's dataset and policy registered.
fn registered(dir: &Path) -> Ledger {
    let w = world();
    let l = ledger(dir);
    l.append(vec![dataset_entry(&w.commitment, "h1", &owner())])
        .unwrap();
    l.append(vec![policy_entry(&w.vk)]).unwrap();
    l
}

#[test]
fn entries_round_trip_canonically_and_tampering_breaks_the_signature() {
    let w = world();
    let e = dataset_entry(&w.commitment, "h1", &owner());
    let bytes = e.encode().unwrap();
    assert_eq!(Entry::decode(&bytes).unwrap(), e);
    e.check_signature().unwrap();
    // Flip every byte in turn: each either fails to decode or fails its signature.
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        if let Ok(t) = Entry::decode(&b) {
            let check = t.check_signature();
            assert!(
                matches!(check, Err(LedgerError::BadEntrySignature { .. })),
                "byte {i} flipped: {check:?}"
            );
        }
    }
    // Truncated, extended, oversized.
    let malformed_entry = |r: Result<Entry>| {
        assert!(
            matches!(&r, Err(LedgerError::Malformed { what, .. }) if what == "entry"),
            "{r:?}"
        )
    };
    malformed_entry(Entry::decode(&bytes[..bytes.len() - 1]));
    let mut longer = bytes.clone();
    longer.push(0);
    malformed_entry(Entry::decode(&longer));
    malformed_entry(Entry::decode(&vec![0u8; 10_000]));
    // A root >= the BN254 modulus is refused at decode.
    let mut big = bytes.clone();
    let root_at = 4 + 1 + 1 + 8 + 32 + 4;
    big[root_at..root_at + 32].fill(0xff);
    assert!(matches!(
        Entry::decode(&big),
        Err(LedgerError::Malformed { what, .. }) if what == "dataset entry"
    ));
}

#[test]
fn appends_are_checkpointed_proven_and_persisted() {
    let dir = tempfile::tempdir().unwrap();
    let w = world();
    let config;
    let cp1;
    {
        let l = registered(dir.path());
        config = l.config().clone();
        cp1 = l.checkpoint().unwrap();
        assert_eq!(cp1.checkpoint.size, 2);
        cp1.verify(&config).unwrap();
        assert_eq!(cp1.signatures.len(), 3);
        // Inclusion of both entries under the checkpoint.
        let audit = l.audit(&[0, 1], None).unwrap();
        for (i, p) in audit.inclusions.iter().enumerate() {
            let d = l.entry(i as u64).unwrap().digest().unwrap();
            p.verify(&d, &audit.checkpoint.checkpoint).unwrap();
        }
        // Duplicates are refused, in the log and within a batch.
        let dup = l.append(vec![dataset_entry(&w.commitment, "again", &owner())]);
        assert!(
            matches!(&dup, Err(LedgerError::Duplicate { key }) if *key == EntryKey::dataset(&w.commitment)),
            "{dup:?}"
        );
        let e = dataset_entry(&w.other_commitment, "h2", &owner());
        let twice = l.append(vec![e.clone(), e]);
        assert!(
            matches!(&twice, Err(LedgerError::Duplicate { key }) if *key == EntryKey::dataset(&w.other_commitment)),
            "{twice:?}"
        );
        assert_eq!(
            l.checkpoint().unwrap().checkpoint.size,
            2,
            "nothing half-applied"
        );
        // A mis-signed entry.
        let mut forged = dataset_entry(&w.other_commitment, "h2", &owner());
        forged.submitter = issuer().public();
        assert!(matches!(
            l.append(vec![forged]),
            Err(LedgerError::BadEntrySignature { submitter }) if submitter == issuer().public().to_hex()
        ));
    }
    // Reopen: same state; append more; consistency with the old checkpoint.
    let l = Ledger::open(dir.path()).unwrap();
    assert_eq!(l.checkpoint().unwrap(), cp1);
    l.append(vec![dataset_entry(&w.other_commitment, "h2", &owner())])
        .unwrap();
    let audit = l.audit(&[], Some(2)).unwrap();
    let proof = audit.consistency.unwrap();
    proof
        .verify(&cp1.checkpoint, &audit.checkpoint.checkpoint)
        .unwrap();
    // A tampered consistency proof or a tampered inclusion path is refused.
    let mut bad = proof.clone();
    bad.hashes[0][0] ^= 1;
    assert!(matches!(
        bad.verify(&cp1.checkpoint, &audit.checkpoint.checkpoint),
        Err(LedgerError::Fork {
            old_size: 2,
            new_size: 3,
            cause: ForkCause::Proof(_)
        })
    ));
    let a = l.audit(&[1], None).unwrap();
    let mut p: InclusionProof = a.inclusions[0].clone();
    p.hashes[0][5] ^= 1;
    let d = l.entry(1).unwrap().digest().unwrap();
    assert!(matches!(
        p.verify(&d, &a.checkpoint.checkpoint),
        Err(LedgerError::NotIncluded {
            index: 1,
            cause: InclusionFailure::Path(_),
            ..
        })
    ));
    // The right digest at the wrong index.
    let mut q = a.inclusions[0].clone();
    q.index = 0;
    assert!(matches!(
        q.verify(&d, &a.checkpoint.checkpoint),
        Err(LedgerError::NotIncluded {
            index: 0,
            cause: InclusionFailure::Path(_),
            ..
        })
    ));
    // A proof for another tree size, and an index outside the tree.
    let mut r = a.inclusions[0].clone();
    r.size = 2;
    assert!(matches!(
        r.verify(&d, &a.checkpoint.checkpoint),
        Err(LedgerError::NotIncluded {
            cause: InclusionFailure::OtherTreeSize,
            ..
        })
    ));
    let mut r = a.inclusions[0].clone();
    r.index = 3;
    assert!(matches!(
        r.verify(&d, &a.checkpoint.checkpoint),
        Err(LedgerError::NotIncluded {
            cause: InclusionFailure::IndexOutsideTree,
            ..
        })
    ));
}

#[test]
fn quorum_edge_cases() {
    let dir = tempfile::tempdir().unwrap();
    let l = registered(dir.path());
    let config = l.config().clone();
    let good = l.checkpoint().unwrap();
    good.verify(&config).unwrap();

    // t-1 signatures.
    let mut few = good.clone();
    few.signatures.truncate(1);
    assert!(matches!(
        few.verify(&config),
        Err(LedgerError::NoQuorum {
            have: 1,
            need: 2,
            ..
        })
    ));
    // A valid signature by a non-member.
    let outsider = Identity::from_seed(&[99; 32]);
    let mut foreign = good.clone();
    foreign.signatures[2] = CheckpointSignature {
        validator: outsider.public(),
        signature: outsider.sign(&good.checkpoint.signing_message()),
    };
    assert!(matches!(
        foreign.verify(&config),
        Err(LedgerError::UnknownSigner(k)) if k == outsider.public().to_hex()
    ));
    // The same validator twice (even with a valid signature) counts once, and is refused.
    let mut dup = good.clone();
    dup.signatures[1] = dup.signatures[0].clone();
    assert!(matches!(
        dup.verify(&config),
        Err(LedgerError::DuplicateSigner(k)) if k == good.signatures[0].validator.to_hex()
    ));
    // A signature over another checkpoint.
    let mut moved = good.clone();
    moved.checkpoint.size += 1;
    assert!(matches!(
        moved.verify(&config),
        Err(LedgerError::BadCheckpointSignature(k)) if k == good.signatures[0].validator.to_hex()
    ));
    // Another log's name.
    let mut other = config.clone();
    other.log_id = "someone-else".into();
    assert!(matches!(
        good.verify(&other),
        Err(LedgerError::WrongLog { .. })
    ));
    // Configurations no checkpoint could satisfy are refused.
    let refused = |r: Result<LedgerConfig>| {
        assert!(
            matches!(&r, Err(LedgerError::Malformed { what, .. }) if what == "ledger configuration"),
            "{r:?}"
        )
    };
    refused(LedgerConfig::new(
        "x",
        config.validators.clone(),
        4,
        vec![issuer().public()],
    ));
    refused(LedgerConfig::new(
        "x",
        config.validators.clone(),
        0,
        vec![issuer().public()],
    ));
    let mut twice = config.validators.clone();
    twice[1] = twice[0];
    refused(LedgerConfig::new("x", twice, 2, vec![issuer().public()]));
}

#[test]
fn a_ledger_without_a_local_quorum_cannot_append() {
    let dir = tempfile::tempdir().unwrap();
    drop(ledger(dir.path()));
    // Keep one of the three validator keys: 1 < threshold 2.
    for i in 1..3 {
        std::fs::remove_file(dir.path().join(format!("validators/validator-{i}.key"))).unwrap();
    }
    let l = Ledger::open(dir.path()).unwrap();
    let r = l.append(vec![policy_entry(&world().vk)]);
    assert!(
        matches!(
            r,
            Err(LedgerError::NoQuorum {
                size: 1,
                have: 1,
                need: 2
            })
        ),
        "{r:?}"
    );
    assert_eq!(l.checkpoint().unwrap().checkpoint.size, 0);
}

#[test]
fn a_bundle_verifies_against_the_ledger_and_its_evidence_offline() {
    let dir = tempfile::tempdir().unwrap();
    let w = world();
    let l = registered(dir.path());
    let config = l.config().clone();
    let (verdict, evidence) = verify(&w.bundle, &w.vk, &l, &config, None).unwrap();
    assert_eq!(verdict.dataset_index, 0);
    assert_eq!(verdict.policy_index, 1);
    assert_eq!(verdict.owner, owner().public());
    assert_eq!(verdict.records, 40);
    assert_eq!(verdict.revealed.len(), 1);

    // The evidence file re-verifies with no ledger at all.
    let path = dir.path().join("evidence.json");
    evidence.save(&path).unwrap();
    let back = Evidence::load(&path).unwrap();
    assert_eq!(
        verify_evidence(&back, &config, &pin(), None).unwrap(),
        verdict
    );

    // A recorded verdict entry.
    let d = (0, l.entry(0).unwrap().digest().unwrap());
    let p = (1, l.entry(1).unwrap().digest().unwrap());
    let v = Entry::sign(
        Body::Verdict(VerdictEntry::new(&w.bundle, d, p, true)),
        1_790_000_002,
        &issuer(),
    )
    .unwrap();
    l.append(vec![v.clone()]).unwrap();
    assert!(matches!(
        l.append(vec![v]),
        Err(LedgerError::Duplicate {
            key: EntryKey::Verdict(_)
        })
    ));
    // A verdict naming an entry the log does not hold.
    let bogus = Entry::sign(
        Body::Verdict(VerdictEntry::new(&w.bundle, (7, [9; 32]), p, true)),
        1_790_000_003,
        &issuer(),
    )
    .unwrap();
    assert!(matches!(
        l.append(vec![bogus]),
        Err(LedgerError::Refused(Refusal::UnknownReference {
            what: "dataset",
            index: 7
        }))
    ));
    // A verdict naming a policy entry as its dataset.
    let crossed = Entry::sign(
        Body::Verdict(VerdictEntry::new(&w.bundle, p, p, true)),
        1_790_000_003,
        &issuer(),
    )
    .unwrap();
    assert!(matches!(
        l.append(vec![crossed]),
        Err(LedgerError::Refused(Refusal::WrongReferenceKind {
            what: "dataset",
            index: 1
        }))
    ));

    // Seen an older checkpoint: the verifier demands and checks consistency.
    let seen = evidence.checkpoint.checkpoint.clone();
    let (v2, ev2) = verify(&w.bundle, &w.vk, &l, &config, Some(&seen)).unwrap();
    assert_eq!(v2.checkpoint.size, 3);
    verify_evidence(&ev2, &config, &pin(), Some(&seen)).unwrap();
    // Offline, evidence without a consistency proof from a newer seen checkpoint is stale.
    assert!(matches!(
        verify_evidence(&evidence, &config, &pin(), Some(&v2.checkpoint)),
        Err(LedgerError::StaleCheckpoint {
            offered: 2,
            seen: 3
        })
    ));
    // Offline, the very checkpoint seen before needs no proof that it extends itself (a
    // false fork alarm before); another root for its size is a fork.
    verify_evidence(&evidence, &config, &pin(), Some(&seen)).unwrap();
    let mut other = seen.clone();
    other.root[0] ^= 1;
    assert!(matches!(
        verify_evidence(&evidence, &config, &pin(), Some(&other)),
        Err(LedgerError::Fork {
            cause: ForkCause::TwoRootsForOneSize,
            ..
        })
    ));
}

#[test]
fn every_mismatch_gets_its_own_error() {
    let dir = tempfile::tempdir().unwrap();
    let w = world();
    let l = ledger(dir.path());
    let config = l.config().clone();
    // Nothing registered.
    assert!(matches!(
        verify(&w.bundle, &w.vk, &l, &config, None),
        Err(LedgerError::UnknownDataset(_))
    ));
    l.append(vec![dataset_entry(&w.commitment, "h1", &owner())])
        .unwrap();
    assert!(matches!(
        verify(&w.bundle, &w.vk, &l, &config, None),
        Err(LedgerError::UnknownPolicy(_))
    ));
    // The policy registered with other keys (another setup): they are not the keys the
    // verifier holds (and pins).
    l.append(vec![policy_entry(&w.other_vk)]).unwrap();
    assert!(matches!(
        verify(&w.bundle, &w.vk, &l, &config, None),
        Err(LedgerError::Untrusted(TrustFailure::NotPinned {
            policy_index: 1,
            pin: PinKind::Keys
        }))
    ));
    // With the registered keys the Groth16 proofs themselves fail.
    assert!(matches!(
        verify(&w.bundle, &w.other_vk, &l, &config, None),
        Err(LedgerError::Proof(_))
    ));

    // Replay against another dataset: relabel the evidence's dataset entry.
    let dir2 = tempfile::tempdir().unwrap();
    let l2 = registered(dir2.path());
    l2.append(vec![dataset_entry(&w.other_commitment, "h2", &owner())])
        .unwrap();
    let config2 = l2.config().clone();
    let (_, mut ev) = verify(&w.bundle, &w.vk, &l2, &config2, None).unwrap();
    let audit = l2.audit(&[2], None).unwrap();
    ev.checkpoint = audit.checkpoint;
    ev.dataset = IndexedEntry {
        index: 2,
        entry: l2.entry(2).unwrap().to_hex().unwrap(),
    };
    ev.dataset_inclusion = audit.inclusions[0].clone();
    ev.policy_inclusion = l2.audit(&[1], None).unwrap().inclusions[0].clone();
    assert!(matches!(
        verify_evidence(&ev, &config2, &pin(), None),
        Err(LedgerError::Mismatch(MismatchCause::Commitment {
            dataset_index: 2
        }))
    ));
    // The dataset and policy entries given the wrong way round.
    let mut swapped = ev.clone();
    std::mem::swap(&mut swapped.dataset, &mut swapped.policy);
    std::mem::swap(
        &mut swapped.dataset_inclusion,
        &mut swapped.policy_inclusion,
    );
    assert!(matches!(
        verify_evidence(&swapped, &config2, &pin(), None),
        Err(LedgerError::Mismatch(MismatchCause::NotADatasetEntry {
            index: 1
        }))
    ));
    // An entry under another index than its inclusion proof's.
    let mut moved = ev.clone();
    moved.dataset.index = 0;
    assert!(matches!(
        verify_evidence(&moved, &config2, &pin(), None),
        Err(LedgerError::NotIncluded {
            index: 0,
            cause: InclusionFailure::OtherIndex,
            ..
        })
    ));
    // A bundle whose commitment was edited to the other dataset: the proofs fail.
    let mut replayed = w.bundle.clone();
    replayed.commitment = w.other_commitment.clone();
    assert!(matches!(
        verify(&replayed, &w.vk, &l2, &config2, None),
        Err(LedgerError::Proof(_))
    ));
    // Evidence checked under another ledger's trust anchor.
    let (_, ev) = verify(&w.bundle, &w.vk, &l2, &config2, None).unwrap();
    assert!(matches!(
        verify_evidence(&ev, &config, &pin(), None),
        Err(LedgerError::UnknownSigner(k)) if k == ev.checkpoint.signatures[0].validator.to_hex()
    ));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("validators")).unwrap();
    std::fs::copy(from.join("config.json"), to.join("config.json")).unwrap();
    for e in std::fs::read_dir(from.join("validators")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join("validators").join(p.file_name().unwrap())).unwrap();
    }
}

#[test]
fn forks_and_rewritten_history_are_caught() {
    let w = world();
    let a_dir = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let a = ledger(a_dir.path());
    copy_dir(a_dir.path(), b_dir.path());
    let b = Ledger::open(b_dir.path()).unwrap();
    // Same validators, two histories.
    a.append(vec![dataset_entry(&w.commitment, "h1", &owner())])
        .unwrap();
    a.append(vec![policy_entry(&w.vk)]).unwrap();
    b.append(vec![dataset_entry(&w.other_commitment, "h2", &owner())])
        .unwrap();
    b.append(vec![policy_entry(&w.vk)]).unwrap();
    b.append(vec![dataset_entry(&w.commitment, "h1", &owner())])
        .unwrap();
    let config = a.config().clone();
    let mut m = Monitor::new(config.clone(), None).unwrap();
    assert_eq!(m.check(&a).unwrap(), Observation::First { size: 2 });
    assert_eq!(m.check(&a).unwrap(), Observation::Unchanged { size: 2 });
    // The fork is caught by the monitor ...
    assert!(matches!(
        m.check(&b),
        Err(LedgerError::Fork {
            old_size: 2,
            new_size: 3,
            cause: ForkCause::Proof(_)
        })
    ));
    // ... and by a verifier that saw the first history.
    let seen = a.checkpoint().unwrap().checkpoint;
    assert!(matches!(
        verify(&w.bundle, &w.vk, &b, &config, Some(&seen)),
        Err(LedgerError::Fork {
            old_size: 2,
            new_size: 3,
            cause: ForkCause::Proof(_)
        })
    ));
    // Same size, different roots.
    let fake = ConsistencyProof {
        from: 2,
        to: 2,
        hashes: vec![],
    };
    let mut other = seen.clone();
    other.root[0] ^= 1;
    assert!(matches!(
        fake.verify(&seen, &other),
        Err(LedgerError::Fork {
            cause: ForkCause::TwoRootsForOneSize,
            ..
        })
    ));
    // A stale checkpoint is refused.
    let mut newer = seen.clone();
    newer.size = 5;
    assert!(matches!(
        verify(&w.bundle, &w.vk, &a, &config, Some(&newer)),
        Err(LedgerError::StaleCheckpoint {
            offered: 2,
            seen: 5
        })
    ));
    a.append(vec![dataset_entry(&w.other_commitment, "h2", &owner())])
        .unwrap();
    assert_eq!(
        m.check(&a).unwrap(),
        Observation::Extended { from: 2, to: 3 }
    );
}

#[test]
fn a_damaged_store_is_refused_not_trusted() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    drop(registered(dir.path()));
    let db = dir.path().join("ledger.redb");
    let bytes = std::fs::read(&db).unwrap();
    // Truncated to half, and to nothing but a few bytes.
    let in_store = |r: Result<Ledger>| match r {
        Err(LedgerError::Store { path, .. }) => assert!(path.ends_with("ledger.redb"), "{path}"),
        Err(e) => panic!("not a store error: {e:?}"),
        Ok(_) => panic!("a damaged store was opened"),
    };
    for len in [bytes.len() / 2, 100] {
        std::fs::write(&db, &bytes[..len]).unwrap();
        in_store(Ledger::open(dir.path()));
    }
    // Corrupted: overwrite where the second entry's signature lives; whatever redb makes of
    // it, the ledger either refuses to open or reproduces its checkpoint exactly.
    let sig = policy_entry(&w.vk).signature;
    let at = bytes
        .windows(64)
        .position(|win| win == sig)
        .expect("the entry is stored verbatim");
    let mut corrupt = bytes.clone();
    corrupt[at + 3] ^= 0xff;
    std::fs::write(&db, &corrupt).unwrap();
    in_store(Ledger::open(dir.path()));
    // Restored bytes open again.
    std::fs::write(&db, &bytes).unwrap();
    assert_eq!(
        Ledger::open(dir.path())
            .unwrap()
            .checkpoint()
            .unwrap()
            .checkpoint
            .size,
        2
    );
}

#[test]
fn concurrent_appenders_each_land_once() {
    let dir = tempfile::tempdir().unwrap();
    let l = Arc::new(ledger(dir.path()));
    let threads: Vec<_> = (0..4u8)
        .map(|t| {
            let l = l.clone();
            std::thread::spawn(move || {
                for i in 0..10u8 {
                    let who = issuer();
                    let body = Body::Policy(PolicyEntry {
                        policy_digest: [t * 16 + i; 32],
                        chunk_circuit: [1; 32],
                        final_circuit: None,
                        vk_digest: [2; 32],
                        name: format!("p{t}-{i}"),
                    });
                    l.append(vec![Entry::sign(body, 1, &who).unwrap()]).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let cp = l.checkpoint().unwrap();
    assert_eq!(cp.checkpoint.size, 40);
    drop(l);
    let reopened = Ledger::open(dir.path()).unwrap();
    assert_eq!(reopened.checkpoint().unwrap(), cp);
}

#[test]
fn the_http_service_is_the_same_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let w = world();
    let l = Arc::new(registered(dir.path()));
    let config = l.config().clone();
    let service = serve(l.clone(), "127.0.0.1:0", 2).unwrap();
    assert!(service.addr().ip().is_loopback());
    let remote = RemoteLedger::new(&service.url(), Duration::from_secs(10));
    assert_eq!(remote.checkpoint().unwrap(), l.checkpoint().unwrap());
    let (verdict, _) = verify(&w.bundle, &w.vk, &remote, &config, None).unwrap();
    assert_eq!(verdict.records, 40);
    // Appends through the service; errors come back with their code and message.
    remote
        .append(vec![dataset_entry(&w.other_commitment, "h2", &owner())])
        .unwrap();
    assert_eq!(l.checkpoint().unwrap().checkpoint.size, 3);
    let dup = remote.append(vec![dataset_entry(&w.other_commitment, "h2", &owner())]);
    let key = EntryKey::dataset(&w.other_commitment);
    match dup {
        Err(LedgerError::Remote {
            cause:
                RemoteCause::Status {
                    status: 400,
                    code: Some(ErrorCode::Duplicate),
                },
            reason,
            ..
        }) => assert_eq!(reason, LedgerError::Duplicate { key }.to_string()),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        remote.entry(99),
        Err(LedgerError::Remote {
            cause: RemoteCause::Status {
                status: 404,
                code: Some(ErrorCode::NoSuchEntry)
            },
            ..
        })
    ));
    let mut m = Monitor::new(config, None).unwrap();
    assert_eq!(m.check(&remote).unwrap(), Observation::First { size: 3 });
    drop(service);
    // A stopped service is an error, not a hang.
    let gone = RemoteLedger::new(&format!("http://{}", "127.0.0.1:9"), Duration::from_secs(2));
    assert!(matches!(
        gone.checkpoint(),
        Err(LedgerError::Remote {
            cause: RemoteCause::Transport,
            ..
        })
    ));
}
