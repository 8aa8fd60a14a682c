//! End-to-end tests of the threshold ristretto backend: DKG, encryption with range proofs,
//! aggregation, verifiable threshold decryption, and the exchange format.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use trustspace_data::{ColumnSpec, Record, Schema, TypeName};
use trustspace_he::HeError;
use trustspace_he::ristretto::dkg::{self, DkgParticipant, SecretShare};
use trustspace_he::ristretto::range::format_units;
use trustspace_he::ristretto::{
    Aggregator, Authority, DlogTable, EncryptedColumn, EncryptedTotal, KeySet, PartialDecryption,
    SumSpec, ValueRange, aggregate, decrypt_total, encrypt_column, encrypt_encodings,
    encrypt_value,
};

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn schema() -> Schema {
    Schema::new(
        "visits",
        vec![
            ColumnSpec::uint("id", 32),
            ColumnSpec::uint("age", 8).with_max("120"),
            ColumnSpec::decimal("balance", 2, 32)
                .signed()
                .with_min("-500.00")
                .with_max("999.99"),
            ColumnSpec::int("delta", 16)
                .with_min("-300")
                .with_max("300"),
            ColumnSpec::new("consent", TypeName::Bool),
            ColumnSpec::new("seen", TypeName::Date),
        ],
    )
    .expect("schema")
}

/// Records from text values, so that encodings come from the data crate's own parser.
fn records(schema: &Schema, rows: &[[&str; 6]]) -> Vec<Record> {
    rows.iter()
        .map(|row| {
            row.iter()
                .zip(schema.columns())
                .map(|(text, col)| col.parse(text).expect("valid field"))
                .collect()
        })
        .collect()
}

fn partials(
    authorities: &[Authority],
    who: &[usize],
    total: &EncryptedTotal,
    r: &mut ChaCha20Rng,
) -> Vec<PartialDecryption> {
    who.iter()
        .map(|&i| authorities[i].partial_decrypt(total, r).expect("partial"))
        .collect()
}

fn decrypt_with(
    key: &KeySet,
    authorities: &[Authority],
    who: &[usize],
    total: &EncryptedTotal,
    r: &mut ChaCha20Rng,
) -> i128 {
    let table = DlogTable::new(u64::try_from(total.bound()).unwrap()).expect("table");
    let ps = partials(authorities, who, total, r);
    decrypt_total(key, total, &ps, &table)
        .expect("decrypts")
        .units
}

#[test]
fn random_sums_match_plaintext_for_every_t_subset() {
    let mut r = rng(1);
    let (key, auths) = dkg::run_local(5, 3, &mut r).unwrap();
    let spec = SumSpec::new("random", ValueRange::unsigned(1_000_000).unwrap()).unwrap();
    let holders: Vec<Vec<u64>> = (0..3)
        .map(|_| (0..7).map(|_| r.gen_range(0..=1_000_000)).collect())
        .collect();
    let expected: u64 = holders.iter().flatten().sum();
    let cols: Vec<EncryptedColumn> = holders
        .iter()
        .map(|v| encrypt_encodings(&key, &spec, v, &mut r).unwrap())
        .collect();
    let total = aggregate(&key, &spec, &cols).unwrap();
    assert_eq!(total.count(), 21);
    for who in [[0, 1, 2], [2, 3, 4], [0, 2, 4], [4, 1, 3]] {
        assert_eq!(
            decrypt_with(&key, &auths, &who, &total, &mut r),
            i128::from(expected),
            "subset {who:?}"
        );
    }
}

#[test]
fn zeros_maxima_and_the_declared_bound() {
    let mut r = rng(2);
    let (key, auths) = dkg::run_local(3, 2, &mut r).unwrap();
    let spec = SumSpec::new("edges", ValueRange::unsigned(255).unwrap()).unwrap();
    for (values, expected) in [
        (vec![0u64; 5], 0i128),
        (vec![255u64; 5], 5 * 255),
        (vec![0, 255, 1, 254], 510),
    ] {
        let col = encrypt_encodings(&key, &spec, &values, &mut r).unwrap();
        let total = aggregate(&key, &spec, &[col]).unwrap();
        // The table is exactly the declared bound count × max: all-max sums land on its edge.
        assert_eq!(total.bound(), values.len() as u128 * 255);
        assert_eq!(
            decrypt_with(&key, &auths, &[0, 2], &total, &mut r),
            expected
        );
    }
}

