//! # trustspace-ledger-verifier
//!
//! A consortium ledger of dataset commitments, policies and proof results, and the verification
//! of proofs against it. Its capabilities arrive with their own issue; today it only fixes its
//! place in the workspace.

#![forbid(unsafe_code)]
