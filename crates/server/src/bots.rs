//! Voice bots: configuration, the per-call conversation state shared by the entry webhook and
//! the media-stream driver, engine turns, and the TwiML each reply becomes.
//!
//! A bot is a conversational [`Engine`] (Lex, or the scripted fake) behind a Twilio media
//! stream. The call reaches `POST /bots/{bot}/voice` ([`Bots::entry`]): the engine greets
//! ([`TurnInput::Start`]) and the answer opens the stream, `<Start><Stream>` (audio forked to
//! Hotline, replies delivered by REST call updates) or, for a `bidirectional` bot,
//! `<Connect><Stream>` (replies played as audio on the stream when the engine speaks itself).
//! The stream is driven by [`crate::voice`].
//!
//! The conversation ([`CallState`]: the engine's [`BotSession`], the last prompt, a flow's
//! hand-off) is kept in the server's [`SessionStore`] under `bot:{CallSid}` (the flow runtime
//! uses the bare call SID), written after every turn with compare-and-put, so that a
//! bidirectional call's next stream, a retried webhook or the next webhook may be served by
//! another instance (Redis store). Each engine turn is also written to the call's record
//! ([`RecordStore`]) as a `bot-turn` step (`bot-error` when the engine failed): what the
//! caller said or pressed, the intent and its confidence, the slots, the reply and the action.
//!
//! A flow's `bot` node hands a call over with `?flow=F&seq=N&max=S` on the entry URL
//! ([`FlowReturn`]). The conversation then ends by handing the call back ([`Bots::hand_back`]):
//! a `ReturnToFlow` action or a fulfilled intent keeps the slots collected so far, an engine
//! failure, a caller who never speaks or the node's `max-duration` keep a failure; the result
//! waits in the session store under `bot-result:{CallSid}` ([`Bots::take_result_shared`]; a
//! copy in this process for [`Bots::take_result`]) and the call is redirected to
//! `/flows/F/step?seq=N&bot=done`, whose step feeds it to the flow.
//!
//! This module does no socket IO itself; engine calls are bounded by a global semaphore and a
//! per-bot time limit, and every failure becomes a spoken apology ([`ReplyPolicy::fallback`]).

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hotline_bot::{
    BotSession, CallAction, Engine, EngineConfig, EngineError, IntentState, Reply, ReplyPolicy,
    TurnInput,
};
use hotline_flow::runtime::Outcome;
use hotline_store::session::memory::MemoryConfig;
use hotline_store::{
    CallEnd, CallRecord, CasOutcome, RecordStore, SessionStore, StepRecord, StoreError, TurnRecord,
};
use hotline_twilio::rest::RestClient;
use hotline_twilio::signature::PublicBase;
use hotline_twilio::twiml::{self, Response};
use hotline_vad::{VadConfig, VadFactory};
use hotline_voice::{PipelineConfig, SessionConfig};
use serde::{Deserialize, Serialize};

use crate::metrics::{BotCounters, CallUpdates, Metrics, TurnResult, UpdateCounts};

/// Seconds of `<Pause>` after a start-stream prompt: the call stays up (the stream keeps
/// forking audio) until the next REST update replaces the document.
pub const LISTEN_PAUSE_SECS: u32 = 600;

/// Default time limit of one engine turn.
pub const DEFAULT_TURN_TIMEOUT: Duration = Duration::from_secs(8);

/// Default most engine turns in flight over all calls.
pub const DEFAULT_MAX_CONCURRENT_TURNS: usize = 64;

/// Default reprompts in a row before hanging up.
pub const DEFAULT_MAX_REPROMPTS: u32 = 3;

/// How long a call's conversation is kept without activity.
const CALL_TTL: Duration = Duration::from_secs(4 * 3600);

/// Session-store key prefix of a call's conversation (the flow runtime uses the bare SID).
const STATE_KEY: &str = "bot:";
/// Session-store key prefix of what a bot hands back to its flow.
const RESULT_KEY: &str = "bot-result:";

/// Call-record step kind of an engine turn.
pub const STEP_BOT_TURN: &str = "bot-turn";
/// Call-record step kind of an engine turn that failed (the caller heard an apology).
pub const STEP_BOT_ERROR: &str = "bot-error";

/// Why a call was turned away at the stream limit (a `bot-error` step's `error`, or a flow's
/// failed hand-off).
const AT_STREAM_LIMIT: &str = "the server is at its media stream limit (--max-streams)";
/// The first step `seq` of a flow's hand-off: `HANDOFF_SEQ_BASE + flow seq × 1000 + turn`, so
/// that a bot's steps never collide with the flow's own (numbered from 1).
pub const HANDOFF_SEQ_BASE: u32 = 100_000;
/// Turns recorded per conversation (per hand-off).
const MAX_RECORDED_TURNS: u32 = 999;
/// The first step `seq` of the `return-flow` a call the bot answered itself goes on to: after
/// the bot's own turns (1 to [`MAX_RECORDED_TURNS`]), so that the flow's steps never collide
/// with them.
pub const RETURN_FLOW_FIRST_SEQ: u32 = MAX_RECORDED_TURNS + 1;

/// One bot, as configured.
#[derive(Debug, Clone)]
pub struct BotConfig {
    /// The name in URLs (`/bots/{name}/voice`): letters, digits, `-` and `_`.
    pub name: String,
    /// The conversational engine.
    pub engine: EngineConfig,
    /// The voice activity detector.
    pub vad: VadConfig,
    /// `<Connect><Stream>` (replies as audio on the stream when the engine gives audio) instead
    /// of `<Start><Stream>` (replies by REST call update).
    pub bidirectional: bool,
    /// End-of-turn, barge-in and DTMF settings.
    pub pipeline: PipelineConfig,
    /// Audio per outbound `media` message on bidirectional streams, in ms.
    pub play_chunk_ms: u32,
    /// The conversation's locale (`en_US`): sent to the engine, used for `<Say language>` and
    /// for apologies.
    pub locale: String,
    /// `<Say voice>` (e.g. `Polly.Joanna`), if any.
    pub voice: Option<String>,
    /// Hang-ups, transfers and returns to the flow per intent.
    pub policy: ReplyPolicy,
    /// Said when the caller says nothing (default: the last prompt again).
    pub reprompt: Option<String>,
    /// Reprompts in a row before hanging up (the caller is gone or cannot be heard).
    pub max_reprompts: u32,
    /// The flow a [`CallAction::ReturnToFlow`] redirects to (default: hang up after the
    /// messages).
    pub return_flow: Option<String>,
    /// Time limit of one engine turn; past it the caller hears an apology.
    pub turn_timeout: Duration,
}

