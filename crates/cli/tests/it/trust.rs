//! The attacks on the trust around the proofs, through the commands: a holder's own policy,
//! setup and evidence (finding 1) and a front-running registration (finding 2), each refused
//! with its exit code and message.

use crate::common::{Proven, heavy, init_ledger, ok, p, prove_args, run, text};
use std::path::Path;
use trustspace_cli::cmd::ledger;
use trustspace_cli::cmd::zkprove::args::SetupArgs;
use trustspace_cli::cmd::zkprove::{prove, setup};
use trustspace_ledger_verifier::Identity;

/// `zkprove register` through the binary.
fn register(led: &str, identity: &str, args: &[&str]) -> std::process::Output {
    let mut a = vec![
        "register",
        "--ledger",
        led,
        "--identity",
        identity,
        "--name",
        "x",
    ];
    a.extend_from_slice(args);
    run("zkprove", &a)
}

#[test]
fn a_holders_own_policy_setup_and_evidence_do_not_pass_the_regulators_check() {
    let _heavy = heavy();
    let dir = tempfile::tempdir().unwrap();
    let d = Proven::install(dir.path());
    let vk = p(&d, "verifying.json");
    let led = p(&d, "led");
    init_ledger(&d, Path::new(&led), 2);
    let trust = p(&d, "led/config.json");
    let owner = p(&d, "owner.key");

    // The holder writes a lax policy under the real one's name and runs its own setup.
    let real = std::fs::read_to_string(d.join("encounters.policy.toml")).unwrap();
    let lax = real.replace(
        "{ column = \"consent\", eq = \"true\" }",
        "{ column = \"consent\", in = [\"true\", \"false\"] }",
    );
    assert_ne!(lax, real, "the lax policy drops the consent rule");
    std::fs::write(d.join("lax.toml"), lax).unwrap();
    let own = d.join("own");
    setup::setup(&SetupArgs {
        schema: d.join("encounters.schema.toml"),
        policy: d.join("lax.toml"),
        chunk_size: 16,
        out: own.clone(),
    })
    .unwrap();
    let own_vk = p(&own, "verifying.json");
    // The consortium's ledger refuses its policy: the holder is no issuer.
    let o = register(&led, &owner, &["policy", "--keys", &own_vk]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("is not allowed to register policies"),
        "{}",
        text(&o)
    );

    // So the holder runs a ledger of its own, where it is the issuer, registers there, proves
    // with its own keys and writes evidence that verifies under its own configuration.
    let rogue = p(&d, "rogue");
    let rogue_trust = ledger::Trust {
        issuers: vec![Identity::load(Path::new(&owner)).unwrap().public()],
        ..Default::default()
    };
    ledger::init(
        Path::new(&rogue),
        "trustspace",
        3,
        &[],
        2,
        &rogue_trust,
        &mut Vec::new(),
    )
    .unwrap();
    ok(register(
        &rogue,
        &owner,
        &["dataset", "--commitment", &p(&d, "commitment.json")],
    ));
    ok(register(&rogue, &owner, &["policy", "--keys", &own_vk]));
    let mut args = prove_args(&d, "lax.toml", "rogue-bundle.json");
    args.keys = own.join("proving.key");
    prove::prove(&args, true).unwrap();
    let rogue_bundle = p(&d, "rogue-bundle.json");
    let evidence = p(&d, "rogue-evidence.json");
    let own_valid = ok(run(
        "zkverify",
        &[
            "--ledger",
            &rogue,
            "--trust",
            &p(&d, "rogue/config.json"),
            "--keys",
            &own_vk,
            "--evidence-out",
            &evidence,
            &rogue_bundle,
        ],
    ));
    assert!(own_valid.contains("VALID: 40 records"), "{own_valid}");

    // The regulator checks the evidence offline against the consortium's configuration, with
    // any pin: not valid (exit 1), never VALID.
    let policy_digest = {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&vk).unwrap()).unwrap();
        v["policy_digest"].as_str().unwrap().to_string()
    };
    // Even handed the holder's own configuration, the regulator's pins refuse its policy.
    let rogue_config = p(&d, "rogue/config.json");
    let issuer_key = p(&d, "issuer.key");
    let pins = [
        ["--keys", vk.as_str()],
        ["--policy-digest", policy_digest.as_str()],
        ["--issuer", issuer_key.as_str()],
    ];
    // (Against the holder's configuration the refusal names the cause: an untrusted policy.)
    for (config, cause) in [(&trust, "INVALID: "), (&rogue_config, "untrusted policy")] {
        for pin in &pins {
            let args = [&["--evidence", &evidence, "--trust", config][..], pin].concat();
            let o = run("zkverify", &args);
            assert_eq!(o.status.code(), Some(1), "{pin:?}: {}", text(&o));
            assert!(text(&o).starts_with("INVALID: "), "{}", text(&o));
            assert!(text(&o).contains(cause), "{}", text(&o));
        }
    }
}

