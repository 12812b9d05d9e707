//! The call engine: one Twilio webhook in, one TwiML document out.
//!
//! For each request it loads the call's session, steps the flow runtime (a pure function),
//! performs the runtime's effects (flow webhooks), writes the step's events to the durable call
//! records and stores the new session — both before answering, so nothing Twilio is told is
//! lost by a crash. A retried webhook (same `seq`) gets the stored answer again, never a second
//! step; a stale one gets a graceful answer.
//!
//! Every failure becomes spoken TwiML (an apology in the flow's language, then a restart, a
//! transfer or a hang-up), never a 500 to Twilio.

use crate::decoded::{DecodedSessions, Warm};
use crate::intents::{self, IntentEngines};
use crate::links::ServerLinks;
use crate::metrics::{Failure, Metrics};
use crate::registry::FlowRegistry;
use hotline_flow::Flow;
use hotline_flow::runtime::{
    self, CallFacts, Effect, Input, SeqCheck, Session, StepEvent, Turn, Understood,
};
use hotline_store::{
    CallEnd, CallRecord, CasOutcome, RecordStore, SessionStore, StepRecord, TurnRecord,
};
use hotline_twilio::twiml::{self, Response};
use hotline_twilio::webhook::Form;
use std::sync::Arc;
use std::time::Duration;

/// The first step-record `seq` of recordings' transcriptions: the recording's webhook seq is
/// added to it.
pub const TRANSCRIPTION_SEQ_BASE: u32 = 2_000_000_000;

/// The most flow-webhook effects performed in one request (guards a misbehaving flow).
pub const MAX_EFFECTS_PER_REQUEST: usize = 8;
/// The largest flow-webhook reply accepted.
pub const MAX_WEBHOOK_REPLY_BYTES: usize = 64 * 1024;

/// What to do with a callback for a call the server has no session for (after a restart with
/// the memory store, or an expired session): the server's default (`--lost-call`), used for
/// flows that do not set `on-lost-call:` themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LostCallPolicy {
    /// Apologise and start the flow again from its start node.
    Restart,
    /// Apologise and transfer the caller to this number or SIP URI.
    Transfer(String),
    /// Apologise and hang up.
    Hangup,
}

impl From<&hotline_flow::LostCall> for LostCallPolicy {
    fn from(l: &hotline_flow::LostCall) -> Self {
        match l {
            hotline_flow::LostCall::Restart => LostCallPolicy::Restart,
            hotline_flow::LostCall::Transfer(target) => LostCallPolicy::Transfer(target.clone()),
            hotline_flow::LostCall::Hangup => LostCallPolicy::Hangup,
        }
    }
}

/// What the engine needs.
pub struct Engine {
    /// Served flows.
    pub flows: Arc<FlowRegistry>,
    /// Sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// Durable call records.
    pub records: Arc<dyn RecordStore>,
    /// URL building.
    pub links: ServerLinks,
    /// For flow webhooks.
    pub http: reqwest::Client,
    /// How long a session lives without activity.
    pub session_ttl: Duration,
    /// Callbacks for unknown calls.
    pub lost_call: LostCallPolicy,
    /// Intent engines for flows that declare `intents:`.
    pub intents: Arc<IntentEngines>,
    /// Classifications in flight at most (one per core): the rest wait their turn instead of
    /// piling up on blocking threads.
    pub intent_permits: Arc<tokio::sync::Semaphore>,
    /// The sessions this server last stored, still decoded (a cache the store's bytes
    /// validate; see [`crate::decoded`]).
    pub decoded: DecodedSessions,
    /// Operational counters ([`crate::metrics`]).
    pub metrics: Arc<Metrics>,
}

/// What is kept per call between webhooks.
/// `last` borrows: from the session store's bytes when decoded (a webhook that steps the call
/// never copies the previous TwiML, nor checks it: it is read only to be replayed), or from the
/// new answer when encoded.
#[derive(Debug, Clone)]
struct Stored<'a> {
    session: Session,
    /// The last TwiML answered, replayed to a retried webhook: UTF-8 as written, checked when
    /// replayed ([`Stored::replay`]).
    last: &'a [u8],
    /// Next step-record sequence number.
    rec: u32,
}

/// The frame's magic and version: the session in the flow runtime's binary encoding.
const STORED_MAGIC: &[u8; 4] = b"HSv2";
/// The previous frame (the session as JSON), still read: sessions kept in Redis by an older
/// server keep working.
const STORED_MAGIC_V1: &[u8; 4] = b"HSv1";

