//! Fixtures shared by the integration tests: the consortium's certificates, made once per test
//! binary and only read by the tests (each test still binds its own loopback ports and writes
//! into its own temp dirs).

use std::net::TcpListener;
use std::path::Path;
use std::sync::LazyLock;

use tempfile::TempDir;
use trustspace_mpc::pki::keygen;

/// The data holders of the networked tests.
pub const HOLDERS: [&str; 3] = ["hospital-a", "hospital-b", "hospital-c"];

/// The consortium: the three parties, [`HOLDERS`], `analyst` (a recipient) and `mallory` (a
/// client no query names). A static is never dropped: the directory stays in the system's
/// temp dir after the run.
static CONSORTIUM: LazyLock<TempDir> = LazyLock::new(|| {
    let dir = TempDir::with_prefix("trustspace-mpc-it-").expect("temp dir");
    let mut clients = HOLDERS.to_vec();
    clients.extend(["analyst", "mallory"]);
    keygen(dir.path(), 3, &clients).expect("keygen");
    dir
});

/// The consortium's key material (`ca.crt`, `party-{i}.*`, `{client}.*`).
pub fn consortium() -> &'static Path {
    CONSORTIUM.path()
}

/// Three free loopback addresses (bound together, then released).
pub fn free_addrs() -> Vec<String> {
    let held: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind loopback"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().expect("addr").to_string())
        .collect()
}
