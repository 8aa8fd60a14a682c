//! The parties' session layer over their mesh: agreement on a session, frames tagged with it,
//! pings between sessions, and the abort handshake that leaves the mesh clean (see
//! [`super::session`] for the identifier and the frames).

use std::collections::VecDeque;
use std::thread;
use std::time::{Duration, Instant};

use rand::RngCore;

use super::session::{MeshMsg, POLL, SessionId, View};
use crate::error::{MpcError, Peer, Result};
use crate::transport::tls::party_name;
use crate::transport::{PARTIES, PartyId, Transport};

/// An abort a peer sent (and this party acknowledged).
#[derive(Debug, Clone)]
pub struct PeerAbort {
    /// The party that aborted.
    pub peer: PartyId,
    /// The joins it dropped.
    pub view: View,
    /// Why.
    pub reason: String,
}

/// How often a party waiting for clients tells its peers it is alive.
const PING_EVERY: Duration = Duration::from_millis(500);

/// A party's session layer over its mesh (see the module docs).
pub struct SessionMesh<T: Transport> {
    net: T,
    hellos: [Option<View>; PARTIES],
    /// Frames read ahead (looking for an abort while a session waits on a client), in order.
    ahead: [VecDeque<MeshMsg>; PARTIES],
    /// Peers whose abort of the current attempt this party acknowledged: that link is clean
    /// already, so this party's own abort skips them.
    acked: [bool; PARTIES],
    /// When each peer was last heard from, and when this party last pinged.
    heard: [Instant; PARTIES],
    pinged: Instant,
    /// A peer silent this long while this party waits for clients is taken for gone.
    silence: Duration,
}

impl<T: Transport> SessionMesh<T> {
    /// Wraps a freshly built mesh; a peer silent for `silence` between sessions is gone.
    pub fn new(net: T, silence: Duration) -> Self {
        let now = Instant::now();
        SessionMesh {
            net,
            hellos: Default::default(),
            ahead: Default::default(),
            acked: [false; PARTIES],
            heard: [now; PARTIES],
            pinged: now,
            silence,
        }
    }

    /// Counts every peer as heard from now (when this party comes back from a session, in
    /// which nobody pings).
    pub fn touch(&mut self) {
        self.heard = [Instant::now(); PARTIES];
    }

    /// The transport underneath, given back.
    pub fn into_inner(self) -> T {
        self.net
    }

    /// The transport underneath.
    pub fn net(&self) -> &T {
        &self.net
    }

    fn me(&self) -> PartyId {
        self.net.me()
    }

    fn peers(&self) -> impl Iterator<Item = PartyId> + use<T> {
        let me = self.me();
        (0..PARTIES).filter(move |&j| j != me)
    }

    fn send_msg(&mut self, to: PartyId, m: &MeshMsg) -> Result<()> {
        self.net.send(to, m.encode())
    }

    /// The view peer `from` proposed, if it has (see [`Self::agree`]).
    pub fn hello_from(&self, from: PartyId) -> Option<&View> {
        self.hellos[from].as_ref()
    }

