//! Settings of the Moonshine backend (`type: moonshine`): where the model and ONNX Runtime live,
//! the worker pool, and utterance limits. `validate` is pure; files are checked at load.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::AsrError;

pub use hotline_onnx::{INSTALL_COMMAND, MODELS_DIR_ENV, default_models_dir};

/// The converted model's folder inside the models folder.
pub const MODEL_DIR_NAME: &str = "moonshine-base-en-q8";
/// Files the model folder must hold.
pub const MODEL_FILES: [&str; 5] = [
    "encoder_model.onnx",
    "encoder_model.onnx.data",
    "decoder_model_merged.onnx",
    "decoder_model_merged.onnx.data",
    "tokenizer.bin",
];
/// Most workers [`MoonshineConfig::validate`] accepts (each holds ≈ 150–300 MB of sessions).
pub const MAX_WORKERS: usize = 16;
/// Most encoder threads per worker [`MoonshineConfig::validate`] accepts.
pub const MAX_THREADS: usize = 16;
/// Default number of workers at most (the number of cores, capped here).
pub const DEFAULT_MAX_WORKERS: usize = 4;
/// Longest `max_utterance_ms` accepted (Moonshine is trained on utterances up to ~30 s).
pub const MAX_UTTERANCE_LIMIT_MS: u64 = 30_000;

/// `type: moonshine`. Every field is optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MoonshineConfig {
    /// The models folder; default `$HOTLINE_MODELS_DIR`, else `./models`.
    pub models_dir: Option<PathBuf>,
    /// The folder with the int8 model and tokenizer; default `<models_dir>/moonshine-base-en-q8`.
    pub model_dir: Option<PathBuf>,
    /// The ONNX Runtime library; default `<models_dir>/onnxruntime/libonnxruntime.so.1.22.1`.
    pub runtime: Option<PathBuf>,
    /// Worker threads, each with its own sessions; default: the number of cores, at most 4.
    pub workers: Option<usize>,
    /// Threads a worker's encoder pass uses (ONNX Runtime intra-op threads; the decoder's
    /// steps use one); default 2 (1 on a single core). Measured on 2 cores over 90 runs of
    /// 3 s utterances, one call at a time: p95 133–141 ms with 2 threads, 146–155 ms with 1;
    /// 8 calls at once: the same p95 (about 430 ms), about 8 % more CPU.
    pub encoder_threads: Option<usize>,
    /// Utterances that may wait for a worker (beyond this, `Overloaded` at once).
    pub queue: usize,
    /// Longest wait for a worker before `Overloaded`, in milliseconds.
    pub max_queue_wait_ms: u64,
    /// Longer utterances are truncated to this, in milliseconds.
    pub max_utterance_ms: u64,
    /// Utterances shorter than this are padded with silence on both sides, in milliseconds.
    pub pad_below_ms: u64,
    /// Silence added on each side of a short utterance, in milliseconds.
    pub pad_ms: u64,
    /// An utterance quieter than this RMS (dBFS) counts as silence and gives an empty text.
    pub silence_dbfs: f32,
    /// Tokens decoded at most per second of audio (and never fewer than 10).
    pub tokens_per_second: f32,
}

impl Default for MoonshineConfig {
    fn default() -> Self {
        Self {
            models_dir: None,
            model_dir: None,
            runtime: None,
            workers: None,
            encoder_threads: None,
            queue: 64,
            max_queue_wait_ms: 5_000,
            max_utterance_ms: 20_000,
            pad_below_ms: 600,
            pad_ms: 300,
            silence_dbfs: -55.0,
            tokens_per_second: 6.5,
        }
    }
}

impl MoonshineConfig {
    /// A config reading everything from `models_dir`.
    #[must_use]
    pub fn in_dir(models_dir: impl Into<PathBuf>) -> Self {
        Self {
            models_dir: Some(models_dir.into()),
            ..Self::default()
        }
    }

