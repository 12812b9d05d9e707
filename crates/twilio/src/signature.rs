//! `X-Twilio-Signature`: computing and validating Twilio's request signature.
//!
//! Twilio signs every webhook and WebSocket handshake with
//! `base64(HMAC-SHA1(AuthToken, url + name₁ + value₁ + name₂ + value₂ …))`, the parameters sorted
//! by name. This module reproduces `twilio/request_validator.py` from twilio-python, including
//! its quirks:
//!
//! - repeated keys: every distinct value of a name is appended, values in sorted order, and
//!   identical `(name, value)` pairs are appended once;
//! - the URL is accepted with and without its port (`https://host/…` also checks
//!   `https://host:443/…`, and `https://host:8443/…` also checks `https://host/…`), because
//!   Twilio's signing side is inconsistent about ports;
//! - JSON bodies: the URL carries `bodySHA256=<hex sha256(raw body)>`; the HMAC covers the URL
//!   alone, and the body is checked against that hash.
//!
//! The signature is compared in constant time ([`Mac::verify_slice`]), and so is the body hash.
//!
//! This module is pure: it never reads headers, sockets or clocks itself. The caller passes the
//! URL Twilio requested (rebuilt from the configured public base with [`PublicBase`], never from
//! `Host`/`X-Forwarded-*` headers an attacker controls), the decoded parameters and the raw header
//! value. It must not log the auth token or the parameters (they hold phone numbers).

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::digest::Key;
use hmac::{Hmac, KeyInit, Mac};
use sha1::{Digest as _, Sha1};
use sha2::Sha256;

/// Name of the HTTP header carrying the signature.
pub const HEADER: &str = "X-Twilio-Signature";

/// Query parameter Twilio adds to the URL when the body is not form-encoded (JSON webhooks).
pub const BODY_SHA256_PARAM: &str = "bodySHA256";

/// Length of an HMAC-SHA1 tag in bytes.
pub const TAG_LEN: usize = 20;

/// HMAC-SHA1's block size: keys up to this length are zero-padded, longer keys hashed first.
const SHA1_BLOCK_LEN: usize = 64;

/// The longest header value [`parse_header`] looks at: 28 base64 characters plus generous
/// surrounding whitespace. Anything longer is rejected before decoding.
const MAX_HEADER_LEN: usize = 256;

type HmacSha1 = Hmac<Sha1>;

/// Why a request failed signature validation.
///
/// Every variant means "do not trust this request"; answer `403 Forbidden` and log the variant.
/// The docs say what usually causes each one and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The request has no `X-Twilio-Signature` header.
    ///
    /// Likely cause: the request did not come from Twilio (a scanner, a health check, a manual
    /// `curl`), or a proxy in front of the server strips unknown headers. Remedy: make the proxy
    /// pass `X-Twilio-Signature` through; send test requests through the emulator, which signs
    /// them.
    #[error("missing X-Twilio-Signature header")]
    MissingHeader,

    /// The header is not the base64 encoding of a 20-byte HMAC-SHA1 tag.
    ///
    /// Likely cause: the request did not come from Twilio, or something rewrote the header
    /// (URL-decoding turned `+` into a space, or a proxy truncated it). Remedy: check the proxy
    /// passes the header through byte for byte.
    #[error("malformed X-Twilio-Signature header: {reason}")]
    MalformedHeader {
        /// What was wrong with it.
        reason: &'static str,
    },

    /// The signature does not match the URL and parameters.
    ///
    /// Likely causes, most common first: the public URL configured does not match the one Twilio
    /// called (check the public base URL behind your proxy: scheme, host, path prefix, and that
    /// WebSocket handshakes use `wss://`); the auth token is wrong (rotated, or it belongs to
    /// another account or subaccount); a middleware altered the parameters; or the request is
    /// forged.
    #[error(
        "X-Twilio-Signature does not match the request (check the public base URL and the auth token)"
    )]
    Mismatch,

    /// A non-form body was validated but the URL has no `bodySHA256` query parameter.
    ///
    /// Likely cause: the request was a form post and should be validated with
    /// [`Validator::validate_form`], or the query string was dropped when rebuilding the URL.
    /// Remedy: validate form posts as forms, and keep the query string in the URL.
    #[error("the URL has no bodySHA256 query parameter")]
    MissingBodyHash,

    /// The `bodySHA256` query parameter is not 64 hexadecimal digits.
    ///
    /// Likely cause: the query string was altered on the way, or the request is forged.
    #[error("the bodySHA256 query parameter is not a hex SHA-256")]
    MalformedBodyHash,

    /// The signature is valid, but the SHA-256 of the body differs from `bodySHA256`.
    ///
    /// Likely cause: the body was changed after Twilio sent it, typically by a framework or proxy
    /// that re-serialised the JSON, transcoded its charset or decompressed it. Remedy: validate
    /// the raw body bytes exactly as received, before any parsing.
    #[error("the body does not match its bodySHA256 hash")]
    BodyHashMismatch,

    /// [`Validator::validate_websocket`] was given a URL that is not `ws://` or `wss://`.
    ///
    /// Twilio signs a Media Streams handshake over the `wss://` URL, even when a TLS-terminating
    /// proxy makes the server see plain `http`. Remedy: build the URL with
    /// [`PublicBase::websocket_url`].
    #[error("a WebSocket handshake must be validated against its ws:// or wss:// URL")]
    NotWebSocketUrl,
}

