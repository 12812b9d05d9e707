//! Lex V2 through the server: the in-process `hotline serve` runs a voice bot on the Lex engine
//! (the real AWS SDK, signed requests) pointed at a local fake Lex V2 endpoint, and the emulator
//! calls it with a speech fixture. The fake checks that each RecognizeUtterance carries 8 kHz
//! 16-bit PCM of the caller's utterance; its replies are said (REST call updates with `<Say>`);
//! its fulfilled `Goodbye` hangs up.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hotline_bot::{EngineConfig, LexConfig, StaticCredentials};
use hotline_emulator::{CallSpec, Emulator, EmulatorConfig, Event, Step};
use hotline_server::bots::{BotConfig, EngineBuilder, EngineFuture};
use hotline_server::{Server, ServerConfig};
use serde_json::{Value, json};

const TOKEN: &str = "lex-server-token";
const LPCM: &str =
    "audio/lpcm; sample-rate=8000; sample-size-bits=16; channel-count=1; is-big-endian=false";

/// What the fake saw: per session, the audio bytes of each RecognizeUtterance, and greetings.
#[derive(Default)]
struct FakeLex {
    utterances: HashMap<String, Vec<Vec<u8>>>,
    greetings: usize,
    rejected: usize,
}

type Shared = Arc<Mutex<FakeLex>>;

fn gz64(v: &Value) -> String {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(v.to_string().as_bytes()).unwrap();
    STANDARD.encode(gz.finish().unwrap())
}

fn signed(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            a.starts_with("AWS4-HMAC-SHA256 ") && a.contains("/eu-west-1/lex/aws4_request")
        })
}

