//! Media Streams WebSocket messages, both directions, as a pure codec.
//!
//! Twilio sends [`Inbound`] messages (`connected`, `start`, `media`, `dtmf`, `mark`, `stop`) as
//! JSON text frames; a bidirectional stream (`<Connect><Stream>`) accepts [`Outbound`] messages
//! (`media`, `mark`, `clear`). Both types have `decode` and `encode`: the server decodes inbound
//! and encodes outbound, the emulator does the reverse.
//!
//! Wire details reproduced from Twilio's examples:
//! - `sequenceNumber`, `media.chunk` and `media.timestamp` are encoded as JSON **strings**
//!   (`"sequenceNumber":"3"`), `mediaFormat.sampleRate`/`channels` as numbers. Decoding accepts
//!   either form for all of them.
//! - Audio payloads stay base64 text in the message types; [`decode_payload`] turns one into
//!   μ-law bytes in a reusable buffer, [`encode_payload`] does the reverse. No frame size is
//!   assumed (Twilio does not guarantee 160 bytes).
//!
//! Robustness rules: a text longer than [`MAX_MESSAGE_LEN`] is refused before parsing; an event
//! name this module does not know decodes to `Unknown` (callers count those, never fail on
//! them); unknown fields are ignored; a known event missing a field it cannot do without
//! (its `streamSid`, `sequenceNumber`, `start.callSid`, `media.payload`, `dtmf.digit`,
//! `mark.name`) is a [`StreamError::MissingField`]. Nothing here panics on any input.
//!
//! This module must stay pure: no sockets, no clocks, no logging.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

mod media_fast;

/// The longest message text accepted, in bytes (256 KiB). Longer texts are refused before
/// parsing: a 20 ms μ-law frame is about 300 bytes of JSON, and a whole second of audio in one
/// message is under 11 KiB.
pub const MAX_MESSAGE_LEN: usize = 256 * 1024;

