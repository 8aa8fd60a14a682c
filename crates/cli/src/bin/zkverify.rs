//! `zkverify`: verify a proof bundle — against a commitment you hold, against a ledger, or from
//! an offline evidence file. See `zkverify --help`; the handlers are in
//! [`trustspace_cli::cmd::zkverify`].
//!
//! Exit codes: 0 valid; 1 not valid; 2 bad input.

use clap::Parser;
use std::process::ExitCode;
use trustspace_cli::cmd::zkverify::{Cli, main as zkverify};

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(zkverify(
        &cli,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    ))
}
