//! Media Streams, Twilio's side: opens the WebSocket as Twilio does and streams the caller.
//!
//! The upgrade is signed (`X-Twilio-Signature` over the stream URL, no parameters); a query
//! string in the URL is dropped with a warning, as Twilio drops it. Messages follow Twilio's
//! shapes: `connected`, `start` (with `customParameters` from `<Parameter>`), then one `media`
//! message of 160 mu-law bytes per 20 ms with `sequenceNumber`, `chunk` and `timestamp` as
//! strings, `dtmf` (bidirectional streams only), and `stop`.
//!
//! On bidirectional streams the application's `media` is queued as if played to the caller,
//! each `mark` is echoed once the audio queued before it has played, and `clear` discards the
//! queue and echoes pending marks at once. Unknown or malformed messages are counted and
//! ignored.

use crate::http::Fetcher;
use crate::recorder::Recorder;
use crate::script::Step;
use crate::transcript::Event;
use crate::tts::Voice;
use futures_util::{SinkExt, StreamExt};
use hotline_twilio::signature;
use hotline_twilio::stream::{
    Inbound, Mark as MarkMsg, Media, MediaFormat, Outbound, Start, Stop, decode_payload,
    encode_payload,
};
use hotline_twilio::twiml::{self, Method};
use hotline_twilio::webhook::CallInfo;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use url::Url;

/// Bytes in one 20 ms frame of 8 kHz mu-law.
pub(crate) const FRAME_BYTES: usize = 160;
/// A client WebSocket to the application's stream URL.
type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The mu-law code for silence.
const SILENCE: u8 = 0xFF;
/// The most queued playback audio the emulator keeps per stream (10 minutes); more is dropped.
const MAX_QUEUED_MS: u64 = 600_000;

/// Something a stream tells the call.
#[derive(Debug)]
pub(crate) enum StreamSignal {
    /// The caller's script hung up while a stream was carrying it.
    CallerHangup,
}

/// What a stream needs from its call.
pub(crate) struct StreamContext {
    pub info: CallInfo,
    pub rec: Recorder,
    pub fetcher: Fetcher,
    pub voice: Voice,
    pub auth_token: String,
    pub language: String,
    pub input_busy: Arc<AtomicBool>,
    pub signals: mpsc::UnboundedSender<StreamSignal>,
    pub doc_url: Url,
}

/// A running stream, owned by the call.
pub(crate) struct StreamHandle {
    pub name: Option<String>,
    pub url: String,
    pub bidirectional: bool,
    stop_tx: Option<oneshot::Sender<String>>,
    join: JoinHandle<()>,
}

impl StreamHandle {
    /// Whether the stream has already ended.
    pub(crate) fn is_finished(&self) -> bool {
        self.join.is_finished()
    }

    /// Stops the stream (sends `stop`, closes the socket) and waits for it briefly.
    pub(crate) async fn stop(mut self, reason: &str) {
        if let Some(tx) = self.stop_tx.take() {
            let _ = tx.send(reason.to_owned());
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.join).await;
    }
}

