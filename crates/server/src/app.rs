//! The HTTP surface of `hotline serve`: routes, Twilio signature checks, prompt files.
//!
//! | Route | What |
//! | --- | --- |
//! | `POST/GET /voice` | a call's voice webhook; the flow is chosen by the called number (`To`) |
//! | `POST/GET /flows/{flow}/voice` | a call's voice webhook for a named flow |
//! | `POST/GET /flows/{flow}/step?seq=N` | `<Gather>`/`<Dial>`/`<Record>` actions; with `&bot=done`, a bot handing the call back |
//! | `POST/GET /flows/{flow}/voice?rec=N` | the same, from Hotline's own redirects (a bot's return to its flow, a lost call's restart): the flow starts anew, its step records numbered from N |
//! | `POST /flows/{flow}/transcription?seq=N&node=NODE` | Twilio's transcription of a `record` node's recording (kept in the call's record) |
//! | `POST /status` | Twilio's call status callback (ends records and sessions) |
//! | `GET/HEAD /prompts/{flow}/{path}?exp&sig` | signed prompt audio |
//! | `POST/GET /bots/{bot}/voice` | a call's voice webhook for a voice bot: greeting and media stream (`?flow=F&seq=N&max=S` when a flow's `bot` node hands the call over) |
//! | `GET /streams/{bot}` | the bot's Media Streams WebSocket (signature checked before the upgrade) |
//! | `GET /healthz` | liveness, with the flows served |
//!
//! Every request is counted in [`crate::metrics`] by route and status code, and the webhooks
//! Twilio waits on are timed; the metrics themselves are served on a listener of their own
//! ([`crate::Server::serve_with_metrics`]), not here.
//!
//! Every Twilio route checks `X-Twilio-Signature` against the public URL (unless disabled at
//! start-up); a request that fails gets 403 and nothing is recorded. Bodies over 64 KiB get 413.

use crate::bots::Bots;
use crate::engine::{Engine, Params};
use crate::metrics::{Failure, Route};
use crate::prompts::{RangeRequest, content_type, parse_range, safe_join};
use crate::signature_hint;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use hotline_flow::PromptBase;
use hotline_flow::runtime::Input;
use hotline_twilio::signature::{PublicBase, SignatureError, Validator};
use hotline_twilio::webhook::Form;
use std::collections::HashMap;
use std::sync::Arc;

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Presigns S3 objects for prompts kept in a bucket.
pub trait S3Presigner: Send + Sync {
    /// A time-limited GET URL for `bucket`/`key`.
    fn presign<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, String>> + Send + 'a>>;
}

/// Shared state of the HTTP layer: one reference count per request (axum clones the state
/// for every request it routes).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// The state over `shared`.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What the HTTP layer's handlers share.
pub struct Shared {
    /// The call engine.
    pub engine: Arc<Engine>,
    /// `None` when signature checks are disabled (a loud start-up warning says so).
    pub validator: Option<Arc<Validator>>,
    /// The externally visible base URL (signatures are computed over it).
    pub public: Arc<PublicBase>,
    /// Called number → flow id, for `/voice`.
    pub numbers: Arc<HashMap<String, String>>,
    /// The flow for `/voice` when the number is not mapped.
    pub default_flow: Option<Arc<str>>,
    /// For prompts kept in S3.
    pub s3: Option<Arc<dyn S3Presigner>>,
    /// Voice bots and their conversations.
    pub bots: Arc<Bots>,
}

/// The HTTP front door over `state`: [`App`].
pub fn app(state: AppState) -> App {
    App {
        router: router(state.clone()),
        state,
    }
}

