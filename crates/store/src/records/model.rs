//! The record types shared by every backend, and the filter of `list_calls`.
//!
//! `Debug` output masks phone numbers and transcripts (personal data), so records can be
//! logged safely.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The outcome that [`crate::Funnel`] counts as "hung up there".
pub const OUTCOME_CALLER_HANGUP: &str = "caller-hangup";

/// The outcome of a call whose end Twilio reported after the server had lost its session (a
/// restart with the memory session store, an expired session): how it went after that is not
/// known. The server records it with [`CallEnd::only_if_open`], so that it never replaces an
/// outcome recorded already.
pub const OUTCOME_LOST: &str = "lost";

/// Suggested [`StepRecord::kind`] values (the store accepts any string).
pub mod kind {
    /// The call arrived at a node.
    pub const ENTERED: &str = "entered";
    /// The caller said something (`speech`, `confidence`) or pressed keys (`digits`); `route`
    /// is the route the answer took, if one matched (Hotline's server writes no separate
    /// `matched` row for it).
    pub const HEARD: &str = "heard";
    /// A route matched (`route`) without an answer of the caller's (a branch on variables).
    pub const MATCHED: &str = "matched";
    /// Input was heard but no route matched.
    pub const NO_MATCH: &str = "no-match";
    /// The gather timed out with no input.
    pub const NO_INPUT: &str = "no-input";
    /// The node re-prompted.
    pub const RETRY: &str = "retry";
    /// Retries ran out.
    pub const EXHAUSTED: &str = "exhausted";
    /// A prompt was spoken (`detail`: prompt id).
    pub const SAID: &str = "said";
    /// Audio was played (`detail`: URL or prompt id).
    pub const PLAYED: &str = "played";
    /// An outgoing webhook ran (`detail`: status).
    pub const WEBHOOK: &str = "webhook";
    /// The flow ended the call at this node.
    pub const ENDED: &str = "ended";
    /// Twilio transcribed the recording made at this node (`speech`; `detail` `failed` when it
    /// could not). It may arrive after the call ended.
    pub const TRANSCRIBED: &str = "transcribed";
}

/// One call.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// Twilio's `CallSid`.
    pub call_sid: String,
    /// The flow that answered.
    pub flow_id: String,
    /// The flow's version (content hash).
    pub flow_version: String,
    /// Caller number (personal data).
    pub from: String,
    /// Called number.
    pub to: String,
    /// When the call started, ms since the Unix epoch.
    pub started_at_ms: i64,
    /// When it ended, if it has.
    pub ended_at_ms: Option<i64>,
    /// How it ended (`completed`, `caller-hangup`, `transferred`, …), if it has.
    pub outcome: Option<String>,
    /// The node of the latest step.
    pub last_node: Option<String>,
}

impl CallRecord {
    /// A started call with no end yet.
    pub fn started(
        call_sid: impl Into<String>,
        flow_id: impl Into<String>,
        flow_version: impl Into<String>,
        from: impl Into<String>,
        to: impl Into<String>,
        started_at_ms: i64,
    ) -> Self {
        Self {
            call_sid: call_sid.into(),
            flow_id: flow_id.into(),
            flow_version: flow_version.into(),
            from: from.into(),
            to: to.into(),
            started_at_ms,
            ended_at_ms: None,
            outcome: None,
            last_node: None,
        }
    }

    /// Duration in ms, once ended.
    pub fn duration_ms(&self) -> Option<i64> {
        self.ended_at_ms
            .map(|e| e.saturating_sub(self.started_at_ms))
    }
}

/// `+33612345678` → `+336…78`: enough to tell numbers apart in a log, not to call them.
pub(crate) fn mask_number(n: &str) -> String {
    let chars: Vec<char> = n.chars().collect();
    if chars.len() <= 6 {
        return "…".to_owned();
    }
    let head: String = chars.iter().take(4).collect();
    let tail: String = chars.iter().skip(chars.len() - 2).collect();
    format!("{head}…{tail}")
}

impl fmt::Debug for CallRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallRecord")
            .field("call_sid", &self.call_sid)
            .field("flow_id", &self.flow_id)
            .field("flow_version", &self.flow_version)
            .field("from", &mask_number(&self.from))
            .field("to", &mask_number(&self.to))
            .field("started_at_ms", &self.started_at_ms)
            .field("ended_at_ms", &self.ended_at_ms)
            .field("outcome", &self.outcome)
            .field("last_node", &self.last_node)
            .finish()
    }
}