/// Opens a stream; returns its handle and a receiver that resolves when it has closed.
pub(crate) async fn open(
    ctx: StreamContext,
    stream: &twiml::Stream,
    bidirectional: bool,
) -> Result<(StreamHandle, oneshot::Receiver<()>), ()> {
    let stream_sid = crate::ids::new_sid("MZ");
    let status_cb = stream
        .status_callback
        .as_deref()
        .and_then(|cb| ctx.doc_url.join(cb).ok());
    let status_method = stream.status_callback_method.unwrap_or_default();
    let name = stream.name.clone();

    let (ws, url) = match handshake(&ctx, stream).await {
        Ok(connected) => connected,
        Err(message) => {
            fail(
                &ctx,
                &stream_sid,
                &name,
                status_cb.as_ref(),
                status_method,
                message,
            )
            .await;
            return Err(());
        }
    };

    let parameters: Vec<(String, String)> = stream
        .parameters
        .iter()
        .map(|p| (p.name.clone(), p.value.clone()))
        .collect();
    ctx.rec.push(Event::StreamStarted {
        url: url.to_string(),
        stream_sid: stream_sid.clone(),
        bidirectional,
        parameters: parameters.clone(),
    });
    if let Some(cb) = &status_cb {
        status_callback(
            &ctx,
            cb,
            status_method,
            &stream_sid,
            &name,
            "stream-started",
            None,
        )
        .await;
    }

    let tracks = if bidirectional {
        vec!["inbound".to_owned()]
    } else {
        match stream.track.as_deref() {
            Some("outbound_track") => vec!["outbound".to_owned()],
            Some("both_tracks") => vec!["inbound".to_owned(), "outbound".to_owned()],
            _ => vec!["inbound".to_owned()],
        }
    };
    let start = Start {
        sequence_number: 1,
        stream_sid: stream_sid.clone(),
        account_sid: Some(ctx.info.account_sid.clone()),
        call_sid: ctx.info.call_sid.clone(),
        tracks,
        custom_parameters: parameters.into_iter().collect::<BTreeMap<_, _>>(),
        media_format: Some(MediaFormat::default()),
    };
    let (stop_tx, stop_rx) = oneshot::channel();
    let (closed_tx, closed_rx) = oneshot::channel();
    // Claim the fast clock now, not when the task first runs: the verbs after `<Start>` (a
    // greeting `<Say>`, a `<Pause>`) must wait for this stream's audio instead of jumping time.
    let driver = ctx.rec.clock().drive();
    let runner = Runner {
        ctx,
        stream_sid: stream_sid.clone(),
        name: name.clone(),
        bidirectional,
        status_cb,
        status_method,
    };
    let join = tokio::spawn(async move {
        runner.run(ws, start, stop_rx, driver).await;
        let _ = closed_tx.send(());
    });
    Ok((
        StreamHandle {
            name,
            url: stream.url.clone(),
            bidirectional,
            stop_tx: Some(stop_tx),
            join,
        },
        closed_rx,
    ))
}

/// The stream's URL as Twilio would use it (query string dropped, with a warning) and a
/// connected WebSocket, upgraded with Twilio's signature; or why it could not be (Twilio's
/// 31920 handshake error).
async fn handshake(ctx: &StreamContext, stream: &twiml::Stream) -> Result<(WsStream, Url), String> {
    let mut url = match Url::parse(stream.url.trim()) {
        Ok(u) => u,
        Err(e) => {
            return Err(format!("invalid stream URL `{}`: {e}", stream.url));
        }
    };
    if !matches!(url.scheme(), "wss" | "ws") {
        return Err(format!("stream URL must be wss:// (got {})", url.scheme()));
    }
    if url.query().is_some() {
        ctx.rec.push(Event::Warning {
            code: None,
            message: "the stream URL has a query string, which Twilio drops: pass values with <Parameter> instead".to_owned(),
        });
        url.set_query(None);
    }
    if url.scheme() == "ws" {
        ctx.rec.push(Event::Warning {
            code: None,
            message: "ws:// stream URL accepted by the emulator; Twilio requires wss://".to_owned(),
        });
    }

    let sig = signature::compute(&ctx.auth_token, url.as_str(), &[]);
    let mut request = match url.as_str().into_client_request() {
        Ok(r) => r,
        Err(e) => {
            return Err(format!("cannot build the upgrade request: {e}"));
        }
    };
    if let Ok(v) = sig.parse() {
        request.headers_mut().insert("X-Twilio-Signature", v);
    }
    if let Ok(v) = "Twilio.TmeWs/1.0".parse() {
        request.headers_mut().insert("User-Agent", v);
    }
    let mut config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default();
    config.max_message_size = Some(1 << 20);
    config.max_frame_size = Some(1 << 20);
    // The server's messages are small; tungstenite zero-fills its whole read buffer (128 KiB
    // by default) before every read.
    config.read_buffer_size = 4 * 1024;
    let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    let ws = match tokio::time::timeout(Duration::from_secs(10), connect).await {
        Ok(Ok((ws, _))) => ws,
        Ok(Err(e)) => {
            return Err(format!("WebSocket handshake failed: {e}"));
        }
        Err(_) => {
            return Err("WebSocket handshake timed out".to_owned());
        }
    };
    Ok((ws, url))
}

