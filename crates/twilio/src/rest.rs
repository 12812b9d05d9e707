//! Live call updates through Twilio's REST API: `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`.
//!
//! Two layers, as everywhere in Hotline:
//!
//! - a sans-IO core: [`CallUpdate`] and its form fields, [`call_update_path`] (SIDs validated so
//!   they cannot inject path segments), [`classify`] (status, `Retry-After` and body → what to do
//!   next), and [`RetryPolicy`] (exponential backoff whose jitter is passed in, so it is
//!   deterministic under test);
//! - [`RestClient`], a thin `reqwest` driver that sends the request with HTTP basic auth
//!   (`AccountSid:AuthToken`), sleeps between retries with `tokio::time::sleep`, and reports a
//!   call that has already ended as [`UpdateOutcome::CallGone`] instead of an error.
//!
//! Retry rules: `429` and `5xx` answers and connection failures (the request never reached
//! Twilio) are retried; a timeout is not, because Twilio may have applied the update, and
//! applying a redirect twice restarts the caller's TwiML. `404` is "the call is gone", reported
//! after one request.
//!
//! The core must not do I/O, read clocks or draw random numbers. Neither layer logs the auth
//! token or the TwiML (which can hold phone numbers).

use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use serde::Deserialize;

use crate::twiml::Method;

/// Twilio's REST API origin.
pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";

/// Default time limit for one request, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest SID accepted by [`call_update_path`]. Twilio's SIDs are 34 characters.
pub const MAX_SID_LEN: usize = 64;

/// How much of a response body is read, at most. Twilio's error bodies are a few hundred bytes.
const MAX_BODY_LEN: usize = 64 * 1024;

/// A change to a live call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallUpdate {
    /// Fetch and execute TwiML from `url` (`Url`, `Method`).
    Redirect {
        /// Absolute URL of the new TwiML.
        url: String,
        /// How Twilio fetches `url`.
        method: Method,
    },
    /// Execute this TwiML document (`Twiml`), e.g. `<Response><Dial>…</Dial></Response>`.
    Twiml(String),
    /// Hang up a call in progress (`Status=completed`).
    Hangup,
    /// Cancel a call that is queued or ringing (`Status=canceled`); no effect once answered.
    Cancel,
}

impl CallUpdate {
    /// The form fields of the update request.
    pub fn form(&self) -> Vec<(&'static str, String)> {
        match self {
            CallUpdate::Redirect { url, method } => {
                vec![("Url", url.clone()), ("Method", method.as_str().to_owned())]
            }
            CallUpdate::Twiml(twiml) => vec![("Twiml", twiml.clone())],
            CallUpdate::Hangup => vec![("Status", "completed".to_owned())],
            CallUpdate::Cancel => vec![("Status", "canceled".to_owned())],
        }
    }

    /// A short name for logs (`redirect`, `twiml`, `hangup`, `cancel`), never the content.
    pub fn kind(&self) -> &'static str {
        match self {
            CallUpdate::Redirect { .. } => "redirect",
            CallUpdate::Twiml(_) => "twiml",
            CallUpdate::Hangup => "hangup",
            CallUpdate::Cancel => "cancel",
        }
    }
}

/// A SID that cannot be put in a URL path.
///
/// Twilio SIDs are two letters and 32 hex digits (`CA0123…`). Likely cause: a SID taken from
/// the wrong field, empty, or not from Twilio at all; a SID from a request must never be allowed
/// to add path segments (`../`) to an authenticated API call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: expected 1 to {MAX_SID_LEN} ASCII letters and digits")]
pub struct InvalidSid {
    /// Which SID: `account SID` or `call SID`.
    pub what: &'static str,
}

/// The path of the call update request, `/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`.
///
/// Both SIDs must be 1 to [`MAX_SID_LEN`] ASCII alphanumerics.
pub fn call_update_path(account_sid: &str, call_sid: &str) -> Result<String, InvalidSid> {
    check_sid(account_sid, "account SID")?;
    check_sid(call_sid, "call SID")?;
    Ok(format!(
        "/2010-04-01/Accounts/{account_sid}/Calls/{call_sid}.json"
    ))
}

