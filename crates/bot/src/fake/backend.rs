//! [`FakeEngine`]: plays a [`FakeConfig`] script. Its per-call state lives in
//! `BotSession::engine_state`, so the engine itself is stateless and shareable.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::config::{FakeConfig, FakeError};
use crate::{BotSession, DialogAction, Engine, EngineError, Intent, IntentState, Reply, TurnInput};

/// The scripted fake engine.
#[derive(Debug, Clone)]
pub struct FakeEngine {
    config: FakeConfig,
}

/// The fake's per-call state, kept in `BotSession::engine_state`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct FakeState {
    /// Scripted mode: the next turn's index.
    #[serde(default)]
    turn: usize,
    /// The intent being elicited.
    #[serde(default)]
    intent: Option<String>,
    /// Its slots so far.
    #[serde(default)]
    slots: BTreeMap<String, String>,
}

impl FakeEngine {
    /// An engine playing `config` (checked with [`FakeConfig::validate`]).
    pub fn new(config: FakeConfig) -> Result<FakeEngine, EngineError> {
        config.validate()?;
        Ok(FakeEngine { config })
    }

    /// The conformance suite's appointment bot ([`FakeConfig::appointment`]).
    pub fn appointment() -> FakeEngine {
        FakeEngine {
            config: FakeConfig::appointment(),
        }
    }

    /// The script.
    pub fn config(&self) -> &FakeConfig {
        &self.config
    }

    fn scripted(&self, state: &mut FakeState, input: &TurnInput) -> Result<Reply, EngineError> {
        let Some(turn) = self.config.turns.get(state.turn) else {
            return Err(EngineError::BadResponse(format!(
                "fake engine: the script has only {} turns",
                self.config.turns.len()
            )));
        };
        if let Some(expect) = &turn.expect {
            let got = match input {
                TurnInput::Start => "<start>".to_owned(),
                TurnInput::Audio { .. } => "<audio>".to_owned(),
                TurnInput::Text(t) | TurnInput::Digits(t) => t.clone(),
            };
            if !got.eq_ignore_ascii_case(expect) {
                return Err(EngineError::BadResponse(format!(
                    "fake engine: turn {} expected `{expect}`, got `{got}`",
                    state.turn + 1
                )));
            }
        }
        state.turn += 1;
        Ok(turn.reply.clone())
    }

    fn keyword_turn(&self, state: &mut FakeState, text: &str) -> Reply {
        // An intent in progress takes the utterance as its next slot's value.
        if let Some(name) = state.intent.clone()
            && let Some(intent) = self.config.intents.iter().find(|i| i.name == name)
            && let Some(slot) = intent
                .slots
                .iter()
                .find(|s| !state.slots.contains_key(&s.name))
        {
            state
                .slots
                .insert(slot.name.clone(), text.trim().to_owned());
            return self.progress(state, intent, 1.0);
        }
        let found = self
            .config
            .intents
            .iter()
            .find(|i| i.keywords.iter().any(|k| contains_words(text, k)));
        match found {
            Some(intent) => {
                state.intent = Some(intent.name.clone());
                state.slots.clear();
                self.progress(state, intent, 0.9)
            }
            None => {
                state.intent = None;
                state.slots.clear();
                Reply::say(self.config.no_match.iter().cloned())
            }
        }
    }

    fn progress(
        &self,
        state: &mut FakeState,
        intent: &super::FakeIntent,
        confidence: f32,
    ) -> Reply {
        let mut reply = Reply::say(Vec::<String>::new());
        reply.slots = state.slots.clone();
        let next = intent
            .slots
            .iter()
            .find(|s| !state.slots.contains_key(&s.name));
        let intent_state = match next {
            Some(slot) => {
                reply.messages.push(slot.prompt.clone());
                reply.dialog = DialogAction::ElicitSlot {
                    slot: slot.name.clone(),
                };
                IntentState::InProgress
            }
            None => {
                reply.messages = intent
                    .fulfilled
                    .iter()
                    .map(|m| {
                        state
                            .slots
                            .iter()
                            .fold(m.clone(), |m, (k, v)| m.replace(&format!("{{{k}}}"), v))
                    })
                    .collect();
                reply.dialog = DialogAction::Close;
                state.intent = None;
                state.slots.clear();
                IntentState::Fulfilled
            }
        };
        reply.intent = Some(Intent {
            name: intent.name.clone(),
            confidence: Some(confidence),
            state: intent_state,
        });
        reply
    }
}

/// Whether `phrase`'s words appear, contiguous, among `text`'s (case-insensitive).
fn contains_words(text: &str, phrase: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (text, phrase) = (words(text), words(phrase));
    !phrase.is_empty() && text.windows(phrase.len()).any(|w| w == phrase.as_slice())
}

#[async_trait]
impl Engine for FakeEngine {
    async fn turn(&self, session: &mut BotSession, input: TurnInput) -> Result<Reply, EngineError> {
        if self.config.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.config.latency_ms)).await;
        }
        let mut state: FakeState = match &session.engine_state {
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|e| EngineError::BadResponse(format!("fake engine state: {e}")))?,
            None => FakeState::default(),
        };
        let (text, transcript) = match &input {
            TurnInput::Start => (None, None),
            TurnInput::Audio { .. } => (
                Some(self.config.audio_transcript.clone()),
                Some(self.config.audio_transcript.clone()),
            ),
            TurnInput::Text(t) | TurnInput::Digits(t) => (Some(t.clone()), None),
        };
        if let Some(text) = &text
            && let Some(failure) = self
                .config
                .failures
                .iter()
                .find(|f| contains_words(text, &f.keyword))
        {
            match &failure.error {
                FakeError::Throttled => {
                    return Err(EngineError::Unavailable("fake engine: throttled".into()));
                }
                FakeError::Configuration => {
                    return Err(EngineError::Configuration(
                        "fake engine: access denied".into(),
                    ));
                }
                FakeError::BadResponse => {
                    return Err(EngineError::BadResponse(
                        "fake engine: garbled reply".into(),
                    ));
                }
                FakeError::Slow(ms) => tokio::time::sleep(Duration::from_millis(*ms)).await,
            }
        }
        let mut reply = if !self.config.turns.is_empty() {
            self.scripted(&mut state, &input)?
        } else {
            match &text {
                None => Reply::say(self.config.greeting.iter().cloned()),
                Some(text) => self.keyword_turn(&mut state, text),
            }
        };
        if reply.transcript.is_none() {
            reply.transcript = transcript;
        }
        if let Some(name) = reply.intent_name() {
            session
                .attributes
                .insert("last_intent".into(), name.to_owned());
        }
        session.engine_state = Some(
            serde_json::to_value(&state)
                .map_err(|e| EngineError::BadResponse(format!("fake engine state: {e}")))?,
        );
        Ok(reply)
    }

    fn name(&self) -> &'static str {
        "fake"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_whole_words_only() {
        assert!(contains_words("I'd like to BOOK one", "book"));
        assert!(contains_words("please simulate slow now", "simulate slow"));
        assert!(!contains_words("10 am", "1"));
        assert!(contains_words("1", "1"));
        assert!(!contains_words("anything", ""));
    }
}
