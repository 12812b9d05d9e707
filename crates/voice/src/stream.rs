//! One Media Streams WebSocket session, still sans-IO: text frames in, text frames and events
//! out.
//!
//! [`StreamSession`] decodes Twilio's messages with [`Inbound::decode`], tracks the stream's
//! lifecycle (`connected` → `start` → `media`/`dtmf`/`mark` → `stop`), feeds the caller's audio,
//! digits and mark echoes to a [`Pipeline`], and produces the [`Outbound`] messages to send:
//! the bot's audio cut into chunks followed by a mark ([`StreamSession::play`]), and `clear`
//! when the caller barges in (queued but unsent audio is dropped too, and pending marks are
//! forgotten, so their echoes after the `clear` are ignored).
//!
//! A driver owns the socket and only shuttles: every received text goes to
//! [`StreamSession::handle_text`]; then it sends every [`StreamSession::poll_outbound`] message
//! (encode with [`Outbound::encode`]), handles every [`StreamSession::poll_event`], and sleeps
//! until the next received text or [`StreamSession::poll_timeout`], whichever is first.
//!
//! Hostile or broken input is never fatal: texts that do not decode, unknown events, invalid or
//! oversized payloads, media for another stream or before `start` are dropped and counted in
//! [`SessionStats`]. Memory stays bounded under any flood of messages (see [`Pipeline`]; the
//! session's own queues are bounded by [`MAX_SESSION_EVENTS`] and [`MAX_PENDING_MARKS`], and
//! only [`StreamSession::play`], which the application calls, adds audio to the outbound queue).
//!
//! This module must not touch sockets, clocks or threads.

use std::collections::{BTreeMap, VecDeque};

use hotline_audio::g711::ulaw_to_linear;
use hotline_twilio::stream::{Inbound, Outbound, StreamError, decode_payload, encode_payload};
use serde::{Deserialize, Serialize};

use crate::Vad;
use crate::endpoint::{ConfigError, SAMPLES_PER_MS};
use crate::pipeline::{Event, Pipeline, PipelineConfig};

/// Session events queued at most; beyond this the oldest is dropped and counted.
pub const MAX_SESSION_EVENTS: usize = 32;

/// Marks awaiting their echo at most; [`StreamSession::play`] refuses more.
pub const MAX_PENDING_MARKS: usize = 256;

/// Session settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// The media pipeline.
    pub pipeline: PipelineConfig,
    /// `<Connect><Stream>` (true: the session may send audio, marks and `clear`) or
    /// `<Start><Stream>` (false: audio in only; the application updates the call over REST and
    /// tells the pipeline itself, see [`StreamSession::pipeline_mut`]).
    pub bidirectional: bool,
    /// Audio per outbound `media` message, in ms (400 ms = 3,200 μ-law bytes, about 4.3 KB of
    /// JSON: few messages per prompt, far below Twilio's and the codec's size limits).
    pub play_chunk_ms: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            pipeline: PipelineConfig::default(),
            bidirectional: true,
            play_chunk_ms: 400,
        }
    }
}

/// What Twilio said about the stream in `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// `streamSid` (`MZ…`).
    pub stream_sid: String,
    /// `callSid` (`CA…`).
    pub call_sid: String,
    /// `accountSid` (`AC…`), when sent.
    pub account_sid: Option<String>,
    /// `tracks`.
    pub tracks: Vec<String>,
    /// `customParameters`: the `<Parameter>`s of `<Stream>`.
    pub custom_parameters: BTreeMap<String, String>,
}

/// Where the session stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    /// Before `start` (`connected` may have arrived).
    AwaitingStart {
        /// Whether `connected` arrived.
        connected: bool,
    },
    /// Between `start` and `stop`.
    Streaming(StreamInfo),
    /// After `stop`; everything further is ignored.
    Stopped,
}

/// What the session tells the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// `start` arrived.
    Started(StreamInfo),
    /// A pipeline event (barge-in, utterance, digits, …). For a barge-in on a bidirectional
    /// stream, the `clear` is already queued.
    Voice(Event),
    /// `stop` arrived: the stream is over.
    Stopped,
}

/// Why [`StreamSession::play`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlayError {
    /// The stream is unidirectional (`<Start><Stream>`).
    ///
    /// Remedy: play the audio with a call update (TwiML `<Play>`), then tell the pipeline with
    /// `bot_started_speaking`.
    #[error("cannot play on a unidirectional stream")]
    NotBidirectional,
    /// No `start` yet, or the stream stopped.
    ///
    /// Remedy: wait for [`SessionEvent::Started`]; after [`SessionEvent::Stopped`] the call has
    /// moved on.
    #[error("the stream is not running")]
    NotStreaming,
    /// [`MAX_PENDING_MARKS`] marks are awaiting their echo.
    ///
    /// Remedy: Twilio is not playing (or not echoing); stop queueing audio until marks return.
    #[error("too many marks awaiting their echo")]
    TooManyPendingMarks,
}

