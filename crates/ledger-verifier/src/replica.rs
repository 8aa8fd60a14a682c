//! A validator run by its own party: its key, the trust configuration it enforces, and its copy
//! of the log persisted in its own store, served over HTTP to the ledger's server; and
//! [`RemoteValidator`], the server's client of such a validator.
//!
//! The copy and the last checkpoint it signed are written in **one** redb transaction before
//! the signature leaves the process, so after a crash it reopens exactly where it signed last:
//! it never signs two roots for one size, whatever happened to it or to the server. The server
//! keeps the batch it proposed until it is published, and proposes it again first after a
//! failed round or a crash ([`crate::store::Ledger`]), so validators that signed it are not
//! left apart. It acts only on proposals signed by the server's key: the link between them
//! must still be private (a private network or a tunnel: the client speaks plain HTTP), since a
//! captured proposal that the server later drops
//! could be replayed to a validator that missed it.
//!
//! | method | path | body | answer |
//! |---|---|---|---|
//! | POST | `/v1/cosign` | [`ProposalRequest`], signed by the server | [`CosignAnswer`] |
//! | GET | `/v1/head` | | [`Head`] of its copy |
//! | GET | `/v1/entry/{index}` | | [`IndexedEntry`] of its copy |
//!
//! Errors answer as the ledger service's do ([`crate::http::ErrorBody`]).

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::entry::{Entry, IndexedEntry};
use crate::error::{LedgerError, Refusal, Result, StoreFailure};
use crate::http::{Client, Response, parse_request};
use crate::keys::{Identity, PublicKey};
use crate::log::{Checkpoint, LedgerConfig};
use crate::store::ENTRIES;
use crate::validator::{CosignAnswer, Cosigner, Head, Proposal, Validator};

const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("meta");
/// The last checkpoint it signed (JSON).
const LAST: &str = "last-signed";
/// Most entries in one proposal (a batch and the entries a validator catches up with).
pub const MAX_PROPOSAL: usize = 2 * crate::http::MAX_HTTP_BATCH;

/// The body of `POST /v1/cosign`: a [`Proposal`] with its entries hex-encoded, signed by the
/// ledger's server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposalRequest {
    /// Index of the first entry.
    pub from: u64,
    /// Entries' canonical encodings, hex.
    pub entries: Vec<String>,
    /// The checkpoint to sign.
    pub checkpoint: Checkpoint,
    /// The server's Ed25519 signature of [`Proposal::signing_message`], hex.
    pub signature: String,
}

impl ProposalRequest {
    /// The request for `p`, signed by the ledger's `server`.
    pub fn new(p: &Proposal, server: &Identity) -> Result<ProposalRequest> {
        Ok(ProposalRequest {
            from: p.from,
            entries: p.entries.iter().map(Entry::to_hex).collect::<Result<_>>()?,
            checkpoint: p.checkpoint.clone(),
            signature: hex::encode(server.sign(&p.signing_message()?)),
        })
    }

    /// The proposal it carries, if `server` signed it; entries decoded strictly, at most
    /// [`MAX_PROPOSAL`].
    pub fn proposal(&self, server: &PublicKey) -> Result<Proposal> {
        if self.entries.len() > MAX_PROPOSAL {
            return Err(LedgerError::Refused(Refusal::TooManyEntries {
                max: MAX_PROPOSAL,
            }));
        }
        let mut signature = [0u8; 64];
        hex::decode_to_slice(&self.signature, &mut signature)
            .map_err(|_| LedgerError::malformed("proposal signature", "expected 128 hex digits"))?;
        let p = Proposal {
            from: self.from,
            entries: self
                .entries
                .iter()
                .map(|h| Entry::from_hex(h))
                .collect::<Result<_>>()?,
            checkpoint: self.checkpoint.clone(),
        };
        if !server.verify(&p.signing_message()?, &signature) {
            return Err(LedgerError::Refused(Refusal::NotFromTheServer));
        }
        Ok(p)
    }
}

/// A validator with its copy of the log in its own store (`validator.redb` in its directory).
pub struct Replica {
    server: PublicKey,
    path: PathBuf,
    db: Database,
    validator: Mutex<Validator>,
}

