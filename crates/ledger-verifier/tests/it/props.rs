//! Property tests: every codec of the ledger decodes what it encodes (entries, index keys,
//! checkpoints, proofs, the trust configuration, the monitor's state, evidence files, the HTTP
//! service's answers as its client reads them), and the Merkle log's inclusion and consistency
//! proofs verify for arbitrary sizes and indices and fail for a changed leaf or size.

use ark_bn254::Fr;
use ark_serialize::CanonicalDeserialize;
use proptest::prelude::*;
use trustspace_ledger_verifier::entry::{IndexedEntry, MAX_METADATA, MAX_NAME};
use trustspace_ledger_verifier::http::{
    Answer, AppendRequest, AuditRequest, ErrorBody, Found, Response, read_answer,
    read_entry_answer, status_of,
};
use trustspace_ledger_verifier::log::{
    CheckpointSignature, ConsistencyProof, InclusionProof, LogTree, empty_root,
};
use trustspace_ledger_verifier::monitor::{MonitorState, STATE_VERSION};
use trustspace_ledger_verifier::view::{Audit, Receipt};
use trustspace_ledger_verifier::*;
use trustspace_zk::Commitment;

const URL: &str = "http://ledger.invalid";

fn public_key() -> impl Strategy<Value = PublicKey> {
    any::<[u8; 32]>().prop_map(|seed| Identity::from_seed(&seed).public())
}

/// A field element below the BN254 modulus (top byte below the modulus's 0x30).
fn fr() -> impl Strategy<Value = Fr> {
    (any::<[u8; 31]>(), 0u8..0x30).prop_map(|(low, top)| {
        let mut b = [0u8; 32];
        b[..31].copy_from_slice(&low);
        b[31] = top;
        Fr::deserialize_compressed(&b[..]).expect("below the modulus")
    })
}

/// A name of up to [`MAX_NAME`] bytes: mostly short UTF-8, sometimes exactly at the limit.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "\\PC{0,40}".prop_filter("at most MAX_NAME bytes", |s| s.len() <= MAX_NAME),
        1 => Just("n".repeat(MAX_NAME)),
    ]
}

fn metadata() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..64),
        1 => Just(vec![0xa5; MAX_METADATA]),
    ]
}

fn body() -> impl Strategy<Value = Body> {
    let dataset = (
        any::<u32>(),
        fr(),
        any::<[u8; 32]>(),
        any::<u64>(),
        any::<u64>(),
        any::<[u8; 32]>(),
        name(),
        metadata(),
    )
        .prop_map(
            |(version, root, schema_digest, records, chunk_size, owner, name, metadata)| {
                Body::Dataset(DatasetEntry {
                    commitment: Commitment {
                        version,
                        root,
                        schema_digest,
                        records,
                        chunk_size,
                        owner,
                    },
                    name,
                    metadata,
                })
            },
        );
    let policy = (
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<Option<[u8; 32]>>(),
        any::<[u8; 32]>(),
        name(),
    )
        .prop_map(
            |(policy_digest, chunk_circuit, final_circuit, vk_digest, name)| {
                Body::Policy(PolicyEntry {
                    policy_digest,
                    chunk_circuit,
                    final_circuit,
                    vk_digest,
                    name,
                })
            },
        );
    let verdict = (
        any::<[u8; 32]>(),
        any::<(u64, [u8; 32])>(),
        any::<(u64, [u8; 32])>(),
        any::<bool>(),
    )
        .prop_map(|(statement, dataset, policy, valid)| {
            Body::Verdict(VerdictEntry {
                statement,
                dataset,
                policy,
                valid,
            })
        });
    prop_oneof![dataset, policy, verdict]
}

/// An entry with an arbitrary (not necessarily valid) signature.
fn entry() -> impl Strategy<Value = Entry> {
    (any::<u64>(), public_key(), body(), any::<[u8; 64]>()).prop_map(
        |(timestamp, submitter, body, signature)| Entry {
            timestamp,
            submitter,
            body,
            signature,
        },
    )
}

fn digests(max: usize) -> impl Strategy<Value = Vec<[u8; 32]>> {
    proptest::collection::vec(any::<[u8; 32]>(), 0..=max)
}

