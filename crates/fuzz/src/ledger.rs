//! Fuzz targets of trustspace-ledger-verifier's decoders: entries (binary and hex), co-signed
//! checkpoints, evidence files, the monitor's state, the trust configuration, the HTTP
//! service's request handling and its client's reading of a (lying) service's answers.
//!
//! Context comes from the golden fixtures' seeds, built once: the trust configuration of the
//! golden log (three seeded validators, two to sign) and [`Frozen`], an in-memory ledger holding
//! the golden dataset and policy entries whose appends are checked and co-signed but never kept,
//! so every input sees the same ledger.

use std::sync::LazyLock;

use trustspace_data::error::escape_untrusted;
use trustspace_ledger_verifier::entry::IndexedEntry;
use trustspace_ledger_verifier::http::{
    self, Answer, Found, Response, read_answer, read_entry_answer,
};
use trustspace_ledger_verifier::log::{LogTree, empty_root};
use trustspace_ledger_verifier::monitor::{Monitor, MonitorState};
use trustspace_ledger_verifier::replica::ProposalRequest;
use trustspace_ledger_verifier::store::MAX_BATCH;
use trustspace_ledger_verifier::validator::{CosignAnswer, Proposal, Validator};
use trustspace_ledger_verifier::view::{Audit, Receipt};
use trustspace_ledger_verifier::{
    Checkpoint, CosignedCheckpoint, Entry, EntryKey, Evidence, Identity, LedgerConfig, LedgerError,
    LedgerView, Refusal, RemoteCause, Result,
};

use crate::Target;
use crate::props::{canonical, round_trips};

/// This crate's targets.
pub(crate) const TARGETS: &[Target] = &[
    Target {
        name: "ledger_entry",
        about: "Entry::decode (canonical binary entry); canonical, key round trip",
        run: entry,
    },
    Target {
        name: "ledger_entry_hex",
        about: "Entry::from_hex (an entry in JSON files and HTTP bodies); canonical up to case",
        run: entry_hex,
    },
    Target {
        name: "ledger_checkpoint",
        about: "CosignedCheckpoint::from_bytes, then its quorum under the golden configuration",
        run: checkpoint,
    },
    Target {
        name: "ledger_evidence",
        about: "Evidence::from_bytes, then its checkpoint, entries and proofs (not the Groth16 proofs)",
        run: evidence,
    },
    Target {
        name: "ledger_monitor_state",
        about: "MonitorState::decode (the monitor's state file), then its checkpoint's quorum",
        run: monitor_state,
    },
    Target {
        name: "ledger_config",
        about: "LedgerConfig::from_bytes (the verifier's trust anchor)",
        run: config,
    },
    Target {
        name: "ledger_http",
        about: "http::route on an in-memory ledger: input is `METHOD URL\\nBODY`; the client reads every answer back",
        run: http_route,
    },
    Target {
        name: "ledger_validator_proposal",
        about: "a validator's cosign request (ProposalRequest JSON): the server's signature, then the proposal against a validator holding the golden log; and the server's reading of a CosignAnswer",
        run: validator_proposal,
    },
    Target {
        name: "ledger_remote_response",
        about: "the client's reading of a service's answer: [endpoint, status, body...]",
        run: remote_response,
    },
];

/// Inputs above this are ignored (every decoder here refuses far larger inputs itself; the cap
/// keeps executions fast).
const MAX_INPUT: usize = 64 << 10;
/// The golden log's name.
const LOG_ID: &str = "trustspace-golden";
/// The golden validators' seeds (`[0x10 + i; 32]`) and quorum.
const VALIDATORS: u8 = 3;
const THRESHOLD: usize = 2;
/// When the golden ledger's first checkpoint was made; later ones are a millisecond later per
/// entry.
const T0_MS: u64 = 1_790_000_000_000;
/// The URL errors name.
const URL: &str = "http://ledger.invalid";

fn validator(i: u8) -> Identity {
    Identity::from_seed(&[0x10 + i; 32])
}

