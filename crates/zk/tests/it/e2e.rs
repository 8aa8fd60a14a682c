//! End to end with real Groth16 proofs: commit, set up, prove, verify; and everything a verifier
//! must refuse.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::LazyLock;
use trustspace_data::synth::{Generator, Spec, Table};
use trustspace_data::{Record, Schema};
use trustspace_zk::bundle::ProofBundle;
use trustspace_zk::encode::{fr_from_hex, fr_to_hex};
use trustspace_zk::error::{
    BadProof, ChunkMismatch, DatasetProblem, FormatProblem, Mismatch, ProofId, Unsatisfied,
};
use trustspace_zk::{
    Commitment, Compiled, Opening, Policy, ProvingKeys, VerifyingKeys, ZkError, commit_with,
    prove_all, reference, setup, verify,
};

const CHUNK: u64 = 32;
const RECORDS: u64 = 80;

struct World {
    schema: Schema,
    records: Vec<Record>,
    compiled: Compiled,
    pk: ProvingKeys,
    vk: VerifyingKeys,
    commitment: Commitment,
    opening: Opening,
    bundle: ProofBundle,
}

/// The reference healthcare policy set up, committed and proven once for the whole binary.
static WORLD: LazyLock<World> = LazyLock::new(|| {
    let g = Generator::new(Spec::new(Table::Encounters, RECORDS, 5)).unwrap();
    let schema = g.schema().clone();
    let records: Vec<Record> = g.records().collect();
    let policy =
        Policy::from_toml(&reference::healthcare_policy(), "reference", None, &schema).unwrap();
    let compiled = Compiled::new(&schema, &policy, CHUNK).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (pk, vk) = setup(&compiled, &mut rng).unwrap();
    let opening = Opening::generate(&mut rng);
    let commitment = commit_with(&schema, records.clone(), CHUNK, &crate::OWNER, &opening).unwrap();
    let bundle = prove_all(&compiled, &pk, &commitment, &opening, &records, &mut rng).unwrap();
    World {
        schema,
        records,
        compiled,
        pk,
        vk,
        commitment,
        opening,
        bundle,
    }
});

fn world() -> &'static World {
    &WORLD
}

#[test]
fn a_valid_bundle_verifies_and_reveals_the_true_total() {
    let w = world();
    let v = verify(&w.bundle, &w.vk, &w.commitment).unwrap();
    assert_eq!((v.records, v.chunks), (RECORDS, 3));
    let cost = w.schema.index_of("cost").unwrap();
    let total: u64 = w.records.iter().map(|r| r[cost]).sum();
    assert_eq!(v.revealed.len(), 1);
    assert_eq!(v.revealed[0].name, "total cost.sum");
    assert_eq!(v.revealed[0].value, total.to_string());
    // Shown in the column's units (cents to currency units).
    let shown = w.vk.format_revealed(0, &v.revealed[0].value);
    assert_eq!(shown, format!("{}.{:02}", total / 100, total % 100));
    assert_eq!(w.vk.format_revealed(0, "5"), "0.05");
}

#[test]
fn files_round_trip_and_still_verify() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let [b, k, c, o, p] = [
        "bundle.json",
        "vk.json",
        "commitment.json",
        "opening.json",
        "pk.bin",
    ]
    .map(|n| dir.path().join(n));
    w.bundle.save(&b).unwrap();
    w.vk.save(&k).unwrap();
    w.commitment.save(&c).unwrap();
    w.opening.save(&o).unwrap();
    w.pk.save(&p).unwrap();
    let (bundle, vk, commitment) = (
        ProofBundle::load(&b).unwrap(),
        VerifyingKeys::load(&k).unwrap(),
        Commitment::load(&c).unwrap(),
    );
    verify(&bundle, &vk, &commitment).unwrap();
    // The reloaded opening and proving keys prove again.
    let opening = Opening::load(&o).unwrap();
    let pk = ProvingKeys::load(&p).unwrap();
    let again = commit_with(&w.schema, w.records.clone(), CHUNK, &crate::OWNER, &opening).unwrap();
    assert_eq!(again, w.commitment, "same records, same opening, same root");
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let b2 = prove_all(&w.compiled, &pk, &again, &opening, &w.records, &mut rng).unwrap();
    verify(&b2, &vk, &commitment).unwrap();
    assert_eq!(
        b2.statement_digest(),
        w.bundle.statement_digest(),
        "proof bytes differ, statement does not"
    );
}

