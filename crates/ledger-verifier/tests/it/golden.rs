//! Golden files: every on-disk and on-wire format of the ledger, as the current code writes it
//! from seeded keys, committed under `tests/golden/`. Each test makes the bytes afresh and
//! compares them with the file, decodes the file and re-encodes it byte for byte, and pins the
//! digests that name things (entry digests, index keys, the checkpoint's root and signed
//! message, the evidence file's digest) as hex constants.
//!
//! An intended format change: regenerate the files with
//! `TRUSTSPACE_BLESS=1 cargo test -p trustspace-ledger-verifier --test it golden`, review the
//! diff, and update the constants the run reports. The entries and checkpoints here are
//! synthetic (made-up commitment and policy digests), so they do not move when trustspace-zk or
//! -data change how they compute schema, policy or key digests; the evidence file embeds a real
//! bundle and its keys, so it does.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use trustspace_ledger_verifier::entry::IndexedEntry;
use trustspace_ledger_verifier::http::{
    AppendRequest, AuditRequest, ErrorBody, Found, Response, route, serve,
};
use trustspace_ledger_verifier::log::{ConsistencyProof, InclusionProof};
use trustspace_ledger_verifier::monitor::{Monitor, MonitorState, Observation};
use trustspace_ledger_verifier::view::{Audit, Receipt};
use trustspace_ledger_verifier::*;
use trustspace_zk::Commitment;

use crate::common::{FixedLedger, issuer, owner, pin, validator_identities, world};

const ENTRY_DATASET_DIGEST: &str =
    "85be92a0b8f2a21929ec4e8f39fc7ac98979624725aae4d0782a6476e99c7ae7";
const ENTRY_POLICY_DIGEST: &str =
    "b56094d4cd7be1f9091c0b704b613d3f17f92dca799a4e283efd2b3daf86599d";
const ENTRY_VERDICT_DIGEST: &str =
    "955169186517aba20f4fa3b57f39777eac049e03c1103883b47807bc56f841da";
const VERDICT_KEY: &str = "0394875c6c467e1d71da6abbdd9459d34d264f784825fbde20dd94d6589b55e64f";
const CHECKPOINT_ROOT: &str = "6771c0fac81a2ff4e2841a02b0bd51209e8dd43877c70b5285d61fbd66aaacb1";
const CHECKPOINT_MESSAGE_DIGEST: &str =
    "21b05a904fc020c7123cecaffbc1ce8a5d0294043f70a5ebea10e39c202f04e6";
const PROPOSAL_MESSAGE_DIGEST: &str =
    "84f0a8c7668786cb0223df2939bf7c0f006b16339c1158d1e8deb42392832833";
const EVIDENCE_DIGEST: &str = "ae98e0ce27d65dbd4338d0cee0e85479e91d5ee2d0d8ae883dac700bcf313bf5";

/// The log every golden checkpoint belongs to.
const LOG_ID: &str = "trustspace-golden";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn blessing() -> bool {
    std::env::var_os("TRUSTSPACE_BLESS").is_some_and(|v| v == "1")
}

/// Compares `made` with the golden file `name` and returns the file's bytes; when blessing,
/// writes `made` to it instead.
fn golden(name: &str, made: &[u8]) -> Vec<u8> {
    let path = dir().join(name);
    if blessing() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, made).unwrap();
        return made.to_vec();
    }
    let file = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; write it with TRUSTSPACE_BLESS=1 cargo test -p \
             trustspace-ledger-verifier --test it golden",
            path.display()
        )
    });
    if file != made {
        panic!(
            "the current code no longer writes {name} as committed (an intended format change is \
             regenerated with TRUSTSPACE_BLESS=1 cargo test -p trustspace-ledger-verifier --test \
             it golden)\n committed: {}\n made now:  {}",
            String::from_utf8_lossy(&file),
            String::from_utf8_lossy(made)
        );
    }
    file
}

/// Pinned digests: collects every comparison so that one run reports every constant to update.
#[derive(Default)]
struct Pins(Vec<String>);

impl Pins {
    fn check(&mut self, name: &str, pinned: &str, got: &[u8]) {
        let got = hex::encode(got);
        if pinned != got {
            self.0.push(format!("const {name}: &str = \"{got}\";"));
        }
    }

