//! [`EngineError`]: why a turn failed, and what the operator should check.

use thiserror::Error;

/// Why an engine could not answer a turn. The caller never hears silence: on any error the
/// driver says [`fallback_reply`](crate::fallback_reply) and retries or transfers.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The engine did not answer in time. Check the engine's latency and region (pick one near
    /// the server), and the configured timeout (`timeout_ms`). Retryable.
    #[error("the {engine} engine did not answer within {ms} ms")]
    Timeout {
        /// The engine's name.
        engine: &'static str,
        /// The time limit, in milliseconds.
        ms: u64,
    },
    /// The engine is unavailable or throttling (HTTP 429/5xx, network errors). Check the
    /// service's health and your account's request quotas. Retryable.
    #[error("the engine is unavailable: {0}")]
    Unavailable(String),
    /// The configuration is wrong (bad bot or alias id, locale, missing credentials, access
    /// denied). Check the bot configuration and the IAM policy (Lex: `lex:RecognizeUtterance`
    /// on the bot alias). Not retryable.
    #[error("engine configuration: {0}")]
    Configuration(String),
    /// The engine answered something this code cannot read. Check for an SDK or API version
    /// mismatch, and report a bug with the logged response. Not retryable for this turn.
    #[error("bad engine response: {0}")]
    BadResponse(String),
}

impl EngineError {
    /// Whether trying the same turn again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            EngineError::Timeout { .. } | EngineError::Unavailable(_)
        )
    }
}
