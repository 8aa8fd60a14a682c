//! The embedded ledger: an append-only log persisted in `redb`, checkpointed by its validators on
//! every append.
//!
//! An append validates its entries, extends the Merkle tree, has the local validators co-sign the
//! new checkpoint (each checks consistency with the last one it signed), and writes entries,
//! index keys and the checkpoint in **one** redb transaction with immediate durability. So an
//! acknowledged append survives a crash, and a crash mid-append leaves the previous state, never
//! a torn entry. On open, the tree is rebuilt from the stored entries and must reproduce the
//! stored checkpoint, whose quorum is checked: a damaged or edited store is refused.
//!
//! Directory layout: `config.json` (the [`LedgerConfig`]), `ledger.redb`, for test
//! deployments `validators/*.key` (the validators' signing keys, mode 0600), and for
//! validators run by other parties `validators.json` ([`RemoteValidators`]: each one's key and
//! URL) and `server.key` (mode 0600), the key the server signs its proposals to them with.
//!
//! Every validator is a [`Cosigner`] to the server: a proposal goes to all of them at once; one
//! that is behind is sent the entries it lacks. A validator run by another party never rolls
//! back what it signed, so the server keeps the batch it proposes to them pending in its store
//! until a quorum signed it and it is published (the same transaction clears it): after a
//! failed round or a crash it proposes that batch again before anything else.

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::entry::{Entry, EntryKey};
use crate::error::{LedgerError, Refusal, RemoteCause, Result, StoreFailure};
use crate::keys::{Identity, PublicKey};
use crate::log::{Checkpoint, CosignedCheckpoint, LedgerConfig, empty_root};
use crate::quorum::{ask_all, deliver, signed_by};
use crate::replica::{RemoteEntry, RemoteValidator, RemoteValidators, SERVER_KEY_FILE};
use crate::rules::{Rules, now_ms};
use crate::trust::Pins;
use crate::validator::{CosignAnswer, Cosigner, Validator};
use crate::view::{Audit, LedgerView, Receipt};

/// Entries by index (the ledger's, and a validator's copy).
pub(crate) const ENTRIES: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("entries");
const KEYS: TableDefinition<'_, &[u8], u64> = TableDefinition::new("keys");
const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("meta");
/// The pending batch (by its index in the batch), written before it is proposed to validators
/// run by other parties and removed with its publication.
const PENDING: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("pending");
const CHECKPOINT: &str = "checkpoint";
/// redb page cache.
const CACHE_BYTES: usize = 64 << 20;
/// Largest number of entries in one append.
pub const MAX_BATCH: usize = 10_000;

struct Inner {
    /// The server's copy of the log, checked by the rules before anything is proposed.
    rules: Rules,
    checkpoint: CosignedCheckpoint,
    /// The validators: in this process, each with its own copy (a test deployment), and run
    /// by other parties.
    validators: Vec<Box<dyn Cosigner>>,
    /// The batch last proposed to validators run by other parties and not published (also
    /// in the store): proposed again before anything else, since those that signed it never
    /// roll back.
    pending: Vec<Entry>,
}

/// How long the server waits for a validator run by another party (a round waits for every
/// validator it asks, so this bounds an append's delay while one is unreachable).
const VALIDATOR_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// An embedded ledger opened from a directory.
pub struct Ledger {
    dir: PathBuf,
    config: LedgerConfig,
    /// The key signing its proposals to validators run by other parties (if any).
    server: Option<PublicKey>,
    db: Database,
    inner: Mutex<Inner>,
}

impl Ledger {
    /// Creates a ledger in `dir` with `validators` fresh validator keys of which `threshold` must
    /// sign each checkpoint (a test deployment: all validator keys live in `dir/validators`),
    /// where `issuers` may register policies.
    pub fn init(
        dir: &Path,
        log_id: &str,
        validators: usize,
        threshold: usize,
        issuers: Vec<PublicKey>,
    ) -> Result<Ledger> {
        Ledger::init_pinned(
            dir,
            log_id,
            validators,
            threshold,
            issuers,
            &Pins::default(),
        )
    }