impl<'a> Stored<'a> {
    /// `HSv2`, `rec` (u32 LE), the session's length (u32 LE), the session
    /// ([`Session::encode_binary`]), then the last TwiML as raw bytes: the XML is neither
    /// escaped on write nor unescaped on read. The frame comes with the session it encodes,
    /// for [`DecodedSessions`].
    fn encode(self) -> Warm {
        let mut out = Vec::with_capacity(512 + self.last.len());
        out.extend_from_slice(STORED_MAGIC);
        out.extend_from_slice(&self.rec.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        self.session.encode_binary(&mut out);
        let len = u32::try_from(out.len() - 12).unwrap_or(u32::MAX);
        if let Some(slot) = out.get_mut(8..12) {
            slot.copy_from_slice(&len.to_le_bytes());
        }
        let last_at = out.len();
        out.extend_from_slice(self.last);
        Warm {
            session: self.session,
            rec: self.rec,
            bytes: out,
            last_at,
        }
    }

    /// The last TwiML answered, again. Bytes that are not UTF-8 (a shared store that corrupted
    /// them) are replaced, never passed on as they are.
    fn replay(&self) -> Answer {
        Answer {
            xml: String::from_utf8_lossy(self.last).into_owned(),
        }
    }

    /// The stored frame `bytes` of `call_sid`: from `cache` if it holds exactly these bytes'
    /// session, else decoded.
    fn load(cache: &DecodedSessions, call_sid: &str, bytes: &'a [u8]) -> Option<Stored<'a>> {
        match cache.take(call_sid, bytes) {
            Some((session, rec, last_at)) => Some(Stored {
                session,
                last: bytes.get(last_at..)?,
                rec,
            }),
            None => Stored::decode(bytes),
        }
    }

    /// Decodes [`Stored::encode`]'s frame (or the older JSON one); `None` for anything else.
    fn decode(bytes: &'a [u8]) -> Option<Stored<'a>> {
        let magic = bytes.get(..4)?;
        let rec = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
        let len = u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?) as usize;
        let end = 12usize.checked_add(len)?;
        let framed = bytes.get(12..end)?;
        let session = if magic == STORED_MAGIC {
            Session::decode_binary(framed)?
        } else if magic == STORED_MAGIC_V1 {
            serde_json::from_slice(framed).ok()?
        } else {
            return None;
        };
        let last = bytes.get(end..)?;
        Some(Stored { session, last, rec })
    }
}

/// A Twilio request's parameters, already signature-checked.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Form);

impl Params {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name)
    }
}

/// An answer for Twilio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// TwiML.
    pub xml: String,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

fn apology_text(language: &str) -> &'static str {
    if language.to_ascii_lowercase().starts_with("fr") {
        "Nous sommes désolés, un problème technique est survenu."
    } else if language.to_ascii_lowercase().starts_with("es") {
        "Lo sentimos, ha ocurrido un problema técnico."
    } else {
        "We are sorry, a technical problem occurred."
    }
}

/// TwiML that apologises, then restarts the flow, transfers or hangs up.
pub fn apology(language: &str, then: Option<Response>) -> Answer {
    let mut r =
        Response::new().say(twiml::Say::new(apology_text(language)).with_language(language));
    match then {
        Some(next) => r.verbs.extend(next.verbs),
        None => r = r.hangup(),
    }
    Answer { xml: r.to_xml() }
}

impl Engine {
    /// A new call reached a flow's voice URL.
    ///
    /// The call may be in a session already: a retried voice webhook of this flow gets its
    /// answer again; a call that a `redirect` (of another flow, or of this one) sent here starts
    /// this flow in a new session that replaces the old one. `first_rec`, given only by
    /// Hotline's own redirects (a bot's return to its flow, a lost call's restart), is the
    /// first step-record `seq` this flow may use, and always starts the flow anew. A replaced
    /// session's steps are numbered on from its own, so no step of the call is overwritten.
    pub async fn start_call(
        &self,
        flow_id: &str,
        params: &Params,
        first_rec: Option<u32>,
    ) -> Answer {
        let Some(flow) = self.flows.current(flow_id) else {
            tracing::warn!(flow = flow_id, "voice webhook for an unknown flow");
            self.metrics.failed(Failure::UnknownFlow);
            return apology("en-US", None);
        };
        let Some(call_sid) = params.get("CallSid").filter(|s| valid_sid(s)) else {
            return apology(&flow.default_language, None);
        };
        let mut rec = first_rec.unwrap_or(0);
        let mut replaces = None;
        if let Ok(Some(existing)) = self.sessions.get(call_sid).await
            && let Some(stored) = Stored::decode(&existing.bytes)
        {
            let redirected_here = matches!(
                &stored.session.ended,
                Some(runtime::Outcome::Redirected { flow: to }) if *to == flow.id
            );
            // Twilio may retry a voice webhook: answer it the same way.
            if stored.session.flow_id == flow.id
                && stored.rec > 0
                && !redirected_here
                && first_rec.is_none()
            {
                return stored.replay();
            }
            replaces = Some(existing.version);
            rec = rec.max(stored.rec);
        }
        let facts = CallFacts {
            call_sid: call_sid.to_owned(),
            from: params.get("From").unwrap_or_default().to_owned(),
            to: params.get("To").unwrap_or_default().to_owned(),
            now_unix_ms: now_ms(),
        };
        let links = self.links.at(now_ms() / 1000);
        let (mut session, turn) = runtime::start(&flow, facts.clone(), &links);
        let turn = self.drive_effects(&flow, &mut session, turn, &links).await;
        let record = CallRecord::started(
            call_sid,
            &flow.id,
            &flow.version_hash,
            &facts.from,
            &facts.to,
            i64::try_from(facts.now_unix_ms).unwrap_or(i64::MAX),
        );
        let xml = turn.response.to_xml();
        let steps = step_records(call_sid, &mut rec, turn.events, &session);
        let ended = session.ended.as_ref().map(outcome_name);
        let stored = Stored {
            session,
            last: xml.as_bytes(),
            rec,
        };
        let next = stored.encode();
        self.metrics.call_started(&flow.id);
        let ends_now = ended.is_some();
        self.persist(
            call_sid,
            Some(record),
            steps,
            ended,
            ends_now,
            replaces,
            next,
            xml,
        )
        .await
    }

