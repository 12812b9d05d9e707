//! Every node kind and option of the format, lowered from YAML and inspected; graph export
//! compared with exact expected strings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use hotline_flow::{
    Answer, AssignOp, Audio, DialTarget, InputMode, Literal, Loaded, Localized, NodeKind, Prompt,
    PromptBase, SetValue, Sources, SpeechTimeout, graph, load_flow_str, render_diagnostics,
};

fn load(src: &str) -> Loaded {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/flows");
    match load_flow_str(src, "test.yaml", &dir) {
        Ok(l) => l,
        Err(d) => {
            let mut s = Sources::new();
            s.add("test.yaml", src);
            panic!("{}", render_diagnostics(&d, &s))
        }
    }
}

const EVERYTHING: &str = r##"
flow: everything
language: fr-FR
languages: [fr-FR, en-US]
voice: { fr-FR: Polly.Lea, en-US: Polly.Joanna }
prompts: ./prompts
intents: triage-nlu
variables:
  risk: ""
  score: 0
synonyms:
  oui: [ouais]
  yes: [yeah]
defaults:
  retry: { exhausted: bye }
nodes:
  language-menu:
    say:
      - { text: "Pour le français, tapez 1 ou dites français.", language: fr-FR }
      - { text: "For English, press 2 or say English.", language: en-US }
    ask:
      input: both
      num-digits: 1
      speech-timeout: 2
      finish-on-key: "#"
      save-as: choice
    routes:
      - digits: 1
        keywords: [français]
        language: fr-FR
        goto: intro
      - digits: 2
        keywords: [english, anglais]
        language: en-US
        goto: intro
  intro:
    set: { greeting: "Bonjour {{ caller }}", visits: 1 }
    say:
      fr-FR: "Bonjour. Quel âge avez-vous ?"
      en-US: "Hello. How old are you?"
    play:
      fr-FR: beep
      en-US: beep.wav
    ask:
      language: en-US
      hints: [soixante, sixty]
    retry:
      attempts: 2
      reprompt: { say: { fr-FR: "Pardon ?", en-US: "Sorry?" } }
      repeat-question: true
    routes:
      - number: ">= 65"
        add: { score: 2 }
        goto: hook
      - regex: '^\d+$'
        goto: hook
      - intent: emergency
        goto: samu
      - keywords: { fr-FR: [oui], en-US: [yes] }
        negation: false
        goto: hook
    next: hook
  hook:
    webhook:
      url: https://triage.example.org/score
      timeout: 3
      returns: [risk]
    routes:
      - if: [risk == high, score >= 2]
        goto: samu
    next: bot
    fallback: voicemail
  bot:
    bot:
      name: covid-assistant
      collect: [symptoms]
      max-duration: 300
    next: other-flow
    fallback: voicemail
  other-flow:
    redirect: sales-menu
  samu:
    dial: { number: "15", caller-id: "+33 1 99 00 00 01", record: true }
    next: bye
    fallback: queue
  queue:
    enqueue: { queue: samu }
  voicemail:
    record: { max-length: 60, transcribe: true }
    next: bye
  bye:
    say: "{{ greeting }}, {{ symptoms }}, {{ recording }}"
    play: https://example.com/bye.mp3
    hangup: true
"##;

