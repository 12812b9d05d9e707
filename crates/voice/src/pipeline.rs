//! The per-call media pipeline: μ-law in, VAD, end-of-turn, barge-in, DTMF; events out.
//!
//! [`Pipeline`] is a sans-IO state machine with the shape of every Hotline sub-machine:
//! `handle_*` inputs, [`Pipeline::poll_event`] and [`Pipeline::poll_timeout`]. Time is the
//! audio itself: every 160 μ-law bytes received advance the clock by 20 ms. The only other
//! clock is the wall time the driver passes to [`Pipeline::handle_wall_clock`], used for the
//! turn's wall cap and nothing else.
//!
//! Per 20 ms frame: decode μ-law into a fixed frame buffer, keep it in a bounded ring (the
//! pre-roll), append it to the utterance being collected, ask the [`Vad`] for a probability,
//! feed the [`Endpointer`], then check barge-in, the bot's estimated end of playback and the
//! inter-digit timer.
//!
//! Turn-taking rules:
//! - Speech that *starts* while the bot is speaking is a candidate. It becomes an utterance
//!   (with [`Event::BargeIn`] first) once `barge_in_min_ms` of it is voiced and barge-in is
//!   allowed, or once the bot finishes. If it ends before either, it was a backchannel or a
//!   cough: dropped and counted, the bot keeps talking.
//! - `NoInput` counts audio time from the end of the bot's playback (or from [`Pipeline::listen`]
//!   when the bot is silent); speech or a digit stops it. It fires once per turn.
//! - DTMF digits are collected with an inter-digit timeout (audio time), a finish key and a
//!   maximum count, independently of speech; a digit while the bot speaks is a barge-in.
//! - While not listening ([`Pipeline::stop_listening`]) caller audio only feeds the pre-roll
//!   ring: no VAD, no utterances, no barge-in, digits ignored.
//!
//! Memory is bounded whatever the input: the pre-roll ring by `pre_roll_ms` (+ `start_ms` and a
//! little slack), the utterance by `pre_roll_ms + max_utterance_ms`, digits by `max_digits`,
//! and the event queue by [`MAX_EVENTS`] (the oldest event is dropped and counted in
//! [`PipelineStats::events_dropped`] when a driver does not poll). Payloads larger than
//! [`MAX_PAYLOAD_BYTES`] are dropped and counted.
//!
//! This module must not do I/O, read a clock, spawn, lock or log per frame.

use std::collections::VecDeque;

use hotline_audio::g711::ulaw_to_linear;
use serde::{Deserialize, Serialize};

use crate::Vad;
use crate::endpoint::{
    ConfigError, EndReason, EndpointConfig, EndpointEvent, Endpointer, FRAME_MS, FRAME_SAMPLES,
    SAMPLES_PER_MS, SpeechState, ms_to_frames,
};

/// Events queued at most; beyond this the oldest is dropped and counted.
pub const MAX_EVENTS: usize = 32;

/// Largest μ-law payload accepted by [`Pipeline::handle_media`] (same as the Media Streams
/// codec's limit, 64 KiB = 8.192 s).
pub const MAX_PAYLOAD_BYTES: usize = hotline_twilio::stream::MAX_PAYLOAD_BYTES;

/// Largest `max_digits` accepted.
pub const MAX_DIGITS_LIMIT: u32 = 64;

/// Timestamp gaps up to this long are filled with silence so that audio time stays in step with
/// Twilio's `media.timestamp`; longer jumps are not filled (counted instead), so a bogus
/// timestamp cannot make the pipeline process hours of silence.
pub const MAX_GAP_FILL_MS: u64 = 1_000;

/// A timestamp this far ahead of the audio received counts as a gap (jitter below it is
/// ignored).
const GAP_TOLERANCE_MS: u64 = 60;

/// Extra pre-roll ring space, so that a start that took longer than `start_ms` (frames between
/// the two thresholds) still gets its pre-roll.
const RING_SLACK_MS: u32 = 200;

/// DTMF collection settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DtmfConfig {
    /// Audio time after a digit before the digits so far are delivered.
    pub inter_digit_ms: u32,
    /// The key that ends entry (not included in the digits); `None` for none.
    pub finish_key: Option<char>,
    /// Digits delivered as soon as this many are collected (at most [`MAX_DIGITS_LIMIT`]).
    pub max_digits: u32,
}