fn refuses(bundle: &ProofBundle, want: impl Fn(&ZkError) -> bool) {
    let w = world();
    let e = verify(bundle, &w.vk, &w.commitment).unwrap_err();
    assert!(want(&e), "unexpected error: {e}");
}

#[test]
fn another_commitment_is_refused() {
    let w = world();
    let mut other = w.records.clone();
    other[3][2] = 40; // one age changed
    let c2 = commit_with(&w.schema, other, CHUNK, &crate::OWNER, &w.opening).unwrap();
    assert_ne!(c2.root, w.commitment.root);
    assert!(matches!(
        verify(&w.bundle, &w.vk, &c2),
        Err(ZkError::Mismatch(Mismatch::BundleCommitment))
    ));
    // Even if the bundle claims the other commitment, its chunk roots do not combine into it.
    let mut b = w.bundle.clone();
    b.commitment = c2.clone();
    assert!(matches!(
        verify(&b, &w.vk, &c2),
        Err(ZkError::Mismatch(Mismatch::ChunkRoots))
    ));
}

#[test]
fn another_policy_is_refused() {
    let w = world();
    let text = reference::healthcare_policy().replace("between = [18, 120]", "between = [21, 120]");
    let policy = Policy::from_toml(&text, "stricter", None, &w.schema).unwrap();
    assert_ne!(policy.digest(), w.compiled.policy().digest());
    let compiled = Compiled::new(&w.schema, &policy, CHUNK).unwrap();
    let (_, vk2) = setup(&compiled, &mut ChaCha20Rng::seed_from_u64(2)).unwrap();
    assert!(matches!(
        verify(&w.bundle, &vk2, &w.commitment),
        Err(ZkError::Mismatch(Mismatch::BundleCircuits))
    ));
    // Relabelling the bundle does not help: the proofs' policy-digest input is wrong for vk2.
    let mut b = w.bundle.clone();
    b.policy_digest = policy.digest();
    b.circuit = vk2.digests.clone();
    assert!(matches!(
        verify(&b, &vk2, &w.commitment),
        Err(ZkError::Mismatch(Mismatch::Chunk {
            chunk: 0,
            problem: ChunkMismatch::PolicyInput
        }))
    ));
}

#[test]
fn proving_with_keys_for_another_policy_is_refused() {
    let w = world();
    let text = reference::healthcare_policy().replace("le = 4000", "le = 3000");
    let policy = Policy::from_toml(&text, "other", None, &w.schema).unwrap();
    let compiled = Compiled::new(&w.schema, &policy, CHUNK).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let e = prove_all(
        &compiled,
        &w.pk,
        &w.commitment,
        &w.opening,
        &w.records,
        &mut rng,
    )
    .unwrap_err();
    assert!(matches!(e, ZkError::Mismatch(Mismatch::ProvingKeys)), "{e}");
}

#[test]
fn another_revealed_value_is_refused() {
    let w = world();
    let mut b = w.bundle.clone();
    let v: u128 = b.final_.as_ref().unwrap().revealed[0]
        .value
        .parse()
        .unwrap();
    b.final_.as_mut().unwrap().revealed[0].value = (v + 1).to_string();
    refuses(
        &b,
        |e| matches!(e, ZkError::Mismatch(Mismatch::RevealedDiffers { name }) if name == "total cost.sum"),
    );
    // Changing the public input too makes the proof fail.
    b.final_.as_mut().unwrap().public_inputs[3] += ark_bn254::Fr::from(1u64);
    refuses(&b, |e| {
        matches!(
            e,
            ZkError::InvalidProof(BadProof {
                proof: ProofId::Final,
                error: None
            })
        )
    });
}

