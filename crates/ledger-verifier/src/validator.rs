//! A validator: keeps its own copy of the log, checks every proposed append against the ledger's
//! rules ([`Rules`]) and the trust configuration, recomputes the root the appended entries give,
//! and only then signs the proposed checkpoint. It never signs two checkpoints that no
//! append-only history connects (its copy only grows), nor a checkpoint over an entry the rules
//! refuse, whatever the server proposing it does.

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
        let size = self.rules.size();
        let fork = |cause| LedgerError::Fork {
            old_size: size,
            new_size: next.size,
            cause,
        };
        if next.size != size + entries.len() as u64 {
            return Err(fork(ForkCause::RootOfOtherEntries));
        }
        if let Some(last) = &self.last
            && next.timestamp_ms < last.timestamp_ms
        {
            return Err(LedgerError::StaleCheckpoint {
                offered: next.size,
                seen: last.size,
            });
        }
        self.rules
            .admit(&self.config, entries, next.timestamp_ms / 1000)?;
        if self.rules.root() != next.root {
            self.rules.undo();
            return Err(fork(ForkCause::RootOfOtherEntries));
        }
        let sig = CheckpointSignature {
            validator: self.identity.public(),
            signature: self.identity.sign(&next.signing_message()),
        };
        self.last = Some(next.clone());
        Ok(sig)
    }

    /// Forgets the entries it signed after `published`, the checkpoint its store holds, when
    /// the checkpoint it signed over them was never published (a local validator whose store
    /// failed to write it): its copy goes back to `published`.
    pub(crate) fn forget_unpublished(&mut self, published: &Checkpoint) {
        if self.rules.size() > published.size {
            self.rules.undo();
        }
        self.last = (published.size > 0).then(|| published.clone());
    }
}