/// Every route, with state.
fn router(state: AppState) -> Router {
    Router::new()
        .route("/voice", any(voice_by_number))
        .route("/flows/{flow}/voice", any(voice_for_flow))
        .route("/flows/{flow}/step", any(step))
        .route("/flows/{flow}/transcription", any(transcription))
        .route("/status", any(status))
        .route("/prompts/{flow}/{*path}", get(prompt).head(prompt))
        .route("/bots/{bot}/voice", any(bot_voice))
        .route("/streams/{bot}", get(bot_stream))
        .route("/healthz", get(health))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

fn twiml(xml: String) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"))],
        xml,
    )
        .into_response()
}

/// Why a Twilio request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rejected {
    /// `X-Twilio-Signature` is missing or wrong: 403, nothing recorded.
    BadSignature,
}

impl IntoResponse for Rejected {
    fn into_response(self) -> Response {
        match self {
            Rejected::BadSignature => {
                (StatusCode::FORBIDDEN, "invalid X-Twilio-Signature\n").into_response()
            }
        }
    }
}

/// A Twilio request whose `X-Twilio-Signature` has been checked against the public URL: the
/// extractor every Twilio route takes, so no handler can forget the check. A request that
/// fails it is answered 403 before the handler runs; a body over [`MAX_BODY_BYTES`] gets 413.
pub struct TwilioRequest {
    /// The request's parameters (form fields of a POST, query of a GET).
    pub params: Params,
    /// The request URI (routes read their own query parameters from it).
    pub uri: Uri,
}

impl TwilioRequest {
    /// The first value of a query parameter of the request URI.
    pub fn query(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        let query = self.uri.query().unwrap_or_default();
        // Hotline's own action URLs carry plain `name=value` pairs: with nothing escaped, the
        // pairs are read in place, as the form decoder would read them, without its per-byte
        // iterator. Anything escaped goes through the decoder.
        if !query.bytes().any(|b| b == b'%' || b == b'+') {
            return query.split('&').find_map(|piece| {
                let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
                (!piece.is_empty() && k == name).then_some(std::borrow::Cow::Borrowed(v))
            });
        }
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

impl TwilioRequest {
    /// Reads and checks a Twilio request: its body (at most [`MAX_BODY_BYTES`], else 413), its
    /// parameters, and its signature over the public URL (else 403, and nothing is recorded).
    async fn read<B: HttpBody>(
        parts: axum::http::request::Parts,
        body: B,
        state: &AppState,
    ) -> Result<Self, Response> {
        let body = read_body(body).await?;
        let uri = parts.uri;
        let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let url = state.public.http_url(path_and_query);
        let post = parts.method == Method::POST;
        let params = if post {
            Form::parse(&body)
        } else {
            Form::parse(uri.query().unwrap_or_default().as_bytes())
        };
        if let Some(v) = &state.validator {
            let signature = parts
                .headers
                .get("X-Twilio-Signature")
                .map(HeaderValue::as_bytes);
            let verdict = if post {
                v.validate_form_pairs(&url, params.pairs(), signature)
            } else {
                v.validate_query(&url, signature)
            };
            if let Err(e) = verdict {
                let hint = (e == SignatureError::Mismatch).then(|| {
                    signature_hint::hint(
                        &state.public,
                        &url,
                        &parts.headers,
                        path_and_query,
                        false,
                        |u| {
                            if post {
                                v.validate_form_pairs(u, params.pairs(), signature).is_ok()
                            } else {
                                v.validate_query(u, signature).is_ok()
                            }
                        },
                    )
                });
                tracing::warn!(url = %url, error = %e, hint = hint.as_deref(), "rejected a request with a bad Twilio signature");
                return Err(Rejected::BadSignature.into_response());
            }
        }
        Ok(TwilioRequest {
            params: Params(params),
            uri,
        })
    }
}

/// A request's whole body, refused with 413 past [`MAX_BODY_BYTES`] (by its `Content-Length`
/// before anything is read, or as it arrives) and with 400 when it cannot be read.
async fn read_body<B: HttpBody>(body: B) -> Result<Bytes, Response> {
    use http_body_util::BodyExt;
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "Failed to buffer the body: length limit exceeded",
        )
            .into_response()
    };
    // hyper's size hint of a body with a `Content-Length` is that length.
    if http_body::Body::size_hint(&body).lower() > MAX_BODY_BYTES as u64 {
        return Err(too_large());
    }
    match http_body_util::Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(e) => Err((
            StatusCode::BAD_REQUEST,
            format!("Failed to buffer the body: {e}"),
        )
            .into_response()),
    }
}

