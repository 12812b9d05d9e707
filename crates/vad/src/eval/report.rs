//! Evaluation results, summed per condition, and their table rendering.

use std::fmt;

use super::ClipScore;

/// Results of one detector on one condition (or on everything).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConditionReport {
    /// Condition name, or `all`.
    pub condition: String,
    /// Clips scored.
    pub clips: u64,
    /// 20 ms frames scored.
    pub frames: u64,
    /// Speech frames said to be speech.
    pub true_positive: u64,
    /// Non-speech frames said to be speech.
    pub false_positive: u64,
    /// Speech frames missed.
    pub false_negative: u64,
    /// Labelled utterances.
    pub utterances: u64,
    /// Utterances overlapped by at least one detected segment.
    pub found: u64,
    /// Utterances split into two or more detected segments.
    pub cut_offs: u64,
    /// Detected segments spanning two or more utterances.
    pub merges: u64,
    /// Detected segments overlapping no utterance.
    pub false_alarms: u64,
    /// Found utterances whose end was never declared before the clip ended.
    pub unended: u64,
    /// End-of-speech delays (end event − labelled end), in ms, one per ended utterance.
    pub end_delays_ms: Vec<i64>,
}

impl ConditionReport {
    /// Frame precision (1.0 when nothing was said to be speech).
    #[must_use]
    pub fn precision(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_positive)
    }

    /// Frame recall (1.0 when there was no speech).
    #[must_use]
    pub fn recall(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_negative)
    }

    /// Harmonic mean of precision and recall.
    #[must_use]
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    /// Mean end-of-speech delay in ms, if any utterance ended.
    #[must_use]
    pub fn mean_end_delay_ms(&self) -> Option<f64> {
        if self.end_delays_ms.is_empty() {
            return None;
        }
        Some(self.end_delays_ms.iter().sum::<i64>() as f64 / self.end_delays_ms.len() as f64)
    }

    /// 95th percentile end-of-speech delay in ms (nearest rank).
    #[must_use]
    pub fn p95_end_delay_ms(&self) -> Option<i64> {
        let mut d = self.end_delays_ms.clone();
        d.sort_unstable();
        let rank = ((d.len() as f64) * 0.95).ceil() as usize;
        d.get(rank.saturating_sub(1)).copied()
    }

    fn add(&mut self, s: &ClipScore) {
        self.clips += 1;
        self.frames += s.frames;
        self.true_positive += s.true_positive;
        self.false_positive += s.false_positive;
        self.false_negative += s.false_negative;
        self.utterances += s.utterances;
        self.found += s.found;
        self.cut_offs += s.cut_offs;
        self.merges += s.merges;
        self.false_alarms += s.false_alarms;
        self.unended += s.unended;
        self.end_delays_ms.extend_from_slice(&s.end_delays_ms);
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// All results of one detector: per condition, in first-seen order, plus the total.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The detector's name.
    pub vad: &'static str,
    /// One entry per condition.
    pub conditions: Vec<ConditionReport>,
    /// Everything together.
    pub overall: ConditionReport,
}

impl Report {
    pub(crate) fn new(vad: &'static str) -> Self {
        Self {
            vad,
            conditions: Vec::new(),
            overall: ConditionReport {
                condition: "all".into(),
                ..ConditionReport::default()
            },
        }
    }

    pub(crate) fn add(&mut self, condition: &str, score: &ClipScore) {
        let index = match self
            .conditions
            .iter()
            .position(|c| c.condition == condition)
        {
            Some(i) => i,
            None => {
                self.conditions.push(ConditionReport {
                    condition: condition.to_owned(),
                    ..ConditionReport::default()
                });
                self.conditions.len() - 1
            }
        };
        if let Some(c) = self.conditions.get_mut(index) {
            c.add(score);
        }
        self.overall.add(score);
    }

    /// The results for one condition.
    #[must_use]
    pub fn condition(&self, name: &str) -> Option<&ConditionReport> {
        self.conditions.iter().find(|c| c.condition == name)
    }

    /// The header line matching [`Report`]'s `Display` rows.
    #[must_use]
    pub fn header() -> String {
        format!(
            "{:<8} {:<9} {:>6} {:>6} {:>6} {:>7} {:>6} {:>6} {:>6} {:>9} {:>9}",
            "vad",
            "condition",
            "prec",
            "recall",
            "F1",
            "found",
            "cuts",
            "merges",
            "f.alarm",
            "eos mean",
            "eos p95"
        )
    }
}

impl fmt::Display for Report {
    /// One row per condition and a total row (no header; see [`Report::header`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.0} ms"));
        for c in self.conditions.iter().chain(std::iter::once(&self.overall)) {
            writeln!(
                f,
                "{:<8} {:<9} {:>6.3} {:>6.3} {:>6.3} {:>7} {:>6} {:>6} {:>7} {:>9} {:>9}",
                self.vad,
                c.condition,
                c.precision(),
                c.recall(),
                c.f1(),
                format!("{}/{}", c.found, c.utterances),
                c.cut_offs,
                c.merges,
                c.false_alarms,
                ms(c.mean_end_delay_ms()),
                ms(c.p95_end_delay_ms().map(|v| v as f64)),
            )?;
        }
        Ok(())
    }
}
