//! Round trips of every decoder of untrusted input and of the text encodings beneath them:
//! field elements and digests as hex, the commitment, opening, bundle and key files
//! (`from_bytes(to_bytes(x)) == x`), the policy spec's TOML writer; decoders refuse what they
//! must with the right typed cause (values at or above the modulus, points off the curve or
//! outside the subgroup, an invalid commitment inside a bundle, trailing bytes), and `load`
//! gives the same errors as `from_bytes`.

use ark_bn254::{Bn254, Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ff::{BigInteger, Field, PrimeField};
use ark_groth16::{Groth16, Proof, ProvingKey};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use ark_serialize::CanonicalSerialize;
use ark_snark::SNARK;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::LazyLock;
use trustspace_data::Schema;
use trustspace_data::schema::Bound;
use trustspace_zk::bundle::{ProofBundle, proof_from_hex, proof_to_hex};
use trustspace_zk::commit::{COMMITMENT_VERSION, MAX_CHUNK_SIZE, MAX_RECORDS, MAX_SMALL_FILE};
use trustspace_zk::digests::CircuitDigests;
use trustspace_zk::encode::{fr_from_hex, fr_to_hex};
use trustspace_zk::error::{FormatProblem, PolicyError};
use trustspace_zk::policy::{MAX_POLICY_BYTES, PolicyFile, PredicateSpec, RuleSpec};
use trustspace_zk::{Commitment, Opening, Policy, ProvingKeys, VerifyingKeys, ZkError};

const GOLDEN_COMMITMENT: &[u8] = include_bytes!("../golden/commitment.json");
const GOLDEN_OPENING: &[u8] = include_bytes!("../golden/opening.json");
const GOLDEN_BUNDLE: &[u8] = include_bytes!("../golden/bundle.json");
const GOLDEN_KEYS: &[u8] = include_bytes!("../golden/verifying_keys.json");
const GOLDEN_POLICY: &str = include_str!("../golden/policy.toml");
const GOLDEN_SCHEMA: &str = include_str!("../golden/schema.toml");

/// The cause of a [`ZkError::Format`] (fails the test on any other error or on success).
fn format_problem<T: std::fmt::Debug>(r: Result<T, ZkError>) -> FormatProblem {
    match r {
        Err(ZkError::Format { reason, .. }) => reason,
        other => panic!("expected a format error, got {other:?}"),
    }
}

fn fr() -> impl Strategy<Value = Fr> {
    prop_oneof![
        1 => Just(Fr::from(0u64)),
        1 => Just(-Fr::from(1u64)),
        8 => any::<[u8; 32]>().prop_map(|b| Fr::from_be_bytes_mod_order(&b)),
    ]
}

/// A commitment its decoder accepts.
fn commitment() -> impl Strategy<Value = Commitment> {
    (
        fr(),
        any::<[u8; 32]>(),
        1..=MAX_RECORDS,
        0..=MAX_CHUNK_SIZE.trailing_zeros(),
        any::<[u8; 32]>(),
    )
        .prop_map(|(root, schema_digest, records, log, owner)| Commitment {
            version: COMMITMENT_VERSION,
            root,
            schema_digest,
            records,
            chunk_size: 1 << log,
            owner,
        })
}

proptest! {
    #[test]
    fn field_elements_round_trip_through_hex(x in fr()) {
        let hex = fr_to_hex(&x);
        prop_assert_eq!(hex.len(), 66);
        prop_assert_eq!(fr_from_hex(&hex, "x").unwrap(), x);
        // Upper-case digits are the same value.
        let upper = format!("0x{}", hex[2..].to_uppercase());
        prop_assert_eq!(fr_from_hex(&upper, "x").unwrap(), x);
    }

    #[test]
    fn hex_at_or_above_the_modulus_is_refused(bytes in any::<[u8; 32]>()) {
        let text = format!("0x{}", hex::encode(bytes));
        let below = bytes.as_slice() < Fr::MODULUS.to_bytes_be().as_slice();
        match fr_from_hex(&text, "x") {
            Ok(x) => {
                prop_assert!(below);
                prop_assert_eq!(fr_to_hex(&x), text);
            }
            Err(e) => {
                prop_assert!(!below);
                let ok = matches!(
                    e,
                    ZkError::Format { reason: FormatProblem::FieldNotBelowModulus, .. }
                );
                prop_assert!(ok, "{:?}", e);
            }
        }
    }

    #[test]
    fn misshapen_field_hex_is_refused_with_its_cause(digits in "[0-9a-f]{0,70}") {
        let decoded = fr_from_hex(&format!("0x{digits}"), "x");
        if digits.len() == 64 {
            // 64 digits are refused only at or above the modulus.
            let ok = match &decoded {
                Ok(x) => fr_to_hex(x) == format!("0x{digits}"),
                Err(ZkError::Format { reason, .. }) => {
                    matches!(reason, FormatProblem::FieldNotBelowModulus)
                }
                Err(_) => false,
            };
            prop_assert!(ok, "{:?}", decoded);
        } else {
            let problem = format_problem(decoded);
            let ok =
                matches!(problem, FormatProblem::FieldLength { digits: d } if d == digits.len());
            prop_assert!(ok, "{:?}", problem);
        }
        prop_assert!(matches!(
            format_problem(fr_from_hex(&digits, "x")),
            FormatProblem::FieldPrefix
        ));
        // Not hex: the same length, one digit replaced.
        if !digits.is_empty() {
            let text = format!("0xg{}", &digits[1..]);
            let problem = format_problem(fr_from_hex(&text, "x"));
            let ok = if digits.len() == 64 {
                matches!(problem, FormatProblem::Hex(_))
            } else {
                matches!(problem, FormatProblem::FieldLength { .. })
            };
            prop_assert!(ok, "{:?}", problem);
        }
    }

    #[test]
    fn commitments_round_trip(c in commitment()) {
        let bytes = c.to_bytes();
        let again = Commitment::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&again, &c);
        prop_assert_eq!(again.to_bytes(), bytes);
    }

    #[test]
    fn invalid_commitments_are_refused_with_their_cause(
        c in commitment(),
        chunk_size in any::<u64>(),
        records in prop_oneof![Just(0u64), MAX_RECORDS + 1..],
    ) {
        let mut bad = c.clone();
        bad.chunk_size = chunk_size;
        let problem = Commitment::from_bytes(&bad.to_bytes());
        if chunk_size.is_power_of_two() && chunk_size <= MAX_CHUNK_SIZE {
            prop_assert_eq!(problem.unwrap(), bad);
        } else {
            let ok = matches!(
                format_problem(problem),
                FormatProblem::CommitmentChunkSize { chunk_size: s, .. } if s == chunk_size
            );
            prop_assert!(ok, "chunk size {}", chunk_size);
        }
        let mut bad = c;
        bad.records = records;
        let ok = matches!(
            format_problem(Commitment::from_bytes(&bad.to_bytes())),
            FormatProblem::CommitmentRecords { records: r, .. } if r == records
        );
        prop_assert!(ok, "records {}", records);
    }

    #[test]
    fn openings_round_trip(key in any::<[u8; 32]>()) {
        let o = Opening::from_key(key);
        let bytes = o.to_bytes();
        let again = Opening::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&*again.to_bytes(), &*bytes);
        prop_assert_eq!(again.salt(3), o.salt(3));
        prop_assert_eq!(again.blinding(1), o.blinding(1));
    }

    #[test]
    fn opening_keys_of_another_length_are_refused(len in 0usize..40) {
        let text = format!("{{\"version\": 1, \"key\": \"{}\"}}", "ab".repeat(len));
        let r = Opening::from_bytes(text.as_bytes());
        if len == 32 {
            prop_assert!(r.is_ok());
        } else {
            prop_assert!(matches!(format_problem(r), FormatProblem::OpeningKeyLength));
        }
    }
}

