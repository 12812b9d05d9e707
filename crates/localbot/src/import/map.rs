//! Maps a parsed Lex V2 export (`lex.rs`) onto Hotline's bot model (`crate::model`), recording
//! in [`Notes`] everything that is not carried over as it was.
//!
//! What maps (Lex → Hotline):
//! - locales (`en_US` stays `en_US`); `nluConfidenceThreshold` → `confidence`; Polly voice →
//!   `voice` (`Polly.Joanna-Neural`); the most common prompt `maxRetries` → `max_retries`;
//! - custom slot types: values and synonyms; `OriginalValue` resolution → `open: true`;
//!   `AMAZON.AlphaNumeric` with a `regexFilter` → `regex`; built-in types by [`builtin_type`];
//! - intents: sample utterances (`{Slot}` is the same syntax), slots in `slotPriorities`
//!   order, `slotConstraint` → `required`, the elicitation prompt (one message per message
//!   group, joined) → `prompt` and its variations → `reprompts`, the confirmation prompt →
//!   `confirm`, the declination response → `declined`, the post-fulfilment success and closing
//!   responses → `fulfill.say`, a closing `EndConversation` → `then: hangup`;
//! - `AMAZON.FallbackIntent` → the locale's `fallback`; `AMAZON.CancelIntent`/`StopIntent` →
//!   intents that hang up, `AMAZON.HelpIntent` → an intent, with default samples.
//!
//! Everything else (code hooks, conditional branching, cards, custom payloads, SSML markup,
//! multi-valued and composite slots, Kendra/QnA intents, contexts, unknown fields…) becomes a
//! [`NotCarried`](super::NotCarried) entry. This module does no IO.

