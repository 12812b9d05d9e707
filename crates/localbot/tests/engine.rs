//! The local engine's IO edges: fulfilment webhooks (answer, timeout, failure, oversized answer), audio turns
//! (hints, transcripts, recogniser failures and silence become reprompts), digits, and dialog
//! state that survives a JSON round trip between turns.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::{Json, Router, routing::post};
use hotline_asr::{AsrError, Expect, Hints, Recognizer, Transcript};
use hotline_bot::{BotSession, CallAction, DialogAction, Engine, IntentState, TurnInput};
use hotline_localbot::slots::Date;
use hotline_localbot::{LocalEngine, parse_bot};

const TODAY: Date = Date {
    year: 2026,
    month: 11,
    day: 22,
};

fn bot(url: &str) -> String {
    format!(
        r#"
bot: desk
locales:
  en_US:
    greeting: "Hi {{attr.caller}}!"
    fallback: "Sorry?"
    intents:
      Order:
        samples: ["order {{Count}} boxes", I want to order boxes]
        digits: "1"
        slots:
          Count: {{ type: number, prompt: "How many boxes?" }}
        confirm: "{{Count}} boxes, right?"
        fulfill:
          say: "Ordered {{Count}}."
          webhook: {{ url: "{url}", timeout_ms: 300, fallback: "The order system is down." }}
        then: listen
      Goodbye:
        samples: [bye]
        fulfill: {{ say: "Bye {{attr.caller}}." }}
        then: hangup
"#
    )
}

