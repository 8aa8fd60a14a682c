//! The exchange format: documents round trip, non-canonical points and malformed documents
//! are refused with their cause, and secrets stay out of `Debug` output.

use trustspace_he::HeError;
use trustspace_he::error::JsonCause;
use trustspace_he::ristretto::dkg::{self, DkgParticipant, SecretShare};
use trustspace_he::ristretto::{
    Authority, DlogTable, EncryptedColumn, EncryptedTotal, KeySet, PartialDecryption, SumSpec,
    ValueRange, aggregate, decrypt_total, encrypt_encodings,
};

use crate::common::rng;

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
    let p = DkgParticipant::new(3, 2, 0, &mut r).unwrap();
    let reveal_json = p.reveal().unwrap().1.to_json();
    let v: serde_json::Value = serde_json::from_str(&reveal_json).unwrap();
    let coeff = v["polynomial"][1].as_str().unwrap().to_string();
    let decoded = dkg::Reveal::from_json(reveal_json.as_bytes()).unwrap();
    assert_eq!(decoded.to_json(), reveal_json);
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

    // Wrong version, wrong kind, unknown field, garbage, oversized.
    let kj = key.to_json();
    let err =
        KeySet::from_json(kj.replace("\"version\":1", "\"version\":2").as_bytes()).unwrap_err();
    assert!(
        matches!(
            &err,
            HeError::UnsupportedVersion {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err}"
    );
    let err = KeySet::from_json(
        kj.replace("he-ristretto-key-set", "he-ristretto-total")
            .as_bytes(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, HeError::WrongKind { found, expected: "he-ristretto-key-set", .. }
            if found == "he-ristretto-total"),
        "{err}"
    );
    let err = KeySet::from_json(kj.replacen('{', "{\"extra\":1,", 1).as_bytes()).unwrap_err();
    assert!(
        matches!(
            &err,
            HeError::Json {
                cause: JsonCause::Shape,
                ..
            }
        ),
        "{err}"
    );
    let err = KeySet::from_json(b"not json").unwrap_err();
    assert!(
        matches!(
            &err,
            HeError::Json {
                cause: JsonCause::Syntax,
                ..
            }
        ),
        "{err}"
    );
    let huge = vec![b' '; (1 << 20) + 1];
    assert!(matches!(
        KeySet::from_json(&huge),
        Err(HeError::TooLarge { limit, .. }) if limit == 1 << 20
    ));
    let huge = vec![b' '; (64 << 10) + 1];
    assert!(matches!(
        PartialDecryption::from_json(&huge),
        Err(HeError::TooLarge { limit, .. }) if limit == 64 << 10
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
    assert!(matches!(
        Authority::from_secret_json(forged.as_bytes()),
        Err(HeError::ShareMismatch { authority: 1 })
    ));
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
    let message = dkg::Message::Share(share);
    assert!(!format!("{message:?}").contains("[7, 7"));
}
