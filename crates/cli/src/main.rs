//! The `hotline` command: parses arguments, builds validated objects, dispatches.
//! No logic lives here; each subcommand is a module of `commands`.

mod cli;
mod commands;
mod console;
mod engines;

use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;

/// mimalloc: the server allocates many small, short-lived buffers per webhook; glibc's malloc
/// was ~17% of the server's CPU under load (see BENCHMARKS.md). `hotline-alloc` says why not
/// through the `mimalloc` crate.
#[global_allocator]
static GLOBAL: hotline_alloc::Mimalloc = hotline_alloc::Mimalloc;

fn main() -> ExitCode {
    let matches = cli::Cli::command().get_matches();
    let cli = match cli::Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    let json =
        matches!(&cli.command, cli::Command::Serve(a) if a.log_format == cli::LogFormat::Json);
    init_logging(cli.verbose, json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(commands::run(cli, &matches));
    match result {
        Ok(code) => code,
        Err(e) => {
            console::error(format_args!("error: {e:#}"));
            ExitCode::from(2)
        }
    }
}

/// Log events on standard error, as text or (`json`) one JSON object per line; in JSON, the
/// operator's lines ([`console`]) are log events too, always shown.
fn init_logging(verbose: u8, json: bool) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("HOTLINE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr);
    if json {
        let filter = match format!("{}=info", console::TARGET).parse() {
            Ok(directive) => filter.add_directive(directive),
            Err(_) => filter,
        };
        if builder.json().with_env_filter(filter).try_init().is_ok() {
            console::use_json();
        }
    } else {
        let _ = builder.with_env_filter(filter).try_init();
    }
}
