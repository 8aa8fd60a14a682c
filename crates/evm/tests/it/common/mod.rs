//! Shared helpers of the EVM tests: the local node and solc-js, a lying RPC, the real bundle.
#![allow(dead_code)]

pub mod node;
pub mod proxy;
pub mod world;