use super::lex::{
    LexError, LexExport, LexIntent, LexLocale, Located, Message, MessageGroup, Other, Prompt,
    Response, Slot, SlotType as LexSlotType,
};
use super::notes::{Here, Notes};
use crate::model::{
    BotFile, DEFAULT_MAX_RETRIES, Fulfill, IntentDef, Locale, OrderedMap, SlotDef, SlotType,
    SlotValue, Then,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// Converts the whole export.
///
/// `only` keeps one locale (by id or folder name). Otherwise every locale is kept whose
/// intents and slots include the primary locale's (the one with the most intents, first in
/// the file), since a Hotline bot has the same intents and slots in every locale; the others
/// are left out with a note saying what they lack.
pub(crate) fn map_export(
    export: &LexExport,
    only: Option<&str>,
    notes: &mut Notes,
) -> Result<BotFile, LexError> {
    if let Some(manifest) = &export.manifest {
        let here = Here::file(&manifest.file);
        if let Some(meta) = &manifest.value.metadata {
            if let Some(format) = &meta.file_format
                && !format.eq_ignore_ascii_case("LexJson")
            {
                notes.add(
                    &here,
                    format!("fileFormat {format}"),
                    "not the LexJson format this importer reads; the files were read as LexJson",
                );
            }
            if let Some(v) = &meta.schema_version
                && !matches!(v.as_str(), "1" | "1.0")
            {
                notes.add(
                    &here,
                    format!("schemaVersion {v}"),
                    "this importer knows schema 1.0; the files were read as 1.0",
                );
            }
            others(&meta.other, &here, notes);
        }
        others(&manifest.value.other, &here, notes);
    }
    let bot_here = Here::file(
        &export
            .bot
            .as_ref()
            .map(|b| b.file.clone())
            .unwrap_or_else(|| format!("{}/Bot.json", export.bot_folder)),
    );
    let mut description = None;
    let mut name = export.bot_folder.clone();
    if let Some(bot) = &export.bot {
        let b = &bot.value;
        if let Some(n) = b.name.as_deref().filter(|n| !n.trim().is_empty()) {
            name = n.to_string();
        }
        description = b.description.clone().filter(|d| !d.trim().is_empty());
        if meaningful(b.idle_session_ttl_in_seconds.as_ref()) {
            notes.add(
                &bot_here,
                "idleSessionTTLInSeconds",
                "Hotline keeps a bot session for the length of the call",
            );
        }
        if let Some(privacy) = &b.data_privacy
            && privacy.get("childDirected") == Some(&Value::Bool(true))
        {
            notes.add(
                &bot_here,
                "dataPrivacy.childDirected: true",
                "a compliance declaration to AWS; Hotline has no such flag: keep your own records",
            );
        }
        others(&b.other, &bot_here, notes);
    } else {
        notes.add(
            &bot_here,
            "Bot.json",
            "missing from the export (a locale export?): the bot is named after its folder",
        );
    }
    for file in &export.unrecognised {
        let (what, why) = if file.contains("/CustomVocabulary/") {
            (
                "custom vocabulary",
                "Hotline's recogniser takes no custom vocabulary; put the phrases in sample utterances or slot values",
            )
        } else {
            (
                "file",
                "not part of the Lex V2 export layout (Manifest.json, Bot.json, BotLocale.json, Intent.json, Slot.json, SlotType.json)",
            )
        };
        notes.add(&Here::file(file), what, why);
    }

    let mut mapped = Vec::new();
    for locale in &export.locales {
        let id = locale
            .locale
            .value
            .identifier
            .as_deref()
            .unwrap_or(&locale.folder);
        if let Some(wanted) = only
            && wanted != id
            && wanted != locale.folder
        {
            notes.add(
                &Here::file(&locale.locale.file),
                format!("locale {id}"),
                format!("not imported: only {wanted} was asked for"),
            );
            continue;
        }
        let (id, bot_locale) = map_locale(locale, notes);
        mapped.push((id, bot_locale, locale.locale.file.clone()));
    }
    if let Some(wanted) = only
        && mapped.is_empty()
    {
        return Err(LexError::Missing {
            file: format!("{}/BotLocales/{wanted}/BotLocale.json", export.bot_folder),
            why: format!(
                "no locale {wanted} in the export (it has {})",
                export
                    .locales
                    .iter()
                    .map(|l| l.folder.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }

    // The primary locale first; then those that have all of its intents and slots.
    let primary = mapped
        .iter()
        .enumerate()
        .max_by_key(|(i, (_, l, _))| (l.intents.len(), std::cmp::Reverse(*i)))
        .map(|(i, _)| i)
        .unwrap_or(0);
    if primary < mapped.len() {
        let first = mapped.remove(primary);
        mapped.insert(0, first);
    }
    if let Some((id, first, file)) = mapped.first()
        && first.intents.is_empty()
    {
        // The primary locale has the most intents: no locale has any.
        return Err(LexError::NoIntents {
            file: file.clone(),
            why: if mapped.len() == 1 {
                format!("locale {id} has no intent with usable sample utterances")
            } else {
                format!(
                    "none of its {} locales has an intent with usable sample utterances",
                    mapped.len()
                )
            },
        });
    }
    let mut locales = OrderedMap::default();
    let mut iter = mapped.into_iter();
    if let Some((id, first, _)) = iter.next() {
        for (other_id, other, file) in iter {
            let missing = missing_content(&first, &other);
            if missing.is_empty() {
                locales.insert(other_id, other);
            } else {
                notes.add(
                    &Here {
                        file,
                        locale: Some(other_id.clone()),
                        ..Here::default()
                    },
                    format!("locale {other_id}"),
                    format!(
                        "left out: a Hotline bot has the same intents and slots in every locale, and {other_id} lacks {} of {id}; import it on its own with `--locale {other_id}`",
                        missing.join(", ")
                    ),
                );
            }
        }
        locales.0.insert(0, (id, first));
    }
    Ok(BotFile {
        bot: slug(&name),
        description: Some(match description {
            Some(d) => format!("{d} (imported from Amazon Lex V2 bot {name})"),
            None => format!("Imported from Amazon Lex V2 bot {name}"),
        }),
        locales,
    })
}

/// The intents (`Intent`) and slots (`Intent.Slot`) of `first` that `other` lacks.
fn missing_content(first: &Locale, other: &Locale) -> Vec<String> {
    let mut missing = Vec::new();
    for (iname, intent) in first.intents.iter() {
        match other.intents.get(iname) {
            None => missing.push(format!("intent {iname}")),
            Some(o) => {
                for s in intent.slots.keys() {
                    if !o.slots.contains_key(s) {
                        missing.push(format!("slot {iname}.{s}"));
                    }
                }
            }
        }
    }
    missing
}

/// A bot id from a Lex bot name: `AppointmentBot` → `appointment-bot`.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower && !out.ends_with('-') {
                out.push('-');
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
            prev_lower = false;
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "imported-bot".to_string()
    } else {
        out
    }
}

/// Hotline names are letters, digits, `_` and `-`, starting with a letter (Lex's
/// `^([0-9a-zA-Z][_-]?)+$` also allows a leading digit); anything else is refused with a note.
fn valid_name(name: &str) -> bool {
    name.len() <= 100
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// What a Lex slot type becomes.
#[derive(Debug, Clone)]
enum TypeRef {
    /// A Hotline built-in or a custom type of the locale, by name.
    Named(String),
    /// Not carried: the slot is dropped.
    Dropped,
}

fn map_locale(locale: &LexLocale, notes: &mut Notes) -> (String, Locale) {
    let lv = &locale.locale.value;
    let id = lv
        .identifier
        .clone()
        .filter(|i| valid_name(i))
        .unwrap_or_else(|| locale.folder.clone());
    let lang = id.get(..2).unwrap_or("en").to_ascii_lowercase();
    let here = Here {
        file: locale.locale.file.clone(),
        locale: Some(id.clone()),
        ..Here::default()
    };

    let voice = lv.voice_settings.as_ref().and_then(|v| {
        others(&v.other, &here, notes);
        let voice_id = v.voice_id.as_deref()?.trim();
        if !valid_name(voice_id) {
            return None;
        }
        let suffix = match v.engine.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("neural") => "-Neural",
            Some("generative") => "-Generative",
            Some("long-form") => {
                notes.add(
                    &here,
                    "voiceSettings.engine long-form",
                    "Twilio has no long-form Polly voices; the neural voice is used",
                );
                "-Neural"
            }
            _ => "",
        };
        Some(format!("Polly.{voice_id}{suffix}"))
    });
    let confidence = lv.nlu_confidence_threshold.map(|t| {
        notes.add(
            &here,
            format!("nluConfidenceThreshold {t}"),
            "carried as `confidence`, but Hotline's intent scores are not Lex's: check the threshold with `hotline bot chat`",
        );
        t.clamp(0.0, 1.0) as f32
    });
    if lv
        .description
        .as_deref()
        .is_some_and(|d| !d.trim().is_empty())
    {
        notes.add(
            &here,
            "locale description",
            "Hotline locales have no description",
        );
    }
    others(&lv.other, &here, notes);

    // Slot types first: slots refer to them.
    let mut slot_types = OrderedMap::default();
    let mut type_refs: BTreeMap<String, TypeRef> = BTreeMap::new();
    for st in &locale.slot_types {
        let name = st
            .value
            .name
            .clone()
            .unwrap_or_else(|| folder_of(&st.file).to_string());
        let there = here.with_file(&st.file).in_slot(&name);
        if !valid_name(&name) {
            notes.add(
                &there,
                format!("slot type {name:?}"),
                "not a valid Hotline name (letters, digits, `_`, `-`, starting with a letter); slots of this type become free text",
            );
            type_refs.insert(name, TypeRef::Named("text".into()));
            continue;
        }
        match map_slot_type(st, &there, notes) {
            SlotTypeOutcome::Custom(t) => {
                let mut key = name.clone();
                if crate::model::BUILTIN_TYPES.contains(&key.as_str()) {
                    key = format!("{name}_values");
                    notes.add(
                        &there,
                        format!("slot type name {name}"),
                        format!("a Hotline built-in type has that name: renamed {key}"),
                    );
                }
                slot_types.insert(key.clone(), t);
                type_refs.insert(name, TypeRef::Named(key));
            }
            SlotTypeOutcome::Builtin(b) => {
                type_refs.insert(name, TypeRef::Named(b.into()));
            }
            SlotTypeOutcome::Dropped => {
                type_refs.insert(name, TypeRef::Dropped);
            }
        }
    }

    let mut intents = OrderedMap::default();
    let mut fallback = None;
    let mut retries: Vec<(i64, Here)> = Vec::new();
    for intent in &locale.intents {
        let name = intent
            .intent
            .value
            .name
            .clone()
            .unwrap_or_else(|| folder_of(&intent.intent.file).to_string());
        let there = here.with_file(&intent.intent.file).in_intent(&name);
        if !valid_name(&name) {
            notes.add(
                &there,
                format!("intent {name:?}"),
                "not a valid Hotline name (letters, digits, `_`, `-`, starting with a letter); the intent is left out",
            );
            continue;
        }
        match intent.intent.value.parent_intent_signature.as_deref() {
            Some("AMAZON.FallbackIntent") => {
                fallback = fallback_text(intent, &there, notes);
                continue;
            }
            Some(sig @ ("AMAZON.CancelIntent" | "AMAZON.StopIntent" | "AMAZON.HelpIntent")) => {
                if let Some(def) = builtin_intent(sig, intent, &lang, &there, notes) {
                    intents.insert(name, def);
                }
                continue;
            }
            Some(sig) if !sig.trim().is_empty() => {
                let why = match sig {
                    "AMAZON.KendraSearchIntent" => {
                        "answers from an Amazon Kendra index; Hotline has no search backend: write the answers as intents, or call your search from a fulfilment webhook"
                    }
                    "AMAZON.QnAIntent"
                    | "AMAZON.QinConnectIntent"
                    | "AMAZON.BedrockAgentIntent" => {
                        "generative answers from AWS services; Hotline bots answer with their own messages or a fulfilment webhook"
                    }
                    _ => "a Lex built-in intent with no Hotline equivalent",
                };
                notes.add(&there, format!("built-in intent {sig}"), why);
                continue;
            }
            _ => {}
        }
        if let Some(def) = map_intent(intent, &type_refs, &there, &mut retries, notes) {
            intents.insert(name, def);
        }
    }

    let intents = unique_samples(intents, &here, notes);

    let greeting = default_text(&lang, Stock::Greeting);
    notes.add(
        &here,
        "greeting",
        "Lex bots have no greeting (the caller speaks first, or the contact flow greets): a default one was written, edit it",
    );
    let fallback = match fallback {
        Some(f) => f,
        None => {
            notes.add(
                &here,
                "fallback message",
                "the fallback intent says nothing in the export (no closing, initial or fulfilment response): a default one was written",
            );
            default_text(&lang, Stock::Fallback)
        }
    };

    // Lex sets the number of retries per prompt, Hotline per locale: keep the most common.
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for (r, _) in &retries {
        *counts.entry(*r).or_default() += 1;
    }
    let common = counts
        .iter()
        .max_by_key(|(r, n)| (**n, -**r))
        .map(|(r, _)| *r);
    if let Some(common) = common {
        for (r, there) in &retries {
            if *r != common {
                notes.add(
                    there,
                    format!("maxRetries {r}"),
                    format!(
                        "Hotline has one retry limit per locale: the most common, {common}, is used"
                    ),
                );
            }
        }
    }
    let max_retries = common
        .and_then(|c| u32::try_from(c.clamp(0, 5)).ok())
        .filter(|c| *c != DEFAULT_MAX_RETRIES);

    (
        id,
        Locale {
            voice,
            greeting,
            fallback,
            confidence,
            max_retries,
            give_up: None,
            slot_types,
            intents,
        },
    )
}

/// An utterance can mean only one intent: a sample that another intent already has (same
/// words) is kept in the first intent only; an intent left with no samples is left out.
fn unique_samples(
    intents: OrderedMap<IntentDef>,
    here: &Here,
    notes: &mut Notes,
) -> OrderedMap<IntentDef> {
    let mut seen: BTreeMap<Vec<String>, String> = BTreeMap::new();
    let mut out = OrderedMap::default();
    for (name, mut intent) in intents.0 {
        let there = here.in_intent(&name);
        intent.samples.retain(|sample| {
            let key = crate::text::tokens(sample);
            match seen.get(&key) {
                Some(first) if *first != name => {
                    notes.add(
                        &there,
                        format!("sample utterance {sample:?}"),
                        format!("also a sample of {first}; an utterance can only mean one intent in Hotline, so it is kept there"),
                    );
                    false
                }
                _ => {
                    seen.insert(key, name.clone());
                    true
                }
            }
        });
        if intent.samples.is_empty() {
            notes.add(
                &there,
                "intent with no usable sample utterances",
                "Hotline recognises intents from their samples: the intent is left out",
            );
        } else {
            out.insert(name, intent);
        }
    }
    out
}

/// The folder holding a file: `…/Intents/MakeAppointment/Intent.json` → `MakeAppointment`.
fn folder_of(file: &str) -> &str {
    file.rsplit('/').nth(1).unwrap_or(file)
}

enum SlotTypeOutcome {
    Custom(SlotType),
    Builtin(&'static str),
    Dropped,
}

fn map_slot_type(st: &Located<LexSlotType>, here: &Here, notes: &mut Notes) -> SlotTypeOutcome {
    let t = &st.value;
    others(&t.other, here, notes);
    if meaningful(t.composite_slot_type_setting.as_ref()) {
        notes.add(
            here,
            "composite slot type",
            "Hotline slots hold one value; slots of this type are left out (ask for each part with its own slot)",
        );
        return SlotTypeOutcome::Dropped;
    }
    if meaningful(t.external_source_setting.as_ref()) {
        notes.add(
            here,
            "grammar slot type (externalSourceSetting)",
            "SRGS grammars in S3 are not read; slots of this type become free text (add a `regex` type if the answers have a fixed shape)",
        );
        return SlotTypeOutcome::Builtin("text");
    }
    let selection = t.value_selection_setting.as_ref();
    if let Some(sel) = selection {
        others(&sel.other, here, notes);
        if meaningful(sel.advanced_recognition_setting.as_ref()) {
            notes.add(
                here,
                "advancedRecognitionSetting",
                "slot values are not used as a custom speech vocabulary in Hotline",
            );
        }
    }
    let strategy = selection
        .and_then(|s| s.resolution_strategy.clone())
        .or_else(|| t.value_selection_strategy.clone())
        .unwrap_or_default()
        .replace('_', "")
        .to_ascii_uppercase();
    let regex = selection
        .and_then(|s| s.regex_filter.as_ref())
        .and_then(|r| r.pattern.clone())
        .filter(|p| !p.trim().is_empty());
    let mut values = Vec::new();
    for v in t.slot_type_values.iter().flatten() {
        let Some(value) = v
            .sample_value
            .as_ref()
            .and_then(|s| s.value.as_deref())
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            notes.add(
                here,
                "slot type value",
                "has no sampleValue.value; left out",
            );
            continue;
        };
        let synonyms = v
            .synonyms
            .iter()
            .flatten()
            .filter_map(|s| s.value.as_deref().map(str::trim))
            .filter(|s| !s.is_empty() && *s != value)
            .map(str::to_string)
            .collect();
        values.push(SlotValue {
            value: value.to_string(),
            synonyms,
        });
    }
    let description = t.description.clone().filter(|d| !d.trim().is_empty());

    if strategy == "CONCATENATION" {
        notes.add(
            here,
            "resolutionStrategy Concatenation",
            "composite values are not supported; slots of this type are left out",
        );
        return SlotTypeOutcome::Dropped;
    }
    let parent = t.parent_slot_type_signature.as_deref().unwrap_or("");
    if let Some(pattern) = regex {
        if regex::Regex::new(&format!("^(?:{pattern})$")).is_err() {
            notes.add(
                here,
                format!("regexFilter {pattern:?}"),
                "not a regular expression Hotline can compile; slots of this type become spelled letters and digits",
            );
            return SlotTypeOutcome::Builtin("spelled");
        }
        if !values.is_empty() {
            notes.add(
                here,
                "slot type values next to a regexFilter",
                "a Hotline type is either values or a regex: the regex is kept",
            );
        }
        return SlotTypeOutcome::Custom(SlotType {
            description,
            values: Vec::new(),
            regex: Some(pattern),
            open: false,
        });
    }
    if values.is_empty() {
        if let Some(b) = builtin_type(parent) {
            notes.add(
                here,
                format!("slot type extending {parent}"),
                format!(
                    "has no values or regex of its own; slots of this type use Hotline's `{b}`"
                ),
            );
            return SlotTypeOutcome::Builtin(b);
        }
        notes.add(
            here,
            "slot type with no values",
            "nothing to match against; slots of this type become free text",
        );
        return SlotTypeOutcome::Builtin("text");
    }
    let open = match strategy.as_str() {
        "ORIGINALVALUE" => true,
        "TOPRESOLUTION" | "" => false,
        other => {
            notes.add(
                here,
                format!("resolutionStrategy {other}"),
                "unknown strategy; only listed values and synonyms are accepted",
            );
            false
        }
    };
    if parent == "AMAZON.AlphaNumeric" {
        notes.add(
            here,
            "AMAZON.AlphaNumeric parent with values",
            "kept as an open list of values: other answers are accepted as said, not checked as letters and digits",
        );
    }
    SlotTypeOutcome::Custom(SlotType {
        description,
        values,
        regex: None,
        open: open || parent == "AMAZON.AlphaNumeric",
    })
}

/// A Lex built-in slot type's Hotline equivalent, when there is a close one.
pub(crate) fn builtin_type(lex: &str) -> Option<&'static str> {
    Some(match lex {
        "AMAZON.Number" => "number",
        "AMAZON.Date" => "date",
        "AMAZON.Time" => "time",
        "AMAZON.PhoneNumber" => "phone",
        "AMAZON.AlphaNumeric" => "spelled",
        "AMAZON.FreeFormInput" => "text",
        "AMAZON.Confirmation" => "yes_no",
        "AMAZON.Percentage" => "number",
        _ => return None,
    })
}

/// Resolves a slot's `slotTypeName` to a Hotline type (noting approximations).
fn resolve_type(
    lex_type: &str,
    types: &BTreeMap<String, TypeRef>,
    here: &Here,
    notes: &mut Notes,
) -> TypeRef {
    if let Some(t) = types.get(lex_type) {
        return t.clone();
    }
    if let Some(b) = builtin_type(lex_type) {
        if lex_type == "AMAZON.Percentage" {
            notes.add(
                here,
                "AMAZON.Percentage",
                "mapped to `number`: the value is the number without a percent sign",
            );
        }
        return TypeRef::Named(b.into());
    }
    if lex_type.starts_with("AMAZON.") {
        notes.add(
            here,
            format!("built-in slot type {lex_type}"),
            "Hotline has no such type: the answer is kept as said (`text`), unchecked; add a custom type with values or a regex to check it",
        );
        return TypeRef::Named("text".into());
    }
    notes.add(
        here,
        format!("slot type {lex_type:?}"),
        "not found among the locale's slot types; the slot becomes free text",
    );
    TypeRef::Named("text".into())
}

fn map_intent(
    intent: &LexIntent,
    types: &BTreeMap<String, TypeRef>,
    here: &Here,
    retries: &mut Vec<(i64, Here)>,
    notes: &mut Notes,
) -> Option<IntentDef> {
    let iv = &intent.intent.value;
    intent_features(iv, here, notes);

    // Slots, by name, then in priority order. Prompts may name any slot of the intent; those
    // naming a slot that is then left out are fixed below.
    let candidates: Vec<String> = intent
        .slots
        .iter()
        .filter_map(|s| s.value.name.clone())
        .filter(|n| valid_name(n))
        .collect();
    let mut by_name: BTreeMap<String, (SlotDef, Here)> = BTreeMap::new();
    for slot in &intent.slots {
        let name = slot
            .value
            .name
            .clone()
            .unwrap_or_else(|| folder_of(&slot.file).to_string());
        let there = here.with_file(&slot.file).in_slot(&name);
        if !valid_name(&name) {
            notes.add(
                &there,
                format!("slot {name:?}"),
                "not a valid Hotline name (letters, digits, `_`, `-`, starting with a letter); the slot is left out",
            );
            continue;
        }
        if let Some(def) = map_slot(
            &slot.value,
            &name,
            &candidates,
            types,
            &there,
            retries,
            notes,
        ) {
            by_name.insert(name, (def, there));
        }
    }
    let mut priorities: Vec<(i64, String)> = iv
        .slot_priorities
        .iter()
        .flatten()
        .filter_map(|p| Some((p.priority.unwrap_or(i64::MAX), p.slot_name.clone()?)))
        .collect();
    priorities.sort();
    let mut slots = OrderedMap::default();
    let kept: Vec<String> = by_name.keys().cloned().collect();
    for (def, there) in by_name.values_mut() {
        if let Some(p) = &def.prompt {
            def.prompt = Some(placeholders(p, &kept, "elicitation prompt", there, notes));
        }
        for r in &mut def.reprompts {
            *r = placeholders(r, &kept, "elicitation prompt", there, notes);
        }
    }
    for (_, name) in &priorities {
        if let Some((def, _)) = by_name.remove(name) {
            slots.insert(name.clone(), def);
        } else if !intent
            .slots
            .iter()
            .any(|s| s.value.name.as_deref() == Some(name))
        {
            notes.add(
                here,
                format!("slot priority for {name:?}"),
                "names no slot of the intent; ignored",
            );
        }
    }
    for (name, (def, there)) in by_name {
        notes.add(
            &there,
            "slot missing from slotPriorities",
            "asked after the prioritised slots, in name order",
        );
        slots.insert(name, def);
    }
    let slot_names: Vec<String> = slots.keys().map(str::to_string).collect();
    let dropped_slots: Vec<String> = intent
        .slots
        .iter()
        .filter_map(|s| s.value.name.clone())
        .filter(|n| !slot_names.contains(n))
        .collect();

    // Sample utterances: Lex and Hotline share the `{Slot}` syntax.
    let mut samples = Vec::new();
    for s in iv.sample_utterances.iter().flatten() {
        others(&s.other, here, notes);
        let Some(text) = s
            .utterance
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            continue;
        };
        match unknown_placeholder(text, &slot_names) {
            None => {
                if !samples.iter().any(|x: &String| x == text) {
                    samples.push(text.to_string());
                }
            }
            Some(p) => {
                let why = if dropped_slots.contains(&p) {
                    format!("uses {{{p}}}, a slot that was not carried over; left out")
                } else {
                    format!("uses {{{p}}}, which is not a slot of the intent; left out")
                };
                notes.add(here, format!("sample utterance {text:?}"), why);
            }
        }
    }
    if samples.is_empty() {
        notes.add(
            here,
            "intent with no usable sample utterances",
            "Hotline recognises intents from their samples: the intent is left out",
        );
        return None;
    }

    // Confirmation.
    let (mut confirm, mut declined) = (None, None);
    if let Some(c) = &iv.intent_confirmation_setting {
        let there = here.clone();
        others(&c.other, &there, notes);
        if c.active == Some(false) {
            notes.add(
                &there,
                "inactive confirmation prompt",
                "switched off in Lex, so not carried over",
            );
        } else {
            if let Some(p) = &c.prompt_specification {
                let texts = prompt_texts(p, "confirmation prompt", &slot_names, &there, notes);
                if let Some(r) = p.max_retries {
                    retries.push((r, there.clone()));
                }
                confirm = texts.main;
                if !texts.alternatives.is_empty() {
                    notes.add(
                        &there,
                        "confirmation prompt variations",
                        "Hotline has one confirmation question: the first message is kept",
                    );
                }
            }
            if let Some(r) = &c.declination_response {
                declined = response_text(r, "declination response", &slot_names, &there, notes);
            }
            for (field, resp) in [
                ("confirmationResponse", &c.confirmation_response),
                ("failureResponse", &c.failure_response),
            ] {
                if let Some(r) = resp
                    && has_messages(r)
                {
                    notes.add(
                        &there,
                        format!("confirmation {field}"),
                        "Hotline says nothing between a confirmed intent and its fulfilment, and uses the fallback after failed confirmations",
                    );
                }
            }
        }
    }

    // Fulfilment: what Lex says after fulfilment (success response, then closing response).
    let mut say = Vec::new();
    let mut then = None;
    if let Some(hook) = &iv.fulfillment_code_hook
        && let Some(post) = &hook.post_fulfillment_status_specification
    {
        others(&post.other, here, notes);
        if let Some(r) = &post.success_response
            && let Some(t) =
                response_text(r, "fulfilment success response", &slot_names, here, notes)
        {
            say.push(t);
        }
        for (field, resp) in [
            ("failureResponse", &post.failure_response),
            ("timeoutResponse", &post.timeout_response),
        ] {
            if let Some(r) = resp
                && has_messages(r)
            {
                notes.add(
                    here,
                    format!("fulfilment {field}"),
                    "only meaningful with a code hook; a Hotline webhook's `fallback` plays that role",
                );
            }
        }
    }
    if let Some(closing) = &iv.intent_closing_setting {
        if closing.active == Some(false) {
            if closing.closing_response.as_ref().is_some_and(has_messages) {
                notes.add(
                    here,
                    "inactive closing response",
                    "switched off in Lex, so not carried over",
                );
            }
        } else if let Some(r) = &closing.closing_response
            && let Some(t) = response_text(r, "closing response", &slot_names, here, notes)
        {
            say.push(t);
        }
        then = closing_then(&closing.other, here, notes);
        let rest: Other = closing
            .other
            .iter()
            .filter(|(k, _)| k.as_str() != "nextStep")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        others(&rest, here, notes);
    }
    let fulfill = (!say.is_empty()).then(|| Fulfill {
        say: Some(say.join(" ")),
        webhook: None,
    });

    Some(IntentDef {
        description: iv.description.clone().filter(|d| !d.trim().is_empty()),
        samples,
        digits: None,
        slots,
        confirm,
        declined,
        fulfill,
        then,
    })
}

/// Notes the intent-level Lex features Hotline has no place for.
fn intent_features(iv: &super::lex::Intent, here: &Here, notes: &mut Notes) {
    if let Some(hook) = &iv.dialog_code_hook {
        if hook.enabled == Some(true) {
            notes.add(
                here,
                "dialog code hook (Lambda)",
                "Hotline runs no Lambda during the dialog; slot checks become `validate` rules, written by hand",
            );
        }
        others(&hook.other, here, notes);
    }
    if let Some(hook) = &iv.fulfillment_code_hook {
        if hook.enabled == Some(true) && hook.active != Some(false) {
            notes.add(
                here,
                "fulfilment code hook (Lambda)",
                "add `fulfill: {webhook: {url: …}}` pointing at an HTTP endpoint that does the Lambda's work (JSON in and out)",
            );
        }
        if meaningful(hook.fulfillment_updates_specification.as_ref()) {
            notes.add(
                here,
                "fulfilment progress updates",
                "Hotline says nothing while a webhook runs (keep webhooks under their timeout)",
            );
        }
        others(&hook.other, here, notes);
    }
    if let Some(init) = &iv.initial_response_setting {
        if let Some(r) = &init.initial_response
            && has_messages(r)
        {
            notes.add(
                here,
                "initial response",
                "Hotline says nothing when an intent is recognised; put the words in the first slot's prompt",
            );
        }
        others(&init.other, here, notes);
    }
    for (field, value) in [
        ("inputContexts", &iv.input_contexts),
        ("outputContexts", &iv.output_contexts),
    ] {
        if meaningful(value.as_ref()) {
            notes.add(
                here,
                field,
                "Hotline intents have no contexts: every intent can be recognised at any time",
            );
        }
    }
    if meaningful(iv.kendra_configuration.as_ref()) {
        notes.add(
            here,
            "kendraConfiguration",
            "Hotline has no Amazon Kendra search",
        );
    }
    if meaningful(iv.qn_a_intent_configuration.as_ref()) {
        notes.add(
            here,
            "qnAIntentConfiguration",
            "generative answers from AWS services are not available in Hotline",
        );
    }
    others(&iv.other, here, notes);
}

/// A closing `nextStep`: `EndConversation` hangs up, `ElicitIntent` keeps listening.
fn closing_then(other: &Other, here: &Here, notes: &mut Notes) -> Option<Then> {
    let step = other.get("nextStep")?;
    let action = step
        .get("dialogAction")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)?;
    match action {
        "EndConversation" => Some(Then::Hangup),
        "ElicitIntent" => None,
        other => {
            notes.add(
                here,
                format!("closing next step {other}"),
                "Hotline keeps listening after an intent (or hangs up with `then: hangup`)",
            );
            None
        }
    }
}

