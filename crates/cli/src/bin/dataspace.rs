//! `dataspace`: the operator's command for trusted data spaces (generate and validate
//! datasets, run the data-space workflow); the handlers are in
//! [`trustspace_cli::cmd::dataspace`].

use clap::Parser;
use std::process::ExitCode;
use trustspace_cli::cmd::dataspace::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli, &mut std::io::stdout(), &mut std::io::stderr()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dataspace: {}", trustspace_cli::error_line(&e));
            ExitCode::FAILURE
        }
    }
}
