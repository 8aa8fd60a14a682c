//! Tests of [`super::keygen`] and [`super::add_client`]: the files, their modes, the names the
//! certificates carry, and refusals.

use tempfile::TempDir;

use super::*;
use crate::transport::tls::identity::Identity;
use crate::transport::tls::names::PeerId;

#[test]
fn keygen_writes_a_usable_deployment() {
    let dir = TempDir::new().expect("temp dir");
    let d = dir.path().join("deploy");
    keygen(&d, PARTIES, &["hospital-a", "driver"]).expect("keygen");
    for name in [
        "ca",
        "party-0",
        "party-1",
        "party-2",
        "hospital-a",
        "driver",
    ] {
        let crt = fs::read_to_string(d.join(format!("{name}.crt"))).expect("cert");
        assert!(crt.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(!crt.contains("PRIVATE KEY"));
        let key = d.join(format!("{name}.key"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&key).expect("key").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{name}.key");
        }
        assert!(
            fs::read_to_string(&key)
                .expect("key")
                .contains("PRIVATE KEY")
        );
    }
    let ca = d.join("ca.crt");
    for i in 0..PARTIES {
        let id = Identity::load(
            &ca,
            &d.join(format!("party-{i}.crt")),
            &d.join(format!("party-{i}.key")),
        )
        .expect("party identity");
        assert_eq!(id.name, Ok(PeerId::Party(i)));
    }
    let id = Identity::load(&ca, &d.join("driver.crt"), &d.join("driver.key")).expect("client");
    assert_eq!(id.name, Ok(PeerId::Client("driver".into())));
    // A key that does not match the certificate is refused.
    assert!(matches!(
        Identity::load(&ca, &d.join("driver.crt"), &d.join("hospital-a.key")),
        Err(MpcError::Config(_))
    ));

    // Never overwrites; the existing CA stays.
    let before = fs::read(&ca).expect("ca");
    assert!(matches!(keygen(&d, PARTIES, &[]), Err(MpcError::Io { .. })));
    assert_eq!(fs::read(&ca).expect("ca"), before);

    add_client(&d, "bank-b").expect("add client");
    let id = Identity::load(&ca, &d.join("bank-b.crt"), &d.join("bank-b.key")).expect("new");
    assert_eq!(id.name, Ok(PeerId::Client("bank-b".into())));
    assert!(matches!(add_client(&d, "bank-b"), Err(MpcError::Io { .. })));

    let other = dir.path().join("other");
    assert!(matches!(keygen(&other, 2, &[]), Err(MpcError::Config(_))));
    for bad in [&["party-1"][..], &["ca"], &["Bad Name"], &["x", "x"], &[""]] {
        assert!(
            matches!(keygen(&other, PARTIES, bad), Err(MpcError::Config(_))),
            "{bad:?}"
        );
    }
    assert!(matches!(
        add_client(&d, "party-0"),
        Err(MpcError::Config(_))
    ));

    // A key file others can read is refused.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = d.join("driver.key");
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(matches!(
            Identity::load(&ca, &d.join("driver.crt"), &key),
            Err(MpcError::KeyExposed { mode: 0o644, .. })
        ));
    }
}