impl Default for DtmfConfig {
    /// `inter_digit_ms` 3,000: FreeSWITCH's demo uses 2 s, which is short for someone reading a
    /// card number; Twilio's `<Gather>` reuses its 5 s `timeout`, which feels slow once the
    /// caller has finished. `finish_key` `#` as Twilio's `finishOnKey`. `max_digits` 32 covers
    /// card, account and phone numbers while bounding memory.
    fn default() -> Self {
        Self {
            inter_digit_ms: 3_000,
            finish_key: Some('#'),
            max_digits: 32,
        }
    }
}

/// Pipeline settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// End-of-turn settings.
    pub endpoint: EndpointConfig,
    /// Whether caller speech (or a digit) may interrupt the bot.
    pub barge_in: bool,
    /// Voiced speech needed to interrupt the bot (the effective minimum is at least
    /// `endpoint.start_ms`, since speech counts only once it has started).
    pub barge_in_min_ms: u32,
    /// DTMF collection.
    pub dtmf: DtmfConfig,
}

impl Default for PipelineConfig {
    /// `barge_in_min_ms` 400: "mm-hm", "yeah", "okay" and coughs are mostly 200–400 ms voiced;
    /// LiveKit's `min_interruption_duration` is 500 ms, which callers feel as the bot not
    /// listening. Real interruptions ("no, wait, I said…") run past 400 ms.
    fn default() -> Self {
        Self {
            endpoint: EndpointConfig::default(),
            barge_in: true,
            barge_in_min_ms: 400,
            dtmf: DtmfConfig::default(),
        }
    }
}

impl PipelineConfig {
    /// Checks the settings without building anything.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.endpoint.validate()?;
        if self.dtmf.inter_digit_ms == 0 {
            return Err(ConfigError::Zero("dtmf.inter_digit_ms"));
        }
        if self.dtmf.max_digits == 0 {
            return Err(ConfigError::Inconsistent(
                "dtmf.max_digits must be at least 1",
            ));
        }
        if self.dtmf.max_digits > MAX_DIGITS_LIMIT {
            return Err(ConfigError::TooLong {
                name: "dtmf.max_digits",
                value: self.dtmf.max_digits,
                max: MAX_DIGITS_LIMIT,
            });
        }
        if self.dtmf.finish_key.is_some_and(|k| !is_dtmf(k)) {
            return Err(ConfigError::Inconsistent(
                "dtmf.finish_key must be a DTMF key: 0-9, *, #, A-D",
            ));
        }
        if self.barge_in_min_ms > self.endpoint.max_utterance_ms {
            return Err(ConfigError::Inconsistent(
                "barge_in_min_ms must not exceed endpoint.max_utterance_ms",
            ));
        }
        Ok(())
    }
}

/// Why digit entry ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigitsEnd {
    /// The finish key was pressed.
    Finished,
    /// `inter_digit_ms` passed after the last digit.
    InterDigitTimeout,
    /// `max_digits` were collected.
    MaxDigits,
    /// The turn's wall cap fired while digits were pending.
    WallCap,
}

/// What the pipeline tells the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The caller started an utterance that will be delivered. `at_ms` is the onset of the
    /// speech (audio time), not the moment it was confirmed.
    SpeechStarted {
        /// Onset of the speech.
        at_ms: u64,
    },
    /// The caller interrupted the bot: send `clear` (bidirectional stream) or update the call
    /// (start-stream) now. The utterance follows as usual.
    BargeIn {
        /// Audio time of the decision.
        at_ms: u64,
    },
    /// A complete utterance, 8 kHz PCM, pre-roll included.
    Utterance {
        /// The audio, from `audio_start_ms` to the decision.
        audio: Vec<i16>,
        /// Audio time of the first sample of `audio` (onset minus the pre-roll, clamped).
        audio_start_ms: u64,
        /// Onset of the speech.
        started_ms: u64,
        /// End of the last voiced frame.
        ended_ms: u64,
        /// Why it ended.
        reason: EndReason,
    },
    /// DTMF entry is complete. The finish key is not included; may be empty (`#` alone).
    Digits {
        /// The keys, in order.
        digits: String,
        /// Why entry ended.
        reason: DigitsEnd,
    },
    /// No speech and no digit for `no_input_ms` after the bot finished: reprompt.
    NoInput {
        /// Audio time of the decision.
        at_ms: u64,
    },
    /// The turn hit its wall-clock cap with nothing usable.
    TurnTimedOut {
        /// Audio time when it fired.
        at_ms: u64,
    },
    /// The bot's playback `id` finished (mark reached, driver said so, or its duration
    /// elapsed in audio time). Not sent for playback cut by a barge-in.
    PlaybackFinished {
        /// The id given to [`Pipeline::bot_started_speaking`].
        id: String,
        /// Audio time of the decision.
        at_ms: u64,
    },
}

