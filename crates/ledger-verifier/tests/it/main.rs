//! The ledger-verifier's integration tests, in one binary: the embedded ledger and everything a
//! verifier must refuse ([`ledger`]), the monitor ([`monitor`]), and the pinned on-disk and
//! on-wire formats ([`golden`]), property tests of every codec and of the Merkle log's proofs
//! ([`props`]); their shared fixtures are in [`common`].

mod common;
mod golden;
mod ledger;
mod monitor;
mod props;
mod trust;