fn map_slot(
    slot: &Slot,
    name: &str,
    candidates: &[String],
    types: &BTreeMap<String, TypeRef>,
    here: &Here,
    retries: &mut Vec<(i64, Here)>,
    notes: &mut Notes,
) -> Option<SlotDef> {
    others(&slot.other, here, notes);
    if slot
        .description
        .as_deref()
        .is_some_and(|d| !d.trim().is_empty())
    {
        notes.add(
            here,
            "slot description",
            "Hotline slots have no description (the slot's name and prompt document it)",
        );
    }
    if meaningful(slot.sub_slot_setting.as_ref()) {
        notes.add(
            here,
            "composite slot (sub-slots)",
            "Hotline slots hold one value: the slot is left out (ask for each part with its own slot)",
        );
        return None;
    }
    let lex_type = slot.slot_type_name.as_deref().unwrap_or("");
    let slot_type = if lex_type.is_empty() {
        notes.add(
            here,
            "slot with no slotTypeName",
            "the slot becomes free text",
        );
        "text".to_string()
    } else {
        match resolve_type(lex_type, types, here, notes) {
            TypeRef::Named(t) => t,
            TypeRef::Dropped => {
                notes.add(
                    here,
                    format!("slot of type {lex_type}"),
                    "its type was not carried over, so the slot is left out",
                );
                return None;
            }
        }
    };
    if slot
        .multiple_values_setting
        .as_ref()
        .and_then(|m| m.allow_multiple_values)
        == Some(true)
    {
        notes.add(
            here,
            "multiple values",
            "a Hotline slot holds one value: only the first value said is kept",
        );
    }
    if let Some(o) = &slot.obfuscation_setting {
        let kind = o
            .get("obfuscationSettingType")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !kind.is_empty() && kind != "None" {
            notes.add(
                here,
                format!("obfuscationSetting {kind}"),
                "Hotline logs slot values only at debug level; check your own log retention for this slot",
            );
        }
    }
    if meaningful(slot.default_value_spec.as_ref()) {
        notes.add(
            here,
            "default value",
            "Hotline slots have no default: the question is asked",
        );
    }
    let elicit = slot.value_elicitation_setting.as_ref();
    let constraint = elicit
        .and_then(|e| e.slot_constraint.clone())
        .or_else(|| slot.slot_constraint.clone());
    let required = match constraint
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("required") => true,
        Some("optional") => false,
        other => {
            notes.add(
                here,
                format!("slotConstraint {}", other.unwrap_or("(none)")),
                "not Required or Optional: imported as required",
            );
            true
        }
    };
    let mut prompt = None;
    let mut reprompts = Vec::new();
    if let Some(e) = elicit {
        others(&e.other, here, notes);
        if let Some(p) = &e.prompt_specification {
            let texts = prompt_texts(p, "elicitation prompt", candidates, here, notes);
            prompt = texts.main;
            reprompts = texts.alternatives;
            if let Some(r) = p.max_retries {
                retries.push((r, here.clone()));
            }
        }
        if e.sample_utterances.as_ref().is_some_and(|s| !s.is_empty()) {
            notes.add(
                here,
                "slot sample utterances",
                "Hotline extracts a slot's value from the whole answer; answer phrasings are not listed per slot",
            );
        }
        for (field, value) in [
            (
                "waitAndContinueSpecification",
                &e.wait_and_continue_specification,
            ),
            ("defaultValueSpecification", &e.default_value_specification),
            ("slotResolutionSetting", &e.slot_resolution_setting),
        ] {
            if meaningful(value.as_ref()) {
                let why = match field {
                    "waitAndContinueSpecification" => {
                        "Hotline cannot pause a question while the caller looks something up"
                    }
                    "defaultValueSpecification" => {
                        "Hotline slots have no default: the question is asked"
                    }
                    _ => "Hotline resolves slot values with its own matching",
                };
                notes.add(here, field, why);
            }
        }
        if let Some(capture) = &e.slot_capture_setting {
            slot_capture(capture, here, notes);
        }
    }
    if required && prompt.is_none() {
        notes.add(
            here,
            "elicitation prompt",
            "the required slot has no prompt in the export (a code hook must have asked): a default question was written, edit it",
        );
        prompt = Some(default_slot_prompt(
            here.locale.as_deref().unwrap_or("en"),
            name,
        ));
    }
    Some(SlotDef {
        slot_type,
        required,
        prompt,
        reprompts,
        validate: None,
    })
}