#[test]
fn golden_files_are_their_writers_output() {
    let c = Commitment::from_bytes(GOLDEN_COMMITMENT).unwrap();
    assert_eq!(c.to_bytes(), GOLDEN_COMMITMENT);
    let o = Opening::from_bytes(GOLDEN_OPENING).unwrap();
    assert_eq!(&*o.to_bytes(), GOLDEN_OPENING);
    assert_eq!(&*Opening::from_key([0x5a; 32]).to_bytes(), GOLDEN_OPENING);
    let b = ProofBundle::from_bytes(GOLDEN_BUNDLE).unwrap();
    assert_eq!(b.to_bytes(), GOLDEN_BUNDLE);
    let vk = VerifyingKeys::from_bytes(GOLDEN_KEYS).unwrap();
    assert_eq!(vk.to_bytes(), GOLDEN_KEYS);
    assert_eq!(
        VerifyingKeys::from_json(vk.to_json(), "vk").unwrap(),
        vk,
        "the JSON value round-trips too"
    );
}

#[test]
fn opening_keys_that_are_not_hex_are_refused() {
    for key in ["zz".repeat(32), "a".repeat(63)] {
        let text = format!("{{\"version\": 1, \"key\": \"{key}\"}}");
        assert!(matches!(
            format_problem(Opening::from_bytes(text.as_bytes())),
            FormatProblem::OpeningKeyHex
        ));
    }
    let text = String::from_utf8(GOLDEN_OPENING.to_vec()).unwrap();
    assert!(matches!(
        format_problem(Opening::from_bytes(
            text.replace("\"version\": 1", "\"version\": 2").as_bytes()
        )),
        FormatProblem::UnsupportedVersion { found: 2 }
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn bundles_round_trip_and_keep_their_statement(
        c in commitment(),
        inputs in prop::collection::vec(fr(), 0..6),
        index in any::<u64>(),
        proof in "[0-9a-f]{0,8}",
        drop_final in any::<bool>(),
    ) {
        let mut b = ProofBundle::from_bytes(GOLDEN_BUNDLE).unwrap();
        b.commitment = c;
        b.chunks[1].public_inputs = inputs;
        b.chunks[1].index = index;
        b.chunks[0].proof = proof;
        if drop_final {
            b.final_ = None;
            b.circuit.final_ = None;
        }
        let bytes = b.to_bytes();
        let again = ProofBundle::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&again, &b);
        prop_assert_eq!(again.to_bytes(), bytes);
        prop_assert_eq!(again.statement_digest(), b.statement_digest());
    }

    #[test]
    fn verifying_keys_round_trip(
        chunk_size in any::<u64>(),
        reveals in prop::collection::vec("\\PC{0,6}", 4),
        scales in prop::collection::vec(0u32..=18, 4),
        digests in any::<([u8; 32], [u8; 32])>(),
        counters in 1usize..1 << 30,
        chunk in "\\PC{0,8}",
    ) {
        let mut vk = VerifyingKeys::from_bytes(GOLDEN_KEYS).unwrap();
        vk.chunk_size = chunk_size;
        vk.reveals = reveals;
        vk.reveal_scales = scales;
        (vk.policy_digest, vk.schema_digest) = digests;
        vk.counters = counters;
        vk.digests.chunk = chunk;
        let bytes = vk.to_bytes();
        let again = VerifyingKeys::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&again, &vk);
        prop_assert_eq!(again.to_bytes(), bytes);
        prop_assert_eq!(again.digest(), vk.digest());
    }
}

