//! The state a call carries between two webhooks, and the facts the server passes in.
//!
//! A [`Session`] is plain data: serde-serialisable to JSON so that any store can keep it, and
//! free of indexes into a particular [`Flow`] value (nodes are named, not numbered), so a
//! session survives a server restart. This file holds no stepping logic and does no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::turn::Outcome;
use crate::{Flow, Literal};

/// Most node ids kept in [`Session::path`]; older entries are dropped first.
pub const MAX_PATH: usize = 256;

/// Everything a call carries between webhooks.
///
/// Create it with [`super::start`] (or [`Session::new`] followed by `step(…, Input::Start)`),
/// store it after every [`super::step`], and load it again for the next webhook of the same
/// call. It serialises to JSON with serde.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Session {
    /// Twilio's `CallSid`.
    pub call_sid: String,
    /// The caller's number (`From`), the `caller` variable.
    pub caller: String,
    /// The number that was called (`To`), the `called` variable.
    pub called: String,
    /// When the call started (Unix milliseconds, from [`CallFacts::now_unix_ms`]).
    pub started_unix_ms: u64,
    /// The flow's id ([`Flow::id`]).
    pub flow_id: String,
    /// [`Flow::version_hash`] of the flow the call started on. The server should step a call
    /// through that same version until it ends; see [`super::step`] for what happens if not.
    pub flow_version: String,
    /// The current node, by id (name).
    pub node: String,
    /// Step counter, incremented by every [`super::step`]. It goes into every action URL (via
    /// [`super::Links::action`]) so that a retried or stale webhook can be detected with
    /// [`Session::check_seq`].
    pub seq: u64,
    /// The call's current language (starts as [`Flow::default_language`]; routes may switch it).
    pub language: String,
    /// The call's variables (declared, set, answers, webhook and bot results). Built-ins that
    /// derive from the session itself (`caller`, `called`, `call_sid`, `language`, `flow`,
    /// `node`, `attempt`) are not stored here.
    pub vars: BTreeMap<String, Literal>,
    /// Silences so far at the current `ask` node (reset on entering any node).
    pub no_input: u32,
    /// Unmatched answers so far at the current `ask` node (reset on entering any node).
    pub no_match: u32,
    /// What the last response is waiting for.
    pub awaiting: Awaiting,
    /// Nodes entered, oldest first, at most [`MAX_PATH`] (the oldest are dropped).
    pub path: Vec<String>,
    /// The call's final destination once the flow is done with it.
    pub ended: Option<Outcome>,
}

/// What the last response sent to Twilio (or the last effect) is waiting for.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Awaiting {
    /// A fresh session: waiting for [`super::Input::Start`].
    Start,
    /// A `<Gather>` result (or no-input) for this `ask` node.
    Gather {
        /// The `ask` node.
        node: String,
    },
    /// The end of a `<Dial>` from this node.
    Dial {
        /// The `dial` node.
        node: String,
    },
    /// The caller leaving the queue of this `enqueue` node.
    Enqueue {
        /// The `enqueue` node.
        node: String,
    },
    /// A `<Record>` result for this node.
    Record {
        /// The `record` node.
        node: String,
    },
    /// The server's reply to an [`super::Effect::Webhook`] requested by this node.
    Webhook {
        /// The `webhook` node.
        node: String,
    },
    /// A bot's result for this node.
    Bot {
        /// The `bot` node.
        node: String,
    },
    /// Nothing: the call has ended (or was handed off for good).
    Nothing,
}

impl Awaiting {
    /// The node the call waits at, if any.
    pub fn node(&self) -> Option<&str> {
        match self {
            Awaiting::Gather { node }
            | Awaiting::Dial { node }
            | Awaiting::Enqueue { node }
            | Awaiting::Record { node }
            | Awaiting::Webhook { node }
            | Awaiting::Bot { node } => Some(node),
            Awaiting::Start | Awaiting::Nothing => None,
        }
    }

    /// A short name for logs and events (`gather`, `dial`…).
    pub fn name(&self) -> &'static str {
        match self {
            Awaiting::Start => "start",
            Awaiting::Gather { .. } => "gather",
            Awaiting::Dial { .. } => "dial",
            Awaiting::Enqueue { .. } => "enqueue",
            Awaiting::Record { .. } => "record",
            Awaiting::Webhook { .. } => "webhook",
            Awaiting::Bot { .. } => "bot",
            Awaiting::Nothing => "nothing",
        }
    }
}

/// Facts about a new call, taken from Twilio's first webhook. Time is passed in, never read
/// from a clock.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct CallFacts {
    /// `CallSid`.
    pub call_sid: String,
    /// `From`: the caller.
    pub from: String,
    /// `To`: the number called.
    pub to: String,
    /// The server's clock when the webhook arrived, Unix milliseconds.
    pub now_unix_ms: u64,
}

/// How the `seq` found in a webhook URL relates to the session (see [`Session::check_seq`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqCheck {
    /// The webhook answers the latest response: call [`super::step`].
    Current,
    /// Twilio retried the request that produced the latest response (same `seq` as the one
    /// before the last step): replay the stored latest response, do not step again.
    Retry,
    /// Older than that, or from the future: answer with the stored latest response too (or an
    /// empty `<Response/>`), never step.
    Stale,
}

impl Session {
    /// A fresh session for `flow`, waiting for [`super::Input::Start`]. Declared variables get
    /// their starting values.
    pub fn new(flow: &Flow, facts: &CallFacts) -> Session {
        let start = flow
            .nodes
            .get(flow.start.index())
            .map(|n| n.id.clone())
            .unwrap_or_default();
        Session {
            call_sid: facts.call_sid.clone(),
            caller: facts.from.clone(),
            called: facts.to.clone(),
            started_unix_ms: facts.now_unix_ms,
            flow_id: flow.id.clone(),
            flow_version: flow.version_hash.clone(),
            node: start,
            seq: 0,
            language: flow.default_language.clone(),
            vars: flow.variables.iter().cloned().collect(),
            no_input: 0,
            no_match: 0,
            awaiting: Awaiting::Start,
            path: Vec::new(),
            ended: None,
        }
    }

    /// Compares the `seq` carried by a webhook URL with the session. See [`SeqCheck`].
    pub fn check_seq(&self, seq: u64) -> SeqCheck {
        if seq == self.seq {
            SeqCheck::Current
        } else if seq.checked_add(1) == Some(self.seq) {
            SeqCheck::Retry
        } else {
            SeqCheck::Stale
        }
    }

    /// The number of the current attempt at the current question (1-based): the `attempt`
    /// variable.
    pub fn attempt(&self) -> u32 {
        self.no_input
            .saturating_add(self.no_match)
            .saturating_add(1)
    }

    pub(crate) fn visit(&mut self, node: &str) {
        if self.path.len() >= MAX_PATH {
            let excess = self.path.len() + 1 - MAX_PATH;
            self.path.drain(..excess);
        }
        self.path.push(node.to_owned());
        self.node.clear();
        self.node.push_str(node);
        self.no_input = 0;
        self.no_match = 0;
    }
}

/// Whether a webhook carrying `seq` answers the session's latest response. A `false` must
/// never step the session: replay the stored latest response instead (see [`SeqCheck`]).
pub fn is_current(session: &Session, seq: u64) -> bool {
    session.check_seq(seq) == SeqCheck::Current
}