fn check_sid(sid: &str, what: &'static str) -> Result<(), InvalidSid> {
    if !sid.is_empty() && sid.len() <= MAX_SID_LEN && sid.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        Ok(())
    } else {
        Err(InvalidSid { what })
    }
}

/// What a response means for the update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classification {
    /// `2xx`: the update was applied.
    Success,
    /// `404` (Twilio error 20404), or any answer carrying error code 20404: the call does not
    /// exist any more (it ended), or the SID is wrong. Not retried.
    CallGone,
    /// `429` or `5xx`: try again, after `after` if the server said so (`Retry-After` seconds).
    Retry {
        /// The `Retry-After` delay, when given in seconds.
        after: Option<Duration>,
    },
    /// Any other status: the request was refused; retrying will not help.
    Fail {
        /// HTTP status.
        status: u16,
        /// Twilio's error code (`code` in the JSON body), when present.
        code: Option<u32>,
        /// Twilio's error message, when present.
        message: Option<String>,
    },
}

/// Twilio's code for "the requested resource was not found".
pub const ERROR_NOT_FOUND: u32 = 20404;

/// Classifies a response from its status, its `Retry-After` header and its body.
pub fn classify(status: u16, retry_after: Option<&str>, body: &[u8]) -> Classification {
    let error = ErrorBody::parse(body);
    let code = error.as_ref().and_then(|e| e.code);
    match status {
        200..=299 => Classification::Success,
        404 => Classification::CallGone,
        _ if code == Some(ERROR_NOT_FOUND) => Classification::CallGone,
        429 | 500..=599 => Classification::Retry {
            after: retry_after.and_then(parse_retry_after),
        },
        _ => Classification::Fail {
            status,
            code,
            message: error.and_then(|e| e.message),
        },
    }
}

/// Parses a `Retry-After` value given in seconds. The HTTP-date form gives `None` (the core has
/// no clock to compare it with), and so does anything unparsable.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().map(Duration::from_secs)
}

/// Twilio's JSON error body: `{"code":20404,"message":"…","more_info":"…","status":404}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ErrorBody {
    /// Twilio error code (`https://www.twilio.com/docs/errors/{code}`).
    #[serde(default)]
    pub code: Option<u32>,
    /// Human-readable message.
    #[serde(default)]
    pub message: Option<String>,
    /// Link to the error's documentation.
    #[serde(default)]
    pub more_info: Option<String>,
    /// HTTP status, repeated.
    #[serde(default)]
    pub status: Option<u16>,
}

impl ErrorBody {
    /// Parses an error body; `None` if it is not a JSON object of that shape.
    pub fn parse(body: &[u8]) -> Option<Self> {
        // serde would also accept a JSON array for a struct.
        if body.trim_ascii_start().first() != Some(&b'{') {
            return None;
        }
        serde_json::from_slice(body).ok()
    }
}

/// When and how often to retry.
///
/// The delay after the `n`-th failed attempt is `min(base_delay · 2ⁿ⁻¹, max_delay)`, of which
/// the upper half is scaled by a jitter fraction in `[0, 1]` (so it lies between half and all
/// of that value), and never less than a `Retry-After` the server asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included; `0` counts as `1`.
    pub max_attempts: u32,
    /// Delay before the first retry (before jitter).
    pub base_delay: Duration,
    /// Longest delay between attempts. A `Retry-After` longer than this ends the retries: a
    /// live call should not wait on a rate limit indefinitely.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 250 ms doubling up to 2 s: gives up within about 4 s.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// Backoff after `attempts_made` failed attempts (`1` for the first retry), with `jitter` in
    /// `[0, 1]` (values outside are clamped; NaN counts as 0).
    pub fn backoff(&self, attempts_made: u32, jitter: f64) -> Duration {
        let doublings = attempts_made.saturating_sub(1);
        let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
        let ceiling = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        let half = ceiling / 2;
        // `jitter` is in [0, 1], so the product fits; the fallback and the saturating addition
        // are belt and braces. The result never exceeds `ceiling`.
        let extra = Duration::try_from_secs_f64(half.as_secs_f64() * jitter).unwrap_or(half);
        (ceiling - half).saturating_add(extra).min(ceiling)
    }

    /// The delay before the next attempt, or `None` to stop: when `attempts_made` reached
    /// `max_attempts`, or when the server's `retry_after` exceeds `max_delay`.
    pub fn next_delay(
        &self,
        attempts_made: u32,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Option<Duration> {
        if attempts_made >= self.max_attempts.max(1) {
            return None;
        }
        let backoff = self.backoff(attempts_made, jitter);
        match retry_after {
            Some(after) if after > self.max_delay => None,
            Some(after) => Some(after.max(backoff)),
            None => Some(backoff),
        }
    }
}