#[test]
fn schema_columns_sum_exactly_in_their_units() {
    let mut r = rng(3);
    let (key, auths) = dkg::run_local(3, 2, &mut r).unwrap();
    let s = schema();
    let rows = [
        ["1", "34", "-500.00", "-300", "true", "2024-01-01"],
        ["2", "0", "999.99", "300", "false", "2024-01-02"],
        ["3", "120", "0.01", "-7", "true", "2024-01-03"],
        ["4", "61", "-12.34", "0", "true", "2024-01-04"],
    ];
    let recs = records(&s, &rows);
    let cases = [
        ("age", 34 + 120 + 61, 0u32, "215"),
        ("balance", -50_000 + 99_999 + 1 - 1_234, 2, "487.66"),
        ("delta", -300 + 300 - 7, 0, "-7"),
        ("consent", 3, 0, "3"),
    ];
    for (column, expected, scale, text) in cases {
        let spec = SumSpec::for_column(&s, column, "visits/2024").unwrap();
        // Two holders with two records each.
        let a = encrypt_column(&s, &recs[..2], column, &key, &spec, &mut r).unwrap();
        let b = encrypt_column(&s, &recs[2..], column, &key, &spec, &mut r).unwrap();
        let total = aggregate(&key, &spec, &[a, b]).unwrap();
        let table = DlogTable::new(u64::try_from(total.bound()).unwrap()).unwrap();
        let ps = partials(&auths, &[1, 2], &total, &mut r);
        let got = decrypt_total(&key, &total, &ps, &table).unwrap();
        assert_eq!(got.units, expected, "column {column}");
        assert_eq!(got.scale, scale);
        assert_eq!(got.to_decimal_string(), text);
        assert_eq!(got.count, 4);
    }
    // A date has no meaningful sum; an unknown column is named.
    assert!(matches!(
        SumSpec::for_column(&s, "seen", "x"),
        Err(HeError::UnsupportedColumn { .. })
    ));
    assert!(matches!(
        SumSpec::for_column(&s, "nope", "x"),
        Err(HeError::UnknownColumn { .. })
    ));
    // A 32-bit id without a declared max fits a range proof (< 2^48).
    assert!(SumSpec::for_column(&s, "id", "x").is_ok());
    // A spec for one column does not encrypt another.
    let spec = SumSpec::for_column(&s, "age", "x").unwrap();
    assert!(matches!(
        encrypt_column(&s, &recs, "delta", &key, &spec, &mut r),
        Err(HeError::SpecMismatch { .. })
    ));
}

#[test]
fn out_of_range_values_are_refused_without_revealing_them() {
    let mut r = rng(4);
    let (key, _) = dkg::run_local(2, 2, &mut r).unwrap();
    let spec = SumSpec::new("r", ValueRange::unsigned(100).unwrap()).unwrap();
    let err = encrypt_encodings(&key, &spec, &[5, 101], &mut r).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, HeError::ValueOutOfRange { .. }), "{msg}");
    assert!(msg.contains("value 1") && !msg.contains("101"), "{msg}");
    assert!(encrypt_value(&key, &spec, 100, &mut r).is_ok());
}

#[test]
fn aggregator_rejects_inputs_whose_range_proofs_fail() {
    let mut r = rng(5);
    let (key, auths) = dkg::run_local(3, 2, &mut r).unwrap();
    let narrow = SumSpec::new("poll", ValueRange::unsigned(10).unwrap()).unwrap();
    let honest = encrypt_encodings(&key, &narrow, &[3, 4], &mut r).unwrap();

    // 1. A holder encrypts 1000 with a proof for a wider range, and relabels the column as made
    //    for the narrow sum: the proof is bound to the spec and range, so it fails.
    let wide = SumSpec::new("poll", ValueRange::unsigned(1_000_000).unwrap()).unwrap();
    let cheat = encrypt_encodings(&key, &wide, &[1000], &mut r).unwrap();
    let json = cheat
        .to_json()
        .unwrap()
        .replace(&hex::encode(wide.id()), &hex::encode(narrow.id()));
    let cheat = EncryptedColumn::from_json(json.as_bytes()).unwrap();
    let err = aggregate(&key, &narrow, &[honest.clone(), cheat]).unwrap_err();
    assert!(
        matches!(&err, HeError::InvalidRangeProof { input, .. } if input.contains("holder 1")),
        "{err}"
    );

    // 2. A holder takes a valid (value, proof) and adds an encryption of 1000 to the ciphertext.
    let big = encrypt_value(&key, &wide, 1000, &mut r).unwrap();
    let mut tampered = honest.clone();
    let v = &tampered.values()[1];
    let sum = add_ciphertexts(&v.ciphertext_bytes(), &big.ciphertext_bytes());
    tampered.values_mut()[1] = v.with_ciphertext(&sum).unwrap();
    let agg = Aggregator::new(&key, &narrow);
    let err = agg.verify(&tampered).unwrap_err();
    assert!(
        matches!(&err, HeError::InvalidRangeProof { input, .. } if input.contains("value 1")),
        "{err}"
    );

    // 3. The aggregator skips the refused holder and the total is the honest one's.
    let mut agg = Aggregator::new(&key, &narrow);
    assert!(agg.add_column(&tampered).is_err());
    agg.add_column(&honest).unwrap();
    let total = agg.total();
    assert_eq!(total.count(), 2);
    assert_eq!(decrypt_with(&key, &auths, &[0, 1], &total, &mut r), 7);

    // 4. A column made for another label is refused up front.
    let other = SumSpec::new("other", ValueRange::unsigned(10).unwrap()).unwrap();
    let col = encrypt_encodings(&key, &other, &[1], &mut r).unwrap();
    assert!(matches!(
        aggregate(&key, &narrow, &[col]),
        Err(HeError::SpecMismatch { .. })
    ));
}

