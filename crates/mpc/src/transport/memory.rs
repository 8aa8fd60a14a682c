//! In-process transport: the three parties as threads joined by channels (unit tests and
//! single-process runs).

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

use super::{PARTIES, PartyId, Transport};
use crate::error::{MpcError, Result};

/// One party's end of an in-process mesh.
pub struct MemoryTransport {
    me: PartyId,
    timeout: Duration,
    to: Vec<Option<Sender<Vec<u8>>>>,
    from: Vec<Option<Receiver<Vec<u8>>>>,
}

/// Three connected parties; every receive waits at most `timeout`.
pub fn mesh(timeout: Duration) -> Vec<MemoryTransport> {
    let mut ends: Vec<MemoryTransport> = (0..PARTIES)
        .map(|me| MemoryTransport {
            me,
            timeout,
            to: (0..PARTIES).map(|_| None).collect(),
            from: (0..PARTIES).map(|_| None).collect(),
        })
        .collect();
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

impl Transport for MemoryTransport {
    fn me(&self) -> PartyId {
        self.me
    }

    fn send(&mut self, to: PartyId, payload: Vec<u8>) -> Result<()> {
        let tx = self.to.get(to).and_then(Option::as_ref).ok_or_else(|| {
            MpcError::Config(format!("party {} cannot send to party {to}", self.me))
        })?;
        tx.send(payload).map_err(|_| MpcError::Disconnected {
            peer: format!("party-{to}"),
            reason: "gone".into(),
        })
    }

    fn recv(&mut self, from: PartyId) -> Result<Vec<u8>> {
        let rx = self
            .from
            .get(from)
            .and_then(Option::as_ref)
            .ok_or_else(|| {
                MpcError::Config(format!(
                    "party {} cannot receive from party {from}",
                    self.me
                ))
            })?;
        rx.recv_timeout(self.timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => MpcError::Timeout {
                peer: format!("party-{from}"),
                secs: self.timeout.as_secs(),
            },
            RecvTimeoutError::Disconnected => MpcError::Disconnected {
                peer: format!("party-{from}"),
                reason: "gone".into(),
            },
        })
    }
}
