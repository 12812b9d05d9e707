//! TwiML Bins, locally: serves a folder of static TwiML documents and audio files over HTTP on
//! loopback, the way Twilio hosts TwiML Bins, so a call can be emulated with no application
//! at all. Relative URLs in the documents (`action="step-01.xml"`, `<Play>beep.wav</Play>`)
//! resolve against the folder. Requests must carry a valid `X-Twilio-Signature`, as they would
//! from Twilio; anything else gets 403.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, Method as HttpMethod, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use hotline_twilio::signature::Validator;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// The largest file served.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Clone)]
struct BinState {
    root: Arc<PathBuf>,
    validator: Arc<Validator>,
    base: Arc<String>,
}

/// A running bin server.
pub struct BinServer {
    base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for BinServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl BinServer {
    /// Serves `root` on 127.0.0.1 (any free port), validating signatures with `auth_token`.
    pub async fn start(root: &Path, auth_token: &str) -> std::io::Result<BinServer> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let state = BinState {
            root: Arc::new(root.to_owned()),
            validator: Arc::new(Validator::new(auth_token)),
            base: Arc::new(base.clone()),
        };
        let app = Router::new()
            .route("/{*path}", any(serve_file))
            .with_state(state);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(BinServer { base, task })
    }

    /// The URL of a file in the folder.
    pub fn url_of(&self, file: &str) -> String {
        format!("{}/{}", self.base, file.trim_start_matches('/'))
    }
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("xml") => "text/xml",
        Some("wav") => "audio/wav",
        Some("mp3") => "audio/mpeg",
        Some("ul") | Some("ulaw") => "audio/basic",
        Some("txt") => "text/plain",
        _ => "application/octet-stream",
    }
}

async fn serve_file(
    State(state): State<BinState>,
    UrlPath(path): UrlPath<String>,
    RawQuery(query): RawQuery,
    method: HttpMethod,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Only plain relative paths inside the folder.
    let rel = PathBuf::from(&path);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let file = state.root.join(&rel);
    let ct = content_type(&file);
    if ct == "text/xml" {
        let sig = headers.get("X-Twilio-Signature").map(|v| v.as_bytes());
        let url = match &query {
            Some(q) => format!("{}/{}?{}", state.base, path, q),
            None => format!("{}/{}", state.base, path),
        };
        let verdict = if method == HttpMethod::POST {
            let params: Vec<(String, String)> = url::form_urlencoded::parse(&body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            state.validator.validate_form(&url, &params, sig)
        } else {
            state.validator.validate_query(&url, sig)
        };
        if verdict.is_err() {
            return (StatusCode::FORBIDDEN, "invalid X-Twilio-Signature").into_response();
        }
    }
    match tokio::fs::metadata(&file).await {
        Ok(m) if m.is_file() && m.len() <= MAX_FILE_BYTES => {}
        _ => return StatusCode::NOT_FOUND.into_response(),
    }
    match tokio::fs::read(&file).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, ct)], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