/// Counters, for metrics and tests. Never reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PipelineStats {
    /// 20 ms frames processed (including gap fill).
    pub frames: u64,
    /// μ-law bytes received.
    pub bytes: u64,
    /// Payloads over [`MAX_PAYLOAD_BYTES`], dropped.
    pub oversized_payloads: u64,
    /// Milliseconds of silence inserted for timestamp gaps.
    pub gap_filled_ms: u64,
    /// Timestamp jumps over [`MAX_GAP_FILL_MS`], not filled.
    pub gaps_not_filled: u64,
    /// Utterances delivered.
    pub utterances: u64,
    /// Utterances shorter than `min_utterance_ms`, dropped.
    pub blips: u64,
    /// Speech during the bot's playback that ended without interrupting it.
    pub backchannels: u64,
    /// Barge-ins (speech or DTMF).
    pub barge_ins: u64,
    /// Digits ignored (not a DTMF key, or not listening).
    pub digits_ignored: u64,
    /// Marks or stop notices that did not match the playback in progress.
    pub stale_marks: u64,
    /// Events dropped because the queue was full.
    pub events_dropped: u64,
}

/// Whether `c` is a DTMF key.
pub fn is_dtmf(c: char) -> bool {
    matches!(c, '0'..='9' | '*' | '#' | 'A'..='D')
}

/// The bot's playback, as far as the pipeline knows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Bot {
    Silent,
    Speaking {
        /// The latest playback id; only its mark ends the playback.
        id: String,
        /// Estimated end in audio time, when the duration is known.
        until_ms: Option<u64>,
    },
}

/// The utterance being collected.
#[derive(Debug, Clone)]
struct Collecting {
    audio: Vec<i16>,
    audio_start_ms: u64,
    onset_ms: u64,
    /// Delivered when it ends (false: a candidate during the bot's playback).
    accepted: bool,
}

