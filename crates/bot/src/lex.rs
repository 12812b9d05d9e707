//! [`LexConfig`]: the Amazon Lex V2 engine's settings (`type: lex`). The engine itself is
//! `hotline_aws::lex::LexEngine`, built by `hotline_aws::lex::build`.

use serde::{Deserialize, Serialize};

use crate::EngineError;

/// Default turn time limit.
pub const DEFAULT_LEX_TIMEOUT_MS: u64 = 5000;

/// Static AWS keys (tests, or the seed's `ACCESS_KEY_ID`/`SECRET_ACCESS_KEY`). Never read from a
/// config file, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// How to reach an Amazon Lex V2 bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LexConfig {
    /// The bot's region (`eu-west-1`). `None`: the SDK's chain (`AWS_REGION`, profile, IMDS).
    #[serde(default)]
    pub region: Option<String>,
    /// The bot's id (10 characters, e.g. `ABCDE12345`) — not its name.
    pub bot_id: String,
    /// The alias's id (`TSTALIASID` for the draft alias) — not its name.
    pub bot_alias_id: String,
    /// The bot locale (`en_US`, `fr_FR`).
    #[serde(default = "default_locale")]
    pub locale_id: String,
    /// A custom endpoint (tests: a local fake Lex). `None`: AWS.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// Time limit of a turn, in milliseconds.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// The text sent for [`TurnInput::Start`](crate::TurnInput::Start), to trigger the bot's
    /// welcome intent (Lex has no "call started" event). Default `hello`.
    #[serde(default = "default_start_text")]
    pub start_text: String,
    /// Ask Lex for audio (`audio/pcm`, converted to 8 kHz mu-law) instead of text for Twilio to
    /// speak.
    #[serde(default)]
    pub audio_replies: bool,
    /// Fixed credentials instead of the standard AWS chain (never from a file).
    #[serde(skip)]
    pub credentials: Option<StaticCredentials>,
}

fn default_locale() -> String {
    "en_US".into()
}
fn default_timeout() -> u64 {
    DEFAULT_LEX_TIMEOUT_MS
}
fn default_start_text() -> String {
    "hello".into()
}

impl LexConfig {
    /// A configuration for `bot_id`/`bot_alias_id` with the defaults.
    pub fn new(bot_id: impl Into<String>, bot_alias_id: impl Into<String>) -> LexConfig {
        LexConfig {
            region: None,
            bot_id: bot_id.into(),
            bot_alias_id: bot_alias_id.into(),
            locale_id: default_locale(),
            endpoint_url: None,
            timeout_ms: DEFAULT_LEX_TIMEOUT_MS,
            start_text: default_start_text(),
            audio_replies: false,
            credentials: None,
        }
    }

    /// From the process environment; see [`LexConfig::from_lookup`].
    pub fn from_env() -> Result<LexConfig, EngineError> {
        LexConfig::from_lookup(|k| std::env::var(k).ok())
    }

