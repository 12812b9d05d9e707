//! Flows that route `<Gather>` answers by intent (`intents:`): the emulator calls the example
//! clinic reception on loopback with signatures on and SQLite records, and the server asks its
//! intent engine about each transcript. The engine here is a small word-list classifier behind
//! the server's trait (the local bots' classifier is tested through the real binary in
//! `crates/cli/tests/intents.rs`); what is tested is the server: which transcripts it
//! classifies, how routes use the result, what is recorded, and which flows it refuses.
#![allow(clippy::unwrap_used)]

use hotline_emulator::{CallSpec, Emulator, EmulatorConfig, Event, Step, Transcript};
use hotline_server::bots::{EngineBuilder, EngineFuture, IntentFuture};
use hotline_server::intents::{Classified, IntentClassifier, IntentConfig};
use hotline_server::{ServerConfig, ServerError};
use hotline_store::RecordStoreConfig;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod support;

use support::Running;

const TOKEN: &str = "intents-auth-token";
const FLOW: &str = "examples/flows/clinic-reception.yaml";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Intents by key word, and every (language, text) it was asked about.
struct WordIntents {
    asked: Mutex<Vec<(String, String)>>,
}

impl IntentClassifier for WordIntents {
    fn classify(&self, language: &str, text: &str) -> Option<Classified> {
        self.asked
            .lock()
            .unwrap()
            .push((language.to_owned(), text.to_owned()));
        let text = text.to_lowercase();
        let intent = if text.contains("cancel") {
            "CancelAppointment"
        } else if text.contains("open") {
            "OpeningHours"
        } else if text.contains("checkup") || text.contains("book") {
            "BookAppointment"
        } else {
            return None;
        };
        Some(Classified {
            intent: intent.to_owned(),
            confidence: 0.8125,
        })
    }

    fn intents(&self, _language: &str) -> Vec<String> {
        [
            "BookAppointment",
            "CancelAppointment",
            "OpeningHours",
            "Agent",
            "Goodbye",
        ]
        .map(str::to_owned)
        .to_vec()
    }
}

struct Builder(Arc<WordIntents>);

impl EngineBuilder for Builder {
    fn build<'a>(&'a self, _config: &'a hotline_bot::EngineConfig) -> EngineFuture<'a> {
        Box::pin(async { Err(hotline_bot::EngineError::Configuration("no bots".into())) })
    }

    fn intents<'a>(&'a self, config: &'a IntentConfig) -> IntentFuture<'a> {
        Box::pin(async move {
            assert_eq!(config.bot, PathBuf::from("examples/bots/appointments.yaml"));
            Ok(self.0.clone() as Arc<dyn IntentClassifier>)
        })
    }
}

fn config(flows: Vec<PathBuf>, records: &Path) -> ServerConfig {
    let mut c = ServerConfig::new(flows, "http://placeholder");
    c.auth_token = Some(TOKEN.to_owned());
    c.records =
        RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(records));
    c.reload_every = Some(Duration::from_millis(100));
    c.intents = vec![
        hotline_server::intents::parse_intents_spec("clinic=examples/bots/appointments.yaml")
            .unwrap(),
    ];
    c
}

async fn serve(config: ServerConfig, engine: Arc<WordIntents>) -> Result<Running, ServerError> {
    let builder = Builder(engine);
    support::serve_with(config, Some(&builder)).await
}

fn engine() -> Arc<WordIntents> {
    Arc::new(WordIntents {
        asked: Mutex::new(Vec::new()),
    })
}

