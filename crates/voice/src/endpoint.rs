//! End-of-turn detection: per-frame speech probabilities in, speech segments and turn timers
//! out.
//!
//! The [`Endpointer`] sees one probability per 20 ms frame together with the frame's audio
//! position, and decides where the caller's speech starts and ends:
//!
//! ```text
//!            p >= start                 frames >= start_frames
//!   Quiet ──────────────▶ Starting ───────────────────────────▶ Speaking ◀──┐
//!     ▲                      │ p < stay                            │ p < stay │ p >= stay
//!     └──────────────────────┘                                     ▼          │
//!     ▲                                                         Trailing ─────┘
//!     └──────────── frames >= end_frames (end, or drop if shorter than min) ┘
//! ```
//!
//! Hysteresis: a frame must reach `start_threshold` to count towards a start, and speech
//! continues while frames stay at or above `stay_threshold`. In `Starting`, a frame between the
//! two thresholds neither counts nor aborts. An utterance that reaches `max_utterance_ms` is
//! cut (`EndReason::MaxLength`) and, if the caller is still speaking, a new one continues at
//! once without a new start delay (a split, not a loss).
//!
//! Turn timers live here too, because they are what makes a turn end when the VAD cannot:
//! - **no input**, in *audio* time: armed by [`Endpointer::open_turn`] (the driver calls it when
//!   the bot has finished its prompt), paused while speech is in progress, cancelled by
//!   [`Endpointer::note_input`] (a DTMF digit) or by an utterance;
//! - **wall cap**, in *wall* time (`max_turn_wall_ms`): armed when a turn opens or speech starts,
//!   stamped by the next [`Endpointer::handle_wall_clock`]; when it fires the utterance in
//!   progress is ended with `EndReason::WallCap`, or, with nothing usable, the turn gives up
//!   with [`EndpointEvent::TurnTimedOut`]. Hold music or a stalled stream cannot keep a turn
//!   open forever (peers' pain point: a turn detector that stalled for 80 minutes).
//!
//! Millisecond settings are converted to frame counts once, in [`Endpointer::new`].
//!
//! This module must stay pure: no audio, no clocks, no allocation per frame, no logging.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Duration of one frame, in milliseconds.
pub const FRAME_MS: u64 = 20;

/// Samples in one frame of 8 kHz audio (20 ms). Also the number of μ-law bytes.
pub const FRAME_SAMPLES: usize = 160;

/// Samples per millisecond at 8 kHz.
pub const SAMPLES_PER_MS: u64 = 8;

/// The longest `max_utterance_ms` accepted (55 s, Amazon Lex's maximum).
pub const MAX_UTTERANCE_LIMIT_MS: u32 = 55_000;

/// The longest `pre_roll_ms` accepted (2 s).
pub const MAX_PRE_ROLL_MS: u32 = 2_000;

/// The most trailing silence an utterance's end can be moved back by ([`EndpointConfig::end_backdate_ms`]).
pub const MAX_END_BACKDATE_MS: u32 = 320;

/// Frames of levels kept for backdating the end of speech: the current frame and as many
/// before it as the largest backdate.
const LEVEL_RING: usize = (MAX_END_BACKDATE_MS as usize).div_ceil(FRAME_MS as usize) + 1;

/// Events the endpointer queues at most; it emits at most three per input, so this is never
/// reached by a caller that drains after each input. Beyond it the oldest event is dropped.
const MAX_QUEUED: usize = 16;

