//! Shared per-call state that both the TwiML executor and the media streams touch: the
//! transcript, what the caller has heard (for `listen` steps), and the caller's script.

use crate::clock::Clock;
use crate::script::Script;
use crate::transcript::{Entry, Event, Transcript};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// A callback that sees each event as it happens (live transcript printing).
pub type LiveSink = Arc<dyn Fn(&Entry) + Send + Sync>;

/// What the caller has heard so far: how many things, and until when the latest one plays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Heard {
    /// Count of prompts heard (Say, Play, stream audio bursts).
    pub count: u64,
    /// Emulated time at which the application stops talking.
    pub busy_until_ms: u64,
}

/// Records events on the call clock; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    clock: Clock,
    transcript: Arc<Mutex<Transcript>>,
    live: Option<LiveSink>,
    heard: Arc<watch::Sender<Heard>>,
    script: Arc<Mutex<Script>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder for a new call.
    pub fn new(clock: Clock, script: Script, live: Option<LiveSink>) -> Self {
        let (heard, _) = watch::channel(Heard::default());
        Recorder {
            clock,
            transcript: Arc::new(Mutex::new(Transcript::default())),
            live,
            heard: Arc::new(heard),
            script: Arc::new(Mutex::new(script)),
        }
    }

    /// The call clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Records an event now.
    pub fn push(&self, event: Event) {
        let entry = Entry {
            t_ms: self.clock.now_ms(),
            event,
        };
        if let Some(live) = &self.live {
            live(&entry);
        }
        if let Ok(mut t) = self.transcript.lock() {
            t.entries.push(entry);
        }
    }

    /// A copy of the transcript so far.
    pub fn transcript(&self) -> Transcript {
        self.transcript
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default()
    }

    /// Notes that the caller starts hearing something that lasts `duration_ms`.
    pub fn heard(&self, duration_ms: u64) {
        let now = self.clock.now_ms();
        self.heard.send_modify(|h| {
            h.count += 1;
            h.busy_until_ms = h.busy_until_ms.max(now + duration_ms);
        });
    }

    /// Notes that what the caller was hearing stopped now (a live call update replaced the
    /// TwiML, or a bidirectional stream's `clear`): a `listen` step then waits for what comes
    /// next, not for the rest of a prompt nobody will hear.
    pub fn interrupted(&self) {
        let now = self.clock.now_ms();
        self.heard
            .send_modify(|h| h.busy_until_ms = h.busy_until_ms.min(now));
    }

    /// Watches what the caller hears.
    pub fn watch_heard(&self) -> watch::Receiver<Heard> {
        self.heard.subscribe()
    }

    /// Runs `f` on the caller's script.
    pub fn with_script<R>(&self, f: impl FnOnce(&mut Script) -> R) -> Option<R> {
        self.script.lock().ok().map(|mut s| f(&mut s))
    }
}