/// One thing that happened during a call (see [`kind`] for the usual kinds).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The call.
    pub call_sid: String,
    /// Position in the call, unique per call, assigned by the server.
    pub seq: u32,
    /// When, ms since the Unix epoch.
    pub at_ms: i64,
    /// The flow node it happened at.
    pub node: String,
    /// What happened ([`kind`]; the usual kinds are constants, so most rows borrow theirs).
    pub kind: Cow<'static, str>,
    /// The route taken, for `matched`.
    pub route: Option<String>,
    /// What the caller said (personal data).
    pub speech: Option<String>,
    /// Recognition confidence, 0..=1.
    pub confidence: Option<f32>,
    /// Keys pressed.
    pub digits: Option<String>,
    /// Anything else (prompt id, webhook status, error text).
    pub detail: Option<String>,
}

impl StepRecord {
    /// A step with only the required fields.
    pub fn new(
        call_sid: impl Into<String>,
        seq: u32,
        at_ms: i64,
        node: impl Into<String>,
        kind: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            call_sid: call_sid.into(),
            seq,
            at_ms,
            node: node.into(),
            kind: kind.into(),
            route: None,
            speech: None,
            confidence: None,
            digits: None,
            detail: None,
        }
    }
}

impl fmt::Debug for StepRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepRecord")
            .field("call_sid", &self.call_sid)
            .field("seq", &self.seq)
            .field("at_ms", &self.at_ms)
            .field("node", &self.node)
            .field("kind", &self.kind)
            .field("route", &self.route)
            .field(
                "speech",
                &self
                    .speech
                    .as_ref()
                    .map(|s| format!("<{} chars>", s.chars().count())),
            )
            .field("confidence", &self.confidence)
            .field(
                "digits",
                &self
                    .digits
                    .as_ref()
                    .map(|d| format!("<{} digits>", d.len())),
            )
            .field("detail", &self.detail)
            .finish()
    }
}

/// The end of a call, as [`RecordStore::call_ended`] takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEnd {
    /// The call.
    pub call_sid: String,
    /// Its outcome (e.g. `completed`, [`OUTCOME_CALLER_HANGUP`]).
    pub outcome: String,
    /// When it ended, ms since the Unix epoch.
    pub ended_at_ms: i64,
    /// End the call only if it has no end yet: an end that would replace one is not written
    /// ([`crate::StoreError::UnknownCall`], as for a call never started). Otherwise (`false`) the
    /// end overwrites any earlier one (a late status callback wins).
    #[serde(default)]
    pub only_if_open: bool,
}

impl CallEnd {
    /// The end of `call_sid` with `outcome` at `ended_at_ms`, replacing any earlier end.
    pub fn new(call_sid: impl Into<String>, outcome: impl Into<String>, ended_at_ms: i64) -> Self {
        CallEnd {
            call_sid: call_sid.into(),
            outcome: outcome.into(),
            ended_at_ms,
            only_if_open: false,
        }
    }
}

/// Everything one webhook produced for the records, written in **one** commit by
/// [`RecordStore::record_turn`]: the call's start (first webhook), its new steps, its end (last
/// webhook). Applied in that order, so the end's `last_node` sees the steps.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TurnRecord {
    /// `Some` for the call's first webhook.
    pub started: Option<CallRecord>,
    /// The steps, in `seq` order.
    pub steps: Vec<StepRecord>,
    /// `Some` when the call ended with this webhook.
    pub ended: Option<CallEnd>,
}

impl TurnRecord {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.started.is_none() && self.steps.is_empty() && self.ended.is_none()
    }
}

/// What `list_calls` returns: newest first, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallFilter {
    /// Only this flow.
    pub flow_id: Option<String>,
    /// Only this flow version.
    pub flow_version: Option<String>,
    /// Only calls started at or after this time (ms since the Unix epoch).
    pub since_ms: Option<i64>,
    /// At most this many calls.
    pub limit: u32,
}

impl Default for CallFilter {
    fn default() -> Self {
        Self {
            flow_id: None,
            flow_version: None,
            since_ms: None,
            limit: 50,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_personal_data() {
        let mut c = CallRecord::started("CA1", "f", "v", "+33612345678", "+15005550006", 0);
        c.outcome = Some("completed".into());
        let s = format!("{c:?}");
        assert!(!s.contains("612345678") && s.contains("+336…78"), "{s}");
        let mut st = StepRecord::new("CA1", 1, 0, "menu", kind::HEARD);
        st.speech = Some("my card number is 4242".into());
        st.digits = Some("4242".into());
        let s = format!("{st:?}");
        assert!(!s.contains("4242"), "{s}");
        assert_eq!(mask_number("123"), "…");
    }
}
