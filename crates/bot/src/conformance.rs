//! The shared engine conformance suite (ENGINEERING §4): every [`Engine`] backend — the fake
//! included — must pass it, each running the same tiny *appointment bot* (see
//! [`FakeConfig::appointment`](crate::FakeConfig::appointment) for the fake; a Lex backend points
//! at a bot, or a fake Lex endpoint, that behaves the same):
//!
//! - `Start` greets; `book an appointment` (or digit `1`, or any audio, heard as "book an
//!   appointment") starts `BookAppointment`, which elicits `Date` then `Time` (the utterance is
//!   the value), then is fulfilled; `goodbye` is `Goodbye`, fulfilled at once;
//! - `simulate throttling` fails retryably, `simulate access denied` fails with a configuration
//!   error, `simulate slow` takes 2 s.
//!
//! Enabled by the `conformance` feature. [`engine_suite!`](crate::engine_suite) expands to one
//! `#[tokio::test]` per check, given an async expression yielding the engine:
//!
//! ```ignore
//! hotline_bot::engine_suite!(async { Arc::new(FakeEngine::appointment()) as Arc<dyn Engine> });
//! ```

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::{
    BotSession, CallAction, DialogAction, Engine, EngineError, IntentState, Reply, ReplyPolicy,
    TurnInput, fallback_reply, with_timeout,
};

/// A fresh session with a call SID no other check uses.
pub fn session() -> BotSession {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    BotSession::new(format!("CAconf{nanos:x}{n}"), "appointments", "en_US")
}

async fn text(engine: &Arc<dyn Engine>, s: &mut BotSession, t: &str) -> Reply {
    let reply = engine.turn(s, TurnInput::Text(t.into())).await;
    reply.unwrap_or_else(|e| panic!("turn `{t}` failed: {e}"))
}

fn assert_intent(reply: &Reply, name: &str, state: IntentState) {
    let intent = reply
        .intent
        .as_ref()
        .unwrap_or_else(|| panic!("no intent in {reply:?}"));
    assert_eq!(intent.name, name, "{reply:?}");
    assert_eq!(intent.state, state, "{reply:?}");
    if let Some(c) = intent.confidence {
        assert!((0.0..=1.0).contains(&c), "confidence {c}");
    }
}

/// `Start` greets and keeps listening.
pub async fn start_greets(engine: Arc<dyn Engine>) {
    let mut s = session();
    let reply = engine.turn(&mut s, TurnInput::Start).await.unwrap();
    assert!(!reply.messages.is_empty(), "no greeting: {reply:?}");
    assert!(reply.messages.iter().all(|m| !m.trim().is_empty()));
    assert_eq!(ReplyPolicy::default().action(&reply), CallAction::Continue);
}

/// A text turn starts an intent and elicits its first slot.
pub async fn text_turn_elicits_a_slot(engine: Arc<dyn Engine>) {
    let mut s = session();
    let reply = text(&engine, &mut s, "I want to book an appointment").await;
    assert_intent(&reply, "BookAppointment", IntentState::InProgress);
    assert_eq!(
        reply.dialog,
        DialogAction::ElicitSlot {
            slot: "Date".into()
        }
    );
    assert!(!reply.messages.is_empty());
    assert_eq!(reply.action, CallAction::Continue);
}

/// A whole conversation: intent, two slots in turn, fulfilment, then a goodbye that hangs up.
pub async fn conversation_to_hangup(engine: Arc<dyn Engine>) {
    let policy = ReplyPolicy::default();
    let mut s = session();
    let r = policy.apply(text(&engine, &mut s, "book an appointment").await);
    assert_eq!(
        r.dialog,
        DialogAction::ElicitSlot {
            slot: "Date".into()
        }
    );
    let r = policy.apply(text(&engine, &mut s, "tomorrow").await);
    assert_intent(&r, "BookAppointment", IntentState::InProgress);
    assert_eq!(
        r.dialog,
        DialogAction::ElicitSlot {
            slot: "Time".into()
        }
    );
    assert_eq!(r.slots.get("Date").map(String::as_str), Some("tomorrow"));
    assert_eq!(r.action, CallAction::Continue);
    let r = policy.apply(text(&engine, &mut s, "10 am").await);
    assert_intent(&r, "BookAppointment", IntentState::Fulfilled);
    assert_eq!(r.dialog, DialogAction::Close);
    assert_eq!(r.slots.get("Time").map(String::as_str), Some("10 am"));
    assert!(
        r.messages
            .iter()
            .any(|m| m.contains("tomorrow") && m.contains("10 am")),
        "{r:?}"
    );
    assert_eq!(r.action, CallAction::Continue);
    let r = policy.apply(text(&engine, &mut s, "goodbye").await);
    assert_intent(&r, "Goodbye", IntentState::Fulfilled);
    assert!(!r.messages.is_empty());
    assert_eq!(r.action, CallAction::Hangup);
}

