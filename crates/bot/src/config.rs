//! [`EngineConfig`]: which engine a bot uses, selected by a `type` tag.

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
}

impl EngineConfig {
    /// Checks the configuration without any IO.
    pub fn validate(&self) -> Result<(), EngineError> {
        match self {
            EngineConfig::Fake(c) => c.validate(),
            EngineConfig::Lex(c) => c.validate(),
        }
    }

    /// Builds the engine. The Lex engine lives in `hotline-aws` (which depends on this crate for
    /// the trait, so this crate cannot call it): build every type, Lex included, with
    /// `hotline_aws::lex::build(&EngineConfig)`; here `lex` is a configuration error.
    pub async fn build(&self) -> Result<Arc<dyn Engine>, EngineError> {
        self.validate()?;
        match self {
            EngineConfig::Fake(c) => Ok(Arc::new(FakeEngine::new(c.clone())?)),
            EngineConfig::Lex(_) => Err(EngineError::Configuration(
                "the lex engine is built by hotline_aws::lex::build (this binary was built without it)".into(),
            )),
        }
    }
}
