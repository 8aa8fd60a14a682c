//! Helpers of the TLS tests: loopback addresses, the certificate sets (made once per test
//! binary and shared, read-only), party configurations and meshes.

use std::fs;
use std::net::TcpListener;
use std::path::Path;
use std::sync::LazyLock;
use std::thread;
use std::time::Duration;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair,
};
use tempfile::TempDir;

use super::identity::write_new;
use super::{PartyConfig, TlsTransport};
use crate::Result;
use crate::pki::{add_client, keygen};
use crate::transport::{PARTIES, PartyId};

/// The consortium of the tests: parties 0 to 2; clients `hospital-a` (from [`keygen`]),
/// `driver` (added later with [`add_client`]) and `mallory` (a certificate from the CA whose
/// CN claims `party-1` while its DNS name is `mallory`). Made once; tests only read it.
/// (A static is never dropped: the directory stays in the system's temp dir.)
static CONSORTIUM: LazyLock<TempDir> = LazyLock::new(|| {
    let dir = TempDir::with_prefix("trustspace-mpc-tls-").expect("temp dir");
    keygen(dir.path(), PARTIES, &["hospital-a"]).expect("keygen");
    add_client(dir.path(), "driver").expect("add client");
    mismatched_client(dir.path(), "mallory", "party-1");
    dir
});

/// Another consortium (its own CA): its certificates must be refused by [`CONSORTIUM`]'s.
static FOREIGN: LazyLock<TempDir> = LazyLock::new(|| {
    let dir = TempDir::with_prefix("trustspace-mpc-tls-foreign-").expect("temp dir");
    keygen(dir.path(), PARTIES, &[]).expect("keygen");
    dir
});

/// The shared consortium's directory.
pub(super) fn consortium() -> &'static Path {
    CONSORTIUM.path()
}

/// The foreign consortium's directory.
pub(super) fn foreign() -> &'static Path {
    FOREIGN.path()
}

/// Three free loopback addresses (bound together, then released).
pub(super) fn free_addrs() -> Vec<String> {
    let held: Vec<TcpListener> = (0..PARTIES)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind loopback"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().expect("addr").to_string())
        .collect()
}

/// Party `id`'s configuration in `dir`, receive timeout 20 s, the given connect timeout.
pub(super) fn config(dir: &Path, id: PartyId, addrs: &[String], connect_secs: u64) -> PartyConfig {
    let mut c = PartyConfig::for_dir(dir, id, addrs, 20);
    c.connect_timeout_secs = connect_secs;
    c
}

/// Connects the three parties concurrently, party `i` starting after `delays[i]` ms.
pub(super) fn start(configs: Vec<PartyConfig>, delays: [u64; 3]) -> Vec<Result<TlsTransport>> {
    let handles: Vec<_> = configs
        .into_iter()
        .zip(delays)
        .map(|(c, d)| {
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(d));
                TlsTransport::connect(&c)
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("no panic"))
        .collect()
}

/// A complete mesh of the shared consortium on `addrs`.
pub(super) fn mesh(addrs: &[String]) -> [TlsTransport; 3] {
    let configs = (0..PARTIES)
        .map(|i| config(consortium(), i, addrs, 10))
        .collect();
    let mut out = start(configs, [0, 0, 0]).into_iter();
    std::array::from_fn(|_| out.next().expect("three").expect("mesh connects"))
}

/// `len` bytes of `seed`, with a marker every 4093 bytes (so a misplaced chunk shows).
pub(super) fn pattern(len: usize, seed: u8) -> Vec<u8> {
    let mut v = vec![seed; len];
    for (i, b) in v.iter_mut().enumerate().step_by(4093) {
        *b = (i / 4093) as u8 ^ seed;
    }
    v
}

/// Issues a client certificate with a DNS name and a different CN, signed by `dir`'s CA.
fn mismatched_client(dir: &Path, dns: &str, cn: &str) {
    let ca_pem = fs::read_to_string(dir.join("ca.crt")).expect("ca");
    let ca_key =
        KeyPair::from_pem(&fs::read_to_string(dir.join("ca.key")).expect("key")).expect("ca key");
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key).expect("issuer");
    let mut params = CertificateParams::new(vec![dns.to_owned()]).expect("params");
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, &issuer).expect("sign");
    write_new(&dir.join(format!("{dns}.crt")), &cert.pem(), false).expect("write");
    write_new(&dir.join(format!("{dns}.key")), &key.serialize_pem(), true).expect("write");
}
