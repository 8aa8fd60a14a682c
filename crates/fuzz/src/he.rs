//! Fuzz targets of trustspace-he's decoders: every JSON document of the ristretto path (key set,
//! authority, encrypted column, total, partial decryption, each DKG message and the any-kind
//! DKG decoder); the binary documents of the tfhe paths (`fhe_int`, `lwe_sum`) are in
//! `he_tfhe` (feature `tfhe`), with their contexts.
//!
//! Properties checked on what a decoder accepts:
//! - JSON documents decode equal: the re-encoding decodes to an equal value (`round_trips`
//!   where the type has `PartialEq`; otherwise the re-encoding re-encodes to itself,
//!   `canonical`), and every hex item of the re-encoding (points, ciphertexts, scalars,
//!   digests, ids) is in the input: a point is accepted only from its canonical ristretto255
//!   encoding, never normalised from another, so invalid points are refused.
//! - tfhe documents decode equal and hold no byte the decoder did not read: the re-encoding
//!   decodes and re-encodes to itself, and is as long as the input. (Not byte for byte: tfhe's
//!   own encoding is not canonical. It reads the native ciphertext modulus written as 0 or as
//!   2^64 and writes 0, and its versioned encodings read older versions' layouts too.) The
//!   `lwe_sum` sum holds no tfhe encoding and is canonical, byte for byte.
//! - the keys of the key targets are too large to reach (see below): those fuzz the envelope.
//!
//! Some targets go on with the golden fixtures of `crates/he/tests/golden`: a column made for
//! the golden key set and sum has its range proofs verified (refused or accepted, never a
//! panic); a partial decryption is combined with a golden one, and the result is the golden
//! total or a refusal, never another total.
//!
//! Work per input is capped: JSON inputs over 64 KiB are ignored (the decoders' own limits go
//! up to 512 MiB), and each tfhe target has its own cap. tfhe keys are too large for the
//! corpus (megabytes of CRS, a server key of a hundred), so the key targets fuzz the envelope
//! (lengths, ids, tfhe's header) with the key itself cut short.
//!
//! The tfhe contexts (public keys for `fhe_int`, a setup for `lwe_sum`) are generated once per
//! process in a `LazyLock`, which takes seconds: tfhe draws keys from the operating system, so
//! they cannot be made from a seed or committed small. Corpus documents that must name those
//! keys carry an all-zero id, which the harness replaces with the context's before decoding
//! (any other id reaches the decoder as is, and is refused as another key's).

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::LazyLock;

use trustspace_he::HeError;
use trustspace_he::ristretto::dkg::{
    Commitment, Complaint, ComplaintAnswer, Message, MessageKind, Reveal, SecretShare,
};
use trustspace_he::ristretto::{
    Aggregator, Authority, DlogTable, EncryptedColumn, EncryptedTotal, KeySet, MAX_TOTAL,
    PartialDecryption, SumSpec, ValueRange, decrypt_total,
};

use crate::Target;
use crate::props::{canonical, round_trips};

/// This crate's targets.
pub(crate) const TARGETS: &[Target] = &[
    Target {
        name: "he_public_key",
        about: "ristretto key set (KeySet::from_json): decode equal, canonical points",
        run: public_key,
    },
    Target {
        name: "he_secret_share",
        about: "ristretto authority with its secret share (Authority::from_secret_json)",
        run: secret_share,
    },
    Target {
        name: "he_ciphertext",
        about: "ristretto encrypted column (EncryptedColumn::from_json), proofs verified",
        run: ciphertext,
    },
    Target {
        name: "he_aggregate",
        about: "ristretto encrypted total (EncryptedTotal::from_json)",
        run: aggregate,
    },
    Target {
        name: "he_decryption_share",
        about: "ristretto partial decryption (PartialDecryption::from_json), then combined",
        run: decryption_share,
    },
    Target {
        name: "he_dkg_commitment",
        about: "DKG commitment (Commitment::from_json)",
        run: dkg_commitment,
    },
    Target {
        name: "he_dkg_reveal",
        about: "DKG reveal (Reveal::from_json)",
        run: dkg_reveal,
    },
    Target {
        name: "he_dkg_share",
        about: "DKG secret share (SecretShare::from_json)",
        run: dkg_share,
    },
    Target {
        name: "he_dkg_complaint",
        about: "DKG complaint (Complaint::from_json)",
        run: dkg_complaint,
    },
    Target {
        name: "he_dkg_answer",
        about: "DKG complaint answer (ComplaintAnswer::from_json)",
        run: dkg_answer,
    },
    Target {
        name: "he_dkg_message",
        about: "any DKG message (Message::from_json), agreeing with each kind's decoder",
        run: dkg_message,
    },
];

