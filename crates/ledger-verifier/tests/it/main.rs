//! The ledger-verifier's integration tests, in one binary: the embedded ledger and everything a
//! verifier must refuse ([`ledger`]), the trust configuration ([`trust`]), validators run by
//! separate parties ([`consortium`]), the monitor ([`monitor`]), the pinned on-disk and on-wire
//! formats ([`golden`]), and property tests of every codec and of the Merkle log's proofs
//! ([`props`]); their shared fixtures are in [`common`].

mod common;
mod consortium;
mod golden;
mod ledger;
mod monitor;
mod props;
mod trust;
