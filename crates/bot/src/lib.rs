//! Conversational engines for Hotline's voice bots (issue 4).
//!
//! An [`Engine`] takes one caller turn ([`TurnInput`]: audio, text, digits, or the call reaching
//! the bot) for a call's [`BotSession`] and answers with a [`Reply`]: the messages to say, the
//! intent, slots and dialog action, and what to do with the call ([`CallAction`]).
//!
//! Backends follow ENGINEERING §4: each has a config (`validate()` pure, `build()` doing IO)
//! selected by a `type` tag in [`EngineConfig`], and every backend — the scripted
//! [`FakeEngine`] included — passes the shared suite in `conformance` (feature `conformance`).
//! The Amazon Lex V2 backend's configuration ([`LexConfig`]) lives here; its implementation is in
//! `hotline-aws` (`hotline_aws::lex`), which depends on this crate for the trait — see
//! [`EngineConfig::build`].
//!
//! Engines report raw replies; a [`ReplyPolicy`] decides the [`CallAction`] (hang up after a
//! fulfilled goodbye intent, transfer or return to the flow per intent, else keep listening).
//! [`with_timeout`] turns a slow engine into [`EngineError::Timeout`], and [`fallback_reply`]
//! gives the caller an apology instead of silence when a turn fails.

mod config;
mod error;
pub mod fake;
mod lex;
mod policy;
mod timeout;
mod types;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use config::{EngineConfig, LocalConfig};
pub use error::EngineError;
pub use fake::{FakeConfig, FakeEngine};
pub use lex::{DEFAULT_LEX_TIMEOUT_MS, LexConfig, StaticCredentials};
pub use policy::{ReplyPolicy, fallback_reply};
pub use timeout::{TimeoutEngine, with_timeout};
pub use types::{BotSession, CallAction, DialogAction, Intent, IntentState, Reply, TurnInput};

use async_trait::async_trait;

/// A conversational engine: one call's turns in, replies out.
///
/// Contract for implementers (checked by the conformance suite):
/// - `turn` answers every input kind; [`TurnInput::Start`] lets the bot greet.
/// - Per-call state is either kept by the engine's service under `session.call_sid` (Lex) or
///   carried in `session.engine_state` (the fake); the caller stores the session between turns.
/// - `session.attributes` given by the caller are sent to the engine and come back in the
///   session, merged with any the engine sets.
/// - The reply's [`Reply::action`] is [`CallAction::Continue`] unless the engine itself knows
///   better; the [`ReplyPolicy`] decides hang-ups, transfers and returns to the flow.
/// - Failures are [`EngineError`]s with the right retryability; an engine never panics on a
///   peer's data. Engines should bound their own latency, and callers wrap them in
///   [`with_timeout`] anyway.
#[async_trait]
pub trait Engine: Send + Sync {
    /// Plays one caller turn and returns the engine's reply, updating `session`.
    async fn turn(&self, session: &mut BotSession, input: TurnInput) -> Result<Reply, EngineError>;

    /// The backend's name, for logs and metrics (`"fake"`, `"lex"`).
    fn name(&self) -> &'static str;
}
