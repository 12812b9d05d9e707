//! One module per subcommand; `run` dispatches.

mod call;

use crate::cli::{Cli, Command};
use clap::ArgMatches;
use std::process::ExitCode;

/// Runs the parsed command; the exit code reflects the command's own verdict.
pub(crate) async fn run(cli: Cli, matches: &ArgMatches) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Call(args) => {
            let sub = matches
                .subcommand_matches("call")
                .ok_or_else(|| anyhow::anyhow!("internal: missing `call` matches"))?;
            call::run(args, sub).await
        }
    }
}
