//! `hotline bench gather`: runs the gather-callback load at each concurrency level and prints
//! one line per level, then, for a server with threads of several names, its CPU per request
//! split by thread name.

use super::duration_flag;
use crate::cli::BenchGatherArgs;
use anyhow::bail;
use hotline_bench::gather::{GatherConfig, run};
use std::process::ExitCode;

pub(crate) async fn gather(args: BenchGatherArgs) -> anyhow::Result<ExitCode> {
    let host = args.addr.split(':').next().unwrap_or_default();
    if !(host.starts_with("127.") || host == "localhost" || host == "[::1]") {
        bail!("--addr must be a loopback address: load tests never target other hosts");
    }
    let duration = duration_flag(&args.duration, "duration")?;
    let warmup = duration_flag(&args.warmup, "warmup")?;
    let public_base = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.addr));
    println!(
        "{:>6} {:>12} {:>9} {:>9} {:>9} {:>12} {:>8}",
        "conns", "callbacks/s", "p50 µs", "p99 µs", "max µs", "CPU µs/req", "errors"
    );
    for &connections in &args.connections {
        let report = run(GatherConfig {
            addr: args.addr.clone(),
            public_base: public_base.clone(),
            flow: args.flow.clone(),
            auth_token: args.auth_token.clone(),
            connections,
            warmup,
            duration,
            answers: args.answers.clone(),
            server_pids: args.server_pid.clone(),
        })
        .await;
        println!(
            "{:>6} {:>12.0} {:>9} {:>9} {:>9} {:>12} {:>8}",
            connections,
            report.callbacks_per_sec(),
            report.p50_us,
            report.p99_us,
            report.max_us,
            report
                .server_cpu_us_per_request
                .map(|c| format!("{c:.1}"))
                .unwrap_or_else(|| "-".to_owned()),
            report.errors
        );
        // Where the server's CPU went, when it has threads of more than one name.
        if report.server_cpu_by_thread.len() > 1 {
            let split: Vec<String> = report
                .server_cpu_by_thread
                .iter()
                .map(|(name, us)| format!("{name} {us:.1}"))
                .collect();
            println!(
                "{:>6} server CPU µs/req by thread: {}",
                "",
                split.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
