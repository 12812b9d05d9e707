//! [`FakeConfig`]: the fake engine's script (`type: fake` in an engine config).

use serde::{Deserialize, Serialize};

use crate::{EngineError, Reply};

/// The fake engine's script. Two modes:
/// - `turns` non-empty: each call plays these turns in order (the `expect`ed input, if given,
///   must match, else the turn fails with [`EngineError::BadResponse`]);
/// - otherwise a keyword → intent table: an utterance containing an intent's keyword (whole
///   words, case-insensitive) starts it, then its slots are elicited one per turn (the whole
///   utterance is the value), then it is fulfilled.
///
/// Audio is "heard" as `audio_transcript`; digits are matched as text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FakeConfig {
    /// Said on [`TurnInput::Start`](crate::TurnInput::Start).
    pub greeting: Vec<String>,
    /// What any audio turn is heard as.
    pub audio_transcript: String,
    /// The intents, matched in order.
    pub intents: Vec<FakeIntent>,
    /// Said when nothing matches.
    pub no_match: Vec<String>,
    /// Latency added to every turn, in milliseconds.
    pub latency_ms: u64,
    /// Utterances that make the turn fail (or be slow).
    pub failures: Vec<FakeFailure>,
    /// Scripted mode: the expected turns and their replies, in order.
    pub turns: Vec<ScriptedTurn>,
}

/// One intent of the keyword table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FakeIntent {
    /// The intent's name.
    pub name: String,
    /// Words or phrases that start it.
    pub keywords: Vec<String>,
    /// Slots elicited in order.
    pub slots: Vec<FakeSlot>,
    /// Said when fulfilled; `{Slot}` is replaced by the slot's value.
    pub fulfilled: Vec<String>,
}

/// A slot of a fake intent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FakeSlot {
    /// The slot's name.
    pub name: String,
    /// The question that elicits it.
    pub prompt: String,
}

/// A simulated failure: an utterance containing `keyword` makes the turn fail this way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FakeFailure {
    /// The phrase that triggers it.
    pub keyword: String,
    /// What happens.
    pub error: FakeError,
}

/// The kinds of simulated failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FakeError {
    /// [`EngineError::Unavailable`] (throttled).
    Throttled,
    /// [`EngineError::Configuration`] (access denied).
    Configuration,
    /// [`EngineError::BadResponse`].
    BadResponse,
    /// The turn takes this many milliseconds, then answers normally.
    Slow(u64),
}

/// One expected turn of a scripted conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedTurn {
    /// The expected input: text or digits, `<start>` or `<audio>`. `None`: anything.
    #[serde(default)]
    pub expect: Option<String>,
    /// The reply.
    pub reply: Reply,
}

impl FakeConfig {
    /// Checks the script without doing anything: names present, no duplicate intents.
    pub fn validate(&self) -> Result<(), EngineError> {
        let mut seen = std::collections::BTreeSet::new();
        for intent in &self.intents {
            if intent.name.trim().is_empty() {
                return Err(EngineError::Configuration(
                    "fake engine: an intent has no name".into(),
                ));
            }
            if !seen.insert(intent.name.as_str()) {
                return Err(EngineError::Configuration(format!(
                    "fake engine: intent `{}` is declared twice",
                    intent.name
                )));
            }
            if intent.keywords.iter().all(|k| k.trim().is_empty()) {
                return Err(EngineError::Configuration(format!(
                    "fake engine: intent `{}` has no keyword",
                    intent.name
                )));
            }
            if intent.slots.iter().any(|s| s.name.trim().is_empty()) {
                return Err(EngineError::Configuration(format!(
                    "fake engine: intent `{}` has a slot with no name",
                    intent.name
                )));
            }
        }
        Ok(())
    }

    /// The conformance suite's appointment bot: `BookAppointment` (keywords `book`,
    /// `appointment`, `1`) elicits `Date` then `Time`; `Goodbye` (`goodbye`, `bye`, `2`) is
    /// fulfilled at once; audio is heard as "book an appointment"; `simulate throttling`,
    /// `simulate access denied` and `simulate slow` (2 s) simulate failures.
    pub fn appointment() -> FakeConfig {
        let slot = |name: &str, prompt: &str| FakeSlot {
            name: name.into(),
            prompt: prompt.into(),
        };
        FakeConfig {
            greeting: vec!["Welcome to the appointment line. How can I help you?".into()],
            audio_transcript: "book an appointment".into(),
            intents: vec![
                FakeIntent {
                    name: "BookAppointment".into(),
                    keywords: vec!["book".into(), "appointment".into(), "1".into()],
                    slots: vec![
                        slot("Date", "Which day would you like?"),
                        slot("Time", "At what time?"),
                    ],
                    fulfilled: vec![
                        "Your appointment is booked for {Date} at {Time}. Anything else?".into(),
                    ],
                },
                FakeIntent {
                    name: "Goodbye".into(),
                    keywords: vec!["goodbye".into(), "bye".into(), "2".into()],
                    slots: vec![],
                    fulfilled: vec!["Goodbye!".into()],
                },
            ],
            no_match: vec![
                "Sorry, I didn't get that. You can book an appointment or say goodbye.".into(),
            ],
            latency_ms: 0,
            failures: vec![
                FakeFailure {
                    keyword: "simulate throttling".into(),
                    error: FakeError::Throttled,
                },
                FakeFailure {
                    keyword: "simulate access denied".into(),
                    error: FakeError::Configuration,
                },
                FakeFailure {
                    keyword: "simulate slow".into(),
                    error: FakeError::Slow(2000),
                },
            ],
            turns: vec![],
        }
    }
}
