//! `mpc-query`: take part in a secret-shared query as a data holder (`--data`) and/or a result
//! recipient. See `mpc-query --help`; the handler is in [`trustspace_cli::cmd::mpc_query`].
//!
//! Exit status: 0 on success, 1 when the session failed at a party (or a party lied), 2 on bad
//! input or configuration.

use clap::Parser;
use std::process::ExitCode;
use trustspace_cli::cmd::mpc_query::{Cli, exit_code, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli, &mut std::io::stdout()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            let (code, line) = exit_code(&e);
            eprintln!("{line}");
            ExitCode::from(code)
        }
    }
}
