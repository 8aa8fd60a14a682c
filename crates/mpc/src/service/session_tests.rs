//! Tests of the session identifier, the mesh frames and the session layer: codecs, identifiers, cross-session refusal, abort-and-resync.

use super::*;
use crate::engine::{Mode, Party};
use crate::service::session::{ABORT_ACK, DATA, MeshMsg, SessionId, View};
use crate::share::Kind;
use crate::transport::memory::{MemoryTransport, mesh};

fn view(names: &[(&str, u8)]) -> View {
    View {
        query: [7; 32],
        joins: names
            .iter()
            .map(|(n, b)| (n.to_string(), [*b; 32]))
            .collect(),
    }
}

#[test]
fn mesh_messages_round_trip_and_malformed_ones_are_refused() {
    let v = view(&[("hospital-a", 1), ("hospital-b", 2)]);
    let msgs = [
        MeshMsg::Data {
            session: v.id(),
            body: vec![1, 2, 3],
        },
        MeshMsg::Hello(v.clone()),
        MeshMsg::Abort {
            nonce: [9; 16],
            view: v.clone(),
            reason: "because\n".into(),
        },
        MeshMsg::AbortAck { nonce: [9; 16] },
        MeshMsg::Ping,
    ];
    for m in msgs {
        assert_eq!(MeshMsg::decode(m.encode(), &Peer::Party(1)).unwrap(), m);
    }
    for bad in [
        vec![],
        vec![0],
        vec![9, 1],
        vec![DATA; 10],
        vec![ABORT_ACK, 1],
    ] {
        assert!(matches!(
            MeshMsg::decode(bad, &Peer::Party(1)),
            Err(MpcError::Malformed { peer, .. }) if peer == Peer::Party(1)
        ));
    }
    // A view must be canonical: names sorted, no trailing bytes.
    let mut bytes = v.encode();
    bytes.push(0);
    assert!(matches!(
        View::decode(&bytes, &Peer::Other("p".into())),
        Err(MpcError::Malformed { .. })
    ));
    let mut swapped = v.encode();
    let a = 34..34 + 1 + 10 + 32;
    let b = a.end..a.end + 1 + 10 + 32;
    let (first, second) = (swapped[a.clone()].to_vec(), swapped[b.clone()].to_vec());
    swapped.splice(a.start..b.end, second.into_iter().chain(first));
    assert!(matches!(
        View::decode(&swapped, &Peer::Other("p".into())),
        Err(MpcError::Malformed { .. })
    ));
}

#[test]
fn the_id_depends_on_every_nonce_and_the_query() {
    let v = view(&[("hospital-a", 1), ("hospital-b", 2)]);
    let mut other_run = v.clone();
    other_run.joins.insert("hospital-b".into(), [3; 32]);
    let mut other_query = v.clone();
    other_query.query[0] ^= 1;
    let mut other_set = v.clone();
    other_set.joins.insert("hospital-c".into(), [2; 32]);
    for o in [other_run, other_query, other_set] {
        assert_ne!(v.id(), o.id());
    }
    assert_eq!(SessionId::from_hex(&v.id().to_hex()), Some(v.id()));
}

fn meshes() -> [SessionMesh<MemoryTransport>; 3] {
    mesh(Duration::from_secs(2)).map(|n| SessionMesh::new(n, Duration::from_secs(5)))
}

/// Runs `f` for each party on its own thread.
fn each<R: Send>(
    ms: &mut [SessionMesh<MemoryTransport>; 3],
    f: impl Fn(usize, &mut SessionMesh<MemoryTransport>) -> R + Sync,
) -> Vec<R> {
    thread::scope(|s| {
        let hs: Vec<_> = ms
            .iter_mut()
            .enumerate()
            .map(|(i, m)| {
                let f = &f;
                s.spawn(move || f(i, m))
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn a_share_of_another_session_is_refused_in_both_modes() {
    for mode in [Mode::SemiHonest, Mode::Malicious] {
        let mut ms = meshes();
        let s1 = view(&[("hospital-a", 1)]).id();
        let s2 = view(&[("hospital-a", 2)]).id();
        // Party 2 runs another session (a replay of another run): the others refuse its
        // first message, whatever the mode.
        let out = each(&mut ms, |i, m| {
            let id = if i == 2 { s2 } else { s1 };
            let mut net = m.session(id);
            let mut p = Party::in_session(&mut net, mode, id.as_bytes())?;
            let x = p.random(Kind::Arithmetic, 4);
            p.open(&x)
        });
        assert!(
            out.iter().any(
                |r| matches!(r, Err(MpcError::SessionMismatch { peer, .. }) if *peer == Peer::Party(2))
            ),
            "{mode:?}: {out:?}"
        );
    }
}

#[test]
fn an_abort_cleans_the_mesh_and_the_next_session_runs_on_its_first_try() {
    let mut ms = meshes();
    let dead = view(&[("hospital-a", 1)]);
    let next = view(&[("hospital-a", 2)]);
    let out = each(&mut ms, |i, m| {
        // The dead session: party 0 fails at once; parties 1 and 2 sent it data it never
        // read, and party 1 is waiting for a message from party 0.
        let id = dead.id();
        if i > 0 {
            let mut net = m.session(id);
            net.send(0, vec![0xAA; 16])?;
            net.send(3 - i, vec![0xBB; 16])?;
        }
        let failed = if i == 0 {
            thread::sleep(Duration::from_millis(50));
            Err(MpcError::Input("party 0 refused a contribution".into()))
        } else {
            let mut net = m.session(id);
            net.recv(0).map(|_| ())
        };
        let e = failed.unwrap_err();
        if i > 0 {
            assert!(
                matches!(&e, MpcError::Aborted { peer, .. } if *peer == Peer::Party(0)),
                "{e}"
            );
        }
        m.abort(&dead, &e.to_string(), Duration::from_secs(5))?;
        // The next session: agreed and run with no stale frame in the way.
        let id = m.agree(&next, Instant::now() + Duration::from_secs(5), || Ok(()))?;
        let mut net = m.session(id);
        let mut p = Party::in_session(&mut net, Mode::Malicious, id.as_bytes())?;
        let x = p.random(Kind::Arithmetic, 3);
        let y = p.mul(&x, &x)?;
        p.verify()?;
        p.open(&y).map(|v| v.len())
    });
    for r in out {
        assert_eq!(r.unwrap(), 3);
    }
}

#[test]
fn parties_with_different_joins_say_what_differs() {
    let mut ms = meshes();
    let out = each(&mut ms, |i, m| {
        let v = if i == 1 {
            view(&[("hospital-a", 1), ("hospital-b", 9)])
        } else {
            view(&[("hospital-a", 1), ("hospital-b", 2)])
        };
        m.agree(&v, Instant::now() + Duration::from_secs(5), || Ok(()))
    });
    for (i, r) in out.into_iter().enumerate() {
        match r {
            Err(MpcError::SessionMismatch { reason, .. }) => {
                assert!(
                    reason.contains("another run of hospital-b"),
                    "party {i}: {reason}"
                )
            }
            r => panic!("party {i}: {r:?}"),
        }
    }
}
