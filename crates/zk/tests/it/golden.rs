//! Golden files: a small circuit (`golden/policy.toml` over `golden/schema.toml`, chunks of 16,
//! 20 records) with a seeded setup, a fixed opening and seeded proofs, so its commitment,
//! opening, verifying keys and bundle are the same bytes on every run. The tests check that
//! the committed files are reproduced byte for byte, that each decodes and re-encodes byte for
//! byte, that the bundle verifies, and pin every digest.
//!
//! After a deliberate format or circuit change, regenerate with `TRUSTSPACE_UPDATE_GOLDEN=1`
//! (and bump the format's version), then update the digest pins below by hand.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use trustspace_data::{Record, Schema};
use trustspace_zk::bundle::ProofBundle;
use trustspace_zk::digests::circuit_digest;
use trustspace_zk::{
    Commitment, Compiled, Opening, Policy, ProvingKeys, VerifyingKeys, commit_with, prove_all,
    setup, verify,
};

const CHUNK: u64 = 16;
const RECORDS: usize = 20;

/// `golden/schema.toml`'s digest.
const SCHEMA_DIGEST: &str = "4b852e68370e2f7ba0f7479c186d5c03f91585a820b850c7cd61e7bf8d193bf4";
/// The policy digest of `golden/policy.toml`.
const POLICY_DIGEST: &str = "6767e7492ea8e7241ddfa09d175707e3faf9c3a16ed5012889c3c69b54bf142b";
/// The chunk circuit's digest.
const CHUNK_CIRCUIT: &str = "876886ec0aed42af3dd7b4d154cb7f33bdafe38436999052655a1e5ac7b73a20";
/// The final circuit's digest.
const FINAL_CIRCUIT: &str = "5081897c2da4b829cccfbdee7249d596373ea62c2c3262b2b4eb89984d3ebe6e";
/// The verifying keys' digest.
const VK_DIGEST: &str = "4d8c5064ec1458b64ecfc073bbad01bf1e537266cec93cd82b0ec7f77c6be105";
/// The bundle's statement digest.
const STATEMENT_DIGEST: &str = "0fa9b9c67ddaedfa500ded5a8ae88cdc089f1820ca230d9c5c7486e6c903ab6a";

struct Golden {
    schema: Schema,
    policy: Policy,
    compiled: Compiled,
    vk: VerifyingKeys,
    commitment: Commitment,
    opening: Opening,
    bundle: ProofBundle,
}

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The golden records: record `i` is a function of `i` alone, and satisfies the policy.
fn records(schema: &Schema) -> Vec<Record> {
    (0..RECORDS)
        .map(|i| {
            let day = |d: usize| format!("2024-01-{:02}", 1 + d);
            let fields = [
                (i + 1).to_string(),
                (18 + i * 7 % 80).to_string(),
                format!("{}.{:02}", i * 1234 % 40_000 / 100, i * 1234 % 100),
                (i % 3 == 0).to_string(),
                ["a", "b"][i % 2].to_string(),
                day(i),
                day(i + i % 5),
            ];
            schema
                .columns()
                .iter()
                .zip(&fields)
                .map(|(c, f)| c.parse(f).unwrap())
                .collect()
        })
        .collect()
}

/// The golden artefacts, made once per test binary (the setup is the expensive part).
static GOLDEN: LazyLock<Golden> = LazyLock::new(|| {
    let schema_text = String::from_utf8(read(&golden("schema.toml"))).unwrap();
    let schema = Schema::from_toml(&schema_text, "golden/schema.toml").unwrap();
    let policy = Policy::load(&golden("policy.toml"), &schema).unwrap();
    let compiled = Compiled::new(&schema, &policy, CHUNK).unwrap();
    let (pk, vk): (ProvingKeys, VerifyingKeys) =
        setup(&compiled, &mut ChaCha20Rng::seed_from_u64(17)).unwrap();
    let opening = Opening::from_key([0x5a; 32]);
    let records = records(&schema);
    let commitment = commit_with(&schema, records.clone(), CHUNK, &crate::OWNER, &opening).unwrap();
    let bundle = prove_all(
        &compiled,
        &pk,
        &commitment,
        &opening,
        &records,
        &mut ChaCha20Rng::seed_from_u64(18),
    )
    .unwrap();
    Golden {
        schema,
        policy,
        compiled,
        vk,
        commitment,
        opening,
        bundle,
    }
});

/// Each golden file with how to write it and how to read and re-write it.
type Save = fn(&Golden, &Path);
type Reencode = fn(&Path, &Path);
const FILES: [(&str, Save, Reencode); 4] = [
    (
        "commitment.json",
        |g, p| g.commitment.save(p).unwrap(),
        |from, to| Commitment::load(from).unwrap().save(to).unwrap(),
    ),
    (
        "opening.json",
        |g, p| g.opening.save(p).unwrap(),
        |from, to| Opening::load(from).unwrap().save(to).unwrap(),
    ),
    (
        "verifying_keys.json",
        |g, p| g.vk.save(p).unwrap(),
        |from, to| VerifyingKeys::load(from).unwrap().save(to).unwrap(),
    ),
    (
        "bundle.json",
        |g, p| g.bundle.save(p).unwrap(),
        |from, to| ProofBundle::load(from).unwrap().save(to).unwrap(),
    ),
];

#[test]
fn golden_files_are_reproduced_byte_for_byte() {
    let g = &*GOLDEN;
    let dir = tempfile::tempdir().unwrap();
    for (name, save, _) in FILES {
        let fresh = dir.path().join(name);
        save(g, &fresh);
        if std::env::var_os("TRUSTSPACE_UPDATE_GOLDEN").is_some() {
            std::fs::copy(&fresh, golden(name)).unwrap();
        }
        assert!(
            read(&fresh) == read(&golden(name)),
            "{name} is no longer produced byte for byte: if the change is deliberate, bump the \
             format's version and rerun with TRUSTSPACE_UPDATE_GOLDEN=1"
        );
    }
}

