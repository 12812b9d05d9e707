//! Scoring detectors against a labelled telephone set.
//!
//! [`evaluate`] runs a [`Vad`] over every clip of a [`LabelledSet`] (reset between clips, 20 ms
//! frames) and reports, per condition (clean, snr20, snr10, music, …):
//! - frame-level precision / recall / F1 of `p ≥ 0.5` against the labelled speech intervals
//!   (pauses inside an utterance count as speech);
//! - endpointing metrics through the reference [`Endpointer`] (start after 100 ms ≥ 0.5, end
//!   after 700 ms < 0.35): utterances found, false cut-offs (one utterance split into two or
//!   more detections), merges (one detection spanning two utterances), false alarms (detections
//!   overlapping no utterance), and the end-of-speech detection delay (from the labelled end to
//!   the endpointer's end event, so it includes the 700 ms hangover).
//!
//! Pure computation: loading the set from disk is [`LabelledSet::load_dir`], the only IO here.

mod dataset;
mod endpointer;
mod report;

pub use dataset::{EvalError, Interval, LabelledClip, LabelledSet};
pub use endpointer::{Endpointer, EndpointerConfig, Segment};
pub use report::{ConditionReport, Report};

use crate::silero::{SileroConfig, SileroVariant};
use crate::webrtc::WebrtcConfig;
use crate::{FRAME_SAMPLES, Vad, VadConfig};
use std::path::Path;

/// Milliseconds per evaluation frame (160 samples at 8 kHz).
pub const FRAME_MS: u32 = 20;
/// Frame-level decision threshold.
pub const SPEECH_THRESHOLD: f32 = 0.5;

/// The detectors `hotline vad eval` compares, by label: the energy baseline, WebRTC in its
/// least and most aggressive modes, Silero v6 and its `If`-less variant (one session each,
/// from `models_dir`).
#[must_use]
pub fn standard_detectors(models_dir: &Path) -> Vec<(&'static str, VadConfig)> {
    vec![
        ("energy", VadConfig::Energy(Default::default())),
        (
            "webrtc-0",
            VadConfig::Webrtc(WebrtcConfig {
                mode: 0,
                frame_ms: 20,
            }),
        ),
        (
            "webrtc-3",
            VadConfig::Webrtc(WebrtcConfig {
                mode: 3,
                frame_ms: 20,
            }),
        ),
        (
            "silero",
            VadConfig::Silero(SileroConfig {
                sessions: Some(1),
                ..SileroConfig::in_dir(models_dir)
            }),
        ),
        (
            "silero-ifless",
            VadConfig::Silero(SileroConfig {
                variant: SileroVariant::Ifless,
                sessions: Some(1),
                ..SileroConfig::in_dir(models_dir)
            }),
        ),
    ]
}

/// Frames of 20 ms in `set`.
#[must_use]
pub fn frame_count(set: &LabelledSet) -> usize {
    set.clips
        .iter()
        .map(|c| c.samples.len().div_ceil(FRAME_SAMPLES))
        .sum()
}

/// Scores `vad` on every clip of `set`, with the default reference endpointer.
#[must_use]
pub fn evaluate(vad: &mut dyn Vad, set: &LabelledSet) -> Report {
    evaluate_with(vad, set, &EndpointerConfig::default())
}

/// [`evaluate`] with another endpointer setting.
#[must_use]
pub fn evaluate_with(
    vad: &mut dyn Vad,
    set: &LabelledSet,
    endpointing: &EndpointerConfig,
) -> Report {
    let mut report = Report::new(vad.name());
    for clip in &set.clips {
        vad.reset();
        let probabilities: Vec<f32> = clip
            .samples
            .chunks(FRAME_SAMPLES)
            .map(|frame| vad.process(frame))
            .collect();
        report.add(
            &clip.condition,
            &score_clip(clip, &probabilities, endpointing),
        );
    }
    report
}

/// Counts for one clip (summed into a [`ConditionReport`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ClipScore {
    pub(crate) frames: u64,
    pub(crate) true_positive: u64,
    pub(crate) false_positive: u64,
    pub(crate) false_negative: u64,
    pub(crate) utterances: u64,
    pub(crate) found: u64,
    pub(crate) cut_offs: u64,
    pub(crate) merges: u64,
    pub(crate) false_alarms: u64,
    pub(crate) unended: u64,
    pub(crate) end_delays_ms: Vec<i64>,
}

