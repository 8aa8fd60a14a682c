//! Damaged copies of the golden documents are refused, each with the cause it should carry:
//! truncated, bit-flipped (in the syntax, in a field name, in a value that matters), oversized,
//! of another version or kind.

use trustspace_he::HeError;
use trustspace_he::error::{Exclusion, JsonCause};
use trustspace_he::ristretto::dkg::{
    Commitment, Complaint, ComplaintAnswer, ComplaintReason, Message, MessageKind, Misbehaviour,
    Reveal, SecretShare, Violation,
};
use trustspace_he::ristretto::wire::{
    MAX_DKG_DOC_BYTES, MAX_KEY_DOC_BYTES, MAX_SECRET_DOC_BYTES, MAX_SMALL_DOC_BYTES,
};
use trustspace_he::ristretto::{
    Authority, DlogTable, EncryptedColumn, EncryptedTotal, KeySet, PartialDecryption, aggregate,
    decrypt_total,
};

use super::ristretto::replay;
use super::{
    AUTHORITY, COLUMN, KEY_SET, PARTIAL_0, PARTIAL_2, TOTAL_DOC, decoded, read, spec, transcript,
};

/// A decoder of one document format.
type Decode = fn(&[u8]) -> Result<(), HeError>;

/// A golden document, its decoder and its size limit.
struct Doc {
    name: String,
    bytes: Vec<u8>,
    decode: Decode,
    limit: usize,
}

fn doc(name: &str, bytes: Vec<u8>, decode: Decode, limit: usize) -> Doc {
    Doc {
        name: name.to_string(),
        bytes,
        decode,
        limit,
    }
}

/// Every JSON golden document, each DKG message under its kind's decoder and the any-kind one.
fn documents() -> Vec<Doc> {
    let mut docs = vec![
        doc(
            KEY_SET,
            read(KEY_SET),
            |b| KeySet::from_json(b).map(drop),
            MAX_KEY_DOC_BYTES,
        ),
        doc(
            AUTHORITY,
            read(AUTHORITY),
            |b| Authority::from_secret_json(b).map(drop),
            MAX_SECRET_DOC_BYTES,
        ),
        // (Its limit, 512 MiB, is too large to exceed in a test: the size check is the same
        // code as for the others.)
        doc(
            COLUMN,
            read(COLUMN),
            |b| EncryptedColumn::from_json(b).map(drop),
            0,
        ),
        doc(
            TOTAL_DOC,
            read(TOTAL_DOC),
            |b| EncryptedTotal::from_json(b).map(drop),
            MAX_SMALL_DOC_BYTES,
        ),
    ];
    for name in [PARTIAL_0, PARTIAL_2] {
        docs.push(doc(
            name,
            read(name),
            |b| PartialDecryption::from_json(b).map(drop),
            MAX_SMALL_DOC_BYTES,
        ));
    }
    for (i, line) in transcript().into_iter().enumerate() {
        let kind = Message::from_json(line.as_bytes()).unwrap().kind();
        let decode: Decode = match kind {
            MessageKind::Commitment => |b| Commitment::from_json(b).map(drop),
            MessageKind::Reveal => |b| Reveal::from_json(b).map(drop),
            MessageKind::Share => |b| SecretShare::from_json(b).map(drop),
            MessageKind::Complaint => |b| Complaint::from_json(b).map(drop),
            MessageKind::Answer => |b| ComplaintAnswer::from_json(b).map(drop),
        };
        let name = format!("transcript line {i} ({kind})");
        docs.push(doc(
            &name,
            line.clone().into_bytes(),
            decode,
            MAX_DKG_DOC_BYTES,
        ));
        docs.push(doc(
            &format!("{name}, any kind"),
            line.into_bytes(),
            |b| Message::from_json(b).map(drop),
            MAX_DKG_DOC_BYTES,
        ));
    }
    docs
}

fn is_json(err: &HeError, want: JsonCause) -> bool {
    matches!(err, HeError::Json { cause, .. } if *cause == want)
}

#[test]
fn truncated_golden_documents_are_refused_as_truncated() {
    for d in documents() {
        (d.decode)(&d.bytes).unwrap_or_else(|e| panic!("{}: {e}", d.name));
        for cut in [0, 1, d.bytes.len() / 2, d.bytes.len() - 1] {
            let err = (d.decode)(&d.bytes[..cut]).unwrap_err();
            assert!(
                is_json(&err, JsonCause::Truncated),
                "{} cut at {cut}: {err}",
                d.name
            );
        }
    }
}

