//! Speech recognition for Hotline's voice bots and `<Gather>` speech (issue 5).
//!
//! A [`Recognizer`] turns one utterance (8 kHz, 16-bit mono PCM, as the media pipeline cuts it)
//! into a [`Transcript`]. Backends follow ENGINEERING §4: a config validated without IO, a
//! `load` that does the IO once at start-up (so a corrupt model fails then, not at the first
//! call), and the shared conformance checks.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

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
    #[error("{0}")]
    Missing(String),
    /// The model or runtime failed to load or run.
    #[error("speech recognition failed: {0}")]
    Model(String),
    /// Every worker stayed busy past the queue limit.
    #[error("speech recognition is overloaded (waited {0:?} for a worker)")]
    Overloaded(Duration),
    /// The input cannot be recognised (empty, wrong rate).
    #[error("bad audio: {0}")]
    BadAudio(String),
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