impl BotConfig {
    /// A bot named `name` on `engine`, with defaults: WebRTC VAD, start-stream, `en_US`.
    pub fn new(name: impl Into<String>, engine: EngineConfig) -> Self {
        BotConfig {
            name: name.into(),
            engine,
            vad: VadConfig::Webrtc(Default::default()),
            bidirectional: false,
            pipeline: PipelineConfig::default(),
            play_chunk_ms: SessionConfig::default().play_chunk_ms,
            locale: "en_US".to_owned(),
            voice: None,
            policy: ReplyPolicy::default(),
            reprompt: None,
            max_reprompts: DEFAULT_MAX_REPROMPTS,
            return_flow: None,
            turn_timeout: DEFAULT_TURN_TIMEOUT,
        }
    }

    /// The media-stream session settings.
    pub fn session_config(&self) -> SessionConfig {
        SessionConfig {
            pipeline: self.pipeline.clone(),
            bidirectional: self.bidirectional,
            play_chunk_ms: self.play_chunk_ms,
        }
    }

    /// The VAD's short name (`silero`, `webrtc`, `energy`).
    pub fn vad_name(&self) -> &'static str {
        match self.vad {
            VadConfig::Silero(_) => "silero",
            VadConfig::Webrtc(_) => "webrtc",
            VadConfig::Energy(_) => "energy",
        }
    }

    /// Checks the settings without IO.
    pub fn validate(&self) -> Result<(), String> {
        if !valid_bot_name(&self.name) {
            return Err(format!(
                "bot name `{}`: use 1 to 64 letters, digits, `-` or `_`",
                self.name
            ));
        }
        self.engine
            .validate()
            .map_err(|e| format!("bot `{}`: {e}", self.name))?;
        self.vad
            .validate()
            .map_err(|e| format!("bot `{}`: VAD: {e}", self.name))?;
        self.pipeline
            .validate()
            .map_err(|e| format!("bot `{}`: pipeline: {e}", self.name))?;
        if self.play_chunk_ms == 0 {
            return Err(format!(
                "bot `{}`: play_chunk_ms must be positive",
                self.name
            ));
        }
        if self.turn_timeout.is_zero() {
            return Err(format!(
                "bot `{}`: the turn timeout must be positive",
                self.name
            ));
        }
        Ok(())
    }
}

/// Parses a command-line bot: `NAME=ENGINE[,OPTION]...`.
///
/// - `ENGINE`: `local:BOT.yaml` (a local bot file: Hotline's own speech recognition and intents,
///   see docs/bots.md), `fake:FILE.yaml` (the fake engine's script, a `FakeConfig`) or `lex` (Lex V2,
///   configured from the environment: `HOTLINE_LEX_BOT_ID`, `HOTLINE_LEX_BOT_ALIAS_ID`,
///   `HOTLINE_LEX_LOCALE`…, see `LexConfig::from_env`);
/// - options: `bidirectional` (`<Connect><Stream>`), `vad=silero|webrtc|energy` (default
///   `silero`), `locale=fr_FR` (default: Lex's locale, else `en_US`), `timeout=MS` (engine turn
///   limit), `reprompts=N` (no-input reprompts in a row before hanging up, default 3),
///   `voice=Polly.Joanna`, `return-flow=FLOW`.
pub fn parse_bot_spec(spec: &str) -> Result<BotConfig, String> {
    let usage = "use NAME=local:BOT.yaml, NAME=fake:SCRIPT.yaml or NAME=lex, optionally followed by ,bidirectional ,vad=silero|webrtc|energy ,locale=en_US ,timeout=MS ,reprompts=N ,voice=VOICE ,return-flow=FLOW";
    let (name, rest) = spec
        .split_once('=')
        .ok_or_else(|| format!("--bot `{spec}`: {usage}"))?;
    let mut parts = rest.split(',');
    let engine_spec = parts.next().unwrap_or_default().trim();
    let (engine, lex_locale) = if engine_spec == "lex" {
        let lex = hotline_bot::LexConfig::from_env().map_err(|e| format!("--bot `{name}`: {e}"))?;
        let locale = lex.locale_id.clone();
        (EngineConfig::Lex(lex), Some(locale))
    } else if let Some(path) = engine_spec.strip_prefix("local:") {
        (
            EngineConfig::Local(hotline_bot::LocalConfig::new(path)),
            None,
        )
    } else if let Some(path) = engine_spec.strip_prefix("fake:") {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!("--bot `{name}`: cannot read the fake engine's script {path}: {e}")
        })?;
        let fake: hotline_bot::FakeConfig = serde_saphyr::from_str(&text).map_err(|e| {
            format!("--bot `{name}`: the fake engine's script {path} is invalid: {e}")
        })?;
        (EngineConfig::Fake(fake), None)
    } else {
        return Err(format!(
            "--bot `{spec}`: unknown engine `{engine_spec}`; {usage}"
        ));
    };
    let mut bot = BotConfig::new(name.trim(), engine);
    bot.vad = VadConfig::default();
    if let Some(locale) = lex_locale {
        bot.locale = locale;
    }
    for option in parts.map(str::trim).filter(|o| !o.is_empty()) {
        let (key, value) = option.split_once('=').unwrap_or((option, ""));
        match (key, value) {
            ("bidirectional", "") => bot.bidirectional = true,
            ("vad", "silero") => bot.vad = VadConfig::default(),
            ("vad", "webrtc") => bot.vad = VadConfig::Webrtc(Default::default()),
            ("vad", "energy") => bot.vad = VadConfig::Energy(Default::default()),
            ("locale", l) if !l.is_empty() => bot.locale = l.to_owned(),
            ("voice", v) if !v.is_empty() => bot.voice = Some(v.to_owned()),
            ("return-flow", f) if !f.is_empty() => bot.return_flow = Some(f.to_owned()),
            ("reprompts", n) => {
                bot.max_reprompts = n
                    .parse()
                    .map_err(|_| format!("--bot `{name}`: reprompts=`{n}` is not a count"))?;
            }
            ("timeout", ms) => {
                let ms: u64 = ms
                    .parse()
                    .map_err(|_| format!("--bot `{name}`: timeout=`{ms}` is not milliseconds"))?;
                bot.turn_timeout = Duration::from_millis(ms);
            }
            _ => {
                return Err(format!(
                    "--bot `{name}`: unknown option `{option}`; {usage}"
                ));
            }
        }
    }
    bot.validate()?;
    Ok(bot)
}

