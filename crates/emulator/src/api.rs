//! The emulated Twilio REST API: live-call updates, and recordings made by `<Record>`.
//!
//! `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` with HTTP basic auth and one
//! of `Url` (+`Method`), `Twiml`, or `Status=completed|canceled`, answered as Twilio answers:
//! 200 with the call resource, 401 (code 20003) on bad credentials, 404 (code 20404) for a call
//! that does not exist or has ended, 400 (code 21xxx-style) for a malformed update.
//! `GET /recordings/{RecordingSid}.wav` serves recordings.

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use hotline_twilio::twiml::Method;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// A live-call update received through the API.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiUpdate {
    /// Fetch new TwiML from `url`.
    Redirect {
        /// The URL.
        url: String,
        /// The method.
        method: Method,
    },
    /// Run this TwiML.
    Twiml(String),
    /// `Status=completed` or `Status=canceled`: end the call.
    End(String),
}

impl ApiUpdate {
    /// A short description for transcripts.
    pub fn describe(&self) -> String {
        match self {
            ApiUpdate::Redirect { url, method } => format!("Url={url} Method={method}"),
            ApiUpdate::Twiml(t) => {
                let short: String = t.chars().take(120).collect();
                format!("Twiml={short}")
            }
            ApiUpdate::End(s) => format!("Status={s}"),
        }
    }
}

/// Live calls and recordings, shared between the API server and the calls.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    calls: Arc<Mutex<HashMap<String, mpsc::UnboundedSender<ApiUpdate>>>>,
    recordings: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl Registry {
    /// Registers a live call; updates for it arrive on the returned receiver.
    pub fn register(&self, call_sid: &str) -> mpsc::UnboundedReceiver<ApiUpdate> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut calls) = self.calls.lock() {
            calls.insert(call_sid.to_owned(), tx);
        }
        rx
    }
    /// Forgets a call that ended: later updates get 404.
    pub fn unregister(&self, call_sid: &str) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.remove(call_sid);
        }
    }
    /// Stores a recording (a WAV file) to be served at `/recordings/{sid}.wav`.
    pub fn store_recording(&self, sid: &str, wav: Vec<u8>) {
        if let Ok(mut r) = self.recordings.lock() {
            r.insert(sid.to_owned(), wav);
        }
    }
}

#[derive(Clone)]
struct ApiState {
    registry: Registry,
    account_sid: String,
    auth_token: String,
}

/// The API's routes.
pub fn router(registry: Registry, account_sid: &str, auth_token: &str) -> Router {
    let state = ApiState {
        registry,
        account_sid: account_sid.to_owned(),
        auth_token: auth_token.to_owned(),
    };
    Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Calls/{call}",
            post(update_call),
        )
        .route("/recordings/{file}", get(recording))
        .with_state(state)
}

fn twilio_error(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status.as_u16(),
        })),
    )
        .into_response()
}

fn authorized(headers: &HeaderMap, account_sid: &str, auth_token: &str) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{account_sid}:{auth_token}");
    // Constant-time enough for a local emulator, but do it properly anyway.
    decoded.len() == expected.len()
        && decoded
            .iter()
            .zip(expected.as_bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

async fn update_call(
    State(state): State<ApiState>,
    Path((account, call)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if !authorized(&headers, &state.account_sid, &state.auth_token) {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let Some(call_sid) = call.strip_suffix(".json") else {
        return twilio_error(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        );
    };
    if account != state.account_sid {
        return twilio_error(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        );
    }
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let update = if let Some(status) = get("Status") {
        if status == "completed" || status == "canceled" {
            ApiUpdate::End(status)
        } else {
            return twilio_error(
                StatusCode::BAD_REQUEST,
                21218,
                "Status must be 'completed' or 'canceled'",
            );
        }
    } else if let Some(twiml) = get("Twiml") {
        if get("Url").is_some() {
            return twilio_error(
                StatusCode::BAD_REQUEST,
                21205,
                "Url and Twiml cannot both be given",
            );
        }
        ApiUpdate::Twiml(twiml)
    } else if let Some(url) = get("Url") {
        let method = match get("Method") {
            None => Method::Post,
            Some(m) => match Method::parse(&m) {
                Some(m) => m,
                None => {
                    return twilio_error(
                        StatusCode::BAD_REQUEST,
                        21207,
                        "Method must be GET or POST",
                    );
                }
            },
        };
        if url::Url::parse(&url).is_err() {
            return twilio_error(StatusCode::BAD_REQUEST, 21205, "Url is not a valid URL");
        }
        ApiUpdate::Redirect { url, method }
    } else {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            20001,
            "One of Url, Twiml or Status is required",
        );
    };
    let sender = state
        .registry
        .calls
        .lock()
        .ok()
        .and_then(|c| c.get(call_sid).cloned());
    match sender {
        Some(tx) if tx.send(update).is_ok() => (
            StatusCode::OK,
            Json(serde_json::json!({
                "sid": call_sid,
                "account_sid": state.account_sid,
                "status": "in-progress",
                "api_version": hotline_twilio::webhook::API_VERSION,
            })),
        )
            .into_response(),
        _ => twilio_error(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        ),
    }
}

async fn recording(State(state): State<ApiState>, Path(file): Path<String>) -> Response {
    let sid = file.strip_suffix(".wav").unwrap_or(&file);
    let wav = state
        .registry
        .recordings
        .lock()
        .ok()
        .and_then(|r| r.get(sid).cloned());
    match wav {
        Some(bytes) => ([(header::CONTENT_TYPE, "audio/x-wav")], bytes).into_response(),
        None => twilio_error(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        ),
    }
}
