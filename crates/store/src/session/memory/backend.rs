//! The sharded in-memory [`SessionStore`]: one `Mutex<HashMap>` per shard, chosen by an FNV-1a
//! hash of the call SID, so concurrent webhooks of different calls rarely touch the same lock.
//!
//! Expiry: a read of an expired entry removes it; every [`SWEEP_EVERY`] writes a shard drops
//! all of its expired entries; when the store is full, every shard is swept before a new call is
//! refused. Nothing runs in the background.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::StoreError;
use crate::session::{CasOutcome, Session, SessionStore, ttl_ms};

/// Writes to a shard between two sweeps of its expired entries.
const SWEEP_EVERY: u32 = 256;

struct Entry {
    bytes: Vec<u8>,
    version: u64,
    expires_at: Instant,
}

#[derive(Default)]
struct Shard {
    /// foldhash, seeded per process: SipHash cost more than the rest of a lookup.
    map: HashMap<Box<str>, Entry, foldhash::fast::RandomState>,
    writes_since_sweep: u32,
}

/// In-process session store (see the module docs). Cheap to share behind an `Arc`.
pub struct MemorySessionStore {
    shards: Box<[Mutex<Shard>]>,
    live: AtomicUsize,
    max_entries: usize,
}

impl std::fmt::Debug for MemorySessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySessionStore")
            .field("shards", &self.shards.len())
            .field("live", &self.live.load(Ordering::Relaxed))
            .field("max_entries", &self.max_entries)
            .finish()
    }
}

impl MemorySessionStore {
    /// A store holding at most `max_entries` sessions in `shards` shards (rounded up to a power
    /// of two, at least 1).
    pub fn new(max_entries: usize, shards: usize) -> Self {
        let shards = shards.max(1).next_power_of_two();
        Self {
            shards: (0..shards).map(|_| Mutex::new(Shard::default())).collect(),
            live: AtomicUsize::new(0),
            max_entries: max_entries.max(1),
        }
    }

    /// Number of stored sessions, including expired ones not yet swept.
    pub fn len(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// `true` if no session is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, call_sid: &str) -> MutexGuard<'_, Shard> {
        // FNV-1a: call SIDs are 34 ASCII bytes; this costs a few ns and spreads them well.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in call_sid.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let i = (h as usize) & (self.shards.len() - 1);
        lock(&self.shards[i])
    }

    /// Synchronous `get` at time `now` (the trait method calls this with `Instant::now()`).
    pub fn get_at(&self, call_sid: &str, now: Instant) -> Option<Session> {
        let mut shard = self.shard(call_sid);
        let entry = shard.map.get(call_sid)?;
        if entry.expires_at > now {
            return Some(Session {
                bytes: entry.bytes.clone(),
                version: entry.version,
            });
        }
        shard.map.remove(call_sid);
        drop(shard);
        self.live.fetch_sub(1, Ordering::Relaxed);
        None
    }

    /// Synchronous conditional or unconditional write at time `now`. `expected`:
    /// `None` = unconditional, `Some(None)` = only if absent, `Some(Some(v))` = only if at `v`.
    pub fn write_at(
        &self,
        call_sid: &str,
        expected: Option<Option<u64>>,
        bytes: &[u8],
        ttl: Duration,
        now: Instant,
    ) -> Result<CasOutcome, StoreError> {
        let expires_at = now + Duration::from_millis(ttl_ms(ttl));
        let mut shard = self.shard(call_sid);
        shard.writes_since_sweep += 1;
        if shard.writes_since_sweep >= SWEEP_EVERY {
            shard.writes_since_sweep = 0;
            self.sweep(&mut shard, now);
        }
        let current = shard.map.get_mut(call_sid).filter(|e| e.expires_at > now);
        let current_version = current.as_ref().map(|e| e.version);
        if let Some(expected) = expected
            && expected != current_version
        {
            return Ok(CasOutcome::Conflict {
                current: current_version,
            });
        }
        if let Some(entry) = current {
            entry.version += 1;
            entry.bytes.clear();
            entry.bytes.extend_from_slice(bytes);
            entry.expires_at = expires_at;
            return Ok(CasOutcome::Stored {
                version: entry.version,
            });
        }
        let entry = Entry {
            bytes: bytes.to_vec(),
            version: 1,
            expires_at,
        };
        // An expired entry under this key is replaced in place: the live count is unchanged.
        if let Some(old) = shard.map.get_mut(call_sid) {
            *old = entry;
            return Ok(CasOutcome::Stored { version: 1 });
        }
        if self.live.load(Ordering::Relaxed) >= self.max_entries {
            drop(shard);
            self.sweep_all(now);
            if self.live.load(Ordering::Relaxed) >= self.max_entries {
                return Err(StoreError::Full {
                    max: self.max_entries,
                });
            }
            shard = self.shard(call_sid);
        }
        if shard.map.insert(call_sid.into(), entry).is_none() {
            self.live.fetch_add(1, Ordering::Relaxed);
        }
        Ok(CasOutcome::Stored { version: 1 })
    }

