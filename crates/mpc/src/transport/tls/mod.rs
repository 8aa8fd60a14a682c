//! TCP with mutually authenticated TLS 1.3 (rustls, ring provider): one OS process per party,
//! plus client links for data holders and the query driver.
//!
//! # Key material
//!
//! The consortium CA and the certificates it issues are made by [`crate::pki`]
//! ([`crate::pki::keygen`], [`crate::pki::add_client`]). Private keys are written with mode
//! 0600, never over an existing file, and loading refuses a key file readable by group or
//! others (`identity`).
//!
//! # Identities
//!
//! A certificate names exactly one participant: its single subjectAltName DNS name (the subject
//! CN, when present, must be the same). `party-0`, `party-1`, `party-2` are the compute parties;
//! any other name (`[a-z][a-z0-9-]*`, at most 63 characters) is a client (`names`). Both sides
//! check the peer chains to the consortium CA (webpki, TLS 1.3 only). The connecting side also
//! requires the server to be valid for the DNS name `party-{i}` of the party it dialled; the
//! listening side maps the client certificate's name to a party or client and refuses unknown
//! names, its own name, parties that should be listening rather than dialling, and duplicates.
//!
//! # Mesh convention
//!
//! Every party listens on its configured address. For each pair `i < j`, party `j` dials party
//! `i` (party 0 only listens, party 2 only dials), retrying the TCP connection until the connect
//! deadline so the processes may start in any order. After the TLS handshake the listener sends
//! one frame, `ok` or `refused <code>: <why>` (the code names the [`Refusal`]), so a dialler
//! learns at once that it was refused, and why. Every failure is [`MpcError::Tls`] with a
//! [`TlsStep`]; the dialler tries again only after [`TlsStep::Closed`] or
//! [`TlsStep::PeerRefused`]`(`[`Refusal::AlreadyConnected`]`)`. A certificate error on a
//! dialled connection fails [`TlsTransport::connect`] immediately, naming the party; a refused
//! incoming connection is remembered and reported if the mesh is still incomplete at the
//! deadline, so a stray connection cannot abort the set-up by itself.
//!
//! The same listener accepts clients: a connection whose certificate names a client is
//! acknowledged and queued for [`TlsTransport::accept_client`] (also after the mesh is up). A
//! client opens a [`ClientLink`] to one party at a time.
//!
//! # Framing and threads
//!
//! A message is a frame: its length as a little-endian `u32`, then the bytes; a frame longer
//! than [`MAX_MESSAGE`](crate::transport::MAX_MESSAGE) is refused as [`MpcError::Malformed`]
//! and ends the connection. Each connection (party link or client link) has a writer thread fed
//! by an unbounded channel (so `send` never blocks, even when both ends send large messages at
//! once) and a reader thread that decodes frames into a channel (so `recv` waits on it with the
//! timeout: [`MpcError::Timeout`], or [`MpcError::Disconnected`] once the connection is closed
//! or failed). The rustls connection state sits behind a mutex that neither thread holds while
//! blocked on the socket: the reader reads ciphertext unlocked, then locks to decrypt; the
//! writer locks to encrypt a chunk, then writes it unlocked. Only the writer writes to the
//! socket (the reader asks it to flush TLS messages such as alerts and key updates).
//! TCP_NODELAY is set. Dropping a transport or link sends `close_notify` after the queued
//! messages, waiting for them at most [`MAX_LINGER`] (one deadline for all the links of a
//! transport, so a stalled peer cannot hold a party that has decided to stop), then closes the
//! socket.
//!
//! A lost connection is not re-established: the computation fails and is restarted.
//!
//! # Modules
//!
//! `names` (participant names), `identity` (key files and loaded identities), `config`
//! ([`PartyConfig`], [`ClientLinkConfig`]), `framing`, `link` (one connection's threads),
//! `handshake` (handshake and verdict frames), `dial` and `listener` (the two ends of a set-up),
//! `mesh` ([`TlsTransport`]), `client` ([`ClientLink`]).
//!
//! [`MpcError::Tls`]: crate::MpcError::Tls
//! [`MpcError::Malformed`]: crate::MpcError::Malformed
//! [`MpcError::Timeout`]: crate::MpcError::Timeout
//! [`MpcError::Disconnected`]: crate::MpcError::Disconnected
//! [`TlsStep`]: crate::error::TlsStep
//! [`TlsStep::Closed`]: crate::error::TlsStep::Closed
//! [`TlsStep::PeerRefused`]: crate::error::TlsStep::PeerRefused
//! [`Refusal`]: crate::error::Refusal
//! [`Refusal::AlreadyConnected`]: crate::error::Refusal::AlreadyConnected

mod client;
mod config;
mod dial;
pub(crate) mod framing;
pub(crate) mod handshake;
pub(crate) mod identity;
mod link;
mod listener;
mod mesh;
pub(crate) mod names;

pub use client::{ClientLink, close_clients};
pub use config::{CONFIG_VERSION, ClientLinkConfig, PartyConfig};
pub use link::MAX_LINGER;
pub use mesh::TlsTransport;
pub use names::party_name;

#[cfg(test)]
mod test_support;
