//! Shared helpers of the EVM tests.
#![allow(dead_code)]

pub mod node;
pub mod proxy;
