//! Media streams through the emulator: Twilio's message shapes and signing, bidirectional
//! audio with marks and clear, DTMF, and a `<Start>` fork that updates the live call through
//! the REST API (with Hotline's own REST client) while the stream keeps running.
#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use hotline_emulator::{CallSpec, Emulator, EmulatorConfig, Event, Step};
use hotline_twilio::rest::{CallUpdate, RestClient, RestConfig, UpdateOutcome};
use hotline_twilio::signature::Validator;
use hotline_twilio::stream::{Inbound, Outbound, decode_payload, encode_payload};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TOKEN: &str = hotline_emulator::DEFAULT_AUTH_TOKEN;

#[derive(Clone, Default)]
struct Bot {
    base: Arc<Mutex<String>>,
    api_base: Arc<Mutex<String>>,
    /// Raw text frames received, in order.
    frames: Arc<Mutex<Vec<String>>>,
    signature_ok: Arc<Mutex<Option<bool>>>,
    /// Media frames with any non-silent sample.
    loud_frames: Arc<Mutex<usize>>,
}

async fn start_app() -> (String, Bot) {
    let bot = Bot::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    *bot.base.lock().unwrap() = format!("127.0.0.1:{}", addr.port());
    let app = Router::new()
        .route("/connect", any(connect_twiml))
        .route("/fork", any(fork_twiml))
        .route("/fork-then-say", any(fork_then_say_twiml))
        .route("/bad-streams", any(bad_streams_twiml))
        .route("/ws/bot", get(ws_bot))
        .route("/ws/fork", get(ws_fork))
        .with_state(bot.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), bot)
}

fn xml(s: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml")], s).into_response()
}

async fn connect_twiml(State(bot): State<Bot>) -> Response {
    let host = bot.base.lock().unwrap().clone();
    xml(format!(
        r#"<Response><Connect><Stream url="ws://{host}/ws/bot"><Parameter name="flow" value="triage"/><Parameter name="lang" value="fr-FR"/></Stream></Connect><Say>after the stream</Say></Response>"#
    ))
}

async fn fork_twiml(State(bot): State<Bot>) -> Response {
    let host = bot.base.lock().unwrap().clone();
    xml(format!(
        r#"<Response><Start><Stream url="ws://{host}/ws/fork" name="lex"/></Start><Say>Talk to the bot</Say><Pause length="60"/></Response>"#
    ))
}

async fn fork_then_say_twiml(State(bot): State<Bot>) -> Response {
    let host = bot.base.lock().unwrap().clone();
    xml(format!(
        r#"<Response><Start><Stream url="ws://{host}/ws/fork"/></Start><Say>Hello, this greeting takes about two seconds.</Say><Hangup/></Response>"#
    ))
}

