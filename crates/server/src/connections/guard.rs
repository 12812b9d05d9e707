//! What a connection is doing, watched without a timer per request.
//!
//! The socket counts the bytes it reads ([`Metered`]) and the service counts the requests it
//! starts and finishes ([`Tracked`]), in a [`Meter`] that the connection's own task reads back.
//! From those counters a connection is, at any moment, in one of three [`Phase`]s:
//! - **idle**: no request in hand and no byte of the next one (a keep-alive connection between
//!   webhooks, or a new one that has sent nothing);
//! - **head**: bytes of the next request have come, but not yet a whole request head (a slow or
//!   deliberately trickled request: "slowloris");
//! - **busy**: a request is being answered, its body read included.
//!
//! The [`Watchdog`] looks at the counters every quarter of the shortest limit and ends the
//! connection once one phase has lasted past its limit. The counters' cost per request is a
//! handful of relaxed atomic additions; the watchdog's is one timer wake per connection every few
//! seconds, whatever the traffic. Trickled bytes do not renew the head phase: only a whole
//! request does.

use super::ConnectionLimits;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection's counters. One task reads and writes them all (the connection's), so relaxed
/// ordering is enough; atomics only because the connection's future must be `Send`.
#[derive(Debug, Default)]
pub(super) struct Meter {
    read: AtomicU64,
    started: AtomicU64,
    finished: AtomicU64,
    read_at_finish: AtomicU64,
}

/// What a connection is doing; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Idle,
    Head,
    Busy,
}

impl Phase {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Head => "reading a request head",
            Phase::Busy => "answering a request",
        }
    }
}

/// A phase with what identifies it: a phase "lasts" while its snapshot stays equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Snapshot {
    phase: Phase,
    started: u64,
    finished: u64,
    /// Bytes read, for the idle phase only: any byte ends it. Zero otherwise, so that trickled
    /// bytes do not make a slow head look new.
    read: u64,
}

impl Meter {
    fn snapshot(&self) -> Snapshot {
        let started = self.started.load(Relaxed);
        let finished = self.finished.load(Relaxed);
        if started != finished {
            return Snapshot {
                phase: Phase::Busy,
                started,
                finished,
                read: 0,
            };
        }
        let read = self.read.load(Relaxed);
        if read == self.read_at_finish.load(Relaxed) {
            Snapshot {
                phase: Phase::Idle,
                started,
                finished,
                read,
            }
        } else {
            Snapshot {
                phase: Phase::Head,
                started,
                finished,
                read: 0,
            }
        }
    }

    /// The connection's phase now.
    #[cfg(test)]
    fn phase(&self) -> Phase {
        self.snapshot().phase
    }
}

/// The socket, counting the bytes read from it.
pub(super) struct Metered<S> {
    inner: S,
    meter: Arc<Meter>,
}

