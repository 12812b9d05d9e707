//! Per-frame cost of the real-time audio path: one 20 ms Media Streams frame is 160 mu-law bytes
//! at 8 kHz (320 samples at 16 kHz). Output buffers are reused, as a call loop would.
//!
//! Run: `cargo bench -p hotline-audio --bench audio -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hotline_audio::{
    Downsampler2x, Upsampler2x, decode_ulaw, encode_ulaw, linear_to_ulaw, resample,
};

/// A 20 ms frame of a 440 Hz tone at `rate` Hz.
fn tone(rate: f64, len: usize) -> Vec<i16> {
    (0..len)
        .map(|n| (12_000.0 * (2.0 * std::f64::consts::PI * 440.0 * n as f64 / rate).sin()) as i16)
        .collect()
}

fn frame_benches(c: &mut Criterion) {
    let pcm_8k = tone(8000.0, 160);
    let pcm_16k = tone(16000.0, 320);
    let codes: Vec<u8> = pcm_8k.iter().map(|&s| linear_to_ulaw(s)).collect();

    let mut pcm_out = Vec::with_capacity(640);
    c.bench_function("decode_ulaw 160 bytes", |b| {
        b.iter(|| {
            pcm_out.clear();
            decode_ulaw(black_box(&codes), &mut pcm_out);
            black_box(&pcm_out);
        });
    });

    let mut code_out = Vec::with_capacity(160);
    c.bench_function("encode_ulaw 160 samples", |b| {
        b.iter(|| {
            code_out.clear();
            encode_ulaw(black_box(&pcm_8k), &mut code_out);
            black_box(&code_out);
        });
    });

    let mut up = Upsampler2x::new();
    c.bench_function("Upsampler2x::process 160 -> 320", |b| {
        b.iter(|| {
            pcm_out.clear();
            up.process(black_box(&pcm_8k), &mut pcm_out);
            black_box(&pcm_out);
        });
    });

    let mut f32_out = Vec::with_capacity(320);
    c.bench_function("Upsampler2x::process_f32 160 -> 320", |b| {
        b.iter(|| {
            f32_out.clear();
            up.process_f32(black_box(&pcm_8k), &mut f32_out);
            black_box(&f32_out);
        });
    });

    let mut down = Downsampler2x::new();
    c.bench_function("Downsampler2x::process 320 -> 160", |b| {
        b.iter(|| {
            pcm_out.clear();
            down.process(black_box(&pcm_16k), &mut pcm_out);
            black_box(&pcm_out);
        });
    });
}

fn offline_benches(c: &mut Criterion) {
    let second = tone(22050.0, 22050);
    c.bench_function("resample 1 s 22050 -> 8000", |b| {
        b.iter(|| resample(black_box(&second), 22050, 8000).unwrap());
    });
}

criterion_group!(benches, frame_benches, offline_benches);
criterion_main!(benches);
