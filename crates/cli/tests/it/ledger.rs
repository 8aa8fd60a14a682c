//! `ledger`, `zkprove register` and `zkverify --ledger/--evidence`: registration, verification
//! against the ledger and offline, forks and monitors in-process with their causes; the HTTP
//! service, a writer killed mid-append, the monitor's alert and validators run as separate
//! parties through the binaries.

use crate::common::{
    Proven, commit_encounters, exe, gen_encounters, heavy, init_ledger, issuer_trust, ok, p,
    printed, run,
};
use clap::Parser;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use trustspace_cli::cmd::ledger;
use trustspace_cli::cmd::zkprove::args::{RegisterArgs, Registration};
use trustspace_cli::cmd::zkprove::register::register;
use trustspace_cli::cmd::zkverify::{self, Cause, Failure, Kind};
use trustspace_ledger_verifier::log::LogTree;
use trustspace_ledger_verifier::monitor::Observation;
use trustspace_ledger_verifier::replica::RemoteValidator;
use trustspace_ledger_verifier::validator::{Cosigner, Proposal};
use trustspace_ledger_verifier::{
    Body, Checkpoint, Entry, Identity, LedgerError, LedgerView, PolicyEntry,
};

/// `zkverify ARGS` in-process: the exit code and what it printed (stdout, stderr).
fn zkverify(args: &[&str]) -> (u8, String, String) {
    let cli = zkverify::Cli::try_parse_from([&["zkverify"][..], args].concat()).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = zkverify::main(&cli, &mut out, &mut err);
    (code, printed(&out), printed(&err))
}

/// `zkverify ARGS` in-process: the result.
fn verify(args: &[&str]) -> Result<zkverify::Outcome, Failure> {
    zkverify::verify(&zkverify::Cli::try_parse_from([&["zkverify"][..], args].concat()).unwrap())
}

/// `zkprove register` in-process.
fn reg(ledger: &str, identity: &str, name: &str, what: Registration) -> anyhow::Result<()> {
    register(&RegisterArgs {
        ledger: ledger.into(),
        identity: identity.into(),
        name: name.into(),
        what,
    })
    .map(drop)
}

fn dataset(commitment: &str) -> Registration {
    Registration::Dataset {
        commitment: commitment.into(),
        metadata: String::new(),
    }
}

fn policy(keys: &str) -> Registration {
    Registration::Policy { keys: keys.into() }
}

