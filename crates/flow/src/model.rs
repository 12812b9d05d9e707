//! The typed, validated flow model the runtime steps through.
//!
//! A [`Flow`] only exists once every check passed: every target is a resolved [`NodeId`],
//! every prompt exists in every declared language, every regex compiled. The runtime can
//! therefore step through it without re-validating. This module holds data and the small
//! pure helpers that interpret it (route matching, condition evaluation); it does no I/O and
//! renders no TwiML.

use std::path::PathBuf;

use crate::diagnostic::Span;
use crate::matcher::{self, KeywordSet, Normalized};
use crate::template::Template;

/// Index of a node in [`Flow::nodes`]. Only this crate creates them, always in range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The index into [`Flow::nodes`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A validated call flow.
#[derive(Debug, Clone)]
pub struct Flow {
    /// The flow id (`flow:` field), used by `redirect` and in logs.
    pub id: String,
    /// Free text description.
    pub description: Option<String>,
    /// Hex SHA-256 prefix of the source text: identifies the exact version a call ran.
    pub version_hash: String,
    /// The language calls start in (`language:`).
    pub default_language: String,
    /// Every language the flow supports (`languages:`, default: just `language`).
    pub languages: Vec<String>,
    /// Default voices.
    pub voice: Voice,
    /// Where `play` names are resolved.
    pub prompt_base: PromptBase,
    /// Where calls start.
    pub start: NodeId,
    /// Declared variables with their initial values.
    pub variables: Vec<(String, Literal)>,
    /// The intent engine name (`intents:`), when intent routes are used.
    pub intent_engine: Option<String>,
    /// The nodes, in file order.
    pub nodes: Vec<Node>,
    /// What a callback for a call the server has lost (`on-lost-call:`) gets; `None`: the
    /// server's default (`hotline serve --lost-call`).
    pub on_lost_call: Option<LostCall>,
}

impl Flow {
    /// The node with this id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// Looks a node up by its name.
    pub fn find(&self, name: &str) -> Option<NodeId> {
        self.nodes
            .iter()
            .position(|n| n.id == name)
            .and_then(|i| u32::try_from(i).ok())
            .map(NodeId)
    }

    /// The voice to use for `language`, unless a prompt or node overrides it.
    pub fn voice_for(&self, language: &str) -> Option<&str> {
        self.voice.get(language)
    }
}

/// Voices: one default and/or one per language.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Voice {
    /// Used when no per-language voice applies.
    pub default: Option<String>,
    /// Per-language voices.
    pub per_language: Vec<(String, String)>,
}

impl Voice {
    /// The voice for `language`.
    pub fn get(&self, language: &str) -> Option<&str> {
        self.per_language
            .iter()
            .find(|(l, _)| l == language)
            .map(|(_, v)| v.as_str())
            .or(self.default.as_deref())
    }
}

/// What to do with a callback for a call the server has no session for (after a restart with
/// the memory store, or an expired session): the caller always hears an apology first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LostCall {
    /// Start the flow again from its start node (`on-lost-call: restart`).
    Restart,
    /// Transfer the caller (`on-lost-call: { transfer: "+15551234567" }`, or a `sip:` URI):
    /// a normalised phone number or a SIP URI.
    Transfer(String),
    /// End the call (`on-lost-call: hangup`).
    Hangup,
}

/// Where `play` prompt names are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptBase {
    /// No base declared (only absolute URLs may be played).
    None,
    /// A local folder served by Hotline (absolute, resolved against the flow file's folder).
    Local(PathBuf),
    /// An http(s) prefix; names are appended after a `/`.
    Http(String),
    /// An S3 location; the server presigns or proxies the objects.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Key prefix (no leading or trailing `/`; may be empty).
        prefix: String,
    },
}

/// A value that can vary per language.
#[derive(Debug, Clone, PartialEq)]
pub enum Localized<T> {
    /// The same in every language.
    All(T),
    /// One variant per declared language (validated: every declared language is present).
    PerLanguage(Vec<(String, T)>),
}

