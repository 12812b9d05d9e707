//! The per-call media pipeline of Hotline, sans-IO.
//!
//! - [`endpoint`]: the end-of-turn state machine (VAD probabilities in; speech start/end,
//!   no-input and wall-cap decisions out), settings converted to frames once.
//! - [`pipeline`]: μ-law in, 20 ms frames through a [`Vad`] and the endpointer, pre-roll ring,
//!   utterance collection, barge-in with a backchannel guard, DTMF collection; events out.
//! - [`stream`]: a Twilio Media Streams session on top: WebSocket text frames in, outbound
//!   `media`/`mark`/`clear` messages and events out.
//!
//! Every machine has the same shape: `handle_*` inputs, `poll_event()`, `poll_timeout()`. Time
//! is the audio itself (160 μ-law bytes = 20 ms); the only wall clock is the one the driver
//! passes in for the turn's wall cap. Nothing here opens a socket, reads a clock, spawns a task
//! or takes a lock, so whole calls replay deterministically in tests, far faster than real time.
//!
//! ```
//! use hotline_voice::{Event, Pipeline, PipelineConfig, Vad};
//!
//! /// Speech wherever the signal is loud.
//! struct Loud;
//! impl Vad for Loud {
//!     fn process(&mut self, frame: &[i16]) -> f32 {
//!         let peak = frame.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
//!         if peak > 1000 { 1.0 } else { 0.0 }
//!     }
//!     fn reset(&mut self) {}
//!     fn name(&self) -> &'static str { "loud" }
//! }
//!
//! let mut pipeline = Pipeline::new(PipelineConfig::default(), Box::new(Loud)).unwrap();
//! let silence = [0xFFu8; 160]; // μ-law 0
//! let tone = [0x80u8; 160]; // μ-law +32124
//! for _ in 0..10 { pipeline.handle_media(&silence, None); }
//! for _ in 0..25 { pipeline.handle_media(&tone, None); } // 500 ms of "speech"
//! for _ in 0..40 { pipeline.handle_media(&silence, None); } // 800 ms of silence
//! let events: Vec<Event> = std::iter::from_fn(|| pipeline.poll_event()).collect();
//! assert!(matches!(events[0], Event::SpeechStarted { at_ms: 200 }));
//! assert!(matches!(events[1], Event::Utterance { started_ms: 200, ended_ms: 700, .. }));
//! ```

pub mod endpoint;
pub mod pipeline;
pub mod stream;

pub use endpoint::{ConfigError, EndReason, EndpointConfig, Endpointer, SpeechState};
/// The VAD interface (from `hotline-vad`): a speech probability per 20 ms frame.
pub use hotline_vad::Vad;
pub use pipeline::{DigitsEnd, DtmfConfig, Event, Pipeline, PipelineConfig, PipelineStats};
pub use stream::{SessionConfig, SessionEvent, SessionStats, StreamInfo, StreamSession};
