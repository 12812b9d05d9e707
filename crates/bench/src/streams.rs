//! The media-stream load: N concurrent Twilio Media Streams on loopback against a voice bot of a
//! running `hotline serve`, paced in real time, measuring how far behind real time the server's
//! handling of the audio is, the turn latency, dropped connections and the CPU of both sides.
//!
//! Each stream is one TCP connection with a hand-written WebSocket client (so the generator
//! stays cheap next to the server): its task makes a signed upgrade (`X-Twilio-Signature` over
//! the `ws://` URL, no parameters, as Twilio signs it) and sends Twilio's `connected` and
//! `start`; then one of two sender threads sends one `media` message of 160 mu-law bytes every
//! 20 ms on the stream's own schedule (start time + 20 ms × chunk, on a 1 ms grid as a timer
//! wheel would; a frame that could not go out on time goes as soon as it can, as a TCP backlog
//! would), then `stop`, while the task reads the server's frames. The audio is a speech
//! fixture followed by silence, looped, so that the bot takes a turn every cycle. Messages are
//! byte-for-byte those of `hotline-emulator`'s `media.rs` (a test checks the encoding against
//! `hotline_twilio::stream::Inbound::encode`); every distinct frame's base64 is computed once.
//!
//! **Processing lag.** Once a second each stream sends a WebSocket ping right after a `media`
//! message, carrying its send time. The server's WebSocket answers pings from its read loop:
//! the pong leaves only after the stream's driver has read — and handled, VAD included, since
//! the driver handles each message before reading the next — every `media` message sent
//! before the ping. The round trip is therefore the time the server takes to catch up with
//! audio that arrived in real time; a server that falls behind shows it as a growing lag.
//!
//! **Turn latency.** The bench also plays Twilio's REST API (the server must be started with
//! `--twilio-api-base` pointing at [`StreamsConfig::rest_listen`]): when the frame that holds
//! the last speech sample of a cycle is sent, its send time is noted for that stream; the next
//! call update for the stream's call SID that says something (`<Say`) closes the turn. Turn
//! latency = update received − that frame's send time − the configured trailing-silence
//! window. It includes the VAD's own end-of-speech delay (the model keeps scoring speech for a
//! frame or two after it ends); its minimum over a run is that deterministic part, and p95 −
//! min is the server's turn processing jitter.

use crate::gather::process_cpu_us;
use hotline_twilio::signature;
use hotline_twilio::stream::encode_payload;
use std::io::Write as _;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Bytes in one 20 ms frame of 8 kHz mu-law.
pub const FRAME_BYTES: usize = 160;
/// The mu-law code for silence.
const SILENCE: u8 = 0xFF;
/// The account SID the bench's calls carry.
pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000000";
/// Frames between two pings (one a second).
const PING_EVERY: u64 = 50;
/// [`Outgoing::phase`]: streaming.
const RUNNING: u8 = 0;
/// The server closed the stream before its end.
const CLOSED: u8 = 1;
/// The stream's time is up: `stop` and a close frame are being sent.
const STOPPING: u8 = 2;
/// Bytes a stream's socket may leave unsent (about 9 s of frames) before the stream counts as
/// dropped.
const MAX_PENDING: usize = 160 * 1024;
/// Threads sending the streams' frames (see [`Outgoing`]): one per core of the 2-core machine.
const SENDER_THREADS: usize = 2;

/// A run that could not start.
#[derive(Debug, thiserror::Error)]
pub enum StreamsError {
    /// The fake REST endpoint could not listen.
    #[error("cannot listen for call updates on {addr}: {source}; pick a free --rest-listen port")]
    RestListen {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The audio has no frame loud enough to be speech.
    #[error(
        "the caller audio has no speech (no 20 ms frame above the energy floor); use a speech fixture"
    )]
    NoSpeech,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct StreamsConfig {
    /// `host:port` of the server (loopback only).
    pub addr: String,
    /// The server's public base URL as it checks signatures (`http://127.0.0.1:8080`); the
    /// stream URL is its `ws://` form plus `/streams/{bot}`.
    pub public_base: String,
    /// The bot's name.
    pub bot: String,
    /// The auth token upgrades are signed with.
    pub auth_token: String,
    /// One speech cycle of caller audio: 8 kHz mu-law, speech then silence (looped).
    pub audio: Vec<u8>,
    /// The bot's trailing-silence window (end-of-turn), ms: subtracted from turn latency.
    pub silence_ms: u64,
    /// How long to measure at each level, after the ramp and a warm-up.
    pub duration: Duration,
    /// Connections are opened evenly over this time.
    pub ramp: Duration,
    /// Discarded time after the ramp.
    pub warmup: Duration,
    /// The server's process ids, for their CPU time.
    pub server_pids: Vec<u32>,
}

