//! # trustspace-he
//!
//! Homomorphic sums: data holders encrypt, an untrusted aggregator adds ciphertexts, and only
//! the key holders decrypt — the total, never a single holder's value.
//!
//! - [`ristretto`]: threshold additive encryption on ristretto255 (exponential ElGamal via
//!   elastic-elgamal). n authorities generate the key by DKG, so no one ever holds it; holders
//!   encrypt a column with a range proof per value; the aggregator refuses inputs whose proofs
//!   fail and adds the rest; any t authorities decrypt the total with DLEQ-proved partial
//!   decryptions, bad partials being identified and left out.
//! - `fhe_int` (tfhe path A; the `tfhe` feature, on by default): encrypted integers on tfhe's
//!   high-level API, for when the aggregator must compute on the total: proven compact-list
//!   inputs, multi-operand sums, GROUP BY over a public domain, encrypted `total > limit` and
//!   max checks whose verdict alone is decrypted.
//! - `lwe_sum` (tfhe path B, feature `tfhe`): additive LWE sums of 10^5–10^6 values on tfhe's
//!   `core_crypto`, packed in compact lists and aggregated in the packed form, with a
//!   derived noise budget (failure ≤ 2^-64).
//! - [`mod@column`]: reading summable columns out of the dataset model.
//! - [`error`]: the crate's error type.
//!
//! tfhe is licensed BSD-3-Clause-Clear; Zama's patents cover it, and commercial use needs a
//! patent licence from Zama (see the README).
//!

#![forbid(unsafe_code)]

/// The crate's README (its front page in the repository); its example is compiled and run by
/// `cargo test` as a doc test, so the front page cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(feature = "tfhe")]
mod codec;
pub mod column;
pub mod error;
#[cfg(feature = "tfhe")]
pub mod fhe_int;
#[cfg(feature = "tfhe")]
pub mod lwe_sum;
pub mod ristretto;

pub use error::{Excluded, Exclusion, HeError, JsonCause, Result};
