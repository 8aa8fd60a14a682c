//! Running the operator commands from tests.

use std::path::Path;
use std::process::{Command, Output};

/// Path of one of this crate's binaries.
pub fn exe(bin: &str) -> &'static str {
    match bin {
        "dataspace" => env!("CARGO_BIN_EXE_dataspace"),
        "zkprove" => env!("CARGO_BIN_EXE_zkprove"),
        "ledger" => env!("CARGO_BIN_EXE_ledger"),
        "zkverify" => env!("CARGO_BIN_EXE_zkverify"),
        "mpc-party" => env!("CARGO_BIN_EXE_mpc-party"),
        "mpc-query" => env!("CARGO_BIN_EXE_mpc-query"),
        other => panic!("no binary {other}"),
    }
}

/// Runs a binary to completion.
pub fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(exe(bin)).args(args).output().expect("runs")
}

/// Its stdout and stderr, asserting success.
pub fn ok(o: Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    text
}

/// `dir/name` as a string argument.
pub fn p(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}
