//! How the three compute parties talk: ordered, reliable, authenticated message streams between
//! each pair, with a timeout on every receive so a dead or stalled party is an error, never a
//! hang.
//!
//! Implementations: [`memory`] (in-process channels, for unit tests and single-process runs) and
//! [`tls`] (TCP with mutually authenticated TLS, one process per party).

use crate::error::Result;

pub mod memory;
pub mod tls;

/// A compute party's index: 0, 1 or 2.
pub type PartyId = usize;

/// Number of compute parties.
pub const PARTIES: usize = 3;

/// Largest single message, bytes (a frame larger than this is refused as malformed).
pub const MAX_MESSAGE: usize = 1 << 30;

/// One party's view of the mesh of three parties.
///
/// `send` never blocks on the peer (messages are queued), so two parties may send to each other
/// and then receive without deadlock; `recv` blocks until the next message from `from` arrives,
/// the timeout passes ([`crate::MpcError::Timeout`]) or the peer is gone
/// ([`crate::MpcError::Disconnected`]). Messages from one peer arrive in the order sent.
pub trait Transport: Send {
    /// This party's index.
    fn me(&self) -> PartyId;
    /// Queues `payload` for party `to` (not `me`).
    fn send(&mut self, to: PartyId, payload: Vec<u8>) -> Result<()>;
    /// The next message from party `from` (not `me`).
    fn recv(&mut self, from: PartyId) -> Result<Vec<u8>>;
    /// The next message from party `from` if one has arrived, without waiting (`Ok(None)`
    /// otherwise); a closed connection is [`crate::MpcError::Disconnected`].
    fn try_recv(&mut self, from: PartyId) -> Result<Option<Vec<u8>>>;
}

/// A borrowed transport is a transport (so a [`crate::engine::Party`] can run on a mesh its
/// caller keeps).
impl<T: Transport + ?Sized> Transport for &mut T {
    fn me(&self) -> PartyId {
        (**self).me()
    }
    fn send(&mut self, to: PartyId, payload: Vec<u8>) -> Result<()> {
        (**self).send(to, payload)
    }
    fn recv(&mut self, from: PartyId) -> Result<Vec<u8>> {
        (**self).recv(from)
    }
    fn try_recv(&mut self, from: PartyId) -> Result<Option<Vec<u8>>> {
        (**self).try_recv(from)
    }
}
