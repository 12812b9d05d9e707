//! The bot file format (`type: local` bots): plain serde types, documented in `docs/bots.md`.
//!
//! These types are the format's contract: the loader ([`crate::load_bot`]) deserializes them
//! after a span-aware check, and `hotline bot import` builds them from a Lex V2 export and
//! writes them out with serde. They hold no behaviour beyond defaults; validation lives in
//! `validate.rs`, the dialog in `dialog.rs`.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A mapping that keeps its entries in file order (slot order is elicitation priority).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<V> OrderedMap<V> {
    /// The value for `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Appends an entry (replacing an existing one with the same key, in place).
    pub fn insert(&mut self, key: impl Into<String>, value: V) {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.0.push((key, value)),
        }
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V2<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V2<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of names to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = access.next_entry::<String, V>()? {
                    out.push((k, v));
                }
                Ok(OrderedMap(out))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(OrderedMap(Vec::new()))
            }
        }
        deserializer.deserialize_map(V2(PhantomData))
    }
}

/// A whole bot file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotFile {
    /// The bot's id (`appointments`).
    pub bot: String,
    /// What the bot is for (documentation only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// One entry per locale (`en_US`, `fr_FR`), in file order; the first is the default.
    pub locales: OrderedMap<Locale>,
}

/// Default for [`Locale::confidence`].
pub const DEFAULT_CONFIDENCE: f32 = 0.55;
/// Default for [`Locale::max_retries`].
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// Default for [`Webhook::timeout_ms`].
pub const DEFAULT_WEBHOOK_TIMEOUT_MS: u64 = 3000;

/// One locale of a bot: what it says and understands in that language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Locale {
    /// The `<Say>` voice (`Polly.Joanna`); the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    /// Said when the call reaches the bot.
    pub greeting: String,
    /// Said when no intent matches (or an answer cannot be understood).
    pub fallback: String,
    /// Intent confidence (0..=1) below which the fallback is said. Default 0.55.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    /// How many times in a row a question is asked again (reprompts, fallbacks) before
    /// `give_up`. Default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// What happens after `max_retries` failed attempts in a row. Default: say the fallback
    /// and hang up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub give_up: Option<GiveUp>,
    /// Custom slot types by name.
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    pub slot_types: OrderedMap<SlotType>,
    /// Intents by name, in file order.
    #[serde(default)]
    pub intents: OrderedMap<IntentDef>,
}

impl Locale {
    /// The confidence threshold.
    pub fn threshold(&self) -> f32 {
        self.confidence.unwrap_or(DEFAULT_CONFIDENCE)
    }
    /// The retry limit.
    pub fn retries(&self) -> u32 {
        self.max_retries.unwrap_or(DEFAULT_MAX_RETRIES)
    }
}

/// What happens when the caller could not be understood `max_retries` times in a row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GiveUp {
    /// Said before acting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub say: Option<String>,
    /// What to do with the call (default `hangup`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<Then>,
}

/// A custom slot type: a list of values with synonyms, or a regular expression.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotType {
    /// What the type is for (documentation only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The accepted values (the slot is set to `value`, whichever synonym was said).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<SlotValue>,
    /// A regular expression the whole answer must match (after trimming).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// With `values`: also accept other answers as they were said (Lex's
    /// `OriginalValue`). Default false: only listed values and synonyms.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub open: bool,
}

/// One value of a custom slot type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotValue {
    /// The canonical value given to fulfilment.
    pub value: String,
    /// Other ways to say it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
}

/// One intent: what the caller wants, how to recognise it, what to ask and what to do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentDef {
    /// What the intent is for (documentation only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Example utterances; `{Slot}` marks where a slot's value is said.
    #[serde(default)]
    pub samples: Vec<String>,
    /// DTMF digits that select this intent when no question is pending (`"1"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digits: Option<String>,
    /// Slots, in elicitation order.
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    pub slots: OrderedMap<SlotDef>,
    /// Confirmation question once the slots are filled (`{Slot}` placeholders allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<String>,
    /// Said when the caller answers no to the confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declined: Option<String>,
    /// What to do once the slots are filled (and confirmed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfill: Option<Fulfill>,
    /// What happens to the call afterwards. Default `listen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<Then>,
}

/// One slot of an intent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotDef {
    /// A built-in type (`number`, `digits`, `yes_no`, `date`, `time`, `phone`, `spelled`,
    /// `text`) or a custom type of the locale's `slot_types`.
    #[serde(rename = "type")]
    pub slot_type: String,
    /// Whether the intent needs it (elicited when missing). Default true.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub required: bool,
    /// The question that elicits it (required slots must have one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Asked instead of `prompt` on later attempts, in order (the last one repeats).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reprompts: Vec<String>,
    /// A check on the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<Validation>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A check on a slot's value; a failing value is dropped, `message` said and the slot asked
/// again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validation {
    /// Inclusive bounds, in the slot's value format (`["08:00", "18:00"]`, `[1, 10]`,
    /// `["2026-01-01", "2026-12-31"]`); `today` is allowed for dates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub between: Option<[String; 2]>,
    /// A regular expression the value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Exact number of characters (digits, phone, spelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<usize>,
    /// Said when the value fails.
    pub message: String,
}

/// Fulfilment: a templated message, a webhook, or both (the message is said when the webhook
/// sends none).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fulfill {
    /// Said when the intent is fulfilled (`{Slot}`, `{attr.name}` placeholders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub say: Option<String>,
    /// An HTTP endpoint called with the intent and its slots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Webhook>,
}

/// A fulfilment webhook: `POST url` with JSON `{bot, intent, slots, attributes, locale,
/// call_sid}`; the answer may set `messages`, `slots`, `attributes`, `then`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// `http://` or `https://` URL.
    pub url: String,
    /// Time limit, in milliseconds. Default 3000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Said when the webhook fails or times out (default: the locale's fallback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

/// What happens to the call after an intent is fulfilled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Then {
    /// Keep listening for the next request.
    Listen,
    /// Hang up.
    Hangup,
    /// Transfer the call to this number (E.164) or SIP address.
    Transfer(String),
    /// Hand the call back to the flow that started the bot.
    Return,
    /// Score the answers and pick an outcome (symptom checkers, surveys): see [`ScoreRule`].
    Score(Box<ScoreRule>),
}

/// `then: { score: ... }`: adds points for the intent's slots answered yes, ends the dialog at
/// once when a red-flag slot is answered yes, and otherwise, once every slot is filled, picks
/// `high` (score ≥ `at_least`) or `low`. The score is `{score}` in the outcomes' messages and
/// the `score` slot of the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreRule {
    /// Points per slot answered yes (`yes_no` slots), or whose number is added (`number`).
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    pub points: OrderedMap<u32>,
    /// Slots whose yes ends the dialog at once with the `high` outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub red_flags: Vec<String>,
    /// The score from which `high` is chosen.
    pub at_least: u32,
    /// The outcome for a red flag or a high score.
    pub high: Outcome,
    /// The outcome otherwise.
    pub low: Outcome,
}

/// What a scored intent ends with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// Said (`{Slot}`, `{score}`, `{attr.name}` placeholders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub say: Option<String>,
    /// What happens to the call (default `listen`; not `score`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<Then>,
}

/// The built-in slot types.
pub const BUILTIN_TYPES: [&str; 8] = [
    "number", "digits", "yes_no", "date", "time", "phone", "spelled", "text",
];
