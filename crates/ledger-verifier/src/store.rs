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
//! that is behind is sent the entries it lacks. One that signed entries the server then failed
//! to publish (a crash between quorum and commit, or too few signatures) never rolls back, so
//! after such a round, or a restart, the server asks every validator where it stands and
//! publishes those entries before anything new ([`Ledger`]'s `sync`).

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::entry::{Entry, EntryKey};
use crate::error::{LedgerError, Refusal, Result, StoreFailure};
use crate::keys::{Identity, PublicKey};
use crate::log::{Checkpoint, CosignedCheckpoint, LedgerConfig, empty_root};
use crate::quorum::{ask_all, chunk_checkpoints, deliver, signed_by};
use crate::replica::{RemoteEntry, RemoteValidator, RemoteValidators, SERVER_KEY_FILE};
use crate::rules::{Rules, now_ms};
use crate::trust::Pins;
use crate::validator::{CosignAnswer, Cosigner, Validator};
use crate::view::{Audit, LedgerView, Receipt};

const ENTRIES: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("entries");
const KEYS: TableDefinition<'_, &[u8], u64> = TableDefinition::new("keys");
const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("meta");
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
    /// A round published nothing (or the server just started with validators run by other
    /// parties): some validator may hold entries the store lacks, which the next round must
    /// publish first ([`Ledger::sync`]).
    dirty: bool,
}

