//! Intent engines for flows: a flow that declares `intents: NAME` has the transcript of every
//! `<Gather>` answer classified by the server's engine `NAME`, and its `intent:` routes match
//! the result (`docs/flows.md`, "Routing by intent").
//!
//! The server only knows the [`IntentClassifier`] trait; `hotline serve --intents
//! NAME=BOT.yaml` builds one over a local bot's classifier (`hotline-localbot`) through
//! [`crate::bots::EngineBuilder::intents`]. Every flow is checked against the engines at load
//! and at each reload: a flow naming an engine that is not configured, or an intent that
//! engine does not know, is rejected with a message that says what to fix.

use hotline_flow::Flow;
use hotline_flow::{AnswerMatch, Diagnostic, NodeKind, codes};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Longest transcript classified (longer ones are cut at a character boundary): Twilio's
/// `SpeechResult` is a sentence or two; a peer sending more is not a caller.
pub const MAX_CLASSIFIED_CHARS: usize = 1_000;

/// What an intent engine made of a transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    /// The intent (one of [`IntentClassifier::intents`]).
    pub intent: String,
    /// 0-1.
    pub confidence: f32,
}

/// An intent engine for flows. Classification is CPU work (sentence embeddings): the server
/// calls [`IntentClassifier::classify`] on a blocking thread.
pub trait IntentClassifier: Send + Sync {
    /// The best intent for `text` in `language` (a flow language such as `en-US`), or `None`
    /// when nothing scores above the engine's confidence threshold (the fallback).
    fn classify(&self, language: &str, text: &str) -> Option<Classified>;

    /// Every intent the engine can return in `language` (to check flows' routes).
    fn intents(&self, language: &str) -> Vec<String>;
}

/// One intent engine to build: `--intents NAME=BOT.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentConfig {
    /// The name flows use in `intents:`.
    pub name: String,
    /// The local bot file whose intents and samples are used (its sentence encoder comes
    /// from the models folder every local engine shares: `$HOTLINE_MODELS_DIR`, else `models`).
    pub bot: PathBuf,
}

/// Parses `NAME=BOT.yaml`.
pub fn parse_intents_spec(spec: &str) -> Result<IntentConfig, String> {
    let usage = "use NAME=BOT.yaml, e.g. --intents menu=examples/bots/appointments.yaml";
    let (name, path) = spec
        .split_once('=')
        .ok_or_else(|| format!("--intents `{spec}`: {usage}"))?;
    let name = name.trim();
    let path = path.trim();
    let valid_name = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid_name {
        return Err(format!(
            "--intents `{spec}`: the name must be letters, digits, `-` or `_` (1 to 64); {usage}"
        ));
    }
    if path.is_empty() {
        return Err(format!("--intents `{spec}`: no bot file; {usage}"));
    }
    Ok(IntentConfig {
        name: name.to_owned(),
        bot: PathBuf::from(path),
    })
}

/// The server's intent engines, by name.
pub type IntentEngines = BTreeMap<String, Arc<dyn IntentClassifier>>;

/// Checks that `flow` (loaded from `file`) has its intent engine configured and that every
/// `intent:` route names an intent that engine knows: diagnostics with the route's line and
/// column (`F0034`, `F0035`), shown at start-up, as the reason a reload was rejected, or by
/// `hotline check --intents`.
pub fn check_flow(flow: &Flow, file: &str, engines: &IntentEngines) -> Vec<Diagnostic> {
    let Some(name) = &flow.intent_engine else {
        return Vec::new();
    };
    let intent_routes: Vec<(&str, &hotline_flow::Route, &str)> = flow
        .nodes
        .iter()
        .flat_map(|node| {
            let routes: &[hotline_flow::Route] = match &node.kind {
                NodeKind::Ask { routes, .. } | NodeKind::Branch { routes, .. } => routes,
                _ => &[],
            };
            routes.iter().flat_map(move |route| {
                route.answer.iter().filter_map(move |m| match m {
                    AnswerMatch::Intent(intent) => Some((node.id.as_str(), route, intent.as_str())),
                    _ => None,
                })
            })
        })
        .collect();
    let Some(engine) = engines.get(name) else {
        let configured = if engines.is_empty() {
            "none is configured".to_owned()
        } else {
            format!(
                "configured: {}",
                engines.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        };
        let span = intent_routes
            .first()
            .map(|(_, route, _)| route.span)
            .unwrap_or_default();
        return vec![
            Diagnostic::error(
                codes::UNKNOWN_INTENT_ENGINE,
                file,
                span,
                format!(
                    "flow `{}` routes by intent with the engine `{name}`, which is not configured ({configured})",
                    flow.id
                ),
                "this route needs it",
            )
            .with_help(format!(
                "give `hotline serve` (and `hotline check`) `--intents {name}=BOT.yaml`: the local bot file whose intents the flow names"
            )),
        ];
    };
    let mut diags = Vec::new();
    for language in &flow.languages {
        let known = engine.intents(language);
        for (node, route, intent) in &intent_routes {
            if known.iter().any(|k| k == intent) {
                continue;
            }
            let hint = hotline_flow::suggest::closest(intent, known.iter().map(String::as_str))
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            diags.push(
                Diagnostic::error(
                    codes::UNKNOWN_INTENT,
                    file,
                    route.span,
                    format!(
                        "node `{node}`: the engine `{name}` has no intent `{intent}` in {language}"
                    ),
                    "unknown intent",
                )
                .with_help(format!("{hint}its intents are: {}", known.join(", "))),
            );
        }
    }
    diags
}

/// `text` cut to at most [`MAX_CLASSIFIED_CHARS`] characters.
pub fn bounded(text: &str) -> &str {
    match text.char_indices().nth(MAX_CLASSIFIED_CHARS) {
        Some((end, _)) => text.get(..end).unwrap_or(text),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_say_how() {
        let c = parse_intents_spec(" menu = examples/bots/appointments.yaml ").unwrap();
        assert_eq!(c.name, "menu");
        assert_eq!(c.bot, PathBuf::from("examples/bots/appointments.yaml"));
        for bad in ["menu", "=x.yaml", "me nu=x.yaml", "menu="] {
            let e = parse_intents_spec(bad).unwrap_err();
            assert!(e.contains("NAME=BOT.yaml"), "{bad}: {e}");
        }
    }

    #[test]
    fn long_transcripts_are_cut_on_a_character() {
        let long = "é".repeat(MAX_CLASSIFIED_CHARS + 5);
        assert_eq!(bounded(&long).chars().count(), MAX_CLASSIFIED_CHARS);
        assert_eq!(bounded("short"), "short");
    }
}
