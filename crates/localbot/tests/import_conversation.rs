//! A bot imported from the Lex V2 fixture holds a text conversation on the local engine (no
//! models: lexical classification), in both locales: the imported synonyms fill the slot, the
//! imported prompts are asked in slot-priority order, the confirmation and the fulfilment message
//! are the Lex ones, and the stop intent hangs up.

#![allow(clippy::unwrap_used)]

use hotline_bot::{BotSession, CallAction, DialogAction, Engine, Reply, TurnInput};
use hotline_localbot::import::import_lex;
use hotline_localbot::slots::Date;
use hotline_localbot::{LocalEngine, parse_bot};
use std::path::Path;

fn engine() -> LocalEngine {
    let export = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lex/appointment");
    let imported = import_lex(&export).unwrap();
    let loaded = parse_bot(&imported.yaml, "imported.yaml").unwrap();
    LocalEngine::new(loaded.bot, None, None)
        .unwrap()
        // A Monday.
        .with_today(Date::new(2026, 11, 23).unwrap())
}

async fn say(engine: &LocalEngine, session: &mut BotSession, text: &str) -> Reply {
    engine
        .turn(session, TurnInput::Text(text.into()))
        .await
        .unwrap()
}

fn asks_for(reply: &Reply, slot: &str) -> bool {
    reply.dialog
        == DialogAction::ElicitSlot {
            slot: slot.to_string(),
        }
}

#[tokio::test]
async fn english_booking_from_request_to_goodbye() {
    let engine = engine();
    let mut session = BotSession::new("CA-import-en", "appointment-bot", "en_US");
    let hello = engine.turn(&mut session, TurnInput::Start).await.unwrap();
    assert_eq!(hello.messages, ["Hello, how can I help you?"]);

    // "cleanup" is a synonym of the imported slot type's value "cleaning".
    let r = say(&engine, &mut session, "I need a cleanup").await;
    assert_eq!(r.intent.as_ref().unwrap().name, "MakeAppointment");
    assert_eq!(
        r.slots.get("AppointmentType").map(String::as_str),
        Some("cleaning")
    );
    assert!(asks_for(&r, "Date"), "{r:?}");
    assert_eq!(r.messages, ["When should I schedule your cleaning?"]);

    let r = say(&engine, &mut session, "tomorrow").await;
    assert!(r.slots.contains_key("Date"), "{r:?}");
    assert!(asks_for(&r, "Time"), "{r:?}");
    assert!(r.messages[0].starts_with("At what time on"), "{r:?}");

    let r = say(&engine, &mut session, "ten thirty in the morning").await;
    assert!(r.slots.contains_key("Time"), "{r:?}");
    assert!(asks_for(&r, "Phone"), "{r:?}");
    assert_eq!(r.messages, ["What number can we reach you on?"]);

    let r = say(&engine, &mut session, "it's 415 555 0123").await;
    assert!(r.slots.contains_key("Phone"), "{r:?}");
    assert_eq!(r.dialog, DialogAction::ConfirmIntent, "{r:?}");
    assert!(
        r.messages[0].ends_with("Should I book your cleaning appointment?"),
        "{r:?}"
    );

    let r = say(&engine, &mut session, "yes").await;
    assert!(
        r.messages
            .iter()
            .any(|m| m.starts_with("Your appointment is booked. Thank you. See you on")),
        "{r:?}"
    );
    assert_eq!(r.action, CallAction::Continue);

    let r = say(&engine, &mut session, "goodbye").await;
    assert_eq!(r.intent.as_ref().unwrap().name, "Goodbye");
    assert_eq!(r.messages, ["Goodbye, and thank you for calling."]);
    assert_eq!(r.action, CallAction::Hangup);
}

#[tokio::test]
async fn english_cancellation_hangs_up_as_end_conversation_did() {
    let engine = engine();
    let mut session = BotSession::new("CA-import-cancel", "appointment-bot", "en_US");
    let r = say(&engine, &mut session, "cancel my appointment").await;
    assert_eq!(r.intent.as_ref().unwrap().name, "CancelAppointment");
    assert_eq!(
        r.messages,
        ["Which day is the appointment you want to cancel?"]
    );
    let r = say(&engine, &mut session, "tomorrow").await;
    assert_eq!(r.slots.get("Date").map(String::as_str), Some("2026-11-24"));
    assert_eq!(r.dialog, DialogAction::ConfirmIntent, "{r:?}");
    assert!(
        r.messages[0].starts_with("Cancel your appointment on"),
        "{r:?}"
    );
    let r = say(&engine, &mut session, "yes").await;
    assert!(r.messages[0].ends_with("is cancelled. Goodbye."), "{r:?}");
    assert_eq!(r.action, CallAction::Hangup, "EndConversation hangs up");
}

#[tokio::test]
async fn french_locale_asks_with_the_lex_words() {
    let engine = engine();
    let mut session = BotSession::new("CA-import-fr", "appointment-bot", "fr_FR");
    let hello = engine.turn(&mut session, TurnInput::Start).await.unwrap();
    assert_eq!(hello.messages, ["Bonjour, comment puis-je vous aider ?"]);

    // "nettoyage" is a French synonym of the imported value "détartrage".
    let r = say(&engine, &mut session, "un rendez-vous pour un nettoyage").await;
    assert_eq!(r.intent.as_ref().unwrap().name, "MakeAppointment");
    assert_eq!(
        r.slots.get("AppointmentType").map(String::as_str),
        Some("détartrage")
    );
    assert!(asks_for(&r, "Date"), "{r:?}");
    assert_eq!(r.messages, ["Quel jour vous conviendrait ?"]);
    // (The engine reads dates and yes/no in English for now, so the French conversation
    // stops here.)
}
