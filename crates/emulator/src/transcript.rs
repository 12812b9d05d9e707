//! The call transcript: every request, verb, caller action and outcome, timestamped on the
//! call clock; rendered as readable text or JSON, and checked against a scenario's expectations.

use crate::duration::{fmt_clock, fmt_duration};
use crate::script::Expectation;
use serde::Serialize;
use std::fmt::Write as _;
use std::time::Duration;

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndReason {
    /// The application said `<Hangup/>`.
    Hangup,
    /// The caller hung up (script step or `--hangup-after`).
    CallerHangup,
    /// The document ran out of verbs (or was empty).
    Completed,
    /// The caller was connected elsewhere by `<Dial>` and that call ended the emulation.
    Dial,
    /// The caller was put in a queue.
    Enqueue,
    /// The application rejected the call.
    Reject,
    /// Twilio could not get or understand the application's TwiML.
    ApplicationError,
    /// The application ended the call through the REST API (`Status=completed`/`canceled`).
    RestCompleted,
    /// An emulator safety limit was reached (maximum duration, too many documents).
    Limit,
}

impl EndReason {
    /// The spelling used in scenarios' `ended_by`.
    pub fn as_str(&self) -> &'static str {
        match self {
            EndReason::Hangup => "hangup",
            EndReason::CallerHangup => "caller-hangup",
            EndReason::Completed => "completed",
            EndReason::Dial => "dial",
            EndReason::Enqueue => "enqueue",
            EndReason::Reject => "reject",
            EndReason::ApplicationError => "application-error",
            EndReason::RestCompleted => "rest-completed",
            EndReason::Limit => "limit",
        }
    }
}

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The emulator placed the call.
    CallStarted {
        /// `CallSid`.
        call_sid: String,
        /// `From`.
        from: String,
        /// `To`.
        to: String,
        /// The voice URL.
        url: String,
        /// Where the emulated REST API listens.
        api_base: String,
    },
    /// An HTTP request the emulator (as Twilio) made.
    Request {
        /// Why: `voice webhook`, `gather action`, `redirect`, `status callback`, …
        purpose: String,
        /// `GET` or `POST`.
        method: String,
        /// The URL.
        url: String,
        /// Parameters beyond the standard call parameters (`Digits`, `SpeechResult`, …).
        extra: Vec<(String, String)>,
        /// The HTTP status, when a response came.
        status: Option<u16>,
        /// The response's content type.
        content_type: Option<String>,
        /// Wall-clock milliseconds the request took.
        elapsed_ms: u64,
    },
    /// Something Twilio would log as a warning or error in its debugger.
    Warning {
        /// Twilio's error code, when one applies.
        code: Option<u32>,
        /// What happened.
        message: String,
    },
    /// `<Say>` heard.
    Say {
        /// The words.
        text: String,
        /// `voice`.
        voice: Option<String>,
        /// `language`.
        language: Option<String>,
        /// Estimated duration of all loops.
        duration_ms: u64,
    },
    /// `<Play>` heard.
    Play {
        /// The audio URL.
        url: String,
        /// Its content type, when fetched.
        content_type: Option<String>,
        /// Its duration (exact for WAV, estimated otherwise).
        duration_ms: u64,
    },
    /// `<Play digits>`: tones sent.
    PlayDigits {
        /// The keys.
        digits: String,
    },
    /// `<Pause>`.
    Pause {
        /// Seconds.
        secs: u32,
    },
    /// A `<Gather>` started listening.
    Gather {
        /// `dtmf`, `speech` or `dtmf speech`.
        input: String,
        /// Recognition language.
        language: String,
        /// Seconds to wait for input.
        timeout_secs: u32,
        /// Where the result goes.
        action: String,
    },
    /// The caller acted.
    Caller {
        /// What the caller did.
        action: String,
    },
    /// A `<Gather>` or `<Record>` finished.
    InputResult {
        /// What was collected, or why nothing was.
        result: String,
    },
    /// `<Dial>` reached.
    Dial {
        /// The targets dialled.
        targets: Vec<String>,
        /// `DialCallStatus`.
        outcome: String,
    },
    /// `<Enqueue>` reached.
    Enqueue {
        /// The queue.
        queue: String,
    },
    /// `<Record>` made a recording.
    Recording {
        /// Length.
        duration_ms: u64,
        /// Where it can be fetched.
        url: String,
    },
    /// A media stream WebSocket was opened.
    StreamStarted {
        /// The stream URL.
        url: String,
        /// `StreamSid`.
        stream_sid: String,
        /// `<Connect>` (bidirectional) or `<Start>`.
        bidirectional: bool,
        /// `customParameters`.
        parameters: Vec<(String, String)>,
    },
    /// Audio the application sent back over a bidirectional stream.
    StreamAudio {
        /// How much audio.
        duration_ms: u64,
    },
    /// A `mark` the application sent, echoed when its audio had played.
    StreamMark {
        /// The mark's name.
        name: String,
        /// Whether it was echoed because of a `clear`.
        cleared: bool,
    },
    /// The application sent `clear` (barge-in).
    StreamClear {
        /// Milliseconds of queued audio discarded.
        discarded_ms: u64,
    },
    /// A media stream ended.
    StreamStopped {
        /// `StreamSid`.
        stream_sid: String,
        /// Why.
        reason: String,
        /// Messages the application sent that the emulator did not understand.
        unknown_messages: u64,
    },
    /// The application updated the live call through the REST API.
    RestUpdate {
        /// `Url`, `Twiml` or `Status=…`.
        update: String,
    },
    /// Twilio's "application error" outcome: the caller hears an apology and the call ends.
    ApplicationError {
        /// Twilio's error code (11200, 11205, 11750, 12100, 12300, …).
        code: u32,
        /// Why, with line and column for TwiML errors.
        message: String,
    },
    /// The call ended.
    CallEnded {
        /// How.
        reason: EndReason,
        /// Emulated call length.
        duration_ms: u64,
    },
}

