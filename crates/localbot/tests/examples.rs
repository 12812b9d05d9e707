//! The example bots (`examples/bots/`): they load cleanly, scripted text conversations give the
//! expected replies, slots and call actions, and intent accuracy on the held-out paraphrases is
//! at least 90% with sentence embeddings, on text and on recorded speech-recognition transcripts
//! (the model must be installed: scripts/install-models.sh).

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hotline_bot::{BotSession, CallAction, DialogAction, IntentState, Reply, TurnInput};
use hotline_localbot::slots::Date;
use hotline_localbot::{Encoder, LocalEngine, load_bot, load_encoder};

const TODAY: Date = Date {
    year: 2026,
    month: 11,
    day: 22,
}; // a Sunday

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn encoder() -> Arc<dyn Encoder> {
    let models =
        std::env::var_os("HOTLINE_MODELS_DIR").map_or_else(|| root().join("models"), PathBuf::from);
    match load_encoder(Some(&models)) {
        Ok(e) => e,
        Err(e) => panic!(
            "the sentence-embedding model is needed for this test: {e}\ninstall it with scripts/install-models.sh"
        ),
    }
}

fn engine(name: &str) -> LocalEngine {
    let loaded = load_bot(&root().join("examples/bots").join(name))
        .unwrap_or_else(|d| panic!("{name}: {d:?}"));
    assert!(loaded.warnings.is_empty(), "{name}: {:?}", loaded.warnings);
    LocalEngine::new(loaded.bot, Some(encoder()), None)
        .unwrap()
        .with_today(TODAY)
}

async fn say(engine: &LocalEngine, s: &mut BotSession, text: &str) -> Reply {
    hotline_bot::Engine::turn(engine, s, TurnInput::Text(text.into()))
        .await
        .unwrap()
}

fn slot<'a>(r: &'a Reply, name: &str) -> Option<&'a str> {
    r.slots.get(name).map(String::as_str)
}

#[tokio::test]
async fn appointment_booked_in_one_breath_then_confirmed() {
    let e = engine("appointments.yaml");
    let mut s = BotSession::new("CA1", "appointments", "en_US");
    let r = hotline_bot::Engine::turn(&e, &mut s, TurnInput::Start)
        .await
        .unwrap();
    assert!(r.messages[0].contains("dental clinic"));
    let r = say(
        &e,
        &mut s,
        "I want to book a check up tomorrow at ten thirty",
    )
    .await;
    assert_eq!(r.intent_name(), Some("BookAppointment"));
    assert_eq!(slot(&r, "Service"), Some("cleaning"));
    assert_eq!(slot(&r, "Date"), Some("2026-11-23"));
    assert_eq!(slot(&r, "Time"), Some("10:30"));
    assert_eq!(
        r.dialog,
        DialogAction::ElicitSlot {
            slot: "Name".into()
        }
    );
    let r = say(&e, &mut s, "Jane Doe").await;
    assert_eq!(r.dialog, DialogAction::ConfirmIntent);
    assert_eq!(
        r.messages,
        ["So that's a cleaning on Monday, November 23 at 10:30 AM for Jane Doe. Shall I book it?"]
    );
    let r = say(&e, &mut s, "yes please").await;
    assert_eq!(r.intent.as_ref().unwrap().state, IntentState::Fulfilled);
    assert!(
        r.messages[0]
            .starts_with("Done: your cleaning is booked for Monday, November 23 at 10:30 AM")
    );
    assert_eq!(r.action, CallAction::Hangup);
    assert_eq!(slot(&r, "Name"), Some("Jane Doe"));
}

#[tokio::test]
async fn appointment_slot_by_slot_with_validation_reprompt_and_decline() {
    let e = engine("appointments.yaml");
    let mut s = BotSession::new("CA2", "appointments", "en_US");
    let r = say(&e, &mut s, "I'd like to book an appointment").await;
    assert_eq!(
        r.dialog,
        DialogAction::ElicitSlot {
            slot: "Service".into()
        }
    );
    // Not a service: the reprompt.
    let r = say(&e, &mut s, "hmm").await;
    assert_eq!(
        r.messages,
        ["Please say cleaning, filling, whitening, extraction or emergency."]
    );
    // A speech-recognition slip still finds the value.
    let r = say(&e, &mut s, "a fillin").await;
    assert_eq!(slot(&r, "Service"), Some("filling"));
    assert_eq!(
        r.dialog,
        DialogAction::ElicitSlot {
            slot: "Date".into()
        }
    );
    let r = say(&e, &mut s, "next friday").await;
    assert_eq!(slot(&r, "Date"), Some("2026-11-27"));
    // Outside opening hours: the validation message, then the question again.
    let r = say(&e, &mut s, "seven in the evening").await;
    assert_eq!(
        r.messages,
        ["We are open from 8 AM to 6 PM.", "At what time?"]
    );
    assert_eq!(slot(&r, "Time"), None);
    let r = say(&e, &mut s, "half past two").await;
    assert_eq!(slot(&r, "Time"), Some("14:30"));
    let r = say(&e, &mut s, "Sam").await;
    assert_eq!(r.dialog, DialogAction::ConfirmIntent);
    let r = say(&e, &mut s, "no").await;
    assert_eq!(r.intent.as_ref().unwrap().state, IntentState::Failed);
    assert_eq!(
        r.messages,
        ["OK, I won't book it. Is there anything else I can do for you?"]
    );
    assert_eq!(r.action, CallAction::Continue);
    // The dialog is back to listening for a request: a goodbye hangs up.
    let r = say(&e, &mut s, "that's all, bye").await;
    assert_eq!(r.intent_name(), Some("Goodbye"));
    assert_eq!(r.action, CallAction::Hangup);
}

