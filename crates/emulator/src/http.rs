//! HTTP as Twilio does it: signed webhook requests, response classification, audio probing.
//!
//! Every failure is turned into the outcome Twilio would produce — an application error with
//! Twilio's code (11200 retrieval failure, 11205 connection failure, 11750 body too large,
//! 12100 parse failure, 12300 bad content type) — never a panic.

use hotline_twilio::signature;
use hotline_twilio::twiml::{self, Method, Parsed};
use std::time::{Duration, Instant};
use url::Url;

/// Twilio's limit on a TwiML response body (error 11750 above it).
pub const MAX_TWIML_BYTES: usize = 64 * 1024;
/// The most audio the emulator downloads to measure a `<Play>`.
pub const MAX_AUDIO_BYTES: usize = 16 * 1024 * 1024;

/// A document the application returned.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    /// TwiML, parsed.
    Twiml(Parsed),
    /// An audio response: Twilio plays it (`audio/*`).
    Audio {
        /// Where it came from.
        url: String,
        /// Its content type.
        content_type: String,
        /// Its duration, when it could be measured.
        duration_ms: u64,
    },
    /// A `text/plain` response: Twilio reads it out.
    Text(String),
}

/// Twilio's "application error" outcome, with its debugger code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    /// 11200, 11205, 11750, 12100, 12300, …
    pub code: u32,
    /// Why.
    pub message: String,
}

/// What the transcript records about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// `GET`/`POST`.
    pub method: Method,
    /// The URL requested (with the query string, for GET).
    pub url: String,
    /// HTTP status, when a response came.
    pub status: Option<u16>,
    /// Response content type.
    pub content_type: Option<String>,
    /// Wall-clock duration.
    pub elapsed_ms: u64,
}

/// What probing a `<Play>` URL found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioProbe {
    /// Content type.
    pub content_type: Option<String>,
    /// Duration (exact for WAV, estimated for MP3 and others).
    pub duration_ms: u64,
    /// Why Twilio would not play it, when it would not.
    pub problem: Option<AppError>,
}

/// Makes the emulator's requests, signed with the account's auth token.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    auth_token: String,
}