    /// A callback for a call in progress (`<Gather>`, `<Dial>`, `<Record>` actions).
    pub async fn step_call(&self, flow_id: &str, seq: Option<u64>, params: &Params) -> Answer {
        self.step_call_with(flow_id, seq, params, None).await
    }

    /// [`Engine::step_call`] with the runtime input given (a bot's result) instead of decoded
    /// from Twilio's parameters.
    pub async fn step_call_with(
        &self,
        flow_id: &str,
        seq: Option<u64>,
        params: &Params,
        input: Option<Input>,
    ) -> Answer {
        // Only the failure paths need the flow's language: look it up there, not per webhook.
        let language = || self.flow_language(flow_id);
        let Some(call_sid) = params.get("CallSid").filter(|s| valid_sid(s)) else {
            return apology(&language(), None);
        };
        let loaded = match self.sessions.get(call_sid).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                // Ended, expired or lost: nothing kept decoded for it will be used again.
                self.decoded.remove(call_sid);
                return self.lost_call(call_sid, flow_id, &language(), None).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read a session");
                self.metrics.failed(Failure::Sessions);
                return apology(&language(), None);
            }
        };
        let Some(mut stored) = Stored::load(&self.decoded, call_sid, &loaded.bytes) else {
            tracing::error!("a stored session does not decode");
            return self.lost_call(call_sid, flow_id, &language(), None).await;
        };
        match seq.map(|s| stored.session.check_seq(s)) {
            Some(SeqCheck::Current) => {}
            Some(SeqCheck::Retry) => {
                return stored.replay();
            }
            _ => {
                tracing::info!(
                    call = call_sid,
                    "stale callback: answered with the call's current prompt"
                );
                // Put the caller back where the call actually is.
                return stored.replay();
            }
        }
        let flow = match self
            .flows
            .version(&stored.session.flow_id, &stored.session.flow_version)
        {
            Some(f) => f,
            None => {
                let rec = Some(stored.rec);
                return self
                    .lost_call(call_sid, flow_id, &stored.session.language, rec)
                    .await;
            }
        };
        let input = match input {
            Some(i) => i,
            None => {
                self.understand(&flow, &stored.session, input_from(params))
                    .await
            }
        };
        let links = self.links.at(now_ms() / 1000);
        let ended_before = stored.session.ended.is_some();
        let turn = runtime::step(&flow, &mut stored.session, input, &links);
        let turn = self
            .drive_effects(&flow, &mut stored.session, turn, &links)
            .await;
        let xml = turn.response.to_xml();
        let steps = step_records(call_sid, &mut stored.rec, turn.events, &stored.session);
        let ended = stored.session.ended.as_ref().map(outcome_name);
        let ends_now = !ended_before && ended.is_some();
        stored.last = xml.as_bytes();
        let next = stored.encode();
        self.persist(
            call_sid,
            None,
            steps,
            ended,
            ends_now,
            Some(loaded.version),
            next,
            xml,
        )
        .await
    }

    /// Classifies a `<Gather>` transcript with the flow's intent engine (`intents:`), on a
    /// blocking thread (sentence embeddings are CPU work). Any other input, a flow without an
    /// engine, or a failed classification leaves the input as it is: the routes then see no
    /// intent, and the question's no-match handling applies.
    async fn understand(&self, flow: &Flow, session: &Session, input: Input) -> Input {
        if !matches!(session.awaiting, runtime::Awaiting::Gather { .. }) {
            return input;
        }
        let Input::Gathered {
            speech: Some((text, confidence)),
            digits,
            intent: None,
        } = input
        else {
            return input;
        };
        let engine = flow
            .intent_engine
            .as_ref()
            .and_then(|name| self.intents.get(name))
            .cloned();
        let intent = match engine {
            None => None,
            Some(engine) => {
                let language = session.language.clone();
                let bounded = intents::bounded(&text).to_owned();
                // The semaphore is never closed; if it were, classify without a permit.
                let _permit = self.intent_permits.acquire().await.ok();
                match tokio::task::spawn_blocking(move || engine.classify(&language, &bounded))
                    .await
                {
                    Ok(found) => found.map(|c| Understood {
                        intent: c.intent,
                        confidence: c.confidence,
                    }),
                    Err(e) => {
                        tracing::error!(error = %e, flow = %flow.id, "intent classification failed; the answer has no intent");
                        None
                    }
                }
            }
        };
        Input::Gathered {
            speech: Some((text, confidence)),
            digits,
            intent,
        }
    }

    /// Makes a turn durable, then answers it: the call's records (its start, its steps, its end)
    /// and its new session are written concurrently, and the TwiML is returned only once both
    /// are. A session written meanwhile by a concurrent duplicate of this webhook wins: its
    /// answer is returned instead, so Twilio sees one consistent call. The session stored is
    /// kept decoded for the call's next webhook. `ends_now`: this turn ended the call (counted in
    /// the metrics once stored).
    #[allow(clippy::too_many_arguments)]
    async fn persist(
        &self,
        call_sid: &str,
        started: Option<CallRecord>,
        steps: Vec<StepRecord>,
        ended: Option<String>,
        ends_now: bool,
        expected_version: Option<u64>,
        next: Warm,
        xml: String,
    ) -> Answer {
        // One queued write, one commit: the start, the steps and the end of this turn.
        let records = self.records.record_turn(TurnRecord {
            started,
            steps,
            ended: ended.map(|outcome| CallEnd::new(call_sid, outcome, now_ms_i64())),
        });
        let write = self.sessions.compare_and_put(
            call_sid,
            expected_version,
            &next.bytes,
            self.session_ttl,
        );
        let (records, write) = tokio::join!(records, write);
        let language = &next.session.language;
        if let Err(e) = records {
            tracing::error!(error = %e, "cannot record a call's steps");
            self.metrics.failed(Failure::Records);
            return apology(language, None);
        }
        match write {
            Ok(CasOutcome::Stored { .. }) => {
                if ends_now && let Some(outcome) = &next.session.ended {
                    self.metrics.call_ended(&next.session.flow_id, outcome);
                }
                self.decoded.put(call_sid, next);
                Answer { xml }
            }
            Ok(CasOutcome::Conflict { .. }) => match self.sessions.get(call_sid).await {
                Ok(Some(s)) => Stored::decode(&s.bytes)
                    .map(|st| st.replay())
                    .unwrap_or(Answer { xml }),
                _ => Answer { xml },
            },
            Err(e) => {
                tracing::error!(error = %e, "cannot store a session");
                self.metrics.failed(Failure::Sessions);
                apology(language, None)
            }
        }
    }

    /// Twilio's transcription of a recording made at `node` of `flow_id` (the `record` node's
    /// `transcribe: true`), posted to the URL the node's webhook `seq` gave: a `transcribed`
    /// step of the call's record, with the text, committed before the answer. It may come after
    /// the call ended. A records failure is logged and counted, as for the status callback.
    pub async fn transcribed(
        &self,
        flow_id: &str,
        seq: Option<u64>,
        node: Option<&str>,
        params: &Params,
    ) {
        let call_sid = params.get("CallSid").filter(|s| valid_sid(s));
        // The record's seq: past every other step of the call (its own webhooks' seqs stay far
        // below), one per recording.
        let rec = seq
            .and_then(|s| u32::try_from(s).ok())
            .and_then(|s| TRANSCRIPTION_SEQ_BASE.checked_add(s));
        let (Some(call_sid), Some(rec), Some(node)) = (call_sid, rec, node) else {
            tracing::warn!(
                flow = flow_id,
                "a transcription callback that names no call, step or node: ignored"
            );
            return;
        };
        // The node must be one the call was at, as its record says: not one of the flow as it
        // is now, since a transcription comes minutes after the call, when an edit may have
        // renamed the node or a restart dropped the version the call ran on. A rare callback:
        // the one read costs nothing that matters.
        match self.records.get_call(call_sid).await {
            Ok(Some((_, steps))) if steps.iter().any(|s| s.node == node) => {}
            Ok(_) => {
                tracing::warn!(
                    flow = flow_id,
                    call_sid,
                    node,
                    "a transcription callback for a node the call's record never reached: ignored"
                );
                return;
            }
            // The URL is Hotline's own, signed: keep the text rather than lose it.
            Err(e) => {
                tracing::error!(error = %e, "cannot read a call's record for its transcription");
                self.metrics.failed(Failure::Records);
            }
        }
        let completed = params.get("TranscriptionStatus") == Some("completed");
        let mut step = StepRecord::new(
            call_sid.to_owned(),
            rec,
            now_ms_i64(),
            node.to_owned(),
            hotline_store::records::kind::TRANSCRIBED,
        );
        if completed {
            step.speech = params.get("TranscriptionText").map(str::to_owned);
        } else {
            step.detail = Some("failed".to_owned());
        }
        let turn = TurnRecord {
            started: None,
            steps: vec![step],
            ended: None,
        };
        if let Err(e) = self.records.record_turn(turn).await {
            tracing::error!(error = %e, "cannot record a transcription");
            self.metrics.failed(Failure::Records);
        }
    }

    /// Twilio's call status callback: a completed call ends its record (a caller who hung up
    /// mid-flow is recorded as such, at the node they were at) and its session. A call whose
    /// session was lost (a restart with the memory store, an expired session) ends
    /// [`hotline_store::OUTCOME_LOST`] if its record is still open.
    pub async fn call_status(&self, params: &Params) {
        let Some(call_sid) = params.get("CallSid").filter(|s| valid_sid(s)) else {
            return;
        };
        let status = params.get("CallStatus").unwrap_or_default();
        if !call_is_over(status) {
            return;
        }
        let loaded = match self.sessions.get(call_sid).await {
            Ok(Some(loaded)) => loaded,
            Ok(None) => {
                self.decoded.remove(call_sid);
                self.end_lost(call_sid).await;
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read a session");
                return;
            }
        };
        let Some(mut stored) = Stored::load(&self.decoded, call_sid, &loaded.bytes) else {
            return;
        };
        if stored.session.ended.is_none()
            && let Some(flow) = self
                .flows
                .version(&stored.session.flow_id, &stored.session.flow_version)
        {
            let links = self.links.at(now_ms() / 1000);
            let turn = runtime::step(
                &flow,
                &mut stored.session,
                Input::CallEnded {
                    status: status.to_owned(),
                },
                &links,
            );
            let steps = step_records(call_sid, &mut stored.rec, turn.events, &stored.session);
            let outcome = stored
                .session
                .ended
                .as_ref()
                .map(outcome_name)
                .unwrap_or_else(|| hotline_store::OUTCOME_CALLER_HANGUP.to_owned());
            let turn = TurnRecord {
                started: None,
                steps,
                ended: Some(CallEnd::new(call_sid, outcome, now_ms_i64())),
            };
            match self.records.record_turn(turn).await {
                Ok(()) => self.metrics.call_ended(
                    &stored.session.flow_id,
                    stored
                        .session
                        .ended
                        .as_ref()
                        .unwrap_or(&hotline_flow::runtime::Outcome::CallerHungUp),
                ),
                Err(e) => {
                    tracing::error!(error = %e, "cannot record a call's end");
                    self.metrics.failed(Failure::Records);
                }
            }
        }
        let _ = self.sessions.delete(call_sid).await;
        self.decoded.remove(call_sid);
    }

    /// Ends the record of a call the server had lost the session of, if it is still open (a
    /// call ended already, or never recorded, is left alone), and counts its end under its
    /// flow. The record is read first, on this rare path only: the status callback does not
    /// say which flow the call was on.
    async fn end_lost(&self, call_sid: &str) {
        let flow = match self.records.get_call(call_sid).await {
            Ok(Some((call, _))) if call.ended_at_ms.is_none() => Some(call.flow_id),
            Ok(_) => return,
            // Written anyway: the end only applies to an open record.
            Err(e) => {
                tracing::error!(error = %e, "cannot read a lost call's record");
                None
            }
        };
        let turn = TurnRecord {
            started: None,
            steps: Vec::new(),
            ended: Some(CallEnd {
                only_if_open: true,
                ..CallEnd::new(call_sid, hotline_store::OUTCOME_LOST, now_ms_i64())
            }),
        };
        match self.records.record_turn(turn).await {
            Ok(()) => {
                tracing::info!(call_sid, "a call whose session was lost ended");
                if let Some(flow) = flow {
                    self.metrics.call_ended_lost(&flow);
                }
            }
            Err(hotline_store::StoreError::UnknownCall(_)) => {}
            Err(e) => tracing::error!(error = %e, "cannot record a lost call's end"),
        }
    }

    /// The default language of a served flow (for apologies), `en-US` if it is unknown.
    fn flow_language(&self, flow_id: &str) -> String {
        self.flows
            .current(flow_id)
            .map(|f| f.default_language.clone())
            .unwrap_or_else(|| "en-US".to_owned())
    }

    /// The answer to a callback for a call without a session: the flow's `on-lost-call`, or
    /// the server's default. A restart goes on in the call's record after its last step:
    /// `next_rec`, the session's next step seq, or the record's (read only on this rare path).
    async fn lost_call(
        &self,
        call_sid: &str,
        flow_id: &str,
        language: &str,
        next_rec: Option<u32>,
    ) -> Answer {
        self.metrics.call_lost();
        let policy = self
            .flows
            .current(flow_id)
            .and_then(|f| f.on_lost_call.as_ref().map(LostCallPolicy::from))
            .unwrap_or_else(|| self.lost_call.clone());
        match &policy {
            LostCallPolicy::Hangup => apology(language, None),
            LostCallPolicy::Restart => {
                let rec = match next_rec {
                    Some(rec) => rec,
                    None => match self.records.get_call(call_sid).await {
                        Ok(Some((_, steps))) => steps
                            .iter()
                            .map(|s| s.seq.saturating_add(1))
                            .max()
                            .unwrap_or(0),
                        _ => 0,
                    },
                };
                let url = format!("{}?rec={rec}", self.links.flow_entry_url(flow_id));
                let restart = Response::new().redirect(twiml::Redirect::new(url));
                apology(language, Some(restart))
            }
            LostCallPolicy::Transfer(target) => {
                let dial = if target.starts_with("sip:") {
                    twiml::Dial::to(twiml::DialTarget::sip(target.clone()))
                } else {
                    twiml::Dial::number(target.clone())
                };
                apology(language, Some(Response::new().dial(dial)))
            }
        }
    }

    async fn drive_effects(
        &self,
        flow: &Flow,
        session: &mut Session,
        mut turn: Turn,
        links: &crate::links::LinksAt<'_>,
    ) -> Turn {
        for _ in 0..MAX_EFFECTS_PER_REQUEST {
            let Some(effect) = turn.effect.take() else {
                return turn;
            };
            let result = match effect {
                Effect::Webhook {
                    url,
                    body,
                    timeout_ms,
                } => self.call_webhook(&url, &body, timeout_ms).await,
            };
            let next = runtime::step(flow, session, Input::WebhookReplied(result), links);
            turn = turn.then(next);
        }
        if turn.effect.is_some() {
            tracing::warn!(flow = %flow.id, "too many webhooks in one request");
            turn.effect = None;
        }
        turn
    }

    async fn call_webhook(
        &self,
        url: &str,
        body: &serde_json::Value,
        timeout_ms: u64,
    ) -> Result<serde_json::Value, String> {
        let resp = self
            .http
            .post(url)
            .timeout(Duration::from_millis(timeout_ms.clamp(100, 30_000)))
            .json(body)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    "the webhook did not answer in time".to_owned()
                } else {
                    format!("the webhook could not be reached: {e}")
                }
            })?;
        if !resp.status().is_success() {
            return Err(format!("the webhook answered {}", resp.status()));
        }
        let mut resp = resp;
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| format!("reading the webhook reply failed: {e}"))?
        {
            if body.len() + chunk.len() > MAX_WEBHOOK_REPLY_BYTES {
                return Err("the webhook reply is too large".to_owned());
            }
            body.extend_from_slice(&chunk);
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::Value::Object(serde_json::Map::new()));
        }
        serde_json::from_slice(&body).map_err(|e| format!("the webhook reply is not JSON: {e}"))
    }
}

