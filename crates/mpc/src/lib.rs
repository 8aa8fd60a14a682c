//! # trustspace-mpc
//!
//! Secret-shared aggregate queries across data holders: three compute parties, replicated
//! secret sharing over Z_2^64, SQL aggregates revealing only their results. Its capabilities
//! arrive with their own issue; today it only fixes its place in the workspace.

#![forbid(unsafe_code)]