fn add_ciphertexts(a: &[u8; 64], b: &[u8; 64]) -> [u8; 64] {
    use curve25519_dalek::ristretto::CompressedRistretto;
    let p = |bytes: &[u8]| {
        CompressedRistretto::from_slice(bytes)
            .unwrap()
            .decompress()
            .unwrap()
    };
    let mut out = [0u8; 64];
    out[..32].copy_from_slice((p(&a[..32]) + p(&b[..32])).compress().as_bytes());
    out[32..].copy_from_slice((p(&a[32..]) + p(&b[32..])).compress().as_bytes());
    out
}

#[test]
fn fewer_than_t_partials_do_not_decrypt() {
    let mut r = rng(6);
    let (key, auths) = dkg::run_local(5, 3, &mut r).unwrap();
    let spec = SumSpec::new("t", ValueRange::unsigned(100).unwrap()).unwrap();
    let col = encrypt_encodings(&key, &spec, &[42, 58], &mut r).unwrap();
    let total = aggregate(&key, &spec, &[col]).unwrap();
    let table = DlogTable::new(200).unwrap();
    for who in [&[][..], &[0], &[3, 4]] {
        let ps = partials(&auths, who, &total, &mut r);
        match decrypt_total(&key, &total, &ps, &table) {
            Err(HeError::NotEnoughPartials { valid, needed, .. }) => {
                assert_eq!((valid, needed), (who.len(), 3));
            }
            other => panic!("expected NotEnoughPartials, got {other:?}"),
        }
    }
    // The same partial twice does not count twice.
    let p = partials(&auths, &[1, 1, 2], &total, &mut r);
    assert!(matches!(
        decrypt_total(&key, &total, &p, &table),
        Err(HeError::NotEnoughPartials { valid: 2, .. })
    ));
    assert_eq!(decrypt_with(&key, &auths, &[1, 2, 4], &total, &mut r), 100);
}

#[test]
fn a_wrong_partial_is_caught_by_its_proof_and_excluded() {
    let mut r = rng(7);
    let (key, auths) = dkg::run_local(4, 2, &mut r).unwrap();
    let spec = SumSpec::new("w", ValueRange::unsigned(1000).unwrap()).unwrap();
    let col = encrypt_encodings(&key, &spec, &[400, 500], &mut r).unwrap();
    let total = aggregate(&key, &spec, &[col]).unwrap();
    let table = DlogTable::new(2000).unwrap();
    let honest = partials(&auths, &[0, 1, 2, 3], &total, &mut r);

    // Authority 1 sends authority 0's point with its own proof; authority 2 claims to be 3.
    let bad1 = honest[1].tampered(1, honest[0].share_bytes());
    let bad2 = honest[2].tampered(3, honest[2].share_bytes());
    let got = decrypt_total(
        &key,
        &total,
        &[bad1.clone(), bad2, honest[3].clone(), honest[0].clone()],
        &table,
    )
    .unwrap();
    assert_eq!(got.units, 900);
    assert_eq!(got.used, vec![3, 0]);
    let excluded: Vec<u32> = got.excluded.iter().map(|e| e.authority).collect();
    assert_eq!(excluded, vec![1, 3]);
    assert!(got.excluded.iter().all(|e| e.reason.contains("DLEQ")));

    // With only one honest partial besides the bad one there are not t = 2 valid partials.
    match decrypt_total(&key, &total, &[bad1, honest[3].clone()], &table) {
        Err(HeError::NotEnoughPartials {
            valid: 1,
            needed: 2,
            excluded,
        }) => assert_eq!(excluded[0].authority, 1),
        other => panic!("expected NotEnoughPartials, got {other:?}"),
    }

    // A partial for another total is excluded too.
    let col2 = encrypt_encodings(&key, &spec, &[1], &mut r).unwrap();
    let total2 = aggregate(&key, &spec, &[col2]).unwrap();
    let other = auths[2].partial_decrypt(&total2, &mut r).unwrap();
    let got = decrypt_total(
        &key,
        &total,
        &[other, honest[0].clone(), honest[1].clone()],
        &table,
    )
    .unwrap();
    assert_eq!(got.units, 900);
    assert!(got.excluded[0].reason.contains("another total"));
}

