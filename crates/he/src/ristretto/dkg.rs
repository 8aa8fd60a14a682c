//! Distributed key generation among n authorities with threshold t: Pedersen's DKG over
//! Feldman verifiable secret sharing, with a commit round and complaints. No party, and no
//! dealer, ever sees the decryption key.
//!
//! Each authority deals a random polynomial of degree t−1 (elastic-elgamal's Feldman
//! [`Dealer`]: public coefficients with a proof of possession of their discrete logs). The joint
//! key is the sum of the constant terms of the qualified dealers (QUAL); authority j's share is the
//! sum of the values at j+1 of their polynomials. The rounds, each message a broadcast unless said:
//!
//! 1. **Commit**: [`DkgParticipant::commitment`] — a SHA-256 hash commitment to the dealer's public
//!    polynomial (with a random opening). Committing before anyone reveals stops a late party from
//!    choosing its polynomial after seeing the others' (grinding the joint key).
//! 2. **Reveal**: [`DkgParticipant::reveal`] — the public polynomial, its proof of possession and
//!    the opening. A reveal that does not open the commitment, has the wrong degree or a bad
//!    proof disqualifies its sender; so does a missing commitment or reveal.
//! 3. **Shares** (private, point to point): [`DkgParticipant::shares_for_others`]. The receiver
//!    checks share·G against the dealer's public polynomial at its index.
//! 4. **Complaints**: [`DkgParticipant::complaints`] lists a complaint against every dealer whose
//!    share was missing or did not verify. The accused answers each complaint by publishing the
//!    share ([`DkgParticipant::answer`]); every party checks the answer against the public
//!    polynomial. A valid answer settles the complaint (the accuser takes that share); an invalid
//!    or missing answer disqualifies the dealer.
//! 5. **Finish**: [`DkgParticipant::finish`] sums the qualified dealings into an [`Authority`].
//!    It needs at least t qualified dealers, so that with fewer than t corrupt authorities at
//!    least one honest dealer contributes to the key.
//!
//! Assumptions: broadcasts are reliable (every party sees the same commitments, reveals,
//! complaints and answers; then all honest parties agree on QUAL and on the key set), and shares
//! travel on private authenticated channels. As in Pedersen's DKG (Gennaro et al. 1999), a corrupt
//! party can still bias the key slightly by getting itself disqualified after the reveal; it
//! cannot learn or fix the key, which is what threshold ElGamal needs.

use std::collections::BTreeSet;
use std::fmt;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::Identity;
use elastic_elgamal::group::Ristretto;
use elastic_elgamal::sharing::{ActiveParticipant, Dealer, Params, PublicKeySet};
use elastic_elgamal::{ProofOfPossession, PublicKey, SecretKey};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::codec;
use super::keys::{Authority, KeySet, check_params};
use super::rng::Bridge;
use super::wire::{self, MAX_DKG_DOC_BYTES};
use crate::error::{HeError, Result};

/// Round 1 broadcast: a hash commitment to the sender's public polynomial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    /// The sender's index.
    pub from: u32,
    /// SHA-256 over the session parameters, the sender, its polynomial and a random opening.
    pub digest: [u8; 32],
}

/// Round 2 broadcast: the public polynomial, its proof of possession, the commitment's opening.
#[derive(Clone)]
pub struct Reveal {
    /// The sender's index.
    pub from: u32,
    polynomial: Vec<RistrettoPoint>,
    proof: ProofOfPossession<Ristretto>,
    opening: [u8; 32],
}

impl fmt::Debug for Reveal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reveal")
            .field("from", &self.from)
            .field("degree", &self.polynomial.len().saturating_sub(1))
            .finish()
    }
}

/// Round 3 private message: the sender's polynomial evaluated at the receiver's index.
#[derive(Clone)]
pub struct SecretShare {
    /// The dealer's index.
    pub from: u32,
    /// The receiver's index.
    pub to: u32,
    share: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for SecretShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretShare")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("share", &"<secret>")
            .finish()
    }
}

