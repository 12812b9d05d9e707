//! The caller's voice: turns scripted words and WAV files into 8 kHz mu-law audio for media
//! streams.
//!
//! Words are synthesised by a local text-to-speech program when one is installed: `flite`
//! (natural-sounding, English) is preferred, `espeak-ng` (many languages) is the fallback and is
//! used for non-English languages. Nothing is downloaded; when neither program exists the error
//! says how to install one or to use `--audio FILE.wav` instead.

use hotline_audio::wav::{read_wav, to_telephone_ulaw};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::script::Step;

/// Why audio for the caller could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoiceError {
    /// No synthesiser is installed.
    #[error(
        "cannot speak \"{0}\" into a media stream: neither flite nor espeak-ng is installed \
         (install one with `apt-get install flite espeak-ng`, or script the caller with `--audio FILE.wav`)"
    )]
    NoSynthesiser(String),
    /// The synthesiser failed.
    #[error("text-to-speech failed for \"{text}\": {message}")]
    Synthesis {
        /// The words.
        text: String,
        /// What went wrong.
        message: String,
    },
    /// A WAV file could not be used.
    #[error("cannot use audio file {path}: {message}")]
    Audio {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

/// Synthesised phrases by (language, text).
type PhraseCache = HashMap<(String, String), Arc<Vec<u8>>>;

/// The largest caller audio file read: an hour of 16-bit stereo at 48 kHz, far more than any
/// call needs, and a bound on what a wrong path (a disk image, a video) makes us allocate.
pub const MAX_AUDIO_FILE_BYTES: u64 = 3600 * 48_000 * 4;

/// A caller's WAV file, read whole if it is not larger than [`MAX_AUDIO_FILE_BYTES`].
fn read_audio_file(path: &Path) -> Result<Vec<u8>, String> {
    let len = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if len > MAX_AUDIO_FILE_BYTES {
        return Err(format!(
            "{len} bytes, more than the {MAX_AUDIO_FILE_BYTES} a caller's audio may have"
        ));
    }
    std::fs::read(path).map_err(|e| e.to_string())
}

/// How long each audio step's WAV file plays, for `<Gather>` and `<Record>` timing and the
/// `RecordingDuration`. A file that cannot be read is left out: a media stream reports it when
/// it plays, and `<Gather>` and `<Record>` time the step by its words instead.
pub fn audio_lengths(steps: &[Step]) -> HashMap<PathBuf, Duration> {
    steps
        .iter()
        .filter_map(|step| match step {
            Step::Audio { path, .. } => {
                let wav = read_audio_file(path).ok().and_then(|b| read_wav(&b).ok())?;
                let secs = wav.frames() as f64 / f64::from(wav.sample_rate.max(1));
                Some((path.clone(), Duration::from_secs_f64(secs)))
            }
            _ => None,
        })
        .collect()
}

/// Produces caller audio, caching synthesised phrases.
#[derive(Debug, Default, Clone)]
pub struct Voice {
    cache: Arc<Mutex<PhraseCache>>,
}

impl Voice {
    /// A voice with an empty cache.
    pub fn new() -> Self {
        Voice::default()
    }

    /// Reads a WAV file and converts it to 8 kHz mu-law.
    pub fn file(&self, path: &Path) -> Result<Arc<Vec<u8>>, VoiceError> {
        let bytes = read_audio_file(path).map_err(|message| VoiceError::Audio {
            path: path.to_owned(),
            message,
        })?;
        let wav = read_wav(&bytes).map_err(|e| VoiceError::Audio {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        to_telephone_ulaw(&wav)
            .map(Arc::new)
            .map_err(|e| VoiceError::Audio {
                path: path.to_owned(),
                message: e.to_string(),
            })
    }

    /// Speaks `text` in `language` (BCP-47, e.g. `en-US`, `fr-FR`) as 8 kHz mu-law.
    pub async fn speak(&self, text: &str, language: &str) -> Result<Arc<Vec<u8>>, VoiceError> {
        let key = (language.to_owned(), text.to_owned());
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(hit);
        }
        let english = language.to_ascii_lowercase().starts_with("en");
        let mut engines: Vec<&str> = Vec::new();
        if english && which("flite") {
            engines.push("flite");
        }
        if which("espeak-ng") {
            engines.push("espeak-ng");
        }
        let Some(engine) = engines.first().copied() else {
            return Err(VoiceError::NoSynthesiser(text.to_owned()));
        };
        let out =
            std::env::temp_dir().join(format!("hotline-tts-{}.wav", crate::ids::random_hex(8)));
        let mut cmd = tokio::process::Command::new(engine);
        if engine == "flite" {
            cmd.arg("-voice")
                .arg("slt")
                .arg("-t")
                .arg(text)
                .arg("-o")
                .arg(&out);
        } else {
            let voice = language
                .split(['-', '_'])
                .next()
                .unwrap_or("en")
                .to_ascii_lowercase();
            cmd.arg("-v")
                .arg(voice)
                .arg("-s")
                .arg("150")
                .arg("-w")
                .arg(&out)
                .arg("--")
                .arg(text);
        }
        let status = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .output()
            .await
            .map_err(|e| VoiceError::Synthesis {
                text: text.to_owned(),
                message: format!("{engine}: {e}"),
            })?;
        if !status.status.success() {
            let _ = std::fs::remove_file(&out);
            return Err(VoiceError::Synthesis {
                text: text.to_owned(),
                message: format!(
                    "{engine} exited with {}: {}",
                    status.status,
                    String::from_utf8_lossy(&status.stderr).trim()
                ),
            });
        }
        let audio = self.file(&out);
        let _ = std::fs::remove_file(&out);
        let audio = audio.map_err(|e| VoiceError::Synthesis {
            text: text.to_owned(),
            message: e.to_string(),
        })?;
        if let Ok(mut c) = self.cache.lock() {
            c.insert(key, audio.clone());
        }
        Ok(audio)
    }
}

/// Whether a program is on the PATH.
pub fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn audio_steps_are_timed_by_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("caller.wav");
        // 1.5 s at 16 kHz, stereo: frames, not samples, make the length.
        std::fs::write(
            &wav,
            hotline_audio::wav::write_wav_pcm16(16_000, 2, &[0; 48_000]),
        )
        .unwrap();
        let missing = dir.path().join("missing.wav");
        let not_wav = dir.path().join("notes.txt");
        std::fs::write(&not_wav, "hello").unwrap();
        let audio = |path: &PathBuf| Step::Audio {
            path: path.clone(),
            text: None,
        };
        // Larger than any caller's audio (a sparse file: nothing is written).
        let huge = dir.path().join("huge.wav");
        std::fs::File::create(&huge)
            .unwrap()
            .set_len(MAX_AUDIO_FILE_BYTES + 1)
            .unwrap();
        let lengths = audio_lengths(&[
            audio(&wav),
            Step::Hangup,
            audio(&missing),
            audio(&not_wav),
            audio(&huge),
        ]);
        assert_eq!(lengths, HashMap::from([(wav, Duration::from_millis(1500))]));
        let refused = Voice::new().file(&huge).unwrap_err().to_string();
        assert!(refused.contains("more than the"), "{refused}");
    }
}
