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
//! - [`error`]: the crate's error type.
//!
//! The tfhe backends (paths A and B) arrive with a later issue.

#![forbid(unsafe_code)]

pub mod error;
pub mod ristretto;

pub use error::{Excluded, HeError, Result};
