//! Configuration of the in-memory session store (`type: memory`).

use serde::{Deserialize, Serialize};

use super::MemorySessionStore;
use crate::StoreError;

/// `sessions: { type: memory, max_entries: 100000, shards: 64 }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryConfig {
    /// Most live sessions held at once; a new call beyond this is refused with
    /// [`StoreError::Full`] (live calls are never evicted to make room).
    pub max_entries: usize,
    /// Number of independently locked shards (a power of two).
    pub shards: usize,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            shards: 64,
        }
    }
}

impl MemoryConfig {
    /// Checks the values without any IO.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.max_entries == 0 {
            return Err(StoreError::config(
                "sessions.max_entries",
                "is 0, so no call could keep a session",
                "set it to at least the number of concurrent calls you expect (default 100000)",
            ));
        }
        if !self.shards.is_power_of_two() || self.shards > 4096 {
            return Err(StoreError::config(
                "sessions.shards",
                format!("is {}, not a power of two between 1 and 4096", self.shards),
                "use 64 (the default) or another power of two",
            ));
        }
        Ok(())
    }

    /// Builds the store (no IO).
    pub fn build(&self) -> MemorySessionStore {
        MemorySessionStore::new(self.max_entries, self.shards)
    }
}
