//! Path B end to end: sums equal plaintext sums, and every kind of bad input is refused. The
//! two setups are made once for the whole test binary.

use std::sync::LazyLock;

use rand::{Rng, SeedableRng};
use trustspace_he::HeError;
use trustspace_he::lwe_sum::{
    self, EncryptedColumn, EncryptedSum, PublicSetup, SecretKey, SumParams, aggregate,
    decrypt_total, encrypt_values,
};

const SLOTS: usize = 64;
const MAX_VALUES: u64 = 300;
const BITS: u32 = 12;
const MAX: u64 = (1 << BITS) - 1;

/// A key and setup for the tests' declared sum.
fn generate() -> (SecretKey, PublicSetup) {
    let params = SumParams::with_slots(MAX_VALUES, BITS, 3, SLOTS).unwrap();
    lwe_sum::generate(params).unwrap()
}

/// The setup most tests use.
static FIXTURE: LazyLock<(SecretKey, PublicSetup)> = LazyLock::new(generate);
/// A second, unrelated setup with the same parameters.
static OTHER: LazyLock<(SecretKey, PublicSetup)> = LazyLock::new(generate);

pub(crate) fn fixture() -> &'static (SecretKey, PublicSetup) {
    &FIXTURE
}

fn other_fixture() -> &'static (SecretKey, PublicSetup) {
    &OTHER
}

fn sum_of(columns: &[EncryptedColumn], session: &str) -> Result<u128, HeError> {
    let (sk, setup) = fixture();
    let total = aggregate(setup, session, columns)?;
    decrypt_total(sk, setup, &total)
}

#[test]
fn random_values_sum_exactly() {
    let (_, setup) = fixture();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let a: Vec<u64> = (0..150).map(|_| rng.gen_range(0..=MAX)).collect();
    let b: Vec<u64> = (0..70).map(|_| rng.gen_range(0..=MAX)).collect();
    let expected: u64 = a.iter().chain(&b).sum();
    let ca = encrypt_values(setup, "q1", "hospital-a", &a).unwrap();
    let cb = encrypt_values(setup, "q1", "hospital-b", &b).unwrap();
    assert_eq!(ca.lists().len(), 3);
    assert_eq!(sum_of(&[ca, cb], "q1").unwrap(), u128::from(expected));
}

#[test]
fn zeros_and_the_declared_bound() {
    let (_, setup) = fixture();
    let zeros = encrypt_values(setup, "q2", "a", &[0; 100]).unwrap();
    assert_eq!(sum_of(&[zeros], "q2").unwrap(), 0);
    // Every value at the maximum, the declared count exactly, over three holders.
    let cols: Vec<_> = [100usize, 100, 100]
        .iter()
        .enumerate()
        .map(|(i, &n)| encrypt_values(setup, "q3", &format!("h{i}"), &vec![MAX; n]).unwrap())
        .collect();
    assert_eq!(sum_of(&cols, "q3").unwrap(), u128::from(MAX) * 300);
}

#[test]
fn out_of_range_values_and_counts_are_refused() {
    let (_, setup) = fixture();
    assert!(matches!(
        encrypt_values(setup, "q4", "a", &[1, MAX + 1]),
        Err(HeError::ValueOutOfRange { .. })
    ));
    assert!(matches!(
        encrypt_values(setup, "q4", "a", &vec![1; MAX_VALUES as usize + 1]),
        Err(HeError::CountExceeded { .. })
    ));
    // Two columns that together pass the declared count.
    let a = encrypt_values(setup, "q4", "a", &[1; 200]).unwrap();
    let b = encrypt_values(setup, "q4", "b", &[1; 101]).unwrap();
    assert!(matches!(
        aggregate(setup, "q4", &[a, b]),
        Err(HeError::CountExceeded { .. })
    ));
}