/// The golden log's trust configuration.
static CONFIG: LazyLock<LedgerConfig> = LazyLock::new(|| {
    let keys = (0..VALIDATORS).map(|i| validator(i).public()).collect();
    // The golden policy's issuer (the ledger tests' `issuer()`).
    let issuer = Identity::from_seed(&[8; 32]).public();
    LedgerConfig::new(LOG_ID, keys, THRESHOLD, vec![issuer])
        .expect("the golden configuration is valid")
});

/// The golden ledger: the dataset and policy entries, appended one at a time.
static LEDGER: LazyLock<Frozen> = LazyLock::new(|| {
    let mut l = Frozen {
        entries: Vec::new(),
        digests: Vec::new(),
        checkpoint: CosignedCheckpoint {
            checkpoint: Checkpoint {
                log_id: LOG_ID.into(),
                size: 0,
                root: empty_root(),
                timestamp_ms: 0,
            },
            signatures: Vec::new(),
        },
    };
    for bytes in [
        &include_bytes!("../../ledger-verifier/tests/golden/entry-dataset.bin")[..],
        &include_bytes!("../../ledger-verifier/tests/golden/entry-policy.bin")[..],
    ] {
        let entry = Entry::decode(bytes).expect("a golden entry");
        let receipt = l.append(vec![entry.clone()]).expect("a golden append");
        l.entries.push(entry.clone());
        l.digests.push(entry.digest().expect("a golden entry"));
        l.checkpoint = receipt.checkpoint;
    }
    l
});

/// An in-memory ledger whose appends are checked and co-signed as the embedded ledger's are, and
/// answered with their receipt, but not kept: every fuzz input sees the same ledger.
struct Frozen {
    entries: Vec<Entry>,
    digests: Vec<[u8; 32]>,
    checkpoint: CosignedCheckpoint,
}

impl Frozen {
    fn tree(&self) -> LogTree {
        let mut tree = LogTree::new();
        for d in &self.digests {
            tree.push(*d);
        }
        tree
    }
}

impl LedgerView for Frozen {
    fn checkpoint(&self) -> Result<CosignedCheckpoint> {
        Ok(self.checkpoint.clone())
    }

    fn entry(&self, index: u64) -> Result<Entry> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.entries.get(i).cloned())
            .ok_or(LedgerError::NoSuchEntry {
                index,
                size: self.entries.len() as u64,
            })
    }

    fn find(&self, key: &EntryKey) -> Result<Option<u64>> {
        Ok(self
            .entries
            .iter()
            .position(|e| e.key() == *key)
            .map(|i| i as u64))
    }

    fn audit(&self, indices: &[u64], from: Option<u64>) -> Result<Audit> {
        let tree = self.tree();
        Ok(Audit {
            checkpoint: self.checkpoint.clone(),
            inclusions: indices
                .iter()
                .map(|&i| tree.prove_inclusion(i))
                .collect::<Result<_>>()?,
            consistency: from.map(|f| tree.prove_consistency(f)).transpose()?,
        })
    }

    fn append(&self, entries: Vec<Entry>) -> Result<Receipt> {
        if entries.is_empty() || entries.len() > MAX_BATCH {
            return Err(LedgerError::Refused(Refusal::BatchSize { max: MAX_BATCH }));
        }
        let mut keys = Vec::new();
        for e in &entries {
            e.check_signature()?;
            let key = e.key();
            if keys.contains(&key) || self.find(&key)?.is_some() {
                return Err(LedgerError::Duplicate { key });
            }
            keys.push(key);
        }
        let old = &self.checkpoint.checkpoint;
        let mut tree = self.tree();
        for e in &entries {
            tree.push(e.digest()?);
        }
        let next = Checkpoint {
            log_id: LOG_ID.into(),
            size: tree.size(),
            root: tree.root(),
            timestamp_ms: T0_MS + tree.size(),
        };
        // Each validator catches up with the golden entries and checks the new ones.
        let signatures = (0..VALIDATORS)
            .map(|i| {
                let mut v = Validator::new(validator(i), CONFIG.clone());
                v.replay(&self.entries, old)?;
                v.cosign(&entries, &next)
            })
            .collect::<Result<Vec<_>>>()?;
        let checkpoint = CosignedCheckpoint {
            checkpoint: next,
            signatures,
        };
        checkpoint.verify(&CONFIG)?;
        Ok(Receipt {
            first_index: old.size,
            count: entries.len() as u64,
            checkpoint,
        })
    }
}