impl<T> Localized<T> {
    /// The variant for `language` (falls back to the first variant).
    pub fn get(&self, language: &str) -> Option<&T> {
        match self {
            Localized::All(t) => Some(t),
            Localized::PerLanguage(v) => v
                .iter()
                .find(|(l, _)| l == language)
                .or_else(|| v.first())
                .map(|(_, t)| t),
        }
    }

    /// Every variant.
    pub fn values(&self) -> Vec<&T> {
        match self {
            Localized::All(t) => vec![t],
            Localized::PerLanguage(v) => v.iter().map(|(_, t)| t).collect(),
        }
    }
}

/// One node of the flow.
#[derive(Debug, Clone)]
pub struct Node {
    /// The node id (its key under `nodes:`).
    pub id: String,
    /// Span of the id in the source.
    pub span: Span,
    /// Assignments applied when the node is entered, before speaking (`set`, `add`).
    pub on_enter: Vec<Assignment>,
    /// Prompts spoken when the node is entered, in the order written (`say`, `play`).
    pub prompts: Vec<Prompt>,
    /// Voice override for this node's `say` prompts.
    pub voice: Option<String>,
    /// What the node does after speaking.
    pub kind: NodeKind,
}

/// What a node does after its prompts.
#[derive(Debug, Clone)]
pub enum NodeKind {
    /// Just speak/compute and continue (`next`).
    Continue {
        /// Where to go.
        next: NodeId,
    },
    /// Gather an answer and route on it.
    Ask {
        /// Gather settings and retry policy.
        ask: Box<Ask>,
        /// Ordered routes; the first that matches wins.
        routes: Vec<Route>,
        /// Default route (`next`): taken for any answer no route matched. Without it an
        /// unmatched answer counts as a no-match and is retried.
        next: Option<NodeId>,
    },
    /// Route on variables (and the last answer) without asking.
    Branch {
        /// Ordered routes.
        routes: Vec<Route>,
        /// Default route.
        next: NodeId,
    },
    /// Connect the caller to a number or SIP URI.
    Dial {
        /// What to dial.
        dial: Dial,
        /// After the dialled party hangs up (`None`: the call ends).
        next: Option<NodeId>,
        /// When nobody answers, the line is busy or the dial fails (`None`: the call ends).
        fallback: Option<NodeId>,
    },
    /// Put the caller in a named queue.
    Enqueue {
        /// Queue name.
        queue: String,
        /// When the caller leaves the queue without being bridged (`None`: the call ends).
        next: Option<NodeId>,
    },
    /// Continue in another flow (by flow id). Ends this flow.
    Redirect {
        /// Target flow id.
        flow: String,
    },
    /// Record a message (voicemail).
    Record {
        /// Recording settings.
        record: Record,
        /// After recording (`None`: the call ends).
        next: Option<NodeId>,
        /// When the caller recorded nothing (Twilio posts no empty recording; `None`: as
        /// `next`).
        fallback: Option<NodeId>,
    },
    /// Hang up.
    Hangup,
    /// POST the call's variables to a URL, apply the JSON reply, route.
    Webhook {
        /// URL and timeout.
        webhook: Webhook,
        /// Routes evaluated after the reply's variables are applied.
        routes: Vec<Route>,
        /// Default route after a successful reply.
        next: NodeId,
        /// Taken on timeout, transport error, non-2xx status or invalid JSON.
        fallback: NodeId,
    },
    /// Hand the call to a voice bot, resume with what it collected.
    Bot {
        /// Bot settings.
        bot: Bot,
        /// Routes evaluated on the collected variables.
        routes: Vec<Route>,
        /// Where to resume when the bot finishes.
        next: NodeId,
        /// When the bot fails or times out (`None`: same as `next`).
        fallback: Option<NodeId>,
    },
}

/// A spoken prompt.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    /// Text-to-speech.
    Say(Say),
    /// An audio file.
    Play(Play),
}

/// A `say` prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Say {
    /// The text, possibly per language, with `{{ var }}` placeholders.
    pub text: Localized<Template>,
    /// Speak in this language whatever the call language (language menus).
    pub language: Option<String>,
    /// Voice override.
    pub voice: Option<String>,
    /// Where it was written.
    pub span: Span,
}