async fn fail(
    ctx: &StreamContext,
    stream_sid: &str,
    name: &Option<String>,
    status_cb: Option<&Url>,
    method: Method,
    message: String,
) {
    ctx.rec.push(Event::Warning {
        code: Some(31920),
        message: format!("stream handshake error: {message}"),
    });
    if let Some(cb) = status_cb {
        status_callback(
            ctx,
            cb,
            method,
            stream_sid,
            name,
            "stream-error",
            Some(&message),
        )
        .await;
    }
}

async fn status_callback(
    ctx: &StreamContext,
    url: &Url,
    method: Method,
    stream_sid: &str,
    name: &Option<String>,
    event: &str,
    error: Option<&str>,
) {
    let mut params = vec![
        ("AccountSid".to_owned(), ctx.info.account_sid.clone()),
        ("CallSid".to_owned(), ctx.info.call_sid.clone()),
        ("StreamSid".to_owned(), stream_sid.to_owned()),
        (
            "StreamName".to_owned(),
            name.clone().unwrap_or_else(|| stream_sid.to_owned()),
        ),
        ("StreamEvent".to_owned(), event.to_owned()),
        ("Timestamp".to_owned(), crate::call::rfc2822_now()),
    ];
    if let Some(e) = error {
        params.push(("StreamError".to_owned(), e.to_owned()));
    }
    let (record, err) = ctx.fetcher.callback(url, method, &params).await;
    ctx.rec.push(Event::Request {
        purpose: format!("stream status callback ({event})"),
        method: record.method.as_str().to_owned(),
        url: record.url,
        extra: vec![("StreamEvent".to_owned(), event.to_owned())],
        status: record.status,
        content_type: record.content_type,
        elapsed_ms: record.elapsed_ms,
    });
    if let Some(e) = err {
        ctx.rec.push(Event::Warning {
            code: Some(e.code),
            message: e.message,
        });
    }
}

/// Audio the application sent back, "playing" to the caller.
#[derive(Debug, Default)]
struct Playout {
    total_ms: u64,
    played_ms: u64,
    burst_start_ms: u64,
    /// Position in the playout at which each mark is reached, its name, and whether a
    /// `clear` released it.
    marks: VecDeque<(u64, String, bool)>,
}

struct Runner {
    ctx: StreamContext,
    stream_sid: String,
    name: Option<String>,
    bidirectional: bool,
    status_cb: Option<Url>,
    status_method: Method,
}

/// Where the caller's next audio comes from.
#[derive(Debug, Default)]
struct Source {
    pending: VecDeque<u8>,
    silence_frames: u64,
    /// A `listen` step: heard-count and time when it began, and its deadline.
    listen: Option<(u64, u64, u64)>,
    dtmf: VecDeque<char>,
    hung_up: bool,
}

