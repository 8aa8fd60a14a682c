//! The integration tests of the operator commands, one test binary: most call the library's
//! handlers in-process; a few per binary run the real executable to check argument parsing,
//! exit codes and output. The MPC parties always run as processes on loopback.

mod common;
mod dataspace;
mod evm;
mod ledger;
mod mpc;
mod trust;
mod zk;
