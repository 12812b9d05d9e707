//! `hotline serve`: answers Twilio voice webhooks for declarative flows.
//!
//! [`ServerConfig`] is validated and turned into a running [`Server`] by [`Server::build`]
//! (flows loaded and checked, stores opened and migrated — every problem surfaces at start-up,
//! not at the first call); [`Server::app`] is the HTTP service, [`app::App`] (testable without
//! sockets, with `tower::ServiceExt::oneshot`); [`Server::serve`] runs it on hyper's HTTP/1.1
//! connections with graceful shutdown and flow hot reload. The per-call logic is the pure flow
//! runtime in `hotline-flow`; this crate is the edge: HTTP, signatures, stores, prompt files.

pub mod app;
pub mod bots;
mod connections;
pub use connections::{ConnectionLimits, LimitError};
pub mod decoded;
pub mod engine;
pub mod intents;
pub mod links;
pub mod metrics;
pub mod prompts;
pub mod registry;
mod signature_hint;
pub mod voice;

use app::{AppState, S3Presigner};
use bots::{BotConfig, Bots, EngineBuilder};
use engine::{Engine, LostCallPolicy};
use hotline_store::{RecordStoreConfig, SessionStoreConfig};
use hotline_twilio::signature::{PublicBase, Validator};
use links::ServerLinks;
use prompts::PromptSigner;
use registry::{FlowRegistry, LoadReport};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Everything `hotline serve` can be told.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Flow files or folders of them.
    pub flows: Vec<PathBuf>,
    /// The public base URL Twilio calls (scheme, host, port as Twilio sees them).
    pub public_url: String,
    /// The Twilio auth token, for signatures. Required when `verify_signatures` is on.
    pub auth_token: Option<String>,
    /// Check `X-Twilio-Signature` on every Twilio request (on by default).
    pub verify_signatures: bool,
    /// Durable call records.
    pub records: RecordStoreConfig,
    /// Session storage.
    pub sessions: SessionStoreConfig,
    /// Called number → flow id.
    pub numbers: Vec<(String, String)>,
    /// Flow for `/voice` when the called number is not mapped.
    pub default_flow: Option<String>,
    /// What to do with callbacks for unknown calls.
    pub lost_call: LostCallPolicy,
    /// Where to transfer callers when a flow fails (after an apology), instead of hanging up.
    pub error_transfer: Option<String>,
    /// Key for signed prompt URLs; default: derived from the auth token.
    pub prompt_key: Option<Vec<u8>>,
    /// Lifetime of prompt URLs.
    pub prompt_ttl: Duration,
    /// Lifetime of an idle session.
    pub session_ttl: Duration,
    /// How often flow files are checked for changes (`None`: never).
    pub reload_every: Option<Duration>,
    /// How long, and how many, client connections are held.
    pub connections: ConnectionLimits,
    /// Voice bots (`/bots/{name}/voice`).
    pub bots: Vec<BotConfig>,
    /// Twilio's REST API origin, for live call updates (tests point it at the emulator).
    pub twilio_api_base: String,
    /// The account SID (`AC…`), for live call updates; required when bots are configured.
    pub account_sid: Option<String>,
    /// Most engine turns in flight over all calls.
    pub max_concurrent_turns: usize,
    /// Most voice-bot media streams open at once; past it, new bot calls are turned away
    /// gracefully ([`bots::Bots::with_max_streams`]). `None` (the default): no limit.
    pub max_streams: Option<std::num::NonZeroUsize>,
    /// Intent engines for flows' `intent:` routes (`--intents NAME=BOT.yaml`).
    pub intents: Vec<intents::IntentConfig>,
    /// How long call records are kept: older calls are purged at start-up and then every hour
    /// (at least a day; `None`, the default: kept for ever).
    pub retention: Option<Duration>,
    /// The bearer token a scraper must send to read the metrics listener's `/metrics`
    /// ([`metrics::ScrapeToken`]; `None`, the default: anyone who reaches the listener).
    pub metrics_token: Option<String>,
}