/// The largest audio payload accepted, in decoded bytes (64 KiB, 8.192 s of 8 kHz μ-law).
///
/// Twilio sends about 20 ms per message, and an application sending audio to Twilio should send
/// similar small chunks; anything this large is a bug or an attack, and is refused before any
/// allocation.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// Base64 as Twilio uses it: standard alphabet, padded when encoding; padding optional when
/// decoding (a missing `=` is not worth failing a call over). Non-canonical trailing bits are
/// still rejected.
const PAYLOAD_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a message or payload could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The text is longer than [`MAX_MESSAGE_LEN`].
    ///
    /// Twilio's messages are a few hundred bytes. Likely cause: the peer is not Twilio (or not the
    /// application, on the emulator side), or it batches far too much audio into one message.
    /// Remedy: send audio in chunks of about 20 ms.
    #[error("message of {len} bytes exceeds the {max}-byte limit")]
    TooLong {
        /// Length of the refused text.
        len: usize,
        /// [`MAX_MESSAGE_LEN`].
        max: usize,
    },

    /// The text is not JSON, is not an object with a string `event`, or a field has the wrong
    /// type.
    ///
    /// Likely cause: the peer is not speaking the Media Streams protocol (a different WebSocket
    /// client on this path), or a field has an unexpected type. The serde message says where.
    #[error("invalid Media Streams message: {0}")]
    Json(#[from] serde_json::Error),

    /// A known event lacks a field it cannot be processed without.
    ///
    /// Likely cause: a hand-written or outdated client. Twilio always sends these fields; check
    /// the message against Twilio's Media Streams documentation.
    #[error("`{event}` message without `{field}`")]
    MissingField {
        /// The event name.
        event: &'static str,
        /// The missing field, as a JSON path (`media.payload`).
        field: &'static str,
    },

    /// A number is too large for its field (`sampleRate` beyond 32 bits, `channels` beyond 16).
    ///
    /// Non-numeric values in numeric fields are [`StreamError::Json`] errors.
    #[error("`{field}` is out of range")]
    InvalidNumber {
        /// The offending field, as a JSON path.
        field: &'static str,
    },

    /// An audio payload is not valid base64.
    ///
    /// Likely cause: the sender used the URL-safe alphabet, sent raw bytes, or truncated the
    /// text. Twilio uses the standard alphabet with padding.
    #[error("audio payload is not valid base64: {0}")]
    InvalidBase64(#[from] base64::DecodeError),

    /// An audio payload would decode to more than [`MAX_PAYLOAD_BYTES`].
    ///
    /// Remedy: send audio in chunks of about 20 ms (160 bytes of μ-law).
    #[error("audio payload of about {len} bytes exceeds the {max}-byte limit")]
    PayloadTooLarge {
        /// Decoded size, estimated from the base64 length.
        len: usize,
        /// [`MAX_PAYLOAD_BYTES`].
        max: usize,
    },
}

/// Appends the bytes of a base64 audio payload to `out`.
///
/// `out` is meant to be reused across messages (clear it between frames if needed); on error it
/// is left as it was. Fails on invalid base64 and on payloads larger than
/// [`MAX_PAYLOAD_BYTES`] (checked from the text length, before decoding). Any length is
/// accepted below that limit, including empty.
pub fn decode_payload(b64: &str, out: &mut Vec<u8>) -> Result<(), StreamError> {
    // Upper bound of the decoded length: 3 bytes per 4 characters, rounding up.
    let estimate = b64.len().div_ceil(4).saturating_mul(3);
    if estimate > MAX_PAYLOAD_BYTES + 2 {
        return Err(StreamError::PayloadTooLarge {
            len: estimate,
            max: MAX_PAYLOAD_BYTES,
        });
    }
    let before = out.len();
    match PAYLOAD_ENGINE.decode_vec(b64, out) {
        Ok(()) if out.len() - before <= MAX_PAYLOAD_BYTES => Ok(()),
        Ok(()) => {
            let len = out.len() - before;
            out.truncate(before);
            Err(StreamError::PayloadTooLarge {
                len,
                max: MAX_PAYLOAD_BYTES,
            })
        }
        Err(e) => {
            out.truncate(before);
            Err(e.into())
        }
    }
}

/// Encodes audio bytes (μ-law, 8 kHz, mono, no header) as a payload: standard base64, padded.
pub fn encode_payload(audio: &[u8]) -> String {
    general_purpose::STANDARD.encode(audio)
}

// ---------------------------------------------------------------------------------------------
// Message types
// ---------------------------------------------------------------------------------------------

/// A message from Twilio to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// `connected`: the first message, before `start`.
    Connected(Connected),
    /// `start`: stream metadata; audio follows.
    Start(Start),
    /// `media`: one chunk of audio.
    Media(Media),
    /// `dtmf`: a key press (bidirectional streams only).
    Dtmf(Dtmf),
    /// `mark`: a mark the application sent has been reached in playback (or cleared).
    Mark(Mark),
    /// `stop`: the stream ended (call hung up, `<Stop><Stream>`, or a call update).
    Stop(Stop),
    /// Any other `event`. Tolerated, never an error: count it and carry on.
    Unknown {
        /// The event name as received.
        event: String,
    },
}

/// The `connected` message. It carries no `streamSid` or `sequenceNumber`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Connected {
    /// `protocol`, `"Call"` in Twilio's examples.
    pub protocol: Option<String>,
    /// `version`, `"1.0.0"` in Twilio's examples.
    pub version: Option<String>,
}

/// The `start` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    /// `sequenceNumber`, starting at 1.
    pub sequence_number: u64,
    /// `streamSid` (`MZ…`). Encoded both at the top level and inside `start`, as Twilio does;
    /// decoding takes the top-level one, or `start.streamSid` when that is absent.
    pub stream_sid: String,
    /// `start.accountSid` (`AC…`).
    pub account_sid: Option<String>,
    /// `start.callSid` (`CA…`).
    pub call_sid: String,
    /// `start.tracks`: `"inbound"`, `"outbound"`. Empty when absent.
    pub tracks: Vec<String>,
    /// `start.customParameters`: the `<Parameter>`s nested in `<Stream>`. Empty when absent.
    pub custom_parameters: BTreeMap<String, String>,
    /// `start.mediaFormat`; Twilio always sends μ-law, 8000 Hz, mono.
    pub media_format: Option<MediaFormat>,
}