/// A `play` prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Play {
    /// The audio, possibly per language.
    pub audio: Localized<Audio>,
    /// Where it was written.
    pub span: Span,
}

/// An audio reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audio {
    /// An absolute http(s) URL, played as is.
    Url(String),
    /// A name relative to the prompt base. For a local base, `resolved` is the file name
    /// found on disk (the extension `.wav`/`.mp3` is added when the name had none).
    File {
        /// As written in the flow.
        name: String,
        /// Relative path under the prompt base.
        resolved: String,
    },
}

/// Which inputs an `ask` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    /// Speech only.
    Speech,
    /// Keypad only.
    Dtmf,
    /// Either.
    Both,
}

/// When speech is considered finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpeechTimeout {
    /// Let the recognizer decide.
    Auto,
    /// After this many seconds of silence.
    Seconds(u32),
}

/// Gather settings of an `ask` node.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    /// Accepted inputs.
    pub input: InputMode,
    /// Seconds to wait for the caller to start answering.
    pub timeout_secs: u32,
    /// End-of-speech detection.
    pub speech_timeout: SpeechTimeout,
    /// Recognition hints (words and phrases likely to be said), in the recognition language.
    pub hints: Localized<Vec<String>>,
    /// Stop after this many digits.
    pub num_digits: Option<u32>,
    /// Key that ends digit entry.
    pub finish_on_key: Option<char>,
    /// Recognition language (default: the call's current language).
    pub language: Option<String>,
    /// Variable receiving the answer text (default `answer`).
    pub save_as: String,
    /// Words and phrases that make a spoken answer no answer ("je ne sais pas", "not sure"):
    /// such an answer is a no-match before any route is tried.
    pub unclear: Option<Localized<KeywordSet>>,
    /// What to do on silence or an unrecognised answer.
    pub retry: RetryPolicy,
}

/// The retry policy of an `ask` node.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (≥ 1).
    pub attempts: u32,
    /// Reprompt before retry n after silence: entry n-1 (the last repeats). Each entry is a
    /// prompt sequence.
    pub no_input: Vec<Vec<Prompt>>,
    /// Reprompt before retry n after an unmatched answer.
    pub no_match: Vec<Vec<Prompt>>,
    /// Speak the node's own prompts again after the reprompt.
    pub repeat_question: bool,
    /// Where to go once every attempt failed.
    pub exhausted: Exhausted,
}

/// Where a question goes once every attempt failed, by the kind of the last failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted {
    /// After a last attempt in silence.
    pub no_input: NodeId,
    /// After a last answer that matched no route (or was `unclear`).
    pub no_match: NodeId,
}

impl RetryPolicy {
    /// The reprompt to play before retry number `retry` (1-based) after silence.
    pub fn no_input_prompt(&self, retry: usize) -> &[Prompt] {
        pick(&self.no_input, retry)
    }

    /// The reprompt to play before retry number `retry` (1-based) after a no-match.
    pub fn no_match_prompt(&self, retry: usize) -> &[Prompt] {
        pick(&self.no_match, retry)
    }
}

fn pick(list: &[Vec<Prompt>], retry: usize) -> &[Prompt] {
    list.get(retry.saturating_sub(1))
        .or(list.last())
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A route: conditions, side effects, target.
#[derive(Debug, Clone)]
pub struct Route {
    /// Where it was written.
    pub span: Span,
    /// Short human label (for graphs and logs): `oui / ouais / 1`.
    pub label: String,
    /// Alternatives on the answer: the route matches if any matches (or if there are none).
    pub answer: Vec<AnswerMatch>,
    /// Conditions on variables, all of which must hold.
    pub conditions: Vec<Condition>,
    /// Assignments applied when the route is taken.
    pub assign: Vec<Assignment>,
    /// Switch the call to this language when taken.
    pub language: Option<String>,
    /// Where to go.
    pub target: NodeId,
}

/// The answer as the runtime received it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Answer<'a> {
    /// Speech transcript.
    pub speech: Option<&'a str>,
    /// Keypad digits.
    pub digits: Option<&'a str>,
    /// Intent name from the intent engine.
    pub intent: Option<&'a str>,
    /// `speech` already normalized ([`matcher::normalize`]), so that the routes of one answer
    /// share one normalization; normalized per keyword route when `None`.
    pub words: Option<&'a Normalized>,
}

