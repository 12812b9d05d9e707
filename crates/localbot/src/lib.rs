//! Hotline's embedded conversational engine: bots described in YAML files (intents with sample
//! utterances, typed slots, prompts, confirmation, fulfilment by message or webhook), run
//! locally with no cloud account. The format is documented in `docs/bots.md` ("Local bots").
//!
//! - [`model`]: the file format's types (also written by `hotline bot import`).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod model;

pub use model::{
    BotFile, Fulfill, IntentDef, Locale, OrderedMap, SlotDef, SlotType, SlotValue, Then,
    Validation, Webhook,
};
