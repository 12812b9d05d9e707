//! A Twilio-faithful call emulator: plays Twilio's role against any TwiML application.
//!
//! [`Emulator::start`] binds a local Twilio REST API (live-call updates, recordings);
//! [`Emulator::call`] places one call: it requests the voice URL with Twilio's signed
//! parameters, executes the returned TwiML verb by verb, feeds the scripted caller
//! ([`script`]) to `<Gather>`, `<Record>` and media streams, and returns the call's
//! [`transcript::Transcript`].
//!
//! Time runs on a [`clock::Clock`]: real time, or a fast virtual clock driven by the audio of
//! open streams. Nothing here prints; the CLI renders transcripts.

pub mod api;
pub mod bins;
mod call;
pub mod clock;
pub mod duration;
pub mod gather;
pub mod http;
pub mod ids;
mod media;
pub mod recorder;
pub mod script;
pub mod transcript;
pub mod tts;

use hotline_twilio::twiml::Method;
use hotline_twilio::webhook::{CallInfo, Direction};
use recorder::{LiveSink, Recorder};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

pub use call::{APPLICATION_ERROR_PROMPT, MAX_DOCUMENTS};
pub use clock::Pace;
pub use script::{Scenario, Script, Step};
pub use transcript::{EndReason, Event, Transcript};

/// The account SID the emulator uses unless told otherwise.
pub const DEFAULT_ACCOUNT_SID: &str = "AC00000000000000000000000000000000";
/// The auth token the emulator signs with unless told otherwise (local testing only).
pub const DEFAULT_AUTH_TOKEN: &str = "hotline-emulator-token";

/// Emulator-wide settings.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// `AccountSid`.
    pub account_sid: String,
    /// The auth token: signs webhooks, authenticates REST updates.
    pub auth_token: String,
    /// How long Twilio waits for a webhook answer (Twilio: 15 s).
    pub webhook_timeout: Duration,
    /// Where the emulated REST API listens (port 0: any free port).
    pub api_addr: SocketAddr,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            account_sid: DEFAULT_ACCOUNT_SID.to_owned(),
            auth_token: DEFAULT_AUTH_TOKEN.to_owned(),
            webhook_timeout: Duration::from_secs(15),
            api_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// How a `<Dial>`ed party answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DialOutcome {
    /// Answered; the conversation lasts `CallSpec::dial_talk`.
    #[default]
    Completed,
    /// Busy.
    Busy,
    /// Rang out.
    NoAnswer,
    /// Could not be placed.
    Failed,
}

impl DialOutcome {
    /// The `DialCallStatus` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DialOutcome::Completed => "completed",
            DialOutcome::Busy => "busy",
            DialOutcome::NoAnswer => "no-answer",
            DialOutcome::Failed => "failed",
        }
    }

    /// Parses the `DialCallStatus` spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "completed" | "answered" => Some(DialOutcome::Completed),
            "busy" => Some(DialOutcome::Busy),
            "no-answer" => Some(DialOutcome::NoAnswer),
            "failed" => Some(DialOutcome::Failed),
            _ => None,
        }
    }
}

/// One call to place.
#[derive(Debug, Clone)]
pub struct CallSpec {
    /// The voice URL.
    pub url: Url,
    /// Its method.
    pub method: Method,
    /// Requested when the voice URL fails (Twilio's number-level fallback URL).
    pub fallback_url: Option<Url>,
    /// The fallback URL's method.
    pub fallback_method: Method,
    /// `From`.
    pub from: String,
    /// `To`.
    pub to: String,
    /// The caller's steps.
    pub script: Vec<Step>,
    /// Confidence reported with speech unless a step sets its own.
    pub confidence: f32,
    /// Language the caller speaks into media streams (for text-to-speech).
    pub language: String,
    /// The caller hangs up this long after the call starts.
    pub hangup_after: Option<Duration>,
    /// The emulator ends the call after this long (emulated time).
    pub max_duration: Duration,
    /// Call status callback URL (events initiated, ringing, answered, completed).
    pub status_callback: Option<Url>,
    /// Its method.
    pub status_callback_method: Method,
    /// How `<Dial>`ed parties answer.
    pub dial_outcome: DialOutcome,
    /// How long an answered `<Dial>` lasts.
    pub dial_talk: Duration,
    /// Real time or fast.
    pub pace: Pace,
}

