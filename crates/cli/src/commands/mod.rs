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
        Command::Purge(args) => records::purge(args).await,
        Command::Bench(crate::cli::BenchCommand::Gather(args)) => bench::gather(*args).await,
        Command::Bench(crate::cli::BenchCommand::Streams(args)) => {
            bench_streams::run_streams(*args).await
        }
        Command::Vad(command) => vad::run(command),
    }
}

/// `n` and `noun`, in the plural unless `n` is 1: "1 call", "3 calls".
pub(crate) fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A retention flag's value: whole days (`90d`) or hours (`36h`), at least a day; or an error
/// naming the flag.
pub(crate) fn retention_flag(value: &str, flag: &str) -> anyhow::Result<std::time::Duration> {
    let v = value.trim();
    let (number, unit_secs) = if let Some(days) = v.strip_suffix('d') {
        (days, 86_400)
    } else if let Some(hours) = v.strip_suffix('h') {
        (hours, 3_600)
    } else {
        anyhow::bail!("--{flag} `{value}`: give days or hours, e.g. 90d or 36h");
    };
    let secs = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_secs))
        .filter(|s| *s <= 100 * 366 * 86_400)
        .ok_or_else(|| {
            anyhow::anyhow!("--{flag} `{value}`: not a whole number of days or hours (e.g. 90d)")
        })?;
    if secs < hotline_store::records::MIN_RETENTION_MS.unsigned_abs() / 1000 {
        anyhow::bail!(
            "--{flag} `{value}`: keep call records at least a day (calls in progress may be that old)"
        );
    }
    Ok(std::time::Duration::from_secs(secs))
}

/// A duration flag's value (`500ms`, `10s`, `2m`), or an error naming the flag.
pub(crate) fn duration_flag(value: &str, flag: &str) -> anyhow::Result<std::time::Duration> {
    hotline_emulator::duration::parse_duration(value)
        .map_err(|e| anyhow::anyhow!("--{flag} `{value}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::retention_flag;
    use std::time::Duration;

    #[test]
    fn counts_are_singular_only_for_one() {
        assert_eq!(super::count(1, "call"), "1 call");
        assert_eq!(super::count(0, "call"), "0 calls");
        assert_eq!(super::count(3, "call"), "3 calls");
    }

    #[test]
    fn retention_is_days_or_hours_and_at_least_a_day() {
        let days = |d: u64| Duration::from_secs(d * 86_400);
        assert_eq!(retention_flag("90d", "r").ok(), Some(days(90)));
        assert_eq!(
            retention_flag("36h", "r").ok(),
            Some(Duration::from_secs(36 * 3600))
        );
        assert_eq!(retention_flag(" 1d ", "r").ok(), Some(days(1)));
        for bad in [
            "23h",
            "0d",
            "90",
            "1.5d",
            "-3d",
            "d",
            "99999999999999999d",
            "1w",
        ] {
            let e = retention_flag(bad, "retention").expect_err(bad);
            assert!(e.to_string().starts_with("--retention `"), "{bad}: {e}");
        }
    }
}