    /// [`Ledger::init`] with `pins` in its configuration, checked with the rest before anything
    /// is written.
    pub fn init_pinned(
        dir: &Path,
        log_id: &str,
        validators: usize,
        threshold: usize,
        issuers: Vec<PublicKey>,
        pins: &Pins,
    ) -> Result<Ledger> {
        Ledger::init_consortium(dir, log_id, validators, &[], threshold, issuers, pins)
    }

    /// [`Ledger::init_pinned`] with `remote` validators run by other parties besides `local`
    /// fresh ones in `dir/validators`; the configuration lists all of them, local first.
    pub fn init_consortium(
        dir: &Path,
        log_id: &str,
        local: usize,
        remote: &[RemoteEntry],
        threshold: usize,
        issuers: Vec<PublicKey>,
        pins: &Pins,
    ) -> Result<Ledger> {
        let vdir = dir.join("validators");
        std::fs::create_dir_all(&vdir).map_err(|e| LedgerError::io(&vdir, e))?;
        let cfg_path = dir.join("config.json");
        if cfg_path.exists() {
            return Err(LedgerError::Refused(Refusal::LedgerExists {
                dir: dir.display().to_string(),
            }));
        }
        let ids: Vec<Identity> = (0..local).map(|_| Identity::generate()).collect();
        let mut config = LedgerConfig::new(
            log_id,
            ids.iter()
                .map(Identity::public)
                .chain(remote.iter().map(|r| r.key))
                .collect(),
            threshold,
            issuers,
        )?;
        config.policies = pins.policies.clone();
        config.keys = pins.keys.clone();
        config.chain_issuers = pins.chain_issuers.clone();
        config.check()?;
        let list = RemoteValidators {
            version: 1,
            validators: remote.to_vec(),
        };
        for (i, id) in ids.iter().enumerate() {
            id.save(&vdir.join(format!("validator-{i}.key")))?;
        }
        if !remote.is_empty() {
            list.save(dir)?;
            Identity::generate().save(&dir.join(SERVER_KEY_FILE))?;
        }
        config.save(&cfg_path)?;
        Ledger::open(dir)
    }

