#![allow(clippy::unwrap_used)]
//! Criterion benchmarks for the TwiML codec on the per-webhook hot path: rendering and parsing
//! the seed's template (Play, Play, Gather, Play, Play, Gather, Play).
//!
//! Benchmarks only measure; they must not assert behaviour (the tests do that) or do I/O.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hotline_twilio::twiml::{Gather, GatherInput, Method, Play, Response, SpeechTimeout, parse};

const SEED_BIN: &str = include_str!("../tests/fixtures/seed-bin.xml");

fn seed() -> Response {
    let gather = || {
        Gather::new()
            .with_input(GatherInput::SPEECH)
            .with_speech_timeout(SpeechTimeout::Seconds(3))
            .with_language("fr-FR")
            .with_method(Method::Post)
            .with_action("https://example.com/step-01")
    };
    Response::new()
        .play(Play::new("https://example.com/intro.mp3"))
        .play(Play::new("https://example.com/beep.mp3"))
        .gather(gather())
        .play(Play::new("https://example.com/error-01.mp3"))
        .play(Play::new("https://example.com/beep.mp3"))
        .gather(gather())
        .play(Play::new("https://example.com/error-02.mp3"))
}

fn twiml(c: &mut Criterion) {
    let doc = seed();
    c.bench_function("twiml/render_seed", |b| b.iter(|| black_box(&doc).to_xml()));

    let mut buf = String::new();
    c.bench_function("twiml/render_seed_reused_buffer", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&doc).write_xml(&mut buf);
            buf.len()
        })
    });

    let rendered = doc.to_xml();
    c.bench_function("twiml/parse_seed_rendered", |b| {
        b.iter(|| parse(black_box(&rendered)).unwrap())
    });
    c.bench_function("twiml/parse_seed_bin_fixture", |b| {
        b.iter(|| parse(black_box(SEED_BIN)).unwrap())
    });

    // Baseline: quick-xml's tokenizer alone on the same document (no model, no checks), to
    // show how much of `parse` is tokenizing.
    c.bench_function("twiml/quick_xml_events_only_seed_bin", |b| {
        b.iter(|| {
            let mut reader = quick_xml::Reader::from_str(black_box(SEED_BIN));
            let mut events = 0usize;
            loop {
                match reader.read_event().unwrap() {
                    quick_xml::events::Event::Eof => break events,
                    quick_xml::events::Event::Start(s) | quick_xml::events::Event::Empty(s) => {
                        events += s.attributes().count();
                    }
                    _ => events += 1,
                }
            }
        })
    });
}

criterion_group!(benches, twiml);
criterion_main!(benches);