    fn done(self) {
        assert!(
            self.0.is_empty(),
            "pinned digests changed; if intended, update them in tests/it/golden.rs:\n{}",
            self.0.join("\n")
        );
    }
}

fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// One entry of each kind, by seeded submitters, over made-up digests.
fn entries() -> [Entry; 3] {
    let dataset = Entry::sign(
        Body::Dataset(DatasetEntry {
            commitment: Commitment {
                version: 2,
                root: ark_bn254::Fr::from(0x5eed_u64),
                schema_digest: [0x5c; 32],
                records: 40,
                chunk_size: 32,
                owner: owner().public().to_bytes(),
            },
            name: "hospital-1/encounters-2026Q3".into(),
            metadata: b"{\"hospital\":1}".to_vec(),
        }),
        1_790_000_000,
        &owner(),
    )
    .unwrap();
    let policy = Entry::sign(
        Body::Policy(PolicyEntry {
            policy_digest: [0x90; 32],
            chunk_circuit: [0xc1; 32],
            final_circuit: Some([0xf1; 32]),
            vk_digest: [0x7d; 32],
            name: "healthcare reference".into(),
        }),
        1_790_000_001,
        &issuer(),
    )
    .unwrap();
    let verdict = Entry::sign(
        Body::Verdict(VerdictEntry {
            statement: [0x57; 32],
            dataset: (0, dataset.digest().unwrap()),
            policy: (1, policy.digest().unwrap()),
            valid: true,
        }),
        1_790_000_002,
        &Identity::from_seed(&[9; 32]),
    )
    .unwrap();
    [dataset, policy, verdict]
}

/// A ledger holding the dataset and policy entries (appended one at a time).
fn two_entries() -> FixedLedger {
    let l = FixedLedger::new(LOG_ID);
    let [dataset, policy, _] = entries();
    l.append(vec![dataset]).unwrap();
    l.append(vec![policy]).unwrap();
    l
}

#[test]
fn entries_are_pinned() {
    let mut pins = Pins::default();
    let names = ["dataset", "policy", "verdict"];
    let consts = [
        ("ENTRY_DATASET_DIGEST", ENTRY_DATASET_DIGEST),
        ("ENTRY_POLICY_DIGEST", ENTRY_POLICY_DIGEST),
        ("ENTRY_VERDICT_DIGEST", ENTRY_VERDICT_DIGEST),
    ];
    for ((e, name), (cname, pinned)) in entries().into_iter().zip(names).zip(consts) {
        let file = golden(&format!("entry-{name}.bin"), &e.encode().unwrap());
        let back = Entry::decode(&file).unwrap();
        assert_eq!(back, e, "{name}");
        assert_eq!(back.encode().unwrap(), file, "{name}");
        assert_eq!(back.body.kind_name(), name);
        back.check_signature().unwrap();
        assert_eq!(Entry::from_hex(&back.to_hex().unwrap()).unwrap(), back);
        pins.check(cname, pinned, &back.digest().unwrap());
    }
    // The store indexes entries by key: a changed key would orphan every stored verdict.
    let [dataset, policy, verdict] = entries();
    let Body::Dataset(d) = &dataset.body else {
        unreachable!()
    };
    let root_bytes = dataset.encode().unwrap()[4 + 1 + 1 + 8 + 32 + 4..][..32].to_vec();
    let keyed: [u8; 32] = {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(b"trustspace-dataset-key\0");
        h.update(&root_bytes);
        h.update(d.commitment.owner);
        h.finalize().into()
    };
    assert_eq!(
        dataset.key().to_bytes()[1..],
        keyed[..],
        "a dataset's key is its commitment root with its owner"
    );
    assert_eq!(dataset.key(), EntryKey::dataset(&d.commitment));
    assert_eq!(policy.key(), EntryKey::Policy([0x90; 32]));
    let key = verdict.key().to_bytes();
    assert_eq!(EntryKey::from_bytes(&key).unwrap(), verdict.key());
    pins.check("VERDICT_KEY", VERDICT_KEY, &key);
    pins.done();
}