#[test]
fn material_under_another_key_set_is_refused() {
    let mut r = rng(8);
    let (key_a, auths_a) = dkg::run_local(3, 2, &mut r).unwrap();
    let (key_b, auths_b) = dkg::run_local(3, 2, &mut r).unwrap();
    assert_ne!(key_a.id(), key_b.id());
    let spec = SumSpec::new("k", ValueRange::unsigned(50).unwrap()).unwrap();
    let col_a = encrypt_encodings(&key_a, &spec, &[7], &mut r).unwrap();

    // Aggregating A's ciphertexts under B: refused by the key id ...
    assert!(matches!(
        aggregate(&key_b, &spec, std::slice::from_ref(&col_a)),
        Err(HeError::KeyMismatch { .. })
    ));
    // ... and, with a forged header, by the range proof (bound to the key).
    let forged = col_a
        .to_json()
        .unwrap()
        .replace(&key_a.id().to_string(), &key_b.id().to_string());
    let forged = EncryptedColumn::from_json(forged.as_bytes()).unwrap();
    assert!(matches!(
        aggregate(&key_b, &spec, &[forged]),
        Err(HeError::InvalidRangeProof { .. })
    ));

    // B's authorities refuse to decrypt A's total; A's partials do not decrypt under B.
    let total_a = aggregate(&key_a, &spec, &[col_a]).unwrap();
    assert!(matches!(
        auths_b[0].partial_decrypt(&total_a, &mut r),
        Err(HeError::KeyMismatch { .. })
    ));
    let table = DlogTable::new(100).unwrap();
    let ps = partials(&auths_a, &[0, 1], &total_a, &mut r);
    assert!(matches!(
        decrypt_total(&key_b, &total_a, &ps, &table),
        Err(HeError::KeyMismatch { .. })
    ));
    assert_eq!(
        decrypt_total(&key_a, &total_a, &ps, &table).unwrap().units,
        7
    );
}

#[test]
fn totals_beyond_the_table_or_the_crate_limit_are_refused() {
    let mut r = rng(9);
    let (key, auths) = dkg::run_local(2, 1, &mut r).unwrap();
    let spec = SumSpec::new("b", ValueRange::unsigned(1000).unwrap()).unwrap();
    let col = encrypt_encodings(&key, &spec, &[1, 2, 3], &mut r).unwrap();
    let total = aggregate(&key, &spec, &[col]).unwrap();
    let ps = partials(&auths, &[0], &total, &mut r);
    // count × span = 3000: a table up to 2999 could miss the total, so it is refused.
    let small = DlogTable::new(2999).unwrap();
    assert!(matches!(
        decrypt_total(&key, &total, &ps, &small),
        Err(HeError::TotalBound { .. })
    ));
    assert_eq!(
        decrypt_total(&key, &total, &ps, &DlogTable::new(3000).unwrap())
            .unwrap()
            .units,
        6
    );

    // 2^46-wide inputs: the fifth would let the bound pass 2^48 - 1.
    let wide = SumSpec::new("w", ValueRange::unsigned(1 << 46).unwrap()).unwrap();
    assert_eq!(wide.max_count(), 3);
    let col = encrypt_encodings(&key, &wide, &[1, 2, 3, 4], &mut r).unwrap();
    assert!(matches!(
        aggregate(&key, &wide, &[col]),
        Err(HeError::TotalBound { .. })
    ));
    assert!(matches!(
        ValueRange::unsigned(1 << 48),
        Err(HeError::UnusableRange { .. })
    ));
    assert!(matches!(
        ValueRange::unsigned(0),
        Err(HeError::UnusableRange { .. })
    ));
    assert!(DlogTable::new(1 << 48).is_err());
}