impl axum::extract::FromRequest<AppState> for TwilioRequest {
    type Rejection = Response;

    async fn from_request(
        req: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        Self::read(parts, body, state).await
    }
}

/// The HTTP front door: Twilio's webhooks (`/voice`, `/flows/{flow}/voice`,
/// `/flows/{flow}/step`, `/status`) go straight to their handlers, everything else (and any
/// webhook path this does not read exactly as the router would, such as an escaped flow id)
/// through the router. The router has the webhook routes too, with the same handlers.
///
/// Why: the router's matching, its extractors and its boxed layers cost a few percent of a
/// gather callback's CPU time, on the path every caller's every turn takes.
#[derive(Clone)]
pub struct App {
    state: AppState,
    router: Router,
}

/// A webhook route read off a path; a flow id as the byte range of the path it sits in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Webhook {
    VoiceByNumber,
    VoiceForFlow(std::ops::Range<usize>),
    Step(std::ops::Range<usize>),
    Status,
}

impl Webhook {
    /// The webhook `method` and `path` ask for, when the router would route them to it with
    /// the same flow id: GET or POST, the path exactly, and a flow id with nothing escaped.
    fn route(method: &Method, path: &str) -> Option<Self> {
        if method != Method::POST && method != Method::GET {
            return None;
        }
        match path {
            "/voice" => return Some(Self::VoiceByNumber),
            "/status" => return Some(Self::Status),
            _ => {}
        }
        const FLOWS: &str = "/flows/";
        let (flow, action) = path.strip_prefix(FLOWS)?.split_once('/')?;
        if flow.is_empty() || flow.contains('%') {
            return None;
        }
        let range = FLOWS.len()..FLOWS.len() + flow.len();
        match action {
            "voice" => Some(Self::VoiceForFlow(range)),
            "step" => Some(Self::Step(range)),
            _ => None,
        }
    }

    /// The route it is counted under.
    fn metrics_route(&self) -> Route {
        match self {
            Self::VoiceByNumber | Self::VoiceForFlow(_) => Route::Voice,
            Self::Step(_) => Route::Step,
            Self::Status => Route::Status,
        }
    }

    async fn answer<B: HttpBody>(self, state: &AppState, req: axum::http::Request<B>) -> Response {
        let (parts, body) = req.into_parts();
        let req = match TwilioRequest::read(parts, body, state).await {
            Ok(req) => req,
            Err(refused) => return refused,
        };
        let flow = |range: std::ops::Range<usize>| req.uri.path().get(range).unwrap_or_default();
        match self {
            Self::VoiceByNumber => answer_by_number(state, &req).await,
            Self::VoiceForFlow(range) => answer_for_flow(state, flow(range), &req).await,
            Self::Step(range) => step_flow(state, flow(range), &req).await,
            Self::Status => answer_status(state, &req).await,
        }
    }
}

/// A request body this serves: hyper's, or any other that yields bytes (tests').
pub trait HttpBody:
    http_body::Body<Data = Bytes, Error: Into<axum::BoxError>> + Send + 'static
{
}

impl<B: http_body::Body<Data = Bytes, Error: Into<axum::BoxError>> + Send + 'static> HttpBody
    for B
{
}

