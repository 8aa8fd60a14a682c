//! # trustspace-zk
//!
//! Zero-knowledge proofs that a committed dataset complies with a policy.
//!
//! Data flows one way: a [`Dataset`](trustspace_data) is [committed](commit::commit) (a hiding
//! Poseidon Merkle tree; the holder keeps the [`Opening`](commit::Opening)), a
//! [`Policy`](policy::Policy) over its schema compiles to constraints, the dataset is proven
//! chunk by chunk with Groth16 on BN254, and anyone holding the verifying keys checks the
//! [`ProofBundle`](bundle::ProofBundle) against the commitment.

#![forbid(unsafe_code)]

pub mod commit;
pub mod encode;
pub mod error;
pub mod pack;
pub mod poseidon;

pub use error::{Result, ZkError};