/// An audio turn (8 kHz PCM) is transcribed and understood.
pub async fn audio_turn(engine: Arc<dyn Engine>) {
    let mut s = session();
    let pcm_8k: Vec<i16> = (0..8000)
        .map(|i| ((f64::from(i) * 0.345).sin() * 8000.0) as i16)
        .collect();
    let reply = engine
        .turn(&mut s, TurnInput::Audio { pcm_8k })
        .await
        .unwrap();
    assert_eq!(reply.transcript.as_deref(), Some("book an appointment"));
    assert_intent(&reply, "BookAppointment", IntentState::InProgress);
}

/// Digits are understood (the appointment bot maps `1` to booking).
pub async fn digits_turn(engine: Arc<dyn Engine>) {
    let mut s = session();
    let reply = engine
        .turn(&mut s, TurnInput::Digits("1".into()))
        .await
        .unwrap();
    assert_intent(&reply, "BookAppointment", IntentState::InProgress);
}

/// Session attributes given by the caller survive the turns; the engine's are merged in.
pub async fn attributes_round_trip(engine: Arc<dyn Engine>) {
    let mut s = session();
    s.attributes.insert("customer".into(), "42".into());
    let _ = text(&engine, &mut s, "book an appointment").await;
    let _ = text(&engine, &mut s, "tomorrow").await;
    assert_eq!(
        s.attributes.get("customer").map(String::as_str),
        Some("42"),
        "{s:?}"
    );
    assert_eq!(
        s.attributes.get("last_intent").map(String::as_str),
        Some("BookAppointment"),
        "{s:?}"
    );
    // Sessions are per call: another call starts afresh.
    let mut other = session();
    let r = text(&engine, &mut other, "tomorrow").await;
    assert_ne!(
        r.dialog,
        DialogAction::ElicitSlot {
            slot: "Time".into()
        }
    );
    assert!(!other.attributes.contains_key("customer"));
}

/// Throttling is retryable; access denied is a configuration error; the fallback apologises.
pub async fn errors_mapped(engine: Arc<dyn Engine>) {
    let mut s = session();
    let e = engine
        .turn(&mut s, TurnInput::Text("simulate throttling".into()))
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    assert!(matches!(e, EngineError::Unavailable(_)), "{e:?}");
    let fallback = fallback_reply(&s.locale, &e);
    assert!(fallback.messages[0].starts_with("Sorry"));
    assert_eq!(fallback.action, CallAction::Continue);
    let e = engine
        .turn(&mut s, TurnInput::Text("simulate access denied".into()))
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::Configuration(_)), "{e:?}");
    assert!(!e.is_retryable());
    // The engine still works afterwards.
    let r = text(&engine, &mut s, "book an appointment").await;
    assert_intent(&r, "BookAppointment", IntentState::InProgress);
}

/// A slow turn becomes [`EngineError::Timeout`] at the limit, not later.
pub async fn timeout_enforced(engine: Arc<dyn Engine>) {
    let engine = with_timeout(engine, Duration::from_millis(300));
    let mut s = session();
    let started = Instant::now();
    let e = engine
        .turn(&mut s, TurnInput::Text("simulate slow".into()))
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::Timeout { ms: 300, .. }), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert!(e.is_retryable());
    assert!(!fallback_reply("fr_FR", &e).messages.is_empty());
}

/// One `#[tokio::test]` per conformance check, for the engine the async expression yields.
#[macro_export]
macro_rules! engine_suite {
    ($make:expr) => {
        $crate::engine_suite!(@tests $make;
            start_greets, text_turn_elicits_a_slot, conversation_to_hangup, audio_turn,
            digits_turn, attributes_round_trip, errors_mapped, timeout_enforced);
    };
    (@tests $make:expr; $($check:ident),*) => {
        $(
            #[tokio::test]
            async fn $check() {
                let engine = $make.await;
                $crate::conformance::$check(engine).await;
            }
        )*
    };
}