impl ServerConfig {
    /// A configuration for `flows` behind `public_url`, with defaults: signatures on, SQLite
    /// records in `hotline-records.db`, memory sessions.
    pub fn new(flows: Vec<PathBuf>, public_url: impl Into<String>) -> Self {
        ServerConfig {
            flows,
            public_url: public_url.into(),
            auth_token: None,
            verify_signatures: true,
            records: RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(
                "hotline-records.db",
            )),
            sessions: SessionStoreConfig::default(),
            numbers: Vec::new(),
            default_flow: None,
            lost_call: LostCallPolicy::Restart,
            error_transfer: None,
            prompt_key: None,
            prompt_ttl: Duration::from_secs(3600),
            session_ttl: Duration::from_secs(4 * 3600),
            reload_every: Some(Duration::from_millis(500)),
            connections: ConnectionLimits::default(),
            bots: Vec::new(),
            twilio_api_base: hotline_twilio::rest::DEFAULT_API_BASE.to_owned(),
            account_sid: None,
            max_concurrent_turns: bots::DEFAULT_MAX_CONCURRENT_TURNS,
            max_streams: None,
            intents: Vec::new(),
            retention: None,
            metrics_token: None,
        }
    }
}

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A flow is invalid (diagnostics rendered).
    #[error("{0}")]
    Flows(String),
    /// A setting is wrong.
    #[error("{0}")]
    Config(String),
    /// A store cannot be opened.
    #[error(transparent)]
    Store(#[from] hotline_store::StoreError),
}

/// A built server.
pub struct Server {
    state: AppState,
    registry: Arc<FlowRegistry>,
    reports: Vec<LoadReport>,
    reload_every: Option<Duration>,
    connections: ConnectionLimits,
    retention: Option<Duration>,
    scrape_token: Option<metrics::ScrapeToken>,
}

impl Server {
    /// Validates the configuration, loads the flows and opens the stores.
    pub async fn build(config: &ServerConfig) -> Result<Server, ServerError> {
        Server::build_with(config, None, None).await
    }

    /// Like [`Server::build`], with an S3 presigner for prompts kept in S3.
    pub async fn build_with_s3(
        config: &ServerConfig,
        s3: Option<Arc<dyn S3Presigner>>,
    ) -> Result<Server, ServerError> {
        Server::build_with(config, s3, None).await
    }

