#![allow(clippy::unwrap_used)]
//! Per-frame cost of the inbound media path: one 20 ms Media Streams `media` message
//! (160 μ-law bytes) parsed from JSON, its base64 payload decoded, and the μ-law decoded to
//! linear PCM, with buffers reused across frames as the server does. Also the parts alone, and
//! the outbound direction (PCM → μ-law → base64 → JSON).
//!
//! Run: `cargo bench -p hotline-twilio --bench media`. This bench must not do I/O.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hotline_audio::g711::{decode_ulaw, encode_ulaw};
use hotline_twilio::stream::{Inbound, Outbound, decode_payload, encode_payload};

/// 20 ms of 8 kHz μ-law.
const FRAME: usize = 160;

/// A `media` message exactly as Twilio sends it, with a 160-byte payload.
fn message() -> String {
    // A varied payload, so base64 and μ-law see realistic bytes rather than one repeated code.
    let audio: Vec<u8> = (0..FRAME).map(|i| (i * 37 % 256) as u8).collect();
    format!(
        r#"{{"event":"media","sequenceNumber":"4242","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","media":{{"track":"inbound","chunk":"4240","timestamp":"84800","payload":"{}"}}}}"#,
        encode_payload(&audio)
    )
}

fn media(c: &mut Criterion) {
    let text = message();
    let mut group = c.benchmark_group("media");
    group.throughput(Throughput::Elements(1));

    let mut codes = Vec::with_capacity(FRAME);
    let mut pcm = Vec::with_capacity(FRAME);
    group.bench_function("inbound_frame", |b| {
        b.iter(|| {
            let Ok(Inbound::Media(m)) = Inbound::decode(black_box(&text)) else {
                unreachable!("the bench message is a valid media message")
            };
            codes.clear();
            decode_payload(&m.payload, &mut codes).unwrap();
            pcm.clear();
            decode_ulaw(&codes, &mut pcm);
            black_box(pcm.len())
        });
    });

    group.bench_function("json_only", |b| {
        b.iter(|| Inbound::decode(black_box(&text)).unwrap());
    });

    let Ok(Inbound::Media(m)) = Inbound::decode(&text) else {
        unreachable!("the bench message is a valid media message")
    };
    group.bench_function("base64_only", |b| {
        b.iter(|| {
            codes.clear();
            decode_payload(black_box(&m.payload), &mut codes).unwrap();
        });
    });

    codes.clear();
    decode_payload(&m.payload, &mut codes).unwrap();
    group.bench_function("ulaw_only", |b| {
        b.iter(|| {
            pcm.clear();
            decode_ulaw(black_box(&codes), &mut pcm);
        });
    });

    let samples: Vec<i16> = (0..FRAME as i16).map(|i| i * 300 - 24_000).collect();
    let mut out_codes = Vec::with_capacity(FRAME);
    group.bench_function("outbound_frame", |b| {
        b.iter(|| {
            out_codes.clear();
            encode_ulaw(black_box(&samples), &mut out_codes);
            Outbound::Media {
                stream_sid: "MZ18ad3ab5a668481ce02b83e7395059f0".to_owned(),
                payload: encode_payload(&out_codes),
            }
            .encode()
        });
    });

    group.finish();
}

criterion_group!(benches, media);
criterion_main!(benches);