/// What one level measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Streams asked for.
    pub streams: usize,
    /// Streams whose upgrade failed.
    pub failed: u64,
    /// Streams the server closed, or whose socket failed, before the end.
    pub dropped: u64,
    /// Lag samples measured.
    pub lag_samples: usize,
    /// Processing lag p50, µs.
    pub lag_p50_us: u32,
    /// Processing lag p99, µs.
    pub lag_p99_us: u32,
    /// Processing lag max, µs.
    pub lag_max_us: u32,
    /// Turns measured (updates that said something after a speech end).
    pub turns: usize,
    /// Turn latency beyond the silence window, p50, µs (negative: faster than the window).
    pub turn_p50_us: i64,
    /// p95.
    pub turn_p95_us: i64,
    /// Minimum.
    pub turn_min_us: i64,
    /// Server CPU over the measurement, % of one core.
    pub server_cpu_pct: Option<f64>,
    /// The bench's own CPU over the measurement, % of one core.
    pub client_cpu_pct: Option<f64>,
    /// How late the bench sent its frames (its own overload), p99, µs.
    pub send_late_p99_us: u32,
    /// Frames sent in the measurement window.
    pub frames: u64,
    /// Measurement wall time.
    pub elapsed: Duration,
}

impl Report {
    /// Whether the level was held: no failed or dropped stream, lag p99 under `max_lag`.
    pub fn held(&self, max_lag: Duration) -> bool {
        self.failed == 0
            && self.dropped == 0
            && self.lag_samples > 0
            && u128::from(self.lag_p99_us) < max_lag.as_micros()
    }
}

/// Decodes one mu-law code (ITU-T G.711).
fn ulaw_to_linear(code: u8) -> i16 {
    let c = !code;
    let exponent = (c >> 4) & 0x07;
    let mantissa = i32::from(c & 0x0F);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    let v = if c & 0x80 != 0 { -magnitude } else { magnitude };
    i16::try_from(v).unwrap_or(0)
}

/// The index of the last frame of `audio` whose mean absolute amplitude is above the energy
/// floor (−40 dBFS): where the speech of one cycle ends.
pub fn speech_end_frame(audio: &[u8]) -> Option<usize> {
    audio
        .chunks(FRAME_BYTES)
        .enumerate()
        .filter(|(_, f)| {
            let sum: u64 = f
                .iter()
                .map(|c| u64::from(ulaw_to_linear(*c).unsigned_abs()))
                .sum();
            sum / (f.len().max(1) as u64) > 330
        })
        .map(|(i, _)| i)
        .next_back()
}

/// The call SID of stream `i`.
pub fn call_sid(i: usize) -> String {
    format!("CA{i:032x}")
}

fn stream_index(call_sid: &str) -> Option<usize> {
    usize::from_str_radix(call_sid.strip_prefix("CA")?, 16).ok()
}

/// Shared state of a level.
struct Shared {
    /// Per stream: send time (µs since origin, +1 so 0 means none) of the last speech-end
    /// frame not yet answered.
    pending_end: Vec<AtomicU64>,
    /// Turn latencies, µs (beyond the silence window).
    turns: Mutex<Vec<i64>>,
    origin: Instant,
    measure_from_us: u64,
    measure_to_us: u64,
    silence_us: i64,
}

