//! Property tests: every document codec round trips (decode(encode(x)) == x, and the encoding
//! of a decoded value is the text decoded), points are accepted only from canonical
//! encodings, out-of-range values and totals are refused, and the accumulator's arithmetic
//! holds: ciphertexts add to an encryption of the sum that any t authorities decrypt, in
//! whatever order and grouping the aggregator adds them.
//!
//! Case counts are small where a case encrypts with range proofs or runs a DKG.

use std::sync::LazyLock;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::CompressedRistretto;
use curve25519_dalek::scalar::Scalar;
use proptest::prelude::*;
use trustspace_he::HeError;
use trustspace_he::ristretto::dkg::{
    self, Commitment, Complaint, ComplaintAnswer, ComplaintReason, DkgParticipant, Message, Reveal,
    SecretShare,
};
use trustspace_he::ristretto::{
    Aggregator, Authority, DlogTable, EncryptedColumn, EncryptedTotal, KeySet, MAX_TOTAL,
    PartialDecryption, SumSpec, ValueRange, decrypt_total, encrypt_encodings, encrypt_value,
};

use crate::common::rng;

/// A 2-of-3 key set and its authorities, for the arithmetic properties.
struct Fixture {
    key: KeySet,
    authorities: Vec<Authority>,
    spec: SumSpec,
    table: DlogTable,
}

/// Largest value the fixture's spec admits.
const SPAN: u64 = 100;
/// At most this many values per column, and columns per aggregation.
const VALUES: usize = 5;
const COLUMNS: usize = 3;

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let (key, authorities) = dkg::run_local(3, 2, &mut rng(0x9e0)).expect("DKG");
    let spec = SumSpec::new("props", ValueRange::unsigned(SPAN).expect("range")).expect("spec");
    let table = DlogTable::new(SPAN * (VALUES * COLUMNS) as u64).expect("table");
    Fixture {
        key,
        authorities,
        spec,
        table,
    }
});

/// A point `k·G` (never the identity for `k` in `1..`).
fn point(k: u64) -> [u8; 32] {
    (RISTRETTO_BASEPOINT_POINT * Scalar::from(k))
        .compress()
        .to_bytes()
}

/// A total document in the encoder's field order, so that decoding and re-encoding it must
/// give back the text itself.
fn total_doc(
    label: &str,
    count: u64,
    span: u64,
    offset: i128,
    scale: u32,
    r: &[u8; 32],
    b: &[u8; 32],
) -> String {
    format!(
        "{{\"version\":1,\"kind\":\"he-ristretto-total\",\"key_id\":\"{}\",\"sum_spec\":\"{}\",\
         \"label\":{},\"count\":{count},\"span\":{span},\"offset_units\":\"{offset}\",\
         \"scale\":{scale},\"ciphertext\":\"{}{}\"}}",
        hex::encode([7u8; 32]),
        hex::encode([9u8; 32]),
        serde_json::to_string(label).unwrap(),
        hex::encode(r),
        hex::encode(b)
    )
}

