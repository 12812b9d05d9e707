//! Criterion: CPU cost of each VAD per 20 ms frame (160 samples at 8 kHz).
//!
//! Silero is measured for one stream and for 64 interleaved streams sharing one session
//! pool (the per-frame figure is the cost of one frame of one stream). Needs the models from
//! `scripts/install-models.sh`.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hotline_vad::silero::{MODELS_DIR_ENV, SileroConfig, SileroModel, SileroVad};
use hotline_vad::{Vad, VadConfig};

fn speech() -> Vec<i16> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/call1.snr20.wav");
    hotline_audio::read_wav(&std::fs::read(path).unwrap())
        .unwrap()
        .to_mono()
}

fn models_dir() -> PathBuf {
    std::env::var_os(MODELS_DIR_ENV).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"),
        PathBuf::from,
    )
}

/// Feeds frame after frame of `samples`, cycling.
fn per_frame(c: &mut Criterion, name: &str, vad: &mut dyn Vad, samples: &[i16]) {
    let frames: Vec<&[i16]> = samples.chunks_exact(160).collect();
    let mut i = 0usize;
    let mut group = c.benchmark_group("vad_frame");
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.iter(|| {
            i = (i + 1) % frames.len();
            black_box(vad.process(black_box(frames[i])))
        });
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let samples = speech();
    let mut energy = VadConfig::Energy(Default::default())
        .build()
        .unwrap()
        .create();
    per_frame(c, "energy", &mut *energy, &samples);
    let mut webrtc = VadConfig::Webrtc(Default::default())
        .build()
        .unwrap()
        .create();
    per_frame(c, "webrtc", &mut *webrtc, &samples);

    let model = SileroModel::load(&SileroConfig::in_dir(models_dir())).unwrap();
    let mut silero = SileroVad::new(model.clone());
    per_frame(c, "silero_1_stream", &mut silero, &samples);

    // 64 streams, each at its own offset in the clip, fed round-robin from one thread.
    let frames: Vec<&[i16]> = samples.chunks_exact(160).collect();
    let mut streams: Vec<(SileroVad, usize)> = (0..64)
        .map(|k| (SileroVad::new(model.clone()), k * 7 % frames.len()))
        .collect();
    let mut group = c.benchmark_group("vad_frame");
    group.throughput(Throughput::Elements(64));
    group.bench_function("silero_64_streams_round", |b| {
        b.iter(|| {
            for (vad, pos) in &mut streams {
                *pos = (*pos + 1) % frames.len();
                black_box(vad.process(frames[*pos]));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
