//! Command-line definitions (clap). Only shapes and help texts live here.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Hotline: a self-hosted phone IVR and voice-bot server for Twilio.
#[derive(Debug, Parser)]
#[command(name = "hotline", version, about, long_about = None)]
pub(crate) struct Cli {
    /// More logging on stderr (-v info, -vv debug, -vvv trace). HOTLINE_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Place an emulated call: play Twilio's role against any TwiML application.
    ///
    /// The emulator requests URL as Twilio requests a voice webhook (signed with the auth
    /// token), runs the TwiML it returns verb by verb, and answers `<Gather>`, `<Record>` and
    /// media streams with the scripted caller. Caller steps (--say, --press, --silence, --audio,
    /// --listen, --hangup) run in the order given. A local Twilio REST API accepts live call
    /// updates while the call runs.
    ///
    /// Examples:
    ///   hotline call http://127.0.0.1:8080/voice --say "oui" --silence 6s
    ///   hotline call http://127.0.0.1:8080/voice --press 1 --press 42#
    ///   hotline call --bin examples/twiml/seed-bin/index.xml --silence 20s
    ///   hotline call --scenario tests/scenarios/silent-caller.yaml --json
    #[command(verbatim_doc_comment)]
    Call(Box<CallArgs>),

    /// Answer Twilio voice webhooks for flows (YAML files or folders of them).
    ///
    /// Point a Twilio number's voice webhook at {public-url}/voice (the flow is chosen by the
    /// called number, see --number) or {public-url}/flows/FLOW/voice, and its status callback at
    /// {public-url}/status. Every request's X-Twilio-Signature is checked against the public
    /// URL; every step is durably recorded before Twilio is answered; saving a flow file takes
    /// effect for new calls without a restart.
    ///
    /// Examples:
    ///   hotline serve examples/flows/ --auth-token $TWILIO_AUTH_TOKEN \
    ///       --public-url https://hotline.example.com --number +33970000000=covid-triage-fr
    ///   hotline serve examples/flows/sales-menu.yaml --insecure-skip-signature
    #[command(verbatim_doc_comment)]
    Serve(Box<ServeArgs>),

    /// Validate flow files like a compiler: every problem, with file, line, column and help.
    ///
    /// Exit status: 0 when every flow is valid (warnings allowed), 1 otherwise.
    Check(CheckArgs),

    /// Draw a flow as Mermaid, Graphviz DOT or SVG (SVG needs Graphviz's `dot`).
    Graph(GraphArgs),

    /// List call records, or show one call step by step.
    Calls(CallsArgs),

    /// Load benchmarks against a running `hotline serve` (loopback only).
    #[command(subcommand)]
    Bench(BenchCommand),

    /// Voice activity detectors: score them on a labelled telephone set.
    #[command(subcommand)]
    Vad(crate::commands::vad::VadCommand),

    /// Local bot files: chat with one in text, import one from Amazon Lex V2.
    #[command(subcommand)]
    Bot(crate::commands::bot::BotCommand),

    /// Transcribe WAV files with the local speech recogniser (Moonshine).
    Transcribe(crate::commands::transcribe::TranscribeArgs),

    /// The main job on embedded defaults: a local voice bot (Silero VAD, Moonshine speech
    /// recognition, MiniLM intents) served and called through the emulator, on loopback.
    Demo(DemoArgs),

    /// Where did callers go? A flow's funnel: callers per node, retries, timeouts, hang-ups,
    /// outcomes.
    Report(ReportArgs),

    /// Delete the call records (calls and every step, with what callers said) of calls started
    /// more than AGE ago, a hundred calls per transaction, paced: safe while `hotline serve` runs.
    ///
    /// Examples:
    ///   hotline purge --older-than 90d
    ///   hotline purge --older-than 36h --records postgres://hotline@db/hotline
    Purge(PurgeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct PurgeArgs {
    /// Delete the calls started longer ago than this, e.g. 90d or 36h (at least a day).
    #[arg(long, value_name = "AGE")]
    pub older_than: String,
    #[command(flatten)]
    pub records: RecordsArg,
}

/// Where call records are kept (shared by serve, calls, report and purge).
#[derive(Debug, Args, Clone)]
pub(crate) struct RecordsArg {
    /// Call records: a SQLite file (`sqlite:PATH` or `PATH.db`; `?synchronous=normal` trades
    /// power-loss durability of the last commits for speed, the default `full` does not) or
    /// `postgres://…`.
    #[arg(
        long,
        env = "HOTLINE_RECORDS",
        default_value = "sqlite:hotline-records.db"
    )]
    pub records: String,
}

