//! # trustspace-mpc
//!
//! Secret-shared aggregate queries across data holders: three compute parties, replicated
//! secret sharing over Z_2^64, SQL aggregates revealing only their results.
//!
//! - [`share`]: replicated arithmetic and boolean shares, local operations.
//! - [`engine`]: one party's protocols (multiplication, opening, inputs, comparison).
//! - [`sql`]: the SQL subset and its checked [`sql::Plan`]; [`query`]: its evaluation by the
//!   parties, revealing only the result ([`query::run_local`] runs three parties in-process);
//!   [`fold`]: `WHERE` comparisons that a column's declared range decides, folded at plan time.
//! - [`service`]: networked sessions — party processes and the clients (holders, recipients)
//!   that join a query over TLS.
//! - [`transport`]: the parties' message streams (in-process, and TCP with mutual TLS);
//!   [`pki`]: the consortium CA that issues the certificates the TLS transport checks.

#![forbid(unsafe_code)]

/// The crate's README (its front page in the repository); its example is compiled and run by
/// `cargo test` as a doc test, so the front page cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub mod engine;
pub mod error;
pub mod fold;
#[doc(hidden)]
pub mod fuzzing;
pub mod partial;
pub mod pki;
pub mod query;
pub mod service;
pub mod share;
pub mod sql;
pub mod transport;

pub use error::{Check, IdentityFault, MpcError, Peer, RangeCheck, Refusal, Result, TlsStep};
