//! `hotline bench streams`: N concurrent real-time Media Streams against a voice bot of a
//! running `hotline serve`, at each level of a ramp; prints processing lag, turn latency,
//! dropped streams and CPU per level, then the largest level held. The load itself is
//! `hotline_bench::streams`.

use super::duration_flag;
use anyhow::{Context, bail};
use clap::Args;
use hotline_bench::streams::{RestEndpoint, StreamsConfig, run};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// `hotline bench streams` options.
#[derive(Debug, Args)]
pub(crate) struct BenchStreamsArgs {
    /// The server's address (loopback).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// The server's public URL as it checks signatures (default: http://ADDR).
    #[arg(long)]
    pub public_url: Option<String>,
    /// The voice bot to stream to (`/streams/BOT`).
    #[arg(long)]
    pub bot: String,
    /// The auth token upgrades are signed with.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: String,
    /// Where the bench plays Twilio's REST API (start the server with
    /// `--twilio-api-base http://THIS --account-sid AC00000000000000000000000000000000`).
    #[arg(long, default_value = "127.0.0.1:8099")]
    pub rest_listen: String,
    /// Caller speech (a WAV file, any rate; converted to 8 kHz mu-law).
    #[arg(long)]
    pub audio: PathBuf,
    /// Silence after the speech, before it loops (one bot turn per cycle).
    #[arg(long, default_value = "3s")]
    pub silence_after: String,
    /// The bot's trailing-silence window (end of turn), subtracted from turn latency.
    #[arg(long, default_value = "700ms")]
    pub end_of_turn: String,
    /// Stream counts, comma-separated, run in order.
    #[arg(long, default_value = "100,250,500,1000,2000", value_delimiter = ',')]
    pub streams: Vec<usize>,
    /// Measurement time of each level.
    #[arg(long, default_value = "20s")]
    pub duration: String,
    /// Time over which a level's streams are opened.
    #[arg(long, default_value = "5s")]
    pub ramp: String,
    /// Discarded time after the ramp.
    #[arg(long, default_value = "5s")]
    pub warmup: String,
    /// A level is held when lag p99 stays under this (and no stream failed or dropped).
    #[arg(long, default_value = "50ms")]
    pub max_lag: String,
    /// Go on with the next levels after one is not held.
    #[arg(long)]
    pub keep_going: bool,
    /// The server's process ids, for its CPU use.
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
}

/// Runs the ramp.
pub(crate) async fn run_streams(args: BenchStreamsArgs) -> anyhow::Result<ExitCode> {
    for addr in [&args.addr, &args.rest_listen] {
        let host = addr.rsplit_once(':').map(|(h, _)| h).unwrap_or_default();
        if !(host.starts_with("127.") || host == "localhost" || host == "[::1]") {
            bail!("`{addr}` must be a loopback address: load tests never target other hosts");
        }
    }
    let bytes = std::fs::read(&args.audio)
        .with_context(|| format!("cannot read {}", args.audio.display()))?;
    let wav = hotline_audio::wav::read_wav(&bytes)
        .with_context(|| format!("{} is not a WAV file", args.audio.display()))?;
    let mut audio = hotline_audio::wav::to_telephone_ulaw(&wav)
        .with_context(|| format!("cannot convert {}", args.audio.display()))?;
    let silence = duration_flag(&args.silence_after, "silence-after")?;
    audio.extend(std::iter::repeat_n(
        0xFFu8,
        silence.as_millis() as usize * 8,
    ));
    let end_of_turn = duration_flag(&args.end_of_turn, "end-of-turn")?;
    let max_lag = duration_flag(&args.max_lag, "max-lag")?;
    let config = StreamsConfig {
        addr: args.addr.clone(),
        public_base: args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", args.addr)),
        bot: args.bot.clone(),
        auth_token: args.auth_token.clone(),
        audio,
        silence_ms: u64::try_from(end_of_turn.as_millis()).unwrap_or(u64::MAX),
        duration: duration_flag(&args.duration, "duration")?,
        ramp: duration_flag(&args.ramp, "ramp")?,
        warmup: duration_flag(&args.warmup, "warmup")?,
        server_pids: args.server_pid.clone(),
    };
    let rest = RestEndpoint::bind(&args.rest_listen).await?;
    println!(
        "{:>6} {:>6} {:>7} {:>9} {:>9} {:>9} {:>6} {:>9} {:>9} {:>9} {:>8} {:>8} {:>9} {:>5}",
        "streams",
        "failed",
        "dropped",
        "lag p50",
        "lag p99",
        "lag max",
        "turns",
        "turn p50",
        "turn p95",
        "turn min",
        "srv CPU",
        "cli CPU",
        "late p99",
        "held"
    );
    let ms = |us: i64| format!("{:.1}ms", us as f64 / 1000.0);
    let cpu = |c: Option<f64>| c.map_or_else(|| "-".to_owned(), |c| format!("{c:.0}%"));
    let mut best: Option<usize> = None;
    for &n in &args.streams {
        let r = run(&config, &rest, n).await?;
        let held = r.held(max_lag);
        println!(
            "{:>7} {:>6} {:>7} {:>9} {:>9} {:>9} {:>6} {:>9} {:>9} {:>9} {:>8} {:>8} {:>9} {:>5}",
            n,
            r.failed,
            r.dropped,
            ms(i64::from(r.lag_p50_us)),
            ms(i64::from(r.lag_p99_us)),
            ms(i64::from(r.lag_max_us)),
            r.turns,
            ms(r.turn_p50_us),
            ms(r.turn_p95_us),
            ms(r.turn_min_us),
            cpu(r.server_cpu_pct),
            cpu(r.client_cpu_pct),
            ms(i64::from(r.send_late_p99_us)),
            if held { "yes" } else { "no" }
        );
        if held {
            best = Some(best.map_or(n, |b| b.max(n)));
        } else if !args.keep_going {
            break;
        }
        // Let the server forget the level's calls.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    match best {
        Some(n) => println!(
            "largest level held (lag p99 < {} ms, no failure): {n} streams",
            max_lag.as_millis()
        ),
        None => println!("no level held"),
    }
    Ok(ExitCode::SUCCESS)
}