#[tokio::test]
async fn appointment_switches_to_an_agent_mid_dialog_and_digits_work() {
    let e = engine("appointments.yaml");
    let mut s = BotSession::new("CA3", "appointments", "en_US");
    let r = hotline_bot::Engine::turn(&e, &mut s, TurnInput::Digits("1".into()))
        .await
        .unwrap();
    assert_eq!(r.intent_name(), Some("BookAppointment"));
    let r = say(&e, &mut s, "actually, can I talk to a person").await;
    assert_eq!(r.intent_name(), Some("Agent"));
    assert_eq!(r.action, CallAction::Transfer("+15551230000".into()));
    // Three misunderstandings in a row: the give-up transfer.
    let mut s = BotSession::new("CA4", "appointments", "en_US");
    for _ in 0..2 {
        let r = say(&e, &mut s, "purple elephants dancing").await;
        assert_eq!(r.intent, None);
        assert_eq!(r.action, CallAction::Continue);
    }
    let r = say(&e, &mut s, "purple elephants dancing").await;
    assert_eq!(r.messages, ["Let me put you through to the front desk."]);
    assert_eq!(r.action, CallAction::Transfer("+15551230000".into()));
}

#[tokio::test]
async fn triage_low_score_ends_with_the_advice_line() {
    let e = engine("triage.yaml");
    let mut s = BotSession::new("CA5", "triage", "en_US");
    let r = say(&e, &mut s, "I think I have the coronavirus").await;
    assert_eq!(r.intent_name(), Some("SymptomCheck"));
    assert_eq!(
        r.dialog,
        DialogAction::ElicitSlot {
            slot: "Fever".into()
        }
    );
    for (answer, next) in [
        ("yeah", "Cough"),
        ("nope", "Breathing"),
        ("no", "ChestPain"),
        ("not at all", "RiskGroup"),
        ("no I'm not", "TasteSmell"),
    ] {
        let r = say(&e, &mut s, answer).await;
        assert_eq!(
            r.dialog,
            DialogAction::ElicitSlot { slot: next.into() },
            "{answer}: {r:?}"
        );
    }
    let r = say(&e, &mut s, "yes I have").await;
    assert_eq!(slot(&r, "score"), Some("2"));
    assert!(r.messages[0].contains("Your total score is 2,"), "{r:?}");
    assert!(r.messages[0].contains("advice line"));
    assert_eq!(r.action, CallAction::Hangup);
}

#[tokio::test]
async fn triage_red_flag_transfers_at_once() {
    let e = engine("triage.yaml");
    let mut s = BotSession::new("CA6", "triage", "en_US");
    say(&e, &mut s, "I feel sick").await;
    say(&e, &mut s, "no").await;
    say(&e, &mut s, "yes").await;
    let r = say(&e, &mut s, "yes, I'm short of breath").await;
    assert_eq!(r.intent.as_ref().unwrap().state, IntentState::Fulfilled);
    assert!(r.messages[0].contains("emergency physician"));
    assert_eq!(r.action, CallAction::Transfer("+12025550100".into()));
}

#[tokio::test]
async fn triage_high_score_transfers() {
    let e = engine("triage.yaml");
    let mut s = BotSession::new("CA7", "triage", "en_US");
    say(&e, &mut s, "symptoms").await;
    for a in ["yes", "yes", "no", "no", "yes"] {
        say(&e, &mut s, a).await;
    }
    let r = say(&e, &mut s, "no").await;
    assert_eq!(slot(&r, "score"), Some("4"));
    assert_eq!(r.action, CallAction::Transfer("+12025550100".into()));
}

/// `examples/bots/*.heldout*.yaml`: the first held-out sets and the second ones written to check
/// tuning does not overfit the first.
fn all_heldout_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples/bots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| hotline_localbot::eval::is_heldout_file(p))
        .collect();
    files.sort();
    // Both sets of both bots: a name the filter missed would drop a set from the accuracy tests.
    assert_eq!(files.len(), 4, "{files:?}");
    files
}

