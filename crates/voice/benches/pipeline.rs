#![allow(clippy::unwrap_used)]
//! Per-frame cost of the whole inbound media pipeline: one 20 ms Twilio `media` message (JSON
//! text) → decode → base64 → μ-law → VAD → endpointer (→ barge-in, DTMF and turn checks), as a
//! [`StreamSession`] does it for every frame of every call. `*_energy` uses a trivial energy
//! VAD, so its figure is the pipeline's own overhead; `session_frame_webrtc` and
//! `session_frame_silero` use the real detectors from `hotline-vad` (Silero needs the models
//! from `scripts/install-models.sh`, in `models/` or `$HOTLINE_MODELS_DIR`; skipped without).
//!
//! Measured on the shared 2-core dev machine (busy), per 20 ms frame: pipeline alone (μ-law →
//! energy VAD → endpointer) 159 ns; whole session path with the energy VAD 1.03 µs, with WebRTC
//! 2.27 µs, with Silero 61 µs (one stream). At 50 frames/s a call costs about 0.11 ms of CPU per
//! second with WebRTC and 3.1 ms with Silero: roughly 8,000 and 300 streams per core before
//! networking.
//!
//! Run: `cargo bench -p hotline-voice --bench pipeline -- --warm-up-time 1 --measurement-time 3`.
//! This bench must not do I/O.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hotline_twilio::stream::encode_payload;
use hotline_vad::VadConfig;
use hotline_vad::silero::{MODELS_DIR_ENV, SileroConfig};
use hotline_voice::{Pipeline, PipelineConfig, SessionConfig, StreamSession, Vad};

/// Mean-square energy against a fixed threshold: about the cheapest VAD there is.
struct Energy;

impl Vad for Energy {
    fn process(&mut self, frame: &[i16]) -> f32 {
        let e: i64 = frame.iter().map(|&s| i64::from(s) * i64::from(s)).sum();
        let ms = e / frame.len().max(1) as i64;
        if ms > 500 * 500 { 0.9 } else { 0.1 }
    }
    fn reset(&mut self) {}
    fn name(&self) -> &'static str {
        "energy"
    }
}

/// 2 s of "speech" then 2 s of silence, as 20 ms frames of μ-law, so the endpointer goes
/// through every state during the run (starts, utterances, ends).
fn frames() -> Vec<Vec<u8>> {
    (0..200)
        .map(|i| {
            let loud = i < 100;
            (0..160)
                .map(|j| {
                    let x = ((i * 160 + j) as f32 * 0.07).sin();
                    hotline_audio::linear_to_ulaw((x * if loud { 8000.0 } else { 50.0 }) as i16)
                })
                .collect()
        })
        .collect()
}

fn messages() -> Vec<String> {
    frames()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            format!(
                r#"{{"event":"media","sequenceNumber":"{}","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","media":{{"track":"inbound","chunk":"{}","timestamp":"{}","payload":"{}"}}}}"#,
                i + 2,
                i + 1,
                i * 20,
                encode_payload(f)
            )
        })
        .collect()
}

/// Benchmarks the whole session path, one `media` text per iteration.
fn session_frame(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    vad: Box<dyn Vad>,
    texts: &[String],
) {
    let mut session = StreamSession::new(SessionConfig::default(), vad).unwrap();
    session.handle_text(r#"{"event":"start","sequenceNumber":"1","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","start":{"callSid":"CA1"}}"#);
    let mut i = 0;
    group.bench_function(name, |b| {
        b.iter(|| {
            session.handle_text(black_box(&texts[i % texts.len()]));
            i += 1;
            while let Some(e) = session.poll_event() {
                black_box(e);
            }
        });
    });
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("voice");
    group.throughput(Throughput::Elements(1));

    let texts = messages();
    session_frame(&mut group, "session_frame_energy", Box::new(Energy), &texts);
    let webrtc = VadConfig::Webrtc(Default::default()).build().unwrap();
    session_frame(&mut group, "session_frame_webrtc", webrtc.create(), &texts);
    let models = std::env::var_os(MODELS_DIR_ENV).map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"),
        std::path::PathBuf::from,
    );
    match VadConfig::Silero(SileroConfig::in_dir(models)).build() {
        Ok(silero) => session_frame(&mut group, "session_frame_silero", silero.create(), &texts),
        Err(e) => eprintln!("session_frame_silero skipped: {e}"),
    }

    let raw = frames();
    let mut pipeline = Pipeline::new(PipelineConfig::default(), Box::new(Energy)).unwrap();
    let mut j = 0;
    group.bench_function("pipeline_frame_energy", |b| {
        b.iter(|| {
            pipeline.handle_media(black_box(&raw[j % raw.len()]), None);
            j += 1;
            while let Some(e) = pipeline.poll_event() {
                black_box(e);
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