#[test]
fn checkpoint_and_proofs_are_pinned() {
    let l = two_entries();
    let at_two = l.checkpoint().unwrap().checkpoint;
    let [_, _, verdict] = entries();
    let receipt = l.append(vec![verdict.clone()]).unwrap();
    assert_eq!((receipt.first_index, receipt.count), (2, 1));

    // The co-signed checkpoint, as the store keeps it and the service sends it.
    let made = serde_json::to_vec(&receipt.checkpoint).unwrap();
    let file = golden("checkpoint.json", &made);
    let cp: CosignedCheckpoint = serde_json::from_slice(&file).unwrap();
    assert_eq!(serde_json::to_vec(&cp).unwrap(), file);
    assert_eq!(cp, receipt.checkpoint);
    cp.verify(&l.config).unwrap();
    assert_eq!(cp.signatures.len(), 3);
    let mut pins = Pins::default();
    pins.check("CHECKPOINT_ROOT", CHECKPOINT_ROOT, &cp.checkpoint.root);
    pins.check(
        "CHECKPOINT_MESSAGE_DIGEST",
        CHECKPOINT_MESSAGE_DIGEST,
        &sha256(&cp.checkpoint.signing_message()),
    );

    // An inclusion proof (the verdict's) and a consistency proof (from size 2), as audits and
    // evidence files carry them.
    let audit = l.audit(&[2], Some(2)).unwrap();
    let made = serde_json::to_vec(&audit.inclusions[0]).unwrap();
    let file = golden("inclusion-proof.json", &made);
    let inclusion: InclusionProof = serde_json::from_slice(&file).unwrap();
    assert_eq!(serde_json::to_vec(&inclusion).unwrap(), file);
    inclusion
        .verify(&verdict.digest().unwrap(), &cp.checkpoint)
        .unwrap();
    let made = serde_json::to_vec(audit.consistency.as_ref().unwrap()).unwrap();
    let file = golden("consistency-proof.json", &made);
    let consistency: ConsistencyProof = serde_json::from_slice(&file).unwrap();
    assert_eq!(serde_json::to_vec(&consistency).unwrap(), file);
    consistency.verify(&at_two, &cp.checkpoint).unwrap();
    pins.done();
}

#[test]
fn trust_configuration_and_key_files_are_pinned() {
    let tmp = tempfile::tempdir().unwrap();
    // With every optional list: pinned policies and keys, and a chain's issuers.
    let mut config = FixedLedger::new(LOG_ID).config;
    config.policies = vec![[0x11; 32]];
    config.keys = vec![[0x22; 32], [0x23; 32]];
    config.chain_issuers = vec![[0x33; 20]];
    config.check().unwrap();
    let path = tmp.path().join("config.json");
    config.save(&path).unwrap();
    let file = golden("ledger-config.json", &std::fs::read(&path).unwrap());
    std::fs::write(&path, &file).unwrap();
    let back = LedgerConfig::load(&path).unwrap();
    assert_eq!(back, config);
    let again = tmp.path().join("again.json");
    back.save(&again).unwrap();
    assert_eq!(std::fs::read(&again).unwrap(), file);

    // A validator's key file (a test key: its seed is public).
    let id = &validator_identities()[0];
    let path = tmp.path().join("validator.key");
    id.save(&path).unwrap();
    let file = golden("validator.key", &std::fs::read(&path).unwrap());
    let from_file = tmp.path().join("from-file.key");
    std::fs::write(&from_file, &file).unwrap();
    let back = Identity::load(&from_file).unwrap();
    assert_eq!(back.public(), id.public());
    let again = tmp.path().join("again.key");
    back.save(&again).unwrap();
    assert_eq!(std::fs::read(&again).unwrap(), file);
}

#[test]
fn monitor_state_is_pinned() {
    let tmp = tempfile::tempdir().unwrap();
    let l = two_entries();
    let path = tmp.path().join("monitor.json");
    let mut m = Monitor::new(l.config.clone(), Some(&path)).unwrap();
    assert_eq!(m.check(&l).unwrap(), Observation::First { size: 2 });
    let file = golden("monitor-state.json", &std::fs::read(&path).unwrap());
    let state = MonitorState::decode(&file, "monitor-state.json").unwrap();
    assert_eq!(state.encode(), file);
    assert_eq!(state.last, l.checkpoint().unwrap());
    // A monitor started from the file resumes from its checkpoint.
    let copy = tmp.path().join("copy.json");
    std::fs::write(&copy, &file).unwrap();
    let resumed = Monitor::new(l.config.clone(), Some(&copy)).unwrap();
    assert_eq!(resumed.last(), Some(&state.last));
}