/// Whether `name` can be a bot name (and a URL path segment).
pub fn valid_bot_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An engine being built.
pub type EngineFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Arc<dyn Engine>, EngineError>> + Send + 'a>>;

/// Builds engines the server cannot build itself (Lex lives in `hotline-aws`, which depends on
/// this crate).
pub trait EngineBuilder: Send + Sync {
    /// The engine for `config`.
    fn build<'a>(&'a self, config: &'a EngineConfig) -> EngineFuture<'a>;

    /// The intent engine for flows described by `config` (`--intents NAME=BOT.yaml`). The
    /// default: this builder has none.
    fn intents<'a>(&'a self, config: &'a crate::intents::IntentConfig) -> IntentFuture<'a> {
        Box::pin(async move {
            Err(format!(
                "this server cannot build intent engines (asked for `{}`)",
                config.name
            ))
        })
    }
}

/// What [`EngineBuilder::intents`] returns.
pub type IntentFuture<'a> = Pin<
    Box<dyn Future<Output = Result<Arc<dyn crate::intents::IntentClassifier>, String>> + Send + 'a>,
>;

/// A built bot.
pub struct Bot {
    /// Its settings.
    pub config: BotConfig,
    /// Its engine.
    pub engine: Arc<dyn Engine>,
    /// One VAD per call.
    pub vad: VadFactory,
    /// Its engine turns, for the metrics.
    pub counters: BotCounters,
}

/// Who called which number: a voice webhook's `From` and `To`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// The caller's number (personal data).
    pub from: String,
    /// The number called.
    pub to: String,
}

/// The flow id of a call the bot named `bot` answered itself, in its record and the metrics:
/// `bot:NAME`.
pub(crate) fn call_flow_id(bot: &str) -> String {
    format!("bot:{bot}")
}

/// The end of a call the bot answered itself with `outcome`: the first end recorded wins. Its
/// stream's stop on one instance and Twilio's status callback on another may both see the call
/// open; only the write that ends it counts it ([`count_end`]), so instances sharing the
/// records count each call's end once between them. (A flow's end, the return flow's after a
/// hand-back, still replaces it.)
fn first_end(call_sid: &str, outcome: &Outcome, at_ms: i64) -> CallEnd {
    CallEnd {
        only_if_open: true,
        ..CallEnd::new(call_sid, crate::engine::outcome_name(outcome), at_ms)
    }
}

/// Counts the end `outcome` of the bot call on `flow` if the write of a [`first_end`] ended it
/// (not if it was ended already, reported as unknown, nor if the write failed).
fn count_end(
    metrics: &Metrics,
    flow: &str,
    outcome: Option<&Outcome>,
    written: &Result<(), StoreError>,
) {
    if let (Some(outcome), Ok(())) = (outcome, written) {
        metrics.call_ended(flow, outcome);
    }
}

/// How a call `bot` answered itself ends, once the bot's part is over: `action` (not
/// [`CallAction::Continue`]) after an engine turn that `failed` or not, as a flow's outcome (its
/// record names it with [`crate::engine::outcome_name`], as a flow's). A return to the bot's
/// `return-flow` is a redirect, and that flow's own end, if recorded, replaces it.
pub(crate) fn bot_outcome(bot: &Bot, action: &CallAction, failed: Option<&str>) -> Option<Outcome> {
    if *action == CallAction::Continue {
        return None;
    }
    Some(match (failed, action) {
        (Some(why), _) => Outcome::Error {
            message: why.to_owned(),
        },
        (None, CallAction::Transfer(target)) => Outcome::Dialed {
            target: target.clone(),
        },
        (None, CallAction::ReturnToFlow) => match &bot.config.return_flow {
            Some(flow) => Outcome::Redirected { flow: flow.clone() },
            None => Outcome::HungUp,
        },
        (None, _) => Outcome::HungUp,
    })
}

/// What the driver must do when the stream of a call starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnStart {
    /// Listen at once (the bot is silent).
    Listen,
    /// The bot is saying something (`<Say>` after `<Start>`): id and estimated duration.
    Speaking {
        /// Playback id.
        id: String,
        /// Estimated duration, ms.
        duration_ms: u64,
    },
    /// Play this audio on the (bidirectional) stream first.
    Play(Vec<u8>),
}

/// The flow a call was handed over from (a flow's `bot` node), and how to hand it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowReturn {
    /// The flow's id.
    pub flow: String,
    /// The flow session's step counter (the return URL carries it).
    pub seq: u64,
    /// When the bot has had the call for the node's `max-duration`: it goes back as failed.
    /// Stored as wall-clock ms since the Unix epoch (another instance's clock).
    #[serde(with = "epoch_ms")]
    pub deadline: Instant,
}

/// An [`Instant`] stored as ms since the Unix epoch (instants mean nothing in another process).
mod epoch_ms {
    use super::*;
    use serde::{Deserializer, Serializer};

    fn now_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }

    pub(super) fn serialize<S: Serializer>(at: &Instant, s: S) -> Result<S::Ok, S::Error> {
        let left = at.saturating_duration_since(Instant::now());
        let left = u64::try_from(left.as_millis()).unwrap_or(u64::MAX);
        s.serialize_u64(now_ms().saturating_add(left))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Instant, D::Error> {
        let at = u64::deserialize(d)?;
        let left = Duration::from_millis(at.saturating_sub(now_ms()));
        Ok(Instant::now()
            .checked_add(left)
            .unwrap_or_else(Instant::now))
    }
}

/// What a bot hands back to its flow: the slots it collected, or why it failed.
pub type BotResult = Result<BTreeMap<String, String>, String>;

/// A call's conversation with a bot, as kept in the session store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallState {
    /// The engine's session.
    pub session: BotSession,
    /// The flow to hand the call back to, when a flow handed it over.
    pub flow: Option<FlowReturn>,
    /// Every slot filled so far (later values win).
    pub slots: BTreeMap<String, String>,
    /// The last thing the bot asked (for reprompts).
    pub last_prompt: Vec<String>,
    /// What the next stream to start must do.
    pub on_start: OnStart,
    /// Engine turns recorded so far (the next step's offset).
    #[serde(default)]
    pub turns: u32,
    /// The caller's number and the number called (the voice webhook's `From` and `To`), for
    /// the record of a call the bot answered itself.
    #[serde(default)]
    pub caller: Caller,
    /// The record of a call the bot answered itself has its end (nothing more is recorded as
    /// its end).
    #[serde(default)]
    pub ended: bool,
    /// The store version this copy was read or written as (compare-and-put).
    #[serde(skip)]
    pub version: Option<u64>,
}