impl Route {
    /// Whether this route matches `answer` given in `language`, with variables from `lookup`.
    pub fn matches(
        &self,
        answer: &Answer<'_>,
        language: &str,
        lookup: &dyn Fn(&str) -> Option<Literal>,
    ) -> bool {
        let answer_ok =
            self.answer.is_empty() || self.answer.iter().any(|m| m.matches(answer, language));
        answer_ok && self.conditions.iter().all(|c| c.eval(lookup, language))
    }
}

/// A condition on the answer.
#[derive(Debug, Clone)]
pub enum AnswerMatch {
    /// Keywords or phrases said (per language).
    Keywords(Localized<KeywordSet>),
    /// Exact keypad entries (`"1"`, `"42#"` without the finish key).
    Digits(Vec<String>),
    /// A regular expression on the transcript or the digits.
    Regex(regex::Regex),
    /// A comparison on the first number in the answer.
    Number(Comparison),
    /// An intent name from the intent engine.
    Intent(String),
}

impl AnswerMatch {
    /// Whether the answer satisfies this alternative.
    pub fn matches(&self, answer: &Answer<'_>, language: &str) -> bool {
        match self {
            AnswerMatch::Keywords(sets) => match (answer.speech, sets.get(language)) {
                (Some(text), Some(set)) => match answer.words {
                    Some(words) => set.any(words, language),
                    None => set.any(&matcher::normalize(text), language),
                },
                _ => false,
            },
            AnswerMatch::Digits(list) => answer
                .digits
                .is_some_and(|d| list.iter().any(|x| x == d.trim())),
            AnswerMatch::Regex(re) => {
                answer.speech.is_some_and(|s| re.is_match(s))
                    || answer.digits.is_some_and(|d| re.is_match(d))
            }
            AnswerMatch::Number(cmp) => answer
                .digits
                .and_then(|d| matcher::extract_number(d, language))
                .or_else(|| {
                    answer
                        .speech
                        .and_then(|s| matcher::extract_number(s, language))
                })
                .is_some_and(|n| cmp.holds(n)),
            AnswerMatch::Intent(name) => answer.intent == Some(name.as_str()),
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A numeric comparison against a constant (`>= 65`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// Operator.
    pub op: CmpOp,
    /// Right-hand side.
    pub value: f64,
}

impl Comparison {
    /// Whether `n op value`.
    pub fn holds(&self, n: f64) -> bool {
        match self.op {
            CmpOp::Eq => n == self.value,
            CmpOp::Ne => n != self.value,
            CmpOp::Lt => n < self.value,
            CmpOp::Le => n <= self.value,
            CmpOp::Gt => n > self.value,
            CmpOp::Ge => n >= self.value,
        }
    }
}

/// A literal value. Serialises "untagged" (a JSON number, boolean or string), which is how
/// call variables are stored in a runtime session.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Literal {
    /// A number.
    Number(f64),
    /// `true` / `false`.
    Bool(bool),
    /// Text.
    Text(String),
}

impl Literal {
    /// Parses a plain YAML scalar: numbers and booleans are typed, anything else is text.
    pub fn from_plain(text: &str) -> Self {
        match text {
            "true" => Literal::Bool(true),
            "false" => Literal::Bool(false),
            _ => text
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map_or_else(|| Literal::Text(text.to_owned()), Literal::Number),
        }
    }

    /// The value as a number: a number, or text that is one number read in `language` (a
    /// BCP-47 tag) as [`matcher::parse_number`] reads it: `"72"`, `" 38,5 "` with a decimal
    /// comma, `"1,200"` (1200 in English, 1.2 in French); never a word such as `nan` or `inf`.
    pub fn as_number(&self, language: &str) -> Option<f64> {
        match self {
            Literal::Number(n) => Some(*n),
            Literal::Text(t) => matcher::parse_number(t, language),
            Literal::Bool(_) => None,
        }
    }

    /// The value as text (numbers without a trailing `.0`).
    pub fn to_text(&self) -> String {
        match self {
            Literal::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Literal::Number(n) => n.to_string(),
            Literal::Bool(b) => b.to_string(),
            Literal::Text(t) => t.clone(),
        }
    }
}

/// `var op value`, with `value` a literal.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The variable read.
    pub var: String,
    /// Operator.
    pub op: CmpOp,
    /// Right-hand side.
    pub value: Literal,
}

impl Condition {
    /// Evaluates with variables from `lookup`, in the call's `language`. A missing variable
    /// makes every comparison false except `!=`. Numbers compare numerically (text that is
    /// one number counts as one, read in `language`: [`Literal::as_number`]); text compares
    /// case- and accent-insensitively. A number and text that is not one are never equal nor
    /// ordered: only `!=` holds.
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<Literal>, language: &str) -> bool {
        let Some(left) = lookup(&self.var) else {
            return self.op == CmpOp::Ne;
        };
        match (left.as_number(language), self.value.as_number(language)) {
            (Some(a), Some(b)) => {
                return Comparison {
                    op: self.op,
                    value: b,
                }
                .holds(a);
            }
            // A number and a word are not equal, and neither is above the other: "I don't
            // know" is not `>= 65` (as text it would sort after "65").
            (Some(_), None) | (None, Some(_)) => return self.op == CmpOp::Ne,
            (None, None) => {}
        }
        let a = matcher::fold(left.to_text().trim());
        let b = matcher::fold(self.value.to_text().trim());
        match self.op {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }

    /// The condition as written (`score >= 4`).
    pub fn source(&self) -> String {
        format!("{} {} {}", self.var, self.op.as_str(), self.value.to_text())
    }
}

/// A change to a variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// The variable written.
    pub var: String,
    /// How.
    pub op: AssignOp,
}

