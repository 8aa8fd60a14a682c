//! Validators run by separate parties: each answers a proposal by where its own copy stands,
//! keeps what it signed across restarts, and the server reaches a quorum of them over loopback
//! HTTP through validators that are down, behind, or ahead after a crash — never accepting a
//! signature by a key other than the one it expects.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use trustspace_ledger_verifier::entry::IndexedEntry;
use trustspace_ledger_verifier::error::{ForkCause, RemoteCause};
use trustspace_ledger_verifier::http::{Handler, Response, Service, serve_with};
use trustspace_ledger_verifier::log::LogTree;
use trustspace_ledger_verifier::replica::{
    MAX_PROPOSAL, ProposalRequest, RemoteEntry, RemoteValidator, Replica, route,
};
use trustspace_ledger_verifier::validator::{CosignAnswer, Cosigner, Head, Proposal, Validator};
use trustspace_ledger_verifier::*;

use crate::common::{issuer, validator_identities, world};

/// When the tests' entries are dated (seconds) and their checkpoints (milliseconds).
const DATED: u64 = 1_790_000_000;

/// A dataset entry of its own owner `i` (a distinct key per `i`).
fn entry(i: u32) -> Entry {
    let mut seed = [0x40; 32];
    seed[..4].copy_from_slice(&i.to_be_bytes());
    let who = Identity::from_seed(&seed);
    let mut commitment = world().commitment.clone();
    commitment.owner = who.public().to_bytes();
    let body = Body::Dataset(DatasetEntry {
        commitment,
        name: format!("dataset {i}"),
        metadata: Vec::new(),
    });
    Entry::sign(body, DATED, &who).unwrap()
}

/// A policy entry by someone who is not an issuer: every validator refuses it.
fn unauthorised_policy() -> Entry {
    Entry::sign(
        Body::Policy(PolicyEntry::for_keys(&world().vk, "rogue")),
        DATED,
        &Identity::from_seed(&[0x66; 32]),
    )
    .unwrap()
}

fn config() -> LedgerConfig {
    let keys = validator_identities()
        .iter()
        .map(Identity::public)
        .collect();
    LedgerConfig::new("consortium", keys, 2, vec![issuer().public()]).unwrap()
}

/// The checkpoint of the log `log`, made at `ms`.
fn checkpoint_of(log: &[Entry], ms: u64) -> Checkpoint {
    let mut tree = LogTree::new();
    for e in log {
        tree.push(e.digest().unwrap());
    }
    Checkpoint {
        log_id: "consortium".into(),
        size: log.len() as u64,
        root: tree.root(),
        timestamp_ms: ms,
    }
}

/// The proposal of `log[from..]` under the checkpoint of `log` made at `ms`.
fn proposal(log: &[Entry], from: usize, ms: u64) -> Proposal {
    Proposal {
        from: from as u64,
        entries: log[from..].to_vec(),
        checkpoint: checkpoint_of(log, ms),
    }
}

fn signed(answer: Result<CosignAnswer>, key: &PublicKey, cp: &Checkpoint) {
    match answer {
        Ok(CosignAnswer::Signed(sig)) => {
            assert_eq!(sig.validator, *key);
            assert!(key.verify(&cp.signing_message(), &sig.signature));
        }
        other => panic!("expected a signature, got {other:?}"),
    }
}

const NOW: u64 = DATED * 1000 + 60_000;

