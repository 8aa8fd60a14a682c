//! The listener: accepts connections (parties that dial this one, and clients), runs the
//! handshake, identifies the peer, admits or refuses it (telling it why), and hands the link
//! to the mesh set-up or to the client queue.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rustls::{Connection, ServerConnection};

use super::client::ClientLink;
use super::handshake::{ACK_OK, handshake, prepare_socket, refusal_frame};
use super::link::Link;
use super::names::{BadIdentity, PeerId, identity_of, party_name};
use crate::error::{IdentityFault, MpcError, Peer, Refusal, Result, TlsStep};
use crate::transport::{PARTIES, PartyId};

/// Pause between polls of the non-blocking listener.
const ACCEPT_POLL: Duration = Duration::from_millis(10);

/// What the set-up loop of [`super::TlsTransport::connect`] hears.
pub(super) enum Event {
    /// An authenticated, acknowledged link to a party.
    Peer(PartyId, Link),
    /// Dialling a party failed: the set-up fails.
    Failed(MpcError),
    /// An incoming connection was refused: reported if the mesh stays incomplete.
    Refused(MpcError),
}

/// State shared by the listener's threads.
pub(super) struct ListenerState {
    /// This party.
    pub(super) me: PartyId,
    /// The server side's TLS configuration.
    pub(super) tls: Arc<rustls::ServerConfig>,
    /// Receive timeout of accepted links.
    pub(super) timeout: Duration,
    /// Which parties are connected (admitted once each).
    pub(super) claimed: Mutex<[bool; PARTIES]>,
    /// The mesh is up: refusals go to the client queue from now on.
    pub(super) complete: AtomicBool,
    /// Stop accepting (the transport is dropped, or the set-up abandoned).
    pub(super) stop: AtomicBool,
    /// Parties' links and refusals during the set-up.
    pub(super) events: Sender<Event>,
    /// Clients' links, and refusals after the set-up.
    pub(super) clients: Sender<Result<ClientLink>>,
}

/// An accepted connection.
enum Accepted {
    Party(PartyId, Link),
    Client(Link),
}

/// Accepts connections until `stop`, serving each on its own thread.
pub(super) fn accept_loop(listener: &TcpListener, state: &Arc<ListenerState>) {
    while !state.stop.load(Ordering::Acquire) {
        match listener.accept() {
            Ok((sock, addr)) => {
                let s = state.clone();
                let _ = thread::Builder::new()
                    .name("mpc-tls-accept".into())
                    .spawn(move || serve_incoming(sock, addr, &s));
            }
            // WouldBlock: nothing pending; other errors (e.g. out of descriptors): back off.
            Err(_) => thread::sleep(ACCEPT_POLL),
        }
    }
}

fn serve_incoming(sock: TcpStream, addr: SocketAddr, state: &ListenerState) {
    match accept_peer(sock, addr, state) {
        Ok(Accepted::Party(k, link)) => {
            let _ = state.events.send(Event::Peer(k, link));
        }
        Ok(Accepted::Client(link)) => {
            let _ = state.clients.send(Ok(ClientLink { link }));
        }
        Err(e) => {
            if state.complete.load(Ordering::Acquire) {
                let _ = state.clients.send(Err(e));
            } else {
                let _ = state.events.send(Event::Refused(e));
            }
        }
    }
}

/// Handshake, identify and acknowledge (or refuse) one incoming connection.
fn accept_peer(mut sock: TcpStream, addr: SocketAddr, state: &ListenerState) -> Result<Accepted> {
    let unverified = Peer::Other(format!("unverified peer at {addr}"));
    prepare_socket(&sock, &unverified)?;
    let mut conn = ServerConnection::new(state.tls.clone()).map_err(|e| MpcError::Tls {
        peer: unverified.clone(),
        step: TlsStep::Setup,
        reason: e.to_string(),
    })?;
    handshake(&mut conn, &mut sock, &unverified)?;
    let id = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .ok_or_else(|| BadIdentity::new(IdentityFault::Absent, "no client certificate"))
        .and_then(|der| identity_of(der));
    let label = match &id {
        Ok(id) => id.peer(),
        Err(_) => Peer::Other(format!("peer at {addr}")),
    };
    let verdict = id
        .map_err(|bad| (Refusal::Identity(bad.fault), bad.detail))
        .and_then(|id| admit(&id, state).map(|()| id));
    // Refusals go out on the link too, so the dialler learns why at once.
    let link = Link::start(Connection::Server(conn), sock, label.clone(), state.timeout)?;
    match verdict {
        Ok(id) => {
            link.send(ACK_OK.to_vec())?;
            Ok(match id {
                PeerId::Party(k) => Accepted::Party(k, link),
                PeerId::Client(_) => Accepted::Client(link),
            })
        }
        Err((refusal, reason)) => {
            let _ = link.send(refusal_frame(refusal, &reason));
            Err(MpcError::Tls {
                peer: Peer::Other(format!("{label} at {addr}")),
                step: TlsStep::Refused(refusal),
                reason: format!("refused: {reason}"),
            })
        }
    }
}

/// Whether the listener takes a verified peer: any client; a party only if it is one that
/// dials us (a higher id) and is not connected yet (then its slot is taken).
fn admit(id: &PeerId, state: &ListenerState) -> std::result::Result<(), (Refusal, String)> {
    let me = state.me;
    let PeerId::Party(k) = *id else {
        return Ok(());
    };
    let mut claimed = state
        .claimed
        .lock()
        .map_err(|_| (Refusal::Internal, "listener state poisoned".to_owned()))?;
    if k == me {
        Err((
            Refusal::OwnCertificate,
            format!("presents this party's own certificate ({})", id.name()),
        ))
    } else if k < me {
        Err((
            Refusal::WrongDirection,
            format!(
                "{} must wait for {} to connect (the higher id dials)",
                id.name(),
                party_name(me)
            ),
        ))
    } else if claimed[k] {
        Err((
            Refusal::AlreadyConnected,
            format!("{} is already connected", id.name()),
        ))
    } else {
        claimed[k] = true;
        Ok(())
    }
}

/// Stops the listener threads when dropped, and waits for the accept loop to release the
/// listening socket (so the next mesh can bind the same address at once).
pub(super) struct StopOnDrop(
    pub(super) Arc<ListenerState>,
    pub(super) Option<thread::JoinHandle<()>>,
);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::Release);
        if let Some(h) = self.1.take() {
            // The loop polls `stop` every ACCEPT_POLL; a panic there has nothing left to free.
            let _ = h.join();
        }
    }
}
