//! Errors from configuring and building detectors.

use std::path::PathBuf;

/// Why a VAD could not be configured or built. Each variant's doc says what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VadError {
    /// A setting is out of range. Fix the bot's `vad` section as the message says.
    #[error("invalid vad setting `{field}`: {message}")]
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A model or runtime file is not installed. Run `scripts/install-models.sh`
    /// (later `hotline models install`), or point the config at the file.
    #[error(
        "{what} not found at {}: run `scripts/install-models.sh` (or `hotline models install`) \
         to download it, or set its path in the vad config / HOTLINE_MODELS_DIR",
        path.display()
    )]
    MissingFile {
        /// Which file ("Silero model", "ONNX Runtime library").
        what: &'static str,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The ONNX Runtime shared library could not be loaded (wrong file, wrong version, or a
    /// different library was already loaded by this process). Reinstall it with
    /// `scripts/install-models.sh`; every config in one process must name the same library.
    #[error("cannot load ONNX Runtime from {}: {message}", path.display())]
    Runtime {
        /// The library path.
        path: PathBuf,
        /// The loader's message.
        message: String,
    },
    /// The model file is corrupt or is not a Silero VAD v6 model. Reinstall it with
    /// `scripts/install-models.sh` (it verifies checksums).
    #[error("cannot load the Silero model {}: {message}", path.display())]
    Model {
        /// The model path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}