#[test]
fn register_verify_against_the_ledger_and_offline() {
    let _heavy = heavy();
    let dir = tempfile::tempdir().unwrap();
    let d = Proven::install(dir.path());
    let (commitment, vk, bundle) = (
        p(&d, "commitment.json"),
        p(&d, "verifying.json"),
        p(&d, "bundle.json"),
    );
    let led = p(&d, "led");
    let trust = p(&d, "led/config.json");
    let mut out = Vec::new();
    // The fixture's commitment names `owner.key` (installed with it) as its owner; the
    // consortium's one policy issuer is `issuer.key`.
    ledger::init(
        Path::new(&led),
        "trustspace",
        3,
        &[],
        2,
        &issuer_trust(&d),
        &mut out,
    )
    .unwrap();

    // Not registered yet: not valid (exit 1), with the reason.
    let verify_args = [
        "--ledger", &led, "--trust", &trust, "--keys", &vk, "--json", &bundle,
    ];
    let (code, out, _) = zkverify(&verify_args);
    assert_eq!(code, 1);
    assert!(out.contains("unknown dataset"), "{out}");
    let f = verify(&verify_args).unwrap_err();
    assert!(
        matches!(
            (f.kind(), f.cause()),
            (
                Kind::Invalid,
                Cause::Ledger(LedgerError::UnknownDataset { .. })
            )
        ),
        "{f:?}"
    );

    reg(
        &led,
        &p(&d, "owner.key"),
        "hospital-1",
        dataset(&commitment),
    )
    .unwrap();
    reg(&led, &p(&d, "issuer.key"), "healthcare", policy(&vk)).unwrap();
    // Registering the same commitment twice is refused.
    let err = reg(&led, &p(&d, "owner.key"), "x", dataset(&commitment)).unwrap_err();
    assert!(
        matches!(err.downcast_ref(), Some(LedgerError::Duplicate { .. })),
        "{err:#}"
    );

    let evidence = p(&d, "evidence.json");
    let seen = p(&d, "seen.json");
    let regulator = p(&d, "issuer.key");
    let mut a = verify_args.to_vec();
    a.extend_from_slice(&[
        "--evidence-out",
        &evidence,
        "--seen",
        &seen,
        "--record",
        &regulator,
    ]);
    let (code, out, err) = zkverify(&a);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["ledger"]["dataset"]["name"], "hospital-1");
    assert_eq!(v["ledger"]["checkpoint_size"], 2);
    assert_eq!(v["ledger"]["verdict_entry"], 2);
    // The same verdict twice is a duplicate: refused by the ledger, not valid (exit 1).
    let f = verify(&a).unwrap_err();
    assert!(
        matches!(
            (f.kind(), f.cause()),
            (Kind::Invalid, Cause::Ledger(LedgerError::Duplicate { .. }))
        ),
        "{f:?}"
    );

    // Offline, from the evidence file and what the verifier pins: its keys, the policy's
    // digest, or the issuer it trusts; pinning nothing is a usage error.
    let offline = verify(&["--evidence", &evidence, "--trust", &trust, "--keys", &vk]).unwrap();
    let policy_digest = offline.ledger.as_ref().unwrap().policy.digest.clone();
    verify(&[
        "--evidence",
        &evidence,
        "--trust",
        &trust,
        "--policy-digest",
        &policy_digest,
    ])
    .unwrap();
    verify(&[
        "--evidence",
        &evidence,
        "--trust",
        &trust,
        "--issuer",
        &p(&d, "issuer.key"),
    ])
    .unwrap();
    let (code, _, err) = zkverify(&["--evidence", &evidence, "--trust", &trust]);
    assert_eq!(code, 2);
    assert!(err.contains("nothing pinned"), "{err}");
    // Finding 7: the very checkpoint the evidence holds, given as the one seen, is no fork.
    let held = d.join("held.json");
    let ev: serde_json::Value = serde_json::from_slice(&std::fs::read(&evidence).unwrap()).unwrap();
    std::fs::write(&held, ev["checkpoint"].to_string()).unwrap();
    let (code, out, err) = zkverify(&[
        "--evidence",
        &evidence,
        "--trust",
        &trust,
        "--keys",
        &vk,
        "--seen",
        held.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(offline.records, 40);
    assert_eq!(
        offline.ledger.as_ref().map(|l| l.dataset.name.as_str()),
        Some("hospital-1")
    );
    // Under another consortium's configuration: not valid.
    let other = d.join("other");
    init_ledger(&d, &other, 2);
    let f = verify(&[
        "--evidence",
        &evidence,
        "--trust",
        &p(&d, "other/config.json"),
        "--keys",
        &vk,
    ])
    .unwrap_err();
    assert!(
        matches!((f.kind(), f.cause()), (Kind::Invalid, Cause::Ledger(_))),
        "{f:?}"
    );
    // A corrupted evidence file is bad input.
    std::fs::write(&evidence, "{").unwrap();
    let f = verify(&["--evidence", &evidence, "--trust", &trust, "--keys", &vk]).unwrap_err();
    assert!(
        matches!((f.kind(), f.cause()), (Kind::BadInput, Cause::Ledger(_))),
        "{f:?}"
    );
    assert_eq!(f.exit_code(), 2);

    // The monitor accepts the ledger, remembers it, and alerts on a forked copy.
    let state = d.join("monitor.json");
    let seen_first =
        ledger::monitor(&led, Path::new(&trust), Some(&state), None, &mut Vec::new()).unwrap();
    assert_eq!(seen_first, Observation::First { size: 3 });
    let fork = d.join("fork");
    std::fs::create_dir_all(fork.join("validators")).unwrap();
    std::fs::copy(d.join("led/config.json"), fork.join("config.json")).unwrap();
    for e in std::fs::read_dir(d.join("led/validators")).unwrap() {
        let e = e.unwrap().path();
        std::fs::copy(&e, fork.join("validators").join(e.file_name().unwrap())).unwrap();
    }
    let forked = fork.display().to_string();
    // The fork holds the two registrations in the other order and no verdict.
    let owner = p(&d, "owner.key");
    reg(&forked, &p(&d, "issuer.key"), "f", policy(&vk)).unwrap();
    reg(&forked, &owner, "f", dataset(&commitment)).unwrap();
    let err = ledger::monitor(
        &forked,
        Path::new(&trust),
        Some(&state),
        None,
        &mut Vec::new(),
    )
    .unwrap_err();
    assert_eq!(ledger::exit_code(&err), (1, "ALERT"), "{err:#}");
    assert!(err.downcast_ref::<LedgerError>().is_some(), "{err:#}");
    // A verifier that saw the original history refuses the fork too.
    let f = verify(&[
        "--ledger", &forked, "--trust", &trust, "--keys", &vk, "--seen", &seen, &bundle,
    ])
    .unwrap_err();
    assert!(
        matches!((f.kind(), f.cause()), (Kind::Invalid, Cause::Ledger(_))),
        "{f:?}"
    );
    assert_eq!(f.exit_code(), 1);
}

#[test]
fn the_service_serves_registration_and_verification() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let led = p(d, "led");
    init_ledger(d, Path::new(&led), 2);
    ledger::keygen(&d.join("owner.key"), &mut Vec::new()).unwrap();
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
    assert_eq!(line, format!("serving {led} on {url}\n"));
    // A commitment only (no proof needed to register).
    gen_encounters(d, 10, 1, 0);
    commit_encounters(d, 16);
    reg(
        &url,
        &p(d, "owner.key"),
        "h",
        dataset(&p(d, "commitment.json")),
    )
    .unwrap();
    let status = ok(run("ledger", &["status", "--ledger", &url]));
    assert!(status.contains("\"size\": 1"), "{status}");
    let seen = ledger::monitor(
        &url,
        &d.join("led/config.json"),
        None,
        None,
        &mut Vec::new(),
    )
    .unwrap();
    assert_eq!(seen, Observation::First { size: 1 });
    server.kill().unwrap();
    server.wait().unwrap();
    // An unreachable ledger is bad input, not an alert and not a hang.
    let o = run("ledger", &["status", "--ledger", &url]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("error: "));
    let err = ledger::status(&url, &mut Vec::new()).unwrap_err();
    assert!(
        matches!(err.downcast_ref(), Some(LedgerError::Remote { .. })),
        "{err:#}"
    );
    assert_eq!(ledger::exit_code(&err), (2, "error"));
}

