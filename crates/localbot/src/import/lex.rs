//! The Amazon Lex V2 export format: serde types for the JSON files of an export, and the walk
//! that finds them in the export's tree.
//!
//! Schema sources (AWS documentation):
//! - "JSON format for importing and exporting bots in Lex V2"
//!   (<https://docs.aws.amazon.com/lexv2/latest/dg/import-export-format.html>): the zip layout
//!   (`Manifest.json`, `<Bot>/Bot.json`, `<Bot>/BotLocales/<locale>/BotLocale.json`,
//!   `…/Intents/<Intent>/Intent.json`, `…/Intents/<Intent>/Slots/<Slot>/Slot.json`,
//!   `…/SlotTypes/<Type>/SlotType.json`, `…/CustomVocabulary/CustomVocabulary.json`) and the
//!   example files (BookTrip's `BookCar` intent, `CarType` slot, `CarTypeValues` slot type,
//!   a composite slot and a grammar slot type).
//! - The Lex V2 model-building API reference, which that page points to for the complete
//!   structures: `CreateIntent`, `CreateSlot`, `CreateSlotType`, and the shapes
//!   `PromptSpecification`, `ResponseSpecification`, `MessageGroup`, `Message`,
//!   `SlotValueElicitationSetting`, `IntentConfirmationSetting`, `IntentClosingSetting`,
//!   `SlotValueSelectionSetting` (`resolutionStrategy`, `regexFilter.pattern`).
//!
//! The documentation's examples and real exports spell a few fields differently
//! (`messageGroupList` in the page's examples, `messageGroupsList` in exports and
//! CloudFormation, `messageGroups` in the API; `slotValueElicitationSetting` vs
//! `valueElicitationSetting`; `allowMutlipleValues` [sic] vs `allowMultipleValues`;
//! `valueSelectionStrategy: ORIGINAL_VALUE` vs `valueSelectionSetting.resolutionStrategy:
//! OriginalValue`): every spelling is accepted. Fields this importer does not know are kept
//! in `other` so the report can list them; nothing is dropped silently.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use thiserror::Error;

use super::source::ExportFiles;

/// Why the export's JSON files could not be understood.
#[derive(Debug, Error)]
pub enum LexError {
    /// A file the layout requires is missing. Export the whole bot from Lex (Bot, not a single
    /// locale or custom vocabulary), and import the zip or the folder it unpacks to.
    #[error("{file}: missing ({why})")]
    Missing {
        /// The expected path inside the export.
        file: String,
        /// Why it is needed.
        why: String,
    },
    /// A file is not valid JSON of the expected shape (or not UTF-8). The message gives line
    /// and column; an export edited by hand is the usual cause.
    #[error("{file}:{line}:{column}: {message}")]
    Json {
        /// The path inside the export.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde's message.
        message: String,
    },
    /// The export holds more than one bot folder. Export one bot at a time.
    #[error("the export holds several bots ({0}); import one bot at a time")]
    SeveralBots(String),
    /// No locale of the export has an intent Hotline can run: a Hotline intent is recognised
    /// from its sample utterances, so intents with none (a new bot, or only built-in intents
    /// such as Kendra search or QnA) are left out, and a bot needs at least one. Add sample
    /// utterances to an intent in Lex and export again, or write the bot file by hand.
    #[error(
        "{file}: nothing to import: {why}; Hotline recognises intents from their sample utterances, so add samples to at least one intent in Lex and export again"
    )]
    NoIntents {
        /// The primary locale's `BotLocale.json`.
        file: String,
        /// What the locales held.
        why: String,
    },
}

/// Unknown fields of a JSON object, kept for the report. (`identifier`, `version` and a
/// locale's display `name` land here too: they carry nothing a Hotline bot could use.)
pub(crate) type Other = BTreeMap<String, Value>;

/// `Manifest.json`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Manifest {
    #[serde(default, alias = "metaData")]
    pub metadata: Option<ManifestMetadata>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ManifestMetadata {
    #[serde(default)]
    pub schema_version: Option<String>,
    #[serde(default)]
    pub file_format: Option<String>,
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

/// `<Bot>/Bot.json`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Bot {
    #[serde(default, alias = "botName")]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub data_privacy: Option<Value>,
    #[serde(default, rename = "idleSessionTTLInSeconds")]
    pub idle_session_ttl_in_seconds: Option<Value>,
    #[serde(flatten)]
    pub other: Other,
}

