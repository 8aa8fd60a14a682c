//! The EVM crate's integration tests, in one binary: the registry and verifiers on a local
//! ganache node ([`chain`]) and the pinned digests and calldata ([`digests`]); shared helpers
//! (the node, solc-js, a lying RPC proxy) are in [`common`].

mod chain;
mod common;
mod digests;
