//! The sessions this server wrote, kept decoded until the next webhook of their call, so that
//! webhook skips decoding its session again.
//!
//! The session store stays the truth. An entry is used only if the bytes the store returns are
//! exactly the bytes the entry was encoded to: decoding them would give the entry's session
//! back, since the session codec round-trips exactly. Any other bytes (another instance's
//! write, a value the store lost, changed or expired, a concurrent duplicate webhook's) are
//! decoded as before. So the cache changes what a webhook costs, never what it does.
//!
//! It holds one entry per call in progress on this instance, at most [`MAX_ENTRIES`] (1–2 KB
//! each: the triage flow's stored frames are 0.75–0.85 KB, plus the decoded session); a full
//! shard starts over, and a miss costs one decode. An entry is taken out when it is used, and
//! put back with the call's next session once the store has that.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use hotline_flow::runtime::Session;

/// Shards, each behind its own lock; chosen by the value of the call SID's last hex digit
/// (random), so each shard gets two of its sixteen values.
const SHARDS: usize = 8;
/// Most entries kept, over all shards.
pub const MAX_ENTRIES: usize = 16_384;

/// A session as decoded, with the stored frame it was encoded to.
#[derive(Debug)]
pub(crate) struct Warm {
    /// The session.
    pub(crate) session: Session,
    /// The frame's next step-record number.
    pub(crate) rec: u32,
    /// The whole stored frame, as given to the session store.
    pub(crate) bytes: Vec<u8>,
    /// Where the last TwiML starts in `bytes`.
    pub(crate) last_at: usize,
}

type Shard = HashMap<String, Warm, foldhash::fast::RandomState>;

/// Decoded sessions by call SID (see the module docs).
#[derive(Debug, Default)]
pub struct DecodedSessions {
    shards: [Mutex<Shard>; SHARDS],
}

impl DecodedSessions {
    fn shard(&self, call_sid: &str) -> std::sync::MutexGuard<'_, Shard> {
        // The digit's value, not its ASCII code: codes modulo 8 would give one shard three of
        // the sixteen digits ('1', '9', 'a') and another one ('7').
        let digit = call_sid
            .as_bytes()
            .last()
            .and_then(|&b| char::from(b).to_digit(16));
        let i = digit.map_or(0, |d| d as usize) % SHARDS;
        // Nothing a panic could interrupt leaves a shard inconsistent: it is a plain map.
        self.shards[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes out the entry of `call_sid` if it was encoded to exactly `stored`: the session,
    /// its `rec` and where the last TwiML starts. Any entry for the call is removed either way.
    pub(crate) fn take(&self, call_sid: &str, stored: &[u8]) -> Option<(Session, u32, usize)> {
        let warm = self.shard(call_sid).remove(call_sid)?;
        (warm.bytes == stored).then_some((warm.session, warm.rec, warm.last_at))
    }

    /// Keeps `warm` as the session the store now holds for `call_sid`. A session that has
    /// ended is not kept: no webhook will step it again.
    pub(crate) fn put(&self, call_sid: &str, warm: Warm) {
        let mut shard = self.shard(call_sid);
        if warm.session.ended.is_some() {
            shard.remove(call_sid);
            return;
        }
        if let Some(slot) = shard.get_mut(call_sid) {
            *slot = warm;
            return;
        }
        if shard.len() >= MAX_ENTRIES / SHARDS {
            shard.clear();
        }
        shard.insert(call_sid.to_owned(), warm);
    }

    /// Forgets the call's entry.
    pub(crate) fn remove(&self, call_sid: &str) {
        self.shard(call_sid).remove(call_sid);
    }

    /// Entries kept.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    /// No entry kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// A session of a one-node flow, built once (a flow load per entry would dominate).
        static SESSION: Session = crate::engine::tests::session();
    }

    fn warm(sid: &str, bytes: &[u8]) -> Warm {
        let mut session = SESSION.with(Clone::clone);
        session.call_sid = sid.to_owned();
        Warm {
            session,
            rec: 3,
            bytes: bytes.to_vec(),
            last_at: 1,
        }
    }

    #[test]
    fn an_entry_is_used_only_for_the_exact_bytes_and_only_once() {
        let cache = DecodedSessions::default();
        let sid = "CA0123456789abcdef0123456789abcdef";
        cache.put(sid, warm(sid, b"frame-1"));
        assert!(cache.take(sid, b"frame-2").is_none(), "other bytes");
        // The mismatch removed it: the store's value has moved on.
        assert!(cache.take(sid, b"frame-1").is_none());

        cache.put(sid, warm(sid, b"frame-1"));
        let (s, rec, last_at) = cache.take(sid, b"frame-1").unwrap();
        assert_eq!((s.call_sid.as_str(), rec, last_at), (sid, 3, 1));
        assert!(cache.take(sid, b"frame-1").is_none(), "taken out when used");

        cache.put(sid, warm(sid, b"frame-1"));
        cache.put(sid, warm(sid, b"frame-2"));
        assert_eq!(cache.len(), 1);
        assert!(
            cache.take(sid, b"frame-2").is_some(),
            "replaced by the newer"
        );

        cache.put(sid, warm(sid, b"frame-3"));
        cache.remove(sid);
        assert!(cache.is_empty());
    }

    #[test]
    fn ended_sessions_are_not_kept_and_the_cache_is_bounded() {
        let cache = DecodedSessions::default();
        let sid = "CA0123456789abcdef0123456789abcdef";
        cache.put(sid, warm(sid, b"frame-1"));
        let mut ended = warm(sid, b"frame-2");
        ended.session.ended = Some(hotline_flow::runtime::Outcome::HungUp);
        cache.put(sid, ended);
        assert!(
            cache.is_empty(),
            "an ended session replaces and is not kept"
        );

        for i in 0..(MAX_ENTRIES as u128 + 100) {
            let sid = hotline_twilio::webhook::sid("CA", i);
            cache.put(&sid, warm(&sid, b"f"));
        }
        assert!(cache.len() <= MAX_ENTRIES, "{}", cache.len());
        assert!(!cache.is_empty());
    }

    #[test]
    fn each_shard_gets_two_of_the_sixteen_last_digits() {
        let cache = DecodedSessions::default();
        let mut per_shard = [0; SHARDS];
        for digit in "0123456789abcdef".chars() {
            let sid = format!("CA{}{digit}", "0".repeat(31));
            cache.put(&sid, warm(&sid, b"f"));
            for (i, shard) in cache.shards.iter().enumerate() {
                if shard.lock().unwrap().contains_key(&sid) {
                    per_shard[i] += 1;
                }
            }
        }
        assert_eq!(per_shard, [2; SHARDS]);
    }
}
