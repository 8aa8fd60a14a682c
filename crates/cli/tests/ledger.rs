//! `ledger`, `zkprove register` and `zkverify --ledger/--evidence` as an operator runs them; and
//! a writer process killed mid-append.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::{exe, ok, p, run};

/// Generates 40 encounters and proves them: returns (commitment, verifying keys, bundle).
fn proven(d: &Path) -> (String, String, String) {
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
    let chunk = ["--chunk-size", "32"];
    ok(run(
        "zkprove",
        &[
            &["commit", "--schema", &schema, "--data", &data][..],
            &chunk,
            &["--out", ds],
        ]
        .concat(),
    ));
    ok(run(
        "zkprove",
        &[
            &["setup", "--schema", &schema, "--policy", &policy][..],
            &chunk,
            &["--out", ds],
        ]
        .concat(),
    ));
    ok(run(
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
            &p(d, "bundle.json"),
        ],
    ));
    (
        p(d, "commitment.json"),
        p(d, "verifying.json"),
        p(d, "bundle.json"),
    )
}

#[test]
fn register_verify_against_the_ledger_and_offline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (commitment, vk, bundle) = proven(d);
    let led = p(d, "led");
    let trust = p(d, "led/config.json");
    ok(run(
        "ledger",
        &[
            "init",
            "--dir",
            &led,
            "--validators",
            "3",
            "--threshold",
            "2",
        ],
    ));
    ok(run("ledger", &["keygen", "--out", &p(d, "owner.key")]));
    ok(run("ledger", &["keygen", "--out", &p(d, "issuer.key")]));

    // Not registered yet: not valid (exit 1), with the reason.
    let verify_args = [
        "--ledger", &led, "--trust", &trust, "--keys", &vk, "--json", &bundle,
    ];
    let o = run("zkverify", &verify_args);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("unknown dataset"));

    let reg = |who: &str, name: &str, what: &[&str]| {
        let mut a = vec![
            "register",
            "--ledger",
            &led,
            "--identity",
            who,
            "--name",
            name,
        ];
        a.extend_from_slice(what);
        ok(run("zkprove", &a))
    };
    reg(
        &p(d, "owner.key"),
        "hospital-1",
        &["dataset", "--commitment", &commitment],
    );
    reg(
        &p(d, "issuer.key"),
        "healthcare",
        &["policy", "--keys", &vk],
    );
    // Registering the same commitment twice is refused.
    let again = run(
        "zkprove",
        &[
            "register",
            "--ledger",
            &led,
            "--identity",
            &p(d, "owner.key"),
            "--name",
            "x",
            "dataset",
            "--commitment",
            &commitment,
        ],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("duplicate"));

    let evidence = p(d, "evidence.json");
    let seen = p(d, "seen.json");
    let mut a = verify_args.to_vec();
    let regulator = p(d, "issuer.key");
    a.extend_from_slice(&[
        "--evidence-out",
        &evidence,
        "--seen",
        &seen,
        "--record",
        &regulator,
    ]);
    let out = ok(run("zkverify", &a));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["ledger"]["dataset"]["name"], "hospital-1");
    assert_eq!(v["ledger"]["checkpoint_size"], 2);
    assert_eq!(v["ledger"]["verdict_entry"], 2);
    // The same verdict twice is a duplicate (bad input to the ledger: refused, exit non-zero).
    let o = run("zkverify", &a);
    assert!(!o.status.success());

    // Offline, from the evidence file alone.
    ok(run(
        "zkverify",
        &["--evidence", &evidence, "--trust", &trust],
    ));
    // Under another consortium's configuration: not valid.
    let other = p(d, "other");
    ok(run("ledger", &["init", "--dir", &other]));
    let o = run(
        "zkverify",
        &[
            "--evidence",
            &evidence,
            "--trust",
            &p(d, "other/config.json"),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A corrupted evidence file is bad input.
    std::fs::write(&evidence, "{").unwrap();
    let o = run("zkverify", &["--evidence", &evidence, "--trust", &trust]);
    assert_eq!(o.status.code(), Some(2));

    // The monitor accepts the ledger, remembers it, and alerts on a forked copy.
    let state = p(d, "monitor.json");
    ok(run(
        "ledger",
        &[
            "monitor", "--ledger", &led, "--trust", &trust, "--state", &state,
        ],
    ));
    let fork = d.join("fork");
    std::fs::create_dir_all(fork.join("validators")).unwrap();
    std::fs::copy(d.join("led/config.json"), fork.join("config.json")).unwrap();
    for e in std::fs::read_dir(d.join("led/validators")).unwrap() {
        let e = e.unwrap().path();
        std::fs::copy(&e, fork.join("validators").join(e.file_name().unwrap())).unwrap();
    }
    let forked = fork.display().to_string();
    // The fork holds the same two registrations in the other order: same size, other root.
    let owner = p(d, "owner.key");
    let fork_reg = |what: &[&str]| {
        let mut a = vec![
            "register",
            "--ledger",
            &forked,
            "--identity",
            &owner,
            "--name",
            "f",
        ];
        a.extend_from_slice(what);
        ok(run("zkprove", &a))
    };
    fork_reg(&["policy", "--keys", &vk]);
    fork_reg(&["dataset", "--commitment", &commitment]);
    let o = run(
        "ledger",
        &[
            "monitor", "--ledger", &forked, "--trust", &trust, "--state", &state,
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("ALERT"));
    // A verifier that saw the original history refuses the fork too.
    let o = run(
        "zkverify",
        &[
            "--ledger", &forked, "--trust", &trust, "--keys", &vk, "--seen", &seen, &bundle,
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_service_serves_registration_and_verification() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let led = p(d, "led");
    ok(run("ledger", &["init", "--dir", &led]));
    ok(run("ledger", &["keygen", "--out", &p(d, "owner.key")]));
    let mut server = Command::new(exe("ledger"))
        .args(["serve", "--dir", &led, "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.split_whitespace().last().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let (commitment, _, _) = {
        // A commitment only (no proof needed to register).
        let ds = d.to_str().unwrap();
        ok(run(
            "dataspace",
            &["gen", "--table", "encounters", "--rows", "10", "--out", ds],
        ));
        ok(run(
            "zkprove",
            &[
                "commit",
                "--schema",
                &p(d, "encounters.schema.toml"),
                "--data",
                &p(d, "encounters.csv"),
                "--chunk-size",
                "16",
                "--out",
                ds,
            ],
        ));
        (p(d, "commitment.json"), (), ())
    };
    ok(run(
        "zkprove",
        &[
            "register",
            "--ledger",
            &url,
            "--identity",
            &p(d, "owner.key"),
            "--name",
            "h",
            "dataset",
            "--commitment",
            &commitment,
        ],
    ));
    let status = ok(run("ledger", &["status", "--ledger", &url]));
    assert!(status.contains("\"size\": 1"), "{status}");
    ok(run(
        "ledger",
        &[
            "monitor",
            "--ledger",
            &url,
            "--trust",
            &p(d, "led/config.json"),
        ],
    ));
    server.kill().unwrap();
    server.wait().unwrap();
    // An unreachable ledger is bad input, not an alert and not a hang.
    let o = run("ledger", &["status", "--ledger", &url]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_writer_killed_mid_append_loses_no_acknowledged_entry() {
    let dir = tempfile::tempdir().unwrap();
    let led = p(dir.path(), "led");
    ok(run("ledger", &["init", "--dir", &led]));
    let mut acked_total = 0u64;
    for round in 0..3 {
        let mut child = Command::new(exe("ledger"))
            .args([
                "stress", "--dir", &led, "--count", "1000000", "--batch", "3",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut last = 0u64;
        // Kill at a different point each round, while it is appending.
        for _ in 0..(20 + 15 * round) {
            let l = lines.next().unwrap().unwrap();
            last = l.strip_prefix("acked ").unwrap().parse().unwrap();
        }
        child.kill().unwrap(); // SIGKILL: no destructor, no flush
        child.wait().unwrap();
        // The store opens (checkpoint quorum and tree checked) and holds every acked entry,
        // in whole batches only.
        let status = ok(run("ledger", &["status", "--ledger", &led]));
        let cp: serde_json::Value = serde_json::from_str(&status).unwrap();
        let size = cp["checkpoint"]["size"].as_u64().unwrap();
        assert!(size >= last, "acked {last}, found {size}");
        assert!(size >= acked_total);
        assert_eq!(size % 3, 0, "a torn batch");
        acked_total = size;
    }
    assert!(acked_total >= 20 * 3);
}

#[test]
fn monitoring_a_fresh_ledger_reports_it_empty_and_a_checkpoint_short_of_quorum_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let led = p(d, "led");
    let trust = p(d, "led/config.json");
    let state = p(d, "seen.json");
    // One of three validators suffices on this ledger.
    ok(run(
        "ledger",
        &[
            "init",
            "--dir",
            &led,
            "--validators",
            "3",
            "--threshold",
            "1",
        ],
    ));
    let monitor = |trust: &str| {
        run(
            "ledger",
            &[
                "monitor", "--ledger", &led, "--trust", trust, "--state", &state,
            ],
        )
    };
    let o = monitor(&trust);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert_eq!(out, "ok: empty ledger, nothing recorded yet\n");
    assert!(!err.contains("ALERT"), "{err}");
    assert!(!d.join("seen.json").exists());
    // Only validator 0 is left to sign the first checkpoint ...
    for i in [1, 2] {
        std::fs::remove_file(d.join(format!("led/validators/validator-{i}.key"))).unwrap();
    }
    ok(run("ledger", &["stress", "--dir", &led, "--count", "1"]));
    // ... which a verifier trusting a quorum of two refuses: an alert, exit 1.
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trust).unwrap()).unwrap();
    config["threshold"] = 2.into();
    let strict = p(d, "strict.json");
    std::fs::write(&strict, config.to_string()).unwrap();
    let o = monitor(&strict);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        "ALERT: checkpoint of size 1 has 1 valid validator signatures, the quorum is 2\n"
    );
    // Under the ledger's own configuration the same checkpoint is fine.
    let text = ok(monitor(&trust));
    assert!(text.contains("ok: first checkpoint, 1 entries"), "{text}");
}