impl Shared {
    fn now_us(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// Pre-encoded caller audio: every frame's base64 payload.
struct Frames {
    payloads: Vec<String>,
    speech_end: usize,
}

/// What one stream measured.
#[derive(Default)]
struct StreamStats {
    lags: Vec<u32>,
    late: Vec<u32>,
    frames: u64,
    failed: bool,
    dropped: bool,
}

/// A WebSocket frame header from the client: FIN, `opcode`, masked with a zero key (valid,
/// and the payload is then sent as is).
fn client_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    out.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= 0xFFFF {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(payload);
}

/// Twilio's `media` message, as `Inbound::Media(..).encode()` writes it.
fn media_json(out: &mut Vec<u8>, stream_sid: &str, seq: u64, chunk: u64, payload: &str) {
    let _ = write!(
        out,
        r#"{{"event":"media","sequenceNumber":"{seq}","streamSid":"{stream_sid}","media":{{"track":"inbound","chunk":"{chunk}","timestamp":"{}","payload":"{payload}"}}}}"#,
        (chunk - 1) * 20
    );
}

fn start_json(stream_sid: &str, call_sid: &str, bot: &str) -> String {
    format!(
        r#"{{"event":"start","sequenceNumber":"1","streamSid":"{stream_sid}","start":{{"streamSid":"{stream_sid}","accountSid":"{ACCOUNT_SID}","callSid":"{call_sid}","tracks":["inbound"],"customParameters":{{"bot":"{bot}"}},"mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}}}}"#
    )
}

fn stop_json(stream_sid: &str, call_sid: &str, seq: u64) -> String {
    format!(
        r#"{{"event":"stop","sequenceNumber":"{seq}","streamSid":"{stream_sid}","stop":{{"accountSid":"{ACCOUNT_SID}","callSid":"{call_sid}"}}}}"#
    )
}

/// Opens the WebSocket: a signed upgrade, answered by 101.
async fn upgrade(cfg: &StreamsConfig, sig: &str) -> std::io::Result<(TcpStream, Vec<u8>)> {
    let mut s = TcpStream::connect(&cfg.addr).await?;
    s.set_nodelay(true)?;
    let req = format!(
        "GET /streams/{} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nUser-Agent: Twilio.TmeWs/1.0\r\nX-Twilio-Signature: {sig}\r\n\r\n",
        cfg.bot, cfg.addr
    );
    s.write_all(req.as_bytes()).await?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::other("closed during the upgrade"));
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            if !buf.starts_with(b"HTTP/1.1 101") {
                return Err(std::io::Error::other(
                    String::from_utf8_lossy(buf.get(..i).unwrap_or_default()).into_owned(),
                ));
            }
            let rest = buf.split_off(i + 4);
            return Ok((s, rest));
        }
        if buf.len() > 16 * 1024 {
            return Err(std::io::Error::other("upgrade answer too long"));
        }
    }
}

/// Parses the server's (unmasked) frames in `buf`: pongs give lag samples; a close frame means
/// the server ended the stream. Returns false on close.
fn server_frames(buf: &mut Vec<u8>, shared: &Shared, stats: &mut StreamStats) -> bool {
    let mut open = true;
    let mut at = 0usize;
    while let Some(rest) = buf.get(at..) {
        let (Some(&b0), Some(&b1)) = (rest.first(), rest.get(1)) else {
            break;
        };
        let (len, head): (usize, usize) = match b1 & 0x7F {
            126 => match rest.get(2..4) {
                Some(b) => (usize::from(u16::from_be_bytes([b[0], b[1]])), 4),
                None => break,
            },
            127 => match rest.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                Some(b) => (
                    usize::try_from(u64::from_be_bytes(b)).unwrap_or(usize::MAX),
                    10,
                ),
                None => break,
            },
            n => (usize::from(n), 2),
        };
        let Some(payload) = rest.get(head..head.saturating_add(len)) else {
            break;
        };
        match b0 & 0x0F {
            0xA => {
                if let Ok(b) = <[u8; 8]>::try_from(payload) {
                    let sent = u64::from_be_bytes(b);
                    let now = shared.now_us();
                    if sent >= shared.measure_from_us && sent < shared.measure_to_us {
                        stats
                            .lags
                            .push(u32::try_from(now.saturating_sub(sent)).unwrap_or(u32::MAX));
                    }
                }
            }
            0x8 => open = false,
            _ => {}
        }
        at += head + len;
    }
    buf.drain(..at.min(buf.len()));
    open
}

