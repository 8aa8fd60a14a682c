//! Sessions between the three parties: the identifier every participant agrees on before any
//! share moves, and the parties' session layer over their mesh.
//!
//! # The identifier
//! Every client joins with a fresh random nonce. A party's [`View`] of a session is the query
//! digest and the nonce of every participant's join; the [`SessionId`] is SHA-256 over a domain
//! label and the view's canonical bytes. Three parties that saw the same joins derive the same
//! identifier; a join from another run of a client (another nonce), another query or another
//! holder set gives another one.
//!
//! # Frames on the mesh
//! The mesh outlives sessions, so every frame says what it is ([`MeshMsg`]): data of one session
//! (tagged with its identifier, so a share of another session is refused by construction, in
//! both security modes), a party's view ([`MeshMsg::Hello`]) when its joins are complete — party
//! 0 proposes, the others follow once they hold every join it names, so two sessions completing
//! at once cannot cross — pings between sessions, and the abort handshake. A party that fails a session sends `Abort(n)` to both peers and discards
//! whatever they send until each answers `AbortAck(n)`; every party answers an `Abort` at once,
//! in any phase. TCP keeps each direction in order, so when both acknowledgements are in, every
//! stale frame of the dead session (in both directions) has been read and dropped: the next
//! session starts on a clean mesh, on its first try.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::thread;
use std::time::{Duration, Instant};

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{MpcError, Result};
use crate::transport::tls::party_name;
use crate::transport::{PARTIES, PartyId, Transport};

/// A client's fresh join nonce.
pub type Nonce = [u8; 32];

/// Pause between polls of the mesh and the client links while waiting.
pub(crate) const POLL: Duration = Duration::from_millis(2);

/// Longest explanation carried by an abort (bytes); longer ones are cut.
const MAX_REASON: usize = 4096;
/// Most joins one view may list.
const MAX_JOINS: usize = 512;

/// Identifies one session: SHA-256 over the query digest and every participant's join nonce.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(pub [u8; 32]);

impl SessionId {
    /// The identifier's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex of all 32 bytes (the form in control messages).
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// Parses [`SessionId::to_hex`]'s form.
    pub fn from_hex(s: &str) -> Option<SessionId> {
        parse_hex32(s).map(SessionId)
    }
}

impl fmt::Display for SessionId {
    /// The first 8 bytes in hex (what logs show).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0[..8]))
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 64 hex digits to 32 bytes.
pub(crate) fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// What one party saw of a session before it started: the query (its digest) and the nonce of
/// every participant's join, by client name.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct View {
    /// [`super::QuerySpec::digest`] of the query every participant joined with.
    pub query: [u8; 32],
    /// Each participant's join nonce.
    pub joins: BTreeMap<String, Nonce>,
}

impl View {
    /// The session identifier this view determines.
    pub fn id(&self) -> SessionId {
        let mut h = Sha256::new();
        h.update(b"trustspace-mpc/session/v2\0");
        h.update(self.encode());
        SessionId(h.finalize().into())
    }

    /// Canonical bytes: the query digest, the join count (u16 LE), then per join in name order
    /// its name's length (u8), the name and the nonce.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(34 + self.joins.len() * 96);
        out.extend_from_slice(&self.query);
        out.extend_from_slice(&(self.joins.len() as u16).to_le_bytes());
        for (name, nonce) in &self.joins {
            out.push(name.len() as u8);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(nonce);
        }
        out
    }

    /// Decodes [`View::encode`]'s form, refusing anything not canonical (unsorted or repeated
    /// names, names that are not client names, trailing bytes).
    pub fn decode(bytes: &[u8], peer: &str) -> Result<View> {
        let bad = |reason: &str| MpcError::Malformed {
            peer: peer.to_string(),
            reason: format!("session view: {reason}"),
        };
        let mut r = Reader(bytes);
        let query: [u8; 32] = r
            .take(32)
            .ok_or_else(|| bad("short"))?
            .try_into()
            .expect("32");
        let count = u16::from_le_bytes(
            r.take(2)
                .ok_or_else(|| bad("short"))?
                .try_into()
                .expect("2"),
        ) as usize;
        if count > MAX_JOINS {
            return Err(bad("too many joins"));
        }
        let mut joins = BTreeMap::new();
        let mut last: Option<String> = None;
        for _ in 0..count {
            let len = r.take(1).ok_or_else(|| bad("short"))?[0] as usize;
            let name = r.take(len).ok_or_else(|| bad("short"))?;
            let name = std::str::from_utf8(name)
                .ok()
                .filter(|n| is_client_name(n))
                .ok_or_else(|| bad("a name that is not a client name"))?
                .to_string();
            if last.as_ref().is_some_and(|l| *l >= name) {
                return Err(bad("names not in canonical order"));
            }
            let nonce: Nonce = r
                .take(32)
                .ok_or_else(|| bad("short"))?
                .try_into()
                .expect("32");
            last = Some(name.clone());
            joins.insert(name, nonce);
        }
        if !r.0.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(View { query, joins })
    }

    /// How `theirs` differs from this view, in words (for the error both sides report).
    pub fn differences(&self, theirs: &View, them: &str) -> String {
        if self.query != theirs.query {
            return format!("{them} has joins for a different query");
        }
        let mut parts = Vec::new();
        for (name, nonce) in &self.joins {
            match theirs.joins.get(name) {
                None => parts.push(format!("{them} has no join from {name}")),
                Some(n) if n != nonce => parts.push(format!(
                    "{them} has a join from another run of {name} (nonce {} where this party has {})",
                    hex(&n[..4]),
                    hex(&nonce[..4])
                )),
                Some(_) => {}
            }
        }
        for name in theirs.joins.keys().filter(|n| !self.joins.contains_key(*n)) {
            parts.push(format!(
                "{them} has a join from {name} that this party has not"
            ));
        }
        if parts.is_empty() {
            "identical views".into()
        } else {
            parts.join("; ")
        }
    }
}