#[test]
fn heldout_accuracy_is_at_least_90_percent_with_embeddings() {
    let files = all_heldout_files();
    assert!(files.len() >= 4, "{files:?}");
    let (mut correct, mut total) = (0, 0);
    for file in files {
        let report = hotline_localbot::eval::evaluate(&file, Some(encoder())).unwrap();
        eprintln!("{}", report.summary());
        for m in &report.misses {
            eprintln!("  miss: {m}");
        }
        correct += report.correct;
        total += report.total;
        assert!(report.accuracy() >= 0.85, "{}", report.summary());
    }
    let accuracy = correct as f64 / total as f64;
    assert!(accuracy >= 0.90, "overall {correct}/{total}");
}

/// With speech recognition in the loop: the transcripts the recogniser made of every held-out
/// utterance (flite voice `slt`, 8 kHz, Moonshine; recorded by
/// `cargo run -p hotline-localbot --example eval_asr` in `*.asr-cache.json`) classify right at
/// least 90% of the time (issue 5).
#[test]
fn heldout_accuracy_with_recognised_speech_is_at_least_90_percent() {
    use hotline_localbot::eval::{EVAL_DAY, Heldout};
    let encoder = encoder();
    let (mut correct, mut total) = (0, 0);
    for file in all_heldout_files() {
        let heldout: Heldout =
            serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let cache_file = file.with_extension("asr-cache.json");
        let cache: std::collections::BTreeMap<String, String> =
            match std::fs::read_to_string(&cache_file) {
                Ok(s) => serde_json::from_str(&s).unwrap(),
                Err(e) => panic!(
                    "{}: {e}; record it with `cargo run -p hotline-localbot --example eval_asr`",
                    cache_file.display()
                ),
            };
        let bot = load_bot(&file.parent().unwrap().join(&heldout.bot))
            .unwrap()
            .bot;
        let classifier =
            hotline_localbot::Classifier::new(&bot, Some(Arc::clone(&encoder))).unwrap();
        let threshold = bot.locale("").0.threshold();
        let (mut right, n) = (0, heldout.cases.len());
        for case in &heldout.cases {
            let Some(heard) = cache.get(&format!("slt: {}", case.say)) else {
                panic!(
                    "{}: no transcript of {:?}; record it with `cargo run -p hotline-localbot --example eval_asr`",
                    cache_file.display(),
                    case.say
                );
            };
            let got = classifier
                .classify(0, heard, EVAL_DAY)
                .into_iter()
                .next()
                .filter(|s| s.score >= threshold)
                .map(|s| s.intent);
            if got == case.intent {
                right += 1;
            } else {
                eprintln!("  miss: heard {heard:?} for {:?}: got {got:?}", case.say);
            }
        }
        eprintln!("{}: {right}/{n}", file.display());
        assert!(
            right as f64 >= 0.85 * n as f64,
            "{}: {right}/{n}",
            file.display()
        );
        correct += right;
        total += n;
    }
    assert!(total >= 100, "{total} cases");
    assert!(
        correct as f64 >= 0.90 * total as f64,
        "overall {correct}/{total} with recognised speech"
    );
}

/// The tutorial in docs/bots.md: its bot loads and its conversation goes as shown.
#[tokio::test]
async fn docs_tutorial_conversation() {
    let doc = std::fs::read_to_string(root().join("docs/bots.md")).unwrap();
    let start = doc.find("1. Write `bots/pizza.yaml`:").unwrap();
    let body = &doc[start..];
    let open = body.find("```yaml\n").unwrap() + 8;
    let close = open + body[open..].find("   ```").unwrap();
    let yaml: String = body[open..close]
        .lines()
        .map(|l| l.get(3..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let loaded = hotline_localbot::parse_bot(&yaml, "pizza.yaml").unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let e = LocalEngine::new(loaded.bot, Some(encoder()), None)
        .unwrap()
        .with_today(TODAY);
    let mut s = BotSession::new("CA8", "pizza", "en_US");
    let r = say(&e, &mut s, "a big pizza for seven thirty").await;
    assert_eq!(r.messages, ["A large pizza for 7:30 PM. Is that right?"]);
    assert_eq!(slot(&r, "Size"), Some("large"));
    assert_eq!(slot(&r, "Time"), Some("19:30"));
    let r = say(&e, &mut s, "yeah").await;
    assert_eq!(
        r.messages,
        ["Your large pizza will be ready at 7:30 PM. Thank you!"]
    );
    assert_eq!(r.action, CallAction::Hangup);
    eprintln!("tutorial confidence: {:?}", r.intent.unwrap().confidence);
}