/// Scores one clip's per-frame probabilities.
pub(crate) fn score_clip(
    clip: &LabelledClip,
    probabilities: &[f32],
    endpointing: &EndpointerConfig,
) -> ClipScore {
    let mut s = ClipScore {
        utterances: clip.speech.len() as u64,
        ..ClipScore::default()
    };
    for (i, &p) in probabilities.iter().enumerate() {
        let mid = i as u32 * FRAME_MS + FRAME_MS / 2;
        let truth = clip.speech.iter().any(|iv| iv.contains(mid));
        let said = p >= SPEECH_THRESHOLD;
        s.frames += 1;
        match (said, truth) {
            (true, true) => s.true_positive += 1,
            (true, false) => s.false_positive += 1,
            (false, true) => s.false_negative += 1,
            (false, false) => {}
        }
    }

    let segments = Endpointer::segments(endpointing, probabilities);
    for seg in &segments {
        let overlapping = clip.speech.iter().filter(|iv| seg.overlaps(iv)).count();
        if overlapping == 0 {
            s.false_alarms += 1;
        } else if overlapping > 1 {
            s.merges += 1;
        }
    }
    for iv in &clip.speech {
        let hits: Vec<&Segment> = segments.iter().filter(|seg| seg.overlaps(iv)).collect();
        if hits.is_empty() {
            continue;
        }
        s.found += 1;
        if hits.len() > 1 {
            s.cut_offs += 1;
        }
        match hits.last().and_then(|seg| seg.end_event_ms) {
            Some(end) => s.end_delays_ms.push(i64::from(end) - i64::from(iv.end_ms)),
            None => s.unended += 1,
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_detectors_have_distinct_labels_and_models_in_the_given_folder() {
        let dir = Path::new("/opt/models");
        let detectors = standard_detectors(dir);
        let labels: Vec<&str> = detectors.iter().map(|(l, _)| *l).collect();
        assert_eq!(
            labels,
            ["energy", "webrtc-0", "webrtc-3", "silero", "silero-ifless"]
        );
        for (label, config) in &detectors {
            assert!(config.validate().is_ok(), "{label}");
            if let VadConfig::Silero(s) = config {
                assert!(s.model_path().starts_with(dir), "{label}");
                assert_eq!(s.session_count(), 1);
            }
        }
    }

    fn clip(speech: &[(u32, u32)]) -> LabelledClip {
        LabelledClip {
            name: "t".into(),
            condition: "clean".into(),
            samples: Vec::new(),
            speech: speech
                .iter()
                .map(|&(a, b)| Interval {
                    start_ms: a,
                    end_ms: b,
                })
                .collect(),
        }
    }

    /// 20 ms frames: `pattern` is (probability, frames) runs.
    fn frames(pattern: &[(f32, usize)]) -> Vec<f32> {
        pattern
            .iter()
            .flat_map(|&(p, n)| std::iter::repeat_n(p, n))
            .collect()
    }

    #[test]
    fn perfect_detection_scores_one() {
        let c = clip(&[(1000, 2000)]);
        let p = frames(&[(0.0, 50), (1.0, 50), (0.0, 60)]);
        let s = score_clip(&c, &p, &EndpointerConfig::default());
        assert_eq!((s.false_positive, s.false_negative), (0, 0));
        assert_eq!(
            (s.found, s.cut_offs, s.merges, s.false_alarms),
            (1, 0, 0, 0)
        );
        // Last speech frame ends at 2000 ms; the end fires after 700 ms below 0.35.
        assert_eq!(s.end_delays_ms, vec![700]);
    }

    #[test]
    fn a_long_pause_is_a_cut_off_and_noise_a_false_alarm() {
        let c = clip(&[(1000, 3000)]);
        let p = frames(&[
            (0.0, 50),
            (1.0, 20),
            (0.0, 40),
            (1.0, 40),
            (0.0, 50),
            (1.0, 10),
            (0.0, 40),
        ]);
        let s = score_clip(&c, &p, &EndpointerConfig::default());
        assert_eq!((s.found, s.cut_offs, s.false_alarms), (1, 1, 1));
    }

    #[test]
    fn two_utterances_in_one_detection_are_a_merge() {
        let c = clip(&[(1000, 1400), (1800, 2200)]);
        let p = frames(&[(0.0, 50), (1.0, 60), (0.0, 50)]);
        let s = score_clip(&c, &p, &EndpointerConfig::default());
        assert_eq!((s.found, s.merges), (2, 1));
    }
}
