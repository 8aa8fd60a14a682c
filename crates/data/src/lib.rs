//! # trustspace-data
//!
//! The dataset model every trustspace crate consumes: data spaces exchange tables, and this crate
//! says what a table is.
//!
//! - [`schema`]: a TOML schema names typed columns (integers of declared width, fixed-point
//!   decimals, booleans, dates, timestamps, categorical dictionaries). Every value has a
//!   canonical encoding as an unsigned integer of known width, order-preserving where order means
//!   something; the ZK, MPC and HE crates compute on these encodings as they are.
//! - [`load`]: streaming CSV and JSON Lines loaders that validate record by record in bounded
//!   memory; every rejection names file, line, column and reason. Nothing is silently
//!   truncated, rounded or dropped.
//! - [`write`]: the reverse, for generated data and round trips.
//! - [`synth`]: deterministic, seeded synthetic generators for the healthcare and finance
//!   reference workloads, split across data holders, with planted policy violations.
//!
//! - [`canon`]: the canonical, versioned byte encoding every registered digest is taken over.
//!
//! No cryptography lives here (beyond SHA-256 for digests).

#![forbid(unsafe_code)]

/// The crate's README (its front page in the repository); its example is compiled and run by
/// `cargo test` as a doc test, so the front page cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub mod canon;
pub mod error;
mod io;
mod kind;
pub mod load;
pub mod schema;
pub mod synth;
pub mod value;
pub mod write;

pub use error::{ColumnProblem, DataError, GeneratorProblem, LoadError, Reason, SchemaProblem};
pub use load::{Format, Record, Validation, open, validate};
pub use schema::{Column, ColumnSpec, Kind, Schema, TypeName};
pub use value::{Value, format_units};
