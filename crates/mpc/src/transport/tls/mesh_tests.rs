//! Tests of the mesh: set-up in any start order, exchanges large and small, failures of a
//! peer (dropped, killed, stalled), and certificates that must be refused.

use std::thread;
use std::time::{Duration, Instant};

use super::*;
use crate::error::{Refusal, TlsStep};
use crate::transport::tls::link::Cmd;
use crate::transport::tls::test_support::{
    config, consortium, foreign, free_addrs, mesh, pattern, start,
};

#[test]
fn mesh_exchanges_messages_whatever_the_start_order() {
    let addrs = free_addrs();
    let configs = (0..PARTIES)
        .map(|i| config(consortium(), i, &addrs, 10))
        .collect();
    // Party 0 (listen only) starts last; the others keep dialling until it is up.
    let mut nets: Vec<TlsTransport> = start(configs, [400, 0, 150])
        .into_iter()
        .map(|r| r.expect("mesh connects"))
        .collect();
    for (i, n) in nets.iter().enumerate() {
        assert_eq!(n.me(), i);
        assert_eq!(n.local_addr().to_string(), addrs[i]);
    }
    for (i, n) in nets.iter_mut().enumerate() {
        for j in (0..PARTIES).filter(|&j| j != i) {
            n.send(j, vec![i as u8, j as u8]).expect("send");
            n.send(j, Vec::new()).expect("send empty");
            n.send(j, pattern(100_000, i as u8)).expect("send");
        }
    }
    for (i, n) in nets.iter_mut().enumerate() {
        for j in (0..PARTIES).filter(|&j| j != i) {
            assert_eq!(n.recv(j).expect("recv"), vec![j as u8, i as u8]);
            assert_eq!(n.recv(j).expect("recv"), Vec::<u8>::new());
            assert_eq!(n.recv(j).expect("recv"), pattern(100_000, j as u8));
        }
        assert!(matches!(n.send(i, vec![]), Err(MpcError::Config(_))));
        assert!(matches!(n.recv(3), Err(MpcError::Config(_))));
    }
}

#[test]
fn large_simultaneous_exchange_and_throughput() {
    const BIG: usize = 32 << 20;
    let nets = mesh(&free_addrs());
    // Everybody sends 32 MiB to both others at once, then receives.
    let started = Instant::now();
    let handles: Vec<_> = nets
        .into_iter()
        .map(|mut n| {
            thread::spawn(move || {
                let me = n.me();
                for j in (0..PARTIES).filter(|&j| j != me) {
                    n.send(j, pattern(BIG, (me * 3 + j) as u8)).expect("send");
                }
                for j in (0..PARTIES).filter(|&j| j != me) {
                    let got = n.recv(j).expect("recv 32 MiB");
                    assert!(
                        got == pattern(BIG, (j * 3 + me) as u8),
                        "{j} -> {me} corrupted"
                    );
                }
                n
            })
        })
        .collect();
    let mut nets: Vec<TlsTransport> = handles
        .into_iter()
        .map(|h| h.join().expect("no panic"))
        .collect();
    eprintln!(
        "6 x 32 MiB simultaneous exchange: {:.2} s",
        started.elapsed().as_secs_f64()
    );

    // 64 MiB from party 0 to party 1 and back.
    let payload = pattern(64 << 20, 42);
    let mut p1 = nets.remove(1);
    let echo = thread::spawn(move || {
        let m = p1.recv(0).expect("recv at 1");
        p1.send(0, m).expect("echo");
        p1
    });
    let t = Instant::now();
    nets[0].send(1, payload.clone()).expect("send");
    let back = nets[0].recv(1).expect("echo back");
    let secs = t.elapsed().as_secs_f64();
    assert!(back == payload, "echo corrupted");
    let _p1 = echo.join().expect("no panic");
    eprintln!(
        "64 MiB round trip over TLS on loopback: {secs:.3} s = {:.0} MB/s",
        2.0 * 64.0 * 1.048_576 / secs
    );
}