/// `slotCaptureSetting`: responses and steps after a slot is captured.
fn slot_capture(capture: &Value, here: &Here, notes: &mut Notes) {
    let Some(map) = capture.as_object() else {
        return;
    };
    for (key, value) in map {
        if !meaningful(Some(value)) {
            continue;
        }
        match key.as_str() {
            "captureResponse" | "failureResponse" => {
                if value
                    .get("messageGroupsList")
                    .is_some_and(|v| meaningful(Some(v)))
                    || value
                        .get("messageGroups")
                        .is_some_and(|v| meaningful(Some(v)))
                {
                    notes.add(
                        here,
                        format!("slotCaptureSetting.{key}"),
                        "Hotline says nothing right after a slot is captured (put it in the next prompt)",
                    );
                }
            }
            _ => notes.add(here, format!("slotCaptureSetting.{key}"), reason_for(key)),
        }
    }
}

/// The fallback intent's words: closing, then post-fulfilment success, then initial response.
fn fallback_text(intent: &LexIntent, here: &Here, notes: &mut Notes) -> Option<String> {
    let iv = &intent.intent.value;
    intent_features(iv, here, notes);
    let closing = iv
        .intent_closing_setting
        .as_ref()
        .filter(|c| c.active != Some(false))
        .and_then(|c| c.closing_response.as_ref());
    let success = iv
        .fulfillment_code_hook
        .as_ref()
        .and_then(|h| h.post_fulfillment_status_specification.as_ref())
        .and_then(|p| p.success_response.as_ref());
    let initial = iv
        .initial_response_setting
        .as_ref()
        .and_then(|i| i.initial_response.as_ref());
    for r in [closing, success, initial].into_iter().flatten() {
        if let Some(t) = response_text(r, "fallback response", &[], here, notes) {
            return Some(t);
        }
    }
    None
}

