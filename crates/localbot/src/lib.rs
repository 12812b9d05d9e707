//! Hotline's embedded conversational engine: bots described in YAML files (intents with sample
//! utterances, typed slots, prompts, confirmation, fulfilment by message or webhook), run
//! locally with no cloud account. The format is documented in `docs/bots.md` ("Local bots").
//!
//! - [`model`]: the file format's types (also written by `hotline bot import`).
//! - [`load_bot`] / [`parse_bot`]: YAML with spans → shape check → model → semantic checks
//!   (every problem at once, stable codes in [`codes`], rendered with `hotline_flow`'s
//!   diagnostics) → a compiled [`Bot`].
//! - [`slots`]: slot value parsers per type (numbers, dates, times, phones, yes/no…).
//! - [`classify`]: intent classification (sentence embeddings + lexical + fuzzy slot values).
//! - [`dialog`]: the sans-IO dialog manager.
//! - [`LocalEngine`]: the `hotline_bot::Engine` driving it all (ASR, webhooks, the clock).
//! - [`IntentModel`]: a bot's intents alone, for flows that route answers by intent.
//!
//! ```no_run
//! # async fn demo() -> Result<(), hotline_bot::EngineError> {
//! use hotline_bot::{BotSession, LocalConfig, TurnInput};
//! let engine = hotline_localbot::build(&LocalConfig::new("examples/bots/appointments.yaml")).await?;
//! let mut session = BotSession::new("CA123", "appointments", "en_US");
//! let reply = engine.turn(&mut session, TurnInput::Text("book a cleaning".into())).await?;
//! println!("{:?}", reply.messages);
//! # Ok(()) }
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod bot;
pub mod classify;
pub mod codes;
pub mod dialog;
mod engine;
pub mod eval;
pub mod import;
mod intents;
pub mod model;
mod schema;
pub mod slots;
pub mod text;
mod validate;
mod yaml;

pub use bot::{
    Bot, CompiledIntent, CompiledLocale, LoadedBot, MAX_BOT_BYTES, Sample, compile, load_bot,
    looks_like_bot, parse_bot, template_placeholders,
};
pub use classify::{Classifier, EncodeError, Encoder, Scored, Weights};
pub use engine::{
    LocalEngine, TurnTrace, build, build_local, build_local_with, build_with, default_models_dir,
    load_encoder,
};
pub use intents::IntentModel;
pub use model::{
    BotFile, Fulfill, IntentDef, Locale, OrderedMap, Outcome, ScoreRule, SlotDef, SlotType,
    SlotValue, Then, Validation, Webhook,
};
