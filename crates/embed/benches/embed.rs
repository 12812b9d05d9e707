//! Cost of embedding one short sentence and a batch of 16 with all-MiniLM-L6-v2 (the per-utterance
//! cost of the local intent classifier). Needs the installed model: `scripts/install-models.sh`.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use hotline_embed::{MiniLm, model_dir};

fn models_dir() -> PathBuf {
    std::env::var_os("HOTLINE_MODELS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"),
        PathBuf::from,
    )
}

const BATCH: [&str; 16] = [
    "I'd like to book an appointment tomorrow",
    "can I schedule a visit next week",
    "I need to cancel my booking",
    "what are your opening hours",
    "yes that's right",
    "no thanks",
    "I have a fever and a bad cough",
    "can I talk to a real person please",
    "my order number is four five six",
    "where is my parcel",
    "the payment did not go through",
    "I want to change my address",
    "goodbye",
    "what's the weather like today",
    "how much does a consultation cost",
    "please call me back later",
];

fn bench(c: &mut Criterion) {
    let model = MiniLm::load(&model_dir(&models_dir())).unwrap_or_else(|e| panic!("{e}"));
    c.bench_function("embed one short sentence (8 words)", |b| {
        b.iter(|| model.embed(black_box("I'd like to book an appointment tomorrow")))
    });
    c.bench_function("embed_batch of 16 short sentences", |b| {
        b.iter(|| model.embed_batch(black_box(&BATCH)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
