//! Audio prompts: HMAC-signed, expiring URLs, and a file server for local prompt folders.
//!
//! A prompt URL is `{public}/prompts/{flow}/{path}?exp={unix}&sig={mac}` where `mac` is
//! HMAC-SHA256 over `flow \n path \n exp` with the server's prompt key, base64url without padding.
//! Anyone holding the URL can fetch the file until it expires (Twilio fetches prompts without
//! credentials), nobody can forge another. Files are served with their content type and with
//! single-range requests (`Range: bytes=…`), which players use to seek.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

type HmacSha256 = Hmac<Sha256>;

/// Prompt URLs expire on a multiple of this many seconds (rounded up, so a URL lives at least
/// the configured lifetime and at most this much longer): every URL of a prompt minted within
/// the same step is the same string, signed once and then served from a cache.
pub const EXPIRY_STEP_SECS: u64 = 60;

/// Most URLs the cache keeps for one expiry time; beyond that it starts over.
const MAX_CACHED_URLS: usize = 4096;

/// Signs and checks prompt URLs.
#[derive(Clone)]
pub struct PromptSigner {
    mac: HmacSha256,
    ttl_secs: u64,
    /// Signed URLs of the current expiry time, by flow and path (shared by clones).
    cache: Arc<Mutex<UrlCache>>,
}

/// The URLs signed for one expiry time.
#[derive(Default)]
struct UrlCache {
    exp: u64,
    len: usize,
    urls: HashMap<String, HashMap<String, String>>,
}

impl std::fmt::Debug for PromptSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromptSigner")
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

/// Why a prompt URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptUrlError {
    /// `exp` or `sig` is missing or malformed.
    #[error("the prompt URL is not signed")]
    Unsigned,
    /// The URL's lifetime is over.
    #[error("the prompt URL has expired")]
    Expired,
    /// The signature does not match.
    #[error("the prompt URL's signature is invalid")]
    BadSignature,
}

impl PromptSigner {
    /// A signer with `key` whose URLs live `ttl_secs` seconds.
    pub fn new(key: &[u8], ttl_secs: u64) -> Self {
        let mac = match <HmacSha256 as KeyInit>::new_from_slice(key) {
            Ok(mac) => mac,
            // Invariant: HMAC accepts keys of any length, so this cannot happen.
            Err(_) => unreachable!("HMAC-SHA256 accepts keys of any length"),
        };
        PromptSigner {
            mac,
            ttl_secs,
            cache: Arc::default(),
        }
    }

    /// The expiry time of URLs minted at `now_unix`: at least the lifetime away, rounded up to
    /// [`EXPIRY_STEP_SECS`].
    fn expiry(&self, now_unix: u64) -> u64 {
        now_unix
            .saturating_add(self.ttl_secs)
            .div_ceil(EXPIRY_STEP_SECS)
            .saturating_mul(EXPIRY_STEP_SECS)
    }

    fn tag(&self, flow: &str, path: &str, exp: u64) -> Vec<u8> {
        let mut mac = self.mac.clone();
        mac.update(flow.as_bytes());
        mac.update(b"\n");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(exp.to_string().as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The query string (`exp=…&sig=…`) for `flow`/`path`, valid from `now_unix`.
    pub fn query(&self, flow: &str, path: &str, now_unix: u64) -> String {
        let exp = self.expiry(now_unix);
        let sig = URL_SAFE_NO_PAD.encode(self.tag(flow, path, exp));
        format!("exp={exp}&sig={sig}")
    }

    /// The URL `make` builds from [`PromptSigner::query`]'s query string, signed once per flow,
    /// path and expiry time and then cached: `make` must depend on nothing else.
    pub fn url(
        &self,
        flow: &str,
        path: &str,
        now_unix: u64,
        make: impl FnOnce(&str) -> String,
    ) -> String {
        let exp = self.expiry(now_unix);
        {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            if cache.exp == exp
                && let Some(url) = cache.urls.get(flow).and_then(|m| m.get(path))
            {
                return url.clone();
            }
        }
        let sig = URL_SAFE_NO_PAD.encode(self.tag(flow, path, exp));
        let url = make(&format!("exp={exp}&sig={sig}"));
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.exp != exp || cache.len >= MAX_CACHED_URLS {
            cache.urls.clear();
            cache.len = 0;
            cache.exp = exp;
        }
        let slot = cache.urls.entry(flow.to_owned()).or_default();
        if slot.insert(path.to_owned(), url.clone()).is_none() {
            cache.len += 1;
        }
        url
    }

    /// Checks a prompt request's `exp` and `sig`.
    pub fn verify(
        &self,
        flow: &str,
        path: &str,
        exp: Option<&str>,
        sig: Option<&str>,
        now_unix: u64,
    ) -> Result<(), PromptUrlError> {
        let exp: u64 = exp
            .and_then(|e| e.parse().ok())
            .ok_or(PromptUrlError::Unsigned)?;
        let sig = sig
            .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .ok_or(PromptUrlError::Unsigned)?;
        if exp < now_unix {
            return Err(PromptUrlError::Expired);
        }
        let mut mac = self.mac.clone();
        mac.update(flow.as_bytes());
        mac.update(b"\n");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(exp.to_string().as_bytes());
        mac.verify_slice(&sig)
            .map_err(|_| PromptUrlError::BadSignature)
    }
}

/// The file under `root` for a request path, refusing anything that could leave the folder.
pub fn safe_join(root: &Path, rel: &str) -> Option<PathBuf> {
    let rel_path = Path::new(rel);
    if rel.is_empty()
        || rel_path
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    Some(root.join(rel_path))
}

/// The content type Twilio needs for a prompt file.
pub fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("wav") => "audio/wav",
        Some("mp3") => "audio/mpeg",
        Some("ul") | Some("ulaw") | Some("au") => "audio/basic",
        Some("aiff") | Some("aif") => "audio/aiff",
        Some("gsm") => "audio/gsm",
        _ => "application/octet-stream",
    }
}

