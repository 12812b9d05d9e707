//! The pure-Rust WebRTC VAD must make exactly the decisions of the C libfvad it was ported
//! from (the `webrtc-vad` crate, used here only as an oracle), in every mode and frame length,
//! on every fixture clip and on synthetic extremes (full-scale square waves, clipping noise).
#![allow(clippy::unwrap_used)]

mod common;

use common::{clip, fixtures};
use hotline_vad::Vad;
use hotline_vad::webrtc::{WebrtcConfig, WebrtcVad};
use webrtc_vad::{SampleRate, Vad as CVad, VadMode};

fn c_mode(mode: u8) -> VadMode {
    match mode {
        0 => VadMode::Quality,
        1 => VadMode::LowBitrate,
        2 => VadMode::Aggressive,
        _ => VadMode::VeryAggressive,
    }
}

fn compare(name: &str, samples: &[i16]) {
    for mode in 0..=3u8 {
        for frame_ms in [10u8, 20, 30] {
            let n = usize::from(frame_ms) * 8;
            let mut ours = WebrtcVad::new(&WebrtcConfig { mode, frame_ms });
            let mut theirs = CVad::new_with_rate_and_mode(SampleRate::Rate8kHz, c_mode(mode));
            for (i, frame) in samples.chunks_exact(n).enumerate() {
                let expected = theirs.is_voice_segment(frame).unwrap();
                let got = ours.process(frame) >= 0.5;
                assert_eq!(
                    got, expected,
                    "{name}: mode {mode}, {frame_ms} ms, frame {i}"
                );
            }
        }
    }
}

#[test]
fn identical_decisions_on_every_fixture() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".wav"))
        .collect();
    names.sort();
    assert!(names.len() >= 20);
    for name in names {
        compare(&name, &clip(&name));
    }
}

#[test]
fn identical_decisions_on_extreme_signals() {
    let mut seed = 0x1234_5678u32;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let square: Vec<i16> = (0..16_000)
        .map(|i| {
            if (i / 20) % 2 == 0 {
                i16::MAX
            } else {
                i16::MIN
            }
        })
        .collect();
    let noise: Vec<i16> = (0..16_000).map(|_| rand() as i16).collect();
    let bursts: Vec<i16> = (0..32_000)
        .map(|i| {
            if (i / 4000) % 2 == 0 {
                (rand() as i16) / 64
            } else {
                rand() as i16
            }
        })
        .collect();
    let tiny: Vec<i16> = (0..16_000).map(|_| (rand() % 3) as i16 - 1).collect();
    compare("square", &square);
    compare("noise", &noise);
    compare("bursts", &bursts);
    compare("tiny", &tiny);
}
