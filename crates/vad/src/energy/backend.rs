//! The energy baseline detector: RMS of each 20 ms window against a threshold.

use super::EnergyConfig;
use crate::reframe::Reframer;
use crate::{FRAME_SAMPLES, Vad};

/// RMS-threshold detector over 20 ms windows.
#[derive(Clone, Debug)]
pub struct EnergyVad {
    threshold: f32,
    ramp: f32,
    frames: Reframer<FRAME_SAMPLES>,
    last: f32,
}

impl EnergyVad {
    /// A detector with these settings (validate them first).
    #[must_use]
    pub fn new(config: &EnergyConfig) -> Self {
        Self {
            threshold: config.threshold,
            ramp: config.ramp,
            frames: Reframer::new(),
            last: 0.0,
        }
    }
}

/// Speech probability of one window: hard threshold, or a linear ramp `ramp` wide.
fn score(threshold: f32, ramp: f32, window: &[i16]) -> f32 {
    let sum: f64 = window.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    let rms = (sum / window.len().max(1) as f64).sqrt() as f32;
    if ramp > 0.0 {
        ((rms - threshold) / ramp + 0.5).clamp(0.0, 1.0)
    } else if rms > threshold {
        1.0
    } else {
        0.0
    }
}

impl Vad for EnergyVad {
    fn process(&mut self, frame: &[i16]) -> f32 {
        let (threshold, ramp, mut last) = (self.threshold, self.ramp, self.last);
        self.frames
            .push(frame, |w| last = score(threshold, ramp, w));
        self.last = last;
        last
    }

    fn reset(&mut self) {
        self.frames.reset();
        self.last = 0.0;
    }

    fn name(&self) -> &'static str {
        super::NAME
    }
}