#[test]
fn dlog_table_finds_every_total_in_range_and_nothing_outside() {
    use curve25519_dalek::ristretto::RistrettoPoint;
    use curve25519_dalek::scalar::Scalar;
    let max = (1u64 << 24) + 12_345;
    let table = DlogTable::with_baby_bits(max, 10).unwrap();
    let mut r = rng(10);
    let mut probes = vec![0, 1, 1023, 1024, 1025, 1 << 20, max - 1, max];
    probes.extend((0..16).map(|_| r.gen_range(0..=max)));
    for s in probes {
        let p = RistrettoPoint::mul_base(&Scalar::from(s));
        assert_eq!(table.find(&p), Some(s), "total {s}");
    }
    for s in [max + 1, max + 1024, u64::MAX] {
        let p = RistrettoPoint::mul_base(&Scalar::from(s));
        assert_eq!(table.find(&p), None, "total {s}");
    }
    let p = RistrettoPoint::mul_base(&-Scalar::from(1u64));
    assert_eq!(table.find(&p), None);
}

/// Non-canonical encodings of ristretto255 points: s = p (the field modulus, an unreduced 0),
/// s = 1 ("negative": odd), and a value with the top bit set.
fn non_canonical_points() -> Vec<[u8; 32]> {
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    let mut one = [0u8; 32];
    one[0] = 1;
    let mut top = [0u8; 32];
    top[31] = 0x80;
    vec![p, one, top]
}