/// One stream's connection: the signed upgrade, `connected` and `start` from its task; then
/// the socket's write side goes to a sender thread (see [`Outgoing`]) while the task reads the
/// server's frames (pongs, close) until the sender is done with the stream.
async fn one_stream(
    cfg: Arc<StreamsConfig>,
    senders: Arc<Vec<std::sync::mpsc::Sender<Outgoing>>>,
    shared: Arc<Shared>,
    i: usize,
    start_at: Instant,
) -> StreamStats {
    let mut stats = StreamStats::default();
    tokio::time::sleep_until(start_at.into()).await;
    let url = format!(
        "{}/streams/{}",
        cfg.public_base
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1),
        cfg.bot
    );
    let sig = signature::compute(&cfg.auth_token, &url, &[]);
    let (mut sock, mut inbuf) = match upgrade(&cfg, &sig).await {
        Ok(s) => s,
        Err(_) => {
            stats.failed = true;
            return stats;
        }
    };
    let call_sid = call_sid(i);
    let stream_sid = format!("MZ{i:032x}");
    let mut out = Vec::with_capacity(1024);
    client_frame(
        &mut out,
        1,
        br#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#,
    );
    client_frame(
        &mut out,
        1,
        start_json(&stream_sid, &call_sid, &cfg.bot).as_bytes(),
    );
    if sock.write_all(&out).await.is_err() {
        stats.dropped = true;
        return stats;
    }
    // The write side, as a blocking-free std socket sharing the connection.
    let split = sock
        .into_std()
        .and_then(|std| Ok((std.try_clone()?, TcpStream::from_std(std)?)));
    let (writer, mut rd) = match split {
        Ok(pair) => pair,
        Err(_) => {
            stats.dropped = true;
            return stats;
        }
    };
    let phase = Arc::new(AtomicU8::new(RUNNING));
    let (done_tx, mut done_rx) = tokio::sync::oneshot::channel();
    let outgoing = Outgoing {
        index: i,
        sock: writer,
        stream_sid,
        call_sid,
        first_due: Instant::now(),
        chunk: 0,
        pending: Vec::new(),
        phase: phase.clone(),
        sent: SentStats::default(),
        done: Some(done_tx),
    };
    let sender = senders.get(i % senders.len().max(1));
    if sender.is_none_or(|s| s.send(outgoing).is_err()) {
        stats.dropped = true;
        return stats;
    }
    let mut readbuf = [0u8; 4096];
    let mut open = true;
    let mut dropped = false;
    let sent = loop {
        tokio::select! {
            biased;
            sent = &mut done_rx => break sent.ok(),
            r = rd.read(&mut readbuf), if open => match r {
                Ok(0) | Err(_) => open = false,
                Ok(n) => {
                    inbuf.extend_from_slice(readbuf.get(..n).unwrap_or_default());
                    open = server_frames(&mut inbuf, &shared, &mut stats);
                }
            },
        }
        if !open
            && phase
                .compare_exchange(RUNNING, CLOSED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            // The server ended the stream early: the sender stops, and sends its figures.
            dropped = true;
        }
    };
    let Some(sent) = sent else {
        stats.dropped = true;
        return stats;
    };
    stats.frames = sent.frames;
    stats.late = sent.late;
    if dropped || sent.failed {
        stats.dropped = true;
        return stats;
    }
    // The sender wrote `stop` and a close frame (the server may have closed already): wait
    // briefly for the server's close.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(n) = rd.read(&mut readbuf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    stats
}

/// What a sender thread measured for one stream.
#[derive(Default)]
struct SentStats {
    /// How late each frame in the measurement window was sent, µs.
    late: Vec<u32>,
    /// Frames sent in the measurement window.
    frames: u64,
    /// A write failed: the stream was dropped.
    failed: bool,
}

