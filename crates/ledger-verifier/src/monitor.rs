//! A monitor (in the spirit of Certificate Transparency monitors and witnesses): follows a
//! ledger, checks every new checkpoint's quorum and its consistency with the last one it saw,
//! fetches every new entry and re-checks it against the ledger's rules ([`Rules`]: a quorum of
//! faulty validators is caught too), and reports a fork, a rewrite, a rollback, a bad signature
//! or a broken rule as an error. Its copy of the log lives in memory: a restarted monitor
//! fetches the log from its first entry again.
//!
//! A freshly initialised ledger has recorded nothing, so its checkpoint (size 0, the empty
//! tree's root) carries no validator signatures: the monitor reports it as
//! [`Observation::Empty`], not as a missing quorum, and waits for the first signed checkpoint.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::error::{ForkCause, LedgerError, Refusal, Result};
use crate::keys::read_limited;
use crate::log::{CosignedCheckpoint, LedgerConfig, empty_root};
use crate::rules::{MAX_CLOCK_SKEW, Rules, now_ms};
use crate::view::LedgerView;

/// What one check saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// The ledger has recorded nothing yet (freshly initialised): there is no signed checkpoint
    /// to check or remember.
    Empty,
    /// The first checkpoint this monitor accepted.
    First {
        /// Its size.
        size: u64,
    },
    /// The same checkpoint as before.
    Unchanged {
        /// Its size.
        size: u64,
    },
    /// A newer checkpoint, proven to extend the previous one.
    Extended {
        /// Previous size.
        from: u64,
        /// New size.
        to: u64,
    },
}

/// Monitor state file format version.
pub const STATE_VERSION: u32 = 1;

/// The monitor's state file: the last checkpoint it accepted (pretty JSON, no trailing newline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorState {
    /// Format version ([`STATE_VERSION`]).
    pub version: u32,
    /// The last checkpoint accepted.
    pub last: CosignedCheckpoint,
}

impl MonitorState {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("serializable")
    }

    /// Decodes a state file (`what` names it in errors); its checkpoint is not checked here.
    pub fn decode(bytes: &[u8], what: &str) -> Result<MonitorState> {
        let s: MonitorState = serde_json::from_slice(bytes)
            .map_err(|e| LedgerError::malformed(what, e.to_string()))?;
        if s.version != STATE_VERSION {
            return Err(LedgerError::malformed(
                what,
                format!("unsupported monitor state version {}", s.version),
            ));
        }
        Ok(s)
    }
}

/// Follows one ledger; remembers (optionally in a state file) the last checkpoint it accepted.
pub struct Monitor {
    config: LedgerConfig,
    state: Option<PathBuf>,
    last: Option<CosignedCheckpoint>,
    rules: Rules,
}

/// Entries a monitor fetches before it checks them (bounds its memory per step).
const FETCH_BATCH: u64 = 1024;

impl Monitor {
    /// A monitor trusting `config`, keeping its state in `state` if given (read now if it exists).
    pub fn new(config: LedgerConfig, state: Option<&Path>) -> Result<Monitor> {
        let last = match state {
            Some(p) if p.exists() => {
                let bytes = read_limited(p, 1 << 20)?;
                let s = MonitorState::decode(&bytes, &p.display().to_string())?;
                s.last.verify(&config)?;
                Some(s.last)
            }
            _ => None,
        };
        Ok(Monitor {
            config,
            state: state.map(Path::to_path_buf),
            last,
            rules: Rules::new(),
        })
    }

    /// The last checkpoint accepted.
    pub fn last(&self) -> Option<&CosignedCheckpoint> {
        self.last.as_ref()
    }