impl CallState {
    /// A fresh conversation.
    pub fn new(session: BotSession) -> Self {
        CallState {
            session,
            flow: None,
            slots: BTreeMap::new(),
            last_prompt: Vec::new(),
            on_start: OnStart::Listen,
            turns: 0,
            caller: Caller::default(),
            ended: false,
            version: None,
        }
    }

    /// The call-record `seq` of the next turn, if one more can be recorded.
    fn next_step_seq(&self) -> Option<u32> {
        if self.turns >= MAX_RECORDED_TURNS {
            return None;
        }
        let base = match &self.flow {
            None => 1,
            Some(f) => u32::try_from(f.seq)
                .ok()?
                .checked_mul(1000)?
                .checked_add(HANDOFF_SEQ_BASE)?,
        };
        base.checked_add(self.turns)
    }
}

/// What one engine turn was given, for its call-record step.
#[derive(Debug, Clone, Copy)]
pub struct TurnKind<'a> {
    /// `start`, `audio`, `text`, `digits`.
    pub input: &'static str,
    /// The keys pressed, for a digits turn.
    pub digits: Option<&'a str>,
}

impl<'a> TurnKind<'a> {
    /// Describes `input`.
    pub fn of(input: &'a TurnInput) -> Self {
        TurnKind {
            input: input_kind(input),
            digits: match input {
                TurnInput::Digits(d) => Some(d.as_str()),
                _ => None,
            },
        }
    }
}

/// Every bot, where conversations are kept, and what turns need.
pub struct Bots {
    bots: HashMap<String, Arc<Bot>>,
    /// Conversations and hand-back results (shared by every instance with Redis).
    store: Arc<dyn SessionStore>,
    /// Call records, for bot-turn steps (none: turns are only logged).
    records: Option<Arc<dyn RecordStore>>,
    /// This process's copy of the results waiting for their flow's step, by call SID.
    results: Mutex<HashMap<String, (Instant, BotResult)>>,
    /// Live call updates; required when any bot is configured.
    pub rest: Option<RestClient>,
    turns: Arc<tokio::sync::Semaphore>,
    /// The public base (stream and flow URLs).
    pub public: PublicBase,
    /// Media streams open now, over every bot.
    streams: Arc<AtomicUsize>,
    /// Most media streams open at once before new calls are turned away (`None`: no limit).
    max_streams: Option<NonZeroUsize>,
    /// New calls turned away at the stream limit.
    refused: AtomicU64,
    /// Live call updates sent, for the metrics.
    updates: CallUpdates,
    /// The server's metrics: the calls a bot answers itself are counted with the flows', as
    /// flow `bot:NAME` ([`Bots::with_metrics`]).
    metrics: Arc<Metrics>,
}