/// Kinds of assignment.
#[derive(Debug, Clone, PartialEq)]
pub enum AssignOp {
    /// Replace with a value; text may contain `{{ var }}` placeholders.
    Set(SetValue),
    /// Add a number (a missing or non-numeric variable counts as 0).
    Add(f64),
}

/// The value of a `set`.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    /// A number or boolean.
    Literal(Literal),
    /// Text, rendered with the current variables.
    Text(Template),
}

/// What a `dial` connects to.
#[derive(Debug, Clone, PartialEq)]
pub enum DialTarget {
    /// A phone number: E.164 (`+33800130000`) or a short national number (`15`), without
    /// spaces or separators.
    Number(String),
    /// A `sip:` or `sips:` URI.
    Sip(String),
    /// A number taken from a variable (`{{ transfer_to }}`), checked at run time.
    Template(Template),
}

/// Settings of a `dial` node.
#[derive(Debug, Clone, PartialEq)]
pub struct Dial {
    /// Who to call.
    pub target: DialTarget,
    /// Seconds to ring before giving up (Twilio default 30).
    pub timeout_secs: u32,
    /// Caller ID presented to the callee.
    pub caller_id: Option<String>,
    /// Record the bridged call.
    pub record: bool,
}

/// Settings of a `record` node.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Maximum length in seconds.
    pub max_length_secs: u32,
    /// Key that stops the recording.
    pub finish_on_key: Option<char>,
    /// Play a beep before recording.
    pub beep: bool,
    /// Ask for a transcription.
    pub transcribe: bool,
    /// Variable receiving the recording URL.
    pub save_as: String,
}

/// Settings of a `webhook` node.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// An http(s) URL.
    pub url: String,
    /// Seconds before giving up and taking the fallback.
    pub timeout_secs: u32,
    /// Variables the reply is expected to set (declares them for the checker).
    pub returns: Vec<String>,
}

/// Settings of a `bot` node.
#[derive(Debug, Clone, PartialEq)]
pub struct Bot {
    /// The bot's name in the server configuration.
    pub name: String,
    /// Variables the bot collects and hands back.
    pub collect: Vec<String>,
    /// Maximum seconds in the bot before resuming with `fallback`.
    pub max_duration_secs: u32,
}

