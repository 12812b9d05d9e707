//! Builds every kind of conversational engine for `serve` and `demo`: local bots (with one
//! Moonshine recogniser and one sentence encoder shared by all of them, loaded at start-up so a
//! missing or corrupt model fails then), Amazon Lex V2 (from `hotline-aws`) and the fake; and
//! the intent engines of flows (a local bot's classifier, on the same encoder). Glue only: the
//! engines live in their crates.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hotline_asr::{Moonshine, MoonshineConfig, Recognizer};
use hotline_bot::{EngineConfig, EngineError};
use hotline_localbot::Encoder;
use hotline_server::bots::{EngineBuilder, EngineFuture, IntentFuture};
use hotline_server::intents::{Classified, IntentClassifier, IntentConfig};
use tokio::sync::Mutex;

/// The engine builder handed to the server.
#[derive(Default)]
pub(crate) struct Engines {
    /// The shared recogniser and the models folder it came from.
    recognizer: Mutex<Option<(PathBuf, Arc<dyn Recognizer>)>>,
    /// The shared sentence encoder and the models folder it came from.
    encoder: Mutex<Option<(PathBuf, Arc<dyn Encoder>)>>,
}

impl Engines {
    /// The process's speech recogniser, loaded on first use from `models_dir`.
    async fn recognizer(
        &self,
        models_dir: Option<&Path>,
    ) -> Result<Arc<dyn Recognizer>, EngineError> {
        let dir = models_dir.map_or_else(hotline_onnx::default_models_dir, Path::to_path_buf);
        let mut slot = self.recognizer.lock().await;
        if let Some((loaded, r)) = slot.as_ref() {
            if *loaded == dir {
                return Ok(r.clone());
            }
            return Err(EngineError::Configuration(format!(
                "every local bot must use the same models folder ({} and {})",
                loaded.display(),
                dir.display()
            )));
        }
        let config = MoonshineConfig::in_dir(&dir);
        let loaded = tokio::task::spawn_blocking(move || Moonshine::load(&config))
            .await
            .map_err(|e| EngineError::Configuration(format!("speech recognition: {e}")))?
            .map_err(|e| EngineError::Configuration(format!("speech recognition: {e}")))?;
        let r: Arc<dyn Recognizer> = Arc::new(loaded);
        *slot = Some((dir, r.clone()));
        Ok(r)
    }
}

impl Engines {
    /// The process's sentence encoder, loaded on first use from `models_dir`.
    async fn encoder(&self, models_dir: Option<&Path>) -> Result<Arc<dyn Encoder>, EngineError> {
        let dir = models_dir.map_or_else(hotline_onnx::default_models_dir, Path::to_path_buf);
        let mut slot = self.encoder.lock().await;
        if let Some((loaded, e)) = slot.as_ref() {
            if *loaded == dir {
                return Ok(e.clone());
            }
            return Err(EngineError::Configuration(format!(
                "every local bot must use the same models folder ({} and {})",
                loaded.display(),
                dir.display()
            )));
        }
        let load_dir = dir.clone();
        let encoder =
            tokio::task::spawn_blocking(move || hotline_localbot::load_encoder(Some(&load_dir)))
                .await
                .map_err(|e| EngineError::Configuration(format!("sentence embeddings: {e}")))??;
        *slot = Some((dir, encoder.clone()));
        Ok(encoder)
    }
}

impl EngineBuilder for Engines {
    fn build<'a>(&'a self, config: &'a EngineConfig) -> EngineFuture<'a> {
        Box::pin(async move {
            match config {
                EngineConfig::Local(local) => {
                    let recognizer = if local.asr {
                        Some(self.recognizer(local.models_dir.as_deref()).await?)
                    } else {
                        None
                    };
                    let encoder = if local.embeddings {
                        Some(self.encoder(local.models_dir.as_deref()).await?)
                    } else {
                        None
                    };
                    let local = local.clone();
                    // Loading and compiling the bot reads a file: off the executor.
                    let engine = tokio::task::spawn_blocking(move || {
                        hotline_localbot::build_local_with(&local, encoder, recognizer)
                    })
                    .await
                    .map_err(|e| EngineError::Configuration(format!("local bot: {e}")))??;
                    Ok(Arc::new(engine) as Arc<dyn hotline_bot::Engine>)
                }
                other => hotline_aws::lex::build(other).await,
            }
        })
    }

    fn intents<'a>(&'a self, config: &'a IntentConfig) -> IntentFuture<'a> {
        Box::pin(async move {
            let encoder = self.encoder(None).await.map_err(|e| e.to_string())?;
            let path = config.bot.clone();
            let model = tokio::task::spawn_blocking(move || {
                hotline_localbot::IntentModel::load(&path, Some(encoder))
            })
            .await
            .map_err(|e| format!("intent engine: {e}"))?
            .map_err(|e| e.to_string())?;
            Ok(Arc::new(LocalIntents(model)) as Arc<dyn IntentClassifier>)
        })
    }
}

/// A local bot's intents as the server's intent engine for flows.
pub(crate) struct LocalIntents(pub(crate) hotline_localbot::IntentModel);

impl IntentClassifier for LocalIntents {
    fn classify(&self, language: &str, text: &str) -> Option<Classified> {
        let today = hotline_localbot::slots::Date::today_utc();
        self.0.classify(language, text, today).map(|s| Classified {
            intent: s.intent,
            confidence: s.score,
        })
    }

    fn intents(&self, language: &str) -> Vec<String> {
        self.0.intents(language)
    }
}