#[test]
fn a_writer_killed_mid_append_loses_no_acknowledged_entry() {
    let dir = tempfile::tempdir().unwrap();
    let led = p(dir.path(), "led");
    init_ledger(dir.path(), Path::new(&led), 2);
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
        let cp = ledger::status(&led, &mut Vec::new()).unwrap();
        let size = cp.checkpoint.size;
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
    init_ledger(d, Path::new(&led), 1);
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
    let mut acked = Vec::new();
    ledger::stress(Path::new(&led), 1, 1, &mut acked, &mut Vec::new()).unwrap();
    assert_eq!(printed(&acked), "acked 1\n");
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
    let e = ledger::monitor(
        &led,
        Path::new(&strict),
        Some(Path::new(&state)),
        None,
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e.downcast_ref(),
            Some(LedgerError::NoQuorum {
                size: 1,
                have: 1,
                need: 2
            })
        ),
        "{e:#}"
    );
    // Under the ledger's own configuration the same checkpoint is fine.
    let text = ok(monitor(&trust));
    assert!(text.contains("ok: first checkpoint, 1 entries"), "{text}");
}

#[test]
fn validators_run_by_separate_parties_keep_the_ledger_going() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let led = p(d, "led");
    issuer_trust(d);
    // Each party makes its key and picks its address (free loopback ports here).
    let mut remote = Vec::new();
    let mut addrs = Vec::new();
    for i in 0..3 {
        let key = ledger::keygen(&d.join(format!("v{i}.key")), &mut Vec::new()).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        addrs.push(format!("127.0.0.1:{port}"));
        remote.push(format!("{key}=http://127.0.0.1:{port}"));
    }
    for bad in ["no-equals-sign", "00=http://127.0.0.1:1", "KEY=ftp://x"] {
        let cli = ledger::Cli::try_parse_from([
            "ledger",
            "init",
            "--dir",
            &p(d, "bad"),
            "--issuer",
            &p(d, "issuer.key"),
            "--remote-validator",
            bad,
        ])
        .unwrap();
        assert!(ledger::run(cli, &mut Vec::new(), &mut Vec::new()).is_err());
    }
    let mut args = vec![
        "ledger",
        "init",
        "--dir",
        &led,
        "--threshold",
        "2",
        "--issuer",
        &p(d, "issuer.key"),
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    for r in &remote {
        args.extend(["--remote-validator".to_string(), r.clone()]);
    }
    let mut out = Vec::new();
    ledger::run(
        ledger::Cli::try_parse_from(&args).unwrap(),
        &mut out,
        &mut Vec::new(),
    )
    .unwrap();
    let printed = printed(&out);
    assert!(
        printed.contains("3 validators (3 run by other parties)"),
        "{printed}"
    );
    let server = printed
        .lines()
        .find_map(|l| l.strip_prefix("server key (each `ledger validator --server`): "))
        .unwrap()
        .to_string();
    assert!(!d.join("led/validators/validator-0.key").exists());
    let trust = d.join("led/config.json");
    // Two validators in this process, the third as its own `ledger validator` process.
    let mut running: Vec<_> = (0..2)
        .map(|i| {
            ledger::validator(
                &d.join(format!("v{i}.key")),
                &trust,
                trustspace_ledger_verifier::PublicKey::from_hex(&server).unwrap(),
                &d.join(format!("v{i}")),
                &addrs[i],
                2,
            )
            .unwrap()
        })
        .collect();
    let mut third = Command::new(exe("ledger"))
        .args(["validator", "--key", &p(d, "v2.key"), "--trust"])
        .arg(&trust)
        .args([
            "--server",
            &server,
            "--state",
            &p(d, "v2"),
            "--addr",
            &addrs[2],
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(third.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.ends_with(&format!(
            "serving on http://{} (its copy: 0 entries)\n",
            addrs[2]
        )),
        "{line}"
    );
    gen_encounters(d, 10, 1, 0);
    commit_encounters(d, 16);
    reg(
        &led,
        &p(d, "owner.key"),
        "h1",
        dataset(&p(d, "commitment.json")),
    )
    .unwrap();
    for (_, replica) in &running {
        assert_eq!(replica.size(), 1);
    }
    // The validator process checks the rules itself: a proposal of a policy by a key that is
    // not an issuer, signed by the server's own key as a hostile server would, is refused.
    let logged = {
        let l = trustspace_ledger_verifier::Ledger::open(Path::new(&led)).unwrap();
        l.entry(0).unwrap()
    };
    let owner = Identity::load(&d.join("owner.key")).unwrap();
    let lax = PolicyEntry {
        policy_digest: [1; 32],
        chunk_circuit: [2; 32],
        final_circuit: None,
        vk_digest: [3; 32],
        name: "lax".into(),
    };
    let rogue = Entry::sign(Body::Policy(lax), logged.timestamp, &owner).unwrap();
    let mut tree = LogTree::new();
    for e in [&logged, &rogue] {
        tree.push(e.digest().unwrap());
    }
    let proposal = Proposal {
        from: 1,
        entries: vec![rogue],
        checkpoint: Checkpoint {
            log_id: "trustspace".into(),
            size: 2,
            root: tree.root(),
            timestamp_ms: trustspace_ledger_verifier::rules::now_ms(),
        },
    };
    let server_id = Identity::load(&d.join("led/server.key")).unwrap();
    let refused = RemoteValidator::new(
        Identity::load(&d.join("v2.key")).unwrap().public(),
        &format!("http://{}", addrs[2]),
        std::time::Duration::from_secs(10),
        std::sync::Arc::new(server_id),
    )
    .propose(&proposal)
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("is not allowed to register policies by the trust configuration"),
        "{refused}"
    );
    // One party's validator stops: the other two still make a quorum.
    running.pop();
    gen_encounters(d, 10, 2, 0);
    commit_encounters(d, 16);
    reg(
        &led,
        &p(d, "owner.key"),
        "h2",
        dataset(&p(d, "commitment.json")),
    )
    .unwrap();
    let cp = ledger::status(&led, &mut Vec::new()).unwrap();
    assert_eq!(cp.checkpoint.size, 2);
    assert_eq!(cp.signatures.len(), 2);
    // A second stops: no quorum, and nothing is appended.
    third.kill().unwrap();
    third.wait().unwrap();
    gen_encounters(d, 10, 3, 0);
    commit_encounters(d, 16);
    let e = reg(
        &led,
        &p(d, "owner.key"),
        "h3",
        dataset(&p(d, "commitment.json")),
    )
    .unwrap_err();
    assert!(
        matches!(
            e.downcast_ref(),
            Some(LedgerError::NoQuorum {
                have: 1,
                need: 2,
                ..
            })
        ),
        "{e:#}"
    );
    assert_eq!(
        ledger::status(&led, &mut Vec::new())
            .unwrap()
            .checkpoint
            .size,
        2
    );
}
