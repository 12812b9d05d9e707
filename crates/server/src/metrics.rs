//! Operational metrics in Prometheus' text exposition format (version 0.0.4), for an operator's
//! dashboards and alerts: webhooks answered and how fast, calls started and ended, calls lost,
//! failures of the stores a caller's answer depends on, flow reloads, connections and media
//! streams, voice bots' engine turns and live call updates.
//!
//! Counting is a few relaxed atomic additions per request (no lock, no allocation); the text
//! is rendered only when scraped. `hotline serve --metrics-listen ADDR` serves it on its own
//! listener (`GET /metrics`), off the port Twilio reaches, so a reverse proxy in front of the
//! webhooks does not publish it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{OnceLock, PoisonError, RwLock};
use std::time::Duration;

use hotline_flow::runtime::Outcome;

/// The route a request took, as the `route` label names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/voice` and `/flows/{flow}/voice`: a call's first webhook.
    Voice,
    /// `/flows/{flow}/step`: gather, dial and record actions.
    Step,
    /// `/status`: call status callbacks.
    Status,
    /// `/bots/{bot}/voice`: a voice bot's webhook.
    Bot,
    /// `/streams/{bot}`: a media stream's WebSocket upgrade (101 when upgraded).
    Stream,
    /// `/prompts/…`: prompt audio.
    Prompt,
    /// `/healthz`.
    Health,
    /// Anything else (answered 404 or 405).
    Other,
}

impl Route {
    const ALL: [Route; 8] = [
        Route::Voice,
        Route::Step,
        Route::Status,
        Route::Bot,
        Route::Stream,
        Route::Prompt,
        Route::Health,
        Route::Other,
    ];

    /// The label value.
    pub fn name(self) -> &'static str {
        match self {
            Route::Voice => "voice",
            Route::Step => "step",
            Route::Status => "status",
            Route::Bot => "bot",
            Route::Stream => "stream",
            Route::Prompt => "prompt",
            Route::Health => "health",
            Route::Other => "other",
        }
    }

    /// The route of a path the router answers (the webhooks' own paths are read before).
    pub fn of_path(path: &str) -> Route {
        if path.starts_with("/bots/") && path.ends_with("/voice") {
            Route::Bot
        } else if path.starts_with("/streams/") {
            Route::Stream
        } else if path.starts_with("/prompts/") {
            Route::Prompt
        } else if path == "/healthz" {
            Route::Health
        } else if path == "/voice" || (path.starts_with("/flows/") && path.ends_with("/voice")) {
            Route::Voice
        } else if path.starts_with("/flows/") && path.ends_with("/step") {
            Route::Step
        } else if path == "/status" {
            Route::Status
        } else {
            Route::Other
        }
    }

    /// Whether its latency is kept: the routes Twilio waits on for what a caller hears next.
    fn timed(self) -> Option<usize> {
        match self {
            Route::Voice => Some(0),
            Route::Step => Some(1),
            Route::Status => Some(2),
            Route::Bot => Some(3),
            _ => None,
        }
    }
}

/// The status codes counted by name; any other is counted as `other`.
const CODES: [u16; 12] = [101, 200, 204, 206, 304, 400, 403, 404, 405, 413, 416, 500];
const OTHER_CODE: usize = CODES.len();

/// Upper bounds of the latency buckets, in microseconds (Twilio gives up on a webhook at 15 s).
const BUCKETS_US: [u64; 13] = [
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000, 15_000_000,
];

/// A latency histogram: a count per bucket (not cumulative until rendered), the sum, the count.
#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS_US.len()],
    sum_us: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn observe(&self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        if let Some(i) = BUCKETS_US.iter().position(|&le| us <= le) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.sum_us.fetch_add(us, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    /// Its `_bucket`, `_sum` and `_count` series as `name{label,…}` (`label`: `key="value"`).
    fn render(&self, w: &mut String, name: &str, label: &str) {
        let mut cumulative = 0;
        for (le, n) in BUCKETS_US.iter().zip(&self.buckets) {
            cumulative += n.load(Relaxed);
            let _ = writeln!(
                w,
                "{name}_bucket{{{label},le=\"{}\"}} {cumulative}",
                seconds(*le)
            );
        }
        // Read after the buckets, and never below them: an observation counted in a bucket
        // but not yet in the count must not make `+Inf` the smaller.
        let count = self.count.load(Relaxed).max(cumulative);
        let _ = writeln!(w, "{name}_bucket{{{label},le=\"+Inf\"}} {count}");
        let _ = writeln!(
            w,
            "{name}_sum{{{label}}} {}",
            seconds(self.sum_us.load(Relaxed))
        );
        let _ = writeln!(w, "{name}_count{{{label}}} {count}");
    }
}

/// A failure met while answering a call: the caller hears an apology instead of their flow
/// (except for a call's end record, written after the call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The call records could not be written (the answer depending on them was not given, or
    /// a call's end was not recorded).
    Records,
    /// The session store could not be read or written.
    Sessions,
    /// A webhook named a flow that is not loaded, or a number with no flow.
    UnknownFlow,
}

