//! The TwiML executor: plays Twilio's part for one call, verb by verb.
//!
//! It requests the voice URL, runs the returned document as Twilio does (prompts are heard,
//! `<Gather>` takes the caller's next scripted input, `<Redirect>` fetches, `<Dial>`/`<Enqueue>`
//! hand off, `<Start>`/`<Connect>` open media streams), applies live REST updates the moment
//! they arrive, and records everything in the transcript. Failures of the application become
//! Twilio's "application error" outcome, never a panic.

use crate::api::ApiUpdate;
use crate::clock::Clock;
use crate::gather::{GatherResult, RecordResult, run_gather, run_record, speech_duration};
use crate::http::{AppError, Document, Fetcher};
use crate::media::{self, StreamContext, StreamHandle, StreamSignal};
use crate::recorder::Recorder;
use crate::transcript::{EndReason, Event};
use crate::tts::Voice;
use crate::{CallSpec, DialOutcome};
use hotline_twilio::twiml::{self, GatherPrompt, Method, Response, Verb};
use hotline_twilio::webhook::{CallInfo, CallStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use url::Url;

/// The apology Twilio plays when it cannot run the application's TwiML.
pub const APPLICATION_ERROR_PROMPT: &str =
    "We are sorry, an application error has occurred. Goodbye.";

/// The most documents one call may fetch before the emulator stops it (a redirect loop guard).
pub const MAX_DOCUMENTS: usize = 500;

/// What to do after a document (or a verb) finished.
#[derive(Debug)]
enum Next {
    /// Request TwiML.
    Fetch {
        url: Url,
        method: Method,
        purpose: &'static str,
        extra: Vec<(String, String)>,
    },
    /// Run TwiML given inline (REST `Twiml=`).
    Inline(String),
    /// The call is over.
    End(EndReason),
}

/// Shared, immutable parts every call uses.
pub(crate) struct CallEnv {
    pub fetcher: Fetcher,
    pub voice: Voice,
    pub api_base: String,
    pub registry: crate::api::Registry,
    pub auth_token: String,
}

pub(crate) struct CallRun {
    env: Arc<CallEnv>,
    spec: CallSpec,
    info: CallInfo,
    rec: Recorder,
    streams: Vec<StreamHandle>,
    signals_tx: mpsc::UnboundedSender<StreamSignal>,
    input_busy: Arc<AtomicBool>,
    documents: usize,
    answered: bool,
    status_sequence: u32,
    last_dial_completed: bool,
}

impl CallRun {
    pub(crate) fn new(
        env: Arc<CallEnv>,
        spec: CallSpec,
        info: CallInfo,
        rec: Recorder,
        signals_tx: mpsc::UnboundedSender<StreamSignal>,
    ) -> Self {
        CallRun {
            env,
            spec,
            info,
            rec,
            streams: Vec::new(),
            signals_tx,
            input_busy: Arc::new(AtomicBool::new(false)),
            documents: 0,
            answered: false,
            status_sequence: 0,
            last_dial_completed: false,
        }
    }

    fn clock(&self) -> Clock {
        self.rec.clock().clone()
    }

    /// Runs the call to its end.
    pub(crate) async fn run(
        mut self,
        mut updates: mpsc::UnboundedReceiver<ApiUpdate>,
        mut signals: mpsc::UnboundedReceiver<StreamSignal>,
    ) {
        self.rec.push(Event::CallStarted {
            call_sid: self.info.call_sid.clone(),
            from: self.info.from.clone(),
            to: self.info.to.clone(),
            url: self.spec.url.to_string(),
            api_base: self.env.api_base.clone(),
        });
        self.status_callback(CallStatus::Initiated).await;
        self.status_callback(CallStatus::Ringing).await;

        let clock = self.clock();
        let hangup_at = self
            .spec
            .hangup_after
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let limit_at = u64::try_from(self.spec.max_duration.as_millis()).unwrap_or(u64::MAX);
        let (deadline, deadline_reason) = match hangup_at {
            Some(h) if h <= limit_at => (h, EndReason::CallerHangup),
            _ => (limit_at, EndReason::Limit),
        };

        let mut next = Next::Fetch {
            url: self.spec.url.clone(),
            method: self.spec.method,
            purpose: "voice webhook",
            extra: Vec::new(),
        };
        let reason = loop {
            if let Next::End(reason) = next {
                break reason;
            }
            tokio::select! {
                biased;
                update = updates.recv() => {
                    next = match update {
                        Some(u) => self.apply_update(u).await,
                        None => Next::End(EndReason::Limit),
                    };
                }
                signal = signals.recv() => {
                    next = match signal {
                        Some(StreamSignal::CallerHangup) => {
                            self.rec.push(Event::Caller { action: "hangs up".to_owned() });
                            Next::End(EndReason::CallerHangup)
                        }
                        None => Next::End(EndReason::Limit),
                    };
                }
                () = clock.reached(deadline) => {
                    if deadline_reason == EndReason::CallerHangup {
                        self.rec.push(Event::Caller { action: "hangs up (--hangup-after)".to_owned() });
                    } else {
                        self.rec.push(Event::Warning {
                            code: None,
                            message: format!(
                                "the call reached the emulator's maximum duration ({}); ending it",
                                crate::duration::fmt_duration(self.spec.max_duration)
                            ),
                        });
                    }
                    next = Next::End(deadline_reason.clone());
                }
                n = self.step(next) => { next = n; }
            }
        };
        self.finish(reason).await;
    }

    async fn step(&mut self, next: Next) -> Next {
        match next {
            Next::End(r) => Next::End(r),
            Next::Inline(twiml) => match twiml::parse(&twiml) {
                Ok(parsed) => {
                    self.warn_all(&parsed.warnings);
                    let base = self.spec.url.clone();
                    self.run_document(parsed.response, base).await
                }
                Err(e) => {
                    self.application_error(AppError {
                        code: 12100,
                        message: format!("document parse failure at {e}"),
                    })
                    .await
                }
            },
            Next::Fetch {
                url,
                method,
                purpose,
                extra,
            } => self.fetch_and_run(url, method, purpose, extra).await,
        }
    }

    fn call_params(&self, extra: &[(String, String)]) -> Vec<(String, String)> {
        let status = if self.answered {
            CallStatus::InProgress
        } else {
            CallStatus::Ringing
        };
        let mut p = self.info.params(status);
        p.extend(extra.iter().cloned());
        p
    }

    async fn fetch_and_run(
        &mut self,
        url: Url,
        method: Method,
        purpose: &'static str,
        extra: Vec<(String, String)>,
    ) -> Next {
        self.documents += 1;
        if self.documents > MAX_DOCUMENTS {
            self.rec.push(Event::Warning {
                code: None,
                message: format!(
                    "more than {MAX_DOCUMENTS} documents fetched in one call: stopping a probable redirect loop"
                ),
            });
            return Next::End(EndReason::Limit);
        }
        let params = self.call_params(&extra);
        let (record, result) = self.env.fetcher.fetch_document(&url, method, &params).await;
        self.push_request(purpose, &record, extra.clone());
        let result = match (result, purpose, &self.spec.fallback_url) {
            (Err(e), "voice webhook", Some(fallback)) => {
                self.rec.push(Event::Warning {
                    code: Some(e.code),
                    message: format!("{}; trying the fallback URL", e.message),
                });
                let mut extra = extra;
                extra.push(("ErrorCode".to_owned(), e.code.to_string()));
                extra.push(("ErrorUrl".to_owned(), url.to_string()));
                let params = self.call_params(&extra);
                let fallback = fallback.clone();
                let (record, result) = self
                    .env
                    .fetcher
                    .fetch_document(&fallback, self.spec.fallback_method, &params)
                    .await;
                self.push_request("fallback URL", &record, extra);
                result
            }
            (r, _, _) => r,
        };
        if !self.answered {
            self.answered = true;
            self.status_callback(CallStatus::InProgress).await;
        }
        match result {
            Err(e) => self.application_error(e).await,
            Ok(Document::Twiml(parsed)) => {
                self.warn_all(&parsed.warnings);
                self.run_document(parsed.response, url).await
            }
            Ok(Document::Text(text)) => {
                self.hear_say(&text, None, None, 1).await;
                Next::End(EndReason::Completed)
            }
            Ok(Document::Audio {
                url,
                content_type,
                duration_ms,
            }) => {
                self.rec.push(Event::Play {
                    url,
                    content_type: Some(content_type),
                    duration_ms,
                });
                self.rec.heard(duration_ms);
                self.clock().sleep(Duration::from_millis(duration_ms)).await;
                Next::End(EndReason::Completed)
            }
        }
    }

    fn push_request(
        &self,
        purpose: &str,
        record: &crate::http::RequestRecord,
        extra: Vec<(String, String)>,
    ) {
        self.rec.push(Event::Request {
            purpose: purpose.to_owned(),
            method: record.method.as_str().to_owned(),
            url: record.url.clone(),
            extra,
            status: record.status,
            content_type: record.content_type.clone(),
            elapsed_ms: record.elapsed_ms,
        });
    }

    fn warn_all(&self, warnings: &[twiml::Diagnostic]) {
        for w in warnings {
            self.rec.push(Event::Warning {
                code: Some(12200),
                message: format!(
                    "schema validation warning at line {}, column {}: {}",
                    w.line, w.column, w.message
                ),
            });
        }
    }

    async fn application_error(&mut self, e: AppError) -> Next {
        self.rec.push(Event::ApplicationError {
            code: e.code,
            message: e.message,
        });
        self.hear_say(APPLICATION_ERROR_PROMPT, None, Some("en-US".to_owned()), 1)
            .await;
        Next::End(EndReason::ApplicationError)
    }

    async fn apply_update(&mut self, update: ApiUpdate) -> Next {
        self.rec.push(Event::RestUpdate {
            update: update.describe(),
        });
        self.rec.interrupted();
        // A live update ends a <Connect> stream; <Start> streams keep running.
        self.stop_streams(
            |s| s.bidirectional,
            "the call was updated through the REST API",
        )
        .await;
        match update {
            ApiUpdate::End(_) => Next::End(EndReason::RestCompleted),
            ApiUpdate::Twiml(t) => Next::Inline(t),
            ApiUpdate::Redirect { url, method } => match Url::parse(&url) {
                Ok(url) => Next::Fetch {
                    url,
                    method,
                    purpose: "REST update Url",
                    extra: Vec::new(),
                },
                Err(e) => {
                    self.application_error(AppError {
                        code: 11100,
                        message: format!("invalid URL {url}: {e}"),
                    })
                    .await
                }
            },
        }
    }

    fn resolve(&self, base: &Url, target: &str) -> Result<Url, AppError> {
        base.join(target.trim()).map_err(|e| AppError {
            code: 11100,
            message: format!("invalid URL `{target}`: {e}"),
        })
    }

    async fn run_document(&mut self, doc: Response, doc_url: Url) -> Next {
        self.last_dial_completed = false;
        for verb in doc.verbs {
            if !matches!(verb, Verb::Dial(_)) {
                self.last_dial_completed = false;
            }
            let next = match verb {
                Verb::Say(s) => {
                    self.hear_say(&s.text, s.voice.clone(), s.language.clone(), s.loops())
                        .await;
                    None
                }
                Verb::Play(p) => {
                    self.hear_play(&p, &doc_url).await;
                    None
                }
                Verb::Pause(p) => {
                    self.rec.push(Event::Pause {
                        secs: p.length_secs(),
                    });
                    self.clock()
                        .sleep(Duration::from_secs(u64::from(p.length_secs())))
                        .await;
                    None
                }
                Verb::Gather(g) => self.gather(&g, &doc_url).await,
                Verb::Redirect(r) => Some(match self.resolve(&doc_url, &r.url) {
                    Ok(url) => Next::Fetch {
                        url,
                        method: r.method.unwrap_or_default(),
                        purpose: "redirect",
                        extra: Vec::new(),
                    },
                    Err(e) => self.application_error(e).await,
                }),
                Verb::Hangup => Some(Next::End(EndReason::Hangup)),
                Verb::Reject(r) => {
                    self.rec.push(Event::Warning {
                        code: None,
                        message: format!(
                            "call rejected ({})",
                            r.reason.as_deref().unwrap_or("rejected")
                        ),
                    });
                    Some(Next::End(EndReason::Reject))
                }
                Verb::Dial(d) => self.dial(&d, &doc_url).await,
                Verb::Enqueue(e) => {
                    self.rec.push(Event::Enqueue {
                        queue: e.name.clone(),
                    });
                    Some(Next::End(EndReason::Enqueue))
                }
                Verb::Leave => {
                    self.rec.push(Event::Warning {
                        code: None,
                        message: "<Leave> outside a queue's wait URL: ignored".to_owned(),
                    });
                    None
                }
                Verb::Record(r) => self.record(&r, &doc_url).await,
                Verb::Start(s) => {
                    for stream in &s.streams {
                        self.open_stream(stream, false, &doc_url).await;
                    }
                    None
                }
                Verb::Stop(s) => {
                    let names: Vec<String> = s
                        .streams
                        .iter()
                        .map(|st| st.name.clone().unwrap_or_else(|| st.url.clone()))
                        .collect();
                    self.stop_streams(
                        |h| {
                            names
                                .iter()
                                .any(|n| h.name.as_deref() == Some(n.as_str()) || h.url == *n)
                        },
                        "<Stop><Stream>",
                    )
                    .await;
                    None
                }
                Verb::Connect(c) => {
                    if let Some(closed) = self.open_stream(&c.stream, true, &doc_url).await {
                        // <Connect> blocks until the application closes the socket.
                        let _ = closed.await;
                        self.streams.retain(|s| !s.is_finished());
                    }
                    match &c.action {
                        Some(action) => Some(match self.resolve(&doc_url, action) {
                            Ok(url) => Next::Fetch {
                                url,
                                method: c.method.unwrap_or_default(),
                                purpose: "connect action",
                                extra: Vec::new(),
                            },
                            Err(e) => self.application_error(e).await,
                        }),
                        None => None,
                    }
                }
            };
            if let Some(next) = next {
                return next;
            }
        }
        if self.last_dial_completed {
            Next::End(EndReason::Dial)
        } else {
            Next::End(EndReason::Completed)
        }
    }

    async fn hear_say(
        &mut self,
        text: &str,
        voice: Option<String>,
        language: Option<String>,
        loops: u32,
    ) {
        // loop="0" means "until the call ends"; Twilio caps it, we hear it 10 times.
        let loops = if loops == 0 { 10 } else { loops.min(1000) };
        let once = speech_duration(text);
        let total = once * loops;
        let duration_ms = u64::try_from(total.as_millis()).unwrap_or(u64::MAX);
        self.rec.push(Event::Say {
            text: text.to_owned(),
            voice,
            language,
            duration_ms,
        });
        self.rec.heard(duration_ms);
        self.clock().sleep(total).await;
    }

    async fn hear_play(&mut self, p: &twiml::Play, doc_url: &Url) {
        if let Some(digits) = &p.digits {
            self.rec.push(Event::PlayDigits {
                digits: digits.clone(),
            });
            let ms = 200 * digits.len() as u64;
            self.clock().sleep(Duration::from_millis(ms)).await;
            if p.url.trim().is_empty() {
                return;
            }
        }
        let url = match self.resolve(doc_url, &p.url) {
            Ok(u) => u,
            Err(e) => {
                self.rec.push(Event::Warning {
                    code: Some(e.code),
                    message: e.message,
                });
                return;
            }
        };
        let probe = self.env.fetcher.probe_audio(&url).await;
        if let Some(problem) = probe.problem {
            // Twilio logs the failure and moves on to the next verb.
            self.rec.push(Event::Warning {
                code: Some(problem.code),
                message: format!("<Play> skipped: {}", problem.message),
            });
            return;
        }
        let loops = match p.loops() {
            0 => 10,
            n => n.min(1000),
        };
        let duration_ms = probe.duration_ms.saturating_mul(u64::from(loops));
        self.rec.push(Event::Play {
            url: url.to_string(),
            content_type: probe.content_type,
            duration_ms,
        });
        self.rec.heard(duration_ms);
        self.clock().sleep(Duration::from_millis(duration_ms)).await;
    }

    async fn gather(&mut self, g: &twiml::Gather, doc_url: &Url) -> Option<Next> {
        let action = match &g.action {
            Some(a) => match self.resolve(doc_url, a) {
                Ok(u) => u,
                Err(e) => return Some(self.application_error(e).await),
            },
            None => doc_url.clone(),
        };
        for prompt in &g.prompts {
            match prompt {
                GatherPrompt::Say(s) => {
                    self.hear_say(&s.text, s.voice.clone(), s.language.clone(), s.loops())
                        .await
                }
                GatherPrompt::Play(p) => self.hear_play(p, doc_url).await,
                GatherPrompt::Pause(p) => {
                    self.clock()
                        .sleep(Duration::from_secs(u64::from(p.length_secs())))
                        .await
                }
            }
        }
        self.rec.push(Event::Gather {
            input: g.input_or_default().as_str().to_owned(),
            language: g.language_or_default().to_owned(),
            timeout_secs: g.timeout_secs(),
            action: action.to_string(),
        });
        self.input_busy.store(true, Ordering::SeqCst);
        let rec = self.rec.clone();
        let result = self
            .rec
            .with_script(|script| {
                run_gather(g, script, self.spec.confidence, |step| {
                    rec.push(Event::Caller {
                        action: step.describe(),
                    })
                })
            })
            .unwrap_or(GatherResult::Empty {
                took: Duration::ZERO,
                why: "the caller's script is unavailable".to_owned(),
            });
        let took = match &result {
            GatherResult::Speech { took, .. }
            | GatherResult::Digits { took, .. }
            | GatherResult::Empty { took, .. }
            | GatherResult::CallerHangup { took } => *took,
        };
        self.clock().sleep(took).await;
        self.input_busy.store(false, Ordering::SeqCst);
        let method = g.method_or_default();
        match result {
            GatherResult::CallerHangup { .. } => Some(Next::End(EndReason::CallerHangup)),
            GatherResult::Speech {
                text, confidence, ..
            } => {
                self.rec.push(Event::InputResult {
                    result: format!("speech \"{text}\" (confidence {confidence:.2})"),
                });
                if let Some(partial) = &g.partial_result_callback {
                    self.partial_results(partial, g, doc_url, &text).await;
                }
                Some(Next::Fetch {
                    url: action,
                    method,
                    purpose: "gather action",
                    extra: vec![
                        ("SpeechResult".to_owned(), text),
                        ("Confidence".to_owned(), confidence.to_string()),
                        ("Language".to_owned(), g.language_or_default().to_owned()),
                    ],
                })
            }
            GatherResult::Digits {
                digits,
                finished_by_key,
                ..
            } => {
                let how = if finished_by_key { " (finish key)" } else { "" };
                self.rec.push(Event::InputResult {
                    result: format!("digits {digits}{how}"),
                });
                Some(Next::Fetch {
                    url: action,
                    method,
                    purpose: "gather action",
                    extra: vec![
                        ("Digits".to_owned(), digits),
                        (
                            "FinishedOnKey".to_owned(),
                            if finished_by_key {
                                g.finish_key().map(String::from).unwrap_or_default()
                            } else {
                                String::new()
                            },
                        ),
                    ],
                })
            }
            GatherResult::Empty { why, .. } => {
                if g.action_on_empty() {
                    self.rec.push(Event::InputResult {
                        result: format!("{why}; actionOnEmptyResult requests the action anyway"),
                    });
                    Some(Next::Fetch {
                        url: action,
                        method,
                        purpose: "gather action (empty)",
                        extra: Vec::new(),
                    })
                } else {
                    self.rec.push(Event::InputResult {
                        result: format!("{why}; continuing with the next verb"),
                    });
                    None
                }
            }
        }
    }

    async fn partial_results(
        &mut self,
        target: &str,
        g: &twiml::Gather,
        doc_url: &Url,
        text: &str,
    ) {
        let Ok(url) = self.resolve(doc_url, target) else {
            return;
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        for (i, _) in words.iter().enumerate() {
            let stable = words.get(..i).map(|w| w.join(" ")).unwrap_or_default();
            let unstable = words.get(i..=i).map(|w| w.join(" ")).unwrap_or_default();
            let extra = vec![
                ("SequenceNumber".to_owned(), (i + 1).to_string()),
                ("StableSpeechResult".to_owned(), stable),
                ("UnstableSpeechResult".to_owned(), unstable),
                ("Language".to_owned(), g.language_or_default().to_owned()),
            ];
            let params = self.call_params(&extra);
            let method = g.partial_result_callback_method.unwrap_or_default();
            let (record, err) = self.env.fetcher.callback(&url, method, &params).await;
            self.push_request("partial result callback", &record, extra);
            if let Some(e) = err {
                self.rec.push(Event::Warning {
                    code: Some(e.code),
                    message: e.message,
                });
            }
        }
    }

    async fn dial(&mut self, d: &twiml::Dial, doc_url: &Url) -> Option<Next> {
        let mut targets: Vec<String> = d
            .number
            .iter()
            .filter(|n| !n.trim().is_empty())
            .map(|n| format!("number {}", n.trim()))
            .collect();
        targets.extend(d.targets.iter().map(|t| t.describe()));
        let outcome = self.spec.dial_outcome;
        self.rec.push(Event::Dial {
            targets,
            outcome: outcome.as_str().to_owned(),
        });
        let talk = match outcome {
            DialOutcome::Completed => self.spec.dial_talk,
            DialOutcome::NoAnswer => Duration::from_secs(u64::from(d.timeout_secs())),
            DialOutcome::Busy | DialOutcome::Failed => Duration::from_secs(2),
        };
        self.clock().sleep(talk).await;
        match &d.action {
            Some(action) => Some(match self.resolve(doc_url, action) {
                Ok(url) => {
                    let mut extra = vec![
                        ("DialCallStatus".to_owned(), outcome.as_str().to_owned()),
                        ("DialCallSid".to_owned(), crate::ids::new_sid("CA")),
                    ];
                    if outcome == DialOutcome::Completed {
                        extra.push(("DialCallDuration".to_owned(), talk.as_secs().to_string()));
                        extra.push(("DialBridged".to_owned(), "true".to_owned()));
                    }
                    Next::Fetch {
                        url,
                        method: d.method.unwrap_or_default(),
                        purpose: "dial action",
                        extra,
                    }
                }
                Err(e) => self.application_error(e).await,
            }),
            None => {
                self.last_dial_completed = outcome == DialOutcome::Completed;
                None
            }
        }
    }

    async fn record(&mut self, r: &twiml::Record, doc_url: &Url) -> Option<Next> {
        if r.beep() {
            self.rec.push(Event::Play {
                url: "(beep)".to_owned(),
                content_type: None,
                duration_ms: 500,
            });
            self.clock().sleep(Duration::from_millis(500)).await;
        }
        self.input_busy.store(true, Ordering::SeqCst);
        let rec = self.rec.clone();
        let result = self
            .rec
            .with_script(|script| {
                run_record(r, script, |step| {
                    rec.push(Event::Caller {
                        action: step.describe(),
                    })
                })
            })
            .unwrap_or(RecordResult::Empty {
                took: Duration::ZERO,
            });
        self.input_busy.store(false, Ordering::SeqCst);
        match result {
            RecordResult::CallerHangup => Some(Next::End(EndReason::CallerHangup)),
            RecordResult::Empty { took } => {
                self.clock().sleep(took).await;
                self.rec.push(Event::InputResult {
                    result: "nothing recorded; continuing with the next verb".to_owned(),
                });
                None
            }
            RecordResult::Recorded {
                length,
                text,
                digits,
                took,
                hung_up,
            } => {
                self.clock().sleep(took).await;
                let sid = crate::ids::new_sid("RE");
                let url = format!("{}/recordings/{sid}", self.env.api_base);
                let samples = usize::try_from(length.as_millis() * 8).unwrap_or(0);
                self.env.registry.store_recording(
                    &sid,
                    hotline_audio::wav::write_wav_ulaw(8000, &vec![0xFF; samples]),
                );
                let length_ms = u64::try_from(length.as_millis()).unwrap_or(u64::MAX);
                self.rec.push(Event::Recording {
                    duration_ms: length_ms,
                    url: format!("{url}.wav"),
                });
                let mut extra = vec![
                    ("RecordingUrl".to_owned(), url.clone()),
                    ("RecordingSid".to_owned(), sid.clone()),
                    (
                        "RecordingDuration".to_owned(),
                        length.as_secs().max(1).to_string(),
                    ),
                ];
                if let Some(d) = &digits {
                    extra.push(("Digits".to_owned(), d.clone()));
                }
                if let Some(cb) = &r.recording_status_callback {
                    self.recording_status(cb, r, &sid, &url, length).await;
                }
                if r.transcribe == Some(true)
                    && let Some(cb) = &r.transcribe_callback
                {
                    self.transcription(cb, doc_url, &sid, &url, text.as_deref())
                        .await;
                }
                let action = match &r.action {
                    Some(a) => match self.resolve(doc_url, a) {
                        Ok(u) => u,
                        Err(e) => return Some(self.application_error(e).await),
                    },
                    None => doc_url.clone(),
                };
                let fetch = Next::Fetch {
                    url: action,
                    method: r.method.unwrap_or_default(),
                    purpose: "record action",
                    extra,
                };
                if hung_up {
                    // Twilio still requests the action, but the call is over: its answer is ignored.
                    if let Next::Fetch {
                        url,
                        method,
                        purpose,
                        extra,
                    } = fetch
                    {
                        let params = self.call_params(&extra);
                        let (record, _) =
                            self.env.fetcher.fetch_document(&url, method, &params).await;
                        self.push_request(purpose, &record, extra);
                    }
                    return Some(Next::End(EndReason::CallerHangup));
                }
                Some(fetch)
            }
        }
    }

    async fn recording_status(
        &mut self,
        cb: &str,
        r: &twiml::Record,
        sid: &str,
        url: &str,
        length: Duration,
    ) {
        let Ok(target) = self.resolve(&self.spec.url.clone(), cb) else {
            return;
        };
        let extra = vec![
            ("RecordingSid".to_owned(), sid.to_owned()),
            ("RecordingUrl".to_owned(), url.to_owned()),
            ("RecordingStatus".to_owned(), "completed".to_owned()),
            ("RecordingDuration".to_owned(), length.as_secs().to_string()),
            ("RecordingChannels".to_owned(), "1".to_owned()),
            ("RecordingSource".to_owned(), "RecordVerb".to_owned()),
        ];
        let mut params = vec![
            ("AccountSid".to_owned(), self.info.account_sid.clone()),
            ("CallSid".to_owned(), self.info.call_sid.clone()),
        ];
        params.extend(extra.iter().cloned());
        let method = r.recording_status_callback_method.unwrap_or_default();
        let (record, err) = self.env.fetcher.callback(&target, method, &params).await;
        self.push_request("recording status callback", &record, extra);
        if let Some(e) = err {
            self.rec.push(Event::Warning {
                code: Some(e.code),
                message: e.message,
            });
        }
    }

    async fn transcription(
        &mut self,
        cb: &str,
        doc_url: &Url,
        sid: &str,
        url: &str,
        text: Option<&str>,
    ) {
        let Ok(target) = self.resolve(doc_url, cb) else {
            return;
        };
        let (status, text) = match text {
            Some(t) => ("completed", t.to_owned()),
            None => ("failed", String::new()),
        };
        let extra = vec![
            ("TranscriptionSid".to_owned(), crate::ids::new_sid("TR")),
            ("TranscriptionText".to_owned(), text),
            ("TranscriptionStatus".to_owned(), status.to_owned()),
            ("RecordingSid".to_owned(), sid.to_owned()),
            ("RecordingUrl".to_owned(), url.to_owned()),
        ];
        let params = self.call_params(&extra);
        let (record, err) = self
            .env
            .fetcher
            .callback(&target, Method::Post, &params)
            .await;
        self.push_request("transcription callback", &record, extra);
        if let Some(e) = err {
            self.rec.push(Event::Warning {
                code: Some(e.code),
                message: e.message,
            });
        }
    }

    async fn open_stream(
        &mut self,
        stream: &twiml::Stream,
        bidirectional: bool,
        doc_url: &Url,
    ) -> Option<tokio::sync::oneshot::Receiver<()>> {
        let ctx = StreamContext {
            info: self.info.clone(),
            rec: self.rec.clone(),
            fetcher: self.env.fetcher.clone(),
            voice: self.env.voice.clone(),
            auth_token: self.env.auth_token.clone(),
            language: self.spec.language.clone(),
            input_busy: self.input_busy.clone(),
            signals: self.signals_tx.clone(),
            doc_url: doc_url.clone(),
        };
        match media::open(ctx, stream, bidirectional).await {
            Ok((handle, closed)) => {
                self.streams.push(handle);
                Some(closed)
            }
            Err(()) => None,
        }
    }

    async fn stop_streams(&mut self, which: impl Fn(&StreamHandle) -> bool, reason: &str) {
        let (stop, keep): (Vec<StreamHandle>, Vec<StreamHandle>) =
            self.streams.drain(..).partition(|s| which(s));
        self.streams = keep;
        for s in stop {
            s.stop(reason).await;
        }
    }

    async fn status_callback(&mut self, status: CallStatus) {
        let Some(url) = self.spec.status_callback.clone() else {
            return;
        };
        self.status_sequence += 1;
        let event = match status {
            CallStatus::InProgress => "answered",
            other => other.as_str(),
        };
        let mut extra = vec![
            (
                "CallbackSource".to_owned(),
                "call-progress-events".to_owned(),
            ),
            (
                "SequenceNumber".to_owned(),
                (self.status_sequence - 1).to_string(),
            ),
            ("Timestamp".to_owned(), rfc2822_now()),
        ];
        if status == CallStatus::Completed {
            let secs = self.clock().now_ms() / 1000;
            extra.push(("CallDuration".to_owned(), secs.to_string()));
            extra.push(("Duration".to_owned(), secs.div_ceil(60).max(1).to_string()));
        }
        let mut params = self.info.params(status);
        params.extend(extra.iter().cloned());
        let (record, err) = self
            .env
            .fetcher
            .callback(&url, self.spec.status_callback_method, &params)
            .await;
        self.push_request(&format!("status callback ({event})"), &record, extra);
        if let Some(e) = err {
            self.rec.push(Event::Warning {
                code: Some(e.code),
                message: e.message,
            });
        }
    }

    async fn finish(&mut self, reason: EndReason) {
        self.stop_streams(|_| true, "the call ended").await;
        self.env.registry.unregister(&self.info.call_sid);
        let duration_ms = self.clock().now_ms();
        self.rec.push(Event::CallEnded {
            reason,
            duration_ms,
        });
        self.status_callback(CallStatus::Completed).await;
    }
}

/// The current time in RFC 2822 form, as Twilio's `Timestamp` parameter.
pub(crate) fn rfc2822_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = i64::try_from(days).unwrap_or_default() + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let weekday = DAYS
        .get(usize::try_from(days % 7).unwrap_or(0))
        .copied()
        .unwrap_or("Thu");
    let mon = MONTHS
        .get(usize::try_from(month - 1).unwrap_or(0))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{weekday}, {day:02} {mon} {year} {:02}:{:02}:{:02} +0000",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}