/// Counters of what the session received and dropped. Never reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SessionStats {
    /// Texts received.
    pub messages: u64,
    /// `media` messages fed to the pipeline.
    pub media: u64,
    /// Messages with an event name this session does not know.
    pub unknown_events: u64,
    /// Texts that did not decode (not JSON, missing or mistyped fields).
    pub malformed: u64,
    /// Texts over the codec's length limit.
    pub too_long: u64,
    /// Payloads that are not valid base64.
    pub invalid_payloads: u64,
    /// Payloads over the size limit.
    pub oversized_payloads: u64,
    /// Messages before `start` or after `stop`, or a second `start`.
    pub out_of_order: u64,
    /// Messages for another `streamSid`.
    pub wrong_stream: u64,
    /// `media` on the outbound track (`both_tracks` streams), not fed to the pipeline.
    pub outbound_track: u64,
    /// `dtmf` whose digit is not one character.
    pub invalid_digits: u64,
    /// Mark echoes not awaited (e.g. echoed after a `clear`).
    pub stale_marks: u64,
    /// `clear` messages queued.
    pub clears: u64,
    /// Session events dropped because the queue was full.
    pub events_dropped: u64,
}

/// One Media Streams session. See the [module docs](self).
#[derive(Debug)]
pub struct StreamSession {
    pipeline: Pipeline,
    bidirectional: bool,
    chunk_bytes: usize,
    state: SessionState,
    payload: Vec<u8>,
    outbound: VecDeque<Outbound>,
    pending_marks: VecDeque<String>,
    events: VecDeque<SessionEvent>,
    stats: SessionStats,
}

impl StreamSession {
    /// Builds a session around a VAD; settings are validated here.
    pub fn new(config: SessionConfig, vad: Box<dyn Vad>) -> Result<Self, ConfigError> {
        if config.play_chunk_ms == 0 {
            return Err(ConfigError::Zero("play_chunk_ms"));
        }
        let chunk_bytes = usize::try_from(u64::from(config.play_chunk_ms) * SAMPLES_PER_MS)
            .unwrap_or(usize::MAX)
            .min(hotline_twilio::stream::MAX_PAYLOAD_BYTES);
        Ok(Self {
            pipeline: Pipeline::new(config.pipeline, vad)?,
            bidirectional: config.bidirectional,
            chunk_bytes,
            state: SessionState::AwaitingStart { connected: false },
            payload: Vec::with_capacity(512),
            outbound: VecDeque::new(),
            pending_marks: VecDeque::new(),
            events: VecDeque::with_capacity(8),
            stats: SessionStats::default(),
        })
    }

    /// One text frame from Twilio. Never fails: what cannot be used is counted.
    /// (The same as [`StreamSession::decode_text`] then [`StreamSession::handle_inbound`].)
    pub fn handle_text(&mut self, text: &str) {
        if let Some(message) = self.decode_text(text) {
            self.handle_inbound(message);
        }
    }

    /// The first half of [`StreamSession::handle_text`]: decodes one text frame (counting it,
    /// and counting it as malformed or too long when it does not decode). A driver can look at
    /// the message (e.g. [`StreamSession::vad_lookahead`]) before handing it over.
    pub fn decode_text(&mut self, text: &str) -> Option<Inbound> {
        self.stats.messages = self.stats.messages.saturating_add(1);
        match Inbound::decode(text) {
            Ok(message) => Some(message),
            Err(StreamError::TooLong { .. }) => {
                self.stats.too_long = self.stats.too_long.saturating_add(1);
                None
            }
            Err(_) => {
                self.stats.malformed = self.stats.malformed.saturating_add(1);
                None
            }
        }
    }