#[test]
fn tampered_swapped_and_replayed_lists_are_refused() {
    let (_, setup) = fixture();
    let good = encrypt_values(setup, "q5", "a", &[7; 100]).unwrap();

    let mut tampered = good.clone();
    tampered.lists_mut()[0].words_mut()[5] ^= 1 << 40;
    assert!(matches!(
        sum_of(&[tampered], "q5"),
        Err(HeError::InvalidRangeProof {
            holder: Some(0),
            index: 0,
            ..
        })
    ));

    // Lists swapped: each proof is bound to its list's place.
    let mut swapped = good.clone();
    swapped.lists_mut().swap(0, 1);
    assert!(matches!(
        sum_of(&[swapped], "q5"),
        Err(HeError::Format { .. })
    ));

    // A proof from another list (bad proof for this list).
    let mut bad_proof = good.clone();
    let other = encrypt_values(setup, "q5", "a", &[9; 100]).unwrap();
    bad_proof.lists_mut()[0] = splice_proof(&good, &other);
    assert!(matches!(
        sum_of(&[bad_proof], "q5"),
        Err(HeError::InvalidRangeProof { .. })
    ));

    // Replayed into another session, or twice in one.
    assert!(matches!(
        sum_of(std::slice::from_ref(&good), "another session"),
        Err(HeError::SpecMismatch { .. })
    ));
    assert!(matches!(
        sum_of(&[good.clone(), good], "q5"),
        Err(HeError::Duplicate { .. })
    ));
}

/// `other`'s first list (its proof) carrying `good`'s first ciphertext.
fn splice_proof(good: &EncryptedColumn, other: &EncryptedColumn) -> lwe_sum::EncryptedList {
    let mut list = other.lists()[0].clone();
    list.words_mut().copy_from_slice(good.lists()[0].words());
    list
}

#[test]
fn wrong_key_inputs_are_refused() {
    let (_, setup) = fixture();
    let (other_sk, other_setup) = other_fixture();
    let foreign = encrypt_values(other_setup, "q6", "a", &[3; 10]).unwrap();
    assert!(matches!(
        sum_of(std::slice::from_ref(&foreign), "q6"),
        Err(HeError::KeyMismatch { .. })
    ));
    // The same column relabelled with this setup's id: its proof is for the other key.
    let bytes = foreign.to_bytes().unwrap();
    let mut relabelled = bytes.clone();
    relabelled[8..40].copy_from_slice(&setup.id());
    let relabelled = EncryptedColumn::from_bytes(&relabelled, setup).unwrap();
    assert!(matches!(
        sum_of(&[relabelled], "q6"),
        Err(HeError::InvalidRangeProof { .. })
    ));
    // Decrypting with another setup's secret key.
    let total = aggregate(
        setup,
        "q6",
        &[encrypt_values(setup, "q6", "a", &[3; 10]).unwrap()],
    )
    .unwrap();
    assert!(matches!(
        decrypt_total(other_sk, setup, &total),
        Err(HeError::KeyMismatch { .. })
    ));
}

#[test]
fn a_wrong_secret_key_is_detected_not_silently_wrong() {
    let (sk, setup) = fixture();
    let mut bytes = sk.to_bytes().to_vec();
    // Flip key bits (keeping the id): decryption must refuse, not return garbage.
    let n = bytes.len();
    for b in &mut bytes[n - 64..] {
        *b ^= 1;
    }
    let wrong = SecretKey::from_bytes(&bytes, setup).unwrap();
    let total = aggregate(
        setup,
        "q7",
        &[encrypt_values(setup, "q7", "a", &[5; 40]).unwrap()],
    )
    .unwrap();
    assert!(matches!(
        decrypt_total(&wrong, setup, &total),
        Err(HeError::NoiseBudget { .. })
    ));
    assert_eq!(decrypt_total(sk, setup, &total).unwrap(), 200);
}

