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
    Call(CallArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The voice webhook URL (overrides the scenario's `url`).
    #[arg(conflicts_with = "bin")]
    pub url: Option<String>,
    /// Call a local TwiML Bin instead of a URL: serve FILE's folder of static TwiML and audio on
    /// loopback (as Twilio hosts bins) and call FILE. Relative URLs resolve inside the folder.
    #[arg(long, value_name = "FILE")]
    pub bin: Option<PathBuf>,
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