impl App {
    /// Answers `req`, counted in the metrics by route and status, and timed.
    fn answer<B: HttpBody>(&self, req: axum::http::Request<B>) -> ResponseFuture {
        let started = std::time::Instant::now();
        let state = self.state.clone();
        match Webhook::route(req.method(), req.uri().path()) {
            Some(webhook) => Box::pin(async move {
                let route = webhook.metrics_route();
                let response = webhook.answer(&state, req).await;
                state
                    .engine
                    .metrics
                    .answered(route, response.status().as_u16(), started.elapsed());
                Ok(response)
            }),
            None => {
                let route = Route::of_path(req.uri().path());
                let answer = tower::Service::call(&mut self.router.clone(), req.map(Body::new));
                Box::pin(async move {
                    let response = answer.await;
                    if let Ok(r) = &response {
                        state.engine.metrics.answered(
                            route,
                            r.status().as_u16(),
                            started.elapsed(),
                        );
                    }
                    response
                })
            }
        }
    }
}

/// What [`App`] answers with.
pub type ResponseFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Response, std::convert::Infallible>> + Send>,
>;

/// As a tower service, for tests that answer requests without a socket.
impl<B: HttpBody> tower::Service<axum::http::Request<B>> for App {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = ResponseFuture;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: axum::http::Request<B>) -> ResponseFuture {
        self.answer(req)
    }
}

/// As a hyper service, for the connections [`crate::Server::serve`] accepts.
impl hyper::service::Service<axum::http::Request<hyper::body::Incoming>> for App {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = ResponseFuture;

    fn call(&self, req: axum::http::Request<hyper::body::Incoming>) -> ResponseFuture {
        self.answer(req)
    }
}

async fn voice_by_number(State(state): State<AppState>, req: TwilioRequest) -> Response {
    answer_by_number(&state, &req).await
}

async fn answer_by_number(state: &AppState, req: &TwilioRequest) -> Response {
    let params = &req.params;
    let to = params.get("To").unwrap_or_default();
    let flow = state
        .numbers
        .get(to)
        .map(String::as_str)
        .or(state.default_flow.as_deref());
    match flow {
        Some(flow) => twiml(state.engine.start_call(flow, params, None).await.xml),
        None => {
            tracing::warn!(
                "a call to a number with no flow (configure --number or --default-flow)"
            );
            state.engine.metrics.failed(Failure::UnknownFlow);
            twiml(crate::engine::apology("en-US", None).xml)
        }
    }
}

async fn voice_for_flow(
    State(state): State<AppState>,
    Path(flow): Path<String>,
    req: TwilioRequest,
) -> Response {
    answer_for_flow(&state, &flow, &req).await
}

async fn answer_for_flow(state: &AppState, flow: &str, req: &TwilioRequest) -> Response {
    // `rec`: the first step-record seq this flow may use, on Hotline's own redirects (a bot's
    // hand-back to its `return-flow`, a lost call's restart).
    let first_rec = req.query("rec").and_then(|v| v.parse::<u32>().ok());
    twiml(
        state
            .engine
            .start_call(flow, &req.params, first_rec)
            .await
            .xml,
    )
}

async fn step(
    State(state): State<AppState>,
    Path(flow): Path<String>,
    req: TwilioRequest,
) -> Response {
    step_flow(&state, &flow, &req).await
}

async fn step_flow(state: &AppState, flow: &str, req: &TwilioRequest) -> Response {
    let seq = req.query("seq").and_then(|v| v.parse::<u64>().ok());
    // A bot handing the call back: its result was kept by call SID (Twilio posts only its own
    // parameters on a redirect).
    // The result is in the session store, so the instance that ran the bot need not be this one.
    let input = if req.query("bot").as_deref() == Some("done") {
        let result = match req.params.get("CallSid") {
            Some(sid) => state.bots.take_result_shared(sid).await,
            None => None,
        };
        Some(match result {
            Some(Ok(slots)) => Input::BotReturned { slots },
            Some(Err(reason)) => Input::BotFailed { reason },
            None => Input::BotFailed {
                reason: "the bot's result was lost".to_owned(),
            },
        })
    } else {
        None
    };
    twiml(
        state
            .engine
            .step_call_with(flow, seq, &req.params, input)
            .await
            .xml,
    )
}