/// `hotline demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// The local bot to call (default: examples/bots/appointments.yaml).
    #[arg(long, value_name = "BOT.yaml")]
    pub bot: Option<std::path::PathBuf>,
    /// The folder of the caller's recordings (default: examples/demo/caller).
    #[arg(long, value_name = "DIR")]
    pub caller: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Flow files or folders of them (optional when --bot is given).
    #[arg(required_unless_present = "bots", value_name = "FLOW")]
    pub flows: Vec<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "HOTLINE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// The base URL Twilio calls, exactly (scheme, host, port), e.g. https://hotline.example.com.
    /// Signatures are checked against it. Default: http://LISTEN (with the port the system chose,
    /// for a LISTEN port of 0).
    #[arg(long, env = "HOTLINE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Your Twilio account's auth token (checks X-Twilio-Signature).
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: Option<String>,
    /// Do not check X-Twilio-Signature. Anyone who can reach the server can then drive calls
    /// and fill the records: for local experiments only.
    #[arg(long)]
    pub insecure_skip_signature: bool,
    #[command(flatten)]
    pub records: RecordsArg,
    /// Sessions: `memory` (one instance) or `redis://…` (several instances).
    #[arg(long, env = "HOTLINE_SESSIONS", default_value = "memory")]
    pub sessions: String,
    /// Route a called number to a flow: NUMBER=FLOW (repeatable).
    #[arg(long = "number", value_name = "NUMBER=FLOW")]
    pub numbers: Vec<String>,
    /// Flow for calls to numbers not routed with --number (default: the only flow, if one).
    #[arg(long)]
    pub default_flow: Option<String>,
    /// Callbacks for calls the server does not know (e.g. after a restart with memory
    /// sessions): `restart` (apologise and start the flow again), `hangup` (apologise and end)
    /// or `transfer:NUMBER`; a flow's own `on-lost-call` takes precedence.
    #[arg(long, default_value = "restart")]
    pub lost_call: String,
    /// Transfer callers here (number or sip: URI) when a flow fails, instead of hanging up.
    #[arg(long)]
    pub error_transfer: Option<String>,
    /// Key for signed prompt URLs (default: derived from the auth token).
    #[arg(long, env = "HOTLINE_PROMPT_KEY", hide_env_values = true)]
    pub prompt_key: Option<String>,
    /// A voice bot answering at /bots/NAME/voice (repeatable): NAME=fake:SCRIPT.yaml or
    /// NAME=lex (Lex V2 from HOTLINE_LEX_* variables), then options: ,bidirectional
    /// ,vad=silero|webrtc|energy ,locale=en_US ,timeout=MS ,voice=VOICE ,return-flow=FLOW.
    #[arg(long = "bot", value_name = "NAME=ENGINE[,OPTION]")]
    pub bots: Vec<String>,
    /// An intent engine for flows (repeatable): a flow with `intents: NAME` has every spoken
    /// answer classified with the intents of this local bot file, for its `intent:` routes.
    #[arg(long = "intents", value_name = "NAME=BOT.yaml")]
    pub intents: Vec<String>,
    /// Your Twilio account SID (voice bots update live calls through the REST API).
    #[arg(long, env = "TWILIO_ACCOUNT_SID")]
    pub account_sid: Option<String>,
    /// Twilio's REST API origin (point it at `hotline call`'s emulator when testing).
    #[arg(
        long,
        env = "HOTLINE_TWILIO_API_BASE",
        default_value = "https://api.twilio.com"
    )]
    pub twilio_api_base: String,
    /// Close a client connection that has sent no request for this long (keep-alive).
    #[arg(long, env = "HOTLINE_IDLE_TIMEOUT", default_value = "60s")]
    pub idle_timeout: String,
    /// Close a client connection whose request head is not complete this long after its first
    /// byte (slow or trickled requests).
    #[arg(long, env = "HOTLINE_HEADER_TIMEOUT", default_value = "10s")]
    pub header_timeout: String,
    /// Close a client connection whose request is not read and answered within this long.
    #[arg(long, env = "HOTLINE_REQUEST_TIMEOUT", default_value = "60s")]
    pub request_timeout: String,
    /// Most client connections held at once; at the limit, idle ones are closed to make room.
    #[arg(long, env = "HOTLINE_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Most voice-bot media streams open at once (default: no limit). Past it, a new bot call
    /// hears that the service is unavailable, then the bot's on_error_transfer or a hang-up (a
    /// flow's hand-off goes back to the flow as failed); calls already talking go on.
    #[arg(long, env = "HOTLINE_MAX_STREAMS", value_name = "N")]
    pub max_streams: Option<std::num::NonZeroUsize>,
    /// Serve Prometheus metrics (`GET /metrics`) on this address, e.g. 127.0.0.1:9464 (default:
    /// not served). A listener of its own, off the port Twilio reaches.
    #[arg(long, env = "HOTLINE_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The bearer token a scraper must send to read the metrics (`Authorization: Bearer
    /// TOKEN`; at least 16 characters, e.g. `openssl rand -hex 32`). Prefer the environment
    /// variable: a flag's value shows in `ps`. Without it, anyone who reaches --metrics-listen
    /// reads the metrics.
    #[arg(
        long,
        env = "HOTLINE_METRICS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        requires = "metrics_listen"
    )]
    pub metrics_token: Option<String>,
    /// Keep call records this long, e.g. 90d or 36h (at least a day; default: for ever). Older
    /// calls, with what their callers said, are deleted at start-up and then every hour.
    #[arg(long, env = "HOTLINE_RETENTION", value_name = "AGE")]
    pub retention: Option<String>,
    /// Log lines as plain text, or as one JSON object per line (for a log shipper): the log
    /// events and the start-up lines alike.
    #[arg(long, env = "HOTLINE_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

