//! Property tests of every codec on the wire and on disk: `decode(encode(x)) == x` for session
//! views, mesh frames, control messages, share frames, engine messages, the listener's verdict,
//! the transport's framing (a stream cut anywhere) and the network configurations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use trustspace_mpc::engine::Mode;
use trustspace_mpc::error::{IdentityFault, Peer, Refusal};
use trustspace_mpc::fuzzing::{
    Control, Deframer, Verdict, decode_control, decode_shares, decode_words, encode_control,
    encode_shares, encode_words, read_verdict, refusal_frame,
};
use trustspace_mpc::query::Strategy as Contributions;
use trustspace_mpc::service::QuerySpec;
use trustspace_mpc::service::session::{MeshMsg, SessionId, View};
use trustspace_mpc::share::{Kind, Shares};
use trustspace_mpc::transport::tls::{ClientLinkConfig, PartyConfig};

/// A client name as the transport admits them (never a party's).
fn client_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,20}".prop_filter("not a party name", |n| !n.starts_with("party-"))
}

fn view() -> impl Strategy<Value = View> {
    (
        any::<[u8; 32]>(),
        prop::collection::btree_map(client_name(), any::<[u8; 32]>(), 0..6),
    )
        .prop_map(|(query, joins)| View { query, joins })
}

fn mesh_msg() -> impl Strategy<Value = MeshMsg> {
    prop_oneof![
        (any::<[u8; 32]>(), prop::collection::vec(any::<u8>(), 0..64)).prop_map(|(s, body)| {
            MeshMsg::Data {
                session: SessionId(s),
                body,
            }
        }),
        view().prop_map(MeshMsg::Hello),
        (any::<[u8; 16]>(), view(), "\\PC{0,40}").prop_map(|(nonce, view, reason)| {
            MeshMsg::Abort {
                nonce,
                view,
                reason,
            }
        }),
        any::<[u8; 16]>().prop_map(|nonce| MeshMsg::AbortAck { nonce }),
        Just(MeshMsg::Ping),
    ]
}

fn hex64() -> impl Strategy<Value = String> {
    any::<[u8; 32]>().prop_map(|b| SessionId(b).to_hex())
}

fn query_spec() -> impl Strategy<Value = QuerySpec> {
    (
        "\\PC{0,60}",
        "\\PC{0,60}",
        prop::collection::vec(client_name(), 0..4),
        prop::collection::vec(client_name(), 0..3),
        prop_oneof![Just(Mode::SemiHonest), Just(Mode::Malicious)],
        prop_oneof![Just(Contributions::Partials), Just(Contributions::Rows)],
    )
        .prop_map(
            |(sql, schema, holders, recipients, mode, strategy)| QuerySpec {
                sql,
                schema,
                holders,
                recipients,
                mode,
                strategy,
            },
        )
}

fn control() -> impl Strategy<Value = Control> {
    prop_oneof![
        (any::<u32>(), query_spec(), hex64()).prop_map(|(version, query, nonce)| Control::Join {
            version,
            query,
            nonce
        }),
        (
            hex64(),
            prop::collection::vec((client_name(), hex64()), 0..4)
        )
            .prop_map(|(session, joins)| Control::Session { session, joins }),
        (hex64(), any::<u64>(), any::<u32>()).prop_map(|(session, rows, vectors)| {
            Control::Contribution {
                session,
                rows,
                vectors,
            }
        }),
        (hex64(), any::<u64>()).prop_map(|(session, words)| Control::Output { session, words }),
        hex64().prop_map(|session| Control::Done { session }),
        ("\\PC{0,40}", prop::collection::vec(client_name(), 0..3)).prop_map(
            |(reason, disagreeing)| Control::Contested {
                reason,
                disagreeing
            }
        ),
        // Any text, control characters and quotes included: JSON escapes them.
        ".{0,40}".prop_map(|reason| Control::Error { reason }),
    ]
}