async fn bad_streams_twiml() -> Response {
    // Nothing listens on port 9; an http:// URL is not a WebSocket URL.
    xml(r#"<Response><Start><Stream url="ws://127.0.0.1:9/nobody"/></Start><Connect><Stream url="https://example.invalid/x"/></Connect><Say>still on the line</Say></Response>"#.to_owned())
}

fn check_signature(bot: &Bot, path: &str, headers: &HeaderMap) {
    let url = format!("ws://{}{path}", bot.base.lock().unwrap());
    let ok = Validator::new(TOKEN)
        .validate_websocket(
            &url,
            headers.get("X-Twilio-Signature").map(|v| v.as_bytes()),
        )
        .is_ok();
    *bot.signature_ok.lock().unwrap() = Some(ok);
}

async fn ws_bot(ws: WebSocketUpgrade, State(bot): State<Bot>, headers: HeaderMap) -> Response {
    check_signature(&bot, "/ws/bot", &headers);
    ws.on_upgrade(move |socket| run_bot(socket, bot))
}

async fn ws_fork(ws: WebSocketUpgrade, State(bot): State<Bot>, headers: HeaderMap) -> Response {
    check_signature(&bot, "/ws/fork", &headers);
    ws.on_upgrade(move |socket| run_fork(socket, bot))
}

fn note_media(bot: &Bot, text: &str) -> Option<Inbound> {
    bot.frames.lock().unwrap().push(text.to_owned());
    let msg = Inbound::decode(text).ok()?;
    if let Inbound::Media(m) = &msg {
        let mut buf = Vec::new();
        decode_payload(&m.payload, &mut buf).unwrap();
        assert_eq!(buf.len(), 160, "Twilio sends 20 ms frames of 160 bytes");
        if buf.iter().any(|b| *b != 0xFF && *b != 0x7F) {
            *bot.loud_frames.lock().unwrap() += 1;
        }
    }
    Some(msg)
}

/// A bidirectional bot: answers after 0.5 s of caller audio with 400 ms of audio and a mark;
/// after that mark comes back, sends 1 s of audio and a mark then clears it at once (barge-in);
/// after the cleared mark comes back, sends an unknown message and closes.
async fn run_bot(mut socket: WebSocket, bot: Bot) {
    let mut stream_sid = String::new();
    let mut media = 0;
    let mut phase = 0;
    while let Some(Ok(msg)) = socket.recv().await {
        let Message::Text(text) = msg else { continue };
        let Some(inbound) = note_media(&bot, text.as_str()) else {
            continue;
        };
        let out = |o: Outbound| Message::text(o.encode());
        match inbound {
            Inbound::Start(s) => stream_sid = s.stream_sid,
            Inbound::Media(_) => {
                media += 1;
                if media == 25 && phase == 0 {
                    phase = 1;
                    for _ in 0..4 {
                        let payload = encode_payload(&[0x10; 800]);
                        socket
                            .send(out(Outbound::Media {
                                stream_sid: stream_sid.clone(),
                                payload,
                            }))
                            .await
                            .unwrap();
                    }
                    socket
                        .send(out(Outbound::Mark {
                            stream_sid: stream_sid.clone(),
                            name: "reply-1".into(),
                        }))
                        .await
                        .unwrap();
                }
            }
            Inbound::Mark(m) if m.name == "reply-1" => {
                phase = 2;
                let payload = encode_payload(&[0x10; 8000]);
                socket
                    .send(out(Outbound::Media {
                        stream_sid: stream_sid.clone(),
                        payload,
                    }))
                    .await
                    .unwrap();
                socket
                    .send(out(Outbound::Mark {
                        stream_sid: stream_sid.clone(),
                        name: "reply-2".into(),
                    }))
                    .await
                    .unwrap();
                socket
                    .send(out(Outbound::Clear {
                        stream_sid: stream_sid.clone(),
                    }))
                    .await
                    .unwrap();
            }
            Inbound::Mark(m) if m.name == "reply-2" => {
                socket
                    .send(Message::text(r#"{"event":"dance"}"#))
                    .await
                    .unwrap();
                socket.send(Message::text("not json")).await.unwrap();
                // Give the emulator time to read both before the close.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
            _ => {}
        }
    }
}

/// A `<Start>` fork: after 1 s of audio, updates the live call with new TwiML through the
/// emulator's REST API, using Hotline's REST client; then keeps reading until `stop`.
async fn run_fork(mut socket: WebSocket, bot: Bot) {
    let mut call_sid = String::new();
    let mut media = 0;
    while let Some(Ok(msg)) = socket.recv().await {
        let Message::Text(text) = msg else { continue };
        match note_media(&bot, text.as_str()) {
            Some(Inbound::Start(s)) => call_sid = s.call_sid,
            Some(Inbound::Media(_)) => {
                media += 1;
                if media == 50 {
                    let api_base = bot.api_base.lock().unwrap().clone();
                    let mut config = RestConfig::new(hotline_emulator::DEFAULT_ACCOUNT_SID, TOKEN);
                    config.api_base = api_base.clone();
                    let client = RestClient::new(config).unwrap();
                    let update = CallUpdate::Twiml(
                        "<Response><Say>Thanks for calling</Say><Hangup/></Response>".into(),
                    );
                    let outcome = client.update_call(&call_sid, &update).await.unwrap();
                    assert_eq!(outcome, UpdateOutcome::Updated);
                    // A wrong token is refused; an unknown call is gone.
                    let mut bad = RestConfig::new(hotline_emulator::DEFAULT_ACCOUNT_SID, "wrong");
                    bad.api_base = api_base.clone();
                    assert!(
                        RestClient::new(bad)
                            .unwrap()
                            .update_call(&call_sid, &update)
                            .await
                            .is_err()
                    );
                    let mut cfg = RestConfig::new(hotline_emulator::DEFAULT_ACCOUNT_SID, TOKEN);
                    cfg.api_base = api_base;
                    let gone = RestClient::new(cfg)
                        .unwrap()
                        .update_call("CA0123456789abcdef0123456789abcdef", &update)
                        .await
                        .unwrap();
                    assert_eq!(gone, UpdateOutcome::CallGone);
                }
            }
            Some(Inbound::Stop(_)) => return,
            _ => {}
        }
    }
}

fn tone_wav(dir: &std::path::Path) -> std::path::PathBuf {
    let samples: Vec<i16> = (0..8000)
        .map(|i| ((i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 8000.0).sin() * 8000.0) as i16)
        .collect();
    let path = dir.join("tone.wav");
    std::fs::write(
        &path,
        hotline_audio::wav::write_wav_pcm16(8000, 1, &samples),
    )
    .unwrap();
    path
}

#[tokio::test]
async fn connect_stream_speaks_twilios_protocol() {
    let (base, bot) = start_app().await;
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let mut spec = CallSpec::new(format!("{base}/connect").parse().unwrap());
    spec.script = vec![
        Step::Press("12".into()),
        Step::Silence(Duration::from_secs(1)),
    ];
    let report = tokio::time::timeout(Duration::from_secs(20), emulator.call(spec))
        .await
        .unwrap();
    let t = &report.transcript;

    assert_eq!(
        *bot.signature_ok.lock().unwrap(),
        Some(true),
        "the upgrade is signed over the ws URL"
    );
    let frames = bot.frames.lock().unwrap().clone();
    let first: Value = serde_json::from_str(&frames[0]).unwrap();
    assert_eq!(first["event"], "connected");
    assert_eq!(first["protocol"], "Call");
    let start: Value = serde_json::from_str(&frames[1]).unwrap();
    assert_eq!(start["event"], "start");
    assert_eq!(start["sequenceNumber"], "1");
    assert_eq!(start["start"]["customParameters"]["flow"], "triage");
    assert_eq!(start["start"]["customParameters"]["lang"], "fr-FR");
    assert_eq!(start["start"]["mediaFormat"]["encoding"], "audio/x-mulaw");
    assert_eq!(start["start"]["mediaFormat"]["sampleRate"], 8000);
    assert_eq!(start["start"]["callSid"], report.call_sid.as_str());

    // Sequence numbers are strings counting every message; chunks and timestamps are strings.
    let mut chunk = 1u64;
    let mut digits = String::new();
    for (expected_seq, f) in (2u64..).zip(&frames[2..]) {
        let v: Value = serde_json::from_str(f).unwrap();
        assert_eq!(v["sequenceNumber"], expected_seq.to_string(), "{f}");
        match v["event"].as_str().unwrap() {
            "media" => {
                assert_eq!(v["media"]["chunk"], chunk.to_string());
                assert_eq!(v["media"]["timestamp"], ((chunk - 1) * 20).to_string());
                assert_eq!(v["media"]["track"], "inbound");
                chunk += 1;
            }
            "dtmf" => digits.push_str(v["dtmf"]["digit"].as_str().unwrap()),
            "mark" | "stop" => {}
            other => panic!("unexpected event {other}"),
        }
    }
    assert_eq!(digits, "12", "DTMF is sent on bidirectional streams");

    let marks: Vec<(String, bool)> = t
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::StreamMark { name, cleared } => Some((name.clone(), *cleared)),
            _ => None,
        })
        .collect();
    assert_eq!(
        marks,
        [("reply-1".to_owned(), false), ("reply-2".to_owned(), true)]
    );
    // reply-1 is echoed only after its 400 ms of audio has played.
    let heard_at =
        |pred: &dyn Fn(&Event) -> bool| t.entries.iter().find(|e| pred(&e.event)).unwrap().t_ms;
    let audio_done = heard_at(&|e| matches!(e, Event::StreamAudio { .. }));
    let mark1 = heard_at(&|e| matches!(e, Event::StreamMark { name, .. } if name == "reply-1"));
    assert!(mark1 >= 500 + 400 - 40, "mark echoed at {mark1} ms");
    assert!(audio_done <= mark1);
    assert!(
        t.entries
            .iter()
            .any(|e| matches!(e.event, Event::StreamClear { discarded_ms } if discarded_ms >= 900))
    );
    assert!(t.entries.iter().any(|e| matches!(
        &e.event,
        Event::StreamStopped {
            unknown_messages: 2,
            ..
        }
    )));
    // <Connect> blocked until the bot closed, then the next verb ran.
    assert!(
        t.entries
            .iter()
            .any(|e| matches!(&e.event, Event::Say { text, .. } if text == "after the stream"))
    );
    assert_eq!(t.end().unwrap().0.as_str(), "completed");
}

#[tokio::test]
async fn start_stream_forks_audio_and_rest_updates_interrupt_the_call() {
    let (base, bot) = start_app().await;
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    *bot.api_base.lock().unwrap() = emulator.api_base();
    let dir = tempfile::tempdir().unwrap();
    let mut spec = CallSpec::new(format!("{base}/fork").parse().unwrap());
    spec.script = vec![
        Step::Audio {
            path: tone_wav(dir.path()),
            text: None,
        },
        Step::Listen(Duration::from_secs(30)),
    ];
    let report = tokio::time::timeout(Duration::from_secs(20), emulator.call(spec))
        .await
        .unwrap();
    let t = &report.transcript;

    assert_eq!(*bot.signature_ok.lock().unwrap(), Some(true));
    assert!(
        *bot.loud_frames.lock().unwrap() >= 45,
        "the caller's audio reaches the fork"
    );
    let rest = t
        .entries
        .iter()
        .position(|e| matches!(e.event, Event::RestUpdate { .. }))
        .unwrap();
    let thanks = t
        .entries
        .iter()
        .position(|e| matches!(&e.event, Event::Say { text, .. } if text == "Thanks for calling"))
        .unwrap();
    assert!(rest < thanks);
    let (reason, duration_ms) = t.end().unwrap();
    assert_eq!(reason.as_str(), "hangup");
    assert!(
        duration_ms < 10_000,
        "the 60 s pause was interrupted (call lasted {duration_ms} ms)"
    );
    // The fork was told the call ended (it reads the socket in its own task).
    for _ in 0..100 {
        if bot
            .frames
            .lock()
            .unwrap()
            .last()
            .is_some_and(|f| f.contains("\"stop\""))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last: Value = serde_json::from_str(bot.frames.lock().unwrap().last().unwrap()).unwrap();
    assert_eq!(last["event"], "stop");
    assert_eq!(last["stop"]["callSid"], report.call_sid.as_str());
}

#[tokio::test]
async fn prompts_after_start_take_stream_time() {
    // In fast mode the stream's audio is the clock: a <Say> after <Start> lasts as many frames
    // as it takes to say, instead of jumping the clock before the stream has sent anything.
    let (base, bot) = start_app().await;
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    *bot.api_base.lock().unwrap() = emulator.api_base();
    let spec = CallSpec::new(format!("{base}/fork-then-say").parse().unwrap());
    let report = tokio::time::timeout(Duration::from_secs(20), emulator.call(spec))
        .await
        .unwrap();
    let (reason, duration_ms) = report.transcript.end().unwrap();
    assert_eq!(reason.as_str(), "hangup");
    for _ in 0..100 {
        if bot
            .frames
            .lock()
            .unwrap()
            .last()
            .is_some_and(|f| f.contains("\"stop\""))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let media = bot
        .frames
        .lock()
        .unwrap()
        .iter()
        .filter(|f| f.contains("\"media\""))
        .count();
    let expected = duration_ms / 20;
    assert!(
        media as u64 + 5 >= expected && expected >= 90,
        "{media} media frames for a {duration_ms} ms call"
    );
}

#[tokio::test]
async fn failed_stream_handshakes_are_twilio_31920_and_the_call_goes_on() {
    let (base, _bot) = start_app().await;
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let spec = CallSpec::new(format!("{base}/bad-streams").parse().unwrap());
    let report = tokio::time::timeout(Duration::from_secs(20), emulator.call(spec))
        .await
        .unwrap();
    let t = &report.transcript;
    let failures: Vec<&str> = t
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Warning {
                code: Some(31920),
                message,
            } => Some(message.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(failures.len(), 2, "{}", t.render_text());
    assert!(failures[1].contains("wss://"), "{failures:?}");
    assert!(t.heard().any(|h| h == "still on the line"));
    assert_eq!(t.end().unwrap().0.as_str(), "completed");
}