/// `AMAZON.CancelIntent`, `StopIntent`, `HelpIntent`: Lex brings their utterances; Hotline
/// needs samples, written here per language.
fn builtin_intent(
    sig: &str,
    intent: &LexIntent,
    lang: &str,
    here: &Here,
    notes: &mut Notes,
) -> Option<IntentDef> {
    let iv = &intent.intent.value;
    intent_features(iv, here, notes);
    let samples = builtin_samples(sig, lang);
    if samples.is_empty() {
        notes.add(
            here,
            format!("built-in intent {sig}"),
            format!(
                "Lex supplies its utterances; Hotline has no default samples for language {lang:?}: write the intent by hand"
            ),
        );
        return None;
    }
    notes.add(
        here,
        format!("built-in intent {sig}"),
        "Lex's own utterances are not published: default samples were written, review them",
    );
    let say = iv
        .intent_closing_setting
        .as_ref()
        .filter(|c| c.active != Some(false))
        .and_then(|c| c.closing_response.as_ref())
        .and_then(|r| response_text(r, "closing response", &[], here, notes));
    Some(IntentDef {
        description: iv.description.clone().filter(|d| !d.trim().is_empty()),
        samples: samples.iter().map(|s| s.to_string()).collect(),
        fulfill: say.map(|s| Fulfill {
            say: Some(s),
            webhook: None,
        }),
        then: (sig != "AMAZON.HelpIntent").then_some(Then::Hangup),
        ..IntentDef::default()
    })
}

