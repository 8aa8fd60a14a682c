//! Dialling a party: the TCP connection (retried until the deadline, so processes may start in
//! any order), the handshake, the check that the server is the party dialled, and the
//! listener's verdict. Whether a failed attempt is tried again is decided on its
//! [`TlsStep`] ([`worth_retrying`]).

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, Connection};

use super::handshake::{HANDSHAKE_TIMEOUT, Verdict, handshake, prepare_socket, read_verdict};
use super::link::Link;
use super::names::{PeerId, identity_of, party_name, shown};
use crate::error::{IdentityFault, MpcError, Peer, Refusal, Result, TlsStep};
use crate::transport::PartyId;

/// Pause between attempts to reach a party that is not listening yet.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Whether a failed attempt may succeed on a fresh connection: the listener closed or reset it
/// during set-up (a party restarting its listener between meshes), or still holds our
/// previous connection (a party between two meshes). A certificate or identity failure, or a
/// timeout, is final.
pub(super) fn worth_retrying(e: &MpcError) -> bool {
    matches!(
        e,
        MpcError::Tls {
            step: TlsStep::Closed | TlsStep::PeerRefused(Refusal::AlreadyConnected),
            ..
        }
    )
}

/// Dials party `to` at `addr` until `deadline` (or `stop`): authenticates it as `party-{to}`
/// and waits for its acknowledgement. Attempts that fail [`worth_retrying`] are tried again.
pub(super) fn dial(
    addr: &str,
    to: PartyId,
    tls: &Arc<rustls::ClientConfig>,
    deadline: Instant,
    timeout: Duration,
    stop: &AtomicBool,
) -> Result<Link> {
    loop {
        match dial_once(addr, to, tls, deadline, timeout, stop) {
            Ok(link) => return Ok(link),
            Err(e)
                if worth_retrying(&e)
                    && Instant::now() + RETRY_PAUSE < deadline
                    && !stop.load(Ordering::Acquire) =>
            {
                thread::sleep(RETRY_PAUSE);
            }
            Err(e) => return Err(e),
        }
    }
}

/// One attempt: the TCP connection (retried until the deadline), the handshake, the server's
/// identity, the verdict.
fn dial_once(
    addr: &str,
    to: PartyId,
    tls: &Arc<rustls::ClientConfig>,
    deadline: Instant,
    timeout: Duration,
    stop: &AtomicBool,
) -> Result<Link> {
    let peer = Peer::Party(to);
    let mut sock = loop {
        if stop.load(Ordering::Acquire) {
            return Err(MpcError::Disconnected {
                peer,
                reason: "set-up abandoned".into(),
            });
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let err = match connect_once(addr, left.max(Duration::from_millis(10))) {
            Ok(s) => break s,
            Err(e) => e,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(MpcError::Disconnected {
                peer,
                reason: format!("cannot connect to {addr} before the deadline: {err}"),
            });
        }
        thread::sleep(RETRY_PAUSE.min(left));
    };
    prepare_socket(&sock, &peer)?;
    let fail = |step, reason: String| MpcError::Tls {
        peer: peer.clone(),
        step,
        reason,
    };
    let name =
        ServerName::try_from(party_name(to)).map_err(|e| fail(TlsStep::Setup, e.to_string()))?;
    let mut conn = ClientConnection::new(tls.clone(), name)
        .map_err(|e| fail(TlsStep::Setup, e.to_string()))?;
    handshake(&mut conn, &mut sock, &peer)?;
    // webpki checked the DNS name; also insist on our one-name policy.
    let presented = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .ok_or_else(|| {
            fail(
                TlsStep::Identity(IdentityFault::Absent),
                "no server certificate".into(),
            )
        })
        .and_then(|der| {
            identity_of(der).map_err(|bad| fail(TlsStep::Identity(bad.fault), bad.detail))
        })?;
    if presented != PeerId::Party(to) {
        return Err(fail(
            TlsStep::Identity(IdentityFault::Unexpected),
            format!("server certificate names {}", shown(&presented.name())),
        ));
    }
    let link = Link::start(Connection::Client(conn), sock, peer.clone(), timeout)?;
    match link.recv_within(HANDSHAKE_TIMEOUT) {
        Ok(frame) => match read_verdict(&frame) {
            Verdict::Ok => Ok(link),
            Verdict::Refused(refusal, reason) => Err(fail(
                TlsStep::PeerRefused(refusal),
                format!("refused our connection: {reason}"),
            )),
            Verdict::Garbled(text) => Err(fail(
                TlsStep::Acknowledgement,
                format!("refused our connection: {text}"),
            )),
        },
        // A TLS failure after the handshake: typically the listener's alert refusing our
        // certificate.
        Err(MpcError::Tls { step, reason, .. }) => Err(fail(step, reason)),
        // Closed before acknowledging: a listener going away.
        Err(MpcError::Disconnected { .. }) => Err(fail(
            TlsStep::Closed,
            "connection closed before the acknowledgement".into(),
        )),
        Err(e) => {
            let step = if matches!(e, MpcError::Timeout { .. }) {
                TlsStep::TimedOut
            } else {
                TlsStep::Acknowledgement
            };
            Err(fail(
                step,
                format!("no acknowledgement after the handshake (certificate refused?): {e}"),
            ))
        }
    }
}

/// Opens a TCP connection to the first of `addr`'s addresses that answers within `wait`.
fn connect_once(addr: &str, wait: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "address resolves to nothing");
    for a in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, wait) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}