impl Replica {
    /// Opens (or creates) the store in `dir` of the validator `identity` of `config`, taking
    /// proposals from the ledger server with key `server` only: replays its copy, which must
    /// reproduce the last checkpoint it signed.
    pub fn open(
        dir: &Path,
        identity: Identity,
        config: LedgerConfig,
        server: PublicKey,
    ) -> Result<Replica> {
        if !config.validators.contains(&identity.public()) {
            return Err(LedgerError::Refused(Refusal::NotAValidator {
                key_file: identity.public().to_hex(),
            }));
        }
        std::fs::create_dir_all(dir).map_err(|e| LedgerError::io(dir, e))?;
        let path = dir.join("validator.redb");
        let fail = |cause: StoreFailure| LedgerError::Store {
            path: path.display().to_string(),
            cause,
        };
        let db_err = |e: &dyn std::fmt::Display| fail(StoreFailure::Database(e.to_string()));
        let db = Database::create(&path).map_err(|e| db_err(&e))?;
        let tx = db.begin_write().map_err(|e| db_err(&e))?;
        {
            tx.open_table(ENTRIES).map_err(|e| db_err(&e))?;
            tx.open_table(META).map_err(|e| db_err(&e))?;
        }
        tx.commit().map_err(|e| db_err(&e))?;
        let rx = db.begin_read().map_err(|e| db_err(&e))?;
        let table = rx.open_table(ENTRIES).map_err(|e| db_err(&e))?;
        let mut entries = Vec::new();
        for (expected, item) in table.iter().map_err(|e| db_err(&e))?.enumerate() {
            let (k, v) = item.map_err(|e| db_err(&e))?;
            if k.value() != expected as u64 {
                return Err(fail(StoreFailure::MissingEntry(expected as u64)));
            }
            entries.push(Entry::decode(v.value()).map_err(|e| {
                fail(StoreFailure::BadEntry {
                    index: expected as u64,
                    reason: e.to_string(),
                })
            })?);
        }
        let meta = rx.open_table(META).map_err(|e| db_err(&e))?;
        let last = match meta.get(LAST).map_err(|e| db_err(&e))? {
            Some(v) => Some(
                serde_json::from_slice::<Checkpoint>(v.value())
                    .map_err(|e| fail(StoreFailure::BadCheckpoint(e.to_string())))?,
            ),
            None => None,
        };
        let mut validator = Validator::new(identity, config);
        match &last {
            Some(at) => validator.replay(&entries, at).map_err(|_| {
                fail(StoreFailure::Diverged {
                    entries: entries.len() as u64,
                    checkpoint_size: at.size,
                })
            })?,
            None if entries.is_empty() => {}
            None => return Err(fail(StoreFailure::EntriesWithoutCheckpoint)),
        }
        drop((meta, table, rx));
        Ok(Replica {
            server,
            path,
            db,
            validator: Mutex::new(validator),
        })
    }

    /// Its public key.
    pub fn public(&self) -> PublicKey {
        self.lock().public()
    }

    /// Entries in its copy.
    pub fn size(&self) -> u64 {
        self.lock().size()
    }

    /// Where its copy stands.
    pub fn head(&self) -> Head {
        self.lock().head()
    }