    /// From environment variables read with `lookup`:
    /// - region: `AWS_REGION`, else `AWS_DEFAULT_REGION` (else the SDK's chain);
    /// - bot id: `HOTLINE_LEX_BOT_ID`, else the seed's `LEX_BOT_NAME` (Lex V2 calls take the
    ///   bot's *id*, so that variable must hold the id);
    /// - alias id: `HOTLINE_LEX_BOT_ALIAS_ID`, else the seed's `LEX_BOT_ALIAS` (an alias *id*);
    /// - locale: `HOTLINE_LEX_LOCALE` (default `en_US`); endpoint: `HOTLINE_LEX_ENDPOINT`;
    ///   time limit: `HOTLINE_LEX_TIMEOUT_MS`;
    /// - credentials: the standard chain (`AWS_ACCESS_KEY_ID`…, profiles, roles), unless
    ///   `AWS_ACCESS_KEY_ID` is unset and the seed's `ACCESS_KEY_ID` + `SECRET_ACCESS_KEY` are
    ///   set: then those, as static credentials.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<LexConfig, EngineError> {
        let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let first = |a: &str, b: &str| get(a).or_else(|| get(b));
        let bot_id = first("HOTLINE_LEX_BOT_ID", "LEX_BOT_NAME").ok_or_else(|| {
            EngineError::Configuration(
                "set HOTLINE_LEX_BOT_ID (or LEX_BOT_NAME) to the Lex V2 bot id".into(),
            )
        })?;
        let alias = first("HOTLINE_LEX_BOT_ALIAS_ID", "LEX_BOT_ALIAS").ok_or_else(|| {
            EngineError::Configuration(
                "set HOTLINE_LEX_BOT_ALIAS_ID (or LEX_BOT_ALIAS) to the Lex V2 bot alias id".into(),
            )
        })?;
        let mut config = LexConfig::new(bot_id, alias);
        config.region = first("AWS_REGION", "AWS_DEFAULT_REGION");
        if let Some(locale) = get("HOTLINE_LEX_LOCALE") {
            config.locale_id = locale;
        }
        config.endpoint_url = get("HOTLINE_LEX_ENDPOINT");
        if let Some(ms) = get("HOTLINE_LEX_TIMEOUT_MS") {
            config.timeout_ms = ms.trim().parse().map_err(|_| {
                EngineError::Configuration(format!(
                    "HOTLINE_LEX_TIMEOUT_MS: `{ms}` is not a number of milliseconds"
                ))
            })?;
        }
        if get("AWS_ACCESS_KEY_ID").is_none()
            && let (Some(access_key_id), Some(secret_access_key)) =
                (get("ACCESS_KEY_ID"), get("SECRET_ACCESS_KEY"))
        {
            config.credentials = Some(StaticCredentials {
                access_key_id,
                secret_access_key,
            });
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks the settings without any IO.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |m: String| Err(EngineError::Configuration(format!("lex: {m}")));
        let ok_id = |s: &str| {
            !s.is_empty() && s.len() <= 100 && s.chars().all(|c| c.is_ascii_alphanumeric())
        };
        if !ok_id(&self.bot_id) {
            return bad(format!(
                "bot_id `{}` is not a Lex V2 bot id (letters and digits, e.g. ABCDE12345)",
                self.bot_id
            ));
        }
        if !ok_id(&self.bot_alias_id) {
            return bad(format!(
                "bot_alias_id `{}` is not a Lex V2 alias id (letters and digits, e.g. TSTALIASID)",
                self.bot_alias_id
            ));
        }
        if self.locale_id.len() < 2
            || !self
                .locale_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return bad(format!(
                "locale_id `{}` is not a locale like en_US",
                self.locale_id
            ));
        }
        if let Some(region) = &self.region
            && (region.is_empty()
                || !region
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            return bad(format!(
                "region `{region}` is not an AWS region like eu-west-1"
            ));
        }
        if let Some(url) = &self.endpoint_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return bad(format!(
                "endpoint_url `{url}` must start with http:// or https://"
            ));
        }
        if self.timeout_ms == 0 || self.timeout_ms > 60_000 {
            return bad(format!(
                "timeout_ms {} must be within 1..=60000",
                self.timeout_ms
            ));
        }
        if self.start_text.trim().is_empty() {
            return bad("start_text must not be empty".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn hotline_names_win_over_the_seeds() {
        let c = LexConfig::from_lookup(env(&[
            ("HOTLINE_LEX_BOT_ID", "BOT1234567"),
            ("LEX_BOT_NAME", "OTHER"),
            ("HOTLINE_LEX_BOT_ALIAS_ID", "TSTALIASID"),
            ("AWS_REGION", "eu-west-1"),
            ("HOTLINE_LEX_LOCALE", "fr_FR"),
        ]))
        .unwrap();
        assert_eq!(c.bot_id, "BOT1234567");
        assert_eq!(c.bot_alias_id, "TSTALIASID");
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.locale_id, "fr_FR");
        assert_eq!(c.credentials, None);
    }

    #[test]
    fn the_seeds_names_are_accepted() {
        let c = LexConfig::from_lookup(env(&[
            ("LEX_BOT_NAME", "BOT1234567"),
            ("LEX_BOT_ALIAS", "ALIAS12345"),
            ("ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("SECRET_ACCESS_KEY", "secret"),
        ]))
        .unwrap();
        assert_eq!(c.bot_id, "BOT1234567");
        assert_eq!(c.bot_alias_id, "ALIAS12345");
        assert_eq!(c.locale_id, "en_US");
        let creds = c.credentials.unwrap();
        assert_eq!(creds.access_key_id, "AKIDEXAMPLE");
        assert!(!format!("{creds:?}").contains("secret\""));
        // The standard variables take precedence over the seed's.
        let c = LexConfig::from_lookup(env(&[
            ("LEX_BOT_NAME", "BOT1234567"),
            ("LEX_BOT_ALIAS", "ALIAS12345"),
            ("AWS_ACCESS_KEY_ID", "AKIDSTD"),
            ("ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("SECRET_ACCESS_KEY", "secret"),
        ]))
        .unwrap();
        assert_eq!(c.credentials, None);
    }

    #[test]
    fn missing_or_bad_values_are_configuration_errors() {
        let e = LexConfig::from_lookup(env(&[("LEX_BOT_ALIAS", "A")])).unwrap_err();
        assert!(e.to_string().contains("HOTLINE_LEX_BOT_ID"), "{e}");
        let mut c = LexConfig::new("BOT", "ALIAS");
        assert!(c.validate().is_ok());
        c.bot_id = "My Bot".into();
        assert!(c.validate().is_err());
        let mut c = LexConfig::new("BOT", "ALIAS");
        c.endpoint_url = Some("localhost:1".into());
        assert!(c.validate().is_err());
        let mut c = LexConfig::new("BOT", "ALIAS");
        c.timeout_ms = 0;
        assert!(matches!(c.validate(), Err(EngineError::Configuration(_))));
    }
}