fn bad(lex: &Shared) -> Response {
    lex.lock().unwrap().rejected += 1;
    let mut r = (StatusCode::BAD_REQUEST, r#"{"message":"fake"}"#).into_response();
    r.headers_mut().insert(
        "x-amzn-errortype",
        HeaderValue::from_static("ValidationException"),
    );
    r
}

/// RecognizeText (not used by the engine for these turns; a greeting all the same).
async fn text(
    State(lex): State<Shared>,
    UrlPath(p): UrlPath<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if !signed(&headers) {
        return bad(&lex);
    }
    lex.lock().unwrap().greetings += 1;
    let body = json!({
        "messages": [{"content": "Welcome to the bank. How can I help?", "contentType": "PlainText"}],
        "sessionState": {"dialogAction": {"type": "ElicitIntent"}, "sessionAttributes": {}},
        "sessionId": p.3,
    });
    ([("content-type", "application/json")], body.to_string()).into_response()
}

/// RecognizeUtterance: the start text (`text/plain`) greets; the first utterance asks for the
/// account, the second is a goodbye.
async fn utterance(
    State(lex): State<Shared>,
    UrlPath(p): UrlPath<(String, String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !signed(&headers) {
        return bad(&lex);
    }
    let greeting = content_type == "text/plain; charset=utf-8";
    if !greeting && (content_type != LPCM || !body.len().is_multiple_of(2)) {
        return bad(&lex);
    }
    let n = if greeting {
        lex.lock().unwrap().greetings += 1;
        0
    } else {
        let mut g = lex.lock().unwrap();
        let list = g.utterances.entry(p.3.clone()).or_default();
        list.push(body.to_vec());
        list.len()
    };
    let (transcript, message, intent, action) = if n == 0 {
        (
            "hello",
            "Welcome to the bank. How can I help?",
            Value::Null,
            json!({"type": "ElicitIntent"}),
        )
    } else if n == 1 {
        (
            "my account balance",
            "Which account?",
            json!({"name": "CheckBalance", "state": "InProgress", "confirmationState": "None", "slots": {}}),
            json!({"type": "ElicitSlot", "slotToElicit": "Account"}),
        )
    } else {
        (
            "goodbye",
            "Goodbye!",
            json!({"name": "Goodbye", "state": "Fulfilled", "confirmationState": "None", "slots": {}}),
            json!({"type": "Close"}),
        )
    };
    let mut state = json!({"dialogAction": action, "sessionAttributes": {}});
    let mut interpretations = json!([{"intent": {"name": "FallbackIntent", "slots": {}}}]);
    if !intent.is_null() {
        state["intent"] = intent.clone();
        interpretations = json!([{"intent": intent, "nluConfidence": {"score": 0.9}}]);
    }
    let messages = json!([{"content": message, "contentType": "PlainText"}]);
    let h = |v: &Value| HeaderValue::from_str(&gz64(v)).unwrap();
    let mut r = StatusCode::OK.into_response();
    let hs = r.headers_mut();
    hs.insert(
        "content-type",
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    hs.insert("x-amz-lex-messages", h(&messages));
    hs.insert("x-amz-lex-session-state", h(&state));
    hs.insert("x-amz-lex-interpretations", h(&interpretations));
    hs.insert("x-amz-lex-input-transcript", h(&json!(transcript)));
    hs.insert("x-amz-lex-session-id", HeaderValue::from_str(&p.3).unwrap());
    hs.insert("x-amz-lex-input-mode", HeaderValue::from_static("Speech"));
    r
}

async fn fake_lex() -> (String, Shared) {
    let lex: Shared = Arc::default();
    let base = "/bots/{bot}/botAliases/{alias}/botLocales/{locale}/sessions/{session}";
    let app = Router::new()
        .route(&format!("{base}/text"), post(text))
        .route(&format!("{base}/utterance"), post(utterance))
        .with_state(lex.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), lex)
}

/// Engines as `hotline serve` builds them.
struct AwsEngines;

impl EngineBuilder for AwsEngines {
    fn build<'a>(&'a self, config: &'a EngineConfig) -> EngineFuture<'a> {
        Box::pin(hotline_aws::lex::build(config))
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../voice/tests/fixtures")
        .join(name)
}

#[tokio::test]
async fn a_lex_bot_through_the_server_hears_pcm_says_its_replies_and_hangs_up_on_goodbye() {
    let (lex_url, lex) = fake_lex().await;
    let emu = Emulator::start(EmulatorConfig {
        auth_token: TOKEN.to_owned(),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = ServerConfig::new(Vec::new(), format!("http://{addr}"));
    config.auth_token = Some(TOKEN.to_owned());
    config.records = hotline_store::RecordStoreConfig::Sqlite(
        hotline_store::records::sqlite::SqliteConfig::new(dir.path().join("r.db")),
    );
    config.reload_every = None;
    let mut lex_config = LexConfig::new("BANKBOT123", "TSTALIASID");
    lex_config.region = Some("eu-west-1".into());
    lex_config.endpoint_url = Some(lex_url);
    lex_config.timeout_ms = 5000;
    lex_config.credentials = Some(StaticCredentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
    });
    // The WebRTC VAD (BotConfig's default): no model needed.
    config.bots = vec![BotConfig::new("bank", EngineConfig::Lex(lex_config))];
    config.account_sid = Some(emu.account_sid().to_owned());
    config.twilio_api_base = emu.api_base();
    let server = Server::build_with(&config, None, Some(&AwsEngines))
        .await
        .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        server
            .serve(listener, async {
                let _ = stop_rx.await;
            })
            .await
            .unwrap();
    });

    let speech = || Step::Audio {
        path: fixture("account_8k_ulaw.wav"),
        text: None,
    };
    let mut spec = CallSpec::new(format!("http://{addr}/bots/bank/voice").parse().unwrap());
    spec.script = vec![
        Step::Silence(Duration::from_secs(3)),
        speech(),
        Step::Listen(Duration::from_secs(20)),
        speech(),
        Step::Listen(Duration::from_secs(20)),
    ];
    let done = tokio::time::timeout(Duration::from_secs(60), emu.call(spec))
        .await
        .unwrap();
    let t = done.transcript;
    let says: Vec<String> = t
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Say { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        says,
        [
            "Welcome to the bank. How can I help?",
            "Which account?",
            "Goodbye!"
        ],
        "{}",
        t.render_text()
    );
    assert_eq!(t.end().unwrap().0.as_str(), "hangup", "{}", t.render_text());

    let g = lex.lock().unwrap();
    assert_eq!(g.rejected, 0, "every request was well-formed and signed");
    assert_eq!(g.greetings, 1);
    let turns = g
        .utterances
        .get(&done.call_sid)
        .expect("Lex session = CallSid");
    assert_eq!(turns.len(), 2);
    // The fixture's speech is about 1.9 s: each utterance's PCM (16-bit, 8 kHz) holds it, with
    // the pre-roll, and not the whole call.
    let fixture_ms = {
        let bytes = std::fs::read(fixture("account_8k_ulaw.wav")).unwrap();
        let wav = hotline_audio::wav::read_wav(&bytes).unwrap();
        wav.frames() as u64 * 1000 / u64::from(wav.sample_rate)
    };
    for pcm in turns {
        let ms = pcm.len() as u64 / 16;
        assert!(
            ms >= 800 && ms <= fixture_ms + 1000,
            "utterance of {ms} ms (fixture {fixture_ms} ms)"
        );
        // Real audio, not silence.
        let peak = pcm
            .chunks_exact(2)
            .map(|s| i16::from_le_bytes([s[0], s[1]]).unsigned_abs())
            .max()
            .unwrap();
        assert!(peak > 2000, "peak {peak}");
    }
    let _ = stop_tx.send(());
}