/// A byte range to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// The whole file.
    Full,
    /// Bytes `start..=end`.
    Part {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// The range cannot be satisfied (416).
    Unsatisfiable,
}

/// Interprets a `Range` header for a file of `len` bytes (single ranges only; anything else is
/// served whole, as RFC 9110 allows).
pub fn parse_range(header: Option<&str>, len: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return RangeRequest::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    if len == 0 {
        return RangeRequest::Unsatisfiable;
    }
    let last = len - 1;
    match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(start), None) if b.is_empty() => {
            if start > last {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Part { start, end: last }
            }
        }
        (Some(start), Some(end)) => {
            if start > end || start > last {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Part {
                    start,
                    end: end.min(last),
                }
            }
        }
        (None, Some(suffix)) if a.is_empty() => {
            if suffix == 0 {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Part {
                    start: len.saturating_sub(suffix),
                    end: last,
                }
            }
        }
        _ => RangeRequest::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_urls_verify_and_expire() {
        let s = PromptSigner::new(b"key", 600);
        let q = s.query("triage", "beep.wav", 1000);
        let params: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(
            s.verify("triage", "beep.wav", get("exp"), get("sig"), 1500),
            Ok(())
        );
        // Minted at 1000 with 600 s to live: expires at 1620 (rounded up to the minute).
        assert_eq!(get("exp"), Some("1620"));
        assert_eq!(
            s.verify("triage", "beep.wav", get("exp"), get("sig"), 1620),
            Ok(())
        );
        assert_eq!(
            s.verify("triage", "beep.wav", get("exp"), get("sig"), 1621),
            Err(PromptUrlError::Expired)
        );
        assert_eq!(
            s.verify("triage", "intro.wav", get("exp"), get("sig"), 1500),
            Err(PromptUrlError::BadSignature)
        );
        assert_eq!(
            PromptSigner::new(b"other", 600).verify(
                "triage",
                "beep.wav",
                get("exp"),
                get("sig"),
                1500
            ),
            Err(PromptUrlError::BadSignature)
        );
        assert_eq!(
            s.verify("triage", "beep.wav", None, get("sig"), 0),
            Err(PromptUrlError::Unsigned)
        );
    }

    #[test]
    fn cached_urls_are_signed_once_per_expiry_and_still_verify() {
        let s = PromptSigner::new(b"key", 600);
        let calls = std::cell::Cell::new(0);
        let make = |q: &str| {
            calls.set(calls.get() + 1);
            format!("https://h/p?{q}")
        };
        let a = s.url("triage", "beep.wav", 1000, make);
        // Same minute of expiry: the cached string, `make` not called again.
        let b = s.url("triage", "beep.wav", 1019, |q: &str| {
            format!("https://h/p?{q}!")
        });
        assert_eq!((a.as_str(), calls.get()), (b.as_str(), 1));
        assert_eq!(
            a,
            format!("https://h/p?{}", s.query("triage", "beep.wav", 1000))
        );
        // Another path, another flow, a later minute: signed afresh.
        assert_ne!(s.url("triage", "intro.wav", 1000, make), a);
        assert_ne!(s.url("other", "beep.wav", 1000, make), a);
        let later = s.url("triage", "beep.wav", 1100, make);
        assert!(later.contains("exp=1740"), "{later}");
        assert_eq!(calls.get(), 4);
        let q = later.split_once('?').map(|(_, q)| q).unwrap();
        let params: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(
            s.verify("triage", "beep.wav", get("exp"), get("sig"), 1700),
            Ok(())
        );
        // A clone shares the cache.
        let c = s.clone();
        assert_eq!(
            c.url("triage", "intro.wav", 1000, |_| String::new()),
            s.url("triage", "intro.wav", 1000, |_| String::new())
        );
    }

    #[test]
    fn paths_cannot_escape() {
        let root = Path::new("/srv/prompts");
        assert_eq!(
            safe_join(root, "fr/beep.wav"),
            Some(root.join("fr/beep.wav"))
        );
        assert_eq!(safe_join(root, "../etc/passwd"), None);
        assert_eq!(safe_join(root, "/etc/passwd"), None);
        assert_eq!(safe_join(root, ""), None);
    }

    #[test]
    fn ranges() {
        use RangeRequest::*;
        assert_eq!(parse_range(None, 100), Full);
        assert_eq!(
            parse_range(Some("bytes=0-9"), 100),
            Part { start: 0, end: 9 }
        );
        assert_eq!(
            parse_range(Some("bytes=90-"), 100),
            Part { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=-10"), 100),
            Part { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=50-500"), 100),
            Part { start: 50, end: 99 }
        );
        assert_eq!(parse_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Full);
        assert_eq!(parse_range(Some("items=0-1"), 100), Full);
    }
}