impl Fetcher {
    /// A fetcher with Twilio's webhook timeout (`timeout`, Twilio uses 15 s).
    pub fn new(auth_token: &str, timeout: Duration) -> Result<Fetcher, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent("TwilioProxy/1.1")
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()?;
        Ok(Fetcher {
            client,
            auth_token: auth_token.to_owned(),
        })
    }

    /// Sends a signed request and returns the raw response, as Twilio sends webhooks:
    /// POST with a form body, or GET with the parameters appended to the query string.
    async fn send(
        &self,
        url: &Url,
        method: Method,
        params: &[(String, String)],
    ) -> (RequestRecord, Result<reqwest::Response, AppError>) {
        let started = Instant::now();
        let (request, signed_url) = match method {
            Method::Post => {
                let sig = signature::compute(&self.auth_token, url.as_str(), params);
                (
                    self.client
                        .post(url.clone())
                        .header("X-Twilio-Signature", sig)
                        .header(
                            "Content-Type",
                            "application/x-www-form-urlencoded; charset=UTF-8",
                        )
                        .body(form_body(params)),
                    url.to_string(),
                )
            }
            Method::Get => {
                let mut full = url.clone();
                {
                    let mut q = full.query_pairs_mut();
                    for (k, v) in params {
                        q.append_pair(k, v);
                    }
                }
                let sig = signature::compute(&self.auth_token, full.as_str(), &[]);
                (
                    self.client
                        .get(full.clone())
                        .header("X-Twilio-Signature", sig)
                        .header("Cache-Control", "max-age=259200"),
                    full.to_string(),
                )
            }
        };
        let request = request
            .header("Accept", "*/*")
            .header("I-Twilio-Idempotency-Token", crate::ids::random_hex(16));
        let result = request.send().await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut record = RequestRecord {
            method,
            url: signed_url,
            status: None,
            content_type: None,
            elapsed_ms,
        };
        match result {
            Ok(resp) => {
                record.status = Some(resp.status().as_u16());
                record.content_type = resp
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                (record, Ok(resp))
            }
            Err(e) => {
                let message = if e.is_timeout() {
                    "the application did not answer in time".to_owned()
                } else if e.is_connect() {
                    format!("could not connect: {}", root_cause(&e))
                } else {
                    format!("request failed: {}", root_cause(&e))
                };
                (
                    record,
                    Err(AppError {
                        code: 11205,
                        message,
                    }),
                )
            }
        }
    }

    /// Requests a TwiML document and classifies the answer as Twilio would.
    pub async fn fetch_document(
        &self,
        url: &Url,
        method: Method,
        params: &[(String, String)],
    ) -> (RequestRecord, Result<Document, AppError>) {
        let (mut record, resp) = self.send(url, method, params).await;
        let resp = match resp {
            Ok(r) => r,
            Err(e) => return (record, Err(e)),
        };
        let status = resp.status();
        let mime = mime_of(record.content_type.as_deref());
        let body = match read_limited(resp, MAX_TWIML_BYTES).await {
            Ok(b) => b,
            Err(e) => return (record, Err(e)),
        };
        record.elapsed_ms = record.elapsed_ms.max(1);
        if !status.is_success() {
            return (
                record,
                Err(AppError {
                    code: 11200,
                    message: format!("HTTP retrieval failure: the application answered {status}"),
                }),
            );
        }
        let result = match mime.as_str() {
            "text/xml" | "application/xml" | "text/html" => match std::str::from_utf8(&body) {
                Err(e) => Err(AppError {
                    code: 12100,
                    message: format!("document parse failure: the body is not UTF-8 ({e})"),
                }),
                Ok(text) => twiml::parse(text)
                    .map(Document::Twiml)
                    .map_err(|e| AppError {
                        code: 12100,
                        message: format!("document parse failure at {e}"),
                    }),
            },
            "text/plain" => Ok(Document::Text(
                String::from_utf8_lossy(&body).trim().to_owned(),
            )),
            m if m.starts_with("audio/") => Ok(Document::Audio {
                url: url.to_string(),
                content_type: m.to_owned(),
                duration_ms: audio_duration_ms(m, &body),
            }),
            "" => Err(AppError {
                code: 12300,
                message: "invalid content type: the response has no Content-Type".to_owned(),
            }),
            other => Err(AppError {
                code: 12300,
                message: format!(
                    "invalid content type `{other}` (TwiML must be text/xml or application/xml)"
                ),
            }),
        };
        (record, result)
    }

    /// Posts a callback whose response is ignored (status callbacks, partial results).
    pub async fn callback(
        &self,
        url: &Url,
        method: Method,
        params: &[(String, String)],
    ) -> (RequestRecord, Option<AppError>) {
        let (record, resp) = self.send(url, method, params).await;
        match resp {
            Err(e) => (record, Some(e)),
            Ok(r) if !r.status().is_success() => (
                record,
                Some(AppError {
                    code: 11200,
                    message: format!("callback answered {}", r.status()),
                }),
            ),
            Ok(_) => (record, None),
        }
    }

    /// Fetches a `<Play>` URL to check it and measure it, as Twilio does before playing.
    pub async fn probe_audio(&self, url: &Url) -> AudioProbe {
        let resp = match self.client.get(url.clone()).send().await {
            Ok(r) => r,
            Err(e) => {
                return AudioProbe {
                    content_type: None,
                    duration_ms: 0,
                    problem: Some(AppError {
                        code: 11205,
                        message: format!("cannot fetch {url}: {}", root_cause(&e)),
                    }),
                };
            }
        };
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mime = mime_of(content_type.as_deref());
        if !status.is_success() {
            return AudioProbe {
                content_type,
                duration_ms: 0,
                problem: Some(AppError {
                    code: 11200,
                    message: format!("audio {url} answered {status}"),
                }),
            };
        }
        if !is_playable(&mime) {
            return AudioProbe {
                content_type,
                duration_ms: 0,
                problem: Some(AppError {
                    code: 12300,
                    message: format!(
                        "audio {url} has content type `{mime}`, which Twilio cannot play"
                    ),
                }),
            };
        }
        match read_limited(resp, MAX_AUDIO_BYTES).await {
            Ok(body) => AudioProbe {
                duration_ms: audio_duration_ms(&mime, &body),
                content_type,
                problem: None,
            },
            Err(e) => AudioProbe {
                content_type,
                duration_ms: 0,
                problem: Some(e),
            },
        }
    }
}

