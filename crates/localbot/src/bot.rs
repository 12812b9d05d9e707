//! Loading a bot file: YAML with spans → shape check → typed model → semantic checks →
//! a compiled [`Bot`] (slot parsers built, sample patterns compiled) ready for the dialog.

use std::path::Path;

use hotline_flow::{Diagnostic, Span};
use regex::Regex;

use crate::model::{BotFile, IntentDef, Locale};
use crate::slots::Kind;
use crate::text::tokens;
use crate::validate::placeholders;
use crate::{codes, schema, validate, yaml};

/// Largest bot file accepted, in bytes.
pub const MAX_BOT_BYTES: usize = 4 * 1024 * 1024;

/// A bot that passed every check, with its warnings.
#[derive(Debug, Clone)]
pub struct LoadedBot {
    /// The bot.
    pub bot: Bot,
    /// Warnings (the bot works, something looks wrong).
    pub warnings: Vec<Diagnostic>,
}

/// A validated, compiled bot.
#[derive(Debug, Clone)]
pub struct Bot {
    /// The file as written.
    pub file: BotFile,
    /// Compiled locales, in file order.
    pub locales: Vec<CompiledLocale>,
}

/// One locale, compiled.
#[derive(Debug, Clone)]
pub struct CompiledLocale {
    /// `en_US`.
    pub name: String,
    /// Intents in file order.
    pub intents: Vec<CompiledIntent>,
}

/// One intent, compiled.
#[derive(Debug, Clone)]
pub struct CompiledIntent {
    /// The intent's name.
    pub name: String,
    /// Its slots' parsers, in elicitation order.
    pub slots: Vec<(String, Kind)>,
    /// Its samples.
    pub samples: Vec<Sample>,
}

/// One sample utterance.
#[derive(Debug, Clone)]
pub struct Sample {
    /// As written (`I need a {Service} at {Time}`).
    pub text: String,
    /// Its words, placeholders kept as `{Slot}`.
    pub tokens: Vec<String>,
    /// A pattern matching utterances of this shape, one capture group per placeholder.
    pub pattern: Option<Regex>,
    /// The slot of each capture group.
    pub groups: Vec<String>,
}

impl Bot {
    /// The locale called `name`, or the first one when there is no such locale.
    pub fn locale(&self, name: &str) -> (&Locale, &CompiledLocale) {
        let idx = self
            .locales
            .iter()
            .position(|l| l.name == name)
            .unwrap_or(0);
        let file = self
            .file
            .locales
            .0
            .get(idx)
            .map(|(_, l)| l)
            .or_else(|| self.file.locales.0.first().map(|(_, l)| l));
        match (file, self.locales.get(idx)) {
            (Some(f), Some(c)) => (f, c),
            // A loaded bot always has a locale (checked at load).
            _ => unreachable_locale(),
        }
    }

    /// The bot's id.
    pub fn id(&self) -> &str {
        &self.file.bot
    }
}

#[allow(clippy::panic)]
fn unreachable_locale() -> ! {
    panic!("a loaded bot has at least one locale")
}

impl CompiledIntent {
    /// The parser of slot `name`.
    pub fn kind(&self, name: &str) -> Option<&Kind> {
        self.slots.iter().find(|(n, _)| n == name).map(|(_, k)| k)
    }
}

fn compile_sample(text: &str) -> Sample {
    let toks = tokens(text);
    let mut groups = Vec::new();
    // Words as literal tokens separated by spaces; placeholders as lazy groups.
    let mut re = String::from(r"^(?:.*?\s)??");
    let mut rest = text;
    let mut parts: Vec<String> = Vec::new();
    while let Some(open) = rest.find('{') {
        let (before, after) = rest.split_at(open);
        parts.push(
            tokens(before)
                .iter()
                .map(|t| regex::escape(t))
                .collect::<Vec<_>>()
                .join(r"\s+"),
        );
        match after.find('}') {
            Some(close) => {
                groups.push(after[1..close].trim().to_owned());
                parts.push("\u{0}".into());
                rest = &after[close + 1..];
            }
            None => {
                rest = "";
            }
        }
    }
    parts.push(
        tokens(rest)
            .iter()
            .map(|t| regex::escape(t))
            .collect::<Vec<_>>()
            .join(r"\s+"),
    );
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    let ends_with_slot = parts.last().is_some_and(|p| p == "\u{0}");
    let n = parts.len();
    let body: Vec<String> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| match p.as_str() {
            "\u{0}" if i + 1 == n => r"(.+)".to_owned(),
            "\u{0}" => r"(.+?)".to_owned(),
            _ => p,
        })
        .collect();
    re.push_str(&body.join(r"\s+"));
    re.push_str(if ends_with_slot { "$" } else { r"(?:\s.*)?$" });
    let pattern = if groups.is_empty() {
        None
    } else {
        Regex::new(&re).ok()
    };
    Sample {
        text: text.to_owned(),
        tokens: toks,
        pattern,
        groups,
    }
}