/// An answer of the service: status and body.
fn answer(
    resp: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> (u16, Vec<u8>) {
    let mut resp = resp.unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_vec().unwrap())
}

/// Checks a golden body decodes as `T` and re-encodes byte for byte.
fn reencodes<T: serde::Serialize + serde::de::DeserializeOwned>(file: &[u8]) -> T {
    let v: T = serde_json::from_slice(file).unwrap();
    assert_eq!(
        serde_json::to_vec(&v).unwrap(),
        file,
        "{}",
        String::from_utf8_lossy(file)
    );
    v
}

#[test]
fn http_bodies_are_pinned() {
    let l = Arc::new(two_entries());
    let service = serve(l.clone(), "127.0.0.1:0", 1).unwrap();
    let url = service.url();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let get = |path: &str| answer(agent.get(format!("{url}{path}")).call());
    let post = |path: &str, body: &[u8]| {
        answer(
            agent
                .post(format!("{url}{path}"))
                .header("Content-Type", "application/json")
                .send(body),
        )
    };
    let [dataset, _, verdict] = entries();

    let (status, body) = get("/v1/checkpoint");
    assert_eq!(status, 200);
    let cp: CosignedCheckpoint = reencodes(&golden("http/checkpoint.json", &body));
    assert_eq!(cp, l.checkpoint().unwrap());

    let (status, body) = get("/v1/entry/0");
    assert_eq!(status, 200);
    let e: IndexedEntry = reencodes(&golden("http/entry.json", &body));
    assert_eq!((e.index, Entry::from_hex(&e.entry).unwrap()), (0, dataset));

    let key = |e: &Entry| hex::encode(e.key().to_bytes());
    let (status, body) = get(&format!("/v1/find/{}", key(&entries()[0])));
    assert_eq!(status, 200);
    let found: Found = reencodes(&golden("http/find.json", &body));
    assert_eq!(found.index, Some(0));
    let (status, body) = get(&format!("/v1/find/{}", key(&verdict)));
    assert_eq!(status, 200);
    let found: Found = reencodes(&golden("http/find-none.json", &body));
    assert_eq!(found.index, None);

    let request = AuditRequest {
        indices: vec![0, 1],
        from: Some(1),
    };
    let made = serde_json::to_vec(&request).unwrap();
    let request_file = golden("http/audit-request.json", &made);
    assert_eq!(reencodes::<AuditRequest>(&request_file), request);
    let (status, body) = post("/v1/audit", &request_file);
    assert_eq!(status, 200);
    let audit: Audit = reencodes(&golden("http/audit.json", &body));
    assert_eq!(audit, l.audit(&[0, 1], Some(1)).unwrap());

    let request = AppendRequest {
        entries: vec![verdict.to_hex().unwrap()],
    };
    let made = serde_json::to_vec(&request).unwrap();
    let request_file = golden("http/append-request.json", &made);
    assert_eq!(reencodes::<AppendRequest>(&request_file), request);
    let (status, body) = post("/v1/append", &request_file);
    assert_eq!(status, 200);
    let receipt: Receipt = reencodes(&golden("http/append.json", &body));
    assert_eq!(receipt.checkpoint, l.checkpoint().unwrap());
    assert_eq!((receipt.first_index, receipt.count), (2, 1));

    // Errors: the message and its code.
    let (status, body) = post("/v1/append", &request_file);
    assert_eq!(status, 400);
    let err: ErrorBody = reencodes(&golden("http/error-duplicate.json", &body));
    assert_eq!(
        err.code.as_deref().and_then(ErrorCode::parse),
        Some(ErrorCode::Duplicate)
    );
    let (status, body) = get("/v1/entry/99");
    assert_eq!(status, 404);
    let err: ErrorBody = reencodes(&golden("http/error-no-such-entry.json", &body));
    assert_eq!(
        err.code.as_deref().and_then(ErrorCode::parse),
        Some(ErrorCode::NoSuchEntry)
    );
    let (status, body) = get("/v2/checkpoint");
    assert_eq!(status, 400);
    let err: ErrorBody = reencodes(&golden("http/error-no-such-endpoint.json", &body));
    assert_eq!(err.code.as_deref(), Some("refused"));
}