/// How long the server waits for a validator run by another party (a round waits for every
/// validator it asks, so this bounds an append's delay while one is unreachable).
const VALIDATOR_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The outcome of one proposal to the validators.
enum Round {
    /// A quorum signed and the store holds the entries.
    Published(Receipt),
    /// No quorum, and validators signed entries beyond the store's (index, size, root).
    Ahead(Vec<(usize, u64, [u8; 32])>),
}

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
        let mut validators: Vec<Box<dyn Cosigner>> = local
            .into_iter()
            .map(|v| Box::new(v) as Box<dyn Cosigner>)
            .collect();
        let mut dirty = false;
        let mut server = None;
        if let Some(list) = RemoteValidators::load(dir, &config)?
            && !list.validators.is_empty()
        {
            dirty = true;
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
                dirty,
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
        if inner.dirty {
            self.sync(inner)?;
        }
        match self.append_round(inner, &entries, false)? {
            Round::Published(receipt) => Ok(receipt),
            Round::Ahead(ahead) => {
                // Validators signed entries a crash kept from the store: those come first.
                self.adopt(inner, &ahead)?;
                match self.append_round(inner, &entries, false)? {
                    Round::Published(receipt) => Ok(receipt),
                    Round::Ahead(_) => Err(LedgerError::NoQuorum {
                        size: inner.rules.size() + entries.len() as u64,
                        have: 0,
                        need: self.config.threshold,
                    }),
                }
            }
        }
    }

    /// Checks `entries` as the log's next ones (all of the rules, or with `known` only that
    /// they extend it: entries validators already checked and signed), has the validators
    /// co-sign the checkpoint over them and stores both.
    fn append_round(&self, inner: &mut Inner, entries: &[Entry], known: bool) -> Result<Round> {
        let size = inner.rules.size();
        let now = now_ms().max(inner.checkpoint.checkpoint.timestamp_ms);
        if !known {
            inner.rules.check(&self.config, entries, now / 1000)?;
        }
        let encoded = entries
            .iter()
            .map(|e| Ok((e.encode()?, e.key())))
            .collect::<Result<Vec<_>>>()?;
        // From here on the server's copy moves ahead of the store; any failure reloads it.
        inner.rules.replay(entries)?;
        let result = self.checkpoint_and_commit(inner, size, entries, &encoded, now);
        if !matches!(result, Ok(Round::Published(_))) {
            // Nothing was stored (the write is one transaction): the server's copy and the
            // validators' in this process go back to the stored checkpoint, whose successor
            // was never published.
            inner.rules.undo();
            inner.dirty = true;
            let published = inner.checkpoint.checkpoint.clone();
            for v in &mut inner.validators {
                v.unpublished(&published);
            }
        }
        result
    }

    /// Asks every validator where its copy stands and publishes what any signed beyond the
    /// store ([`Ledger::adopt`]) before anything new is proposed: otherwise the others would
    /// sign new entries at those indices, and the one ahead (which never rolls back) could
    /// not follow. Entries it cannot publish because the rules refuse them are left behind
    /// (that validator stays apart until re-provisioned); unreachable validators keep the
    /// ledger from appending until they are back.
    fn sync(&self, inner: &mut Inner) -> Result<()> {
        let size = inner.rules.size();
        let ahead: Vec<_> = ask_all(&mut inner.validators, |v| v.head())
            .into_iter()
            .enumerate()
            .filter_map(|(i, head)| match head {
                Ok(h) if h.size > size => Some((i, h.size, h.root)),
                _ => None,
            })
            .collect();
        if !ahead.is_empty() {
            // Unreachable validators: adopting must wait (the others would sign over it);
            // entries the rules now refuse cannot be adopted, and are left behind.
            if let Err(e @ (LedgerError::NoQuorum { .. } | LedgerError::Remote { .. })) =
                self.adopt(inner, &ahead)
            {
                return Err(e);
            }
        }
        inner.dirty = false;
        Ok(())
    }

    /// Publishes what the validators in `ahead` signed beyond the store: the entries of the
    /// first whose copy extends the log, proposed to every validator again.
    fn adopt(&self, inner: &mut Inner, ahead: &[(usize, u64, [u8; 32])]) -> Result<()> {
        let size = inner.rules.size();
        let mut failure = None;
        for &(i, their_size, root) in ahead {
            // A validator is never more than one batch ahead of what the server proposed.
            if their_size <= size || their_size - size > MAX_BATCH as u64 {
                continue;
            }
            let fetched = (size..their_size)
                .map(|index| inner.validators[i].entry(index))
                .collect::<Result<Vec<_>>>();
            let entries = match fetched {
                Ok(entries) => entries,
                Err(e) => {
                    failure = Some(e);
                    continue;
                }
            };
            // Their entries must extend the log to the root they claim, by the rules.
            let now = now_ms().max(inner.checkpoint.checkpoint.timestamp_ms);
            let check = inner
                .rules
                .check(&self.config, &entries, now / 1000)
                .and_then(|()| {
                    let mut probe = crate::log::LogTree::new();
                    for index in 0..size {
                        probe.push(inner.rules.tree().leaf(index).expect("within the log"));
                    }
                    for e in &entries {
                        probe.push(e.digest()?);
                    }
                    if probe.root() == root {
                        Ok(())
                    } else {
                        Err(LedgerError::Fork {
                            old_size: size,
                            new_size: their_size,
                            cause: crate::error::ForkCause::RootOfOtherEntries,
                        })
                    }
                });
            if let Err(e) = check {
                failure = Some(e);
                continue;
            }
            return match self.append_round(inner, &entries, true)? {
                Round::Published(_) => Ok(()),
                Round::Ahead(_) => Err(LedgerError::NoQuorum {
                    size: their_size,
                    have: 0,
                    need: self.config.threshold,
                }),
            };
        }
        Err(failure.unwrap_or(LedgerError::NoQuorum {
            size,
            have: 0,
            need: self.config.threshold,
        }))
    }

    /// Entries `from..to` of the store.
    fn stored(&self, from: u64, to: u64) -> Result<Vec<Entry>> {
        (from..to).map(|i| self.entry(i)).collect()
    }

    /// Has every validator answer the proposal of `entries` after `old_size` (a validator
    /// that is behind is sent the stored entries it lacks), and stores entries and checkpoint
    /// if a quorum signed.
    fn checkpoint_and_commit(
        &self,
        inner: &mut Inner,
        old_size: u64,
        entries: &[Entry],
        encoded: &[(Vec<u8>, EntryKey)],
        now: u64,
    ) -> Result<Round> {
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
        let cps = chunk_checkpoints(tree, old_size, &checkpoint);
        let answers = ask_all(&mut inner.validators, |v| {
            match deliver(v, old_size, &cps, &entries_at) {
                // Behind: catch it up with the stored entries it lacks, then the batch.
                Ok(CosignAnswer::Behind { size }) if size < old_size => deliver(
                    v,
                    size,
                    &chunk_checkpoints(tree, size, &checkpoint),
                    &entries_at,
                ),
                other => other,
            }
        });
        // Each validator checks the entries against its own copy; a refusal by enough of
        // them is the answer, by its cause.
        let mut signatures = Vec::new();
        let mut refusal = None;
        let mut ahead = Vec::new();
        for (i, answer) in answers.into_iter().enumerate() {
            let key = inner.validators[i].key();
            match answer {
                Ok(CosignAnswer::Signed(sig)) if signed_by(&sig, &key, &checkpoint) => {
                    signatures.push(*sig)
                }
                Ok(CosignAnswer::Signed(_)) => {
                    refusal = refusal.or(Some(LedgerError::BadCheckpointSignature(key.to_hex())))
                }
                Ok(CosignAnswer::Ahead { size, root }) => ahead.push((i, size, root)),
                Ok(CosignAnswer::Behind { size }) => {
                    refusal = refusal.or(Some(LedgerError::NoQuorum {
                        size,
                        have: 0,
                        need: self.config.threshold,
                    }))
                }
                Err(e) => refusal = refusal.or(Some(e)),
            }
        }
        if signatures.len() < self.config.threshold {
            if !ahead.is_empty() {
                return Ok(Round::Ahead(ahead));
            }
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
        }
        tx.commit().map_err(|e| self.store_err(e))?;
        inner.rules.commit();
        inner.checkpoint = cosigned.clone();
        Ok(Round::Published(Receipt {
            first_index: old_size,
            count: encoded.len() as u64,
            checkpoint: cosigned,
        }))
    }
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
        let rx = self.db.begin_read().map_err(|e| self.store_err(e))?;
        let t = rx.open_table(ENTRIES).map_err(|e| self.store_err(e))?;
        match t.get(index).map_err(|e| self.store_err(e))? {
            Some(v) => Entry::decode(v.value()),
            None => Err(LedgerError::NoSuchEntry {
                index,
                size: t.len().map_err(|e| self.store_err(e))?,
            }),
        }
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