impl Failure {
    const ALL: [Failure; 3] = [Failure::Records, Failure::Sessions, Failure::UnknownFlow];

    fn name(self) -> &'static str {
        match self {
            Failure::Records => "records",
            Failure::Sessions => "sessions",
            Failure::UnknownFlow => "unknown_flow",
        }
    }
}

/// How a voice bot's engine turn ended, as the `result` label names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnResult {
    /// The engine replied.
    Replied,
    /// The engine did not answer within the bot's turn timeout: the caller heard an apology.
    Timeout,
    /// The engine was unavailable or throttling: an apology.
    Unavailable,
    /// The engine refused the bot's configuration (ids, locale, credentials): an apology.
    Configuration,
    /// The engine's answer could not be read: an apology.
    BadResponse,
}

impl TurnResult {
    const ALL: [TurnResult; 5] = [
        TurnResult::Replied,
        TurnResult::Timeout,
        TurnResult::Unavailable,
        TurnResult::Configuration,
        TurnResult::BadResponse,
    ];

    fn name(self) -> &'static str {
        match self {
            TurnResult::Replied => "replied",
            TurnResult::Timeout => "timeout",
            TurnResult::Unavailable => "unavailable",
            TurnResult::Configuration => "configuration",
            TurnResult::BadResponse => "bad_response",
        }
    }

    /// The result of a turn that failed with `error`.
    pub fn failed(error: &hotline_bot::EngineError) -> TurnResult {
        use hotline_bot::EngineError;
        match error {
            EngineError::Timeout { .. } => TurnResult::Timeout,
            EngineError::Unavailable(_) => TurnResult::Unavailable,
            EngineError::Configuration(_) => TurnResult::Configuration,
            EngineError::BadResponse(_) => TurnResult::BadResponse,
        }
    }
}

/// A voice bot's engine turns: how each ended, and how long its callers waited for them. Each
/// bot holds its own; they are rendered by bot name.
#[derive(Debug, Default)]
pub struct BotCounters {
    turns: [AtomicU64; TurnResult::ALL.len()],
    wait: Histogram,
}

impl BotCounters {
    /// A turn ended with `result`, `took` after it began (the call's arrival, for the greeting;
    /// the moment the caller's utterance was cut or their keys pressed, for a reply).
    pub fn turn(&self, result: TurnResult, took: Duration) {
        self.turns[result as usize].fetch_add(1, Relaxed);
        self.wait.observe(took);
    }
}

/// Live call updates sent through Twilio's REST API (voice bots' replies), by what came of
/// them.
#[derive(Debug, Default)]
pub struct CallUpdates {
    updated: AtomicU64,
    gone: AtomicU64,
    failed: AtomicU64,
}

impl CallUpdates {
    /// Twilio updated the call.
    pub fn updated(&self) {
        self.updated.fetch_add(1, Relaxed);
    }

    /// The call had ended (Twilio answered 404, or the call was completed).
    pub fn gone(&self) {
        self.gone.fetch_add(1, Relaxed);
    }

    /// The update failed after its retries: the caller heard nothing new.
    pub fn failed(&self) {
        self.failed.fetch_add(1, Relaxed);
    }

    /// The counts now.
    pub fn counts(&self) -> UpdateCounts {
        UpdateCounts {
            updated: self.updated.load(Relaxed),
            gone: self.gone.load(Relaxed),
            failed: self.failed.load(Relaxed),
        }
    }
}

/// [`CallUpdates`] read at one time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateCounts {
    /// Calls updated.
    pub updated: u64,
    /// Updates of calls that had ended.
    pub gone: u64,
    /// Updates that failed.
    pub failed: u64,
}

