//! The caller's script: what the emulated caller says, presses and does, in order.
//!
//! A script is a queue of [`Step`]s consumed by whatever is listening: a `<Gather>` or
//! `<Record>` takes the next step as its input, a media stream turns steps into audio. Silence
//! is a step with a duration, so a script is also a timeline: a 10 s silence met by a 5 s
//! `<Gather timeout>` times that gather out and leaves 5 s of silence for whatever listens next.
//!
//! Scenario files (YAML) wrap a script with call parameters and expectations. This module is
//! pure: no I/O except [`Scenario::load`], which reads the file it is given.

use crate::duration::parse_duration;
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One thing the caller does.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Speak these words. Over `<Gather>` they become `SpeechResult`; over a media stream they
    /// are synthesised to audio (flite or espeak-ng).
    Say {
        /// The words.
        text: String,
        /// The recognition confidence Twilio reports, if not the scenario's default.
        confidence: Option<f32>,
    },
    /// Press keys (`0-9`, `*`, `#`).
    Press(String),
    /// Stay silent this long.
    Silence(Duration),
    /// Play a WAV file into the call. `text` is what it says, used as `SpeechResult`.
    Audio {
        /// The WAV file.
        path: PathBuf,
        /// The words spoken in it, if known.
        text: Option<String>,
    },
    /// On a media stream: stay silent until the application has said something (and finished
    /// saying it), or until the duration runs out. Ignored by `<Gather>`.
    Listen(Duration),
    /// Hang up.
    Hangup,
}

impl Step {
    /// A short human description for transcripts.
    pub fn describe(&self) -> String {
        match self {
            Step::Say { text, .. } => format!("says \"{text}\""),
            Step::Press(d) => format!("presses {d}"),
            Step::Silence(d) => format!("stays silent {}", crate::duration::fmt_duration(*d)),
            Step::Audio { path, .. } => format!("plays {}", path.display()),
            Step::Listen(d) => format!("listens (up to {})", crate::duration::fmt_duration(*d)),
            Step::Hangup => "hangs up".to_owned(),
        }
    }
}

/// The caller's remaining steps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Script {
    steps: VecDeque<Step>,
    /// How long each audio step's file plays, where it could be read.
    audio_lengths: HashMap<PathBuf, Duration>,
}

impl Script {
    /// A script of these steps, in order.
    pub fn new(steps: impl IntoIterator<Item = Step>) -> Self {
        Script {
            steps: steps.into_iter().collect(),
            audio_lengths: HashMap::new(),
        }
    }
    /// The same script, knowing how long its audio files play (measured at the edge, when the
    /// call starts).
    pub fn with_audio_lengths(mut self, lengths: HashMap<PathBuf, Duration>) -> Self {
        self.audio_lengths = lengths;
        self
    }
    /// How long an audio step's file plays, if it was measured.
    pub fn audio_length(&self, path: &Path) -> Option<Duration> {
        self.audio_lengths.get(path).copied()
    }
    /// Takes the next step.
    pub fn pop(&mut self) -> Option<Step> {
        self.steps.pop_front()
    }
    /// Puts a step back at the front (the unconsumed rest of a silence).
    pub fn push_front(&mut self, step: Step) {
        self.steps.push_front(step);
    }
    /// Looks at the next step.
    pub fn peek(&self) -> Option<&Step> {
        self.steps.front()
    }
    /// Whether every step has been consumed.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
    /// Steps left.
    pub fn len(&self) -> usize {
        self.steps.len()
    }
}

/// What a scenario expects of the call; checked against the transcript when it ends.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Expectation {
    /// Some `<Say>` text or `<Play>` URL heard contains this (case-insensitive).
    Heard(String),
    /// No `<Say>` text or `<Play>` URL heard contains this.
    NotHeard(String),
    /// The call reached a `<Dial>` whose target contains this.
    Dialed(String),
    /// The call was put in a queue whose name contains this.
    Enqueued(String),
    /// Some request URL the emulator made contains this.
    Requested(String),
    /// Some `SpeechResult` posted equals this (case-insensitive).
    SpeechPosted(String),
    /// Some `Digits` posted equals this.
    DigitsPosted(String),
    /// How the call ended: `hangup`, `caller-hangup`, `completed`, `dial`, `enqueue`,
    /// `reject`, `application-error`, `rest-completed`, `limit`.
    EndedBy(String),
    /// The call lasted at most this long (emulated time), e.g. `90s`.
    MaxDuration(String),
}

/// A scenario file: call parameters, the caller's script and expectations.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A name for reports.
    #[serde(default)]
    pub name: Option<String>,
    /// The voice URL to call (the command line may override it).
    #[serde(default)]
    pub url: Option<String>,
    /// Instead of `url`: a local TwiML Bin file, relative to the scenario file.
    #[serde(default)]
    pub bin: Option<PathBuf>,
    /// Instead of `url`: a flow file, relative to the scenario file, served for the call by
    /// `hotline call` itself.
    #[serde(default)]
    pub flow: Option<PathBuf>,
    /// With `flow`: intent engines for its `intent:` routes, `NAME=BOT.yaml` as `hotline serve
    /// --intents` takes them, the bot file relative to the scenario file.
    #[serde(default)]
    pub intents: Vec<String>,
    /// How every `<Dial>` of the call ends: `completed` (the default), `busy`, `no-answer` or
    /// `failed`; the command line's `--dial-outcome` overrides it.
    #[serde(default)]
    pub dial_outcome: Option<String>,
    /// HTTP method for the voice URL (default POST).
    #[serde(default)]
    pub method: Option<String>,
    /// `From`.
    #[serde(default)]
    pub from: Option<String>,
    /// `To`.
    #[serde(default)]
    pub to: Option<String>,
    /// Default recognition confidence for speech.
    #[serde(default)]
    pub confidence: Option<f32>,
    /// The caller hangs up this long after answering (e.g. `30s`).
    #[serde(default)]
    pub hangup_after: Option<String>,
    /// The caller's steps.
    #[serde(default)]
    pub caller: Vec<ScenarioStep>,
    /// What must be true at the end.
    #[serde(default)]
    pub expect: Vec<Expectation>,
}

