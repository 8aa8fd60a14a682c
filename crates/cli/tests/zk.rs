//! `zkprove` and `zkverify` as an operator runs them.

mod common;
use common::{ok, p, run};

#[test]
fn commit_setup_prove_in_parts_merge_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ds = d.to_str().unwrap();
    ok(run(
        "dataspace",
        &[
            "gen",
            "--table",
            "encounters",
            "--rows",
            "40",
            "--seed",
            "3",
            "--out",
            ds,
        ],
    ));
    let (schema, policy, data) = (
        p(d, "encounters.schema.toml"),
        p(d, "encounters.policy.toml"),
        p(d, "encounters.csv"),
    );
    ok(run(
        "zkprove",
        &[
            "commit",
            "--schema",
            &schema,
            "--data",
            &data,
            "--chunk-size",
            "16",
            "--out",
            ds,
        ],
    ));
    ok(run(
        "zkprove",
        &[
            "setup",
            "--schema",
            &schema,
            "--policy",
            &policy,
            "--chunk-size",
            "16",
            "--out",
            ds,
        ],
    ));
    let common = |range: &str, out: &str| {
        let out = p(d, out);
        let mut a = vec![
            "prove".to_string(),
            "--schema".into(),
            schema.clone(),
            "--policy".into(),
            policy.clone(),
            "--data".into(),
            data.clone(),
            "--commitment".into(),
            p(d, "commitment.json"),
            "--opening".into(),
            p(d, "opening.json"),
            "--keys".into(),
            p(d, "proving.key"),
            "--out".into(),
            out,
            "--json".into(),
            "--threads".into(),
            "2".into(),
        ];
        if !range.is_empty() {
            a.extend(["--chunks".into(), range.into()]);
        }
        a
    };
    let args = common("0..1", "part0.json");
    let text = ok(run(
        "zkprove",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(summary["complete"], false);
    let args = common("1..3", "part1.json");
    ok(run(
        "zkprove",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    let (vk, c, bundle) = (
        p(d, "verifying.json"),
        p(d, "commitment.json"),
        p(d, "bundle.json"),
    );
    // A part alone does not verify (exit 1), the merged bundle does (exit 0).
    let o = run(
        "zkverify",
        &["--keys", &vk, "--commitment", &c, &p(d, "part0.json")],
    );
    assert_eq!(o.status.code(), Some(1));
    let o = run("zkprove", &["merge", "--out", &bundle, &p(d, "part0.json")]);
    assert!(!o.status.success(), "an incomplete merge is refused");
    ok(run(
        "zkprove",
        &[
            "merge",
            "--out",
            &bundle,
            &p(d, "part1.json"),
            &p(d, "part0.json"),
        ],
    ));
    let text = ok(run(
        "zkverify",
        &["--json", "--keys", &vk, "--commitment", &c, &bundle],
    ));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (v["valid"].as_bool(), v["records"].as_u64()),
        (Some(true), Some(40))
    );

    // A flipped proof byte: invalid, exit 1.
    let mut b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    let proof = b["chunks"][1]["proof"].as_str().unwrap().to_string();
    let flipped = format!(
        "{}{}",
        if &proof[..1] == "0" { "1" } else { "0" },
        &proof[1..]
    );
    b["chunks"][1]["proof"] = flipped.into();
    let tampered = p(d, "tampered.json");
    std::fs::write(&tampered, b.to_string()).unwrap();
    let o = run("zkverify", &["--keys", &vk, "--commitment", &c, &tampered]);
    assert!(matches!(o.status.code(), Some(1) | Some(2)), "{o:?}");
    // A malformed file: bad input, exit 2.
    std::fs::write(&tampered, "{}").unwrap();
    let o = run("zkverify", &["--keys", &vk, "--commitment", &c, &tampered]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("tampered.json"));
}

#[test]
fn a_violation_is_reported_with_record_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ds = d.to_str().unwrap();
    ok(run(
        "dataspace",
        &[
            "gen",
            "--table",
            "encounters",
            "--rows",
            "20",
            "--violations",
            "1",
            "--seed",
            "8",
            "--out",
            ds,
        ],
    ));
    let (schema, policy, data) = (
        p(d, "encounters.schema.toml"),
        p(d, "encounters.policy.toml"),
        p(d, "encounters.csv"),
    );
    ok(run(
        "zkprove",
        &[
            "commit",
            "--schema",
            &schema,
            "--data",
            &data,
            "--chunk-size",
            "16",
            "--out",
            ds,
        ],
    ));
    ok(run(
        "zkprove",
        &[
            "setup",
            "--schema",
            &schema,
            "--policy",
            &policy,
            "--chunk-size",
            "16",
            "--out",
            ds,
        ],
    ));
    let o = run(
        "zkprove",
        &[
            "prove",
            "--schema",
            &schema,
            "--policy",
            &policy,
            "--data",
            &data,
            "--commitment",
            &p(d, "commitment.json"),
            "--opening",
            &p(d, "opening.json"),
            "--keys",
            &p(d, "proving.key"),
            "--out",
            &p(d, "b.json"),
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("does not satisfy the policy: record"), "{err}");
}

#[test]
fn a_dataset_breaking_an_aggregate_bound_is_refused_before_proving() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ds = d.to_str().unwrap();
    ok(run(
        "dataspace",
        &["gen", "--table", "encounters", "--rows", "40", "--out", ds],
    ));
    // The same policy with a budget of 1.00 per encounter: every record passes, the total fails.
    let policy = std::fs::read_to_string(d.join("encounters.policy.toml")).unwrap();
    let tight = policy.replace("max_mean = \"50000.00\"", "max_mean = \"1.00\"");
    assert_ne!(policy, tight);
    std::fs::write(d.join("tight.toml"), tight).unwrap();
    let (schema, data) = (p(d, "encounters.schema.toml"), p(d, "encounters.csv"));
    ok(run(
        "zkprove",
        &[
            "commit",
            "--schema",
            &schema,
            "--data",
            &data,
            "--chunk-size",
            "32",
            "--out",
            ds,
        ],
    ));
    ok(run(
        "zkprove",
        &[
            "setup",
            "--schema",
            &schema,
            "--policy",
            &p(d, "tight.toml"),
            "--chunk-size",
            "32",
            "--out",
            ds,
        ],
    ));
    let o = run(
        "zkprove",
        &[
            "prove",
            "--schema",
            &schema,
            "--policy",
            &p(d, "tight.toml"),
            "--data",
            &data,
            "--commitment",
            &p(d, "commitment.json"),
            "--opening",
            &p(d, "opening.json"),
            "--keys",
            &p(d, "proving.key"),
            "--out",
            &p(d, "bundle.json"),
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("aggregate bound `total cost max_mean` fails"),
        "{err}"
    );
    assert!(!d.join("bundle.json").exists());
}

#[test]
fn committing_an_empty_dataset_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ds = d.to_str().unwrap();
    ok(run(
        "dataspace",
        &["gen", "--table", "encounters", "--rows", "1", "--out", ds],
    ));
    let csv = std::fs::read_to_string(d.join("encounters.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    std::fs::write(d.join("empty.csv"), format!("{header}\n")).unwrap();
    std::fs::write(d.join("empty.jsonl"), "\n\n").unwrap();
    for name in ["empty.csv", "empty.jsonl"] {
        let data = p(d, name);
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
                "--out",
                &p(d, "out"),
            ],
        );
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("{data}: dataset: a commitment needs 1..="))
                && err.contains("records, got 0"),
            "{err}"
        );
        assert!(!d.join("out").join("commitment.json").exists());
    }
}
