//! Bot files are checked like a compiler: every problem at once, with file, line, column, a
//! label, a help line and a stable code. The rendered output is compared with golden files
//! (`tests/golden/*.txt`; `UPDATE_GOLDEN=1` rewrites them).

#![allow(clippy::unwrap_used)]

use std::path::Path;

use hotline_flow::{Sources, render_diagnostics};
use hotline_localbot::{codes, parse_bot};

fn render(name: &str) -> (String, Vec<&'static str>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let src = std::fs::read_to_string(dir.join("bots").join(name)).unwrap();
    let file = format!("bots/{name}");
    let diags = parse_bot(&src, &file)
        .err()
        .unwrap_or_else(|| panic!("{name} should not load"));
    let mut sources = Sources::new();
    sources.add(file, src);
    let codes = diags.iter().map(|d| d.code).collect();
    (render_diagnostics(&diags, &sources), codes)
}

fn golden(name: &str, rendered: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, rendered).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        rendered, expected,
        "golden {name} differs (UPDATE_GOLDEN=1 to accept):\n{rendered}"
    );
}

#[test]
fn shape_errors_are_all_reported() {
    let (out, found) = render("bad_shape.yaml");
    golden("bad_shape.txt", &out);
    for code in [
        codes::UNKNOWN_FIELD,
        codes::MISSING_FIELD,
        codes::WRONG_TYPE,
        codes::UNKNOWN_THEN,
    ] {
        assert!(found.contains(&code), "{code} missing:\n{out}");
    }
    assert!(out.contains("did you mean `fallback`?"), "{out}");
    assert!(out.contains("did you mean `required`?"), "{out}");
}

#[test]
fn semantic_errors_are_all_reported() {
    let (out, found) = render("bad_semantics.yaml");
    golden("bad_semantics.txt", &out);
    for code in [
        codes::UNKNOWN_SLOT_TYPE,
        codes::PLACEHOLDER_WITHOUT_SLOT,
        codes::DUPLICATE_SAMPLE,
        codes::NO_SAMPLES,
        codes::BAD_REGEX,
        codes::TEMPLATE_UNKNOWN_SLOT,
        codes::BAD_WEBHOOK_URL,
        codes::MISSING_PROMPT,
        codes::BAD_VALIDATION,
        codes::BAD_TRANSFER,
        codes::INVALID_VALUE,
    ] {
        assert!(found.contains(&code), "{code} missing:\n{out}");
    }
    assert!(out.contains("did you mean `Service`?"), "{out}");
    assert!(out.contains("--> bots/bad_semantics.yaml:17:28"), "{out}");
}

#[test]
fn yaml_syntax_error_has_a_position() {
    let diags = parse_bot("bot: x\nlocales: [\n", "x.yaml").unwrap_err();
    assert_eq!(diags[0].code, codes::YAML_SYNTAX);
    assert!(diags[0].line >= 2);
}

#[test]
fn every_code_is_documented() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/bots.md"))
            .unwrap();
    for code in codes::ALL {
        assert!(doc.contains(code), "docs/bots.md does not document {code}");
    }
}

#[test]
fn locales_must_have_the_same_intents_and_slots() {
    let src = r#"
bot: two
locales:
  en_US:
    greeting: Hi
    fallback: Sorry?
    intents:
      Book: { samples: [book], slots: { Day: { type: date, prompt: "Which day?" } } }
      Bye: { samples: [bye], then: hangup }
  fr_FR:
    greeting: Bonjour
    fallback: Pardon ?
    intents:
      Book: { samples: [réserver] }
"#;
    let diags = parse_bot(src, "two.yaml").unwrap_err();
    let missing: Vec<&str> = diags
        .iter()
        .filter(|d| d.code == codes::LOCALE_MISSING_CONTENT)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        missing,
        [
            "locale `fr_FR` lacks intent `Bye` (declared in `en_US`)",
            "intent `Book` of locale `fr_FR` lacks slot `Day` (declared in `en_US`)"
        ],
        "{diags:?}"
    );
}

#[tokio::test]
async fn a_second_locale_talks_in_its_language() {
    use hotline_bot::{BotSession, Engine, TurnInput};
    let src = r#"
bot: two
locales:
  en_US:
    greeting: Hi
    fallback: Sorry?
    intents:
      Bye: { samples: [bye, goodbye], fulfill: { say: Goodbye. }, then: hangup }
  fr_FR:
    greeting: Bonjour
    fallback: Pardon ?
    intents:
      Bye: { samples: [au revoir, salut], fulfill: { say: Au revoir. }, then: hangup }
"#;
    let bot = parse_bot(src, "two.yaml").unwrap().bot;
    let engine = hotline_localbot::LocalEngine::new(bot, None, None).unwrap();
    let mut s = BotSession::new("CAfr", "two", "fr_FR");
    let r = engine.turn(&mut s, TurnInput::Start).await.unwrap();
    assert_eq!(r.messages, ["Bonjour"]);
    let r = engine
        .turn(&mut s, TurnInput::Text("au revoir".into()))
        .await
        .unwrap();
    assert_eq!(r.messages, ["Au revoir."]);
    // An unknown locale talks in the first one.
    let mut s = BotSession::new("CAde", "two", "de_DE");
    let r = engine.turn(&mut s, TurnInput::Start).await.unwrap();
    assert_eq!(r.messages, ["Hi"]);
}