#[test]
fn bit_flips_in_the_syntax_or_a_field_name_are_refused() {
    for d in documents() {
        // `{` becomes `z`: not JSON.
        let mut bytes = d.bytes.clone();
        bytes[0] ^= 0x01;
        let err = (d.decode)(&bytes).unwrap_err();
        assert!(is_json(&err, JsonCause::Syntax), "{}: {err}", d.name);
        // `"version"` becomes `"Version"`: the field is unknown and `version` missing.
        let mut bytes = d.bytes.clone();
        let at = find(&bytes, b"\"version\"") + 1;
        bytes[at] ^= 0x20;
        let err = (d.decode)(&bytes).unwrap_err();
        assert!(is_json(&err, JsonCause::Shape), "{}: {err}", d.name);
    }
}

#[test]
fn oversized_golden_documents_are_refused_before_parsing() {
    for d in documents().into_iter().filter(|d| d.limit > 0) {
        let mut bytes = d.bytes.clone();
        bytes.resize(d.limit + 1, b' ');
        let err = (d.decode)(&bytes).unwrap_err();
        assert!(
            matches!(&err, HeError::TooLarge { size, limit, unit: "bytes", .. }
                if *size == d.limit as u64 + 1 && *limit == d.limit as u64),
            "{}: {err}",
            d.name
        );
        // Whitespace up to the limit is still a document.
        bytes.truncate(d.limit);
        (d.decode)(&bytes).unwrap_or_else(|e| panic!("{}: {e}", d.name));
    }
}

#[test]
fn golden_documents_of_another_version_or_kind_are_refused() {
    for d in documents() {
        let text = String::from_utf8(d.bytes.clone()).unwrap();
        for version in [0u32, 2, u32::MAX] {
            let other = text.replacen("\"version\":1", &format!("\"version\":{version}"), 1);
            let err = (d.decode)(other.as_bytes()).unwrap_err();
            assert!(
                matches!(&err, HeError::UnsupportedVersion { found, supported: 1, .. }
                    if *found == version),
                "{}: {err}",
                d.name
            );
        }
        let kind: serde_json::Value = serde_json::from_str(&text).unwrap();
        let kind = kind["kind"].as_str().unwrap().to_string();
        let other = text.replacen(&kind, "he-ristretto-something-else", 1);
        let err = (d.decode)(other.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, HeError::WrongKind { found, expected, .. }
                if found == "he-ristretto-something-else"
                    && (*expected == kind || *expected == "he-ristretto-dkg-*")),
            "{}: {err}",
            d.name
        );
    }
    // A DKG message of one kind is not another kind.
    let commitment = transcript().remove(0);
    assert!(matches!(
        Reveal::from_json(commitment.as_bytes()),
        Err(HeError::WrongKind { found, expected: "he-ristretto-dkg-reveal", .. })
            if found == "he-ristretto-dkg-commitment"
    ));
    // Nor is a key set a total (its fields are not a total's, which is found first).
    assert!(matches!(
        EncryptedTotal::from_json(&read(KEY_SET)),
        Err(HeError::Json {
            cause: JsonCause::Shape,
            ..
        })
    ));
}

/// The position of `needle` in `bytes`.
fn find(bytes: &[u8], needle: &[u8]) -> usize {
    bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("field present")
}

/// `doc` with the lowest bit of the first decimal digit in `field`'s value flipped: the value
/// stays well formed (a digit stays a digit) but changes.
fn flip_digit(doc: &str, field: &str) -> String {
    let mut bytes = doc.as_bytes().to_vec();
    let start = find(&bytes, format!("\"{field}\":").as_bytes());
    let at = start
        + bytes[start..]
            .iter()
            .skip(field.len() + 3)
            .position(u8::is_ascii_digit)
            .expect("a digit in the value")
        + field.len()
        + 3;
    bytes[at] ^= 0x01;
    String::from_utf8(bytes).unwrap()
}

