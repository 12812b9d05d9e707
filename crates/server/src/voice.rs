//! The media-stream driver of a voice bot: one WebSocket, one [`StreamSession`], engine turns.
//!
//! [`drive`] is generic over the socket's two halves (any `Sink<Message>` and
//! `Stream<Item = Result<Message, _>>`), so tests can drive it with channels. It only shuttles:
//! text frames go to the sans-IO session; its outbound messages go back; its wall-clock timer is
//! honoured; its events become engine turns and replies:
//!
//! | Event | What happens |
//! | --- | --- |
//! | `Utterance` | an engine turn with the audio (one in flight per call; not listening meanwhile) |
//! | `Digits` | an engine turn with the digits |
//! | `NoInput`, `TurnTimedOut` | the configured reprompt, else the last prompt, again; after `max_reprompts` in a row, hang up |
//! | `BargeIn` | bidirectional: the session already queued `clear`; start-stream: a REST update that stops the `<Say>` |
//! | `Stopped` | the driver ends quietly |
//!
//! Replies: on a start-stream call, a REST update `<Say>…</Say><Pause length="600"/>` (the
//! `<Start>` stream keeps running); on a bidirectional call, the engine's audio played on the
//! stream with a mark, else a REST update `<Say>…</Say><Connect><Stream/></Connect>` (the stream
//! reconnects after the messages: no barge-in during them, the trade-off of text-only engines).
//! `Hangup`, `Transfer` and `ReturnToFlow` end with `<Hangup/>`, `<Dial>` or `<Redirect>` (on a
//! bidirectional stream, after the engine's audio has played, when it gave audio).
//! A call that is gone (REST 404) or a closed socket ends the driver quietly.
//!
//! The conversation is read from the session store when the stream starts and written back
//! after every turn ([`Bots::save`]); each engine turn is recorded ([`Bots::record`]).
//!
//! A call handed over by a flow goes back to it instead ([`Bots::hand_back`]): with its slots
//! on `ReturnToFlow` or a fulfilled intent, as failed on an engine error, after the last
//! no-input reprompt, or when the node's `max-duration` is up.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use hotline_bot::{BotSession, CallAction, Reply, TurnInput};
use hotline_twilio::rest::{CallUpdate, UpdateOutcome};
use hotline_vad::silero::SileroPrefetch;
use hotline_voice::{Event, SessionEvent, StreamSession};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::bots::{Bot, Bots, CallState, OnStart, TurnKind, flow_action, say_duration_ms};

/// A finished engine turn: the session after it, the reply, why it failed (if it did), and
/// what it was given (for the call record).
struct TurnDone {
    session: BotSession,
    reply: Reply,
    failed: Option<String>,
    input: &'static str,
    digits: Option<String>,
}

/// What a REST update reported back to the driver.
#[derive(Debug)]
enum UpdateResult {
    /// The call no longer exists.
    Gone,
    /// The update failed (logged).
    Failed,
}

/// A sink and a stream as one socket, for [`drive`] (tests, or transports that come in halves).
#[derive(Debug)]
pub struct Duplex<Si, St> {
    /// Where messages to Twilio go.
    pub sink: Si,
    /// Where Twilio's messages come from.
    pub stream: St,
}

impl<Si: Sink<Message> + Unpin, St: Unpin> Sink<Message> for Duplex<Si, St> {
    type Error = Si::Error;

    fn poll_ready(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::pin::Pin::new(&mut self.sink).poll_ready(cx)
    }

    fn start_send(mut self: std::pin::Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        std::pin::Pin::new(&mut self.sink).start_send(item)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::pin::Pin::new(&mut self.sink).poll_flush(cx)
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::pin::Pin::new(&mut self.sink).poll_close(cx)
    }
}

impl<Si: Unpin, St: Stream + Unpin> Stream for Duplex<Si, St> {
    type Item = St::Item;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::pin::Pin::new(&mut self.stream).poll_next(cx)
    }
}

/// Closes a stream for a bot that does not exist (after a valid, signed upgrade).
pub async fn close_unknown<Si>(mut tx: Si)
where
    Si: Sink<Message> + Unpin,
{
    let _ = tx
        .send(Message::Close(Some(CloseFrame {
            code: 1008,
            reason: "unknown bot".into(),
        })))
        .await;
    let _ = tx.close().await;
}