/// The per-call pipeline. See the [module docs](self).
pub struct Pipeline {
    vad: Box<dyn Vad>,
    endpointer: Endpointer,
    pre_roll_ms: u64,
    barge_in_min_ms: u64,
    inter_digit_ms: u64,
    finish_key: Option<char>,
    max_digits: usize,
    /// Audio time: end of the last complete frame.
    clock_ms: u64,
    frame: [i16; FRAME_SAMPLES],
    frame_len: usize,
    ring: VecDeque<i16>,
    ring_cap: usize,
    utterance: Option<Collecting>,
    utterance_cap: usize,
    /// End of the last delivered utterance: pre-roll never reaches back before it.
    last_end_ms: u64,
    listening: bool,
    barge_in: bool,
    bot: Bot,
    digits: String,
    digit_deadline: Option<u64>,
    events: VecDeque<Event>,
    stats: PipelineStats,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("vad", &self.vad.name())
            .field("clock_ms", &self.clock_ms)
            .field("state", &self.endpointer.state())
            .field("listening", &self.listening)
            .field("bot", &self.bot)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Builds a pipeline around a VAD. The settings are validated and converted to frames
    /// once, here. The pipeline starts listening, with no turn open (the no-input timer starts
    /// when the bot finishes its first prompt, or at [`Pipeline::listen`]).
    pub fn new(config: PipelineConfig, vad: Box<dyn Vad>) -> Result<Self, ConfigError> {
        config.validate()?;
        let endpointer = Endpointer::new(&config.endpoint)?;
        let ep = &config.endpoint;
        let frames_of = |ms: u32| ms_to_frames(ms) as usize * FRAME_SAMPLES;
        let ring_cap = frames_of(
            ep.pre_roll_ms
                .saturating_add(ep.start_ms)
                .saturating_add(RING_SLACK_MS),
        );
        let utterance_cap =
            frames_of(ep.pre_roll_ms.saturating_add(ep.max_utterance_ms)) + FRAME_SAMPLES;
        Ok(Self {
            vad,
            endpointer,
            pre_roll_ms: u64::from(ms_to_frames(ep.pre_roll_ms)) * FRAME_MS,
            barge_in_min_ms: u64::from(ms_to_frames(config.barge_in_min_ms)) * FRAME_MS,
            inter_digit_ms: u64::from(config.dtmf.inter_digit_ms),
            finish_key: config.dtmf.finish_key,
            max_digits: config.dtmf.max_digits as usize,
            clock_ms: 0,
            frame: [0; FRAME_SAMPLES],
            frame_len: 0,
            ring: VecDeque::with_capacity(ring_cap),
            ring_cap,
            utterance: None,
            utterance_cap,
            last_end_ms: 0,
            listening: true,
            barge_in: config.barge_in,
            bot: Bot::Silent,
            digits: String::new(),
            digit_deadline: None,
            events: VecDeque::with_capacity(8),
            stats: PipelineStats::default(),
        })
    }

    // -----------------------------------------------------------------------------------------
    // Inputs
    // -----------------------------------------------------------------------------------------

    /// Caller audio: μ-law bytes of any length (frames are assembled internally). With
    /// `media_ts_ms` (Twilio's `media.timestamp`), a gap between it and the audio received so far
    /// is filled with silence (up to [`MAX_GAP_FILL_MS`]). Oversized payloads are dropped.
    pub fn handle_media(&mut self, payload_ulaw: &[u8], media_ts_ms: Option<u64>) {
        if payload_ulaw.len() > MAX_PAYLOAD_BYTES {
            self.stats.oversized_payloads = self.stats.oversized_payloads.saturating_add(1);
            return;
        }
        if let Some(ts) = media_ts_ms {
            self.fill_gap(ts);
        }
        self.stats.bytes = self.stats.bytes.saturating_add(payload_ulaw.len() as u64);
        let mut rest = payload_ulaw;
        while !rest.is_empty() {
            let Some(free) = self.frame.get_mut(self.frame_len..) else {
                // Unreachable: frame_len < FRAME_SAMPLES between calls. Recover anyway.
                self.frame_len = 0;
                continue;
            };
            let take = free.len().min(rest.len());
            let (now, later) = rest.split_at(take);
            for (dst, &code) in free.iter_mut().zip(now) {
                *dst = ulaw_to_linear(code);
            }
            rest = later;
            self.frame_len += take;
            if self.frame_len == FRAME_SAMPLES {
                self.frame_len = 0;
                self.process_frame();
            }
        }
    }

    /// A DTMF key press. Keys other than `0-9 * # A-D`, and keys while not listening, are
    /// ignored (counted).
    pub fn handle_dtmf(&mut self, digit: char) {
        if !is_dtmf(digit) || !self.listening {
            self.stats.digits_ignored = self.stats.digits_ignored.saturating_add(1);
            return;
        }
        if self.is_bot_speaking() && self.barge_in {
            self.interrupt_bot();
        }
        self.endpointer.note_input();
        if Some(digit) == self.finish_key {
            self.deliver_digits(DigitsEnd::Finished);
            return;
        }
        self.digits.push(digit);
        if self.digits.len() >= self.max_digits {
            self.deliver_digits(DigitsEnd::MaxDigits);
        } else {
            self.digit_deadline = Some(self.clock_ms.saturating_add(self.inter_digit_ms));
        }
    }

    /// A mark echoed by Twilio: the bot's audio reached the point labelled `name`. If it is the
    /// mark of the playback in progress, that playback is over.
    pub fn handle_mark(&mut self, name: &str) {
        match &self.bot {
            Bot::Speaking { id, .. } if id == name => self.bot_finished(),
            _ => self.stats.stale_marks = self.stats.stale_marks.saturating_add(1),
        }
    }