fn compile_intent(name: &str, intent: &IntentDef, locale: &Locale) -> CompiledIntent {
    let slots = intent
        .slots
        .iter()
        .filter_map(|(sname, slot)| {
            let kind = Kind::builtin(&slot.slot_type).or_else(|| {
                locale
                    .slot_types
                    .get(&slot.slot_type)
                    .and_then(Kind::custom)
            })?;
            Some((sname.to_owned(), kind))
        })
        .collect();
    CompiledIntent {
        name: name.to_owned(),
        slots,
        samples: intent.samples.iter().map(|s| compile_sample(s)).collect(),
    }
}

/// Parses and checks a bot file's text. `file` names it in diagnostics.
pub fn parse_bot(src: &str, file: &str) -> Result<LoadedBot, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    if src.len() > MAX_BOT_BYTES {
        diags.push(Diagnostic::error(
            codes::TOO_LARGE,
            file,
            Span {
                start: 0,
                end: 0,
                line: 1,
                column: 1,
            },
            format!("the bot file is larger than {MAX_BOT_BYTES} bytes"),
            "too large",
        ));
        return Err(diags);
    }
    let Some(root) = yaml::parse(src, file, &mut diags) else {
        return Err(diags);
    };
    schema::check(&root, file, &mut diags);
    if diags.iter().any(Diagnostic::is_error) {
        diags.sort_by_key(|d| (d.line, d.column));
        return Err(diags);
    }
    let model: BotFile = match serde_saphyr::from_str(src) {
        Ok(m) => m,
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    file,
                    root.span,
                    format!("the bot cannot be read: {e}"),
                    "here",
                )
                .with_help("see docs/bots.md, \"Local bots\""),
            );
            return Err(diags);
        }
    };
    diags.extend(validate::check(&model, &root, file));
    if diags.iter().any(Diagnostic::is_error) {
        diags.sort_by_key(|d| (d.line, d.column));
        return Err(diags);
    }
    diags.sort_by_key(|d| (d.line, d.column));
    Ok(LoadedBot {
        bot: compile(model),
        warnings: diags,
    })
}

/// Compiles a model that passed the checks (or was built in code, e.g. by tests or the
/// importer; invalid parts such as bad regexes are then skipped, not reported).
pub fn compile(file: BotFile) -> Bot {
    let locales = file
        .locales
        .iter()
        .map(|(name, locale)| CompiledLocale {
            name: name.to_owned(),
            intents: locale
                .intents
                .iter()
                .map(|(iname, intent)| compile_intent(iname, intent, locale))
                .collect(),
        })
        .collect();
    Bot { file, locales }
}

/// Reads and checks a bot file.
pub fn load_bot(path: &Path) -> Result<LoadedBot, Vec<Diagnostic>> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(src) => parse_bot(&src, &file),
        Err(e) => Err(vec![
            Diagnostic::error(
                codes::YAML_SYNTAX,
                &file,
                Span::default(),
                format!("cannot read the bot file: {e}"),
                "unreadable",
            )
            .with_help("check the path and permissions"),
        ]),
    }
}

/// Whether `src` looks like a bot file (a top-level `bot:` or `locales:` key, and neither of a
/// flow's `flow:` and `nodes:`), for tools that take flows and bots alike.
pub fn looks_like_bot(src: &str) -> bool {
    // A flow's top-level keys win: a flow may declare `intents:` (its intent engine).
    let top = |key: &str| src.lines().any(|l| l.starts_with(key));
    if top("flow:") || top("nodes:") {
        return false;
    }
    top("bot:") || top("locales:")
}

/// The `{Name}` placeholders of a template (re-exported for tools).
pub fn template_placeholders(text: &str) -> Vec<String> {
    placeholders(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flows_with_an_intent_engine_are_not_bots() {
        assert!(looks_like_bot("bot: menu\nlocales:\n"));
        assert!(!looks_like_bot("flow: menu\nintents: clinic\nnodes:\n"));
        assert!(!looks_like_bot("intents: clinic\n"));
    }

    #[test]
    fn sample_patterns_capture_placeholders() {
        let s = compile_sample("I need a {Service} at {Time}");
        assert_eq!(s.groups, ["Service", "Time"]);
        let re = s.pattern.unwrap();
        let c = re
            .captures("well i need a deep cleaning at ten thirty")
            .unwrap();
        assert_eq!(&c[1], "deep cleaning");
        assert_eq!(&c[2], "ten thirty");
        let s = compile_sample("my name is {Name}");
        let c = s.pattern.unwrap().captures("my name is jane doe").unwrap();
        assert_eq!(&c[1], "jane doe");
    }
}
