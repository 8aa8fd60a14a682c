//! A validator: keeps its own copy of the log, checks every proposed append against the ledger's
//! rules ([`Rules`]) and the trust configuration, recomputes the root the appended entries give,
//! and only then signs the proposed checkpoint. It never signs two checkpoints that no
//! append-only history connects (its copy only grows), nor a checkpoint over an entry the rules
//! refuse, whatever the server proposing it does.
//!
//! The server reaches its validators through [`Cosigner`]: a [`Validator`] in its own process
//! (a test deployment), or a validator run by another party ([`crate::replica`]) reached over
//! HTTP. Either answers a [`Proposal`] with a [`CosignAnswer`]: a signature, or where its copy
//! stands when the proposal does not start there, so the server can catch it up, or send it
//! the rest of a batch it signed part of.

use serde::{Deserialize, Serialize};

use crate::entry::Entry;
use crate::error::{ForkCause, LedgerError, Refusal, Result};
use crate::keys::{Identity, PublicKey};
use crate::log::{Checkpoint, CheckpointSignature, LedgerConfig};
use crate::rules::{MAX_CLOCK_SKEW, Rules};

/// A validator with its key, the configuration it enforces and its copy of the log.
pub struct Validator {
    identity: Identity,
    config: LedgerConfig,
    rules: Rules,
    last: Option<Checkpoint>,
}

impl Validator {
    /// A validator of an empty log.
    pub fn new(identity: Identity, config: LedgerConfig) -> Validator {
        Validator {
            identity,
            config,
            rules: Rules::new(),
            last: None,
        }
    }

    /// Its public key.
    pub fn public(&self) -> PublicKey {
        self.identity.public()
    }

    /// The last checkpoint it signed.
    pub fn last(&self) -> Option<&Checkpoint> {
        self.last.as_ref()
    }

    /// Entries in its copy of the log.
    pub fn size(&self) -> u64 {
        self.rules.size()
    }

    /// Where its copy stands.
    pub fn head(&self) -> Head {
        Head {
            size: self.rules.size(),
            root: self.rules.root(),
        }
    }

    /// Catches up with entries already under a checkpoint `at` it trusts (its own store's,
    /// reopened): appended unchecked, and `at` must be their root.
    pub fn replay(&mut self, entries: &[Entry], at: &Checkpoint) -> Result<()> {
        self.rules.replay(entries)?;
        if self.rules.size() != at.size || self.rules.root() != at.root {
            self.rules.undo();
            return Err(LedgerError::Fork {
                old_size: self.rules.size(),
                new_size: at.size,
                cause: ForkCause::RootOfOtherEntries,
            });
        }
        self.rules.commit();
        self.last = (at.size > 0).then(|| at.clone());
        Ok(())
    }

    /// Answers a proposal ([`Validator::propose_at`] at the system clock).
    pub fn propose(&mut self, p: &Proposal) -> Result<CosignAnswer> {
        self.propose_at(p, crate::rules::now_ms())
    }

