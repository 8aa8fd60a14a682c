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
//! Directory layout: `config.json` (the [`LedgerConfig`]), `ledger.redb`, and for test
//! deployments `validators/*.key` (the validators' signing keys, mode 0600).

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::entry::{Entry, EntryKey};
use crate::error::{LedgerError, Refusal, Result, StoreFailure};
use crate::keys::{Identity, PublicKey};
use crate::log::{Checkpoint, CosignedCheckpoint, LedgerConfig, empty_root};
use crate::rules::{Rules, now_ms};
use crate::trust::Pins;
use crate::validator::Validator;
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
    /// The local validators, each with its own copy (a test deployment's quorum).
    validators: Vec<Validator>,
}

/// An embedded ledger opened from a directory.
pub struct Ledger {
    dir: PathBuf,
    config: LedgerConfig,
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
        let vdir = dir.join("validators");
        std::fs::create_dir_all(&vdir).map_err(|e| LedgerError::io(&vdir, e))?;
        let cfg_path = dir.join("config.json");
        if cfg_path.exists() {
            return Err(LedgerError::Refused(Refusal::LedgerExists {
                dir: dir.display().to_string(),
            }));
        }
        let ids: Vec<Identity> = (0..validators).map(|_| Identity::generate()).collect();
        let mut config = LedgerConfig::new(
            log_id,
            ids.iter().map(Identity::public).collect(),
            threshold,
            issuers,
        )?;
        config.policies = pins.policies.clone();
        config.keys = pins.keys.clone();
        config.chain_issuers = pins.chain_issuers.clone();
        config.check()?;
        for (i, id) in ids.iter().enumerate() {
            id.save(&vdir.join(format!("validator-{i}.key")))?;
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
        let (rules, checkpoint, validators) = load_state(&db, &config, &path, identities)?;
        Ok(Ledger {
            dir: dir.to_path_buf(),
            config,
            db,
            inner: Mutex::new(Inner {
                rules,
                checkpoint,
                validators,
            }),
        })
    }

    /// The ledger's configuration (the trust anchor to give verifiers).
    pub fn config(&self) -> &LedgerConfig {
        &self.config
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
        let now = now_ms().max(inner.checkpoint.checkpoint.timestamp_ms);
        inner.rules.check(&self.config, &entries, now / 1000)?;
        let local = inner.validators.len();
        if local < self.config.threshold {
            return Err(LedgerError::NoQuorum {
                size: size + entries.len() as u64,
                have: local,
                need: self.config.threshold,
            });
        }
        let encoded = entries
            .iter()
            .map(|e| Ok((e.encode()?, e.key())))
            .collect::<Result<Vec<_>>>()?;
        // From here on the server's copy moves ahead of the store; any failure reloads it.
        inner.rules.replay(&entries)?;
        let result = self.checkpoint_and_commit(inner, size, &entries, &encoded, now);
        if result.is_err() {
            // Nothing was stored (the write is one transaction): the server's copy and the
            // validators' go back to the stored checkpoint, whose successor was never
            // published.
            inner.rules.undo();
            let published = inner.checkpoint.checkpoint.clone();
            for v in &mut inner.validators {
                v.forget_unpublished(&published);
            }
        }
        result
    }

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
        // Each validator checks the entries against its own copy; a refusal by enough of
        // them is the answer, by its cause.
        let mut signatures = Vec::new();
        let mut refusal = None;
        for v in &mut inner.validators {
            match v.cosign(entries, &checkpoint) {
                Ok(sig) => signatures.push(sig),
                Err(e) => refusal = refusal.or(Some(e)),
            }
        }
        if signatures.len() < self.config.threshold
            && let Some(e) = refusal
        {
            return Err(e);
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
        inner.checkpoint = cosigned.clone();
        Ok(Receipt {
            first_index: old_size,
            count: encoded.len() as u64,
            checkpoint: cosigned,
        })
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
