//! The WebRTC detector behind the [`Vad`] trait: buffers to 10/20/30 ms frames and reports
//! the latest frame's decision as 0.0 or 1.0.

use super::WebrtcConfig;
use super::fvad::Fvad;
use crate::Vad;

/// WebRTC GMM VAD (pure Rust port of libfvad), 8 kHz.
#[derive(Clone, Debug)]
pub struct WebrtcVad {
    mode: u8,
    core: Fvad,
    window: Vec<i16>,
    frame_len: usize,
    last: f32,
}

impl WebrtcVad {
    /// A detector with these settings (validate them first; invalid values are clamped).
    #[must_use]
    pub fn new(config: &WebrtcConfig) -> Self {
        let frame_len = match config.frame_ms {
            10 => 80,
            30 => 240,
            _ => 160,
        };
        Self {
            mode: config.mode,
            core: Fvad::new(config.mode),
            window: Vec::with_capacity(frame_len),
            frame_len,
            last: 0.0,
        }
    }
}

impl Vad for WebrtcVad {
    fn process(&mut self, mut frame: &[i16]) -> f32 {
        while !frame.is_empty() {
            let take = (self.frame_len - self.window.len()).min(frame.len());
            let (head, tail) = frame.split_at(take);
            self.window.extend_from_slice(head);
            frame = tail;
            if self.window.len() == self.frame_len {
                if let Some(speech) = self.core.process(&self.window) {
                    self.last = if speech { 1.0 } else { 0.0 };
                }
                self.window.clear();
            }
        }
        self.last
    }

    fn reset(&mut self) {
        self.core = Fvad::new(self.mode);
        self.window.clear();
        self.last = 0.0;
    }

    fn name(&self) -> &'static str {
        super::NAME
    }
}