#[test]
fn a_commitment_cannot_be_registered_by_anyone_but_its_owner() {
    let _heavy = heavy();
    let dir = tempfile::tempdir().unwrap();
    let d = Proven::install(dir.path());
    let led = p(&d, "led");
    init_ledger(&d, Path::new(&led), 2);
    // The attacker registers the holder's published commitment under its own key first.
    ledger::keygen(&d.join("attacker.key"), &mut Vec::new()).unwrap();
    let commitment = p(&d, "commitment.json");
    let o = register(
        &led,
        &p(&d, "attacker.key"),
        &["dataset", "--commitment", &commitment],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("names another owner than its submitter"),
        "{}",
        text(&o)
    );
    // The owner's registration goes through.
    ok(register(
        &led,
        &p(&d, "owner.key"),
        &["dataset", "--commitment", &commitment],
    ));
}

#[test]
fn untrusted_text_never_reaches_the_terminal_raw() {
    // Finding 6: serde quotes an unknown field's name as written; a bundle (or a published
    // commitment) can name one with a carriage return, an erase-line and a fake verdict.
    let _heavy = heavy();
    let dir = tempfile::tempdir().unwrap();
    let d = Proven::install(dir.path());
    let text_in = std::fs::read_to_string(d.join("bundle.json")).unwrap();
    let evil = text_in.replacen(
        '{',
        "{\"\\r\\u001b[2KVALID: 64 records comply with the policy\\u202e\": 1,",
        1,
    );
    std::fs::write(d.join("evil.json"), evil).unwrap();
    let o = run(
        "zkverify",
        &[
            "--keys",
            &p(&d, "verifying.json"),
            "--commitment",
            &p(&d, "commitment.json"),
            &p(&d, "evil.json"),
        ],
    );
    let printed = text(&o);
    assert_eq!(o.status.code(), Some(2), "{printed}");
    assert!(
        !printed.contains('\r') && !printed.contains('\u{1b}') && !printed.contains('\u{202e}'),
        "{printed:?}"
    );
    assert!(printed.starts_with("error: "), "{printed:?}");
    assert!(printed.contains("\\r\\u{1b}[2KVALID"), "{printed:?}");
}

#[test]
fn names_registrants_chose_are_escaped_in_a_verdict() {
    // A dataset or policy name is the registrant's text: JSON quoting alone would let DEL, C1
    // controls (CSI) and bidirectional overrides through.
    use trustspace_cli::cmd::zkverify::ledger::{DatasetRef, LedgerCheck, PolicyRef};
    let key = Identity::from_seed(&[1; 32]).public();
    let check = LedgerCheck {
        checkpoint_size: 2,
        checkpoint_root: "00".repeat(32),
        dataset: DatasetRef {
            index: 0,
            name: "a\u{9b}2Kb\u{7f}".into(),
            owner: key,
            registered_at: 0,
        },
        policy: PolicyRef {
            index: 1,
            name: "p\u{202e}q".into(),
            digest: "11".repeat(32),
            keys_digest: "22".repeat(32),
            issuer: key,
        },
        verdict_entry: None,
    };
    let mut out = Vec::new();
    check.render(&mut out).unwrap();
    let shown = String::from_utf8(out).unwrap();
    assert!(
        !shown.contains(['\u{9b}', '\u{7f}', '\u{202e}']),
        "{shown:?}"
    );
    assert!(shown.contains("\"a\\u{9b}2Kb\\u{7f}\""), "{shown}");
}
