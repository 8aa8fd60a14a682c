//! `ledger`: create, serve, inspect and monitor a trustspace ledger. See `ledger --help`; the
//! handlers are in [`trustspace_cli::cmd::ledger`].
//!
//! `ledger monitor` exits 1 on a fork, a rewrite, a rollback or a bad signature (the alert),
//! 2 on bad input or an unreachable ledger.

use clap::Parser;
use std::process::ExitCode;
use trustspace_cli::cmd::ledger::{Cli, exit_code, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli, &mut std::io::stdout(), &mut std::io::stderr()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let (code, prefix) = exit_code(&e);
            eprintln!("{prefix}: {}", trustspace_cli::error_line(&e));
            ExitCode::from(code)
        }
    }
}