fn builtin_samples(sig: &str, lang: &str) -> &'static [&'static str] {
    match (sig, lang) {
        ("AMAZON.CancelIntent", "en") => &["cancel", "never mind", "forget it"],
        ("AMAZON.CancelIntent", "fr") => &["annuler", "laissez tomber", "oubliez ça"],
        ("AMAZON.CancelIntent", "es") => &["cancelar", "olvídalo", "déjelo"],
        ("AMAZON.CancelIntent", "de") => &["abbrechen", "vergessen Sie es"],
        ("AMAZON.StopIntent", "en") => &["stop", "goodbye", "that's all"],
        ("AMAZON.StopIntent", "fr") => &["stop", "au revoir", "c'est tout"],
        ("AMAZON.StopIntent", "es") => &["para", "adiós", "eso es todo"],
        ("AMAZON.StopIntent", "de") => &["stopp", "auf Wiedersehen", "das ist alles"],
        ("AMAZON.HelpIntent", "en") => &["help", "what can I say", "I need help"],
        ("AMAZON.HelpIntent", "fr") => {
            &["aide", "qu'est-ce que je peux dire", "j'ai besoin d'aide"]
        }
        ("AMAZON.HelpIntent", "es") => &["ayuda", "qué puedo decir", "necesito ayuda"],
        ("AMAZON.HelpIntent", "de") => &["Hilfe", "was kann ich sagen"],
        _ => &[],
    }
}

