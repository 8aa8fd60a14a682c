//! Round 2, **reveal**: each authority checks the others' public polynomials against their
//! commitments and proofs of possession. [`Participant::shares_for_others`] closes the round
//! and is the only way to the [`round3`] state.

use std::fmt;

use elastic_elgamal::sharing::PublicKeySet;

use super::cause::{Misbehaviour, Violation};
use super::messages::{MessageKind, Reveal, SecretShare, commitment_digest};
use super::round3;
use super::state::State;
use crate::error::{HeError, Result};

/// An authority in the reveal round (made by [`round1::Participant::reveal`](super::round1::Participant::reveal)).
pub struct Participant {
    state: State,
    commitments: Vec<Option<[u8; 32]>>,
}

impl fmt::Debug for Participant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.state.debug(f, "reveal")
    }
}

impl Participant {
    pub(super) fn new(state: State, commitments: Vec<Option<[u8; 32]>>) -> Self {
        Participant { state, commitments }
    }

    /// This participant's index.
    pub fn index(&self) -> u32 {
        self.state.me
    }

    /// Whether `party` has been disqualified so far.
    pub fn is_disqualified(&self, party: u32) -> bool {
        self.state.is_disqualified(party)
    }

    /// Checks another authority's reveal against its commitment and proof of possession. A
    /// bad reveal disqualifies the sender (returned as [`HeError::Disqualified`]).
    pub fn receive_reveal(&mut self, r: &Reveal) -> Result<()> {
        let s = &mut self.state;
        s.check_sender(r.from, MessageKind::Reveal)?;
        let i = r.from as usize;
        if let Some(reason) = &s.disqualified[i] {
            return Err(HeError::Disqualified {
                party: r.from,
                reason: reason.clone(),
            });
        }
        if s.dealings[i].is_some() {
            return Err(HeError::DkgProtocol(Violation::SecondReveal {
                from: r.from,
            }));
        }
        let digest = commitment_digest(s.params, r.from, &r.polynomial, &r.opening);
        if self.commitments[i] != Some(digest) {
            return Err(s.disqualify(r.from, Misbehaviour::RevealMismatch));
        }
        match PublicKeySet::new(s.params, r.polynomial.clone(), &r.proof) {
            Ok(set) => {
                s.dealings[i] = Some(set);
                Ok(())
            }
            Err(e) => Err(s.disqualify(
                r.from,
                Misbehaviour::InvalidPolynomial {
                    reason: e.to_string(),
                },
            )),
        }
    }

    /// Closes the round (authorities without a valid reveal are disqualified) and returns
    /// the share round's state with the shares this participant deals to every other
    /// authority, to send privately.
    pub fn shares_for_others(self) -> (round3::Participant, Vec<SecretShare>) {
        let mut state = self.state;
        for i in 0..state.n() {
            if state.dealings[i as usize].is_none() && !state.is_disqualified(i) {
                state.disqualify(i, Misbehaviour::NoReveal);
            }
        }
        let me = state.me;
        let own = state.dealer.secret_share_for_participant(me as usize);
        state.shares[me as usize] = Some(own);
        let shares = (0..state.n())
            .filter(|&j| j != me)
            .map(|j| state.share_for(j))
            .collect();
        (round3::Participant::new(state), shares)
    }
}