/// An event with its time on the call clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Milliseconds since the call started (emulated time).
    pub t_ms: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// The whole record of a call.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Transcript {
    /// Events in order.
    pub entries: Vec<Entry>,
}

/// The result of checking one expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// The expectation, as written.
    pub expectation: String,
    /// Whether it held.
    pub passed: bool,
    /// What was found instead, when it failed.
    pub detail: Option<String>,
}

impl Transcript {
    /// Appends an event.
    pub fn push(&mut self, t_ms: u64, event: Event) {
        self.entries.push(Entry { t_ms, event });
    }

    /// How the call ended, if it has.
    pub fn end(&self) -> Option<(&EndReason, u64)> {
        self.entries.iter().rev().find_map(|e| match &e.event {
            Event::CallEnded {
                reason,
                duration_ms,
            } => Some((reason, *duration_ms)),
            _ => None,
        })
    }

    /// Everything heard: `<Say>` texts and `<Play>` URLs.
    pub fn heard(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter_map(|e| match &e.event {
            Event::Say { text, .. } => Some(text.as_str()),
            Event::Play { url, .. } => Some(url.as_str()),
            _ => None,
        })
    }

    fn posted(&self, name: &str) -> impl Iterator<Item = &str> {
        self.entries.iter().flat_map(move |e| match &e.event {
            Event::Request { extra, .. } => extra
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    }

    /// Checks each expectation.
    pub fn check(&self, expectations: &[Expectation]) -> Vec<Check> {
        expectations.iter().map(|x| self.check_one(x)).collect()
    }

    fn check_one(&self, x: &Expectation) -> Check {
        let contains =
            |hay: &str, needle: &str| hay.to_lowercase().contains(&needle.to_lowercase());
        let (label, result): (String, Result<(), String>) = match x {
            Expectation::Heard(s) => (
                format!("heard {s:?}"),
                if self.heard().any(|h| contains(h, s)) {
                    Ok(())
                } else {
                    Err(format!("heard: {:?}", self.heard().collect::<Vec<_>>()))
                },
            ),
            Expectation::NotHeard(s) => (
                format!("not heard {s:?}"),
                match self.heard().find(|h| contains(h, s)) {
                    Some(h) => Err(format!("heard {h:?}")),
                    None => Ok(()),
                },
            ),
            Expectation::Dialed(s) => {
                let dialled: Vec<&String> = self
                    .entries
                    .iter()
                    .flat_map(|e| match &e.event {
                        Event::Dial { targets, .. } => targets.iter().collect(),
                        _ => Vec::new(),
                    })
                    .collect();
                (
                    format!("dialed {s:?}"),
                    if dialled.iter().any(|t| contains(t, s)) {
                        Ok(())
                    } else {
                        Err(format!("dialled: {dialled:?}"))
                    },
                )
            }
            Expectation::Enqueued(s) => {
                let queues: Vec<&String> = self
                    .entries
                    .iter()
                    .filter_map(|e| match &e.event {
                        Event::Enqueue { queue } => Some(queue),
                        _ => None,
                    })
                    .collect();
                (
                    format!("enqueued {s:?}"),
                    if queues.iter().any(|q| contains(q, s)) {
                        Ok(())
                    } else {
                        Err(format!("queues: {queues:?}"))
                    },
                )
            }
            Expectation::Requested(s) => {
                let urls: Vec<&String> = self
                    .entries
                    .iter()
                    .filter_map(|e| match &e.event {
                        Event::Request { url, .. } => Some(url),
                        _ => None,
                    })
                    .collect();
                (
                    format!("requested {s:?}"),
                    if urls.iter().any(|u| u.contains(s.as_str())) {
                        Ok(())
                    } else {
                        Err(format!("requested: {urls:?}"))
                    },
                )
            }
            Expectation::SpeechPosted(s) => {
                let posted: Vec<&str> = self.posted("SpeechResult").collect();
                (
                    format!("speech posted {s:?}"),
                    if posted.iter().any(|p| p.eq_ignore_ascii_case(s)) {
                        Ok(())
                    } else {
                        Err(format!("posted: {posted:?}"))
                    },
                )
            }
            Expectation::DigitsPosted(s) => {
                let posted: Vec<&str> = self.posted("Digits").collect();
                (
                    format!("digits posted {s:?}"),
                    if posted.contains(&s.as_str()) {
                        Ok(())
                    } else {
                        Err(format!("posted: {posted:?}"))
                    },
                )
            }
            Expectation::EndedBy(s) => (
                format!("ended by {s}"),
                match self.end() {
                    Some((r, _)) if r.as_str() == s => Ok(()),
                    Some((r, _)) => Err(format!("ended by {}", r.as_str())),
                    None => Err("the call did not end".to_owned()),
                },
            ),
            Expectation::MaxDuration(s) => (
                format!("lasted at most {s}"),
                match crate::duration::parse_duration(s) {
                    Err(e) => Err(e),
                    Ok(max) => match self.end() {
                        Some((_, ms)) if Duration::from_millis(ms) <= max => Ok(()),
                        Some((_, ms)) => Err(format!(
                            "lasted {}",
                            fmt_duration(Duration::from_millis(ms))
                        )),
                        None => Err("the call did not end".to_owned()),
                    },
                },
            ),
        };
        Check {
            expectation: label,
            passed: result.is_ok(),
            detail: result.err(),
        }
    }

    /// Renders the transcript for a person.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            let _ = writeln!(out, "[{}] {}", fmt_clock(e.t_ms), describe(&e.event));
        }
        out
    }
}

