//! The Amazon Lex V2 conversational engine ([`LexEngine`]), on the official SDK.
//!
//! - Audio turns: `RecognizeUtterance` with the utterance's 8 kHz 16-bit little-endian PCM
//!   ([`LPCM_8K`]); the reply headers (`messages`, `interpretations`, `sessionState`,
//!   `inputTranscript`, `requestAttributes`) arrive gzip + base64 and are decoded by [`wire`].
//! - Text and digits: also `RecognizeUtterance`, with [`TEXT_INPUT`] (`text/plain;
//!   charset=utf-8`) — not `RecognizeText`: Lex answers unfilled slots as `"Date": null`, and
//!   the SDK's typed RecognizeText output rejects that ("dense map cannot contain null values",
//!   smithy-rs#2239), so every text turn with an unfilled slot would fail; RecognizeUtterance's
//!   headers are decoded here, tolerating nulls (a test against the fake endpoint shows both).
//!   Digits are sent as text (DTMF input exists only in StartConversation). `Start` sends
//!   [`LexConfig::start_text`](hotline_bot::LexConfig) so the bot's welcome intent greets.
//! - The session id is the call SID; Lex keeps the dialog state per session. Session attributes
//!   go out on every turn and come back merged into `BotSession::attributes`; the last
//!   `sessionState` (Lex's JSON shape) is kept in `BotSession::engine_state` and sent back,
//!   gzip + base64, with the next turn.
//! - StartConversation (bidirectional HTTP/2 event streams) is not used: Hotline's media pipeline
//!   already endpoints utterances, so the seed's turn-based model needs RecognizeUtterance only,
//!   which is a plain request/response that is easy to bound, retry and test against a fake
//!   endpoint; the streaming API would need HTTP/2 end to end and its own barge-in handling.
//!
//! [`build`] builds any [`EngineConfig`](hotline_bot::EngineConfig): `hotline-bot` cannot build
//! the Lex engine itself without a dependency cycle.

mod backend;
pub mod wire;

pub use backend::{LPCM_8K, LexEngine, TEXT_INPUT, build};
