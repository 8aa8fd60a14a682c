//! `mpc-party`: one compute party of a three-party secret-shared query service, and the key
//! material of a test deployment. See `mpc-party --help`; the handlers are in
//! [`trustspace_cli::cmd::mpc_party`].
//!
//! Exit status: 0 when the requested sessions ran, 1 when a session failed (a party died or
//! lied, a participant never came), 2 on bad configuration.

use clap::Parser;
use std::process::ExitCode;
use trustspace_cli::cmd::mpc_party::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli, &mut std::io::stdout(), &mut std::io::stderr()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            // Errors may quote what a peer sent: control characters are escaped.
            eprintln!(
                "mpc-party: {}",
                trustspace_data::error::escape_controls(&format!("{e:#}"))
            );
            ExitCode::from(2)
        }
    }
}