/// A step as written in a scenario file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScenarioStep {
    /// `say: "oui"`
    Say(String),
    /// `say_with: { text: "oui", confidence: 0.4 }`
    SayWith {
        /// The words.
        text: String,
        /// The confidence to report.
        confidence: f32,
    },
    /// `press: "1#"`
    Press(String),
    /// `silence: 5s`
    Silence(String),
    /// `audio: { file: hello.wav, text: "hello" }`
    Audio {
        /// The WAV file, relative to the scenario file.
        file: PathBuf,
        /// What it says.
        #[serde(default)]
        text: Option<String>,
    },
    /// `listen: 10s`
    Listen(String),
    /// `hangup: true` (the value is ignored).
    Hangup(serde_json::Value),
}

/// A scenario that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The YAML does not describe a scenario.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column when known.
        message: String,
    },
}

impl Scenario {
    /// Reads and parses a scenario file. Relative audio paths are resolved against its folder.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        const MAX_SCENARIO_BYTES: u64 = 1 << 20;
        let meta = std::fs::metadata(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        if meta.len() > MAX_SCENARIO_BYTES {
            return Err(ScenarioError::Invalid {
                path: path.to_owned(),
                message: format!("file is larger than {MAX_SCENARIO_BYTES} bytes"),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut scenario = Scenario::parse(&text).map_err(|message| ScenarioError::Invalid {
            path: path.to_owned(),
            message,
        })?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        for file in [&mut scenario.bin, &mut scenario.flow]
            .into_iter()
            .flatten()
        {
            if file.is_relative() {
                *file = base.join(&*file);
            }
        }
        for spec in &mut scenario.intents {
            if let Some((name, file)) = spec.split_once('=')
                && Path::new(file).is_relative()
            {
                *spec = format!("{name}={}", base.join(file).display());
            }
        }
        for step in &mut scenario.caller {
            if let ScenarioStep::Audio { file, .. } = step
                && file.is_relative()
            {
                *file = base.join(&*file);
            }
        }
        Ok(scenario)
    }

    /// Parses scenario YAML.
    pub fn parse(text: &str) -> Result<Scenario, String> {
        serde_saphyr::from_str(text).map_err(|e| e.to_string())
    }

    /// The caller's script, with durations parsed.
    pub fn script(&self) -> Result<Vec<Step>, String> {
        self.caller
            .iter()
            .map(|s| {
                Ok(match s {
                    ScenarioStep::Say(text) => Step::Say {
                        text: text.clone(),
                        confidence: None,
                    },
                    ScenarioStep::SayWith { text, confidence } => Step::Say {
                        text: text.clone(),
                        confidence: Some(*confidence),
                    },
                    ScenarioStep::Press(d) => Step::Press(validate_digits(d)?),
                    ScenarioStep::Silence(d) => Step::Silence(parse_duration(d)?),
                    ScenarioStep::Audio { file, text } => Step::Audio {
                        path: file.clone(),
                        text: text.clone(),
                    },
                    ScenarioStep::Listen(d) => Step::Listen(parse_duration(d)?),
                    ScenarioStep::Hangup(_) => Step::Hangup,
                })
            })
            .collect()
    }
}

/// Checks that `digits` holds only DTMF keys (`0-9`, `*`, `#`, `A-D`, and `w` for a pause).
pub fn validate_digits(digits: &str) -> Result<String, String> {
    if digits.is_empty() {
        return Err("`press` needs at least one key".to_owned());
    }
    match digits
        .chars()
        .find(|c| !matches!(c, '0'..='9' | '*' | '#' | 'A'..='D' | 'w'))
    {
        Some(bad) => Err(format!(
            "`{bad}` is not a phone key (use 0-9, *, #, A-D, or w for a pause)"
        )),
        None => Ok(digits.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_scenario() {
        let s = Scenario::parse(
            r#"
name: silent caller
from: "+33612345678"
caller:
  - silence: 6s
  - say: "oui"
  - say_with: { text: "non", confidence: 0.4 }
  - press: "1#"
  - listen: 2s
  - hangup: true
expect:
  - heard: error-01
  - ended_by: completed
"#,
        )
        .unwrap();
        let script = s.script().unwrap();
        assert_eq!(script.len(), 6);
        assert_eq!(script[0], Step::Silence(Duration::from_secs(6)));
        assert_eq!(script[5], Step::Hangup);
        assert_eq!(s.expect[1], Expectation::EndedBy("completed".into()));
    }

    #[test]
    fn rejects_unknown_fields_and_bad_keys() {
        assert!(Scenario::parse("caller:\n  - shout: hi\n").is_err());
        let s = Scenario::parse("caller:\n  - press: \"12x\"\n").unwrap();
        assert!(s.script().unwrap_err().contains("not a phone key"));
    }
}