    /// Like [`Server::build`], with an S3 presigner for prompts kept in S3 and a builder for
    /// engines this crate cannot build (Lex, from `hotline-aws`).
    pub async fn build_with(
        config: &ServerConfig,
        s3: Option<Arc<dyn S3Presigner>>,
        engines: Option<&dyn EngineBuilder>,
    ) -> Result<Server, ServerError> {
        config
            .connections
            .validate()
            .map_err(|e| ServerError::Config(e.to_string()))?;
        if let Some(r) = config.retention
            && r.as_millis() < u128::from(hotline_store::records::MIN_RETENTION_MS.unsigned_abs())
        {
            return Err(ServerError::Config(format!(
                "a retention of {} s is too short: keep call records at least a day (calls in \
                 progress may be that old)",
                r.as_secs()
            )));
        }
        let scrape_token = config
            .metrics_token
            .as_deref()
            .map(metrics::ScrapeToken::new)
            .transpose()
            .map_err(ServerError::Config)?;
        let public = PublicBase::parse(&config.public_url).map_err(|e| {
            ServerError::Config(format!(
                "the public URL `{}` is not usable: {e} (give the base URL Twilio calls, e.g. https://hotline.example.com)",
                config.public_url
            ))
        })?;
        let validator = match (&config.auth_token, config.verify_signatures) {
            (Some(t), true) if !t.is_empty() => Some(Arc::new(Validator::new(t))),
            (_, true) => {
                return Err(ServerError::Config(
                    "Twilio signature checks need the account's auth token: set TWILIO_AUTH_TOKEN or --auth-token (or, for local experiments only, --insecure-skip-signature)".to_owned(),
                ));
            }
            (_, false) => None,
        };
        // A server of voice bots alone needs no flow.
        let files = if config.flows.is_empty() && !config.bots.is_empty() {
            Vec::new()
        } else {
            registry::expand_paths(&config.flows).map_err(ServerError::Config)?
        };
        let mut intent_engines = intents::IntentEngines::new();
        for spec in &config.intents {
            if intent_engines.contains_key(&spec.name) {
                return Err(ServerError::Config(format!(
                    "--intents `{}` is given twice",
                    spec.name
                )));
            }
            let Some(builder) = engines else {
                return Err(ServerError::Config(format!(
                    "intent engine `{}`: this server was built without intent engines",
                    spec.name
                )));
            };
            let engine = builder.intents(spec).await.map_err(|e| {
                ServerError::Config(format!(
                    "intent engine `{}` ({}): {e}",
                    spec.name,
                    spec.bot.display()
                ))
            })?;
            intent_engines.insert(spec.name.clone(), engine);
        }
        let intent_engines = Arc::new(intent_engines);
        let check: registry::FlowCheck = {
            let engines = intent_engines.clone();
            Arc::new(move |flow: &hotline_flow::Flow, path: &std::path::Path| {
                intents::check_flow(flow, &path.display().to_string(), &engines)
            })
        };
        let (registry, reports) =
            FlowRegistry::load_with(&files, Some(check)).map_err(ServerError::Flows)?;
        let registry = Arc::new(registry);
        for (number, flow) in &config.numbers {
            if registry.current(flow).is_none() {
                return Err(ServerError::Config(format!(
                    "number {number} is mapped to flow `{flow}`, which is not loaded (flows: {})",
                    registry.ids().join(", ")
                )));
            }
        }
        let default_flow = match &config.default_flow {
            Some(f) if registry.current(f).is_none() => {
                return Err(ServerError::Config(format!(
                    "the default flow `{f}` is not loaded (flows: {})",
                    registry.ids().join(", ")
                )));
            }
            Some(f) => Some(f.clone()),
            None => {
                let ids = registry.ids();
                (ids.len() == 1).then(|| ids.into_iter().next()).flatten()
            }
        };
        for bot in &config.bots {
            if let Some(flow) = &bot.return_flow
                && registry.current(flow).is_none()
            {
                return Err(ServerError::Config(format!(
                    "bot `{}` returns callers to flow `{flow}`, which is not loaded (flows: {})",
                    bot.name,
                    registry.ids().join(", ")
                )));
            }
        }
        let key = match &config.prompt_key {
            Some(k) => k.clone(),
            None => {
                let mut k = b"hotline-prompts:".to_vec();
                k.extend_from_slice(config.auth_token.as_deref().unwrap_or("dev").as_bytes());
                k
            }
        };
        let sessions = config.sessions.build().await?;
        let records = config.records.build().await?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("Hotline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ServerError::Config(format!("cannot build the HTTP client: {e}")))?;
        let engine = Engine {
            flows: registry.clone(),
            sessions,
            records,
            links: ServerLinks {
                public: public.clone(),
                signer: PromptSigner::new(&key, config.prompt_ttl.as_secs().max(60)),
                error_transfer: config.error_transfer.clone(),
                bots: config.bots.iter().map(|b| b.name.clone()).collect(),
            },
            http,
            session_ttl: config.session_ttl,
            lost_call: config.lost_call.clone(),
            intents: intent_engines,
            intent_permits: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            )),
            decoded: Default::default(),
            metrics: Arc::default(),
        };
        let rest = match (&config.account_sid, &config.auth_token) {
            (Some(sid), Some(token)) if !config.bots.is_empty() => {
                let mut rc = hotline_twilio::rest::RestConfig::new(sid.clone(), token.clone());
                rc.api_base = config.twilio_api_base.clone();
                Some(
                    hotline_twilio::rest::RestClient::new(rc)
                        .map_err(|e| ServerError::Config(format!("Twilio REST client: {e}")))?,
                )
            }
            _ => None,
        };
        let bots = Bots::build_with_stores(
            &config.bots,
            engines,
            rest,
            config.max_concurrent_turns,
            public.clone(),
            engine.sessions.clone(),
            Some(engine.records.clone()),
        )
        .await
        .map_err(ServerError::Config)?
        .with_max_streams(config.max_streams)
        .with_metrics(engine.metrics.clone());
        let state = AppState::new(app::Shared {
            engine: Arc::new(engine),
            validator,
            public: Arc::new(public),
            numbers: Arc::new(config.numbers.iter().cloned().collect::<HashMap<_, _>>()),
            default_flow: default_flow.map(Arc::from),
            s3,
            bots: Arc::new(bots),
        });
        Ok(Server {
            state,
            registry,
            reports,
            reload_every: config.reload_every,
            connections: config.connections,
            retention: config.retention,
            scrape_token,
        })
    }

    /// What loading the flows reported (ids, versions, warnings).
    pub fn load_reports(&self) -> &[LoadReport] {
        &self.reports
    }

    /// The flow registry.
    pub fn registry(&self) -> &Arc<FlowRegistry> {
        &self.registry
    }

    /// The HTTP service: Twilio's webhooks, prompts, bots and their media streams.
    pub fn app(&self) -> app::App {
        app::app(self.state.clone())
    }

    /// The voice bots and their conversations.
    pub fn bots(&self) -> &Arc<Bots> {
        &self.state.bots
    }

    /// The operational counters.
    pub fn metrics(&self) -> &Arc<metrics::Metrics> {
        &self.state.engine.metrics
    }

    /// The metrics in Prometheus' text format, as `GET /metrics` on the metrics listener
    /// serves them.
    pub fn metrics_text(&self) -> String {
        metrics_text(&self.state)
    }

    /// [`Server::metrics_text`] for as long as the server runs (for a caller that hands the
    /// server to [`Server::serve`]).
    pub fn metrics_reader(&self) -> impl Fn() -> String + Send + Sync + 'static {
        let state = self.state.clone();
        move || metrics_text(&state)
    }

    /// Whether signatures are checked.
    pub fn verifies_signatures(&self) -> bool {
        self.state.validator.is_some()
    }

    /// Serves on `listener` until `shutdown` resolves, then drains requests in flight.
    /// Flow files are watched for changes meanwhile.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.serve_with_metrics(listener, None, shutdown).await
    }

    /// [`Server::serve`], with the metrics served on `metrics` (`GET /metrics`) until the
    /// server stops.
    pub async fn serve_with_metrics(
        self,
        listener: tokio::net::TcpListener,
        metrics: Option<tokio::net::TcpListener>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let counters = self.metrics().clone();
        let reloader = self.reload_every.map(|every| {
            let registry = self.registry.clone();
            let counters = counters.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let registry = registry.clone();
                    let reports = tokio::task::spawn_blocking(move || registry.reload_changed())
                        .await
                        .unwrap_or_default();
                    for r in reports {
                        counters.reloaded(matches!(r, LoadReport::Loaded { .. }));
                        log_report(&r);
                    }
                }
            })
        });
        let purger = self.retention.map(|keep| {
            tokio::spawn(purge_every_hour(
                self.state.engine.records.clone(),
                keep,
                counters.clone(),
            ))
        });
        let slots = connections::Slots::of(&self.connections);
        counters.watch_connections(slots.clone());
        let scraper = metrics.map(|listener| {
            let service = MetricsService(self.state.clone(), self.scrape_token.clone());
            // A scraper or two: a few connections, the default timeouts.
            let limits = ConnectionLimits {
                max_connections: 16,
                ..ConnectionLimits::default()
            };
            tokio::spawn(connections::serve(
                listener,
                service,
                limits,
                connections::Slots::of(&limits),
                std::future::pending(),
            ))
        });
        let result =
            connections::serve(listener, self.app(), self.connections, slots, shutdown).await;
        if let Some(r) = reloader {
            r.abort();
        }
        if let Some(s) = scraper {
            s.abort();
        }
        if let Some(p) = purger {
            p.abort();
        }
        result
    }
}