#[test]
fn dropped_party_makes_the_others_fail_fast() {
    let [mut a, mut b, mut c] = mesh(&free_addrs());
    c.send(0, b"bye 0".to_vec()).expect("send");
    c.send(1, b"bye 1".to_vec()).expect("send");
    drop(c);
    let t = Instant::now();
    assert_eq!(a.recv(2).expect("last message"), b"bye 0");
    assert_eq!(b.recv(2).expect("last message"), b"bye 1");
    for n in [&mut a, &mut b] {
        match n.recv(2) {
            Err(MpcError::Disconnected { peer, .. }) => assert_eq!(peer, Peer::Party(2)),
            other => panic!("expected Disconnected, got {other:?}"),
        }
    }
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "well before the 20 s timeout"
    );
    // The rest of the mesh still works.
    a.send(1, b"still here".to_vec()).expect("send");
    assert_eq!(b.recv(0).expect("recv"), b"still here");
}

#[test]
fn killed_party_makes_the_others_fail_fast() {
    let [mut a, mut b, c] = mesh(&free_addrs());
    c.sever();
    let t = Instant::now();
    for n in [&mut a, &mut b] {
        assert!(
            matches!(n.recv(2), Err(MpcError::Disconnected { ref peer, .. }) if *peer == Peer::Party(2))
        );
    }
    assert!(t.elapsed() < Duration::from_secs(5));
    drop(c);
}