/// `BotLocales/<locale>/BotLocale.json`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BotLocale {
    /// The locale id (`en_US`).
    #[serde(default, alias = "localeId")]
    pub identifier: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub voice_settings: Option<VoiceSettings>,
    #[serde(default, alias = "nluIntentConfidenceThreshold")]
    pub nlu_confidence_threshold: Option<f64>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VoiceSettings {
    #[serde(default)]
    pub voice_id: Option<String>,
    #[serde(default)]
    pub engine: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

/// `Intents/<Intent>/Intent.json`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Intent {
    #[serde(default, alias = "intentName")]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parent_intent_signature: Option<String>,
    #[serde(default)]
    pub sample_utterances: Option<Vec<SampleUtterance>>,
    #[serde(default)]
    pub intent_confirmation_setting: Option<ConfirmationSetting>,
    #[serde(default)]
    pub intent_closing_setting: Option<ClosingSetting>,
    #[serde(default)]
    pub input_contexts: Option<Value>,
    #[serde(default)]
    pub output_contexts: Option<Value>,
    #[serde(default)]
    pub kendra_configuration: Option<Value>,
    #[serde(default, alias = "qnAIntentConfiguration")]
    pub qn_a_intent_configuration: Option<Value>,
    #[serde(default)]
    pub dialog_code_hook: Option<CodeHook>,
    #[serde(default)]
    pub fulfillment_code_hook: Option<FulfillmentCodeHook>,
    #[serde(default)]
    pub slot_priorities: Option<Vec<SlotPriority>>,
    #[serde(default)]
    pub initial_response_setting: Option<InitialResponseSetting>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SampleUtterance {
    #[serde(default)]
    pub utterance: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SlotPriority {
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default, alias = "slotId")]
    pub slot_name: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CodeHook {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FulfillmentCodeHook {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub post_fulfillment_status_specification: Option<PostFulfillment>,
    #[serde(default)]
    pub fulfillment_updates_specification: Option<Value>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PostFulfillment {
    #[serde(default)]
    pub success_response: Option<Response>,
    #[serde(default)]
    pub failure_response: Option<Response>,
    #[serde(default)]
    pub timeout_response: Option<Response>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InitialResponseSetting {
    #[serde(default)]
    pub initial_response: Option<Response>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfirmationSetting {
    /// `confirmationPrompt` in the documentation's example.
    #[serde(default, alias = "confirmationPrompt")]
    pub prompt_specification: Option<Prompt>,
    #[serde(default)]
    pub declination_response: Option<Response>,
    #[serde(default)]
    pub confirmation_response: Option<Response>,
    #[serde(default)]
    pub failure_response: Option<Response>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClosingSetting {
    #[serde(default)]
    pub closing_response: Option<Response>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(flatten)]
    pub other: Other,
}

/// `PromptSpecification`: what Lex says to ask for something.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Prompt {
    #[serde(default, alias = "messageGroupList", alias = "messageGroups")]
    pub message_groups_list: Option<Vec<MessageGroup>>,
    #[serde(default)]
    pub max_retries: Option<i64>,
    #[serde(default)]
    pub allow_interrupt: Option<bool>,
    #[serde(default)]
    pub message_selection_strategy: Option<String>,
    #[serde(default)]
    pub prompt_attempts_specification: Option<Value>,
    #[serde(flatten)]
    pub other: Other,
}

/// `ResponseSpecification`: what Lex says, no answer expected.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Response {
    #[serde(default, alias = "messageGroupList", alias = "messageGroups")]
    pub message_groups_list: Option<Vec<MessageGroup>>,
    #[serde(default)]
    pub allow_interrupt: Option<bool>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageGroup {
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub variations: Option<Vec<Message>>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Message {
    #[serde(default)]
    pub plain_text_message: Option<TextValue>,
    #[serde(default)]
    pub ssml_message: Option<TextValue>,
    #[serde(default)]
    pub custom_payload: Option<TextValue>,
    #[serde(default)]
    pub image_response_card: Option<Value>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TextValue {
    #[serde(default)]
    pub value: Option<String>,
}

/// `Slots/<Slot>/Slot.json`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Slot {
    #[serde(default, alias = "slotName")]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub multiple_values_setting: Option<MultipleValues>,
    #[serde(default, alias = "slotTypeId")]
    pub slot_type_name: Option<String>,
    #[serde(default)]
    pub obfuscation_setting: Option<Value>,
    /// At the top level in the documentation's example, inside the elicitation setting in the
    /// API and in exports.
    #[serde(default)]
    pub slot_constraint: Option<String>,
    #[serde(default, alias = "defaultValueSpecification")]
    pub default_value_spec: Option<Value>,
    #[serde(default, alias = "slotValueElicitationSetting")]
    pub value_elicitation_setting: Option<ElicitationSetting>,
    #[serde(default)]
    pub sub_slot_setting: Option<Value>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MultipleValues {
    #[serde(default, alias = "allowMutlipleValues")]
    pub allow_multiple_values: Option<bool>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ElicitationSetting {
    #[serde(default)]
    pub slot_constraint: Option<String>,
    #[serde(default)]
    pub prompt_specification: Option<Prompt>,
    #[serde(default, alias = "sampleValueElicitingUtterances")]
    pub sample_utterances: Option<Vec<SampleUtterance>>,
    #[serde(default)]
    pub wait_and_continue_specification: Option<Value>,
    #[serde(default)]
    pub default_value_specification: Option<Value>,
    #[serde(default)]
    pub slot_capture_setting: Option<Value>,
    #[serde(default)]
    pub slot_resolution_setting: Option<Value>,
    #[serde(flatten)]
    pub other: Other,
}

/// `SlotTypes/<Type>/SlotType.json`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SlotType {
    #[serde(default, alias = "slotTypeName")]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub slot_type_values: Option<Vec<SlotTypeValue>>,
    #[serde(default)]
    pub parent_slot_type_signature: Option<String>,
    #[serde(default)]
    pub value_selection_setting: Option<ValueSelection>,
    /// The documentation's older spelling of `valueSelectionSetting.resolutionStrategy`.
    #[serde(default)]
    pub value_selection_strategy: Option<String>,
    #[serde(default)]
    pub composite_slot_type_setting: Option<Value>,
    #[serde(default)]
    pub external_source_setting: Option<Value>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SlotTypeValue {
    #[serde(default)]
    pub sample_value: Option<TextValue>,
    #[serde(default)]
    pub synonyms: Option<Vec<TextValue>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ValueSelection {
    #[serde(default)]
    pub resolution_strategy: Option<String>,
    #[serde(default)]
    pub regex_filter: Option<RegexFilter>,
    #[serde(default)]
    pub advanced_recognition_setting: Option<Value>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RegexFilter {
    #[serde(default)]
    pub pattern: Option<String>,
}

/// A parsed file and where it came from.
#[derive(Debug)]
pub(crate) struct Located<T> {
    /// Its path inside the export.
    pub file: String,
    pub value: T,
}

/// One intent with its slots.
#[derive(Debug)]
pub(crate) struct LexIntent {
    pub intent: Located<Intent>,
    pub slots: Vec<Located<Slot>>,
}

/// One locale of the bot.
#[derive(Debug)]
pub(crate) struct LexLocale {
    /// The folder name under `BotLocales/` (the locale id).
    pub folder: String,
    pub locale: Located<BotLocale>,
    pub intents: Vec<LexIntent>,
    pub slot_types: Vec<Located<SlotType>>,
}

/// A whole export, parsed.
#[derive(Debug)]
pub(crate) struct LexExport {
    pub manifest: Option<Located<Manifest>>,
    /// The bot's folder name.
    pub bot_folder: String,
    pub bot: Option<Located<Bot>>,
    pub locales: Vec<LexLocale>,
    /// Files present but not part of the layout above (custom vocabularies, strays).
    pub unrecognised: Vec<String>,
}

/// Parses one file as JSON of type `T`, with the file's name in any error.
pub(crate) fn parse<T: for<'de> Deserialize<'de>>(
    file: &str,
    bytes: &[u8],
) -> Result<Located<T>, LexError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value = serde_json::from_slice(bytes).map_err(|e| LexError::Json {
        file: file.to_string(),
        line: e.line(),
        column: e.column(),
        message: if std::str::from_utf8(bytes).is_err() {
            format!("not UTF-8 text ({e})")
        } else {
            e.to_string()
        },
    })?;
    Ok(Located {
        file: file.to_string(),
        value,
    })
}

/// Finds and parses the files of the export.
pub(crate) fn read_layout(files: &ExportFiles) -> Result<LexExport, LexError> {
    // The export's root is the folder holding the manifest: the archive's root, or one folder
    // down when the export was unpacked into (or zipped from) a folder of its own.
    let manifest_path = files
        .files
        .keys()
        .filter(|p| {
            let name = p.rsplit('/').next().unwrap_or(p);
            name.eq_ignore_ascii_case("manifest.json") && p.matches('/').count() <= 1
        })
        .min_by_key(|p| p.matches('/').count())
        .cloned();
    let root = match &manifest_path {
        Some(p) => p.rsplit_once('/').map(|(dir, _)| format!("{dir}/")),
        None => None,
    }
    .unwrap_or_default();
    let manifest = match &manifest_path {
        Some(p) => Some(parse::<Manifest>(p, &files.files[p])?),
        None => None,
    };

    // Bot folders: `<root><Bot>/BotLocales/...` or `<root><Bot>/Bot.json`.
    let mut bot_folders = std::collections::BTreeSet::new();
    for path in files.files.keys() {
        let Some(rest) = path.strip_prefix(&root) else {
            continue;
        };
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.len() == 2 && parts[1] == "Bot.json" || parts.len() > 2 && parts[1] == "BotLocales"
        {
            bot_folders.insert(parts[0].to_string());
        }
    }
    let bot_folder = match bot_folders.len() {
        0 => {
            return Err(LexError::Missing {
                file: format!("{root}<BotName>/BotLocales/<locale>/BotLocale.json"),
                why: match manifest
                    .as_ref()
                    .and_then(|m| m.value.metadata.as_ref())
                    .and_then(|m| m.resource_type.as_deref())
                {
                    None if manifest.is_none() => {
                        "no Manifest.json and no bot folder: is this a Lex V2 export?".into()
                    }
                    Some(kind)
                        if !kind.eq_ignore_ascii_case("Bot")
                            && !kind.eq_ignore_ascii_case("BotLocale") =>
                    {
                        format!(
                            "the manifest says this export is a {kind}, not a bot: export the bot"
                        )
                    }
                    _ => "the export has no bot folder".into(),
                },
            });
        }
        1 => bot_folders.into_iter().next().unwrap_or_default(),
        _ => {
            return Err(LexError::SeveralBots(
                bot_folders.into_iter().collect::<Vec<_>>().join(", "),
            ));
        }
    };
    let base = format!("{root}{bot_folder}/");
    let mut used = std::collections::BTreeSet::new();
    if let Some(p) = &manifest_path {
        used.insert(p.clone());
    }

    let bot_path = format!("{base}Bot.json");
    let bot = match files.files.get(&bot_path) {
        Some(bytes) => {
            used.insert(bot_path.clone());
            Some(parse::<Bot>(&bot_path, bytes)?)
        }
        None => None,
    };

    // Locales, intents, slots and slot types, by path shape.
    let locales_prefix = format!("{base}BotLocales/");
    let mut locale_folders = std::collections::BTreeSet::new();
    for path in files.files.keys() {
        if let Some(rest) = path.strip_prefix(&locales_prefix)
            && let Some((folder, _)) = rest.split_once('/')
        {
            locale_folders.insert(folder.to_string());
        }
    }
    let mut locales = Vec::new();
    for folder in locale_folders {
        let dir = format!("{locales_prefix}{folder}/");
        let locale_path = format!("{dir}BotLocale.json");
        let Some(bytes) = files.files.get(&locale_path) else {
            return Err(LexError::Missing {
                file: locale_path,
                why: format!("the folder {dir} has no locale description"),
            });
        };
        used.insert(locale_path.clone());
        let locale = parse::<BotLocale>(&locale_path, bytes)?;

        let mut intents = Vec::new();
        let mut slot_types = Vec::new();
        let intents_prefix = format!("{dir}Intents/");
        let types_prefix = format!("{dir}SlotTypes/");
        let mut intent_folders = std::collections::BTreeSet::new();
        for path in files.files.keys() {
            if let Some(rest) = path.strip_prefix(&intents_prefix)
                && let Some((intent, _)) = rest.split_once('/')
            {
                intent_folders.insert(intent.to_string());
            }
            if let Some(rest) = path.strip_prefix(&types_prefix) {
                let parts: Vec<&str> = rest.split('/').collect();
                if parts.len() == 2 && parts[1] == "SlotType.json" {
                    used.insert(path.clone());
                    slot_types.push(parse::<SlotType>(path, &files.files[path])?);
                }
            }
        }
        for intent_folder in intent_folders {
            let idir = format!("{intents_prefix}{intent_folder}/");
            let intent_path = format!("{idir}Intent.json");
            let Some(bytes) = files.files.get(&intent_path) else {
                return Err(LexError::Missing {
                    file: intent_path,
                    why: format!("the folder {idir} has no intent description"),
                });
            };
            used.insert(intent_path.clone());
            let intent = parse::<Intent>(&intent_path, bytes)?;
            let slots_prefix = format!("{idir}Slots/");
            let mut slots = Vec::new();
            for path in files.files.keys() {
                if let Some(rest) = path.strip_prefix(&slots_prefix) {
                    let parts: Vec<&str> = rest.split('/').collect();
                    if parts.len() == 2 && parts[1] == "Slot.json" {
                        used.insert(path.clone());
                        slots.push(parse::<Slot>(path, &files.files[path])?);
                    }
                }
            }
            intents.push(LexIntent { intent, slots });
        }
        locales.push(LexLocale {
            folder,
            locale,
            intents,
            slot_types,
        });
    }
    if locales.is_empty() {
        return Err(LexError::Missing {
            file: format!("{locales_prefix}<locale>/BotLocale.json"),
            why: "the bot has no locale".into(),
        });
    }
    let unrecognised = files
        .files
        .keys()
        .filter(|p| !used.contains(*p))
        .cloned()
        .collect();
    Ok(LexExport {
        manifest,
        bot_folder,
        bot,
        locales,
        unrecognised,
    })
}
