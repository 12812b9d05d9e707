//! The reference endpointer used to score detectors: a small hysteresis state machine over
//! per-frame speech probabilities. It exists to compare VADs on equal terms; the production
//! turn-taking lives in `hotline-voice`.

use super::{FRAME_MS, Interval};

/// Thresholds and durations of the reference endpointer.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointerConfig {
    /// Probability at or above which a frame counts towards the start.
    pub start_threshold: f32,
    /// Speech needed before a segment starts, in ms.
    pub start_ms: u32,
    /// Probability below which a frame counts towards the end.
    pub end_threshold: f32,
    /// Silence needed to end a segment, in ms.
    pub end_ms: u32,
}

impl Default for EndpointerConfig {
    fn default() -> Self {
        Self {
            start_threshold: 0.5,
            start_ms: 100,
            end_threshold: 0.35,
            end_ms: 700,
        }
    }
}

/// A detected utterance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Start of the first speech frame, in ms.
    pub start_ms: u32,
    /// End of the last frame at or above the end threshold, in ms.
    pub last_speech_ms: u32,
    /// When the end was declared (`end_ms` of silence later), or `None` if the clip ended first.
    pub end_event_ms: Option<u32>,
}

impl Segment {
    /// Whether `[start, last speech]` overlaps the labelled interval.
    #[must_use]
    pub fn overlaps(&self, iv: &Interval) -> bool {
        self.start_ms < iv.end_ms && iv.start_ms < self.last_speech_ms
    }
}

#[derive(Clone, Copy, Debug)]
enum State {
    Quiet,
    Starting {
        since: u32,
        frames: u32,
    },
    Speaking {
        since: u32,
        last_speech: u32,
        quiet_frames: u32,
    },
}

/// Frame-by-frame endpointer (sans-IO: time is the frame count).
#[derive(Clone, Debug)]
pub struct Endpointer {
    start_threshold: f32,
    end_threshold: f32,
    start_frames: u32,
    end_frames: u32,
    state: State,
    frame: u32,
}

impl Endpointer {
    /// A quiet endpointer; durations are converted to whole frames once, here.
    #[must_use]
    pub fn new(config: &EndpointerConfig) -> Self {
        Self {
            start_threshold: config.start_threshold,
            end_threshold: config.end_threshold,
            start_frames: config.start_ms.div_ceil(FRAME_MS).max(1),
            end_frames: config.end_ms.div_ceil(FRAME_MS).max(1),
            state: State::Quiet,
            frame: 0,
        }
    }

    /// Feeds one 20 ms frame's probability; returns a segment when one ends.
    pub fn push(&mut self, p: f32) -> Option<Segment> {
        let t = self.frame * FRAME_MS;
        self.frame += 1;
        let mut ended = None;
        self.state = match self.state {
            State::Quiet | State::Starting { .. } if p < self.start_threshold => State::Quiet,
            State::Quiet => self.started(t, 1),
            State::Starting { since, frames } => self.started(since, frames + 1),
            State::Speaking {
                since,
                last_speech,
                quiet_frames,
            } => {
                if p >= self.end_threshold {
                    State::Speaking {
                        since,
                        last_speech: t + FRAME_MS,
                        quiet_frames: 0,
                    }
                } else if quiet_frames + 1 >= self.end_frames {
                    ended = Some(Segment {
                        start_ms: since,
                        last_speech_ms: last_speech,
                        end_event_ms: Some(t + FRAME_MS),
                    });
                    State::Quiet
                } else {
                    State::Speaking {
                        since,
                        last_speech,
                        quiet_frames: quiet_frames + 1,
                    }
                }
            }
        };
        ended
    }

    fn started(&self, since: u32, frames: u32) -> State {
        if frames >= self.start_frames {
            let now = self.frame * FRAME_MS;
            State::Speaking {
                since,
                last_speech: now,
                quiet_frames: 0,
            }
        } else {
            State::Starting { since, frames }
        }
    }

    /// The segment still open at the end of input, if any (its end never declared).
    #[must_use]
    pub fn finish(&self) -> Option<Segment> {
        match self.state {
            State::Speaking {
                since, last_speech, ..
            } => Some(Segment {
                start_ms: since,
                last_speech_ms: last_speech,
                end_event_ms: None,
            }),
            _ => None,
        }
    }

    /// All segments of a probability track.
    #[must_use]
    pub fn segments(config: &EndpointerConfig, probabilities: &[f32]) -> Vec<Segment> {
        let mut e = Self::new(config);
        let mut out: Vec<Segment> = probabilities.iter().filter_map(|&p| e.push(p)).collect();
        out.extend(e.finish());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_blips_do_not_start_and_pauses_shorter_than_the_hangover_do_not_end() {
        let cfg = EndpointerConfig::default();
        let mut p = vec![0.0; 10];
        p.extend([0.9; 4]); // 80 ms: too short
        p.extend([0.0; 10]);
        p.extend([0.9; 10]); // starts at 480 ms, speech until 680 ms
        p.extend([0.1; 30]); // 600 ms pause: not an end
        p.extend([0.9; 5]); // speech again until 1380 ms
        p.extend([0.1; 40]);
        let segs = Endpointer::segments(&cfg, &p);
        assert_eq!(
            segs,
            vec![Segment {
                start_ms: 480,
                last_speech_ms: 1380,
                end_event_ms: Some(2080)
            }]
        );
    }
}