/// Largest JSON input a target decodes.
const MAX_JSON_INPUT: usize = 64 << 10;

// ---- JSON properties ----

/// The strings of a JSON text, escapes decoded, in order. The text is one a decoder accepted,
/// hence well-formed JSON: outside a string, a quote opens one.
fn json_strings(text: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut bytes = text.iter().copied();
    while let Some(b) = bytes.next() {
        if b != b'"' {
            continue;
        }
        let mut s = Vec::new();
        while let Some(b) = bytes.next() {
            match b {
                b'"' => break,
                b'\\' => match bytes.next() {
                    Some(b'u') => {
                        let digits: String = bytes.by_ref().take(4).map(char::from).collect();
                        let c = u32::from_str_radix(&digits, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .unwrap_or('\u{fffd}');
                        s.extend_from_slice(c.to_string().as_bytes());
                    }
                    Some(b'n') => s.push(b'\n'),
                    Some(b't') => s.push(b'\t'),
                    Some(b'r') => s.push(b'\r'),
                    Some(b'b') => s.push(8),
                    Some(b'f') => s.push(12),
                    Some(other) => s.push(other),
                    None => break,
                },
                other => s.push(other),
            }
        }
        out.push(String::from_utf8_lossy(&s).into_owned());
    }
    out
}

/// The hex items (strings of at least 64 hex digits, an even number) of a JSON text, in
/// lower case: the points, ciphertexts, scalars, digests and ids of a ristretto document.
fn hex_items(text: &[u8]) -> BTreeSet<String> {
    json_strings(text)
        .into_iter()
        .filter(|s| s.len() >= 64 && s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|s| s.to_ascii_lowercase())
        .collect()
}

/// Panics unless every hex item of `reencoded` is in `input` (hex digits in either case):
/// a decoder that accepted a non-canonical point (or scalar) and normalised it would write an
/// item the input does not hold.
fn carries_hex(what: &str, input: &[u8], reencoded: &str) {
    let held = hex_items(input);
    for item in hex_items(reencoded.as_bytes()) {
        assert!(
            held.contains(&item),
            "{what}: the re-encoding holds {}… which the accepted input does not: a \
             non-canonical encoding was accepted and normalised",
            &item[..16]
        );
    }
}

/// Checks an accepted JSON document of a type without `PartialEq`: its re-encoding decodes,
/// and re-encodes to itself (the encoding is a function of the decoded value), and carries
/// the input's hex items. Returns the re-decoded value.
fn json_stable<T>(
    what: &str,
    input: &[u8],
    value: &T,
    encode: impl Fn(&T) -> String,
    decode: impl Fn(&[u8]) -> Result<T, HeError>,
) -> T {
    let text = encode(value);
    carries_hex(what, input, &text);
    let again = decode(text.as_bytes()).unwrap_or_else(|e| {
        panic!("{what}: the encoding of an accepted document is refused: {e:?}")
    });
    canonical(what, text.as_bytes(), encode(&again).as_bytes());
    again
}

/// Checks an accepted JSON document of a type with `PartialEq`: decode equal, hex carried.
fn json_equal<T: PartialEq + Debug>(
    what: &str,
    input: &[u8],
    value: &T,
    encode: impl Fn(&T) -> String,
    decode: impl Fn(&[u8]) -> Result<T, HeError>,
) {
    carries_hex(what, input, &encode(value));
    round_trips(
        what,
        value,
        |v| encode(v),
        |t: &String| decode(t.as_bytes()),
    );
}

/// The input, unless it is over `cap` bytes.
pub(crate) fn capped(input: &[u8], cap: usize) -> Option<&[u8]> {
    (input.len() <= cap).then_some(input)
}

// ---- ristretto documents ----

/// The golden documents of `crates/he/tests/golden` the targets go on with.
struct Golden {
    key: KeySet,
    spec: SumSpec,
    total: EncryptedTotal,
    partial: PartialDecryption,
    table: DlogTable,
}

/// The golden total (the column's values 0, 7 and 1000).
const GOLDEN_TOTAL: i128 = 1007;

static GOLDEN: LazyLock<Golden> = LazyLock::new(|| Golden {
    key: KeySet::from_json(include_bytes!("../../he/tests/golden/key-set.json"))
        .expect("golden key set"),
    spec: SumSpec::new(
        "golden sum",
        ValueRange::unsigned(1000).expect("golden range"),
    )
    .expect("golden sum spec"),
    total: EncryptedTotal::from_json(include_bytes!("../../he/tests/golden/total.json"))
        .expect("golden total"),
    partial: PartialDecryption::from_json(include_bytes!(
        "../../he/tests/golden/partial-decryption-0.json"
    ))
    .expect("golden partial decryption"),
    table: DlogTable::new(3000).expect("dlog table"),
});

fn public_key(input: &[u8]) {
    let Some(input) = capped(input, MAX_JSON_INPUT) else {
        return;
    };
    if let Ok(key) = KeySet::from_json(input) {
        json_equal("key set", input, &key, KeySet::to_json, KeySet::from_json);
    }
}

fn secret_share(input: &[u8]) {
    let Some(input) = capped(input, MAX_JSON_INPUT) else {
        return;
    };
    if let Ok(authority) = Authority::from_secret_json(input) {
        let encode = |a: &Authority| a.to_secret_json().to_string();
        let again = json_stable(
            "authority",
            input,
            &authority,
            encode,
            Authority::from_secret_json,
        );
        assert_eq!(again.index(), authority.index(), "authority: index");
        assert_eq!(again.key_set(), authority.key_set(), "authority: key set");
    }
}

/// Columns of at most this many values have their proofs verified (a few ms each).
const MAX_VERIFIED_VALUES: usize = 4;

fn ciphertext(input: &[u8]) {
    let Some(input) = capped(input, MAX_JSON_INPUT) else {
        return;
    };
    let Ok(column) = EncryptedColumn::from_json(input) else {
        return;
    };
    let encode = |c: &EncryptedColumn| {
        c.to_json()
            .unwrap_or_else(|e| panic!("encrypted column: an accepted column does not encode: {e}"))
    };
    let again = json_stable(
        "encrypted column",
        input,
        &column,
        encode,
        EncryptedColumn::from_json,
    );
    let bytes = |c: &EncryptedColumn| -> Vec<[u8; 64]> {
        c.values().iter().map(|v| v.ciphertext_bytes()).collect()
    };
    assert_eq!(
        bytes(&again),
        bytes(&column),
        "encrypted column: ciphertexts"
    );
    let golden = &*GOLDEN;
    if column.key_id() == golden.key.id()
        && column.spec_id() == golden.spec.id()
        && column.len() <= MAX_VERIFIED_VALUES
    {
        let mut aggregator = Aggregator::new(&golden.key, &golden.spec);
        match aggregator.add_column(&column) {
            Ok(()) => assert_eq!(aggregator.count(), column.len() as u64),
            Err(HeError::InvalidRangeProof { .. }) => {}
            Err(e) => panic!("encrypted column: verification refused it with {e:?}"),
        }
    }
}

fn aggregate(input: &[u8]) {
    let Some(input) = capped(input, MAX_JSON_INPUT) else {
        return;
    };
    if let Ok(total) = EncryptedTotal::from_json(input) {
        assert!(
            total.bound() <= u128::from(MAX_TOTAL),
            "encrypted total: bound above MAX_TOTAL accepted"
        );
        json_equal(
            "encrypted total",
            input,
            &total,
            EncryptedTotal::to_json,
            EncryptedTotal::from_json,
        );
    }
}

fn decryption_share(input: &[u8]) {
    let Some(input) = capped(input, MAX_JSON_INPUT) else {
        return;
    };
    let Ok(partial) = PartialDecryption::from_json(input) else {
        return;
    };
    let again = json_stable(
        "partial decryption",
        input,
        &partial,
        PartialDecryption::to_json,
        PartialDecryption::from_json,
    );
    assert_eq!(again.share_bytes(), partial.share_bytes());
    // With the golden partial of authority 0: a partial that passes verification must
    // decrypt the golden total; any other is excluded.
    let g = &*GOLDEN;
    let partials = [g.partial.clone(), partial];
    match decrypt_total(&g.key, &g.total, &partials, &g.table) {
        Ok(total) => assert_eq!(
            total.units, GOLDEN_TOTAL,
            "partial decryption: a partial that verified decrypts another total"
        ),
        Err(HeError::NotEnoughPartials { .. }) => {}
        Err(e) => panic!("partial decryption: combining refused with {e:?}"),
    }
}

// ---- DKG messages ----

/// The text of a DKG message's document.
fn message_text(m: &Message) -> String {
    m.to_json().to_string()
}

/// Checks that the any-kind decoder reads `input` as a message of `kind` whose re-encoding
/// is `text` (the kind's own decoder's re-encoding).
fn agrees_with_any_kind(what: &str, input: &[u8], kind: MessageKind, text: &str) {
    match Message::from_json(input) {
        Ok(m) => {
            assert_eq!(
                m.kind(),
                kind,
                "{what}: the any-kind decoder reads another kind"
            );
            assert_eq!(
                message_text(&m),
                text,
                "{what}: the any-kind decoder reads another message"
            );
        }
        Err(e) => panic!("{what}: accepted by its kind's decoder, refused by Message: {e:?}"),
    }
}

fn dkg_commitment(input: &[u8]) {
    let Some(input) = capped(input, MAX_JSON_INPUT) else {
        return;
    };
    if let Ok(m) = Commitment::from_json(input) {
        let what = "DKG commitment";
        json_equal(what, input, &m, Commitment::to_json, Commitment::from_json);
        agrees_with_any_kind(what, input, MessageKind::Commitment, &m.to_json());
    }
}

fn dkg_reveal(input: &[u8]) {
    let Some(input) = capped(input, MAX_JSON_INPUT) else {
        return;
    };
    if let Ok(m) = Reveal::from_json(input) {
        let what = "DKG reveal";
        let again = json_stable(what, input, &m, Reveal::to_json, Reveal::from_json);
        assert_eq!(again.from, m.from, "{what}: sender");
        agrees_with_any_kind(what, input, MessageKind::Reveal, &m.to_json());
    }
}

fn dkg_share(input: &[u8]) {
    let Some(input) = capped(input, MAX_JSON_INPUT) else {
        return;
    };
    if let Ok(m) = SecretShare::from_json(input) {
        let what = "DKG secret share";
        let encode = |s: &SecretShare| s.to_json().to_string();
        let again = json_stable(what, input, &m, encode, SecretShare::from_json);
        assert_eq!((again.from, again.to), (m.from, m.to), "{what}: parties");
        agrees_with_any_kind(what, input, MessageKind::Share, &encode(&m));
    }
}

fn dkg_complaint(input: &[u8]) {
    let Some(input) = capped(input, MAX_JSON_INPUT) else {
        return;
    };
    if let Ok(m) = Complaint::from_json(input) {
        let what = "DKG complaint";
        json_equal(what, input, &m, Complaint::to_json, Complaint::from_json);
        agrees_with_any_kind(what, input, MessageKind::Complaint, &m.to_json());
    }
}

fn dkg_answer(input: &[u8]) {
    let Some(input) = capped(input, MAX_JSON_INPUT) else {
        return;
    };
    if let Ok(m) = ComplaintAnswer::from_json(input) {
        let what = "DKG complaint answer";
        json_equal(
            what,
            input,
            &m,
            ComplaintAnswer::to_json,
            ComplaintAnswer::from_json,
        );
        agrees_with_any_kind(what, input, MessageKind::Answer, &m.to_json());
    }
}

fn dkg_message(input: &[u8]) {
    let Some(input) = capped(input, MAX_JSON_INPUT) else {
        return;
    };
    let Ok(m) = Message::from_json(input) else {
        return;
    };
    let what = "DKG message";
    let text = message_text(&json_stable(
        what,
        input,
        &m,
        message_text,
        Message::from_json,
    ));
    // The kind's own decoder reads the input as the same message.
    let own = match m.kind() {
        MessageKind::Commitment => Commitment::from_json(input).map(|m| m.to_json()),
        MessageKind::Reveal => Reveal::from_json(input).map(|m| m.to_json()),
        MessageKind::Share => SecretShare::from_json(input).map(|m| m.to_json().to_string()),
        MessageKind::Complaint => Complaint::from_json(input).map(|m| m.to_json()),
        MessageKind::Answer => ComplaintAnswer::from_json(input).map(|m| m.to_json()),
    };
    match own {
        Ok(own) => assert_eq!(
            own, text,
            "{what}: the kind's decoder reads another message"
        ),
        Err(e) => panic!("{what}: accepted by Message, refused by its kind's decoder: {e:?}"),
    }
}