/// `start.mediaFormat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFormat {
    /// `encoding`, `"audio/x-mulaw"`.
    pub encoding: String,
    /// `sampleRate`, 8000.
    pub sample_rate: u32,
    /// `channels`, 1.
    pub channels: u16,
}

impl Default for MediaFormat {
    /// The only format Twilio streams: μ-law, 8000 Hz, mono.
    fn default() -> Self {
        Self {
            encoding: "audio/x-mulaw".to_owned(),
            sample_rate: 8000,
            channels: 1,
        }
    }
}

/// The `media` message: one chunk of audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// `sequenceNumber`.
    pub sequence_number: u64,
    /// `streamSid`.
    pub stream_sid: String,
    /// `media.track`: `"inbound"` (the caller) or `"outbound"` (what the caller hears).
    pub track: Option<String>,
    /// `media.chunk`: counts from 1 per track.
    pub chunk: Option<u64>,
    /// `media.timestamp`: milliseconds since the stream started.
    pub timestamp: Option<u64>,
    /// `media.payload`: base64 μ-law; see [`decode_payload`].
    pub payload: String,
}

/// The `dtmf` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dtmf {
    /// `sequenceNumber`.
    pub sequence_number: u64,
    /// `streamSid`.
    pub stream_sid: String,
    /// `dtmf.track`: `"inbound_track"` in Twilio's examples.
    pub track: Option<String>,
    /// `dtmf.digit`: `0`–`9`, `*`, `#` (kept as received).
    pub digit: String,
}

/// The inbound `mark` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// `sequenceNumber`.
    pub sequence_number: u64,
    /// `streamSid`.
    pub stream_sid: String,
    /// `mark.name`: the label the application sent.
    pub name: String,
}

/// The `stop` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    /// `sequenceNumber`.
    pub sequence_number: u64,
    /// `streamSid`.
    pub stream_sid: String,
    /// `stop.accountSid`.
    pub account_sid: Option<String>,
    /// `stop.callSid`.
    pub call_sid: Option<String>,
}

/// A message from the application to Twilio (bidirectional streams only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// `media`: audio to play, base64 μ-law 8 kHz mono without header (see [`encode_payload`]).
    Media {
        /// `streamSid` of the stream to play on.
        stream_sid: String,
        /// `media.payload`.
        payload: String,
    },
    /// `mark`: Twilio echoes it back once the audio queued before it has played.
    Mark {
        /// `streamSid`.
        stream_sid: String,
        /// `mark.name`.
        name: String,
    },
    /// `clear`: discard audio queued for playback (barge-in).
    Clear {
        /// `streamSid`.
        stream_sid: String,
    },
    /// Any other `event`, tolerated when decoding (the emulator counts these).
    Unknown {
        /// The event name as received.
        event: String,
    },
}

impl Inbound {
    /// Decodes one text frame.
    ///
    /// A plain `media` message (the shape Twilio sends, 50 a second per call) is read in one
    /// pass by a dedicated scanner; any other text, or anything unusual in one, goes through the
    /// general `serde_json` decoder, with the same result (see `stream/media_fast.rs`).
    pub fn decode(text: &str) -> Result<Self, StreamError> {
        check_len(text)?;
        if let Some(media) = media_fast::media(text) {
            return Ok(Inbound::Media(media));
        }
        Self::decode_general(text)
    }

