//! Distributed key generation among n authorities with threshold t: Pedersen's DKG over
//! Feldman verifiable secret sharing, with a commit round and complaints. No party, and no
//! dealer, ever sees the decryption key.
//!
//! Each authority deals a random polynomial of degree t−1 (elastic-elgamal's Feldman
//! `Dealer`: public coefficients with a proof of possession of their discrete logs). The joint
//! key is the sum of the constant terms of the qualified dealers (QUAL); authority j's share is the
//! sum of the values at j+1 of their polynomials.
//!
//! The rounds are types, as in frost-core: each round's state is made only by the function
//! that closes the previous round, which consumes it, so a step cannot be taken out of order
//! (it does not compile). Each message is a broadcast unless said:
//!
//! | round | state | sends | closed by |
//! |---|---|---|---|
//! | 1. commit | [`round1::Participant`] (= [`DkgParticipant`]) | [`Commitment`] | [`reveal`](round1::Participant::reveal) |
//! | 2. reveal | [`round2::Participant`] | [`Reveal`] | [`shares_for_others`](round2::Participant::shares_for_others) |
//! | 3. shares | [`round3::Participant`] | [`SecretShare`] (private, point to point) | [`complaints`](round3::Participant::complaints) |
//! | 4. complaints | [`round4::Participant`] | [`Complaint`], [`ComplaintAnswer`] | [`finish`](round4::Participant::finish) → [`DkgOutcome`] |
//!
//! 1. **Commit**: a SHA-256 hash commitment to the dealer's public polynomial (with a random
//!    opening). Committing before anyone reveals stops a late party from choosing its
//!    polynomial after seeing the others' (grinding the joint key).
//! 2. **Reveal**: the public polynomial, its proof of possession and the opening. A reveal that
//!    does not open the commitment, has the wrong degree or a bad proof disqualifies its
//!    sender; so does a missing commitment or reveal.
//! 3. **Shares**: the receiver checks share·G against the dealer's public polynomial at its
//!    index.
//! 4. **Complaints**: a complaint against every dealer whose share was missing or did not
//!    verify. The accused answers each complaint by publishing the share; every party checks
//!    the answer against the public polynomial. A valid answer settles the complaint (the
//!    accuser takes that share); an invalid or missing answer disqualifies the dealer.
//!    **Finish** sums the qualified dealings into an [`Authority`]. It needs at least t
//!    qualified dealers, so that with fewer than t corrupt authorities at least one honest
//!    dealer contributes to the key.
//!
//! Assumptions: broadcasts are reliable (every party sees the same commitments, reveals,
//! complaints and answers; then all honest parties agree on QUAL and on the key set), and shares
//! travel on private authenticated channels. As in Pedersen's DKG (Gennaro et al. 1999), a corrupt
//! party can still bias the key slightly by getting itself disqualified after the reveal; it
//! cannot learn or fix the key, which is what threshold ElGamal needs.
//!
//! Messages travel as JSON documents ([`Message::from_json`] and each message's
//! `to_json`/`from_json`); failures carry their cause as data ([`Misbehaviour`],
//! [`Violation`], [`Failure`]).
//!
//! A round's step is not available in another round:
//!
//! ```compile_fail,E0599
//! # use rand::SeedableRng;
//! # use trustspace_he::ristretto::dkg::DkgParticipant;
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let p = DkgParticipant::new(3, 2, 0, &mut rng).unwrap();
//! let _ = p.complaints(); // the complaints belong to round 3
//! ```
//!
//! and a closed round cannot be used again:
//!
//! ```compile_fail,E0382
//! # use rand::SeedableRng;
//! # use trustspace_he::ristretto::dkg::DkgParticipant;
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let p = DkgParticipant::new(3, 2, 0, &mut rng).unwrap();
//! let (_round2, _reveal) = p.reveal().unwrap();
//! let _ = p.reveal(); // round 1 is over
//! ```

mod cause;
mod messages;
pub mod round1;
pub mod round2;
pub mod round3;
pub mod round4;
mod state;
mod wire;

use rand::{CryptoRng, RngCore};

pub use cause::{Failure, Misbehaviour, Violation};
pub use messages::{
    Commitment, Complaint, ComplaintAnswer, ComplaintReason, Message, MessageKind, Reveal,
    SecretShare,
};

use super::keys::{Authority, KeySet};
use crate::error::{HeError, Result};

/// An authority at the start of the DKG, in the commit round.
pub type DkgParticipant = round1::Participant;

/// What the DKG produced for one authority.
#[derive(Debug)]
pub struct DkgOutcome {
    /// This authority, with its share of the joint key.
    pub authority: Authority,
    /// The qualified dealers whose polynomials make up the key, ascending.
    pub qualified: Vec<u32>,
    /// Disqualified dealers and why, ascending by index.
    pub disqualified: Vec<(u32, Misbehaviour)>,
}

/// Runs the whole DKG in one process, every authority honest, and returns the n authorities.
///
/// For tests, benchmarks and demonstrations only: whoever runs it holds every share. Real
/// deployments run one [`DkgParticipant`] per authority and exchange the messages.
pub fn run_local<R: RngCore + CryptoRng>(
    authorities: u32,
    threshold: u32,
    rng: &mut R,
) -> Result<(KeySet, Vec<Authority>)> {
    let mut ps = (0..authorities)
        .map(|i| DkgParticipant::new(authorities, threshold, i, rng))
        .collect::<Result<Vec<_>>>()?;
    let commitments: Vec<Commitment> = ps.iter().map(DkgParticipant::commitment).collect();
    for p in &mut ps {
        for c in &commitments {
            if c.from != p.index() {
                p.receive_commitment(c)?;
            }
        }
    }
    let (mut ps, reveals): (Vec<_>, Vec<_>) = ps
        .into_iter()
        .map(DkgParticipant::reveal)
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .unzip();
    for p in &mut ps {
        for r in &reveals {
            if r.from != p.index() {
                p.receive_reveal(r)?;
            }
        }
    }
    let (mut ps, mail): (Vec<_>, Vec<_>) = ps
        .into_iter()
        .map(round2::Participant::shares_for_others)
        .unzip();
    for s in mail.iter().flatten() {
        if ps[s.to as usize].receive_share(s)?.is_some() {
            return Err(HeError::DkgFailed(Failure::LocalShare {
                from: s.from,
                to: s.to,
            }));
        }
    }
    let mut finished = Vec::with_capacity(ps.len());
    for p in ps {
        let (p, complaints) = p.complaints();
        if !complaints.is_empty() {
            return Err(HeError::DkgFailed(Failure::LocalComplaints));
        }
        finished.push(p);
    }
    let authorities = finished
        .into_iter()
        .map(|p| p.finish().map(|o| o.authority))
        .collect::<Result<Vec<_>>>()?;
    let key_set = authorities
        .first()
        .map(|a| a.key_set().clone())
        .ok_or(HeError::DkgFailed(Failure::NoAuthorities))?;
    Ok((key_set, authorities))
}