/// The counters, shared by every request.
pub struct Metrics {
    started_unix: u64,
    responses: [[AtomicU64; CODES.len() + 1]; Route::ALL.len()],
    latency: [Histogram; 4],
    /// Calls started and ended, by flow id: as many entries as flows ever served (ids come from
    /// flow files, never from a request).
    calls: RwLock<HashMap<Box<str>, FlowCalls, foldhash::fast::RandomState>>,
    lost_calls: AtomicU64,
    failures: [AtomicU64; Failure::ALL.len()],
    reloads_loaded: AtomicU64,
    reloads_rejected: AtomicU64,
    purged: AtomicU64,
    purge_failures: AtomicU64,
    connections: OnceLock<crate::connections::Slots>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            started_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            responses: Default::default(),
            latency: Default::default(),
            calls: RwLock::default(),
            lost_calls: AtomicU64::new(0),
            failures: Default::default(),
            reloads_loaded: AtomicU64::new(0),
            reloads_rejected: AtomicU64::new(0),
            purged: AtomicU64::new(0),
            purge_failures: AtomicU64::new(0),
            connections: OnceLock::new(),
        }
    }
}

/// What is read off the server when the metrics are rendered, rather than counted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges<'a> {
    /// The ids of the flows loaded: each has its calls' series, at 0 before its first call.
    pub flow_ids: &'a [String],
    /// Voice-bot media streams open.
    pub streams_open: usize,
    /// The media stream limit (`--max-streams`), if any.
    pub streams_limit: Option<usize>,
    /// New voice-bot calls turned away at the stream limit since start-up.
    pub streams_refused: u64,
    /// Each voice bot's name and turn counters, sorted by name.
    pub bots: &'a [(&'a str, &'a BotCounters)],
    /// Live call updates sent for voice bots since start-up.
    pub call_updates: UpdateCounts,
}

impl Metrics {
    /// A request on `route` answered with `status` after `took`.
    pub fn answered(&self, route: Route, status: u16, took: Duration) {
        let code = CODES
            .iter()
            .position(|&c| c == status)
            .unwrap_or(OTHER_CODE);
        self.responses[route as usize][code].fetch_add(1, Relaxed);
        if let Some(h) = route.timed() {
            self.latency[h].observe(took);
        }
    }

    /// A call's first webhook started it on `flow`.
    pub fn call_started(&self, flow: &str) {
        self.on_flow(flow, |c| c.started.fetch_add(1, Relaxed));
    }

    /// A call on `flow` ended with `outcome` (counted once per call, when its end is stored).
    pub fn call_ended(&self, flow: &str, outcome: &Outcome) {
        let i = outcome_index(outcome);
        self.on_flow(flow, |c| c.ended[i].fetch_add(1, Relaxed));
    }

    /// Counts on `flow`'s counters, added on its first call.
    fn on_flow(&self, flow: &str, count: impl Fn(&FlowCalls) -> u64) {
        if let Some(c) = self
            .calls
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(flow)
        {
            count(c);
            return;
        }
        let mut calls = self.calls.write().unwrap_or_else(PoisonError::into_inner);
        count(calls.entry(Box::from(flow)).or_default());
    }

    /// A call on `flow` whose session the server had lost ended (its record was still open).
    pub fn call_ended_lost(&self, flow: &str) {
        self.on_flow(flow, |c| c.ended[LOST].fetch_add(1, Relaxed));
    }

    /// A callback came for a call with no session (answered by the lost-call policy).
    pub fn call_lost(&self) {
        self.lost_calls.fetch_add(1, Relaxed);
    }

    /// A caller was answered with an apology because of `failure`.
    pub fn failed(&self, failure: Failure) {
        self.failures[failure as usize].fetch_add(1, Relaxed);
    }

    /// A flow file was (re)loaded, or an edit of it rejected.
    pub fn reloaded(&self, loaded: bool) {
        if loaded {
            self.reloads_loaded.fetch_add(1, Relaxed);
        } else {
            self.reloads_rejected.fetch_add(1, Relaxed);
        }
    }

    /// `n` calls were purged from the records, past their retention.
    pub fn purged(&self, n: u64) {
        self.purged.fetch_add(n, Relaxed);
    }

    /// A purge of the records failed.
    pub fn purge_failed(&self) {
        self.purge_failures.fetch_add(1, Relaxed);
    }

    /// The connection slots to report on (set once, when the server starts serving).
    pub(crate) fn watch_connections(&self, slots: crate::connections::Slots) {
        let _ = self.connections.set(slots);
    }

    /// Everything, in Prometheus' text format.
    pub fn render(&self, gauges: Gauges) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let w = &mut out;
        header(
            w,
            "hotline_build_info",
            "gauge",
            "The running build (always 1).",
        );
        let _ = writeln!(
            w,
            "hotline_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        header(
            w,
            "hotline_start_time_seconds",
            "gauge",
            "When the server started, in seconds since the Unix epoch.",
        );
        let _ = writeln!(w, "hotline_start_time_seconds {}", self.started_unix);

