//! # trustspace
//!
//! Privacy-preserving computation for trusted data spaces. This umbrella crate re-exports the
//! toolkit's crates so that one dependency brings all of them; the benchmarks and examples live
//! here.
//!
//! | crate | module | what it holds |
//! |---|---|---|
//! | `trustspace-data` | [`data`] | schemas, canonical encodings, streaming loaders, generators |
//! | `trustspace-zk` | [`zk`] | zero-knowledge compliance proofs |
//! | `trustspace-mpc` | [`mpc`] | secret-shared aggregate queries |
//! | `trustspace-he` | [`he`] | homomorphic sums |
//! | `trustspace-ledger-verifier` | [`ledger`] | the commitment ledger and proof verification |
//! | `trustspace-ceremony` | [`ceremony`] | multi-party setup ceremonies for the proofs' keys |

#![forbid(unsafe_code)]

pub use trustspace_ceremony as ceremony;
pub use trustspace_data as data;
pub use trustspace_he as he;
pub use trustspace_ledger_verifier as ledger;
pub use trustspace_mpc as mpc;
pub use trustspace_zk as zk;
