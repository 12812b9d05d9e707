//! One module per subcommand; `run` dispatches.

mod bench;
mod call;
mod check;
mod records;
mod serve;
mod stores;

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
            call::run(*args, sub).await
        }
        Command::Serve(args) => serve::run(*args).await,
        Command::Check(args) => check::check(args),
        Command::Graph(args) => check::graph(args),
        Command::Calls(args) => records::calls(args).await,
        Command::Report(args) => records::report(args).await,
        Command::Bench(crate::cli::BenchCommand::Gather(args)) => bench::gather(args).await,
    }
}
