//! Tests of the configuration files: loading, resolving relative paths, validating.

use std::fs;

use tempfile::TempDir;

use super::*;
use crate::transport::tls::ClientLink;
use crate::transport::tls::identity::MAX_FILE;
use crate::transport::tls::test_support::{consortium, free_addrs};

#[test]
fn config_files_load_resolve_and_validate() {
    // The configuration files name their key material relative to their own directory.
    let dir = TempDir::new().expect("temp dir");
    let d = dir.path();
    for f in [
        "ca.crt",
        "party-0.crt",
        "party-0.key",
        "party-1.crt",
        "party-1.key",
        "driver.crt",
        "driver.key",
    ] {
        fs::copy(consortium().join(f), d.join(f)).expect("copy");
    }
    let addrs = free_addrs();
    let text = format!(
        r#"{{"version": 1, "id": 1, "parties": {addrs:?}, "ca_cert": "ca.crt",
            "cert": "party-1.crt", "key": "party-1.key", "timeout_secs": 20}}"#
    );
    let path = d.join("party-1.json");
    fs::write(&path, &text).expect("write");
    let loaded = PartyConfig::load(&path).expect("valid config");
    let mut expected = PartyConfig::for_dir(d, 1, &addrs, 20);
    expected.connect_timeout_secs = DEFAULT_CONNECT_TIMEOUT_SECS;
    assert_eq!(loaded, expected);
    let json = serde_json::to_string(&loaded).expect("serialize");
    assert_eq!(
        serde_json::from_str::<PartyConfig>(&json).expect("parse"),
        loaded
    );

    let bad_json = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
        edit(&mut v);
        fs::write(&path, v.to_string()).expect("write");
        PartyConfig::load(&path)
    };
    assert!(matches!(
        bad_json(&|v| v["extra"] = 1.into()),
        Err(MpcError::Config(_))
    ));
    assert!(matches!(
        bad_json(&|v| v["version"] = 2.into()),
        Err(MpcError::Config(_))
    ));
    assert!(matches!(
        bad_json(&|v| v["id"] = 3.into()),
        Err(MpcError::Config(_))
    ));
    assert!(matches!(
        bad_json(&|v| v["id"] = 0.into()),
        Err(MpcError::Config(_))
    ));
    assert!(matches!(
        bad_json(&|v| v["timeout_secs"] = 0.into()),
        Err(MpcError::Config(_))
    ));
    assert!(matches!(
        bad_json(&|v| v["parties"] = serde_json::json!(["127.0.0.1:1", "127.0.0.1:2"])),
        Err(MpcError::Config(_))
    ));
    assert!(matches!(
        bad_json(
            &|v| v["parties"] = serde_json::json!(["127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:3"])
        ),
        Err(MpcError::Config(_))
    ));
    assert!(matches!(
        bad_json(&|v| v["key"] = "missing.key".into()),
        Err(MpcError::Io { .. })
    ));
    fs::write(&path, vec![b' '; (MAX_FILE + 1) as usize]).expect("write");
    assert!(matches!(
        PartyConfig::load(&path),
        Err(MpcError::FileTooLarge {
            limit: MAX_FILE,
            ..
        })
    ));

    let client_path = d.join("driver.json");
    let ctext = format!(
        r#"{{"version": 1, "parties": {addrs:?}, "ca_cert": "ca.crt", "cert": "driver.crt",
            "key": "driver.key", "timeout_secs": 5, "connect_timeout_secs": 2}}"#
    );
    fs::write(&client_path, ctext).expect("write");
    let c = ClientLinkConfig::load(&client_path).expect("client config");
    assert_eq!(c.cert, d.join("driver.crt"));
    assert_eq!(c.name().expect("name"), "driver");
    // A party certificate cannot open a client link.
    let mut as_party = c.clone();
    as_party.cert = d.join("party-0.crt");
    as_party.key = d.join("party-0.key");
    assert!(matches!(as_party.validate(), Err(MpcError::Config(_))));
    assert!(matches!(as_party.name(), Err(MpcError::Config(_))));
    assert!(matches!(
        ClientLink::connect(&as_party, 0),
        Err(MpcError::Config(_))
    ));
}
