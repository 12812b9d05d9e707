//! The evaluation harness on the committed labelled set: it loads, and the headline claims of
//! the research hold (Silero finds every utterance at 10 dB SNR; WebRTC loses precision there).

mod common;

use common::{fixtures, silero_config};
use hotline_vad::eval::{LabelledSet, evaluate};
use hotline_vad::silero::SileroVariant;
use hotline_vad::webrtc::{WebrtcConfig, WebrtcVad};
use hotline_vad::{VadConfig, energy};

#[test]
fn the_labelled_set_loads_with_every_condition() {
    let set = LabelledSet::load_dir(fixtures()).unwrap();
    let conditions = set.conditions();
    for c in ["clean", "snr20", "snr10", "music"] {
        assert!(conditions.contains(&c), "{c} missing from {conditions:?}");
    }
    let utterances: usize = set.only("clean").clips.iter().map(|c| c.speech.len()).sum();
    assert_eq!(utterances, 15);
    assert!(
        set.clips
            .iter()
            .all(|c| c.speech.windows(2).all(|w| w[0].end_ms < w[1].start_ms))
    );
}

#[test]
fn silero_finds_every_utterance_clean_and_at_10_db() {
    let set = LabelledSet::load_dir(fixtures()).unwrap();
    let factory = VadConfig::Silero(silero_config(SileroVariant::Standard))
        .build()
        .unwrap();
    let report = evaluate(&mut factory.create(), &set);
    println!("{}\n{report}", hotline_vad::eval::Report::header());
    for condition in ["clean", "snr20", "snr10"] {
        let c = report.condition(condition).unwrap();
        assert_eq!(c.found, c.utterances, "{condition}: {c:?}");
        assert_eq!(c.merges, 0, "{condition}");
        assert!(c.f1() > 0.85, "{condition}: F1 {}", c.f1());
    }
    let noise = report.condition("snr10").unwrap();
    assert!(noise.false_alarms <= 1, "{noise:?}");
}

#[test]
fn webrtc_is_fine_clean_and_degrades_at_10_db() {
    let set = LabelledSet::load_dir(fixtures()).unwrap();
    let report = evaluate(&mut WebrtcVad::new(&WebrtcConfig::default()), &set);
    println!("{}\n{report}", hotline_vad::eval::Report::header());
    let clean = report.condition("clean").unwrap();
    assert_eq!(clean.found, clean.utterances);
    let noisy = report.condition("snr10").unwrap();
    assert!(noisy.precision() < clean.precision(), "{noisy:?}");
    let _ = energy::NAME;
}