/// Encodes form parameters as Twilio does (`application/x-www-form-urlencoded`).
fn form_body(params: &[(String, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.finish()
}

async fn read_limited(mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, AppError> {
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(AppError {
                        code: 11750,
                        message: format!("response body larger than {limit} bytes"),
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(AppError {
                    code: if e.is_timeout() { 11205 } else { 11200 },
                    message: format!("reading the response failed: {}", root_cause(&e)),
                });
            }
        }
    }
}

/// The media type of a Content-Type header, lowercased, without parameters.
pub fn mime_of(content_type: Option<&str>) -> String {
    content_type
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether Twilio's `<Play>` accepts this media type.
pub fn is_playable(mime: &str) -> bool {
    matches!(
        mime,
        "audio/mpeg"
            | "audio/mp3"
            | "audio/wav"
            | "audio/wave"
            | "audio/x-wav"
            | "audio/aiff"
            | "audio/x-aiff"
            | "audio/x-aifc"
            | "audio/gsm"
            | "audio/x-gsm"
            | "audio/ulaw"
            | "audio/basic"
    )
}

/// Duration of an audio body: exact for WAV, from the bitrate for MP3 (128 kbit/s if the first
/// frame header cannot be read), 8 kHz mu-law for `audio/ulaw`/`audio/basic`.
pub fn audio_duration_ms(mime: &str, body: &[u8]) -> u64 {
    if let Ok(wav) = hotline_audio::wav::read_wav(body) {
        let frames = wav.samples.len() as u64 / u64::from(wav.channels.max(1));
        return frames * 1000 / u64::from(wav.sample_rate.max(1));
    }
    match mime {
        "audio/ulaw" | "audio/basic" => body.len() as u64 / 8,
        _ => {
            let kbps = mp3_bitrate_kbps(body).unwrap_or(128);
            body.len() as u64 * 8 / kbps
        }
    }
}

/// Reads the bitrate from the first MPEG-1 Layer III frame header, skipping an ID3v2 tag.
fn mp3_bitrate_kbps(body: &[u8]) -> Option<u64> {
    const RATES: [u64; 16] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0,
    ];
    let mut i = 0usize;
    if body.get(0..3) == Some(b"ID3") {
        let size = body.get(6..10)?;
        let tag = size
            .iter()
            .fold(0usize, |acc, b| (acc << 7) | usize::from(b & 0x7f));
        i = 10 + tag;
    }
    let end = body.len().min(i.saturating_add(4096));
    while i + 3 < end {
        let (b0, b1, b2) = (*body.get(i)?, *body.get(i + 1)?, *body.get(i + 2)?);
        if b0 == 0xFF && (b1 & 0xFE) == 0xFA {
            let rate = *RATES.get(usize::from(b2 >> 4))?;
            return (rate > 0).then_some(rate);
        }
        i += 1;
    }
    None
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_and_playability() {
        assert_eq!(mime_of(Some("Text/XML; charset=utf-8")), "text/xml");
        assert_eq!(mime_of(None), "");
        assert!(is_playable("audio/mpeg"));
        assert!(!is_playable("text/html"));
    }

    #[test]
    fn mp3_duration_from_header() {
        // A 128 kbit/s MPEG-1 Layer III header (0xFFFB 0x90) then 16 000 bytes: 1 s.
        let mut body = vec![0xFF, 0xFB, 0x90, 0x00];
        body.resize(16_000, 0);
        assert_eq!(audio_duration_ms("audio/mpeg", &body), 1000);
        assert_eq!(audio_duration_ms("audio/ulaw", &[0xFF; 8000]), 1000);
    }

    #[test]
    fn form_body_encodes_like_twilio() {
        let p = vec![
            (
                "SpeechResult".to_owned(),
                "j'ai de la fièvre & toux".to_owned(),
            ),
            ("Digits".to_owned(), "1#".to_owned()),
        ];
        assert_eq!(
            form_body(&p),
            "SpeechResult=j%27ai+de+la+fi%C3%A8vre+%26+toux&Digits=1%23"
        );
    }
}
