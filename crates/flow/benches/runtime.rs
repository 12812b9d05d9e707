//! Per-webhook cost of the flow runtime: one `<Gather>` callback on the French triage flow
//! (answer → keyword routes → score update → next question rendered to XML).
//!
//! Measures the pure step only; no I/O and no session (de)serialisation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use hotline_flow::runtime::{self, CallFacts, Input, Links, Session};
use hotline_flow::{Audio, Flow};

struct BenchLinks;

impl Links for BenchLinks {
    fn action(&self, s: &Session) -> String {
        format!(
            "https://ivr.example.com/calls/{}/step?seq={}",
            s.call_sid, s.seq
        )
    }
    fn prompt(&self, _flow: &Flow, audio: &Audio, _language: &str) -> Option<String> {
        Some(match audio {
            Audio::Url(u) => u.clone(),
            Audio::File { resolved, .. } => format!("https://ivr.example.com/prompts/{resolved}"),
        })
    }
    fn flow_entry(&self, flow_id: &str) -> String {
        format!("https://ivr.example.com/flows/{flow_id}")
    }
}

fn bench(c: &mut Criterion) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/flows/covid-triage-fr.yaml");
    let flow = hotline_flow::load_flow(&path).expect("example flow").flow;
    let facts = CallFacts {
        call_sid: "CA0123456789abcdef0123456789abcdef".into(),
        from: "+33612345678".into(),
        to: "+33199001234".into(),
        now_unix_ms: 1_700_000_000_000,
    };
    let (mut session, _) = runtime::start(&flow, facts, &BenchLinks);
    for answer in ["oui c'est pour le covid", "j'ai des symptômes"] {
        let input = Input::Gathered {
            speech: Some((answer.into(), 0.9)),
            digits: None,
            intent: None,
        };
        let _ = runtime::step(&flow, &mut session, input, &BenchLinks);
    }
    assert_eq!(session.node, "symptome-1");

    c.bench_function("gather step: symptome-1 oui → symptome-2, to_xml", |b| {
        b.iter_batched_ref(
            || session.clone(),
            |s| {
                let input = Input::Gathered {
                    speech: Some(("oui, j'ai de la fièvre depuis hier".into(), 0.87)),
                    digits: None,
                    intent: None,
                };
                let turn = runtime::step(&flow, s, input, &BenchLinks);
                black_box(turn.response.to_xml())
            },
            criterion::BatchSize::SmallInput,
        );
    });

    c.bench_function("no-input step: symptome-1 reprompt, to_xml", |b| {
        b.iter_batched_ref(
            || session.clone(),
            |s| {
                let turn = runtime::step(&flow, s, Input::NoInput, &BenchLinks);
                black_box(turn.response.to_xml())
            },
            criterion::BatchSize::SmallInput,
        );
    });

    let json = serde_json::to_string(&session).expect("session serialises");
    c.bench_function("session JSON round trip", |b| {
        b.iter(|| {
            let s: Session = serde_json::from_str(black_box(&json)).expect("parses");
            black_box(serde_json::to_string(&s).expect("serialises"))
        });
    });

    let mut binary = Vec::new();
    session.encode_binary(&mut binary);
    c.bench_function("session binary round trip", |b| {
        let mut out = Vec::with_capacity(binary.len());
        b.iter(|| {
            let s = Session::decode_binary(black_box(&binary)).expect("decodes");
            out.clear();
            s.encode_binary(&mut out);
            black_box(out.len())
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
