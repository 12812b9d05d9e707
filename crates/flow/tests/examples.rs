//! The shipped example flows must load with zero errors (and zero warnings), and behave as
//! documented when routes are evaluated by hand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use hotline_flow::{
    Answer, Literal, Loaded, NodeKind, Sources, graph, load_flow, render_diagnostics,
};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/flows")
}

fn load(name: &str) -> Loaded {
    let path = examples_dir().join(name);
    match load_flow(&path) {
        Ok(l) => l,
        Err(d) => panic!("{}", render_diagnostics(&d, &Sources::read_for(&d))),
    }
}

#[test]
fn every_example_is_valid_without_warnings() {
    let mut count = 0;
    for entry in std::fs::read_dir(examples_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        count += 1;
        let loaded = match load_flow(&path) {
            Ok(l) => l,
            Err(d) => panic!("{}", render_diagnostics(&d, &Sources::read_for(&d))),
        };
        assert!(
            loaded.warnings.is_empty(),
            "{}",
            render_diagnostics(&loaded.warnings, &Sources::read_for(&loaded.warnings))
        );
        // Graph export never panics and mentions every node.
        let mermaid = graph::to_mermaid(&loaded.flow);
        let dot = graph::to_dot(&loaded.flow);
        for node in &loaded.flow.nodes {
            assert!(mermaid.contains(&node.id), "{}", node.id);
            assert!(dot.contains(&format!("\"{}\"", node.id)), "{}", node.id);
        }
    }
    assert!(count >= 3, "expected at least three example flows");
}

fn route_target(loaded: &Loaded, node: &str, speech: &str, score: f64) -> Option<String> {
    let flow = &loaded.flow;
    let id = flow.find(node).unwrap();
    let routes = match &flow.node(id).kind {
        NodeKind::Ask { routes, .. } | NodeKind::Branch { routes, .. } => routes,
        other => panic!("{node} is a {}", other.name()),
    };
    let answer = Answer {
        speech: Some(speech),
        ..Answer::default()
    };
    let lookup = |v: &str| (v == "score").then_some(Literal::Number(score));
    routes
        .iter()
        .find(|r| r.matches(&answer, &flow.default_language, &lookup))
        .map(|r| flow.node(r.target).id.clone())
}

#[test]
fn french_triage_routes_like_the_seed() {
    let l = load("covid-triage-fr.yaml");
    let to = |node, speech| route_target(&l, node, speech, 0.0);
    assert_eq!(to("accueil", "Oui").as_deref(), Some("classification"));
    assert_eq!(
        to("accueil", "c'est pour le Covid-19").as_deref(),
        Some("classification")
    );
    assert_eq!(
        to("accueil", "le corona virus").as_deref(),
        Some("classification")
    );
    assert_eq!(
        to(
            "accueil",
            "non, ce n'est pas le covid, mon père a fait un malaise"
        )
        .as_deref(),
        Some("file-samu")
    );
    assert_eq!(to("accueil", "euh").as_deref(), None);
    assert_eq!(
        to("classification", "j'ai une question").as_deref(),
        Some("numero-vert")
    );
    assert_eq!(
        to("classification", "des symptômes").as_deref(),
        Some("symptome-1")
    );
    assert_eq!(
        to("symptome-1", "oui j'ai de la fièvre").as_deref(),
        Some("symptome-2")
    );
    assert_eq!(
        to("symptome-1", "je n'ai pas de fièvre").as_deref(),
        Some("symptome-2")
    );
    assert_eq!(to("symptome-3", "ouais").as_deref(), Some("samu-urgence"));
    assert_eq!(
        to("symptome-3", "non pas du tout").as_deref(),
        Some("symptome-4")
    );
    assert_eq!(
        route_target(&l, "orientation", "", 4.0).as_deref(),
        Some("samu-urgence")
    );
    assert_eq!(route_target(&l, "orientation", "", 3.0), None);

    // Points per yes, red flags stop early, retry policy from the seed.
    let flow = &l.flow;
    let node = flow.node(flow.find("symptome-1").unwrap());
    let NodeKind::Ask { ask, routes, next } = &node.kind else {
        panic!()
    };
    assert!(next.is_none());
    assert_eq!(ask.retry.attempts, 2);
    assert_eq!(flow.node(ask.retry.exhausted.no_input).id, "au-revoir");
    assert_eq!(ask.retry.no_input_prompt(1).len(), 2);
    assert_eq!(routes.first().map(|r| r.assign.len()), Some(1));
}

#[test]
fn english_triage_routes() {
    let l = load("covid-triage-en.yaml");
    let to = |node, speech| route_target(&l, node, speech, 0.0);
    assert_eq!(
        to("welcome", "yes it's about covid").as_deref(),
        Some("classify")
    );
    assert_eq!(
        to("welcome", "no, it's not the coronavirus").as_deref(),
        Some("samu-queue")
    );
    assert_eq!(
        to("symptom-1", "I don't have a fever").as_deref(),
        Some("symptom-2")
    );
    assert_eq!(
        to("symptom-3", "yeah I'm short of breath").as_deref(),
        Some("emergency")
    );
}

#[test]
fn sales_menu_takes_digits_or_speech() {
    let l = load("sales-menu.yaml");
    let flow = &l.flow;
    let id = flow.find("menu").unwrap();
    let NodeKind::Ask { routes, .. } = &flow.node(id).kind else {
        panic!()
    };
    let pick = |answer: Answer<'_>| {
        routes
            .iter()
            .find(|r| r.matches(&answer, "en-US", &|_| None))
            .map(|r| flow.node(r.target).id.clone())
    };
    let digits = |d| Answer {
        digits: Some(d),
        ..Answer::default()
    };
    let speech = |s| Answer {
        speech: Some(s),
        ..Answer::default()
    };
    assert_eq!(pick(digits("1")).as_deref(), Some("sales"));
    assert_eq!(pick(digits("2")).as_deref(), Some("support"));
    assert_eq!(pick(speech("Sales please")).as_deref(), Some("sales"));
    assert_eq!(
        pick(speech("I need help with my order")).as_deref(),
        Some("support")
    );
    assert_eq!(pick(digits("9")), None);
}

/// A route with keywords per language is named in every language, so that the graph and the
/// report read the same whichever language the caller chose.
#[test]
fn bilingual_route_labels_name_both_languages() {
    let loaded = load("covid-triage-bilingue.yaml");
    let mermaid = graph::to_mermaid(&loaded.flow);
    for label in ["oui / yes", "non / no", "symptôme / symptom"] {
        assert!(mermaid.contains(label), "{label} in {mermaid}");
    }
    // A route in one list for every language keeps its first three words.
    assert!(
        mermaid.contains("english / anglais / anglaise"),
        "{mermaid}"
    );
}