/// The sending side of one stream, owned by a sender thread.
///
/// The generator must cost little next to the server it measures (both share the machine's
/// cores), and most of its cost is the kernel's: one `send` per message, Twilio's pacing. So
/// rather than a task and a timer per stream, a few plain threads each keep their streams in a
/// deadline heap, sleep until the next frame is due, and write every due frame with
/// non-blocking `send`s (a frame the socket cannot take yet waits in `pending`, and the next
/// one is sent after it: like Twilio, the generator never skips audio).
struct Outgoing {
    index: usize,
    sock: std::net::TcpStream,
    stream_sid: String,
    call_sid: String,
    /// When chunk 0 was due; chunk `n` is due 20 ms × n later.
    first_due: Instant,
    /// Chunks sent.
    chunk: u64,
    /// Bytes the socket has not taken yet.
    pending: Vec<u8>,
    /// [`RUNNING`], then [`CLOSED`] (set by the reading task: the server closed the stream
    /// before its end) or [`STOPPING`] (set here: the stream's time is up).
    phase: Arc<AtomicU8>,
    sent: SentStats,
    done: Option<tokio::sync::oneshot::Sender<SentStats>>,
}

impl Outgoing {
    fn due(&self) -> Instant {
        self.first_due + Duration::from_millis(20 * self.chunk)
    }