fn checkpoint() -> impl Strategy<Value = Checkpoint> {
    ("\\PC{0,24}", any::<u64>(), any::<[u8; 32]>(), any::<u64>()).prop_map(
        |(log_id, size, root, timestamp_ms)| Checkpoint {
            log_id,
            size,
            root,
            timestamp_ms,
        },
    )
}

fn cosigned() -> impl Strategy<Value = CosignedCheckpoint> {
    let signature =
        (public_key(), any::<[u8; 64]>()).prop_map(|(validator, signature)| CheckpointSignature {
            validator,
            signature,
        });
    (checkpoint(), proptest::collection::vec(signature, 0..4)).prop_map(
        |(checkpoint, signatures)| CosignedCheckpoint {
            checkpoint,
            signatures,
        },
    )
}

fn inclusion() -> impl Strategy<Value = InclusionProof> {
    (any::<u64>(), any::<u64>(), digests(8)).prop_map(|(index, size, hashes)| InclusionProof {
        index,
        size,
        hashes,
    })
}

fn consistency() -> impl Strategy<Value = ConsistencyProof> {
    (any::<u64>(), any::<u64>(), digests(8)).prop_map(|(from, to, hashes)| ConsistencyProof {
        from,
        to,
        hashes,
    })
}

fn audit() -> impl Strategy<Value = Audit> {
    (
        cosigned(),
        proptest::collection::vec(inclusion(), 0..3),
        proptest::option::of(consistency()),
    )
        .prop_map(|(checkpoint, inclusions, consistency)| Audit {
            checkpoint,
            inclusions,
            consistency,
        })
}

/// The golden evidence file's bundle and keys, with everything else arbitrary.
fn evidence() -> impl Strategy<Value = Evidence> {
    let golden =
        Evidence::from_bytes(include_bytes!("../golden/evidence.json"), "golden evidence").unwrap();
    (
        cosigned(),
        (any::<u64>(), entry()),
        inclusion(),
        (any::<u64>(), entry()),
        inclusion(),
        proptest::option::of(consistency()),
    )
        .prop_map(
            move |(checkpoint, (di, d), dataset_inclusion, (pi, p), policy_inclusion, c)| {
                Evidence {
                    version: golden.version,
                    checkpoint,
                    dataset: IndexedEntry {
                        index: di,
                        entry: d.to_hex().unwrap(),
                    },
                    dataset_inclusion,
                    policy: IndexedEntry {
                        index: pi,
                        entry: p.to_hex().unwrap(),
                    },
                    policy_inclusion,
                    consistency: c,
                    bundle: golden.bundle.clone(),
                    verifying_keys: golden.verifying_keys.clone(),
                }
            },
        )
}

/// Any JSON value (numbers of every kind, strings, nested arrays and objects).
fn json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Whether a JSON value holds a number that is not an integer.
fn has_fraction(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Number(n) => n.is_f64(),
        serde_json::Value::Array(items) => items.iter().any(has_fraction),
        serde_json::Value::Object(fields) => fields.values().any(has_fraction),
        _ => false,
    }
}

/// Regression (found by `evidence_with_any_json_keys_decodes_what_it_encodes`): a fractional
/// number in the verifying keys decoded to a neighbouring float (serde_json's default parsing is
/// not exact), so an evidence file did not decode to what it held. Now it is refused.
#[test]
fn evidence_with_a_fractional_number_in_its_keys_is_refused() {
    let golden = include_bytes!("../golden/evidence.json");
    let mut ev = Evidence::from_bytes(golden, "golden evidence").unwrap();
    ev.verifying_keys["scale"] = serde_json::json!(1.2451656509661965e-98);
    let r = Evidence::from_bytes(&ev.to_bytes(), "evidence");
    assert!(
        matches!(&r, Err(LedgerError::Malformed { what, reason })
            if what == "evidence" && reason.contains("not an integer")),
        "{r:?}"
    );
    // Integers of either sign are kept as they are.
    ev.verifying_keys["scale"] = serde_json::json!(-3);
    assert_eq!(
        Evidence::from_bytes(&ev.to_bytes(), "evidence").unwrap(),
        ev
    );
}