/// The encoding of an entry the decoder accepted (it must have one).
fn encode(what: &str, e: &Entry) -> Vec<u8> {
    e.encode()
        .unwrap_or_else(|err| panic!("{what}: an accepted entry does not encode: {err:?}"))
}

fn entry(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(e) = Entry::decode(data) else {
        return;
    };
    canonical("ledger entry", data, &encode("ledger entry", &e));
    round_trips(
        "ledger entry",
        &e,
        |e| encode("ledger entry", e),
        |b| Entry::decode(b),
    );
    round_trips(
        "ledger entry key",
        &e.key(),
        EntryKey::to_bytes,
        EntryKey::from_bytes,
    );
    let _ = e.check_signature();
}

fn entry_hex(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(e) = Entry::from_hex(text) else {
        return;
    };
    let hex = e.to_hex().unwrap_or_else(|err| {
        panic!("ledger entry hex: an accepted entry does not encode: {err:?}")
    });
    // Hex digits of either case are accepted; the entry's bytes are canonical.
    canonical(
        "ledger entry hex",
        text.to_ascii_lowercase().as_bytes(),
        hex.as_bytes(),
    );
    round_trips(
        "ledger entry hex",
        &e,
        |_| hex.clone(),
        |h| Entry::from_hex(h),
    );
}

/// Checks a co-signed checkpoint against the golden configuration; any outcome but a panic.
fn check_quorum(cp: &CosignedCheckpoint) {
    let _ = cp.verify(&CONFIG);
    let _ = cp.checkpoint.signing_message();
}

fn checkpoint(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(cp) = CosignedCheckpoint::from_bytes(data) else {
        return;
    };
    round_trips(
        "ledger checkpoint",
        &cp,
        CosignedCheckpoint::to_bytes,
        |b| CosignedCheckpoint::from_bytes(b),
    );
    check_quorum(&cp);
}

/// Checks what an audit or evidence file claims, as a verifier would, with made-up leaves: the
/// checkpoint's quorum, inclusion proofs and a consistency proof from an older checkpoint of the
/// same log. Only a panic is a finding.
fn check_proofs(audit: &Audit) {
    let cp = &audit.checkpoint.checkpoint;
    check_quorum(&audit.checkpoint);
    for p in &audit.inclusions {
        let _ = p.verify(&[0x5a; 32], cp);
    }
    if let Some(p) = &audit.consistency {
        let old = Checkpoint {
            size: p.from,
            ..cp.clone()
        };
        let _ = p.verify(&old, cp);
        let _ = p.verify(cp, cp);
    }
}

fn evidence(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(ev) = Evidence::from_bytes(data, "fuzz input") else {
        return;
    };
    round_trips("ledger evidence", &ev, Evidence::to_bytes, |b| {
        Evidence::from_bytes(b, "re-encoded evidence")
    });
    // Everything `verify_evidence` checks before the Groth16 proofs (too slow to run per input).
    let cp = &ev.checkpoint.checkpoint;
    for (e, proof) in [
        (&ev.dataset, &ev.dataset_inclusion),
        (&ev.policy, &ev.policy_inclusion),
    ] {
        if let Ok(entry) = Entry::from_hex(&e.entry) {
            let _ = entry.check_signature();
            if let Ok(digest) = entry.digest() {
                let _ = proof.verify(&digest, cp);
            }
        }
    }
    check_proofs(&Audit {
        checkpoint: ev.checkpoint.clone(),
        inclusions: Vec::new(),
        consistency: ev.consistency.clone(),
    });
}

fn monitor_state(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(state) = MonitorState::decode(data, "fuzz input") else {
        return;
    };
    round_trips("ledger monitor state", &state, MonitorState::encode, |b| {
        MonitorState::decode(b, "re-encoded monitor state")
    });
    check_quorum(&state.last);
}

fn config(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(c) = LedgerConfig::from_bytes(data, "fuzz input") else {
        return;
    };
    round_trips("ledger config", &c, LedgerConfig::to_bytes, |b| {
        LedgerConfig::from_bytes(b, "re-encoded config")
    });
}

