//! Property tests for the runtime: any sequence of inputs, on any example flow, never panics,
//! always yields a response or an effect, keeps the session serialisable, and a caller who
//! never answers always reaches the end of the call within a bounded number of steps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::OnceLock;

use hotline_flow::runtime::{self, CallFacts, Input, Links, Session};
use hotline_flow::{Audio, Flow, load_flow};
use proptest::prelude::*;

struct TestLinks;

impl Links for TestLinks {
    fn action(&self, s: &Session) -> String {
        format!("https://ivr.test/step?seq={}", s.seq)
    }
    fn prompt(&self, _flow: &Flow, audio: &Audio, _language: &str) -> Option<String> {
        // Every other prompt is "unavailable", to exercise that path too.
        match audio {
            Audio::Url(u) => Some(u.clone()),
            Audio::File { resolved, .. } if resolved.len() % 2 == 0 => None,
            Audio::File { resolved, .. } => Some(format!("https://ivr.test/{resolved}")),
        }
    }
    fn flow_entry(&self, flow_id: &str) -> String {
        format!("https://ivr.test/flows/{flow_id}")
    }
}

fn flows() -> &'static [Flow] {
    static FLOWS: OnceLock<Vec<Flow>> = OnceLock::new();
    FLOWS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/flows");
        [
            "covid-triage-fr.yaml",
            "covid-triage-en.yaml",
            "sales-menu.yaml",
        ]
        .iter()
        .map(|f| load_flow(&dir.join(f)).unwrap().flow)
        .collect()
    })
}

fn facts() -> CallFacts {
    CallFacts {
        call_sid: "CA1".into(),
        from: "+15550100".into(),
        to: "+15550199".into(),
        now_unix_ms: 0,
    }
}

const WORDS: &[&str] = &[
    "oui",
    "non",
    "yes",
    "no",
    "covid",
    "question",
    "symptômes",
    "symptoms",
    "fièvre",
    "fever",
    "pas",
    "not",
    "sales",
    "support",
    "",
    "  ",
    "mal à respirer",
    "short of breath",
    "douleur",
    "pain",
    "blah",
    "1",
    "2",
];

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        4 => (prop::collection::vec(prop::sample::select(WORDS), 0..4), any::<f32>())
            .prop_map(|(w, c)| Input::Gathered { speech: Some((w.join(" "), c)), digits: None, intent: None }),
        2 => "[0-9*#]{0,3}".prop_map(|d| Input::Gathered { speech: None, digits: Some(d), intent: None }),
        1 => "\\PC{0,20}".prop_map(|s| Input::Gathered { speech: Some((s, 0.5)), digits: None, intent: None }),
        3 => Just(Input::NoInput),
        1 => prop::sample::select(vec!["completed", "answered", "busy", "no-answer", "failed", "x"])
            .prop_map(|s| Input::DialEnded { status: s.into() }),
        1 => prop::sample::select(vec!["bridged", "hangup", "queue-full", "leave", "error"])
            .prop_map(|s| Input::QueueLeft { result: s.into() }),
        1 => ("\\PC{0,10}", any::<u32>())
            .prop_map(|(url, d)| Input::Recorded { url, duration_secs: d }),
        1 => Just(Input::WebhookReplied(Err("timeout".into()))),
        1 => Just(Input::BotFailed { reason: "x".into() }),
        1 => Just(Input::Start(facts())),
        1 => Just(Input::CallEnded { status: "completed".into() }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_inputs_never_panic_or_go_silent(
        which in 0usize..3,
        inputs in prop::collection::vec(input(), 0..40),
    ) {
        let flow = &flows()[which];
        let (mut session, turn) = runtime::start(flow, facts(), &TestLinks);
        prop_assert!(!turn.response.verbs.is_empty() || turn.effect.is_some());
        for input in inputs {
            let before = session.seq;
            let turn = runtime::step(flow, &mut session, input, &TestLinks);
            prop_assert_eq!(session.seq, before + 1);
            prop_assert!(!turn.response.verbs.is_empty() || turn.effect.is_some());
            let xml = turn.response.to_xml();
            prop_assert!(xml.starts_with("<?xml"));
            let json = serde_json::to_string(&session).unwrap();
            let back: Session = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, &session);
            for event in &turn.events {
                serde_json::to_string(event).unwrap();
            }
            prop_assert!(session.path.len() <= runtime::MAX_PATH);
        }
    }

    #[test]
    fn a_silent_caller_always_reaches_the_end(
        which in 0usize..3,
        answers in prop::collection::vec(prop::sample::select(WORDS), 0..6),
    ) {
        let flow = &flows()[which];
        let (mut session, _) = runtime::start(flow, facts(), &TestLinks);
        for a in answers {
            let input = Input::Gathered { speech: Some((a.to_owned(), 0.9)), digits: None, intent: None };
            let _ = runtime::step(flow, &mut session, input, &TestLinks);
        }
        let mut steps = 0;
        while session.ended.is_none() {
            // A pending dial or recording resolves without the caller; otherwise silence.
            let input = match session.awaiting {
                runtime::Awaiting::Dial { .. } => Input::DialEnded { status: "no-answer".into() },
                runtime::Awaiting::Record { .. } => Input::Recorded { url: String::new(), duration_secs: 0 },
                runtime::Awaiting::Enqueue { .. } => Input::QueueLeft { result: "leave".into() },
                _ => Input::NoInput,
            };
            let turn = runtime::step(flow, &mut session, input, &TestLinks);
            prop_assert!(!turn.response.verbs.is_empty() || turn.effect.is_some());
            steps += 1;
            prop_assert!(steps <= 12, "not ended after {} steps at {}", steps, session.node);
        }
    }
}

#[test]
fn silence_forever_ends_every_example_within_a_few_steps() {
    for flow in flows() {
        let (mut session, _) = runtime::start(flow, facts(), &TestLinks);
        let mut steps = 0;
        while session.ended.is_none() && steps < 100 {
            let _ = runtime::step(flow, &mut session, Input::NoInput, &TestLinks);
            steps += 1;
        }
        assert!(session.ended.is_some(), "{}", flow.id);
        assert!(steps <= 3, "{}: {steps} steps", flow.id);
    }
}
