//! # trustspace-ledger-verifier
//!
//! A consortium ledger of dataset commitments, policies and proof results, and the verification
//! of proofs against it.
//!
//! - [`entry`]: signed, canonically encoded entries (dataset, policy, verdict).
//! - [`log`]: the RFC 9162 Merkle log, checkpoints co-signed by a quorum of validators,
//!   inclusion and consistency proofs.
//! - [`store`]: the embedded ledger (redb), the default; [`http`]: the same ledger as a small
//!   HTTP/JSON service and its client. Both implement [`view::LedgerView`].
//! - [`verify`](mod@verify): `verify(bundle, ledger) -> Verdict`, and self-contained evidence
//!   files that verify offline.
//! - [`rules`]: what an entry must satisfy, enforced by the server, every validator
//!   ([`validator`]) and monitors alike; [`replica`]: a validator run by its own party, with
//!   its own store, served over HTTP, and the server's client of it.
//! - [`trust`]: what a verifier pins (keys, policy or issuer) beyond the quorum, and the
//!   configuration's accountable policy issuers.
//! - [`monitor`]: follows a ledger and alerts on forks, rewrites and bad signatures.

#![forbid(unsafe_code)]

/// The crate's README (its front page in the repository); its example is compiled and run by
/// `cargo test` as a doc test, so the front page cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub mod entry;
pub mod error;
pub mod http;
pub mod keys;
pub mod log;
pub mod monitor;
mod quorum;
pub mod replica;
pub mod rules;
pub mod store;
pub mod trust;
pub mod validator;
pub mod verify;
pub mod view;

pub use entry::{Body, DatasetEntry, Entry, EntryKey, PolicyEntry, VerdictEntry};
pub use error::{
    ErrorCode, ForkCause, InclusionFailure, LedgerError, MismatchCause, Refusal, RemoteCause,
    Result, StoreFailure,
};
pub use keys::{Identity, PublicKey};
pub use log::{Checkpoint, CosignedCheckpoint, LedgerConfig};
pub use store::Ledger;
pub use trust::{Pin, PinKind, Pins, TrustFailure};
pub use verify::{Evidence, Verdict, verify, verify_evidence};
pub use view::LedgerView;