impl Runner {
    async fn run<S>(
        mut self,
        ws: S,
        start: Start,
        mut stop_rx: oneshot::Receiver<String>,
        driver: Option<crate::clock::Driver>,
    ) where
        S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>>
            + futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error>
            + Unpin,
    {
        let (mut tx, mut rx) = ws.split();
        let clock = self.ctx.rec.clock().clone();
        let interval = clock.frame_interval();
        let heard = self.ctx.rec.watch_heard();
        let started_ms = clock.now_ms();
        let realtime_origin = tokio::time::Instant::now();

        let connected = r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#;
        let mut reason: Option<String> = None;
        if tx.send(Message::text(connected)).await.is_err()
            || tx
                .send(Message::text(Inbound::Start(start).encode()))
                .await
                .is_err()
        {
            reason = Some("the application closed the connection at once".to_owned());
        }

        let mut seq: u64 = 1;
        let mut chunk: u64 = 0;
        let mut unknown: u64 = 0;
        let mut source = Source::default();
        let mut playout = Playout::default();
        let mut frame = Vec::with_capacity(FRAME_BYTES);
        let mut payload_buf = Vec::new();

        while reason.is_none() {
            let next_frame = async {
                match (&driver, clock.pace()) {
                    (Some(_), _) => {
                        if interval.is_zero() {
                            tokio::task::yield_now().await;
                        } else {
                            tokio::time::sleep(interval).await;
                        }
                    }
                    (None, crate::clock::Pace::Realtime) => {
                        let due = realtime_origin + Duration::from_millis(20 * (chunk + 1));
                        tokio::time::sleep_until(due).await;
                    }
                    (None, _) => clock.sleep_until(started_ms + 20 * (chunk + 1)).await,
                }
            };
            tokio::select! {
                biased;
                r = &mut stop_rx => {
                    reason = Some(r.unwrap_or_else(|_| "the call ended".to_owned()));
                    seq += 1;
                    let stop = Inbound::Stop(Stop {
                        sequence_number: seq,
                        stream_sid: self.stream_sid.clone(),
                        account_sid: Some(self.ctx.info.account_sid.clone()),
                        call_sid: Some(self.ctx.info.call_sid.clone()),
                    });
                    let _ = tx.send(Message::text(stop.encode())).await;
                    let _ = tx.close().await;
                }
                msg = rx.next() => match msg {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => {
                        reason = Some("the application closed the WebSocket".to_owned());
                    }
                    Some(Ok(Message::Text(text))) => {
                        if !self.on_message(text.as_str(), &mut playout, &mut payload_buf) {
                            unknown += 1;
                        }
                    }
                    Some(Ok(Message::Binary(_))) => unknown += 1,
                    Some(Ok(_)) => {}
                },
                () = next_frame => {
                    self.fill_frame(&mut source, &mut frame, &heard, clock.now_ms()).await;
                    chunk += 1;
                    seq += 1;
                    let media = Inbound::Media(Media {
                        sequence_number: seq,
                        stream_sid: self.stream_sid.clone(),
                        track: Some("inbound".to_owned()),
                        chunk: Some(chunk),
                        timestamp: Some((chunk - 1) * 20),
                        payload: encode_payload(&frame),
                    });
                    if tx.send(Message::text(media.encode())).await.is_err() {
                        reason = Some("the application closed the WebSocket".to_owned());
                        continue;
                    }
                    // One key press every 100 ms (5 frames).
                    if chunk.is_multiple_of(5) && let Some(digit) = source.dtmf.pop_front() {
                        seq += 1;
                        let dtmf = format!(
                            r#"{{"event":"dtmf","streamSid":"{}","sequenceNumber":"{seq}","dtmf":{{"track":"inbound_track","digit":"{digit}"}}}}"#,
                            self.stream_sid
                        );
                        let _ = tx.send(Message::text(dtmf)).await;
                    }
                    if let Some(d) = &driver {
                        d.advance(20);
                    }
                    for name in self.advance_playout(&mut playout, 20) {
                        seq += 1;
                        let echo = Inbound::Mark(MarkMsg {
                            sequence_number: seq,
                            stream_sid: self.stream_sid.clone(),
                            name,
                        });
                        let _ = tx.send(Message::text(echo.encode())).await;
                    }
                }
            }
        }
        drop(driver);
        let reason = reason.unwrap_or_default();
        self.ctx.rec.push(Event::StreamStopped {
            stream_sid: self.stream_sid.clone(),
            reason,
            unknown_messages: unknown,
        });
        if let Some(cb) = self.status_cb.clone() {
            status_callback(
                &self.ctx,
                &cb,
                self.status_method,
                &self.stream_sid,
                &self.name,
                "stream-stopped",
                None,
            )
            .await;
        }
    }

    /// Handles one message from the application; false if it was not understood.
    fn on_message(&mut self, text: &str, playout: &mut Playout, buf: &mut Vec<u8>) -> bool {
        let Ok(msg) = Outbound::decode(text) else {
            return false;
        };
        if !self.bidirectional {
            // Twilio ignores what the application sends on a unidirectional stream.
            return !matches!(msg, Outbound::Unknown { .. });
        }
        match msg {
            Outbound::Media { payload, .. } => {
                buf.clear();
                if decode_payload(&payload, buf).is_err() {
                    return false;
                }
                let ms = buf.len() as u64 / 8;
                if playout.total_ms == playout.played_ms {
                    playout.burst_start_ms = playout.total_ms;
                }
                if playout.total_ms - playout.played_ms + ms > MAX_QUEUED_MS {
                    return true;
                }
                playout.total_ms += ms;
                self.ctx.rec.heard(ms);
                true
            }
            Outbound::Mark { name, .. } => {
                playout.marks.push_back((playout.total_ms, name, false));
                true
            }
            Outbound::Clear { .. } => {
                let discarded = playout.total_ms - playout.played_ms;
                playout.total_ms = playout.played_ms;
                self.ctx.rec.push(Event::StreamClear {
                    discarded_ms: discarded,
                });
                self.ctx.rec.interrupted();
                // Pending marks are echoed at once (on the next frame tick).
                let at = playout.played_ms;
                for mark in playout.marks.iter_mut() {
                    *mark = (at, std::mem::take(&mut mark.1), true);
                }
                true
            }
            Outbound::Unknown { .. } => false,
        }
    }