    /// Opens the ledger in `dir`, rebuilding and checking its tree against its checkpoint.
    pub fn open(dir: &Path) -> Result<Ledger> {
        let config = LedgerConfig::load(&dir.join("config.json"))?;
        let mut identities = Vec::new();
        let vdir = dir.join("validators");
        if vdir.is_dir() {
            let mut paths: Vec<_> = std::fs::read_dir(&vdir)
                .map_err(|e| LedgerError::io(&vdir, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "key"))
                .collect();
            paths.sort();
            for p in paths {
                let id = Identity::load(&p)?;
                if !config.validators.contains(&id.public()) {
                    return Err(LedgerError::Refused(Refusal::NotAValidator {
                        key_file: p.display().to_string(),
                    }));
                }
                identities.push(id);
            }
        }
        let path = dir.join("ledger.redb");
        // A bounded page cache: the ledger's memory is the tree (about 100 bytes per entry) plus
        // this, whatever the store's size.
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|e| LedgerError::Store {
                path: path.display().to_string(),
                cause: StoreFailure::Database(e.to_string()),
            })?;
        let (rules, checkpoint, local) = load_state(&db, &config, &path, identities)?;
        let pending = load_pending(&db, &path)?;
        let mut validators: Vec<Box<dyn Cosigner>> = local
            .into_iter()
            .map(|v| Box::new(v) as Box<dyn Cosigner>)
            .collect();
        let mut server = None;
        if let Some(list) = RemoteValidators::load(dir, &config)?
            && !list.validators.is_empty()
        {
            if let Some(r) = list
                .validators
                .iter()
                .find(|r| validators.iter().any(|v| v.key() == r.key))
            {
                return Err(LedgerError::malformed(
                    dir.join(crate::replica::REMOTE_FILE).display().to_string(),
                    format!(
                        "validator {} is both run by another party and in this directory",
                        r.key.to_hex()
                    ),
                ));
            }
            let id = Arc::new(Identity::load(&dir.join(SERVER_KEY_FILE))?);
            server = Some(id.public());
            for r in list.validators {
                validators.push(Box::new(RemoteValidator::new(
                    r.key,
                    &r.url,
                    VALIDATOR_TIMEOUT,
                    id.clone(),
                )));
            }
        }
        Ok(Ledger {
            dir: dir.to_path_buf(),
            config,
            server,
            db,
            inner: Mutex::new(Inner {
                rules,
                checkpoint,
                validators,
                pending,
            }),
        })
    }

    /// The ledger's configuration (the trust anchor to give verifiers).
    pub fn config(&self) -> &LedgerConfig {
        &self.config
    }

    /// The key its proposals to validators run by other parties are signed with (what each
    /// such validator is started with), if it has such validators.
    pub fn server_key(&self) -> Option<PublicKey> {
        self.server
    }

    /// The directory it lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn store_err(&self, reason: impl ToString) -> LedgerError {
        LedgerError::Store {
            path: self.dir.join("ledger.redb").display().to_string(),
            cause: StoreFailure::Database(reason.to_string()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the store inconsistent (writes are
        // transactional), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn append_locked(&self, inner: &mut Inner, entries: Vec<Entry>) -> Result<Receipt> {
        if entries.is_empty() || entries.len() > MAX_BATCH {
            return Err(LedgerError::Refused(Refusal::BatchSize { max: MAX_BATCH }));
        }
        let size = inner.rules.size();
        if inner.validators.len() < self.config.threshold {
            return Err(LedgerError::NoQuorum {
                size: size + entries.len() as u64,
                have: inner.validators.len(),
                need: self.config.threshold,
            });
        }
        // A batch proposed before and not published comes first: validators that signed it
        // never roll back. Asked again, it is published as it is.
        if !inner.pending.is_empty() {
            let pending = inner.pending.clone();
            let again = pending == entries;
            let now = now_ms().max(inner.checkpoint.checkpoint.timestamp_ms);
            match inner.rules.check(&self.config, &pending, now / 1000) {
                // Until a quorum signs it, nothing else is proposed.
                Ok(()) => {
                    let receipt = self.append_round(inner, &pending)?;
                    if again {
                        return Ok(receipt);
                    }
                }
                // The server's own rules refuse it now: it can never be published (the
                // validators that signed it are apart until re-provisioned).
                Err(e) => {
                    self.set_pending(inner, &[])?;
                    if again {
                        return Err(e);
                    }
                }
            }
        }
        self.append_round(inner, &entries)
    }

    /// Checks `entries` as the log's next ones, has the validators co-sign the checkpoint over
    /// them and stores both; with validators run by other parties, the batch is pending in the
    /// store while they are asked.
    fn append_round(&self, inner: &mut Inner, entries: &[Entry]) -> Result<Receipt> {
        let size = inner.rules.size();
        let now = now_ms().max(inner.checkpoint.checkpoint.timestamp_ms);
        inner.rules.check(&self.config, entries, now / 1000)?;
        let encoded = entries
            .iter()
            .map(|e| Ok((e.encode()?, e.key())))
            .collect::<Result<Vec<_>>>()?;
        if self.server.is_some() && inner.pending != entries {
            self.set_pending(inner, entries)?;
        }
        // From here on the server's copy moves ahead of the store; any failure reloads it.
        inner.rules.replay(entries)?;
        let result = self.checkpoint_and_commit(inner, size, entries, &encoded, now);
        if result.is_err() {
            // Nothing was stored (the write is one transaction): the server's copy and the
            // validators' in this process go back to the stored checkpoint, whose successor
            // was never published.
            inner.rules.undo();
            let published = inner.checkpoint.checkpoint.clone();
            for v in &mut inner.validators {
                v.unpublished(&published);
            }
        }
        result
    }

    /// Makes `entries` the pending batch (none: no batch is pending), in the store first.
    fn set_pending(&self, inner: &mut Inner, entries: &[Entry]) -> Result<()> {
        let tx = self.db.begin_write().map_err(|e| self.store_err(e))?;
        {
            let mut t = tx.open_table(PENDING).map_err(|e| self.store_err(e))?;
            t.retain(|_, _| false).map_err(|e| self.store_err(e))?;
            for (i, e) in entries.iter().enumerate() {
                t.insert(i as u64, e.encode()?.as_slice())
                    .map_err(|e| self.store_err(e))?;
            }
        }
        tx.commit().map_err(|e| self.store_err(e))?;
        inner.pending = entries.to_vec();
        Ok(())
    }

    /// Entries `from..to` of the store.
    fn stored(&self, from: u64, to: u64) -> Result<Vec<Entry>> {
        (from..to).map(|i| self.entry(i)).collect()
    }

    /// Has every validator answer the proposal of `entries` after `old_size` (a validator
    /// that is behind is sent the stored entries it lacks), and stores entries and checkpoint
    /// if a quorum signed, clearing the pending batch in the same transaction.
    fn checkpoint_and_commit(
        &self,
        inner: &mut Inner,
        old_size: u64,
        entries: &[Entry],
        encoded: &[(Vec<u8>, EntryKey)],
        now: u64,
    ) -> Result<Receipt> {
        let checkpoint = Checkpoint {
            log_id: self.config.log_id.clone(),
            size: inner.rules.size(),
            root: inner.rules.root(),
            timestamp_ms: now,
        };
        // The batch's entries by index, after the stored ones (a validator that is behind
        // gets those first).
        let entries_at = |from: u64, to: u64| -> Result<Vec<Entry>> {
            let mut out = self.stored(from, to.min(old_size))?;
            let (a, b) = (from.max(old_size) - old_size, to.max(old_size) - old_size);
            out.extend_from_slice(&entries[a as usize..b as usize]);
            Ok(out)
        };
        let tree = inner.rules.tree();
        let answers = ask_all(&mut inner.validators, |v| {
            deliver(v, old_size, tree, &checkpoint, &entries_at)
        });
        // Each validator checks the entries against its own copy; a refusal by enough of
        // them is the answer, by its cause (an unreachable validator is only not counted).
        let mut signatures = Vec::new();
        let mut refusal = None;
        for (i, answer) in answers.into_iter().enumerate() {
            let key = inner.validators[i].key();
            let refused = match answer {
                Ok(CosignAnswer::Signed(sig)) if signed_by(&sig, &key, &checkpoint) => {
                    signatures.push(*sig);
                    continue;
                }
                Ok(CosignAnswer::Signed(_)) => LedgerError::BadCheckpointSignature(key.to_hex()),
                // It holds other entries than the log's (it signed a batch the server
                // dropped): it is apart until re-provisioned.
                Ok(CosignAnswer::Ahead { size, .. }) => LedgerError::Fork {
                    old_size: size,
                    new_size: checkpoint.size,
                    cause: crate::error::ForkCause::RootOfOtherEntries,
                },
                Ok(CosignAnswer::Behind { .. }) => continue,
                Err(e) if unavailable(&e) => continue,
                Err(e) => e,
            };
            refusal = refusal.or(Some(refused));
        }
        if signatures.len() < self.config.threshold {
            return Err(refusal.unwrap_or(LedgerError::NoQuorum {
                size: checkpoint.size,
                have: signatures.len(),
                need: self.config.threshold,
            }));
        }
        let cosigned = CosignedCheckpoint {
            checkpoint,
            signatures,
        };
        cosigned.verify(&self.config)?;
        let tx = self.db.begin_write().map_err(|e| self.store_err(e))?;
        {
            let mut t = tx.open_table(ENTRIES).map_err(|e| self.store_err(e))?;
            let mut k = tx.open_table(KEYS).map_err(|e| self.store_err(e))?;
            for (i, (bytes, key)) in encoded.iter().enumerate() {
                let index = old_size + i as u64;
                t.insert(index, bytes.as_slice())
                    .map_err(|e| self.store_err(e))?;
                k.insert(key.to_bytes().as_slice(), index)
                    .map_err(|e| self.store_err(e))?;
            }
            let mut m = tx.open_table(META).map_err(|e| self.store_err(e))?;
            let json = cosigned.to_bytes();
            m.insert(CHECKPOINT, json.as_slice())
                .map_err(|e| self.store_err(e))?;
            let mut p = tx.open_table(PENDING).map_err(|e| self.store_err(e))?;
            p.retain(|_, _| false).map_err(|e| self.store_err(e))?;
        }
        tx.commit().map_err(|e| self.store_err(e))?;
        inner.rules.commit();
        inner.pending.clear();
        inner.checkpoint = cosigned.clone();
        Ok(Receipt {
            first_index: old_size,
            count: encoded.len() as u64,
            checkpoint: cosigned,
        })
    }
}

/// The entry at `index` of a store's `entries` table (the ledger's or a validator's); `err`
/// makes a store failure's error.
pub(crate) fn stored_entry(
    db: &Database,
    index: u64,
    err: &dyn Fn(String) -> LedgerError,
) -> Result<Entry> {
    let rx = db.begin_read().map_err(|e| err(e.to_string()))?;
    let t = rx.open_table(ENTRIES).map_err(|e| err(e.to_string()))?;
    match t.get(index).map_err(|e| err(e.to_string()))? {
        Some(v) => Entry::decode(v.value()),
        None => Err(LedgerError::NoSuchEntry {
            index,
            size: t.len().map_err(|e| err(e.to_string()))?,
        }),
    }
}

/// Whether `e` says a validator or the store could not be reached (a round may succeed
/// later), rather than that something was refused.
fn unavailable(e: &LedgerError) -> bool {
    matches!(
        e,
        LedgerError::NoQuorum { .. }
            | LedgerError::Store { .. }
            | LedgerError::Io { .. }
            | LedgerError::Remote {
                cause: RemoteCause::Transport | RemoteCause::Status { status: 500.., .. },
                ..
            }
    )
}

/// The pending batch in the store ([`PENDING`]).
fn load_pending(db: &Database, path: &Path) -> Result<Vec<Entry>> {
    let fail = |cause: StoreFailure| LedgerError::Store {
        path: path.display().to_string(),
        cause,
    };
    let db_err = |e: &dyn std::fmt::Display| fail(StoreFailure::Database(e.to_string()));
    let tx = db.begin_write().map_err(|e| db_err(&e))?;
    tx.open_table(PENDING).map_err(|e| db_err(&e))?;
    tx.commit().map_err(|e| db_err(&e))?;
    let rx = db.begin_read().map_err(|e| db_err(&e))?;
    let table = rx.open_table(PENDING).map_err(|e| db_err(&e))?;
    let mut entries = Vec::new();
    for item in table.iter().map_err(|e| db_err(&e))? {
        let (k, v) = item.map_err(|e| db_err(&e))?;
        if k.value() != entries.len() as u64 {
            return Err(fail(StoreFailure::MissingEntry(entries.len() as u64)));
        }
        entries.push(Entry::decode(v.value()).map_err(|e| {
            fail(StoreFailure::BadEntry {
                index: k.value(),
                reason: e.to_string(),
            })
        })?);
    }
    Ok(entries)
}

/// Rebuilds the log from the stored entries and checks it reproduces the stored checkpoint,
/// whose quorum must hold; the local validators catch up with it.
fn load_state(
    db: &Database,
    config: &LedgerConfig,
    path: &Path,
    identities: Vec<Identity>,
) -> Result<(Rules, CosignedCheckpoint, Vec<Validator>)> {
    let fail = |cause: StoreFailure| LedgerError::Store {
        path: path.display().to_string(),
        cause,
    };
    let store_err = |reason: String| fail(StoreFailure::Database(reason));
    let tx = db.begin_write().map_err(|e| store_err(e.to_string()))?;
    // Create the tables on first open.
    {
        tx.open_table(ENTRIES)
            .map_err(|e| store_err(e.to_string()))?;
        tx.open_table(KEYS).map_err(|e| store_err(e.to_string()))?;
        tx.open_table(META).map_err(|e| store_err(e.to_string()))?;
    }
    tx.commit().map_err(|e| store_err(e.to_string()))?;
    let rx = db.begin_read().map_err(|e| store_err(e.to_string()))?;
    let entries = rx
        .open_table(ENTRIES)
        .map_err(|e| store_err(e.to_string()))?;
    let keys = rx.open_table(KEYS).map_err(|e| store_err(e.to_string()))?;
    let meta = rx.open_table(META).map_err(|e| store_err(e.to_string()))?;
    let mut stored = Vec::new();
    let rows = entries.iter().map_err(|e| store_err(e.to_string()))?;
    for (expected, item) in rows.enumerate() {
        let (k, v) = item.map_err(|e| store_err(e.to_string()))?;
        if k.value() != expected as u64 {
            return Err(fail(StoreFailure::MissingEntry(expected as u64)));
        }
        let entry = Entry::decode(v.value()).map_err(|e| {
            fail(StoreFailure::BadEntry {
                index: expected as u64,
                reason: e.to_string(),
            })
        })?;
        let indexed = keys
            .get(entry.key().to_bytes().as_slice())
            .map_err(|e| store_err(e.to_string()))?
            .map(|g| g.value());
        if indexed != Some(expected as u64) {
            return Err(fail(StoreFailure::NotIndexed(expected as u64)));
        }
        stored.push(entry);
    }
    let mut rules = Rules::new();
    rules.replay(&stored)?;
    rules.commit();
    let tree = rules.tree();
    let checkpoint = match meta.get(CHECKPOINT).map_err(|e| store_err(e.to_string()))? {
        Some(v) => CosignedCheckpoint::from_bytes(v.value())
            .map_err(|e| fail(StoreFailure::BadCheckpoint(e.to_string())))?,
        None if tree.size() == 0 => CosignedCheckpoint {
            checkpoint: Checkpoint {
                log_id: config.log_id.clone(),
                size: 0,
                root: empty_root(),
                timestamp_ms: 0,
            },
            signatures: Vec::new(),
        },
        None => return Err(fail(StoreFailure::EntriesWithoutCheckpoint)),
    };
    if checkpoint.checkpoint.size > 0 {
        checkpoint
            .verify(config)
            .map_err(|e| fail(StoreFailure::CheckpointQuorum(e.to_string())))?;
    }
    if checkpoint.checkpoint.size != tree.size() || checkpoint.checkpoint.root != tree.root() {
        return Err(fail(StoreFailure::Diverged {
            entries: tree.size(),
            checkpoint_size: checkpoint.checkpoint.size,
        }));
    }
    let validators = identities
        .into_iter()
        .map(|id| {
            let mut v = Validator::new(id, config.clone());
            v.replay(&stored, &checkpoint.checkpoint)?;
            Ok(v)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((rules, checkpoint, validators))
}

impl LedgerView for Ledger {
    fn checkpoint(&self) -> Result<CosignedCheckpoint> {
        Ok(self.lock().checkpoint.clone())
    }

    fn entry(&self, index: u64) -> Result<Entry> {
        stored_entry(&self.db, index, &|e| self.store_err(e))
    }

    fn find(&self, key: &EntryKey) -> Result<Option<u64>> {
        let rx = self.db.begin_read().map_err(|e| self.store_err(e))?;
        let t = rx.open_table(KEYS).map_err(|e| self.store_err(e))?;
        Ok(t.get(key.to_bytes().as_slice())
            .map_err(|e| self.store_err(e))?
            .map(|v| v.value()))
    }

    fn audit(&self, indices: &[u64], from: Option<u64>) -> Result<Audit> {
        let inner = self.lock();
        let inclusions = indices
            .iter()
            .map(|&i| inner.rules.tree().prove_inclusion(i))
            .collect::<Result<Vec<_>>>()?;
        let consistency = from
            .map(|f| inner.rules.tree().prove_consistency(f))
            .transpose()?;
        Ok(Audit {
            checkpoint: inner.checkpoint.clone(),
            inclusions,
            consistency,
        })
    }

    fn append(&self, entries: Vec<Entry>) -> Result<Receipt> {
        let mut inner = self.lock();
        self.append_locked(&mut inner, entries)
    }
}
