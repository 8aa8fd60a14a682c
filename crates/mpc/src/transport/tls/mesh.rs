//! The mesh: [`TlsTransport`], one party's end of the three authenticated links (it dials the
//! lower-numbered parties and accepts the higher-numbered ones), plus the clients that reach
//! its listener.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::client::ClientLink;
use super::config::PartyConfig;
use super::dial::dial;
use super::identity::Identity;
use super::link::{Link, MAX_LINGER, secs_ceil};
use super::listener::{Event, ListenerState, StopOnDrop, accept_loop};
use super::names::party_name;
use crate::error::{MpcError, Peer, Result};
use crate::transport::{PARTIES, PartyId, Transport};

/// One party's end of the TLS mesh (see the module docs of [`super`] for the convention).
pub struct TlsTransport {
    me: PartyId,
    links: Vec<Option<Link>>,
    clients: Receiver<Result<ClientLink>>,
    local_addr: SocketAddr,
    listener: StopOnDrop,
}

impl TlsTransport {
    /// Binds `parties[id]`, dials the lower-numbered parties and accepts the higher-numbered
    /// ones, all authenticated; returns once the mesh is complete, or fails at the first
    /// certificate error on a dialled connection, or at the connect deadline.
    pub fn connect(config: &PartyConfig) -> Result<TlsTransport> {
        let identity = config.load_identity()?;
        Self::connect_with(config, &identity)
    }

    /// [`TlsTransport::connect`] with an identity already loaded (tests load one that does
    /// not match the configuration).
    pub(super) fn connect_with(config: &PartyConfig, identity: &Identity) -> Result<TlsTransport> {
        let me = config.id;
        let timeout = config.timeout();
        let deadline = Instant::now() + Duration::from_secs(config.connect_timeout_secs);
        let server_tls = identity.server_config()?;
        let client_tls = identity.client_config()?;
        let own = &config.parties[me];
        let listener = TcpListener::bind(own.as_str())
            .map_err(|e| MpcError::Config(format!("cannot listen on {own}: {e}")))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| MpcError::Config(format!("listening on {own}: {e}")))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| MpcError::Config(format!("listening on {own}: {e}")))?;
        let (events, event_rx) = channel();
        let (clients_tx, clients) = channel();
        let state = Arc::new(ListenerState {
            me,
            tls: server_tls,
            timeout,
            claimed: Mutex::new([false; PARTIES]),
            complete: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            events: events.clone(),
            clients: clients_tx,
        });
        let s = state.clone();
        let accept = thread::Builder::new()
            .name(format!("mpc-tls-listen-{}", party_name(me)))
            .spawn(move || accept_loop(&listener, &s))
            .map_err(|e| MpcError::Config(format!("cannot start the listener thread: {e}")))?;
        let guard = StopOnDrop(state.clone(), Some(accept));
        for to in 0..me {
            let (addr, tls, ev, s) = (
                config.parties[to].clone(),
                client_tls.clone(),
                events.clone(),
                state.clone(),
            );
            thread::Builder::new()
                .name(format!("mpc-tls-dial-{}", party_name(to)))
                .spawn(move || {
                    let event = match dial(&addr, to, &tls, deadline, timeout, &s.stop) {
                        Ok(link) => Event::Peer(to, link),
                        Err(e) => Event::Failed(e),
                    };
                    let _ = ev.send(event);
                })
                .map_err(|e| MpcError::Config(format!("cannot start a dialling thread: {e}")))?;
        }
        drop(events);

        let mut links: Vec<Option<Link>> = (0..PARTIES).map(|_| None).collect();
        let mut refused: Option<MpcError> = None;
        let missing = |links: &[Option<Link>]| -> Vec<PartyId> {
            (0..PARTIES)
                .filter(|&k| k != me && links[k].is_none())
                .collect()
        };
        while !missing(&links).is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match event_rx.recv_timeout(left) {
                Ok(Event::Peer(k, link)) => links[k] = Some(link),
                Ok(Event::Failed(e)) => return Err(e),
                Ok(Event::Refused(e)) => refused = Some(e),
                Err(_) => {
                    let waiting = missing(&links);
                    return Err(match refused {
                        Some(MpcError::Tls { peer, step, reason }) => MpcError::Tls {
                            peer: Peer::Waiting {
                                parties: waiting,
                                refused: Box::new(peer),
                            },
                            step,
                            reason,
                        },
                        Some(other) => other,
                        None => MpcError::Timeout {
                            peer: Peer::Parties(waiting),
                            secs: config.connect_timeout_secs,
                        },
                    });
                }
            }
        }
        state.complete.store(true, Ordering::Release);
        Ok(TlsTransport {
            me,
            links,
            clients,
            local_addr,
            listener: guard,
        })
    }

    /// The address this party's listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Changes the receive timeout on every party link (e.g. a longer one for a slow step).
    pub fn set_timeout(&mut self, timeout: Duration) {
        for link in self.links.iter_mut().flatten() {
            link.timeout = timeout;
        }
    }

    /// The next client (data holder, query driver) that connected to this party's listener,
    /// authenticated and acknowledged, waiting at most `timeout` ([`MpcError::Timeout`]). An
    /// incoming connection refused after the mesh was set up is returned as its error
    /// ([`MpcError::Tls`] with [`crate::error::TlsStep::Refused`], or the handshake's step);
    /// call again for the next client.
    pub fn accept_client(&self, timeout: Duration) -> Result<ClientLink> {
        match self.clients.recv_timeout(timeout) {
            Ok(client) => client,
            Err(RecvTimeoutError::Timeout) => Err(MpcError::Timeout {
                peer: Peer::Other("client".into()),
                secs: secs_ceil(timeout),
            }),
            Err(RecvTimeoutError::Disconnected) => Err(MpcError::Disconnected {
                peer: Peer::Other("client".into()),
                reason: "listener stopped".into(),
            }),
        }
    }

    /// The link to party `p`.
    pub(super) fn link(&self, p: PartyId) -> Result<&Link> {
        self.links
            .get(p)
            .and_then(Option::as_ref)
            .ok_or_else(|| MpcError::Config(format!("party {} has no link to party {p}", self.me)))
    }

    /// Cuts every party link without `close_notify`, as if the process had been killed.
    #[cfg(test)]
    pub(super) fn sever(&self) {
        for link in self.links.iter().flatten() {
            link.sever();
        }
    }
}

impl Drop for TlsTransport {
    fn drop(&mut self) {
        self.listener.0.stop.store(true, Ordering::Release);
        // Every link starts closing now; then all writers get one shared deadline.
        for link in self.links.iter().flatten() {
            link.begin_close();
        }
        let deadline = Instant::now() + MAX_LINGER;
        for link in self.links.iter_mut().flatten() {
            link.finish(deadline);
        }
    }
}

impl Transport for TlsTransport {
    fn me(&self) -> PartyId {
        self.me
    }

    fn send(&mut self, to: PartyId, payload: Vec<u8>) -> Result<()> {
        self.link(to)?.send(payload)
    }

    fn recv(&mut self, from: PartyId) -> Result<Vec<u8>> {
        self.link(from)?.recv()
    }

    fn try_recv(&mut self, from: PartyId) -> Result<Option<Vec<u8>>> {
        self.link(from)?.try_recv()
    }
}

#[cfg(test)]
#[path = "mesh_tests.rs"]
mod tests;
