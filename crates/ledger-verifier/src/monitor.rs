//! A monitor (in the spirit of Certificate Transparency monitors and witnesses): follows a
//! ledger, checks every new checkpoint's quorum and its consistency with the last one it saw,
//! and reports a fork, a rewrite, a rollback or a bad signature as an error.
//!
//! A freshly initialised ledger has recorded nothing, so its checkpoint (size 0, the empty
//! tree's root) carries no validator signatures: the monitor reports it as
//! [`Observation::Empty`], not as a missing quorum, and waits for the first signed checkpoint.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::error::{LedgerError, Result};
use crate::keys::read_limited;
use crate::log::{CosignedCheckpoint, LedgerConfig, empty_root};
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

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    version: u32,
    last: CosignedCheckpoint,
}

/// Follows one ledger; remembers (optionally in a state file) the last checkpoint it accepted.
pub struct Monitor {
    config: LedgerConfig,
    state: Option<PathBuf>,
    last: Option<CosignedCheckpoint>,
}

impl Monitor {
    /// A monitor trusting `config`, keeping its state in `state` if given (read now if it exists).
    pub fn new(config: LedgerConfig, state: Option<&Path>) -> Result<Monitor> {
        let last = match state {
            Some(p) if p.exists() => {
                let bytes = read_limited(p, 1 << 20)?;
                let s: State = serde_json::from_slice(&bytes)
                    .map_err(|e| LedgerError::malformed(p.display().to_string(), e.to_string()))?;
                s.last.verify(&config)?;
                Some(s.last)
            }
            _ => None,
        };
        Ok(Monitor {
            config,
            state: state.map(Path::to_path_buf),
            last,
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
                    reason: "the ledger shrank (entries removed)".into(),
                }),
            };
        }
        new.verify(&self.config)?;
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
                        reason: "the ledger shrank (entries removed)".into(),
                    });
                }
                let proof = audit.consistency.ok_or_else(|| LedgerError::Fork {
                    old_size: o.size,
                    new_size: n.size,
                    reason: "the ledger gave no consistency proof".into(),
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
        self.last = Some(new);
        self.save()?;
        Ok(observation)
    }

    fn save(&self) -> Result<()> {
        let (Some(path), Some(last)) = (&self.state, &self.last) else {
            return Ok(());
        };
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_vec_pretty(&State {
            version: 1,
            last: last.clone(),
        })
        .expect("serializable");
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
            reason: "a checkpoint of size 0 whose root is not the empty tree's".into(),
        });
    }
    match cp.verify(config) {
        Ok(()) | Err(LedgerError::NoQuorum { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}