    /// The general decoder: every event, any field order and JSON form.
    fn decode_general(text: &str) -> Result<Self, StreamError> {
        check_len(text)?;
        let raw: RawMessage<'_> = serde_json::from_str(text)?;
        Ok(match raw.event.as_ref() {
            "connected" => Inbound::Connected(Connected {
                protocol: field(raw.protocol)?,
                version: field(raw.version)?,
            }),
            "start" => {
                let body: RawStart = event_body(raw.start, "start")?;
                let stream_sid = field(raw.stream_sid)?.or(body.stream_sid).ok_or(
                    StreamError::MissingField {
                        event: "start",
                        field: "streamSid",
                    },
                )?;
                let media_format = body
                    .media_format
                    .map(|f| -> Result<MediaFormat, StreamError> {
                        Ok(MediaFormat {
                            encoding: f.encoding.ok_or(StreamError::MissingField {
                                event: "start",
                                field: "start.mediaFormat.encoding",
                            })?,
                            sample_rate: narrow(
                                f.sample_rate,
                                "start",
                                "start.mediaFormat.sampleRate",
                            )?,
                            channels: narrow(f.channels, "start", "start.mediaFormat.channels")?,
                        })
                    })
                    .transpose()?;
                Inbound::Start(Start {
                    sequence_number: sequence_number(raw.sequence_number, "start")?,
                    stream_sid,
                    account_sid: body.account_sid,
                    call_sid: body.call_sid.ok_or(StreamError::MissingField {
                        event: "start",
                        field: "start.callSid",
                    })?,
                    tracks: body.tracks.unwrap_or_default(),
                    custom_parameters: body.custom_parameters.unwrap_or_default(),
                    media_format,
                })
            }
            "media" => {
                let body: RawMedia = event_body(raw.media, "media")?;
                Inbound::Media(Media {
                    sequence_number: sequence_number(raw.sequence_number, "media")?,
                    stream_sid: stream_sid(raw.stream_sid, "media")?,
                    track: body.track,
                    chunk: body.chunk.map(|n| n.0),
                    timestamp: body.timestamp.map(|n| n.0),
                    payload: body.payload.ok_or(StreamError::MissingField {
                        event: "media",
                        field: "media.payload",
                    })?,
                })
            }
            "dtmf" => {
                let body: RawDtmf = event_body(raw.dtmf, "dtmf")?;
                Inbound::Dtmf(Dtmf {
                    sequence_number: sequence_number(raw.sequence_number, "dtmf")?,
                    stream_sid: stream_sid(raw.stream_sid, "dtmf")?,
                    track: body.track,
                    digit: body.digit.ok_or(StreamError::MissingField {
                        event: "dtmf",
                        field: "dtmf.digit",
                    })?,
                })
            }
            "mark" => {
                let body: RawMark = event_body(raw.mark, "mark")?;
                Inbound::Mark(Mark {
                    sequence_number: sequence_number(raw.sequence_number, "mark")?,
                    stream_sid: stream_sid(raw.stream_sid, "mark")?,
                    name: body.name.ok_or(StreamError::MissingField {
                        event: "mark",
                        field: "mark.name",
                    })?,
                })
            }
            "stop" => {
                let body: RawStop = field(raw.stop)?.unwrap_or_default();
                Inbound::Stop(Stop {
                    sequence_number: sequence_number(raw.sequence_number, "stop")?,
                    stream_sid: stream_sid(raw.stream_sid, "stop")?,
                    account_sid: body.account_sid,
                    call_sid: body.call_sid,
                })
            }
            _ => Inbound::Unknown {
                event: raw.event.into_owned(),
            },
        })
    }

