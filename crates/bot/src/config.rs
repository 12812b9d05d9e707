//! [`EngineConfig`]: which engine a bot uses, selected by a `type` tag.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{Engine, EngineError, FakeConfig, FakeEngine, LexConfig};

/// A bot's engine, as written in configuration:
///
/// ```yaml
/// engine: { type: lex, bot_id: ABCDE12345, bot_alias_id: TSTALIASID, locale_id: en_US }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngineConfig {
    /// The scripted fake engine.
    Fake(FakeConfig),
    /// Amazon Lex V2.
    Lex(LexConfig),
    /// A local bot file (`hotline-localbot`): no cloud.
    Local(LocalConfig),
}

/// A local bot (`type: local`): a bot file run by Hotline's embedded engine.
///
/// ```yaml
/// engine: { type: local, bot: examples/bots/appointments.yaml }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalConfig {
    /// The bot file (YAML, see docs/bots.md "Local bots").
    pub bot: PathBuf,
    /// The models folder (default: `$HOTLINE_MODELS_DIR`, else `models`).
    #[serde(default)]
    pub models_dir: Option<PathBuf>,
    /// Transcribe audio turns with the local speech recogniser. Default true.
    #[serde(default = "on")]
    pub asr: bool,
    /// Classify intents with sentence embeddings as well as words. Default true.
    #[serde(default = "on")]
    pub embeddings: bool,
}

fn on() -> bool {
    true
}

impl LocalConfig {
    /// A config for `bot` with the defaults (speech recognition and embeddings on).
    pub fn new(bot: impl Into<PathBuf>) -> Self {
        LocalConfig {
            bot: bot.into(),
            models_dir: None,
            asr: true,
            embeddings: true,
        }
    }

    /// Checks the configuration without IO: a bot file is named.
    pub fn validate(&self) -> Result<(), EngineError> {
        if self.bot.as_os_str().is_empty() {
            return Err(EngineError::Configuration(
                "local engine: `bot` (the bot file) is empty".into(),
            ));
        }
        Ok(())
    }
}

impl EngineConfig {
    /// Checks the configuration without any IO.
    pub fn validate(&self) -> Result<(), EngineError> {
        match self {
            EngineConfig::Fake(c) => c.validate(),
            EngineConfig::Lex(c) => c.validate(),
            EngineConfig::Local(c) => c.validate(),
        }
    }

    /// Builds the engine. The Lex engine lives in `hotline-aws` and the local engine in
    /// `hotline-localbot` (both depend on this crate for the trait, so this crate cannot call
    /// them): build Lex with `hotline_aws::lex::build(&EngineConfig)` and a local bot with
    /// `hotline_localbot::build(&LocalConfig)`; here `lex` and `local` are configuration errors.
    pub async fn build(&self) -> Result<Arc<dyn Engine>, EngineError> {
        self.validate()?;
        match self {
            EngineConfig::Fake(c) => Ok(Arc::new(FakeEngine::new(c.clone())?)),
            EngineConfig::Lex(_) => Err(EngineError::Configuration(
                "the lex engine is built by hotline_aws::lex::build (this binary was built without it)".into(),
            )),
            EngineConfig::Local(_) => Err(EngineError::Configuration(
                "the local engine is built by hotline_localbot::build (this binary was built without it)".into(),
            )),
        }
    }
}