    /// Checks the values (no IO: files are checked by [`super::Moonshine::load`]).
    ///
    /// # Errors
    /// [`AsrError::Config`] naming the first field out of range or an empty path.
    pub fn validate(&self) -> Result<(), AsrError> {
        let bad = |field: &'static str, message: String| Err(AsrError::Config { field, message });
        if let Some(n) = self.workers
            && !(1..=MAX_WORKERS).contains(&n)
        {
            return bad("workers", format!("{n} is not in 1..={MAX_WORKERS}"));
        }
        if let Some(n) = self.encoder_threads
            && !(1..=MAX_THREADS).contains(&n)
        {
            return bad(
                "encoder_threads",
                format!("{n} is not in 1..={MAX_THREADS}"),
            );
        }
        if !(1..=100_000).contains(&self.queue) {
            return bad("queue", format!("{} is not in 1..=100000", self.queue));
        }
        if self.max_queue_wait_ms == 0 {
            return bad("max_queue_wait_ms", "must be above 0".into());
        }
        if !(1_000..=MAX_UTTERANCE_LIMIT_MS).contains(&self.max_utterance_ms) {
            return bad(
                "max_utterance_ms",
                format!(
                    "{} is not in 1000..={MAX_UTTERANCE_LIMIT_MS}",
                    self.max_utterance_ms
                ),
            );
        }
        if self.pad_below_ms > 5_000 || self.pad_ms > 2_000 {
            return bad(
                "pad_below_ms",
                "pad_below_ms must be at most 5000 and pad_ms at most 2000".into(),
            );
        }
        if !(-120.0..=0.0).contains(&self.silence_dbfs) {
            return bad(
                "silence_dbfs",
                format!("{} is not in -120..=0", self.silence_dbfs),
            );
        }
        if !(1.0..=50.0).contains(&self.tokens_per_second) {
            return bad(
                "tokens_per_second",
                format!("{} is not in 1..=50", self.tokens_per_second),
            );
        }
        for (field, path) in [
            ("models_dir", &self.models_dir),
            ("model_dir", &self.model_dir),
            ("runtime", &self.runtime),
        ] {
            if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                return bad(field, "empty path".into());
            }
        }
        Ok(())
    }

    fn models_dir(&self) -> PathBuf {
        self.models_dir.clone().unwrap_or_else(default_models_dir)
    }

    /// The folder the model files are read from.
    #[must_use]
    pub fn model_dir(&self) -> PathBuf {
        self.model_dir
            .clone()
            .unwrap_or_else(|| self.models_dir().join(MODEL_DIR_NAME))
    }

    /// The ONNX Runtime library this config loads.
    #[must_use]
    pub fn runtime_path(&self) -> PathBuf {
        self.runtime
            .clone()
            .unwrap_or_else(|| hotline_onnx::runtime_path(&self.models_dir()))
    }

    /// The number of workers to start.
    #[must_use]
    pub fn worker_count(&self) -> usize {
        self.workers.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .clamp(1, DEFAULT_MAX_WORKERS)
        })
    }

    /// Threads of each worker's encoder pass.
    #[must_use]
    pub fn encoder_thread_count(&self) -> usize {
        self.encoder_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(2)))
    }

    /// Longest wait for a worker.
    #[must_use]
    pub fn max_queue_wait(&self) -> Duration {
        Duration::from_millis(self.max_queue_wait_ms)
    }

    /// Utterance limits in 8 kHz samples.
    pub(crate) fn shape(&self) -> crate::prepare::Shape {
        let samples = |ms: u64| {
            usize::try_from(ms * u64::from(crate::SAMPLE_RATE) / 1000).unwrap_or(usize::MAX)
        };
        crate::prepare::Shape {
            max_samples: samples(self.max_utterance_ms),
            pad_below: samples(self.pad_below_ms),
            pad_each_side: samples(self.pad_ms),
            silence_rms: 32_768.0 * 10f32.powf(self.silence_dbfs / 20.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_point_into_the_models_folder() {
        let c = MoonshineConfig::in_dir("/m");
        c.validate().unwrap();
        assert_eq!(c.model_dir(), PathBuf::from("/m/moonshine-base-en-q8"));
        assert_eq!(
            c.runtime_path(),
            PathBuf::from("/m/onnxruntime/libonnxruntime.so.1.22.1")
        );
        assert!((1..=DEFAULT_MAX_WORKERS).contains(&c.worker_count()));
        let shape = c.shape();
        assert_eq!(shape.max_samples, 160_000);
        assert_eq!(shape.pad_below, 4_800);
        assert_eq!(shape.pad_each_side, 2_400);
        assert!(
            (shape.silence_rms - 58.3).abs() < 0.5,
            "{}",
            shape.silence_rms
        );
    }

    #[test]
    fn out_of_range_values_name_their_field() {
        for (config, field) in [
            (
                MoonshineConfig {
                    workers: Some(0),
                    ..MoonshineConfig::default()
                },
                "workers",
            ),
            (
                MoonshineConfig {
                    queue: 0,
                    ..MoonshineConfig::default()
                },
                "queue",
            ),
            (
                MoonshineConfig {
                    max_utterance_ms: 60_000,
                    ..MoonshineConfig::default()
                },
                "max_utterance_ms",
            ),
            (
                MoonshineConfig {
                    max_queue_wait_ms: 0,
                    ..MoonshineConfig::default()
                },
                "max_queue_wait_ms",
            ),
            (
                MoonshineConfig {
                    silence_dbfs: 3.0,
                    ..MoonshineConfig::default()
                },
                "silence_dbfs",
            ),
            (
                MoonshineConfig {
                    model_dir: Some(PathBuf::new()),
                    ..MoonshineConfig::default()
                },
                "model_dir",
            ),
        ] {
            match config.validate() {
                Err(AsrError::Config { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn parses_from_json_with_defaults() {
        let c: MoonshineConfig =
            serde_json::from_str(r#"{"workers": 2, "max_utterance_ms": 10000}"#).unwrap();
        assert_eq!(c.workers, Some(2));
        assert_eq!(c.max_utterance_ms, 10_000);
        assert_eq!(c.queue, 64);
        assert!(serde_json::from_str::<MoonshineConfig>(r#"{"wokers": 2}"#).is_err());
    }
}
