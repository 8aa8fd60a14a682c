//! # trustspace-zk
//!
//! Zero-knowledge proofs that a committed dataset complies with a policy.
//!
//! Data flows one way: a [`Dataset`](trustspace_data) is [committed](commit::commit) (a hiding
//! Poseidon Merkle tree; the holder keeps the [`Opening`](commit::Opening)), a
//! [`Policy`](policy::Policy) over its schema compiles to constraints, the dataset is proven
//! chunk by chunk with Groth16 on BN254, and anyone holding the verifying keys checks the
//! [`ProofBundle`](bundle::ProofBundle) against the commitment.
//!
//! Every digest this crate publishes (policy, circuits, verifying keys, a bundle's statement) is
//! over a canonical, versioned byte encoding ([`canon`]); the circuit version is tied to the
//! circuits' shape ([`digests`]).

#![forbid(unsafe_code)]

/// The crate's README (its front page in the repository); its example is compiled and run by
/// `cargo test` as a doc test, so the front page cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub mod bundle;
pub mod canon;
pub mod circuit;
pub mod commit;
pub mod digests;
pub mod encode;
pub mod error;
mod files;
mod gadgets;
pub mod keys;
pub mod pack;
pub mod policy;
pub mod poseidon;
pub mod prove;
pub mod reference;
#[cfg(test)]
mod tests;
pub mod verify;

pub use bundle::ProofBundle;
pub use circuit::Compiled;
pub use commit::{Commitment, Opening, commit, commit_with};
pub use error::{Result, ZkError};
pub use keys::{CeremonyRecord, ProvingKeys, VerifyingKeys};
pub use policy::Policy;
pub use prove::{Prover, prove_all, setup, verifying_keys_for};
pub use verify::{Verified, verify};
