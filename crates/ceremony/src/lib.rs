//! # trustspace-ceremony
//!
//! A Groth16 proving key is only as trustworthy as whoever made it: the setup's secrets (the
//! "toxic waste") let their holder prove anything. A ceremony makes the keys sound as long as
//! **any one** contributor was honest and destroyed its secret.
//!
//! - [`phase2`]: the per-circuit phase (Bowe–Gabizon–Miers 2017). Each contributor multiplies
//!   δ by a secret of its own (and divides the `L` and `H` queries by it), and publishes a
//!   proof of knowledge of that secret bound to the running transcript; anyone verifies the
//!   whole chain from the initial parameters to the final keys.
//! - [`keys`]: a ceremony over a policy's keys (one chain per circuit), turned back into the
//!   keys `zkprove prove` and `zkverify` use.
//! - [`transcript`]: the transcript hash (BLAKE2b-512) and the G2 point each contribution's
//!   proof of knowledge is checked against (derived from the transcript, with no known
//!   discrete logarithm).
//!
//! This first part starts phase 2 from the parameters it is given: until phase 1 (powers of
//! tau) is run as a ceremony too, whoever made those parameters still knows τ, α and β.

#![forbid(unsafe_code)]

/// The crate's README (its front page in the repository); its example is compiled and run by
/// `cargo test` as a doc test, so the front page cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub mod error;
pub mod keys;
pub mod phase2;
pub mod transcript;

pub use error::{CeremonyError, Check, Result};
pub use keys::KeysCeremony;
pub use phase2::{Contribution, Phase2};
