//! The data exchanged with an [`Engine`](crate::Engine): turns, sessions and replies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One caller turn given to a conversational engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnInput {
    /// What the caller said: 8 kHz, 16-bit mono PCM (the media pipeline's utterance).
    Audio {
        /// The samples, 8000 per second.
        pcm_8k: Vec<i16>,
    },
    /// Text (a chat channel, or a transcript made elsewhere).
    Text(String),
    /// DTMF digits the caller pressed (`"1"`, `"1234#"`).
    Digits(String),
    /// The call reached the bot: let it greet.
    Start,
}

/// A call's conversation with one bot, kept by the caller between turns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BotSession {
    /// The Twilio call SID; engines use it as their session id.
    pub call_sid: String,
    /// The bot's name in Hotline (for logs).
    pub bot: String,
    /// The conversation's locale (`en_US`, `fr_FR`).
    pub locale: String,
    /// Session attributes, sent to the engine each turn and updated from its replies.
    pub attributes: BTreeMap<String, String>,
    /// Opaque per-engine state (Lex: the last `sessionState`; the fake: its dialog position).
    pub engine_state: Option<serde_json::Value>,
}

impl BotSession {
    /// A fresh session for `call_sid` talking to `bot` in `locale`.
    pub fn new(
        call_sid: impl Into<String>,
        bot: impl Into<String>,
        locale: impl Into<String>,
    ) -> Self {
        BotSession {
            call_sid: call_sid.into(),
            bot: bot.into(),
            locale: locale.into(),
            attributes: BTreeMap::new(),
            engine_state: None,
        }
    }
}

/// The state of the intent an engine recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntentState {
    /// Slots are still being elicited.
    InProgress,
    /// All slots are filled; the application should fulfil it.
    ReadyForFulfillment,
    /// Fulfilment is running (Lex fulfilment updates).
    FulfillmentInProgress,
    /// Waiting for the caller (Lex `Waiting`).
    Waiting,
    /// Fulfilled: done.
    Fulfilled,
    /// Failed (fulfilment failed, or the caller declined a confirmation).
    Failed,
}

/// An intent recognised by the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    /// The intent's name in the engine (`BookAppointment`).
    pub name: String,
    /// The NLU confidence, 0..=1, when the engine gives one.
    pub confidence: Option<f32>,
    /// Where the intent stands.
    pub state: IntentState,
}

/// What the engine does next in the dialog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DialogAction {
    /// The engine asks for a slot's value.
    ElicitSlot {
        /// The slot asked for.
        slot: String,
    },
    /// The engine asks what the caller wants.
    ElicitIntent,
    /// The engine asks the caller to confirm the intent.
    ConfirmIntent,
    /// The intent is closed (fulfilled or failed).
    Close,
    /// The engine decides the next step itself.
    Delegate,
}

/// What to do with the call after saying the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallAction {
    /// Keep listening for the caller's next turn.
    Continue,
    /// Hang up once the messages are said.
    Hangup,
    /// Transfer the call to this number (E.164) or SIP address.
    Transfer(String),
    /// Hand the call back to the flow that started the bot.
    ReturnToFlow,
}

/// An engine's answer to one turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// Messages to say, in order.
    pub messages: Vec<String>,
    /// Audio to play instead of the messages (8 kHz mu-law), when the engine speaks itself.
    pub audio: Option<Vec<u8>>,
    /// What the engine heard (audio turns).
    pub transcript: Option<String>,
    /// The current intent, if any.
    pub intent: Option<Intent>,
    /// Filled slots: name → interpreted value.
    pub slots: BTreeMap<String, String>,
    /// The dialog's next step.
    pub dialog: DialogAction,
    /// What to do with the call.
    pub action: CallAction,
}

impl Reply {
    /// A reply that says `messages` and keeps listening, with no intent.
    pub fn say(messages: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Reply {
            messages: messages.into_iter().map(Into::into).collect(),
            audio: None,
            transcript: None,
            intent: None,
            slots: BTreeMap::new(),
            dialog: DialogAction::ElicitIntent,
            action: CallAction::Continue,
        }
    }

    /// The intent's name, if any.
    pub fn intent_name(&self) -> Option<&str> {
        self.intent.as_ref().map(|i| i.name.as_str())
    }
}