/// A media stream counted as open until this is dropped ([`Bots::stream_opened`]).
#[derive(Debug)]
pub(crate) struct OpenStream(Arc<AtomicUsize>);

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Bots {
    /// Builds every bot (engines and VAD models loaded now, so a broken bot stops start-up),
    /// keeping conversations in a store of this process only and recording no steps; the
    /// server uses [`Bots::build_with_stores`].
    pub async fn build(
        configs: &[BotConfig],
        builder: Option<&dyn EngineBuilder>,
        rest: Option<RestClient>,
        max_concurrent_turns: usize,
        public: PublicBase,
    ) -> Result<Bots, String> {
        let store: Arc<dyn SessionStore> = Arc::new(MemoryConfig::default().build());
        Self::build_with_stores(
            configs,
            builder,
            rest,
            max_concurrent_turns,
            public,
            store,
            None,
        )
        .await
    }

    /// [`Bots::build`], keeping conversations in `sessions` (the server's session store: memory
    /// or Redis) and each turn in `records` (the call records).
    pub async fn build_with_stores(
        configs: &[BotConfig],
        builder: Option<&dyn EngineBuilder>,
        rest: Option<RestClient>,
        max_concurrent_turns: usize,
        public: PublicBase,
        sessions: Arc<dyn SessionStore>,
        records: Option<Arc<dyn RecordStore>>,
    ) -> Result<Bots, String> {
        let mut bots = HashMap::new();
        for c in configs {
            c.validate()?;
            if bots.contains_key(&c.name) {
                return Err(format!("bot `{}` is configured twice", c.name));
            }
            let engine = match (&c.engine, builder) {
                (_, Some(b)) => b.build(&c.engine).await,
                (e, None) => e.build().await,
            }
            .map_err(|e| format!("bot `{}`: {e}", c.name))?;
            let vad = c.vad.build().map_err(|e| {
                format!(
                    "bot `{}`: cannot load the VAD ({e}); for Silero run scripts/install-models.sh",
                    c.name
                )
            })?;
            bots.insert(
                c.name.clone(),
                Arc::new(Bot {
                    config: c.clone(),
                    engine,
                    vad,
                    counters: BotCounters::default(),
                }),
            );
        }
        if !bots.is_empty() && rest.is_none() {
            return Err("voice bots update live calls through Twilio's REST API: set TWILIO_ACCOUNT_SID (and the auth token)".to_owned());
        }
        Ok(Bots {
            bots,
            store: sessions,
            records,
            results: Mutex::new(HashMap::new()),
            rest,
            turns: Arc::new(tokio::sync::Semaphore::new(max_concurrent_turns.max(1))),
            public,
            streams: Arc::default(),
            max_streams: None,
            refused: AtomicU64::new(0),
            updates: CallUpdates::default(),
            metrics: Arc::default(),
        })
    }

    /// No bots.
    pub fn empty(public: PublicBase) -> Bots {
        Bots {
            bots: HashMap::new(),
            store: Arc::new(MemoryConfig::default().build()),
            records: None,
            results: Mutex::new(HashMap::new()),
            rest: None,
            turns: Arc::new(tokio::sync::Semaphore::new(1)),
            public,
            streams: Arc::default(),
            max_streams: None,
            refused: AtomicU64::new(0),
            updates: CallUpdates::default(),
            metrics: Arc::default(),
        }
    }

    /// Turns new calls away once `max` media streams are open (`None`: no limit). A call turned
    /// away hears that the service is unavailable, then the bot's `on_error_transfer` or a
    /// hang-up; a call handed over by a flow goes back to it as a failed hand-off. Calls already
    /// talking are never cut. The streams are counted once open, so calls answered in the
    /// second or so before their streams connect can take the count a little past `max`.
    pub fn with_max_streams(mut self, max: Option<NonZeroUsize>) -> Self {
        self.max_streams = max;
        self
    }

    /// Counts the calls the bots answer themselves in `metrics` (the server's), under flow
    /// `bot:NAME`: `hotline_calls_started_total` and `hotline_calls_ended_total`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Media streams open now, over every bot.
    pub fn open_streams(&self) -> usize {
        self.streams.load(Ordering::Relaxed)
    }

    /// The media stream limit ([`Bots::with_max_streams`]).
    pub fn max_streams(&self) -> Option<NonZeroUsize> {
        self.max_streams
    }

    /// New calls turned away at the stream limit since start-up.
    pub fn streams_refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Every bot's name and turn counters, sorted by name (for the metrics).
    pub fn counters(&self) -> Vec<(&str, &BotCounters)> {
        let mut all: Vec<_> = self
            .bots
            .iter()
            .map(|(name, bot)| (name.as_str(), &bot.counters))
            .collect();
        all.sort_unstable_by_key(|(name, _)| *name);
        all
    }

    /// The live call updates sent so far, by result (for the metrics).
    pub fn call_updates(&self) -> UpdateCounts {
        self.updates.counts()
    }

    /// Where live call updates are counted.
    pub(crate) fn update_counters(&self) -> &CallUpdates {
        &self.updates
    }

    /// Counts a media stream as open until the guard is dropped.
    pub(crate) fn stream_opened(&self) -> OpenStream {
        self.streams.fetch_add(1, Ordering::Relaxed);
        OpenStream(Arc::clone(&self.streams))
    }

    /// Whether a new call must be turned away.
    fn at_stream_limit(&self) -> bool {
        self.max_streams
            .is_some_and(|max| self.open_streams() >= max.get())
    }

    /// The bot named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Bot>> {
        self.bots.get(name).cloned()
    }

    /// The bots' names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.bots.keys().cloned().collect();
        v.sort();
        v
    }

    /// The conversation of `call_sid`, if any (a store error is logged and reads as none).
    pub async fn conversation(&self, call_sid: &str) -> Option<CallState> {
        let key = format!("{STATE_KEY}{call_sid}");
        let stored = match self.store.get(&key).await {
            Ok(s) => s?,
            Err(e) => {
                tracing::error!(call_sid, error = %e, "cannot read the bot conversation");
                return None;
            }
        };
        match serde_json::from_slice::<CallState>(&stored.bytes) {
            Ok(mut state) => {
                state.version = Some(stored.version);
                Some(state)
            }
            Err(e) => {
                tracing::error!(call_sid, error = %e, "unreadable bot conversation; starting afresh");
                None
            }
        }
    }

    /// Stores the conversation of `call_sid` if nobody wrote it since `state` was read
    /// (compare-and-put on `state.version`); if somebody did (a second stream or instance on
    /// the same call), this write wins all the same, with a warning: the conversation that
    /// just took a turn is the one the caller heard. Errors are logged.
    pub async fn save(&self, call_sid: &str, state: &mut CallState) {
        let key = format!("{STATE_KEY}{call_sid}");
        let bytes = match serde_json::to_vec(&*state) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(call_sid, error = %e, "cannot serialise the bot conversation");
                return;
            }
        };
        let version = match self
            .store
            .compare_and_put(&key, state.version, &bytes, CALL_TTL)
            .await
        {
            Ok(CasOutcome::Stored { version }) => Ok(version),
            Ok(CasOutcome::Conflict { current }) => {
                tracing::warn!(
                    call_sid,
                    expected = ?state.version,
                    current = ?current,
                    "the bot conversation was written elsewhere meanwhile; keeping this turn's"
                );
                self.store.put(&key, &bytes, CALL_TTL).await
            }
            Err(e) => Err(e),
        };
        match version {
            Ok(v) => state.version = Some(v),
            Err(e) => tracing::error!(call_sid, error = %e, "cannot store the bot conversation"),
        }
    }

    /// Forgets the conversation of `call_sid`.
    pub async fn forget(&self, call_sid: &str) {
        if let Err(e) = self.store.delete(&format!("{STATE_KEY}{call_sid}")).await {
            tracing::warn!(call_sid, error = %e, "cannot forget the bot conversation");
        }
    }

    /// A status callback reported `call_sid` in `status`. Once the call is over, a call a bot
    /// answered itself that neither its bot nor its stream's stop ended (a stream that never
    /// started or never reported its stop) is recorded as hung up by its caller, and its
    /// conversation forgotten. Nothing is read when no bot is configured. `true` when the call
    /// was such a call, and its conversation is now forgotten.
    pub async fn call_status(&self, call_sid: &str, status: &str) -> bool {
        if self.bots.is_empty()
            || !crate::engine::call_is_over(status)
            || !crate::engine::valid_sid(call_sid)
        {
            return false;
        }
        let Some(mut state) = self.conversation(call_sid).await else {
            return false;
        };
        if state.flow.is_some() {
            return false;
        }
        self.record_end(&mut state, &Outcome::CallerHungUp);
        self.forget(call_sid).await;
        true
    }

    /// Keeps what the bot hands back to the flow of `call_sid`, for the step that resumes it
    /// (in the session store for any instance, and in this process).
    pub async fn keep_result(&self, call_sid: &str, result: BotResult) {
        match serde_json::to_vec(&result) {
            Ok(bytes) => {
                let key = format!("{RESULT_KEY}{call_sid}");
                if let Err(e) = self.store.put(&key, &bytes, CALL_TTL).await {
                    tracing::error!(call_sid, error = %e, "cannot store the bot's result");
                }
            }
            Err(e) => tracing::error!(call_sid, error = %e, "cannot serialise the bot's result"),
        }
        let Ok(mut results) = self.results.lock() else {
            return;
        };
        results.insert(call_sid.to_owned(), (Instant::now(), result));
        if results.len() % 64 == 0 {
            results.retain(|_, (at, _)| at.elapsed() < CALL_TTL);
        }
    }

    /// Takes what a bot of this process handed back to the flow of `call_sid`, if anything.
    /// [`Bots::take_result_shared`] also finds results kept by other instances.
    pub fn take_result(&self, call_sid: &str) -> Option<BotResult> {
        self.results.lock().ok()?.remove(call_sid).map(|(_, r)| r)
    }

    /// Takes what a bot (of any instance sharing the session store) handed back to the flow
    /// of `call_sid`, if anything.
    pub async fn take_result_shared(&self, call_sid: &str) -> Option<BotResult> {
        let local = self.take_result(call_sid);
        let key = format!("{RESULT_KEY}{call_sid}");
        let stored = match self.store.get(&key).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(call_sid, error = %e, "cannot read the bot's result");
                None
            }
        };
        if stored.is_some()
            && let Err(e) = self.store.delete(&key).await
        {
            tracing::warn!(call_sid, error = %e, "cannot delete the bot's result");
        }
        local.or_else(|| {
            stored.and_then(|s| {
                serde_json::from_slice(&s.bytes)
                    .map_err(|e| tracing::error!(call_sid, error = %e, "unreadable bot result"))
                    .ok()
            })
        })
    }

    /// Writes one engine turn to the call's record, in the background (a slow record store
    /// never delays the caller): a `bot-turn` step (`bot-error` when `failed`) at the bot's
    /// node, with what was heard, the intent, its confidence, the slots, the reply and the
    /// action. A call the bot answered itself (no flow) has its call record started with the
    /// greeting turn (flow id `bot:NAME`).
    pub fn record(
        &self,
        bot: &Bot,
        state: &mut CallState,
        kind: TurnKind<'_>,
        reply: &Reply,
        failed: Option<&str>,
    ) {
        let Some(records) = self.records.clone() else {
            return;
        };
        let ends = bot_outcome(bot, &reply.action, failed);
        let Some(seq) = state.next_step_seq() else {
            if let Some(outcome) = &ends {
                self.record_end(state, outcome);
            }
            return;
        };
        let first_turn = state.turns == 0;
        state.turns += 1;
        let call_sid = state.session.call_sid.clone();
        let at_ms = crate::engine::now_ms_i64();
        let mut step = StepRecord::new(
            call_sid.clone(),
            seq,
            at_ms,
            bot.config.name.clone(),
            if failed.is_some() {
                STEP_BOT_ERROR
            } else {
                STEP_BOT_TURN
            },
        );
        step.route = reply.intent_name().map(str::to_owned);
        step.speech = reply.transcript.clone();
        step.confidence = reply.intent.as_ref().and_then(|i| i.confidence);
        step.digits = kind.digits.map(str::to_owned);
        step.detail = Some(
            serde_json::json!({
                "input": kind.input,
                "intent_state": reply.intent.as_ref().map(|i| i.state),
                "slots": reply.slots,
                "reply": reply.messages,
                "action": reply.action,
                "error": failed,
            })
            .to_string(),
        );
        let started = (state.flow.is_none() && kind.input == "start").then(|| {
            let flow = call_flow_id(&bot.config.name);
            // A retried voice webhook greets again (the record's start is written once).
            if first_turn {
                self.metrics.call_started(&flow);
            }
            CallRecord::started(
                call_sid.clone(),
                flow,
                "",
                state.caller.from.clone(),
                state.caller.to.clone(),
                at_ms,
            )
        });
        // The bot's last reply ends a call it answered itself, in the same commit.
        let ended = match ends {
            Some(outcome) if state.flow.is_none() && !state.ended => {
                state.ended = true;
                Some(outcome)
            }
            _ => None,
        };
        let end = ended
            .as_ref()
            .map(|outcome| first_end(&call_sid, outcome, at_ms));
        let (metrics, flow) = (self.metrics.clone(), call_flow_id(&bot.config.name));
        tokio::spawn(async move {
            let turn = TurnRecord {
                started,
                steps: vec![step],
                ended: end,
            };
            let written = records.record_turn(turn).await;
            count_end(&metrics, &flow, ended.as_ref(), &written);
            if let Err(e) = written
                && !(ended.is_some() && matches!(e, StoreError::UnknownCall(_)))
            {
                tracing::warn!(call_sid = %call_sid, error = %e, "cannot record the bot turn");
            }
        });
    }

    /// Ends the record of a call the bot answered itself with `outcome`, in the background,
    /// unless it has its end already (or the bot recorded nothing of it): the bot hung up
    /// without an engine turn (a silent caller), or the caller hung up
    /// ([`Outcome::CallerHungUp`]). A flow's hand-off is ended by its flow. The end is a
    /// [`first_end`]: one another instance recorded first stays, and is not counted again.
    pub fn record_end(&self, state: &mut CallState, outcome: &Outcome) {
        let Some(records) = self.records.clone() else {
            return;
        };
        if state.flow.is_some() || state.ended || state.turns == 0 {
            return;
        }
        state.ended = true;
        let end = first_end(
            &state.session.call_sid,
            outcome,
            crate::engine::now_ms_i64(),
        );
        let (metrics, flow) = (self.metrics.clone(), call_flow_id(&state.session.bot));
        let outcome = outcome.clone();
        tokio::spawn(async move {
            let call_sid = end.call_sid.clone();
            let turn = TurnRecord {
                started: None,
                steps: Vec::new(),
                ended: Some(end),
            };
            let written = records.record_turn(turn).await;
            count_end(&metrics, &flow, Some(&outcome), &written);
            match written {
                // Ended already, by this instance's stream or another's status callback.
                Ok(()) | Err(StoreError::UnknownCall(_)) => {}
                Err(e) => {
                    tracing::warn!(call_sid = %call_sid, error = %e, "cannot record the end of a bot call")
                }
            }
        });
    }

    /// One engine turn, bounded (a permit of the global semaphore and the bot's time limit,
    /// waiting for the permit included), with the reply policy applied. On failure the caller
    /// gets the policy's apology and `session` is left as it was.
    pub async fn turn(&self, bot: &Bot, session: &mut BotSession, input: TurnInput) -> Reply {
        self.turn_checked(bot, session, input).await.0
    }

    /// [`Bots::turn`], with the engine's error when the turn failed (the reply is then the
    /// policy's apology).
    pub async fn turn_checked(
        &self,
        bot: &Bot,
        session: &mut BotSession,
        input: TurnInput,
    ) -> (Reply, Option<String>) {
        let kind = input_kind(&input);
        let started = Instant::now();
        let mut working = session.clone();
        let limit = bot.config.turn_timeout;
        let result = tokio::time::timeout(limit, async {
            let _permit =
                self.turns.acquire().await.map_err(|_| {
                    EngineError::Unavailable("the server is shutting down".to_owned())
                })?;
            bot.engine.turn(&mut working, input).await
        })
        .await
        .unwrap_or_else(|_| {
            Err(EngineError::Timeout {
                engine: bot.engine.name(),
                ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
            })
        });
        let took = started.elapsed();
        let elapsed_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        let counted = match &result {
            Ok(_) => TurnResult::Replied,
            Err(e) => TurnResult::failed(e),
        };
        bot.counters.turn(counted, took);
        match result {
            Ok(reply) => {
                *session = working;
                let reply = bot.config.policy.apply(reply);
                tracing::debug!(
                    bot = %bot.config.name,
                    call_sid = %session.call_sid,
                    input = kind,
                    elapsed_ms,
                    intent = reply.intent_name().unwrap_or(""),
                    action = ?reply.action,
                    "engine turn"
                );
                (reply, None)
            }
            Err(e) => {
                tracing::warn!(
                    bot = %bot.config.name,
                    call_sid = %session.call_sid,
                    input = kind,
                    elapsed_ms,
                    error = %e,
                    "engine turn failed; the caller hears an apology"
                );
                (
                    bot.config.policy.fallback(&bot.config.locale, &e),
                    Some(e.to_string()),
                )
            }
        }
    }

    /// The answer to `POST /bots/{bot}/voice`: the greeting, and the stream.
    pub async fn entry(&self, bot_name: &str, call_sid: Option<&str>) -> String {
        self.entry_from_flow(bot_name, call_sid, None).await
    }

    /// [`Bots::entry`] for a call that `from_flow` handed over (a `bot` node), to hand back.
    pub async fn entry_from_flow(
        &self,
        bot_name: &str,
        call_sid: Option<&str>,
        from_flow: Option<FlowReturn>,
    ) -> String {
        self.entry_for(bot_name, call_sid, Caller::default(), from_flow)
            .await
    }

    /// [`Bots::entry_from_flow`], with who called which number (for the record of a call the
    /// bot answers itself).
    pub async fn entry_for(
        &self,
        bot_name: &str,
        call_sid: Option<&str>,
        caller: Caller,
        from_flow: Option<FlowReturn>,
    ) -> String {
        let Some(bot) = self.get(bot_name) else {
            tracing::warn!(bot = bot_name, "voice webhook for an unknown bot");
            return crate::engine::apology("en-US", None).xml;
        };
        let language = twilio_language(&bot.config.locale);
        let Some(call_sid) = call_sid.filter(|s| crate::engine::valid_sid(s)) else {
            return crate::engine::apology(&language, None).xml;
        };
        let same_hand_off = |s: &CallState| match (&s.flow, &from_flow) {
            (Some(a), Some(b)) => a.flow == b.flow && a.seq == b.seq,
            (None, None) => true,
            _ => false,
        };
        let mut state = match self.conversation(call_sid).await.filter(same_hand_off) {
            // Twilio retried the webhook: greet again, same conversation.
            Some(s) => s,
            None if self.at_stream_limit() => {
                tracing::warn!(
                    bot = %bot.config.name,
                    call_sid,
                    open_streams = self.open_streams(),
                    "at the media stream limit (--max-streams): turning a new call away"
                );
                self.refused.fetch_add(1, Ordering::Relaxed);
                if let Some(to) = &from_flow {
                    return self
                        .hand_back(&bot, call_sid, to, &[], Err(AT_STREAM_LIMIT.to_owned()))
                        .await
                        .to_xml();
                }
                let reply = bot.config.policy.unavailable(&bot.config.locale);
                let mut s = CallState::new(BotSession::new(
                    call_sid,
                    bot.config.name.clone(),
                    bot.config.locale.clone(),
                ));
                s.caller = caller;
                let start = TurnKind::of(&TurnInput::Start);
                self.record(&bot, &mut s, start, &reply, Some(AT_STREAM_LIMIT));
                return self.final_twiml(&bot, &reply).to_xml();
            }
            None => {
                let mut s = CallState::new(BotSession::new(
                    call_sid,
                    bot.config.name.clone(),
                    bot.config.locale.clone(),
                ));
                s.flow = from_flow;
                s.caller = caller;
                s
            }
        };
        let (mut reply, failed) = self
            .turn_checked(&bot, &mut state.session, TurnInput::Start)
            .await;
        self.record(
            &bot,
            &mut state,
            TurnKind::of(&TurnInput::Start),
            &reply,
            failed.as_deref(),
        );
        if let Some(to) = state.flow.clone() {
            if let Some(why) = failed {
                return self
                    .hand_back(&bot, call_sid, &to, &[], Err(why))
                    .await
                    .to_xml();
            }
            state.slots.extend(reply.slots.clone());
            flow_action(&mut reply);
            if reply.action == CallAction::ReturnToFlow {
                let slots = state.slots.clone();
                return self
                    .hand_back(&bot, call_sid, &to, &reply.messages, Ok(slots))
                    .await
                    .to_xml();
            }
        }
        if !reply.messages.is_empty() {
            state.last_prompt = reply.messages.clone();
        }
        let xml = match &reply.action {
            CallAction::Continue => {
                let stream = self.stream_verb(&bot);
                let mut r = Response::new();
                if bot.config.bidirectional {
                    state.on_start = match &reply.audio {
                        Some(audio) if !audio.is_empty() => OnStart::Play(audio.clone()),
                        _ => {
                            r = say_all(r, &bot.config, &reply.messages);
                            OnStart::Listen
                        }
                    };
                    r = r.push(twiml::Verb::Connect(twiml::Connect::stream(stream)));
                } else {
                    r = r.push(twiml::Verb::Start(twiml::Start::stream(stream)));
                    r = say_all(r, &bot.config, &reply.messages);
                    r = r.push(twiml::Verb::Pause(twiml::Pause::new(LISTEN_PAUSE_SECS)));
                    state.on_start = if reply.messages.is_empty() {
                        OnStart::Listen
                    } else {
                        OnStart::Speaking {
                            id: "greeting".to_owned(),
                            duration_ms: say_duration_ms(&reply.messages),
                        }
                    };
                }
                r.to_xml()
            }
            _ => self.final_twiml(&bot, &reply).to_xml(),
        };
        if reply.action == CallAction::Continue {
            self.save(call_sid, &mut state).await;
        }
        xml
    }

    /// `<Stream url="wss://…/streams/{bot}" name="hotline-bot"><Parameter name="bot" …/>`.
    pub fn stream_verb(&self, bot: &Bot) -> twiml::Stream {
        twiml::Stream::new(
            self.public
                .websocket_url(&format!("/streams/{}", bot.config.name)),
        )
        .with_name("hotline-bot")
        .with_parameter("bot", bot.config.name.clone())
    }

    /// The document that says `reply` and keeps listening on a start-stream call.
    pub fn listen_twiml(&self, bot: &Bot, messages: &[String]) -> Response {
        say_all(Response::new(), &bot.config, messages)
            .push(twiml::Verb::Pause(twiml::Pause::new(LISTEN_PAUSE_SECS)))
    }

    /// The document that says `messages` and reconnects a bidirectional stream.
    pub fn reconnect_twiml(&self, bot: &Bot, messages: &[String]) -> Response {
        say_all(Response::new(), &bot.config, messages).push(twiml::Verb::Connect(
            twiml::Connect::stream(self.stream_verb(bot)),
        ))
    }

    /// Ends a flow's hand-off: keeps `result` for the flow's step, and answers with the
    /// document that says `messages`, stops the bot's stream and redirects to the flow.
    pub async fn hand_back(
        &self,
        bot: &Bot,
        call_sid: &str,
        to: &FlowReturn,
        messages: &[String],
        result: BotResult,
    ) -> Response {
        tracing::debug!(
            bot = %bot.config.name,
            call_sid,
            flow = %to.flow,
            ok = result.is_ok(),
            "handing the call back to its flow"
        );
        self.keep_result(call_sid, result).await;
        let mut r = say_all(Response::new(), &bot.config, messages);
        if !bot.config.bidirectional {
            r = r.stop(twiml::Stop {
                streams: vec![self.stream_verb(bot)],
            });
        }
        r.push(twiml::Verb::Redirect(twiml::Redirect::new(
            crate::links::bot_return_url(&self.public, &to.flow, to.seq),
        )))
    }

    /// The document for a reply that ends the conversation: hang up, transfer, or return to
    /// the flow.
    ///
    /// Before a transfer or a return to the flow, a `<Start>` stream is stopped: Twilio would
    /// otherwise keep sending the caller's audio (and their talk with whoever answers) to the
    /// bot, which no longer listens, for the rest of the call.
    pub fn final_twiml(&self, bot: &Bot, reply: &Reply) -> Response {
        let mut r = say_all(Response::new(), &bot.config, &reply.messages);
        let goes_on = matches!(
            reply.action,
            CallAction::Transfer(_) | CallAction::ReturnToFlow
        );
        if goes_on && !bot.config.bidirectional {
            r = r.stop(twiml::Stop {
                streams: vec![self.stream_verb(bot)],
            });
        }
        match &reply.action {
            CallAction::Transfer(target) => r.push(twiml::Verb::Dial(twiml::Dial::number(target))),
            CallAction::ReturnToFlow => match &bot.config.return_flow {
                Some(flow) => r.push(twiml::Verb::Redirect(twiml::Redirect::new(
                    self.public
                        .http_url(&format!("/flows/{flow}/voice?rec={RETURN_FLOW_FIRST_SEQ}")),
                ))),
                None => r.hangup(),
            },
            CallAction::Hangup | CallAction::Continue => r.hangup(),
        }
    }
}

