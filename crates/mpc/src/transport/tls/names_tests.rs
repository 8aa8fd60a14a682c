//! Tests of [`super::identity_of`]: a certificate names the participant of its single DNS name.

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

use super::*;

/// A certificate with the given DNS names and CN, self-signed (identity_of does not verify;
/// the handshake does).
fn cert_der(dns: &[&str], cn: Option<&str>) -> Vec<u8> {
    let mut params = CertificateParams::new(dns.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .expect("params");
    params.distinguished_name = DistinguishedName::new();
    if let Some(cn) = cn {
        params.distinguished_name.push(DnType::CommonName, cn);
    }
    let key = KeyPair::generate().expect("key");
    params.self_signed(&key).expect("cert").der().to_vec()
}

#[test]
fn identity_follows_the_single_dns_name() {
    assert_eq!(
        identity_of(&cert_der(&["party-2"], Some("party-2"))),
        Ok(PeerId::Party(2))
    );
    assert_eq!(
        identity_of(&cert_der(&["hospital-a"], None)),
        Ok(PeerId::Client("hospital-a".into()))
    );
    for (dns, cn, fault) in [
        (&["party-3"][..], None, IdentityFault::NotAParty),
        (&["party-01"][..], None, IdentityFault::NotAParty),
        (
            &["party-1", "mallory"][..],
            None,
            IdentityFault::SeveralDnsNames,
        ),
        (&[][..], Some("party-1"), IdentityFault::NoDnsName),
        (&["mallory"][..], Some("party-1"), IdentityFault::CnMismatch),
        (&["Hospital"][..], None, IdentityFault::BadName),
    ] {
        match identity_of(&cert_der(dns, cn)) {
            Err(bad) => assert_eq!(bad.fault, fault, "{dns:?} {cn:?}: {bad}"),
            Ok(id) => panic!("{dns:?} {cn:?} named {id:?}"),
        }
    }
    assert!(matches!(
        identity_of(b"not a certificate"),
        Err(BadIdentity {
            fault: IdentityFault::Unparsable,
            ..
        })
    ));
}

#[test]
fn client_names_are_dns_labels_and_not_reserved() {
    for good in ["a", "hospital-a", "bank-2", &"x".repeat(63)] {
        assert!(matches!(check_client_name(good), Ok(())), "{good}");
    }
    for bad in [
        "",
        "Hospital",
        "2bank",
        "bank-",
        "bank_b",
        &"x".repeat(64),
        "party-1",
        "ca",
    ] {
        assert!(
            matches!(check_client_name(bad), Err(MpcError::Config(_))),
            "{bad:?}"
        );
    }
}