    /// Encodes the message as Twilio sends it (numbers as strings where Twilio uses strings).
    ///
    /// `Unknown { event }` encodes as `{"event":"…"}` (the emulator uses it to test tolerance);
    /// with a known event name that text will not decode back.
    pub fn encode(&self) -> String {
        match self {
            Inbound::Connected(m) => to_json(&WireConnected {
                event: "connected",
                protocol: m.protocol.as_deref(),
                version: m.version.as_deref(),
            }),
            Inbound::Start(m) => to_json(&WireEnvelope {
                event: "start",
                sequence_number: Some(Num(m.sequence_number)),
                stream_sid: &m.stream_sid,
                start: Some(WireStart {
                    stream_sid: &m.stream_sid,
                    account_sid: m.account_sid.as_deref(),
                    call_sid: &m.call_sid,
                    tracks: &m.tracks,
                    custom_parameters: &m.custom_parameters,
                    media_format: m.media_format.as_ref().map(|f| WireMediaFormat {
                        encoding: &f.encoding,
                        sample_rate: f.sample_rate,
                        channels: f.channels,
                    }),
                }),
                ..WireEnvelope::default()
            }),
            Inbound::Media(m) => to_json(&WireEnvelope {
                event: "media",
                sequence_number: Some(Num(m.sequence_number)),
                stream_sid: &m.stream_sid,
                media: Some(WireMedia {
                    track: m.track.as_deref(),
                    chunk: m.chunk.map(Num),
                    timestamp: m.timestamp.map(Num),
                    payload: &m.payload,
                }),
                ..WireEnvelope::default()
            }),
            Inbound::Dtmf(m) => to_json(&WireEnvelope {
                event: "dtmf",
                sequence_number: Some(Num(m.sequence_number)),
                stream_sid: &m.stream_sid,
                dtmf: Some(WireDtmf {
                    track: m.track.as_deref(),
                    digit: &m.digit,
                }),
                ..WireEnvelope::default()
            }),
            Inbound::Mark(m) => to_json(&WireEnvelope {
                event: "mark",
                sequence_number: Some(Num(m.sequence_number)),
                stream_sid: &m.stream_sid,
                mark: Some(WireMark { name: &m.name }),
                ..WireEnvelope::default()
            }),
            Inbound::Stop(m) => to_json(&WireEnvelope {
                event: "stop",
                sequence_number: Some(Num(m.sequence_number)),
                stream_sid: &m.stream_sid,
                stop: Some(WireStop {
                    account_sid: m.account_sid.as_deref(),
                    call_sid: m.call_sid.as_deref(),
                }),
                ..WireEnvelope::default()
            }),
            Inbound::Unknown { event } => to_json(&WireEvent { event }),
        }
    }

    /// The `event` name.
    pub fn event(&self) -> &str {
        match self {
            Inbound::Connected(_) => "connected",
            Inbound::Start(_) => "start",
            Inbound::Media(_) => "media",
            Inbound::Dtmf(_) => "dtmf",
            Inbound::Mark(_) => "mark",
            Inbound::Stop(_) => "stop",
            Inbound::Unknown { event } => event,
        }
    }

    /// The `streamSid`, for every message that has one.
    pub fn stream_sid(&self) -> Option<&str> {
        match self {
            Inbound::Start(m) => Some(&m.stream_sid),
            Inbound::Media(m) => Some(&m.stream_sid),
            Inbound::Dtmf(m) => Some(&m.stream_sid),
            Inbound::Mark(m) => Some(&m.stream_sid),
            Inbound::Stop(m) => Some(&m.stream_sid),
            Inbound::Connected(_) | Inbound::Unknown { .. } => None,
        }
    }

    /// The `sequenceNumber`, for every message that has one.
    pub fn sequence_number(&self) -> Option<u64> {
        match self {
            Inbound::Start(m) => Some(m.sequence_number),
            Inbound::Media(m) => Some(m.sequence_number),
            Inbound::Dtmf(m) => Some(m.sequence_number),
            Inbound::Mark(m) => Some(m.sequence_number),
            Inbound::Stop(m) => Some(m.sequence_number),
            Inbound::Connected(_) | Inbound::Unknown { .. } => None,
        }
    }
}