#[test]
fn a_bundle_carrying_an_invalid_commitment_is_refused() {
    // Regression: the commitment inside a bundle was not validated, so a chunk size of 0 was
    // accepted and `ProofBundle::merge` then divided by it (a panic).
    let golden = ProofBundle::from_bytes(GOLDEN_BUNDLE).unwrap();
    let mut b = golden.clone();
    b.commitment.chunk_size = 0;
    assert!(matches!(
        format_problem(ProofBundle::from_bytes(&b.to_bytes())),
        FormatProblem::CommitmentChunkSize { chunk_size: 0, .. }
    ));
    assert!(matches!(
        format_problem(ProofBundle::merge(vec![b])),
        FormatProblem::CommitmentChunkSize { chunk_size: 0, .. }
    ));
    let mut b = golden.clone();
    b.commitment.records = 0;
    assert!(matches!(
        format_problem(ProofBundle::from_bytes(&b.to_bytes())),
        FormatProblem::CommitmentRecords { records: 0, .. }
    ));
    let mut b = golden;
    b.commitment.version = 7;
    assert!(matches!(
        format_problem(ProofBundle::from_bytes(&b.to_bytes())),
        FormatProblem::UnsupportedVersion { found: 7 }
    ));
}

#[test]
fn load_is_a_bounded_read_then_from_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    let big = vec![b' '; MAX_SMALL_FILE as usize + 1];
    let limit = MAX_SMALL_FILE;
    assert!(matches!(
        format_problem(Commitment::from_bytes(&big)),
        FormatProblem::TooLarge { limit: l } if l == limit
    ));
    std::fs::write(&path, &big).unwrap();
    assert!(matches!(
        format_problem(Commitment::load(&path)),
        FormatProblem::TooLarge { limit: l } if l == limit
    ));
    assert!(matches!(
        format_problem(Opening::load(&path)),
        FormatProblem::TooLarge { limit: l } if l == limit
    ));
    // Every loader refuses what its byte decoder refuses, for the same cause.
    let golden = ProofBundle::from_bytes(GOLDEN_BUNDLE).unwrap();
    let mut b = golden.clone();
    b.commitment.chunk_size = 3;
    let bad_vk = String::from_utf8(GOLDEN_KEYS.to_vec())
        .unwrap()
        .replace("\"counters\": 4", "\"counters\": 0");
    type Load = fn(&std::path::Path) -> FormatProblem;
    let cases: [(&[u8], Load, FormatProblem); 4] = [
        (
            b"{",
            |p| format_problem(Commitment::load(p)),
            format_problem(Commitment::from_bytes(b"{")),
        ),
        (
            &b.to_bytes(),
            |p| format_problem(ProofBundle::load(p)),
            format_problem(ProofBundle::from_bytes(&b.to_bytes())),
        ),
        (
            bad_vk.as_bytes(),
            |p| format_problem(VerifyingKeys::load(p)),
            format_problem(VerifyingKeys::from_bytes(bad_vk.as_bytes())),
        ),
        (
            b"TSZKPK01\xff\xff\x00\x00",
            |p| format_problem(ProvingKeys::load(p)),
            format_problem(ProvingKeys::from_bytes(b"TSZKPK01\xff\xff\x00\x00")),
        ),
    ];
    for (bytes, load, want) in cases {
        std::fs::write(&path, bytes).unwrap();
        let got = load(&path);
        assert_eq!(
            std::mem::discriminant(&got),
            std::mem::discriminant(&want),
            "{got:?} / {want:?}"
        );
    }
    assert!(matches!(
        format_problem(ProvingKeys::from_bytes(b"TSZKPK01\xff\xff\x00\x00")),
        FormatProblem::HeaderTooLarge { len: 0xffff, .. }
    ));
}