/// Twilio's `transcribeCallback` for a `record` node: the transcription, kept in the call's
/// record. 204, as for the status callback (a records failure is logged and counted).
async fn transcription(
    State(state): State<AppState>,
    Path(flow): Path<String>,
    req: TwilioRequest,
) -> Response {
    let seq = req.query("seq").and_then(|v| v.parse::<u64>().ok());
    let node = req.query("node");
    state
        .engine
        .transcribed(&flow, seq, node.as_deref(), &req.params)
        .await;
    StatusCode::NO_CONTENT.into_response()
}

async fn status(State(state): State<AppState>, req: TwilioRequest) -> Response {
    answer_status(&state, &req).await
}

async fn answer_status(state: &AppState, req: &TwilioRequest) -> Response {
    // A call a bot answered itself has no flow session: the bots end it, not the flows (which
    // would take it for a lost call).
    let bot_call = match (req.params.get("CallSid"), req.params.get("CallStatus")) {
        (Some(call_sid), Some(status)) => state.bots.call_status(call_sid, status).await,
        _ => false,
    };
    if !bot_call {
        state.engine.call_status(&req.params).await;
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn bot_voice(
    State(state): State<AppState>,
    Path(bot): Path<String>,
    req: TwilioRequest,
) -> Response {
    let from_flow = flow_return(&req.uri);
    twiml(
        state
            .bots
            .entry_for(
                &bot,
                req.params.get("CallSid"),
                crate::bots::Caller {
                    from: req.params.get("From").unwrap_or_default().to_owned(),
                    to: req.params.get("To").unwrap_or_default().to_owned(),
                },
                from_flow,
            )
            .await,
    )
}

/// The flow that handed a call to a bot, from the entry URL's `flow`, `seq` and `max` (seconds)
/// query parameters (signed with the URL). `None` when the call did not come from a flow.
fn flow_return(uri: &Uri) -> Option<crate::bots::FlowReturn> {
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let flow = q("flow").filter(|f| !f.is_empty())?.to_owned();
    let seq = q("seq")?.parse::<u64>().ok()?;
    let max = q("max")
        .and_then(|m| m.parse::<u64>().ok())
        .unwrap_or(600)
        .clamp(1, 3600);
    Some(crate::bots::FlowReturn {
        flow,
        seq,
        deadline: std::time::Instant::now() + std::time::Duration::from_secs(max),
    })
}

/// Read buffer of a media stream's WebSocket: a 20 ms `media` message is about 340 bytes on
/// the wire, so one read takes a few when the server is behind; bigger messages take several
/// reads. (tungstenite zero-fills this much before every read, twice per message.)
const WS_READ_BUFFER: usize = 1024;

/// The bot's media stream: the upgrade's signature is checked over the `wss://` URL first.
async fn bot_stream(
    State(state): State<AppState>,
    Path(bot): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if let Some(v) = &state.validator {
        let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let url = state.public.websocket_url(path_and_query);
        let signature = headers.get("X-Twilio-Signature").map(|v| v.as_bytes());
        if let Err(e) = v.validate_websocket(&url, signature) {
            let hint = (e == SignatureError::Mismatch).then(|| {
                signature_hint::hint(&state.public, &url, &headers, path_and_query, true, |u| {
                    v.validate_websocket(u, signature).is_ok()
                })
            });
            tracing::warn!(url = %url, error = %e, hint = hint.as_deref(), "rejected a media stream with a bad Twilio signature");
            return Rejected::BadSignature.into_response();
        }
    }
    let ws = match ws {
        // Twilio's messages are a few hundred bytes: a small read buffer. (tungstenite
        // zero-fills its whole read buffer, 128 KiB by default, before every read: at 50
        // messages a second per call that was a third of the server's CPU.)
        Ok(ws) => ws.read_buffer_size(WS_READ_BUFFER),
        Err(rejection) => return rejection.into_response(),
    };
    let bots = state.bots.clone();
    let found = bots.get(&bot);
    ws.on_upgrade(move |socket| async move {
        match found {
            Some(found) => crate::voice::drive(bots, found, socket).await,
            None => {
                tracing::warn!("a media stream for an unknown bot; closing it");
                crate::voice::close_unknown(socket).await;
            }
        }
    })
}

async fn health(State(state): State<AppState>) -> Response {
    let flows = state.engine.flows.ids();
    let bots = state.bots.names();
    axum::Json(serde_json::json!({ "status": "ok", "flows": flows, "bots": bots })).into_response()
}

async fn prompt(
    State(state): State<AppState>,
    Path((flow_id, path)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    if let Err(e) = state
        .engine
        .links
        .signer
        .verify(&flow_id, &path, q("exp"), q("sig"), now)
    {
        return (StatusCode::FORBIDDEN, format!("{e}\n")).into_response();
    }
    let Some(flow) = state.engine.flows.current(&flow_id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match &flow.prompt_base {
        PromptBase::Local(root) => {
            let Some(file) = safe_join(root, &path) else {
                return StatusCode::NOT_FOUND.into_response();
            };
            serve_file(&file, &method, &headers).await
        }
        PromptBase::S3 { bucket, prefix } => {
            let Some(s3) = &state.s3 else {
                tracing::error!("a flow plays prompts from S3 but no S3 client is configured");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            };
            let key = if prefix.is_empty() {
                path.clone()
            } else {
                format!("{prefix}/{path}")
            };
            match s3.presign(bucket, &key).await {
                Ok(url) => (StatusCode::FOUND, [(header::LOCATION, url)]).into_response(),
                Err(e) => {
                    tracing::error!(error = %e, "cannot presign a prompt");
                    StatusCode::BAD_GATEWAY.into_response()
                }
            }
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The most bytes a prompt file may have.
const MAX_PROMPT_BYTES: u64 = 64 * 1024 * 1024;

async fn serve_file(file: &std::path::Path, method: &Method, headers: &HeaderMap) -> Response {
    let meta = match tokio::fs::metadata(file).await {
        Ok(m) if m.is_file() && m.len() <= MAX_PROMPT_BYTES => m,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let len = meta.len();
    let ct = content_type(file);
    let range = parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        len,
    );
    let (status, start, end) = match range {
        RangeRequest::Full => (StatusCode::OK, 0, len.saturating_sub(1)),
        RangeRequest::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end),
        RangeRequest::Unsatisfiable => {
            return (
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{len}"))],
            )
                .into_response();
        }
    };
    let body_len = if len == 0 { 0 } else { end - start + 1 };
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, ct)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_LENGTH, body_len)
        .header(header::CACHE_CONTROL, "private, max-age=300");
    if status == StatusCode::PARTIAL_CONTENT {
        builder = builder.header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"));
    }
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        match tokio::fs::read(file).await {
            Ok(bytes) => {
                let s = usize::try_from(start).unwrap_or(usize::MAX);
                let e = usize::try_from(start + body_len).unwrap_or(usize::MAX);
                Body::from(bytes.get(s..e).map(<[u8]>::to_vec).unwrap_or_default())
            }
            Err(_) => return StatusCode::NOT_FOUND.into_response(),
        }
    };
    builder
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The front door takes a path only as the router would route it, with the same flow id;
    /// anything else (other methods, escaped ids, other shapes) is left to the router.
    #[test]
    fn webhook_paths_are_read_as_the_router_reads_them() {
        for (method, path, expected) in [
            (Method::POST, "/voice", Some(Webhook::VoiceByNumber)),
            (Method::GET, "/status", Some(Webhook::Status)),
            (
                Method::POST,
                "/flows/triage/voice",
                Some(Webhook::VoiceForFlow(7..13)),
            ),
            (Method::GET, "/flows/a/step", Some(Webhook::Step(7..8))),
            (Method::PUT, "/flows/a/step", None),
            (Method::HEAD, "/voice", None),
            (Method::POST, "/flows//step", None),
            (Method::POST, "/flows/a%2Fb/step", None),
            (Method::POST, "/flows/a/step/", None),
            (Method::POST, "/flows/a/b/step", None),
            (Method::POST, "/flows/a/stepx", None),
            (Method::POST, "/flows/a", None),
            (Method::POST, "/voice/", None),
            (Method::POST, "//voice", None),
            (Method::POST, "/prompts/a/b.wav", None),
        ] {
            assert_eq!(Webhook::route(&method, path), expected, "{method} {path}");
        }
        // The range is the flow id's place in the path.
        for (path, id) in [("/flows/triage/voice", "triage"), ("/flows/a/step", "a")] {
            let range = match Webhook::route(&Method::POST, path) {
                Some(Webhook::VoiceForFlow(range) | Webhook::Step(range)) => range,
                other => panic!("{path}: {other:?}"),
            };
            assert_eq!(path.get(range), Some(id));
        }
    }

    /// A body over the limit is refused with 413 whether its length is announced (refused
    /// before it is read) or found as it arrives (a chunked body); one at the limit is read whole.
    #[tokio::test]
    async fn bodies_are_read_up_to_the_limit() {
        use http_body_util::{Full, StreamBody};
        let chunked = |sizes: &[usize]| {
            let frames: Vec<Result<http_body::Frame<Bytes>, std::convert::Infallible>> = sizes
                .iter()
                .map(|&n| Ok(http_body::Frame::data(Bytes::from(vec![b'x'; n]))))
                .collect();
            StreamBody::new(futures_util::stream::iter(frames))
        };
        /// A body that announces its length and must not be read.
        struct Announced(u64);
        impl http_body::Body for Announced {
            type Data = Bytes;
            type Error = std::convert::Infallible;
            fn poll_frame(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
                panic!("a body announced over the limit is read");
            }
            fn size_hint(&self) -> http_body::SizeHint {
                http_body::SizeHint::with_exact(self.0)
            }
        }
        let announced = read_body(Announced(MAX_BODY_BYTES as u64 + 1))
            .await
            .unwrap_err();
        assert_eq!(announced.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let at_limit = read_body(Full::new(Bytes::from(vec![b'x'; MAX_BODY_BYTES])))
            .await
            .unwrap();
        assert_eq!(at_limit.len(), MAX_BODY_BYTES);
        let over = read_body(Full::new(Bytes::from(vec![b'x'; MAX_BODY_BYTES + 1])))
            .await
            .unwrap_err();
        assert_eq!(over.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let half = MAX_BODY_BYTES / 2;
        let whole = read_body(chunked(&[half, half])).await.unwrap();
        assert_eq!(whole.len(), MAX_BODY_BYTES);
        let over = read_body(chunked(&[half, half, 1])).await.unwrap_err();
        assert_eq!(over.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    /// The in-place read of plain queries answers exactly as the form decoder does.
    #[test]
    fn query_parameters_read_as_a_form_decoder_reads_them() {
        let names = ["seq", "bot", "flow", "max", "", "s q", "x"];
        for query in [
            "seq=3&bot=done",
            "bot=done&seq=12&seq=13",
            "&&seq=&bot",
            "seq",
            "flow=a%2Fb&seq=4",
            "s+q=1&s%20q=2&seq=%33",
            "seq=1+2&max=%",
            "x==y&x=z",
            "",
        ] {
            let req = TwilioRequest {
                params: Params::default(),
                uri: format!("/flows/f/step?{query}").parse().unwrap(),
            };
            for name in names {
                let expected = url::form_urlencoded::parse(query.as_bytes())
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned());
                assert_eq!(
                    req.query(name).map(|v| v.into_owned()),
                    expected,
                    "{name:?} in {query:?}"
                );
            }
        }
    }
}