impl SecretShare {
    /// A share message with arbitrary bytes: lets tests (and fault-injection tools) play a
    /// dealer that sends a bad share.
    #[doc(hidden)] // for tests of the checks; cannot pass any verification
    pub fn from_bytes(from: u32, to: u32, share: [u8; 32]) -> Self {
        SecretShare {
            from,
            to,
            share: Zeroizing::new(share),
        }
    }
}

/// Why a complaint was filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintReason {
    /// No share arrived from the dealer.
    Missing,
    /// The share does not lie on the dealer's public polynomial.
    Invalid,
}

/// Round 4 broadcast: `from` accuses dealer `against` of a missing or invalid share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Complaint {
    /// The accuser.
    pub from: u32,
    /// The accused dealer.
    pub against: u32,
    /// Why.
    pub reason: ComplaintReason,
}

/// Round 4 broadcast: the accused dealer publishes the share it owes the accuser.
#[derive(Clone, PartialEq, Eq)]
pub struct ComplaintAnswer {
    /// The accused dealer.
    pub from: u32,
    /// The accuser.
    pub to: u32,
    share: [u8; 32],
}

impl fmt::Debug for ComplaintAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The share is public once answered, but it is still key material: keep it out of logs.
        f.debug_struct("ComplaintAnswer")
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

impl ComplaintAnswer {
    /// An answer with arbitrary bytes: lets tests play a dealer that answers with a bad share.
    #[doc(hidden)] // for tests of the checks; cannot pass any verification
    pub fn from_bytes(from: u32, to: u32, share: [u8; 32]) -> Self {
        ComplaintAnswer { from, to, share }
    }
}

/// What the DKG produced for one authority.
#[derive(Debug)]
pub struct DkgOutcome {
    /// This authority, with its share of the joint key.
    pub authority: Authority,
    /// The qualified dealers whose polynomials make up the key, ascending.
    pub qualified: Vec<u32>,
    /// Disqualified dealers and why, ascending by index.
    pub disqualified: Vec<(u32, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Commit,
    Reveal,
    Shares,
    Complaints,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Commit => "commit",
            Phase::Reveal => "reveal",
            Phase::Shares => "shares",
            Phase::Complaints => "complaints",
        })
    }
}

/// One authority's state through the DKG rounds (see the [module docs](self)).
pub struct DkgParticipant {
    params: Params,
    me: u32,
    phase: Phase,
    dealer: Dealer<Ristretto>,
    opening: [u8; 32],
    commitments: Vec<Option<[u8; 32]>>,
    /// Per dealer: its validated sharing (public polynomial evaluated at every index).
    dealings: Vec<Option<PublicKeySet<Ristretto>>>,
    /// Per dealer: the verified share it dealt to this participant.
    shares: Vec<Option<SecretKey<Ristretto>>>,
    /// Per dealer: why it was disqualified.
    disqualified: Vec<Option<String>>,
    /// Complaints (accuser, accused) not yet answered.
    pending: BTreeSet<(u32, u32)>,
    /// Dealers whose share to this participant did not verify.
    invalid_from: BTreeSet<u32>,
    /// Whether this participant already sent its shares.
    dealt: bool,
}

impl fmt::Debug for DkgParticipant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DkgParticipant")
            .field("index", &self.me)
            .field("authorities", &self.params.shares)
            .field("threshold", &self.params.threshold)
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

fn commitment_digest(
    params: Params,
    from: u32,
    polynomial: &[RistrettoPoint],
    opening: &[u8; 32],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"trustspace-he/ristretto/dkg/commit/v1");
    h.update((params.shares as u32).to_le_bytes());
    h.update((params.threshold as u32).to_le_bytes());
    h.update(from.to_le_bytes());
    h.update((polynomial.len() as u32).to_le_bytes());
    for p in polynomial {
        h.update(p.compress().as_bytes());
    }
    h.update(opening);
    h.finalize().into()
}

