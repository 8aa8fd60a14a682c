//! The embedded ledger, its proofs and quorum, the HTTP service, the monitor, and verification of
//! real Groth16 bundles against it — with everything a verifier must refuse.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use trustspace_data::Record;
use trustspace_data::synth::{Generator, Spec, Table};
use trustspace_ledger_verifier::entry::IndexedEntry;
use trustspace_ledger_verifier::http::{RemoteLedger, serve};
use trustspace_ledger_verifier::log::{CheckpointSignature, ConsistencyProof, InclusionProof};
use trustspace_ledger_verifier::monitor::{Monitor, Observation};
use trustspace_ledger_verifier::*;
use trustspace_zk::{
    Commitment, Compiled, Opening, Policy, ProofBundle, VerifyingKeys, commit_with, prove_all,
    reference, setup,
};

const CHUNK: u64 = 32;

struct World {
    vk: VerifyingKeys,
    other_vk: VerifyingKeys,
    commitment: Commitment,
    other_commitment: Commitment,
    bundle: ProofBundle,
}

/// One real bundle over 40 generated encounters, keys for the reference healthcare policy, and a
/// second dataset's commitment.
fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let g = Generator::new(Spec::new(Table::Encounters, 40, 5)).unwrap();
        let schema = g.schema().clone();
        let records: Vec<Record> = g.records().collect();
        let policy =
            Policy::from_toml(&reference::healthcare_policy(), "reference", None, &schema).unwrap();
        let compiled = Compiled::new(&schema, &policy, CHUNK).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (pk, vk) = setup(&compiled, &mut rng).unwrap();
        let (_, other_vk) = setup(&compiled, &mut rng).unwrap();
        let opening = Opening::generate(&mut rng);
        let commitment = commit_with(&schema, records.clone(), CHUNK, &opening).unwrap();
        let other: Vec<Record> = Generator::new(Spec::new(Table::Encounters, 40, 6))
            .unwrap()
            .records()
            .collect();
        let other_commitment = commit_with(&schema, other, CHUNK, &opening).unwrap();
        let bundle = prove_all(&compiled, &pk, &commitment, &opening, &records, &mut rng).unwrap();
        World {
            vk,
            other_vk,
            commitment,
            other_commitment,
            bundle,
        }
    })
}

fn owner() -> Identity {
    Identity::from_seed(&[7; 32])
}

fn issuer() -> Identity {
    Identity::from_seed(&[8; 32])
}

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
        1_790_000_001,
        &issuer(),
    )
    .unwrap()
}