    /// The caller audio that handing `message` over will give the pipeline's VAD, as 16-bit
    /// samples in `out` (cleared first); false when it gives none (not media of this stream's
    /// inbound track, not listening, an invalid payload). Counts nothing, changes nothing: a
    /// driver uses it to have the VAD's windows scored ahead (batched) before
    /// [`StreamSession::handle_inbound`].
    pub fn vad_lookahead(&self, message: &Inbound, out: &mut Vec<i16>) -> bool {
        out.clear();
        let Inbound::Media(media) = message else {
            return false;
        };
        let ours = matches!(&self.state, SessionState::Streaming(info) if info.stream_sid == media.stream_sid);
        if !ours
            || !self.pipeline.is_listening()
            || media
                .track
                .as_deref()
                .is_some_and(|t| t.starts_with("outbound"))
        {
            return false;
        }
        let mut payload = Vec::new();
        if decode_payload(&media.payload, &mut payload).is_err() {
            return false;
        }
        out.extend(payload.iter().map(|&b| ulaw_to_linear(b)));
        !out.is_empty()
    }

    /// The second half of [`StreamSession::handle_text`]: handles one decoded message.
    pub fn handle_inbound(&mut self, message: Inbound) {
        match message {
            Inbound::Connected(_) => match self.state {
                SessionState::AwaitingStart { .. } => {
                    self.state = SessionState::AwaitingStart { connected: true };
                }
                _ => self.stats.out_of_order = self.stats.out_of_order.saturating_add(1),
            },
            Inbound::Start(start) => {
                if !matches!(self.state, SessionState::AwaitingStart { .. }) {
                    self.stats.out_of_order = self.stats.out_of_order.saturating_add(1);
                    return;
                }
                let info = StreamInfo {
                    stream_sid: start.stream_sid,
                    call_sid: start.call_sid,
                    account_sid: start.account_sid,
                    tracks: start.tracks,
                    custom_parameters: start.custom_parameters,
                };
                self.state = SessionState::Streaming(info.clone());
                self.push(SessionEvent::Started(info));
            }
            Inbound::Media(media) => {
                if !self.accepts(&media.stream_sid) {
                    return;
                }
                if media
                    .track
                    .as_deref()
                    .is_some_and(|t| t.starts_with("outbound"))
                {
                    self.stats.outbound_track = self.stats.outbound_track.saturating_add(1);
                    return;
                }
                self.payload.clear();
                match decode_payload(&media.payload, &mut self.payload) {
                    Ok(()) => {
                        self.stats.media = self.stats.media.saturating_add(1);
                        self.pipeline.handle_media(&self.payload, media.timestamp);
                        self.drain_pipeline();
                    }
                    Err(StreamError::PayloadTooLarge { .. }) => {
                        self.stats.oversized_payloads =
                            self.stats.oversized_payloads.saturating_add(1);
                    }
                    Err(_) => {
                        self.stats.invalid_payloads = self.stats.invalid_payloads.saturating_add(1);
                    }
                }
                // Keep the reusable buffer small after a large (but legal) payload.
                if self.payload.capacity() > 4096 {
                    self.payload = Vec::with_capacity(512);
                }
            }
            Inbound::Dtmf(dtmf) => {
                if !self.accepts(&dtmf.stream_sid) {
                    return;
                }
                let mut chars = dtmf.digit.chars();
                match (chars.next(), chars.next()) {
                    (Some(digit), None) => {
                        self.pipeline.handle_dtmf(digit);
                        self.drain_pipeline();
                    }
                    _ => self.stats.invalid_digits = self.stats.invalid_digits.saturating_add(1),
                }
            }
            Inbound::Mark(mark) => {
                if !self.accepts(&mark.stream_sid) {
                    return;
                }
                match self.pending_marks.iter().position(|m| *m == mark.name) {
                    Some(i) => {
                        // Marks are echoed in order: everything before this one has played.
                        self.pending_marks.drain(..=i);
                        self.pipeline.handle_mark(&mark.name);
                        self.drain_pipeline();
                    }
                    None => self.stats.stale_marks = self.stats.stale_marks.saturating_add(1),
                }
            }
            Inbound::Stop(stop) => {
                if !self.accepts(&stop.stream_sid) {
                    return;
                }
                self.state = SessionState::Stopped;
                self.pipeline.stop_listening();
                self.outbound.clear();
                self.pending_marks.clear();
                self.push(SessionEvent::Stopped);
            }
            Inbound::Unknown { .. } => {
                self.stats.unknown_events = self.stats.unknown_events.saturating_add(1);
            }
        }
    }

    /// Wall-clock time (ms), for the turn's wall cap. Call it when
    /// [`StreamSession::poll_timeout`] says so.
    pub fn handle_wall_clock(&mut self, now_ms: u64) {
        self.pipeline.handle_wall_clock(now_ms);
        self.drain_pipeline();
    }

