//! # trustspace-zk
//!
//! Zero-knowledge proofs that a committed dataset complies with a policy: a hiding Poseidon
//! Merkle commitment to the records, a policy compiled to constraints, Groth16 on BN254, proven
//! chunk by chunk. Its capabilities arrive with their own issue; today it only fixes its place
//! in the workspace (it consumes `trustspace-data`'s canonical encodings).

#![forbid(unsafe_code)]
