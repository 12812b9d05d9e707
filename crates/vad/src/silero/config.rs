//! Settings of the Silero backend: where the model and ONNX Runtime live, how many sessions.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::VadError;

pub use hotline_onnx::{MODELS_DIR_ENV, RUNTIME_FILE, default_models_dir};

/// Which of the two ONNX exports in the silero-vad 6.2.3 wheel to load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SileroVariant {
    /// `silero_vad.onnx` (opset 16, with `If` branches on the sample rate).
    #[default]
    Standard,
    /// `silero_vad_op18_ifless.onnx` (opset 18, no `If`; slightly cheaper in the research runs).
    Ifless,
}

impl SileroVariant {
    /// The model's file name in `<models>/silero/`.
    #[must_use]
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Standard => "silero_vad.onnx",
            Self::Ifless => "silero_vad_op18_ifless.onnx",
        }
    }
}

/// `type: silero`. Every path is optional: the defaults point into the models folder.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SileroConfig {
    /// Which model export to use.
    pub variant: SileroVariant,
    /// The models folder; default `$HOTLINE_MODELS_DIR`, else `./models`.
    pub models_dir: Option<PathBuf>,
    /// The model file; default `<models_dir>/silero/<variant file>`.
    pub model: Option<PathBuf>,
    /// The ONNX Runtime library; default `<models_dir>/onnxruntime/libonnxruntime.so.1.22.1`.
    /// One process loads one library: every Silero config in a process must agree.
    pub runtime: Option<PathBuf>,
    /// Sessions in the shared pool (each ≈ a few MB); default: the number of CPU cores, at most 8.
    pub sessions: Option<usize>,
}

/// Maximum pool size accepted by [`SileroConfig::validate`].
pub const MAX_SESSIONS: usize = 64;

impl SileroConfig {
    /// A config reading everything from `models_dir`.
    #[must_use]
    pub fn in_dir(models_dir: impl Into<PathBuf>) -> Self {
        Self {
            models_dir: Some(models_dir.into()),
            ..Self::default()
        }
    }

    /// Checks the values (no IO: file existence is checked by `build`).
    ///
    /// # Errors
    /// [`VadError::InvalidConfig`] for a pool size of 0 or above [`MAX_SESSIONS`], or an empty path.
    pub fn validate(&self) -> Result<(), VadError> {
        if let Some(n) = self.sessions
            && !(1..=MAX_SESSIONS).contains(&n)
        {
            return Err(VadError::InvalidConfig {
                field: "sessions",
                message: format!("{n} is not in 1..={MAX_SESSIONS}"),
            });
        }
        for (field, path) in [
            ("models_dir", &self.models_dir),
            ("model", &self.model),
            ("runtime", &self.runtime),
        ] {
            if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                return Err(VadError::InvalidConfig {
                    field,
                    message: "empty path".into(),
                });
            }
        }
        Ok(())
    }

    fn models_dir(&self) -> PathBuf {
        self.models_dir.clone().unwrap_or_else(default_models_dir)
    }

    /// The model file this config loads.
    #[must_use]
    pub fn model_path(&self) -> PathBuf {
        self.model.clone().unwrap_or_else(|| {
            self.models_dir()
                .join("silero")
                .join(self.variant.file_name())
        })
    }

    /// The ONNX Runtime library this config loads.
    #[must_use]
    pub fn runtime_path(&self) -> PathBuf {
        self.runtime
            .clone()
            .unwrap_or_else(|| self.models_dir().join("onnxruntime").join(RUNTIME_FILE))
    }

    /// The pool size to use.
    #[must_use]
    pub fn session_count(&self) -> usize {
        self.sessions.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .clamp(1, 8)
        })
    }
}
