//! `zkprove` and `zkverify`: proving in parts, merging and verifying end to end through the
//! binaries; refusals (a violation, a broken aggregate bound, an empty dataset) in-process, with
//! their causes; a setup ceremony's keys in place of the setup's.

use crate::common::{
    Proven, commit_encounters, gen_encounters, heavy, init_ledger, ok, p, prove_args, run, text,
};
use std::path::Path;
use trustspace_ceremony::Phase2;
use trustspace_cli::cmd::zkprove::args::{CommitArgs, Owner, SetupArgs};
use trustspace_cli::cmd::zkprove::commit::DataFileError;
use trustspace_cli::cmd::zkprove::{commit, prove, setup};
use trustspace_cli::cmd::zkverify::{self, Cause, Failure, Kind};
use trustspace_ledger_verifier::Identity;
use trustspace_zk::ZkError;

/// `zkverify --keys K --commitment C BUNDLE`, in-process.
fn verify_in_process(d: &Path, bundle: &str) -> Result<zkverify::Outcome, Failure> {
    use clap::Parser;
    let cli = zkverify::Cli::try_parse_from([
        "zkverify",
        "--keys",
        &p(d, "verifying.json"),
        "--commitment",
        &p(d, "commitment.json"),
        &p(d, bundle),
    ])
    .unwrap();
    zkverify::verify(&cli)
}

