//! The DKG's messages, one type per kind, and the commitment digest that binds a reveal to
//! its commitment. Their JSON encoding is in [`super::wire`].

use std::fmt;

use curve25519_dalek::ristretto::RistrettoPoint;
use elastic_elgamal::ProofOfPossession;
use elastic_elgamal::group::Ristretto;
use elastic_elgamal::sharing::Params;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

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
    pub(super) polynomial: Vec<RistrettoPoint>,
    pub(super) proof: ProofOfPossession<Ristretto>,
    pub(super) opening: [u8; 32],
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
    pub(super) share: Zeroizing<[u8; 32]>,
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
    pub(super) share: [u8; 32],
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

/// Any DKG message, for a transport that receives every kind on one channel
/// ([`Message::from_json`] reads whichever kind the document says).
#[derive(Debug, Clone)]
pub enum Message {
    /// Round 1.
    Commitment(Commitment),
    /// Round 2.
    Reveal(Reveal),
    /// Round 3 (private).
    Share(SecretShare),
    /// Round 4.
    Complaint(Complaint),
    /// Round 4.
    Answer(ComplaintAnswer),
}

impl Message {
    /// The message's kind.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Commitment(_) => MessageKind::Commitment,
            Message::Reveal(_) => MessageKind::Reveal,
            Message::Share(_) => MessageKind::Share,
            Message::Complaint(_) => MessageKind::Complaint,
            Message::Answer(_) => MessageKind::Answer,
        }
    }

    /// The sender's index.
    pub fn from(&self) -> u32 {
        match self {
            Message::Commitment(m) => m.from,
            Message::Reveal(m) => m.from,
            Message::Share(m) => m.from,
            Message::Complaint(m) => m.from,
            Message::Answer(m) => m.from,
        }
    }
}

/// The kinds of DKG message, as named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// [`Commitment`].
    Commitment,
    /// [`Reveal`].
    Reveal,
    /// [`SecretShare`].
    Share,
    /// [`Complaint`].
    Complaint,
    /// [`ComplaintAnswer`].
    Answer,
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MessageKind::Commitment => "commitment",
            MessageKind::Reveal => "reveal",
            MessageKind::Share => "secret share",
            MessageKind::Complaint => "complaint",
            MessageKind::Answer => "complaint answer",
        })
    }
}

/// The commitment to `from`'s public polynomial: SHA-256 over a domain tag, the session's n
/// and t, the sender, the polynomial and the random opening.
pub(super) fn commitment_digest(
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
