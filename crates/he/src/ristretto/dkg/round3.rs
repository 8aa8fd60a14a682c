//! Round 3, **shares**: each authority checks the shares dealt to it against the dealers'
//! public polynomials. [`Participant::complaints`] closes the round and is the only way to
//! the [`round4`] state.

use std::collections::BTreeSet;
use std::fmt;

use super::cause::Violation;
use super::messages::{Complaint, ComplaintReason, MessageKind, SecretShare};
use super::round4;
use super::state::State;
use crate::error::{HeError, Result};

/// An authority in the share round (made by
/// [`round2::Participant::shares_for_others`](super::round2::Participant::shares_for_others)).
pub struct Participant {
    state: State,
    /// Dealers whose share to this participant did not verify.
    invalid_from: BTreeSet<u32>,
}

impl fmt::Debug for Participant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.state.debug(f, "shares")
    }
}

impl Participant {
    pub(super) fn new(state: State) -> Self {
        Participant {
            state,
            invalid_from: BTreeSet::new(),
        }
    }

    /// This participant's index.
    pub fn index(&self) -> u32 {
        self.state.me
    }

    /// Whether `party` has been disqualified so far.
    pub fn is_disqualified(&self, party: u32) -> bool {
        self.state.is_disqualified(party)
    }

    /// Takes a share dealt to this participant. A share that does not verify is not kept and
    /// yields a complaint to broadcast (it is also listed by [`Self::complaints`]); a share
    /// from a disqualified dealer is ignored.
    pub fn receive_share(&mut self, s: &SecretShare) -> Result<Option<Complaint>> {
        let me = self.state.me;
        self.state.check_sender(s.from, MessageKind::Share)?;
        if s.to != me {
            return Err(HeError::DkgProtocol(Violation::Misaddressed {
                from: s.from,
                to: s.to,
                receiver: me,
            }));
        }
        if self.state.is_disqualified(s.from) {
            return Ok(None);
        }
        if self.state.shares[s.from as usize].is_some() {
            return Err(HeError::DkgProtocol(Violation::SecondShare {
                from: s.from,
            }));
        }
        match self.state.check_share(s.from, me, &s.share) {
            Some(key) => {
                self.state.shares[s.from as usize] = Some(key);
                Ok(None)
            }
            None => {
                self.invalid_from.insert(s.from);
                Ok(Some(Complaint {
                    from: me,
                    against: s.from,
                    reason: ComplaintReason::Invalid,
                }))
            }
        }
    }

    /// Closes the round: returns the complaint round's state with a complaint against every
    /// qualified dealer whose share is missing or was invalid, to broadcast. They are pending
    /// until answered.
    pub fn complaints(self) -> (round4::Participant, Vec<Complaint>) {
        let state = self.state;
        let me = state.me;
        let out: Vec<Complaint> = (0..state.n())
            .filter(|&i| i != me && !state.is_disqualified(i) && state.shares[i as usize].is_none())
            .map(|i| Complaint {
                from: me,
                against: i,
                reason: if self.invalid_from.contains(&i) {
                    ComplaintReason::Invalid
                } else {
                    ComplaintReason::Missing
                },
            })
            .collect();
        let pending = out.iter().map(|c| (c.from, c.against)).collect();
        (round4::Participant::new(state, pending), out)
    }
}