#[derive(Clone, Copy)]
enum Stock {
    Greeting,
    Fallback,
}

fn default_text(lang: &str, which: Stock) -> String {
    match (which, lang) {
        (Stock::Greeting, "fr") => "Bonjour, comment puis-je vous aider ?",
        (Stock::Greeting, "es") => "Hola, ¿en qué puedo ayudarle?",
        (Stock::Greeting, "de") => "Hallo, wie kann ich Ihnen helfen?",
        (Stock::Greeting, "it") => "Buongiorno, come posso aiutarla?",
        (Stock::Greeting, "pt") => "Olá, como posso ajudar?",
        (Stock::Greeting, _) => "Hello, how can I help you?",
        (Stock::Fallback, "fr") => "Désolé, je n'ai pas compris. Pouvez-vous reformuler ?",
        (Stock::Fallback, "es") => "Lo siento, no le he entendido. ¿Puede decirlo de otra manera?",
        (Stock::Fallback, "de") => {
            "Entschuldigung, das habe ich nicht verstanden. Können Sie es anders sagen?"
        }
        (Stock::Fallback, "it") => "Mi scusi, non ho capito. Può ripetere in un altro modo?",
        (Stock::Fallback, "pt") => "Desculpe, não entendi. Pode dizer de outra forma?",
        (Stock::Fallback, _) => "Sorry, I didn't understand. Could you say it another way?",
    }
    .to_string()
}

fn default_slot_prompt(locale: &str, slot: &str) -> String {
    let mut words = String::new();
    for (i, c) in slot.chars().enumerate() {
        if c == '_' || c == '-' {
            words.push(' ');
        } else {
            if c.is_ascii_uppercase() && i > 0 && !words.ends_with(' ') {
                words.push(' ');
            }
            words.push(c.to_ascii_lowercase());
        }
    }
    match locale.get(..2).unwrap_or("en") {
        "fr" => format!("Pouvez-vous préciser : {words} ?"),
        "es" => format!("¿Puede indicarme: {words}?"),
        "de" => format!("Bitte nennen Sie: {words}."),
        "it" => format!("Può indicarmi: {words}?"),
        "pt" => format!("Pode indicar: {words}?"),
        _ => format!("Please tell me the {words}."),
    }
}

/// A prompt or response's words.
#[derive(Debug, Default)]
struct Texts {
    /// One message per message group, joined.
    main: Option<String>,
    /// The same built from each group's variations, in order.
    alternatives: Vec<String>,
}

fn prompt_texts(p: &Prompt, what: &str, slots: &[String], here: &Here, notes: &mut Notes) -> Texts {
    if p.allow_interrupt == Some(false) {
        notes.add(
            here,
            format!("{what}: allowInterrupt false"),
            "Hotline lets callers interrupt every prompt",
        );
    }
    if meaningful(p.prompt_attempts_specification.as_ref()) {
        notes.add(
            here,
            format!("{what}: promptAttemptsSpecification"),
            "per-attempt input settings (DTMF, timeouts, audio) are the server's in Hotline",
        );
    }
    others(&p.other, here, notes);
    let texts = group_texts(p.message_groups_list.as_deref(), what, slots, here, notes);
    if !texts.alternatives.is_empty() {
        let ordered = p
            .message_selection_strategy
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("Ordered"));
        if !ordered {
            notes.add(
                here,
                format!("{what} variations"),
                "Lex picks a variation at random; Hotline asks them in order as reprompts",
            );
        }
    }
    texts
}

fn response_text(
    r: &Response,
    what: &str,
    slots: &[String],
    here: &Here,
    notes: &mut Notes,
) -> Option<String> {
    others(&r.other, here, notes);
    if r.allow_interrupt == Some(false) {
        notes.add(
            here,
            format!("{what}: allowInterrupt false"),
            "Hotline lets callers interrupt every message",
        );
    }
    let texts = group_texts(r.message_groups_list.as_deref(), what, slots, here, notes);
    if !texts.alternatives.is_empty() {
        notes.add(
            here,
            format!("{what} variations"),
            "Hotline says one message: the first of each group is kept",
        );
    }
    texts.main
}

fn has_messages(r: &Response) -> bool {
    r.message_groups_list
        .as_ref()
        .is_some_and(|g| !g.is_empty())
}

fn group_texts(
    groups: Option<&[MessageGroup]>,
    what: &str,
    slots: &[String],
    here: &Here,
    notes: &mut Notes,
) -> Texts {
    let groups = groups.unwrap_or_default();
    let mut mains = Vec::new();
    let mut variations: Vec<Vec<String>> = Vec::new();
    for g in groups {
        others(&g.other, here, notes);
        let main = g
            .message
            .as_ref()
            .and_then(|m| message_text(m, what, slots, here, notes));
        let vars: Vec<String> = g
            .variations
            .iter()
            .flatten()
            .filter_map(|m| message_text(m, what, slots, here, notes))
            .collect();
        match main {
            Some(m) => {
                mains.push(m);
                variations.push(vars);
            }
            None => {
                // A group whose message cannot be said: a variation stands in for it.
                let mut vars = vars.into_iter();
                if let Some(first) = vars.next() {
                    mains.push(first);
                    variations.push(vars.collect());
                }
            }
        }
    }
    if mains.is_empty() {
        return Texts::default();
    }
    let most = variations.iter().map(Vec::len).max().unwrap_or(0);
    let alternatives = (0..most)
        .map(|k| {
            mains
                .iter()
                .zip(&variations)
                .map(|(m, v)| v.get(k).unwrap_or(m).as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    Texts {
        main: Some(mains.join(" ")),
        alternatives,
    }
}

/// A message's words, or `None` (noted) when it has none Hotline can say.
fn message_text(
    m: &Message,
    what: &str,
    slots: &[String],
    here: &Here,
    notes: &mut Notes,
) -> Option<String> {
    others(&m.other, here, notes);
    let text = if let Some(t) = m.plain_text_message.as_ref().and_then(|t| t.value.clone()) {
        t
    } else if let Some(ssml) = m.ssml_message.as_ref().and_then(|t| t.value.as_deref()) {
        notes.add(
            here,
            format!("SSML in the {what}"),
            "reduced to its text: Hotline says plain text with the locale's voice (breaks, prosody and say-as are lost)",
        );
        strip_ssml(ssml)
    } else if let Some(card) = &m.image_response_card {
        notes.add(
            here,
            format!("image response card in the {what}"),
            "cards are for screens: its title and button labels are said instead; the image and button values are dropped",
        );
        card_text(card)?
    } else if m
        .custom_payload
        .as_ref()
        .and_then(|t| t.value.as_deref())
        .is_some()
    {
        notes.add(
            here,
            format!("custom payload in the {what}"),
            "application-defined data for a client; a phone caller cannot receive it",
        );
        return None;
    } else {
        return None;
    };
    let text = placeholders(text.trim(), slots, what, here, notes);
    (!text.is_empty()).then_some(text)
}

fn card_text(card: &Value) -> Option<String> {
    let mut parts = Vec::new();
    for key in ["title", "subtitle"] {
        if let Some(t) = card.get(key).and_then(Value::as_str).map(str::trim)
            && !t.is_empty()
        {
            parts.push(t.to_string());
        }
    }
    let buttons: Vec<&str> = card
        .get("buttons")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if !buttons.is_empty() {
        parts.push(buttons.join(", "));
    }
    (!parts.is_empty()).then(|| parts.join(". "))
}

/// Plain text from SSML: tags removed (`<break/>` becomes a space), entities decoded,
/// whitespace collapsed.
pub(crate) fn strip_ssml(ssml: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in ssml.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                out.push(' ');
            }
            (true, '>') => in_tag = false,
            (false, c) => out.push(c),
            (true, _) => {}
        }
    }
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    let mut text = decoded.split_whitespace().collect::<Vec<_>>().join(" ");
    for p in [" .", " ,", " ?", " !"] {
        text = text.replace(p, &p[1..]);
    }
    text
}

