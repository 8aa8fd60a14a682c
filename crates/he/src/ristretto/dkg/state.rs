//! What one authority knows and keeps through every round: the session, its own dealer (the
//! secret polynomial), the dealings and shares it accepted, and who is disqualified and why.
//! The round types ([`super::round1`] … [`super::round4`]) wrap it.

use std::fmt;

use elastic_elgamal::group::Ristretto;
use elastic_elgamal::sharing::{Dealer, Params, PublicKeySet};
use elastic_elgamal::{PublicKey, SecretKey};
use zeroize::Zeroizing;

use super::cause::{Misbehaviour, Violation};
use super::messages::{MessageKind, SecretShare};
use crate::error::{HeError, Result};

/// One authority's state, shared by the rounds.
pub(super) struct State {
    pub(super) params: Params,
    pub(super) me: u32,
    pub(super) dealer: Dealer<Ristretto>,
    /// Per dealer: its validated sharing (public polynomial evaluated at every index).
    pub(super) dealings: Vec<Option<PublicKeySet<Ristretto>>>,
    /// Per dealer: the verified share it dealt to this participant.
    pub(super) shares: Vec<Option<SecretKey<Ristretto>>>,
    /// Per dealer: why it was disqualified.
    pub(super) disqualified: Vec<Option<Misbehaviour>>,
}

impl State {
    pub(super) fn new(params: Params, me: u32, dealer: Dealer<Ristretto>) -> Self {
        let n = params.shares;
        State {
            params,
            me,
            dealer,
            dealings: vec![None; n],
            shares: (0..n).map(|_| None).collect(),
            disqualified: vec![None; n],
        }
    }

    /// n.
    pub(super) fn n(&self) -> u32 {
        self.params.shares as u32
    }

    /// Refuses a message from outside the session or claiming to come from this authority.
    pub(super) fn check_sender(&self, from: u32, message: MessageKind) -> Result<()> {
        if from >= self.n() {
            return Err(HeError::DkgProtocol(Violation::UnknownSender {
                message,
                from,
                authorities: self.n(),
            }));
        }
        if from == self.me {
            return Err(HeError::DkgProtocol(Violation::FromSelf { message, from }));
        }
        Ok(())
    }

    /// Disqualifies `party` (the first cause is kept) and drops its share; returns the error
    /// that reports it.
    pub(super) fn disqualify(&mut self, party: u32, cause: Misbehaviour) -> HeError {
        let slot = &mut self.disqualified[party as usize];
        if slot.is_none() {
            *slot = Some(cause.clone());
        }
        self.shares[party as usize] = None;
        HeError::Disqualified {
            party,
            reason: cause,
        }
    }

    /// Whether `party` has been disqualified so far.
    pub(super) fn is_disqualified(&self, party: u32) -> bool {
        self.disqualified
            .get(party as usize)
            .is_some_and(Option::is_some)
    }

    /// The share this authority deals to `to`.
    pub(super) fn share_for(&self, to: u32) -> SecretShare {
        let s = self.dealer.secret_share_for_participant(to as usize);
        SecretShare {
            from: self.me,
            to,
            share: Zeroizing::new(s.expose_scalar().to_bytes()),
        }
    }

    /// Checks `share` against `dealer`'s public polynomial at `to`.
    pub(super) fn check_share(
        &self,
        dealer: u32,
        to: u32,
        share: &[u8; 32],
    ) -> Option<SecretKey<Ristretto>> {
        let set = self.dealings[dealer as usize].as_ref()?;
        let expected = set.participant_key(to as usize)?;
        let key = SecretKey::<Ristretto>::from_bytes(share)?;
        (PublicKey::from(&key) == *expected).then_some(key)
    }

    /// `Debug` output for a round's participant: public facts only.
    pub(super) fn debug(&self, f: &mut fmt::Formatter<'_>, round: &str) -> fmt::Result {
        f.debug_struct("DkgParticipant")
            .field("index", &self.me)
            .field("authorities", &self.params.shares)
            .field("threshold", &self.params.threshold)
            .field("round", &round)
            .finish_non_exhaustive()
    }
}