#[test]
fn flipping_any_byte_of_any_proof_is_refused() {
    let w = world();
    let n = w.bundle.chunks.len();
    for which in 0..=n {
        for byte in [0, 31, 32, 64, 95, 96, 127] {
            let mut b = w.bundle.clone();
            let (proof, id) = if which < n {
                (&mut b.chunks[which].proof, ProofId::Chunk(which as u64))
            } else {
                (&mut b.final_.as_mut().unwrap().proof, ProofId::Final)
            };
            let mut bytes = hex::decode(&*proof).unwrap();
            bytes[byte] ^= 0x01;
            *proof = hex::encode(bytes);
            let e = verify(&b, &w.vk, &w.commitment).unwrap_err();
            let refused = match &e {
                ZkError::InvalidProof(bad) => bad.proof == id,
                ZkError::Format {
                    what,
                    reason: FormatProblem::ProofEncoding(_),
                } => *what == id.to_string(),
                _ => false,
            };
            assert!(refused, "byte {byte} of {id}: {e}");
        }
    }
}

#[test]
fn reordered_truncated_or_relabelled_chunks_are_refused() {
    let w = world();
    let mut b = w.bundle.clone();
    b.chunks.swap(0, 1);
    refuses(&b, |e| {
        matches!(
            e,
            ZkError::Mismatch(Mismatch::Chunk {
                chunk: 0,
                problem: ChunkMismatch::OutOfOrder
            })
        )
    });
    let mut b = w.bundle.clone();
    b.chunks.pop();
    refuses(&b, |e| {
        matches!(
            e,
            ZkError::Mismatch(Mismatch::ChunkProofCount {
                proofs: 2,
                chunks: 3
            })
        )
    });
    // Claiming fewer active records in the last chunk (hiding some) is caught.
    let mut b = w.bundle.clone();
    b.chunks[2].public_inputs[2] = ark_bn254::Fr::from(15u64);
    refuses(&b, |e| {
        matches!(
            e,
            ZkError::Mismatch(Mismatch::Chunk {
                chunk: 2,
                problem: ChunkMismatch::ActiveCount
            })
        )
    });
    // Skipping a link of the accumulator chain is caught.
    let mut b = w.bundle.clone();
    b.chunks[1].public_inputs[4] = b.chunks[0].public_inputs[4];
    refuses(&b, |e| {
        matches!(
            e,
            ZkError::Mismatch(Mismatch::Chunk {
                chunk: 1,
                problem: ChunkMismatch::Accumulator
            })
        )
    });
    // A missing input (ark-groth16 would ignore the count) is caught.
    let mut b = w.bundle.clone();
    b.chunks[0].public_inputs.pop();
    refuses(&b, |e| {
        matches!(
            e,
            ZkError::Mismatch(Mismatch::Chunk {
                chunk: 0,
                problem: ChunkMismatch::InputCount {
                    found: 5,
                    expected: 6
                }
            })
        )
    });
}

#[test]
fn a_bundle_cannot_be_claimed_by_another_owner() {
    // The front-running attack at the proof level: take an honest bundle and present it for a
    // commitment naming another owner, rebuilt from the honest chunk roots.
    use trustspace_zk::commit::{final_root, owner_fr};
    let w = world();
    let thief = [0x7e; 32];
    let roots: Vec<_> = w.bundle.chunks.iter().map(|c| c.public_inputs[1]).collect();
    let mut stolen = w.commitment.clone();
    stolen.owner = thief;
    stolen.root = final_root(
        &roots,
        stolen.records,
        stolen.chunk_size,
        &stolen.schema_digest,
        &thief,
    );
    let mut b = w.bundle.clone();
    b.commitment = stolen.clone();
    // The chunk proofs name the real owner ...
    let e = verify(&b, &w.vk, &stolen).unwrap_err();
    assert!(
        matches!(
            e,
            ZkError::Mismatch(Mismatch::Chunk {
                chunk: 0,
                problem: ChunkMismatch::Owner
            })
        ),
        "{e}"
    );
    // ... and made to name the thief, they no longer verify.
    for c in &mut b.chunks {
        c.public_inputs[3] = owner_fr(&thief);
    }
    let e = verify(&b, &w.vk, &stolen).unwrap_err();
    assert!(matches!(e, ZkError::InvalidProof(_)), "{e}");
    // The honest bundle, of course, is not the thief's commitment's.
    assert!(matches!(
        verify(&w.bundle, &w.vk, &stolen),
        Err(ZkError::Mismatch(Mismatch::BundleCommitment))
    ));
}