#[test]
fn everything_lowers() {
    let l = load(EVERYTHING);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let f = &l.flow;
    assert_eq!(f.id, "everything");
    assert_eq!(f.version_hash.len(), 16);
    assert_eq!(f.languages, ["fr-FR", "en-US"]);
    assert_eq!(f.voice_for("en-US"), Some("Polly.Joanna"));
    assert!(matches!(&f.prompt_base, PromptBase::Local(p) if p.ends_with("prompts")));
    assert_eq!(f.intent_engine.as_deref(), Some("triage-nlu"));
    assert_eq!(f.node(f.start).id, "language-menu");

    let menu = f.node(f.find("language-menu").unwrap());
    assert_eq!(menu.prompts.len(), 2);
    let Prompt::Say(say) = &menu.prompts[1] else {
        panic!()
    };
    assert_eq!(say.language.as_deref(), Some("en-US"));
    let NodeKind::Ask { ask, routes, next } = &menu.kind else {
        panic!()
    };
    assert_eq!(ask.input, InputMode::Both);
    assert_eq!(ask.speech_timeout, SpeechTimeout::Seconds(2));
    assert_eq!(ask.finish_on_key, Some('#'));
    assert_eq!(ask.save_as, "choice");
    assert_eq!(ask.retry.attempts, 3);
    assert!(next.is_none());
    assert_eq!(routes[1].language.as_deref(), Some("en-US"));
    let english = Answer {
        speech: Some("English please"),
        ..Answer::default()
    };
    assert!(routes[1].matches(&english, "fr-FR", &|_| None));

    let intro = f.node(f.find("intro").unwrap());
    assert_eq!(intro.on_enter.len(), 2);
    assert!(matches!(
        &intro.on_enter[0].op,
        AssignOp::Set(SetValue::Text(t)) if t.variables().collect::<Vec<_>>() == ["caller"]
    ));
    assert_eq!(
        intro.on_enter[1].op,
        AssignOp::Set(SetValue::Literal(Literal::Number(1.0)))
    );
    let Prompt::Play(play) = &intro.prompts[1] else {
        panic!()
    };
    let Localized::PerLanguage(v) = &play.audio else {
        panic!()
    };
    assert_eq!(
        v[0].1,
        Audio::File {
            name: "beep".into(),
            resolved: "beep.wav".into()
        }
    );
    let NodeKind::Ask { ask, routes, .. } = &intro.kind else {
        panic!()
    };
    assert!(ask.retry.repeat_question);
    assert_eq!(ask.retry.no_input_prompt(1).len(), 1);
    assert_eq!(ask.retry.no_match_prompt(5).len(), 1);
    let age = |s: &'static str| Answer {
        speech: Some(s),
        ..Answer::default()
    };
    assert!(routes[0].matches(&age("j'ai 72 ans"), "fr-FR", &|_| None));
    assert!(!routes[0].matches(&age("j'ai 40 ans"), "fr-FR", &|_| None));
    // The answer's language reads the one ambiguous separator: 1,200 in English, 1.2 in French.
    assert!(routes[0].matches(&age("1,200"), "en-US", &|_| None));
    assert!(!routes[0].matches(&age("1,200"), "fr-FR", &|_| None));
    assert!(routes[1].matches(&age("40"), "fr-FR", &|_| None));
    let intent = Answer {
        intent: Some("emergency"),
        ..Answer::default()
    };
    assert!(routes[2].matches(&intent, "fr-FR", &|_| None));
    // negation: false keeps "pas oui" a yes; per-language keywords.
    assert!(routes[3].matches(&age("pas ouais"), "fr-FR", &|_| None));
    assert!(routes[3].matches(&age("yeah"), "en-US", &|_| None));
    assert!(!routes[3].matches(&age("yeah"), "fr-FR", &|_| None));

    let hook = f.node(f.find("hook").unwrap());
    let NodeKind::Webhook {
        webhook, routes, ..
    } = &hook.kind
    else {
        panic!()
    };
    assert_eq!(webhook.timeout_secs, 3);
    assert_eq!(routes[0].conditions.len(), 2);
    let vars = |v: &str| match v {
        "risk" => Some(Literal::Text("HIGH".into())),
        "score" => Some(Literal::Number(2.0)),
        _ => None,
    };
    assert!(routes[0].matches(&Answer::default(), "fr-FR", &vars));

    let samu = f.node(f.find("samu").unwrap());
    let NodeKind::Dial { dial, .. } = &samu.kind else {
        panic!()
    };
    assert_eq!(dial.target, DialTarget::Number("15".into()));
    assert_eq!(dial.caller_id.as_deref(), Some("+33199000001"));
    assert!(dial.record);
    assert!(
        matches!(f.node(f.find("other-flow").unwrap()).kind, NodeKind::Redirect { ref flow } if flow == "sales-menu")
    );
    assert!(
        matches!(f.node(f.find("voicemail").unwrap()).kind, NodeKind::Record { ref record, .. } if record.transcribe && record.max_length_secs == 60)
    );
    assert!(
        matches!(f.node(f.find("bot").unwrap()).kind, NodeKind::Bot { ref bot, .. } if bot.collect == ["symptoms"])
    );
}

const SMALL: &str = r#"
flow: small
language: en-US
defaults:
  retry: { exhausted: bye }
nodes:
  menu:
    say: Press 1 or say "sales".
    ask: both
    routes:
      - digits: 1
        keywords: [sales]
        goto: sales
    next: bye
  sales:
    dial: "+1 202 555 0123"
    fallback: bye
  bye:
    say: Bye.
    hangup: true
"#;