/// Computes the signature Twilio would send for `url` and `params`, as base64.
///
/// `params` are the decoded form parameters (empty for GET requests, JSON bodies and WebSocket
/// handshakes). They are sorted by name; a name's distinct values are appended in sorted order,
/// and identical `(name, value)` pairs only once, as twilio-python does.
///
/// The emulator uses this to sign the requests it sends; servers should use [`Validator`].
pub fn compute(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let pairs = signing_order(params);
    let tag = signed(keyed(auth_token.as_bytes()), url, &pairs)
        .finalize()
        .into_bytes();
    STANDARD.encode(tag)
}

/// Decodes an `X-Twilio-Signature` header value into the 20-byte tag.
///
/// Surrounding ASCII whitespace is ignored. The value must be standard base64 with padding that
/// decodes to exactly 20 bytes.
pub fn parse_header(value: &[u8]) -> Result<[u8; TAG_LEN], SignatureError> {
    let trimmed = value.trim_ascii();
    if trimmed.is_empty() {
        return Err(SignatureError::MalformedHeader { reason: "empty" });
    }
    if trimmed.len() > MAX_HEADER_LEN {
        return Err(SignatureError::MalformedHeader { reason: "too long" });
    }
    // Decode into a slightly larger buffer so that a value decoding to more than 20 bytes is
    // reported as a length problem rather than a base64 one.
    let mut buf = [0u8; MAX_HEADER_LEN];
    let len =
        STANDARD
            .decode_slice(trimmed, &mut buf)
            .map_err(|_| SignatureError::MalformedHeader {
                reason: "not valid base64",
            })?;
    buf.get(..len)
        .and_then(|decoded| <[u8; TAG_LEN]>::try_from(decoded).ok())
        .ok_or(SignatureError::MalformedHeader {
            reason: "does not decode to 20 bytes",
        })
}

/// The lowercase hex SHA-256 of `body`, as Twilio puts it in the `bodySHA256` query parameter.
pub fn body_sha256_hex(body: &[u8]) -> String {
    hex(&Sha256::digest(body))
}

/// Validates `X-Twilio-Signature` for one account's auth token.
///
/// Cheap to clone; the HMAC key schedule is computed once, at construction. Its `Debug` output
/// never shows the token.
///
/// Each method takes the raw header value (`None` when the header is absent) and the URL Twilio
/// requested, rebuilt with [`PublicBase`].
#[derive(Clone)]
pub struct Validator {
    mac: HmacSha1,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator").finish_non_exhaustive()
    }
}

impl Validator {
    /// A validator for the account whose auth token is `auth_token`.
    pub fn new(auth_token: &str) -> Self {
        Self {
            mac: keyed(auth_token.as_bytes()),
        }
    }