#[test]
fn encodings_round_trip_and_malformed_bytes_are_refused() {
    let (sk, setup) = fixture();
    let setup2 = PublicSetup::from_bytes(&setup.to_bytes()).unwrap();
    assert_eq!(setup2.id(), setup.id());
    let sk2 = SecretKey::from_bytes(&sk.to_bytes(), &setup2).unwrap();

    let col = encrypt_values(&setup2, "q8", "a", &[11; 70]).unwrap();
    let bytes = col.to_bytes().unwrap();
    let col2 = EncryptedColumn::from_bytes(&bytes, setup).unwrap();
    let total = aggregate(setup, "q8", &[col2]).unwrap();
    let total = EncryptedSum::from_bytes(&total.to_bytes(), setup).unwrap();
    assert_eq!(decrypt_total(&sk2, setup, &total).unwrap(), 770);

    for bad in [
        &bytes[..bytes.len() - 1],
        &bytes[..20],
        &[bytes.as_slice(), &[0u8]].concat()[..],
        b"TSLWECL1",
    ] {
        assert!(matches!(
            EncryptedColumn::from_bytes(bad, setup),
            Err(HeError::Format { .. })
        ));
    }
    // A corrupted proof encoding.
    let mut corrupt = bytes.clone();
    let proof_at = 8 + 32 + 4 + 2 + 4 + 1 + 4 + 4 + 4 + 4;
    corrupt[proof_at + 10] ^= 0xff;
    // Refused when decoded (malformed) or when summed (its proof fails).
    let outcome =
        EncryptedColumn::from_bytes(&corrupt, setup).and_then(|c| aggregate(setup, "q8", &[c]));
    assert!(
        matches!(
            outcome,
            Err(HeError::Format { .. } | HeError::InvalidRangeProof { .. })
        ),
        "{:?}",
        outcome.err()
    );
    // A claimed list count above the declared maximum.
    let mut many = bytes.clone();
    let at = 8 + 32 + 4 + 2 + 4 + 1;
    many[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        EncryptedColumn::from_bytes(&many, setup),
        Err(HeError::CountExceeded { .. })
    ));
    assert!(matches!(
        PublicSetup::from_bytes(&setup.to_bytes()[..100]),
        Err(HeError::Format { .. })
    ));
    assert!(matches!(
        SecretKey::from_bytes(&sk.to_bytes()[..50], setup),
        Err(HeError::Format { .. })
    ));
}

/// Regression: tfhe's deserializer stops where its value ends, and the decoders used to
/// accept whatever followed: after the setup's CRS (a second id for the same setup) and
/// inside a list proof's declared length (a second encoding of the same column).
#[test]
fn bytes_after_a_crs_or_inside_a_proof_are_refused() {
    let (_, setup) = fixture();
    let trailing = |r: Result<(), HeError>, doc: &str| {
        assert!(
            matches!(&r, Err(HeError::Format { what, reason })
                if what == doc && reason.ends_with("trailing bytes")),
            "{doc}: {r:?}"
        );
    };
    let bytes = setup.to_bytes();
    trailing(
        PublicSetup::from_bytes(&[bytes.as_slice(), &[0]].concat()).map(drop),
        "CRS",
    );
    // A column of one list: magic, setup id, session "q9", holder "a", list count, then the
    // list's index, count, proof length and proof.
    let column = encrypt_values(setup, "q9", "a", &[1, 2, 3]).unwrap();
    let bytes = column.to_bytes().unwrap();
    let len_at = 8 + 32 + (4 + 2) + (4 + 1) + 4 + 4 + 4;
    let len = u32::from_le_bytes(bytes[len_at..len_at + 4].try_into().unwrap());
    let mut grown = bytes.clone();
    grown[len_at..len_at + 4].copy_from_slice(&(len + 1).to_le_bytes());
    grown.insert(len_at + 4 + len as usize, 0);
    assert!(EncryptedColumn::from_bytes(&bytes, setup).is_ok());
    trailing(
        EncryptedColumn::from_bytes(&grown, setup).map(drop),
        "list proof",
    );
}