/// Settings of a [`RestClient`].
#[derive(Clone)]
pub struct RestConfig {
    /// API base URL, [`DEFAULT_API_BASE`] unless testing against a local server (the emulator);
    /// the request path is appended to it.
    pub api_base: String,
    /// Account SID (`AC…`), the basic-auth user.
    pub account_sid: String,
    /// Auth token, the basic-auth password. Never logged.
    pub auth_token: String,
    /// Time limit of one request (connect, send, response); [`DEFAULT_TIMEOUT`].
    pub timeout: Duration,
    /// Retry policy.
    pub retry: RetryPolicy,
}

impl RestConfig {
    /// Settings for an account, with the default API base, timeout and retry policy.
    pub fn new(account_sid: impl Into<String>, auth_token: impl Into<String>) -> Self {
        Self {
            api_base: DEFAULT_API_BASE.to_owned(),
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }
}

impl fmt::Debug for RestConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestConfig")
            .field("api_base", &self.api_base)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

/// How an update ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// Twilio accepted the update.
    Updated,
    /// The call no longer exists (it ended before the update arrived): nothing to do.
    CallGone,
}

/// Why a call update failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestError {
    /// The configuration is unusable: `api_base` is not an `http(s)` URL, or the HTTP client
    /// could not be built (no TLS provider). Check the `api_base` setting.
    #[error("invalid REST configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },

    /// The account or call SID is not a plain alphanumeric SID. Check where the SID came from.
    #[error(transparent)]
    InvalidSid(#[from] InvalidSid),

    /// Twilio answered `401`: the credentials were refused. Check the account SID and auth token
    /// (rotated token, test credentials, or a subaccount's SID with the parent's token).
    #[error("Twilio refused the credentials (HTTP 401{})", code_suffix(.code))]
    Unauthorized {
        /// Twilio's error code, usually 20003.
        code: Option<u32>,
    },

    /// Twilio refused the update (any status but `2xx`, 401, 404, 429 and `5xx`; usually 400).
    /// Look the code up at `https://www.twilio.com/docs/errors/{code}`; common causes are an
    /// invalid `Url`, malformed TwiML, or a call in a state that cannot be updated (400 "Call is
    /// not in-progress. Cannot redirect." once the call has ended but still exists).
    #[error("Twilio rejected the update: HTTP {status}{}: {}", code_suffix(.code), .message.as_deref().unwrap_or("no message"))]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Twilio's error code.
        code: Option<u32>,
        /// Twilio's error message.
        message: Option<String>,
    },

    /// No answer within the configured timeout. Not retried: Twilio may have applied the
    /// update. Check connectivity to `api_base`, or raise `timeout`.
    #[error("no answer from Twilio within {after:?}; the update may or may not have been applied")]
    Timeout {
        /// The configured timeout.
        after: Duration,
    },

    /// The request failed below HTTP (DNS, TLS, connection reset). Check DNS, proxies, firewall
    /// and that the CA certificates are installed (`ca-certificates`).
    #[error("request to Twilio failed: {0}")]
    Transport(#[source] reqwest::Error),

    /// Twilio kept answering `429`/`5xx` (or the connection kept failing) until the retry policy
    /// gave up. Check Twilio's status page and the account's API concurrency; raise
    /// `max_attempts` if the failures are brief.
    #[error("gave up after {attempts} attempts (last status: {})", status_text(.last_status))]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// Status of the last answer, `None` if the connection failed.
        last_status: Option<u16>,
    },
}