/// The syntax of a client name (as the transport admits them).
fn is_client_name(n: &str) -> bool {
    (1..=63).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !n.starts_with("party-")
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
}

/// One frame on the parties' mesh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeshMsg {
    /// A protocol message of one session.
    Data {
        /// The session it belongs to.
        session: SessionId,
        /// The engine's message.
        body: Vec<u8>,
    },
    /// The sender's joins are complete: its view of the session.
    Hello(View),
    /// The sender failed a session (or the attempt at one); `view` names the joins it dropped.
    Abort {
        /// Echoed by the acknowledgement.
        nonce: [u8; 16],
        /// The joins of the failed session (empty when there was none yet).
        view: View,
        /// Why.
        reason: String,
    },
    /// Every frame sent before this one answered the abort with this nonce.
    AbortAck {
        /// The abort's nonce.
        nonce: [u8; 16],
    },
    /// Sent while waiting for clients, so a stopped or wedged peer is noticed.
    Ping,
}

const DATA: u8 = 1;
const HELLO: u8 = 2;
const ABORT: u8 = 3;
const ABORT_ACK: u8 = 4;
const PING: u8 = 5;

impl MeshMsg {
    /// The frame's bytes: a kind byte, then the fields (see the variants).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            MeshMsg::Data { session, body } => {
                let mut out = Vec::with_capacity(33 + body.len());
                out.push(DATA);
                out.extend_from_slice(&session.0);
                out.extend_from_slice(body);
                out
            }
            MeshMsg::Hello(view) => {
                let mut out = vec![HELLO];
                out.extend(view.encode());
                out
            }
            MeshMsg::Abort {
                nonce,
                view,
                reason,
            } => {
                let v = view.encode();
                let mut out = vec![ABORT];
                out.extend_from_slice(nonce);
                out.extend_from_slice(&(v.len() as u32).to_le_bytes());
                out.extend(v);
                out.extend_from_slice(cut(reason, MAX_REASON).as_bytes());
                out
            }
            MeshMsg::AbortAck { nonce } => {
                let mut out = vec![ABORT_ACK];
                out.extend_from_slice(nonce);
                out
            }
            MeshMsg::Ping => vec![PING],
        }
    }

    /// Decodes a frame from `peer`, refusing unknown kinds and malformed fields.
    pub fn decode(mut bytes: Vec<u8>, peer: &str) -> Result<MeshMsg> {
        let bad = |reason: &str| MpcError::Malformed {
            peer: peer.to_string(),
            reason: format!("mesh frame: {reason}"),
        };
        let Some(&kind) = bytes.first() else {
            return Err(bad("empty"));
        };
        match kind {
            DATA => {
                if bytes.len() < 33 {
                    return Err(bad("data frame shorter than its session tag"));
                }
                let session = SessionId(bytes[1..33].try_into().expect("32"));
                bytes.drain(..33);
                Ok(MeshMsg::Data {
                    session,
                    body: bytes,
                })
            }
            HELLO => Ok(MeshMsg::Hello(View::decode(&bytes[1..], peer)?)),
            ABORT => {
                let mut r = Reader(&bytes[1..]);
                let nonce: [u8; 16] = r
                    .take(16)
                    .ok_or_else(|| bad("short abort"))?
                    .try_into()
                    .expect("16");
                let len = u32::from_le_bytes(
                    r.take(4)
                        .ok_or_else(|| bad("short abort"))?
                        .try_into()
                        .expect("4"),
                ) as usize;
                let view = View::decode(r.take(len).ok_or_else(|| bad("short abort"))?, peer)?;
                if r.0.len() > MAX_REASON {
                    return Err(bad("abort reason over the limit"));
                }
                let reason = std::str::from_utf8(r.0)
                    .map_err(|_| bad("abort reason is not UTF-8"))?
                    .to_string();
                Ok(MeshMsg::Abort {
                    nonce,
                    view,
                    reason,
                })
            }
            ABORT_ACK => {
                let nonce: [u8; 16] = bytes[1..]
                    .try_into()
                    .map_err(|_| bad("acknowledgement of the wrong length"))?;
                Ok(MeshMsg::AbortAck { nonce })
            }
            PING if bytes.len() == 1 => Ok(MeshMsg::Ping),
            other => Err(bad(&format!("unknown kind {other}"))),
        }
    }
}

/// `s` cut to at most `max` bytes at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

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
                MeshMsg::decode(bytes, &party_name(from)).map(Some)
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
                let m = MeshMsg::decode(bytes, &party_name(j))?;
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
                    peer: party_name(a.peer),
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
                peer: party_name(j),
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
                                peer: party_name(a.peer),
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
                        peer: party_name(*j),
                        reason: mismatch
                            .iter()
                            .map(|(_, d)| d.as_str())
                            .collect::<Vec<_>>()
                            .join("; "),
                    }),
                };
            }
            if Instant::now() >= deadline {
                let late: Vec<String> = self
                    .peers()
                    .filter(|&j| self.hellos[j].is_none())
                    .map(party_name)
                    .collect();
                return Err(MpcError::SessionMismatch {
                    peer: late.join(", "),
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
                            peer: party_name(j),
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
                peer: party_name(from),
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
                    peer: party_name(a.peer),
                    reason: a.reason,
                })
            }
            MeshMsg::Hello(_) => Err(MpcError::SessionMismatch {
                peer: party_name(from),
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
                None => MeshMsg::decode(self.mesh.net.recv(from)?, &party_name(from))?,
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
