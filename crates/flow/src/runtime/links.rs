//! How the server turns runtime references into URLs: the action URL of the next webhook, the
//! URL of an audio prompt, the entry of another flow.
//!
//! The runtime knows neither the public host name nor how prompts are served or signed; it asks
//! through this trait. Implementations must be pure and cheap (no I/O: they run inside a step).

use super::session::Session;
use crate::{Audio, Bot, Flow};

/// URL building, implemented by the server.
pub trait Links {
    /// The URL Twilio should call back for the session's next input. It must carry
    /// [`Session::seq`] (and identify the call and flow) so the server can detect retried or
    /// stale webhooks, e.g. `https://host/flows/{flow_id}/step?seq={seq}`. Called after the
    /// step has incremented `seq`.
    fn action(&self, session: &Session) -> String;

    /// The URL of an audio prompt for `flow` in `language` (a public, presigned or proxied
    /// URL). `None` when it cannot be served: the runtime skips the prompt and records a
    /// `prompt_unavailable` event rather than failing the call.
    fn prompt(&self, flow: &Flow, audio: &Audio, language: &str) -> Option<String>;

    /// The URL that starts another flow on the same call (for `redirect`).
    fn flow_entry(&self, flow_id: &str) -> String;

    /// A number or SIP URI to transfer the caller to when the flow fails (after the spoken
    /// apology), instead of hanging up. Default: none, hang up.
    fn error_transfer(&self, flow: &Flow) -> Option<String> {
        let _ = flow;
        None
    }

    /// The URL Twilio posts the transcription of a `record` node's recording to
    /// (`<Record transcribeCallback>`, for `transcribe: true`), or `None` to leave it with
    /// Twilio. Like [`Links::action`] it is called after the step incremented [`Session::seq`];
    /// it must identify the flow and the node (`node`). Default: none.
    fn transcription(&self, session: &Session, node: &str) -> Option<String> {
        let _ = (session, node);
        None
    }

    /// The URL that hands the call to the voice bot of a `bot` node, or `None` when the server
    /// has no such bot (the caller then hears that the assistant is unavailable and the flow
    /// takes `fallback`, else `next`). Like [`Links::action`] it must carry [`Session::seq`]
    /// (called after the step incremented it) and identify the flow, so that the bot can hand
    /// the call back to the step that waits for it. Default: no bots.
    fn bot_entry(&self, session: &Session, bot: &Bot) -> Option<String> {
        let _ = (session, bot);
        None
    }
}
