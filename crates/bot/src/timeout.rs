//! [`with_timeout`]: bounds an engine's turn, so a slow engine becomes [`EngineError::Timeout`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::{BotSession, Engine, EngineError, Reply, TurnInput};

/// An engine whose turns fail with [`EngineError::Timeout`] after a time limit.
pub struct TimeoutEngine {
    inner: Arc<dyn Engine>,
    limit: Duration,
}

/// Wraps `engine` so each turn takes at most `limit`. On timeout the session is left as it was
/// before the turn.
pub fn with_timeout(engine: Arc<dyn Engine>, limit: Duration) -> Arc<dyn Engine> {
    Arc::new(TimeoutEngine {
        inner: engine,
        limit,
    })
}

#[async_trait]
impl Engine for TimeoutEngine {
    async fn turn(&self, session: &mut BotSession, input: TurnInput) -> Result<Reply, EngineError> {
        let mut working = session.clone();
        match tokio::time::timeout(self.limit, self.inner.turn(&mut working, input)).await {
            Ok(result) => {
                *session = working;
                result
            }
            Err(_) => {
                tracing::warn!(
                    engine = self.inner.name(),
                    call_sid = %session.call_sid,
                    limit_ms = self.limit.as_millis() as u64,
                    "engine turn timed out"
                );
                Err(EngineError::Timeout {
                    engine: self.inner.name(),
                    ms: u64::try_from(self.limit.as_millis()).unwrap_or(u64::MAX),
                })
            }
        }
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}
