//! The seed corpora of this crate's fuzz targets (`fuzz/corpus/he_*`, replayed and mutated by
//! `cargo test -p trustspace-fuzz`): documents from the golden files and the encoders, and
//! damaged copies. A file's name says what its target's decoder does with it: `ok-*` is
//! accepted, `<cause>-*` is refused with that cause ([`cause`]: the `HeError` variant).
//!
//! The names are checked here with the crate's tests, so a corpus cannot silently stop
//! reaching the decoders' deep paths. The files are written by [`write_fuzz_corpus`]
//! (`TRUSTSPACE_HE_BLESS=1 cargo test -p trustspace-he --locked ristretto_corpus`):
//! the ristretto ones from the golden documents (the same bytes every time), the tfhe ones
//! under keys made for the occasion (tfhe draws keys from the operating system). tfhe
//! documents that name their keys carry an all-zero key id, which the fuzz targets, and the
//! check here, replace with the id of the keys in use.

use std::path::PathBuf;

use serde_json::Value;
use trustspace_he::HeError;
use trustspace_he::ristretto::dkg::{
    Commitment, Complaint, ComplaintAnswer, Message, MessageKind, Reveal, SecretShare,
};
use trustspace_he::ristretto::{
    Authority, EncryptedColumn, EncryptedTotal, KeySet, MAX_TOTAL, PartialDecryption,
};

/// The cause a refused file's name starts with.
fn cause(e: &HeError) -> &'static str {
    match e {
        HeError::Format { .. } => "format",
        HeError::Json { .. } => "json",
        HeError::UnsupportedVersion { .. } => "version",
        HeError::WrongKind { .. } => "kind",
        HeError::MalformedPoint { .. } => "point",
        HeError::IdentityPoint { .. } => "identity",
        HeError::MalformedScalar { .. } => "scalar",
        HeError::ShareMismatch { .. } => "share_mismatch",
        HeError::TooLarge { .. } => "too_large",
        HeError::TotalBound { .. } => "total_bound",
        HeError::KeyMismatch { .. } => "key_mismatch",
        HeError::CountExceeded { .. } => "count_exceeded",
        HeError::InvalidParameter { .. } => "parameter",
        HeError::NoiseBudget { .. } => "noise_budget",
        _ => "other",
    }
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