impl Outbound {
    /// Decodes one text frame sent by the application.
    pub fn decode(text: &str) -> Result<Self, StreamError> {
        check_len(text)?;
        let raw: RawMessage<'_> = serde_json::from_str(text)?;
        Ok(match raw.event.as_ref() {
            "media" => {
                let body: RawMedia = event_body(raw.media, "media")?;
                Outbound::Media {
                    stream_sid: stream_sid(raw.stream_sid, "media")?,
                    payload: body.payload.ok_or(StreamError::MissingField {
                        event: "media",
                        field: "media.payload",
                    })?,
                }
            }
            "mark" => {
                let body: RawMark = event_body(raw.mark, "mark")?;
                Outbound::Mark {
                    stream_sid: stream_sid(raw.stream_sid, "mark")?,
                    name: body.name.ok_or(StreamError::MissingField {
                        event: "mark",
                        field: "mark.name",
                    })?,
                }
            }
            "clear" => Outbound::Clear {
                stream_sid: stream_sid(raw.stream_sid, "clear")?,
            },
            _ => Outbound::Unknown {
                event: raw.event.into_owned(),
            },
        })
    }

    /// Encodes the message as Twilio expects it.
    pub fn encode(&self) -> String {
        match self {
            Outbound::Media {
                stream_sid,
                payload,
            } => to_json(&WireEnvelope {
                event: "media",
                stream_sid,
                media: Some(WireMedia {
                    payload,
                    ..WireMedia::default()
                }),
                ..WireEnvelope::default()
            }),
            Outbound::Mark { stream_sid, name } => to_json(&WireEnvelope {
                event: "mark",
                stream_sid,
                mark: Some(WireMark { name }),
                ..WireEnvelope::default()
            }),
            Outbound::Clear { stream_sid } => to_json(&WireEnvelope {
                event: "clear",
                stream_sid,
                ..WireEnvelope::default()
            }),
            Outbound::Unknown { event } => to_json(&WireEvent { event }),
        }
    }

    /// The `event` name.
    pub fn event(&self) -> &str {
        match self {
            Outbound::Media { .. } => "media",
            Outbound::Mark { .. } => "mark",
            Outbound::Clear { .. } => "clear",
            Outbound::Unknown { event } => event,
        }
    }
}

fn check_len(text: &str) -> Result<(), StreamError> {
    if text.len() > MAX_MESSAGE_LEN {
        Err(StreamError::TooLong {
            len: text.len(),
            max: MAX_MESSAGE_LEN,
        })
    } else {
        Ok(())
    }
}

fn sequence_number(raw: Option<&RawValue>, event: &'static str) -> Result<u64, StreamError> {
    field::<Num>(raw)?
        .map(|n| n.0)
        .ok_or(StreamError::MissingField {
            event,
            field: "sequenceNumber",
        })
}

fn stream_sid(raw: Option<&RawValue>, event: &'static str) -> Result<String, StreamError> {
    field(raw)?.ok_or(StreamError::MissingField {
        event,
        field: "streamSid",
    })
}

fn narrow<T: TryFrom<u64>>(
    n: Option<Num>,
    event: &'static str,
    field: &'static str,
) -> Result<T, StreamError> {
    let n = n.ok_or(StreamError::MissingField { event, field })?;
    T::try_from(n.0).map_err(|_| StreamError::InvalidNumber { field })
}

/// Parses a field kept raw in [`RawMessage`]; absent or `null` gives `None`.
fn field<'a, T: Deserialize<'a>>(raw: Option<&'a RawValue>) -> Result<Option<T>, StreamError> {
    match raw {
        None => Ok(None),
        Some(raw) => Ok(serde_json::from_str::<Option<T>>(raw.get())?),
    }
}

/// Parses the sub-object named like the event (`"media":{…}`), which must be present.
fn event_body<'a, T: Deserialize<'a>>(
    raw: Option<&'a RawValue>,
    event: &'static str,
) -> Result<T, StreamError> {
    field(raw)?.ok_or(StreamError::MissingField {
        event,
        field: event,
    })
}

/// Serialises wire structs. These hold only strings, integers and string-keyed maps, for which
/// `serde_json` cannot fail; the empty-string fallback is unreachable.
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Decoding helpers: the raw shapes
// ---------------------------------------------------------------------------------------------

