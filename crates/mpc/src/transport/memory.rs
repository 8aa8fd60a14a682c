//! In-process transport: the three parties as threads joined by channels (unit tests and
//! single-process runs).
//!
//! [`mesh`] builds six unbounded std channels, one per ordered pair of parties. `send` never
//! blocks; `recv` waits at most the mesh's timeout ([`MpcError::Timeout`]); once a party's
//! [`MemoryTransport`] is dropped, the others' receives from it drain what it had sent and then
//! fail with [`MpcError::Disconnected`], and sends to it fail the same way.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel};
use std::time::Duration;

use super::{MAX_MESSAGE, PARTIES, PartyId, Transport};
use crate::error::{MpcError, Peer, Result};

/// One party's end of an in-process mesh.
pub struct MemoryTransport {
    me: PartyId,
    timeout: Duration,
    to: Vec<Option<Sender<Vec<u8>>>>,
    from: Vec<Option<Receiver<Vec<u8>>>>,
}

/// Three connected parties (index = party id); every receive waits at most `timeout`.
pub fn mesh(timeout: Duration) -> [MemoryTransport; PARTIES] {
    let mut ends: [MemoryTransport; PARTIES] = std::array::from_fn(|me| MemoryTransport {
        me,
        timeout,
        to: (0..PARTIES).map(|_| None).collect(),
        from: (0..PARTIES).map(|_| None).collect(),
    });
    for a in 0..PARTIES {
        for b in 0..PARTIES {
            if a != b {
                let (tx, rx) = channel();
                ends[a].to[b] = Some(tx);
                ends[b].from[a] = Some(rx);
            }
        }
    }
    ends
}

/// Whole seconds of `d`, rounded up (so a sub-second timeout does not read "0 s").
fn secs_ceil(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl MemoryTransport {
    fn receiver(&self, from: PartyId) -> Result<&Receiver<Vec<u8>>> {
        self.from.get(from).and_then(Option::as_ref).ok_or_else(|| {
            MpcError::Config(format!(
                "party {} cannot receive from party {from}",
                self.me
            ))
        })
    }

    /// Changes the receive timeout (e.g. a longer one for a slow step).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }
}

impl Transport for MemoryTransport {
    fn me(&self) -> PartyId {
        self.me
    }

    fn send(&mut self, to: PartyId, payload: Vec<u8>) -> Result<()> {
        let tx = self.to.get(to).and_then(Option::as_ref).ok_or_else(|| {
            MpcError::Config(format!("party {} cannot send to party {to}", self.me))
        })?;
        if payload.len() > MAX_MESSAGE {
            return Err(MpcError::Malformed {
                peer: Peer::Party(to),
                reason: format!(
                    "outgoing message of {} bytes exceeds the {MAX_MESSAGE}-byte limit",
                    payload.len()
                ),
            });
        }
        tx.send(payload).map_err(|_| MpcError::Disconnected {
            peer: Peer::Party(to),
            reason: "gone".into(),
        })
    }

    fn try_recv(&mut self, from: PartyId) -> Result<Option<Vec<u8>>> {
        match self.receiver(from)?.try_recv() {
            Ok(m) => Ok(Some(m)),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(MpcError::Disconnected {
                peer: Peer::Party(from),
                reason: "gone".into(),
            }),
        }
    }

    fn recv(&mut self, from: PartyId) -> Result<Vec<u8>> {
        let rx = self.receiver(from)?;
        rx.recv_timeout(self.timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => MpcError::Timeout {
                peer: Peer::Party(from),
                secs: secs_ceil(self.timeout),
            },
            RecvTimeoutError::Disconnected => MpcError::Disconnected {
                peer: Peer::Party(from),
                reason: "gone".into(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn messages_flow_both_ways_in_order() {
        let [mut a, mut b, mut c] = mesh(Duration::from_secs(5));
        assert_eq!((a.me(), b.me(), c.me()), (0, 1, 2));
        // Everyone sends before anyone receives: send must not block.
        for (t, me) in [(&mut a, 0u8), (&mut b, 1), (&mut c, 2)] {
            for to in 0..PARTIES {
                if to != usize::from(me) {
                    t.send(to, vec![me, to as u8, 1]).expect("send");
                    t.send(to, vec![me, to as u8, 2]).expect("send");
                }
            }
        }
        for (t, me) in [(&mut a, 0u8), (&mut b, 1), (&mut c, 2)] {
            for from in 0..PARTIES {
                if from != usize::from(me) {
                    assert_eq!(t.recv(from).expect("recv"), vec![from as u8, me, 1]);
                    assert_eq!(t.recv(from).expect("recv"), vec![from as u8, me, 2]);
                }
            }
        }
    }

    #[test]
    fn self_and_out_of_range_are_config_errors() {
        let [mut a, _b, _c] = mesh(Duration::from_secs(1));
        assert!(matches!(a.send(0, vec![]), Err(MpcError::Config(_))));
        assert!(matches!(a.send(3, vec![]), Err(MpcError::Config(_))));
        assert!(matches!(a.recv(0), Err(MpcError::Config(_))));
        assert!(matches!(a.recv(7), Err(MpcError::Config(_))));
    }

    #[test]
    fn stalled_peer_times_out() {
        let [mut a, _b, _c] = mesh(Duration::from_millis(200));
        let t = Instant::now();
        match a.recv(1) {
            Err(MpcError::Timeout { peer, secs }) => {
                assert_eq!(peer, Peer::Party(1));
                assert_eq!(secs, 1, "sub-second timeouts round up");
            }
            other => panic!("expected Timeout, got {other:?}"),
        }
        let waited = t.elapsed();
        assert!(waited >= Duration::from_millis(190), "{waited:?}");
        assert!(waited < Duration::from_secs(3), "{waited:?}");
    }

    #[test]
    fn dropped_peer_is_disconnected_after_its_messages() {
        let [mut a, mut b, c] = mesh(Duration::from_secs(30));
        b.send(0, b"last words".to_vec()).expect("send");
        drop(b);
        let t = Instant::now();
        assert_eq!(a.recv(1).expect("queued message"), b"last words");
        assert!(matches!(
            a.recv(1),
            Err(MpcError::Disconnected { ref peer, .. }) if *peer == Peer::Party(1)
        ));
        assert!(matches!(
            a.send(1, vec![1]),
            Err(MpcError::Disconnected { .. })
        ));
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "no wait for the timeout"
        );
        drop(c);
        assert!(matches!(a.recv(2), Err(MpcError::Disconnected { .. })));
    }
}
