//! Silero-specific checks: onset timing on a labelled fixture, both model exports agree,
//! start-up errors for missing and corrupt files, and one pool serving many interleaved calls.

mod common;

use common::{clip, fixtures, models_dir, silero_config};
use hotline_vad::eval::LabelledSet;
use hotline_vad::silero::{SileroConfig, SileroModel, SileroVad, SileroVariant};
use hotline_vad::{Vad, VadConfig, VadError};

fn probabilities(vad: &mut dyn Vad, samples: &[i16]) -> Vec<f32> {
    samples.chunks(160).map(|f| vad.process(f)).collect()
}

#[test]
fn probability_exceeds_half_within_100_ms_of_labelled_onsets() {
    let set = LabelledSet::load_dir(fixtures()).unwrap();
    let model = SileroModel::load(&silero_config(SileroVariant::Standard)).unwrap();
    let (mut onsets, mut within_100, mut lags) = (0, 0, Vec::new());
    for clip in set.clips.iter().filter(|c| c.condition == "clean") {
        let mut vad = SileroVad::new(model.clone());
        let p = probabilities(&mut vad, &clip.samples);
        for iv in &clip.speech {
            let first = (iv.start_ms / 20) as usize;
            let lag_frames = p.iter().skip(first).position(|&x| x > 0.5).unwrap();
            let lag_ms = lag_frames as u32 * 20;
            lags.push((clip.name.clone(), iv.start_ms, lag_ms));
            onsets += 1;
            if lag_ms <= 100 {
                within_100 += 1;
            }
            // Nothing above 0.5 in the 300 ms before the onset (beyond the 32 ms window lag).
            let before = first.saturating_sub(15)..first.saturating_sub(2);
            let early = p.get(before).unwrap().iter().any(|&x| x > 0.5);
            assert!(
                !early,
                "{}: speech reported before onset {} ms",
                clip.name, iv.start_ms
            );
        }
    }
    // Measured: 13 of 15 onsets within 100 ms (most within 20-60 ms). The two exceptions
    // start with a fricative, call3's "since yesterday morning" (/s/ lies mostly above the
    // 3.4 kHz phone band) and call4's "the zip code is" (/ð/); Silero reports both 200 ms after
    // the labelled start, at the vowel.
    assert_eq!(onsets, 15);
    assert!(
        within_100 >= 13,
        "only {within_100} of {onsets} onsets within 100 ms: {lags:?}"
    );
    assert!(lags.iter().all(|l| l.2 <= 250), "{lags:?}");
}

#[test]
fn both_exports_give_nearly_the_same_probabilities() {
    let samples = clip("call1.snr20.wav");
    let standard = SileroModel::load(&silero_config(SileroVariant::Standard)).unwrap();
    let ifless = SileroModel::load(&silero_config(SileroVariant::Ifless)).unwrap();
    let a = probabilities(&mut SileroVad::new(standard), &samples);
    let b = probabilities(&mut SileroVad::new(ifless), &samples);
    // Not bit-identical (different graphs): per-frame values differ by up to ~0.25 at
    // transitions, but the decisions agree almost everywhere.
    let mean_diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32;
    let agree = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| (**x >= 0.5) == (**y >= 0.5))
        .count();
    assert!(mean_diff < 0.02, "mean difference {mean_diff}");
    assert!(
        agree as f32 / a.len() as f32 > 0.97,
        "decisions agree on {agree} of {}",
        a.len()
    );
}

#[test]
fn missing_files_name_the_install_command() {
    let dir = std::env::temp_dir().join("hotline-vad-no-models");
    let err = VadConfig::Silero(SileroConfig::in_dir(&dir))
        .build()
        .unwrap_err();
    assert!(matches!(err, VadError::MissingFile { .. }), "{err}");
    assert!(
        err.to_string().contains("scripts/install-models.sh"),
        "{err}"
    );
}

#[test]
fn a_corrupt_model_fails_at_build_not_at_the_first_frame() {
    let dir = std::env::temp_dir().join(format!("hotline-vad-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read(silero_config(SileroVariant::Standard).model_path()).unwrap();
    let truncated = dir.join("truncated.onnx");
    std::fs::write(&truncated, good.get(..good.len() / 2).unwrap()).unwrap();
    let garbage = dir.join("garbage.onnx");
    std::fs::write(&garbage, b"this is not an onnx model").unwrap();
    for model in [truncated, garbage] {
        let config = SileroConfig {
            model: Some(model.clone()),
            sessions: Some(1),
            ..SileroConfig::in_dir(models_dir())
        };
        let err = VadConfig::Silero(config).build().unwrap_err();
        assert!(
            matches!(err, VadError::Model { .. }),
            "{}: {err}",
            model.display()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn invalid_pool_sizes_are_refused_without_io() {
    let config = SileroConfig {
        sessions: Some(0),
        ..SileroConfig::in_dir("/nonexistent")
    };
    assert!(matches!(
        VadConfig::Silero(config).validate(),
        Err(VadError::InvalidConfig { .. })
    ));
}

#[test]
fn many_interleaved_calls_on_a_small_pool_match_solo_runs() {
    let model = SileroModel::load(&SileroConfig {
        sessions: Some(2),
        ..silero_config(SileroVariant::Standard)
    })
    .unwrap();
    let clips: Vec<Vec<i16>> = ["call1.clean.wav", "call2.snr10.wav", "call3.music.wav"]
        .iter()
        .map(|n| clip(n).into_iter().take(8000 * 3).collect())
        .collect();
    let solo: Vec<Vec<f32>> = clips
        .iter()
        .map(|c| probabilities(&mut SileroVad::new(model.clone()), c))
        .collect();
    // 12 calls on 4 threads, frames interleaved, all through the 2 shared sessions.
    let results: Vec<(usize, Vec<f32>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let model = model.clone();
                let clips = &clips;
                s.spawn(move || {
                    let mut calls: Vec<(usize, SileroVad, Vec<f32>)> = (0..3)
                        .map(|i| ((t + i) % 3, SileroVad::new(model.clone()), Vec::new()))
                        .collect();
                    let frames = clips.iter().map(|c| c.len() / 160).min().unwrap();
                    for f in 0..frames {
                        for (which, vad, out) in &mut calls {
                            let frame = clips[*which].get(f * 160..(f + 1) * 160).unwrap();
                            out.push(vad.process(frame));
                        }
                    }
                    calls
                        .into_iter()
                        .map(|(w, _, o)| (w, o))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(results.len(), 12);
    for (which, got) in results {
        assert_eq!(got, solo[which].get(..got.len()).unwrap(), "clip {which}");
    }
}
