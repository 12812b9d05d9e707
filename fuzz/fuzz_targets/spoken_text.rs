//! Fuzz target: what a caller says (a Twilio `SpeechResult` or the local recogniser's text) is
//! read by the flows' keyword matcher and number reading (an answer's first number, and a
//! variable's text as one number), the recogniser's normalisers and the local bots' slot
//! parsers. Any text, in any script, must be read without a panic.
#![no_main]

use hotline_asr::Expect;
use hotline_flow::matcher::{KeywordSet, extract_number, normalize, parse_number};
use hotline_flow::template::Template;
use hotline_localbot::slots::{Date, Kind, Slots, within};
use hotline_localbot::text::tokens;
use libfuzzer_sys::fuzz_target;

const KINDS: &[&str] = &[
    "number", "digits", "yes_no", "date", "time", "phone", "spelled", "text",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Flows: keywords in both directions (the caller's words, and a flow author's phrase).
    let normalized = normalize(text);
    let keywords = KeywordSet::new(&["fièvre", "pas de souffle", "yes", "1", "toux sèche"]);
    for language in ["fr-FR", "en-US", "es-ES", ""] {
        let _ = keywords.find(&normalized, language);
        let _ = KeywordSet::new(&[text]).find(&normalize("oui j'ai de la fièvre"), language);
        let _ = extract_number(text, language);
        let _ = parse_number(text, language);
    }
    if let Ok(template) = Template::parse(text) {
        let _ = template.render(|name| Some(name.to_uppercase()));
    }
    // The recogniser's normalisers.
    for expect in [Expect::Free, Expect::Digits, Expect::YesNo] {
        let _ = expect.normalize(text);
    }
    let _ = hotline_asr::normalize::numbers_to_digits(text);
    // Local bots' slots, as a whole answer and found in a sentence.
    let Some(today) = Date::new(2026, 11, 23) else {
        return;
    };
    let slots = Slots { today };
    let toks = tokens(text);
    for name in KINDS {
        let Some(kind) = Kind::builtin(name) else {
            continue;
        };
        if let Some(value) = slots.answer(&kind, text) {
            let _ = within(&kind, &value, "2026-01-01", "2027-12-31", today);
        }
        let _ = slots.find(&kind, &toks);
    }
});