impl DkgParticipant {
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
        let n = authorities as usize;
        let mut p = DkgParticipant {
            params,
            me: index,
            phase: Phase::Commit,
            dealer,
            opening,
            commitments: vec![None; n],
            dealings: vec![None; n],
            shares: (0..n).map(|_| None).collect(),
            disqualified: vec![None; n],
            pending: BTreeSet::new(),
            invalid_from: BTreeSet::new(),
            dealt: false,
        };
        let own = p.commitment();
        p.commitments[index as usize] = Some(own.digest);
        Ok(p)
    }

    /// This participant's index.
    pub fn index(&self) -> u32 {
        self.me
    }

    fn n(&self) -> u32 {
        self.params.shares as u32
    }

    fn expect_phase(&self, phase: Phase, step: &str) -> Result<()> {
        if self.phase != phase {
            return Err(HeError::DkgProtocol(format!(
                "authority {}: {step} belongs to the {phase} round, the session is in the {} round",
                self.me, self.phase
            )));
        }
        Ok(())
    }

    fn check_sender(&self, from: u32, what: &str) -> Result<()> {
        if from >= self.n() {
            return Err(HeError::DkgProtocol(format!(
                "{what} from authority {from}, but there are only {} authorities",
                self.n()
            )));
        }
        if from == self.me {
            return Err(HeError::DkgProtocol(format!(
                "{what} claims to come from this authority ({from})"
            )));
        }
        Ok(())
    }

    fn disqualify(&mut self, party: u32, reason: String) -> HeError {
        let slot = &mut self.disqualified[party as usize];
        if slot.is_none() {
            *slot = Some(reason.clone());
        }
        self.shares[party as usize] = None;
        HeError::Disqualified { party, reason }
    }

    /// Whether `party` has been disqualified so far.
    pub fn is_disqualified(&self, party: u32) -> bool {
        self.disqualified
            .get(party as usize)
            .is_some_and(Option::is_some)
    }

    fn polynomial(&self) -> Vec<RistrettoPoint> {
        self.dealer.public_info().0
    }

    /// Round 1: this participant's commitment, to broadcast.
    pub fn commitment(&self) -> Commitment {
        Commitment {
            from: self.me,
            digest: commitment_digest(self.params, self.me, &self.polynomial(), &self.opening),
        }
    }

    /// Round 1: records another authority's commitment.
    pub fn receive_commitment(&mut self, c: &Commitment) -> Result<()> {
        self.expect_phase(Phase::Commit, "a commitment")?;
        self.check_sender(c.from, "commitment")?;
        match self.commitments[c.from as usize] {
            Some(d) if d == c.digest => Ok(()),
            Some(_) => Err(HeError::DkgProtocol(format!(
                "authority {} sent a second, different commitment",
                c.from
            ))),
            None => {
                self.commitments[c.from as usize] = Some(c.digest);
                Ok(())
            }
        }
    }

    /// Closes round 1 (authorities without a commitment are disqualified) and returns this
    /// participant's reveal, to broadcast.
    pub fn reveal(&mut self) -> Result<Reveal> {
        self.expect_phase(Phase::Commit, "revealing")?;
        for i in 0..self.n() {
            if self.commitments[i as usize].is_none() {
                self.disqualify(i, "sent no commitment".into());
            }
        }
        self.phase = Phase::Reveal;
        let (polynomial, proof) = self.dealer.public_info();
        let own = PublicKeySet::new(self.params, polynomial.clone(), proof)
            .map_err(|e| HeError::DkgProtocol(format!("own dealing does not validate: {e}")))?;
        self.dealings[self.me as usize] = Some(own);
        Ok(Reveal {
            from: self.me,
            polynomial,
            proof: proof.clone(),
            opening: self.opening,
        })
    }

    /// Round 2: checks another authority's reveal against its commitment and proof of
    /// possession. A bad reveal disqualifies the sender (returned as [`HeError::Disqualified`]).
    pub fn receive_reveal(&mut self, r: &Reveal) -> Result<()> {
        self.expect_phase(Phase::Reveal, "a reveal")?;
        self.check_sender(r.from, "reveal")?;
        let i = r.from as usize;
        if let Some(reason) = &self.disqualified[i] {
            return Err(HeError::Disqualified {
                party: r.from,
                reason: reason.clone(),
            });
        }
        if self.dealings[i].is_some() {
            return Err(HeError::DkgProtocol(format!(
                "authority {} revealed twice",
                r.from
            )));
        }
        let digest = commitment_digest(self.params, r.from, &r.polynomial, &r.opening);
        if self.commitments[i] != Some(digest) {
            return Err(self.disqualify(r.from, "its reveal does not open its commitment".into()));
        }
        match PublicKeySet::new(self.params, r.polynomial.clone(), &r.proof) {
            Ok(set) => {
                self.dealings[i] = Some(set);
                Ok(())
            }
            Err(e) => Err(self.disqualify(
                r.from,
                format!("its public polynomial does not validate ({e})"),
            )),
        }
    }

    /// Closes round 2 (authorities without a valid reveal are disqualified) and returns the
    /// shares this participant deals to every other authority, to send privately.
    pub fn shares_for_others(&mut self) -> Result<Vec<SecretShare>> {
        if self.phase == Phase::Reveal {
            for i in 0..self.n() {
                if self.dealings[i as usize].is_none() && !self.is_disqualified(i) {
                    self.disqualify(i, "revealed no polynomial".into());
                }
            }
            let own = self.dealer.secret_share_for_participant(self.me as usize);
            self.shares[self.me as usize] = Some(own);
            self.phase = Phase::Shares;
        }
        self.expect_phase(Phase::Shares, "dealing shares")?;
        if self.dealt {
            return Err(HeError::DkgProtocol(format!(
                "authority {} already dealt its shares",
                self.me
            )));
        }
        self.dealt = true;
        Ok((0..self.n())
            .filter(|&j| j != self.me)
            .map(|j| self.share_for(j))
            .collect())
    }

    fn share_for(&self, to: u32) -> SecretShare {
        let s = self.dealer.secret_share_for_participant(to as usize);
        SecretShare {
            from: self.me,
            to,
            share: Zeroizing::new(s.expose_scalar().to_bytes()),
        }
    }

    /// Checks `share` against `dealer`'s public polynomial at `to`.
    fn check_share(&self, dealer: u32, to: u32, share: &[u8; 32]) -> Option<SecretKey<Ristretto>> {
        let set = self.dealings[dealer as usize].as_ref()?;
        let expected = set.participant_key(to as usize)?;
        let key = SecretKey::<Ristretto>::from_bytes(share)?;
        (PublicKey::from(&key) == *expected).then_some(key)
    }

    /// Round 3: takes a share dealt to this participant (after [`Self::shares_for_others`]
    /// closed the reveal round). A share that does not verify is not kept and yields a
    /// complaint to broadcast (it is also listed by [`Self::complaints`]).
    pub fn receive_share(&mut self, s: &SecretShare) -> Result<Option<Complaint>> {
        self.expect_phase(Phase::Shares, "a secret share")?;
        self.check_sender(s.from, "secret share")?;
        if s.to != self.me {
            return Err(HeError::DkgProtocol(format!(
                "share from authority {} is addressed to authority {}, not {}",
                s.from, s.to, self.me
            )));
        }
        if self.is_disqualified(s.from) {
            return Ok(None);
        }
        if self.shares[s.from as usize].is_some() {
            return Err(HeError::DkgProtocol(format!(
                "authority {} sent a second share",
                s.from
            )));
        }
        match self.check_share(s.from, self.me, &s.share) {
            Some(key) => {
                self.shares[s.from as usize] = Some(key);
                Ok(None)
            }
            None => {
                self.invalid_from.insert(s.from);
                Ok(Some(Complaint {
                    from: self.me,
                    against: s.from,
                    reason: ComplaintReason::Invalid,
                }))
            }
        }
    }

    /// Closes round 3: returns a complaint against every qualified dealer whose share is
    /// missing or was invalid, to broadcast. They are pending until answered.
    pub fn complaints(&mut self) -> Result<Vec<Complaint>> {
        self.expect_phase(Phase::Shares, "closing the share round")?;
        if !self.dealt {
            return Err(HeError::DkgProtocol(format!(
                "authority {} must deal its shares before the complaint round",
                self.me
            )));
        }
        self.phase = Phase::Complaints;
        let mut out = Vec::new();
        for i in 0..self.n() {
            if i != self.me && !self.is_disqualified(i) && self.shares[i as usize].is_none() {
                let reason = if self.invalid_from.contains(&i) {
                    ComplaintReason::Invalid
                } else {
                    ComplaintReason::Missing
                };
                out.push(Complaint {
                    from: self.me,
                    against: i,
                    reason,
                });
                self.pending.insert((self.me, i));
            }
        }
        Ok(out)
    }

    /// Round 4: records a complaint broadcast by another authority (or this one; duplicates
    /// are ignored).
    pub fn receive_complaint(&mut self, c: &Complaint) -> Result<()> {
        self.expect_phase(Phase::Complaints, "a complaint")?;
        if c.from >= self.n() || c.against >= self.n() || c.from == c.against {
            return Err(HeError::DkgProtocol(format!(
                "complaint by {} against {} does not name two of the {} authorities",
                c.from,
                c.against,
                self.n()
            )));
        }
        if !self.is_disqualified(c.against) {
            self.pending.insert((c.from, c.against));
        }
        Ok(())
    }

    /// Round 4: this participant, accused by `c`, publishes the share it dealt the accuser.
    pub fn answer(&self, c: &Complaint) -> Result<ComplaintAnswer> {
        self.expect_phase(Phase::Complaints, "answering a complaint")?;
        if c.against != self.me || c.from >= self.n() || c.from == self.me {
            return Err(HeError::DkgProtocol(format!(
                "complaint by {} against {} is not one authority {} can answer",
                c.from, c.against, self.me
            )));
        }
        let s = self.share_for(c.from);
        Ok(ComplaintAnswer {
            from: self.me,
            to: c.from,
            share: *s.share,
        })
    }

    /// Round 4: checks a dealer's answer to a pending complaint. A valid answer settles it
    /// (the accuser keeps the share); an invalid one disqualifies the dealer.
    pub fn receive_answer(&mut self, a: &ComplaintAnswer) -> Result<()> {
        self.expect_phase(Phase::Complaints, "a complaint answer")?;
        if !self.pending.contains(&(a.to, a.from)) {
            return Err(HeError::DkgProtocol(format!(
                "answer from authority {} to authority {} matches no pending complaint",
                a.from, a.to
            )));
        }
        self.pending.remove(&(a.to, a.from));
        match self.check_share(a.from, a.to, &a.share) {
            Some(key) => {
                if a.to == self.me {
                    self.shares[a.from as usize] = Some(key);
                }
                Ok(())
            }
            None => Err(self.disqualify(
                a.from,
                format!(
                    "its published share for authority {} does not lie on its polynomial",
                    a.to
                ),
            )),
        }
    }

    /// Ends the DKG: dealers with unanswered complaints are disqualified; the qualified
    /// dealings are summed into this participant's [`Authority`].
    pub fn finish(mut self) -> Result<DkgOutcome> {
        self.expect_phase(Phase::Complaints, "finishing")?;
        for (accuser, accused) in std::mem::take(&mut self.pending) {
            self.disqualify(
                accused,
                format!("did not answer authority {accuser}'s complaint"),
            );
        }
        let qualified: Vec<u32> = (0..self.n())
            .filter(|&i| !self.is_disqualified(i))
            .collect();
        if qualified.len() < self.params.threshold {
            return Err(HeError::DkgFailed(format!(
                "{} qualified authorities, fewer than the threshold {}",
                qualified.len(),
                self.params.threshold
            )));
        }
        let n = self.params.shares;
        let mut keys = vec![RistrettoPoint::identity(); n];
        let mut share: Option<SecretKey<Ristretto>> = None;
        for &i in &qualified {
            let set = self.dealings[i as usize].as_ref().ok_or_else(|| {
                HeError::DkgFailed(format!("no dealing from qualified authority {i}"))
            })?;
            for (j, k) in keys.iter_mut().enumerate() {
                *k += set.participant_keys()[j].as_element();
            }
            let s = self.shares[i as usize].take().ok_or_else(|| {
                HeError::DkgFailed(format!(
                    "authority {} holds no share from qualified authority {i}",
                    self.me
                ))
            })?;
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
                    .map_err(|e| HeError::DkgFailed(e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let set = PublicKeySet::from_participants(self.params, keys)
            .map_err(|e| HeError::DkgFailed(format!("summed share keys are inconsistent: {e}")))?;
        let share = share.ok_or_else(|| HeError::DkgFailed("no qualified dealer".into()))?;
        let participant = ActiveParticipant::new(set, self.me as usize, share).map_err(|e| {
            HeError::DkgFailed(format!("summed share does not match its public key: {e}"))
        })?;
        let disqualified = self
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
    let reveals = ps
        .iter_mut()
        .map(DkgParticipant::reveal)
        .collect::<Result<Vec<_>>>()?;
    for p in &mut ps {
        for r in &reveals {
            if r.from != p.index() {
                p.receive_reveal(r)?;
            }
        }
    }
    let mut mail = Vec::new();
    for p in &mut ps {
        mail.extend(p.shares_for_others()?);
    }
    for s in &mail {
        if ps[s.to as usize].receive_share(s)?.is_some() {
            return Err(HeError::DkgFailed(format!(
                "share from {} to {} did not verify",
                s.from, s.to
            )));
        }
    }
    for p in &mut ps {
        if !p.complaints()?.is_empty() {
            return Err(HeError::DkgFailed(
                "an honest run produced complaints".into(),
            ));
        }
    }
    let authorities = ps
        .into_iter()
        .map(|p| p.finish().map(|o| o.authority))
        .collect::<Result<Vec<_>>>()?;
    let key_set = authorities
        .first()
        .map(|a| a.key_set().clone())
        .ok_or_else(|| HeError::DkgFailed("no authorities".into()))?;
    Ok((key_set, authorities))
}

// ---- wire encodings of the DKG messages ----

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommitmentDoc {
    version: u32,
    kind: String,
    from: u32,
    digest: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevealDoc {
    version: u32,
    kind: String,
    from: u32,
    polynomial: Vec<String>,
    proof_of_possession: ProofOfPossession<Ristretto>,
    opening: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareDoc {
    version: u32,
    kind: String,
    from: u32,
    to: u32,
    share: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ComplaintDoc {
    version: u32,
    kind: String,
    from: u32,
    against: u32,
    reason: ComplaintReason,
}

impl Commitment {
    /// Encodes as a versioned JSON document.
    pub fn to_json(&self) -> String {
        wire::to_json(&CommitmentDoc {
            version: wire::VERSION,
            kind: wire::KIND_DKG_COMMITMENT.into(),
            from: self.from,
            digest: hex::encode(self.digest),
        })
    }

    /// Decodes a commitment document.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let what = "DKG commitment";
        let d: CommitmentDoc = codec::json(bytes, what, MAX_DKG_DOC_BYTES)?;
        wire::check_header(d.version, &d.kind, wire::KIND_DKG_COMMITMENT, what)?;
        Ok(Commitment {
            from: d.from,
            digest: codec::hex_array(&d.digest, "commitment digest")?,
        })
    }
}

impl Reveal {
    /// Encodes as a versioned JSON document.
    pub fn to_json(&self) -> String {
        wire::to_json(&RevealDoc {
            version: wire::VERSION,
            kind: wire::KIND_DKG_REVEAL.into(),
            from: self.from,
            polynomial: self
                .polynomial
                .iter()
                .map(|p| hex::encode(p.compress().as_bytes()))
                .collect(),
            proof_of_possession: self.proof.clone(),
            opening: hex::encode(self.opening),
        })
    }

    /// Decodes a reveal document: canonical points, at most [`super::MAX_AUTHORITIES`]
    /// coefficients (the degree itself is checked against the session when received).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let what = "DKG reveal";
        let d: RevealDoc = codec::json(bytes, what, MAX_DKG_DOC_BYTES)?;
        wire::check_header(d.version, &d.kind, wire::KIND_DKG_REVEAL, what)?;
        if d.polynomial.len() > super::MAX_AUTHORITIES as usize {
            return Err(HeError::TooLarge {
                what: "DKG reveal polynomial".into(),
                size: d.polynomial.len() as u64,
                limit: u64::from(super::MAX_AUTHORITIES),
                unit: "coefficients",
            });
        }
        let polynomial = d
            .polynomial
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let what = format!("coefficient {k} of authority {}'s polynomial", d.from);
                codec::non_identity_point(&codec::hex_array::<32>(p, &what)?, &what)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Reveal {
            from: d.from,
            polynomial,
            proof: d.proof_of_possession,
            opening: codec::hex_array(&d.opening, "commitment opening")?,
        })
    }
}

impl SecretShare {
    /// Encodes as a versioned JSON document (secret: send only on the private channel to `to`).
    pub fn to_json(&self) -> Zeroizing<String> {
        let mut doc = ShareDoc {
            version: wire::VERSION,
            kind: wire::KIND_DKG_SHARE.into(),
            from: self.from,
            to: self.to,
            share: hex::encode(*self.share),
        };
        let text = Zeroizing::new(wire::to_json(&doc));
        zeroize::Zeroize::zeroize(&mut doc.share);
        text
    }

    /// Decodes a share document.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let what = "DKG secret share";
        let mut d: ShareDoc = codec::json(bytes, what, MAX_DKG_DOC_BYTES)?;
        let out =
            wire::check_header(d.version, &d.kind, wire::KIND_DKG_SHARE, what).and_then(|()| {
                Ok(SecretShare {
                    from: d.from,
                    to: d.to,
                    share: codec::hex_secret(&d.share, "secret share")?,
                })
            });
        zeroize::Zeroize::zeroize(&mut d.share);
        out
    }
}

impl Complaint {
    /// Encodes as a versioned JSON document.
    pub fn to_json(&self) -> String {
        wire::to_json(&ComplaintDoc {
            version: wire::VERSION,
            kind: wire::KIND_DKG_COMPLAINT.into(),
            from: self.from,
            against: self.against,
            reason: self.reason,
        })
    }

    /// Decodes a complaint document.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let what = "DKG complaint";
        let d: ComplaintDoc = codec::json(bytes, what, MAX_DKG_DOC_BYTES)?;
        wire::check_header(d.version, &d.kind, wire::KIND_DKG_COMPLAINT, what)?;
        Ok(Complaint {
            from: d.from,
            against: d.against,
            reason: d.reason,
        })
    }
}

impl ComplaintAnswer {
    /// Encodes as a versioned JSON document.
    pub fn to_json(&self) -> String {
        wire::to_json(&ShareDoc {
            version: wire::VERSION,
            kind: wire::KIND_DKG_ANSWER.into(),
            from: self.from,
            to: self.to,
            share: hex::encode(self.share),
        })
    }

    /// Decodes a complaint-answer document.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let what = "DKG complaint answer";
        let d: ShareDoc = codec::json(bytes, what, MAX_DKG_DOC_BYTES)?;
        wire::check_header(d.version, &d.kind, wire::KIND_DKG_ANSWER, what)?;
        Ok(ComplaintAnswer {
            from: d.from,
            to: d.to,
            share: codec::hex_array(&d.share, "published share")?,
        })
    }
}
