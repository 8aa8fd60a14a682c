//! One established connection (a party link or a client link): a writer thread fed by an
//! unbounded channel and a reader thread that decodes frames into a channel, sharing the rustls
//! connection state behind a mutex that neither holds while blocked on the socket (see the
//! module docs of [`super`], "Framing and threads").

use std::io::{self, Read};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use rustls::{AlertDescription, Connection};

use super::framing::{Deframer, write_frame, write_plain};
use crate::error::{MpcError, Peer, Result, TlsStep};
use crate::transport::MAX_MESSAGE;

/// Longest wait, when a connection is dropped, for its queued messages to go out (then the socket
/// is closed regardless): a party that has decided to stop does so within this time.
pub const MAX_LINGER: Duration = Duration::from_secs(1);
/// Socket and plaintext read buffer size.
const READ_CHUNK: usize = 64 * 1024;
/// rustls outgoing buffer limit: plaintext is encrypted and written this much at a time.
const TLS_BUFFER: usize = 256 * 1024;

/// Whole seconds of `d`, rounded up (so a sub-second timeout does not read "0 s").
pub(super) fn secs_ceil(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// The step a rustls failure belongs to: [`TlsStep::Certificate`] when a certificate was
/// rejected (the peer's by us, or ours by the peer's alert), else `otherwise`.
///
/// A peer that cannot verify a handshake signature alerts `decrypt_error` (RFC 8446, 6.2):
/// that is how a certificate from another CA bearing the consortium CA's name fails (its
/// signature does not verify), and how a key that does not match its certificate fails; so
/// that alert reads as a rejected certificate too (records that do not decrypt are
/// `bad_record_mac`, not this).
pub(super) fn step_of(e: &rustls::Error, otherwise: TlsStep) -> TlsStep {
    use AlertDescription as A;
    match e {
        rustls::Error::InvalidCertificate(_)
        | rustls::Error::NoCertificatesPresented
        | rustls::Error::AlertReceived(
            A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::CertificateUnknown
            | A::UnknownCA
            | A::CertificateRequired
            | A::DecryptError,
        ) => TlsStep::Certificate,
        _ => otherwise,
    }
}

/// Work for a connection's writer thread.
pub(super) enum Cmd {
    /// Send one frame.
    Frame(Vec<u8>),
    /// Write out pending TLS records (alerts, key updates) queued by the reader.
    Flush,
    /// Send `close_notify` and stop.
    Close,
    /// Send raw plaintext, unframed (tests of the peer's frame checks).
    #[cfg(test)]
    Raw(Vec<u8>),
}

type Shared<T> = Arc<Mutex<T>>;

fn lock<'a>(conn: &'a Mutex<Connection>, peer: &Peer) -> Result<MutexGuard<'a, Connection>> {
    conn.lock().map_err(|_| MpcError::Disconnected {
        peer: peer.clone(),
        reason: "connection state poisoned by a failed thread".into(),
    })
}

/// An established, authenticated connection with its two threads.
pub(super) struct Link {
    /// The other end.
    pub(super) peer: Peer,
    /// The other end's certificate name (or description).
    pub(super) name: String,
    /// The receive timeout.
    pub(super) timeout: Duration,
    /// The writer's work queue.
    pub(super) out: Sender<Cmd>,
    inbox: Receiver<Result<Vec<u8>>>,
    sock: TcpStream,
    writer_done: Receiver<()>,
    /// The writer was waited for (at the drop of the transport holding this link).
    finished: bool,
}

impl Link {
    /// Starts the reader and writer threads on a connection whose handshake is complete.
    pub(super) fn start(
        conn: Connection,
        sock: TcpStream,
        peer: Peer,
        timeout: Duration,
    ) -> Result<Link> {
        let name = peer.to_string();
        let broken = |e: io::Error| MpcError::Disconnected {
            peer: peer.clone(),
            reason: e.to_string(),
        };
        sock.set_read_timeout(None).map_err(broken)?;
        sock.set_write_timeout(None).map_err(broken)?;
        let reader_sock = sock.try_clone().map_err(broken)?;
        let writer_sock = sock.try_clone().map_err(broken)?;
        let mut conn = conn;
        conn.set_buffer_limit(Some(TLS_BUFFER));
        let conn: Shared<Connection> = Arc::new(Mutex::new(conn));
        let (out, out_rx) = channel();
        let (inbox_tx, inbox) = channel();
        let (done_tx, writer_done) = channel();
        let (c, flush, p) = (conn.clone(), out.clone(), peer.clone());
        thread::Builder::new()
            .name(format!("mpc-tls-read-{name}"))
            .spawn(move || reader_loop(&c, reader_sock, &inbox_tx, &flush, &p))
            .map_err(broken)?;
        thread::Builder::new()
            .name(format!("mpc-tls-write-{name}"))
            .spawn(move || writer_loop(&conn, writer_sock, &out_rx, &done_tx))
            .map_err(broken)?;
        Ok(Link {
            peer,
            name,
            timeout,
            out,
            inbox,
            sock,
            writer_done,
            finished: false,
        })
    }