#[test]
fn mermaid_export() {
    let l = load(SMALL);
    let expected = r#"flowchart TD
    n0{"menu<br/>ask (answer)"}
    n1[["sales<br/>dial +12025550123"]]
    n2(("bye<br/>hangup"))
    start((start)) --> n0
    n0 -->|"sales / 1"| n1
    n0 -->|"default"| n2
    n0 -.->|"exhausted"| n2
    n1 -.->|"fallback"| n2
"#;
    assert_eq!(graph::to_mermaid(&l.flow), expected);
}

#[test]
fn dot_export() {
    let l = load(SMALL);
    let expected = r#"digraph "small" {
    rankdir=TB;
    node [fontname="Helvetica", fontsize=11];
    edge [fontname="Helvetica", fontsize=9];
    "__start" [shape=point, width=0.15, label=""];
    "menu" [shape=diamond, label="menu\nask (answer)"];
    "sales" [shape=box3d, label="sales\ndial +12025550123"];
    "bye" [shape=doublecircle, label="bye\nhangup"];
    "__start" -> "menu";
    "menu" -> "sales" [label="sales / 1"];
    "menu" -> "bye" [label="default"];
    "menu" -> "bye" [label="exhausted", style=dashed];
    "sales" -> "bye" [label="fallback", style=dashed];
}
"#;
    assert_eq!(graph::to_dot(&l.flow), expected);
}

#[test]
fn exhaustion_per_failure_is_two_labelled_edges() {
    let l = load(&SMALL.replace(
        "retry: { exhausted: bye }",
        "retry: { exhausted: { no-input: bye, no-match: sales } }",
    ));
    let mermaid = graph::to_mermaid(&l.flow);
    assert!(
        mermaid.contains(
            "    n0 -.->|\"exhausted (no input)\"| n2\n    n0 -.->|\"exhausted (no match)\"| n1\n"
        ),
        "{mermaid}"
    );
    let dot = graph::to_dot(&l.flow);
    assert!(
        dot.contains(r#""menu" -> "sales" [label="exhausted (no match)", style=dashed];"#),
        "{dot}"
    );
}

#[test]
fn limits_are_enforced() {
    let huge = "a".repeat(hotline_flow::MAX_FLOW_BYTES + 1);
    let d = load_flow_str(&huge, "big.yaml", Path::new(".")).unwrap_err();
    assert_eq!(d[0].code, "F0009");
    let mut many = String::from("flow: many\nlanguage: en-US\nnodes:\n");
    for i in 0..=hotline_flow::MAX_NODES {
        many.push_str(&format!("  n{i}: {{ hangup: true }}\n"));
    }
    let d = load_flow_str(&many, "many.yaml", Path::new(".")).unwrap_err();
    assert!(d.iter().any(|d| d.code == "F0009"));
}

#[test]
fn yaml_one_point_one_booleans_stay_text() {
    // `no`, `yes`, `on`, `off` are keywords here, not booleans.
    let l = load(
        "flow: t\nlanguage: en-US\ndefaults: { retry: { exhausted: b } }\nnodes:\n  a:\n    ask: speech\n    routes:\n      - keywords: [no, off]\n        goto: b\n  b: { hangup: true }\n",
    );
    let NodeKind::Ask { routes, .. } = &l.flow.node(l.flow.start).kind else {
        panic!()
    };
    let no = Answer {
        speech: Some("No."),
        ..Answer::default()
    };
    assert!(routes[0].matches(&no, "en-US", &|_| None));
}

#[test]
fn every_code_is_documented() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/flows.md"))
            .unwrap();
    for (code, _) in hotline_flow::codes::ALL {
        assert!(doc.contains(code), "docs/flows.md does not document {code}");
    }
}

/// `on-lost-call:` picks what a callback for a lost call gets; absent, the server decides.
#[test]
fn on_lost_call_settings() {
    use hotline_flow::LostCall;
    let with = |setting: &str| {
        let src = format!(
            "flow: f\nlanguage: en-US\n{setting}\nnodes:\n  bye: {{ say: Bye., hangup: true }}\n"
        );
        load(&src).flow.on_lost_call
    };
    assert_eq!(with(""), None);
    assert_eq!(with("on-lost-call: restart"), Some(LostCall::Restart));
    assert_eq!(with("on-lost-call: hangup"), Some(LostCall::Hangup));
    assert_eq!(
        with("on-lost-call: { transfer: \"+1 (555) 123-4567\" }"),
        Some(LostCall::Transfer("+15551234567".into()))
    );
    assert_eq!(
        with("on-lost-call:\n  transfer: sip:desk@pbx.example.com"),
        Some(LostCall::Transfer("sip:desk@pbx.example.com".into()))
    );
}
