//! Intent-accuracy evaluation on held-out paraphrases (`*.heldout.yaml` next to a bot file):
//! each case is an utterance and the intent it means (none: the bot should fall back). A case
//! is right when the top intent at or above the locale's confidence threshold is the expected
//! one (or, for a no-intent case, when nothing reaches the threshold).
//!
//! ```yaml
//! bot: appointments.yaml       # relative to this file
//! locale: en_US                # default: the bot's first
//! cases:
//!   - { say: "book in a point meant", intent: BookAppointment }   # speech-recognition error
//!   - { say: "what's the weather like" }                         # out of scope: fallback
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::classify::{Classifier, Encoder};
use crate::slots::Date;
use crate::{Bot, load_bot};

/// A held-out file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heldout {
    /// The bot file, relative to the held-out file.
    pub bot: PathBuf,
    /// The locale (default: the bot's first).
    #[serde(default)]
    pub locale: Option<String>,
    /// The cases.
    pub cases: Vec<Case>,
}

/// One held-out utterance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the caller says.
    pub say: String,
    /// The intent it means; `None`: out of scope, the bot should fall back.
    #[serde(default)]
    pub intent: Option<String>,
}

/// Accuracy on one held-out file.
#[derive(Debug, Clone)]
pub struct Report {
    /// The bot's id.
    pub bot: String,
    /// Whether sentence embeddings were used.
    pub embeddings: bool,
    /// Cases.
    pub total: usize,
    /// Cases classified right.
    pub correct: usize,
    /// The wrong ones, described.
    pub misses: Vec<String>,
}

impl Report {
    /// Accuracy, 0..=1.
    pub fn accuracy(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }

    /// One line: bot, cases, accuracy.
    pub fn summary(&self) -> String {
        format!(
            "{}: {}/{} = {:.1}% ({})",
            self.bot,
            self.correct,
            self.total,
            100.0 * self.accuracy(),
            if self.embeddings {
                "embeddings + lexical"
            } else {
                "lexical only"
            }
        )
    }
}

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The held-out file cannot be read or parsed: check its path and YAML.
    #[error("{0}: {1}")]
    Heldout(String, String),
    /// The bot file does not load: run `hotline check` on it.
    #[error("bot {0} does not load ({1} problems); run `hotline check` on it")]
    Bot(String, usize),
    /// The encoder failed on the samples: reinstall the model (`scripts/install-models.sh`).
    #[error("sentence encoder: {0}")]
    Encoder(String),
}

/// Evaluates one held-out file with `encoder` (lexical only when `None`). Dates are resolved
/// against a fixed day so results do not depend on the calendar.
pub fn evaluate(path: &Path, encoder: Option<Arc<dyn Encoder>>) -> Result<Report, EvalError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| EvalError::Heldout(path.display().to_string(), e.to_string()))?;
    let heldout: Heldout = serde_saphyr::from_str(&text)
        .map_err(|e| EvalError::Heldout(path.display().to_string(), e.to_string()))?;
    let bot_path = path.parent().unwrap_or(Path::new(".")).join(&heldout.bot);
    let loaded =
        load_bot(&bot_path).map_err(|d| EvalError::Bot(bot_path.display().to_string(), d.len()))?;
    let embeddings = encoder.is_some();
    let classifier =
        Classifier::new(&loaded.bot, encoder).map_err(|e| EvalError::Encoder(e.to_string()))?;
    Ok(score(&loaded.bot, &classifier, &heldout, embeddings))
}

/// Every case of a held-out file ranked by `classifier` (for tuning): (case, ranked intents).
pub fn rank_all(
    path: &Path,
    classifier_for: &dyn Fn(&Bot) -> Classifier,
) -> Result<Vec<(Case, Vec<crate::Scored>)>, EvalError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| EvalError::Heldout(path.display().to_string(), e.to_string()))?;
    let heldout: Heldout = serde_saphyr::from_str(&text)
        .map_err(|e| EvalError::Heldout(path.display().to_string(), e.to_string()))?;
    let bot_path = path.parent().unwrap_or(Path::new(".")).join(&heldout.bot);
    let loaded =
        load_bot(&bot_path).map_err(|d| EvalError::Bot(bot_path.display().to_string(), d.len()))?;
    let classifier = classifier_for(&loaded.bot);
    Ok(heldout
        .cases
        .iter()
        .map(|c| (c.clone(), classifier.classify(0, &c.say, EVAL_DAY)))
        .collect())
}

/// The fixed day evaluations resolve dates against.
pub const EVAL_DAY: Date = Date {
    year: 2026,
    month: 11,
    day: 22,
};

fn score(bot: &Bot, classifier: &Classifier, heldout: &Heldout, embeddings: bool) -> Report {
    let locale_name = heldout.locale.clone().unwrap_or_else(|| {
        bot.locales
            .first()
            .map(|l| l.name.clone())
            .unwrap_or_default()
    });
    let index = bot
        .locales
        .iter()
        .position(|l| l.name == locale_name)
        .unwrap_or(0);
    let (locale, _) = bot.locale(&locale_name);
    let threshold = locale.threshold();
    let mut correct = 0;
    let mut misses = Vec::new();
    for case in &heldout.cases {
        let ranked = classifier.classify(index, &case.say, EVAL_DAY);
        let top = ranked.first().filter(|s| s.score >= threshold);
        let got = top.map(|s| s.intent.clone());
        if got == case.intent {
            correct += 1;
        } else {
            let best = ranked.first().map_or("nothing".to_owned(), |s| {
                format!("{} {:.2}", s.intent, s.score)
            });
            misses.push(format!(
                "\"{}\": expected {}, got {} (best: {best})",
                case.say,
                case.intent.as_deref().unwrap_or("fallback"),
                got.as_deref().unwrap_or("fallback"),
            ));
        }
    }
    Report {
        bot: bot.id().to_owned(),
        embeddings,
        total: heldout.cases.len(),
        correct,
        misses,
    }
}

/// Whether `path` names a held-out evaluation set rather than a bot: `NAME.heldout.yaml`, or a
/// later set `NAME.heldoutN.yaml` (`hotline check` skips them in a folder of bots).
pub fn is_heldout_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let Some(stem) = name.strip_suffix(".yaml") else {
        return false;
    };
    stem.rsplit_once(".heldout")
        .is_some_and(|(bot, n)| !bot.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The repository's `examples/bots/*.heldout.yaml` files (for the example and tests).
pub fn example_heldout_files() -> std::io::Result<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/bots");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".heldout.yaml"))
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_out_sets_are_told_from_bots_by_name() {
        for set in [
            "appointments.heldout.yaml",
            "examples/bots/triage.heldout2.yaml",
            "x.heldout12.yaml",
        ] {
            assert!(is_heldout_file(Path::new(set)), "{set}");
        }
        for bot in [
            "appointments.yaml",
            ".heldout.yaml",
            "heldout.yaml",
            "a.heldout.yml",
            "a.heldout2x.yaml",
            "a.heldout.yaml.bak",
            "a.heldout",
        ] {
            assert!(!is_heldout_file(Path::new(bot)), "{bot}");
        }
    }
}
