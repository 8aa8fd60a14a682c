//! Operator commands for trustspace: what the binaries share.
//!
//! - [`party`]: run one MPC compute party (for `mpc-party` and the main job's party processes).
//! - [`workflow`]: the data-space workflow end to end (`dataspace run`).

#![forbid(unsafe_code)]

pub mod party;
pub mod workflow;