    /// Validates a form-encoded POST: the signature covers `url` and every form parameter.
    ///
    /// `params` are all the decoded form fields received, in any order (Twilio adds new
    /// parameters over time, so never filter them to a known list).
    pub fn validate_form(
        &self,
        url: &str,
        params: &[(String, String)],
        header: Option<&[u8]>,
    ) -> Result<(), SignatureError> {
        let tag = parse_present(header)?;
        self.check(url, params, &tag)
    }

    /// Like [`Validator::validate_form`], for parameters held as borrowed pairs (a
    /// [`crate::webhook::Form`]'s `pairs()`), without copying them into owned strings.
    pub fn validate_form_pairs<'a>(
        &self,
        url: &str,
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
        header: Option<&[u8]>,
    ) -> Result<(), SignatureError> {
        let tag = parse_present(header)?;
        let mut pairs: Vec<(&str, &str)> = params.into_iter().collect();
        pairs.sort_unstable();
        pairs.dedup();
        self.check_sorted(url, &pairs, &tag)
    }

    /// Validates a GET request: the signature covers the URL, query string included, and no
    /// parameters.
    pub fn validate_query(&self, url: &str, header: Option<&[u8]>) -> Result<(), SignatureError> {
        let tag = parse_present(header)?;
        self.check(url, &[], &tag)
    }

    /// Validates a request with a non-form body (JSON): the URL carries
    /// `bodySHA256=<hex sha256(body)>`, the signature covers the URL alone, and `body` (the raw
    /// bytes, before any parsing) must hash to that value.
    pub fn validate_body(
        &self,
        url: &str,
        body: &[u8],
        header: Option<&[u8]>,
    ) -> Result<(), SignatureError> {
        let tag = parse_present(header)?;
        let expected = body_hash_param(url)?;
        self.check(url, &[], &tag)?;
        let actual: [u8; 32] = Sha256::digest(body).into();
        if ct_eq(&actual, &expected) {
            Ok(())
        } else {
            Err(SignatureError::BodyHashMismatch)
        }
    }

    /// Validates a WebSocket handshake (a Media Streams connection): the signature covers the
    /// `wss://` URL (query string included, if any) and no parameters.
    ///
    /// `ws_url` must use the `ws` or `wss` scheme; build it with [`PublicBase::websocket_url`].
    pub fn validate_websocket(
        &self,
        ws_url: &str,
        header: Option<&[u8]>,
    ) -> Result<(), SignatureError> {
        let tag = parse_present(header)?;
        let scheme = ws_url.split_once("://").map(|(scheme, _)| scheme);
        if !scheme.is_some_and(|s| s.eq_ignore_ascii_case("wss") || s.eq_ignore_ascii_case("ws")) {
            return Err(SignatureError::NotWebSocketUrl);
        }
        self.check(ws_url, &[], &tag)
    }

    /// Checks the tag against every port variant of `url`.
    fn check(
        &self,
        url: &str,
        params: &[(String, String)],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), SignatureError> {
        self.check_sorted(url, &signing_order(params), tag)
    }

    /// Checks the tag against every port variant of `url`, `pairs` in signing order.
    fn check_sorted(
        &self,
        url: &str,
        pairs: &[(&str, &str)],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), SignatureError> {
        // The URL as rebuilt first; the port variant only when that fails (each variant is an
        // HMAC over the whole request, the largest cost of a callback). Which variant Twilio
        // signed is not secret, so the time this takes reveals nothing an attacker lacks; the
        // tag comparison itself stays constant-time.
        let ok = signed(self.mac.clone(), url, pairs)
            .verify_slice(tag)
            .is_ok()
            || port_variants(url).is_some_and(|second| {
                signed(self.mac.clone(), &second, pairs)
                    .verify_slice(tag)
                    .is_ok()
            });
        if ok {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}

/// The externally visible base URL of the server (`https://hotline.example.com`), from which
/// the URLs Twilio signed are rebuilt.
///
/// Behind a TLS-terminating proxy the server sees `http://10.0.0.5:3000/voice`, but Twilio
/// signed `https://hotline.example.com/voice` (or `wss://…` for a WebSocket). Configure the
/// public base once and rebuild every URL from it plus the request's path and query; never trust
/// `Host` or `X-Forwarded-*` headers for this.
///
/// The base keeps the spelling it was given (no case folding, no port normalisation), because
/// Twilio signs the URL as configured in its console. A path prefix
/// (`https://example.com/hotline`) is prepended to every request path, for proxies that strip
/// it before forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicBase {
    secure: bool,
    /// `host[:port]`, as configured.
    authority: String,
    /// Empty, or `/prefix` without a trailing slash.
    prefix: String,
}