#[test]
fn a_validator_answers_where_its_copy_stands() {
    let id = validator_identities().remove(0);
    let key = id.public();
    let mut v = Validator::new(id, config());
    let (e0, e1, e2) = (entry(0), entry(1), entry(2));
    let first = proposal(std::slice::from_ref(&e0), 0, DATED * 1000);
    signed(v.propose_at(&first, NOW), &key, &first.checkpoint);
    // A retry of the same entries under a newer checkpoint is signed again; an older one not.
    let retry = proposal(std::slice::from_ref(&e0), 0, DATED * 1000 + 5);
    signed(v.propose_at(&retry, NOW), &key, &retry.checkpoint);
    let stale = v.propose_at(&first, NOW);
    assert!(
        matches!(stale, Err(LedgerError::StaleCheckpoint { .. })),
        "{stale:?}"
    );
    // A proposal starting beyond its copy: it says where it stands and signs nothing.
    let beyond = proposal(&[e0.clone(), e1.clone(), e2.clone()], 2, DATED * 1000 + 9);
    assert_eq!(
        v.propose_at(&beyond, NOW).unwrap(),
        CosignAnswer::Behind { size: 1 }
    );
    // Another entry at an index it signed, or a checkpoint before its size: it is ahead, and
    // never signs a second root for a size it signed.
    let ahead = CosignAnswer::Ahead {
        size: 1,
        root: checkpoint_of(std::slice::from_ref(&e0), 0).root,
    };
    let other = proposal(std::slice::from_ref(&e1), 0, DATED * 1000 + 9);
    assert_eq!(v.propose_at(&other, NOW).unwrap(), ahead);
    let empty = proposal(&[], 0, DATED * 1000 + 9);
    assert_eq!(v.propose_at(&empty, NOW).unwrap(), ahead);
    assert_eq!(v.size(), 1);
    // Entries it holds repeated before new ones: it checks and signs the new ones.
    let both = proposal(&[e0.clone(), e1.clone()], 0, DATED * 1000 + 9);
    signed(v.propose_at(&both, NOW), &key, &both.checkpoint);
    assert_eq!(
        v.head(),
        Head {
            size: 2,
            root: both.checkpoint.root
        }
    );
    // The entries it holds under a root that is not theirs.
    let mut lying = proposal(&[e0.clone(), e1.clone()], 1, DATED * 1000 + 10);
    lying.checkpoint.root = checkpoint_of(&[e1.clone(), e0.clone()], 0).root;
    assert!(matches!(
        v.propose_at(&lying, NOW),
        Err(LedgerError::Fork {
            cause: ForkCause::TwoRootsForOneSize,
            ..
        })
    ));
    // A checkpoint whose size is not where the entries end.
    let mut torn = proposal(&[e0.clone(), e1.clone(), e2.clone()], 2, DATED * 1000 + 10);
    torn.checkpoint.size = 4;
    assert!(matches!(
        v.propose_at(&torn, NOW),
        Err(LedgerError::Malformed { .. })
    ));
    // What the rules refuse is refused whoever proposes it; its copy is unchanged.
    let rogue = proposal(&[e0, e1, unauthorised_policy()], 2, DATED * 1000 + 10);
    assert!(matches!(
        v.propose_at(&rogue, NOW),
        Err(LedgerError::Refused(Refusal::IssuerNotAllowed { .. }))
    ));
    assert_eq!(v.size(), 2);
}

#[test]
fn a_replica_keeps_what_it_signed_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let outsider = Identity::from_seed(&[0x77; 32]);
    assert!(matches!(
        Replica::open(dir.path(), outsider, config(), issuer().public()),
        Err(LedgerError::Refused(Refusal::NotAValidator { .. }))
    ));
    let id = || validator_identities().remove(1);
    let key = id().public();
    let (e0, e1) = (entry(0), entry(1));
    let now_ms = trustspace_ledger_verifier::rules::now_ms();
    let first = proposal(std::slice::from_ref(&e0), 0, now_ms);
    let server = Identity::from_seed(&[0x55; 32]);
    let open = || Replica::open(dir.path(), id(), config(), server.public());
    {
        let r = open().unwrap();
        signed(r.propose(&first), &key, &first.checkpoint);
    }
    let r = open().unwrap();
    assert_eq!(r.last(), Some(first.checkpoint.clone()));
    assert_eq!(r.entry(0).unwrap(), e0);
    // Reopened, it still refuses a second root for the size it signed.
    let other = proposal(std::slice::from_ref(&e1), 0, now_ms + 1);
    assert!(matches!(
        r.propose(&other).unwrap(),
        CosignAnswer::Ahead { size: 1, .. }
    ));
    // Its HTTP answers: head, entries, and errors by cause.
    let get = |url: &str| route(&r, "GET", url, b"");
    let head: Head = serde_json::from_slice(&get("/v1/head").body).unwrap();
    assert_eq!(head.size, 1);
    let found: IndexedEntry = serde_json::from_slice(&get("/v1/entry/0").body).unwrap();
    assert_eq!(found.entry, e0.to_hex().unwrap());
    assert_eq!(get("/v1/entry/1").status, 404);
    assert_eq!(get("/v1/entry/x").status, 400);
    assert_eq!(get("/v1/nothing").status, 400);
    assert_eq!(route(&r, "POST", "/v1/cosign", b"{not json").status, 400);
    let flood = ProposalRequest {
        from: 1,
        entries: vec![e1.to_hex().unwrap(); MAX_PROPOSAL + 1],
        checkpoint: first.checkpoint.clone(),
        signature: "00".repeat(64),
    };
    let answer = route(
        &r,
        "POST",
        "/v1/cosign",
        &serde_json::to_vec(&flood).unwrap(),
    );
    assert_eq!(answer.status, 400);
    let next = proposal(&[e0, e1], 1, now_ms + 2);
    // Only the server it serves may propose: signed by another key, or altered after signing,
    // a proposal is refused and nothing signed.
    let cosign =
        |req: &ProposalRequest| route(&r, "POST", "/v1/cosign", &serde_json::to_vec(req).unwrap());
    let forged = ProposalRequest::new(&next, &Identity::from_seed(&[0x56; 32])).unwrap();
    let mut altered = ProposalRequest::new(&next, &server).unwrap();
    altered.checkpoint.timestamp_ms += 1;
    for req in [forged, altered] {
        let answer = cosign(&req);
        assert_eq!(answer.status, 400);
        let text = String::from_utf8_lossy(&answer.body).to_string();
        assert!(
            text.contains("not signed by this validator's ledger server"),
            "{text}"
        );
    }
    assert_eq!(r.size(), 1);
    let answer = cosign(&ProposalRequest::new(&next, &server).unwrap());
    assert_eq!(answer.status, 200);
    signed(
        Ok(serde_json::from_slice(&answer.body).unwrap()),
        &key,
        &next.checkpoint,
    );
    drop(r);
    let r = open().unwrap();
    assert_eq!(r.size(), 2);
    assert_eq!(r.last(), Some(next.checkpoint));
}