/// The records' name for an outcome: kebab-case, and the store's `caller-hangup` for a caller
/// who hung up (the funnel's "hung up there" counts those).
pub fn outcome_name(outcome: &hotline_flow::runtime::Outcome) -> String {
    match outcome {
        hotline_flow::runtime::Outcome::CallerHungUp => {
            hotline_store::OUTCOME_CALLER_HANGUP.to_owned()
        }
        other => other.name().replace('_', "-"),
    }
}

/// Now, in ms since the Unix epoch, as the call records keep time.
pub(crate) fn now_ms_i64() -> i64 {
    i64::try_from(now_ms()).unwrap_or(i64::MAX)
}

/// Whether a status callback's `CallStatus` says the call is over.
pub(crate) fn call_is_over(status: &str) -> bool {
    matches!(
        status,
        "completed" | "busy" | "failed" | "no-answer" | "canceled"
    )
}

/// Whether `s` looks like a CallSid (`CA` + 32 hex digits).
pub fn valid_sid(s: &str) -> bool {
    hotline_twilio::webhook::is_sid(s, "CA")
}

/// The runtime input a Twilio callback carries.
pub fn input_from(params: &Params) -> Input {
    // The fields read, found in one pass over the pairs (a first value wins, as with `get`):
    // a callback carries some twenty-five, and a `get` per field scanned them all each time.
    let mut dial = None;
    let mut recording = None;
    let mut recording_secs = None;
    let mut queue = None;
    let mut speech = None;
    let mut confidence = None;
    let mut digits = None;
    for (name, value) in params.0.pairs() {
        let slot = match name {
            "DialCallStatus" => &mut dial,
            "RecordingUrl" => &mut recording,
            "RecordingDuration" => &mut recording_secs,
            "QueueResult" => &mut queue,
            "SpeechResult" => &mut speech,
            "Confidence" => &mut confidence,
            "Digits" => &mut digits,
            _ => continue,
        };
        slot.get_or_insert(value);
    }
    if let Some(status) = dial {
        return Input::DialEnded {
            status: status.to_owned(),
        };
    }
    if let Some(url) = recording {
        return Input::Recorded {
            url: url.to_owned(),
            duration_secs: recording_secs.and_then(|d| d.parse().ok()).unwrap_or(0),
        };
    }
    if let Some(result) = queue {
        return Input::QueueLeft {
            result: result.to_owned(),
        };
    }
    let speech = speech.map(str::trim).filter(|s| !s.is_empty()).map(|s| {
        let confidence = confidence
            .and_then(|c| c.parse::<f32>().ok())
            .filter(|c| c.is_finite())
            .unwrap_or(0.0)
            .clamp(0.0, 1.0);
        (s.to_owned(), confidence)
    });
    let digits = digits
        .filter(|d| !d.is_empty() && d.len() <= 64)
        .map(str::to_owned);
    if speech.is_none() && digits.is_none() {
        Input::NoInput
    } else {
        Input::Gathered {
            speech,
            digits,
            intent: None,
        }
    }
}