/// Purges the calls older than `keep`, at start-up and then every hour,
/// [`hotline_store::records::PURGE_CHUNK`] calls per transaction, paced
/// ([`hotline_store::records::purge_before`]); logs and counts what it did.
async fn purge_every_hour(
    records: Arc<dyn hotline_store::RecordStore>,
    keep: Duration,
    counters: Arc<metrics::Metrics>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let cutoff = hotline_store::records::purge_cutoff(keep);
        let purge = hotline_store::records::purge_before(
            &*records,
            cutoff,
            hotline_store::records::PURGE_CHUNK,
            hotline_store::records::PURGE_PAUSE,
        );
        match purge.await {
            Ok(0) => {}
            Ok(n) => {
                counters.purged(n);
                tracing::info!(
                    calls = n,
                    retention_s = keep.as_secs(),
                    "purged the call records past their retention"
                );
            }
            Err(e) => {
                counters.purge_failed();
                tracing::error!(error = %e, "cannot purge call records past their retention; retrying in an hour");
            }
        }
    }
}

/// The metrics rendered with what is read off the server now.
fn metrics_text(state: &AppState) -> String {
    let bots = &state.bots;
    let flow_ids = state.engine.flows.ids();
    state.engine.metrics.render(metrics::Gauges {
        flow_ids: &flow_ids,
        streams_open: bots.open_streams(),
        streams_limit: bots.max_streams().map(std::num::NonZeroUsize::get),
        streams_refused: bots.streams_refused(),
        bots: &bots.counters(),
        call_updates: bots.call_updates(),
    })
}