/// Runs one Media Streams connection of `bot` to its end. Never fails: problems are logged
/// and end the connection.
///
/// The socket is one object (not split into halves): the driver only ever reads or writes, one
/// after the other, and a split's lock costs on every one of the 50 messages a second.
pub async fn drive<S, E>(bots: Arc<Bots>, bot: Arc<Bot>, socket: S)
where
    S: Sink<Message> + Stream<Item = Result<Message, E>> + Unpin + Send,
{
    // Counted toward `--max-streams` until the stream ends, however it ends.
    let _open = bots.stream_opened();
    let (vad, prefetch) = bot.vad.create_prefetched();
    let session = match StreamSession::new(bot.config.session_config(), vad) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(bot = %bot.config.name, error = %e, "cannot start a stream session");
            close_unknown(socket).await;
            return;
        }
    };
    let (updates_tx, updates_rx) = mpsc::unbounded_channel();
    let mut driver = Driver {
        bots,
        bot,
        session,
        call_sid: None,
        state: None,
        turn: None,
        flow_deadline: None,
        updates_tx,
        plays: 0,
        reprompts: 0,
        reconnecting: false,
        finished: false,
        pending_final: None,
        prefetch,
        lookahead: Vec::new(),
    };
    driver.run(socket, updates_rx).await;
}

struct Driver {
    bots: Arc<Bots>,
    bot: Arc<Bot>,
    session: StreamSession,
    call_sid: Option<String>,
    /// The conversation, as last read from or written to the session store.
    state: Option<CallState>,
    turn: Option<JoinHandle<TurnDone>>,
    /// When a flow handed the call over: the end of its `max-duration`.
    flow_deadline: Option<Instant>,
    updates_tx: mpsc::UnboundedSender<UpdateResult>,
    plays: u64,
    /// No-input reprompts in a row.
    reprompts: u32,
    /// A REST update will replace this (bidirectional) stream; keep the conversation.
    reconnecting: bool,
    /// The conversation is over (a final reply was sent); wait for the stream to stop.
    finished: bool,
    /// A final reply whose audio is playing: its mark, and the update to send once played.
    pending_final: Option<(String, CallUpdate)>,
    /// Silero: scores this call's VAD windows on the process-wide batcher before each media
    /// message reaches the pipeline (see `hotline_vad::silero::SileroPrefetch`).
    prefetch: Option<SileroPrefetch>,
    /// Reused buffer: the audio of the message being handled.
    lookahead: Vec<i16>,
}

