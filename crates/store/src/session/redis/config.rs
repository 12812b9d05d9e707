//! Configuration of the Redis session store (`type: redis`).

use serde::{Deserialize, Serialize};

use super::RedisSessionStore;
use crate::StoreError;

/// `sessions: { type: redis, url: "redis://127.0.0.1:6379/0", prefix: "hotline:session:" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://[user:password@]host[:port][/db]`. TLS (`rediss://`) is not built in yet.
    pub url: String,
    /// Prepended to every key, so several deployments can share one Redis.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Seconds to wait for the server at start-up and per command before failing.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_prefix() -> String {
    "hotline:session:".to_owned()
}

fn default_timeout() -> u64 {
    2
}

impl RedisConfig {
    /// A config for `url` with the default prefix and timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: default_prefix(),
            timeout_secs: default_timeout(),
        }
    }

    /// Checks the values without any IO.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.url.starts_with("rediss://") {
            return Err(StoreError::config(
                "sessions.url",
                "uses TLS (rediss://), which this build does not include",
                "use a redis:// URL on a private network, or a TLS-terminating proxy",
            ));
        }
        if !self.url.starts_with("redis://") && !self.url.starts_with("unix://") {
            return Err(StoreError::config(
                "sessions.url",
                format!(
                    "`{}` is not a redis:// URL",
                    crate::error::redact_url(&self.url)
                ),
                "write it as redis://host:6379/0",
            ));
        }
        if let Err(e) = redis::Client::open(self.url.as_str()) {
            return Err(StoreError::config(
                "sessions.url",
                format!("cannot be parsed: {e}"),
                "write it as redis://[user:password@]host:6379/0",
            ));
        }
        if self.prefix.is_empty() {
            return Err(StoreError::config(
                "sessions.prefix",
                "is empty, so session keys would mix with other data in this Redis",
                "use a prefix such as hotline:session:",
            ));
        }
        if self.timeout_secs == 0 {
            return Err(StoreError::config(
                "sessions.timeout_secs",
                "is 0",
                "use 1 or more (default 2)",
            ));
        }
        Ok(())
    }

    /// Connects (and `PING`s): fails with [`StoreError::Connect`] if Redis is unreachable.
    pub async fn build(&self) -> Result<RedisSessionStore, StoreError> {
        self.validate()?;
        RedisSessionStore::connect(self).await
    }
}
