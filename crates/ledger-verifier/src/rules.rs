//! The ledger's rules, in one implementation: what an entry must satisfy to be appended. The
//! server checks an append with them before it proposes a checkpoint, every validator checks the
//! same entries against its own copy of the log before it co-signs ([`crate::validator`]), and a
//! monitor replays every entry it fetches ([`crate::monitor`]). So a faulty or hostile server
//! cannot get an invalid entry under a quorum of honest validators.
//!
//! An entry must carry a valid signature by its submitter; have a key no earlier entry has (one
//! registration per commitment root, policy digest and verdict); carry a timestamp at most
//! [`MAX_CLOCK_SKEW`] seconds after the checkpoint's time and at most twice that before the
//! entry preceding it (timestamps are monotonic up to the clocks' tolerance);
//! as a dataset, be signed by its commitment's owner, with a positive record count and a
//! power-of-two chunk size; as a policy, be signed by an issuer of the configuration; as a
//! verdict, name a dataset and a policy entry the log holds.

use std::collections::HashSet;

use crate::entry::{Body, Entry, EntryKey};
use crate::error::{LedgerError, Refusal, Result};
use crate::log::{LedgerConfig, LogTree};

/// How far (seconds) clocks may disagree: an entry's timestamp may be this far ahead of the
/// checkpoint that includes it, a validator refuses a checkpoint this far ahead of its own
/// clock, and an entry may be dated up to twice this before the entry preceding it. So
/// timestamps are monotonic up to the tolerance, and an entry dated as far ahead as allowed
/// cannot refuse a later one from a client whose clock is within the tolerance.
pub const MAX_CLOCK_SKEW: u64 = 300;

/// The system clock, milliseconds since the Unix epoch (0 if it reads before the epoch).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A log with the state its rules need: the Merkle tree, and every entry's key, kind and
/// timestamp (about 80 bytes an entry besides the tree).
#[derive(Default)]
pub struct Rules {
    tree: LogTree,
    keys: HashSet<EntryKey>,
    /// Each entry's kind, timestamp and key.
    entries: Vec<(Kind, u64, EntryKey)>,
    /// The latest timestamp in the log.
    latest: u64,
    /// The size before the appends not yet made final ([`Rules::undo`] goes back to it).
    mark: Option<u64>,
}

/// The kind of an entry, for verdicts' references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dataset,
    Policy,
    Verdict,
}

fn kind(body: &Body) -> Kind {
    match body {
        Body::Dataset(_) => Kind::Dataset,
        Body::Policy(_) => Kind::Policy,
        Body::Verdict(_) => Kind::Verdict,
    }
}

impl Rules {
    /// An empty log.
    pub fn new() -> Rules {
        Rules::default()
    }

    /// The log's tree.
    pub fn tree(&self) -> &LogTree {
        &self.tree
    }

    /// Entries in the log.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// The log's root.
    pub fn root(&self) -> [u8; 32] {
        self.tree.root()
    }

    /// Checks `entries` as the log's next ones under `config`, in a checkpoint made at `now`
    /// (seconds since the Unix epoch). Appends nothing.
    pub fn check(&self, config: &LedgerConfig, entries: &[Entry], now: u64) -> Result<()> {
        let mut batch = HashSet::new();
        // The batch's entries so far, which later ones may reference.
        let mut appended: Vec<([u8; 32], Kind)> = Vec::new();
        // The latest timestamp so far (entries may be dated slightly before their predecessor).
        let mut last = self.latest;
        let limit = now.saturating_add(MAX_CLOCK_SKEW);
        for e in entries {
            e.check_signature()?;
            let key = e.key();
            if self.keys.contains(&key) || batch.contains(&key) {
                return Err(LedgerError::Duplicate { key });
            }
            if e.timestamp.saturating_add(2 * MAX_CLOCK_SKEW) < last {
                return Err(LedgerError::Refused(Refusal::TimestampBackwards {
                    previous: last,
                    found: e.timestamp,
                }));
            }
            if e.timestamp > limit {
                return Err(LedgerError::Refused(Refusal::TimestampAhead {
                    found: e.timestamp,
                    limit,
                }));
            }
            self.check_body(config, e, &appended)?;
            last = last.max(e.timestamp);
            batch.insert(key);
            appended.push((e.digest()?, kind(&e.body)));
        }
        Ok(())
    }