/// Lex message references: `{Slot}` (kept when the slot exists here), `((attribute))` (a
/// session attribute, Hotline's `{attr.name}`).
fn placeholders(
    text: &str,
    slots: &[String],
    what: &str,
    here: &Here,
    notes: &mut Notes,
) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("((")
            && let Some(end) = after.find("))")
            && valid_name(&after[..end])
        {
            let name = &after[..end];
            if slots.is_empty() {
                notes.add(
                    here,
                    format!("session attribute (({name})) in the {what}"),
                    "Hotline fills `{attr.…}` only in intent messages: the attribute's name is said instead",
                );
                out.push_str(name);
            } else {
                out.push_str(&format!("{{attr.{name}}}"));
            }
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('{')
            && let Some(end) = after.find('}')
        {
            let name = &after[..end];
            if slots.iter().any(|s| s == name) || name.starts_with("attr.") {
                out.push('{');
                out.push_str(name);
                out.push('}');
            } else {
                notes.add(
                    here,
                    format!("{{{name}}} in the {what}"),
                    if slots.is_empty() {
                        "slot values cannot be said in this message in Hotline: the slot's name is said instead"
                    } else {
                        "not a slot of this intent: the name is said instead"
                    },
                );
                out.push_str(name);
            }
            rest = &after[end + 1..];
        } else {
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
        }
    }
    out
}

/// The first `{Name}` placeholder of a sample utterance that is not one of `slots`.
fn unknown_placeholder(text: &str, slots: &[String]) -> Option<String> {
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after.find('}')?;
        let name = &after[..end];
        if !slots.iter().any(|s| s == name) {
            return Some(name.to_string());
        }
        rest = &after[end + 1..];
    }
    None
}

/// Whether a value carries anything (not null, false, empty).
fn meaningful(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => o.values().any(|v| meaningful(Some(v))),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// Notes every unknown field that carries something.
fn others(other: &Other, here: &Here, notes: &mut Notes) {
    for (key, value) in other {
        if matches!(key.as_str(), "identifier" | "version" | "name") || !meaningful(Some(value)) {
            continue;
        }
        notes.add(here, format!("field `{key}`"), reason_for(key));
    }
}

fn reason_for(key: &str) -> &'static str {
    let k = key.to_ascii_lowercase();
    if k.contains("conditional") {
        "conditional branching: Hotline bots have no condition expressions; the default path (slots, confirmation, fulfilment) is kept"
    } else if k.contains("nextstep") {
        "a dialog step override: Hotline follows its fixed order (slots, confirmation, fulfilment)"
    } else if k.contains("codehook") {
        "a code hook (Lambda): Hotline bots call no Lambda; use a fulfilment webhook"
    } else if k.contains("generative") || k.contains("bedrock") {
        "a generative AI feature of Lex; Hotline has none"
    } else if k.contains("sentiment") {
        "sentiment analysis is not available in Hotline"
    } else {
        "not something Hotline bots describe"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_ids_from_lex_names() {
        assert_eq!(slug("AppointmentBot"), "appointment-bot");
        assert_eq!(slug("Book_Trip 2"), "book-trip-2");
        assert_eq!(slug("OrderFlowersBotV2"), "order-flowers-bot-v2");
        assert_eq!(slug("¿?"), "imported-bot");
    }

    #[test]
    fn ssml_becomes_text() {
        assert_eq!(
            strip_ssml(
                "<speak>Hello <break time=\"1s\"/> there, <emphasis>Tom &amp; Jerry</emphasis> .</speak>"
            ),
            "Hello there, Tom & Jerry."
        );
        assert_eq!(strip_ssml("no tags"), "no tags");
        assert_eq!(strip_ssml("<unclosed"), "");
    }

    #[test]
    fn message_references_are_translated_or_noted() {
        let here = Here::file("x");
        let mut notes = Notes::default();
        let slots = vec!["Date".to_string()];
        assert_eq!(
            placeholders("On {Date}, ((name))?", &slots, "prompt", &here, &mut notes),
            "On {Date}, {attr.name}?"
        );
        assert!(notes.0.is_empty());
        assert_eq!(
            placeholders("At {Time} {", &slots, "prompt", &here, &mut notes),
            "At Time {"
        );
        assert_eq!(notes.0.len(), 1);
        assert_eq!(notes.0[0].what, "{Time} in the prompt");
        assert_eq!(
            unknown_placeholder("a {Date} b {X}", &slots).as_deref(),
            Some("X")
        );
        assert_eq!(unknown_placeholder("a {Date} b", &slots), None);
    }

    #[test]
    fn builtin_slot_types() {
        for (lex, hotline) in [
            ("AMAZON.Number", "number"),
            ("AMAZON.Date", "date"),
            ("AMAZON.Time", "time"),
            ("AMAZON.PhoneNumber", "phone"),
            ("AMAZON.AlphaNumeric", "spelled"),
            ("AMAZON.FreeFormInput", "text"),
            ("AMAZON.Confirmation", "yes_no"),
        ] {
            assert_eq!(builtin_type(lex), Some(hotline));
            assert!(crate::model::BUILTIN_TYPES.contains(&hotline));
        }
        assert_eq!(builtin_type("AMAZON.City"), None);
    }
}
