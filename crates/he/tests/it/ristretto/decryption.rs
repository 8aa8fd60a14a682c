//! Threshold decryption: fewer than t partials decrypt nothing, wrong partials are caught by
//! their proofs and excluded with the cause, and the discrete-log table finds exactly the
//! totals in its range.

use rand::Rng;
use trustspace_he::HeError;
use trustspace_he::error::Exclusion;
use trustspace_he::ristretto::{
    DlogTable, SumSpec, ValueRange, aggregate, decrypt_total, dkg, encrypt_encodings,
};

use super::{decrypt_with, partials};
use crate::common::rng;

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
            Err(HeError::NotEnoughPartials {
                valid,
                needed,
                excluded,
            }) => {
                assert_eq!((valid, needed), (who.len(), 3));
                assert!(excluded.is_empty());
            }
            other => panic!("expected NotEnoughPartials, got {other:?}"),
        }
    }
    // The same partial twice does not count twice.
    let p = partials(&auths, &[1, 1, 2], &total, &mut r);
    match decrypt_total(&key, &total, &p, &table) {
        Err(HeError::NotEnoughPartials {
            valid: 2, excluded, ..
        }) => {
            assert_eq!(excluded.len(), 1);
            assert_eq!(excluded[0].authority, 1);
            assert_eq!(excluded[0].reason, Exclusion::Duplicate);
        }
        other => panic!("expected NotEnoughPartials, got {other:?}"),
    }
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
    assert!(
        got.excluded
            .iter()
            .all(|e| matches!(e.reason, Exclusion::InvalidProof { .. })),
        "{:?}",
        got.excluded
    );

    // With only one honest partial besides the bad one there are not t = 2 valid partials.
    match decrypt_total(&key, &total, &[bad1, honest[3].clone()], &table) {
        Err(HeError::NotEnoughPartials {
            valid: 1,
            needed: 2,
            excluded,
        }) => {
            assert_eq!(excluded[0].authority, 1);
            assert!(matches!(excluded[0].reason, Exclusion::InvalidProof { .. }));
        }
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
    assert_eq!(got.excluded[0].authority, 2);
    assert_eq!(got.excluded[0].reason, Exclusion::OtherTotal);
    // ... and a partial naming an authority beyond n.
    let stranger = honest[0].tampered(9, honest[0].share_bytes());
    let got = decrypt_total(
        &key,
        &total,
        &[stranger, honest[0].clone(), honest[1].clone()],
        &table,
    )
    .unwrap();
    assert_eq!(
        got.excluded[0].reason,
        Exclusion::NoSuchAuthority { authorities: 4 }
    );
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