    /// Synchronous delete.
    pub fn remove(&self, call_sid: &str, now: Instant) -> bool {
        let removed = self.shard(call_sid).map.remove(call_sid);
        match removed {
            Some(e) => {
                self.live.fetch_sub(1, Ordering::Relaxed);
                e.expires_at > now
            }
            None => false,
        }
    }

    fn sweep(&self, shard: &mut Shard, now: Instant) {
        let before = shard.map.len();
        shard.map.retain(|_, e| e.expires_at > now);
        self.live
            .fetch_sub(before - shard.map.len(), Ordering::Relaxed);
    }

    fn sweep_all(&self, now: Instant) {
        for shard in &self.shards {
            self.sweep(&mut lock(shard), now);
        }
    }
}

fn lock(m: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // A panic while holding a shard lock cannot leave a map half-updated in a way that matters
    // here (each operation is one insert/remove), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn get(&self, call_sid: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.get_at(call_sid, Instant::now()))
    }

    async fn put(&self, call_sid: &str, bytes: &[u8], ttl: Duration) -> Result<u64, StoreError> {
        match self.write_at(call_sid, None, bytes, ttl, Instant::now())? {
            CasOutcome::Stored { version } => Ok(version),
            // Unconditional writes never conflict.
            CasOutcome::Conflict { current } => Ok(current.unwrap_or(0)),
        }
    }

    async fn compare_and_put(
        &self,
        call_sid: &str,
        expected: Option<u64>,
        bytes: &[u8],
        ttl: Duration,
    ) -> Result<CasOutcome, StoreError> {
        self.write_at(call_sid, Some(expected), bytes, ttl, Instant::now())
    }

    async fn delete(&self, call_sid: &str) -> Result<bool, StoreError> {
        Ok(self.remove(call_sid, Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_store_refuses_new_calls_but_not_live_ones_and_recovers_after_expiry() {
        let store = MemorySessionStore::new(2, 1);
        let t0 = Instant::now();
        let ttl = Duration::from_secs(10);
        assert!(store.write_at("a", None, b"1", ttl, t0).is_ok());
        assert!(store.write_at("b", None, b"1", ttl, t0).is_ok());
        assert!(matches!(
            store.write_at("c", None, b"1", ttl, t0),
            Err(StoreError::Full { max: 2 })
        ));
        assert_eq!(
            store.write_at("a", None, b"2", ttl, t0).ok(),
            Some(CasOutcome::Stored { version: 2 })
        );
        let later = t0 + Duration::from_secs(11);
        assert_eq!(
            store.write_at("c", None, b"1", ttl, later).ok(),
            Some(CasOutcome::Stored { version: 1 })
        );
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn expiry_is_exact_with_an_injected_clock() {
        let store = MemorySessionStore::new(10, 4);
        let t0 = Instant::now();
        assert!(
            store
                .write_at("a", None, b"x", Duration::from_millis(100), t0)
                .is_ok()
        );
        assert!(store.get_at("a", t0 + Duration::from_millis(99)).is_some());
        assert!(store.get_at("a", t0 + Duration::from_millis(100)).is_none());
        assert!(store.is_empty());
        // An expired key restarts at version 1.
        assert!(
            store
                .write_at("b", None, b"x", Duration::from_millis(10), t0)
                .is_ok()
        );
        let out = store.write_at(
            "b",
            Some(None),
            b"y",
            Duration::from_millis(10),
            t0 + Duration::from_millis(20),
        );
        assert_eq!(out.ok(), Some(CasOutcome::Stored { version: 1 }));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn sweeping_keeps_the_count_exact() {
        let store = MemorySessionStore::new(100_000, 1);
        let t0 = Instant::now();
        for i in 0..1000 {
            assert!(
                store
                    .write_at(&format!("k{i}"), None, b"", Duration::from_millis(1), t0)
                    .is_ok()
            );
        }
        let later = t0 + Duration::from_millis(5);
        for i in 0..SWEEP_EVERY {
            assert!(
                store
                    .write_at(&format!("n{i}"), None, b"", Duration::from_secs(1), later)
                    .is_ok()
            );
        }
        assert!(store.len() <= SWEEP_EVERY as usize, "{}", store.len());
        assert!(store.get_at("n0", later).is_some());
    }
}
