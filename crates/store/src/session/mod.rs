//! Per-call session state: the flow runtime's serialised session (opaque bytes), kept while the
//! call lives and forgotten after a TTL.
//!
//! # Versions and `compare_and_put`
//! Every stored value carries a version. The first write of a call SID stores version 1; each
//! later successful write ([`SessionStore::put`] or [`SessionStore::compare_and_put`]) stores the
//! previous version + 1 and refreshes the TTL. [`SessionStore::delete`] and TTL expiry forget
//! the value *and* its counter, so a re-created session starts at 1 again.
//!
//! Two webhooks for one call can race (Twilio retries, a status callback next to a gather). The
//! safe pattern is: `get` → step the flow → `compare_and_put(expected = the version you read)`;
//! on [`CasOutcome::Conflict`], re-read and re-step (or answer with the state that won).
//! `expected = None` means "only if no session exists" (the first webhook of a call).
//! Plain `put` is last-writer-wins.
//!
//! Backends: [`memory`] (default; one process) and [`redis`] (several instances).

pub mod memory;
pub mod redis;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// A stored session: the bytes and the version they were stored under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// What the flow runtime serialised; opaque to the store.
    pub bytes: Vec<u8>,
    /// Write counter, ≥ 1 (see the module docs).
    pub version: u64,
}

/// What [`SessionStore::compare_and_put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasOutcome {
    /// The value was stored under this new version.
    Stored {
        /// The new version (expected + 1, or 1 for a new session).
        version: u64,
    },
    /// Nothing was written: the stored version was not the expected one.
    Conflict {
        /// The version found (`None`: no session exists).
        current: Option<u64>,
    },
}

/// Per-call session storage. Object safe: servers hold an `Arc<dyn SessionStore>`.
///
/// TTLs shorter than a millisecond are rounded up to one millisecond.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// The live session of `call_sid`, if any (expired sessions are never returned).
    async fn get(&self, call_sid: &str) -> Result<Option<Session>, StoreError>;

    /// Stores `bytes` unconditionally (last writer wins) for `ttl`; returns the new version.
    async fn put(&self, call_sid: &str, bytes: &[u8], ttl: Duration) -> Result<u64, StoreError>;

    /// Stores `bytes` only if the current version is `expected` (`None`: only if absent).
    async fn compare_and_put(
        &self,
        call_sid: &str,
        expected: Option<u64>,
        bytes: &[u8],
        ttl: Duration,
    ) -> Result<CasOutcome, StoreError>;

    /// Forgets the session; `true` if one existed.
    async fn delete(&self, call_sid: &str) -> Result<bool, StoreError>;
}

/// Which session store to use; `type` tags the backend (`memory` by default).
///
/// ```
/// # use hotline_store::SessionStoreConfig;
/// let c: SessionStoreConfig =
///     serde_json::from_str(r#"{"type":"redis","url":"redis://127.0.0.1:6379"}"#).unwrap();
/// c.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum SessionStoreConfig {
    /// In-process, sharded, bounded. One server instance only.
    Memory(memory::MemoryConfig),
    /// Shared Redis, for several server instances.
    Redis(redis::RedisConfig),
}

impl Default for SessionStoreConfig {
    fn default() -> Self {
        Self::Memory(memory::MemoryConfig::default())
    }
}

impl SessionStoreConfig {
    /// Checks the values without any IO.
    pub fn validate(&self) -> Result<(), StoreError> {
        match self {
            Self::Memory(c) => c.validate(),
            Self::Redis(c) => c.validate(),
        }
    }

    /// Validates, then connects (Redis: connect and `PING`, failing with a clear message if the
    /// server is unreachable).
    pub async fn build(&self) -> Result<Arc<dyn SessionStore>, StoreError> {
        self.validate()?;
        Ok(match self {
            Self::Memory(c) => Arc::new(c.build()),
            Self::Redis(c) => Arc::new(c.build().await?),
        })
    }
}

/// TTL in whole milliseconds, at least 1.
pub(crate) fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}
