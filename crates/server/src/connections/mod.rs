//! Accepting connections and serving HTTP/1.1 on them, with WebSocket upgrades, until a
//! shutdown: then no new connection is taken, idle ones are closed, and requests in flight are
//! answered before [`serve`] returns.
//!
//! Twilio's webhooks and media streams are HTTP/1.1, and so is what a reverse proxy sends its
//! upstream. The connections are hyper's own, with [`App`](crate::app::App) as their service: no
//! auto-detected HTTP/2, no tower adapter and no boxed body in between (that was `axum::serve`, a
//! few percent of a gather callback's CPU time).
//!
//! Every peer is hostile until proven otherwise, so a connection holds a socket only as long as
//! [`ConnectionLimits`] allow (the phases are explained in [`guard`]):
//! - **idle** (no request, no byte of one) for at most `idle`: a keep-alive connection Twilio
//!   stopped using, or one opened and left;
//! - **reading a request head** for at most `header`, however slowly its bytes trickle in;
//! - **answering a request**, its body included, for at most `request`;
//! - at most `max_connections` at once. Past that number the next connection is accepted but
//!   held, and no other is accepted (they wait in the kernel's backlog), while the connections
//!   idle since their last check are told to close, again at each check period, until a slot is
//!   free; a busy connection is never cut short for it. Idle connections are also closed when
//!   the process runs out of file descriptors.
//!
//! Each limit is enforced between its value and its value plus one check period (a quarter of
//! the shortest limit: 2.5 s with the defaults), or two periods when the limit is not a whole
//! number of them.
//!
//! WebSocket media streams leave this accounting once upgraded: they are bounded by their own
//! protocol (a stream ends with its call).

mod guard;

use guard::{Meter, Metered, Phase, Tracked, Watchdog};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

/// How long, and how many, connections may be held; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Longest a connection may wait for a request (default 60 s).
    pub idle: Duration,
    /// Longest a request head may take to arrive once its first byte has (default 10 s).
    pub header: Duration,
    /// Longest a request may take to be read and answered (default 60 s; Twilio itself gives
    /// up on a webhook after 15 s).
    pub request: Duration,
    /// Most connections held at once (default 10,000).
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(60),
            header: Duration::from_secs(10),
            request: Duration::from_secs(60),
            max_connections: 10_000,
        }
    }
}

/// Why [`ConnectionLimits`] were refused. Its message names the fields; a front end (the CLI)
/// names its own flags instead, from the variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitError {
    /// A timeout under 10 ms: the `idle`, `header` or `request` field, and its value.
    TooShort {
        /// The field's name.
        field: &'static str,
        /// Its value.
        value: Duration,
    },
    /// `max_connections` of 0.
    NoConnections,
}

impl std::fmt::Display for LimitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooShort { field, value } => write!(
                f,
                "the connection limit `{field}` must be at least 10 ms (it is {} ms)",
                value.as_millis()
            ),
            Self::NoConnections => f.write_str("`max_connections` must be at least 1"),
        }
    }
}

impl std::error::Error for LimitError {}

impl ConnectionLimits {
    /// Checks the values: every limit at least 10 ms, at least one connection.
    pub fn validate(&self) -> Result<(), LimitError> {
        for (field, value) in [
            ("idle", self.idle),
            ("header", self.header),
            ("request", self.request),
        ] {
            if value < Duration::from_millis(10) {
                return Err(LimitError::TooShort { field, value });
            }
        }
        if self.max_connections == 0 {
            return Err(LimitError::NoConnections);
        }
        Ok(())
    }

    /// How long `phase` may last.
    fn limit(&self, phase: Phase) -> Duration {
        match phase {
            Phase::Idle => self.idle,
            Phase::Head => self.header,
            Phase::Busy => self.request,
        }
    }

    /// How often a connection's phase is looked at: a quarter of the shortest limit.
    fn check_every(&self) -> Duration {
        (self.idle.min(self.header).min(self.request) / 4).max(Duration::from_millis(1))
    }
}

/// What the accepting loop tells every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Serving,
    /// Out of connections or descriptors: idle connections close now.
    Evict,
    /// Shutting down: finish the request in flight, if any, and close.
    Stop,
}

/// The connection slots of one listener: how many connections it may hold, and holds now
/// (read by the metrics).
#[derive(Clone)]
pub(crate) struct Slots {
    free: Arc<Semaphore>,
    max: usize,
}

