//! The "not carried over" report of an import: every Lex feature, setting or field the Hotline
//! bot does not keep (or keeps differently), with where it was and why.
//!
//! The list is collected while mapping (`map.rs`), printed by `hotline bot import` on stderr and
//! written as comments at the top of the generated YAML. Rendering groups identical findings so
//! that a setting present on every prompt of a large bot is one line with its places, not fifty.

use serde::Serialize;
use std::fmt::Write as _;

/// One thing from the Lex export that the Hotline bot does not carry over as it was.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct NotCarried {
    /// The file inside the export (`AppointmentBot/BotLocales/en_US/Intents/…/Intent.json`).
    pub file: String,
    /// The locale (`en_US`), when the finding is inside one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// The intent, when the finding is inside one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// The slot or slot type, when the finding is inside one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    /// What was not carried over (a feature or a field).
    pub what: String,
    /// Why, and what to do about it.
    pub why: String,
}

impl NotCarried {
    /// Where the finding is, as `en_US › MakeAppointment › Date`.
    pub fn place(&self) -> String {
        [&self.locale, &self.intent, &self.slot]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(" › ")
    }
}

/// Where findings are being collected: the file and the place inside the bot.
#[derive(Debug, Clone, Default)]
pub(crate) struct Here {
    pub file: String,
    pub locale: Option<String>,
    pub intent: Option<String>,
    pub slot: Option<String>,
}

impl Here {
    pub(crate) fn file(file: &str) -> Self {
        Here {
            file: file.to_string(),
            ..Here::default()
        }
    }
    pub(crate) fn with_file(&self, file: &str) -> Self {
        Here {
            file: file.to_string(),
            ..self.clone()
        }
    }
    pub(crate) fn in_intent(&self, intent: &str) -> Self {
        Here {
            intent: Some(intent.to_string()),
            ..self.clone()
        }
    }
    pub(crate) fn in_slot(&self, slot: &str) -> Self {
        Here {
            slot: Some(slot.to_string()),
            ..self.clone()
        }
    }
}

/// The findings of one import, in the order they were found (each once).
#[derive(Debug, Default)]
pub(crate) struct Notes(pub Vec<NotCarried>, std::collections::HashSet<NotCarried>);

impl Notes {
    pub(crate) fn add(&mut self, here: &Here, what: impl Into<String>, why: impl Into<String>) {
        let note = NotCarried {
            file: here.file.clone(),
            locale: here.locale.clone(),
            intent: here.intent.clone(),
            slot: here.slot.clone(),
            what: what.into(),
            why: why.into(),
        };
        if self.1.insert(note.clone()) {
            self.0.push(note);
        }
    }
}

/// Renders the findings as text lines (no trailing newline on the last), grouping identical
/// `what`/`why` pairs and listing their places.
pub fn render(notes: &[NotCarried]) -> Vec<String> {
    let mut groups: Vec<(&str, &str, Vec<&NotCarried>)> = Vec::new();
    let mut index: std::collections::HashMap<(&str, &str), usize> = Default::default();
    for note in notes {
        let key = (note.what.as_str(), note.why.as_str());
        match index.get(&key) {
            Some(&i) => groups[i].2.push(note),
            None => {
                index.insert(key, groups.len());
                groups.push((key.0, key.1, vec![note]));
            }
        }
    }
    let mut lines = Vec::new();
    for (what, why, places) in groups {
        lines.push(format!("- {what}: {why}"));
        const SHOWN: usize = 6;
        for note in places.iter().take(SHOWN) {
            let mut line = format!("    at {}", note.file);
            let place = note.place();
            if !place.is_empty() {
                let _ = write!(line, " ({place})");
            }
            lines.push(line);
        }
        if places.len() > SHOWN {
            lines.push(format!("    … and {} more places", places.len() - SHOWN));
        }
    }
    lines.into_iter().map(|l| super::comment_safe(&l)).collect()
}