#[test]
fn commit_prove_in_parts_merge_and_verify_end_to_end() {
    let _heavy = heavy();
    let dir = tempfile::tempdir().unwrap();
    let d = Proven::install(dir.path());
    let ds = d.to_str().unwrap();
    let (schema, policy, data) = (
        p(&d, "encounters.schema.toml"),
        p(&d, "encounters.policy.toml"),
        p(&d, "encounters.csv"),
    );
    // A fresh commitment (the fixture's keys fit any commitment in chunks of 16).
    let text_out = ok(run(
        "zkprove",
        &[
            "--json",
            "commit",
            "--schema",
            &schema,
            "--data",
            &data,
            "--chunk-size",
            "16",
            "--owner",
            &p(&d, "owner.key"),
            "--out",
            ds,
        ],
    ));
    let summary: serde_json::Value = serde_json::from_str(&text_out).unwrap();
    assert_eq!(
        (summary["records"].as_u64(), summary["chunks"].as_u64()),
        (Some(40), Some(3))
    );
    let args = |range: &str, out: &str| -> Vec<String> {
        [
            "prove",
            "--schema",
            &schema,
            "--policy",
            &policy,
            "--data",
            &data,
            "--commitment",
            &p(&d, "commitment.json"),
            "--opening",
            &p(&d, "opening.json"),
            "--keys",
            &p(&d, "proving.key"),
            "--out",
            &p(&d, out),
            "--json",
            "--threads",
            "2",
            "--chunks",
            range,
        ]
        .map(String::from)
        .to_vec()
    };
    let argv = args("0..1", "part0.json");
    let text_out = ok(run(
        "zkprove",
        &argv.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    let summary: serde_json::Value = serde_json::from_str(&text_out).unwrap();
    assert_eq!(summary["complete"], false);
    assert_eq!(summary["chunks"], "0..1");
    let argv = args("1..3", "part1.json");
    ok(run(
        "zkprove",
        &argv.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    let (vk, c, bundle) = (
        p(&d, "verifying.json"),
        p(&d, "commitment.json"),
        p(&d, "bundle.json"),
    );
    // A part alone does not verify (exit 1), the merged bundle does (exit 0).
    let o = run(
        "zkverify",
        &["--keys", &vk, "--commitment", &c, &p(&d, "part0.json")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).starts_with("INVALID: "),
        "{}",
        text(&o)
    );
    let f = verify_in_process(&d, "part0.json").unwrap_err();
    assert!(
        matches!((f.kind(), f.cause()), (Kind::Invalid, Cause::Zk(_))),
        "{f:?}"
    );
    let o = run(
        "zkprove",
        &["merge", "--out", &bundle, &p(&d, "part0.json")],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "an incomplete merge is refused: {}",
        text(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).starts_with("Error: "),
        "{}",
        text(&o)
    );
    ok(run(
        "zkprove",
        &[
            "merge",
            "--out",
            &bundle,
            &p(&d, "part1.json"),
            &p(&d, "part0.json"),
        ],
    ));
    let text_out = ok(run(
        "zkverify",
        &["--json", "--keys", &vk, "--commitment", &c, &bundle],
    ));
    let v: serde_json::Value = serde_json::from_str(&text_out).unwrap();
    assert_eq!(
        (v["valid"].as_bool(), v["records"].as_u64()),
        (Some(true), Some(40))
    );
    // Every verdict says what it is bound to: the policy, the keys and the owner.
    let keys = trustspace_zk::VerifyingKeys::load(Path::new(&vk)).unwrap();
    let commitment = trustspace_zk::Commitment::load(Path::new(&c)).unwrap();
    let (policy, keys_digest) = (hex::encode(keys.policy_digest), hex::encode(keys.digest()));
    assert_eq!(v["policy_digest"].as_str(), Some(policy.as_str()));
    assert_eq!(v["keys_digest"].as_str(), Some(keys_digest.as_str()));
    assert_eq!(
        v["owner"].as_str(),
        Some(hex::encode(commitment.owner).as_str())
    );
    let o = run("zkverify", &["--keys", &vk, "--commitment", &c, &bundle]);
    let out = ok(o);
    assert!(
        out.starts_with("VALID: 40 records comply with the policy ("),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "policy digest {policy}, verifying keys {keys_digest}"
        )),
        "{out}"
    );
    // A pinned policy digest: the keys' own passes, any other is not valid (exit 1).
    let pinned = |digest: &str| {
        run(
            "zkverify",
            &[
                "--policy-digest",
                digest,
                "--keys",
                &vk,
                "--commitment",
                &c,
                &bundle,
            ],
        )
    };
    ok(pinned(&policy));
    let o = pinned(&"ab".repeat(32));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("not the policy you pinned"),
        "{}",
        text(&o)
    );

    // A flipped proof byte: invalid (exit 1), or not a curve point at all (bad input, exit 2).
    let mut b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    let proof = b["chunks"][1]["proof"].as_str().unwrap().to_string();
    let flipped = format!(
        "{}{}",
        if &proof[..1] == "0" { "1" } else { "0" },
        &proof[1..]
    );
    b["chunks"][1]["proof"] = flipped.into();
    let tampered = p(&d, "tampered.json");
    std::fs::write(&tampered, b.to_string()).unwrap();
    let o = run("zkverify", &["--keys", &vk, "--commitment", &c, &tampered]);
    let f = verify_in_process(&d, "tampered.json").unwrap_err();
    assert!(
        matches!(
            (f.kind(), f.cause()),
            (Kind::Invalid, Cause::Zk(ZkError::InvalidProof { .. }))
                | (Kind::BadInput, Cause::Zk(ZkError::Format { .. }))
        ),
        "{f:?}"
    );
    assert_eq!(o.status.code(), Some(i32::from(f.exit_code())), "{o:?}");
    // A malformed file: bad input, exit 2, naming the file.
    std::fs::write(&tampered, "{}").unwrap();
    let o = run("zkverify", &["--keys", &vk, "--commitment", &c, &tampered]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("tampered.json"));
    let f = verify_in_process(&d, "tampered.json").unwrap_err();
    assert!(
        matches!((f.kind(), f.cause()), (Kind::BadInput, Cause::Zk(_))),
        "{f:?}"
    );
    assert_eq!(f.exit_code(), 2);
}

#[test]
fn a_violation_is_reported_with_record_and_rule() {
    let _heavy = heavy();
    let dir = tempfile::tempdir().unwrap();
    // The fixture's keys (same schema, policy and chunk size), other data.
    let d = Proven::install(dir.path());
    gen_encounters(&d, 20, 8, 1);
    commit_encounters(&d, 16);
    let err = prove::prove(&prove_args(&d, "encounters.policy.toml", "b.json"), true).unwrap_err();
    assert!(
        matches!(err.downcast_ref(), Some(ZkError::Unsatisfied { .. })),
        "{err:#}"
    );
    assert!(
        err.to_string()
            .contains("does not satisfy the policy: record"),
        "{err:#}"
    );
    assert!(!d.join("b.json").exists());
}

#[test]
fn a_dataset_breaking_an_aggregate_bound_is_refused_before_proving() {
    let _heavy = heavy();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    gen_encounters(d, 40, 1, 0);
    // The same policy with a budget of 1.00 per encounter: every record passes, the total fails.
    let policy = std::fs::read_to_string(d.join("encounters.policy.toml")).unwrap();
    let tight = policy.replace("max_mean = \"50000.00\"", "max_mean = \"1.00\"");
    assert_ne!(policy, tight);
    std::fs::write(d.join("tight.toml"), tight).unwrap();
    commit_encounters(d, 16);
    setup::setup(&SetupArgs {
        schema: d.join("encounters.schema.toml"),
        policy: d.join("tight.toml"),
        chunk_size: 16,
        out: d.to_path_buf(),
    })
    .unwrap();
    let err = prove::prove(&prove_args(d, "tight.toml", "bundle.json"), true).unwrap_err();
    assert!(
        matches!(err.downcast_ref(), Some(ZkError::Unsatisfied { .. })),
        "{err:#}"
    );
    assert!(
        err.to_string()
            .contains("aggregate bound `total cost max_mean` fails"),
        "{err:#}"
    );
    assert!(!d.join("bundle.json").exists());
}

#[test]
fn committing_an_empty_dataset_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    gen_encounters(d, 1, 1, 0);
    let csv = std::fs::read_to_string(d.join("encounters.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    std::fs::write(d.join("empty.csv"), format!("{header}\n")).unwrap();
    std::fs::write(d.join("empty.jsonl"), "\n\n").unwrap();
    // Through the binary: exit 1, the file named on stderr.
    let data = p(d, "empty.csv");
    let o = run(
        "zkprove",
        &[
            "commit",
            "--schema",
            &p(d, "encounters.schema.toml"),
            "--data",
            &data,
            "--chunk-size",
            "16",
            "--owner",
            &format!("0x{}", "ab".repeat(20)),
            "--out",
            &p(d, "out"),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with(&format!("Error: {data}: dataset: a commitment needs 1..="))
            && err.contains("records, got 0"),
        "{err}"
    );
    assert!(!d.join("out").join("commitment.json").exists());
    // In-process, for both formats: the cause as data.
    for name in ["empty.csv", "empty.jsonl"] {
        let err = commit::commit(&CommitArgs {
            schema: d.join("encounters.schema.toml"),
            data: d.join(name),
            chunk_size: 16,
            owner: Owner::Account([0xab; 20]),
            out: d.join("out"),
        })
        .unwrap_err();
        let e = err.downcast_ref::<DataFileError>();
        assert!(
            matches!(e, Some(DataFileError { path, error: ZkError::Dataset { .. } }) if path == &d.join(name)),
            "{err:#}"
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("{}: dataset: a commitment needs 1..=", p(d, name)))
                && msg.contains("records, got 0"),
            "{msg}"
        );
        assert!(!d.join("out").join("commitment.json").exists());
    }
}

/// `zkprove ARGS` in-process.
fn zkprove(args: &[&str]) -> anyhow::Result<trustspace_cli::cmd::zkprove::Summary> {
    use clap::Parser;
    let cli = trustspace_cli::cmd::zkprove::Cli::try_parse_from([&["zkprove"][..], args].concat())?;
    trustspace_cli::cmd::zkprove::main(cli, &mut Vec::new())
}

#[test]
fn a_ceremony_yields_keys_that_prove_and_the_setups_own_keys_do_not_verify() {
    use trustspace_cli::cmd::zkprove::Summary;
    let _heavy = heavy();
    let dir = tempfile::tempdir().unwrap();
    let d = Proven::install(dir.path());
    let cer = p(&d, "cer");
    let run = |args: &[&str]| zkprove(&[&["ceremony", "--dir", &cer][..], args].concat());
    let step = |args: &[&str]| match run(args) {
        Ok(Summary::Ceremony(s)) => s,
        other => panic!("{other:?}"),
    };
    let circuit = [
        "--schema",
        &p(&d, "encounters.schema.toml"),
        "--policy",
        &p(&d, "encounters.policy.toml"),
        "--chunk-size",
        "16",
    ];
    // Phase 1 among the members, closed by a beacon; then phase 2 from it.
    step(&["phase1", "new", "--power", "13"]);
    assert!(
        run(&["phase1", "new", "--power", "13"]).is_err(),
        "a second new would overwrite it"
    );
    step(&["phase1", "contribute", "--name", "hospital\x1b[31m-1"]);
    step(&["phase1", "contribute", "--name", "regulator"]);
    let beacon = step(&[
        "phase1",
        "beacon",
        "--hash",
        "0badc0ffee",
        "--iterations-exp",
        "3",
    ]);
    let phase1 = beacon.phase1.unwrap();
    assert_eq!(phase1.contributions.len(), 3);
    assert_eq!(phase1.contributions[2].source, "beacon 0badc0ffee 2^3");
    let checked = step(&["phase1", "verify"]).phase1.unwrap();
    assert!(checked.verified);
    step(&[&["init"][..], &circuit].concat());
    // A second init would overwrite the chain: refused.
    assert!(run(&[&["init"][..], &circuit].concat()).is_err());
    // Members sign their contributions with their ledger keys.
    let (hospital, bank) = (Identity::from_seed(&[4; 32]), Identity::from_seed(&[5; 32]));
    hospital.save(&d.join("hospital.key")).unwrap();
    bank.save(&d.join("bank.key")).unwrap();
    let first = step(&[
        "contribute",
        "--name",
        "hospital",
        "--identity",
        &p(&d, "hospital.key"),
    ]);
    // A member contributes with another tool (snarkjs's `zkey contribute` on the directory's
    // .zkey files, here the library on copies of them); the directory takes it once checked.
    let load =
        |name: &str| Phase2::from_zkey(&std::fs::read(d.join("cer").join(name)).unwrap()).unwrap();
    let (mut chunk, mut final_) = (load("chunk.zkey"), load("final.zkey"));
    let mut rng = rand::rngs::OsRng;
    chunk.contribute(&mut rng, Some("bank")).unwrap();
    final_.contribute(&mut rng, Some("bank")).unwrap();
    std::fs::write(d.join("chunk-bank.zkey"), chunk.to_zkey()).unwrap();
    std::fs::write(d.join("final-bank.zkey"), final_.to_zkey()).unwrap();
    let import = [
        "import",
        "--chunk",
        &p(&d, "chunk-bank.zkey"),
        "--final",
        &p(&d, "final-bank.zkey"),
        "--identity",
        &p(&d, "bank.key"),
    ];
    let imported = step(&import);
    assert_eq!(imported.contributions, 2);
    // A state that drops contributions already in the chain (the start, say): refused.
    let dropped = [
        "import",
        "--chunk",
        &p(&d, "cer/initial-chunk.zkey"),
        "--final",
        &p(&d, "cer/initial-final.zkey"),
    ];
    let err = run(&dropped).unwrap_err();
    assert!(format!("{err:#}").contains("does not extend"), "{err:#}");
    let second = step(&["beacon", "--hash", "5eed", "--iterations-exp", "2"]);
    assert_eq!(second.contributions, 3);
    assert_eq!(second.hashes[0], first.hashes[0]);
    let sources: Vec<_> = second
        .chain
        .iter()
        .map(|c| (c.name.as_deref(), c.source.as_str(), c.signer.clone()))
        .collect();
    assert_eq!(
        sources,
        [
            (Some("hospital"), "secret", Some(hospital.public().to_hex())),
            (Some("bank"), "secret", Some(bank.public().to_hex())),
            (None, "beacon 5eed 2^2", None)
        ]
    );
    // The circuits as snarkjs reads them.
    let r1cs = p(&d, "r1cs");
    let exported = step(&[&["export-r1cs"][..], &circuit, &["--out", &r1cs][..]].concat());
    assert_eq!(
        exported.written,
        [d.join("r1cs/chunk.r1cs"), d.join("r1cs/final.r1cs")]
    );
    assert!(
        std::fs::read(d.join("r1cs/chunk.r1cs"))
            .unwrap()
            .starts_with(b"r1cs")
    );
    // A verifier pins its own copy of the phase-1 file and the policy.
    let trusted = p(&d, "trusted.ptau");
    step(&["phase1", "export", &trusted]);
    let pinned = [&["--phase1", &trusted][..], &circuit].concat();
    let verified = step(&[&["verify"][..], &pinned[..]].concat());
    assert_eq!(verified.hashes, second.hashes);
    let names: Vec<_> = verified
        .phase1
        .unwrap()
        .contributions
        .into_iter()
        .map(|c| c.name)
        .collect();
    // A recorded name is shown with its control characters escaped.
    assert_eq!(
        names,
        [
            Some("hospital\\u{1b}[31m-1".to_string()),
            Some("regulator".into()),
            None
        ]
    );
    // A verifier may require organisations among the contributors.
    let stranger = Identity::from_seed(&[6; 32]).public().to_hex();
    let err = run(&[
        &["verify"][..],
        &pinned[..],
        &["--require-contributor", &stranger][..],
    ]
    .concat())
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("signed no contribution"),
        "{err:#}"
    );
    let out = p(&d, "keys");
    let bank_hex = bank.public().to_hex();
    step(
        &[
            &["finalize"][..],
            &pinned[..],
            &[
                "--out",
                &out,
                "--require-contributor",
                &p(&d, "hospital.key"),
            ][..],
            &["--require-contributor", &bank_hex][..],
        ]
        .concat(),
    );

    // Proven with the ceremony's keys: verifies under its verifying keys, not the setup's.
    let mut args = prove_args(&d, "encounters.policy.toml", "ceremony-bundle.json");
    args.keys = d.join("keys/proving.key");
    prove::prove(&args, true).unwrap();
    let setup_keys = verify_in_process(&d, "ceremony-bundle.json").unwrap_err();
    assert_eq!(setup_keys.kind(), Kind::Invalid, "{setup_keys:?}");
    std::fs::copy(d.join("keys/verifying.json"), d.join("verifying.json")).unwrap();
    let outcome = verify_in_process(&d, "ceremony-bundle.json").unwrap();
    assert_eq!(outcome.records, 40);
    // zkverify shows who contributed (the record the keys carry, checked with them), and
    // refuses when a required organisation did not sign a contribution.
    let shown: Vec<_> = outcome
        .ceremony
        .unwrap()
        .contributors
        .into_iter()
        .map(|c| c.signer)
        .collect();
    assert_eq!(
        shown,
        [
            Some(hospital.public().to_hex()),
            Some(bank_hex.clone()),
            None
        ]
    );
    let require = |key: &str| {
        use clap::Parser;
        let cli = zkverify::Cli::try_parse_from([
            "zkverify",
            "--keys",
            &p(&d, "verifying.json"),
            "--commitment",
            &p(&d, "commitment.json"),
            "--require-contributor",
            key,
            &p(&d, "ceremony-bundle.json"),
        ])
        .unwrap();
        zkverify::verify(&cli)
    };
    require(&bank_hex).unwrap();
    let missing = require(&stranger).unwrap_err();
    assert_eq!(missing.kind(), Kind::Invalid, "{missing}");
    assert!(
        missing.to_string().contains("signed no contribution"),
        "{missing}"
    );
    // Registered on a ledger, the keys carry their record with them: a verifier against the
    // ledger sees the contributors; keys whose record is not the registered one (a name
    // changed, which no signature covers) are not the registered keys.
    init_ledger(&d, &d.join("led"), 2);
    let (led, led_config, ceremony_bundle) = (
        p(&d, "led"),
        p(&d, "led/config.json"),
        p(&d, "ceremony-bundle.json"),
    );
    let registered = |who: &str, what: &[&str]| {
        let args = [
            &[
                "register",
                "--ledger",
                &led,
                "--identity",
                who,
                "--name",
                "x",
            ][..],
            what,
        ]
        .concat();
        ok(crate::common::run("zkprove", &args));
    };
    registered(
        &p(&d, "owner.key"),
        &["dataset", "--commitment", &p(&d, "commitment.json")],
    );
    registered(
        &p(&d, "issuer.key"),
        &["policy", "--keys", &p(&d, "verifying.json")],
    );
    let against_ledger = |keys: &str, extra: &[&str]| {
        use clap::Parser;
        let args = [
            &[
                "zkverify",
                "--ledger",
                &led,
                "--trust",
                &led_config,
                "--keys",
                keys,
            ][..],
            extra,
            &[ceremony_bundle.as_str()][..],
        ]
        .concat();
        zkverify::verify(&zkverify::Cli::try_parse_from(args).unwrap())
    };
    let on_ledger = against_ledger(
        &p(&d, "verifying.json"),
        &["--require-contributor", &bank_hex],
    )
    .unwrap();
    assert_eq!(on_ledger.ceremony.unwrap().contributors.len(), 3);
    let text = std::fs::read_to_string(d.join("verifying.json")).unwrap();
    let renamed = text.replace("\"bank\"", "\"bank of someone else\"");
    assert_ne!(renamed, text);
    std::fs::write(d.join("renamed.json"), renamed).unwrap();
    let other = against_ledger(&p(&d, "renamed.json"), &[]).unwrap_err();
    assert_eq!(other.kind(), Kind::Invalid, "{other}");
    assert!(
        other
            .to_string()
            .contains("verifying keys are not the verifier's"),
        "{other}"
    );
    // A record whose signer was swapped: its signature no longer verifies (and the keys'
    // digest, which a ledger registers, is another).
    let swapped = text.replace(&bank_hex, &stranger);
    assert_ne!(swapped, text);
    std::fs::write(d.join("verifying.json"), swapped).unwrap();
    let forged = verify_in_process(&d, "ceremony-bundle.json").unwrap_err();
    assert_eq!(forged.kind(), Kind::Invalid, "{forged}");
    assert!(forged.to_string().contains("signature"), "{forged}");
    std::fs::write(d.join("verifying.json"), text).unwrap();

    // Another phase-1 file than the ceremony started from: refused.
    let other = p(&d, "other");
    zkprove(&[
        "ceremony", "--dir", &other, "phase1", "new", "--power", "13",
    ])
    .unwrap();
    zkprove(&["ceremony", "--dir", &other, "phase1", "contribute"]).unwrap();
    let other_ptau = p(&d, "other/phase1.ptau");
    let err = run(&[&["verify", "--phase1", &other_ptau][..], &circuit].concat()).unwrap_err();
    assert!(
        format!("{err:#}").contains("is not the one computed from"),
        "{err:#}"
    );

    // A tampered state is refused before anyone builds on it, naming the check.
    let path = d.join("cer/chunk.zkey");
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 100] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let err = run(&["contribute"]).unwrap_err();
    assert!(format!("{err:#}").contains("chunk.zkey"), "{err:#}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "a refused state is left as it was"
    );
    // A tampered phase-1 file: refused by phase1 verify and by init.
    let ptau = d.join("cer/phase1.ptau");
    let mut bytes = std::fs::read(&ptau).unwrap();
    let n = bytes.len();
    bytes[n - 400] ^= 1;
    std::fs::write(&ptau, &bytes).unwrap();
    let err = run(&["phase1", "verify"]).unwrap_err();
    assert!(format!("{err:#}").contains("phase1.ptau"), "{err:#}");
}
