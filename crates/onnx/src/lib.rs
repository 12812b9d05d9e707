//! The process-wide ONNX Runtime and the models folder, shared by every model Hotline runs
//! (Silero VAD, Moonshine ASR, sentence embeddings).
//!
//! `ort` with `load-dynamic` loads one `libonnxruntime.so` per process, at run time; it is never
//! downloaded at build time. [`runtime`] loads it once and hands out the environment; every
//! later call must name the same library. The files come from `scripts/install-models.sh`
//! (checksum-verified, from PyPI only) into [`default_models_dir`].

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

pub use ort;
use ort::environment::Environment;

/// Environment variable that moves the models folder (as for `scripts/install-models.sh`).
pub const MODELS_DIR_ENV: &str = "HOTLINE_MODELS_DIR";
/// File name of the ONNX Runtime library inside `<models>/onnxruntime/`.
pub const RUNTIME_FILE: &str = "libonnxruntime.so.1.22.1";
/// The command that installs every model file.
pub const INSTALL_COMMAND: &str = "scripts/install-models.sh";

/// The models folder: `$HOTLINE_MODELS_DIR` if set, else `models` (relative to the working
/// directory).
pub fn default_models_dir() -> PathBuf {
    std::env::var_os(MODELS_DIR_ENV).map_or_else(|| PathBuf::from("models"), PathBuf::from)
}

/// The ONNX Runtime library inside `models_dir`.
pub fn runtime_path(models_dir: &Path) -> PathBuf {
    models_dir.join("onnxruntime").join(RUNTIME_FILE)
}

/// Why the runtime could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The library file is absent.
    #[error("the ONNX Runtime library {} is missing; install it with `{INSTALL_COMMAND}`", path.display())]
    Missing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// Another library was loaded first.
    #[error("this process already loaded ONNX Runtime from {}; use the same runtime path in every config (asked for {})", loaded.display(), path.display())]
    Conflict {
        /// The library loaded first.
        loaded: PathBuf,
        /// The library asked for now.
        path: PathBuf,
    },
    /// The library did not load or initialise.
    #[error("cannot load ONNX Runtime from {}: {message}", path.display())]
    Load {
        /// The library.
        path: PathBuf,
        /// ONNX Runtime's message.
        message: String,
    },
}

/// The process-wide ONNX Runtime: `load-dynamic` can load one library per process.
static RUNTIME: Mutex<Option<(PathBuf, Environment)>> = Mutex::new(None);

/// Loads (once) the ONNX Runtime library at `path` and returns the process environment.
///
/// # Errors
/// [`RuntimeError::Missing`] when the file is absent, [`RuntimeError::Conflict`] when another
/// library was loaded first, [`RuntimeError::Load`] when it does not load.
pub fn runtime(path: &Path) -> Result<Environment, RuntimeError> {
    let wanted = path.canonicalize().map_err(|_| RuntimeError::Missing {
        path: path.to_path_buf(),
    })?;
    let mut slot = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((loaded, env)) = slot.as_ref() {
        if *loaded == wanted {
            return Ok(env.clone());
        }
        return Err(RuntimeError::Conflict {
            loaded: loaded.clone(),
            path: path.to_path_buf(),
        });
    }
    let load_error = |message: String| RuntimeError::Load {
        path: path.to_path_buf(),
        message,
    };
    let env = ort::init_from(&wanted)
        .map_err(|e| load_error(e.to_string()))?
        .with_name("hotline")
        .build()
        .map_err(|e| load_error(e.to_string()))?;
    *slot = Some((wanted, env.clone()));
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_names_the_install_command() {
        let Err(e) = runtime(Path::new("/nonexistent/libonnxruntime.so")) else {
            panic!("a missing library must fail");
        };
        assert!(matches!(e, RuntimeError::Missing { .. }));
        assert!(e.to_string().contains(INSTALL_COMMAND), "{e}");
    }

    #[test]
    fn the_runtime_lives_in_the_models_folder() {
        assert_eq!(
            runtime_path(Path::new("/m")),
            Path::new("/m/onnxruntime/libonnxruntime.so.1.22.1")
        );
    }
}