#[test]
fn malformed_files_get_clear_errors() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.json");
    let text = serde_json::to_string(&w.bundle).unwrap();
    // A public input at or above the field modulus.
    let p_hex = "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";
    let bad = text.replacen(&fr_to_hex(&w.bundle.chunks[0].public_inputs[1]), p_hex, 1);
    std::fs::write(&path, bad).unwrap();
    // Decoded inside serde, the field element's typed error reaches the caller as its message.
    let field_error = fr_from_hex(p_hex, "field element").unwrap_err();
    assert!(matches!(
        field_error,
        ZkError::Format {
            reason: FormatProblem::FieldNotBelowModulus,
            ..
        }
    ));
    let e = ProofBundle::load(&path).unwrap_err();
    assert!(
        matches!(&e, ZkError::Format { reason: FormatProblem::Json(m), .. }
            if m.starts_with(&field_error.to_string())),
        "{e}"
    );
    // Not a proof: wrong length, bytes that are no curve point, not hex.
    type Want = fn(&FormatProblem) -> bool;
    let cases: [(String, Want); 3] = [
        ("00".repeat(127), |r| {
            matches!(
                r,
                FormatProblem::ProofLength {
                    found: 127,
                    expected: 128
                }
            )
        }),
        ("ff".repeat(128), |r| {
            matches!(r, FormatProblem::ProofEncoding(_))
        }),
        ("zz".into(), |r| matches!(r, FormatProblem::ProofHex(_))),
    ];
    for (proof, want) in cases {
        let mut b = w.bundle.clone();
        b.chunks[0].proof = proof;
        refuses(
            &b,
            |e| matches!(e, ZkError::Format { reason, .. } if want(reason)),
        );
    }
    std::fs::write(&path, "{not json").unwrap();
    assert!(matches!(
        ProofBundle::load(&path),
        Err(ZkError::Format {
            reason: FormatProblem::Json(_),
            ..
        })
    ));
    std::fs::write(&path, text.replace("\"version\":2", "\"version\":9")).unwrap();
    assert!(matches!(
        ProofBundle::load(&path),
        Err(ZkError::Format {
            reason: FormatProblem::UnsupportedVersion { found: 9 },
            ..
        })
    ));
    // Verifying keys for another circuit shape.
    let vk = dir.path().join("vk.json");
    w.vk.save(&vk).unwrap();
    let t = std::fs::read_to_string(&vk)
        .unwrap()
        .replace("\"counters\": 1", "\"counters\": 0");
    std::fs::write(&vk, t).unwrap();
    assert!(matches!(
        VerifyingKeys::load(&vk),
        Err(ZkError::Format {
            reason: FormatProblem::FinalKeyParts,
            ..
        })
    ));
}

#[test]
fn non_compliant_data_cannot_be_proven() {
    let w = world();
    let mut rows = w.records.clone();
    rows[41][w.schema.index_of("consent").unwrap()] = 0;
    let c = commit_with(&w.schema, rows.clone(), CHUNK, &crate::OWNER, &w.opening).unwrap();
    let e = prove_all(
        &w.compiled,
        &w.pk,
        &c,
        &w.opening,
        &rows,
        &mut ChaCha20Rng::seed_from_u64(4),
    )
    .unwrap_err();
    assert!(
        matches!(&e, ZkError::Unsatisfied(Unsatisfied::Rule { record: 41, rule }) if rule == "patient consent"),
        "{e}"
    );
    // Records that do not match the commitment are refused too.
    let e = prove_all(
        &w.compiled,
        &w.pk,
        &w.commitment,
        &w.opening,
        &w.records[..79],
        &mut ChaCha20Rng::seed_from_u64(4),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            ZkError::Dataset(DatasetProblem::RecordsGiven {
                given: 79,
                committed: 80
            })
        ),
        "{e}"
    );
}
