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
