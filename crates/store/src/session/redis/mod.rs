//! The Redis session store, for several server instances sharing live calls.
//!
//! Each session is one Redis hash under `{prefix}{call_sid}` with fields `v` (version) and `d`
//! (bytes) and a `PEXPIRE` TTL; writes are small Lua scripts so that version bump, value and TTL
//! change atomically.

mod backend;
mod config;

pub use backend::RedisSessionStore;
pub use config::RedisConfig;
