//! Sums decrypt to the plaintext sums: random values, the edges of the declared range, every
//! summable column type in its own units; out-of-range values are refused without being shown.

use rand::Rng;
use trustspace_he::HeError;
use trustspace_he::ristretto::dkg;
use trustspace_he::ristretto::range::format_units;
use trustspace_he::ristretto::{
    DlogTable, EncryptedColumn, SumSpec, ValueRange, aggregate, decrypt_total, encrypt_column,
    encrypt_encodings, encrypt_value,
};

use super::{decrypt_with, partials, records, schema};
use crate::common::rng;

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
        Err(HeError::UnsupportedColumn { column, .. }) if column == "seen"
    ));
    assert!(matches!(
        SumSpec::for_column(&s, "nope", "x"),
        Err(HeError::UnknownColumn { column }) if column == "nope"
    ));
    // A 32-bit id without a declared max fits a range proof (< 2^48).
    let id = SumSpec::for_column(&s, "id", "x").unwrap();
    assert_eq!(id.range().span(), u64::from(u32::MAX));
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
    // The error names the input (value 1) and the range, never the value itself.
    let msg = err.to_string();
    assert!(
        matches!(&err, HeError::ValueOutOfRange { input, range }
            if input == "value 1" && range == "[0, 100]"),
        "{err}"
    );
    assert!(!msg.contains("101"), "{msg}");
    let edge = encrypt_value(&key, &spec, 100, &mut r).unwrap();
    assert_eq!(edge.ciphertext_bytes().len(), 64);
}

#[test]
fn format_units_writes_exact_decimals() {
    assert_eq!(format_units(0, 2), "0.00");
    assert_eq!(format_units(-1, 2), "-0.01");
    assert_eq!(format_units(123_456, 3), "123.456");
    assert_eq!(format_units(-42, 0), "-42");
}