/// What a party's service answers: its validator's routes once its store is open.
fn handler(slot: &Arc<RwLock<Option<Replica>>>) -> Handler {
    let slot = slot.clone();
    Arc::new(move |method, url, body| match &*slot.read().unwrap() {
        Some(r) => route(r, method, url, body),
        None => Response::error(&LedgerError::Malformed {
            what: "validator".into(),
            reason: "not started".into(),
        }),
    })
}

/// A validator run by its own party: its store, and its service while it is up.
struct Party {
    /// Its index among [`validator_identities`].
    index: usize,
    dir: PathBuf,
    addr: String,
    slot: Arc<RwLock<Option<Replica>>>,
    service: Option<Service>,
}

impl Party {
    /// Listens on a free loopback port; opens its store once [`Party::start`] gives it the
    /// configuration.
    fn new(index: usize, dir: &Path) -> Party {
        let slot: Arc<RwLock<Option<Replica>>> = Arc::default();
        let service = serve_with(handler(&slot), "127.0.0.1:0", 2).unwrap();
        assert!(service.addr().ip().is_loopback());
        Party {
            index,
            dir: dir.to_path_buf(),
            addr: service.addr().to_string(),
            slot,
            service: Some(service),
        }
    }

    fn key(&self) -> PublicKey {
        validator_identities()[self.index].public()
    }

    fn remote(&self) -> RemoteEntry {
        RemoteEntry {
            key: self.key(),
            url: format!("http://{}", self.addr),
        }
    }

    /// Opens its store (again) and serves the server with key `server`.
    fn start(&mut self, config: &LedgerConfig, server: PublicKey) {
        let id = validator_identities().remove(self.index);
        let replica = Replica::open(&self.dir, id, config.clone(), server).unwrap();
        *self.slot.write().unwrap() = Some(replica);
        if self.service.is_none() {
            self.service = Some(serve_with(handler(&self.slot), &self.addr, 2).unwrap());
        }
    }

    /// Stops serving and closes its store (a crash or an outage).
    fn stop(&mut self) {
        self.service = None;
        *self.slot.write().unwrap() = None;
    }

    fn head(&self) -> Head {
        self.slot.read().unwrap().as_ref().unwrap().head()
    }

    /// Its answer to a proposal sent straight to it, signed by `server`.
    fn propose(&self, p: &Proposal, server: Identity) -> Result<CosignAnswer> {
        RemoteValidator::new(
            self.key(),
            &self.remote().url,
            Duration::from_secs(10),
            Arc::new(server),
        )
        .propose(p)
    }
}

/// The key of the ledger server in `dir` (the tests sign proposals with it as the server
/// would).
fn server_identity(dir: &Path) -> Identity {
    Identity::load(&dir.join("ledger/server.key")).unwrap()
}

/// Three parties' validators (threshold 2) and a ledger server that reaches them over loopback.
fn consortium(dir: &Path) -> (Ledger, Vec<Party>) {
    consortium_with(dir, 2, |_| {})
}