/// Variables every call has, without declaration.
pub const BUILTIN_VARIABLES: &[&str] = &[
    "caller",
    "caller_digits",
    "called",
    "call_sid",
    "language",
    "answer",
    "digits",
    "confidence",
    "intent",
    "intent_confidence",
    "attempt",
    "flow",
    "node",
];

impl NodeKind {
    /// A short word for the kind (`ask`, `dial`...).
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Continue { .. } => "say",
            NodeKind::Ask { .. } => "ask",
            NodeKind::Branch { .. } => "branch",
            NodeKind::Dial { .. } => "dial",
            NodeKind::Enqueue { .. } => "enqueue",
            NodeKind::Redirect { .. } => "redirect",
            NodeKind::Record { .. } => "record",
            NodeKind::Hangup => "hangup",
            NodeKind::Webhook { .. } => "webhook",
            NodeKind::Bot { .. } => "bot",
        }
    }
}

/// The kind of a failed attempt at a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Nothing was said or pressed.
    NoInput,
    /// The answer matched no route, or was `unclear`.
    NoMatch,
}

impl Exhausted {
    /// Where the call goes when the last failed attempt was of this kind.
    pub fn after(&self, failure: Failure) -> NodeId {
        match failure {
            Failure::NoInput => self.no_input,
            Failure::NoMatch => self.no_match,
        }
    }
}

/// Why an edge exists, for graphs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeKind {
    /// `next` of a simple node, or after an action completed.
    Next,
    /// A route (its label).
    Route(String),
    /// The default route of a routed node.
    Default,
    /// Retries exhausted: after either kind of failure (`None`), or after a last silence or
    /// no-match when the two go to different nodes.
    Exhausted(Option<Failure>),
    /// Action failed (no answer, webhook error, bot failure).
    Fallback,
}