/// End-of-turn settings, in milliseconds and probabilities. See [`Default`] for the values
/// and why they were chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EndpointConfig {
    /// Probability a frame must reach to count towards the start of speech.
    pub start_threshold: f32,
    /// Probability speech must stay at or above to continue (hysteresis; ≤ `start_threshold`).
    pub stay_threshold: f32,
    /// Speech needed to open an utterance (frames at or above `start_threshold`).
    pub start_ms: u32,
    /// Trailing silence that ends an utterance.
    pub end_ms: u32,
    /// Audio kept from before the detected start, so the first syllable is not lost.
    pub pre_roll_ms: u32,
    /// Longest utterance, measured from its onset; longer speech is split.
    pub max_utterance_ms: u32,
    /// Utterances with less voiced audio than this (onset to last voiced frame) are dropped.
    pub min_utterance_ms: u32,
    /// Audio time without speech or digits, after the turn opens, before `NoInput`.
    pub no_input_ms: u32,
    /// Wall-clock cap of one turn: from the moment it opens (or speech starts) to its end.
    pub max_turn_wall_ms: u32,
    /// How far back the end of speech may be moved when the VAD lags: when the VAD stops
    /// reporting speech, the frames just before that were already quiet (`end_quiet_db` below
    /// the utterance's loudest frame) count as trailing silence too. Needs frame levels
    /// ([`Endpointer::handle_frame_with_level`]); 0 turns it off.
    pub end_backdate_ms: u32,
    /// How far below the utterance's loudest frame a frame's level must be to count as quiet
    /// for [`EndpointConfig::end_backdate_ms`], in dB.
    pub end_quiet_db: f32,
}

impl Default for EndpointConfig {
    /// - `start_threshold` 0.5 / `stay_threshold` 0.35: Silero's own recommended pair (threshold,
    ///   threshold − 0.15); Jambonz and OpenAI's server VAD use 0.5.
    /// - `start_ms` 160: long enough to reject clicks, line pops and a door slam (≤ 100 ms),
    ///   short enough that a clipped one-syllable answer ("no", "yes", often 200–300 ms voiced)
    ///   still opens an utterance. Between Pipecat (200 ms) and a bare VAD trigger; nothing is
    ///   lost by starting on 160 ms since the pre-roll keeps the audio before the start.
    /// - `end_ms` 700: telephone speech has longer pauses than wideband chat; LiveKit users report
    ///   700–800 ms as the point below which callers get cut off mid-number; the seed's 2 s feels
    ///   sluggish. Tune lower for yes/no menus, higher for digit strings.
    /// - `pre_roll_ms` 300: OpenAI's server VAD `prefix_padding_ms` default; covers the weak onset
    ///   of an unvoiced consonant ("f", "s", "h") that a VAD scores low.
    /// - `max_utterance_ms` 13,000: Amazon Lex's `max-length-ms` default.
    /// - `min_utterance_ms` 200: drops coughs and bumps that got past the start window.
    /// - `no_input_ms` 5,000: Twilio `<Gather timeout>` and Lex start-timeout defaults.
    /// - `max_turn_wall_ms` 20,000: the longest utterance (13 s) plus time to start speaking
    ///   (5 s) plus slack; only a stalled stream or endless noise reaches it.
    /// - `end_backdate_ms` 200 / `end_quiet_db` 30: Silero keeps scoring speech for about 100 ms
    ///   after the last word (measured: 814 ms mean end delay with a 700 ms window), WebRTC for
    ///   about 80; frames 30 dB under the utterance's loudest are silence on a clean line, while
    ///   on a line noisier than about 20 dB SNR nothing is that quiet, so nothing moves.
    fn default() -> Self {
        Self {
            start_threshold: 0.5,
            stay_threshold: 0.35,
            start_ms: 160,
            end_ms: 700,
            pre_roll_ms: 300,
            max_utterance_ms: 13_000,
            min_utterance_ms: 200,
            no_input_ms: 5_000,
            max_turn_wall_ms: 20_000,
            end_backdate_ms: 200,
            end_quiet_db: 30.0,
        }
    }
}