        header(
            w,
            "hotline_http_responses_total",
            "counter",
            "HTTP requests answered, by route and status code (403: a bad X-Twilio-Signature).",
        );
        for route in Route::ALL {
            for (i, n) in self.responses[route as usize].iter().enumerate() {
                let n = n.load(Relaxed);
                if n == 0 {
                    continue;
                }
                let code = CODES
                    .get(i)
                    .map_or_else(|| "other".to_owned(), u16::to_string);
                let _ = writeln!(
                    w,
                    "hotline_http_responses_total{{route=\"{}\",code=\"{code}\"}} {n}",
                    route.name()
                );
            }
        }

        header(
            w,
            "hotline_webhook_duration_seconds",
            "histogram",
            "Time to answer the webhooks Twilio waits on, from the request's head read to its \
             response ready to send (the body, the signature check and the records' commit \
             included), by route.",
        );
        for route in Route::ALL {
            let Some(h) = route.timed() else { continue };
            let label = format!("route=\"{}\"", route.name());
            self.latency[h].render(w, "hotline_webhook_duration_seconds", &label);
        }

        self.render_calls(w, gauges.flow_ids, gauges.bots);
        counter(
            w,
            "hotline_lost_calls_total",
            "Callbacks for calls with no session (a restart with memory sessions, an expired \
             session), answered by the lost-call policy.",
            self.lost_calls.load(Relaxed),
        );
        header(
            w,
            "hotline_call_failures_total",
            "counter",
            "Failures met while answering calls, by cause: a store not written or read (the \
             caller heard an apology, except when a call's end was not recorded), or no flow for \
             the webhook. Alert on records and sessions.",
        );
        for f in Failure::ALL {
            let _ = writeln!(
                w,
                "hotline_call_failures_total{{cause=\"{}\"}} {}",
                f.name(),
                self.failures[f as usize].load(Relaxed)
            );
        }
        header(
            w,
            "hotline_flow_reloads_total",
            "counter",
            "Flow files loaded after an edit, and edits rejected (the previous version kept \
             serving).",
        );
        let _ = writeln!(
            w,
            "hotline_flow_reloads_total{{result=\"loaded\"}} {}",
            self.reloads_loaded.load(Relaxed)
        );
        let _ = writeln!(
            w,
            "hotline_flow_reloads_total{{result=\"rejected\"}} {}",
            self.reloads_rejected.load(Relaxed)
        );
        gauge(w, "hotline_flows", "Flows loaded.", gauges.flow_ids.len());
        counter(
            w,
            "hotline_records_purged_total",
            "Calls deleted from the records past their retention (--retention).",
            self.purged.load(Relaxed),
        );
        counter(
            w,
            "hotline_records_purge_failures_total",
            "Purges of the records past their retention that failed (retried an hour later).",
            self.purge_failures.load(Relaxed),
        );

        if let Some(slots) = self.connections.get() {
            gauge(
                w,
                "hotline_connections_open",
                "Client connections held (media streams leave the count once upgraded).",
                slots.held(),
            );
            gauge(
                w,
                "hotline_connections_limit",
                "Most client connections held at once (--max-connections).",
                slots.max(),
            );
        }
        gauge(
            w,
            "hotline_media_streams_open",
            "Voice-bot media streams open.",
            gauges.streams_open,
        );
        if let Some(limit) = gauges.streams_limit {
            gauge(
                w,
                "hotline_media_streams_limit",
                "Most media streams open at once (--max-streams).",
                limit,
            );
        }
        counter(
            w,
            "hotline_media_streams_refused_total",
            "New voice-bot calls turned away at the media stream limit.",
            gauges.streams_refused,
        );
        render_bots(w, &gauges);
        out
    }
}

/// The voice bots' turns by bot, and the live call updates sent for them.
fn render_bots(w: &mut String, gauges: &Gauges) {
    header(
        w,
        "hotline_bot_turns_total",
        "counter",
        "Voice-bot engine turns, by bot and result: replied, or why the engine failed (timeout, \
         unavailable, configuration, bad_response), when the caller heard an apology instead.",
    );
    for (bot, c) in gauges.bots {
        for r in TurnResult::ALL {
            let _ = writeln!(
                w,
                "hotline_bot_turns_total{{bot=\"{}\",result=\"{}\"}} {}",
                LabelValue(bot),
                r.name(),
                c.turns[r as usize].load(Relaxed)
            );
        }
    }
    header(
        w,
        "hotline_bot_turn_duration_seconds",
        "histogram",
        "How long callers waited for a voice bot's engine turns (the greeting, then each reply \
         from the moment their utterance was cut, after the silence window, or their keys \
         pressed), the wait for an engine slot and failed turns included, by bot.",
    );
    for (bot, c) in gauges.bots {
        let label = format!("bot=\"{}\"", LabelValue(bot));
        c.wait
            .render(w, "hotline_bot_turn_duration_seconds", &label);
    }
    header(
        w,
        "hotline_call_updates_total",
        "counter",
        "Live call updates sent through Twilio's REST API for voice bots' replies, by result: \
         updated, call_gone (the call had ended), failed (after its retries; the caller heard \
         nothing new).",
    );
    let u = gauges.call_updates;
    for (result, n) in [
        ("updated", u.updated),
        ("call_gone", u.gone),
        ("failed", u.failed),
    ] {
        let _ = writeln!(w, "hotline_call_updates_total{{result=\"{result}\"}} {n}");
    }
}