/// [`consortium`] with `threshold`, and the validators' list as `edit` leaves it.
fn consortium_with(
    dir: &Path,
    threshold: usize,
    edit: impl FnOnce(&mut Vec<RemoteEntry>),
) -> (Ledger, Vec<Party>) {
    let mut parties: Vec<Party> = (0..3)
        .map(|i| Party::new(i, &dir.join(format!("party-{i}"))))
        .collect();
    let mut remote: Vec<RemoteEntry> = parties.iter().map(Party::remote).collect();
    edit(&mut remote);
    let ledger = Ledger::init_consortium(
        &dir.join("ledger"),
        "consortium",
        0,
        &remote,
        threshold,
        vec![issuer().public()],
        &Pins::default(),
    )
    .unwrap();
    for p in &mut parties {
        p.start(ledger.config(), ledger.server_key().unwrap());
    }
    (ledger, parties)
}

fn published(l: &Ledger) -> Vec<Entry> {
    let size = l.checkpoint().unwrap().checkpoint.size;
    (0..size).map(|i| l.entry(i).unwrap()).collect()
}

#[test]
fn separate_validators_reach_a_quorum_through_outages_and_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let (l, mut parties) = consortium(dir.path());
    let config = l.config().clone();
    let server = l.server_key().unwrap();
    let server_id = || server_identity(dir.path());
    let receipt = l.append(vec![entry(0)]).unwrap();
    receipt.checkpoint.verify(&config).unwrap();
    assert_eq!(receipt.checkpoint.signatures.len(), 3);

    // One party down: the other two are a quorum.
    parties[2].stop();
    let receipt = l.append(vec![entry(1)]).unwrap();
    assert_eq!(receipt.checkpoint.signatures.len(), 2);
    receipt.checkpoint.verify(&config).unwrap();

    // Back up from its own store, it is behind: the server sends it what it missed.
    parties[2].start(&config, server);
    assert_eq!(parties[2].head().size, 1);
    let receipt = l.append(vec![entry(2)]).unwrap();
    assert_eq!(receipt.checkpoint.signatures.len(), 3);
    for p in &parties {
        assert_eq!(p.head().root, receipt.checkpoint.checkpoint.root);
    }

    // Two parties down: no quorum, and the one that signed keeps what it signed. The batch
    // stays pending: once the others are back it is published first, then the new entry.
    parties[1].stop();
    parties[2].stop();
    let failed = l.append(vec![entry(3)]);
    assert!(
        matches!(
            failed,
            Err(LedgerError::NoQuorum {
                size: 4,
                have: 1,
                need: 2
            })
        ),
        "{failed:?}"
    );
    assert_eq!(l.checkpoint().unwrap().checkpoint.size, 3);
    assert_eq!(parties[0].head().size, 4);
    parties[1].start(&config, server);
    parties[2].start(&config, server);
    let receipt = l.append(vec![entry(4)]).unwrap();
    assert_eq!(receipt.first_index, 4);
    assert_eq!(l.entry(3).unwrap(), entry(3));
    assert_eq!(receipt.checkpoint.signatures.len(), 3);
    // Asked again, the entry that was published after all is a duplicate, not a second copy.
    assert!(matches!(
        l.append(vec![entry(3)]),
        Err(LedgerError::Duplicate { .. })
    ));

    // The same, with the server crashing after the failed round: the pending batch is in its
    // store, and a client asking again gets it published as it is.
    parties[1].stop();
    parties[2].stop();
    assert!(l.append(vec![entry(5), entry(6)]).is_err());
    drop(l);
    parties[1].start(&config, server);
    parties[2].start(&config, server);
    let l = Ledger::open(&dir.path().join("ledger")).unwrap();
    let receipt = l.append(vec![entry(5), entry(6)]).unwrap();
    assert_eq!((receipt.first_index, receipt.count), (5, 2));
    assert_eq!(receipt.checkpoint.signatures.len(), 3);
    for p in &parties {
        assert_eq!(p.head().root, receipt.checkpoint.checkpoint.root);
    }

    // Whoever reaches a validator, the rules hold: a proposal they refuse is refused.
    let mut rogue = published(&l);
    rogue.push(unauthorised_policy());
    let now = trustspace_ledger_verifier::rules::now_ms();
    let refused = parties[0].propose(&proposal(&rogue, 7, now), server_id());
    assert!(
        matches!(
            &refused,
            Err(LedgerError::Remote {
                cause: RemoteCause::Status {
                    status: 400,
                    code: Some(ErrorCode::Refused)
                },
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(parties[0].head().size, 7);
    // And the server's store holds what it checkpointed, with the quorum on it.
    drop(l);
    let l = Ledger::open(&dir.path().join("ledger")).unwrap();
    assert_eq!(l.checkpoint().unwrap().checkpoint.size, 7);
}

#[test]
fn a_signature_by_another_key_than_the_listed_one_is_not_counted() {
    let dir = tempfile::tempdir().unwrap();
    // The third listed validator's URL leads to the first party's validator.
    let (l, parties) = consortium_with(dir.path(), 3, |r| r[2].url = r[0].url.clone());
    let r = l.append(vec![entry(0)]);
    assert!(
        matches!(r, Err(LedgerError::BadCheckpointSignature(ref k)) if *k == parties[2].key().to_hex()),
        "{r:?}"
    );
    assert_eq!(l.checkpoint().unwrap().checkpoint.size, 0);
}

#[test]
fn long_batches_and_long_absences_go_in_bounded_proposals() {
    let dir = tempfile::tempdir().unwrap();
    let (l, mut parties) = consortium(dir.path());
    let (config, server) = (l.config().clone(), l.server_key().unwrap());
    // A batch longer than one proposal, while one party is down.
    parties[2].stop();
    let batch: Vec<Entry> = (0..MAX_PROPOSAL as u32 + 150).map(entry).collect();
    let receipt = l.append(batch).unwrap();
    assert_eq!(receipt.checkpoint.signatures.len(), 2);
    for p in &parties[..2] {
        assert_eq!(p.head().root, receipt.checkpoint.checkpoint.root);
    }
    // Back, it lacks more than one proposal holds: it is caught up chunk by chunk.
    parties[2].start(&config, server);
    let receipt = l.append(vec![entry(100_000)]).unwrap();
    assert_eq!(receipt.checkpoint.signatures.len(), 3);
    assert_eq!(
        parties[2].head(),
        Head {
            size: MAX_PROPOSAL as u64 + 151,
            root: receipt.checkpoint.checkpoint.root
        }
    );
}

#[test]
fn validators_that_signed_all_or_part_of_a_pending_batch_are_sent_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (l, mut parties) = consortium(dir.path());
    let (config, server) = (l.config().clone(), l.server_key().unwrap());
    let batch: Vec<Entry> = (0..MAX_PROPOSAL as u32 + 10).map(entry).collect();
    // Only the first party up: it signs the whole batch (two proposals), which stays pending.
    parties[1].stop();
    parties[2].stop();
    assert!(matches!(
        l.append(batch.clone()),
        Err(LedgerError::NoQuorum { have: 1, .. })
    ));
    assert_eq!(parties[0].head().size, batch.len() as u64);
    drop(l);
    // The restarted server had reached the second party with the first proposal before it
    // crashed again.
    parties[1].start(&config, server);
    let first = Proposal {
        from: 0,
        entries: batch[..MAX_PROPOSAL].to_vec(),
        checkpoint: Checkpoint {
            log_id: "consortium".into(),
            ..checkpoint_of(
                &batch[..MAX_PROPOSAL],
                trustspace_ledger_verifier::rules::now_ms(),
            )
        },
    };
    signed(
        parties[1].propose(&first, server_identity(dir.path())),
        &parties[1].key(),
        &first.checkpoint,
    );
    // Each is sent what it lacks, from where it stands, and the pending batch is published.
    let l = Ledger::open(&dir.path().join("ledger")).unwrap();
    let receipt = l.append(batch).unwrap();
    assert_eq!(receipt.checkpoint.signatures.len(), 2);
    for p in &parties[..2] {
        assert_eq!(p.head().root, receipt.checkpoint.checkpoint.root);
    }
}

#[test]
fn rules_take_back_every_append_since_the_last_commit() {
    let config = config();
    let mut rules = trustspace_ledger_verifier::rules::Rules::new();
    rules.admit(&config, &[entry(0)], DATED).unwrap();
    rules.commit();
    let committed = (rules.size(), rules.root());
    // Two appends (a batch proposed in two chunks), then taken back together.
    rules.admit(&config, &[entry(1)], DATED).unwrap();
    rules.admit(&config, &[entry(2), entry(3)], DATED).unwrap();
    rules.undo();
    assert_eq!((rules.size(), rules.root()), committed);
    // Their keys are free again, and the log's are not.
    rules.check(&config, &[entry(1), entry(2)], DATED).unwrap();
    assert!(matches!(
        rules.check(&config, &[entry(0)], DATED),
        Err(LedgerError::Duplicate { .. })
    ));
    // Truncated to any size, it is exactly the log of that many entries.
    rules.admit(&config, &[entry(1), entry(2)], DATED).unwrap();
    rules.truncate(2);
    assert_eq!(rules.root(), checkpoint_of(&[entry(0), entry(1)], 0).root);
    rules.check(&config, &[entry(2)], DATED).unwrap();
}
