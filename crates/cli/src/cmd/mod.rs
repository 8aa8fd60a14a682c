//! The binaries' command handlers, one module per binary. Each holds the binary's clap
//! arguments and handlers that take their inputs as values (paths, options), return typed
//! results (`anyhow::Result`, with typed errors where a caller may branch on the cause) and
//! write what they print to a `&mut dyn Write`; `src/bin/*.rs` parse, call, and map the error
//! to the exit code.
//!
//! - [`dataspace`]: generate and validate datasets, run the main job, a main-job party.
//! - [`zkprove`]: commit, set up, prove, merge, register, and the EVM exports and chain calls.
//! - [`zkverify`]: verify a bundle against a commitment, a ledger, an evidence file or a chain.
//! - [`ledger`]: create, serve, inspect, monitor and stress a ledger.
//! - [`mpc_party`]: a compute party and a test deployment's key material.
//! - [`mpc_query`]: join a secret-shared query as a holder and/or recipient.

pub mod dataspace;
pub mod ledger;
pub mod mpc_party;
pub mod mpc_query;
pub mod zkprove;
pub mod zkverify;

/// A party named on the command line: 64 hex digits (its public key) or its key file (from
/// `ledger keygen`).
pub(crate) fn public_key(s: &str) -> anyhow::Result<trustspace_ledger_verifier::PublicKey> {
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(trustspace_ledger_verifier::PublicKey::from_hex(s)?);
    }
    Ok(trustspace_ledger_verifier::Identity::load(std::path::Path::new(s))?.public())
}

/// Exactly 32 bytes of hex (a digest on the command line).
pub(crate) fn digest_arg(s: &str, what: &str) -> anyhow::Result<[u8; 32]> {
    let mut d = [0u8; 32];
    hex::decode_to_slice(s, &mut d).map_err(|_| anyhow::anyhow!("{what} is 64 hex digits"))?;
    Ok(d)
}

/// A 32-byte digest as lowercase hex.
pub(crate) fn hex_digest(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}
