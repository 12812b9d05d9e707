//! The shared engine conformance suite, run against the local engine with the suite's tiny
//! appointment bot (`tests/bots/conformance.yaml`).
//!
//! Two parts of the suite are about the engine's *service* rather than its logic: a throttled or
//! forbidden service (`simulate throttling`, `simulate access denied`) and a slow one
//! (`simulate slow`). A local bot has no service that can throttle, so those utterances are
//! injected by [`Faults`], a thin wrapper in this test; everything else is the real engine.
//! Audio is heard through a test recogniser that always hears "book an appointment".

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hotline_asr::{AsrError, Hints, Recognizer, Transcript};
use hotline_bot::{BotSession, Engine, EngineError, Reply, TurnInput};
use hotline_localbot::{LocalEngine, load_bot};

struct HearsBooking;

#[async_trait]
impl Recognizer for HearsBooking {
    async fn transcribe(&self, pcm_8k: &[i16], _: &Hints) -> Result<Transcript, AsrError> {
        Ok(Transcript {
            text: "book an appointment".into(),
            confidence: 0.9,
            ..Transcript::silent(Duration::from_millis(pcm_8k.len() as u64 / 8))
        })
    }
    fn name(&self) -> &'static str {
        "test"
    }
}

struct Faults(LocalEngine);

#[async_trait]
impl Engine for Faults {
    async fn turn(&self, session: &mut BotSession, input: TurnInput) -> Result<Reply, EngineError> {
        if let TurnInput::Text(t) = &input {
            match t.as_str() {
                "simulate throttling" => return Err(EngineError::Unavailable("injected".into())),
                "simulate access denied" => {
                    return Err(EngineError::Configuration("injected".into()));
                }
                "simulate slow" => tokio::time::sleep(Duration::from_secs(2)).await,
                _ => {}
            }
        }
        self.0.turn(session, input).await
    }
    fn name(&self) -> &'static str {
        self.0.name()
    }
}

fn engine() -> Arc<dyn Engine> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bots/conformance.yaml");
    let loaded = load_bot(std::path::Path::new(path)).unwrap();
    let local = LocalEngine::new(loaded.bot, None, Some(Arc::new(HearsBooking))).unwrap();
    Arc::new(Faults(local))
}

hotline_bot::engine_suite!(async { engine() });
