//! Turns one telephone utterance into what the model is given: pure, no IO.
//!
//! Truncates to the maximum length, detects silence (an empty or near-silent utterance is not
//! sent to the model), pads very short answers with silence on both sides (Moonshine recognises
//! a lone "yes" far better with some room around it), and upsamples 8 kHz `i16` to the 16 kHz
//! `f32` the encoder takes.

use hotline_audio::Upsampler2x;

/// Settings for [`prepare`], in 8 kHz samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Shape {
    /// Samples kept at most (longer input is truncated).
    pub(crate) max_samples: usize,
    /// Utterances shorter than this are padded…
    pub(crate) pad_below: usize,
    /// …with this much silence on each side.
    pub(crate) pad_each_side: usize,
    /// An utterance whose RMS is below this (in `i16` units) counts as silence.
    pub(crate) silence_rms: f32,
}

/// The model's input for one utterance.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Prepared {
    /// 16 kHz samples in [-1, 1]; empty when the utterance is silent.
    pub(crate) wide: Vec<f32>,
    /// Duration of the (possibly truncated) utterance, before padding, in 8 kHz samples.
    pub(crate) used: usize,
    /// Whether input was cut.
    pub(crate) truncated: bool,
}

/// Root mean square of `pcm` in `i16` units (0 for an empty slice).
pub(crate) fn rms(pcm: &[i16]) -> f32 {
    if pcm.is_empty() {
        return 0.0;
    }
    let sum: f64 = pcm.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / pcm.len() as f64).sqrt() as f32
}

/// Prepares `pcm_8k` for the encoder.
pub(crate) fn prepare(pcm_8k: &[i16], shape: &Shape) -> Prepared {
    let truncated = pcm_8k.len() > shape.max_samples;
    let used = pcm_8k.get(..shape.max_samples).unwrap_or(pcm_8k);
    if used.is_empty() || rms(used) < shape.silence_rms {
        return Prepared {
            wide: Vec::new(),
            used: used.len(),
            truncated,
        };
    }
    let pad = if used.len() < shape.pad_below {
        shape.pad_each_side
    } else {
        0
    };
    // Silence either side, plus the upsampler's delay worth of zeros to flush its filter.
    let delay = Upsampler2x::delay_samples();
    let flush = delay.div_ceil(2);
    let mut narrow = Vec::with_capacity(used.len() + 2 * pad + flush);
    narrow.resize(pad, 0);
    narrow.extend_from_slice(used);
    narrow.resize(narrow.len() + pad + flush, 0);
    let mut wide = Vec::with_capacity(2 * narrow.len());
    Upsampler2x::new().process_f32(&narrow, &mut wide);
    let keep = 2 * (used.len() + 2 * pad);
    let wide = wide
        .get(delay..delay + keep)
        .map(<[f32]>::to_vec)
        .unwrap_or_default();
    Prepared {
        wide,
        used: used.len(),
        truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: Shape = Shape {
        max_samples: 8_000,
        pad_below: 4_800,
        pad_each_side: 2_000,
        silence_rms: 30.0,
    };

    fn tone(n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| (3000.0 * (i as f32 * 0.3).sin()) as i16)
            .collect()
    }

    #[test]
    fn silence_and_empty_input_give_no_model_input() {
        assert!(prepare(&[], &SHAPE).wide.is_empty());
        let quiet = vec![5i16; 4000];
        let p = prepare(&quiet, &SHAPE);
        assert!(p.wide.is_empty());
        assert_eq!(p.used, 4000);
    }

    #[test]
    fn long_input_is_truncated_and_doubled() {
        let p = prepare(&tone(10_000), &SHAPE);
        assert!(p.truncated);
        assert_eq!(p.used, 8_000);
        assert_eq!(p.wide.len(), 16_000);
    }

    #[test]
    fn short_input_is_padded_both_sides() {
        let p = prepare(&tone(1_000), &SHAPE);
        assert!(!p.truncated);
        assert_eq!(p.used, 1_000);
        assert_eq!(p.wide.len(), 2 * (1_000 + 4_000));
        // The padding is (near) silent, the middle is not.
        let head: f32 = p.wide[..3_000].iter().map(|x| x.abs()).sum();
        let mid: f32 = p.wide[4_000..6_000].iter().map(|x| x.abs()).sum();
        assert!(head < 1.0, "{head}");
        assert!(mid > 100.0, "{mid}");
    }

    #[test]
    fn upsampling_keeps_the_signal_aligned() {
        // An impulse at 8 kHz sample 100 peaks at 16 kHz sample 200 after delay compensation.
        let mut pcm = tone(6_000);
        pcm.iter_mut().for_each(|s| *s = 0);
        pcm[100] = 20_000;
        pcm[5_000] = 100; // not silent overall
        let p = prepare(
            &pcm,
            &Shape {
                silence_rms: 1.0,
                ..SHAPE
            },
        );
        let peak = p
            .wide
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert_eq!(peak, 200);
    }
}