    fn try_next(&mut self, from: PartyId) -> Result<Option<MeshMsg>> {
        if let Some(m) = self.ahead[from].pop_front() {
            return Ok(Some(m));
        }
        match self.net.try_recv(from)? {
            Some(bytes) => {
                self.heard[from] = Instant::now();
                MeshMsg::decode(bytes, &Peer::Party(from)).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Answers an abort and forgets `from`'s hello (it belonged to what was aborted).
    fn acknowledge(
        &mut self,
        from: PartyId,
        nonce: [u8; 16],
        view: View,
        reason: String,
    ) -> Result<PeerAbort> {
        self.send_msg(from, &MeshMsg::AbortAck { nonce })?;
        self.hellos[from] = None;
        Ok(PeerAbort {
            peer: from,
            view,
            reason,
        })
    }

    /// Reads what the peers have sent, without waiting: hellos are kept for [`Self::agree`],
    /// aborts acknowledged and returned (so the caller drops those joins), stale data of dead
    /// sessions dropped. Pings the peers now and then; a peer silent for the mesh's silence
    /// limit is [`MpcError::Timeout`] (stopped or wedged: the caller rebuilds the mesh).
    pub fn poll(&mut self) -> Result<Vec<PeerAbort>> {
        self.keepalive()?;
        let mut aborts = Vec::new();
        for j in self.peers() {
            while let Some(m) = self.try_next(j)? {
                match m {
                    MeshMsg::Hello(v) => self.hellos[j] = Some(v),
                    MeshMsg::Abort {
                        nonce,
                        view,
                        reason,
                    } => aborts.push(self.acknowledge(j, nonce, view, reason)?),
                    MeshMsg::Data { .. } | MeshMsg::AbortAck { .. } | MeshMsg::Ping => {}
                }
            }
            self.check_heard(j)?;
        }
        Ok(aborts)
    }

    /// While a session waits on a client: reads ahead what the peers sent (kept, in order, for
    /// the session) and acts on an abort among it at once ([`MpcError::Aborted`], already
    /// acknowledged; what the peer sent before it is dropped).
    pub(crate) fn check_aborted(&mut self) -> Result<()> {
        for j in self.peers() {
            while let Some(bytes) = self.net.try_recv(j)? {
                self.heard[j] = Instant::now();
                let m = MeshMsg::decode(bytes, &Peer::Party(j))?;
                self.ahead[j].push_back(m);
            }
            let found = self.ahead[j]
                .iter()
                .position(|m| matches!(m, MeshMsg::Abort { .. }));
            // What the peer sent before its abort belonged to the aborted session.
            if let Some(MeshMsg::Abort {
                nonce,
                view,
                reason,
            }) = found.and_then(|p| self.ahead[j].drain(..=p).next_back())
            {
                let a = self.acknowledge(j, nonce, view, reason)?;
                self.acked[j] = true;
                return Err(MpcError::Aborted {
                    peer: Peer::Party(a.peer),
                    reason: a.reason,
                });
            }
        }
        Ok(())
    }

    /// Pings the peers if it is time to (also while a session waits on a client).
    pub(crate) fn keepalive(&mut self) -> Result<()> {
        if self.pinged.elapsed() >= PING_EVERY {
            for j in self.peers() {
                self.send_msg(j, &MeshMsg::Ping)?;
            }
            self.pinged = Instant::now();
        }
        Ok(())
    }

    /// A peer silent for longer than the silence limit is [`MpcError::Timeout`].
    fn check_heard(&self, j: PartyId) -> Result<()> {
        if self.heard[j].elapsed() > self.silence {
            return Err(MpcError::Timeout {
                peer: Peer::Party(j),
                secs: self.silence.as_secs().max(1),
            });
        }
        Ok(())
    }

    /// Sends this party's view to both peers and waits (until `deadline`) for theirs; returns
    /// the session identifier when all three views are equal. `idle` runs between polls (the
    /// caller watches its clients there) and may end the wait with its error.
    ///
    /// Errors: [`MpcError::SessionMismatch`] naming the peer and what differs, or the peer that
    /// did not confirm in time; [`MpcError::Aborted`] when a peer aborted meanwhile (already
    /// acknowledged).
    pub fn agree(
        &mut self,
        view: &View,
        deadline: Instant,
        mut idle: impl FnMut() -> Result<()>,
    ) -> Result<SessionId> {
        self.acked = [false; PARTIES];
        for j in self.peers() {
            self.send_msg(j, &MeshMsg::Hello(view.clone()))?;
        }
        loop {
            self.keepalive()?;
            for j in self.peers() {
                while self.hellos[j].is_none() {
                    match self.try_next(j)? {
                        None => break,
                        Some(MeshMsg::Hello(v)) => self.hellos[j] = Some(v),
                        Some(MeshMsg::Abort {
                            nonce,
                            view: aborted,
                            reason,
                        }) if aborted != *view => {
                            // A late abort of an earlier session: answer it, and propose again
                            // to that peer (it discarded this party's hello while it waited).
                            self.acknowledge(j, nonce, aborted, reason)?;
                            self.send_msg(j, &MeshMsg::Hello(view.clone()))?;
                        }
                        Some(MeshMsg::Abort {
                            nonce,
                            view,
                            reason,
                        }) => {
                            let a = self.acknowledge(j, nonce, view, reason)?;
                            self.acked[j] = true;
                            return Err(MpcError::Aborted {
                                peer: Peer::Party(a.peer),
                                reason: a.reason,
                            });
                        }
                        Some(MeshMsg::Data { .. } | MeshMsg::AbortAck { .. } | MeshMsg::Ping) => {}
                    }
                }
            }
            let peers: Vec<PartyId> = self.peers().collect();
            for &j in &peers {
                if self.hellos[j].is_none() {
                    self.check_heard(j)?;
                }
            }
            if peers.iter().all(|&j| self.hellos[j].is_some()) {
                let mut mismatch = Vec::new();
                for j in peers {
                    let theirs = self.hellos[j].take().expect("present");
                    if theirs != *view {
                        mismatch.push((j, view.differences(&theirs, &party_name(j))));
                    }
                }
                return match mismatch.first() {
                    None => Ok(view.id()),
                    Some((j, _)) => Err(MpcError::SessionMismatch {
                        peer: Peer::Party(*j),
                        reason: mismatch
                            .iter()
                            .map(|(_, d)| d.as_str())
                            .collect::<Vec<_>>()
                            .join("; "),
                    }),
                };
            }
            if Instant::now() >= deadline {
                let late: Vec<PartyId> =
                    self.peers().filter(|&j| self.hellos[j].is_none()).collect();
                return Err(MpcError::SessionMismatch {
                    peer: Peer::Parties(late),
                    reason: "did not confirm the session in time (it has not seen every \
                             participant's join)"
                        .into(),
                });
            }
            if let Err(e) = idle() {
                // Say which party held the session up: often why the client gave up.
                let late: Vec<String> = self
                    .peers()
                    .filter(|&j| self.hellos[j].is_none())
                    .map(party_name)
                    .collect();
                return Err(match e {
                    MpcError::Disconnected { peer, reason } if !late.is_empty() => {
                        MpcError::Disconnected {
                            peer,
                            reason: format!(
                                "{reason} ({} had not confirmed the session yet)",
                                late.join(", ")
                            ),
                        }
                    }
                    e => e,
                });
            }
            thread::sleep(POLL);
        }
    }

    /// The transport for one agreed session: frames tagged with `id`.
    pub fn session(&mut self, id: SessionId) -> SessionNet<'_, T> {
        SessionNet { mesh: self, id }
    }

    /// Fails the current session (or attempt) at the peers and resynchronises the mesh: sends
    /// `Abort` to each peer (except one whose abort of this attempt this party already
    /// acknowledged: that link is clean) and discards what they send until each acknowledges,
    /// answering their aborts meanwhile. Returns the peers' aborts seen on the way. An error (a
    /// peer gone, or silent for `wait`) means the mesh cannot be trusted to be in step: rebuild
    /// it.
    pub fn abort(&mut self, view: &View, reason: &str, wait: Duration) -> Result<Vec<PeerAbort>> {
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let msg = MeshMsg::Abort {
            nonce,
            view: view.clone(),
            reason: reason.to_string(),
        };
        let targets: Vec<PartyId> = self.peers().filter(|&j| !self.acked[j]).collect();
        self.acked = [false; PARTIES];
        for &j in &targets {
            self.send_msg(j, &msg)?;
        }
        self.hellos = Default::default();
        let deadline = Instant::now() + wait;
        let mut seen = Vec::new();
        for j in targets {
            loop {
                match self.try_next(j)? {
                    Some(MeshMsg::AbortAck { nonce: n }) if n == nonce => break,
                    Some(MeshMsg::Abort {
                        nonce: n,
                        view,
                        reason,
                    }) => seen.push(self.acknowledge(j, n, view, reason)?),
                    Some(_) => {}
                    None if Instant::now() >= deadline => {
                        return Err(MpcError::Timeout {
                            peer: Peer::Party(j),
                            secs: wait.as_secs().max(1),
                        });
                    }
                    None => thread::sleep(POLL),
                }
            }
        }
        Ok(seen)
    }

    /// Sends `Abort` to both peers without waiting for them (before the mesh is dropped).
    pub fn abort_and_leave(&mut self, view: &View, reason: &str) {
        let msg = MeshMsg::Abort {
            nonce: [0u8; 16],
            view: view.clone(),
            reason: reason.to_string(),
        };
        for j in self.peers() {
            let _ = self.send_msg(j, &msg);
        }
    }
}

/// The mesh as one session's [`Transport`]: frames are tagged with the session identifier; a
/// frame of another session is refused ([`MpcError::SessionMismatch`]), a peer's abort ends
/// the wait ([`MpcError::Aborted`], already acknowledged).
pub struct SessionNet<'a, T: Transport> {
    mesh: &'a mut SessionMesh<T>,
    id: SessionId,
}

impl<T: Transport> SessionNet<'_, T> {
    /// The session.
    pub fn id(&self) -> SessionId {
        self.id
    }