    /// Queues one frame for the writer.
    pub(super) fn send(&self, payload: Vec<u8>) -> Result<()> {
        if payload.len() > MAX_MESSAGE {
            return Err(MpcError::Malformed {
                peer: self.peer.clone(),
                reason: format!(
                    "outgoing message of {} bytes exceeds the {MAX_MESSAGE}-byte limit",
                    payload.len()
                ),
            });
        }
        self.out
            .send(Cmd::Frame(payload))
            .map_err(|_| MpcError::Disconnected {
                peer: self.peer.clone(),
                reason: "connection closed (writer stopped)".into(),
            })
    }

    /// The next frame, waiting at most the timeout.
    pub(super) fn recv(&self) -> Result<Vec<u8>> {
        self.recv_within(self.timeout)
    }

    /// The next frame if one has arrived.
    pub(super) fn try_recv(&self) -> Result<Option<Vec<u8>>> {
        match self.inbox.try_recv() {
            Ok(frame) => frame.map(Some),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(MpcError::Disconnected {
                peer: self.peer.clone(),
                reason: "connection closed".into(),
            }),
        }
    }

    /// Waits for the writer to finish (at most until `deadline`), once.
    pub(super) fn finish(&mut self, deadline: Instant) {
        if !self.finished {
            self.finished = true;
            let left = deadline.saturating_duration_since(Instant::now());
            let _ = self.writer_done.recv_timeout(left);
        }
    }

    /// The next frame, waiting at most `wait`.
    pub(super) fn recv_within(&self, wait: Duration) -> Result<Vec<u8>> {
        match self.inbox.recv_timeout(wait) {
            Ok(frame) => frame,
            Err(RecvTimeoutError::Timeout) => Err(MpcError::Timeout {
                peer: self.peer.clone(),
                secs: secs_ceil(wait),
            }),
            Err(RecvTimeoutError::Disconnected) => Err(MpcError::Disconnected {
                peer: self.peer.clone(),
                reason: "connection closed".into(),
            }),
        }
    }

    /// Asks the writer to finish (after the queued messages) with `close_notify`.
    pub(super) fn begin_close(&self) {
        let _ = self.out.send(Cmd::Close);
    }

    /// Closes the socket at once, without `close_notify` (as if the process died).
    #[cfg(test)]
    pub(super) fn sever(&self) {
        let _ = self.sock.shutdown(Shutdown::Both);
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.begin_close();
        self.finish(Instant::now() + self.timeout.min(MAX_LINGER));
        let _ = self.sock.shutdown(Shutdown::Both);
    }
}

/// Reader thread: decodes frames into `inbox`, ending with the error that stopped it.
fn reader_loop(
    conn: &Mutex<Connection>,
    mut sock: TcpStream,
    inbox: &Sender<Result<Vec<u8>>>,
    flush: &Sender<Cmd>,
    peer: &Peer,
) {
    if let Err(e) = read_frames(conn, &mut sock, inbox, flush, peer) {
        if matches!(e, MpcError::Malformed { .. }) {
            // The stream cannot be resynchronised: end it, so the sender notices too.
            let _ = sock.shutdown(Shutdown::Both);
        }
        let _ = inbox.send(Err(e));
    }
}

