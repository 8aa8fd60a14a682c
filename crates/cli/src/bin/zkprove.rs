//! `zkprove`: commit to a dataset, generate keys, and prove that the dataset complies with a
//! policy. See `zkprove --help`; the handlers are in [`trustspace_cli::cmd::zkprove`].

use clap::Parser;
use std::process::ExitCode;
use trustspace_cli::cmd::zkprove::{Cli, main as zkprove};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match zkprove(cli, &mut std::io::stdout()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            // As `main() -> anyhow::Result<()>` reports it.
            eprintln!("Error: {}", trustspace_cli::error_line(&e));
            ExitCode::FAILURE
        }
    }
}
