//! Flow files are user input: no input may make the loader, the matcher or the renderer
//! panic. Random text, and the shipped examples with random lines removed or damaged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use hotline_flow::{Sources, load_flow_str, matcher, render_diagnostics};
use proptest::prelude::*;

fn check(source: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/flows");
    let diags = match load_flow_str(source, "fuzz.yaml", &dir) {
        Ok(l) => {
            let _ = hotline_flow::graph::to_mermaid(&l.flow);
            let _ = hotline_flow::graph::to_dot(&l.flow);
            l.warnings
        }
        Err(d) => {
            assert!(!d.is_empty());
            d
        }
    };
    let mut sources = Sources::new();
    sources.add("fuzz.yaml", source);
    let _ = render_diagnostics(&diags, &sources);
}

fn example() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/flows/covid-triage-fr.yaml"),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
        check(&s);
    }

    #[test]
    fn yaml_like_text_never_panics(s in "[a-z:{}\\[\\], \\n\"'#&*|>-]{0,300}") {
        check(&s);
    }

    #[test]
    fn damaged_examples_never_panic(drop in 0usize..200, cut in 0usize..80, junk in "\\PC{0,8}") {
        let src = example();
        let lines: Vec<&str> = src.lines().collect();
        let mut out = String::new();
        for (i, line) in lines.iter().enumerate() {
            if i == drop % lines.len() {
                let keep: String = line.chars().take(cut).collect();
                out.push_str(&keep);
                out.push_str(&junk);
            } else {
                out.push_str(line);
            }
            out.push('\n');
        }
        check(&out);
    }

    #[test]
    fn matcher_never_panics(text in "\\PC{0,200}", kw in "\\PC{0,20}") {
        let set = matcher::KeywordSet::new(&[kw]);
        let _ = set.matches(&text, "fr-FR");
        let _ = matcher::extract_number(&text, "en-US");
        let _ = matcher::extract_number(&text, "fr-FR");
    }
}