/// Decodes plaintext available in `c` into frames; `Ok(true)` once the peer closed cleanly.
fn drain_plaintext(
    c: &mut Connection,
    plain: &mut [u8],
    deframer: &mut Deframer,
    frames: &mut Vec<Vec<u8>>,
    peer: &Peer,
) -> Result<bool> {
    loop {
        match c.reader().read(plain) {
            Ok(0) => return Ok(true),
            Ok(n) => deframer
                .push(&plain[..n], frames)
                .map_err(|e| MpcError::Malformed {
                    peer: peer.clone(),
                    reason: e.to_string(),
                })?,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) => {
                return Err(MpcError::Disconnected {
                    peer: peer.clone(),
                    reason: e.to_string(),
                });
            }
        }
    }
}

/// Feeds `fresh` ciphertext to the connection and decodes the plaintext into `frames`;
/// `Ok(true)` once the peer closed cleanly.
fn decode(
    conn: &Mutex<Connection>,
    mut fresh: &[u8],
    plain: &mut [u8],
    deframer: &mut Deframer,
    frames: &mut Vec<Vec<u8>>,
    flush: &Sender<Cmd>,
    peer: &Peer,
) -> Result<bool> {
    let mut c = lock(conn, peer)?;
    let closed = loop {
        if drain_plaintext(&mut c, plain, deframer, frames, peer)? {
            break true;
        }
        if fresh.is_empty() {
            break false;
        }
        match c.read_tls(&mut fresh) {
            // close_notify already received: nothing more will be read.
            Ok(0) => break true,
            Ok(_) => {}
            Err(e) => {
                return Err(MpcError::Disconnected {
                    peer: peer.clone(),
                    reason: e.to_string(),
                });
            }
        }
        if let Err(e) = c.process_new_packets() {
            // rustls queued an alert for the peer; the writer sends it.
            let _ = flush.send(Cmd::Flush);
            return Err(MpcError::Tls {
                peer: peer.clone(),
                step: step_of(&e, TlsStep::Record),
                reason: e.to_string(),
            });
        }
    };
    if c.wants_write() {
        let _ = flush.send(Cmd::Flush);
    }
    Ok(closed)
}

/// The reader's work; `Ok` when the receiving side is gone, else the error to report.
fn read_frames(
    conn: &Mutex<Connection>,
    sock: &mut TcpStream,
    inbox: &Sender<Result<Vec<u8>>>,
    flush: &Sender<Cmd>,
    peer: &Peer,
) -> Result<()> {
    let mut deframer = Deframer::default();
    let mut net = vec![0u8; READ_CHUNK];
    let mut plain = vec![0u8; READ_CHUNK];
    let mut frames = Vec::new();
    // The first pass decodes what the handshake already buffered.
    let mut fresh = 0;
    loop {
        let step = decode(
            conn,
            &net[..fresh],
            &mut plain,
            &mut deframer,
            &mut frames,
            flush,
            peer,
        );
        // Frames decoded before an error are still delivered, in order.
        for f in frames.drain(..) {
            if inbox.send(Ok(f)).is_err() {
                return Ok(());
            }
        }
        if step? {
            return Err(MpcError::Disconnected {
                peer: peer.clone(),
                reason: "closed by the peer".into(),
            });
        }
        fresh = loop {
            match sock.read(&mut net) {
                Ok(0) => {
                    return Err(MpcError::Disconnected {
                        peer: peer.clone(),
                        reason: "connection closed without close_notify".into(),
                    });
                }
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(MpcError::Disconnected {
                        peer: peer.clone(),
                        reason: e.to_string(),
                    });
                }
            }
        };
    }
}

/// Writer thread: sends frames in order until told to close or the connection fails.
fn writer_loop(
    conn: &Mutex<Connection>,
    mut sock: TcpStream,
    cmds: &Receiver<Cmd>,
    done: &Sender<()>,
) {
    let mut out = Vec::with_capacity(TLS_BUFFER + 1024);
    while let Ok(cmd) = cmds.recv() {
        let written = match cmd {
            Cmd::Frame(payload) => write_frame(conn, &mut sock, &payload, &mut out),
            Cmd::Flush => write_plain(conn, &mut sock, &[], &mut out),
            Cmd::Close => {
                if let Ok(mut c) = conn.lock() {
                    c.send_close_notify();
                }
                let _ = write_plain(conn, &mut sock, &[], &mut out);
                break;
            }
            #[cfg(test)]
            Cmd::Raw(bytes) => write_plain(conn, &mut sock, &bytes, &mut out),
        };
        if written.is_err() {
            break;
        }
    }
    let _ = sock.shutdown(Shutdown::Write);
    let _ = done.send(());
}
