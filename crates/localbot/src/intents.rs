//! A local bot's intent classifier on its own, for flows that route `<Gather>` answers by
//! intent (`intents:` in a flow, `hotline serve --intents NAME=BOT.yaml`): the bot file's
//! intents and samples, the same classifier and confidence threshold as a conversation with
//! the bot, but no dialog (no slots elicited, nothing said).

use std::path::Path;
use std::sync::Arc;

use hotline_bot::EngineError;

use crate::bot::{Bot, load_bot};
use crate::classify::{Classifier, Encoder, Scored};
use crate::slots::Date;

/// A bot's intents, ready to classify transcripts.
#[derive(Debug)]
pub struct IntentModel {
    bot: Bot,
    classifier: Classifier,
}

impl IntentModel {
    /// Loads and validates the bot file at `path` and indexes its samples (embedded with
    /// `encoder` when given). An invalid file's diagnostics are in the error.
    pub fn load(
        path: &Path,
        encoder: Option<Arc<dyn Encoder>>,
    ) -> Result<IntentModel, EngineError> {
        let loaded = load_bot(path).map_err(|diags| {
            let sources = hotline_flow::Sources::read_for(&diags);
            EngineError::Configuration(format!(
                "bot file {} is invalid:\n{}",
                path.display(),
                hotline_flow::render_diagnostics(&diags, &sources)
            ))
        })?;
        IntentModel::new(loaded.bot, encoder)
    }

    /// Indexes a loaded bot.
    pub fn new(bot: Bot, encoder: Option<Arc<dyn Encoder>>) -> Result<IntentModel, EngineError> {
        let classifier = Classifier::new(&bot, encoder)
            .map_err(|e| EngineError::Configuration(format!("sentence embeddings: {e}")))?;
        Ok(IntentModel { bot, classifier })
    }

    /// The bot's locale for a flow language: `en-US` is the locale `en_US`; else the first
    /// locale of the same language (`en_GB` for `en-US`); else the bot's first locale.
    pub fn locale_index(&self, language: &str) -> usize {
        // Called for every classified answer: compared in place, nothing allocated.
        let same = |a: &str, b: &str| {
            a.len() == b.len()
                && a.bytes().zip(b.bytes()).all(|(x, y)| {
                    let norm = |c: u8| {
                        if c == b'-' {
                            b'_'
                        } else {
                            c.to_ascii_lowercase()
                        }
                    };
                    norm(x) == norm(y)
                })
        };
        fn primary(tag: &str) -> &str {
            tag.split(['-', '_']).next().unwrap_or_default()
        }
        let names = || self.bot.locales.iter().map(|l| l.name.as_str());
        names()
            .position(|n| same(n, language))
            .or_else(|| names().position(|n| primary(n).eq_ignore_ascii_case(primary(language))))
            .unwrap_or(0)
    }

    /// Every intent of the locale for `language`, in file order.
    pub fn intents(&self, language: &str) -> Vec<String> {
        self.bot
            .locales
            .get(self.locale_index(language))
            .map(|l| l.intents.iter().map(|i| i.name.clone()).collect())
            .unwrap_or_default()
    }

    /// The best intent for `text` when it reaches the locale's confidence threshold (the
    /// bot's `confidence`), else `None`: the fallback.
    pub fn classify(&self, language: &str, text: &str, today: Date) -> Option<Scored> {
        let index = self.locale_index(language);
        let (locale, _) = self.bot.locale(&self.bot.locales.get(index)?.name);
        let threshold = locale.threshold();
        self.classifier
            .classify(index, text, today)
            .into_iter()
            .next()
            .filter(|s| s.score >= threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bot::parse_bot;

    const BOT: &str = "bot: menu
locales:
  en_US:
    greeting: How can I help?
    fallback: Sorry?
    confidence: 0.5
    intents:
      sales:
        samples: [I want to buy something, talk to sales, pricing for a new plan]
      support:
        samples: [my phone is broken, I need help with my account, technical support]
  fr_FR:
    greeting: Bonjour
    fallback: Pardon ?
    intents:
      sales:
        samples: [je veux acheter, parler au service commercial]
      support:
        samples: [mon téléphone est en panne, assistance technique]
";

    fn model() -> IntentModel {
        let loaded = parse_bot(BOT, "menu.yaml").unwrap();
        IntentModel::new(loaded.bot, None).unwrap()
    }

    #[test]
    fn picks_the_locale_for_a_flow_language() {
        let m = model();
        assert_eq!(m.locale_index("en-US"), 0);
        assert_eq!(m.locale_index("fr-FR"), 1);
        assert_eq!(m.locale_index("fr-CA"), 1);
        assert_eq!(m.locale_index("de-DE"), 0);
        assert_eq!(m.intents("fr-FR").len(), 2);
        assert_eq!(
            m.intents("en-US"),
            vec!["sales".to_owned(), "support".to_owned()]
        );
    }

    #[test]
    fn classifies_above_the_threshold_only() {
        let m = model();
        let today = Date::today_utc();
        let hit = m
            .classify("en-US", "I need help with my account please", today)
            .unwrap();
        assert_eq!(hit.intent, "support");
        assert!(m.classify("en-US", "purple elephants", today).is_none());
        assert!(m.classify("en-US", "", today).is_none());
    }
}