/// In a flow's hand-off, a fulfilled intent (or one ready for fulfilment) that the policy does
/// not end otherwise hands the call back to the flow.
pub fn flow_action(reply: &mut Reply) {
    if reply.action == CallAction::Continue
        && reply.intent.as_ref().is_some_and(|i| {
            matches!(
                i.state,
                IntentState::Fulfilled | IntentState::ReadyForFulfillment
            )
        })
    {
        reply.action = CallAction::ReturnToFlow;
    }
}

fn input_kind(input: &TurnInput) -> &'static str {
    match input {
        TurnInput::Audio { .. } => "audio",
        TurnInput::Text(_) => "text",
        TurnInput::Digits(_) => "digits",
        TurnInput::Start => "start",
    }
}

/// `en_US` → `en-US`, as `<Say language>` wants.
pub fn twilio_language(locale: &str) -> String {
    locale.replace('_', "-")
}

/// `<Say>` each message, in the bot's voice and language.
fn say_all(mut r: Response, bot: &BotConfig, messages: &[String]) -> Response {
    let language = twilio_language(&bot.locale);
    for m in messages.iter().filter(|m| !m.trim().is_empty()) {
        let mut say = twiml::Say::new(m.clone()).with_language(language.clone());
        if let Some(v) = &bot.voice {
            say = say.with_voice(v.clone());
        }
        r = r.say(say);
    }
    r
}

