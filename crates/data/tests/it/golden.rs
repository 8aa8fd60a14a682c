//! Golden files: a schema exercising every column type, committed under `tests/golden/`. The
//! test decodes each file and re-encodes it byte for byte, rebuilds it from code, and pins the
//! schema digests (which the ZK, MPC and HE crates bind proofs, sessions and ciphertexts to).
//!
//! To regenerate after a deliberate format change, run the tests with
//! `TRUSTSPACE_UPDATE_GOLDEN=1` and review the diff (digest pins are updated by hand).

use std::path::PathBuf;
use trustspace_data::schema::{SCHEMA_DIGEST_TAG, SCHEMA_DIGEST_VERSION};
use trustspace_data::synth::Table;
use trustspace_data::{ColumnSpec, Schema, TypeName};

/// The digest of `golden/schema.toml`.
const SCHEMA_DIGEST: &str = "85160c2bdc77f3d8634f456959e64ee7820a9dcc63a9b937c916a716e22edc41";
/// The digest of the generators' `encounters` schema (the healthcare reference workload).
const ENCOUNTERS_DIGEST: &str = "089e0dbf8cdc5894360cf6316ef7a876cd332703836082b908087ef3c4d08663";

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `bytes` with the golden file `name`, or rewrites it in update mode.
fn check_golden(name: &str, bytes: &[u8]) {
    let path = golden(name);
    if std::env::var_os("TRUSTSPACE_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, bytes).unwrap();
    }
    let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        want == bytes,
        "{name} differs from its golden file; if the change is deliberate, rerun with \
         TRUSTSPACE_UPDATE_GOLDEN=1 and bump the format's version"
    );
}

/// A schema with one column of every type, bounds and a dictionary.
fn every_type() -> Schema {
    Schema::new(
        "golden",
        vec![
            ColumnSpec::uint("count", 16).with_max("60000"),
            ColumnSpec::int("delta", 12).with_min("-1000"),
            ColumnSpec::decimal("price", 2, 40)
                .signed()
                .with_min("-100.50")
                .with_max("99999.99"),
            ColumnSpec::new("flag", TypeName::Bool),
            ColumnSpec::new("day", TypeName::Date).with_min("2000-01-01"),
            ColumnSpec::new("at", TypeName::Timestamp).with_max("2099-12-31T23:59:59Z"),
            ColumnSpec::categorical("colour", ["red", "green", "blue", "ünïcode"]),
        ],
    )
    .unwrap()
}

#[test]
fn schema_file_decodes_and_reencodes_byte_for_byte() {
    let s = every_type();
    check_golden("schema.toml", s.to_toml().as_bytes());
    let text = std::fs::read_to_string(golden("schema.toml")).unwrap();
    let back = Schema::from_toml(&text, "golden/schema.toml").unwrap();
    assert_eq!(back, s);
    assert_eq!(back.to_toml(), text);
}

#[test]
fn schema_digests_are_pinned() {
    assert_eq!(
        (SCHEMA_DIGEST_TAG, SCHEMA_DIGEST_VERSION),
        ("trustspace.schema", 2)
    );
    // A change of either value breaks every registered schema digest: bump
    // SCHEMA_DIGEST_VERSION and update these pins together, deliberately.
    assert_eq!(hex::encode(every_type().digest()), SCHEMA_DIGEST);
    assert_eq!(
        hex::encode(Table::Encounters.schema().digest()),
        ENCOUNTERS_DIGEST
    );
}

#[test]
fn schema_digest_follows_the_documented_layout() {
    // `canon`'s layout, written out by hand for a one-column schema.
    use sha2::{Digest, Sha256};
    let s = Schema::new("t", vec![ColumnSpec::new("b", TypeName::Bool)]).unwrap();
    let mut bytes = Vec::new();
    let str_ = |b: &mut Vec<u8>, s: &str| {
        b.extend((s.len() as u32).to_be_bytes());
        b.extend(s.as_bytes());
    };
    str_(&mut bytes, "trustspace.schema");
    bytes.extend(2u32.to_be_bytes());
    str_(&mut bytes, "t");
    bytes.extend(1u32.to_be_bytes());
    str_(&mut bytes, "b");
    bytes.push(4);
    bytes.extend(0u64.to_be_bytes());
    bytes.extend(1u64.to_be_bytes());
    assert_eq!(s.digest(), <[u8; 32]>::from(Sha256::digest(&bytes)));
}