/// The service's handling without the network: [`route`] answers the same bodies as the
/// running service (the golden files), in the same order of requests.
#[test]
fn route_answers_the_golden_bodies() {
    let l = two_entries();
    let file = |name: &str| std::fs::read(dir().join("http").join(name)).unwrap();
    let key = |e: &Entry| hex::encode(e.key().to_bytes());
    let [dataset, _, verdict] = entries();
    let requests: [(&str, String, Vec<u8>, u16, &str); 9] = [
        (
            "GET",
            "/v1/checkpoint".into(),
            vec![],
            200,
            "checkpoint.json",
        ),
        ("GET", "/v1/entry/0".into(), vec![], 200, "entry.json"),
        (
            "GET",
            format!("/v1/find/{}", key(&dataset)),
            vec![],
            200,
            "find.json",
        ),
        (
            "GET",
            format!("/v1/find/{}", key(&verdict)),
            vec![],
            200,
            "find-none.json",
        ),
        (
            "POST",
            "/v1/audit".into(),
            file("audit-request.json"),
            200,
            "audit.json",
        ),
        (
            "POST",
            "/v1/append".into(),
            file("append-request.json"),
            200,
            "append.json",
        ),
        (
            "POST",
            "/v1/append".into(),
            file("append-request.json"),
            400,
            "error-duplicate.json",
        ),
        (
            "GET",
            "/v1/entry/99".into(),
            vec![],
            404,
            "error-no-such-entry.json",
        ),
        (
            "GET",
            "/v2/checkpoint".into(),
            vec![],
            400,
            "error-no-such-endpoint.json",
        ),
    ];
    for (method, url, body, status, name) in requests {
        let Response { status: s, body: b } = route(&l, method, &url, &body);
        assert_eq!((s, b), (status, file(name)), "{method} {url}");
    }
    // A GET endpoint asked with POST, and a method other than GET and POST, are no endpoints.
    for (method, url) in [
        ("POST", "/v1/checkpoint"),
        ("PUT", "/v1/append"),
        ("get", "/v1/checkpoint"),
    ] {
        let Response { status, body } = route(&l, method, url, b"{}");
        assert_eq!(status, 400, "{method} {url}");
        let err: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(err.code.as_deref(), Some("refused"), "{method} {url}");
    }
}

#[test]
fn evidence_is_pinned() {
    let w = world();
    let tmp = tempfile::tempdir().unwrap();
    let l = FixedLedger::new(LOG_ID);
    let dataset = Body::Dataset(DatasetEntry {
        commitment: w.commitment.clone(),
        name: "h1".into(),
        metadata: b"{\"hospital\":1}".to_vec(),
    });
    l.append(vec![Entry::sign(dataset, 1_790_000_000, &owner()).unwrap()])
        .unwrap();
    let policy = Body::Policy(PolicyEntry::for_keys(&w.vk, "healthcare reference"));
    l.append(vec![Entry::sign(policy, 1_790_000_001, &issuer()).unwrap()])
        .unwrap();
    let (verdict, evidence) = verify(&w.bundle, &w.vk, &l, &l.config, None).unwrap();
    let path = tmp.path().join("evidence.json");
    evidence.save(&path).unwrap();
    let file = golden("evidence.json", &std::fs::read(&path).unwrap());

    let from_file = tmp.path().join("from-file.json");
    std::fs::write(&from_file, &file).unwrap();
    let back = Evidence::load(&from_file).unwrap();
    let again = tmp.path().join("again.json");
    back.save(&again).unwrap();
    assert_eq!(std::fs::read(&again).unwrap(), file);
    assert_eq!(
        verify_evidence(&back, &l.config, &pin(), None).unwrap(),
        verdict
    );
    assert_eq!((verdict.dataset_index, verdict.policy_index), (0, 1));
    let mut pins = Pins::default();
    pins.check("EVIDENCE_DIGEST", EVIDENCE_DIGEST, &sha256(&file));
    pins.done();
}