    /// Plays `ms` of queued audio; returns the marks reached.
    fn advance_playout(&mut self, p: &mut Playout, ms: u64) -> Vec<String> {
        if p.total_ms > p.played_ms {
            p.played_ms = (p.played_ms + ms).min(p.total_ms);
            if p.played_ms == p.total_ms {
                self.ctx.rec.push(Event::StreamAudio {
                    duration_ms: p.total_ms - p.burst_start_ms,
                });
            }
        }
        let mut reached = Vec::new();
        while let Some((at, _, _)) = p.marks.front() {
            if *at > p.played_ms {
                break;
            }
            if let Some((_, name, cleared)) = p.marks.pop_front() {
                self.ctx.rec.push(Event::StreamMark {
                    name: name.clone(),
                    cleared,
                });
                reached.push(name);
            }
        }
        reached
    }

    /// Fills `frame` with the caller's next 20 ms.
    async fn fill_frame(
        &mut self,
        s: &mut Source,
        frame: &mut Vec<u8>,
        heard: &tokio::sync::watch::Receiver<crate::recorder::Heard>,
        now_ms: u64,
    ) {
        frame.clear();
        loop {
            if self.ctx.input_busy.load(Ordering::SeqCst) || s.hung_up {
                break;
            }
            if !s.pending.is_empty() {
                let n = s.pending.len().min(FRAME_BYTES);
                frame.extend(s.pending.drain(..n));
                break;
            }
            if let Some((count, began, until)) = s.listen {
                let h = *heard.borrow();
                // Something new was said, or something was still playing when the step began:
                // wait until it has finished.
                let spoke = h.count > count || h.busy_until_ms > began;
                if (spoke && now_ms >= h.busy_until_ms) || now_ms >= until {
                    s.listen = None;
                    // A natural pause before answering.
                    s.silence_frames = 15;
                }
                break;
            }
            if s.silence_frames > 0 {
                s.silence_frames -= 1;
                break;
            }
            let Some(step) = self.ctx.rec.with_script(|sc| sc.pop()).flatten() else {
                break;
            };
            self.ctx.rec.push(Event::Caller {
                action: step.describe(),
            });
            match step {
                Step::Say { text, .. } => {
                    match self.ctx.voice.speak(&text, &self.ctx.language).await {
                        Ok(audio) => s.pending.extend(audio.iter().copied()),
                        Err(e) => {
                            self.ctx.rec.push(Event::Warning {
                                code: None,
                                message: e.to_string(),
                            });
                            s.silence_frames =
                                crate::gather::speech_duration(&text).as_millis() as u64 / 20;
                        }
                    }
                }
                Step::Audio { path, .. } => match self.ctx.voice.file(&path) {
                    Ok(audio) => s.pending.extend(audio.iter().copied()),
                    Err(e) => self.ctx.rec.push(Event::Warning {
                        code: None,
                        message: e.to_string(),
                    }),
                },
                Step::Silence(d) => s.silence_frames = d.as_millis() as u64 / 20,
                Step::Listen(d) => {
                    s.listen = Some((heard.borrow().count, now_ms, now_ms + d.as_millis() as u64));
                }
                Step::Press(keys) => {
                    if self.bidirectional {
                        s.dtmf.extend(keys.chars().filter(|k| *k != 'w'));
                    } else {
                        self.ctx.rec.push(Event::Warning {
                            code: None,
                            message: "key presses are not sent on unidirectional (<Start>) streams, as on Twilio".to_owned(),
                        });
                    }
                    s.silence_frames = 15 * keys.len() as u64;
                }
                Step::Hangup => {
                    s.hung_up = true;
                    let _ = self
                        .ctx
                        .signals
                        .send(crate::media::StreamSignal::CallerHangup);
                }
            }
        }
        frame.resize(FRAME_BYTES, SILENCE);
    }
}
