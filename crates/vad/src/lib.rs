//! Voice activity detection (VAD) for 8 kHz, 16-bit mono telephone audio.
//!
//! Every detector implements [`Vad`]: feed it 20 ms frames (any length works; each backend
//! buffers internally to its own window), get back a speech probability for the latest window.
//! Detectors are sans-IO: no clocks, no threads, no sockets; time is the sample count.
//!
//! Backends, selected per bot by [`VadConfig`] (a `type`-tagged serde enum):
//! - [`energy`]: the seed's RMS threshold, kept only as a baseline;
//! - [`webrtc`]: the WebRTC GMM VAD (libfvad), ported to safe Rust; cheapest, fails in noise;
//! - [`silero`]: Silero VAD v6 through ONNX Runtime; the default, the only one that survives
//!   10 dB SNR. Its model and runtime come from `scripts/install-models.sh`.
//!
//! [`VadConfig::validate`] is pure; [`VadConfig::build`] does the IO (loading the model) once
//! and returns a [`VadFactory`] that hands out one cheap detector per call.
//!
//! [`eval`] scores detectors against the labelled telephone set in `tests/fixtures`.

pub mod config;
pub mod energy;
mod error;
pub mod eval;
mod reframe;
pub mod silero;
pub mod webrtc;

pub use config::{VadConfig, VadFactory};
pub use error::VadError;

/// Sample rate every detector expects, in Hz.
pub const SAMPLE_RATE: u32 = 8_000;
/// Samples in one 20 ms frame at 8 kHz, the size Twilio usually sends.
pub const FRAME_SAMPLES: usize = 160;

/// Voice activity detection on 8 kHz 16-bit mono telephone audio, one 20 ms frame (160 samples) at a time.
///
/// Frames of other lengths are accepted (Twilio does not guarantee 160 samples): each
/// implementation buffers samples into its own analysis window and returns the probability of
/// the most recent complete window (0.0 before the first window is complete).
/// Implementations are deterministic: the same samples after [`Vad::reset`] give the same output.
pub trait Vad: Send {
    /// Speech probability (0.0–1.0) for the frame just given (a VAD that decides on longer windows reports its latest window's score).
    fn process(&mut self, frame: &[i16]) -> f32;
    /// Forget all state (a new utterance or call).
    fn reset(&mut self);
    /// A short name for reports ("energy", "webrtc", "silero").
    fn name(&self) -> &'static str;
}

impl<V: Vad + ?Sized> Vad for Box<V> {
    fn process(&mut self, frame: &[i16]) -> f32 {
        (**self).process(frame)
    }
    fn reset(&mut self) {
        (**self).reset();
    }
    fn name(&self) -> &'static str {
        (**self).name()
    }
}