/// The envelope common to every message. Everything but `event` stays raw until the event is
/// known, so that an unknown event may carry fields of any shape (a numeric `version`, an
/// array `media`) without failing to decode.
#[derive(Deserialize)]
struct RawMessage<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(rename = "sequenceNumber", borrow, default)]
    sequence_number: Option<&'a RawValue>,
    #[serde(rename = "streamSid", borrow, default)]
    stream_sid: Option<&'a RawValue>,
    #[serde(borrow, default)]
    protocol: Option<&'a RawValue>,
    #[serde(borrow, default)]
    version: Option<&'a RawValue>,
    #[serde(borrow, default)]
    start: Option<&'a RawValue>,
    #[serde(borrow, default)]
    media: Option<&'a RawValue>,
    #[serde(borrow, default)]
    dtmf: Option<&'a RawValue>,
    #[serde(borrow, default)]
    mark: Option<&'a RawValue>,
    #[serde(borrow, default)]
    stop: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStart {
    #[serde(default)]
    stream_sid: Option<String>,
    #[serde(default)]
    account_sid: Option<String>,
    #[serde(default)]
    call_sid: Option<String>,
    #[serde(default)]
    tracks: Option<Vec<String>>,
    #[serde(default)]
    custom_parameters: Option<BTreeMap<String, String>>,
    #[serde(default)]
    media_format: Option<RawMediaFormat>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMediaFormat {
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    sample_rate: Option<Num>,
    #[serde(default)]
    channels: Option<Num>,
}

#[derive(Deserialize)]
struct RawMedia {
    #[serde(default)]
    track: Option<String>,
    #[serde(default)]
    chunk: Option<Num>,
    #[serde(default)]
    timestamp: Option<Num>,
    #[serde(default)]
    payload: Option<String>,
}

#[derive(Deserialize)]
struct RawDtmf {
    #[serde(default)]
    track: Option<String>,
    #[serde(default)]
    digit: Option<String>,
}

#[derive(Deserialize)]
struct RawMark {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawStop {
    #[serde(default)]
    account_sid: Option<String>,
    #[serde(default)]
    call_sid: Option<String>,
}

/// A non-negative integer given as a JSON number or a decimal string; serialised as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Num(u64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumVisitor;

        impl Visitor<'_> for NumVisitor {
            type Value = Num;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer, as a number or a decimal string")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                u64::try_from(v)
                    .map(Num)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(E::invalid_value(de::Unexpected::Str(v), &self));
                }
                v.parse()
                    .map(Num)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }

        deserializer.deserialize_any(NumVisitor)
    }
}

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding helpers: the wire shapes, fields in Twilio's order
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct WireEvent<'a> {
    event: &'a str,
}

#[derive(Serialize)]
struct WireConnected<'a> {
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
}

#[derive(Serialize, Default)]
struct WireEnvelope<'a> {
    event: &'static str,
    #[serde(rename = "sequenceNumber", skip_serializing_if = "Option::is_none")]
    sequence_number: Option<Num>,
    #[serde(rename = "streamSid")]
    stream_sid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<WireStart<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    media: Option<WireMedia<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dtmf: Option<WireDtmf<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mark: Option<WireMark<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop: Option<WireStop<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireStart<'a> {
    stream_sid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_sid: Option<&'a str>,
    call_sid: &'a str,
    tracks: &'a [String],
    custom_parameters: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    media_format: Option<WireMediaFormat<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireMediaFormat<'a> {
    encoding: &'a str,
    sample_rate: u32,
    channels: u16,
}

#[derive(Serialize, Default)]
struct WireMedia<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    track: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chunk: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<Num>,
    payload: &'a str,
}

#[derive(Serialize)]
struct WireDtmf<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    track: Option<&'a str>,
    digit: &'a str,
}

#[derive(Serialize)]
struct WireMark<'a> {
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireStop<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    account_sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    call_sid: Option<&'a str>,
}
