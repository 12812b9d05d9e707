//! Why the embedding model could not be loaded or run. Every variant says the remedy; a missing or
//! corrupt model is reported at load (start-up), never at the first utterance.

use std::path::PathBuf;

use crate::INSTALL_COMMAND;

/// Why [`crate::MiniLm::load`] (or an embedding call) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbedError {
    /// A model file is absent: the models were never installed, or `HOTLINE_MODELS_DIR` points
    /// elsewhere. Remedy: run the install command, or fix the models folder setting.
    #[error("the all-MiniLM-L6-v2 file {} is missing; install the models with `{INSTALL_COMMAND}` (or set HOTLINE_MODELS_DIR to the folder that has them)", path.display())]
    Missing {
        /// The file that was looked for.
        path: PathBuf,
    },
    /// A model file exists but could not be read (permissions, I/O error). Remedy: check the file
    /// and its folder, then reinstall with the install command.
    #[error("cannot read the all-MiniLM-L6-v2 file {}: {source}; reinstall the models with `{INSTALL_COMMAND}`", path.display())]
    Io {
        /// The file being read.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A model file is truncated, damaged, or not all-MiniLM-L6-v2 (a tensor is missing or has the
    /// wrong shape or type, the vocabulary lacks a special token, …). Remedy: reinstall it with the
    /// install command, which verifies every file's sha256.
    #[error("the all-MiniLM-L6-v2 file {} is corrupt or not the expected model ({reason}); reinstall the models with `{INSTALL_COMMAND}`", path.display())]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
}

impl EmbedError {
    pub(crate) fn corrupt(path: &std::path::Path, reason: impl Into<String>) -> Self {
        Self::Corrupt {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            Self::Missing {
                path: path.to_path_buf(),
            }
        } else {
            Self::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}
