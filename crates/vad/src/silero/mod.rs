//! Silero VAD v6 at 8 kHz through ONNX Runtime (the `ort` crate, `load-dynamic`).
//!
//! One [`SileroModel`] per process loads the ONNX Runtime library and the model into a small
//! pool of sessions (ORT's `Session::run` takes `&mut self`); every call's [`SileroVad`] keeps
//! only its own recurrent state (`state` [2,1,128]), the 32 context samples and a 256-sample
//! window buffer, and borrows a free session for each 32 ms window.
//!
//! Model tensors (8 kHz): `input` f32 [1, 32+256] (the previous window's last 32 samples, then
//! 256 new ones), `state` f32 [2,1,128], `sr` i64 scalar 8000 → `output` [1,1] (probability),
//! `stateN` (the next `state`). Inputs are bound by name, since `silero_vad_op18_ifless.onnx`
//! orders them `input, sr, state`.
//!
//! Batching (`batch.rs`): a driver can have every call's windows scored together, one batched
//! inference per few ms ([`SileroVad::with_prefetch`], [`SileroPrefetch`]); about 3× less CPU
//! per window (≈100 µs alone, ≈33 µs in batches of 32-64).
//!
//! Files come from `scripts/install-models.sh` (checksum-verified, from PyPI):
//! `models/silero/silero_vad.onnx`, `models/silero/silero_vad_op18_ifless.onnx` and
//! `models/onnxruntime/libonnxruntime.so.1.22.1`.

mod backend;
mod batch;
mod config;

pub use backend::{SileroModel, SileroPrefetch, SileroVad};
pub use batch::{MAX_BATCH, MAX_WAIT};
pub use config::{
    MAX_SESSIONS, MODELS_DIR_ENV, RUNTIME_FILE, SileroConfig, SileroVariant, default_models_dir,
};

/// Name used in reports.
pub const NAME: &str = "silero";

/// Samples per model window at 8 kHz (32 ms).
pub const WINDOW: usize = 256;
/// Samples of context carried from one window to the next at 8 kHz.
pub const CONTEXT: usize = 32;