/// A setting that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A probability threshold is not within `0.0..=1.0`, or `stay_threshold` exceeds
    /// `start_threshold`.
    ///
    /// Remedy: use values in 0..1 with `stay_threshold` ≤ `start_threshold` (for example 0.5
    /// and 0.35).
    #[error("invalid thresholds: start {start}, stay {stay} (need 0 <= stay <= start <= 1)")]
    Thresholds {
        /// `start_threshold` as given.
        start: f32,
        /// `stay_threshold` as given.
        stay: f32,
    },
    /// A duration that must be positive is zero.
    ///
    /// Remedy: give the named setting a positive number of milliseconds.
    #[error("`{0}` must be greater than 0 ms")]
    Zero(&'static str),
    /// A duration is above its limit.
    ///
    /// Remedy: lower the named setting to at most `max` ms; the limits bound per-call memory.
    #[error("`{name}` is {value} ms, above the limit of {max} ms")]
    TooLong {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: u32,
        /// The limit.
        max: u32,
    },
    /// Two settings contradict each other.
    ///
    /// Remedy: see the message; typically `max_utterance_ms` must be at least `start_ms` and
    /// `min_utterance_ms`.
    #[error("inconsistent settings: {0}")]
    Inconsistent(&'static str),
}

impl EndpointConfig {
    /// Checks the settings without building anything.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let (start, stay) = (self.start_threshold, self.stay_threshold);
        if !(0.0..=1.0).contains(&start) || !(0.0..=1.0).contains(&stay) || stay > start {
            return Err(ConfigError::Thresholds { start, stay });
        }
        for (name, value) in [
            ("start_ms", self.start_ms),
            ("end_ms", self.end_ms),
            ("max_utterance_ms", self.max_utterance_ms),
            ("no_input_ms", self.no_input_ms),
            ("max_turn_wall_ms", self.max_turn_wall_ms),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        for (name, value, max) in [
            (
                "max_utterance_ms",
                self.max_utterance_ms,
                MAX_UTTERANCE_LIMIT_MS,
            ),
            ("pre_roll_ms", self.pre_roll_ms, MAX_PRE_ROLL_MS),
            ("end_backdate_ms", self.end_backdate_ms, MAX_END_BACKDATE_MS),
        ] {
            if value > max {
                return Err(ConfigError::TooLong { name, value, max });
            }
        }
        if !(self.end_quiet_db.is_finite() && (6.0..=90.0).contains(&self.end_quiet_db)) {
            return Err(ConfigError::Inconsistent(
                "end_quiet_db must be between 6 and 90 dB",
            ));
        }
        if self.max_utterance_ms < self.start_ms || self.max_utterance_ms < self.min_utterance_ms {
            return Err(ConfigError::Inconsistent(
                "max_utterance_ms must be at least start_ms and min_utterance_ms",
            ));
        }
        Ok(())
    }
}

/// The level of a frame of 16-bit samples in dBFS (a full-scale square wave is 0 dB; digital
/// silence is -100 dB).
pub fn level_db(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return -100.0;
    }
    let energy: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    let mean = energy / samples.len() as f64 / (32_768.0 * 32_768.0);
    if mean <= 1e-10 {
        -100.0
    } else {
        (10.0 * mean.log10()) as f32
    }
}

/// Whole frames for a duration, rounding up (a 150 ms window needs 8 frames, not 7).
pub fn ms_to_frames(ms: u32) -> u32 {
    ms.div_ceil(FRAME_MS as u32)
}

/// Why an utterance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// `end_ms` of trailing silence.
    Silence,
    /// It reached `max_utterance_ms` (audio time).
    MaxLength,
    /// The turn reached `max_turn_wall_ms` (wall time).
    WallCap,
}

/// What the endpointer decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointEvent {
    /// `start_ms` of speech: an utterance is open. `onset_ms` is where its first frame began.
    SpeechStarted {
        /// Start of the first frame of the speech.
        onset_ms: u64,
        /// Audio time of the decision (end of the frame that confirmed it).
        at_ms: u64,
    },
    /// The utterance is over and long enough to use.
    SpeechEnded {
        /// Start of its first speech frame.
        onset_ms: u64,
        /// End of its last frame at or above the stay threshold.
        last_voiced_ms: u64,
        /// Audio time of the decision.
        at_ms: u64,
        /// Why it ended.
        reason: EndReason,
    },
    /// The utterance ended with less than `min_utterance_ms` of voiced audio: a blip.
    SpeechDiscarded {
        /// Start of its first speech frame.
        onset_ms: u64,
        /// Audio time of the decision.
        at_ms: u64,
    },
    /// `no_input_ms` of audio passed since the turn opened without speech or digits.
    NoInput {
        /// Audio time of the decision.
        at_ms: u64,
    },
    /// The wall cap fired with no usable speech.
    TurnTimedOut {
        /// Audio time when it fired.
        at_ms: u64,
    },
}

