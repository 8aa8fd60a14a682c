//! Client links: [`ClientLink`], the authenticated connection between a client (data holder or
//! query driver) and one party, and [`close_clients`], which closes many with one linger.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::config::ClientLinkConfig;
use super::dial::dial;
use super::link::{Link, MAX_LINGER};
use crate::error::{MpcError, Peer, Result};
use crate::transport::{PARTIES, PartyId};

/// An authenticated connection between a client (data holder or query driver) and one party:
/// on the client side from [`ClientLink::connect`], on the party side from
/// [`super::TlsTransport::accept_client`]. Messages are framed and ordered like the mesh's;
/// `send` never blocks, `recv` waits at most the timeout.
pub struct ClientLink {
    pub(super) link: Link,
}

impl ClientLink {
    /// Connects to party `party` with the client's certificate, retrying until the connect
    /// deadline; the party must present the certificate of `party-{party}`.
    pub fn connect(config: &ClientLinkConfig, party: PartyId) -> Result<ClientLink> {
        let identity = config.load_identity()?;
        let addr = config.parties.get(party).ok_or_else(|| {
            MpcError::Config(format!("party {party} out of range (0 to {})", PARTIES - 1))
        })?;
        let deadline = Instant::now() + Duration::from_secs(config.connect_timeout_secs);
        let link = dial(
            addr,
            party,
            &identity.client_config()?,
            deadline,
            Duration::from_secs(config.timeout_secs),
            &AtomicBool::new(false),
        )?;
        Ok(ClientLink { link })
    }

    /// Queues `payload` for the other end.
    pub fn send(&mut self, payload: Vec<u8>) -> Result<()> {
        self.link.send(payload)
    }

    /// The next message from the other end, waiting at most the timeout.
    pub fn recv(&mut self) -> Result<Vec<u8>> {
        self.link.recv()
    }

    /// The next message if one has arrived (`Ok(None)` otherwise), without waiting; a closed
    /// connection is [`MpcError::Disconnected`].
    pub fn try_recv(&mut self) -> Result<Option<Vec<u8>>> {
        self.link.try_recv()
    }

    /// The next message from the other end, waiting at most `wait`.
    pub fn recv_within(&mut self, wait: Duration) -> Result<Vec<u8>> {
        self.link.recv_within(wait)
    }

    /// The receive timeout.
    pub fn timeout(&self) -> Duration {
        self.link.timeout
    }

    /// The other end's certificate name: `party-{i}` on a client, the client's name on a party.
    pub fn peer_name(&self) -> &str {
        &self.link.name
    }

    /// The other end: [`Peer::Party`] on a client, [`Peer::Client`] on a party.
    pub fn peer(&self) -> &Peer {
        &self.link.peer
    }

    /// Changes the receive timeout.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.link.timeout = timeout;
    }
}

/// Closes client links together: each sends its queued messages and `close_notify`, all
/// within one shared [`MAX_LINGER`].
pub fn close_clients(links: Vec<ClientLink>) {
    for l in &links {
        l.link.begin_close();
    }
    let deadline = Instant::now() + MAX_LINGER;
    for mut l in links {
        l.link.finish(deadline);
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