    /// Answers a proposal with its clock reading `now_ms`:
    /// - its copy is shorter than `p.from`: [`CosignAnswer::Behind`], signing nothing;
    /// - the proposal's entries up to its size are not exactly its own, or the proposal ends
    ///   before its size (it signed beyond, and never rolls back): [`CosignAnswer::Ahead`];
    /// - the proposal ends at its size (a retry of what it holds): it signs the checkpoint if the
    ///   root is its own and the checkpoint is not older than the last it signed;
    /// - otherwise it checks and signs the entries beyond its size ([`Validator::cosign_at`]).
    ///
    /// A proposal whose checkpoint size is not where its entries end is refused.
    pub fn propose_at(&mut self, p: &Proposal, now_ms: u64) -> Result<CosignAnswer> {
        let size = self.rules.size();
        let end = p.from.checked_add(p.entries.len() as u64);
        if end != Some(p.checkpoint.size) {
            return Err(LedgerError::malformed(
                "proposal",
                "the checkpoint's size is not where the entries end",
            ));
        }
        if p.from > size {
            return Ok(CosignAnswer::Behind { size });
        }
        let held = (size - p.from).min(p.entries.len() as u64);
        let ahead = CosignAnswer::Ahead {
            size,
            root: self.rules.root(),
        };
        for (i, e) in p.entries.iter().take(held as usize).enumerate() {
            if self.rules.tree().leaf(p.from + i as u64) != Some(e.digest()?) {
                return Ok(ahead);
            }
        }
        if p.checkpoint.size < size {
            return Ok(ahead);
        }
        let fresh = &p.entries[held as usize..];
        if !fresh.is_empty() {
            return self
                .cosign_at(fresh, &p.checkpoint, now_ms)
                .map(|sig| CosignAnswer::Signed(Box::new(sig)));
        }
        // A retry: the same entries under a newer checkpoint (its first was never published).
        let next = &p.checkpoint;
        self.check_checkpoint(next, now_ms)?;
        if next.root != self.rules.root() {
            return Err(LedgerError::Fork {
                old_size: size,
                new_size: next.size,
                cause: ForkCause::TwoRootsForOneSize,
            });
        }
        Ok(CosignAnswer::Signed(Box::new(self.sign(next))))
    }

    /// Refuses a checkpoint dated too far ahead of `now_ms`, of another log, or older than the
    /// last it signed.
    fn check_checkpoint(&self, next: &Checkpoint, now_ms: u64) -> Result<()> {
        let limit = now_ms / 1000 + MAX_CLOCK_SKEW;
        if next.timestamp_ms / 1000 > limit {
            // A checkpoint dated ahead would let entries dated as far ahead in.
            return Err(LedgerError::Refused(Refusal::TimestampAhead {
                found: next.timestamp_ms / 1000,
                limit,
            }));
        }
        if next.log_id != self.config.log_id {
            return Err(LedgerError::WrongLog {
                expected: self.config.log_id.clone(),
                found: next.log_id.clone(),
            });
        }
        if let Some(last) = &self.last
            && next.timestamp_ms < last.timestamp_ms
        {
            return Err(LedgerError::StaleCheckpoint {
                offered: next.size,
                seen: last.size,
            });
        }
        Ok(())
    }

    /// Signs `next` and remembers it as the last it signed (its copy up to there is final).
    fn sign(&mut self, next: &Checkpoint) -> CheckpointSignature {
        self.rules.commit();
        self.last = Some(next.clone());
        CheckpointSignature {
            validator: self.identity.public(),
            signature: self.identity.sign(&next.signing_message()),
        }
    }

    /// Signs `next` if it is the checkpoint of its copy of the log with `entries` appended, it is
    /// dated no more than [`MAX_CLOCK_SKEW`] seconds ahead of this validator's own clock, and
    /// every entry obeys the rules; otherwise refuses, by the rule or the mismatch, and its copy
    /// is unchanged.
    pub fn cosign(&mut self, entries: &[Entry], next: &Checkpoint) -> Result<CheckpointSignature> {
        self.cosign_at(entries, next, crate::rules::now_ms())
    }

    /// [`Validator::cosign`] with the validator's clock reading `now_ms` (milliseconds since the
    /// Unix epoch).
    pub fn cosign_at(
        &mut self,
        entries: &[Entry],
        next: &Checkpoint,
        now_ms: u64,
    ) -> Result<CheckpointSignature> {
        self.check_checkpoint(next, now_ms)?;
        let size = self.rules.size();
        let fork = |cause| LedgerError::Fork {
            old_size: size,
            new_size: next.size,
            cause,
        };
        if next.size != size + entries.len() as u64 {
            return Err(fork(ForkCause::RootOfOtherEntries));
        }
        self.rules
            .admit(&self.config, entries, next.timestamp_ms / 1000)?;
        if self.rules.root() != next.root {
            self.rules.undo();
            return Err(fork(ForkCause::RootOfOtherEntries));
        }
        Ok(self.sign(next))
    }

