//! Tests of client links: clients reach every party, impostors are refused on both sides, and
//! a client's oversized frame is malformed.

use std::sync::atomic::AtomicBool;

use super::*;
use crate::error::{IdentityFault, Refusal, TlsStep};
use crate::transport::tls::dial::dial;
use crate::transport::tls::identity::Identity;
use crate::transport::tls::link::Cmd;
use crate::transport::tls::names::party_name;
use crate::transport::tls::test_support::{consortium, free_addrs, mesh};

#[test]
fn clients_reach_parties_and_impostors_do_not() {
    let d = consortium();
    let addrs = free_addrs();
    let mut nets = mesh(&addrs);

    // A data holder sends to every party; each party answers.
    let cfg = ClientLinkConfig::for_dir(d, "hospital-a", &addrs, 10);
    let mut links: Vec<ClientLink> = (0..PARTIES)
        .map(|i| ClientLink::connect(&cfg, i).expect("client connects"))
        .collect();
    for (i, l) in links.iter_mut().enumerate() {
        assert_eq!(l.peer_name(), party_name(i));
        l.send(format!("share for {i}").into_bytes()).expect("send");
    }
    for (i, n) in nets.iter_mut().enumerate() {
        let mut c = n
            .accept_client(Duration::from_secs(5))
            .expect("client arrives");
        assert_eq!(c.peer_name(), "hospital-a");
        assert_eq!(
            c.recv().expect("share"),
            format!("share for {i}").into_bytes()
        );
        c.send(b"thanks".to_vec()).expect("reply");
        assert_eq!(links[i].recv().expect("reply"), b"thanks");
    }
    close_clients(links);
    // A client added later (add_client) is accepted too.
    let driver = ClientLinkConfig::for_dir(d, "driver", &addrs, 10);
    let mut q = ClientLink::connect(&driver, 2).expect("driver connects");
    let mut at2 = nets[2]
        .accept_client(Duration::from_secs(5))
        .expect("driver");
    assert_eq!(at2.peer_name(), "driver");
    q.send(b"SELECT".to_vec()).expect("send");
    assert_eq!(at2.recv().expect("query"), b"SELECT");

    // A certificate whose CN claims party-1 but whose DNS name is mallory is refused.
    let identity = Identity::load(
        &d.join("ca.crt"),
        &d.join("mallory.crt"),
        &d.join("mallory.key"),
    )
    .expect("files load");
    assert!(matches!(
        identity.name,
        Err(ref bad) if bad.fault == IdentityFault::CnMismatch
    ));
    let tls = identity.client_config().expect("config");
    let deadline = Instant::now() + Duration::from_secs(3);
    let stop = AtomicBool::new(false);
    let cn = Refusal::Identity(IdentityFault::CnMismatch);
    match dial(&addrs[0], 0, &tls, deadline, Duration::from_secs(5), &stop) {
        Err(MpcError::Tls {
            peer,
            step: TlsStep::PeerRefused(r),
            ..
        }) if r == cn => assert_eq!(peer, Peer::Party(0)),
        Err(e) => panic!("expected a refusal for the CN, got {e:?}"),
        Ok(_) => panic!("impostor accepted"),
    }
    match nets[0].accept_client(Duration::from_secs(5)) {
        Err(MpcError::Tls {
            step: TlsStep::Refused(r),
            ..
        }) if r == cn => {}
        Err(e) => panic!("expected a refusal for the CN, got {e:?}"),
        Ok(_) => panic!("impostor handed to the party"),
    }
    // A party-1 certificate cannot slip in once the mesh is up (duplicate).
    let p1 = Identity::load(
        &d.join("ca.crt"),
        &d.join("party-1.crt"),
        &d.join("party-1.key"),
    )
    .expect("files");
    let tls = p1.client_config().expect("config");
    assert!(matches!(
        dial(&addrs[0], 0, &tls, deadline, Duration::from_secs(5), &stop),
        Err(MpcError::Tls {
            step: TlsStep::PeerRefused(Refusal::AlreadyConnected),
            ..
        })
    ));
    // The dialler retried until its deadline (a party between meshes looks the same); each
    // attempt was refused and reported, none handed over as a client.
    let mut refusals = 0;
    loop {
        match nets[0].accept_client(Duration::from_millis(200)) {
            Err(MpcError::Tls {
                step: TlsStep::Refused(Refusal::AlreadyConnected),
                ..
            }) => refusals += 1,
            Err(MpcError::Timeout { .. }) => break,
            Err(e) => panic!("expected a duplicate's refusal or Timeout, got {e:?}"),
            Ok(_) => panic!("a duplicate party handed over as a client"),
        }
    }
    assert!(refusals >= 1);
}

#[test]
fn oversized_frame_from_a_client_is_malformed() {
    let addrs = free_addrs();
    let [a, _b, _c] = mesh(&addrs);
    let huge = u32::try_from(crate::transport::MAX_MESSAGE + 1)
        .expect("fits")
        .to_le_bytes();
    let cfg = ClientLinkConfig::for_dir(consortium(), "hospital-a", &addrs, 10);
    let client = ClientLink::connect(&cfg, 0).expect("connect");
    let mut at0 = a.accept_client(Duration::from_secs(5)).expect("client");
    client.link.out.send(Cmd::Raw(huge.to_vec())).expect("raw");
    assert!(
        matches!(at0.recv(), Err(MpcError::Malformed { ref peer, .. }) if *peer == Peer::Client("hospital-a".into()))
    );
}