fn shares() -> impl Strategy<Value = Shares> {
    prop::collection::vec((any::<u64>(), any::<u64>()), 0..40).prop_map(|pairs| {
        let (a, b) = pairs.into_iter().unzip();
        Shares {
            kind: Kind::Arithmetic,
            a,
            b,
        }
    })
}

/// Every refusal the listener can send.
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

/// Three distinct `host:port` addresses.
fn addresses() -> impl Strategy<Value = Vec<String>> {
    ("[a-z][a-z0-9.-]{0,20}", 1u16..=65533).prop_map(|(host, port)| {
        (0..3)
            .map(|i| format!("{host}:{}", port + i))
            .collect::<Vec<_>>()
    })
}

/// A path as a configuration names it: relative or absolute.
fn path() -> impl Strategy<Value = PathBuf> {
    "/?[a-z0-9._-]{1,12}(/[a-z0-9._-]{1,12}){0,2}".prop_map(PathBuf::from)
}

/// Where the configurations come from: relative paths resolve against `/etc/mpc`.
const ORIGIN: &str = "/etc/mpc/config.json";

proptest! {
    #[test]
    fn a_view_decodes_to_itself_and_its_encoding_is_canonical(v in view()) {
        let bytes = v.encode();
        let back = View::decode(&bytes, &Peer::Party(1)).expect("own encoding");
        prop_assert_eq!(back.encode(), bytes);
        prop_assert_eq!(back.id(), v.id());
        prop_assert_eq!(back, v);
    }

    #[test]
    fn a_mesh_frame_decodes_to_itself(m in mesh_msg()) {
        let back = MeshMsg::decode(m.encode(), &Peer::Party(0)).expect("own encoding");
        prop_assert_eq!(back, m);
    }

    #[test]
    fn a_control_message_decodes_to_itself(c in control()) {
        let back = decode_control(&encode_control(&c), &Peer::Party(2)).expect("own encoding");
        prop_assert_eq!(back, c);
    }

    #[test]
    fn a_share_frame_decodes_to_itself(s in shares(), tag in any::<[u8; 32]>()) {
        let id = SessionId(tag);
        let frame = encode_shares(&id, &s);
        let back = decode_shares(&id, &frame, s.len(), &Peer::Client("h".into()))
            .expect("own encoding");
        prop_assert_eq!(back, s);
    }

    #[test]
    fn an_engine_message_decodes_to_itself(w in prop::collection::vec(any::<u64>(), 0..64)) {
        prop_assert_eq!(decode_words(&encode_words(&w), w.len(), 1).expect("own encoding"), w);
    }

    #[test]
    fn a_session_id_reads_back_from_its_hex(b in any::<[u8; 32]>()) {
        let id = SessionId(b);
        prop_assert_eq!(SessionId::from_hex(&id.to_hex()), Some(id));
        prop_assert_eq!(SessionId::from_hex(&id.to_hex().to_uppercase()), Some(id));
    }

    #[test]
    fn a_refusal_frame_reads_back_as_its_refusal(k in 0..REFUSALS.len(), reason in "[ -~]{0,200}") {
        let r = REFUSALS[k];
        prop_assert_eq!(read_verdict(&refusal_frame(r, &reason)), Verdict::Refused(r, reason));
    }

    #[test]
    fn frames_come_out_of_a_stream_cut_anywhere(
        msgs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..8),
        cuts in prop::collection::vec(1usize..64, 1..16),
    ) {
        let mut stream = Vec::new();
        for m in &msgs {
            stream.extend_from_slice(&u32::try_from(m.len()).expect("small").to_le_bytes());
            stream.extend_from_slice(m);
        }
        let mut d = Deframer::default();
        let mut frames = Vec::new();
        let mut rest = &stream[..];
        for size in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (piece, tail) = rest.split_at((*size).min(rest.len()));
            d.push(piece, &mut frames).expect("no frame over the limit");
            rest = tail;
        }
        prop_assert_eq!(frames, msgs);
    }

    #[test]
    fn a_party_configuration_reads_back_from_its_json(
        id in 0usize..3,
        parties in addresses(),
        (ca_cert, cert, key) in (path(), path(), path()),
        timeout_secs in 1u64..=86_400,
        connect_timeout_secs in 1u64..=86_400,
    ) {
        let origin = Path::new(ORIGIN);
        let written = PartyConfig {
            version: 1, id, parties, ca_cert, cert, key, timeout_secs, connect_timeout_secs,
        };
        let json = written.to_json().expect("UTF-8 paths");
        let read = PartyConfig::from_bytes(json.as_bytes(), origin).expect("valid fields");
        // Relative paths now resolve against the file's directory, once.
        prop_assert_eq!(&read.ca_cert, &Path::new("/etc/mpc").join(&written.ca_cert));
        prop_assert_eq!(
            PartyConfig::from_bytes(read.to_json().expect("UTF-8").as_bytes(), origin)
                .expect("valid fields"),
            read
        );
    }

    #[test]
    fn a_client_configuration_reads_back_from_its_json(
        parties in addresses(),
        (ca_cert, cert, key) in (path(), path(), path()),
        timeout_secs in 1u64..=86_400,
    ) {
        let origin = Path::new(ORIGIN);
        let written = ClientLinkConfig {
            version: 1, parties, ca_cert, cert, key, timeout_secs, connect_timeout_secs: 30,
        };
        let read = ClientLinkConfig::from_bytes(
            written.to_json().expect("UTF-8 paths").as_bytes(),
            origin,
        )
        .expect("valid fields");
        prop_assert_eq!(&read.key, &Path::new("/etc/mpc").join(&written.key));
        prop_assert_eq!(
            ClientLinkConfig::from_bytes(read.to_json().expect("UTF-8").as_bytes(), origin)
                .expect("valid fields"),
            read
        );
    }
}

