//! The Redis [`SessionStore`] over one auto-reconnecting multiplexed `ConnectionManager`.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};

use super::RedisConfig;
use crate::StoreError;
use crate::error::redact_url;
use crate::session::{CasOutcome, Session, SessionStore, ttl_ms};

/// `KEYS[1]` key, `ARGV[1]` bytes, `ARGV[2]` ttl ms → new version.
const PUT: &str = r"
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return v";

/// `ARGV[3]`: expected version, `0` = must be absent → `{1, new}` stored, `{0, current}` conflict
/// (current `0` = absent).
const CAS: &str = r"
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if cur ~= tonumber(ARGV[3]) then return {0, cur} end
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, v}";

/// Redis-backed sessions (see the module docs).
#[derive(Clone)]
pub struct RedisSessionStore {
    conn: ConnectionManager,
    prefix: String,
    put: Script,
    cas: Script,
}

impl std::fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn err(op: &'static str) -> impl FnOnce(redis::RedisError) -> StoreError {
    move |e| StoreError::backend("redis", op, e)
}

impl RedisSessionStore {
    pub(super) async fn connect(config: &RedisConfig) -> Result<Self, StoreError> {
        let connect_err = |e: redis::RedisError| StoreError::Connect {
            what: "Redis",
            target: redact_url(&config.url),
            cause: Box::new(e),
            remedy: "start Redis or fix sessions.url",
        };
        let client = redis::Client::open(config.url.as_str()).map_err(connect_err)?;
        let timeout = Duration::from_secs(config.timeout_secs);
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2);
        let mut conn = tokio::time::timeout(
            timeout * 3,
            ConnectionManager::new_with_config(client, manager_config),
        )
        .await
        .map_err(|_| StoreError::Connect {
            what: "Redis",
            target: redact_url(&config.url),
            cause: "timed out".into(),
            remedy: "start Redis or fix sessions.url",
        })?
        .map_err(connect_err)?;
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(connect_err)?;
        Ok(Self {
            conn,
            prefix: config.prefix.clone(),
            put: Script::new(PUT),
            cas: Script::new(CAS),
        })
    }

    fn key(&self, call_sid: &str) -> String {
        let mut k = String::with_capacity(self.prefix.len() + call_sid.len());
        k.push_str(&self.prefix);
        k.push_str(call_sid);
        k
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn get(&self, call_sid: &str) -> Result<Option<Session>, StoreError> {
        let key = self.key(call_sid);
        let mut conn = self.conn.clone();
        let (version, bytes): (Option<u64>, Option<Vec<u8>>) = redis::cmd("HMGET")
            .arg(&key)
            .arg("v")
            .arg("d")
            .query_async(&mut conn)
            .await
            .map_err(err("get"))?;
        match (version, bytes) {
            (Some(version), Some(bytes)) if version > 0 => Ok(Some(Session { bytes, version })),
            (None, None) => Ok(None),
            _ => Err(StoreError::Corrupt {
                key,
                what: "session",
            }),
        }
    }

    async fn put(&self, call_sid: &str, bytes: &[u8], ttl: Duration) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        self.put
            .key(self.key(call_sid))
            .arg(bytes)
            .arg(ttl_ms(ttl))
            .invoke_async(&mut conn)
            .await
            .map_err(err("put"))
    }

    async fn compare_and_put(
        &self,
        call_sid: &str,
        expected: Option<u64>,
        bytes: &[u8],
        ttl: Duration,
    ) -> Result<CasOutcome, StoreError> {
        let mut conn = self.conn.clone();
        let (stored, version): (i64, u64) = self
            .cas
            .key(self.key(call_sid))
            .arg(bytes)
            .arg(ttl_ms(ttl))
            .arg(expected.unwrap_or(0))
            .invoke_async(&mut conn)
            .await
            .map_err(err("compare_and_put"))?;
        Ok(if stored == 1 {
            CasOutcome::Stored { version }
        } else {
            CasOutcome::Conflict {
                current: (version > 0).then_some(version),
            }
        })
    }

    async fn delete(&self, call_sid: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let n: Value = redis::cmd("DEL")
            .arg(self.key(call_sid))
            .query_async(&mut conn)
            .await
            .map_err(err("delete"))?;
        Ok(matches!(n, Value::Int(n) if n > 0))
    }
}