/// Where the caller's speech stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpeechState {
    /// No speech.
    Quiet,
    /// Frames above the start threshold, not yet `start_ms` of them.
    Starting {
        /// Start of the first counted frame.
        onset_ms: u64,
        /// Frames counted so far.
        frames: u32,
    },
    /// In an utterance, the last frame was speech.
    Speaking {
        /// Start of the utterance's first frame.
        onset_ms: u64,
        /// End of the last voiced frame.
        last_voiced_ms: u64,
    },
    /// In an utterance, counting trailing silence.
    Trailing {
        /// Start of the utterance's first frame.
        onset_ms: u64,
        /// End of the last voiced frame.
        last_voiced_ms: u64,
        /// Silent frames so far.
        frames: u32,
    },
}

/// The wall-clock cap of the current turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WallCap {
    /// No turn open.
    Off,
    /// A turn opened; the next wall clock reading stamps its deadline.
    Unstamped,
    /// Fires at this wall time.
    Armed { deadline_ms: u64 },
}

/// Settings converted to frames, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Frames {
    start: u32,
    end: u32,
    max_utterance_ms: u64,
    min_utterance_ms: u64,
    no_input_ms: u64,
    wall_cap_ms: u64,
    backdate: u32,
}

/// The end-of-turn state machine. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Endpointer {
    start_threshold: f32,
    stay_threshold: f32,
    frames: Frames,
    state: SpeechState,
    /// Audio deadline of the no-input timer.
    no_input_at: Option<u64>,
    /// The no-input timer was paused by speech and restarts if that speech is discarded.
    no_input_paused: bool,
    /// A turn is open (by `open_turn` or `note_input`) and not yet ended.
    turn_open: bool,
    wall: WallCap,
    last_wall_ms: u64,
    /// End of the last frame seen: the endpointer's notion of "now" in audio time.
    now_ms: u64,
    events: VecDeque<EndpointEvent>,
    dropped: u64,
    /// Levels (dBFS) of the last frames, newest at `level_pos - 1`; NaN where unknown.
    levels: [f32; LEVEL_RING],
    level_pos: usize,
    /// The loudest frame of the utterance in progress (dBFS).
    peak_db: f32,
    quiet_db: f32,
}

impl Endpointer {
    /// Builds an endpointer; the settings are validated and converted to frames here.
    pub fn new(config: &EndpointConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        // Durations kept in ms are whole frames too, so that every comparison below is a frame
        // boundary.
        let whole = |ms: u32| u64::from(ms_to_frames(ms)) * FRAME_MS;
        Ok(Self {
            start_threshold: config.start_threshold,
            stay_threshold: config.stay_threshold,
            frames: Frames {
                start: ms_to_frames(config.start_ms).max(1),
                end: ms_to_frames(config.end_ms).max(1),
                max_utterance_ms: whole(config.max_utterance_ms),
                min_utterance_ms: whole(config.min_utterance_ms),
                no_input_ms: whole(config.no_input_ms),
                wall_cap_ms: u64::from(config.max_turn_wall_ms),
                // At least one frame of real silence ends an utterance, whatever `end_ms` is.
                backdate: (config.end_backdate_ms / FRAME_MS as u32)
                    .min(ms_to_frames(config.end_ms).saturating_sub(1)),
            },
            state: SpeechState::Quiet,
            no_input_at: None,
            no_input_paused: false,
            turn_open: false,
            wall: WallCap::Off,
            last_wall_ms: 0,
            now_ms: 0,
            events: VecDeque::with_capacity(4),
            dropped: 0,
            levels: [f32::NAN; LEVEL_RING],
            level_pos: 0,
            peak_db: f32::NEG_INFINITY,
            quiet_db: config.end_quiet_db,
        })
    }

    /// Feeds the speech probability of the 20 ms frame that starts at `frame_start_ms` (audio
    /// time). NaN counts as 0; values are clamped to `0..=1`. Without the frame's level the
    /// end of speech is never backdated.
    pub fn handle_frame(&mut self, probability: f32, frame_start_ms: u64) {
        self.handle_frame_with_level(probability, frame_start_ms, f32::NAN);
    }

