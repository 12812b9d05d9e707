//! [`LocalEngine`]: the driver that runs a local bot as a `hotline_bot::Engine`. It owns the IO
//! the sans-IO dialog asks for: speech recognition of audio turns, the sentence encoder, the
//! fulfilment webhook over HTTP, and today's date from the clock.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hotline_asr::Recognizer;
use hotline_bot::{BotSession, Engine, EngineError, LocalConfig, Reply, TurnInput};

use crate::bot::{Bot, load_bot};
use crate::classify::{Classifier, Encoder, Scored};
use crate::dialog::{Dialog, DialogState, Input, Step, WebhookAnswer};
use crate::slots::Date;

/// Largest fulfilment-webhook answer read (as for flow webhooks).
const MAX_WEBHOOK_REPLY_BYTES: usize = 64 * 1024;

/// Runs a local bot: classification, dialog, webhooks, speech recognition.
#[derive(Clone)]
pub struct LocalEngine {
    bot: Arc<Bot>,
    classifier: Arc<Classifier>,
    recognizer: Option<Arc<dyn Recognizer>>,
    http: reqwest::Client,
    today: Option<Date>,
}

impl std::fmt::Debug for LocalEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEngine")
            .field("bot", &self.bot.id())
            .field("classifier", &self.classifier)
            .field("recognizer", &self.recognizer.as_ref().map(|r| r.name()))
            .finish_non_exhaustive()
    }
}

/// What a classified text turn looked like (for `hotline bot chat --json` and evaluations).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TurnTrace {
    /// Intents ranked for the input, best first (empty for non-text turns).
    pub ranked: Vec<Scored>,
    /// The dialog state after the turn.
    pub state: DialogState,
}

impl serde::Serialize for Scored {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Scored", 2)?;
        st.serialize_field("intent", &self.intent)?;
        st.serialize_field("score", &self.score)?;
        st.end()
    }
}

impl LocalEngine {
    /// An engine for `bot`, classifying with `encoder` (lexical only when `None`) and
    /// transcribing audio with `recognizer` (audio turns are reprompted when `None`).
    pub fn new(
        bot: Bot,
        encoder: Option<Arc<dyn Encoder>>,
        recognizer: Option<Arc<dyn Recognizer>>,
    ) -> Result<LocalEngine, EngineError> {
        let classifier = Classifier::new(&bot, encoder)
            .map_err(|e| EngineError::Configuration(format!("local bot `{}`: {e}", bot.id())))?;
        Ok(LocalEngine {
            bot: Arc::new(bot),
            classifier: Arc::new(classifier),
            recognizer,
            http: reqwest::Client::new(),
            today: None,
        })
    }

    /// Resolves dates against this day instead of today's (UTC) date (tests, replays).
    #[must_use]
    pub fn with_today(mut self, today: Date) -> Self {
        self.today = Some(today);
        self
    }

    /// The bot.
    pub fn bot(&self) -> &Bot {
        &self.bot
    }

