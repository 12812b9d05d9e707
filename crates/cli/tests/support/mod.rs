//! A small TwiML application for the tests: the seed's TwiML Bin and first decision node, a few
//! deliberately broken endpoints, and a record of every request with its signature verdict.
#![allow(clippy::unwrap_used, dead_code, unreachable_pub)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use hotline_twilio::signature::Validator;
use std::sync::{Arc, Mutex};

pub const TOKEN: &str = "test-auth-token";

/// One request the app received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub params: Vec<(String, String)>,
    pub signature_ok: bool,
}

impl Seen {
    pub fn param(&self, k: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Default)]
pub struct AppState {
    pub seen: Arc<Mutex<Vec<Seen>>>,
    base: Arc<Mutex<String>>,
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
}

impl TestApp {
    pub async fn start() -> TestApp {
        let state = AppState::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        *state.base.lock().unwrap() = base.clone();
        let app = Router::new()
            .route("/audio/{name}", get(audio))
            .route("/{*path}", any(twiml))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestApp { base, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }
}

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

/// A 1 s, 8 kHz mu-law WAV of silence (any name), or 404 for `missing.wav`.
async fn audio(Path(name): Path<String>) -> Response {
    if name == "missing.wav" {
        return StatusCode::NOT_FOUND.into_response();
    }
    let wav = hotline_audio::wav::write_wav_ulaw(8000, &[0xFF; 8000]);
    ([(header::CONTENT_TYPE, "audio/wav")], wav).into_response()
}

async fn twiml(
    State(state): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let base = state.base.lock().unwrap().clone();
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let url = format!("{base}/{path}");
    let signature_ok = Validator::new(TOKEN)
        .validate_form(
            &url,
            &params,
            headers.get("X-Twilio-Signature").map(|v| v.as_bytes()),
        )
        .is_ok();
    state.seen.lock().unwrap().push(Seen {
        path: format!("/{path}"),
        params: params.clone(),
        signature_ok,
    });
    if !signature_ok {
        return (StatusCode::FORBIDDEN, "bad signature").into_response();
    }
    let a = |n: &str| format!("{base}/audio/{n}");
    match path.as_str() {
        // The seed's TwiML Bin.
        "voice" => xml(format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Play>{intro}</Play>
  <Play>{beep}</Play>
  <Gather input="speech" speechTimeout="3" language="fr-FR" method="POST" action="{base}/step-01">
  </Gather>
  <Play>{e1}</Play>
  <Play>{beep}</Play>
  <Gather input="speech" speechTimeout="3" language="fr-FR" method="POST" action="{base}/step-01">
  </Gather>
  <Play>{e2}</Play>
</Response>"#,
            intro = a("intro.wav"),
            beep = a("beep.wav"),
            e1 = a("error-01.wav"),
            e2 = a("error-02.wav"),
        )),
        // The seed's step 01: coronavirus-related → divert to the SAMU.
        "step-01" => {
            let said = params
                .iter()
                .find(|(k, _)| k == "SpeechResult")
                .map(|(_, v)| v.to_lowercase())
                .unwrap_or_default();
            if said.contains("oui") || said.contains("covid") {
                xml(format!("<Response><Play>{}</Play><Dial>15</Dial></Response>", a("divert-samu.wav")))
            } else {
                xml(format!(
                    "<Response><Play>{}</Play><Enqueue>emergency</Enqueue></Response>",
                    a("queue.wav")
                ))
            }
        }
        "menu" => xml(format!(
            r#"<Response><Gather input="dtmf speech" numDigits="1" action="{base}/menu-choice"><Say>Press 1 for sales</Say></Gather><Say>Goodbye</Say><Hangup/></Response>"#
        )),
        "menu-choice" => xml("<Response><Say>Connecting you to sales</Say><Dial><Sip>sip:sales@example.com</Sip></Dial></Response>".to_owned()),
        "malformed" => xml("<Response>\n  <Say>Hello</Say>\n  <Gather><Pause></Gather>\n</Response>".to_owned()),
        "unknown-verb" => xml("<Response>\n  <Sing>la</Sing>\n</Response>".to_owned()),
        "json" => ([(header::CONTENT_TYPE, "application/json")], "{}").into_response(),
        "plain" => ([(header::CONTENT_TYPE, "text/plain")], "Hello from plain text").into_response(),
        "error-500" => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        "slow" => {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            xml("<Response/>".to_owned())
        }
        "missing-audio" => xml(format!("<Response><Play>{}</Play><Say>still here</Say></Response>", a("missing.wav"))),
        "loop" => xml(format!("<Response><Redirect>{base}/loop</Redirect></Response>")),
        "record" => xml(format!(r#"<Response><Say>Leave a message</Say><Record action="{base}/recorded" maxLength="30" transcribe="true" transcribeCallback="{base}/transcribed"/><Say>No message</Say></Response>"#)),
        "recorded" | "transcribed" => xml("<Response><Say>Thanks</Say><Hangup/></Response>".to_owned()),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
