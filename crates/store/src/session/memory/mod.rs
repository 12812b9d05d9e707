//! The in-process session store: the default, and the hot path of every webhook.
//!
//! Sharded `Mutex<HashMap>`s, TTL checked on read and swept lazily on write, bounded in entries.
//! It lives and dies with the process: a restart forgets every live call's session.

mod backend;
mod config;

pub use backend::MemorySessionStore;
pub use config::MemoryConfig;