    /// Queues the bot's audio (μ-law, 8 kHz) in chunks, then a mark named `mark_name`, and
    /// tells the pipeline the bot is speaking (its barge-in and no-input logic depend on it).
    /// Use a fresh name per prompt: the echo of that mark ends the playback.
    pub fn play(&mut self, audio_ulaw: &[u8], mark_name: &str) -> Result<(), PlayError> {
        if !self.bidirectional {
            return Err(PlayError::NotBidirectional);
        }
        let SessionState::Streaming(info) = &self.state else {
            return Err(PlayError::NotStreaming);
        };
        if self.pending_marks.len() >= MAX_PENDING_MARKS {
            return Err(PlayError::TooManyPendingMarks);
        }
        let stream_sid = info.stream_sid.clone();
        for chunk in audio_ulaw.chunks(self.chunk_bytes.max(1)) {
            self.outbound.push_back(Outbound::Media {
                stream_sid: stream_sid.clone(),
                payload: encode_payload(chunk),
            });
        }
        self.outbound.push_back(Outbound::Mark {
            stream_sid,
            name: mark_name.to_owned(),
        });
        self.pending_marks.push_back(mark_name.to_owned());
        self.pipeline
            .bot_started_speaking(mark_name, audio_ulaw.len() as u64 / SAMPLES_PER_MS);
        Ok(())
    }

    /// Stops the bot now (the application's decision, e.g. a new answer supersedes the one
    /// playing): drops unsent audio, queues `clear`, forgets pending marks.
    pub fn clear(&mut self) {
        if let Some(id) = self.pending_marks.back().cloned() {
            self.pipeline.bot_stopped_speaking(&id);
            self.drain_pipeline();
        }
        self.queue_clear();
    }

    /// The next message to send to Twilio, if any.
    pub fn poll_outbound(&mut self) -> Option<Outbound> {
        self.outbound.pop_front()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// Wall-clock time at which [`StreamSession::handle_wall_clock`] must be called, if any (a
    /// time at or before the last reading means "now").
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.state {
            SessionState::Streaming(_) => self.pipeline.poll_timeout(),
            _ => None,
        }
    }

    /// The pipeline, for inspection.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The pipeline, to drive it directly (listen, stop listening, barge-in policy, playback on
    /// unidirectional streams). Events it produces are picked up on the next session input.
    pub fn pipeline_mut(&mut self) -> &mut Pipeline {
        &mut self.pipeline
    }

    /// The session's state.
    pub fn state(&self) -> &SessionState {
        &self.state
    }

    /// Counters.
    pub fn stats(&self) -> SessionStats {
        self.stats
    }

    /// Marks awaiting their echo.
    pub fn pending_marks(&self) -> usize {
        self.pending_marks.len()
    }

    /// Messages waiting in the outbound queue.
    pub fn queued_outbound(&self) -> usize {
        self.outbound.len()
    }

    /// Events waiting to be polled.
    pub fn queued_events(&self) -> usize {
        self.events.len()
    }

    /// Whether a message for `stream_sid` belongs here now; counts it otherwise.
    fn accepts(&mut self, stream_sid: &str) -> bool {
        match &self.state {
            SessionState::Streaming(info) if info.stream_sid == stream_sid => true,
            SessionState::Streaming(_) => {
                self.stats.wrong_stream = self.stats.wrong_stream.saturating_add(1);
                false
            }
            _ => {
                self.stats.out_of_order = self.stats.out_of_order.saturating_add(1);
                false
            }
        }
    }

    fn drain_pipeline(&mut self) {
        while let Some(event) = self.pipeline.poll_event() {
            if matches!(event, Event::BargeIn { .. }) {
                self.queue_clear();
            }
            self.push(SessionEvent::Voice(event));
        }
    }

    fn queue_clear(&mut self) {
        self.pending_marks.clear();
        if !self.bidirectional {
            return;
        }
        let SessionState::Streaming(info) = &self.state else {
            return;
        };
        // Unsent audio and marks never reach Twilio; one `clear` covers what did.
        self.outbound
            .retain(|m| !matches!(m, Outbound::Media { .. } | Outbound::Mark { .. }));
        if !self
            .outbound
            .iter()
            .any(|m| matches!(m, Outbound::Clear { .. }))
        {
            self.outbound.push_back(Outbound::Clear {
                stream_sid: info.stream_sid.clone(),
            });
            self.stats.clears = self.stats.clears.saturating_add(1);
        }
    }

    fn push(&mut self, event: SessionEvent) {
        if self.events.len() >= MAX_SESSION_EVENTS {
            self.events.pop_front();
            self.stats.events_dropped = self.stats.events_dropped.saturating_add(1);
        }
        self.events.push_back(event);
    }
}