async fn call(base: &str, script: Vec<Step>) -> Transcript {
    let emu = Emulator::start(EmulatorConfig {
        auth_token: TOKEN.to_owned(),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let mut spec = CallSpec::new(format!("{base}/voice").parse().unwrap());
    spec.script = script;
    tokio::time::timeout(Duration::from_secs(30), emu.call(spec))
        .await
        .unwrap()
        .transcript
}

fn say(t: &str) -> Step {
    Step::Say {
        text: t.to_owned(),
        confidence: None,
    }
}

fn said(t: &Transcript) -> Vec<String> {
    t.entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Say { text, .. } => Some(text.clone()),
            Event::Dial { targets, .. } => Some(format!("dial {}", targets.join(","))),
            Event::Enqueue { queue } => Some(format!("enqueue {queue}")),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn spoken_answers_route_by_intent_and_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let words = engine();
    let server = serve(config(vec![repo().join(FLOW)], &db), words.clone())
        .await
        .unwrap();

    // Words that are in no route's keywords reach the booking line through the intent.
    let t = call(
        &server.base,
        vec![say("could I come in for a checkup next week")],
    )
    .await;
    let heard = said(&t);
    assert!(
        heard
            .iter()
            .any(|s| s.starts_with("dial") && s.contains("+12025550140")),
        "{}",
        t.render_text()
    );

    // No intent: the question's no-match reprompt, then an intent on the second try.
    let t = call(
        &server.base,
        vec![say("purple elephants"), say("when are you open")],
    )
    .await;
    let heard = said(&t);
    assert!(
        heard.iter().any(|s| s.contains("didn't catch that")),
        "{}",
        t.render_text()
    );
    assert!(
        heard.iter().any(|s| s.contains("Monday to Friday")),
        "{}",
        t.render_text()
    );

    // Keys pressed are never sent to the intent engine; they route by `digits`.
    let before = words.asked.lock().unwrap().len();
    let t = call(&server.base, vec![Step::Press("2".into())]).await;
    assert!(
        said(&t)
            .iter()
            .any(|s| s.starts_with("dial") && s.contains("+12025550141")),
        "{}",
        t.render_text()
    );
    assert_eq!(words.asked.lock().unwrap().len(), before);
    let asked = words.asked.lock().unwrap().clone();
    assert_eq!(
        asked,
        [
            (
                "en-US".to_owned(),
                "could I come in for a checkup next week".to_owned()
            ),
            ("en-US".to_owned(), "purple elephants".to_owned()),
            ("en-US".to_owned(), "when are you open".to_owned()),
        ]
    );

    server.stop().await;
    let store = RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(&db))
        .build()
        .await
        .unwrap();
    let calls = store
        .list_calls(&hotline_store::CallFilter::default())
        .await
        .unwrap();
    let mut details = Vec::new();
    for c in &calls {
        let (_, steps) = store.get_call(&c.call_sid).await.unwrap().unwrap();
        for s in steps {
            // The route an answer took is on its `heard` row.
            if s.kind == "heard" {
                details.push((s.speech.unwrap_or_default(), s.detail));
                if let Some(route) = s.route {
                    details.push((format!("route {route}"), None));
                }
            }
        }
    }
    for expected in [
        (
            "could I come in for a checkup next week".to_owned(),
            Some("intent BookAppointment (0.81)".to_owned()),
        ),
        ("purple elephants".to_owned(), None),
        (
            "when are you open".to_owned(),
            Some("intent OpeningHours (0.81)".to_owned()),
        ),
        ("route 1 / intent BookAppointment".to_owned(), None),
        ("route intent OpeningHours".to_owned(), None),
    ] {
        assert!(
            details.contains(&expected),
            "{expected:?} not in {details:?}"
        );
    }
}

#[tokio::test]
async fn flows_naming_unknown_engines_or_intents_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let source = std::fs::read_to_string(repo().join(FLOW)).unwrap();

    // An engine the server does not have: refused at start-up, with the flag to add.
    let mut c = config(vec![repo().join(FLOW)], &db);
    c.intents.clear();
    let Err(ServerError::Flows(e)) = serve(c, engine()).await else {
        panic!("a flow with an unconfigured intent engine started");
    };
    assert!(
        e.contains("`clinic`") && e.contains("--intents clinic="),
        "{e}"
    );

    // An intent the engine does not know: refused, with the closest one.
    let typo = dir.path().join("typo.yaml");
    std::fs::write(
        &typo,
        source.replace("intent: OpeningHours", "intent: OpeningHour"),
    )
    .unwrap();
    let Err(ServerError::Flows(e)) = serve(config(vec![typo], &db), engine()).await else {
        panic!("a flow naming an unknown intent started");
    };
    assert!(
        e.contains("node `welcome`") && e.contains("did you mean `OpeningHours`?"),
        "{e}"
    );

    // A reload that names an unknown intent is rejected; the served version stays.
    let flow = dir.path().join("clinic.yaml");
    std::fs::write(&flow, &source).unwrap();
    let server = serve(config(vec![flow.clone()], &db), engine())
        .await
        .unwrap();
    std::fs::write(&flow, source.replace("intent: Goodbye", "intent: Farewell")).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let t = call(&server.base, vec![say("when are you open")]).await;
    assert!(
        said(&t).iter().any(|s| s.contains("Monday to Friday")),
        "{}",
        t.render_text()
    );
    server.stop().await;
}