/// A flow's calls: started, and ended by outcome ([`OUTCOMES`]).
#[derive(Default)]
struct FlowCalls {
    started: AtomicU64,
    ended: [AtomicU64; OUTCOMES.len()],
}

/// How calls end, as the `outcome` label names them: the call records' outcome names
/// (`crate::engine::outcome_name`), in [`outcome_index`]'s order.
const OUTCOMES: [&str; 9] = [
    "dialed",
    "enqueued",
    "redirected",
    "hung-up",
    "recorded",
    "handed-to-bot",
    hotline_store::OUTCOME_CALLER_HANGUP,
    "error",
    hotline_store::OUTCOME_LOST,
];

/// [`OUTCOMES`]' index of a call that ended after the server lost its session.
const LOST: usize = 8;

fn outcome_index(outcome: &Outcome) -> usize {
    match outcome {
        Outcome::Dialed { .. } => 0,
        Outcome::Enqueued { .. } => 1,
        Outcome::Redirected { .. } => 2,
        Outcome::HungUp => 3,
        Outcome::Recorded => 4,
        Outcome::HandedToBot { .. } => 5,
        Outcome::CallerHungUp => 6,
        Outcome::Error { .. } => 7,
    }
}

impl Metrics {
    /// `hotline_calls_started_total` and `hotline_calls_ended_total`, by flow, for every flow
    /// that had a call, every flow in `loaded` and every bot in `bots` (as flow `bot:NAME`, the
    /// calls it answers itself), sorted by flow id.
    fn render_calls(&self, w: &mut String, loaded: &[String], bots: &[(&str, &BotCounters)]) {
        let calls = self.calls.read().unwrap_or_else(PoisonError::into_inner);
        let bot_ids: Vec<String> = bots
            .iter()
            .map(|(name, _)| crate::bots::call_flow_id(name))
            .collect();
        let mut flows: Vec<(&str, Option<&FlowCalls>)> = calls
            .iter()
            .map(|(id, c)| (&**id, Some(c)))
            .chain(
                loaded
                    .iter()
                    .chain(&bot_ids)
                    .filter(|id| !calls.contains_key(id.as_str()))
                    .map(|id| (id.as_str(), None)),
            )
            .collect();
        flows.sort_unstable_by_key(|(id, _)| *id);
        header(
            w,
            "hotline_calls_started_total",
            "counter",
            "Calls started, by flow (the calls a voice bot answers itself as flow `bot:NAME`).",
        );
        for (id, c) in &flows {
            let n = c.map_or(0, |c| c.started.load(Relaxed));
            let _ = writeln!(
                w,
                "hotline_calls_started_total{{flow=\"{}\"}} {n}",
                LabelValue(id)
            );
        }
        header(
            w,
            "hotline_calls_ended_total",
            "counter",
            "Calls ended, by flow and outcome (as `hotline report` counts them): dialed, \
             enqueued, redirected, hung-up, recorded, handed-to-bot, caller-hangup (the caller \
             hung up mid-flow), error (the caller heard an apology).",
        );
        for (id, c) in &flows {
            for (i, outcome) in OUTCOMES.iter().enumerate() {
                let n = c.map_or(0, |c| c.ended[i].load(Relaxed));
                let _ = writeln!(
                    w,
                    "hotline_calls_ended_total{{flow=\"{}\",outcome=\"{outcome}\"}} {n}",
                    LabelValue(id)
                );
            }
        }
    }
}

/// A label value escaped as the text format wants (`\\`, `\"`, `\n`).
struct LabelValue<'a>(&'a str);

impl std::fmt::Display for LabelValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '"' => f.write_str("\\\"")?,
                '\n' => f.write_str("\\n")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// `value` microseconds as seconds, exactly (no float formatting noise).