fn code_suffix(code: &Option<u32>) -> String {
    code.map(|c| format!(", Twilio error {c}"))
        .unwrap_or_default()
}

fn status_text(status: &Option<u16>) -> String {
    status.map_or_else(|| "no response".to_owned(), |s| s.to_string())
}

/// Sends call updates to Twilio. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    api_base: String,
    account_sid: String,
    auth_token: String,
    timeout: Duration,
    retry: RetryPolicy,
}

impl fmt::Debug for RestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestClient")
            .field("api_base", &self.api_base)
            .field("account_sid", &self.account_sid)
            .finish_non_exhaustive()
    }
}

impl RestClient {
    /// Builds a client; checks the API base and the account SID.
    pub fn new(config: RestConfig) -> Result<Self, RestError> {
        let api_base = config.api_base.trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&api_base).map_err(|e| RestError::InvalidConfig {
            reason: format!("api_base `{api_base}`: {e}"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https")
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return Err(RestError::InvalidConfig {
                reason: format!(
                    "api_base `{api_base}` must be an http(s) URL without query or fragment"
                ),
            });
        }
        check_sid(&config.account_sid, "account SID")?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| RestError::InvalidConfig {
                reason: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Self {
            http,
            api_base,
            account_sid: config.account_sid,
            auth_token: config.auth_token,
            timeout: config.timeout,
            retry: config.retry,
        })
    }

    /// Applies `update` to the live call `call_sid`, retrying as the policy allows.
    ///
    /// A call that has already ended is [`UpdateOutcome::CallGone`], not an error.
    pub async fn update_call(
        &self,
        call_sid: &str,
        update: &CallUpdate,
    ) -> Result<UpdateOutcome, RestError> {
        let url = format!(
            "{}{}",
            self.api_base,
            call_update_path(&self.account_sid, call_sid)?
        );
        let form = update.form();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let (retry_after, last_status) = match self.send(&url, &form).await {
                Ok((status, retry_after, body)) => {
                    match classify(status, retry_after.as_deref(), &body) {
                        Classification::Success => return Ok(UpdateOutcome::Updated),
                        Classification::CallGone => {
                            tracing::debug!(call_sid, kind = update.kind(), "call already gone");
                            return Ok(UpdateOutcome::CallGone);
                        }
                        Classification::Retry { after } => (after, Some(status)),
                        Classification::Fail {
                            status: 401, code, ..
                        } => return Err(RestError::Unauthorized { code }),
                        Classification::Fail {
                            status,
                            code,
                            message,
                        } => {
                            return Err(RestError::Rejected {
                                status,
                                code,
                                message,
                            });
                        }
                    }
                }
                Err(e) if e.is_timeout() => {
                    return Err(RestError::Timeout {
                        after: self.timeout,
                    });
                }
                // The request never reached Twilio: safe to retry.
                Err(e) if e.is_connect() => {
                    tracing::debug!(call_sid, error = %e, "cannot connect to Twilio");
                    (None, None)
                }
                Err(e) => return Err(RestError::Transport(e)),
            };
            let Some(delay) = self.retry.next_delay(attempts, retry_after, jitter()) else {
                return Err(RestError::RetriesExhausted {
                    attempts,
                    last_status,
                });
            };
            tracing::debug!(
                call_sid,
                kind = update.kind(),
                attempts,
                ?last_status,
                ?delay,
                "retrying call update"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One request: status, `Retry-After` and at most [`MAX_BODY_LEN`] bytes of body.
    async fn send(
        &self,
        url: &str,
        form: &[(&'static str, String)],
    ) -> Result<(u16, Option<String>, Vec<u8>), reqwest::Error> {
        let mut response = self
            .http
            .post(url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(form)
            .send()
            .await?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            let room = MAX_BODY_LEN.saturating_sub(body.len());
            body.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
            if body.len() >= MAX_BODY_LEN {
                break;
            }
        }
        Ok((status, retry_after, body))
    }
}

/// A jitter fraction in `[0, 1)` for the driver. Not cryptographic: `RandomState` is seeded
/// randomly per process and varies per call, which is all backoff jitter needs.
fn jitter() -> f64 {
    let bits = RandomState::new().hash_one(0u8);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}