/// `GET /metrics` on the metrics listener; 404 for any other path, 405 for another method;
/// with a scrape token, 401 for any request without it.
#[derive(Clone)]
struct MetricsService(AppState, Option<metrics::ScrapeToken>);

impl hyper::service::Service<axum::http::Request<hyper::body::Incoming>> for MetricsService {
    type Response = axum::http::Response<String>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn call(&self, req: axum::http::Request<hyper::body::Incoming>) -> Self::Future {
        use axum::http::{Method, StatusCode, header};
        if let Some(token) = &self.1
            && !token.admits(
                req.headers()
                    .get(header::AUTHORIZATION)
                    .map(axum::http::HeaderValue::as_bytes),
            )
        {
            let mut response = axum::http::Response::new(
                "the metrics need the scrape token: Authorization: Bearer TOKEN (hotline serve --metrics-token)\n"
                    .to_owned(),
            );
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("text/plain"),
            );
            headers.insert(
                header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"hotline metrics\""),
            );
            return std::future::ready(Ok(response));
        }
        let (status, content_type, body) = match (req.method(), req.uri().path()) {
            (&Method::GET, "/metrics") => {
                (StatusCode::OK, metrics::CONTENT_TYPE, metrics_text(&self.0))
            }
            (_, "/metrics") => (
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain",
                "GET /metrics\n".to_owned(),
            ),
            _ => (
                StatusCode::NOT_FOUND,
                "text/plain",
                "the metrics are at /metrics\n".to_owned(),
            ),
        };
        let mut response = axum::http::Response::new(body);
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static(content_type),
        );
        std::future::ready(Ok(response))
    }
}

/// Logs a flow (re)load.
pub fn log_report(r: &LoadReport) {
    match r {
        LoadReport::Loaded {
            id,
            version,
            path,
            warnings,
        } => {
            tracing::info!(flow = %id, version = %version, file = %path.display(), "flow loaded");
            if !warnings.is_empty() {
                tracing::warn!("{warnings}");
            }
        }
        LoadReport::Rejected { path, diagnostics } => {
            tracing::error!(
                file = %path.display(),
                "flow edit rejected; the previous version keeps serving:\n{diagnostics}"
            );
        }
    }
}

/// Resolves when SIGINT or SIGTERM arrives.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
