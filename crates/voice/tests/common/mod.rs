//! Test helpers shared by the integration tests: a scripted VAD, an energy VAD, frame makers.
//! No I/O except reading committed fixtures.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use hotline_voice::{Event, Pipeline, PipelineConfig, Vad};

/// One frame of μ-law.
pub const FRAME: usize = 160;

/// A VAD that returns a scripted probability per call, then `tail` forever.
pub struct ScriptedVad {
    script: Vec<f32>,
    pos: usize,
    tail: f32,
}

impl ScriptedVad {
    pub fn new(script: Vec<f32>, tail: f32) -> Self {
        Self {
            script,
            pos: 0,
            tail,
        }
    }
}

impl Vad for ScriptedVad {
    fn process(&mut self, _frame: &[i16]) -> f32 {
        let p = self.script.get(self.pos).copied().unwrap_or(self.tail);
        self.pos += 1;
        p
    }
    fn reset(&mut self) {}
    fn name(&self) -> &'static str {
        "scripted"
    }
}

/// A VAD that says "speech" for loud frames: the probability is the frame's code read back
/// (frames made by [`level_frame`]), so tests script speech through the audio itself.
pub struct LevelVad;

impl Vad for LevelVad {
    fn process(&mut self, frame: &[i16]) -> f32 {
        let peak = frame.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        f32::from(peak) / 32124.0
    }
    fn reset(&mut self) {}
    fn name(&self) -> &'static str {
        "level"
    }
}

/// The μ-law code whose decoded magnitude, divided by full scale, is closest to `p`.
pub fn level_code(p: f32) -> u8 {
    let target = (p.clamp(0.0, 1.0) * 32124.0) as i32;
    (0x80u8..=0xFF)
        .min_by_key(|&c| (i32::from(hotline_audio::ulaw_to_linear(c)) - target).abs())
        .unwrap()
}

/// A frame the [`LevelVad`] scores about `p`.
pub fn level_frame(p: f32) -> [u8; FRAME] {
    [level_code(p); FRAME]
}

/// An energy VAD, as the end-to-end tests use on real speech: RMS over the frame, mapped
/// linearly from `floor` to `floor * 4` onto 0..1 (so 12 dB above the floor is certain speech).
pub struct EnergyVad {
    pub floor: f32,
}

impl Vad for EnergyVad {
    fn process(&mut self, frame: &[i16]) -> f32 {
        if frame.is_empty() {
            return 0.0;
        }
        let energy: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        let rms = (energy / frame.len() as f64).sqrt() as f32;
        ((rms - self.floor) / (self.floor * 3.0)).clamp(0.0, 1.0)
    }
    fn reset(&mut self) {}
    fn name(&self) -> &'static str {
        "energy"
    }
}

/// A pipeline with the given config around a scripted VAD.
pub fn scripted(config: PipelineConfig, script: Vec<f32>) -> Pipeline {
    Pipeline::new(config, Box::new(ScriptedVad::new(script, 0.0))).unwrap()
}

/// A probability script: `(probability, frames)` runs.
pub fn runs(parts: &[(f32, usize)]) -> Vec<f32> {
    parts
        .iter()
        .flat_map(|&(p, n)| std::iter::repeat_n(p, n))
        .collect()
}

/// Feeds `n` frames whose codes identify the frame (see [`frame_of_sample`]).
pub fn feed(p: &mut Pipeline, n: usize) {
    for _ in 0..n {
        let index = p.audio_ms() / 20;
        p.handle_media(&[marker_code(index); FRAME], None);
    }
}

/// Feeds `n` frames and collects the events.
pub fn feed_events(p: &mut Pipeline, n: usize) -> Vec<Event> {
    let mut events = Vec::new();
    for _ in 0..n {
        feed(p, 1);
        events.extend(std::iter::from_fn(|| p.poll_event()));
    }
    events
}

/// Drains events.
pub fn drain(p: &mut Pipeline) -> Vec<Event> {
    std::iter::from_fn(|| p.poll_event()).collect()
}

/// A μ-law code naming frame `index` modulo 100 (codes 0x10..0x73, all decoding to distinct
/// non-zero samples).
pub fn marker_code(index: u64) -> u8 {
    0x10 + (index % 100) as u8
}

/// The frame index (modulo 100) a sample made by [`marker_code`] came from.
pub fn frame_of_sample(sample: i16) -> Option<u64> {
    (0u64..100).find(|&i| hotline_audio::ulaw_to_linear(marker_code(i)) == sample)
}

/// Reads a committed fixture as μ-law bytes at 8 kHz.
pub fn fixture_ulaw(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let wav = hotline_audio::read_wav(&std::fs::read(path).unwrap()).unwrap();
    hotline_audio::to_telephone_ulaw(&wav).unwrap()
}