/// Reads `response` back as the client does and checks it says what the service meant: the
/// same value, or an error status with the same code and message.
fn read_back(outcome: &Result<Answer>, response: &Response) {
    let Response { status, body } = response;
    match outcome {
        Ok(answer) => {
            assert_eq!(*status, 200, "ledger http: a served request's status");
            let again = match answer {
                Answer::Checkpoint(_) => read_answer(URL, *status, body).map(Answer::Checkpoint),
                Answer::Entry(e) => read_entry_answer(URL, e.index, *status, body).and_then(|x| {
                    Ok(Answer::Entry(IndexedEntry {
                        index: e.index,
                        entry: x.to_hex()?,
                    }))
                }),
                Answer::Found(_) => read_answer(URL, *status, body).map(Answer::Found),
                Answer::Audit(_) => read_answer(URL, *status, body).map(Answer::Audit),
                Answer::Receipt(_) => read_answer(URL, *status, body).map(Answer::Receipt),
            };
            match again {
                Ok(again) => assert_eq!(
                    &again, answer,
                    "ledger http: the client reads another answer"
                ),
                Err(e) => panic!("ledger http: the client cannot read the answer: {e:?}"),
            }
        }
        Err(e) => {
            assert!(
                matches!(status, 400 | 404 | 500),
                "ledger http: error status {status} for {e:?}"
            );
            match read_answer::<Found>(URL, *status, body) {
                Err(LedgerError::Remote {
                    cause: RemoteCause::Status { status: s, code },
                    reason,
                    ..
                }) if s == *status
                    && code == Some(e.code())
                    && reason == escape_untrusted(&e.to_string()) => {}
                other => panic!("ledger http: the client reads error {e:?} as {other:?}"),
            }
        }
    }
}

/// `METHOD URL\nBODY`: the request line (UTF-8), then the body.
fn http_route(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(head) = std::str::from_utf8(head) else {
        return;
    };
    let (method, url) = head.split_once(' ').unwrap_or((head, ""));
    let outcome = http::answer(&*LEDGER, method, url, body);
    let response = Response::from_result(&outcome);
    read_back(&outcome, &response);
}

/// Statuses a service may answer with (a lying one included).
const STATUSES: [u16; 12] = [200, 200, 200, 201, 204, 299, 301, 400, 404, 500, 99, 1000];

/// `[endpoint, status, body...]`: the endpoint (and, for an entry, its index) is `data[0]`, the
/// status `STATUSES[data[1]]`.
fn remote_response(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let [endpoint, status, body @ ..] = data else {
        return;
    };
    let status = STATUSES[usize::from(*status) % STATUSES.len()];
    let answer = |a: Answer| Response::from_result(&Ok(a)).body;
    match endpoint % 5 {
        0 => {
            if let Ok(cp) = read_answer::<CosignedCheckpoint>(URL, status, body) {
                round_trips(
                    "ledger remote checkpoint",
                    &cp,
                    |c| answer(Answer::Checkpoint(c.clone())),
                    |b| read_answer(URL, 200, b),
                );
                check_quorum(&cp);
            }
        }
        1 => {
            let index = u64::from(endpoint / 5);
            if let Ok(e) = read_entry_answer(URL, index, status, body) {
                round_trips(
                    "ledger remote entry",
                    &e,
                    |e| {
                        answer(Answer::Entry(IndexedEntry {
                            index,
                            entry: e.to_hex().expect("an accepted entry encodes"),
                        }))
                    },
                    |b| read_entry_answer(URL, index, 200, b),
                );
            }
        }
        2 => {
            if let Ok(f) = read_answer::<Found>(URL, status, body) {
                round_trips(
                    "ledger remote find",
                    &f,
                    |f| answer(Answer::Found(f.clone())),
                    |b| read_answer(URL, 200, b),
                );
            }
        }
        3 => {
            if let Ok(a) = read_answer::<Audit>(URL, status, body) {
                round_trips(
                    "ledger remote audit",
                    &a,
                    |a| answer(Answer::Audit(a.clone())),
                    |b| read_answer(URL, 200, b),
                );
                check_proofs(&a);
                // A monitor meeting this answer for the first time.
                let mut monitor = Monitor::new(CONFIG.clone(), None).expect("no state file");
                let _ = monitor.check(&OneAudit(a));
            }
        }
        _ => {
            if let Ok(r) = read_answer::<Receipt>(URL, status, body) {
                round_trips(
                    "ledger remote receipt",
                    &r,
                    |r| answer(Answer::Receipt(r.clone())),
                    |b| read_answer(URL, 200, b),
                );
                check_quorum(&r.checkpoint);
            }
        }
    }
}

