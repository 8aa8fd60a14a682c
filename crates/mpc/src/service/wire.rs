//! What clients and parties send each other: JSON control messages and binary share frames,
//! both bound to the session.

use serde::{Deserialize, Serialize};

use super::QuerySpec;
use super::session::SessionId;
use crate::error::{MpcError, Peer, Result};
use crate::share::{Kind, Shares};
use crate::transport::tls::ClientLink;

/// Longest control message (JSON).
const MAX_CONTROL: usize = 2 << 20;

/// Control messages (JSON frames). Session identifiers and nonces are 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Control {
    /// Client → party: take part in this query; `nonce` is fresh for this run of the client.
    Join {
        /// [`super::PROTOCOL_VERSION`] of the client.
        version: u32,
        /// The query the client agrees to.
        query: QuerySpec,
        /// The client's fresh join nonce (hex).
        nonce: String,
    },
    /// Party → client: every participant joined and the parties agree: this is the session,
    /// and the joins (name, nonce) it is derived from.
    Session {
        /// The session identifier (hex).
        session: String,
        /// Every join: client name and nonce (hex).
        joins: Vec<(String, String)>,
    },
    /// Holder → party: a contribution of `rows` rows to `session` follows, `vectors` frames.
    Contribution {
        /// The session identifier (hex).
        session: String,
        /// The holder's row count.
        rows: u64,
        /// The number of share frames that follow.
        vectors: u32,
    },
    /// Party → recipient: this party's output share of `session` follows (2·words elements).
    Output {
        /// The session identifier (hex).
        session: String,
        /// The number of shared output words.
        words: u64,
    },
    /// Party → client: the session finished.
    Done {
        /// The session identifier (hex).
        session: String,
    },
    /// Party → client: participants named by this client's query joined with another query.
    Contested {
        /// The party's explanation.
        reason: String,
        /// The participants that joined with another query.
        disagreeing: Vec<String>,
    },
    /// Party → client: the session (or this client) was refused, or it failed.
    Error {
        /// Why.
        reason: String,
    },
}

/// A control message's frame (JSON).
pub fn encode_control(c: &Control) -> Vec<u8> {
    serde_json::to_vec(c).expect("a control message is plain JSON data")
}

pub(crate) fn send_control(link: &mut ClientLink, c: &Control) -> Result<()> {
    link.send(encode_control(c))
}

/// Decodes a control message from `peer` ([`MpcError::Malformed`] if it is over the size
/// limit or not a control message).
pub fn decode_control(bytes: &[u8], peer: &Peer) -> Result<Control> {
    let malformed = |reason: String| MpcError::Malformed {
        peer: peer.clone(),
        reason,
    };
    if bytes.len() > MAX_CONTROL {
        return Err(malformed(format!(
            "control message of {} bytes",
            bytes.len()
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| malformed(format!("not a control message: {e}")))
}

/// A share frame: the session identifier, then the two ring components of each element.
pub fn encode_shares(session: &SessionId, s: &Shares) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + 16 * s.len());
    out.extend_from_slice(session.as_bytes());
    for w in s.a.iter().chain(&s.b) {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

/// Decodes a share frame of `len` elements: [`MpcError::SessionMismatch`] if it is not bound
/// to `session`, [`MpcError::Malformed`] if it does not hold exactly `len` elements.
pub fn decode_shares(session: &SessionId, bytes: &[u8], len: usize, peer: &Peer) -> Result<Shares> {
    if bytes.len() < 32 || bytes[..32] != session.as_bytes()[..] {
        return Err(MpcError::SessionMismatch {
            peer: peer.clone(),
            reason: format!("a share frame not bound to session {session}"),
        });
    }
    let bytes = &bytes[32..];
    if len.checked_mul(16) != Some(bytes.len()) {
        return Err(MpcError::Malformed {
            peer: peer.clone(),
            reason: format!("expected {len} shared elements, got {} bytes", bytes.len()),
        });
    }
    let words: Vec<u64> = bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    let (a, b) = words.split_at(len);
    Ok(Shares {
        kind: Kind::Arithmetic,
        a: a.to_vec(),
        b: b.to_vec(),
    })
}

/// Checks that a control message names `session` (a message of another session is refused).
pub(crate) fn check_session(got: &str, session: &SessionId, peer: &Peer) -> Result<()> {
    match SessionId::from_hex(got) {
        Some(id) if id == *session => Ok(()),
        _ => Err(MpcError::SessionMismatch {
            peer: peer.clone(),
            reason: format!(
                "a message of session {} during session {session}",
                super::shown(got)
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::session::View;

    fn id(b: u8) -> SessionId {
        View {
            query: [b; 32],
            ..View::default()
        }
        .id()
    }

    #[test]
    fn a_share_frame_or_message_of_another_session_is_refused() {
        let s = Shares {
            kind: Kind::Arithmetic,
            a: vec![1, 2],
            b: vec![3, 4],
        };
        let frame = encode_shares(&id(1), &s);
        assert_eq!(
            decode_shares(&id(1), &frame, 2, &Peer::Client("hospital-a".into())).unwrap(),
            s
        );
        match decode_shares(&id(2), &frame, 2, &Peer::Client("hospital-a".into())) {
            Err(MpcError::SessionMismatch { peer, .. }) => {
                assert_eq!(peer, Peer::Client("hospital-a".into()))
            }
            r => panic!("{r:?}"),
        }
        // Untagged (version-1) frames and wrong lengths are refused too.
        assert!(matches!(
            decode_shares(&id(1), &frame[32..], 2, &Peer::Client("h".into())),
            Err(MpcError::SessionMismatch { .. })
        ));
        for len in [3, usize::MAX / 8] {
            assert!(matches!(
                decode_shares(&id(1), &frame, len, &Peer::Client("h".into())),
                Err(MpcError::Malformed { .. })
            ));
        }
        assert!(check_session(&id(1).to_hex(), &id(1), &Peer::Party(0)).is_ok());
        for other in [id(2).to_hex(), "zz".into(), String::new()] {
            assert!(matches!(
                check_session(&other, &id(1), &Peer::Party(0)),
                Err(MpcError::SessionMismatch { peer, .. }) if peer == Peer::Party(0)
            ));
        }
    }
}