fn reason() -> impl Strategy<Value = ComplaintReason> {
    prop_oneof![
        Just(ComplaintReason::Missing),
        Just(ComplaintReason::Invalid)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn total_documents_decode_to_what_they_say_and_reencode_to_themselves(
        label in "\\PC{1,24}",
        span in 1u64..1 << 20,
        count_seed: u64,
        offset in -(u64::MAX as i128)..=u64::MAX as i128,
        scale in 0u32..=18,
        r in 0u64..1 << 40,
        b in 1u64..1 << 40,
    ) {
        let count = count_seed % (MAX_TOTAL / span + 1);
        let doc = total_doc(&label, count, span, offset, scale, &point(r), &point(b));
        let total = EncryptedTotal::from_json(doc.as_bytes()).unwrap();
        prop_assert_eq!(total.to_json(), doc.clone());
        prop_assert_eq!(total.count(), count);
        prop_assert_eq!(total.bound(), u128::from(count) * u128::from(span));
        prop_assert_eq!(total.label(), label.as_str());
        prop_assert_eq!(EncryptedTotal::from_json(total.to_json().as_bytes()).unwrap(), total);
    }

    #[test]
    fn out_of_range_totals_are_refused(
        span in 1u64..1 << 40,
        excess in 1u64..1 << 20,
        wide in (1u64 << 48)..=u64::MAX,
        scale in 19u32..,
        offset in (u64::MAX as i128 + 1)..=i128::MAX,
    ) {
        let (r, b) = (point(3), point(4));
        // count × span just above MAX_TOTAL.
        let count = MAX_TOTAL / span + excess;
        let doc = total_doc("t", count, span, 0, 0, &r, &b);
        let refused = EncryptedTotal::from_json(doc.as_bytes());
        prop_assert!(matches!(
            refused,
            Err(HeError::TotalBound { bound, .. }) if bound == u128::from(count) * u128::from(span)
        ), "count {}", count);
        let cases = [
            (0, 0, 0),
            (wide, 0, 0),
            (span, offset, 0),
            (span, -offset, 0),
            (span, 0, scale),
        ];
        for (span, offset, scale) in cases {
            let doc = total_doc("t", 0, span, offset, scale, &r, &b);
            prop_assert!(matches!(
                EncryptedTotal::from_json(doc.as_bytes()),
                Err(HeError::Format { .. })
            ), "span {} offset {} scale {}", span, offset, scale);
        }
    }

    /// Any 32 bytes as a point: accepted exactly when they are a canonical ristretto255
    /// encoding (curve25519-dalek's decompression decides), refused as malformed otherwise.
    #[test]
    fn points_are_accepted_only_from_canonical_encodings(bytes: [u8; 32], small in 0u8..=255) {
        let mut low = [0u8; 32];
        low[0] = small;
        for candidate in [bytes, low] {
            let canonical = CompressedRistretto(candidate).decompress().is_some();
            let doc = total_doc("p", 1, 1, 0, 0, &point(5), &candidate);
            match EncryptedTotal::from_json(doc.as_bytes()) {
                Ok(t) => {
                    prop_assert!(canonical);
                    prop_assert_eq!(&t.ciphertext_bytes()[32..], &candidate[..]);
                }
                Err(HeError::MalformedPoint { .. }) => prop_assert!(!canonical),
                Err(e) => prop_assert!(false, "unexpected refusal {}", e),
            }
        }
    }

    #[test]
    fn partial_decryption_documents_round_trip(
        key_id: [u8; 32],
        total: [u8; 32],
        authority: u32,
        share in 0u64..1 << 40,
        c in 0u64..1 << 40,
        s in 0u64..1 << 40,
    ) {
        let proof = [Scalar::from(c).to_bytes(), Scalar::from(s).to_bytes()].concat();
        let doc = format!(
            "{{\"version\":1,\"kind\":\"he-ristretto-partial-decryption\",\"key_id\":\"{}\",\
             \"total\":\"{}\",\"authority\":{authority},\"share\":\"{}\",\"proof\":\"{}\"}}",
            hex::encode(key_id), hex::encode(total), hex::encode(point(share)), hex::encode(proof)
        );
        let p = PartialDecryption::from_json(doc.as_bytes()).unwrap();
        prop_assert_eq!(p.to_json(), doc);
        prop_assert_eq!(p.authority(), authority);
        prop_assert_eq!(p.share_bytes(), point(share));
    }

    #[test]
    fn dkg_messages_round_trip(
        from: u32,
        to: u32,
        digest: [u8; 32],
        share: [u8; 32],
        why in reason(),
    ) {
        let c = Commitment { from, digest };
        prop_assert_eq!(Commitment::from_json(c.to_json().as_bytes()).unwrap(), c.clone());
        let k = Complaint { from, against: to, reason: why };
        prop_assert_eq!(Complaint::from_json(k.to_json().as_bytes()).unwrap(), k);
        let a = ComplaintAnswer::from_bytes(from, to, share);
        prop_assert_eq!(ComplaintAnswer::from_json(a.to_json().as_bytes()).unwrap(), a.clone());
        let s = SecretShare::from_bytes(from, to, share);
        let text = s.to_json();
        let again = SecretShare::from_json(text.as_bytes()).unwrap();
        prop_assert_eq!((again.from, again.to), (from, to));
        prop_assert_eq!(&*again.to_json(), &*text);
        // The any-kind decoder reads each the same.
        for text in [c.to_json(), k.to_json(), a.to_json(), text.to_string()] {
            prop_assert_eq!(&*Message::from_json(text.as_bytes()).unwrap().to_json(), &text);
        }
    }
}

proptest! {
    // Each case runs a DKG or makes range proofs: a few ms to tens of ms.
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn key_sets_authorities_and_reveals_round_trip(n in 1u32..=5, t_seed: u32, seed: u64) {
        let t = 1 + t_seed % n;
        let mut r = rng(seed);
        let (key, authorities) = dkg::run_local(n, t, &mut r).unwrap();
        let again = KeySet::from_json(key.to_json().as_bytes()).unwrap();
        prop_assert_eq!(&again, &key);
        prop_assert_eq!((again.authorities(), again.threshold()), (n, t));
        prop_assert_eq!(again.to_json(), key.to_json());
        for a in &authorities {
            let text = a.to_secret_json();
            let back = Authority::from_secret_json(text.as_bytes()).unwrap();
            prop_assert_eq!((back.index(), back.key_set()), (a.index(), &key));
            prop_assert_eq!(&*back.to_secret_json(), &*text);
        }
        let (_, reveal) = DkgParticipant::new(n, t, n - 1, &mut r).unwrap().reveal().unwrap();
        let text = reveal.to_json();
        prop_assert_eq!(Reveal::from_json(text.as_bytes()).unwrap().to_json(), text.clone());
        prop_assert_eq!(&*Message::from_json(text.as_bytes()).unwrap().to_json(), &text);
    }

    #[test]
    fn encrypted_columns_round_trip(values in prop::collection::vec(0..=SPAN, 0..=VALUES), seed: u64) {
        let f = &*FIXTURE;
        let column = encrypt_encodings(&f.key, &f.spec, &values, &mut rng(seed)).unwrap();
        let text = column.to_json().unwrap();
        let again = EncryptedColumn::from_json(text.as_bytes()).unwrap();
        prop_assert_eq!(again.to_json().unwrap(), text);
        prop_assert_eq!((again.key_id(), again.spec_id()), (f.key.id(), f.spec.id()));
        let bytes = |c: &EncryptedColumn| c.values().iter().map(|v| v.ciphertext_bytes()).collect::<Vec<_>>();
        prop_assert_eq!(bytes(&again), bytes(&column));
        // Still verifies after the trip.
        prop_assert!(Aggregator::new(&f.key, &f.spec).verify(&again).is_ok());
    }

    /// Ciphertexts add to an encryption of the sum, which any t authorities (in any order)
    /// decrypt; the total is the same whatever the order and grouping of the columns added.
    #[test]
    fn sums_decrypt_to_the_sum_in_any_order_and_grouping(
        columns in prop::collection::vec(prop::collection::vec(0..=SPAN, 0..=VALUES), 1..=COLUMNS),
        seed: u64,
        who in prop::sample::subsequence(vec![0usize, 1, 2], 2),
        reversed: bool,
        split in 0usize..=COLUMNS,
    ) {
        let f = &*FIXTURE;
        let mut r = rng(seed);
        let cols: Vec<EncryptedColumn> = columns
            .iter()
            .map(|v| encrypt_encodings(&f.key, &f.spec, v, &mut r).unwrap())
            .collect();
        let checker = Aggregator::new(&f.key, &f.spec);
        let verified: Vec<_> = cols.iter().map(|c| checker.verify(c).unwrap()).collect();
        let mut all = Aggregator::new(&f.key, &f.spec);
        all.add_all(&verified).unwrap();
        let total = all.total();
        // Reversed, one by one.
        let mut one_by_one = Aggregator::new(&f.key, &f.spec);
        for v in verified.iter().rev() {
            one_by_one.add(*v).unwrap();
        }
        prop_assert_eq!(&one_by_one.total(), &total);
        // Two groups, the second first.
        let split = split.min(verified.len());
        let mut grouped = Aggregator::new(&f.key, &f.spec);
        grouped.add_all(&verified[split..]).unwrap();
        grouped.add_all(&verified[..split]).unwrap();
        prop_assert_eq!(&grouped.total(), &total);
        prop_assert_eq!(total.count(), columns.iter().map(|c| c.len() as u64).sum::<u64>());

        let mut who = who;
        if reversed {
            who.reverse();
        }
        let partials: Result<Vec<_>, _> = who
            .iter()
            .map(|&i| f.authorities[i].partial_decrypt(&total, &mut r))
            .collect::<Result<_, _>>();
        let expected: u64 = columns.iter().flatten().sum();
        match partials {
            Ok(partials) => {
                let got = decrypt_total(&f.key, &total, &partials, &f.table).unwrap();
                prop_assert_eq!(got.units, i128::from(expected));
                let mut used = got.used.clone();
                used.sort_unstable();
                let mut sorted = who.iter().map(|&i| i as u32).collect::<Vec<_>>();
                sorted.sort_unstable();
                prop_assert_eq!(used, sorted);
            }
            // An empty total (no values at all) is not decrypted.
            Err(e) => prop_assert!(
                total.count() == 0 && matches!(e, HeError::InvalidParameter { what: "total", .. }),
                "{}", e
            ),
        }
    }

    #[test]
    fn out_of_range_values_are_refused_before_encryption(
        max in 1u64..1 << 20,
        above in 1u64..=u64::MAX / 2,
        seed: u64,
    ) {
        let f = &*FIXTURE;
        let spec = SumSpec::new("bounds", ValueRange::unsigned(max).unwrap()).unwrap();
        let enc = max.saturating_add(above);
        let mut r = rng(seed);
        prop_assert!(matches!(
            encrypt_value(&f.key, &spec, enc, &mut r),
            Err(HeError::ValueOutOfRange { .. })
        ), "value {}", enc);
        prop_assert!(matches!(
            encrypt_encodings(&f.key, &spec, &[0, max, enc], &mut r),
            Err(HeError::ValueOutOfRange { input, .. }) if input == "value 2"
        ), "column with {}", enc);
        prop_assert!(encrypt_value(&f.key, &spec, max, &mut r).is_ok());
    }
}

#[test]
fn single_value_and_too_wide_ranges_are_refused() {
    assert!(matches!(
        ValueRange::unsigned(0),
        Err(HeError::UnusableRange { .. })
    ));
    assert!(matches!(
        ValueRange::unsigned(1 << 48),
        Err(HeError::UnusableRange { .. })
    ));
    assert!(ValueRange::unsigned((1 << 48) - 1).is_ok());
}