fn ledger(dir: &Path) -> Ledger {
    Ledger::init(dir, "trustspace-test", 3, 2).unwrap()
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
            assert!(
                t.check_signature().is_err(),
                "byte {i} flipped still verifies"
            );
        }
    }
    // Truncated, extended, oversized.
    assert!(Entry::decode(&bytes[..bytes.len() - 1]).is_err());
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Entry::decode(&longer).is_err());
    assert!(Entry::decode(&vec![0u8; 10_000]).is_err());
    // A root >= the BN254 modulus is refused at decode.
    let mut big = bytes.clone();
    let root_at = 4 + 1 + 1 + 8 + 32 + 4;
    big[root_at..root_at + 32].fill(0xff);
    assert!(matches!(
        Entry::decode(&big),
        Err(LedgerError::Malformed { .. })
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
        assert!(matches!(dup, Err(LedgerError::Duplicate(_))), "{dup:?}");
        let e = dataset_entry(&w.other_commitment, "h2", &owner());
        let twice = l.append(vec![e.clone(), e]);
        assert!(matches!(twice, Err(LedgerError::Duplicate(_))));
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
            Err(LedgerError::BadEntrySignature { .. })
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
        Err(LedgerError::Fork { .. })
    ));
    let a = l.audit(&[1], None).unwrap();
    let mut p: InclusionProof = a.inclusions[0].clone();
    p.hashes[0][5] ^= 1;
    let d = l.entry(1).unwrap().digest().unwrap();
    assert!(matches!(
        p.verify(&d, &a.checkpoint.checkpoint),
        Err(LedgerError::NotIncluded { .. })
    ));
    // The right digest at the wrong index.
    let mut q = a.inclusions[0].clone();
    q.index = 0;
    assert!(q.verify(&d, &a.checkpoint.checkpoint).is_err());
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
        Err(LedgerError::UnknownSigner(_))
    ));
    // The same validator twice (even with a valid signature) counts once, and is refused.
    let mut dup = good.clone();
    dup.signatures[1] = dup.signatures[0].clone();
    assert!(matches!(
        dup.verify(&config),
        Err(LedgerError::DuplicateSigner(_))
    ));
    // A signature over another checkpoint.
    let mut moved = good.clone();
    moved.checkpoint.size += 1;
    assert!(matches!(
        moved.verify(&config),
        Err(LedgerError::BadCheckpointSignature(_))
    ));
    // Another log's name.
    let mut other = config.clone();
    other.log_id = "someone-else".into();
    assert!(matches!(
        good.verify(&other),
        Err(LedgerError::WrongLog { .. })
    ));
    // Configurations no checkpoint could satisfy are refused.
    assert!(LedgerConfig::new("x", config.validators.clone(), 4).is_err());
    assert!(LedgerConfig::new("x", config.validators.clone(), 0).is_err());
    let mut twice = config.validators.clone();
    twice[1] = twice[0];
    assert!(LedgerConfig::new("x", twice, 2).is_err());
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
    assert!(matches!(r, Err(LedgerError::NoQuorum { .. })), "{r:?}");
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
    assert_eq!(verify_evidence(&back, &config, None).unwrap(), verdict);

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
    assert!(matches!(l.append(vec![v]), Err(LedgerError::Duplicate(_))));
    // A verdict naming an entry the log does not hold.
    let bogus = Entry::sign(
        Body::Verdict(VerdictEntry::new(&w.bundle, (7, [9; 32]), p, true)),
        1_790_000_003,
        &issuer(),
    )
    .unwrap();
    assert!(matches!(
        l.append(vec![bogus]),
        Err(LedgerError::Refused(_))
    ));

    // Seen an older checkpoint: the verifier demands and checks consistency.
    let seen = evidence.checkpoint.checkpoint.clone();
    let (v2, ev2) = verify(&w.bundle, &w.vk, &l, &config, Some(&seen)).unwrap();
    assert_eq!(v2.checkpoint.size, 3);
    verify_evidence(&ev2, &config, Some(&seen)).unwrap();
    // Offline, evidence without a consistency proof from a newer seen checkpoint is stale.
    assert!(matches!(
        verify_evidence(&evidence, &config, Some(&v2.checkpoint)),
        Err(LedgerError::StaleCheckpoint { .. })
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
    // The policy registered with other keys (another setup): the verifier's keys mismatch.
    l.append(vec![policy_entry(&w.other_vk)]).unwrap();
    assert!(matches!(
        verify(&w.bundle, &w.vk, &l, &config, None),
        Err(LedgerError::KeyMismatch(_))
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
        verify_evidence(&ev, &config2, None),
        Err(LedgerError::Mismatch(_))
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
    assert!(verify_evidence(&ev, &config, None).is_err());
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
    assert!(matches!(m.check(&b), Err(LedgerError::Fork { .. })));
    // ... and by a verifier that saw the first history.
    let seen = a.checkpoint().unwrap().checkpoint;
    assert!(matches!(
        verify(&w.bundle, &w.vk, &b, &config, Some(&seen)),
        Err(LedgerError::Fork { .. })
    ));
    // Same size, different roots.
    let fake = ConsistencyProof {
        from: 2,
        to: 2,
        hashes: vec![],
    };
    let mut other = seen.clone();
    other.root[0] ^= 1;
    assert!(fake.verify(&seen, &other).is_err());
    // A stale checkpoint is refused.
    let mut newer = seen.clone();
    newer.size = 5;
    assert!(matches!(
        verify(&w.bundle, &w.vk, &a, &config, Some(&newer)),
        Err(LedgerError::StaleCheckpoint { .. })
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
    for len in [bytes.len() / 2, 100] {
        std::fs::write(&db, &bytes[..len]).unwrap();
        assert!(Ledger::open(dir.path()).is_err(), "truncated to {len}");
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
    match Ledger::open(dir.path()) {
        Err(e) => assert!(e.to_string().contains("ledger.redb"), "{e}"),
        Ok(_) => panic!("a corrupted entry was accepted"),
    }
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
                    let who = Identity::from_seed(&[t + 1; 32]);
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
    // Appends through the service; errors come back with their message.
    remote
        .append(vec![dataset_entry(&w.other_commitment, "h2", &owner())])
        .unwrap();
    assert_eq!(l.checkpoint().unwrap().checkpoint.size, 3);
    let dup = remote.append(vec![dataset_entry(&w.other_commitment, "h2", &owner())]);
    match dup {
        Err(LedgerError::Remote { reason, .. }) => {
            assert!(reason.contains("duplicate"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(remote.entry(99), Err(LedgerError::Remote { .. })));
    let mut m = Monitor::new(config, None).unwrap();
    assert_eq!(m.check(&remote).unwrap(), Observation::First { size: 3 });
    drop(service);
    // A stopped service is an error, not a hang.
    let gone = RemoteLedger::new(&format!("http://{}", "127.0.0.1:9"), Duration::from_secs(2));
    assert!(matches!(gone.checkpoint(), Err(LedgerError::Remote { .. })));
}
