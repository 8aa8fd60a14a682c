//! Handshakes: socket set-up, the TLS handshake with its failure read as a [`TlsStep`], and the
//! listener's verdict frame that follows it (`ok`, or a refusal carrying its [`Refusal`] as a
//! code and its reason as text).

use std::io;
use std::net::TcpStream;
use std::time::Duration;

use rustls::ConnectionCommon;

use super::link::step_of;
use crate::error::{IdentityFault, MpcError, Peer, Refusal, Result, TlsStep};

/// Longest TLS handshake (and wait for the listener's acknowledgement).
pub(super) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The listener's acknowledgement frame.
pub(super) const ACK_OK: &[u8] = b"ok";
/// Prefix of the listener's refusal frame: `refused <code>: <reason>`.
const REFUSED: &str = "refused ";

/// Blocking, no Nagle, the handshake timeout on reads and writes.
pub(super) fn prepare_socket(sock: &TcpStream, peer: &Peer) -> Result<()> {
    let broken = |e: io::Error| MpcError::Disconnected {
        peer: peer.clone(),
        reason: e.to_string(),
    };
    sock.set_nonblocking(false).map_err(broken)?;
    sock.set_nodelay(true).map_err(broken)?;
    sock.set_read_timeout(Some(HANDSHAKE_TIMEOUT))
        .map_err(broken)?;
    sock.set_write_timeout(Some(HANDSHAKE_TIMEOUT))
        .map_err(broken)
}

/// Runs the TLS handshake to completion (socket timeouts bound it). A failure is
/// [`MpcError::Tls`] whose step says how: [`TlsStep::Closed`] when the peer closed or reset
/// the connection (e.g. a party restarting its listener between sessions),
/// [`TlsStep::TimedOut`], [`TlsStep::Certificate`] when a certificate was refused, else
/// [`TlsStep::Handshake`].
pub(super) fn handshake<S>(
    conn: &mut ConnectionCommon<S>,
    sock: &mut TcpStream,
    peer: &Peer,
) -> Result<()> {
    let fail = |step, reason: String| MpcError::Tls {
        peer: peer.clone(),
        step,
        reason,
    };
    while conn.is_handshaking() {
        match conn.complete_io(sock) {
            Ok((0, 0)) => {
                return Err(fail(
                    TlsStep::Closed,
                    "connection closed during the handshake".into(),
                ));
            }
            Ok(_) => {}
            Err(e) => {
                let step = io_step(&e);
                let reason = if step == TlsStep::TimedOut {
                    format!(
                        "handshake not finished within {} s",
                        HANDSHAKE_TIMEOUT.as_secs()
                    )
                } else {
                    e.to_string()
                };
                return Err(fail(step, reason));
            }
        }
    }
    Ok(())
}

/// The step a failed handshake I/O belongs to (rustls reports its own failures as
/// `InvalidData` wrapping a [`rustls::Error`]).
fn io_step(e: &io::Error) -> TlsStep {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => TlsStep::TimedOut,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => TlsStep::Closed,
        _ => match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(tls) => step_of(tls, TlsStep::Handshake),
            None => TlsStep::Handshake,
        },
    }
}

/// Every refusal, for decoding a refusal frame's code.
const REFUSALS: [Refusal; 12] = [
    Refusal::Identity(IdentityFault::Absent),
    Refusal::Identity(IdentityFault::Unparsable),
    Refusal::Identity(IdentityFault::NoDnsName),
    Refusal::Identity(IdentityFault::SeveralDnsNames),
    Refusal::Identity(IdentityFault::BadName),
    Refusal::Identity(IdentityFault::CnMismatch),
    Refusal::Identity(IdentityFault::NotAParty),
    Refusal::Identity(IdentityFault::Unexpected),
    Refusal::OwnCertificate,
    Refusal::WrongDirection,
    Refusal::AlreadyConnected,
    Refusal::Internal,
];

/// A refusal's code in the refusal frame (stable: the dialler reads the cause from it).
fn code(r: Refusal) -> &'static str {
    match r {
        Refusal::Identity(f) => match f {
            IdentityFault::Absent => "identity-absent",
            IdentityFault::Unparsable => "identity-unparsable",
            IdentityFault::NoDnsName => "identity-no-dns-name",
            IdentityFault::SeveralDnsNames => "identity-several-dns-names",
            IdentityFault::BadName => "identity-bad-name",
            IdentityFault::CnMismatch => "identity-cn-mismatch",
            IdentityFault::NotAParty => "identity-not-a-party",
            IdentityFault::Unexpected => "identity-unexpected",
        },
        Refusal::OwnCertificate => "own-certificate",
        Refusal::WrongDirection => "wrong-direction",
        Refusal::AlreadyConnected => "already-connected",
        Refusal::Internal => "internal",
    }
}

/// The listener's refusal frame: `refused <code>: <reason>`.
pub fn refusal_frame(r: Refusal, reason: &str) -> Vec<u8> {
    format!("{REFUSED}{}: {reason}", code(r)).into_bytes()
}

/// What the listener answered after the handshake.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Acknowledged: the link is up.
    Ok,
    /// Refused, with the cause and the listener's reason (sanitized).
    Refused(Refusal, String),
    /// Neither (sanitized).
    Garbled(String),
}

/// Reads the listener's verdict frame.
pub fn read_verdict(frame: &[u8]) -> Verdict {
    if frame == ACK_OK {
        return Verdict::Ok;
    }
    let refusal = frame.strip_prefix(REFUSED.as_bytes()).and_then(|rest| {
        REFUSALS.into_iter().find_map(|r| {
            rest.strip_prefix(code(r).as_bytes())
                .and_then(|t| t.strip_prefix(b": "))
                .map(|reason| (r, reason))
        })
    });
    match refusal {
        Some((r, reason)) => Verdict::Refused(r, sanitize(reason)),
        None => Verdict::Garbled(sanitize(frame)),
    }
}

/// Text of a frame from the network: printable ASCII only, at most 200 characters.
fn sanitize(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(200)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_survives_its_frame() {
        for r in REFUSALS {
            assert_eq!(
                read_verdict(&refusal_frame(r, "party-1 is already connected")),
                Verdict::Refused(r, "party-1 is already connected".into()),
                "{r:?}"
            );
        }
        assert_eq!(read_verdict(ACK_OK), Verdict::Ok);
        assert_eq!(
            read_verdict(b"refused nonsense: \x1b[2J"),
            Verdict::Garbled("refused nonsense: ?[2J".into())
        );
        assert_eq!(
            read_verdict(b"refused internal"),
            Verdict::Garbled("refused internal".into())
        );
    }
}