    /// [`Endpointer::handle_frame`] with the frame's level in dBFS ([`level_db`]), which lets the
    /// end of speech be moved back over the frames the VAD still scored as speech although
    /// they were already quiet ([`EndpointConfig::end_backdate_ms`]).
    pub fn handle_frame_with_level(&mut self, probability: f32, frame_start_ms: u64, level: f32) {
        if let Some(slot) = self.levels.get_mut(self.level_pos % LEVEL_RING) {
            *slot = level;
        }
        self.level_pos = self.level_pos.wrapping_add(1);
        let p = if probability.is_nan() {
            0.0
        } else {
            probability.clamp(0.0, 1.0)
        };
        let start = frame_start_ms;
        let end = start.saturating_add(FRAME_MS);
        self.now_ms = end;
        let voiced = p >= self.stay_threshold;
        self.state = match self.state {
            SpeechState::Quiet if p >= self.start_threshold => self.count_start(start, 1, end),
            SpeechState::Quiet => SpeechState::Quiet,
            SpeechState::Starting { onset_ms, frames } => {
                if p >= self.start_threshold {
                    self.count_start(onset_ms, frames.saturating_add(1), end)
                } else if voiced {
                    SpeechState::Starting { onset_ms, frames }
                } else {
                    SpeechState::Quiet
                }
            }
            SpeechState::Speaking { onset_ms, .. } if voiced => SpeechState::Speaking {
                onset_ms,
                last_voiced_ms: end,
            },
            SpeechState::Trailing { onset_ms, .. } if voiced => SpeechState::Speaking {
                onset_ms,
                last_voiced_ms: end,
            },
            SpeechState::Speaking { onset_ms, .. } => {
                // The first unvoiced frame: the quiet frames just before it were trailing
                // silence already (the VAD's lag).
                let back = self.quiet_frames_before(onset_ms, start);
                let last_voiced_ms = start.saturating_sub(u64::from(back) * FRAME_MS);
                self.trail(onset_ms, last_voiced_ms, 1 + back, end)
            }
            SpeechState::Trailing {
                onset_ms,
                last_voiced_ms,
                frames,
            } => self.trail(onset_ms, last_voiced_ms, frames.saturating_add(1), end),
        };
        match self.state {
            SpeechState::Quiet => self.peak_db = f32::NEG_INFINITY,
            SpeechState::Starting { .. } | SpeechState::Speaking { .. } if level.is_finite() => {
                self.peak_db = self.peak_db.max(level);
            }
            _ => {}
        }
        // Maximum length, in audio time from the onset.
        if let SpeechState::Speaking {
            onset_ms,
            last_voiced_ms,
        }
        | SpeechState::Trailing {
            onset_ms,
            last_voiced_ms,
            ..
        } = self.state
            && end.saturating_sub(onset_ms) >= self.frames.max_utterance_ms
        {
            let still_speaking = matches!(self.state, SpeechState::Speaking { .. });
            self.finish(onset_ms, last_voiced_ms, end, EndReason::MaxLength);
            if still_speaking {
                // Split: the speech goes on, so the next utterance starts here, at once.
                self.state = SpeechState::Speaking {
                    onset_ms: end,
                    last_voiced_ms: end,
                };
                self.speech_started(end, end);
            }
        }
        // No input, in audio time.
        if let Some(deadline) = self.no_input_at
            && end >= deadline
            && matches!(
                self.state,
                SpeechState::Quiet | SpeechState::Starting { .. }
            )
        {
            self.close_turn();
            self.push(EndpointEvent::NoInput { at_ms: end });
        }
    }

    /// Tells the endpointer the wall-clock time (ms, any monotonic origin). Only the wall cap
    /// uses it.
    pub fn handle_wall_clock(&mut self, now_wall_ms: u64) {
        self.last_wall_ms = self.last_wall_ms.max(now_wall_ms);
        match self.wall {
            WallCap::Off => {}
            WallCap::Unstamped => {
                self.wall = WallCap::Armed {
                    deadline_ms: now_wall_ms.saturating_add(self.frames.wall_cap_ms),
                };
            }
            WallCap::Armed { deadline_ms } if now_wall_ms >= deadline_ms => self.wall_cap_fired(),
            WallCap::Armed { .. } => {}
        }
    }

