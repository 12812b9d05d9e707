//! What the server tells the runtime: the decoded content of a Twilio webhook, or the result
//! of an effect the runtime asked for.
//!
//! Decoding Twilio's form parameters is the server's job (it owns HTTP); this file only defines
//! the vocabulary and does no parsing or I/O.

use std::collections::BTreeMap;

use super::session::CallFacts;

/// One input to [`super::step`].
///
/// How the server maps Twilio's webhook parameters:
///
/// | Twilio request | Input |
/// |---|---|
/// | the incoming-call webhook | [`Input::Start`] (via [`super::start`]) |
/// | `<Gather>` action with `SpeechResult` and/or `Digits` | [`Input::Gathered`] |
/// | `<Gather>` action with neither (we always set `actionOnEmptyResult`) | [`Input::NoInput`] |
/// | `<Dial>` action (`DialCallStatus`) | [`Input::DialEnded`] |
/// | `<Enqueue>` action (`QueueResult`) | [`Input::QueueLeft`] |
/// | `<Record>` action (`RecordingUrl`, `RecordingDuration`) | [`Input::Recorded`] |
/// | call status callback with a final `CallStatus` | [`Input::CallEnded`] |
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A new call. Only valid on a fresh [`super::Session`] (see [`super::start`]).
    Start(CallFacts),
    /// A `<Gather>` result: the transcript with its confidence (`SpeechResult`, `Confidence`)
    /// and/or the keys pressed (`Digits`). Blank values count as absent; when both are absent
    /// this is the same as [`Input::NoInput`].
    Gathered {
        /// Transcript and confidence (0-1).
        speech: Option<(String, f32)>,
        /// Keys pressed.
        digits: Option<String>,
        /// What the flow's intent engine (`intents:`) made of the transcript, when the flow
        /// declares one and an intent scored above the engine's threshold. The server fills
        /// it; Twilio's parameters never do.
        intent: Option<Understood>,
    },
    /// The `<Gather>` ended without any input.
    NoInput,
    /// The `<Dial>` ended with this `DialCallStatus` (`completed`, `answered`, `busy`,
    /// `no-answer`, `failed`, `canceled`).
    DialEnded {
        /// `DialCallStatus`.
        status: String,
    },
    /// The caller left the queue with this `QueueResult` (`bridged`, `queue-full`, `hangup`,
    /// `leave`, `redirected`, `error`, `system-error`).
    QueueLeft {
        /// `QueueResult`.
        result: String,
    },
    /// The `<Record>` finished.
    Recorded {
        /// `RecordingUrl`.
        url: String,
        /// `RecordingDuration`.
        duration_secs: u32,
    },
    /// The server performed the [`super::Effect::Webhook`]: `Ok` with the parsed JSON body of
    /// a 2xx reply, `Err` with the reason otherwise (timeout, connection, status, not JSON).
    WebhookReplied(Result<serde_json::Value, String>),
    /// A bot finished and handed back what it collected.
    BotReturned {
        /// Collected slots, by variable name.
        slots: BTreeMap<String, String>,
    },
    /// A bot failed or ran over its `max-duration`.
    BotFailed {
        /// Why (for the call record).
        reason: String,
    },
    /// Twilio's status callback reported that the call is over (`completed`, `busy`,
    /// `no-answer`, `failed`, `canceled`). Records [`super::Outcome::CallerHungUp`] when the
    /// flow had not ended yet. The response is ignored by Twilio.
    CallEnded {
        /// `CallStatus`.
        status: String,
    },
}

/// An intent recognised in a transcript by the flow's intent engine.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Understood {
    /// The intent's name, as in the flow's `intent:` routes.
    pub intent: String,
    /// The engine's confidence, 0-1.
    pub confidence: f32,
}

impl Input {
    /// A short name for events and logs (`gathered`, `no_input`…).
    pub fn name(&self) -> &'static str {
        match self {
            Input::Start(_) => "start",
            Input::Gathered { .. } => "gathered",
            Input::NoInput => "no_input",
            Input::DialEnded { .. } => "dial_ended",
            Input::QueueLeft { .. } => "queue_left",
            Input::Recorded { .. } => "recorded",
            Input::WebhookReplied(_) => "webhook_replied",
            Input::BotReturned { .. } => "bot_returned",
            Input::BotFailed { .. } => "bot_failed",
            Input::CallEnded { .. } => "call_ended",
        }
    }
}