fn ms(ms: u64) -> String {
    fmt_duration(Duration::from_millis(ms))
}

/// One line describing an event.
pub fn describe(event: &Event) -> String {
    match event {
        Event::CallStarted {
            call_sid,
            from,
            to,
            url,
            api_base,
        } => format!("call {call_sid} from {from} to {to} → {url} (REST API at {api_base})"),
        Event::Request {
            purpose,
            method,
            url,
            extra,
            status,
            content_type,
            elapsed_ms,
        } => {
            let extra = if extra.is_empty() {
                String::new()
            } else {
                let kv: Vec<String> = extra.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                format!(" [{}]", kv.join(" "))
            };
            let answer = match status {
                Some(s) => format!(
                    "{s} {} in {elapsed_ms}ms",
                    content_type.as_deref().unwrap_or("(no content type)")
                ),
                None => format!("no response after {elapsed_ms}ms"),
            };
            format!("→ {purpose}: {method} {url}{extra} ← {answer}")
        }
        Event::Warning { code, message } => match code {
            Some(c) => format!("⚠ warning {c}: {message}"),
            None => format!("⚠ warning: {message}"),
        },
        Event::Say {
            text,
            voice,
            language,
            duration_ms,
        } => {
            let mut attrs = Vec::new();
            if let Some(v) = voice {
                attrs.push(format!("voice {v}"));
            }
            if let Some(l) = language {
                attrs.push(l.clone());
            }
            attrs.push(format!("≈{}", ms(*duration_ms)));
            format!("🔊 Say \"{text}\" ({})", attrs.join(", "))
        }
        Event::Play {
            url,
            content_type,
            duration_ms,
        } => format!(
            "🔊 Play {url} ({}, {})",
            content_type.as_deref().unwrap_or("not fetched"),
            ms(*duration_ms)
        ),
        Event::PlayDigits { digits } => format!("🔊 Play digits {digits}"),
        Event::Pause { secs } => format!("… Pause {secs}s"),
        Event::Gather {
            input,
            language,
            timeout_secs,
            action,
        } => format!("👂 Gather {input} ({language}, timeout {timeout_secs}s) → {action}"),
        Event::Caller { action } => format!("📞 caller {action}"),
        Event::InputResult { result } => format!("   {result}"),
        Event::Dial { targets, outcome } => format!("☎ Dial {} → {outcome}", targets.join(", ")),
        Event::Enqueue { queue } => format!("☎ Enqueue into queue \"{queue}\""),
        Event::Recording { duration_ms, url } => {
            format!("⏺ recorded {} → {url}", ms(*duration_ms))
        }
        Event::StreamStarted {
            url,
            stream_sid,
            bidirectional,
            parameters,
        } => {
            let kind = if *bidirectional {
                "Connect (bidirectional)"
            } else {
                "Start (caller audio forked)"
            };
            let params = if parameters.is_empty() {
                String::new()
            } else {
                let kv: Vec<String> = parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!(" params {}", kv.join(","))
            };
            format!("⇄ stream {stream_sid} {kind} → {url}{params}")
        }
        Event::StreamAudio { duration_ms } => format!("🔊 stream audio {}", ms(*duration_ms)),
        Event::StreamMark { name, cleared } => {
            if *cleared {
                format!("⇄ mark \"{name}\" echoed (cleared)")
            } else {
                format!("⇄ mark \"{name}\" echoed (played)")
            }
        }
        Event::StreamClear { discarded_ms } => {
            format!("⇄ clear: {} of queued audio discarded", ms(*discarded_ms))
        }
        Event::StreamStopped {
            stream_sid,
            reason,
            unknown_messages,
        } => {
            if *unknown_messages > 0 {
                format!(
                    "⇄ stream {stream_sid} stopped: {reason} ({unknown_messages} unknown messages ignored)"
                )
            } else {
                format!("⇄ stream {stream_sid} stopped: {reason}")
            }
        }
        Event::RestUpdate { update } => format!("↻ REST call update: {update}"),
        Event::ApplicationError { code, message } => format!(
            "✖ application error {code}: {message} — caller hears \"We are sorry, an application error has occurred. Goodbye.\""
        ),
        Event::CallEnded {
            reason,
            duration_ms,
        } => format!("call ended: {} after {}", reason.as_str(), ms(*duration_ms)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Transcript {
        let mut t = Transcript::default();
        t.push(
            0,
            Event::Play {
                url: "https://x/intro.mp3".into(),
                content_type: Some("audio/mpeg".into()),
                duration_ms: 4000,
            },
        );
        t.push(
            4000,
            Event::Request {
                purpose: "gather action".into(),
                method: "POST".into(),
                url: "http://h/step".into(),
                extra: vec![("SpeechResult".into(), "oui".into())],
                status: Some(200),
                content_type: Some("text/xml".into()),
                elapsed_ms: 2,
            },
        );
        t.push(
            4100,
            Event::Dial {
                targets: vec!["number 15".into()],
                outcome: "completed".into(),
            },
        );
        t.push(
            9000,
            Event::CallEnded {
                reason: EndReason::Dial,
                duration_ms: 9000,
            },
        );
        t
    }

    #[test]
    fn expectations_pass_and_fail_with_detail() {
        let t = sample();
        let checks = t.check(&[
            Expectation::Heard("INTRO".into()),
            Expectation::NotHeard("error-01".into()),
            Expectation::Dialed("15".into()),
            Expectation::SpeechPosted("Oui".into()),
            Expectation::EndedBy("dial".into()),
            Expectation::MaxDuration("10s".into()),
            Expectation::EndedBy("hangup".into()),
        ]);
        let failed: Vec<&Check> = checks.iter().filter(|c| !c.passed).collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].detail.as_deref(), Some("ended by dial"));
    }

    #[test]
    fn renders_text_and_json() {
        let t = sample();
        let text = t.render_text();
        assert!(text.contains("[00:04.100] ☎ Dial number 15 → completed"));
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["entries"][3]["type"], "call_ended");
        assert_eq!(json["entries"][3]["reason"], "dial");
    }
}
