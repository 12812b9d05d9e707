//! What one step produces: the TwiML to answer now, an optional effect for the server to
//! perform, and events for the durable call record.
//!
//! Plain data only. Nothing here performs the effect or writes the events anywhere: that is the
//! server's and the store's job.

use hotline_twilio::twiml::Response;
use serde::{Deserialize, Serialize};

use crate::Literal;

/// The result of [`super::start`] or [`super::step`].
#[derive(Clone, Debug, PartialEq)]
pub struct Turn {
    /// What to answer Twilio now. Never empty when `effect` is `None`. When `effect` is set,
    /// it holds the prompts spoken *before* the effect (often none): keep them and send them
    /// in front of the next turn's response (see [`Turn::then`]).
    pub response: Response,
    /// IO the server must perform before answering; then it calls [`super::step`] with the
    /// result and answers Twilio with the combined response.
    pub effect: Option<Effect>,
    /// What happened, in order, for the call record.
    pub events: Vec<StepEvent>,
}

impl Turn {
    /// Chains the turn that followed an effect after this one: the verbs and events of `self`
    /// come first, and the effect is `next`'s. The server's loop is:
    ///
    /// ```ignore
    /// let mut turn = hotline_flow::runtime::step(&flow, &mut session, input, &links);
    /// while let Some(Effect::Webhook { url, body, timeout_ms }) = turn.effect.take() {
    ///     let reply = http_post_json(&url, &body, timeout_ms).await; // Result<Value, String>
    ///     let next = step(&flow, &mut session, Input::WebhookReplied(reply), &links);
    ///     turn = turn.then(next);
    /// }
    /// // store session + turn.events, answer Twilio with turn.response.to_xml()
    /// ```
    pub fn then(mut self, next: Turn) -> Turn {
        self.response.verbs.extend(next.response.verbs);
        self.events.extend(next.events);
        self.effect = next.effect;
        self
    }
}

/// IO the runtime needs the server to perform.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// `POST url` with `Content-Type: application/json` and `body`. Give up after
    /// `timeout_ms` (the server may cap it to stay within Twilio's 15 s webhook limit) and
    /// report the result with [`super::Input::WebhookReplied`]: `Ok(json)` for a 2xx reply whose
    /// body parsed as JSON, `Err(reason)` for a timeout, a connection error, another status or
    /// a body that is not JSON.
    Webhook {
        /// The URL from the flow.
        url: String,
        /// The request body (the contract in `docs/flows.md`, "webhook").
        body: serde_json::Value,
        /// The flow's timeout, in milliseconds.
        timeout_ms: u64,
    },
}

/// The final destination of a call, for the funnel report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Transferred to a number or SIP URI (see the `dial_ended` event for its status).
    Dialed {
        /// The number or URI dialled.
        target: String,
    },
    /// Left in a queue.
    Enqueued {
        /// The queue.
        queue: String,
    },
    /// Sent on to another flow.
    Redirected {
        /// The other flow's id.
        flow: String,
    },
    /// A `hangup` node ended the call.
    HungUp,
    /// A message was recorded and the call ended.
    Recorded,
    /// Handed to a voice bot for good.
    HandedToBot {
        /// The bot's name.
        bot: String,
    },
    /// The caller hung up while the flow was still running (Twilio's status callback).
    CallerHungUp,
    /// An internal inconsistency or a failed hand-off with nowhere to go; the caller heard an
    /// apology.
    Error {
        /// What went wrong (for operators, never spoken).
        message: String,
    },
}

impl Outcome {
    /// A short name for reports (`dialed`, `enqueued`…).
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Dialed { .. } => "dialed",
            Outcome::Enqueued { .. } => "enqueued",
            Outcome::Redirected { .. } => "redirected",
            Outcome::HungUp => "hung_up",
            Outcome::Recorded => "recorded",
            Outcome::HandedToBot { .. } => "handed_to_bot",
            Outcome::CallerHungUp => "caller_hung_up",
            Outcome::Error { .. } => "error",
        }
    }
}