/// A point of BN254's G2 twist that is on the curve but outside the prime-order subgroup.
fn g2_outside_the_subgroup() -> G2Affine {
    (1u64..)
        .find_map(|i| {
            let x = Fq2::new(Fq::from(i), Fq::from(1u64));
            G2Affine::get_point_from_x_unchecked(x, true)
                .filter(|p| !p.is_in_correct_subgroup_assuming_on_curve())
        })
        .unwrap()
}

/// A G1 point that is not on the curve (`y^2 != x^3 + 3`).
fn g1_off_the_curve() -> G1Affine {
    let p = G1Affine::new_unchecked(Fq::from(1u64), Fq::from(1u64));
    assert!(!p.is_on_curve());
    p
}

fn compressed(x: &impl CanonicalSerialize) -> String {
    let mut b = Vec::new();
    x.serialize_compressed(&mut b).unwrap();
    hex::encode(b)
}

#[test]
fn verifying_keys_off_the_curve_or_the_subgroup_are_refused() {
    let golden = VerifyingKeys::from_bytes(GOLDEN_KEYS).unwrap();
    let with_chunk_key = |hex: String| {
        let mut v = golden.to_json();
        v["chunk"] = serde_json::Value::String(hex);
        VerifyingKeys::from_json(v, "vk")
    };
    let mut key = golden.chunk.clone();
    key.beta_g2 = g2_outside_the_subgroup();
    assert!(matches!(
        format_problem(with_chunk_key(compressed(&key))),
        FormatProblem::Points(_)
    ));
    // An x coordinate with no point above it.
    let mut bytes = hex::decode(compressed(&golden.chunk)).unwrap();
    let x = (2u64..)
        .find(|&x| (Fq::from(x).pow([3]) + Fq::from(3u64)).sqrt().is_none())
        .unwrap();
    let mut fq = Vec::new();
    Fq::from(x).serialize_compressed(&mut fq).unwrap();
    bytes[..32].copy_from_slice(&fq);
    assert!(matches!(
        format_problem(with_chunk_key(hex::encode(bytes))),
        FormatProblem::Points(_)
    ));
    // Bytes after the key (a regression: they were ignored, so two texts were one key).
    assert!(matches!(
        format_problem(with_chunk_key(compressed(&golden.chunk) + "00")),
        FormatProblem::TrailingBytes
    ));
    // A key for another number of public inputs.
    assert!(matches!(
        format_problem(with_chunk_key(compressed(golden.final_.as_ref().unwrap()))),
        FormatProblem::KeyInputs { key: 7, circuit: 6 }
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_bytes_as_a_proof_are_decoded_or_refused_with_a_cause(bytes in any::<[u8; 32]>(), at in 0usize..4) {
        let golden = ProofBundle::from_bytes(GOLDEN_BUNDLE).unwrap();
        let mut proof = hex::decode(&golden.chunks[0].proof).unwrap();
        proof[at * 32..][..32].copy_from_slice(&bytes);
        match proof_from_hex(&hex::encode(&proof), "proof") {
            Ok(p) => prop_assert_eq!(proof_from_hex(&proof_to_hex(&p), "proof").unwrap(), p),
            Err(e) => {
                let ok = matches!(
                    e,
                    ZkError::Format { reason: FormatProblem::ProofEncoding(_), .. }
                );
                prop_assert!(ok, "{:?}", e);
            }
        }
    }
}

#[test]
fn proofs_off_the_subgroup_are_refused() {
    let golden = ProofBundle::from_bytes(GOLDEN_BUNDLE).unwrap();
    let mut p: Proof<Bn254> = proof_from_hex(&golden.chunks[0].proof, "proof").unwrap();
    assert_eq!(proof_to_hex(&p), golden.chunks[0].proof);
    p.b = g2_outside_the_subgroup();
    assert!(matches!(
        format_problem(proof_from_hex(&proof_to_hex(&p), "proof")),
        FormatProblem::ProofEncoding(_)
    ));
}

/// `x * x = y` with `y` public: the smallest circuit, for small proving keys.
struct Square;

impl ConstraintSynthesizer<Fr> for Square {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let y = cs.new_input_variable(|| Ok(Fr::from(9u64)))?;
        let x = cs.new_witness_variable(|| Ok(Fr::from(3u64)))?;
        cs.enforce_r1cs_constraint(|| x.into(), || x.into(), || y.into())
    }
}

/// Proving keys of [`Square`] (a couple of KiB), made once.
static SMALL_KEYS: LazyLock<ProvingKeys> = LazyLock::new(|| {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let (chunk, _) = Groth16::<Bn254>::circuit_specific_setup(Square, &mut rng).unwrap();
    let (fin, _) = Groth16::<Bn254>::circuit_specific_setup(Square, &mut rng).unwrap();
    ProvingKeys {
        digests: CircuitDigests {
            chunk: "c".repeat(64),
            final_: Some("f".repeat(64)),
        },
        chunk,
        final_: Some(fin),
    }
});

#[test]
fn proving_keys_round_trip_and_refuse_points_off_the_curve() {
    let pk = &*SMALL_KEYS;
    let bytes = pk.to_bytes();
    assert!(bytes.len() < 8 << 10, "{} bytes", bytes.len());
    let again = ProvingKeys::from_bytes(&bytes).unwrap();
    assert_eq!(&again, pk);
    assert_eq!(again.to_bytes(), bytes);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pk.bin");
    pk.save(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(&ProvingKeys::load(&path).unwrap(), pk);
    // A point off the curve anywhere, the embedded verifying key outside the subgroup.
    let edits: [fn(&mut ProvingKey<Bn254>); 4] = [
        |k| k.a_query[0] = g1_off_the_curve(),
        |k| k.l_query[0] = g1_off_the_curve(),
        |k| k.b_g2_query[0] = G2Affine::new_unchecked(Fq2::ONE, Fq2::ONE),
        |k| k.vk.gamma_g2 = g2_outside_the_subgroup(),
    ];
    for edit in edits {
        let mut bad = pk.clone();
        edit(bad.final_.as_mut().unwrap());
        assert!(matches!(
            format_problem(ProvingKeys::from_bytes(&bad.to_bytes())),
            FormatProblem::Points(_)
        ));
    }
    // Trailing bytes, a bad magic, a header cut short.
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        format_problem(ProvingKeys::from_bytes(&trailing)),
        FormatProblem::TrailingBytes
    ));
    assert!(matches!(
        format_problem(ProvingKeys::from_bytes(&bytes[..7])),
        FormatProblem::TooShort
    ));
    let mut magic = bytes.clone();
    magic[0] ^= 1;
    assert!(matches!(
        format_problem(ProvingKeys::from_bytes(&magic)),
        FormatProblem::BadMagic
    ));
    assert!(matches!(
        format_problem(ProvingKeys::from_bytes(&bytes[..20])),
        FormatProblem::TruncatedHeader
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn truncated_proving_keys_are_refused(cut in 0usize..1 << 16) {
        let bytes = SMALL_KEYS.to_bytes();
        let cut = cut % bytes.len();
        let problem = format_problem(ProvingKeys::from_bytes(&bytes[..cut]));
        prop_assert!(matches!(
            problem,
            FormatProblem::TooShort
                | FormatProblem::TruncatedHeader
                | FormatProblem::Json(_)
                | FormatProblem::Points(_)
        ), "{problem:?}");
    }
}

fn golden_schema() -> Schema {
    Schema::from_toml(GOLDEN_SCHEMA, "schema").unwrap()
}

#[test]
fn the_golden_policy_round_trips_through_its_toml_writer() {
    let schema = golden_schema();
    let file = PolicyFile::from_toml(GOLDEN_POLICY, "p").unwrap();
    let text = file.to_toml();
    assert_eq!(PolicyFile::from_toml(&text, "again").unwrap(), file);
    assert_eq!(
        Policy::from_toml(&text, "again", None, &schema).unwrap(),
        Policy::from_toml(GOLDEN_POLICY, "p", None, &schema).unwrap()
    );
    assert_eq!(
        Policy::compile(&file, "p", None, &schema).unwrap(),
        Policy::from_toml(GOLDEN_POLICY, "p", None, &schema).unwrap()
    );
    let huge = " ".repeat(MAX_POLICY_BYTES as usize + 1);
    match Policy::from_toml(&huge, "huge", None, &schema) {
        Err(ZkError::Policy { reason, .. }) => {
            assert!(matches!(*reason, PolicyError::TooLarge { limit } if limit == MAX_POLICY_BYTES))
        }
        other => panic!("{other:?}"),
    }
}

/// A bound as written: an integer or a string from a pool of values the golden schema's
/// columns take (and a few they do not).
fn bound() -> impl Strategy<Value = Bound> {
    prop_oneof![
        any::<i64>().prop_map(Bound::Int),
        (0i64..130).prop_map(Bound::Int),
        prop::sample::select(vec![
            "a",
            "b",
            "c",
            "true",
            "false",
            "2024-01-05",
            "12.50",
            "-1",
            "x\ny\"",
            "",
        ])
        .prop_map(|s| Bound::Text(s.to_string())),
    ]
}

fn predicate() -> impl Strategy<Value = PredicateSpec> {
    let columns = prop::sample::select(vec![
        "id", "age", "amount", "flag", "kind", "opened", "closed", "nope",
    ]);
    (
        columns.clone(),
        0usize..5,
        bound(),
        bound(),
        prop::collection::vec(bound(), 0..5),
        columns,
    )
        .prop_map(|(column, op, a, b, set, other)| {
            let mut p = PredicateSpec {
                column: column.to_string(),
                ..PredicateSpec::default()
            };
            match op {
                0 => p.le = Some(a),
                1 => p.between = Some([a, b]),
                2 => p.in_set = Some(set),
                3 => p.not_in = Some(set),
                _ => p.ge_column = Some(other.to_string()),
            }
            p
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn policy_specs_round_trip_through_toml_and_compile_alike(
        name in "\\PC{0,12}",
        rules in prop::collection::vec(
            (prop::option::of("\\PC{0,6}"), prop::option::of(predicate()), predicate()),
            0..4,
        ),
    ) {
        let file = PolicyFile {
            name,
            record: rules
                .into_iter()
                .map(|(name, when, require)| RuleSpec { name, when, require })
                .collect(),
            aggregate: Vec::new(),
        };
        let text = file.to_toml();
        prop_assert_eq!(&PolicyFile::from_toml(&text, "p").unwrap(), &file);
        let schema = golden_schema();
        let direct = Policy::compile(&file, "p", None, &schema);
        let read = Policy::from_toml(&text, "p", None, &schema);
        match (direct, read) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(_), Err(_)) => {}
            (a, b) => prop_assert!(false, "{a:?} / {b:?}"),
        }
    }
}