/// Why a public base URL was refused. A configuration error: fix the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublicBaseError {
    /// The scheme is not `http` or `https`.
    ///
    /// Remedy: give the base as Twilio reaches it over HTTP, e.g. `https://hotline.example.com`;
    /// the `wss://` form for WebSockets is derived from it.
    #[error("the public base URL must start with https:// or http://")]
    UnsupportedScheme,
    /// There is no host after the scheme.
    #[error("the public base URL has no host")]
    MissingHost,
    /// The base contains a query string, fragment, user info or whitespace.
    ///
    /// Remedy: give only scheme, host, optional port and optional path prefix.
    #[error("the public base URL must contain only scheme, host, port and path prefix")]
    UnexpectedPart,
}

impl PublicBase {
    /// Parses a base such as `https://hotline.example.com`, `https://example.com:8443` or
    /// `https://example.com/hotline/`.
    pub fn parse(base: &str) -> Result<Self, PublicBaseError> {
        let (scheme, rest) = base
            .trim()
            .split_once("://")
            .ok_or(PublicBaseError::UnsupportedScheme)?;
        let secure = if scheme.eq_ignore_ascii_case("https") {
            true
        } else if scheme.eq_ignore_ascii_case("http") {
            false
        } else {
            return Err(PublicBaseError::UnsupportedScheme);
        };
        if rest
            .chars()
            .any(|c| matches!(c, '?' | '#' | '@') || c.is_whitespace() || c.is_control())
        {
            return Err(PublicBaseError::UnexpectedPart);
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(PublicBaseError::MissingHost);
        }
        Ok(Self {
            secure,
            authority: authority.to_owned(),
            prefix: path.trim_end_matches('/').to_owned(),
        })
    }

    /// The path prefix (empty, or `/prefix` without a trailing slash).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The URL Twilio requested for an HTTP webhook: `https://host` + prefix + `path_and_query`
    /// (e.g. `/voice?x=1`, as in the request line).
    pub fn http_url(&self, path_and_query: &str) -> String {
        self.join(if self.secure { "https" } else { "http" }, path_and_query)
    }

    /// [`PublicBase::http_url`] with the path and query appended by `write` (which must start
    /// them with `/`), in one allocation when `extra` covers what `write` appends.
    pub fn http_url_with(&self, extra: usize, write: impl FnOnce(&mut String)) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        let mut url = String::with_capacity(
            scheme.len() + 3 + self.authority.len() + self.prefix.len() + extra,
        );
        for part in [scheme, "://", &self.authority, &self.prefix] {
            url.push_str(part);
        }
        write(&mut url);
        url
    }

    /// The URL Twilio signed for a WebSocket handshake: the base with `https` mapped to `wss`
    /// and `http` to `ws`, plus prefix and `path_and_query`.
    pub fn websocket_url(&self, path_and_query: &str) -> String {
        self.join(if self.secure { "wss" } else { "ws" }, path_and_query)
    }

    fn join(&self, scheme: &str, path_and_query: &str) -> String {
        let slash = if path_and_query.starts_with('/') {
            ""
        } else {
            "/"
        };
        // One allocation: `format!` would grow the string several times on the way.
        let mut url = String::with_capacity(
            scheme.len() + 3 + self.authority.len() + self.prefix.len() + 1 + path_and_query.len(),
        );
        for part in [
            scheme,
            "://",
            &self.authority,
            &self.prefix,
            slash,
            path_and_query,
        ] {
            url.push_str(part);
        }
        url
    }
}