    /// Fetches the latest checkpoint and checks it. On error the remembered checkpoint is kept,
    /// so the alert repeats until an operator intervenes.
    pub fn check(&mut self, view: &dyn LedgerView) -> Result<Observation> {
        let from = self.last.as_ref().map(|c| c.checkpoint.size);
        let audit = view.audit(&[], from)?;
        let new = audit.checkpoint;
        if new.checkpoint.size == 0 {
            check_empty(&new, &self.config)?;
            return match &self.last {
                None => Ok(Observation::Empty),
                Some(old) => Err(LedgerError::Fork {
                    old_size: old.checkpoint.size,
                    new_size: 0,
                    cause: ForkCause::Shrank,
                }),
            };
        }
        new.verify(&self.config)?;
        // A checkpoint dated ahead of this monitor's clock would let entries dated as far ahead
        // in (which would refuse honest clients' entries later).
        let limit = now_ms() / 1000 + MAX_CLOCK_SKEW;
        if new.checkpoint.timestamp_ms / 1000 > limit {
            return Err(LedgerError::Refused(Refusal::TimestampAhead {
                found: new.checkpoint.timestamp_ms / 1000,
                limit,
            }));
        }
        let observation = match &self.last {
            None => Observation::First {
                size: new.checkpoint.size,
            },
            Some(old) => {
                let (o, n) = (&old.checkpoint, &new.checkpoint);
                if n.size < o.size {
                    return Err(LedgerError::Fork {
                        old_size: o.size,
                        new_size: n.size,
                        cause: ForkCause::Shrank,
                    });
                }
                let proof = audit.consistency.ok_or(LedgerError::Fork {
                    old_size: o.size,
                    new_size: n.size,
                    cause: ForkCause::NoProofFromLedger,
                })?;
                proof.verify(o, n)?;
                if n.size == o.size {
                    Observation::Unchanged { size: n.size }
                } else {
                    Observation::Extended {
                        from: o.size,
                        to: n.size,
                    }
                }
            }
        };
        self.recheck(view, &new)?;
        self.last = Some(new);
        self.save()?;
        Ok(observation)
    }

    /// Fetches the entries its copy of the log lacks, checks them against the rules and checks
    /// they give the checkpoint's root.
    fn recheck(&mut self, view: &dyn LedgerView, cp: &CosignedCheckpoint) -> Result<()> {
        let (size, now) = (cp.checkpoint.size, cp.checkpoint.timestamp_ms / 1000);
        while self.rules.size() < size {
            let from = self.rules.size();
            let to = size.min(from + FETCH_BATCH);
            let entries = (from..to)
                .map(|i| view.entry(i))
                .collect::<Result<Vec<_>>>()?;
            self.rules.admit(&self.config, &entries, now)?;
        }
        if self.rules.root() != cp.checkpoint.root {
            // Start over next time: the entries the ledger served are not the checkpoint's.
            self.rules = Rules::new();
            return Err(LedgerError::Fork {
                old_size: self.last.as_ref().map_or(0, |c| c.checkpoint.size),
                new_size: size,
                cause: ForkCause::RootOfOtherEntries,
            });
        }
        Ok(())
    }

    fn save(&self) -> Result<()> {
        let (Some(path), Some(last)) = (&self.state, &self.last) else {
            return Ok(());
        };
        let tmp = path.with_extension("tmp");
        let text = MonitorState {
            version: STATE_VERSION,
            last: last.clone(),
        }
        .encode();
        std::fs::write(&tmp, text).map_err(|e| LedgerError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| LedgerError::io(path, e))
    }
}

/// Checks the checkpoint of an empty ledger: the trusted log, the empty tree's root, and any
/// signatures it carries valid (none are needed: an empty log states nothing).
fn check_empty(cp: &CosignedCheckpoint, config: &LedgerConfig) -> Result<()> {
    if cp.checkpoint.root != empty_root() {
        if cp.checkpoint.log_id != config.log_id {
            return Err(LedgerError::WrongLog {
                expected: config.log_id.clone(),
                found: cp.checkpoint.log_id.clone(),
            });
        }
        return Err(LedgerError::Fork {
            old_size: 0,
            new_size: 0,
            cause: ForkCause::EmptyCheckpointRoot,
        });
    }
    match cp.verify(config) {
        Ok(()) | Err(LedgerError::NoQuorum { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}
