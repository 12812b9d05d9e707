//! Identifiers: random SIDs and tokens for emulated calls, streams and recordings.
//!
//! Randomness comes from the standard library's per-process random hash keys mixed with a
//! counter and the time; these identifiers need to be unique, not secret.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    h.write_u128(nanos);
    h.finish()
}

/// 128 random bits.
pub fn random_u128() -> u128 {
    (u128::from(random_u64()) << 64) | u128::from(random_u64())
}

/// A new SID with this prefix (`CA`, `MZ`, `RE`, …).
pub fn new_sid(prefix: &str) -> String {
    hotline_twilio::webhook::sid(prefix, random_u128())
}

/// `bytes` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes * 2);
    while s.len() < bytes * 2 {
        s.push_str(&format!("{:016x}", random_u64()));
    }
    s.truncate(bytes * 2);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_are_well_formed_and_distinct() {
        let a = new_sid("CA");
        let b = new_sid("CA");
        assert!(hotline_twilio::webhook::is_sid(&a, "CA"));
        assert_ne!(a, b);
        assert_eq!(random_hex(16).len(), 32);
    }
}