fn seconds(us: u64) -> String {
    let (s, frac) = (us / 1_000_000, us % 1_000_000);
    if frac == 0 {
        return s.to_string();
    }
    let frac = format!("{frac:06}");
    format!("{s}.{}", frac.trim_end_matches('0'))
}

fn header(w: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(w, "# HELP {name} {help}");
    let _ = writeln!(w, "# TYPE {name} {kind}");
}

fn counter(w: &mut String, name: &str, help: &str, value: u64) {
    header(w, name, "counter", help);
    let _ = writeln!(w, "{name} {value}");
}

fn gauge(w: &mut String, name: &str, help: &str, value: usize) {
    header(w, name, "gauge", help);
    let _ = writeln!(w, "{name} {value}");
}

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The shortest [`ScrapeToken`] accepted: a secret a scraper can be configured with, too long
/// to guess.
pub const MIN_SCRAPE_TOKEN_LEN: usize = 16;

/// The bearer token a scraper must send to read the metrics (`Authorization: Bearer TOKEN`, as
/// Prometheus' `authorization` scrape setting sends it); without one, anyone who reaches the
/// metrics listener reads them.
#[derive(Clone)]
pub struct ScrapeToken(std::sync::Arc<[u8]>);

impl std::fmt::Debug for ScrapeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScrapeToken(…)")
    }
}