#[test]
fn golden_files_decode_and_reencode_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for (name, _, reencode) in FILES {
        let again = dir.path().join(name);
        reencode(&golden(name), &again);
        assert!(read(&again) == read(&golden(name)), "{name}");
    }
    let text = String::from_utf8(read(&golden("schema.toml"))).unwrap();
    let schema = Schema::from_toml(&text, "schema").unwrap();
    assert_eq!(schema.to_toml(), text, "schema.toml");
}

#[test]
fn golden_files_decode_to_the_artefacts_and_verify() {
    let g = &*GOLDEN;
    let commitment = Commitment::load(&golden("commitment.json")).unwrap();
    let vk = VerifyingKeys::load(&golden("verifying_keys.json")).unwrap();
    let bundle = ProofBundle::load(&golden("bundle.json")).unwrap();
    assert_eq!(commitment, g.commitment);
    assert_eq!(vk, g.vk);
    assert_eq!(bundle, g.bundle);
    let opening = Opening::load(&golden("opening.json")).unwrap();
    let records = records(&g.schema);
    assert_eq!(
        commit_with(&g.schema, records, CHUNK, &crate::OWNER, &opening).unwrap(),
        commitment,
        "the golden opening opens the golden commitment"
    );
    let v = verify(&bundle, &vk, &commitment).unwrap();
    assert_eq!((v.records, v.chunks), (RECORDS as u64, 2));
    let names: Vec<&str> = v.revealed.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "total.sum",
            "flagged.count",
            "b amounts.sum",
            "b amounts.count"
        ]
    );
    assert_eq!(
        v.revealed[1].value, "7",
        "records 0, 3, ..., 18 are flagged"
    );
}

#[test]
fn every_digest_is_pinned() {
    // A change of any of these breaks what was registered with the old value (ledger entries,
    // key files, proofs): change the encoding's version (`trustspace_zk::canon`) and update the
    // pins together, deliberately.
    let g = &*GOLDEN;
    let vk = VerifyingKeys::load(&golden("verifying_keys.json")).unwrap();
    let bundle = ProofBundle::load(&golden("bundle.json")).unwrap();
    let circuits = circuit_digest(&g.compiled);
    let got = [
        hex::encode(g.schema.digest()),
        hex::encode(g.policy.digest()),
        circuits.chunk.clone(),
        circuits.final_.clone().unwrap(),
        hex::encode(vk.digest()),
        hex::encode(bundle.statement_digest()),
    ];
    assert_eq!(
        got,
        [
            SCHEMA_DIGEST,
            POLICY_DIGEST,
            CHUNK_CIRCUIT,
            FINAL_CIRCUIT,
            VK_DIGEST,
            STATEMENT_DIGEST
        ]
    );
    // The files carry the same digests.
    assert_eq!(vk.digests, circuits);
    assert_eq!(bundle.circuit, circuits);
    assert_eq!(hex::encode(vk.policy_digest), POLICY_DIGEST);
    assert_eq!(hex::encode(bundle.commitment.schema_digest), SCHEMA_DIGEST);
}

#[test]
fn digests_cover_what_they_name() {
    let g = &*GOLDEN;
    // The statement ignores the (malleable) proof bytes but not a public input.
    let mut b = g.bundle.clone();
    b.chunks[0].proof = g.bundle.chunks[1].proof.clone();
    assert_eq!(b.statement_digest(), g.bundle.statement_digest());
    b.chunks[0].public_inputs[2] += ark_bn254::Fr::from(1u64);
    assert_ne!(b.statement_digest(), g.bundle.statement_digest());
    // The key digest covers the revealed names and the key points.
    let mut vk = g.vk.clone();
    vk.reveals[0].push('!');
    assert_ne!(vk.digest(), g.vk.digest());
    let mut vk = g.vk.clone();
    vk.chunk = g.vk.final_.clone().unwrap();
    assert_ne!(vk.digest(), g.vk.digest());
    // The policy digest covers a rule's name, which is all that differs here.
    let text = String::from_utf8(read(&golden("policy.toml")))
        .unwrap()
        .replace("name = \"adults\"", "name = \"grown-ups\"");
    let renamed = Policy::from_toml(&text, "p", None, &g.schema).unwrap();
    assert_ne!(renamed.digest(), g.policy.digest());
    assert_eq!(renamed.plan().rules.len(), g.policy.plan().rules.len());
}

#[test]
fn files_of_an_older_format_version_are_refused_naming_it() {
    // Version 1 files (commitments without an owner, circuits without domains and owner
    // binding): refused by version, never misread as the current format.
    use trustspace_zk::ZkError;
    use trustspace_zk::error::FormatProblem;
    let old = |name: &str| golden(&format!("v1/{name}"));
    let refused = |r: Result<(), ZkError>, name: &str| {
        let e = r.unwrap_err();
        assert!(
            matches!(
                &e,
                ZkError::Format {
                    reason: FormatProblem::UnsupportedVersion { found: 1 },
                    ..
                }
            ),
            "{name}: {e:?}"
        );
        assert!(e.to_string().contains("version 1"), "{name}: {e}");
    };
    refused(
        Commitment::load(&old("commitment.json")).map(drop),
        "commitment",
    );
    refused(ProofBundle::load(&old("bundle.json")).map(drop), "bundle");
    refused(
        VerifyingKeys::load(&old("verifying_keys.json")).map(drop),
        "verifying keys",
    );
}