/// The files of target `target`'s corpus, by name.
fn files(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir().join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// Checks every file of `target` against its name with `decode`.
fn check(target: &str, decode: impl Fn(&[u8]) -> Result<(), HeError>) {
    let files = files(target);
    assert!(
        (3..=12).contains(&files.len()),
        "{target}: {} files",
        files.len()
    );
    for (name, bytes) in files {
        let (expected, _) = name.split_once('-').expect("<cause>-<what>");
        match decode(&bytes) {
            Ok(()) => assert_eq!(expected, "ok", "{target}/{name} is accepted"),
            Err(e) => assert_eq!(expected, cause(&e), "{target}/{name}: {e}"),
        }
    }
}

/// `bytes` with an all-zero 32-byte key id at `at` replaced by `id` (what the fuzz targets do).
#[cfg(feature = "tfhe")]
fn with_id(bytes: &[u8], at: usize, id: &[u8; 32]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if out
        .get(at..at + 32)
        .is_some_and(|f| f.iter().all(|&b| b == 0))
    {
        out[at..at + 32].copy_from_slice(id);
    }
    out
}

#[test]
fn ristretto_corpus_files_are_decoded_as_named() {
    check("he_public_key", |b| KeySet::from_json(b).map(drop));
    check("he_secret_share", |b| {
        Authority::from_secret_json(b).map(drop)
    });
    check("he_ciphertext", |b| EncryptedColumn::from_json(b).map(drop));
    check("he_aggregate", |b| EncryptedTotal::from_json(b).map(drop));
    check("he_decryption_share", |b| {
        PartialDecryption::from_json(b).map(drop)
    });
    check("he_dkg_commitment", |b| Commitment::from_json(b).map(drop));
    check("he_dkg_reveal", |b| Reveal::from_json(b).map(drop));
    check("he_dkg_share", |b| SecretShare::from_json(b).map(drop));
    check("he_dkg_complaint", |b| Complaint::from_json(b).map(drop));
    check("he_dkg_answer", |b| ComplaintAnswer::from_json(b).map(drop));
    check("he_dkg_message", |b| Message::from_json(b).map(drop));
}

#[cfg(feature = "tfhe")]
#[test]
fn tfhe_corpus_files_are_decoded_as_named() {
    use trustspace_he::fhe_int::{self, AggregatorKeys, Contribution, IntParams, KeyHolder};
    use trustspace_he::lwe_sum::{self, EncryptedSum, PublicSetup};

    check("he_fhe_verdict", |b| {
        fhe_int::EncryptedVerdict::from_bytes(b).map(drop)
    });
    check("he_fhe_value", |b| {
        fhe_int::EncryptedValue::from_bytes(b).map(drop)
    });
    check("he_fhe_public_keys", |b| {
        fhe_int::PublicKeys::from_bytes(b).map(drop)
    });
    // The tests' keys and setup: documents are checked against their sizes, not their keys.
    let keys = crate::fhe_int::keys();
    let id = keys.public.id();
    let params = IntParams::new(40, 1000, 1).unwrap();
    check("he_fhe_contribution", |b| {
        Contribution::from_bytes(b, &keys.public, &params).map(drop)
    });
    check("he_fhe_server_key", |b| {
        AggregatorKeys::from_server_key_bytes(&with_id(b, 0, &id), keys.public.clone()).map(drop)
    });
    check("he_fhe_client_key", |b| {
        KeyHolder::from_bytes(&with_id(b, 0, &id), &keys.public).map(drop)
    });
    let (_, setup) = crate::lwe_sum::fixture();
    check("he_lwe_setup", |b| PublicSetup::from_bytes(b).map(drop));
    check("he_lwe_secret_key", |b| {
        lwe_sum::SecretKey::from_bytes(&with_id(b, 8, &setup.id()), setup).map(drop)
    });
    check("he_lwe_column", |b| {
        lwe_sum::EncryptedColumn::from_bytes(b, setup).map(drop)
    });
    check("he_lwe_sum", |b| {
        EncryptedSum::from_bytes(b, setup).map(drop)
    });
}

// ---- writing ----

/// One corpus file: target, name, contents.
type File = (&'static str, String, Vec<u8>);

fn golden(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `doc` with `edit` applied to its JSON value (re-serialized: field order may change).
fn edit(doc: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_str(doc).unwrap();
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

/// A non-canonical point encoding: s = 1, which is odd ("negative").
const ODD_POINT: &str = "0100000000000000000000000000000000000000000000000000000000000000";
const ZERO_POINT: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn file(target: &'static str, name: &str, bytes: impl Into<Vec<u8>>) -> File {
    (target, name.to_string(), bytes.into())
}

fn ristretto_files() -> Vec<File> {
    let mut out = Vec::new();
    let t = "he_public_key";
    let key = golden("key-set.json");
    let joint = serde_json::from_str::<Value>(&key).unwrap()["joint_key"]
        .as_str()
        .unwrap()
        .to_string();
    out.extend([
        file(t, "ok-golden.json", key.clone()),
        file(
            t,
            "ok-uppercase-hex.json",
            key.replace(&joint, &joint.to_uppercase()),
        ),
        file(
            t,
            "point-joint-key-odd.json",
            key.replace(&joint, ODD_POINT),
        ),
        file(
            t,
            "identity-share-key.json",
            edit(&key, |v| v["share_keys"][0] = ZERO_POINT.into()),
        ),
        file(
            t,
            "format-joint-key-not-interpolated.json",
            edit(&key, |v| v["joint_key"] = v["share_keys"][1].clone()),
        ),
        file(
            t,
            "key_mismatch-key-id.json",
            edit(&key, |v| v["key_id"] = ZERO_POINT.into()),
        ),
        file(t, "json-truncated.json", &key.as_bytes()[..key.len() / 2]),
        file(t, "version-2.json", edit(&key, |v| v["version"] = 2.into())),
        file(
            t,
            "kind-total.json",
            edit(&key, |v| v["kind"] = "he-ristretto-total".into()),
        ),
    ]);

    let t = "he_secret_share";
    let auth = golden("authority-1.json");
    out.extend([
        file(t, "ok-golden.json", auth.clone()),
        file(
            t,
            "share_mismatch-other-scalar.json",
            edit(&auth, |v| v["secret_share"] = ODD_POINT.into()),
        ),
        file(
            t,
            "scalar-not-reduced.json",
            edit(&auth, |v| v["secret_share"] = "ff".repeat(32).into()),
        ),
        file(
            t,
            "format-index-3.json",
            edit(&auth, |v| v["index"] = 3.into()),
        ),
        file(
            t,
            "point-key-set-share-key.json",
            edit(&auth, |v| v["key_set"]["share_keys"][2] = ODD_POINT.into()),
        ),
        file(
            t,
            "json-unknown-field.json",
            edit(&auth, |v| v["extra"] = 1.into()),
        ),
    ]);

    let t = "he_ciphertext";
    let col = golden("encrypted-column.json");
    let ct = |i: usize| {
        serde_json::from_str::<Value>(&col).unwrap()["values"][i]["ciphertext"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (c0, c1) = (ct(0), ct(1));
    out.extend([
        file(t, "ok-golden.json", col.clone()),
        file(
            t,
            "ok-swapped-ciphertexts.json",
            col.replace(&c0, "#").replace(&c1, &c0).replace('#', &c1),
        ),
        file(
            t,
            "ok-empty.json",
            edit(&col, |v| v["values"] = Value::Array(vec![])),
        ),
        file(
            t,
            "point-blinded-element.json",
            col.replace(&c0, &format!("{}{ODD_POINT}", &c0[..64])),
        ),
        file(
            t,
            "identity-random-element.json",
            col.replace(&c0, &format!("{ZERO_POINT}{}", &c0[64..])),
        ),
        file(
            t,
            "format-short-ciphertext.json",
            col.replace(&c0, &c0[2..]),
        ),
        file(
            t,
            "json-range-proof-field.json",
            col.replacen("partial_ciphertexts", "partial_ciphertextz", 1),
        ),
        file(
            t,
            "kind-total.json",
            edit(&col, |v| v["kind"] = "he-ristretto-total".into()),
        ),
    ]);

    let t = "he_aggregate";
    let total = golden("total.json");
    let tct = serde_json::from_str::<Value>(&total).unwrap()["ciphertext"]
        .as_str()
        .unwrap()
        .to_string();
    out.extend([
        file(t, "ok-golden.json", total.clone()),
        file(
            t,
            "ok-empty.json",
            edit(&total, |v| {
                v["count"] = 0.into();
                v["ciphertext"] = "00".repeat(64).into();
            }),
        ),
        file(
            t,
            "total_bound-count.json",
            edit(&total, |v| v["count"] = MAX_TOTAL.into()),
        ),
        file(
            t,
            "format-span-zero.json",
            edit(&total, |v| v["span"] = 0.into()),
        ),
        file(
            t,
            "format-scale-19.json",
            edit(&total, |v| v["scale"] = 19.into()),
        ),
        file(
            t,
            "format-offset-not-integer.json",
            edit(&total, |v| v["offset_units"] = "1.5".into()),
        ),
        file(
            t,
            "point-random-element.json",
            total.replace(&tct, &format!("{ODD_POINT}{}", &tct[64..])),
        ),
    ]);

    let t = "he_decryption_share";
    let p0 = golden("partial-decryption-0.json");
    out.extend([
        file(t, "ok-golden-0.json", p0.clone()),
        file(t, "ok-golden-2.json", golden("partial-decryption-2.json")),
        file(
            t,
            "ok-claims-authority-1.json",
            edit(&p0, |v| v["authority"] = 1.into()),
        ),
        file(
            t,
            "point-share.json",
            edit(&p0, |v| v["share"] = ODD_POINT.into()),
        ),
        file(
            t,
            "scalar-proof.json",
            edit(&p0, |v| v["proof"] = "ff".repeat(64).into()),
        ),
        file(
            t,
            "format-proof-short.json",
            edit(&p0, |v| v["proof"] = "00".repeat(63).into()),
        ),
        file(t, "version-0.json", edit(&p0, |v| v["version"] = 0.into())),
    ]);

    out.extend(dkg_files());
    out
}

fn dkg_files() -> Vec<File> {
    let lines: Vec<String> = golden("dkg-transcript.jsonl")
        .lines()
        .map(str::to_string)
        .collect();
    let of = |kind: MessageKind| -> Vec<String> {
        lines
            .iter()
            .filter(|l| Message::from_json(l.as_bytes()).unwrap().kind() == kind)
            .cloned()
            .collect()
    };
    let commitments = of(MessageKind::Commitment);
    let reveals = of(MessageKind::Reveal);
    let shares = of(MessageKind::Share);
    let complaints = of(MessageKind::Complaint);
    let answers = of(MessageKind::Answer);
    let mut out = Vec::new();

    let t = "he_dkg_commitment";
    out.extend([
        file(t, "ok-from-0.json", commitments[0].clone()),
        file(t, "ok-from-2.json", commitments[2].clone()),
        file(
            t,
            "format-digest-short.json",
            edit(&commitments[0], |v| v["digest"] = "00".into()),
        ),
        file(
            t,
            "json-extra-field.json",
            edit(&commitments[1], |v| v["extra"] = true.into()),
        ),
        file(t, "kind-reveal.json", reveals[0].clone()),
        file(
            t,
            "version-2.json",
            edit(&commitments[1], |v| v["version"] = 2.into()),
        ),
    ]);

    let t = "he_dkg_reveal";
    let coefficient = |i: usize| {
        serde_json::from_str::<Value>(&reveals[i]).unwrap()["polynomial"][1]
            .as_str()
            .unwrap()
            .to_string()
    };
    out.extend([
        file(t, "ok-from-0.json", reveals[0].clone()),
        file(t, "ok-from-1.json", reveals[1].clone()),
        file(
            t,
            "point-coefficient.json",
            reveals[1].replace(&coefficient(1), ODD_POINT),
        ),
        file(
            t,
            "identity-coefficient.json",
            reveals[2].replace(&coefficient(2), ZERO_POINT),
        ),
        file(
            t,
            "json-proof-field.json",
            edit(&reveals[0], |v| {
                let doc = v.as_object_mut().unwrap();
                let pop = doc.remove("proof_of_possession").unwrap();
                doc.insert("proof".into(), pop);
            }),
        ),
        file(t, "kind-commitment.json", commitments[0].clone()),
    ]);

    let t = "he_dkg_share";
    out.extend([
        file(t, "ok-first.json", shares[0].clone()),
        file(
            t,
            "ok-bad-share-sent.json",
            shares
                .iter()
                .find(|s| s.contains(&"09".repeat(32)))
                .cloned()
                .expect("the scenario's bad share"),
        ),
        file(
            t,
            "format-not-hex.json",
            edit(&shares[1], |v| v["share"] = "zz".repeat(32).into()),
        ),
        file(t, "kind-answer.json", answers[0].clone()),
    ]);

    let t = "he_dkg_complaint";
    out.extend([
        file(t, "ok-first.json", complaints[0].clone()),
        file(t, "ok-second.json", complaints[1].clone()),
        file(
            t,
            "json-reason-unknown.json",
            edit(&complaints[0], |v| v["reason"] = "late".into()),
        ),
        file(t, "kind-share.json", shares[0].clone()),
    ]);

    let t = "he_dkg_answer";
    out.extend([
        file(t, "ok-first.json", answers[0].clone()),
        file(t, "ok-second.json", answers[1].clone()),
        file(
            t,
            "format-share-short.json",
            edit(&answers[0], |v| v["share"] = "00".repeat(31).into()),
        ),
        file(t, "kind-complaint.json", complaints[0].clone()),
    ]);

    let t = "he_dkg_message";
    out.extend([
        file(t, "ok-commitment.json", commitments[1].clone()),
        file(t, "ok-reveal.json", reveals[2].clone()),
        file(t, "ok-share.json", shares[2].clone()),
        file(t, "ok-complaint.json", complaints[1].clone()),
        file(t, "ok-answer.json", answers[1].clone()),
        file(
            t,
            "kind-unknown.json",
            edit(&commitments[0], |v| {
                v["kind"] = "he-ristretto-dkg-vote".into()
            }),
        ),
        file(
            t,
            "version-2.json",
            edit(&answers[0], |v| v["version"] = 2.into()),
        ),
    ]);
    out
}

/// A writer that keeps the first `limit` bytes and then fails: the head of an encoding too
/// large to commit (a server key).
#[cfg(feature = "tfhe")]
struct Head {
    bytes: Vec<u8>,
    limit: usize,
}

#[cfg(feature = "tfhe")]
impl std::io::Write for Head {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.limit - self.bytes.len();
        if room == 0 {
            return Err(std::io::Error::other("enough"));
        }
        let n = room.min(buf.len());
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `bytes` with `n` bytes appended.
#[cfg(feature = "tfhe")]
fn plus(bytes: &[u8], n: usize) -> Vec<u8> {
    [bytes, &vec![0; n]].concat()
}

#[cfg(feature = "tfhe")]
fn tfhe_files() -> Vec<File> {
    use trustspace_he::fhe_int::{self, IntParams};
    use trustspace_he::lwe_sum::{self, SumParams};

    let keys = crate::fhe_int::keys();
    let mut out = Vec::new();

    let t = "he_fhe_verdict";
    let verdict = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/fhe-int-verdict.bin"),
    )
    .unwrap();
    let mut v2 = verdict.clone();
    v2[7] = b'2';
    out.extend([
        file(t, "ok-golden.bin", verdict.clone()),
        file(t, "format-trailing-byte.bin", plus(&verdict, 1)),
        file(t, "format-truncated.bin", &verdict[..100]),
        file(t, "format-magic-v2.bin", v2),
    ]);

    // A total in 16 bits (8-bit values, at most 4 rows): the smallest encrypted value.
    let t = "he_fhe_value";
    let small = IntParams::new(4, 255, 1).unwrap();
    let c = fhe_int::encrypt_values(&keys.public, &small, "corpus", "a", &[200, 100]).unwrap();
    let totals = fhe_int::aggregate(&keys.aggregator, &small, "corpus", &[c]).unwrap();
    let value = totals.total(0).unwrap().to_bytes().unwrap();
    // Refused at the tag: the head of the value is enough.
    let mut tag8 = value[..2048].to_vec();
    tag8[40] = 8;
    out.extend([
        file(t, "ok-u16-total.bin", value.clone()),
        file(t, "format-width-tag-8.bin", tag8),
        file(t, "format-trailing-byte.bin", plus(&value, 1)),
        file(t, "format-truncated.bin", &value[..4096]),
    ]);

    // 16-bit values, at most 40 rows (the fuzz target's declaration): one list of 128.
    let t = "he_fhe_contribution";
    let params = IntParams::new(40, 1000, 1).unwrap();
    let c = fhe_int::encrypt_values(&keys.public, &params, "corpus", "a", &[1, 2, 3])
        .unwrap()
        .to_bytes()
        .unwrap();
    let rows_at = 8 + 32 + (4 + 6) + (4 + 1);
    let mut rows = c.clone();
    rows[rows_at..rows_at + 8].copy_from_slice(&41u64.to_le_bytes());
    let mut lists = c.clone();
    lists[rows_at + 8..rows_at + 12].copy_from_slice(&2u32.to_le_bytes());
    let len_at = rows_at + 12;
    let mut inside = c.clone();
    let len = u64::from_le_bytes(inside[len_at..len_at + 8].try_into().unwrap());
    inside[len_at..len_at + 8].copy_from_slice(&(len + 1).to_le_bytes());
    inside.push(0);
    out.extend([
        file(t, "ok-three-values.bin", c.clone()),
        file(t, "count_exceeded-rows-41.bin", rows),
        file(t, "format-two-lists-for-three-rows.bin", lists),
        file(t, "format-byte-inside-list.bin", inside),
        file(t, "format-trailing-byte.bin", plus(&c, 1)),
    ]);

    // Public keys: the whole public key, then the CRS cut at 8 KiB (the CRS is megabytes).
    let t = "he_fhe_public_keys";
    let public = keys.public.to_bytes().unwrap();
    let pk_len = u64::from_le_bytes(public[..8].try_into().unwrap()) as usize;
    let mut too_long = public[..8 + pk_len + 8192].to_vec();
    too_long[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    out.extend([
        file(t, "format-crs-cut.bin", &public[..8 + pk_len + 8192]),
        file(t, "format-public-key-cut.bin", &public[..8 + pk_len / 2]),
        file(t, "format-length-too-large.bin", too_long),
        file(t, "format-short.bin", &public[..5]),
    ]);

    // The server key's first 4 KiB (it is a hundred megabytes), under the zero id.
    let t = "he_fhe_server_key";
    let mut head = Head {
        bytes: vec![0; 32],
        limit: 32 + 4096,
    };
    let _ =
        tfhe::safe_serialization::safe_serialize(keys.aggregator.server_key(), &mut head, 1 << 30);
    let mut other = head.bytes.clone();
    other[..32].fill(1);
    out.extend([
        file(t, "format-key-cut.bin", head.bytes.clone()),
        file(t, "key_mismatch-other-id.bin", other),
        file(t, "format-short.bin", &head.bytes[..20]),
    ]);

    let t = "he_fhe_client_key";
    let mut client = keys.holder.to_bytes().unwrap().to_vec();
    client[..32].fill(0);
    let mut other = client.clone();
    other[..32].fill(1);
    out.extend([
        file(t, "ok-zero-id.bin", client.clone()),
        file(t, "format-trailing-byte.bin", plus(&client, 1)),
        file(t, "format-truncated.bin", &client[..client.len() / 2]),
        file(t, "key_mismatch-other-id.bin", other),
    ]);

    // lwe_sum: a setup for at most 48 8-bit values in 3 columns (64 slots), the fuzz
    // target's declaration.
    let (secret, setup) = lwe_sum::generate(SumParams::new(48, 8, 3).unwrap()).unwrap();
    let t = "he_lwe_setup";
    let bytes = setup.to_bytes();
    let crs_at = 8 + 28 + 8 + 2 * 2048 * 8;
    // Refused at the parameters or the key's length: the head of the setup is enough.
    let mut bits0 = bytes[..256].to_vec();
    bits0[8 + 8..8 + 12].copy_from_slice(&0u32.to_le_bytes());
    let mut wide = bytes[..256].to_vec();
    wide[8 + 8..8 + 12].copy_from_slice(&40u32.to_le_bytes());
    let mut words = bytes[..256].to_vec();
    words[36..44].copy_from_slice(&7u64.to_le_bytes());
    out.extend([
        file(t, "format-crs-cut.bin", &bytes[..crs_at + 8192]),
        file(t, "parameter-value-bits-0.bin", bits0),
        file(t, "noise_budget-value-bits-40.bin", wide),
        file(t, "format-public-key-words.bin", words),
    ]);

    let t = "he_lwe_secret_key";
    let mut sk = secret.to_bytes().to_vec();
    sk[8..40].fill(0);
    let mut not_bit = sk.clone();
    *not_bit.last_mut().unwrap() = 2;
    let mut other = sk.clone();
    other[8..40].fill(1);
    out.extend([
        file(t, "ok-zero-id.bin", sk.clone()),
        file(t, "format-trailing-byte.bin", plus(&sk, 1)),
        file(t, "format-not-a-bit.bin", not_bit),
        file(t, "format-truncated.bin", &sk[..1000]),
        file(t, "key_mismatch-other-id.bin", other),
    ]);

    let t = "he_lwe_column";
    let column = lwe_sum::encrypt_values(&setup, "corpus", "a", &[1, 2, 255]).unwrap();
    let col = column.to_bytes().unwrap();
    let lists_at = 8 + 32 + (4 + 6) + (4 + 1);
    let mut many = col.clone();
    many[lists_at..lists_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let len_at = lists_at + 4 + 4 + 4;
    let len = u32::from_le_bytes(col[len_at..len_at + 4].try_into().unwrap());
    let mut inside = col.clone();
    inside[len_at..len_at + 4].copy_from_slice(&(len + 1).to_le_bytes());
    inside.insert(len_at + 4 + len as usize, 0);
    out.extend([
        file(t, "ok-three-values.bin", col.clone()),
        file(t, "count_exceeded-lists.bin", many),
        file(t, "format-byte-inside-proof.bin", inside),
        file(t, "format-trailing-byte.bin", plus(&col, 1)),
        file(t, "format-truncated.bin", &col[..col.len() - 1]),
    ]);

    let t = "he_lwe_sum";
    let sum = lwe_sum::aggregate(&setup, "corpus", &[column])
        .unwrap()
        .to_bytes();
    out.extend([
        file(t, "ok-three-values.bin", sum.clone()),
        file(t, "format-trailing-byte.bin", plus(&sum, 1)),
        file(t, "format-truncated.bin", &sum[..sum.len() - 8]),
    ]);
    out
}

/// Without tfhe, the tfhe targets' corpora are left as they are.
#[cfg(not(feature = "tfhe"))]
fn tfhe_files() -> Vec<File> {
    Vec::new()
}

/// Writes every `he_*` corpus file (the tfhe ones under new keys).
fn write_fuzz_corpus() {
    let mut all = ristretto_files();
    all.extend(tfhe_files());
    let mut dirs: Vec<&str> = all.iter().map(|(t, _, _)| *t).collect();
    dirs.dedup();
    for t in dirs {
        let dir = corpus_dir().join(t);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
    }
    for (t, name, bytes) in all {
        std::fs::write(corpus_dir().join(t).join(name), bytes).unwrap();
    }
}

/// The ristretto corpus files are what the writer makes from the golden documents, byte for
/// byte; `TRUSTSPACE_HE_BLESS=1` rewrites the whole corpus instead (the tfhe files under new
/// keys).
#[test]
fn the_ristretto_corpus_is_what_the_writer_writes() {
    if std::env::var_os("TRUSTSPACE_HE_BLESS").is_some() {
        write_fuzz_corpus();
        return;
    }
    let files = ristretto_files();
    assert!(!files.is_empty());
    for (t, name, bytes) in files {
        let path = corpus_dir().join(t).join(&name);
        let committed = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("{}: {e} (TRUSTSPACE_HE_BLESS=1 writes it)", path.display())
        });
        assert!(
            committed == bytes,
            "{} differs from what the writer writes",
            path.display()
        );
    }
}
