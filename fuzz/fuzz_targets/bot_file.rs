//! Fuzz target: bot files are user files, validated like flows. Any text must load or be
//! refused with diagnostics pointing inside it (never a panic). A bot that loads must hold a
//! conversation: greeting, a few utterances classified without the embedding model, keypad
//! digits, silences, and a webhook's failure or answer.
#![no_main]

use hotline_flow::{Sources, render_diagnostics_with};
use hotline_localbot::dialog::{Dialog, DialogState, Input, Step, WebhookAnswer};
use hotline_localbot::slots::Date;
use hotline_localbot::{Classifier, parse_bot};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

const UTTERANCES: &[&str] = &[
    "I'd like to book a cleaning tomorrow at 3 pm",
    "yes",
    "no",
    "my number is 0 6 1 2 3 4 5 6 7 8",
    "",
    "Sarah Johnson.",
    "cancel",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = match parse_bot(text, "fuzz-bot.yaml") {
        Ok(loaded) => loaded,
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty(), "a refused bot has a diagnostic");
            for d in &diagnostics {
                assert!(
                    d.span.end <= text.len(),
                    "a diagnostic points inside the text"
                );
                assert!(d.span.start <= d.span.end, "a diagnostic's span is ordered");
            }
            let mut sources = Sources::new();
            sources.add("fuzz-bot.yaml", text);
            let _ = render_diagnostics_with(&diagnostics, &sources, true);
            return;
        }
    };
    let bot = loaded.bot;
    let Ok(classifier) = Classifier::new(&bot, None) else {
        return;
    };
    let Some(today) = Date::new(2026, 11, 23) else {
        return;
    };
    let dialog = Dialog::new(&bot, "", today);
    let locale = dialog.locale_index();
    let mut state = DialogState::default();
    let mut attributes = BTreeMap::new();
    let _ = dialog.turn(&mut state, Input::Start, &attributes);
    let _ = dialog.hints(&state);
    for (i, utterance) in UTTERANCES.iter().enumerate() {
        let ranked = classifier.classify(locale, utterance, today);
        let step = dialog.turn(
            &mut state,
            Input::Text {
                text: utterance,
                ranked: &ranked,
            },
            &attributes,
        );
        if let Step::Webhook(_) = step {
            let answer = if i % 2 == 0 {
                Err("timed out".to_owned())
            } else {
                Ok(WebhookAnswer {
                    messages: vec!["Done {{Date}}".to_owned()],
                    ..WebhookAnswer::default()
                })
            };
            let _ = dialog.after_webhook(&mut state, answer, &mut attributes);
        }
        let _ = dialog.turn(&mut state, Input::Digits("12#"), &attributes);
        let _ = dialog.turn(&mut state, Input::Nothing, &attributes);
    }
});
