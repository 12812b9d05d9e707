//! The VAD interface this crate codes against, until `hotline-vad` lands.
//!
//! TODO(vad): identical to the trait another engineer is writing in `crates/vad`; replace this
//! module with `pub use hotline_vad::Vad;` in `lib.rs` once that crate is committed. It must
//! not grow anything the real trait does not have.

/// A voice activity detector for 8 kHz telephone audio.
pub trait Vad: Send {
    /// Speech probability (`0.0..=1.0`) of a 20 ms frame of 8 kHz PCM (any length accepted).
    fn process(&mut self, frame: &[i16]) -> f32;
    /// Forgets all state, as for a new stream.
    fn reset(&mut self);
    /// A short name for logs and benches.
    fn name(&self) -> &'static str;
}