impl Slots {
    /// The `max_connections` slots of `limits`, all free.
    pub(crate) fn of(limits: &ConnectionLimits) -> Self {
        Self {
            free: Arc::new(Semaphore::new(limits.max_connections)),
            max: limits.max_connections,
        }
    }

    /// Connections held now.
    pub(crate) fn held(&self) -> usize {
        self.max.saturating_sub(self.free.available_permits())
    }

    /// Most connections held at once.
    pub(crate) fn max(&self) -> usize {
        self.max
    }
}

/// Serves `service` on `listener` until `shutdown` resolves, then drains: see the module docs.
/// The connections held are counted in `slots` ([`Slots::of`] the same `limits`).
pub(crate) async fn serve<S, B>(
    listener: TcpListener,
    service: S,
    limits: ConnectionLimits,
    slots: Slots,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()>
where
    S: hyper::service::Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::http::Response<B>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Unpin + Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (signals, signal) = watch::channel(Signal::Serving);
    let slots = slots.free;
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    // The connection limit reached, and no descriptor left, are each logged at most every
    // ten seconds while they last.
    let mut full = Throttle::default();
    let mut starved = Throttle::default();
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        // Connections that have ended are let go of as new ones come.
        while connections.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                if refused(&e) {
                    if starved.due() {
                        tracing::warn!(error = %e, "out of file descriptors: closing idle connections to make room (raise the open-file limit, or lower --max-connections)");
                    }
                    signals.send_replace(Signal::Evict);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                } else if !transient(&e) {
                    tracing::error!(error = %e, "cannot accept a connection; trying again in a second");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                continue;
            }
        };
        // A full server holds the new connection (and accepts no other) until idle
        // connections have made room for it, or a busy one has ended.
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if full.due() {
                    tracing::warn!(
                        max = limits.max_connections,
                        "at the connection limit (--max-connections): closing idle connections to make room"
                    );
                }
                tokio::select! {
                    () = &mut shutdown => break,
                    slot = room(&slots, &signals, limits.check_every()) => slot,
                }
            }
        };
        let signal = signal.clone();
        let service = service.clone();
        connections.spawn(async move {
            connection(stream, service, limits, signal).await;
            drop(slot);
        });
    }
    drop(listener);
    // Every connection is told, then waited for.
    signals.send_replace(Signal::Stop);
    drop(signals);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// A warning repeated at most every ten seconds.
#[derive(Default)]
struct Throttle(Option<tokio::time::Instant>);

impl Throttle {
    /// Whether to warn now (and then not for ten seconds).
    fn due(&mut self) -> bool {
        let now = tokio::time::Instant::now();
        match self.0 {
            Some(at) if now.duration_since(at) < Duration::from_secs(10) => false,
            _ => {
                self.0 = Some(now);
                true
            }
        }
    }
}

/// A slot for a connection, once one is free; meanwhile idle connections are told, again at
/// each check period, to close.
async fn room(
    slots: &Arc<Semaphore>,
    signals: &watch::Sender<Signal>,
    every: Duration,
) -> OwnedSemaphorePermit {
    loop {
        signals.send_replace(Signal::Evict);
        tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => return slot,
                // The semaphore is never closed.
                Err(_) => std::future::pending::<()>().await,
            },
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// One connection, served until it closes, outlasts a limit, or is evicted while idle; told of
/// a shutdown, it finishes the request in flight, if any, and closes.
async fn connection<S, B>(
    stream: TcpStream,
    service: S,
    limits: ConnectionLimits,
    mut signal: watch::Receiver<Signal>,
) where
    S: hyper::service::Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::http::Response<B>,
            Error = std::convert::Infallible,
        > + Send
        + 'static,
    S::Future: Unpin + Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let meter = Arc::new(Meter::default());
    let io = TokioIo::new(Metered::new(stream, meter.clone()));
    let conn = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, Tracked::new(service, meter.clone()))
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let mut watchdog = Watchdog::new(limits);
    let result = loop {
        tokio::select! {
            biased;
            result = conn.as_mut() => break result,
            changed = signal.changed() => {
                let now = changed.map(|()| *signal.borrow_and_update());
                match now {
                    Ok(Signal::Evict) if watchdog.idle_since_last_check(&meter) => {
                        tracing::debug!("an idle connection closed to make room");
                        return;
                    }
                    Ok(Signal::Evict | Signal::Serving) => {}
                    Ok(Signal::Stop) | Err(_) => {
                        conn.as_mut().graceful_shutdown();
                        break conn.await;
                    }
                }
            }
            phase = watchdog.expired(&meter) => {
                tracing::debug!(phase = phase.as_str(), "a connection closed: it outlasted its limit");
                return;
            }
        }
    };
    if let Err(e) = result {
        tracing::trace!(error = %e, "a connection ended with an error");
    }
}

