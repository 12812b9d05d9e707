//! The format's types read the documented example and round-trip through YAML.

use hotline_localbot::{BotFile, Then};

#[test]
fn reads_the_brief_example() {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/bots/brief.yaml"
    ))
    .unwrap();
    let bot: BotFile = serde_saphyr::from_str(&src).unwrap();
    let en = bot.locales.get("en_US").unwrap();
    let book = en.intents.get("BookAppointment").unwrap();
    assert_eq!(
        book.slots.keys().collect::<Vec<_>>(),
        ["Service", "Date", "Time"]
    );
    assert_eq!(book.then, Some(Then::Hangup));
    assert_eq!(
        en.intents.get("Agent").unwrap().then,
        Some(Then::Transfer("+15551230000".into()))
    );
    let yaml = serde_saphyr::to_string(&bot).unwrap();
    let again: BotFile = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(again, bot, "{yaml}");
}
