//! Golden files: one document of every HE format, committed under `tests/golden/`, so that a
//! change to what the code writes or reads shows up as a failing test rather than as
//! documents that no longer load.
//!
//! The ristretto documents (key set, authority, encrypted column with its range proofs, total,
//! partial decryptions, and a DKG transcript with every message kind) come from one scenario
//! driven by a seeded generator ([`scenario`]); the tests check that the code still writes
//! exactly those bytes, that each file decodes and re-encodes byte for byte, that the digests
//! are the pinned ones, and that damaged copies are refused with the expected cause. Run with
//! `TRUSTSPACE_HE_BLESS=1` to rewrite the ristretto files after a deliberate format change
//! (and update the pins).
//!
//! The tfhe documents cannot be seeded (tfhe draws its keys' and encryptions' randomness from
//! the operating system), and their keys are megabytes: the one committed is a small verdict
//! written once by the code, pinned by decoding and re-encoding.

mod corrupt;
#[cfg(feature = "tfhe")]
mod fhe_int;
mod ristretto;

use std::path::PathBuf;

use trustspace_he::ristretto::dkg::SecretShare;
use trustspace_he::ristretto::{
    Authority, EncryptedColumn, EncryptedTotal, PartialDecryption, SumSpec, ValueRange, aggregate,
    encrypt_encodings,
};

use crate::common::{participants, rng, run_dkg};

/// The scenario's seed.
const SEED: u64 = 0x601d;
/// The key set's id (`KeySet::id`).
const KEY_ID: &str = "33d65386a565d0d6b9326c2ec2825523c8eb7f2a73ca6b3fb43053ad81c0d92c";
/// The sum spec's id (`SumSpec::id` of [`spec`]).
const SPEC_ID: &str = "8365809586d601940a173681222d8f873b696b51541da0f8fb81b56274c1ccf1";
/// The total's digest (`EncryptedTotal::digest`), which the partial decryptions name.
const TOTAL_DIGEST: &str = "cb870c664416eea5fab8ae14a6f01259f6b15f5379c3a6975b72a3b131dd8510";
/// The values the golden column encrypts, and their sum.
const VALUES: [u64; 3] = [0, 7, 1000];
const TOTAL: i128 = 1007;

const KEY_SET: &str = "key-set.json";
const AUTHORITY: &str = "authority-1.json";
const COLUMN: &str = "encrypted-column.json";
const TOTAL_DOC: &str = "total.json";
const PARTIAL_0: &str = "partial-decryption-0.json";
const PARTIAL_2: &str = "partial-decryption-2.json";
const TRANSCRIPT: &str = "dkg-transcript.jsonl";

/// The directory of the golden files.
fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// A golden file's bytes.
fn read(name: &str) -> Vec<u8> {
    let path = dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A golden text file.
fn text(name: &str) -> String {
    String::from_utf8(read(name)).expect("golden documents are UTF-8")
}

/// The golden DKG transcript, one document per line.
fn transcript() -> Vec<String> {
    text(TRANSCRIPT).lines().map(str::to_string).collect()
}

/// The scenario's sum spec.
fn spec() -> SumSpec {
    SumSpec::new("golden sum", ValueRange::unsigned(1000).expect("range")).expect("spec")
}

/// A 2-of-3 DKG from [`SEED`] in which dealer 2 sends authority 0 a wrong share and dealer 1
/// withholds authority 2's (both answer the complaints validly), then a holder's column of
/// [`VALUES`], its total, and the partial decryptions of authorities 0 and 2. Returns each
/// golden file's name and contents.
fn scenario() -> Vec<(&'static str, String)> {
    let mut r = rng(SEED);
    let run = run_dkg(
        participants(3, 2, &mut r),
        |s| match (s.from, s.to) {
            (2, 0) => Some(SecretShare::from_bytes(2, 0, [9u8; 32])),
            (1, 2) => None,
            _ => Some(s),
        },
        Some,
    );
    let auths: Vec<Authority> = run
        .outcomes
        .into_iter()
        .map(|o| {
            let o = o.expect("the DKG succeeds");
            assert_eq!(o.qualified, vec![0, 1, 2]);
            o.authority
        })
        .collect();
    let mut lines = run.transcript.join("\n");
    lines.push('\n');
    let key = auths[0].key_set().clone();
    let spec = spec();
    let column = encrypt_encodings(&key, &spec, &VALUES, &mut r).expect("column");
    let total = aggregate(&key, &spec, std::slice::from_ref(&column)).expect("total");
    let p0 = auths[0].partial_decrypt(&total, &mut r).expect("partial 0");
    let p2 = auths[2].partial_decrypt(&total, &mut r).expect("partial 2");
    vec![
        (TRANSCRIPT, lines),
        (KEY_SET, key.to_json()),
        (AUTHORITY, auths[1].to_secret_json().to_string()),
        (COLUMN, column.to_json().expect("column document")),
        (TOTAL_DOC, total.to_json()),
        (PARTIAL_0, p0.to_json()),
        (PARTIAL_2, p2.to_json()),
    ]
}

/// The golden documents, decoded.
struct Decoded {
    key: trustspace_he::ristretto::KeySet,
    column: EncryptedColumn,
    total: EncryptedTotal,
    partials: Vec<PartialDecryption>,
}

fn decoded() -> Decoded {
    use trustspace_he::ristretto::KeySet;
    Decoded {
        key: KeySet::from_json(&read(KEY_SET)).expect("golden key set"),
        column: EncryptedColumn::from_json(&read(COLUMN)).expect("golden column"),
        total: EncryptedTotal::from_json(&read(TOTAL_DOC)).expect("golden total"),
        partials: [PARTIAL_0, PARTIAL_2]
            .iter()
            .map(|f| PartialDecryption::from_json(&read(f)).expect("golden partial"))
            .collect(),
    }
}
