//! Speech recognition for Hotline's voice bots and `<Gather>` speech (issue 5).
//!
//! A [`Recognizer`] turns one utterance (8 kHz, 16-bit mono PCM, as the media pipeline cuts it)
//! into a [`Transcript`]. Backends follow ENGINEERING §4: a config validated without IO, a
//! `load` that does the IO once at start-up (so a corrupt model fails then, not at the first
//! call), and the shared conformance checks.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub mod moonshine;
pub mod normalize;
mod prepare;

pub use moonshine::{Moonshine, MoonshineConfig};

/// Samples per second of the audio a [`Recognizer`] takes.
pub const SAMPLE_RATE: u32 = 8_000;

/// What the caller said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// The words, as recognised (no normalisation beyond the model's own).
    pub text: String,
    /// How sure the recogniser is, 0..=1 (a model without scores reports its best estimate).
    pub confidence: f32,
    /// Audio length given to the model (after truncation to the maximum length).
    pub audio: Duration,
    /// Time spent waiting for a free worker.
    pub queued: Duration,
    /// Time spent recognising.
    pub decode: Duration,
    /// Whether the utterance was cut to the maximum length.
    pub truncated: bool,
    /// The answer in canonical form when [`Hints::expect`] asked for one: the digits
    /// (`"456"`) for [`Expect::Digits`], `"yes"`/`"no"` for [`Expect::YesNo`]; `None` when
    /// nothing was expected or the words do not give such an answer. `text` stays what was
    /// heard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalized: Option<String>,
}

impl Transcript {
    /// An empty transcript (silence) of `audio` length.
    #[must_use]
    pub fn silent(audio: Duration) -> Self {
        Self {
            text: String::new(),
            confidence: 0.0,
            audio,
            queued: Duration::ZERO,
            decode: Duration::ZERO,
            truncated: false,
            normalized: None,
        }
    }
}

impl Expect {
    /// The canonical answer in `text` for this expectation (see [`Transcript::normalized`]).
    #[must_use]
    pub fn normalize(self, text: &str) -> Option<String> {
        match self {
            Self::Free => None,
            Self::Digits => normalize::digits(text),
            Self::YesNo => normalize::yes_no(text).map(|a| a.as_str().to_owned()),
        }
    }
}

/// Hints for one utterance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hints {
    /// What kind of answer is expected, so short answers get special care.
    pub expect: Expect,
    /// Words or phrases likely to be said (slot values, menu options).
    pub phrases: Vec<String>,
}

/// The kind of answer expected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Anything.
    #[default]
    Free,
    /// Yes or no.
    YesNo,
    /// Digits or a number.
    Digits,
}

/// Why an utterance could not be recognised.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    /// A model file or the runtime is missing: the message names the install command.
    ///
    /// Remedy: run `scripts/install-models.sh` (or point `HOTLINE_MODELS_DIR` at the folder).
    #[error("{0}")]
    Missing(String),
    /// The model or runtime failed to load or run.
    ///
    /// Remedy: a corrupt model file fails at load; re-run `scripts/install-models.sh`, which
    /// re-verifies every file's checksum and replaces a damaged one.
    #[error("speech recognition failed: {0}")]
    Model(String),
    /// Every worker stayed busy past the queue limit.
    ///
    /// Remedy: the caller re-prompts; raise `workers` or `max_queue_wait_ms` if it persists.
    #[error("speech recognition is overloaded (waited {0:?} for a worker)")]
    Overloaded(Duration),
    /// The input cannot be recognised (empty, wrong rate).
    ///
    /// Remedy: give 8 kHz 16-bit mono audio.
    #[error("bad audio: {0}")]
    BadAudio(String),
    /// A setting is out of range.
    ///
    /// Remedy: fix the named field in the configuration.
    #[error("invalid speech recognition setting `{field}`: {message}")]
    Config {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// A speech recogniser: one utterance in, its transcript out.
///
/// Contract for implementers:
/// - `pcm_8k` is 8 kHz 16-bit mono; an empty or all-silent utterance gives an empty text, not an
///   error; audio beyond the backend's maximum length is truncated (`truncated: true`).
/// - Work runs off the async executor (a bounded worker pool), so many calls ending turns at
///   once queue instead of thrashing.
/// - Never panics on any audio.
#[async_trait]
pub trait Recognizer: Send + Sync {
    /// Recognises one utterance.
    async fn transcribe(&self, pcm_8k: &[i16], hints: &Hints) -> Result<Transcript, AsrError>;

    /// The backend's name, for logs (`"moonshine"`).
    fn name(&self) -> &'static str;
}
