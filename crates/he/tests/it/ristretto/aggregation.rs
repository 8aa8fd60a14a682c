//! The aggregator's checks: range proofs bound to the spec and key set, key ids, and the
//! bound on a total.

use trustspace_he::HeError;
use trustspace_he::ristretto::{
    Aggregator, DlogTable, EncryptedColumn, SumSpec, ValueRange, aggregate, decrypt_total, dkg,
    encrypt_encodings, encrypt_value,
};

use super::{decrypt_with, partials};
use crate::common::rng;

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
        matches!(
            &err,
            HeError::InvalidRangeProof {
                holder: Some(1),
                index: 0,
                ..
            }
        ),
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
        matches!(
            &err,
            HeError::InvalidRangeProof {
                holder: None,
                index: 1,
                ..
            }
        ),
        "{err}"
    );

    // 3. The aggregator skips the refused holder and the total is the honest one's.
    let mut agg = Aggregator::new(&key, &narrow);
    assert!(matches!(
        agg.add_column(&tampered),
        Err(HeError::InvalidRangeProof { index: 1, .. })
    ));
    assert_eq!(agg.count(), 0, "a refused column adds nothing");
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

/// The componentwise sum of two ciphertexts (an encryption of the sum of their values).
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
        Err(HeError::InvalidRangeProof {
            holder: Some(0),
            index: 0,
            ..
        })
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
        Err(HeError::TotalBound {
            bound: 3000,
            limit: 2999,
            ..
        })
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
        Err(HeError::TotalBound { bound, .. }) if bound == 4 << 46
    ));
    assert!(matches!(
        ValueRange::unsigned(1 << 48),
        Err(HeError::UnusableRange { .. })
    ));
    assert!(matches!(
        ValueRange::unsigned(0),
        Err(HeError::UnusableRange { .. })
    ));
    assert!(matches!(
        DlogTable::new(1 << 48),
        Err(HeError::TotalBound { bound, .. }) if bound == 1 << 48
    ));
}
