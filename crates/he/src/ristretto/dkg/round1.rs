//! Round 1, **commit**: an authority draws its polynomial, broadcasts a hash commitment to it
//! and collects everyone else's. [`Participant::reveal`] closes the round and is the only way
//! to the [`round2`] state.

use std::fmt;

use elastic_elgamal::sharing::{Dealer, PublicKeySet};
use rand::{CryptoRng, RngCore};

use super::cause::{Misbehaviour, Violation};
use super::messages::{Commitment, MessageKind, Reveal, commitment_digest};
use super::round2;
use super::state::State;
use crate::error::{HeError, Result};
use crate::ristretto::keys::check_params;
use crate::ristretto::rng::Bridge;

/// An authority in the commit round: the start of the DKG (also named
/// [`DkgParticipant`](super::DkgParticipant)).
pub struct Participant {
    state: State,
    opening: [u8; 32],
    commitments: Vec<Option<[u8; 32]>>,
}

impl fmt::Debug for Participant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.state.debug(f, "commit")
    }
}

impl Participant {
    /// Starts authority `index` (0-based) of a `threshold`-of-`authorities` DKG: draws its
    /// polynomial and commitment opening from `rng`.
    pub fn new<R: RngCore + CryptoRng>(
        authorities: u32,
        threshold: u32,
        index: u32,
        rng: &mut R,
    ) -> Result<Self> {
        let params = check_params(authorities, threshold)?;
        if index >= authorities {
            return Err(HeError::InvalidParameter {
                what: "index",
                reason: format!("{index} is not below the {authorities} authorities"),
            });
        }
        let dealer = Dealer::new(params, &mut Bridge(rng));
        let mut opening = [0u8; 32];
        rng.fill_bytes(&mut opening);
        let mut p = Participant {
            state: State::new(params, index, dealer),
            opening,
            commitments: vec![None; authorities as usize],
        };
        p.commitments[index as usize] = Some(p.commitment().digest);
        Ok(p)
    }

    /// This participant's index.
    pub fn index(&self) -> u32 {
        self.state.me
    }

    /// This participant's commitment, to broadcast.
    pub fn commitment(&self) -> Commitment {
        let me = self.state.me;
        let polynomial = self.state.dealer.public_info().0;
        Commitment {
            from: me,
            digest: commitment_digest(self.state.params, me, &polynomial, &self.opening),
        }
    }

    /// Records another authority's commitment (the same one twice is accepted).
    pub fn receive_commitment(&mut self, c: &Commitment) -> Result<()> {
        self.state.check_sender(c.from, MessageKind::Commitment)?;
        match self.commitments[c.from as usize] {
            Some(d) if d == c.digest => Ok(()),
            Some(_) => Err(HeError::DkgProtocol(Violation::SecondCommitment {
                from: c.from,
            })),
            None => {
                self.commitments[c.from as usize] = Some(c.digest);
                Ok(())
            }
        }
    }

    /// Closes the round (authorities without a commitment are disqualified) and returns the
    /// reveal round's state with this participant's reveal, to broadcast.
    pub fn reveal(self) -> Result<(round2::Participant, Reveal)> {
        let Participant {
            mut state,
            opening,
            commitments,
        } = self;
        for (i, c) in commitments.iter().enumerate() {
            if c.is_none() {
                state.disqualify(i as u32, Misbehaviour::NoCommitment);
            }
        }
        let (polynomial, proof) = state.dealer.public_info();
        let own = PublicKeySet::new(state.params, polynomial.clone(), proof).map_err(|e| {
            HeError::DkgProtocol(Violation::OwnDealing {
                reason: e.to_string(),
            })
        })?;
        let me = state.me;
        state.dealings[me as usize] = Some(own);
        let reveal = Reveal {
            from: me,
            polynomial,
            proof: proof.clone(),
            opening,
        };
        Ok((round2::Participant::new(state, commitments), reveal))
    }
}