    /// The classifier.
    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }

    fn today(&self) -> Date {
        self.today.unwrap_or_else(Date::today_utc)
    }

    /// Plays one turn and also returns the classification and dialog state (see [`TurnTrace`]).
    pub async fn turn_traced(
        &self,
        session: &mut BotSession,
        input: TurnInput,
    ) -> Result<(Reply, TurnTrace), EngineError> {
        let mut state: DialogState = match &session.engine_state {
            Some(v) => serde_json::from_value(v.clone()).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "local bot: unreadable dialog state; starting afresh");
                DialogState::default()
            }),
            None => DialogState::default(),
        };
        let today = self.today();
        let dialog = Dialog::new(&self.bot, &session.locale, today);
        let mut transcript = None;
        let text = match &input {
            TurnInput::Audio { pcm_8k } => {
                let mut understood = None;
                let heard = match &self.recognizer {
                    Some(r) => match r.transcribe(pcm_8k, &dialog.hints(&state)).await {
                        Ok(t) => {
                            // A canonical short answer ("yes", "456") when one was expected.
                            understood = t.normalized;
                            Some(t.text)
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "local bot: speech recognition failed; reprompting");
                            None
                        }
                    },
                    None => {
                        tracing::warn!(
                            "local bot: audio turn but no speech recogniser configured; reprompting"
                        );
                        None
                    }
                };
                transcript = heard.clone().or(Some(String::new()));
                understood.or(heard).filter(|t| !t.trim().is_empty())
            }
            TurnInput::Text(t) => Some(t.clone()),
            TurnInput::Digits(_) | TurnInput::Start => None,
        };
        let ranked = match &text {
            Some(t) => self.classifier.classify(dialog.locale_index(), t, today),
            None => Vec::new(),
        };
        let dialog_input = match (&input, &text) {
            (TurnInput::Start, _) => Input::Start,
            (TurnInput::Digits(d), _) => Input::Digits(d),
            (_, Some(t)) => Input::Text {
                text: t,
                ranked: &ranked,
            },
            (_, None) => Input::Nothing,
        };
        let step = dialog.turn(&mut state, dialog_input, &session.attributes);
        let mut reply = match step {
            Step::Reply(r) => r,
            Step::Webhook(mut call) => {
                if let Some(obj) = call.body.as_object_mut() {
                    obj.insert("call_sid".into(), session.call_sid.clone().into());
                }
                let answer = self
                    .call_webhook(&call.url, call.timeout_ms, &call.body)
                    .await;
                dialog.after_webhook(&mut state, answer, &mut session.attributes)
            }
        };
        reply.transcript = transcript;
        if let Some(name) = reply.intent_name() {
            session
                .attributes
                .insert("last_intent".into(), name.to_owned());
        }
        session.engine_state = Some(
            serde_json::to_value(&state)
                .map_err(|e| EngineError::BadResponse(format!("local bot state: {e}")))?,
        );
        Ok((reply, TurnTrace { ranked, state }))
    }

    async fn call_webhook(
        &self,
        url: &str,
        timeout_ms: u64,
        body: &serde_json::Value,
    ) -> Result<WebhookAnswer, String> {
        let sent = self
            .http
            .post(url)
            .timeout(Duration::from_millis(timeout_ms))
            .json(body)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = sent.status();
        if !status.is_success() {
            return Err(format!("POST {url}: HTTP {status}"));
        }
        // Read at most MAX_WEBHOOK_REPLY_BYTES: the webhook is a network peer.
        let mut sent = sent;
        let mut bytes = Vec::new();
        while let Some(chunk) = sent.chunk().await.map_err(|e| format!("POST {url}: {e}"))? {
            if bytes.len() + chunk.len() > MAX_WEBHOOK_REPLY_BYTES {
                return Err(format!(
                    "POST {url}: the answer is over {MAX_WEBHOOK_REPLY_BYTES} bytes"
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(WebhookAnswer::default());
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("POST {url}: unreadable answer: {e}"))
    }
}

#[async_trait]
impl Engine for LocalEngine {
    async fn turn(&self, session: &mut BotSession, input: TurnInput) -> Result<Reply, EngineError> {
        self.turn_traced(session, input).await.map(|(r, _)| r)
    }

    fn name(&self) -> &'static str {
        "local"
    }
}

/// Builds the engine a [`LocalConfig`] describes: loads and checks the bot file (diagnostics
/// become a configuration error), and the sentence encoder from the models folder when
/// `embeddings` is on (a missing or corrupt model is an error naming the install command).
/// Speech recognition: pass a recogniser to [`build_with`]; this function has none, so audio
/// turns are reprompted.
pub async fn build(config: &LocalConfig) -> Result<Arc<dyn Engine>, EngineError> {
    build_with(config, None).await
}

/// [`build`] with a speech recogniser for audio turns.
pub async fn build_with(
    config: &LocalConfig,
    recognizer: Option<Arc<dyn Recognizer>>,
) -> Result<Arc<dyn Engine>, EngineError> {
    Ok(Arc::new(build_local(config, recognizer)?))
}

/// [`build_with`], returning the concrete engine.
pub fn build_local(
    config: &LocalConfig,
    recognizer: Option<Arc<dyn Recognizer>>,
) -> Result<LocalEngine, EngineError> {
    config.validate()?;
    let encoder = if config.embeddings {
        Some(load_encoder(config.models_dir.as_deref())?)
    } else {
        None
    };
    build_local_with(config, encoder, recognizer)
}

/// [`build_local`] with a sentence encoder already loaded, so that every bot of a process
/// shares one (≈ 100 MB each otherwise). `encoder` is used only when `config.embeddings`.
pub fn build_local_with(
    config: &LocalConfig,
    encoder: Option<Arc<dyn Encoder>>,
    recognizer: Option<Arc<dyn Recognizer>>,
) -> Result<LocalEngine, EngineError> {
    config.validate()?;
    let loaded = load_bot(&config.bot).map_err(|diags| {
        let sources = hotline_flow::Sources::read_for(&diags);
        EngineError::Configuration(format!(
            "bot file {} is invalid:\n{}",
            config.bot.display(),
            hotline_flow::render_diagnostics(&diags, &sources)
        ))
    })?;
    let encoder = if config.embeddings { encoder } else { None };
    let asr = if config.asr { recognizer } else { None };
    LocalEngine::new(loaded.bot, encoder, asr)
}

/// Loads all-MiniLM-L6-v2 from `models_dir` (default: the project's models folder).
pub fn load_encoder(models_dir: Option<&Path>) -> Result<Arc<dyn Encoder>, EngineError> {
    let dir = models_dir.map_or_else(default_models_dir, Path::to_path_buf);
    let model = hotline_embed::MiniLm::load(&hotline_embed::model_dir(&dir))
        .map_err(|e| EngineError::Configuration(format!("sentence embeddings: {e}")))?;
    Ok(Arc::new(model))
}

/// The models folder: `$HOTLINE_MODELS_DIR` if set, else `models` (the one every model uses).
pub use hotline_asr::moonshine::config::default_models_dir;