/// `hotline serve --log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Plain lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Flow or bot files, or folders of them.
    #[arg(required = true, value_name = "FILE")]
    pub flows: Vec<PathBuf>,
    /// Colour the diagnostics (default: when stderr is a terminal).
    #[arg(long)]
    pub color: Option<bool>,
    /// Check flows' `intent:` routes against this intent engine, as `hotline serve --intents`
    /// will (repeatable).
    #[arg(long = "intents", value_name = "NAME=BOT.yaml")]
    pub intents: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct GraphArgs {
    /// The flow file.
    pub flow: PathBuf,
    /// mermaid, dot or svg.
    #[arg(long, default_value = "mermaid", value_parser = ["mermaid", "dot", "svg"])]
    pub format: String,
    /// Write here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CallsArgs {
    /// Show this call step by step.
    pub call_sid: Option<String>,
    /// Only calls of this flow.
    #[arg(long)]
    pub flow: Option<String>,
    /// Only calls started since then: an age (`90m`, `24h`, `7d`) or a UTC date (`2026-11-24`).
    #[arg(long, value_name = "AGE|DATE")]
    pub since: Option<String>,
    /// At most this many calls, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub records: RecordsArg,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The flow id.
    pub flow: String,
    /// Only this version of the flow.
    #[arg(long)]
    pub version: Option<String>,
    /// Only calls started since then: an age (`90m`, `24h`, `7d`) or a UTC date (`2026-11-24`).
    #[arg(long, value_name = "AGE|DATE")]
    pub since: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub records: RecordsArg,
}