    /// The driver started playing audio `id` (sent media, or updated the call).
    /// `duration_ms` (0 if unknown) lets the pipeline estimate the end in audio time when no
    /// mark comes back. Playback queued behind playback in progress extends it; the new `id`
    /// is the one whose mark ends it. The no-input timer stops while the bot speaks.
    pub fn bot_started_speaking(&mut self, id: &str, duration_ms: u64) {
        let base = match &self.bot {
            Bot::Speaking {
                until_ms: Some(until),
                ..
            } => (*until).max(self.clock_ms),
            _ => self.clock_ms,
        };
        self.bot = Bot::Speaking {
            id: id.to_owned(),
            until_ms: (duration_ms > 0).then(|| base.saturating_add(duration_ms)),
        };
        self.endpointer.close_turn();
    }

    /// The driver says playback `id` is over (or was stopped). Ignored unless it is the
    /// playback in progress.
    pub fn bot_stopped_speaking(&mut self, id: &str) {
        self.handle_mark(id);
    }

    /// Wall-clock time (ms, any monotonic origin), for the turn's wall cap only. Call it when
    /// [`Pipeline::poll_timeout`] says so.
    pub fn handle_wall_clock(&mut self, now_ms: u64) {
        if self.listening {
            self.endpointer.handle_wall_clock(now_ms);
            self.drain_endpointer();
        }
    }

    /// Start (or keep) listening to the caller. Opens a turn if the bot is silent and no
    /// digits are pending: the no-input timer starts now.
    pub fn listen(&mut self) {
        if !self.listening {
            self.listening = true;
            self.vad.reset();
            self.endpointer.reset();
        }
        if !self.is_bot_speaking() && self.digits.is_empty() {
            self.endpointer.open_turn(self.clock_ms);
        }
    }

    /// Stop listening (e.g. while an engine request is in flight and barge-in must not
    /// happen): speech in progress and pending digits are dropped, timers stop.
    pub fn stop_listening(&mut self) {
        self.listening = false;
        self.endpointer.reset();
        self.utterance = None;
        self.digits.clear();
        self.digit_deadline = None;
    }

    /// Allows or forbids barge-in from now on (e.g. a legal notice that must be heard).
    pub fn set_barge_in(&mut self, allowed: bool) {
        self.barge_in = allowed;
    }

    // -----------------------------------------------------------------------------------------
    // Outputs
    // -----------------------------------------------------------------------------------------