impl<S> Metered<S> {
    pub(super) fn new(inner: S, meter: Arc<Meter>) -> Self {
        Self { inner, meter }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        let read = buf.filled().len().saturating_sub(before);
        if read > 0 {
            this.meter.read.fetch_add(read as u64, Relaxed);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The service, counting the requests it starts and finishes.
#[derive(Clone)]
pub(super) struct Tracked<S> {
    inner: S,
    meter: Arc<Meter>,
}

impl<S> Tracked<S> {
    pub(super) fn new(inner: S, meter: Arc<Meter>) -> Self {
        Self { inner, meter }
    }
}

impl<S, R> hyper::service::Service<R> for Tracked<S>
where
    S: hyper::service::Service<R>,
    S::Future: Unpin,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TrackedFuture<S::Future>;

    fn call(&self, req: R) -> Self::Future {
        self.meter.started.fetch_add(1, Relaxed);
        TrackedFuture {
            inner: self.inner.call(req),
            _finished: Finished(self.meter.clone()),
        }
    }
}

/// A request being answered; finished when answered or dropped (the connection closed).
pub(super) struct TrackedFuture<F> {
    inner: F,
    _finished: Finished,
}

impl<F: Future + Unpin> Future for TrackedFuture<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

/// Counts a request finished when dropped, with the bytes read up to then: whatever comes after
/// belongs to the next request.
struct Finished(Arc<Meter>);

impl Drop for Finished {
    fn drop(&mut self) {
        let meter = &self.0;
        meter
            .read_at_finish
            .store(meter.read.load(Relaxed), Relaxed);
        meter.finished.fetch_add(1, Relaxed);
    }
}

/// Ends a connection whose phase outlasts its limit; see the module docs.
pub(super) struct Watchdog {
    limits: ConnectionLimits,
    every: Duration,
    tick: tokio::time::Interval,
    last: Option<Snapshot>,
    held: Duration,
}

impl Watchdog {
    pub(super) fn new(limits: ConnectionLimits) -> Self {
        let every = limits.check_every();
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            limits,
            every,
            tick,
            last: None,
            held: Duration::ZERO,
        }
    }

    /// Whether the connection is idle and was so, unchanged, at the last check: a connection
    /// just opened, or just answered, is not taken for an abandoned one.
    pub(super) fn idle_since_last_check(&self, meter: &Meter) -> bool {
        let now = meter.snapshot();
        now.phase == Phase::Idle && self.last == Some(now)
    }

    /// Resolves with the phase that lasted too long. Cancel-safe: dropping the future between
    /// checks loses nothing.
    pub(super) async fn expired(&mut self, meter: &Meter) -> Phase {
        loop {
            self.tick.tick().await;
            let now = meter.snapshot();
            if self.last == Some(now) {
                self.held += self.every;
            } else {
                // The phase began since the last check: it is counted from here, in whole check
                // periods, so a phase is ended between its limit and its limit plus one check
                // period after it began, or two when the limit is not a whole number of periods.
                self.last = Some(now);
                self.held = Duration::ZERO;
            }
            if self.held >= self.limits.limit(now.phase) {
                return now.phase;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meter() -> Arc<Meter> {
        Arc::new(Meter::default())
    }

    #[test]
    fn a_new_connection_is_idle_until_a_byte_comes() {
        let m = meter();
        assert_eq!(m.phase(), Phase::Idle);
        m.read.fetch_add(10, Relaxed);
        assert_eq!(m.phase(), Phase::Head);
    }

    #[test]
    fn a_request_is_busy_until_answered_then_idle_or_the_next_head() {
        let m = meter();
        m.read.fetch_add(200, Relaxed);
        m.started.fetch_add(1, Relaxed);
        let finished = Finished(m.clone());
        assert_eq!(m.phase(), Phase::Busy);
        drop(finished);
        assert_eq!(m.phase(), Phase::Idle);
        m.read.fetch_add(1, Relaxed);
        assert_eq!(m.phase(), Phase::Head);
    }

    #[test]
    fn trickled_bytes_do_not_renew_a_head_but_any_byte_ends_an_idle() {
        let m = meter();
        let idle = m.snapshot();
        m.read.fetch_add(1, Relaxed);
        let head = m.snapshot();
        assert_ne!(idle, head);
        m.read.fetch_add(1, Relaxed);
        assert_eq!(head, m.snapshot());
    }

    #[tokio::test(start_paused = true)]
    async fn the_watchdog_ends_each_phase_after_its_own_limit() {
        let limits = ConnectionLimits {
            idle: Duration::from_secs(60),
            header: Duration::from_secs(10),
            request: Duration::from_secs(30),
            max_connections: 8,
        };
        // Checked every 2.5 s: a phase ends between its limit and its limit plus 2.5 s.
        for (phase, limit) in [
            (Phase::Idle, limits.idle),
            (Phase::Head, limits.header),
            (Phase::Busy, limits.request),
        ] {
            let m = meter();
            match phase {
                Phase::Idle => {}
                Phase::Head => {
                    m.read.fetch_add(3, Relaxed);
                }
                Phase::Busy => {
                    m.started.fetch_add(1, Relaxed);
                }
            }
            let begun = tokio::time::Instant::now();
            let mut dog = Watchdog::new(limits);
            assert_eq!(dog.expired(&m).await, phase);
            let took = begun.elapsed();
            assert!(
                took >= limit && took <= limit + limits.check_every() * 2,
                "{phase:?} ended after {took:?}, limit {limit:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn requests_keep_a_connection_alive_and_a_slow_head_ends_it_anyway() {
        let limits = ConnectionLimits {
            idle: Duration::from_secs(20),
            header: Duration::from_secs(10),
            request: Duration::from_secs(20),
            max_connections: 8,
        };
        let m = meter();
        let mut dog = Watchdog::new(limits);
        // A request every 15 s for two minutes: never idle for 20 s.
        let begun = tokio::time::Instant::now();
        let busy = {
            let m = m.clone();
            async move {
                for _ in 0..8 {
                    tokio::time::sleep(Duration::from_secs(15)).await;
                    m.read.fetch_add(300, Relaxed);
                    m.started.fetch_add(1, Relaxed);
                    drop(Finished(m.clone()));
                }
                // Then a head trickled one byte a second, for ever.
                loop {
                    m.read.fetch_add(1, Relaxed);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        let phase = tokio::select! {
            phase = dog.expired(&m) => phase,
            _ = busy => unreachable!("the trickle never ends"),
        };
        assert_eq!(phase, Phase::Head);
        let took = begun.elapsed();
        assert!(
            took >= Duration::from_secs(130) && took <= Duration::from_secs(135),
            "ended after {took:?}"
        );
    }
}