    /// Opens a turn at audio time `now_ms`: starts the no-input timer (unless speech is in
    /// progress) and the wall cap. Call it when the bot has finished its prompt and the caller's
    /// answer is expected.
    pub fn open_turn(&mut self, now_ms: u64) {
        self.now_ms = self.now_ms.max(now_ms);
        match self.state {
            SpeechState::Quiet | SpeechState::Starting { .. } => {
                self.no_input_at = Some(now_ms.saturating_add(self.frames.no_input_ms));
                self.no_input_paused = false;
            }
            SpeechState::Speaking { .. } | SpeechState::Trailing { .. } => {
                self.no_input_at = None;
                self.no_input_paused = true;
            }
        }
        self.turn_open = true;
        self.arm_wall_cap();
    }

    /// Non-speech input arrived (a DTMF digit): cancels the no-input timer and makes sure the
    /// wall cap runs.
    pub fn note_input(&mut self) {
        self.no_input_at = None;
        self.no_input_paused = false;
        self.turn_open = true;
        self.arm_wall_cap();
    }

    /// Closes the turn: both timers off. Speech in progress keeps its wall cap.
    pub fn close_turn(&mut self) {
        self.no_input_at = None;
        self.no_input_paused = false;
        self.turn_open = false;
        if matches!(
            self.state,
            SpeechState::Quiet | SpeechState::Starting { .. }
        ) {
            self.wall = WallCap::Off;
        }
    }

    /// Forgets the speech in progress and the turn (no event). Queued events are kept.
    pub fn reset(&mut self) {
        self.state = SpeechState::Quiet;
        self.peak_db = f32::NEG_INFINITY;
        self.no_input_at = None;
        self.no_input_paused = false;
        self.turn_open = false;
        self.wall = WallCap::Off;
    }

    /// Whether a turn is open.
    pub fn turn_open(&self) -> bool {
        self.turn_open
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<EndpointEvent> {
        self.events.pop_front()
    }

    /// The wall-clock time at which [`Endpointer::handle_wall_clock`] must be called next.
    /// A time at or before the last reading means "now" (a turn opened and its cap needs
    /// stamping).
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.wall {
            WallCap::Off => None,
            WallCap::Unstamped => Some(self.last_wall_ms),
            WallCap::Armed { deadline_ms } => Some(deadline_ms),
        }
    }