    /// The last checkpoint it signed.
    pub fn last(&self) -> Option<Checkpoint> {
        self.lock().last().cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Validator> {
        // The copy changes only together with the store (see `propose`), so a poisoned lock
        // still guards a consistent state.
        self.validator.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn store_err(&self, e: impl ToString) -> LedgerError {
        LedgerError::Store {
            path: self.path.display().to_string(),
            cause: StoreFailure::Database(e.to_string()),
        }
    }

    /// Answers a proposal ([`Validator::propose`]); what it signs is durable in its store
    /// before the signature is returned, or it is taken back and the store's error returned.
    pub fn propose(&self, p: &Proposal) -> Result<CosignAnswer> {
        let mut v = self.lock();
        let (size, previous) = (v.size(), v.last().cloned());
        let answer = v.propose(p)?;
        let CosignAnswer::Signed(_) = &answer else {
            return Ok(answer);
        };
        let last = v.last().cloned().expect("it just signed");
        let fresh = &p.entries[(size - p.from) as usize..];
        if let Err(e) = self.persist(size, fresh, &last) {
            v.take_back(previous);
            return Err(e);
        }
        Ok(answer)
    }

    /// Writes `entries` from index `from` and the last signed checkpoint in one transaction.
    fn persist(&self, from: u64, entries: &[Entry], last: &Checkpoint) -> Result<()> {
        let tx = self.db.begin_write().map_err(|e| self.store_err(e))?;
        {
            let mut t = tx.open_table(ENTRIES).map_err(|e| self.store_err(e))?;
            for (i, e) in entries.iter().enumerate() {
                t.insert(from + i as u64, e.encode()?.as_slice())
                    .map_err(|e| self.store_err(e))?;
            }
            let mut m = tx.open_table(META).map_err(|e| self.store_err(e))?;
            let json = serde_json::to_vec(last).expect("plain data serializes");
            m.insert(LAST, json.as_slice())
                .map_err(|e| self.store_err(e))?;
        }
        tx.commit().map_err(|e| self.store_err(e))
    }

    /// The entry at `index` of its copy.
    pub fn entry(&self, index: u64) -> Result<Entry> {
        crate::store::stored_entry(&self.db, index, &|e| self.store_err(e))
    }
}

/// A validator's request handling as a pure function of the request and the replica (what
/// `ledger validator` serves with [`crate::http::serve_with`]).
pub fn route(replica: &Replica, method: &str, url: &str, body: &[u8]) -> Response {
    let parts: Vec<&str> = url.trim_start_matches('/').split('/').collect();
    let result = match (method, parts.as_slice()) {
        ("POST", ["v1", "cosign"]) => parse_request::<ProposalRequest>(body)
            .and_then(|r| r.proposal(&replica.server))
            .and_then(|p| replica.propose(&p))
            .map(|a| serde_json::to_vec(&a).expect("plain data serializes")),
        ("GET", ["v1", "head"]) => {
            Ok(serde_json::to_vec(&replica.head()).expect("plain data serializes"))
        }
        ("GET", ["v1", "entry", i]) => i
            .parse::<u64>()
            .map_err(|_| LedgerError::malformed("entry index", "not a number"))
            .and_then(|index| {
                Ok(IndexedEntry {
                    index,
                    entry: replica.entry(index)?.to_hex()?,
                })
            })
            .map(|e| serde_json::to_vec(&e).expect("plain data serializes")),
        _ => Err(LedgerError::Refused(Refusal::NoSuchEndpoint {
            url: url.to_string(),
        })),
    };
    match result {
        Ok(body) => Response { status: 200, body },
        Err(e) => Response::error(&e),
    }
}

/// A validator run by another party, reached over HTTP; every call has a timeout. Its answers
/// are not trusted: the server checks every signature against the key it expects.
pub struct RemoteValidator {
    key: PublicKey,
    client: Client,
    server: Arc<Identity>,
}

impl RemoteValidator {
    /// The validator with public key `key` serving at `url`, sent proposals signed by
    /// `server`.
    pub fn new(
        key: PublicKey,
        url: &str,
        timeout: Duration,
        server: Arc<Identity>,
    ) -> RemoteValidator {
        RemoteValidator {
            key,
            client: Client::unpooled(url, timeout),
            server,
        }
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.client.url
    }
}

impl Cosigner for RemoteValidator {
    fn key(&self) -> PublicKey {
        self.key
    }

    fn propose(&mut self, p: &Proposal) -> Result<CosignAnswer> {
        self.client
            .post("/v1/cosign", &ProposalRequest::new(p, &self.server)?)
    }
}

/// Where a ledger's validators run by other parties are: `validators.json` in the ledger's
/// directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteValidators {
    /// Format version (1).
    pub version: u32,
    /// Each validator's key and URL.
    pub validators: Vec<RemoteEntry>,
}

/// One validator run by another party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteEntry {
    /// Its public key (must be a validator of the configuration).
    pub key: PublicKey,
    /// Its base URL (`http://127.0.0.1:7801`).
    pub url: String,
}

/// The file name of [`RemoteValidators`] in a ledger's directory.
pub const REMOTE_FILE: &str = "validators.json";
/// The file name of the server's key in a ledger's directory (with [`REMOTE_FILE`]): it signs
/// every proposal, and validators run by other parties take proposals signed by it only.
pub const SERVER_KEY_FILE: &str = "server.key";

impl RemoteValidators {
    /// Reads the list in `dir`, if there is one; every key must be a validator of `config`.
    pub fn load(dir: &Path, config: &LedgerConfig) -> Result<Option<RemoteValidators>> {
        let path = dir.join(REMOTE_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let bytes = crate::keys::read_limited(&path, crate::log::MAX_CONFIG_BYTES)?;
        let what = path.display().to_string();
        let list: RemoteValidators = serde_json::from_slice(&bytes)
            .map_err(|e| LedgerError::malformed(&what, e.to_string()))?;
        if list.version != 1 {
            return Err(LedgerError::malformed(
                &what,
                format!("unsupported version {}", list.version),
            ));
        }
        for (i, v) in list.validators.iter().enumerate() {
            if list.validators[..i].iter().any(|w| w.key == v.key) {
                return Err(LedgerError::malformed(
                    &what,
                    format!("validator {} is listed twice", v.key.to_hex()),
                ));
            }
            if !config.validators.contains(&v.key) {
                return Err(LedgerError::Refused(Refusal::NotAValidator {
                    key_file: format!("{what} ({})", v.key.to_hex()),
                }));
            }
            // The client speaks plain HTTP (no TLS): the link must be a private one.
            if !v.url.starts_with("http://") {
                return Err(LedgerError::malformed(
                    &what,
                    "a validator's URL is http://...",
                ));
            }
        }
        Ok(Some(list))
    }

    /// Writes the list into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(REMOTE_FILE);
        let mut text = serde_json::to_vec_pretty(self).expect("plain data serializes");
        text.push(b'\n');
        std::fs::write(&path, text).map_err(|e| LedgerError::io(&path, e))
    }
}
