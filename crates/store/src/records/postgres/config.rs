//! Configuration of the PostgreSQL record store (`type: postgres`).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::PostgresRecordStore;
use crate::StoreError;
use crate::error::redact_url;

/// `records: { type: postgres, url: "postgres://hotline@db:5432/hotline", pool_size: 4 }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// `postgres://user[:password]@host[:port]/database` or a `key=value` string. No TLS yet.
    pub url: String,
    /// Connections for queries (the writer holds one more).
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// Schema holding the tables (created if missing); default: the server's `search_path`.
    #[serde(default)]
    pub schema: Option<String>,
    /// Most writes waiting for the writer; beyond it callers wait (backpressure).
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Most writes committed in one transaction.
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
    /// Seconds to wait for a connection before failing.
    #[serde(default = "default_timeout")]
    pub connect_timeout_secs: u64,
}

fn default_pool_size() -> usize {
    4
}
fn default_queue() -> usize {
    8192
}
fn default_max_batch() -> usize {
    512
}
fn default_timeout() -> u64 {
    5
}

impl PostgresConfig {
    /// A config for `url` with the defaults.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: default_pool_size(),
            schema: None,
            queue: default_queue(),
            max_batch: default_max_batch(),
            connect_timeout_secs: default_timeout(),
        }
    }

    pub(super) fn pg_config(&self) -> Result<tokio_postgres::Config, StoreError> {
        tokio_postgres::Config::from_str(&self.url).map_err(|e| {
            StoreError::config(
                "records.url",
                format!("`{}` cannot be parsed: {e}", redact_url(&self.url)),
                "write it as postgres://user@host:5432/database",
            )
        })
    }

    /// Checks the values without any IO.
    pub fn validate(&self) -> Result<(), StoreError> {
        let pg = self.pg_config()?;
        if pg.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
            return Err(StoreError::config(
                "records.url",
                "asks for sslmode=require, but this build has no TLS",
                "connect over a private network or a local TLS proxy, and drop sslmode=require",
            ));
        }
        if !(1..=256).contains(&self.pool_size) {
            return Err(StoreError::config(
                "records.pool_size",
                format!("is {}", self.pool_size),
                "use 1..=256 (default 4)",
            ));
        }
        if let Some(schema) = &self.schema {
            let ok = schema.len() <= 63
                && schema
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && schema
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(StoreError::config(
                    "records.schema",
                    format!("`{schema}` is not a plain lower-case identifier"),
                    "use letters a-z, digits and _ (at most 63), starting with a letter, e.g. hotline",
                ));
            }
        }
        crate::records::writer::check_queue(self.queue, self.max_batch, 512)?;
        if self.connect_timeout_secs == 0 {
            return Err(StoreError::config(
                "records.connect_timeout_secs",
                "is 0",
                "use 1 or more (default 5)",
            ));
        }
        Ok(())
    }

    /// Connects, creates the schema if asked, migrates, starts the writer task (on the current
    /// tokio runtime). Fails with [`StoreError::Connect`] if the server is unreachable.
    pub async fn build(&self) -> Result<PostgresRecordStore, StoreError> {
        self.validate()?;
        PostgresRecordStore::connect(self).await
    }
}