impl FromStr for PublicBase {
    type Err = PublicBaseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// An HMAC-SHA1 instance keyed with `key`.
///
/// HMAC pads keys up to the block size with zeros and hashes longer ones first (RFC 2104, §2);
/// doing that here gives a block-sized key, so the infallible constructor applies.
fn keyed(key: &[u8]) -> HmacSha1 {
    let mut block = [0u8; SHA1_BLOCK_LEN];
    if key.len() <= SHA1_BLOCK_LEN {
        block
            .iter_mut()
            .zip(key)
            .for_each(|(slot, byte)| *slot = *byte);
    } else {
        block
            .iter_mut()
            .zip(Sha1::digest(key).iter())
            .for_each(|(slot, byte)| *slot = *byte);
    }
    HmacSha1::new(&Key::<HmacSha1>::from(block))
}

/// The parameters in signing order: sorted by name, then value, identical pairs once.
///
/// Sorting `(name, value)` pairs lexicographically is twilio-python's "names in sorted order,
/// each name's distinct values in sorted order"; `dedup` drops identical pairs. Rust orders
/// `str` by UTF-8 bytes, which is the same as Python's code-point order.
fn signing_order(params: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// Feeds the signed string (URL, then `name + value` for each pair) into `mac`.
fn signed(mut mac: HmacSha1, url: &str, pairs: &[(&str, &str)]) -> HmacSha1 {
    mac.update(url.as_bytes());
    for (name, value) in pairs {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

fn parse_present(header: Option<&[u8]>) -> Result<[u8; TAG_LEN], SignatureError> {
    parse_header(header.ok_or(SignatureError::MissingHeader)?)
}

/// The URL as given, plus the variant twilio-python also accepts: with the port removed when
/// the URL has one, or with the scheme's default port added when it has none (and the scheme
/// has a default: 443 for `https`/`wss`, 80 for `http`/`ws`).
///
/// Like twilio-python, any explicit port is removed, not only the default one: Twilio's signing
/// side has been seen to drop ports.
fn port_variants(url: &str) -> Option<String> {
    let (scheme, after_scheme) = url.split_once("://")?;
    let authority_len = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    let authority = after_scheme.get(..authority_len)?;
    // Host and port come after any `user:password@`.
    let host_start = authority.rfind('@').map_or(0, |at| at + 1);
    let host_port = authority.get(host_start..)?;
    // The last `:` starts the port, unless it sits inside an IPv6 literal `[…]`.
    let port_colon = host_port
        .rfind(':')
        .filter(|&colon| host_port.rfind(']').is_none_or(|bracket| colon > bracket));
    // Offsets into `url`.
    let authority_start = scheme.len() + 3;
    let authority_end = authority_start + authority_len;
    match port_colon {
        Some(colon) => {
            let port = host_port.get(colon + 1..)?;
            if !port.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let colon_at = authority_start + host_start + colon;
            Some(format!(
                "{}{}",
                url.get(..colon_at)?,
                url.get(authority_end..)?
            ))
        }
        None => {
            let default_port =
                if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("wss") {
                    "443"
                } else if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("ws") {
                    "80"
                } else {
                    return None;
                };
            if host_port.is_empty() {
                return None;
            }
            Some(format!(
                "{}:{default_port}{}",
                url.get(..authority_end)?,
                url.get(authority_end..)?
            ))
        }
    }
}

/// Extracts and decodes the first `bodySHA256` query parameter of `url`.
fn body_hash_param(url: &str) -> Result<[u8; 32], SignatureError> {
    let query = url
        .split_once('?')
        .map(|(_, rest)| rest.split_once('#').map_or(rest, |(query, _)| query))
        .ok_or(SignatureError::MissingBodyHash)?;
    let value = url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == BODY_SHA256_PARAM)
        .map(|(_, value)| value)
        .ok_or(SignatureError::MissingBodyHash)?;
    unhex32(&value).ok_or(SignatureError::MalformedBodyHash)
}

/// Decodes exactly 64 hex digits (either case).
fn unhex32(s: &str) -> Option<[u8; 32]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        *slot = (nibble(*hi)? << 4) | nibble(*lo)?;
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Constant-time equality of two 32-byte values. Both are public by the time this runs (the URL
/// carrying one of them is authenticated), so this is belt and braces.
fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