impl Node {
    /// Every outgoing edge, in a stable order.
    pub fn edges(&self) -> Vec<(EdgeKind, NodeId)> {
        let mut out = Vec::new();
        let routes = |out: &mut Vec<(EdgeKind, NodeId)>, routes: &[Route]| {
            for r in routes {
                out.push((EdgeKind::Route(r.label.clone()), r.target));
            }
        };
        match &self.kind {
            NodeKind::Continue { next } => out.push((EdgeKind::Next, *next)),
            NodeKind::Ask {
                ask,
                routes: rs,
                next,
            } => {
                routes(&mut out, rs);
                if let Some(n) = next {
                    out.push((EdgeKind::Default, *n));
                }
                let e = ask.retry.exhausted;
                if e.no_input == e.no_match {
                    out.push((EdgeKind::Exhausted(None), e.no_input));
                } else {
                    out.push((EdgeKind::Exhausted(Some(Failure::NoInput)), e.no_input));
                    out.push((EdgeKind::Exhausted(Some(Failure::NoMatch)), e.no_match));
                }
            }
            NodeKind::Branch { routes: rs, next } => {
                routes(&mut out, rs);
                out.push((EdgeKind::Default, *next));
            }
            NodeKind::Dial { next, fallback, .. } => {
                if let Some(n) = next {
                    out.push((EdgeKind::Next, *n));
                }
                if let Some(f) = fallback {
                    out.push((EdgeKind::Fallback, *f));
                }
            }
            NodeKind::Enqueue { next, .. } => {
                if let Some(n) = next {
                    out.push((EdgeKind::Next, *n));
                }
            }
            NodeKind::Record { next, fallback, .. } => {
                if let Some(n) = next {
                    out.push((EdgeKind::Next, *n));
                }
                if let Some(f) = fallback {
                    out.push((EdgeKind::Fallback, *f));
                }
            }
            NodeKind::Redirect { .. } | NodeKind::Hangup => {}
            NodeKind::Webhook {
                routes: rs,
                next,
                fallback,
                ..
            } => {
                routes(&mut out, rs);
                out.push((EdgeKind::Default, *next));
                out.push((EdgeKind::Fallback, *fallback));
            }
            NodeKind::Bot {
                routes: rs,
                next,
                fallback,
                ..
            } => {
                routes(&mut out, rs);
                out.push((EdgeKind::Default, *next));
                if let Some(f) = fallback {
                    out.push((EdgeKind::Fallback, *f));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_compare_numbers_and_text() {
        let vars = |v: &str| match v {
            "score" => Some(Literal::Number(4.0)),
            "risk" => Some(Literal::Text("Élevé".into())),
            "age" => Some(Literal::Text("72".into())),
            _ => None,
        };
        let c = |var: &str, op, value| Condition {
            var: var.into(),
            op,
            value,
        };
        assert!(c("score", CmpOp::Ge, Literal::Number(4.0)).eval(&vars, "fr-FR"));
        assert!(!c("score", CmpOp::Gt, Literal::Number(4.0)).eval(&vars, "fr-FR"));
        assert!(c("risk", CmpOp::Eq, Literal::Text("eleve".into())).eval(&vars, "fr-FR"));
        assert!(c("age", CmpOp::Ge, Literal::Number(65.0)).eval(&vars, "fr-FR"));
        assert!(!c("missing", CmpOp::Eq, Literal::Number(1.0)).eval(&vars, "fr-FR"));
        assert!(c("missing", CmpOp::Ne, Literal::Number(1.0)).eval(&vars, "fr-FR"));
        // Words a float parser reads ("nan", "inf") are text: a French "nan" (no) equals
        // itself, and a caller saying "infinity" is no number above 65.
        let said = |v: &str| (v == "answer").then(|| Literal::Text("Nan".into()));
        assert!(c("answer", CmpOp::Eq, Literal::Text("nan".into())).eval(&said, "fr-FR"));
        let said = |v: &str| (v == "answer").then(|| Literal::Text("infinity".into()));
        assert!(!c("answer", CmpOp::Ge, Literal::Number(65.0)).eval(&said, "fr-FR"));
        // A word and a number: never equal, neither above the other.
        let said = |v: &str| (v == "age").then(|| Literal::Text("je ne sais pas".into()));
        for op in [CmpOp::Eq, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge] {
            assert!(
                !c("age", op, Literal::Number(65.0)).eval(&said, "fr-FR"),
                "{op:?}"
            );
        }
        assert!(c("age", CmpOp::Ne, Literal::Number(65.0)).eval(&said, "fr-FR"));
        assert!(!c("score", CmpOp::Gt, Literal::Text("high".into())).eval(&vars, "fr-FR"));
        // Two words still compare as text.
        assert!(c("risk", CmpOp::Gt, Literal::Text("bas".into())).eval(&vars, "fr-FR"));
        assert_eq!(
            Literal::Text(" 38,5 ".into()).as_number("en-US"),
            Some(38.5)
        );
        assert_eq!(Literal::Text("inf".into()).as_number("en-US"), None);
        assert_eq!(Literal::Bool(true).as_number("en-US"), None);
        // Text that is one number reads by the call's language, as a `number` route does.
        let said = |v: &str| (v == "amount").then(|| Literal::Text("1,200".into()));
        assert!(c("amount", CmpOp::Ge, Literal::Number(1000.0)).eval(&said, "en-US"));
        assert!(!c("amount", CmpOp::Ge, Literal::Number(1000.0)).eval(&said, "fr-FR"));
        let said = |v: &str| (v == "amount").then(|| Literal::Text("1.234.567,5".into()));
        assert!(c("amount", CmpOp::Eq, Literal::Number(1_234_567.5)).eval(&said, "en-US"));
        // Text with more than a number in it is text.
        let said = |v: &str| (v == "age").then(|| Literal::Text("72 ans".into()));
        assert!(!c("age", CmpOp::Ge, Literal::Number(65.0)).eval(&said, "fr-FR"));
    }

    #[test]
    fn literals() {
        assert_eq!(Literal::from_plain("3"), Literal::Number(3.0));
        assert_eq!(Literal::from_plain("true"), Literal::Bool(true));
        assert_eq!(Literal::from_plain("oui"), Literal::Text("oui".into()));
        assert_eq!(Literal::Number(3.0).to_text(), "3");
        assert_eq!(Literal::Number(2.5).to_text(), "2.5");
    }
}