#[test]
fn stalled_party_times_out() {
    let [mut a, b, _c] = mesh(&free_addrs());
    a.set_timeout(Duration::from_millis(400));
    let t = Instant::now();
    match a.recv(1) {
        Err(MpcError::Timeout { peer, secs }) => {
            assert_eq!(peer, Peer::Party(1));
            assert_eq!(secs, 1);
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(390) && waited < Duration::from_secs(3));
    drop(b);
}

#[test]
fn client_certificate_from_another_ca_is_rejected() {
    let addrs = free_addrs();
    let mut configs: Vec<PartyConfig> = (0..PARTIES)
        .map(|i| config(consortium(), i, &addrs, 3))
        .collect();
    // Party 2 trusts the right CA but presents a certificate from another one.
    configs[2].cert = foreign().join("party-2.crt");
    configs[2].key = foreign().join("party-2.key");
    let t = Instant::now();
    let results = start(configs, [0, 0, 0]);
    // The listener's alert tells party 2 that its certificate was refused.
    match &results[2] {
        Err(MpcError::Tls {
            peer,
            step: TlsStep::Certificate,
            ..
        }) => assert!(*peer == Peer::Party(0) || *peer == Peer::Party(1), "{peer}"),
        Err(e) => panic!("expected a certificate refusal, got {e:?}"),
        Ok(_) => panic!("party 2 joined with a foreign certificate"),
    }
    // Party 2 gives up at its first refusal, so one listener may never see it (Timeout);
    // the one that refused it reports the certificate error.
    let mut refused = 0;
    for r in &results[..2] {
        match r {
            Err(MpcError::Tls {
                peer: Peer::Waiting { parties, .. },
                step: TlsStep::Certificate,
                ..
            }) => {
                assert_eq!(parties, &[2]);
                refused += 1;
            }
            Err(MpcError::Timeout { peer, .. }) => assert_eq!(*peer, Peer::Parties(vec![2])),
            Err(e) => panic!("expected a certificate refusal or Timeout, got {e:?}"),
            Ok(_) => panic!("mesh formed without party 2"),
        }
    }
    assert!(refused >= 1, "no listener reported the foreign certificate");
    assert!(t.elapsed() < Duration::from_secs(8));
}

#[test]
fn server_certificate_from_another_ca_is_rejected() {
    let addrs = free_addrs();
    let mut configs: Vec<PartyConfig> = (0..PARTIES)
        .map(|i| config(consortium(), i, &addrs, 3))
        .collect();
    configs[0].cert = foreign().join("party-0.crt");
    configs[0].key = foreign().join("party-0.key");
    let results = start(configs, [0, 0, 0]);
    // Party 1 only dials party 0, so it sees the certificate error.
    match &results[1] {
        Err(MpcError::Tls {
            peer,
            step: TlsStep::Certificate,
            ..
        }) => assert_eq!(*peer, Peer::Party(0)),
        Err(e) => panic!("expected a certificate refusal, got {e:?}"),
        Ok(_) => panic!("accepted a foreign server certificate"),
    }
    // Party 2 fails on party 0's certificate, or first on party 1 having given up.
    match &results[2] {
        Err(MpcError::Tls { peer, step, .. }) => assert!(
            (*peer == Peer::Party(0) && *step == TlsStep::Certificate) || *peer == Peer::Party(1),
            "{peer}: {step:?}"
        ),
        Err(e) => panic!("expected Tls, got {e:?}"),
        Ok(_) => panic!("accepted a foreign server certificate"),
    }
    // Party 0 hears both diallers' alerts refusing its certificate.
    assert!(
        matches!(
            &results[0],
            Err(MpcError::Tls {
                step: TlsStep::Certificate,
                ..
            })
        ),
        "{:?}",
        results[0].as_ref().err()
    );
}

#[test]
fn certificate_of_the_wrong_party_is_rejected() {
    let addrs = free_addrs();
    let d = consortium();
    let mut rogue = config(d, 2, &addrs, 3);
    rogue.cert = d.join("party-1.crt");
    rogue.key = d.join("party-1.key");
    // Locally, the configuration is refused outright.
    assert!(matches!(rogue.validate(), Err(MpcError::Config(_))));
    assert!(matches!(
        TlsTransport::connect(&rogue),
        Err(MpcError::Config(_))
    ));

    // A party 2 that presents party 1's certificate anyway is refused by both listeners.
    let honest: Vec<_> = (0..2)
        .map(|i| {
            let c = config(d, i, &addrs, 3);
            thread::spawn(move || TlsTransport::connect(&c))
        })
        .collect();
    thread::sleep(Duration::from_millis(500)); // parties 0 and 1 connect first
    let identity = Identity::load(&rogue.ca_cert, &rogue.cert, &rogue.key).expect("files");
    match TlsTransport::connect_with(&rogue, &identity) {
        Err(MpcError::Tls {
            peer,
            step: TlsStep::PeerRefused(Refusal::OwnCertificate | Refusal::AlreadyConnected),
            ..
        }) => assert!(peer == Peer::Party(0) || peer == Peer::Party(1), "{peer}"),
        Err(e) => panic!("expected a refusal, got {e:?}"),
        Ok(_) => panic!("rogue joined"),
    }
    // Normally both listeners refused the rogue (party 0: party-1 already connected;
    // party 1: its own certificate). Under load the rogue may reach party 0 before the real
    // party 1, which is then the one refused; or be abandoned before reaching party 1.
    let mut refused = 0;
    for h in honest {
        match h.join().expect("no panic") {
            Err(MpcError::Tls {
                step: TlsStep::Refused(Refusal::OwnCertificate | Refusal::AlreadyConnected),
                ..
            }) => refused += 1,
            Err(MpcError::Timeout { peer, .. }) => assert_eq!(peer, Peer::Parties(vec![2])),
            Err(e) => panic!("expected a refusal, got {e:?}"),
            Ok(_) => panic!("mesh formed with a rogue"),
        }
    }
    assert!(refused >= 1);
}

#[test]
fn oversized_frame_is_malformed() {
    let [mut a, mut b, _c] = mesh(&free_addrs());
    let huge = u32::try_from(crate::transport::MAX_MESSAGE + 1)
        .expect("fits")
        .to_le_bytes();

    // Party 1 sends one good frame, then a header announcing more than MAX_MESSAGE.
    let link = b.link(0).expect("link");
    link.send(b"fine".to_vec()).expect("send");
    link.out.send(Cmd::Raw(huge.to_vec())).expect("raw");
    assert_eq!(a.recv(1).expect("good frame first"), b"fine");
    // (A link's reader refuses a frame as Malformed only for its size.)
    match a.recv(1) {
        Err(MpcError::Malformed { peer, .. }) => assert_eq!(peer, Peer::Party(1)),
        other => panic!("expected Malformed, got {other:?}"),
    }
    assert!(matches!(a.recv(1), Err(MpcError::Disconnected { .. })));
    // The receiver ended the connection, so the sender learns it too, without waiting.
    let t = Instant::now();
    assert!(matches!(b.recv(0), Err(MpcError::Disconnected { .. })));
    assert!(t.elapsed() < Duration::from_secs(5));
}