impl CallSpec {
    /// A call to `url` with defaults: POST, a silent caller, fast pace.
    pub fn new(url: Url) -> Self {
        CallSpec {
            url,
            method: Method::Post,
            fallback_url: None,
            fallback_method: Method::Post,
            from: "+15005550006".to_owned(),
            to: "+15005550001".to_owned(),
            script: Vec::new(),
            confidence: 0.9,
            language: "en-US".to_owned(),
            hangup_after: None,
            max_duration: Duration::from_secs(600),
            status_callback: None,
            status_callback_method: Method::Post,
            dial_outcome: DialOutcome::Completed,
            dial_talk: Duration::from_secs(5),
            pace: Pace::FAST,
        }
    }
}

/// A finished call.
#[derive(Debug, Clone)]
pub struct CallReport {
    /// `CallSid`.
    pub call_sid: String,
    /// Everything that happened.
    pub transcript: Transcript,
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The REST API port could not be bound.
    #[error("cannot listen on {addr} for the emulated REST API: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// A running emulator: one REST API, any number of calls.
pub struct Emulator {
    env: Arc<call::CallEnv>,
    config: EmulatorConfig,
    api_addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Emulator {
    /// Binds the REST API and gets ready to place calls.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        let listener = tokio::net::TcpListener::bind(config.api_addr)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: config.api_addr,
                source,
            })?;
        let api_addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: config.api_addr,
                source,
            })?;
        let registry = api::Registry::default();
        let app = api::router(registry.clone(), &config.account_sid, &config.auth_token);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let env = Arc::new(call::CallEnv {
            fetcher: http::Fetcher::new(&config.auth_token, config.webhook_timeout)?,
            voice: tts::Voice::new(),
            api_base: format!("http://{api_addr}"),
            registry,
            auth_token: config.auth_token.clone(),
        });
        Ok(Emulator {
            env,
            config,
            api_addr,
            server,
        })
    }

    /// The base URL of the emulated REST API (give it to the application as Twilio's API base).
    pub fn api_base(&self) -> String {
        format!("http://{}", self.api_addr)
    }

    /// The account SID.
    pub fn account_sid(&self) -> &str {
        &self.config.account_sid
    }

    /// Places a call and runs it to its end.
    pub async fn call(&self, spec: CallSpec) -> CallReport {
        self.call_with_live(spec, None).await
    }

    /// Places a call, showing each event to `live` as it happens.
    pub async fn call_with_live(&self, spec: CallSpec, live: Option<LiveSink>) -> CallReport {
        let call_sid = ids::new_sid("CA");
        let info = CallInfo {
            call_sid: call_sid.clone(),
            account_sid: self.config.account_sid.clone(),
            from: spec.from.clone(),
            to: spec.to.clone(),
            direction: Direction::Inbound,
            caller_name: None,
            forwarded_from: None,
            from_country: None,
            to_country: None,
        };
        let clock = clock::Clock::new(spec.pace);
        let script =
            Script::new(spec.script.clone()).with_audio_lengths(tts::audio_lengths(&spec.script));
        let rec = Recorder::new(clock, script, live);
        let updates = self.env.registry.register(&call_sid);
        let (signals_tx, signals_rx) = tokio::sync::mpsc::unbounded_channel();
        let run = call::CallRun::new(self.env.clone(), spec, info, rec.clone(), signals_tx);
        run.run(updates, signals_rx).await;
        CallReport {
            call_sid,
            transcript: rec.transcript(),
        }
    }
}