/// The service's answer for `a`, as its client reads it back.
fn served(a: &Answer) -> Answer {
    let Response { status, body } = Response::from_result(&Ok(a.clone()));
    assert_eq!(status, 200);
    match a {
        Answer::Checkpoint(_) => Answer::Checkpoint(read_answer(URL, status, &body).unwrap()),
        Answer::Entry(e) => {
            let entry = read_entry_answer(URL, e.index, status, &body).unwrap();
            Answer::Entry(IndexedEntry {
                index: e.index,
                entry: entry.to_hex().unwrap(),
            })
        }
        Answer::Found(_) => Answer::Found(read_answer(URL, status, &body).unwrap()),
        Answer::Audit(_) => Answer::Audit(read_answer(URL, status, &body).unwrap()),
        Answer::Receipt(_) => Answer::Receipt(read_answer(URL, status, &body).unwrap()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn entries_decode_what_they_encode(e in entry()) {
        let bytes = e.encode().unwrap();
        prop_assert_eq!(&Entry::decode(&bytes).unwrap(), &e);
        prop_assert_eq!(&Entry::from_hex(&e.to_hex().unwrap()).unwrap(), &e);
        prop_assert_eq!(&Entry::from_hex(&e.to_hex().unwrap().to_uppercase()).unwrap(), &e);
        let key = e.key();
        prop_assert_eq!(EntryKey::from_bytes(&key.to_bytes()).unwrap(), key);
    }

    #[test]
    fn signed_entries_verify_after_decoding(body in body(), ts in any::<u64>(), seed in any::<[u8; 32]>()) {
        let e = Entry::sign(body, ts, &Identity::from_seed(&seed)).unwrap();
        let back = Entry::decode(&e.encode().unwrap()).unwrap();
        back.check_signature().unwrap();
        prop_assert_eq!(back.digest().unwrap(), e.digest().unwrap());
    }

    #[test]
    fn checkpoints_and_proofs_decode_what_they_encode(
        cp in cosigned(),
        i in inclusion(),
        c in consistency(),
    ) {
        prop_assert_eq!(&CosignedCheckpoint::from_bytes(&cp.to_bytes()).unwrap(), &cp);
        let json = serde_json::to_vec(&i).unwrap();
        prop_assert_eq!(&serde_json::from_slice::<InclusionProof>(&json).unwrap(), &i);
        let json = serde_json::to_vec(&c).unwrap();
        prop_assert_eq!(&serde_json::from_slice::<ConsistencyProof>(&json).unwrap(), &c);
    }

    #[test]
    fn configurations_decode_what_they_encode(
        log_id in "[a-z0-9-]{1,128}",
        seeds in proptest::collection::hash_set(any::<[u8; 32]>(), 1..6),
        t in any::<prop::sample::Index>(),
    ) {
        let keys: Vec<PublicKey> = seeds.iter().map(|s| Identity::from_seed(s).public()).collect();
        let threshold = 1 + t.index(keys.len());
        let c = LedgerConfig::new(&log_id, keys.clone(), threshold, keys).unwrap();
        prop_assert_eq!(&LedgerConfig::from_bytes(&c.to_bytes(), "config").unwrap(), &c);
    }

    #[test]
    fn monitor_states_decode_what_they_encode(last in cosigned()) {
        let s = MonitorState { version: STATE_VERSION, last };
        prop_assert_eq!(&MonitorState::decode(&s.encode(), "state").unwrap(), &s);
    }

    #[test]
    fn evidence_decodes_what_it_encodes(ev in evidence()) {
        prop_assert_eq!(&Evidence::from_bytes(&ev.to_bytes(), "evidence").unwrap(), &ev);
    }

    #[test]
    fn evidence_with_any_json_keys_decodes_what_it_encodes(ev in evidence(), keys in json()) {
        let fraction = has_fraction(&keys);
        let ev = Evidence { verifying_keys: keys, ..ev };
        let back = Evidence::from_bytes(&ev.to_bytes(), "evidence");
        if fraction {
            prop_assert!(matches!(back, Err(LedgerError::Malformed { .. })), "{:?}", back);
        } else {
            prop_assert_eq!(&back.unwrap(), &ev);
        }
    }

    #[test]
    fn the_client_reads_what_the_service_answers(
        cp in cosigned(),
        e in entry(),
        index in any::<u64>(),
        found in any::<Option<u64>>(),
        a in audit(),
        first_index in any::<u64>(),
        count in any::<u64>(),
    ) {
        let answers = [
            Answer::Checkpoint(cp.clone()),
            Answer::Entry(IndexedEntry { index, entry: e.to_hex().unwrap() }),
            Answer::Found(Found { index: found }),
            Answer::Audit(a),
            Answer::Receipt(Receipt { first_index, count, checkpoint: cp }),
        ];
        for answer in answers {
            prop_assert_eq!(served(&answer), answer);
        }
    }

    #[test]
    fn requests_decode_what_they_encode(
        indices in proptest::collection::vec(any::<u64>(), 0..8),
        from in any::<Option<u64>>(),
        entries in proptest::collection::vec(entry(), 0..3),
        message in "\\PC{0,40}",
    ) {
        let audit = AuditRequest { indices, from };
        let json = serde_json::to_vec(&audit).unwrap();
        prop_assert_eq!(serde_json::from_slice::<AuditRequest>(&json).unwrap(), audit);
        let append = AppendRequest {
            entries: entries.iter().map(|e| e.to_hex().unwrap()).collect(),
        };
        let json = serde_json::to_vec(&append).unwrap();
        prop_assert_eq!(serde_json::from_slice::<AppendRequest>(&json).unwrap(), append);
        let err = ErrorBody { error: message, code: Some("refused".into()) };
        let json = serde_json::to_vec(&err).unwrap();
        prop_assert_eq!(serde_json::from_slice::<ErrorBody>(&json).unwrap(), err);
    }
}

#[test]
fn the_client_reads_every_error_the_service_answers() {
    let errors = [
        LedgerError::NoSuchEntry { index: 9, size: 2 },
        LedgerError::Refused(Refusal::NoSuchEndpoint {
            url: "/\"x\"\n".into(),
        }),
        LedgerError::UnknownSigner("ab".into()),
        LedgerError::Store {
            path: "p".into(),
            cause: StoreFailure::EntriesWithoutCheckpoint,
        },
    ];
    for e in errors {
        let Response { status, body } = Response::error(&e);
        assert_eq!(status, status_of(&e));
        let read = read_answer::<Found>(URL, status, &body);
        assert!(
            matches!(&read, Err(LedgerError::Remote {
                cause: RemoteCause::Status { status: s, code: Some(code) },
                reason,
                ..
            // The service's text as sent, escaped (the newline in the URL above).
            }) if *s == status && *code == e.code()
                && *reason == trustspace_data::error::escape_untrusted(&e.to_string())
                && !reason.contains('\n')),
            "{e:?} read as {read:?}"
        );
    }
}

/// A tree over `leaves` and the checkpoint of it.
fn tree_of(leaves: &[[u8; 32]]) -> (LogTree, Checkpoint) {
    let mut t = LogTree::new();
    for l in leaves {
        t.push(*l);
    }
    let cp = Checkpoint {
        log_id: "props".into(),
        size: t.size(),
        root: t.root(),
        timestamp_ms: 0,
    };
    (t, cp)
}

/// Leaves and an index below their number.
fn leaves_and_index() -> impl Strategy<Value = (Vec<[u8; 32]>, u64)> {
    proptest::collection::vec(any::<[u8; 32]>(), 1..80).prop_flat_map(|leaves| {
        let n = leaves.len() as u64;
        (Just(leaves), 0..n)
    })
}

/// Leaves and an older size between 0 and their number.
fn leaves_and_old_size() -> impl Strategy<Value = (Vec<[u8; 32]>, usize)> {
    proptest::collection::vec(any::<[u8; 32]>(), 1..80).prop_flat_map(|leaves| {
        let n = leaves.len();
        (Just(leaves), 0..=n)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn inclusion_proofs_verify_and_fail_for_a_changed_leaf_or_size(
        (leaves, index) in leaves_and_index(),
        other_size in 1usize..80,
        bit in 0usize..256,
    ) {
        let (tree, cp) = tree_of(&leaves);
        let proof = tree.prove_inclusion(index).unwrap();
        let leaf = leaves[index as usize];
        proof.verify(&leaf, &cp).unwrap();

        let mut changed = leaf;
        changed[bit / 8] ^= 1 << (bit % 8);
        let r = proof.verify(&changed, &cp);
        prop_assert!(
            matches!(r, Err(LedgerError::NotIncluded { cause: InclusionFailure::Path(_), .. })),
            "{:?}", r
        );

        // The tree of another size (a prefix, or the tree extended by more leaves).
        prop_assume!(other_size != leaves.len());
        let mut other_leaves = leaves.clone();
        other_leaves.resize(other_size, [0x0e; 32]);
        let (_, other) = tree_of(&other_leaves);
        let r = proof.verify(&leaf, &other);
        prop_assert!(
            matches!(r, Err(LedgerError::NotIncluded { cause: InclusionFailure::OtherTreeSize, .. })),
            "{:?}", r
        );
        let relabelled = InclusionProof { size: other.size, ..proof.clone() };
        let r = relabelled.verify(&leaf, &other);
        if index < other.size {
            prop_assert!(
                matches!(r, Err(LedgerError::NotIncluded { cause: InclusionFailure::Path(_), .. })),
                "{:?}", r
            );
        } else {
            prop_assert!(
                matches!(r, Err(LedgerError::NotIncluded { cause: InclusionFailure::IndexOutsideTree, .. })),
                "{:?}", r
            );
        }
    }

    #[test]
    fn consistency_proofs_verify_and_fail_for_a_changed_leaf_or_size(
        (leaves, m) in leaves_and_old_size(),
        k in any::<prop::sample::Index>(),
        other_old in 0usize..80,
    ) {
        let n = leaves.len();
        let (tree, new) = tree_of(&leaves);
        let (_, old) = tree_of(&leaves[..m]);
        let proof = tree.prove_consistency(m as u64).unwrap();
        proof.verify(&old, &new).unwrap();
        if m == 0 {
            prop_assert_eq!(old.root, empty_root());
        }

        // A rewritten history: one leaf changed. Below the old size it is a fork; at or above,
        // an append-only extension.
        let k = k.index(n);
        let mut rewritten = leaves.clone();
        rewritten[k][0] ^= 1;
        let (rtree, rnew) = tree_of(&rewritten);
        let rproof = rtree.prove_consistency(m as u64).unwrap();
        let r = rproof.verify(&old, &rnew);
        if k < m {
            prop_assert!(
                matches!(
                    &r,
                    Err(LedgerError::Fork {
                        cause: ForkCause::Proof(_) | ForkCause::TwoRootsForOneSize,
                        ..
                    })
                ),
                "{:?}", r
            );
        } else {
            prop_assert!(r.is_ok(), "{:?}", r);
        }

        // The proof against the checkpoint of another older size.
        let other_old = other_old.min(n);
        prop_assume!(other_old != m);
        let (_, other) = tree_of(&leaves[..other_old]);
        let r = proof.verify(&other, &new);
        prop_assert!(
            matches!(&r, Err(LedgerError::Fork { cause: ForkCause::ProofForOtherSizes, .. })),
            "{:?}", r
        );
        let relabelled = ConsistencyProof { from: other.size, ..proof.clone() };
        let r = relabelled.verify(&other, &new);
        if proof.hashes.is_empty() && (other_old == 0 || other_old == n) {
            // An empty proof rightly shows that the tree extends the empty tree and itself.
            prop_assert!(r.is_ok(), "{:?}", r);
        } else {
            prop_assert!(
                matches!(
                    &r,
                    Err(LedgerError::Fork {
                        cause: ForkCause::Proof(_)
                            | ForkCause::EmptyTreeRoot
                            | ForkCause::TwoRootsForOneSize,
                        ..
                    })
                ),
                "{:?}", r
            );
        }
        // And against a newer checkpoint of another size.
        let mut longer = leaves.clone();
        longer.push([0x1f; 32]);
        let (_, bigger) = tree_of(&longer);
        let relabelled = ConsistencyProof { to: bigger.size, ..proof.clone() };
        let r = relabelled.verify(&old, &bigger);
        prop_assert!(
            matches!(
                &r,
                Err(LedgerError::Fork {
                    cause: ForkCause::Proof(_) | ForkCause::EmptyTreeRoot,
                    ..
                })
            ) || (m == 0 && r.is_ok()),
            "{:?}", r
        );
    }
}