#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The voice webhook URL (overrides the scenario's `url`).
    #[arg(conflicts_with_all = ["bin", "flow"])]
    pub url: Option<String>,
    /// Call a local TwiML Bin instead of a URL: serve FILE's folder of static TwiML and audio on
    /// loopback (as Twilio hosts bins) and call FILE. Relative URLs resolve inside the folder.
    #[arg(long, value_name = "FILE", conflicts_with = "flow")]
    pub bin: Option<PathBuf>,
    /// Call a flow file instead of a URL: serve it in this process on loopback, as `hotline
    /// serve` would (signatures checked with --auth-token, call records in a temporary SQLite
    /// file), and call its voice webhook. A flow that fails `hotline check` is not called.
    #[arg(long, value_name = "FILE")]
    pub flow: Option<PathBuf>,
    /// With --flow: an intent engine for the flow's `intent:` routes, as `hotline serve
    /// --intents` (repeatable).
    #[arg(long = "intents", value_name = "NAME=BOT.yaml")]
    pub intents: Vec<String>,
    /// HTTP method for the voice URL.
    #[arg(short = 'X', long, value_parser = ["GET", "POST"])]
    pub method: Option<String>,
    /// A scenario file (YAML): caller steps, call parameters and expectations.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// The caller's number (`From`).
    #[arg(long)]
    pub from: Option<String>,
    /// The number called (`To`).
    #[arg(long)]
    pub to: Option<String>,

    /// Caller step: say these words (SpeechResult over <Gather>, synthesised audio over streams).
    #[arg(long, value_name = "TEXT")]
    pub say: Vec<String>,
    /// Caller step: press keys, e.g. 1 or 42#.
    #[arg(long, value_name = "KEYS")]
    pub press: Vec<String>,
    /// Caller step: stay silent, e.g. 5s or 1500ms.
    #[arg(long, value_name = "DURATION")]
    pub silence: Vec<String>,
    /// Caller step: play a WAV file; `FILE=TEXT` also gives the words it says.
    #[arg(long, value_name = "FILE[=TEXT]")]
    pub audio: Vec<String>,
    /// Caller step (streams): wait, silent, until the application has spoken, at most DURATION.
    #[arg(long, value_name = "DURATION")]
    pub listen: Vec<String>,
    /// Caller step: hang up.
    #[arg(long)]
    pub hangup: bool,
    /// Hang up this long after the call starts, whatever is happening.
    #[arg(long, value_name = "DURATION")]
    pub hangup_after: Option<String>,

    /// Recognition confidence reported with speech (0 to 1).
    #[arg(long, default_value_t = 0.9)]
    pub confidence: f32,
    /// Language of the caller's synthesised voice on media streams.
    #[arg(long, default_value = "en-US")]
    pub language: String,
    /// How a <Dial>ed party answers: completed, busy, no-answer or failed.
    #[arg(long, default_value = "completed", value_parser = ["completed", "busy", "no-answer", "failed"])]
    pub dial_outcome: String,
    /// Run in real time (a 5 s pause takes 5 s). By default time is emulated and fast.
    #[arg(long, conflicts_with = "speed")]
    pub realtime: bool,
    /// In fast mode, media streams run this many times faster than real time (`max`: unpaced).
    #[arg(long, value_name = "FACTOR")]
    pub speed: Option<String>,
    /// The emulator ends the call after this long (emulated time).
    #[arg(long, default_value = "10m", value_name = "DURATION")]
    pub max_duration: String,
    /// How long to wait for each webhook answer (Twilio waits 15 s).
    #[arg(long, default_value = "15s", value_name = "DURATION")]
    pub timeout: String,

    /// The account SID the emulator uses.
    #[arg(long, env = "TWILIO_ACCOUNT_SID", default_value = hotline_emulator::DEFAULT_ACCOUNT_SID)]
    pub account_sid: String,
    /// The auth token that signs requests (X-Twilio-Signature) and guards the REST API.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", default_value = hotline_emulator::DEFAULT_AUTH_TOKEN, hide_env_values = true)]
    pub auth_token: String,
    /// Port of the emulated REST API on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub api_port: u16,
    /// Call status callback URL (initiated, ringing, answered, completed).
    #[arg(long, value_name = "URL")]
    pub status_callback: Option<String>,
    /// Fallback URL requested when the voice URL fails.
    #[arg(long, value_name = "URL")]
    pub fallback_url: Option<String>,

    /// Print the transcript as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Drive a flow's <Gather> callbacks as Twilio would (signed, following each call's
    /// `seq`), at several concurrency levels; report callbacks/s, latency percentiles and,
    /// with --server-pid, the server's CPU time per request.
    Gather(Box<BenchGatherArgs>),
    /// Open N concurrent real-time Media Streams to a voice bot (Twilio pacing, signed
    /// upgrades) at several levels; report the server's processing lag, turn latency, dropped
    /// streams and CPU, and the largest level held.
    Streams(Box<crate::commands::bench_streams::BenchStreamsArgs>),
}

#[derive(Debug, Args)]
pub(crate) struct BenchGatherArgs {
    /// The server's address (loopback).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// The server's public URL (default: http://ADDR).
    #[arg(long)]
    pub public_url: Option<String>,
    /// The flow to call.
    #[arg(long, default_value = "covid-triage-fr")]
    pub flow: String,
    /// The auth token the server checks signatures with.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: String,
    /// Concurrency levels, comma-separated.
    #[arg(long, default_value = "1,16,64", value_delimiter = ',')]
    pub connections: Vec<usize>,
    /// Load run at each level before it is measured (a fresh server is still growing its heap,
    /// page cache and database files): its requests, latencies and CPU time are not counted.
    #[arg(long, default_value = "3s")]
    pub warmup: String,
    /// Duration measured at each level, after the warm-up.
    #[arg(long, default_value = "10s")]
    pub duration: String,
    /// Speech answers of one call, comma-separated (default: the triage path to the students' line).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "oui,symptômes,non,non,non,non,non,non"
    )]
    pub answers: Vec<String>,
    /// The server's process ids (comma-separated; every worker of a pre-forking server), to
    /// report its CPU time per request.
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
}