    /// The next audio-time deadline (no-input, end of trailing silence, maximum length), for
    /// information: audio deadlines are checked as frames arrive and need no call-back.
    pub fn next_audio_deadline(&self) -> Option<u64> {
        let frame = |n: u32| u64::from(n) * FRAME_MS;
        let speech = match self.state {
            SpeechState::Quiet | SpeechState::Starting { .. } => None,
            SpeechState::Speaking { onset_ms, .. } => {
                Some(onset_ms.saturating_add(self.frames.max_utterance_ms))
            }
            SpeechState::Trailing {
                onset_ms, frames, ..
            } => Some(
                onset_ms.saturating_add(self.frames.max_utterance_ms).min(
                    self.now_ms
                        .saturating_add(frame(self.frames.end.saturating_sub(frames))),
                ),
            ),
        };
        match (speech, self.no_input_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The current speech state.
    pub fn state(&self) -> SpeechState {
        self.state
    }

    /// Voiced duration of the utterance in progress (onset to the end of its last voiced
    /// frame), 0 outside one.
    pub fn voiced_ms(&self) -> u64 {
        match self.state {
            SpeechState::Speaking {
                onset_ms,
                last_voiced_ms,
            }
            | SpeechState::Trailing {
                onset_ms,
                last_voiced_ms,
                ..
            } => last_voiced_ms.saturating_sub(onset_ms),
            SpeechState::Quiet | SpeechState::Starting { .. } => 0,
        }
    }

    /// Whether an utterance is open (`Speaking` or `Trailing`).
    pub fn in_utterance(&self) -> bool {
        matches!(
            self.state,
            SpeechState::Speaking { .. } | SpeechState::Trailing { .. }
        )
    }

    /// Events dropped because the queue was full (never, when drained after each input).
    pub fn dropped_events(&self) -> u64 {
        self.dropped
    }

    fn count_start(&mut self, onset_ms: u64, frames: u32, end: u64) -> SpeechState {
        if frames >= self.frames.start {
            self.speech_started(onset_ms, end);
            SpeechState::Speaking {
                onset_ms,
                last_voiced_ms: end,
            }
        } else {
            SpeechState::Starting { onset_ms, frames }
        }
    }

    fn speech_started(&mut self, onset_ms: u64, at_ms: u64) {
        if self.no_input_at.take().is_some() {
            self.no_input_paused = true;
        }
        self.arm_wall_cap();
        self.push(EndpointEvent::SpeechStarted { onset_ms, at_ms });
    }

    /// How many frames right before the current one (which starts at `frame_start`) were
    /// quiet — `end_quiet_db` under the utterance's loudest frame — at most `end_backdate_ms`
    /// of them, and never the utterance's first frame.
    fn quiet_frames_before(&self, onset_ms: u64, frame_start: u64) -> u32 {
        if self.frames.backdate == 0 || !self.peak_db.is_finite() {
            return 0;
        }
        let in_utterance = frame_start.saturating_sub(onset_ms) / FRAME_MS;
        let limit = u64::from(self.frames.backdate).min(in_utterance.saturating_sub(1));
        let quiet_below = self.peak_db - self.quiet_db;
        let mut back = 0u32;
        // The current frame is at `level_pos - 1`; the ones before it go back from there.
        while u64::from(back) < limit {
            let Some(index) = self.level_pos.checked_sub(2 + back as usize) else {
                break;
            };
            match self.levels.get(index % LEVEL_RING) {
                Some(&l) if l.is_finite() && l < quiet_below => back += 1,
                _ => break,
            }
        }
        back
    }

    fn trail(&mut self, onset_ms: u64, last_voiced_ms: u64, frames: u32, end: u64) -> SpeechState {
        if frames >= self.frames.end {
            self.finish(onset_ms, last_voiced_ms, end, EndReason::Silence);
            SpeechState::Quiet
        } else {
            SpeechState::Trailing {
                onset_ms,
                last_voiced_ms,
                frames,
            }
        }
    }

    /// Ends the utterance: `SpeechEnded` if long enough, `SpeechDiscarded` otherwise. The caller
    /// sets the next state.
    fn finish(&mut self, onset_ms: u64, last_voiced_ms: u64, at_ms: u64, reason: EndReason) {
        self.state = SpeechState::Quiet;
        if last_voiced_ms.saturating_sub(onset_ms) >= self.frames.min_utterance_ms {
            self.no_input_paused = false;
            self.no_input_at = None;
            self.turn_open = false;
            self.wall = WallCap::Off;
            self.push(EndpointEvent::SpeechEnded {
                onset_ms,
                last_voiced_ms,
                at_ms,
                reason,
            });
        } else {
            if self.no_input_paused {
                // A cough during the answer window: the caller gets the full window again.
                self.no_input_paused = false;
                self.no_input_at = Some(at_ms.saturating_add(self.frames.no_input_ms));
            } else if !self.turn_open {
                // Not in a turn: the wall cap armed by this blip goes away with it.
                self.wall = WallCap::Off;
            }
            self.push(EndpointEvent::SpeechDiscarded { onset_ms, at_ms });
        }
    }

    fn wall_cap_fired(&mut self) {
        let at_ms = self.now_ms;
        match self.state {
            SpeechState::Speaking {
                onset_ms,
                last_voiced_ms,
            }
            | SpeechState::Trailing {
                onset_ms,
                last_voiced_ms,
                ..
            } if last_voiced_ms.saturating_sub(onset_ms) >= self.frames.min_utterance_ms => {
                self.finish(onset_ms, last_voiced_ms, at_ms, EndReason::WallCap);
            }
            SpeechState::Speaking { onset_ms, .. } | SpeechState::Trailing { onset_ms, .. } => {
                self.push(EndpointEvent::SpeechDiscarded { onset_ms, at_ms });
                self.push(EndpointEvent::TurnTimedOut { at_ms });
            }
            SpeechState::Quiet | SpeechState::Starting { .. } => {
                self.push(EndpointEvent::TurnTimedOut { at_ms });
            }
        }
        self.reset();
    }

    fn arm_wall_cap(&mut self) {
        if self.wall == WallCap::Off {
            self.wall = WallCap::Unstamped;
        }
    }

    fn push(&mut self, event: EndpointEvent) {
        if self.events.len() >= MAX_QUEUED {
            self.events.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
        self.events.push_back(event);
    }
}
