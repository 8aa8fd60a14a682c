//! Round 4, **complaints**: accused dealers publish the disputed shares, everyone checks the
//! answers, and [`Participant::finish`] sums the qualified dealings into an
//! [`Authority`].

use std::collections::BTreeSet;
use std::fmt;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::Identity;
use elastic_elgamal::SecretKey;
use elastic_elgamal::group::Ristretto;
use elastic_elgamal::sharing::{ActiveParticipant, PublicKeySet};

use super::DkgOutcome;
use super::cause::{Failure, Misbehaviour, Violation};
use super::messages::{Complaint, ComplaintAnswer};
use super::state::State;
use crate::error::{HeError, Result};
use crate::ristretto::codec;
use crate::ristretto::keys::Authority;

/// An authority in the complaint round (made by
/// [`round3::Participant::complaints`](super::round3::Participant::complaints)).
pub struct Participant {
    state: State,
    /// Complaints (accuser, accused) not yet answered.
    pending: BTreeSet<(u32, u32)>,
}

impl fmt::Debug for Participant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.state.debug(f, "complaints")
    }
}

fn failed(reason: String) -> HeError {
    HeError::DkgFailed(Failure::Inconsistent { reason })
}

impl Participant {
    pub(super) fn new(state: State, pending: BTreeSet<(u32, u32)>) -> Self {
        Participant { state, pending }
    }

    /// This participant's index.
    pub fn index(&self) -> u32 {
        self.state.me
    }

    /// Whether `party` has been disqualified so far.
    pub fn is_disqualified(&self, party: u32) -> bool {
        self.state.is_disqualified(party)
    }

    /// Records a complaint broadcast by another authority (or this one; duplicates are
    /// ignored).
    pub fn receive_complaint(&mut self, c: &Complaint) -> Result<()> {
        let n = self.state.n();
        if c.from >= n || c.against >= n || c.from == c.against {
            return Err(HeError::DkgProtocol(Violation::InvalidComplaint {
                from: c.from,
                against: c.against,
                authorities: n,
            }));
        }
        if !self.state.is_disqualified(c.against) {
            self.pending.insert((c.from, c.against));
        }
        Ok(())
    }

    /// This participant, accused by `c`, publishes the share it dealt the accuser.
    pub fn answer(&self, c: &Complaint) -> Result<ComplaintAnswer> {
        let me = self.state.me;
        if c.against != me || c.from >= self.state.n() || c.from == me {
            return Err(HeError::DkgProtocol(Violation::NotAnswerable {
                from: c.from,
                against: c.against,
                answerer: me,
            }));
        }
        let s = self.state.share_for(c.from);
        Ok(ComplaintAnswer {
            from: me,
            to: c.from,
            share: *s.share,
        })
    }

    /// Checks a dealer's answer to a pending complaint. A valid answer settles it (the accuser
    /// keeps the share); an invalid one disqualifies the dealer.
    pub fn receive_answer(&mut self, a: &ComplaintAnswer) -> Result<()> {
        if !self.pending.remove(&(a.to, a.from)) {
            return Err(HeError::DkgProtocol(Violation::UnexpectedAnswer {
                from: a.from,
                to: a.to,
            }));
        }
        match self.state.check_share(a.from, a.to, &a.share) {
            Some(key) => {
                if a.to == self.state.me {
                    self.state.shares[a.from as usize] = Some(key);
                }
                Ok(())
            }
            None => Err(self
                .state
                .disqualify(a.from, Misbehaviour::InvalidAnswer { accuser: a.to })),
        }
    }

    /// Ends the DKG: dealers with unanswered complaints are disqualified; the qualified
    /// dealings are summed into this participant's [`Authority`].
    pub fn finish(self) -> Result<DkgOutcome> {
        let Participant { mut state, pending } = self;
        for (accuser, accused) in pending {
            state.disqualify(accused, Misbehaviour::Unanswered { accuser });
        }
        let qualified: Vec<u32> = (0..state.n())
            .filter(|&i| !state.is_disqualified(i))
            .collect();
        if qualified.len() < state.params.threshold {
            return Err(HeError::DkgFailed(Failure::TooFewQualified {
                qualified: qualified.len(),
                threshold: state.params.threshold,
            }));
        }
        let n = state.params.shares;
        let mut keys = vec![RistrettoPoint::identity(); n];
        let mut share: Option<SecretKey<Ristretto>> = None;
        for &i in &qualified {
            let set = state.dealings[i as usize]
                .as_ref()
                .ok_or(HeError::DkgFailed(Failure::MissingDealing { dealer: i }))?;
            for (j, k) in keys.iter_mut().enumerate() {
                *k += set.participant_keys()[j].as_element();
            }
            let s = state.shares[i as usize].take().ok_or(HeError::DkgFailed(
                Failure::MissingShare {
                    authority: state.me,
                    dealer: i,
                },
            ))?;
            share = Some(match share {
                None => s,
                Some(acc) => acc + s,
            });
        }
        let keys = keys
            .iter()
            .enumerate()
            .map(|(j, k)| {
                codec::public_key(k.compress().as_bytes(), &format!("share key {j}"))
                    .map_err(|e| failed(e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let set = PublicKeySet::from_participants(state.params, keys)
            .map_err(|e| failed(format!("summed share keys are inconsistent: {e}")))?;
        let share = share.ok_or_else(|| failed("no qualified dealer".into()))?;
        let participant = ActiveParticipant::new(set, state.me as usize, share)
            .map_err(|e| failed(format!("summed share does not match its public key: {e}")))?;
        let disqualified = state
            .disqualified
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.clone().map(|r| (i as u32, r)))
            .collect();
        Ok(DkgOutcome {
            authority: Authority::new(participant),
            qualified,
            disqualified,
        })
    }
}