#[test]
fn non_canonical_point_encodings_are_rejected() {
    let mut r = rng(11);
    let (key, auths) = dkg::run_local(3, 2, &mut r).unwrap();
    let spec = SumSpec::new("nc", ValueRange::unsigned(9).unwrap()).unwrap();
    let col = encrypt_encodings(&key, &spec, &[1], &mut r).unwrap();
    let total = aggregate(&key, &spec, std::slice::from_ref(&col)).unwrap();
    let partial = auths[0].partial_decrypt(&total, &mut r).unwrap();

    let key_json = key.to_json();
    let col_json = col.to_json().unwrap();
    let total_json = total.to_json();
    let partial_json = partial.to_json();
    let share0 = hex::encode(key.share_key(0).unwrap());
    let ct = hex::encode(col.values()[0].ciphertext_bytes());
    let share = hex::encode(partial.share_bytes());
    let tot = hex::encode(total.ciphertext_bytes());

    for bad in non_canonical_points() {
        let bad = hex::encode(bad);
        let err = KeySet::from_json(key_json.replace(&share0, &bad).as_bytes()).unwrap_err();
        assert!(matches!(err, HeError::MalformedPoint { .. }), "{err}");
        let bad_ct = format!("{}{}", &ct[..64], bad);
        let err =
            EncryptedColumn::from_json(col_json.replace(&ct, &bad_ct).as_bytes()).unwrap_err();
        assert!(matches!(err, HeError::MalformedPoint { .. }), "{err}");
        let bad_ct = format!("{}{}", bad, &ct[64..]);
        let err =
            EncryptedColumn::from_json(col_json.replace(&ct, &bad_ct).as_bytes()).unwrap_err();
        assert!(matches!(err, HeError::MalformedPoint { .. }), "{err}");
        let err = PartialDecryption::from_json(partial_json.replace(&share, &bad).as_bytes())
            .unwrap_err();
        assert!(matches!(err, HeError::MalformedPoint { .. }), "{err}");
        let bad_tot = format!("{}{}", &tot[..64], bad);
        let err =
            EncryptedTotal::from_json(total_json.replace(&tot, &bad_tot).as_bytes()).unwrap_err();
        assert!(matches!(err, HeError::MalformedPoint { .. }), "{err}");
    }
    // DKG reveals: a polynomial coefficient must be a canonical point too.
    let mut p = DkgParticipant::new(3, 2, 0, &mut r).unwrap();
    let reveal_json = p.reveal().unwrap().to_json();
    let v: serde_json::Value = serde_json::from_str(&reveal_json).unwrap();
    let coeff = v["polynomial"][1].as_str().unwrap().to_string();
    assert!(dkg::Reveal::from_json(reveal_json.as_bytes()).is_ok());
    for bad in non_canonical_points() {
        let err = dkg::Reveal::from_json(reveal_json.replace(&coeff, &hex::encode(bad)).as_bytes())
            .unwrap_err();
        assert!(matches!(err, HeError::MalformedPoint { .. }), "{err}");
    }

    // The identity is a canonical point, but not a public key nor a ciphertext's randomness.
    let zero = hex::encode([0u8; 32]);
    assert!(matches!(
        KeySet::from_json(key_json.replace(&share0, &zero).as_bytes()),
        Err(HeError::IdentityPoint { .. })
    ));
    let bad_ct = format!("{}{}", zero, &ct[64..]);
    assert!(matches!(
        EncryptedColumn::from_json(col_json.replace(&ct, &bad_ct).as_bytes()),
        Err(HeError::IdentityPoint { .. })
    ));
    // A proof scalar that is not reduced (all 0xff) is refused.
    let proof_hex = partial_json
        .split("\"proof\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let bad_proof = "ff".repeat(64);
    assert!(matches!(
        PartialDecryption::from_json(partial_json.replace(&proof_hex, &bad_proof).as_bytes()),
        Err(HeError::MalformedScalar { .. })
    ));
}

#[test]
fn documents_round_trip_and_malformed_ones_are_refused() {
    let mut r = rng(12);
    let (key, auths) = dkg::run_local(3, 2, &mut r).unwrap();
    let spec = SumSpec::new("wire", ValueRange::unsigned(500).unwrap()).unwrap();
    let col = encrypt_encodings(&key, &spec, &[100, 200, 300], &mut r).unwrap();

    // Every party works from decoded documents only.
    let key2 = KeySet::from_json(key.to_json().as_bytes()).unwrap();
    assert_eq!(key2, key);
    let col2 = EncryptedColumn::from_json(col.to_json().unwrap().as_bytes()).unwrap();
    let total = aggregate(&key2, &spec, &[col2]).unwrap();
    let total2 = EncryptedTotal::from_json(total.to_json().as_bytes()).unwrap();
    assert_eq!(total2, total);
    let a0 = Authority::from_secret_json(auths[0].to_secret_json().as_bytes()).unwrap();
    let a2 = Authority::from_secret_json(auths[2].to_secret_json().as_bytes()).unwrap();
    let ps: Vec<PartialDecryption> = [&a0, &a2]
        .iter()
        .map(|a| {
            let p = a.partial_decrypt(&total2, &mut r).unwrap();
            PartialDecryption::from_json(p.to_json().as_bytes()).unwrap()
        })
        .collect();
    let table = DlogTable::new(1500).unwrap();
    assert_eq!(
        decrypt_total(&key2, &total2, &ps, &table).unwrap().units,
        600
    );

    // Wrong version, wrong kind, unknown field, oversized, garbage.
    let kj = key.to_json();
    for (doc, want) in [
        (
            kj.replace("\"version\":1", "\"version\":2"),
            "unsupported version",
        ),
        (
            kj.replace("he-ristretto-key-set", "he-ristretto-total"),
            "kind",
        ),
        (kj.replacen('{', "{\"extra\":1,", 1), "unknown field"),
        ("not json".to_string(), "expected"),
    ] {
        let err = KeySet::from_json(doc.as_bytes()).unwrap_err();
        assert!(err.to_string().contains(want), "{err}");
    }
    let huge = vec![b' '; (1 << 20) + 1];
    assert!(matches!(
        KeySet::from_json(&huge),
        Err(HeError::TooLarge { .. })
    ));
    let huge = vec![b' '; (64 << 10) + 1];
    assert!(matches!(
        PartialDecryption::from_json(&huge),
        Err(HeError::TooLarge { .. })
    ));
    // A key set whose share keys are not one sharing (two swapped) is refused.
    let s0 = hex::encode(key.share_key(0).unwrap());
    let s1 = hex::encode(key.share_key(1).unwrap());
    let swapped = kj.replace(&s0, "X").replace(&s1, &s0).replace('X', &s1);
    assert!(matches!(
        KeySet::from_json(swapped.as_bytes()),
        Err(HeError::Format { .. })
    ));
    // An authority document whose share does not match its public key is refused.
    let doc = auths[1].to_secret_json();
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let other = auths[0].to_secret_json();
    let w: serde_json::Value = serde_json::from_str(&other).unwrap();
    let forged = doc.replace(
        v["secret_share"].as_str().unwrap(),
        w["secret_share"].as_str().unwrap(),
    );
    assert!(Authority::from_secret_json(forged.as_bytes()).is_err());
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let mut r = rng(13);
    let (_, auths) = dkg::run_local(2, 2, &mut r).unwrap();
    let doc = auths[0].to_secret_json();
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let secret = v["secret_share"].as_str().unwrap().to_string();
    let debug = format!("{:?}", auths[0]);
    assert!(
        !debug.contains(&secret) && debug.contains("<secret>"),
        "{debug}"
    );
    let share = SecretShare::from_bytes(0, 1, [7u8; 32]);
    assert!(!format!("{share:?}").contains("[7, 7"));
}

/// Runs the DKG rounds among `ps`; `corrupt` may rewrite each share before delivery and
/// `answer` may rewrite a complaint answer. Returns the outcomes (or errors) of `finish`.
fn run_dkg(
    mut ps: Vec<DkgParticipant>,
    corrupt: impl Fn(SecretShare) -> SecretShare,
    answer: impl Fn(dkg::ComplaintAnswer) -> Option<dkg::ComplaintAnswer>,
) -> Vec<Result<dkg::DkgOutcome, HeError>> {
    let cs: Vec<_> = ps.iter().map(DkgParticipant::commitment).collect();
    for p in &mut ps {
        for c in &cs {
            if c.from != p.index() {
                // Through the wire format, as separate processes would.
                let c = dkg::Commitment::from_json(c.to_json().as_bytes()).unwrap();
                p.receive_commitment(&c).unwrap();
            }
        }
    }
    let reveals: Vec<_> = ps.iter_mut().map(|p| p.reveal().unwrap()).collect();
    for p in &mut ps {
        for rv in &reveals {
            if rv.from != p.index() {
                let rv = dkg::Reveal::from_json(rv.to_json().as_bytes()).unwrap();
                p.receive_reveal(&rv).unwrap();
            }
        }
    }
    let mut mail = Vec::new();
    for p in &mut ps {
        mail.extend(p.shares_for_others().unwrap());
    }
    let mut early = Vec::new();
    for s in mail {
        let s = corrupt(SecretShare::from_json(s.to_json().as_bytes()).unwrap());
        if let Some(c) = ps[s.to as usize].receive_share(&s).unwrap() {
            early.push(c);
        }
    }
    let mut complaints = Vec::new();
    for p in &mut ps {
        complaints.extend(p.complaints().unwrap());
    }
    assert_eq!(early.len(), complaints.len());
    for c in &complaints {
        let c = dkg::Complaint::from_json(c.to_json().as_bytes()).unwrap();
        for p in &mut ps {
            p.receive_complaint(&c).unwrap();
        }
    }
    for c in &complaints {
        let a = ps[c.against as usize].answer(c).unwrap();
        let Some(a) = answer(a) else { continue };
        let a = dkg::ComplaintAnswer::from_json(a.to_json().as_bytes()).unwrap();
        for p in &mut ps {
            // A bad answer disqualifies the dealer, and says so.
            let _ = p.receive_answer(&a);
        }
    }
    ps.into_iter().map(DkgParticipant::finish).collect()
}

fn participants(n: u32, t: u32, r: &mut ChaCha20Rng) -> Vec<DkgParticipant> {
    (0..n)
        .map(|i| DkgParticipant::new(n, t, i, r).unwrap())
        .collect()
}

fn check_key_works(auths: &[Authority], who: &[usize], r: &mut ChaCha20Rng) {
    let key = auths[0].key_set().clone();
    for a in auths {
        assert_eq!(a.key_set(), &key, "all authorities agree on the key set");
    }
    let spec = SumSpec::new("dkg", ValueRange::unsigned(100).unwrap()).unwrap();
    let col = encrypt_encodings(&key, &spec, &[30, 70, 99], &mut *r).unwrap();
    let total = aggregate(&key, &spec, &[col]).unwrap();
    assert_eq!(decrypt_with(&key, auths, who, &total, r), 199);
}

#[test]
fn dkg_bad_share_with_bad_answer_disqualifies_the_dealer() {
    let mut r = rng(14);
    let ps = participants(4, 2, &mut r);
    // Dealer 3 sends authority 0 a wrong share, and answers the complaint with it again.
    let outcomes = run_dkg(
        ps,
        |s| {
            if s.from == 3 && s.to == 0 {
                SecretShare::from_bytes(3, 0, [9u8; 32])
            } else {
                s
            }
        },
        |a| {
            (a.from != 3)
                .then_some(a)
                .or(Some(dkg::ComplaintAnswer::from_bytes(3, 0, [9u8; 32])))
        },
    );
    let outcomes: Vec<_> = outcomes.into_iter().map(Result::unwrap).collect();
    for o in &outcomes {
        assert_eq!(o.qualified, vec![0, 1, 2]);
        assert_eq!(o.disqualified.len(), 1);
        assert_eq!(o.disqualified[0].0, 3);
        assert!(
            o.disqualified[0]
                .1
                .contains("does not lie on its polynomial")
        );
    }
    let auths: Vec<Authority> = outcomes.into_iter().map(|o| o.authority).collect();
    // The key is the sum of dealers 0..=2; any two authorities decrypt (3 included: it still
    // holds a valid share of the qualified dealings).
    check_key_works(&auths, &[0, 3], &mut r);
    check_key_works(&auths, &[1, 2], &mut r);
}

#[test]
fn dkg_bad_share_with_valid_public_answer_is_settled() {
    let mut r = rng(15);
    let ps = participants(3, 2, &mut r);
    let outcomes = run_dkg(
        ps,
        |s| {
            if s.from == 1 && s.to == 2 {
                SecretShare::from_bytes(1, 2, [1u8; 32])
            } else {
                s
            }
        },
        Some,
    );
    let auths: Vec<Authority> = outcomes
        .into_iter()
        .map(|o| {
            let o = o.unwrap();
            assert_eq!(o.qualified, vec![0, 1, 2]);
            assert!(o.disqualified.is_empty());
            o.authority
        })
        .collect();
    check_key_works(&auths, &[2, 0], &mut r);
}

#[test]
fn dkg_unanswered_complaint_and_bad_reveals_disqualify() {
    let mut r = rng(16);
    // Dealer 0 withholds authority 1's share and ignores the complaint.
    let outcomes = run_dkg(
        participants(3, 2, &mut r),
        |s| {
            if s.from == 0 && s.to == 1 {
                SecretShare::from_bytes(0, 1, [0u8; 32])
            } else {
                s
            }
        },
        |a| (a.from != 0).then_some(a),
    );
    let auths: Vec<Authority> = outcomes
        .into_iter()
        .map(|o| {
            let o = o.unwrap();
            assert_eq!(o.qualified, vec![1, 2]);
            assert!(o.disqualified[0].1.contains("did not answer"));
            o.authority
        })
        .collect();
    check_key_works(&auths, &[1, 2], &mut r);

    // A reveal that does not open the sender's commitment disqualifies it.
    let mut ps = participants(3, 2, &mut r);
    let cs: Vec<_> = ps.iter().map(DkgParticipant::commitment).collect();
    let mut liar = DkgParticipant::new(3, 2, 2, &mut r).unwrap();
    for p in &mut ps {
        for c in &cs {
            if c.from != p.index() {
                p.receive_commitment(c).unwrap();
            }
        }
    }
    for c in &cs[..2] {
        liar.receive_commitment(c).unwrap();
    }
    let fresh = liar.reveal().unwrap(); // a polynomial other than the one committed to
    let err = ps[0]
        .reveal()
        .and_then(|_| ps[0].receive_reveal(&fresh))
        .unwrap_err();
    assert!(
        matches!(&err, HeError::Disqualified { party: 2, reason } if reason.contains("commitment")),
        "{err}"
    );
    assert!(ps[0].is_disqualified(2));

    // Too few qualified dealers: the DKG fails rather than produce a weak key.
    let mut ps = participants(3, 3, &mut r);
    ps[0].reveal().unwrap(); // heard no commitments: both others are disqualified
    ps[0].shares_for_others().unwrap();
    ps[0].complaints().unwrap();
    let p0 = ps.swap_remove(0);
    assert!(matches!(p0.finish(), Err(HeError::DkgFailed(_))));
}

#[test]
fn dkg_steps_out_of_order_and_bad_parameters_are_errors() {
    let mut r = rng(17);
    assert!(matches!(
        DkgParticipant::new(3, 4, 0, &mut r),
        Err(HeError::InvalidParameter {
            what: "threshold",
            ..
        })
    ));
    assert!(matches!(
        DkgParticipant::new(3, 2, 3, &mut r),
        Err(HeError::InvalidParameter { what: "index", .. })
    ));
    assert!(dkg::run_local(0, 0, &mut r).is_err());
    let mut p = DkgParticipant::new(3, 2, 0, &mut r).unwrap();
    assert!(matches!(p.complaints(), Err(HeError::DkgProtocol(_))));
    let c = p.commitment();
    assert!(matches!(
        p.receive_commitment(&c),
        Err(HeError::DkgProtocol(_))
    ));
    let mut forged = c.clone();
    forged.from = 7;
    assert!(matches!(
        p.receive_commitment(&forged),
        Err(HeError::DkgProtocol(_))
    ));
}

#[test]
fn format_units_writes_exact_decimals() {
    assert_eq!(format_units(0, 2), "0.00");
    assert_eq!(format_units(-1, 2), "-0.01");
    assert_eq!(format_units(123_456, 3), "123.456");
    assert_eq!(format_units(-42, 0), "-42");
}