    fn accept(&mut self, from: PartyId, m: MeshMsg) -> Result<Option<Vec<u8>>> {
        match m {
            MeshMsg::Data { session, body } if session == self.id => Ok(Some(body)),
            MeshMsg::Data { session, .. } => Err(MpcError::SessionMismatch {
                peer: Peer::Party(from),
                reason: format!(
                    "a message of session {session} arrived during session {}",
                    self.id
                ),
            }),
            MeshMsg::Abort {
                nonce,
                view,
                reason,
            } => {
                let a = self.mesh.acknowledge(from, nonce, view, reason)?;
                self.mesh.acked[from] = true;
                Err(MpcError::Aborted {
                    peer: Peer::Party(a.peer),
                    reason: a.reason,
                })
            }
            MeshMsg::Hello(_) => Err(MpcError::SessionMismatch {
                peer: Peer::Party(from),
                reason: format!("started another session during session {}", self.id),
            }),
            MeshMsg::AbortAck { .. } | MeshMsg::Ping => Ok(None),
        }
    }
}

impl<T: Transport> Transport for SessionNet<'_, T> {
    fn me(&self) -> PartyId {
        self.mesh.me()
    }

    fn send(&mut self, to: PartyId, payload: Vec<u8>) -> Result<()> {
        let id = self.id;
        self.mesh.send_msg(
            to,
            &MeshMsg::Data {
                session: id,
                body: payload,
            },
        )
    }

    fn recv(&mut self, from: PartyId) -> Result<Vec<u8>> {
        loop {
            let m = match self.mesh.ahead[from].pop_front() {
                Some(m) => m,
                None => MeshMsg::decode(self.mesh.net.recv(from)?, &Peer::Party(from))?,
            };
            if let Some(body) = self.accept(from, m)? {
                return Ok(body);
            }
        }
    }

    fn try_recv(&mut self, from: PartyId) -> Result<Option<Vec<u8>>> {
        while let Some(m) = self.mesh.try_next(from)? {
            if let Some(body) = self.accept(from, m)? {
                return Ok(Some(body));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