    /// The entry digest at `index` of its copy.
    pub fn leaf(&self, index: u64) -> Option<[u8; 32]> {
        self.rules.tree().leaf(index)
    }

    /// Takes back what it signed after `previous` (its signature was not handed out: the
    /// party's store failed to keep it; or, in the server's process, it was never published),
    /// so `previous` is again the last it signed and its copy ends there.
    pub(crate) fn take_back(&mut self, previous: Option<Checkpoint>) {
        self.rules.truncate(previous.as_ref().map_or(0, |c| c.size));
        self.last = previous;
    }

    /// Forgets the entries it signed after `published`, the checkpoint its store holds, when
    /// the checkpoint it signed over them was never published (a local validator whose store
    /// failed to write it): its copy goes back to `published`.
    pub(crate) fn forget_unpublished(&mut self, published: &Checkpoint) {
        self.take_back((published.size > 0).then(|| published.clone()));
    }
}

/// What the server asks a validator to sign: the checkpoint of the log with `entries` at
/// indices `from..`, which may repeat entries the validator already holds (a retry, or a
/// validator being caught up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// Index of the first entry.
    pub from: u64,
    /// The entries from `from` on.
    pub entries: Vec<Entry>,
    /// The checkpoint to sign: its size is `from` plus the entries'.
    pub checkpoint: Checkpoint,
}

/// Domain separation of a proposal's signature by the ledger's server.
const PROPOSAL_TAG: &[u8] = b"trustspace/proposal/v1\0";

impl Proposal {
    /// What the ledger's server signs so that a validator run by another party acts on its
    /// proposals only: the start, the entries' digests and the checkpoint.
    pub fn signing_message(&self) -> Result<Vec<u8>> {
        let mut m = PROPOSAL_TAG.to_vec();
        m.extend_from_slice(&self.from.to_be_bytes());
        m.extend_from_slice(&(self.entries.len() as u64).to_be_bytes());
        for e in &self.entries {
            m.extend_from_slice(&e.digest()?);
        }
        m.extend_from_slice(&self.checkpoint.signing_message());
        Ok(m)
    }
}

/// A validator's answer to a [`Proposal`]; a refusal by the rules is an error instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CosignAnswer {
    /// Its signature on the proposed checkpoint.
    Signed(Box<CheckpointSignature>),
    /// Its copy holds only `size` entries: the proposal must start there.
    Behind {
        /// Entries in its copy.
        size: u64,
    },
    /// It signed a checkpoint beyond the proposal's start over other entries (or beyond the
    /// proposal's end); it never rolls back, so the server must propose its entries (the
    /// batch it keeps pending) before anything else.
    Ahead {
        /// Entries in its copy.
        size: u64,
        /// Its copy's root.
        #[serde(with = "crate::log::hex32")]
        root: [u8; 32],
    },
}

/// Where a validator's copy of the log stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    /// Entries in its copy.
    pub size: u64,
    /// Its copy's root.
    #[serde(with = "crate::log::hex32")]
    pub root: [u8; 32],
}

/// A validator as the server reaches it: in its process or over the network.
pub trait Cosigner: Send {
    /// The key its signatures must be by (from the server's own records, not its answers).
    fn key(&self) -> PublicKey;
    /// Its answer to a proposal.
    fn propose(&mut self, p: &Proposal) -> Result<CosignAnswer>;
    /// The server failed to publish what it last signed and is back at `published`: a
    /// validator in the server's process forgets it too; one run by another party keeps what
    /// it signed (the default), and the server proposes the same entries again (its pending
    /// batch) before anything else.
    fn unpublished(&mut self, published: &Checkpoint) {
        let _ = published;
    }
}

impl Cosigner for Validator {
    fn key(&self) -> PublicKey {
        self.public()
    }

    fn propose(&mut self, p: &Proposal) -> Result<CosignAnswer> {
        Validator::propose(self, p)
    }

    fn unpublished(&mut self, published: &Checkpoint) {
        self.forget_unpublished(published);
    }
}
