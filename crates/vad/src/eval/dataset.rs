//! The labelled set: telephone clips with their speech intervals.
//!
//! On disk (see `tests/fixtures/generate.sh`): `<call>.<condition>.wav` (8 kHz mono, mu-law or
//! PCM) next to `<call>.<condition>.labels.tsv`, one utterance per line:
//! `start_ms<TAB>end_ms<TAB>text`.

use std::path::{Path, PathBuf};

use crate::SAMPLE_RATE;

/// A labelled speech interval, in milliseconds from the start of the clip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    /// Start of speech.
    pub start_ms: u32,
    /// End of speech.
    pub end_ms: u32,
}

impl Interval {
    /// Whether `t_ms` falls inside `[start, end)`.
    #[must_use]
    pub fn contains(&self, t_ms: u32) -> bool {
        self.start_ms <= t_ms && t_ms < self.end_ms
    }
}

/// One clip: 8 kHz samples and the utterances in it.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledClip {
    /// Call name (`call1`).
    pub name: String,
    /// Condition (`clean`, `snr20`, `snr10`, `music`, …).
    pub condition: String,
    /// 8 kHz 16-bit mono samples.
    pub samples: Vec<i16>,
    /// Labelled utterances, in order.
    pub speech: Vec<Interval>,
}

/// A set of labelled clips.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelledSet {
    /// The clips, sorted by condition then name.
    pub clips: Vec<LabelledClip>,
}

/// Why a labelled set could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// A file could not be read. Check the path (the set lives in `crates/vad/tests/fixtures`).
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A WAV file is invalid or not 8 kHz. Regenerate the set with `generate.sh`.
    #[error("{}: {message}", path.display())]
    Audio {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A label line is malformed. Lines are `start_ms<TAB>end_ms<TAB>text` with start < end.
    #[error("{}:{line}: {message}", path.display())]
    Label {
        /// The label file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl LabelledSet {
    /// Loads every `<call>.<condition>.wav` that has a `.labels.tsv` beside it.
    ///
    /// # Errors
    /// [`EvalError`] for an unreadable folder or file, a bad WAV, or a malformed label.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Self, EvalError> {
        let dir = dir.as_ref();
        let mut clips = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
                continue;
            };
            let Some(stem) = file.strip_suffix(".wav") else {
                continue;
            };
            let labels = dir.join(format!("{stem}.labels.tsv"));
            if !labels.is_file() {
                continue;
            }
            let (name, condition) = stem.rsplit_once('.').unwrap_or((stem, "unknown"));
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            let wav = hotline_audio::read_wav(&bytes).map_err(|e| EvalError::Audio {
                path: path.clone(),
                message: e.to_string(),
            })?;
            if wav.sample_rate != SAMPLE_RATE {
                return Err(EvalError::Audio {
                    path,
                    message: format!("{} Hz, expected {SAMPLE_RATE}", wav.sample_rate),
                });
            }
            let text = std::fs::read_to_string(&labels).map_err(io(&labels))?;
            clips.push(LabelledClip {
                name: name.to_owned(),
                condition: condition.to_owned(),
                samples: wav.to_mono(),
                speech: parse_labels(&labels, &text)?,
            });
        }
        clips.sort_by(|a, b| (&a.condition, &a.name).cmp(&(&b.condition, &b.name)));
        Ok(Self { clips })
    }

    /// The conditions present, in first-seen order of the sorted clips.
    #[must_use]
    pub fn conditions(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in &self.clips {
            if !out.contains(&c.condition.as_str()) {
                out.push(&c.condition);
            }
        }
        out
    }

    /// Only the clips of one condition.
    #[must_use]
    pub fn only(&self, condition: &str) -> Self {
        Self {
            clips: self
                .clips
                .iter()
                .filter(|c| c.condition == condition)
                .cloned()
                .collect(),
        }
    }
}

/// Maps an IO error on `path`.
fn io(path: &Path) -> impl Fn(std::io::Error) -> EvalError + '_ {
    move |source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Parses `start_ms<TAB>end_ms[<TAB>text]` lines; blank lines and `#` comments are skipped.
fn parse_labels(path: &Path, text: &str) -> Result<Vec<Interval>, EvalError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |message: String| EvalError::Label {
            path: path.to_path_buf(),
            line: i + 1,
            message,
        };
        let mut fields = line.split('\t');
        let mut num = |what: &str| -> Result<u32, EvalError> {
            let f = fields
                .next()
                .ok_or_else(|| err(format!("missing {what}")))?;
            f.trim()
                .parse()
                .map_err(|_| err(format!("{what} `{f}` is not a number of ms")))
        };
        let start_ms = num("start")?;
        let end_ms = num("end")?;
        if start_ms >= end_ms {
            return Err(err(format!("start {start_ms} is not before end {end_ms}")));
        }
        out.push(Interval { start_ms, end_ms });
    }
    Ok(out)
}