    /// The next event, if any. Call until `None` after every input.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The wall-clock time at which [`Pipeline::handle_wall_clock`] must be called, if any. A
    /// time at or before the last reading means "now". Audio-time deadlines need no call-back
    /// (they are checked as audio arrives; see [`Pipeline::next_audio_deadline`]).
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.listening {
            self.endpointer.poll_timeout()
        } else {
            None
        }
    }

    /// The next audio-time deadline (no-input, end of silence, maximum length, inter-digit,
    /// estimated end of playback), for information and tests.
    pub fn next_audio_deadline(&self) -> Option<u64> {
        let bot = match &self.bot {
            Bot::Speaking { until_ms, .. } => *until_ms,
            Bot::Silent => None,
        };
        [
            self.endpointer.next_audio_deadline(),
            self.digit_deadline,
            bot,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // -----------------------------------------------------------------------------------------
    // Inspection
    // -----------------------------------------------------------------------------------------

    /// Audio time: milliseconds of complete frames received (including gap fill).
    pub fn audio_ms(&self) -> u64 {
        self.clock_ms
    }

    /// Counters.
    pub fn stats(&self) -> PipelineStats {
        let mut stats = self.stats;
        stats.events_dropped = stats
            .events_dropped
            .saturating_add(self.endpointer.dropped_events());
        stats
    }

    /// The endpointer's state.
    pub fn speech_state(&self) -> SpeechState {
        self.endpointer.state()
    }

    /// Whether the pipeline is listening.
    pub fn is_listening(&self) -> bool {
        self.listening
    }

    /// Whether the bot is speaking, as far as the pipeline knows.
    pub fn is_bot_speaking(&self) -> bool {
        matches!(self.bot, Bot::Speaking { .. })
    }

    /// The VAD's name.
    pub fn vad_name(&self) -> &'static str {
        self.vad.name()
    }

    /// Samples held in buffers (pre-roll ring, utterance, partial frame) and queued events'
    /// audio, for memory-bound checks.
    pub fn buffered_samples(&self) -> usize {
        let queued: usize = self
            .events
            .iter()
            .map(|e| match e {
                Event::Utterance { audio, .. } => audio.len(),
                _ => 0,
            })
            .sum();
        self.ring.len()
            + self.utterance.as_ref().map_or(0, |u| u.audio.len())
            + self.frame_len
            + queued
    }

    /// The most samples [`Pipeline::buffered_samples`] can reach with these settings, not
    /// counting queued events (each holds at most [`Pipeline::max_utterance_samples`]).
    pub fn max_buffered_samples(&self) -> usize {
        self.ring_cap + self.utterance_cap + FRAME_SAMPLES
    }

    /// The most samples one utterance can hold.
    pub fn max_utterance_samples(&self) -> usize {
        self.utterance_cap
    }

    /// Digits collected and not yet delivered.
    pub fn pending_digits(&self) -> &str {
        &self.digits
    }

    /// Events waiting to be polled.
    pub fn queued_events(&self) -> usize {
        self.events.len()
    }

    // -----------------------------------------------------------------------------------------
    // Internals
    // -----------------------------------------------------------------------------------------

    fn fill_gap(&mut self, ts: u64) {
        let received_ms = self
            .clock_ms
            .saturating_add(self.frame_len as u64 / SAMPLES_PER_MS);
        let gap = ts.saturating_sub(received_ms);
        if gap <= GAP_TOLERANCE_MS {
            return;
        }
        if gap > MAX_GAP_FILL_MS {
            self.stats.gaps_not_filled = self.stats.gaps_not_filled.saturating_add(1);
            return;
        }
        self.stats.gap_filled_ms = self.stats.gap_filled_ms.saturating_add(gap);
        let mut samples = gap * SAMPLES_PER_MS;
        while samples > 0 {
            let Some(free) = self.frame.get_mut(self.frame_len..) else {
                self.frame_len = 0;
                continue;
            };
            let take = free.len().min(samples as usize);
            free.iter_mut().take(take).for_each(|s| *s = 0);
            samples -= take as u64;
            self.frame_len += take;
            if self.frame_len == FRAME_SAMPLES {
                self.frame_len = 0;
                self.process_frame();
            }
        }
    }

    fn process_frame(&mut self) {
        let frame_start = self.clock_ms;
        self.clock_ms = self.clock_ms.saturating_add(FRAME_MS);
        self.stats.frames = self.stats.frames.saturating_add(1);

        let excess = (self.ring.len() + FRAME_SAMPLES).saturating_sub(self.ring_cap);
        self.ring.drain(..excess.min(self.ring.len()));
        self.ring.extend(&self.frame);
        if let Some(u) = &mut self.utterance
            && u.audio.len() + FRAME_SAMPLES <= self.utterance_cap
        {
            u.audio.extend_from_slice(&self.frame);
        }

        if let Bot::Speaking {
            until_ms: Some(until),
            ..
        } = self.bot
            && self.clock_ms >= until
        {
            self.bot_finished();
        }

        if self.listening {
            let p = self.vad.process(&self.frame);
            let level = crate::endpoint::level_db(&self.frame);
            self.endpointer
                .handle_frame_with_level(p, frame_start, level);
            self.drain_endpointer();
            self.check_barge_in();
        }

        if let Some(deadline) = self.digit_deadline
            && self.clock_ms >= deadline
        {
            self.deliver_digits(DigitsEnd::InterDigitTimeout);
        }
    }

    fn drain_endpointer(&mut self) {
        while let Some(event) = self.endpointer.poll_event() {
            match event {
                EndpointEvent::SpeechStarted { onset_ms, .. } => self.speech_started(onset_ms),
                EndpointEvent::SpeechEnded {
                    onset_ms,
                    last_voiced_ms,
                    at_ms,
                    reason,
                } => {
                    self.last_end_ms = at_ms;
                    match self.utterance.take() {
                        Some(u) if u.accepted => {
                            self.stats.utterances = self.stats.utterances.saturating_add(1);
                            self.push(Event::Utterance {
                                audio: u.audio,
                                audio_start_ms: u.audio_start_ms,
                                started_ms: onset_ms,
                                ended_ms: last_voiced_ms,
                                reason,
                            });
                        }
                        Some(_) => {
                            self.stats.backchannels = self.stats.backchannels.saturating_add(1);
                        }
                        None => {}
                    }
                }
                EndpointEvent::SpeechDiscarded { .. } => match self.utterance.take() {
                    Some(u) if !u.accepted => {
                        self.stats.backchannels = self.stats.backchannels.saturating_add(1);
                    }
                    _ => self.stats.blips = self.stats.blips.saturating_add(1),
                },
                EndpointEvent::NoInput { at_ms } => self.push(Event::NoInput { at_ms }),
                EndpointEvent::TurnTimedOut { at_ms } => {
                    if self.digits.is_empty() {
                        self.push(Event::TurnTimedOut { at_ms });
                    } else {
                        self.deliver_digits(DigitsEnd::WallCap);
                    }
                }
            }
        }
    }

    fn speech_started(&mut self, onset_ms: u64) {
        let ring_start_ms = self
            .clock_ms
            .saturating_sub(self.ring.len() as u64 / SAMPLES_PER_MS);
        let from_ms = onset_ms
            .saturating_sub(self.pre_roll_ms)
            .max(self.last_end_ms)
            .max(ring_start_ms)
            .min(self.clock_ms);
        let skip = usize::try_from((from_ms - ring_start_ms) * SAMPLES_PER_MS).unwrap_or(0);
        let mut audio =
            Vec::with_capacity(self.ring.len().saturating_sub(skip) + 50 * FRAME_SAMPLES);
        audio.extend(self.ring.iter().skip(skip).copied());
        audio.truncate(self.utterance_cap);
        let accepted = !self.is_bot_speaking();
        self.utterance = Some(Collecting {
            audio,
            audio_start_ms: from_ms,
            onset_ms,
            accepted,
        });
        if accepted {
            self.push(Event::SpeechStarted { at_ms: onset_ms });
        }
    }

    fn check_barge_in(&mut self) {
        if self.barge_in
            && self.is_bot_speaking()
            && self.utterance.as_ref().is_some_and(|u| !u.accepted)
            && self.endpointer.voiced_ms() >= self.barge_in_min_ms
        {
            self.interrupt_bot();
        }
    }

    /// Barge-in: the bot is cut, any candidate speech becomes the caller's turn.
    fn interrupt_bot(&mut self) {
        self.bot = Bot::Silent;
        self.stats.barge_ins = self.stats.barge_ins.saturating_add(1);
        self.push(Event::BargeIn {
            at_ms: self.clock_ms,
        });
        self.accept_candidate();
        if self.listening && self.digits.is_empty() {
            self.endpointer.open_turn(self.clock_ms);
        }
    }

    fn bot_finished(&mut self) {
        let id = match std::mem::replace(&mut self.bot, Bot::Silent) {
            Bot::Speaking { id, .. } => id,
            Bot::Silent => return,
        };
        self.push(Event::PlaybackFinished {
            id,
            at_ms: self.clock_ms,
        });
        self.accept_candidate();
        if self.listening && self.digits.is_empty() {
            self.endpointer.open_turn(self.clock_ms);
        }
    }

    fn accept_candidate(&mut self) {
        if let Some(u) = &mut self.utterance
            && !u.accepted
        {
            u.accepted = true;
            let at_ms = u.onset_ms;
            self.push(Event::SpeechStarted { at_ms });
        }
    }

    fn deliver_digits(&mut self, reason: DigitsEnd) {
        self.digit_deadline = None;
        let digits = std::mem::take(&mut self.digits);
        self.push(Event::Digits { digits, reason });
        self.endpointer.close_turn();
    }

    fn push(&mut self, event: Event) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
            self.stats.events_dropped = self.stats.events_dropped.saturating_add(1);
        }
        self.events.push_back(event);
    }
}
