//! Operator commands for trustspace, as a library: the binaries in `src/bin` only parse their
//! arguments, call a handler here and map its error to an exit code, so that tests run the
//! commands in-process.
//!
//! - [`cmd`]: one module per binary: its clap arguments and its handlers, which take their
//!   inputs as values, return typed results and write what they print to a `&mut dyn Write`.
//! - [`workflow`]: the data-space workflow end to end (`dataspace run`), one module per step.
//! - [`party`]: run one MPC compute party (for `mpc-party` and the main job's party processes).

#![forbid(unsafe_code)]

pub mod cmd;
pub mod party;
pub mod workflow;

/// A failure's message chain (`cause: cause: ...`) for a binary's last line, with every control
/// character escaped: messages may quote input that a party controls.
pub fn error_line(e: &anyhow::Error) -> String {
    trustspace_data::error::escape_controls(&format!("{e:#}")).into_owned()
}

/// Seconds since the epoch (0 if the clock is before it): the timestamps of ledger entries.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
