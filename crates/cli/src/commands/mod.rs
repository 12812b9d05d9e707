//! One module per subcommand; `run` dispatches.

mod bench;
pub(crate) mod bench_streams;
pub(crate) mod bot;
mod bot_import;
mod call;
mod check;
mod demo;
mod records;
mod serve;
mod stores;
pub(crate) mod transcribe;
pub(crate) mod vad;

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
        Command::Demo(args) => demo::run(args).await,
        Command::Bot(command) => bot::run(command).await,
        Command::Transcribe(args) => transcribe::run(args).await,
        Command::Report(args) => records::report(args).await,
        Command::Bench(crate::cli::BenchCommand::Gather(args)) => bench::gather(*args).await,
        Command::Bench(crate::cli::BenchCommand::Streams(args)) => {
            bench_streams::run_streams(*args).await
        }
        Command::Vad(command) => vad::run(command),
    }
}

/// A duration flag's value (`500ms`, `10s`, `2m`), or an error naming the flag.
pub(crate) fn duration_flag(value: &str, flag: &str) -> anyhow::Result<std::time::Duration> {
    hotline_emulator::duration::parse_duration(value)
        .map_err(|e| anyhow::anyhow!("--{flag} `{value}`: {e}"))
}