/// Maps runtime events onto durable step records, moving their strings into the rows.
///
/// The route an answer matched is recorded on the answer's `heard` row (its `route`), not in a
/// `matched` row of its own: one row per answer instead of two. Routes taken without an answer
/// (branch nodes, webhook and bot results) keep their `matched` rows.
///
/// What the caller was told (`said`, `played`) is folded into the `detail` of the node's
/// `entered` row (prompt texts, prompt file names without their signatures): the record keeps
/// it, at one row per node instead of one per prompt. Events about the call rather than a node
/// (`set`, `language`…) are recorded at the node of the row before them.
fn step_records(
    call_sid: &str,
    rec: &mut u32,
    events: Vec<StepEvent>,
    session: &Session,
) -> Vec<StepRecord> {
    use hotline_store::records::kind;
    let at = now_ms_i64();
    let mut out: Vec<StepRecord> = Vec::with_capacity(events.len());
    let mut entered_row: Option<usize> = None;
    let current = |out: &[StepRecord]| {
        out.last()
            .map_or_else(|| session.node.clone(), |row| row.node.clone())
    };
    let status = |ok: bool| if ok { "ok" } else { "failed" };
    for e in events {
        let (node, kind, route, detail): (String, &'static str, Option<String>, Option<String>) =
            match e {
                StepEvent::Said { node, text } => {
                    match told(&mut out, entered_row, node, Told::Said(&text)) {
                        Some((node, told)) => (node, kind::SAID, None, Some(told)),
                        None => continue,
                    }
                }
                StepEvent::Played { node, url } => {
                    match told(&mut out, entered_row, node, Told::Played(&url)) {
                        Some((node, told)) => (node, kind::SAID, None, Some(told)),
                        None => continue,
                    }
                }
                StepEvent::Entered { node } => (node, kind::ENTERED, None, None),
                // A first attempt is implied by `entered`; only retries are worth a row.
                StepEvent::Asked { attempt, .. } if attempt <= 1 => continue,
                StepEvent::Asked { node, attempt } => {
                    (node, kind::RETRY, None, Some(format!("attempt {attempt}")))
                }
                StepEvent::Heard {
                    node,
                    speech,
                    confidence,
                    digits,
                    intent,
                } => {
                    let mut step = StepRecord::new(call_sid, *rec, at, node, kind::HEARD);
                    step.speech = speech;
                    step.confidence = confidence;
                    step.digits = digits;
                    step.detail =
                        intent.map(|i| format!("intent {} ({:.2})", i.intent, i.confidence));
                    *rec = rec.saturating_add(1);
                    out.push(step);
                    continue;
                }
                // The route an answer took goes on the answer's own `heard` row; a route taken
                // without an answer (a branch node) gets a `matched` row. Either way the target
                // is the next `entered` row.
                StepEvent::Matched { node, route, .. } => {
                    // The answer's row, before the route's own `set` and `language` rows.
                    let answer = out
                        .iter_mut()
                        .rev()
                        .find(|row| row.kind != "set" && row.kind != "language")
                        .filter(|row| {
                            row.kind == kind::HEARD && row.route.is_none() && row.node == node
                        });
                    match answer {
                        Some(row) => {
                            row.route = Some(route);
                            continue;
                        }
                        None => (node, kind::MATCHED, Some(route), None),
                    }
                }
                StepEvent::NoMatch { node, count } => {
                    (node, kind::NO_MATCH, None, Some(format!("#{count}")))
                }
                StepEvent::NoInput { node, count } => {
                    (node, kind::NO_INPUT, None, Some(format!("#{count}")))
                }
                StepEvent::Exhausted { node, target } => {
                    (node, kind::EXHAUSTED, None, Some(format!("→ {target}")))
                }
                StepEvent::Set { var, value } => (
                    current(&out),
                    "set",
                    None,
                    Some(format!("{var} = {}", value.to_text())),
                ),
                StepEvent::LanguageChanged { language } => {
                    (current(&out), "language", None, Some(language))
                }
                StepEvent::DialEnded { node, status } => (node, "dial-ended", None, Some(status)),
                StepEvent::QueueLeft { node, result } => (node, "queue-left", None, Some(result)),
                StepEvent::Recorded {
                    node,
                    duration_secs,
                } => (node, "recorded", None, Some(format!("{duration_secs}s"))),
                StepEvent::PromptUnavailable { node, prompt } => {
                    (node, "prompt-unavailable", None, Some(prompt))
                }
                StepEvent::WebhookRequested { node, url } => {
                    (node, "webhook-requested", None, Some(url))
                }
                StepEvent::WebhookCalled { node, ok, detail } => (
                    node,
                    kind::WEBHOOK,
                    None,
                    Some(match detail {
                        Some(d) => format!("{} ({d})", status(ok)),
                        None => status(ok).to_owned(),
                    }),
                ),
                StepEvent::BotUnavailable { node, bot } => {
                    (node, "bot-unavailable", None, Some(bot))
                }
                StepEvent::BotStarted { node, bot } => (node, "bot-started", None, Some(bot)),
                StepEvent::BotReturned { node, ok } => {
                    (node, "bot-returned", None, Some(status(ok).to_owned()))
                }
                StepEvent::FlowVersionChanged { from, to } => (
                    current(&out),
                    "flow-version-changed",
                    None,
                    Some(format!("{from} → {to}")),
                ),
                StepEvent::Unexpected { awaiting, input } => (
                    current(&out),
                    "unexpected",
                    None,
                    Some(format!("{input} while awaiting {awaiting}")),
                ),
                StepEvent::Ended { node, outcome } => (
                    node,
                    kind::ENDED,
                    None,
                    Some(
                        serde_json::to_string(&outcome)
                            .unwrap_or_else(|_| outcome.name().to_owned()),
                    ),
                ),
            };
        let mut step = StepRecord::new(call_sid, *rec, at, node, kind);
        step.route = route;
        step.detail = detail;
        if kind == kind::ENTERED {
            entered_row = Some(out.len());
        }
        *rec = rec.saturating_add(1);
        out.push(step);
    }
    out
}

/// A prompt the caller was told, as a step's detail says it.
enum Told<'a> {
    /// `said "…"`.
    Said(&'a str),
    /// `played NAME` (the prompt's URL, shortened by [`prompt_name`]).
    Played(&'a str),
}

impl Told<'_> {
    /// The length [`Told::write`] appends, at most.
    fn len(&self) -> usize {
        match self {
            Told::Said(text) => text.len() + 7,
            Told::Played(url) => url.len() + 7,
        }
    }

    fn write(&self, detail: &mut String) {
        detail.reserve(self.len());
        match self {
            Told::Said(text) => {
                detail.push_str("said \"");
                detail.push_str(text);
                detail.push('"');
            }
            Told::Played(url) => {
                detail.push_str("played ");
                detail.push_str(prompt_name(url));
            }
        }
    }
}

/// Folds a prompt into the detail of the `entered` row of its node (`None`: done), or gives
/// back the node and the detail for a row of its own.
fn told(
    out: &mut [StepRecord],
    entered_row: Option<usize>,
    node: String,
    what: Told<'_>,
) -> Option<(String, String)> {
    match entered_row.and_then(|i| out.get_mut(i)) {
        Some(row) if row.node == node => {
            let d = row.detail.get_or_insert_with(String::new);
            if !d.is_empty() {
                d.push_str("; ");
            }
            what.write(d);
            None
        }
        _ => {
            let mut detail = String::with_capacity(what.len());
            what.write(&mut detail);
            Some((node, detail))
        }
    }
}

/// A prompt's file name, without the signature query of our prompt URLs.
fn prompt_name(url: &str) -> &str {
    let path = url.split('?').next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh session of a one-node flow (also for [`crate::decoded`]'s tests).
    pub(crate) fn session() -> Session {
        let yaml = "flow: t\nlanguage: en-US\nnodes:\n  a: { say: hi, hangup: true }\n";
        let loaded =
            hotline_flow::load_flow_str(yaml, "t.yaml", std::path::Path::new(".")).unwrap();
        Session::new(
            &loaded.flow,
            &CallFacts {
                call_sid: "CA0123456789abcdef0123456789abcdef".into(),
                from: "+1".into(),
                to: "+2".into(),
                now_unix_ms: 1,
            },
        )
    }

    #[test]
    fn stored_frames_round_trip_and_reject_garbage() {
        let s = Stored {
            session: session(),
            last: "<Response><Say>a \"quoted\" &amp; é</Say></Response>".as_bytes(),
            rec: 7,
        };
        let bytes = s.clone().encode().bytes;
        assert_eq!(&bytes[..4], b"HSv2");
        let back = Stored::decode(&bytes).unwrap();
        assert_eq!(back.session, s.session);
        assert_eq!(back.last, s.last);
        assert_eq!(back.rec, 7);
        // A frame written by the previous version (session as JSON) still reads.
        let json = serde_json::to_vec(&s.session).unwrap();
        let mut v1 = b"HSv1".to_vec();
        v1.extend_from_slice(&7u32.to_le_bytes());
        v1.extend_from_slice(&u32::try_from(json.len()).unwrap().to_le_bytes());
        v1.extend_from_slice(&json);
        v1.extend_from_slice(s.last);
        let old = Stored::decode(&v1).unwrap();
        assert_eq!(
            (old.session, old.last, old.rec),
            (s.session.clone(), s.last, 7)
        );
        assert!(Stored::decode(b"").is_none());
        assert!(Stored::decode(b"HSv9\0\0\0\0\0\0\0\0").is_none());
        assert!(Stored::decode(b"HSv1\0\0\0\0\xff\xff\xff\xff{}").is_none());
        for cut in 0..bytes.len() {
            let _ = Stored::decode(&bytes[..cut]);
        }
        // The TwiML is checked when replayed, not when decoded: bytes that are not UTF-8 are
        // replaced, never answered as they are.
        assert_eq!(
            back.replay().xml,
            "<Response><Say>a \"quoted\" &amp; é</Say></Response>"
        );
        let mut corrupt = bytes.clone();
        let at = corrupt.len() - 3;
        corrupt[at] = 0xff;
        let replayed = Stored::decode(&corrupt).unwrap().replay().xml;
        assert!(replayed.contains('\u{fffd}'), "{replayed}");
    }

    #[test]
    fn an_answers_route_goes_on_its_heard_row() {
        let ev = |e: StepEvent| e;
        let events = vec![
            ev(StepEvent::Heard {
                node: "q1".into(),
                speech: Some("oui".into()),
                confidence: Some(0.9),
                digits: None,
                intent: None,
            }),
            ev(StepEvent::Set {
                var: "score".into(),
                value: hotline_flow::Literal::Number(1.0),
            }),
            ev(StepEvent::Matched {
                node: "q1".into(),
                route: "oui".into(),
                target: "check".into(),
            }),
            ev(StepEvent::Entered {
                node: "check".into(),
            }),
            // A branch node's route: no answer, so a row of its own.
            ev(StepEvent::Matched {
                node: "check".into(),
                route: "score >= 1".into(),
                target: "end".into(),
            }),
        ];
        let mut rec = 0;
        let rows = step_records("CA1", &mut rec, events, &session());
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.node.as_str(), &*r.kind, r.route.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("q1", "heard", Some("oui")),
                ("q1", "set", None),
                ("check", "entered", None),
                ("check", "matched", Some("score >= 1")),
            ]
        );
        assert_eq!(rec, 4);
    }

    #[test]
    fn callback_inputs() {
        let p = |kv: &[(&str, &str)]| Params(kv.iter().copied().collect());
        assert_eq!(input_from(&p(&[])), Input::NoInput);
        assert_eq!(input_from(&p(&[("SpeechResult", "  ")])), Input::NoInput);
        assert_eq!(
            input_from(&p(&[("SpeechResult", "oui"), ("Confidence", "7")])),
            Input::Gathered {
                speech: Some(("oui".into(), 1.0)),
                digits: None,
                intent: None,
            }
        );
        assert_eq!(
            input_from(&p(&[("DialCallStatus", "busy")])),
            Input::DialEnded {
                status: "busy".into()
            }
        );
        // The first value of a field wins, whatever comes between.
        assert_eq!(
            input_from(&p(&[
                ("Digits", "12"),
                ("CallSid", "CA1"),
                ("Confidence", "0.5"),
                ("Digits", "99"),
                ("SpeechResult", " yes "),
                ("Confidence", "0.9"),
            ])),
            Input::Gathered {
                speech: Some(("yes".into(), 0.5)),
                digits: Some("12".into()),
                intent: None,
            }
        );
        assert_eq!(
            input_from(&p(&[
                ("RecordingDuration", "7"),
                ("RecordingUrl", "https://r/1"),
                ("SpeechResult", "x"),
            ])),
            Input::Recorded {
                url: "https://r/1".into(),
                duration_secs: 7
            }
        );
        assert_eq!(
            input_from(&p(&[("QueueResult", "hangup"), ("Digits", "1")])),
            Input::QueueLeft {
                result: "hangup".into()
            }
        );
    }
}