#[test]
fn files_of_an_older_format_version_are_refused_naming_it() {
    // Version 1 (dataset entries without the commitment's owner): refused by version.
    let old = |name: &str| std::fs::read(dir().join("v1").join(name)).unwrap();
    let e = Entry::decode(&old("entry-dataset.bin")).unwrap_err();
    assert!(
        matches!(&e, LedgerError::Malformed { reason, .. } if reason == "unsupported version 1"),
        "{e:?}"
    );
    let e = LedgerConfig::from_bytes(&old("ledger-config.json"), "config v1").unwrap_err();
    assert!(
        matches!(&e, LedgerError::Malformed { reason, .. } if reason == "unsupported version 1"),
        "{e:?}"
    );
    let e = Evidence::from_bytes(&old("evidence.json"), "evidence v1").unwrap_err();
    assert!(
        matches!(&e, LedgerError::Malformed { reason, .. }
            if reason == "unsupported evidence version 1"),
        "{e:?}"
    );
}

#[test]
fn validator_formats_are_pinned() {
    use trustspace_ledger_verifier::log::CheckpointSignature;
    use trustspace_ledger_verifier::replica::{ProposalRequest, RemoteEntry, RemoteValidators};
    use trustspace_ledger_verifier::validator::{CosignAnswer, Head, Proposal};
    let tmp = tempfile::tempdir().unwrap();
    let mut pins = Pins::default();
    // The server's list of validators run by other parties.
    let config = FixedLedger::new(LOG_ID).config;
    let list = RemoteValidators {
        version: 1,
        validators: validator_identities()
            .iter()
            .enumerate()
            .map(|(i, id)| RemoteEntry {
                key: id.public(),
                url: format!("http://validator-{i}.example:7801"),
            })
            .collect(),
    };
    list.save(tmp.path()).unwrap();
    let file = golden(
        "validators.json",
        &std::fs::read(tmp.path().join("validators.json")).unwrap(),
    );
    std::fs::write(tmp.path().join("validators.json"), &file).unwrap();
    assert_eq!(
        RemoteValidators::load(tmp.path(), &config).unwrap(),
        Some(list)
    );
    // The client speaks plain HTTP: an https URL would fail at the first round, so it is
    // refused when the list is read.
    let https = String::from_utf8(file.clone())
        .unwrap()
        .replace("http://", "https://");
    std::fs::write(tmp.path().join("validators.json"), https).unwrap();
    assert!(matches!(
        RemoteValidators::load(tmp.path(), &config),
        Err(LedgerError::Malformed { .. })
    ));

    // A proposal, signed by the server (a seeded test key), and the answers to it.
    let [dataset, policy, _] = entries();
    let mut tree = trustspace_ledger_verifier::log::LogTree::new();
    tree.push(dataset.digest().unwrap());
    tree.push(policy.digest().unwrap());
    let proposal = Proposal {
        from: 1,
        entries: vec![policy],
        checkpoint: Checkpoint {
            log_id: LOG_ID.into(),
            size: 2,
            root: tree.root(),
            timestamp_ms: 1_790_000_002_000,
        },
    };
    pins.check(
        "PROPOSAL_MESSAGE_DIGEST",
        PROPOSAL_MESSAGE_DIGEST,
        &sha256(&proposal.signing_message().unwrap()),
    );
    let server = Identity::from_seed(&[0x20; 32]);
    let request = ProposalRequest::new(&proposal, &server).unwrap();
    let file = golden(
        "validator/proposal.json",
        &serde_json::to_vec(&request).unwrap(),
    );
    let back: ProposalRequest = reencodes(&file);
    assert_eq!(back.proposal(&server.public()).unwrap(), proposal);
    let v = &validator_identities()[0];
    let answers = [
        (
            "validator/answer-signed.json",
            CosignAnswer::Signed(Box::new(CheckpointSignature {
                validator: v.public(),
                signature: v.sign(&proposal.checkpoint.signing_message()),
            })),
        ),
        (
            "validator/answer-behind.json",
            CosignAnswer::Behind { size: 1 },
        ),
        (
            "validator/answer-ahead.json",
            CosignAnswer::Ahead {
                size: 2,
                root: tree.root(),
            },
        ),
    ];
    for (name, answer) in answers {
        let file = golden(name, &serde_json::to_vec(&answer).unwrap());
        assert_eq!(reencodes::<CosignAnswer>(&file), answer);
    }
    let head = Head {
        size: 2,
        root: tree.root(),
    };
    let file = golden("validator/head.json", &serde_json::to_vec(&head).unwrap());
    assert_eq!(reencodes::<Head>(&file), head);
    pins.done();
}
