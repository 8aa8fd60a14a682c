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
//! in any phase ([`super::mesh`]). TCP keeps each direction in order, so when both acknowledgements are in, every
//! stale frame of the dead session (in both directions) has been read and dropped: the next
//! session starts on a clean mesh, on its first try.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::{MpcError, Peer, Result};

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
    pub fn decode(bytes: &[u8], peer: &Peer) -> Result<View> {
        let bad = |reason: &str| MpcError::Malformed {
            peer: peer.clone(),
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

pub(super) const DATA: u8 = 1;
pub(super) const HELLO: u8 = 2;
pub(super) const ABORT: u8 = 3;
pub(super) const ABORT_ACK: u8 = 4;
pub(super) const PING: u8 = 5;

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
    pub fn decode(mut bytes: Vec<u8>, peer: &Peer) -> Result<MeshMsg> {
        let bad = |reason: &str| MpcError::Malformed {
            peer: peer.clone(),
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
