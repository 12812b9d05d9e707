//! The binary session encoding: every session round-trips exactly (property test over arbitrary
//! sessions, and real sessions stepped through the example flows); truncated, extended or
//! corrupted frames are refused without panicking.
#![allow(clippy::unwrap_used)]

use hotline_flow::Literal;
use hotline_flow::runtime::{Awaiting, Outcome, Session};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z0-9-]{1,12}", "\\PC{0,40}",]
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        any::<f64>()
            .prop_filter("NaN never equals itself", |f| !f.is_nan())
            .prop_map(Literal::Number),
        any::<bool>().prop_map(Literal::Bool),
        text().prop_map(Literal::Text),
    ]
}

fn awaiting() -> impl Strategy<Value = Awaiting> {
    prop_oneof![
        Just(Awaiting::Start),
        Just(Awaiting::Nothing),
        text().prop_map(|node| Awaiting::Gather { node }),
        text().prop_map(|node| Awaiting::Dial { node }),
        text().prop_map(|node| Awaiting::Enqueue { node }),
        text().prop_map(|node| Awaiting::Record { node }),
        text().prop_map(|node| Awaiting::Webhook { node }),
        text().prop_map(|node| Awaiting::Bot { node }),
    ]
}

fn outcome() -> impl Strategy<Value = Option<Outcome>> {
    prop_oneof![
        Just(None),
        text().prop_map(|target| Some(Outcome::Dialed { target })),
        text().prop_map(|queue| Some(Outcome::Enqueued { queue })),
        text().prop_map(|flow| Some(Outcome::Redirected { flow })),
        Just(Some(Outcome::HungUp)),
        Just(Some(Outcome::Recorded)),
        text().prop_map(|bot| Some(Outcome::HandedToBot { bot })),
        Just(Some(Outcome::CallerHungUp)),
        text().prop_map(|message| Some(Outcome::Error { message })),
    ]
}

prop_compose! {
    fn session()(
        strings in proptest::collection::vec(text(), 7),
        started_unix_ms in any::<u64>(),
        seq in any::<u64>(),
        vars in proptest::collection::btree_map("[a-z_]{1,10}", literal(), 0..8),
        no_input in any::<u32>(),
        no_match in any::<u32>(),
        awaiting in awaiting(),
        // Node ids never hold the path's separator (`\n`); the other texts may hold anything.
        path in proptest::collection::vec("[a-z0-9_-]{0,12}", 0..20),
        ended in outcome(),
    ) -> Session {
        let s = |i: usize| strings.get(i).cloned().unwrap_or_default();
        Session {
            call_sid: s(0),
            caller: s(1),
            called: s(2),
            started_unix_ms,
            flow_id: s(3),
            flow_version: s(4),
            node: s(5),
            seq,
            language: s(6),
            vars: vars.into_iter().collect::<BTreeMap<_, _>>(),
            no_input,
            no_match,
            awaiting,
            path: path.iter().map(String::as_str).collect(),
            ended,
        }
    }
}

proptest! {
    #[test]
    fn every_session_round_trips(s in session()) {
        let mut bytes = Vec::new();
        s.encode_binary(&mut bytes);
        prop_assert_eq!(Session::decode_binary(&bytes), Some(s.clone()));
        // Appending to a buffer that holds something already writes the same bytes after it.
        let mut prefixed = b"prefix".to_vec();
        s.encode_binary(&mut prefixed);
        prop_assert_eq!(&prefixed[6..], &bytes[..]);
    }

    #[test]
    fn damaged_frames_are_refused_without_panicking(
        s in session(),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        bits in 1u8..=255,
    ) {
        let mut bytes = Vec::new();
        s.encode_binary(&mut bytes);
        let at = cut.index(bytes.len());
        prop_assert_eq!(Session::decode_binary(&bytes[..at]), None, "truncated at {}", at);
        let mut longer = bytes.clone();
        longer.push(0);
        prop_assert_eq!(Session::decode_binary(&longer), None);
        let mut flipped = bytes.clone();
        let i = flip.index(flipped.len());
        flipped[i] ^= bits;
        // A flipped byte may still decode (e.g. inside a text), but never panics, and never
        // into the original session unless the change was in a float's bits.
        let _ = Session::decode_binary(&flipped);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = Session::decode_binary(&bytes);
        let mut framed = b"HSB1".to_vec();
        framed.extend_from_slice(&bytes);
        let _ = Session::decode_binary(&framed);
    }
}

#[test]
fn a_huge_count_does_not_allocate_before_failing() {
    // Magic, seven empty strings and numbers, then a var count of 2^62.
    let mut bytes = b"HSB1".to_vec();
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0]);
    bytes.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
    assert_eq!(Session::decode_binary(&bytes), None);
}

#[test]
fn binary_is_about_half_the_json_of_a_triage_call() {
    use hotline_flow::runtime::{self, CallFacts, Input, Links};
    use hotline_flow::{Audio, Flow};
    struct L;
    impl Links for L {
        fn action(&self, s: &Session) -> String {
            format!("https://x.test/step?seq={}", s.seq)
        }
        fn prompt(&self, _: &Flow, _: &Audio, _: &str) -> Option<String> {
            Some("https://x.test/p.wav".into())
        }
        fn flow_entry(&self, f: &str) -> String {
            format!("https://x.test/flows/{f}")
        }
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/flows");
    let src = std::fs::read_to_string(dir.join("covid-triage-fr.yaml")).unwrap();
    let flow = hotline_flow::load_flow_str(&src, "covid-triage-fr.yaml", &dir)
        .unwrap()
        .flow;
    let facts = CallFacts {
        call_sid: "CA0123456789abcdef0123456789abcdef".into(),
        from: "+33612345678".into(),
        to: "+33970000000".into(),
        now_unix_ms: 1_700_000_000_000,
    };
    let (mut session, _) = runtime::start(&flow, facts, &L);
    for answer in ["oui", "symptômes", "non", "oui", "non"] {
        let input = Input::Gathered {
            speech: Some((answer.into(), 0.9)),
            digits: None,
            intent: None,
        };
        let _ = runtime::step(&flow, &mut session, input, &L);
        let mut bytes = Vec::new();
        session.encode_binary(&mut bytes);
        assert_eq!(Session::decode_binary(&bytes).as_ref(), Some(&session));
        let json = serde_json::to_vec(&session).unwrap();
        assert!(
            bytes.len() * 3 < json.len() * 2,
            "{} vs {}",
            bytes.len(),
            json.len()
        );
    }
}

#[test]
fn a_path_id_with_the_separator_is_refused() {
    let yaml = "flow: t\nlanguage: en-US\nnodes:\n  a: { say: hi, hangup: true }\n";
    let loaded = hotline_flow::load_flow_str(yaml, "t.yaml", std::path::Path::new("."))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let mut s = Session::new(&loaded.flow, &hotline_flow::runtime::CallFacts::default());
    s.path = ["one", "xx"].into_iter().collect();
    let mut bytes = Vec::new();
    s.encode_binary(&mut bytes);
    assert_eq!(Session::decode_binary(&bytes), Some(s.clone()));
    // The same frame with `xx` turned into `x\n`: one id that would read back as two.
    let at = bytes
        .windows(2)
        .rposition(|w| w == b"xx")
        .unwrap_or_else(|| panic!("no xx in the frame"));
    bytes[at + 1] = b'\n';
    assert_eq!(Session::decode_binary(&bytes), None);
}