/// Whether a failed `accept` means the process is out of file descriptors (then idle
/// connections are closed to make room).
fn refused(e: &std::io::Error) -> bool {
    // EMFILE (the process's limit) and ENFILE (the system's).
    matches!(e.raw_os_error(), Some(24 | 23))
}

/// Whether a failed `accept` is a connection that went away before it was taken: nothing to do.
fn transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;
    use hyper::body::{Bytes, Incoming};
    use std::convert::Infallible;
    use std::net::SocketAddr;
    use std::pin::Pin;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::time::{Instant, sleep, timeout};

    type Answer =
        Pin<Box<dyn Future<Output = Result<http::Response<Full<Bytes>>, Infallible>> + Send>>;
    use axum::http;

    /// `/stuck` never answers, `/slow` answers `ok` after [`SHORT`], anything else at once.
    fn service() -> impl hyper::service::Service<
        http::Request<Incoming>,
        Response = http::Response<Full<Bytes>>,
        Error = Infallible,
        Future = Answer,
    > + Clone {
        hyper::service::service_fn(|req: http::Request<Incoming>| -> Answer {
            Box::pin(async move {
                match req.uri().path() {
                    "/stuck" => std::future::pending::<()>().await,
                    "/slow" => sleep(SHORT).await,
                    _ => {}
                }
                Ok(http::Response::new(Full::new(Bytes::from_static(b"ok"))))
            })
        })
    }

    const SHORT: Duration = Duration::from_millis(300);

    async fn start(limits: ConnectionLimits) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(
            listener,
            service(),
            limits,
            Slots::of(&limits),
            async move {
                let _ = stopped.await;
            },
        ));
        (addr, stop)
    }

    fn short() -> ConnectionLimits {
        ConnectionLimits {
            idle: SHORT,
            header: SHORT,
            request: SHORT,
            max_connections: 100,
        }
    }

    /// Sends a GET on `stream` and reads its `ok`.
    async fn get(stream: &mut TcpStream, path: &str) -> std::io::Result<()> {
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())
            .await?;
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.ends_with(b"\r\n\r\nok") {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            got.extend_from_slice(&buf[..n]);
        }
        Ok(())
    }

    /// How long until the server closes `stream` (EOF or reset), reading whatever it sends.
    async fn closed_after(stream: &mut TcpStream) -> Duration {
        let begun = Instant::now();
        let mut buf = [0u8; 1024];
        let read = timeout(Duration::from_secs(10), async {
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        });
        read.await.expect("the server closes the connection");
        begun.elapsed()
    }

    #[tokio::test]
    async fn an_idle_connection_is_closed_after_the_idle_limit() {
        let (addr, _stop) = start(short()).await;
        let mut opened = TcpStream::connect(addr).await.expect("connect");
        let mut used = TcpStream::connect(addr).await.expect("connect");
        get(&mut used, "/").await.expect("answered");
        // Closed at the limit, not before (counted from the first check that saw it idle).
        let after = closed_after(&mut opened).await;
        assert!(after >= SHORT - Duration::from_millis(50), "{after:?}");
        closed_after(&mut used).await;
    }

    #[tokio::test]
    async fn requests_keep_a_connection_open_past_the_idle_limit() {
        let idle = Duration::from_secs(1);
        let (addr, _stop) = start(ConnectionLimits { idle, ..short() }).await;
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let begun = Instant::now();
        while begun.elapsed() < idle * 3 {
            get(&mut stream, "/")
                .await
                .expect("still open and answered");
            sleep(idle / 5).await;
        }
    }

    #[tokio::test]
    async fn a_trickled_request_head_is_cut_off_after_the_header_limit() {
        let (addr, _stop) = start(ConnectionLimits {
            idle: Duration::from_secs(60),
            ..short()
        })
        .await;
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (mut reader, mut writer) = stream.into_split();
        // A byte every 30 ms, for up to 10 s: never a whole head.
        let trickle = tokio::spawn(async move {
            for byte in b"GET / HTTP/1.1\r\nX-Slow: "
                .iter()
                .chain([b'a'; 300].iter())
            {
                if writer.write_all(&[*byte]).await.is_err() {
                    return;
                }
                sleep(Duration::from_millis(30)).await;
            }
        });
        let begun = Instant::now();
        let mut buf = [0u8; 64];
        let read = timeout(Duration::from_secs(10), reader.read(&mut buf)).await;
        // The whole trickle would take 10 s.
        assert!(
            matches!(read, Ok(Ok(0) | Err(_))),
            "closed, nothing answered: {read:?}"
        );
        assert!(
            begun.elapsed() < Duration::from_secs(5),
            "{:?}",
            begun.elapsed()
        );
        trickle.abort();
    }

    #[tokio::test]
    async fn a_request_that_outlasts_the_request_limit_is_cut_off() {
        let (addr, _stop) = start(ConnectionLimits {
            idle: Duration::from_secs(60),
            ..short()
        })
        .await;
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let begun = Instant::now();
        let answer = timeout(Duration::from_secs(10), get(&mut stream, "/stuck"))
            .await
            .expect("cut off, not left hanging");
        assert!(answer.is_err(), "nothing answered");
        let after = begun.elapsed();
        assert!(after >= SHORT - Duration::from_millis(50), "{after:?}");
    }

    #[tokio::test]
    async fn at_the_connection_limit_idle_connections_make_room() {
        let (addr, _stop) = start(ConnectionLimits {
            idle: Duration::from_secs(60),
            request: Duration::from_secs(60),
            max_connections: 2,
            ..short()
        })
        .await;
        let mut first = TcpStream::connect(addr).await.expect("connect");
        let mut second = TcpStream::connect(addr).await.expect("connect");
        get(&mut second, "/").await.expect("answered");
        // Both idle through a check (every 75 ms here).
        sleep(SHORT).await;
        // The third is served only once the idle two have been closed for it.
        let mut third = TcpStream::connect(addr).await.expect("connect");
        timeout(Duration::from_secs(5), get(&mut third, "/"))
            .await
            .expect("answered without waiting for the idle limit")
            .expect("answered");
        closed_after(&mut first).await;
        closed_after(&mut second).await;
    }

    #[tokio::test]
    async fn a_busy_connection_is_not_evicted() {
        let (addr, _stop) = start(ConnectionLimits {
            idle: Duration::from_secs(60),
            header: Duration::from_secs(60),
            request: SHORT * 3,
            max_connections: 1,
        })
        .await;
        let mut busy = TcpStream::connect(addr).await.expect("connect");
        busy.write_all(b"GET /stuck HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .expect("sent");
        sleep(SHORT / 3).await;
        // No room until the stuck request reaches its limit.
        let begun = Instant::now();
        let mut next = TcpStream::connect(addr).await.expect("connect");
        timeout(Duration::from_secs(10), get(&mut next, "/"))
            .await
            .expect("served once the stuck one is cut off")
            .expect("answered");
        assert!(begun.elapsed() >= SHORT, "{:?}", begun.elapsed());
    }

    #[tokio::test]
    async fn a_shutdown_answers_the_request_in_flight_then_closes() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            listener,
            service(),
            short(),
            Slots::of(&short()),
            async move {
                let _ = stopped.await;
            },
        ));
        let mut idle = TcpStream::connect(addr).await.expect("connect");
        get(&mut idle, "/").await.expect("answered");
        let mut busy = TcpStream::connect(addr).await.expect("connect");
        let answered = tokio::spawn(async move { get(&mut busy, "/slow").await });
        sleep(SHORT / 3).await;
        stop.send(()).expect("the server is running");
        answered
            .await
            .expect("the client task")
            .expect("the request in flight is answered");
        timeout(Duration::from_secs(5), server)
            .await
            .expect("serve returns once the connections are done")
            .expect("the server task")
            .expect("served");
        closed_after(&mut idle).await;
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "no longer listening"
        );
    }

    #[test]
    fn limits_are_validated() {
        assert!(ConnectionLimits::default().validate().is_ok());
        let zero = ConnectionLimits {
            max_connections: 0,
            ..ConnectionLimits::default()
        };
        assert_eq!(zero.validate(), Err(LimitError::NoConnections));
        let instant = ConnectionLimits {
            header: Duration::ZERO,
            ..ConnectionLimits::default()
        };
        let e = instant.validate().expect_err("refused");
        assert_eq!(
            e,
            LimitError::TooShort {
                field: "header",
                value: Duration::ZERO
            }
        );
        assert_eq!(
            e.to_string(),
            "the connection limit `header` must be at least 10 ms (it is 0 ms)"
        );
    }
}