    /// The digest and kind of entry `index`: in the log, or among `appended`, the entries
    /// of the batch before this one.
    fn lookup(&self, index: u64, appended: &[([u8; 32], Kind)]) -> Option<([u8; 32], Kind)> {
        let i = usize::try_from(index).ok()?;
        match i.checked_sub(self.entries.len()) {
            None => Some((self.tree.leaf(index)?, self.entries.get(i)?.0)),
            Some(j) => appended.get(j).copied(),
        }
    }

    fn check_body(
        &self,
        config: &LedgerConfig,
        e: &Entry,
        appended: &[([u8; 32], Kind)],
    ) -> Result<()> {
        match &e.body {
            Body::Dataset(d) => {
                let c = &d.commitment;
                if c.owner != e.submitter.to_bytes() {
                    return Err(LedgerError::Refused(Refusal::NotTheOwner {
                        submitter: e.submitter.to_hex(),
                    }));
                }
                if c.records == 0 || c.chunk_size == 0 || !c.chunk_size.is_power_of_two() {
                    return Err(LedgerError::malformed(
                        "dataset entry",
                        "records must be positive and the chunk size a power of two",
                    ));
                }
            }
            Body::Policy(_) => {
                if !config.is_issuer(&e.submitter) {
                    return Err(LedgerError::Refused(Refusal::IssuerNotAllowed {
                        issuer: e.submitter.to_hex(),
                    }));
                }
            }
            Body::Verdict(v) => {
                for (what, (index, digest), want) in [
                    ("dataset", v.dataset, Kind::Dataset),
                    ("policy", v.policy, Kind::Policy),
                ] {
                    let found = self.lookup(index, appended);
                    if found.map(|(d, _)| d) != Some(digest) {
                        return Err(LedgerError::Refused(Refusal::UnknownReference {
                            what,
                            index,
                        }));
                    }
                    if found.map(|(_, k)| k) != Some(want) {
                        return Err(LedgerError::Refused(Refusal::WrongReferenceKind {
                            what,
                            index,
                        }));
                    }
                }
            }
        }
        Ok(())
    }

    /// Appends entries without checking them: entries this log's rules already accepted (a
    /// store replaying what a quorum checkpointed). All or none: on an error the log is as
    /// before.
    pub fn replay(&mut self, entries: &[Entry]) -> Result<()> {
        let digests = entries
            .iter()
            .map(Entry::digest)
            .collect::<Result<Vec<_>>>()?;
        self.mark = self.mark.or(Some(self.size()));
        for (e, digest) in entries.iter().zip(digests) {
            self.tree.push(digest);
            let key = e.key();
            self.keys.insert(key.clone());
            self.entries.push((kind(&e.body), e.timestamp, key));
            self.latest = self.latest.max(e.timestamp);
        }
        Ok(())
    }

    /// Checks `entries` ([`Rules::check`]) and appends them: all or none.
    pub fn admit(&mut self, config: &LedgerConfig, entries: &[Entry], now: u64) -> Result<()> {
        self.check(config, entries, now)?;
        self.replay(entries)
    }

    /// Takes back the appends ([`Rules::admit`] or [`Rules::replay`]) since the last
    /// [`Rules::commit`] (a checkpoint over them was not made after all); a second call does
    /// nothing.
    pub fn undo(&mut self) {
        if let Some(size) = self.mark.take() {
            self.truncate(size);
        }
    }

    /// Makes the appends so far final: [`Rules::undo`] no longer takes them back.
    pub fn commit(&mut self) {
        self.mark = None;
    }

    /// Goes back to the log's first `size` entries: their keys, timestamps and tree exactly.
    /// Rebuilds the tree: linear in the log.
    pub fn truncate(&mut self, size: u64) {
        let keep = usize::try_from(size).unwrap_or(usize::MAX);
        if keep >= self.entries.len() {
            return;
        }
        for (_, _, key) in self.entries.drain(keep..) {
            self.keys.remove(&key);
        }
        self.latest = self.entries.iter().map(|e| e.1).max().unwrap_or(0);
        let mut tree = LogTree::new();
        for i in 0..size {
            if let Some(leaf) = self.tree.leaf(i) {
                tree.push(leaf);
            }
        }
        self.tree = tree;
        self.mark = self.mark.filter(|&m| m <= size);
    }
}