impl ScrapeToken {
    /// Checks a token: at least [`MIN_SCRAPE_TOKEN_LEN`] characters, all visible ASCII (it
    /// travels in a header, and a space or a line break in it is a copy-and-paste mistake).
    /// The error says what is wrong, never the token.
    pub fn new(token: &str) -> Result<Self, String> {
        if let Some(bad) = token.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(format!(
                "the metrics token holds {bad:?}: use letters, digits and ASCII punctuation only, \
                 e.g. the output of `openssl rand -hex 32`"
            ));
        }
        if token.len() < MIN_SCRAPE_TOKEN_LEN {
            return Err(format!(
                "the metrics token is {} characters long: use at least {MIN_SCRAPE_TOKEN_LEN}, \
                 e.g. the output of `openssl rand -hex 32`",
                token.len()
            ));
        }
        Ok(Self(token.as_bytes().into()))
    }

    /// Whether an `Authorization` header's value carries this token with the `Bearer` scheme
    /// (the scheme's name in any case, RFC 9110 §11.1). The token is compared in time that does
    /// not depend on where it differs.
    pub fn admits(&self, authorization: Option<&[u8]>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let Some((scheme, rest)) = value.split_at_checked(6) else {
            return false;
        };
        // `Bearer`, then white space: `BearerTOKEN` is not a bearer token.
        if !scheme.eq_ignore_ascii_case(b"Bearer") || !rest.starts_with(b" ") {
            return false;
        }
        let credentials = rest.trim_ascii();
        if credentials.len() != self.0.len() {
            return false;
        }
        let differ = credentials
            .iter()
            .zip(self.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(differ) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrape_token_admits_only_itself_as_a_bearer_token() {
        let token = ScrapeToken::new("0123456789abcdef-XYZ").unwrap();
        for admitted in [
            "Bearer 0123456789abcdef-XYZ",
            "bearer 0123456789abcdef-XYZ",
            "BEARER   0123456789abcdef-XYZ ",
        ] {
            assert!(token.admits(Some(admitted.as_bytes())), "{admitted}");
        }
        for refused in [
            "",
            "Bearer",
            "Bearer ",
            "Bearer0123456789abcdef-XYZ",
            "Bearer0123456789abcdef-XYZ ",
            "Basic 0123456789abcdef-XYZ",
            "Bearer 0123456789abcdef-XY",
            "Bearer 0123456789abcdef-XYZW",
            "Bearer 0123456789abcdef-XYz",
            "Bearer 1123456789abcdef-XYZ",
            "0123456789abcdef-XYZ",
        ] {
            assert!(!token.admits(Some(refused.as_bytes())), "{refused:?}");
        }
        assert!(!token.admits(None));
        assert!(!token.admits(Some("Bearer 0123456789abcdef-XYZ\u{e9}".as_bytes())));
    }

    #[test]
    fn a_scrape_token_must_be_long_and_visible_ascii_and_is_never_printed() {
        let short = ScrapeToken::new("short-token").unwrap_err();
        assert!(
            short.contains("11 characters") && short.contains("at least 16"),
            "{short}"
        );
        assert!(!short.contains("short-token"), "{short}");
        let spaced = ScrapeToken::new("0123456789 abcdef").unwrap_err();
        assert!(spaced.contains("' '"), "{spaced}");
        let newline = ScrapeToken::new("0123456789abcdef\n").unwrap_err();
        assert!(newline.contains("'\\n'"), "{newline}");
        assert!(ScrapeToken::new("é123456789abcdef").is_err());
        let token = ScrapeToken::new("0123456789abcdef").unwrap();
        assert_eq!(format!("{token:?}"), "ScrapeToken(…)");
    }

    #[test]
    fn seconds_are_written_exactly() {
        assert_eq!(seconds(1_000), "0.001");
        assert_eq!(seconds(2_500), "0.0025");
        assert_eq!(seconds(15_000_000), "15");
        assert_eq!(seconds(1_234_567), "1.234567");
        assert_eq!(seconds(0), "0");
    }

    #[test]
    fn routes_are_read_off_paths() {
        assert_eq!(Route::of_path("/bots/dentist/voice"), Route::Bot);
        assert_eq!(Route::of_path("/streams/dentist"), Route::Stream);
        assert_eq!(Route::of_path("/prompts/triage/a.wav"), Route::Prompt);
        assert_eq!(Route::of_path("/healthz"), Route::Health);
        assert_eq!(Route::of_path("/flows/tri%61ge/voice"), Route::Voice);
        assert_eq!(Route::of_path("/flows/triage/step"), Route::Step);
        assert_eq!(Route::of_path("/nope"), Route::Other);
    }

    /// The `outcome` label is the call records' outcome name, for every outcome.
    #[test]
    fn outcome_labels_are_the_records_outcome_names() {
        let all = [
            Outcome::Dialed {
                target: "15".into(),
            },
            Outcome::Enqueued { queue: "q".into() },
            Outcome::Redirected { flow: "f".into() },
            Outcome::HungUp,
            Outcome::Recorded,
            Outcome::HandedToBot { bot: "b".into() },
            Outcome::CallerHungUp,
            Outcome::Error {
                message: "m".into(),
            },
        ];
        for o in &all {
            assert_eq!(
                OUTCOMES[outcome_index(o)],
                crate::engine::outcome_name(o),
                "{o:?}"
            );
        }
        // Every label is a flow outcome's, or the records' `lost` (which no flow ends with).
        let mut indexes: Vec<usize> = all.iter().map(outcome_index).chain([LOST]).collect();
        indexes.sort_unstable();
        indexes.dedup();
        assert_eq!(indexes.len(), OUTCOMES.len());
        assert_eq!(OUTCOMES[LOST], hotline_store::OUTCOME_LOST);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(LabelValue("a\\b\"c\nd").to_string(), "a\\\\b\\\"c\\nd");
        assert_eq!(LabelValue("covid-triage_fr").to_string(), "covid-triage_fr");
    }

    /// The text as a scraper reads it: every sample's line, histograms cumulative, the
    /// `+Inf` bucket equal to the count.
    #[test]
    fn the_text_format_counts_what_was_observed() {
        let m = Metrics::default();
        m.answered(Route::Step, 200, Duration::from_micros(800));
        m.answered(Route::Step, 200, Duration::from_millis(3));
        m.answered(Route::Step, 403, Duration::from_secs(20));
        m.answered(Route::Health, 200, Duration::from_micros(5));
        m.answered(Route::Other, 418, Duration::ZERO);
        m.call_started("triage");
        m.call_started("triage");
        m.call_started("sales");
        m.call_ended(
            "triage",
            &Outcome::Dialed {
                target: "15".into(),
            },
        );
        m.call_ended("triage", &Outcome::CallerHungUp);
        m.call_ended(
            "sales",
            &Outcome::Error {
                message: "x".into(),
            },
        );
        m.call_lost();
        m.failed(Failure::Records);
        m.reloaded(true);
        m.reloaded(false);
        m.reloaded(false);
        m.purged(7);
        m.purged(3);
        m.purge_failed();
        let loaded = ["menu".to_owned(), "sales".to_owned(), "triage".to_owned()];
        let (desk, quiet) = (BotCounters::default(), BotCounters::default());
        desk.turn(TurnResult::Replied, Duration::from_millis(80));
        desk.turn(TurnResult::Replied, Duration::from_millis(400));
        desk.turn(
            TurnResult::failed(&hotline_bot::EngineError::Timeout {
                engine: "lex",
                ms: 3000,
            }),
            Duration::from_millis(3_001),
        );
        let updates = CallUpdates::default();
        updates.updated();
        updates.updated();
        updates.gone();
        updates.failed();
        let text = m.render(Gauges {
            flow_ids: &loaded,
            streams_open: 2,
            streams_limit: Some(10),
            streams_refused: 4,
            bots: &[("desk", &desk), ("quiet", &quiet)],
            call_updates: updates.counts(),
        });
        for line in [
            "hotline_http_responses_total{route=\"step\",code=\"200\"} 2",
            "hotline_http_responses_total{route=\"step\",code=\"403\"} 1",
            "hotline_http_responses_total{route=\"health\",code=\"200\"} 1",
            "hotline_http_responses_total{route=\"other\",code=\"other\"} 1",
            "hotline_webhook_duration_seconds_bucket{route=\"step\",le=\"0.001\"} 1",
            "hotline_webhook_duration_seconds_bucket{route=\"step\",le=\"0.0025\"} 1",
            "hotline_webhook_duration_seconds_bucket{route=\"step\",le=\"0.005\"} 2",
            "hotline_webhook_duration_seconds_bucket{route=\"step\",le=\"15\"} 2",
            "hotline_webhook_duration_seconds_bucket{route=\"step\",le=\"+Inf\"} 3",
            "hotline_webhook_duration_seconds_sum{route=\"step\"} 20.0038",
            "hotline_webhook_duration_seconds_count{route=\"step\"} 3",
            "hotline_webhook_duration_seconds_count{route=\"voice\"} 0",
            "hotline_calls_started_total{flow=\"triage\"} 2",
            "hotline_calls_started_total{flow=\"sales\"} 1",
            "hotline_calls_started_total{flow=\"menu\"} 0",
            "hotline_calls_ended_total{flow=\"triage\",outcome=\"dialed\"} 1",
            "hotline_calls_ended_total{flow=\"triage\",outcome=\"caller-hangup\"} 1",
            "hotline_calls_ended_total{flow=\"triage\",outcome=\"error\"} 0",
            "hotline_calls_ended_total{flow=\"sales\",outcome=\"error\"} 1",
            "hotline_calls_ended_total{flow=\"menu\",outcome=\"hung-up\"} 0",
            // Every bot's own calls, exported from 0 as flow `bot:NAME`.
            "hotline_calls_started_total{flow=\"bot:desk\"} 0",
            "hotline_calls_ended_total{flow=\"bot:quiet\",outcome=\"caller-hangup\"} 0",
            "hotline_lost_calls_total 1",
            "hotline_call_failures_total{cause=\"records\"} 1",
            "hotline_call_failures_total{cause=\"sessions\"} 0",
            "hotline_flow_reloads_total{result=\"loaded\"} 1",
            "hotline_flow_reloads_total{result=\"rejected\"} 2",
            "hotline_flows 3",
            "hotline_records_purged_total 10",
            "hotline_records_purge_failures_total 1",
            "hotline_media_streams_open 2",
            "hotline_media_streams_limit 10",
            "hotline_media_streams_refused_total 4",
            "hotline_bot_turns_total{bot=\"desk\",result=\"replied\"} 2",
            "hotline_bot_turns_total{bot=\"desk\",result=\"timeout\"} 1",
            "hotline_bot_turns_total{bot=\"desk\",result=\"unavailable\"} 0",
            "hotline_bot_turns_total{bot=\"quiet\",result=\"bad_response\"} 0",
            "hotline_bot_turn_duration_seconds_bucket{bot=\"desk\",le=\"0.1\"} 1",
            "hotline_bot_turn_duration_seconds_bucket{bot=\"desk\",le=\"0.5\"} 2",
            "hotline_bot_turn_duration_seconds_bucket{bot=\"desk\",le=\"2.5\"} 2",
            "hotline_bot_turn_duration_seconds_bucket{bot=\"desk\",le=\"5\"} 3",
            "hotline_bot_turn_duration_seconds_sum{bot=\"desk\"} 3.481",
            "hotline_bot_turn_duration_seconds_count{bot=\"desk\"} 3",
            "hotline_bot_turn_duration_seconds_count{bot=\"quiet\"} 0",
            "hotline_call_updates_total{result=\"updated\"} 2",
            "hotline_call_updates_total{result=\"call_gone\"} 1",
            "hotline_call_updates_total{result=\"failed\"} 1",
            "# TYPE hotline_bot_turn_duration_seconds histogram",
            "# TYPE hotline_webhook_duration_seconds histogram",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
        }
        // The health check is counted, not timed.
        assert!(!text.contains("route=\"health\",le="), "{text}");
        // Every sample line is `name{labels} value` or `name value`, under a TYPE.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = l.rsplit_once(' ').expect("a value");
            assert!(value.parse::<f64>().is_ok(), "{l}");
            assert!(name.starts_with("hotline_"), "{l}");
        }
    }
}
