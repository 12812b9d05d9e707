//! The call clock: emulated time for one call.
//!
//! In **real-time** mode the clock is the wall clock: a 5 s `<Pause>` takes 5 s.
//!
//! In **fast** mode time is virtual. While no media stream is open, waiting is instant: the
//! clock jumps forward. While a stream is open, the stream's audio *is* the clock: the stream
//! that drives it advances time by 20 ms per frame it delivers, paced at `speed` times real
//! time, and everything else that waits (a `<Pause>`, a `<Say>` being heard) waits for the
//! audio to reach that point. That keeps the caller's audio, the application's replies and the
//! transcript on one consistent timeline, far faster than real time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// How emulated time relates to wall time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// Virtual time; streams paced at `speed` × real time (`f64::INFINITY`: unpaced).
    Fast {
        /// Stream pacing factor.
        speed: f64,
    },
    /// Wall-clock time, as on a real call.
    Realtime,
}

impl Pace {
    /// Fast mode with the default stream speed (20×).
    pub const FAST: Pace = Pace::Fast { speed: 20.0 };
}

/// A shared clock for one call. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pace: Pace,
    started: Instant,
    virtual_ms: AtomicU64,
    tick: watch::Sender<u64>,
    driven: AtomicBool,
}

/// Held by the stream that drives a fast clock; releasing it returns the clock to jumping.
#[derive(Debug)]
pub struct Driver {
    clock: Clock,
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.clock.inner.driven.store(false, Ordering::SeqCst);
        // Wake anyone waiting on stream time: they will now jump.
        self.clock.inner.tick.send_modify(|_| {});
    }
}

impl Clock {
    /// A clock at zero.
    pub fn new(pace: Pace) -> Self {
        let (tick, _) = watch::channel(0);
        Clock {
            inner: Arc::new(Inner {
                pace,
                started: Instant::now(),
                virtual_ms: AtomicU64::new(0),
                tick,
                driven: AtomicBool::new(false),
            }),
        }
    }

    /// The pace.
    pub fn pace(&self) -> Pace {
        self.inner.pace
    }

    /// Milliseconds since the call started, in emulated time.
    pub fn now_ms(&self) -> u64 {
        match self.inner.pace {
            Pace::Realtime => {
                u64::try_from(self.inner.started.elapsed().as_millis()).unwrap_or(u64::MAX)
            }
            Pace::Fast { .. } => self.inner.virtual_ms.load(Ordering::SeqCst),
        }
    }

    /// Waits `d` of emulated time.
    pub async fn sleep(&self, d: Duration) {
        let target = self
            .now_ms()
            .saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.sleep_until(target).await;
    }

    /// Waits until emulated time reaches `target_ms`.
    pub async fn sleep_until(&self, target_ms: u64) {
        match self.inner.pace {
            Pace::Realtime => {
                let now = self.now_ms();
                if target_ms > now {
                    tokio::time::sleep(Duration::from_millis(target_ms - now)).await;
                }
            }
            Pace::Fast { .. } => {
                let mut rx = self.inner.tick.subscribe();
                loop {
                    if self.now_ms() >= target_ms {
                        return;
                    }
                    if !self.inner.driven.load(Ordering::SeqCst) {
                        // Nothing drives time: jump.
                        self.inner.virtual_ms.fetch_max(target_ms, Ordering::SeqCst);
                        self.inner.tick.send_modify(|_| {});
                        tokio::task::yield_now().await;
                        return;
                    }
                    if rx.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Waits, without moving time, until emulated time reaches `target_ms` (a deadline: in
    /// fast mode it never jumps the clock itself).
    pub async fn reached(&self, target_ms: u64) {
        match self.inner.pace {
            Pace::Realtime => self.sleep_until(target_ms).await,
            Pace::Fast { .. } => {
                let mut rx = self.inner.tick.subscribe();
                while self.now_ms() < target_ms {
                    if rx.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Claims the right to drive fast time from a stream's audio; `None` if another stream
    /// already drives it (or in real-time mode, where nothing needs to).
    pub fn drive(&self) -> Option<Driver> {
        match self.inner.pace {
            Pace::Realtime => None,
            Pace::Fast { .. } => self
                .inner
                .driven
                .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
                .ok()
                .map(|_| Driver {
                    clock: self.clone(),
                }),
        }
    }

    /// Wall-clock time one 20 ms frame takes at this pace (zero when unpaced).
    pub fn frame_interval(&self) -> Duration {
        match self.inner.pace {
            Pace::Realtime => Duration::from_millis(20),
            Pace::Fast { speed } if speed.is_finite() && speed > 0.0 => {
                Duration::from_secs_f64(0.020 / speed)
            }
            Pace::Fast { .. } => Duration::ZERO,
        }
    }
}

impl Driver {
    /// Advances emulated time by `ms` (the audio just delivered).
    pub fn advance(&self, ms: u64) {
        self.clock.inner.virtual_ms.fetch_add(ms, Ordering::SeqCst);
        self.clock.inner.tick.send_modify(|_| {});
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fast_clock_jumps_when_undriven() {
        let c = Clock::new(Pace::FAST);
        c.sleep(Duration::from_secs(30)).await;
        assert_eq!(c.now_ms(), 30_000);
    }

    #[tokio::test]
    async fn fast_clock_follows_its_driver() {
        let c = Clock::new(Pace::FAST);
        let driver = c.drive().unwrap();
        assert!(c.drive().is_none(), "only one driver at a time");
        let waiter = {
            let c = c.clone();
            tokio::spawn(async move {
                c.sleep(Duration::from_millis(100)).await;
                c.now_ms()
            })
        };
        for _ in 0..5 {
            tokio::task::yield_now().await;
            driver.advance(20);
        }
        assert_eq!(waiter.await.unwrap(), 100);
        drop(driver);
        c.sleep(Duration::from_secs(1)).await;
        assert_eq!(c.now_ms(), 1100);
    }

    #[tokio::test]
    async fn deadlines_do_not_move_time() {
        let c = Clock::new(Pace::FAST);
        let deadline = {
            let c = c.clone();
            tokio::spawn(async move { c.reached(5_000).await })
        };
        tokio::task::yield_now().await;
        assert_eq!(c.now_ms(), 0);
        assert!(!deadline.is_finished());
        c.sleep(Duration::from_secs(6)).await;
        tokio::time::timeout(Duration::from_secs(1), deadline)
            .await
            .unwrap()
            .unwrap();
    }
}