/// Estimated time Twilio takes to say `messages` (about 14 characters a second, at least
/// 400 ms each), so the pipeline knows when the bot stops talking.
pub fn say_duration_ms(messages: &[String]) -> u64 {
    messages
        .iter()
        .filter(|m| !m.trim().is_empty())
        .map(|m| (m.chars().count() as u64 * 1000 / 14).max(400))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_names_are_path_safe() {
        assert!(valid_bot_name("appointments-fr_2"));
        assert!(!valid_bot_name(""));
        assert!(!valid_bot_name("a/b"));
        assert!(!valid_bot_name("a b"));
        assert!(!valid_bot_name(&"x".repeat(65)));
    }

    #[test]
    fn bot_specs() {
        let dir = std::env::temp_dir().join(format!("hotline-bot-spec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let script = dir.join("bot.yaml");
        std::fs::write(&script, "greeting: [\"Hi\"]\n").unwrap_or_default();
        let spec = format!(
            "front-desk=fake:{},bidirectional,vad=energy,locale=fr_FR,timeout=1500",
            script.display()
        );
        let b = parse_bot_spec(&spec);
        assert!(b.is_ok(), "{b:?}");
        if let Ok(b) = b {
            assert_eq!(b.name, "front-desk");
            assert!(b.bidirectional);
            assert!(matches!(b.vad, VadConfig::Energy(_)));
            assert_eq!(b.locale, "fr_FR");
            assert_eq!(b.turn_timeout, Duration::from_millis(1500));
        }
        let local = parse_bot_spec("desk=local:examples/bots/appointments.yaml,vad=webrtc");
        assert!(
            matches!(&local, Ok(b) if matches!(&b.engine, EngineConfig::Local(c) if c.bot.ends_with("appointments.yaml") && c.asr)),
            "{local:?}"
        );
        assert!(parse_bot_spec("desk=local:").is_err());
        assert!(parse_bot_spec("nobody").is_err());
        assert!(parse_bot_spec("x=dialogflow").is_err());
        assert!(parse_bot_spec(&format!("x=fake:{},loud", script.display())).is_err());
        assert!(parse_bot_spec("x=fake:/does/not/exist.yaml").is_err());
        assert!(parse_bot_spec(&format!("a/b=fake:{}", script.display())).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn say_durations_follow_the_text() {
        assert_eq!(say_duration_ms(&[]), 0);
        assert_eq!(say_duration_ms(&["Hi".into()]), 400);
        assert_eq!(say_duration_ms(&["x".repeat(28), " ".into()]), 2000);
    }
}