/// A ledger that answers every audit with one (fuzzed) answer.
struct OneAudit(Audit);

impl LedgerView for OneAudit {
    fn checkpoint(&self) -> Result<CosignedCheckpoint> {
        Ok(self.0.checkpoint.clone())
    }

    fn entry(&self, index: u64) -> Result<Entry> {
        Err(LedgerError::NoSuchEntry { index, size: 0 })
    }

    fn find(&self, _: &EntryKey) -> Result<Option<u64>> {
        Ok(None)
    }

    fn audit(&self, _: &[u64], _: Option<u64>) -> Result<Audit> {
        Ok(self.0.clone())
    }

    fn append(&self, _: Vec<Entry>) -> Result<Receipt> {
        Err(LedgerError::Refused(Refusal::BatchSize { max: 0 }))
    }
}

/// The golden ledger server's key: proposals signed by it are the only ones a validator acts on.
fn server() -> Identity {
    Identity::from_seed(&[0x20; 32])
}

/// A cosign request: its signature decides whether a validator acts on it; the proposal it
/// carries (re-signed by the golden server) is answered by a validator holding the golden log,
/// which signs only a checkpoint of its copy and changes nothing on a refusal. Also the
/// server's reading of a validator's answer.
fn validator_proposal(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    if let Ok(answer) = serde_json::from_slice::<CosignAnswer>(data) {
        round_trips(
            "ledger cosign answer",
            &answer,
            |a| serde_json::to_vec(a).expect("plain data serializes"),
            |b| serde_json::from_slice::<CosignAnswer>(b),
        );
    }
    let Ok(req) = serde_json::from_slice::<ProposalRequest>(data) else {
        return;
    };
    let golden = &LEDGER.checkpoint.checkpoint;
    let accepted = req.proposal(&server().public());
    let Ok(entries) = req
        .entries
        .iter()
        .map(|h| Entry::from_hex(h))
        .collect::<Result<Vec<_>>>()
    else {
        assert!(
            accepted.is_err(),
            "a request with an undecodable entry was accepted"
        );
        return;
    };
    let p = Proposal {
        from: req.from,
        entries,
        checkpoint: req.checkpoint.clone(),
    };
    if let Ok(accepted) = &accepted {
        assert_eq!(accepted, &p, "an accepted request carries another proposal");
    }
    let Ok(resigned) = ProposalRequest::new(&p, &server()) else {
        return;
    };
    if p.entries.len() <= trustspace_ledger_verifier::replica::MAX_PROPOSAL {
        assert_eq!(
            resigned.proposal(&server().public()).ok().as_ref(),
            Some(&p),
            "a request the server signed is refused"
        );
    }
    assert!(
        resigned.proposal(&validator(0).public()).is_err(),
        "a request signed by another key is accepted"
    );
    let mut v = Validator::new(validator(0), CONFIG.clone());
    v.replay(&LEDGER.entries, golden)
        .expect("the golden log replays");
    let before = v.head();
    match v.propose_at(&p, T0_MS + 60_000) {
        Ok(CosignAnswer::Signed(sig)) => {
            assert!(
                validator(0)
                    .public()
                    .verify(&p.checkpoint.signing_message(), &sig.signature),
                "a validator's signature does not verify"
            );
            let head = v.head();
            assert_eq!(
                (head.size, head.root),
                (p.checkpoint.size, p.checkpoint.root),
                "a validator signed a checkpoint that is not of its copy"
            );
        }
        Ok(CosignAnswer::Behind { size }) => {
            assert!(size == before.size && p.from > size, "a false Behind");
        }
        Ok(CosignAnswer::Ahead { size, root }) => {
            assert_eq!((size, root), (before.size, before.root), "a false Ahead");
            assert_eq!(v.head(), before, "an Ahead answer changed the copy");
        }
        Err(_) => assert_eq!(v.head(), before, "a refusal changed the copy"),
    }
}