    /// Writes `pending`; false when the socket failed.
    fn flush(&mut self) -> bool {
        while !self.pending.is_empty() {
            match self.sock.write(&self.pending) {
                Ok(0) => return false,
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }

    /// Hands the figures back to the stream's task.
    fn finish(mut self, failed: bool) {
        self.sent.failed |= failed;
        if let Some(done) = self.done.take() {
            let _ = done.send(std::mem::take(&mut self.sent));
        }
    }
}

/// A sender thread: sends every stream's frames on time until `end_at`, then `stop` and a
/// close frame, until no stream is left and no more will come.
fn sender_thread(
    incoming: std::sync::mpsc::Receiver<Outgoing>,
    frames: Arc<Frames>,
    shared: Arc<Shared>,
    end_at: Instant,
) {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut streams: Vec<Option<Outgoing>> = Vec::new();
    let mut heap: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    let cycle = frames.payloads.len().max(1) as u64;
    let mut text = Vec::with_capacity(512);
    let mut more = true;
    loop {
        while more {
            match incoming.try_recv() {
                Ok(o) => {
                    heap.push(Reverse((o.due(), streams.len())));
                    streams.push(Some(o));
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => break,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => more = false,
            }
        }
        if !more && heap.is_empty() {
            return;
        }
        while let Some(&Reverse((due, slot))) = heap.peek() {
            let now = Instant::now();
            if due > now {
                break;
            }
            heap.pop();
            let Some(mut o) = streams.get_mut(slot).and_then(Option::take) else {
                continue;
            };
            if o.phase.load(Ordering::Acquire) == CLOSED {
                o.finish(true);
                continue;
            }
            if due >= end_at {
                if o.phase
                    .compare_exchange(RUNNING, STOPPING, Ordering::AcqRel, Ordering::Acquire)
                    .is_err()
                {
                    o.finish(true);
                    continue;
                }
                let seq = o.chunk + 2;
                text.clear();
                text.extend_from_slice(stop_json(&o.stream_sid, &o.call_sid, seq).as_bytes());
                client_frame(&mut o.pending, 1, &text);
                client_frame(&mut o.pending, 0x8, &1000u16.to_be_bytes());
                let ok = o.flush();
                o.finish(!ok);
                continue;
            }
            o.chunk += 1;
            let chunk = o.chunk;
            let k = ((chunk - 1) % cycle) as usize;
            let payload = frames
                .payloads
                .get(k)
                .map(String::as_str)
                .unwrap_or_default();
            text.clear();
            // `sequenceNumber` 1 was `start`.
            media_json(&mut text, &o.stream_sid, chunk + 1, chunk, payload);
            client_frame(&mut o.pending, 1, &text);
            let now_us = shared.now_us();
            if chunk.is_multiple_of(PING_EVERY) {
                client_frame(&mut o.pending, 0x9, &now_us.to_be_bytes());
            }
            // A server that stopped reading for seconds has dropped the stream.
            if !o.flush() || o.pending.len() > MAX_PENDING {
                o.finish(true);
                continue;
            }
            if k == frames.speech_end
                && let Some(p) = shared.pending_end.get(o.index)
            {
                p.store(now_us + 1, Ordering::Relaxed);
            }
            if now_us >= shared.measure_from_us && now_us < shared.measure_to_us {
                o.sent.frames += 1;
                let late = now.saturating_duration_since(due);
                o.sent
                    .late
                    .push(u32::try_from(late.as_micros()).unwrap_or(u32::MAX));
            }
            heap.push(Reverse((o.due(), slot)));
            if let Some(s) = streams.get_mut(slot) {
                *s = Some(o);
            }
        }
        // Sleep until the next frame is due, on a 1 ms grid as tokio's timer wheel would (the
        // frames due within the same millisecond go out together), waking at least every
        // millisecond for new streams.
        let now = Instant::now();
        let tick = Duration::from_millis(1);
        let next = heap.peek().map_or(now + tick, |r| r.0.0).min(now + tick);
        let since_ms = next
            .saturating_duration_since(shared.origin)
            .as_micros()
            .div_ceil(1000);
        let wake = shared.origin + Duration::from_millis(u64::try_from(since_ms).unwrap_or(0));
        if wake > now {
            std::thread::sleep(wake - now);
        }
    }
}

/// Twilio's REST API as far as call updates go: answers every request 200 and measures the
/// turn latency of updates that say something.
async fn rest_connection(mut s: TcpStream, level: Arc<Mutex<Option<Arc<Shared>>>>) {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    loop {
        // One request: head, then Content-Length bytes.
        let (head_end, length) = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(buf.get(..i).unwrap_or_default());
                let length = head
                    .split("\r\n")
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (i + 4, length);
            }
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            }
            if buf.len() > 1 << 20 {
                return;
            }
        };
        while buf.len() < head_end + length {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            }
        }
        // The level running now: the server's REST client keeps its connections alive across
        // levels, so a connection must not keep the level it was accepted in.
        let Some(shared) = level.lock().ok().and_then(|l| l.clone()) else {
            return;
        };
        let now = shared.now_us();
        let request: Vec<u8> = buf.drain(..head_end + length).collect();
        let head = String::from_utf8_lossy(request.get(..head_end).unwrap_or_default());
        let body = request.get(head_end..).unwrap_or_default();
        let sid = head
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.rsplit('/').next())
            .and_then(|f| f.strip_suffix(".json"))
            .unwrap_or_default()
            .to_owned();
        // `%3CSay` is `<Say` form-encoded.
        let says = body.windows(6).any(|w| w == b"%3CSay");
        if says && let Some(p) = stream_index(&sid).and_then(|i| shared.pending_end.get(i)) {
            let end = p.swap(0, Ordering::Relaxed);
            if end > 0 {
                let end = end - 1;
                if end >= shared.measure_from_us && end < shared.measure_to_us {
                    let us = i64::try_from(now.saturating_sub(end)).unwrap_or(i64::MAX)
                        - shared.silence_us;
                    if let Ok(mut t) = shared.turns.lock() {
                        t.push(us);
                    }
                }
            }
        }
        let answer =
            format!(r#"{{"sid":"{sid}","account_sid":"{ACCOUNT_SID}","status":"in-progress"}}"#);
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if s.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The bench's fake Twilio REST API, listening on `addr` for the whole run.
pub struct RestEndpoint {
    listener: Arc<TcpListener>,
    /// The level being measured, read by every request (connections outlive levels).
    level: Arc<Mutex<Option<Arc<Shared>>>>,
}

impl RestEndpoint {
    /// Listens on `addr` (`127.0.0.1:PORT`; the server's `--twilio-api-base` must point here).
    pub async fn bind(addr: &str) -> Result<RestEndpoint, StreamsError> {
        let listener =
            TcpListener::bind(addr)
                .await
                .map_err(|source| StreamsError::RestListen {
                    addr: addr.to_owned(),
                    source,
                })?;
        let listener = Arc::new(listener);
        let level: Arc<Mutex<Option<Arc<Shared>>>> = Arc::new(Mutex::new(None));
        let (accepting, current) = (listener.clone(), level.clone());
        // One acceptor for the whole run; it ends with the runtime.
        tokio::spawn(async move {
            while let Ok((s, _)) = accepting.accept().await {
                let _ = s.set_nodelay(true);
                tokio::spawn(rest_connection(s, current.clone()));
            }
        });
        Ok(RestEndpoint { listener, level })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.listener.local_addr().ok()
    }
}

fn pct<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

/// Runs one level of `streams` concurrent streams and reports.
pub async fn run(
    cfg: &StreamsConfig,
    rest: &RestEndpoint,
    streams: usize,
) -> Result<Report, StreamsError> {
    let speech_end = speech_end_frame(&cfg.audio).ok_or(StreamsError::NoSpeech)?;
    let mut audio = cfg.audio.clone();
    let padded = audio.len().div_ceil(FRAME_BYTES) * FRAME_BYTES;
    audio.resize(padded, SILENCE);
    let frames = Arc::new(Frames {
        payloads: audio.chunks(FRAME_BYTES).map(encode_payload).collect(),
        speech_end,
    });
    let origin = Instant::now();
    let ramp_end = cfg.ramp + Duration::from_millis(200);
    let measure_from = ramp_end + cfg.warmup;
    let measure_to = measure_from + cfg.duration;
    let us = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    let shared = Arc::new(Shared {
        pending_end: (0..streams).map(|_| AtomicU64::new(0)).collect(),
        turns: Mutex::new(Vec::new()),
        origin,
        measure_from_us: us(measure_from),
        measure_to_us: us(measure_to),
        silence_us: i64::try_from(cfg.silence_ms * 1000).unwrap_or(0),
    });

    // The REST endpoint measures this level now.
    if let Ok(mut level) = rest.level.lock() {
        *level = Some(shared.clone());
    }

    // CPU at the edges of the measurement window.
    let pids = cfg.server_pids.clone();
    let cpu_task = tokio::spawn(async move {
        let cpu = |pids: &[u32]| -> Option<u64> {
            if pids.is_empty() {
                return None;
            }
            pids.iter().map(|p| process_cpu_us(*p)).sum()
        };
        let me = std::process::id();
        tokio::time::sleep_until((origin + measure_from).into()).await;
        let (s0, c0, t0) = (cpu(&pids), process_cpu_us(me), Instant::now());
        tokio::time::sleep_until((origin + measure_to).into()).await;
        let (s1, c1, t1) = (cpu(&pids), process_cpu_us(me), Instant::now());
        let wall = us(t1 - t0).max(1) as f64;
        let pct = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / wall * 100.0),
            _ => None,
        };
        (pct(s0, s1), pct(c0, c1), t1 - t0)
    });

    let cfg_arc = Arc::new(cfg.clone());
    let end_at = origin + measure_to;
    let mut senders = Vec::new();
    let mut sender_threads = Vec::new();
    for n in 0..SENDER_THREADS {
        let (tx, rx) = std::sync::mpsc::channel();
        let (frames, shared) = (frames.clone(), shared.clone());
        let thread = std::thread::Builder::new()
            .name(format!("bench-send-{n}"))
            .spawn(move || sender_thread(rx, frames, shared, end_at));
        if let Ok(thread) = thread {
            senders.push(tx);
            sender_threads.push(thread);
        }
    }
    let senders = Arc::new(senders);
    let mut tasks = Vec::with_capacity(streams);
    for i in 0..streams {
        let offset = cfg.ramp.mul_f64(i as f64 / streams.max(1) as f64);
        tasks.push(tokio::spawn(one_stream(
            cfg_arc.clone(),
            senders.clone(),
            shared.clone(),
            i,
            origin + offset,
        )));
    }
    // The threads end once every stream is done and these senders are gone.
    drop(senders);
    let mut report = Report {
        streams,
        ..Report::default()
    };
    let mut lags = Vec::new();
    let mut late = Vec::new();
    for t in tasks {
        match t.await {
            Ok(s) => {
                report.failed += u64::from(s.failed);
                report.dropped += u64::from(s.dropped);
                report.frames += s.frames;
                lags.extend(s.lags);
                late.extend(s.late);
            }
            Err(_) => report.dropped += 1,
        }
    }
    for thread in sender_threads {
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
    if let Ok((server, client, elapsed)) = cpu_task.await {
        report.server_cpu_pct = server;
        report.client_cpu_pct = client;
        report.elapsed = elapsed;
    }
    // Let the last updates of the level arrive, then stop listening for this level.
    tokio::time::sleep(Duration::from_millis(500)).await;
    lags.sort_unstable();
    late.sort_unstable();
    let mut turns = shared.turns.lock().map(|t| t.clone()).unwrap_or_default();
    turns.sort_unstable();
    report.lag_samples = lags.len();
    report.lag_p50_us = pct(&lags, 0.50);
    report.lag_p99_us = pct(&lags, 0.99);
    report.lag_max_us = lags.last().copied().unwrap_or(0);
    report.send_late_p99_us = pct(&late, 0.99);
    report.turns = turns.len();
    report.turn_p50_us = pct(&turns, 0.50);
    report.turn_p95_us = pct(&turns, 0.95);
    report.turn_min_us = turns.first().copied().unwrap_or(0);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_twilio::stream::{Inbound, Media, MediaFormat, Start};
    use std::collections::BTreeMap;

    #[test]
    fn messages_are_the_emulators() {
        let payload = encode_payload(&[0xFF; FRAME_BYTES]);
        let mut mine = Vec::new();
        media_json(&mut mine, "MZ1", 7, 6, &payload);
        let theirs = Inbound::Media(Media {
            sequence_number: 7,
            stream_sid: "MZ1".to_owned(),
            track: Some("inbound".to_owned()),
            chunk: Some(6),
            timestamp: Some(100),
            payload,
        })
        .encode();
        assert_eq!(String::from_utf8(mine).unwrap(), theirs);

        let start = Inbound::Start(Start {
            sequence_number: 1,
            stream_sid: "MZ1".to_owned(),
            account_sid: Some(ACCOUNT_SID.to_owned()),
            call_sid: "CA1".to_owned(),
            tracks: vec!["inbound".to_owned()],
            custom_parameters: BTreeMap::from([("bot".to_owned(), "b".to_owned())]),
            media_format: Some(MediaFormat::default()),
        })
        .encode();
        assert_eq!(start_json("MZ1", "CA1", "b"), start);
        let stop = Inbound::decode(&stop_json("MZ1", "CA1", 9)).unwrap();
        assert!(matches!(stop, Inbound::Stop(s) if s.sequence_number == 9));
    }

    #[test]
    fn client_frames_are_masked_with_a_zero_key() {
        let mut out = Vec::new();
        client_frame(&mut out, 1, b"hi");
        assert_eq!(out, [0x81, 0x82, 0, 0, 0, 0, b'h', b'i']);
        out.clear();
        client_frame(&mut out, 1, &[b'x'; 300]);
        assert_eq!(out.get(..4).unwrap(), [0x81, 0x80 | 126, 1, 44]);
        assert_eq!(out.len(), 4 + 4 + 300);
    }

    #[test]
    fn speech_end_is_the_last_loud_frame() {
        let mut audio = vec![SILENCE; FRAME_BYTES * 3];
        audio.extend(std::iter::repeat_n(0x10u8, FRAME_BYTES * 2)); // loud
        audio.extend(std::iter::repeat_n(SILENCE, FRAME_BYTES * 4));
        assert_eq!(speech_end_frame(&audio), Some(4));
        assert_eq!(speech_end_frame(&[SILENCE; 800]), None);
        assert_eq!(stream_index(&call_sid(1234)), Some(1234));
    }

    #[test]
    fn pongs_become_lag_samples_and_close_ends() {
        let shared = Shared {
            pending_end: Vec::new(),
            turns: Mutex::new(Vec::new()),
            origin: Instant::now() - Duration::from_secs(10),
            measure_from_us: 0,
            measure_to_us: u64::MAX,
            silence_us: 0,
        };
        let mut stats = StreamStats::default();
        let sent = shared.now_us() - 5_000;
        let mut buf = vec![0x8A, 8];
        buf.extend_from_slice(&sent.to_be_bytes());
        buf.extend_from_slice(&[0x81, 2, b'{', b'}', 0x8A]); // a text frame, half a pong
        assert!(server_frames(&mut buf, &shared, &mut stats));
        assert_eq!(stats.lags.len(), 1);
        assert!(stats.lags[0] >= 5_000 && stats.lags[0] < 1_000_000);
        assert_eq!(buf, [0x8A]);
        buf.extend_from_slice(&[0, 0x88, 0]);
        assert!(!server_frames(&mut buf, &shared, &mut stats));
    }
}