#[test]
fn an_abort_reason_over_the_limit_is_cut_on_encoding_and_refused_on_decoding() {
    let long = "é".repeat(3000); // 6000 bytes: cut at a character boundary, to 4096
    let m = MeshMsg::Abort {
        nonce: [7; 16],
        view: View::default(),
        reason: long.clone(),
    };
    match MeshMsg::decode(m.encode(), &Peer::Party(1)).expect("cut to the limit") {
        MeshMsg::Abort { reason, .. } => {
            assert_eq!(reason.len(), 4096);
            assert!(long.starts_with(&reason));
        }
        other => panic!("{other:?}"),
    }
    // A frame carrying more than the limit is refused, naming the peer.
    let mut frame = m.encode();
    frame.truncate(1 + 16 + 4 + 34);
    frame.extend_from_slice(&[b'x'; 4097]);
    assert!(matches!(
        MeshMsg::decode(frame, &Peer::Party(1)),
        Err(trustspace_mpc::MpcError::Malformed {
            peer: Peer::Party(1),
            ..
        })
    ));
}

#[test]
fn a_view_with_names_out_of_order_or_repeated_is_refused() {
    let mut joins = BTreeMap::new();
    joins.insert("b".to_string(), [1; 32]);
    joins.insert("a".to_string(), [2; 32]);
    let good = View {
        query: [0; 32],
        joins,
    }
    .encode();
    // Swap the two joins (each 1 + 1 + 32 bytes after the 34-byte head).
    let mut swapped = good[..34].to_vec();
    swapped.extend_from_slice(&good[34 + 34..]);
    swapped.extend_from_slice(&good[34..34 + 34]);
    let mut repeated = good[..34 + 34].to_vec();
    repeated.extend_from_slice(&good[34..34 + 34]);
    for bad in [swapped, repeated] {
        assert!(matches!(
            View::decode(&bad, &Peer::Party(2)),
            Err(trustspace_mpc::MpcError::Malformed {
                peer: Peer::Party(2),
                ..
            })
        ));
    }
}