impl Driver {
    async fn run<S, E>(&mut self, mut socket: S, mut updates: mpsc::UnboundedReceiver<UpdateResult>)
    where
        S: Sink<Message> + Stream<Item = Result<Message, E>> + Unpin + Send,
    {
        let origin = Instant::now();
        'run: loop {
            // Drain the session: events may queue messages (play, clear) and vice versa.
            loop {
                while let Some(out) = self.session.poll_outbound() {
                    if socket.send(Message::text(out.encode())).await.is_err() {
                        break 'run;
                    }
                }
                let Some(event) = self.session.poll_event() else {
                    break;
                };
                if !self.on_event(event).await {
                    break 'run;
                }
            }
            let deadline = self
                .session
                .poll_timeout()
                .map(|ms| origin + Duration::from_millis(ms));
            let turn = &mut self.turn;
            tokio::select! {
                msg = socket.next() => match msg {
                    Some(Ok(Message::Text(text))) => self.handle_text(text.as_str()).await,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break 'run,
                    Some(Ok(_)) => {}
                },
                done = async {
                    match turn.as_mut() {
                        Some(handle) => handle.await,
                        None => std::future::pending().await,
                    }
                } => {
                    self.turn = None;
                    match done {
                        Ok(done) => {
                            let kind = TurnKind {
                                input: done.input,
                                digits: done.digits.as_deref(),
                            };
                            self.deliver(done.session, done.reply, done.failed, Some(kind))
                                .await;
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "an engine turn task failed");
                            self.session.pipeline_mut().listen();
                        }
                    }
                }
                Some(update) = updates.recv() => match update {
                    UpdateResult::Gone => {
                        tracing::debug!(call_sid = ?self.call_sid, "the call is gone; ending the stream");
                        self.forget().await;
                        break 'run;
                    }
                    UpdateResult::Failed => {
                        // The caller heard nothing new: keep listening on this stream.
                        self.reconnecting = false;
                        if !self.finished {
                            self.session.pipeline_mut().listen();
                        }
                    }
                },
                () = async {
                    match self.flow_deadline {
                        Some(at) if !self.finished => tokio::time::sleep_until(at).await,
                        _ => std::future::pending().await,
                    }
                } => {
                    self.flow_deadline = None;
                    if let Some(handle) = self.turn.take() {
                        handle.abort();
                    }
                    self.give_back(Err("the bot went over the node's max-duration".to_owned()), &[])
                        .await;
                }
                () = async {
                    match deadline {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => {
                    let now = u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX);
                    self.session.handle_wall_clock(now);
                }
            }
        }
        let stats = self.session.stats();
        let (vad_windows, vad_batched) = self.prefetch.as_ref().map_or((0, 0), |p| p.windows());
        tracing::debug!(
            bot = %self.bot.config.name,
            call_sid = ?self.call_sid,
            messages = stats.messages,
            media = stats.media,
            unknown = stats.unknown_events,
            malformed = stats.malformed,
            vad_windows,
            vad_batched,
            "media stream ended"
        );
        let _ = socket.close().await;
    }

    /// One text frame: with a batched VAD, its audio is scored (with every other call's) first.
    async fn handle_text(&mut self, text: &str) {
        let Some(message) = self.session.decode_text(text) else {
            return;
        };
        if let Some(prefetch) = &self.prefetch
            && self.session.vad_lookahead(&message, &mut self.lookahead)
        {
            prefetch.prefetch(&self.lookahead).await;
        }
        self.session.handle_inbound(message);
    }

    /// Handles one session event; false when the stream is over.
    async fn on_event(&mut self, event: SessionEvent) -> bool {
        match event {
            SessionEvent::Started(info) => {
                if info
                    .custom_parameters
                    .get("bot")
                    .is_some_and(|b| *b != self.bot.config.name)
                {
                    tracing::debug!(bot = %self.bot.config.name, "stream parameter `bot` differs from the URL's bot");
                }
                let mut state = self
                    .bots
                    .conversation(&info.call_sid)
                    .await
                    .unwrap_or_else(|| {
                        CallState::new(BotSession::new(
                            info.call_sid.clone(),
                            self.bot.config.name.clone(),
                            self.bot.config.locale.clone(),
                        ))
                    });
                let on_start = std::mem::replace(&mut state.on_start, OnStart::Listen);
                self.flow_deadline = state.flow.as_ref().map(|f| Instant::from_std(f.deadline));
                if on_start != OnStart::Listen || state.version.is_none() {
                    self.bots.save(&info.call_sid, &mut state).await;
                }
                self.state = Some(state);
                self.call_sid = Some(info.call_sid);
                let pipeline = self.session.pipeline_mut();
                pipeline.listen();
                match on_start {
                    OnStart::Listen => {}
                    OnStart::Speaking { id, duration_ms } => {
                        pipeline.bot_started_speaking(&id, duration_ms);
                    }
                    OnStart::Play(audio) => self.play(&audio),
                }
                true
            }
            SessionEvent::Voice(Event::Utterance { audio, .. }) => {
                self.start_turn(TurnInput::Audio { pcm_8k: audio });
                true
            }
            SessionEvent::Voice(Event::Digits { digits, .. }) => {
                if digits.is_empty() {
                    self.session.pipeline_mut().listen();
                } else {
                    self.start_turn(TurnInput::Digits(digits));
                }
                true
            }
            SessionEvent::Voice(Event::NoInput { .. } | Event::TurnTimedOut { .. }) => {
                self.reprompt().await;
                true
            }
            SessionEvent::Voice(Event::BargeIn { .. }) => {
                if !self.bot.config.bidirectional && !self.finished {
                    // Stop the <Say> in progress; the <Start> stream keeps listening.
                    let twiml = self.bots.listen_twiml(&self.bot, &[]).to_xml();
                    self.update(CallUpdate::Twiml(twiml));
                }
                true
            }
            SessionEvent::Voice(Event::PlaybackFinished { id, .. }) => {
                if self
                    .pending_final
                    .as_ref()
                    .is_some_and(|(mark, _)| *mark == id)
                    && let Some((_, update)) = self.pending_final.take()
                {
                    self.update(update);
                }
                true
            }
            SessionEvent::Voice(_) => true,
            SessionEvent::Stopped => {
                if !self.reconnecting {
                    self.forget().await;
                }
                false
            }
        }
    }

    fn start_turn(&mut self, input: TurnInput) {
        if self.turn.is_some() || self.finished {
            return;
        }
        let Some(call_sid) = self.call_sid.clone() else {
            return;
        };
        self.reprompts = 0;
        self.session.pipeline_mut().stop_listening();
        let mut session = self
            .state
            .as_ref()
            .map(|c| c.session.clone())
            .unwrap_or_else(|| {
                BotSession::new(
                    call_sid,
                    self.bot.config.name.clone(),
                    self.bot.config.locale.clone(),
                )
            });
        let bots = self.bots.clone();
        let bot = self.bot.clone();
        self.turn = Some(tokio::spawn(async move {
            let kind = TurnKind::of(&input);
            let (input_kind, digits) = (kind.input, kind.digits.map(str::to_owned));
            let (reply, failed) = bots.turn_checked(&bot, &mut session, input).await;
            TurnDone {
                session,
                reply,
                failed,
                input: input_kind,
                digits,
            }
        }));
    }

    async fn reprompt(&mut self) {
        if self.turn.is_some() || self.finished {
            return;
        }
        let Some(call_sid) = self.call_sid.clone() else {
            return;
        };
        let Some(state) = self.state.clone() else {
            self.session.pipeline_mut().listen();
            return;
        };
        self.reprompts += 1;
        if self.reprompts > self.bot.config.max_reprompts {
            tracing::debug!(call_sid = %call_sid, "no input after every reprompt: hanging up");
            let mut bye = Reply::say(Vec::<String>::new());
            bye.action = CallAction::Hangup;
            // A flow's hand-off goes back to the flow as failed instead.
            let failed = Some("the caller said nothing".to_owned());
            self.deliver(state.session, bye, failed, None).await;
            return;
        }
        let messages = match &self.bot.config.reprompt {
            Some(r) => vec![r.clone()],
            None => state.last_prompt.clone(),
        };
        tracing::debug!(call_sid = %call_sid, "no input: reprompting");
        self.deliver(state.session, Reply::say(messages), None, None)
            .await;
    }

    /// Ends a flow's hand-off (no-op for a call that did not come from a flow): `result` is
    /// kept for the flow, `messages` are said, and the call is redirected to the flow.
    async fn give_back(&mut self, result: crate::bots::BotResult, messages: &[String]) -> bool {
        let Some(call_sid) = self.call_sid.clone() else {
            return false;
        };
        let Some(to) = self.state.as_ref().and_then(|s| s.flow.clone()) else {
            return false;
        };
        self.finished = true;
        self.session.pipeline_mut().stop_listening();
        let twiml = self
            .bots
            .hand_back(&self.bot, &call_sid, &to, messages, result)
            .await
            .to_xml();
        self.update(CallUpdate::Twiml(twiml));
        true
    }

    /// Stores the conversation (after a turn) and keeps it as the driver's copy.
    async fn keep(&mut self, call_sid: &str, mut state: CallState) {
        self.bots.save(call_sid, &mut state).await;
        self.state = Some(state);
    }

    /// Says `reply` to the caller and does what its action says. `failed`: the engine turn
    /// failed (or the caller never spoke); a flow's hand-off then goes back to the flow.
    /// `turn`: what the engine was given, when the reply is an engine turn's (it is recorded).
    async fn deliver(
        &mut self,
        session: BotSession,
        mut reply: Reply,
        failed: Option<String>,
        turn: Option<TurnKind<'_>>,
    ) {
        if self.finished {
            return;
        }
        let call_sid = session.call_sid.clone();
        let mut state = self
            .state
            .take()
            .unwrap_or_else(|| CallState::new(session.clone()));
        state.session = session;
        if let Some(kind) = turn {
            self.bots
                .record(&self.bot, &mut state, kind, &reply, failed.as_deref());
        } else if let Some(outcome) = crate::bots::bot_outcome(&self.bot, &reply.action, None) {
            // The bot hangs up on a silent caller: no engine turn, but the call's end.
            self.bots.record_end(&mut state, &outcome);
        }
        if state.flow.is_some() {
            if let Some(why) = failed {
                self.keep(&call_sid, state).await;
                self.give_back(Err(why), &[]).await;
                return;
            }
            state.slots.extend(reply.slots.clone());
            flow_action(&mut reply);
            if reply.action == CallAction::ReturnToFlow {
                let slots = state.slots.clone();
                self.keep(&call_sid, state).await;
                self.give_back(Ok(slots), &reply.messages).await;
                return;
            }
        }
        if !reply.messages.is_empty() {
            state.last_prompt = reply.messages.clone();
        }
        let bidirectional = self.bot.config.bidirectional;
        let audio = reply.audio.clone().filter(|a| !a.is_empty());
        if reply.action != CallAction::Continue {
            self.finished = true;
            self.session.pipeline_mut().stop_listening();
            self.keep(&call_sid, state).await;
            if bidirectional && let Some(audio) = audio {
                // Play the engine's own audio, then hang up / transfer once it has played.
                let mut after = reply.clone();
                after.messages.clear();
                let twiml = self.bots.final_twiml(&self.bot, &after).to_xml();
                self.play(&audio);
                let mark = format!("reply-{}", self.plays);
                self.pending_final = Some((mark, CallUpdate::Twiml(twiml)));
                return;
            }
            let twiml = self.bots.final_twiml(&self.bot, &reply).to_xml();
            self.update(CallUpdate::Twiml(twiml));
            return;
        }
        if bidirectional && let Some(audio) = audio {
            self.keep(&call_sid, state).await;
            self.session.pipeline_mut().listen();
            self.play(&audio);
            return;
        }
        if reply.messages.iter().all(|m| m.trim().is_empty()) {
            self.keep(&call_sid, state).await;
            self.session.pipeline_mut().listen();
            return;
        }
        if bidirectional {
            // Text only: say it with a call update, then reconnect the stream.
            self.reconnecting = true;
            self.session.pipeline_mut().stop_listening();
            state.on_start = OnStart::Listen;
            self.keep(&call_sid, state).await;
            let twiml = self
                .bots
                .reconnect_twiml(&self.bot, &reply.messages)
                .to_xml();
            self.update(CallUpdate::Twiml(twiml));
        } else {
            self.keep(&call_sid, state).await;
            self.plays += 1;
            let id = format!("reply-{}", self.plays);
            let pipeline = self.session.pipeline_mut();
            pipeline.listen();
            pipeline.bot_started_speaking(&id, say_duration_ms(&reply.messages));
            let twiml = self.bots.listen_twiml(&self.bot, &reply.messages).to_xml();
            self.update(CallUpdate::Twiml(twiml));
        }
    }

    /// Plays μ-law audio on the (bidirectional) stream, followed by a mark.
    fn play(&mut self, audio: &[u8]) {
        self.plays += 1;
        let mark = format!("reply-{}", self.plays);
        if let Err(e) = self.session.play(audio, &mark) {
            tracing::warn!(error = %e, "cannot play the bot's audio");
            self.session.pipeline_mut().listen();
        }
    }

    /// Sends a live call update in the background; its result comes back to the loop.
    fn update(&self, update: CallUpdate) {
        let (Some(rest), Some(call_sid)) = (self.bots.rest.clone(), self.call_sid.clone()) else {
            tracing::error!("no REST client to update the call");
            return;
        };
        let tx = self.updates_tx.clone();
        let bots = self.bots.clone();
        tokio::spawn(async move {
            let counters = bots.update_counters();
            match rest.update_call(&call_sid, &update).await {
                Ok(UpdateOutcome::Updated) => counters.updated(),
                Ok(UpdateOutcome::CallGone) => {
                    counters.gone();
                    let _ = tx.send(UpdateResult::Gone);
                }
                Err(e) => {
                    counters.failed();
                    tracing::warn!(call_sid = %call_sid, kind = update.kind(), error = %e, "call update failed");
                    let _ = tx.send(UpdateResult::Failed);
                }
            }
        });
    }

    /// The stream is over for good: a call the bot answered itself, not ended by the bot, was
    /// hung up by its caller; the conversation is forgotten.
    async fn forget(&mut self) {
        if let Some(state) = self.state.as_mut() {
            self.bots
                .record_end(state, &hotline_flow::runtime::Outcome::CallerHungUp);
        }
        if let Some(sid) = self.call_sid.clone() {
            self.bots.forget(&sid).await;
        }
    }
}