#[test]
fn bit_flips_in_values_are_caught_where_they_matter() {
    let golden = decoded();
    let table = DlogTable::new(3000).unwrap();
    let text = |name| String::from_utf8(read(name)).unwrap();

    // Key set and authority documents check their own consistency.
    let err = KeySet::from_json(flip_digit(&text(KEY_SET), "key_id").as_bytes()).unwrap_err();
    assert!(matches!(err, HeError::KeyMismatch { .. }), "{err}");
    let err = Authority::from_secret_json(flip_digit(&text(AUTHORITY), "secret_share").as_bytes())
        .unwrap_err();
    assert!(
        matches!(err, HeError::ShareMismatch { authority: 1 }),
        "{err}"
    );

    // A column's header is checked by the aggregator.
    let spec_mismatch: fn(&HeError) -> bool = |e| matches!(e, HeError::SpecMismatch { .. });
    let key_mismatch: fn(&HeError) -> bool = |e| matches!(e, HeError::KeyMismatch { .. });
    for (field, check) in [("sum_spec", spec_mismatch), ("key_id", key_mismatch)] {
        let column = EncryptedColumn::from_json(flip_digit(&text(COLUMN), field).as_bytes())
            .expect("the header decodes");
        let err = aggregate(&golden.key, &spec(), &[column]).unwrap_err();
        assert!(check(&err), "{field}: {err}");
    }

    // A total with another count is another total: no partial decrypts it.
    let total = EncryptedTotal::from_json(flip_digit(&text(TOTAL_DOC), "count").as_bytes())
        .expect("the total decodes");
    assert_eq!(total.count(), 2);
    match decrypt_total(&golden.key, &total, &golden.partials, &table) {
        Err(HeError::NotEnoughPartials {
            valid: 0,
            needed: 2,
            excluded,
        }) => assert!(excluded.iter().all(|e| e.reason == Exclusion::OtherTotal)),
        other => panic!("expected NotEnoughPartials, got {other:?}"),
    }
    // A partial naming another total, or another authority, is excluded with that cause.
    let other_total: fn(&Exclusion) -> bool = |r| *r == Exclusion::OtherTotal;
    let bad_proof: fn(&Exclusion) -> bool = |r| matches!(r, Exclusion::InvalidProof { .. });
    for (field, check) in [("total", other_total), ("authority", bad_proof)] {
        let p0 = PartialDecryption::from_json(flip_digit(&text(PARTIAL_0), field).as_bytes())
            .expect("the partial decodes");
        let p2 = PartialDecryption::from_json(&read(PARTIAL_2)).unwrap();
        match decrypt_total(&golden.key, &golden.total, &[p0, p2], &table) {
            Err(HeError::NotEnoughPartials {
                valid: 1, excluded, ..
            }) => {
                assert_eq!(excluded.len(), 1, "{field}");
                assert!(check(&excluded[0].reason), "{field}: {:?}", excluded[0]);
            }
            other => panic!("{field}: expected NotEnoughPartials, got {other:?}"),
        }
    }
}

/// The index of the `nth` transcript line of `kind`.
fn line_of(lines: &[String], kind: MessageKind, nth: usize) -> usize {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| Message::from_json(l.as_bytes()).unwrap().kind() == kind)
        .nth(nth)
        .expect("such a line")
        .0
}

#[test]
fn bit_flips_in_the_dkg_transcript_are_caught_by_the_protocol() {
    let golden = transcript();
    let flipped = |kind, nth, field| {
        let mut lines = golden.clone();
        let i = line_of(&lines, kind, nth);
        lines[i] = flip_digit(&lines[i], field);
        lines
    };
    // A commitment or a reveal that no longer match: the sender is disqualified.
    for (kind, nth) in [(MessageKind::Commitment, 0), (MessageKind::Reveal, 1)] {
        let field = if kind == MessageKind::Commitment {
            "digest"
        } else {
            "opening"
        };
        let err = replay(&flipped(kind, nth, field)).err().expect("refused");
        assert!(
            matches!(&err, HeError::Disqualified { party, reason: Misbehaviour::RevealMismatch }
                if *party == nth as u32),
            "{kind}: {err}"
        );
    }
    // A share that does not verify: its receiver complains.
    let lines = flipped(MessageKind::Share, 0, "share");
    let share = Message::from_json(lines[line_of(&lines, MessageKind::Share, 0)].as_bytes());
    let Ok(Message::Share(share)) = share else {
        panic!("a share")
    };
    let replayed = replay(&lines).expect("the run goes on");
    assert!(replayed.complaints.contains(&Complaint {
        from: share.to,
        against: share.from,
        reason: ComplaintReason::Invalid,
    }));
    // A complaint against an authority beyond n is refused.
    let err = replay(&flipped(MessageKind::Complaint, 0, "against"))
        .err()
        .expect("refused");
    assert!(
        matches!(
            err,
            HeError::DkgProtocol(Violation::InvalidComplaint {
                from: 0,
                against: 3,
                authorities: 3
            })
        ),
        "{err}"
    );
    // An answer whose share is wrong disqualifies the dealer.
    let err = replay(&flipped(MessageKind::Answer, 0, "share"))
        .err()
        .expect("refused");
    assert!(
        matches!(
            err,
            HeError::Disqualified {
                party: 2,
                reason: Misbehaviour::InvalidAnswer { accuser: 0 }
            }
        ),
        "{err}"
    );
}