fn engine(url: &str, asr: Option<Arc<dyn Recognizer>>) -> LocalEngine {
    let loaded = parse_bot(&bot(url), "desk.yaml").unwrap();
    LocalEngine::new(loaded.bot, None, asr)
        .unwrap()
        .with_today(TODAY)
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

async fn text(e: &LocalEngine, s: &mut BotSession, t: &str) -> hotline_bot::Reply {
    let r = e.turn(s, TurnInput::Text(t.into())).await.unwrap();
    // The state survives the session store (JSON) between turns.
    let stored = serde_json::to_string(&s).unwrap();
    *s = serde_json::from_str(&stored).unwrap();
    r
}

#[tokio::test]
async fn webhook_answer_sets_messages_attributes_and_then() {
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    let url = serve(Router::new().route(
        "/hook",
        post(move |Json(body): Json<serde_json::Value>| {
            let seen = seen2.clone();
            async move {
                *seen.lock().unwrap() = Some(body);
                Json(serde_json::json!({
                    "messages": ["Order 77 placed."],
                    "attributes": {"order": "77"},
                    "then": "hangup"
                }))
            }
        }),
    ))
    .await;
    let e = engine(&url, None);
    let mut s = BotSession::new("CAhook", "desk", "en_US");
    s.attributes.insert("caller".into(), "Ann".into());
    let r = e.turn(&mut s, TurnInput::Start).await.unwrap();
    assert_eq!(r.messages, ["Hi Ann!"]);
    let r = text(&e, &mut s, "order twelve boxes").await;
    assert_eq!(r.dialog, DialogAction::ConfirmIntent);
    assert_eq!(r.messages, ["12 boxes, right?"]);
    let r = text(&e, &mut s, "yes").await;
    assert_eq!(r.messages, ["Order 77 placed."]);
    assert_eq!(r.action, CallAction::Hangup);
    assert_eq!(r.intent.unwrap().state, IntentState::Fulfilled);
    assert_eq!(s.attributes.get("order").map(String::as_str), Some("77"));
    let body = seen.lock().unwrap().clone().unwrap();
    assert_eq!(body["bot"], "desk");
    assert_eq!(body["intent"], "Order");
    assert_eq!(body["slots"]["Count"], "12");
    assert_eq!(body["attributes"]["caller"], "Ann");
    assert_eq!(body["locale"], "en_US");
    assert_eq!(body["call_sid"], "CAhook");
}

#[tokio::test]
async fn webhook_timeout_and_error_say_the_fallback_and_keep_listening() {
    let slow = serve(Router::new().route(
        "/hook",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            "{}"
        }),
    ))
    .await;
    let broken = serve(Router::new().route(
        "/hook",
        post(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
    ))
    .await;
    // A valid JSON answer, but far larger than any fulfilment needs: refused, not buffered.
    let huge = serve(Router::new().route(
        "/hook",
        post(|| async { format!(r#"{{"messages": ["{}"]}}"#, "x".repeat(1 << 20)) }),
    ))
    .await;
    for url in [slow, broken, huge, "http://127.0.0.1:9/hook".to_owned()] {
        let e = engine(&url, None);
        let mut s = BotSession::new("CAfail", "desk", "en_US");
        let r = e.turn(&mut s, TurnInput::Digits("1".into())).await.unwrap();
        assert_eq!(
            r.dialog,
            DialogAction::ElicitSlot {
                slot: "Count".into()
            }
        );
        let r = e
            .turn(&mut s, TurnInput::Digits("3#".into()))
            .await
            .unwrap();
        assert_eq!(r.dialog, DialogAction::ConfirmIntent, "{url}");
        let started = std::time::Instant::now();
        let r = e.turn(&mut s, TurnInput::Digits("1".into())).await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{url}: the timeout was not applied"
        );
        assert_eq!(r.messages, ["The order system is down."], "{url}");
        assert_eq!(r.intent.unwrap().state, IntentState::Failed);
        assert_eq!(r.action, CallAction::Continue);
    }
}

/// A recogniser that answers from a script and records the hints it was given.
struct Scripted {
    answers: Mutex<Vec<Result<&'static str, ()>>>,
    hints: Mutex<Vec<Hints>>,
}

#[async_trait]
impl Recognizer for Scripted {
    async fn transcribe(&self, pcm_8k: &[i16], hints: &Hints) -> Result<Transcript, AsrError> {
        self.hints.lock().unwrap().push(hints.clone());
        let next = self.answers.lock().unwrap().remove(0);
        match next {
            Ok(text) => Ok(Transcript {
                text: text.into(),
                confidence: 0.8,
                ..Transcript::silent(Duration::from_millis(pcm_8k.len() as u64 / 8))
            }),
            Err(()) => Err(AsrError::Model("injected".into())),
        }
    }
    fn name(&self) -> &'static str {
        "scripted"
    }
}

#[tokio::test]
async fn audio_turns_use_hints_and_reprompt_on_failure_or_silence() {
    let asr = Arc::new(Scripted {
        answers: Mutex::new(vec![
            Ok("I want to order boxes"),
            Err(()),
            Ok(""),
            Ok("five"),
            Ok("yes"),
        ]),
        hints: Mutex::new(Vec::new()),
    });
    let e = engine("http://127.0.0.1:9/hook", Some(asr.clone()));
    let mut s = BotSession::new("CAaudio", "desk", "en_US");
    let audio = || TurnInput::Audio {
        pcm_8k: vec![0; 8000],
    };
    let r = e.turn(&mut s, audio()).await.unwrap();
    assert_eq!(r.transcript.as_deref(), Some("I want to order boxes"));
    assert_eq!(r.messages, ["How many boxes?"]);
    // A recogniser failure and silence: the question again, never a dead call.
    let r = e.turn(&mut s, audio()).await.unwrap();
    assert_eq!(r.messages, ["How many boxes?"]);
    assert_eq!(r.action, CallAction::Continue);
    let r = e.turn(&mut s, audio()).await.unwrap();
    assert_eq!(r.transcript.as_deref(), Some(""));
    assert_eq!(
        r.dialog,
        DialogAction::ElicitSlot {
            slot: "Count".into()
        }
    );
    let r = e.turn(&mut s, audio()).await.unwrap();
    assert_eq!(r.slots.get("Count").map(String::as_str), Some("5"));
    assert_eq!(r.dialog, DialogAction::ConfirmIntent);
    e.turn(&mut s, audio()).await.unwrap();
    let hints = asr.hints.lock().unwrap();
    assert_eq!(hints[0].expect, Expect::Free);
    assert_eq!(
        hints[1].expect,
        Expect::Digits,
        "a number slot expects digits"
    );
    assert_eq!(
        hints[4].expect,
        Expect::YesNo,
        "a confirmation expects yes or no"
    );
}

#[tokio::test]
async fn no_recogniser_reprompts_and_long_input_is_truncated() {
    let e = engine("http://127.0.0.1:9/hook", None);
    let mut s = BotSession::new("CAnone", "desk", "en_US");
    let r = e
        .turn(
            &mut s,
            TurnInput::Audio {
                pcm_8k: vec![0; 800],
            },
        )
        .await
        .unwrap();
    assert_eq!(r.messages, ["Sorry?"]);
    let long = "bye ".repeat(10_000);
    let r = text(&e, &mut s, &long).await;
    assert_eq!(r.intent_name(), Some("Goodbye"));
    assert_eq!(r.messages, ["Bye ."]);
}
