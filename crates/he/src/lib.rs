//! # trustspace-he
//!
//! Homomorphic sums: data holders encrypt, an untrusted aggregator adds ciphertexts, only key
//! holders decrypt the total (tfhe, and a threshold Ristretto backend). Its capabilities arrive
//! with their own issues; today it only fixes its place in the workspace.

#![forbid(unsafe_code)]
