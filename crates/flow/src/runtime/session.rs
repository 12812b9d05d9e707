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
    pub path: NodePath,
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
            path: NodePath::default(),
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
        self.path.push(node);
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

/// The nodes a call entered, oldest first, at most [`MAX_PATH`] (pushing more drops the oldest).
///
/// One buffer holds them all, separated by `\n` (which no node id contains), so that a session
/// is read back with one allocation for its path rather than one per node. It serialises as a
/// JSON array of strings, as a `Vec<String>` would.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodePath {
    /// The ids joined by `\n`.
    joined: String,
    /// How many ids (an empty `joined` holds none, not one empty id).
    len: usize,
}

impl NodePath {
    /// The separator, which [`NodePath::push_checked`] refuses inside an id.
    const SEP: char = '\n';

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No node yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The node ids, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &str> + '_ {
        let ids = if self.len == 0 {
            None
        } else {
            Some(self.joined.split(Self::SEP))
        };
        ids.into_iter().flatten()
    }

    /// The latest node.
    pub fn last(&self) -> Option<&str> {
        self.iter().next_back()
    }

    /// Appends `id`, dropping the oldest beyond [`MAX_PATH`]. `false` (and nothing appended)
    /// for an id containing the separator: node ids never do, so only a forged session could.
    pub fn push_checked(&mut self, id: &str) -> bool {
        if id.contains(Self::SEP) {
            return false;
        }
        while self.len >= MAX_PATH {
            match self.joined.find(Self::SEP) {
                Some(i) => {
                    self.joined.drain(..=i);
                }
                None => self.joined.clear(),
            }
            self.len -= 1;
        }
        if self.len > 0 {
            self.joined.push(Self::SEP);
        }
        self.joined.push_str(id);
        self.len += 1;
        true
    }

    /// Appends a node id of the flow (see [`NodePath::push_checked`]).
    pub(crate) fn push(&mut self, id: &str) {
        // A flow's ids are validated; a refused one is left out rather than corrupting the path.
        let _ = self.push_checked(id);
    }

    /// An empty path with room for `bytes` of ids.
    pub(crate) fn with_capacity(bytes: usize) -> NodePath {
        NodePath {
            joined: String::with_capacity(bytes),
            len: 0,
        }
    }
}

impl<'a> FromIterator<&'a str> for NodePath {
    /// Keeps the ids without the separator, the last [`MAX_PATH`] of them.
    fn from_iter<I: IntoIterator<Item = &'a str>>(ids: I) -> Self {
        let mut path = NodePath::default();
        for id in ids {
            path.push(id);
        }
        path
    }
}

impl Serialize for NodePath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for NodePath {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let ids = Vec::<String>::deserialize(deserializer)?;
        let mut path = NodePath::default();
        for id in &ids {
            if !path.push_checked(id) {
                return Err(serde::de::Error::custom(
                    "a node id in a path contains a newline",
                ));
            }
        }
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_keeps_the_latest_ids_in_order() {
        let mut p = NodePath::default();
        assert!(p.is_empty());
        assert_eq!(p.iter().count(), 0);
        assert_eq!(p.last(), None);
        p.push("welcome");
        p.push("");
        p.push("symptom-2");
        assert_eq!(p.iter().collect::<Vec<_>>(), ["welcome", "", "symptom-2"]);
        assert_eq!((p.len(), p.last()), (3, Some("symptom-2")));
        let mut full = NodePath::default();
        for i in 0..MAX_PATH + 5 {
            full.push(&format!("n{i}"));
        }
        assert_eq!(full.len(), MAX_PATH);
        assert_eq!(full.iter().next(), Some("n5"));
        assert_eq!(full.last(), Some(format!("n{}", MAX_PATH + 4).as_str()));
        assert_eq!(full.iter().count(), MAX_PATH);
    }

    #[test]
    fn an_id_holding_the_separator_is_refused() {
        let mut p: NodePath = ["a"].into_iter().collect();
        assert!(!p.push_checked("b\nc"));
        assert_eq!(p.iter().collect::<Vec<_>>(), ["a"]);
        // From JSON too: a forged session does not get to split one id into two.
        assert!(serde_json::from_str::<NodePath>(r#"["a","b\nc"]"#).is_err());
    }

    #[test]
    fn a_path_is_a_json_array_of_ids() {
        let p: NodePath = ["welcome", "classify"].into_iter().collect();
        let json = serde_json::to_string(&p).unwrap_or_default();
        assert_eq!(json, r#"["welcome","classify"]"#);
        assert_eq!(serde_json::from_str::<NodePath>(&json).ok(), Some(p));
        assert_eq!(
            serde_json::from_str::<NodePath>("[]").ok(),
            Some(NodePath::default())
        );
    }
}
