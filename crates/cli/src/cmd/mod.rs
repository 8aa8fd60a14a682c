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

/// A 32-byte digest as lowercase hex.
pub(crate) fn hex_digest(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}