/// One thing that happened during a step, for the durable call record. Transcripts (`Heard`)
/// and phone numbers are personal data: store them, do not log them at info level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StepEvent {
    /// A node was entered.
    Entered {
        /// Node id.
        node: String,
    },
    /// Text was spoken (rendered template).
    Said {
        /// Node id.
        node: String,
        /// The text.
        text: String,
    },
    /// An audio file was played.
    Played {
        /// Node id.
        node: String,
        /// The URL given to Twilio.
        url: String,
    },
    /// A `play` prompt was skipped because [`super::Links::prompt`] returned `None`.
    PromptUnavailable {
        /// Node id.
        node: String,
        /// The prompt as written in the flow.
        prompt: String,
    },
    /// A question was asked (attempt 1) or asked again.
    Asked {
        /// Node id.
        node: String,
        /// 1-based attempt number.
        attempt: u32,
    },
    /// An answer arrived.
    Heard {
        /// Node id.
        node: String,
        /// The transcript.
        speech: Option<String>,
        /// The recognizer's confidence, 0-1.
        confidence: Option<f32>,
        /// Keys pressed.
        digits: Option<String>,
        /// The intent recognised in the transcript (flows with `intents:`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        intent: Option<super::input::Understood>,
    },
    /// A route (or the default route, labelled `default`) was taken.
    Matched {
        /// Node id.
        node: String,
        /// The route's label, `default` for `next`.
        route: String,
        /// The target node.
        target: String,
    },
    /// The answer matched no route.
    NoMatch {
        /// Node id.
        node: String,
        /// No-matches so far at this node.
        count: u32,
    },
    /// Nothing was said or pressed.
    NoInput {
        /// Node id.
        node: String,
        /// Silences so far at this node.
        count: u32,
    },
    /// Every attempt failed; the call goes to the `exhausted` node.
    Exhausted {
        /// Node id.
        node: String,
        /// Where the call goes.
        target: String,
    },
    /// A variable changed.
    Set {
        /// The variable.
        var: String,
        /// Its new value.
        value: Literal,
    },
    /// The call's language changed.
    LanguageChanged {
        /// The new language.
        language: String,
    },
    /// A `<Dial>` finished.
    DialEnded {
        /// Node id.
        node: String,
        /// Twilio's `DialCallStatus`.
        status: String,
    },
    /// The caller left a queue.
    QueueLeft {
        /// Node id.
        node: String,
        /// Twilio's `QueueResult`.
        result: String,
    },
    /// A recording finished.
    Recorded {
        /// Node id.
        node: String,
        /// Its length.
        duration_secs: u32,
    },
    /// A webhook was requested from the server.
    WebhookRequested {
        /// Node id.
        node: String,
        /// The URL.
        url: String,
    },
    /// A webhook reply was applied (`ok`) or the fallback was taken.
    WebhookCalled {
        /// Node id.
        node: String,
        /// Whether the reply was good.
        ok: bool,
        /// Why it was not, or which reply fields were ignored.
        detail: Option<String>,
    },
    /// A bot could not take the call (the server has no such bot); the flow went on.
    BotUnavailable {
        /// Node id.
        node: String,
        /// The bot's name.
        bot: String,
    },
    /// The call was handed to a bot; the flow waits for it to hand the call back.
    BotStarted {
        /// Node id.
        node: String,
        /// The bot's name.
        bot: String,
    },
    /// A bot finished and handed the call back.
    BotReturned {
        /// Node id.
        node: String,
        /// Whether it succeeded.
        ok: bool,
    },
    /// The session was stepped with a different version of its flow than it started on.
    FlowVersionChanged {
        /// The version the call was on.
        from: String,
        /// The version it continues on.
        to: String,
    },
    /// An input arrived that the session was not waiting for.
    Unexpected {
        /// What the session was waiting for ([`super::Awaiting::name`]).
        awaiting: String,
        /// What arrived ([`super::Input::name`]).
        input: String,
    },
    /// The flow is done with the call.
    Ended {
        /// The node the call ended at.
        node: String,
        /// Where the call went.
        outcome: Outcome,
    },
}
