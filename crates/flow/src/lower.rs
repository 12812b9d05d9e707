//! Lowering: from the span-carrying YAML tree to the typed [`Flow`], checking every field.
//!
//! Each problem becomes a [`Diagnostic`] and lowering carries on, so one run reports every
//! unknown field, wrong type, dangling target, missing prompt and bad regex at once. Graph-wide
//! checks (reachability, loops, variables) live in [`crate::validate`]; this module records the
//! facts they need ([`GraphFacts`]). The only I/O is checking that prompt files exist in a local
//! prompt folder.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::codes;
use crate::diagnostic::{Diagnostic, Span, Spanned};
use crate::matcher::{self, KeywordSet};
use crate::model::*;
use crate::suggest::did_you_mean;
use crate::template::{Template, is_var_name};
use crate::yaml::{Key, Value, Yaml};

/// Most nodes a flow may have.
pub const MAX_NODES: usize = 5_000;

const FLOW_FIELDS: &[&str] = &[
    "flow",
    "description",
    "language",
    "languages",
    "voice",
    "prompts",
    "start",
    "variables",
    "synonyms",
    "defaults",
    "intents",
    "nodes",
    "on-lost-call",
];
const NODE_FIELDS: &[&str] = &[
    "say", "play", "set", "add", "voice", "note", "ask", "routes", "retry", "next", "dial",
    "enqueue", "redirect", "record", "hangup", "webhook", "bot", "fallback",
];
const ACTIONS: &[&str] = &[
    "ask", "dial", "enqueue", "redirect", "record", "hangup", "webhook", "bot",
];
const ASK_FIELDS: &[&str] = &[
    "input",
    "timeout",
    "speech-timeout",
    "hints",
    "num-digits",
    "finish-on-key",
    "language",
    "save-as",
    "unclear",
];
const RETRY_FIELDS: &[&str] = &[
    "attempts",
    "no-input",
    "no-match",
    "reprompt",
    "repeat-question",
    "exhausted",
];
const ROUTE_FIELDS: &[&str] = &[
    "keywords", "digits", "regex", "number", "intent", "if", "set", "add", "language", "goto",
    "negation", "note",
];

/// Facts gathered while lowering, for the graph checks.
#[derive(Debug, Default)]
pub(crate) struct GraphFacts {
    /// Node names in file order, with the span of their key.
    pub(crate) names: Vec<Spanned<String>>,
    /// Outgoing edges per node (resolved targets only).
    pub(crate) edges: Vec<Vec<usize>>,
    /// Nodes that can end or leave the flow (hang up, redirect, dial, enqueue...), or that
    /// failed to lower (treated as exits to avoid cascading errors).
    pub(crate) exits: Vec<bool>,
    /// The start node, when resolved.
    pub(crate) start: Option<usize>,
    /// Variables written anywhere (declared, set, add, save-as, returns, collect).
    pub(crate) writes: HashSet<String>,
    /// Variables read (templates, conditions), with where.
    pub(crate) reads: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Clone)]
struct RawAsk {
    input: Option<InputMode>,
    timeout: Option<u32>,
    speech_timeout: Option<SpeechTimeout>,
    hints: Option<Localized<Vec<String>>>,
    num_digits: Option<u32>,
    finish_on_key: Option<char>,
    language: Option<String>,
    save_as: Option<String>,
    unclear: Option<Localized<KeywordSet>>,
}

#[derive(Debug, Default, Clone)]
struct RawRetry {
    attempts: Option<u32>,
    no_input: Option<Vec<Vec<Prompt>>>,
    no_match: Option<Vec<Vec<Prompt>>>,
    repeat_question: Option<bool>,
    /// Where to go after a last silence.
    exhausted_no_input: Option<usize>,
    /// Where to go after a last no-match.
    exhausted_no_match: Option<usize>,
}

/// The lowering context.
pub(crate) struct Lowerer<'a> {
    file: &'a str,
    base_dir: &'a Path,
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) facts: GraphFacts,
    index: HashMap<String, usize>,
    current: Option<usize>,
    languages: Vec<String>,
    default_language: String,
    prompt_base: PromptBase,
    local_listing: Option<Vec<String>>,
    synonyms: Vec<Vec<String>>,
    intent_engine: Option<String>,
    default_ask: RawAsk,
    default_retry: RawRetry,
}

/// Borrowed view of a mapping's entries.
#[derive(Clone, Copy)]
struct Fields<'y> {
    entries: &'y [(Key, Yaml)],
}

impl<'y> Fields<'y> {
    fn get(&self, name: &str) -> Option<&'y Yaml> {
        self.entries
            .iter()
            .find(|(k, _)| k.text == name)
            .map(|(_, v)| v)
    }

    fn key(&self, name: &str) -> Option<&'y Key> {
        self.entries
            .iter()
            .find(|(k, _)| k.text == name)
            .map(|(k, _)| k)
    }

    fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// `route` → "`route`"; already quoted descriptions (node `x`) are kept.
fn quote(what: &str) -> String {
    if what.contains('`') {
        what.to_owned()
    } else {
        format!("`{what}`")
    }
}

fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_lowercase()));
    first_ok
        && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn is_node_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl<'a> Lowerer<'a> {
    pub(crate) fn new(file: &'a str, base_dir: &'a Path) -> Self {
        Self {
            file,
            base_dir,
            diags: Vec::new(),
            facts: GraphFacts::default(),
            index: HashMap::new(),
            current: None,
            languages: Vec::new(),
            default_language: String::new(),
            prompt_base: PromptBase::None,
            local_listing: None,
            synonyms: Vec::new(),
            intent_engine: None,
            default_ask: RawAsk::default(),
            default_retry: RawRetry::default(),
        }
    }

    // ----- diagnostics helpers -------------------------------------------------------------

    fn error(&mut self, code: &'static str, span: Span, message: String, label: &str) {
        self.diags
            .push(Diagnostic::error(code, self.file, span, message, label));
    }

    fn error_help(
        &mut self,
        code: &'static str,
        span: Span,
        message: String,
        label: &str,
        help: Option<String>,
    ) {
        self.diags
            .push(Diagnostic::error(code, self.file, span, message, label).with_help_opt(help));
    }

    /// An `if` condition or `number` comparison that cannot be read (`F0031`): its number
    /// reads differently by language (`1,200`), or else it is not written as one.
    fn unreadable(&mut self, t: &Spanned<String>, message: String, label: &str, help: &str) {
        let Some((text, point, comma)) = ambiguous_number(&t.value) else {
            return self.error_help(
                codes::INVALID_CONDITION,
                t.span,
                message,
                label,
                Some(help.into()),
            );
        };
        let point = Literal::Number(point).to_text();
        let comma = Literal::Number(comma).to_text();
        self.error_help(
            codes::INVALID_CONDITION,
            t.span,
            format!("`{text}` could be {point} or {comma}"),
            "ambiguous number",
            Some(format!(
                "write `{point}` or `{comma}`: a flow file writes numbers without digit groups, \
                 with a decimal point (a decimal comma is read only where it cannot be a group)"
            )),
        );
    }

    fn wrong_type(&mut self, y: &Yaml, what: &str, expected: &str) {
        let message = format!("`{what}` must be {expected}, found {}", y.kind_name());
        let label = format!("expected {expected}");
        self.error(codes::WRONG_TYPE, y.span, message, &label);
    }

    /// Opens a mapping, reporting a wrong type, duplicate keys and unknown fields.
    fn fields<'y>(&mut self, y: &'y Yaml, what: &str, allowed: &[&str]) -> Option<Fields<'y>> {
        let Value::Map(entries) = &y.value else {
            self.wrong_type(y, what, "a mapping of `name: value` fields");
            return None;
        };
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for (k, _) in entries {
            if let Some(first) = seen.get(k.text.as_str()) {
                let help = format!(
                    "the first `{}` is on line {}; keep only one",
                    k.text, first.line
                );
                self.error_help(
                    codes::DUPLICATE_KEY,
                    k.span,
                    format!("`{}` appears twice in {}", k.text, quote(what)),
                    "duplicate key",
                    Some(help),
                );
            } else {
                seen.insert(k.text.as_str(), k.span);
            }
            if !allowed.is_empty() && !allowed.contains(&k.text.as_str()) {
                let help = did_you_mean(&k.text, allowed.iter().copied()).or_else(|| {
                    Some(format!(
                        "{} accepts: {}",
                        quote(what),
                        allowed
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                });
                self.error_help(
                    codes::UNKNOWN_FIELD,
                    k.span,
                    format!("unknown field `{}` in {}", k.text, quote(what)),
                    "unknown field",
                    help,
                );
            }
        }
        Some(Fields { entries })
    }

    fn missing(&mut self, at: Span, what: &str, field: &str, help: &str) {
        self.error_help(
            codes::MISSING_FIELD,
            at,
            format!("{} is missing the required field `{field}`", quote(what)),
            &format!("`{field}` missing here"),
            Some(help.to_owned()),
        );
    }

    fn text(&mut self, y: &Yaml, what: &str) -> Option<Spanned<String>> {
        match &y.value {
            Value::Scalar(s) if !s.is_null() => Some(Spanned {
                value: s.text.clone(),
                span: y.span,
            }),
            _ => {
                self.wrong_type(y, what, "text");
                None
            }
        }
    }

    fn text_list(&mut self, y: &Yaml, what: &str) -> Option<Vec<Spanned<String>>> {
        match &y.value {
            Value::Scalar(_) => self.text(y, what).map(|t| vec![t]),
            Value::Seq(items) => {
                let mut out = Vec::new();
                for item in items {
                    if let Some(t) = self.text(item, what) {
                        out.push(t);
                    }
                }
                Some(out)
            }
            Value::Map(_) => {
                self.wrong_type(y, what, "text or a list of texts");
                None
            }
        }
    }

    fn uint(&mut self, y: &Yaml, what: &str, min: u32, max: u32) -> Option<u32> {
        let t = self.text(y, what)?;
        match t.value.trim().parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.error(
                    codes::INVALID_VALUE,
                    t.span,
                    format!(
                        "`{what}` must be a whole number from {min} to {max}, found `{}`",
                        t.value
                    ),
                    "not a valid number here",
                );
                None
            }
        }
    }

    fn boolean(&mut self, y: &Yaml, what: &str) -> Option<bool> {
        let t = self.text(y, what)?;
        match t.value.as_str() {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            _ => {
                self.error_help(
                    codes::INVALID_VALUE,
                    t.span,
                    format!("`{what}` must be `true` or `false`, found `{}`", t.value),
                    "not a boolean",
                    None,
                );
                None
            }
        }
    }

    fn choice<T: Copy>(&mut self, y: &Yaml, what: &str, options: &[(&str, T)]) -> Option<T> {
        let t = self.text(y, what)?;
        if let Some((_, v)) = options.iter().find(|(k, _)| *k == t.value) {
            return Some(*v);
        }
        let names: Vec<&str> = options.iter().map(|(k, _)| *k).collect();
        let help = did_you_mean(&t.value, names.iter().copied()).or_else(|| {
            Some(format!(
                "use one of: {}",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        });
        self.error_help(
            codes::INVALID_VALUE,
            t.span,
            format!("`{}` is not a valid `{what}`", t.value),
            "unknown value",
            help,
        );
        None
    }

    fn single_char(&mut self, y: &Yaml, what: &str) -> Option<char> {
        let t = self.text(y, what)?;
        let mut chars = t.value.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_digit() || c == '#' || c == '*' => Some(c),
            _ => {
                self.error(
                    codes::INVALID_VALUE,
                    t.span,
                    format!("`{what}` must be one key: 0-9, `#` or `*`"),
                    "not a single key",
                );
                None
            }
        }
    }

    fn var_name(&mut self, name: &str, span: Span) -> bool {
        if is_var_name(name) {
            return true;
        }
        self.error_help(
            codes::INVALID_NAME,
            span,
            format!("`{name}` is not a valid variable name"),
            "invalid variable name",
            Some("variable names use letters, digits and `_`, and start with a letter".into()),
        );
        false
    }

    fn language(&mut self, y: &Yaml, what: &str) -> Option<String> {
        let t = self.text(y, what)?;
        if !is_language_tag(&t.value) {
            self.error_help(
                codes::INVALID_LANGUAGE,
                t.span,
                format!("`{}` is not a language tag", t.value),
                "invalid language",
                Some("write a language tag such as `fr-FR` or `en-US`".into()),
            );
            return None;
        }
        if !self.languages.is_empty() && !self.languages.contains(&t.value) {
            self.undeclared_language(&t.value, t.span);
            return None;
        }
        Some(t.value)
    }

    fn undeclared_language(&mut self, lang: &str, span: Span) {
        let help = did_you_mean(lang, self.languages.iter().map(String::as_str))
            .unwrap_or_else(|| format!("add `{lang}` to `languages` at the top of the flow"));
        self.error_help(
            codes::UNDECLARED_LANGUAGE,
            span,
            format!("language `{lang}` is not declared by this flow"),
            "undeclared language",
            Some(help),
        );
    }

    /// Resolves a node reference, recording the edge from the current node.
    fn target(&mut self, y: &Yaml, what: &str) -> Option<NodeId> {
        let t = self.text(y, what)?;
        self.resolve(&t)
    }

    fn resolve(&mut self, t: &Spanned<String>) -> Option<NodeId> {
        if let Some(&i) = self.index.get(&t.value) {
            if let Some(cur) = self.current
                && let Some(e) = self.facts.edges.get_mut(cur)
            {
                e.push(i);
            }
            return u32::try_from(i).ok().map(NodeId);
        }
        let help = did_you_mean(&t.value, self.facts.names.iter().map(|n| n.value.as_str()));
        self.error_help(
            codes::DANGLING_TARGET,
            t.span,
            format!("there is no node named `{}`", t.value),
            "unknown node",
            help,
        );
        None
    }

    fn template(&mut self, text: &str, span: Span) -> Option<Template> {
        match Template::parse(text) {
            Ok(t) => {
                for v in t.variables() {
                    self.facts.reads.push(Spanned {
                        value: v.to_owned(),
                        span,
                    });
                }
                Some(t)
            }
            Err(e) => {
                self.error_help(
                    codes::INVALID_TEMPLATE,
                    span,
                    format!("invalid template: {}", e.message),
                    "in this text",
                    Some("placeholders look like `{{ caller }}`".into()),
                );
                None
            }
        }
    }

    // ----- flow ----------------------------------------------------------------------------

    pub(crate) fn lower(&mut self, root: &Yaml, source: &str) -> Option<Flow> {
        let flow_fields = self.fields(root, "flow file", FLOW_FIELDS)?;
        let whole = Span {
            start: 0,
            end: 0,
            line: 1,
            column: 1,
        };

        let id = match flow_fields.get("flow") {
            Some(y) => self.text(y, "flow").and_then(|t| {
                if is_node_name(&t.value) {
                    Some(t.value)
                } else {
                    self.error_help(
                        codes::INVALID_NAME,
                        t.span,
                        format!("`{}` is not a valid flow id", t.value),
                        "invalid flow id",
                        Some("flow ids use letters, digits, `-` and `_`".into()),
                    );
                    None
                }
            }),
            None => {
                self.missing(
                    whole,
                    "flow file",
                    "flow",
                    "start the file with `flow: my-flow-id`",
                );
                None
            }
        };
        let description = flow_fields
            .get("description")
            .and_then(|y| self.text(y, "description"))
            .map(|t| t.value);

        // Languages first: prompts are checked against them.
        let default_language = match flow_fields.get("language") {
            Some(y) => self.language(y, "language"),
            None => {
                self.missing(
                    whole,
                    "flow file",
                    "language",
                    "add `language: fr-FR` (the language calls start in)",
                );
                None
            }
        };
        let mut languages = Vec::new();
        if let Some(y) = flow_fields.get("languages")
            && let Some(list) = self.text_list(y, "languages")
        {
            for l in list {
                if !is_language_tag(&l.value) {
                    self.error_help(
                        codes::INVALID_LANGUAGE,
                        l.span,
                        format!("`{}` is not a language tag", l.value),
                        "invalid language",
                        Some("write a language tag such as `fr-FR` or `en-US`".into()),
                    );
                } else if !languages.contains(&l.value) {
                    languages.push(l.value);
                }
            }
        }
        if let Some(d) = &default_language
            && !languages.contains(d)
        {
            if languages.is_empty() {
                languages.push(d.clone());
            } else if let Some(y) = flow_fields.get("language") {
                self.undeclared_language(d, y.span);
            }
        }
        self.languages = languages.clone();
        self.default_language = default_language.clone().unwrap_or_default();

        let voice = flow_fields
            .get("voice")
            .map(|y| self.voice(y))
            .unwrap_or_default();
        if let Some(y) = flow_fields.get("prompts") {
            self.prompt_base(y);
        }
        if let Some(y) = flow_fields.get("intents") {
            self.intent_engine = self.text(y, "intents").map(|t| t.value);
        }
        let on_lost_call = flow_fields
            .get("on-lost-call")
            .and_then(|y| self.lost_call(y));
        if let Some(y) = flow_fields.get("synonyms") {
            self.synonyms(y);
        }
        let mut variables = Vec::new();
        if let Some(y) = flow_fields.get("variables")
            && let Some(vf) = self.fields(y, "variables", &[])
        {
            for (k, v) in vf.entries {
                if !self.var_name(&k.text, k.span) {
                    continue;
                }
                let lit = match &v.value {
                    Value::Scalar(s) if s.is_null() => Literal::Text(String::new()),
                    Value::Scalar(s) if s.quoted => Literal::Text(s.text.clone()),
                    Value::Scalar(s) => Literal::from_plain(&s.text),
                    _ => {
                        self.wrong_type(v, &k.text, "a single value");
                        continue;
                    }
                };
                self.facts.writes.insert(k.text.clone());
                variables.push((k.text.clone(), lit));
            }
        }

        // Node names, so targets anywhere can be resolved.
        let nodes_yaml = match flow_fields.get("nodes") {
            Some(y) => Some(y),
            None => {
                self.missing(
                    whole,
                    "flow file",
                    "nodes",
                    "add a `nodes:` mapping; see docs/flows.md",
                );
                None
            }
        };
        let mut node_entries: Vec<(&Key, &Yaml)> = Vec::new();
        if let Some(y) = nodes_yaml {
            match &y.value {
                Value::Map(entries) => {
                    if entries.len() > MAX_NODES {
                        self.error(
                            codes::TOO_LARGE,
                            y.span,
                            format!(
                                "the flow has {} nodes; the limit is {MAX_NODES}",
                                entries.len()
                            ),
                            "too many nodes",
                        );
                        return None;
                    }
                    if entries.is_empty() {
                        self.error_help(
                            codes::MISSING_FIELD,
                            y.span,
                            "the flow has no nodes".into(),
                            "empty",
                            Some("add at least one node under `nodes:`".into()),
                        );
                    }
                    for (k, v) in entries {
                        if let Some(&first) = self.index.get(&k.text) {
                            let line = self
                                .facts
                                .names
                                .get(first)
                                .map(|n| n.span.line)
                                .unwrap_or(0);
                            self.error_help(
                                codes::DUPLICATE_NODE,
                                k.span,
                                format!("node `{}` is defined twice", k.text),
                                "second definition",
                                Some(format!(
                                    "the first `{}` is on line {line}; rename one of them",
                                    k.text
                                )),
                            );
                            continue;
                        }
                        if !is_node_name(&k.text) {
                            self.error_help(
                                codes::INVALID_NAME,
                                k.span,
                                format!("`{}` is not a valid node id", k.text),
                                "invalid node id",
                                Some("node ids use letters, digits, `-` and `_`".into()),
                            );
                        }
                        self.index.insert(k.text.clone(), self.facts.names.len());
                        self.facts.names.push(Spanned {
                            value: k.text.clone(),
                            span: k.span,
                        });
                        node_entries.push((k, v));
                    }
                }
                _ => self.wrong_type(y, "nodes", "a mapping of node ids to nodes"),
            }
        }
        let n = self.facts.names.len();
        self.facts.edges = vec![Vec::new(); n];
        self.facts.exits = vec![false; n];

        let start = match flow_fields.get("start") {
            Some(y) => self.target(y, "start"),
            None => (n > 0).then_some(NodeId(0)),
        };
        self.facts.start = start.map(NodeId::index);

        if let Some(y) = flow_fields.get("defaults") {
            self.defaults(y);
        }

        let mut nodes = Vec::new();
        for (i, (k, v)) in node_entries.into_iter().enumerate() {
            self.current = Some(i);
            let node = self.node(k, v);
            self.current = None;
            match node {
                Some(node) => {
                    if let Some(e) = self.facts.exits.get_mut(i) {
                        *e = matches!(
                            node.kind,
                            NodeKind::Hangup
                                | NodeKind::Redirect { .. }
                                | NodeKind::Dial { .. }
                                | NodeKind::Enqueue { .. }
                                | NodeKind::Record { next: None, .. }
                        );
                    }
                    nodes.push(node);
                }
                None => {
                    if let Some(e) = self.facts.exits.get_mut(i) {
                        *e = true;
                    }
                }
            }
        }

        if self.diags.iter().any(Diagnostic::is_error) {
            return None;
        }
        let (id, default_language, start) = (id?, default_language?, start?);
        Some(Flow {
            id,
            description,
            version_hash: version_hash(source),
            default_language,
            languages,
            voice,
            prompt_base: self.prompt_base.clone(),
            start,
            variables,
            intent_engine: self.intent_engine.clone(),
            nodes,
            on_lost_call,
        })
    }

    /// `on-lost-call: restart | hangup | { transfer: NUMBER-OR-SIP }`.
    fn lost_call(&mut self, y: &Yaml) -> Option<LostCall> {
        const CHOICES: &[(&str, LostCall)] =
            &[("restart", LostCall::Restart), ("hangup", LostCall::Hangup)];
        if let Value::Scalar(_) = &y.value {
            let t = self.text(y, "on-lost-call")?;
            if let Some((_, v)) = CHOICES.iter().find(|(k, _)| *k == t.value) {
                return Some(v.clone());
            }
            let help = if t.value == "transfer"
                || t.value.starts_with('+')
                || t.value.starts_with("sip:")
            {
                Some(format!(
                    "write `on-lost-call: {{ transfer: \"{}\" }}` with the number or SIP URI to transfer to",
                    if t.value == "transfer" {
                        "+15551234567"
                    } else {
                        t.value.as_str()
                    }
                ))
            } else {
                did_you_mean(&t.value, ["restart", "hangup", "transfer"]).or_else(|| {
                    Some("use `restart`, `hangup` or `{ transfer: \"+15551234567\" }`".into())
                })
            };
            self.error_help(
                codes::INVALID_VALUE,
                t.span,
                format!("`{}` is not a valid `on-lost-call`", t.value),
                "unknown value",
                help,
            );
            return None;
        }
        let f = self.fields(y, "on-lost-call", &["transfer"])?;
        let Some(target) = f.get("transfer") else {
            self.missing(
                y.span,
                "on-lost-call",
                "transfer",
                "add `transfer: \"+15551234567\"` (a phone number or `sip:` URI), or write `restart` or `hangup`",
            );
            return None;
        };
        let t = self.text(target, "transfer")?;
        let v = t.value.trim();
        if v.starts_with("sip:") || v.starts_with("sips:") {
            if is_sip_uri(v) {
                return Some(LostCall::Transfer(v.to_owned()));
            }
            self.error_help(
                codes::INVALID_DIAL_TARGET,
                t.span,
                format!("`{v}` is not a valid SIP URI"),
                "invalid SIP URI",
                Some("write `sip:user@host` or `sips:user@host:port`".into()),
            );
            return None;
        }
        match normalize_number(v) {
            Some(n) => Some(LostCall::Transfer(n)),
            None => {
                self.error_help(
                    codes::INVALID_DIAL_TARGET,
                    t.span,
                    format!("`{v}` is not a phone number or SIP URI"),
                    "cannot transfer to this",
                    Some("write an international number like `+15551234567`, a short number like `15`, or `sip:user@host`".into()),
                );
                None
            }
        }
    }

    fn voice(&mut self, y: &Yaml) -> Voice {
        let mut voice = Voice::default();
        match &y.value {
            Value::Map(entries) => {
                for (k, v) in entries {
                    if !self.languages.contains(&k.text) {
                        self.undeclared_language(&k.text, k.span);
                        continue;
                    }
                    if let Some(t) = self.text(v, "voice") {
                        voice.per_language.push((k.text.clone(), t.value));
                    }
                }
            }
            _ => voice.default = self.text(y, "voice").map(|t| t.value),
        }
        voice
    }

    fn prompt_base(&mut self, y: &Yaml) {
        let Some(t) = self.text(y, "prompts") else {
            return;
        };
        let v = t.value.trim();
        if let Some(rest) = v.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let bucket_ok = (3..=63).contains(&bucket.len())
                && bucket
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
            if bucket_ok {
                self.prompt_base = PromptBase::S3 {
                    bucket: bucket.to_owned(),
                    prefix: prefix.trim_matches('/').to_owned(),
                };
            } else {
                self.error_help(
                    codes::INVALID_PROMPT_BASE,
                    t.span,
                    format!("`{bucket}` is not a valid S3 bucket name"),
                    "invalid bucket",
                    Some("write `s3://bucket-name/prefix` (3-63 lowercase letters, digits, `-`, `.`)".into()),
                );
            }
        } else if v.starts_with("http://") || v.starts_with("https://") {
            let host = v.split_once("://").map(|(_, r)| r).unwrap_or("");
            if host.is_empty() || host.starts_with('/') || v.contains(char::is_whitespace) {
                self.error_help(
                    codes::INVALID_PROMPT_BASE,
                    t.span,
                    format!("`{v}` is not a valid URL prefix"),
                    "invalid URL",
                    Some("write `https://host/path/`".into()),
                );
            } else {
                self.prompt_base = PromptBase::Http(v.trim_end_matches('/').to_owned());
            }
        } else if v.contains("://") {
            self.error_help(
                codes::INVALID_PROMPT_BASE,
                t.span,
                format!("unsupported prompt base `{v}`"),
                "unsupported scheme",
                Some("use a folder, an `https://` prefix or `s3://bucket/prefix`".into()),
            );
        } else {
            let rel = v.trim_start_matches("./");
            let dir = if rel.is_empty() {
                self.base_dir.to_path_buf()
            } else {
                self.base_dir.join(rel)
            };
            if dir.is_dir() {
                let mut listing: Vec<String> = std::fs::read_dir(&dir)
                    .map(|rd| {
                        rd.filter_map(Result::ok)
                            .filter_map(|e| e.file_name().into_string().ok())
                            .collect()
                    })
                    .unwrap_or_default();
                listing.sort();
                self.local_listing = Some(listing);
                self.prompt_base = PromptBase::Local(dir);
            } else {
                self.error_help(
                    codes::INVALID_PROMPT_BASE,
                    t.span,
                    format!("the prompt folder `{v}` does not exist"),
                    "no such folder",
                    Some(format!(
                        "folders are relative to the flow file's folder ({})",
                        display_dir(self.base_dir)
                    )),
                );
            }
        }
    }

    fn synonyms(&mut self, y: &Yaml) {
        let Some(f) = self.fields(y, "synonyms", &[]) else {
            return;
        };
        for (k, v) in f.entries {
            let mut group = vec![k.text.clone()];
            if let Some(list) = self.text_list(v, &k.text) {
                group.extend(list.into_iter().map(|t| t.value));
            }
            self.synonyms.push(group);
        }
    }

    fn defaults(&mut self, y: &Yaml) {
        let Some(f) = self.fields(y, "defaults", &["ask", "retry"]) else {
            return;
        };
        if let Some(a) = f.get("ask") {
            self.default_ask = self.raw_ask(a);
        }
        if let Some(r) = f.get("retry") {
            self.default_retry = self.raw_retry(r);
        }
    }

    // ----- nodes ---------------------------------------------------------------------------

    fn node(&mut self, key: &Key, y: &Yaml) -> Option<Node> {
        let what = format!("node `{}`", key.text);
        let f = self.fields(y, &what, NODE_FIELDS)?;
        let errors_before = self.error_count();

        // Prompts, in the order written; assignments.
        let mut prompts = Vec::new();
        for (k, v) in f.entries {
            match k.text.as_str() {
                "say" => self.says(v, &mut prompts),
                "play" => self.plays(v, &mut prompts),
                _ => {}
            }
        }
        let mut on_enter = Vec::new();
        if let Some(v) = f.get("set") {
            self.assignments(v, false, &mut on_enter);
        }
        if let Some(v) = f.get("add") {
            self.assignments(v, true, &mut on_enter);
        }
        let voice = f
            .get("voice")
            .and_then(|v| self.text(v, "voice"))
            .map(|t| t.value);

        // Which action?
        let actions: Vec<&Key> = ACTIONS.iter().filter_map(|a| f.key(a)).collect();
        if let [first, second, ..] = actions.as_slice() {
            let message = format!(
                "node `{}` has both `{}` and `{}`",
                key.text, first.text, second.text
            );
            self.error_help(
                codes::CONFLICTING_ACTIONS,
                second.span,
                message,
                "second action",
                Some("a node does one thing; split it into two nodes linked by `next`".into()),
            );
            return None;
        }
        let action = actions.first().map(|k| k.text.as_str());
        let allows = |field: &str| -> bool {
            match field {
                "routes" => matches!(action, None | Some("ask" | "webhook" | "bot")),
                "retry" => action == Some("ask"),
                "fallback" => matches!(action, Some("dial" | "record" | "webhook" | "bot")),
                "next" => !matches!(action, Some("redirect" | "hangup")),
                _ => true,
            }
        };
        for field in ["routes", "retry", "fallback", "next"] {
            if let Some(k) = f.key(field)
                && !allows(field)
            {
                let message = match action {
                    Some(a) => format!("`{field}` cannot be used on a `{a}` node"),
                    None => format!("`{field}` needs an action such as `ask`"),
                };
                self.error_help(
                    codes::CONFLICTING_ACTIONS,
                    k.span,
                    message,
                    "not allowed here",
                    Some(field_help(field).into()),
                );
            }
        }

        let routes = match f.get("routes") {
            Some(r) if allows("routes") => self.routes(r),
            _ => Vec::new(),
        };
        let next = match f.get("next") {
            Some(n) if allows("next") => self.target(n, "next"),
            _ => None,
        };
        let has_next = f.has("next");
        let fallback = match f.get("fallback") {
            Some(n) if allows("fallback") => self.target(n, "fallback"),
            _ => None,
        };

        let no_way_out = |this: &mut Self, message: String, help: &str| {
            this.error_help(
                codes::NO_WAY_OUT,
                key.span,
                message,
                "no way out",
                Some(help.to_owned()),
            );
        };

        let kind = match action {
            None if f.has("routes") => {
                if !has_next {
                    no_way_out(
                        self,
                        format!("node `{}` has no default route", key.text),
                        "when no route matches the call has nowhere to go: add `next: <node>`",
                    );
                }
                next.map(|next| NodeKind::Branch { routes, next })
            }
            None => {
                if !has_next {
                    no_way_out(
                        self,
                        format!("node `{}` has no way out", key.text),
                        "add `next: <node>` to continue, or `hangup: true` to end the call",
                    );
                }
                next.map(|next| NodeKind::Continue { next })
            }
            Some("ask") => {
                let ask = self.ask(key, &f);
                if let (Some(ask), Some(at)) = (&ask, f.key("ask"))
                    && next.is_none()
                {
                    self.keys_wait(key, at.span, ask, &routes);
                }
                if !f.has("routes") && !has_next {
                    no_way_out(
                        self,
                        format!("node `{}` asks a question but has no routes", key.text),
                        "add `routes:` (or `next:` to accept any answer)",
                    );
                }
                ask.map(|ask| NodeKind::Ask {
                    ask: Box::new(ask),
                    routes,
                    next,
                })
            }
            Some("dial") => self.dial(f.get("dial")).map(|dial| NodeKind::Dial {
                dial,
                next,
                fallback,
            }),
            Some("enqueue") => self
                .enqueue(f.get("enqueue"))
                .map(|queue| NodeKind::Enqueue { queue, next }),
            Some("redirect") => self
                .redirect(f.get("redirect"))
                .map(|flow| NodeKind::Redirect { flow }),
            Some("record") => self.record(f.get("record")).map(|record| NodeKind::Record {
                record,
                next,
                fallback,
            }),
            Some("hangup") => {
                if let Some(v) = f.get("hangup")
                    && self.boolean(v, "hangup") == Some(false)
                {
                    self.error_help(
                        codes::INVALID_VALUE,
                        v.span,
                        "`hangup: false` does nothing".into(),
                        "remove this",
                        Some("remove the line, or write `hangup: true`".into()),
                    );
                }
                Some(NodeKind::Hangup)
            }
            Some("webhook") => {
                let webhook = self.webhook(f.get("webhook"));
                if !has_next {
                    no_way_out(
                        self,
                        format!("webhook node `{}` has no `next`", key.text),
                        "add `next: <node>`: where to go after a successful reply",
                    );
                }
                if !f.has("fallback") {
                    self.missing(
                        key.span,
                        &format!("webhook node `{}`", key.text),
                        "fallback",
                        "add `fallback: <node>`: where to go on timeout or error",
                    );
                }
                match (webhook, next, fallback) {
                    (Some(webhook), Some(next), Some(fallback)) => Some(NodeKind::Webhook {
                        webhook,
                        routes,
                        next,
                        fallback,
                    }),
                    _ => None,
                }
            }
            Some("bot") => {
                let bot = self.bot(f.get("bot"));
                if !has_next {
                    no_way_out(
                        self,
                        format!("bot node `{}` has no `next`", key.text),
                        "add `next: <node>`: where to resume when the bot is done",
                    );
                }
                match (bot, next) {
                    (Some(bot), Some(next)) => Some(NodeKind::Bot {
                        bot,
                        routes,
                        next,
                        fallback,
                    }),
                    _ => None,
                }
            }
            Some(_) => None,
        };
        if self.error_count() > errors_before {
            return None;
        }
        Some(Node {
            id: key.text.clone(),
            span: key.span,
            on_enter,
            prompts,
            voice,
            kind: kind?,
        })
    }

    fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    // ----- prompts -------------------------------------------------------------------------

    /// Checks a per-language mapping: keys declared, every declared language present.
    fn per_language<'y>(&mut self, y: &'y Yaml, what: &str) -> Vec<(String, &'y Yaml)> {
        let mut out = Vec::new();
        let Value::Map(entries) = &y.value else {
            return out;
        };
        for (k, v) in entries {
            if !is_language_tag(&k.text) || !self.languages.contains(&k.text) {
                self.undeclared_language(&k.text, k.span);
                continue;
            }
            if out.iter().any(|(l, _): &(String, &Yaml)| *l == k.text) {
                self.error(
                    codes::DUPLICATE_KEY,
                    k.span,
                    format!("language `{}` appears twice in `{what}`", k.text),
                    "duplicate language",
                );
                continue;
            }
            out.push((k.text.clone(), v));
        }
        let missing: Vec<String> = self
            .languages
            .iter()
            .filter(|l| !out.iter().any(|(o, _)| o == *l))
            .cloned()
            .collect();
        if !missing.is_empty() {
            let list = missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ");
            self.error_help(
                codes::PROMPT_LANGUAGE_MISSING,
                y.span,
                format!("`{what}` has no {list} variant"),
                "missing a declared language",
                Some(format!(
                    "add `{}: ...` to this mapping, or use one {} for every language",
                    missing.first().map(String::as_str).unwrap_or(""),
                    // `hints` and `keywords` map languages to lists; prompts to texts.
                    if matches!(what, "hints" | "keywords") {
                        "list"
                    } else {
                        "text"
                    }
                )),
            );
        }
        out
    }

    fn says(&mut self, y: &Yaml, out: &mut Vec<Prompt>) {
        match &y.value {
            Value::Seq(items) => {
                for item in items {
                    if matches!(item.value, Value::Seq(_)) {
                        self.wrong_type(item, "say", "text or a mapping");
                    } else {
                        self.says(item, out);
                    }
                }
            }
            Value::Scalar(_) => {
                if let Some(t) = self.text(y, "say")
                    && let Some(tpl) = self.template(&t.value, t.span)
                {
                    out.push(Prompt::Say(Say {
                        text: Localized::All(tpl),
                        language: None,
                        voice: None,
                        span: y.span,
                    }));
                }
            }
            Value::Map(entries) => {
                if entries.iter().any(|(k, _)| k.text == "text") {
                    let Some(f) = self.fields(y, "say", &["text", "language", "voice"]) else {
                        return;
                    };
                    let language = f.get("language").and_then(|l| self.language(l, "language"));
                    let voice = f
                        .get("voice")
                        .and_then(|v| self.text(v, "voice"))
                        .map(|t| t.value);
                    let text = match f.get("text") {
                        Some(t) if language.is_some() => self
                            .text(t, "text")
                            .and_then(|t| self.template(&t.value, t.span))
                            .map(Localized::All),
                        Some(t) => self.localized_text(t, "say"),
                        None => None,
                    };
                    if let Some(text) = text {
                        out.push(Prompt::Say(Say {
                            text,
                            language,
                            voice,
                            span: y.span,
                        }));
                    }
                } else if let Some(text) = self.localized_text(y, "say") {
                    out.push(Prompt::Say(Say {
                        text,
                        language: None,
                        voice: None,
                        span: y.span,
                    }));
                }
            }
        }
    }

    fn localized_text(&mut self, y: &Yaml, what: &str) -> Option<Localized<Template>> {
        match &y.value {
            Value::Map(_) => {
                let variants = self.per_language(y, what);
                let mut out = Vec::new();
                for (lang, v) in variants {
                    if let Some(t) = self.text(v, what)
                        && let Some(tpl) = self.template(&t.value, t.span)
                    {
                        out.push((lang, tpl));
                    }
                }
                Some(Localized::PerLanguage(out))
            }
            _ => {
                let t = self.text(y, what)?;
                self.template(&t.value, t.span).map(Localized::All)
            }
        }
    }

    fn plays(&mut self, y: &Yaml, out: &mut Vec<Prompt>) {
        match &y.value {
            Value::Seq(items) => {
                for item in items {
                    if matches!(item.value, Value::Seq(_)) {
                        self.wrong_type(item, "play", "a file name or a mapping");
                    } else {
                        self.plays(item, out);
                    }
                }
            }
            Value::Scalar(_) => {
                if let Some(t) = self.text(y, "play")
                    && let Some(audio) = self.audio(&t)
                {
                    out.push(Prompt::Play(Play {
                        audio: Localized::All(audio),
                        span: y.span,
                    }));
                }
            }
            Value::Map(_) => {
                let variants = self.per_language(y, "play");
                let mut list = Vec::new();
                for (lang, v) in variants {
                    if let Some(t) = self.text(v, "play")
                        && let Some(a) = self.audio(&t)
                    {
                        list.push((lang, a));
                    }
                }
                out.push(Prompt::Play(Play {
                    audio: Localized::PerLanguage(list),
                    span: y.span,
                }));
            }
        }
    }

    fn audio(&mut self, t: &Spanned<String>) -> Option<Audio> {
        let name = t.value.trim();
        if name.starts_with("https://") || name.starts_with("http://") {
            return Some(Audio::Url(name.to_owned()));
        }
        let unsafe_path = name.is_empty()
            || name.starts_with('/')
            || name.contains('\\')
            || name.contains("://")
            || name.split('/').any(|seg| seg == ".." || seg.is_empty());
        if unsafe_path {
            self.error_help(
                codes::INVALID_VALUE,
                t.span,
                format!("`{name}` is not a prompt name"),
                "invalid prompt name",
                Some("write a file name relative to `prompts` (no `..`, no leading `/`), or a full https:// URL".into()),
            );
            return None;
        }
        match &self.prompt_base {
            PromptBase::None => {
                self.error_help(
                    codes::NO_PROMPT_BASE,
                    t.span,
                    format!("`play: {name}` needs a prompt base"),
                    "where is this file?",
                    Some("add `prompts: ./prompts` (a folder next to the flow), an https:// prefix or `s3://bucket/prefix` at the top of the flow".into()),
                );
                None
            }
            PromptBase::Local(dir) => {
                let has_ext = Path::new(name).extension().is_some();
                let candidates: Vec<String> = if has_ext {
                    vec![name.to_owned()]
                } else {
                    vec![
                        format!("{name}.wav"),
                        format!("{name}.mp3"),
                        name.to_owned(),
                    ]
                };
                if let Some(found) = candidates.iter().find(|c| dir.join(c).is_file()) {
                    return Some(Audio::File {
                        name: name.to_owned(),
                        resolved: found.clone(),
                    });
                }
                let listing = self.local_listing.clone().unwrap_or_default();
                let stems: Vec<&str> = listing
                    .iter()
                    .map(|f| {
                        if has_ext {
                            f.as_str()
                        } else {
                            Path::new(f)
                                .file_stem()
                                .and_then(|s| s.to_str())
                                .unwrap_or(f.as_str())
                        }
                    })
                    .collect();
                let help = did_you_mean(name, stems.iter().copied()).or_else(|| {
                    Some(format!(
                        "looked for {} in {}",
                        candidates
                            .iter()
                            .map(|c| format!("`{c}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        display_dir(dir)
                    ))
                });
                self.error_help(
                    codes::PROMPT_FILE_MISSING,
                    t.span,
                    format!("prompt file `{name}` is not in the prompt folder"),
                    "file not found",
                    help,
                );
                None
            }
            PromptBase::Http(_) | PromptBase::S3 { .. } => Some(Audio::File {
                name: name.to_owned(),
                resolved: name.to_owned(),
            }),
        }
    }

    /// A reprompt list: one reprompt, or a list of them. Each reprompt is a text (said) or a
    /// mapping with `say`/`play`.
    fn reprompts(&mut self, y: &Yaml, what: &str) -> Vec<Vec<Prompt>> {
        let items: Vec<&Yaml> = match &y.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![y],
        };
        let mut out = Vec::new();
        for item in items {
            let mut prompts = Vec::new();
            match &item.value {
                Value::Scalar(_) => self.says(item, &mut prompts),
                Value::Map(_) => {
                    if let Some(f) = self.fields(item, what, &["say", "play"]) {
                        for (k, v) in f.entries {
                            match k.text.as_str() {
                                "say" => self.says(v, &mut prompts),
                                "play" => self.plays(v, &mut prompts),
                                _ => {}
                            }
                        }
                    }
                }
                Value::Seq(_) => self.wrong_type(item, what, "text or a `say`/`play` mapping"),
            }
            out.push(prompts);
        }
        out
    }

    // ----- ask -----------------------------------------------------------------------------

    fn raw_ask(&mut self, y: &Yaml) -> RawAsk {
        let mut raw = RawAsk::default();
        if let Value::Scalar(_) = &y.value {
            raw.input = self.choice(y, "ask", INPUT_MODES);
            return raw;
        }
        let Some(f) = self.fields(y, "ask", ASK_FIELDS) else {
            return raw;
        };
        if let Some(v) = f.get("input") {
            raw.input = self.choice(v, "input", INPUT_MODES);
        }
        if let Some(v) = f.get("timeout") {
            raw.timeout = self.uint(v, "timeout", 1, 60);
        }
        if let Some(v) = f.get("speech-timeout") {
            raw.speech_timeout = if matches!(&v.value, Value::Scalar(s) if s.text == "auto") {
                Some(SpeechTimeout::Auto)
            } else {
                self.uint(v, "speech-timeout", 1, 60)
                    .map(SpeechTimeout::Seconds)
            };
        }
        if let Some(v) = f.get("hints") {
            raw.hints = self.hints(v);
        }
        if let Some(v) = f.get("num-digits") {
            raw.num_digits = self.uint(v, "num-digits", 1, 64);
        }
        if let Some(v) = f.get("finish-on-key") {
            raw.finish_on_key = self.single_char(v, "finish-on-key");
        }
        if let Some(v) = f.get("language") {
            raw.language = self.language(v, "language");
        }
        if let Some(v) = f.get("save-as")
            && let Some(t) = self.text(v, "save-as")
            && self.var_name(&t.value, t.span)
        {
            raw.save_as = Some(t.value);
        }
        if let Some(v) = f.get("unclear") {
            raw.unclear = self.keywords(v, "unclear", true, &mut Vec::new());
        }
        raw
    }

    /// `hints: [a, b]` for every language, or one list per declared language.
    fn hints(&mut self, y: &Yaml) -> Option<Localized<Vec<String>>> {
        let texts = |l: Vec<Spanned<String>>| l.into_iter().map(|t| t.value).collect();
        if let Value::Map(_) = &y.value {
            let mut out = Vec::new();
            for (lang, v) in self.per_language(y, "hints") {
                out.push((lang, texts(self.text_list(v, "hints")?)));
            }
            return Some(Localized::PerLanguage(out));
        }
        self.text_list(y, "hints").map(|l| Localized::All(texts(l)))
    }

    fn raw_retry(&mut self, y: &Yaml) -> RawRetry {
        let mut raw = RawRetry::default();
        let Some(f) = self.fields(y, "retry", RETRY_FIELDS) else {
            return raw;
        };
        if let Some(v) = f.get("attempts") {
            raw.attempts = self.uint(v, "attempts", 1, 10);
        }
        if let Some(v) = f.get("reprompt") {
            let r = self.reprompts(v, "reprompt");
            raw.no_input = Some(r.clone());
            raw.no_match = Some(r);
        }
        if let Some(v) = f.get("no-input") {
            raw.no_input = Some(self.reprompts(v, "no-input"));
        }
        if let Some(v) = f.get("no-match") {
            raw.no_match = Some(self.reprompts(v, "no-match"));
        }
        if let Some(v) = f.get("repeat-question") {
            raw.repeat_question = self.boolean(v, "repeat-question");
        }
        if let Some(v) = f.get("exhausted") {
            if let Value::Map(_) = &v.value {
                // One target per kind of the last failure; a kind left out is inherited.
                if let Some(e) = self.fields(v, "exhausted", &["no-input", "no-match"]) {
                    if let Some(t) = e.get("no-input") {
                        raw.exhausted_no_input = self.target(t, "no-input").map(NodeId::index);
                    }
                    if let Some(t) = e.get("no-match") {
                        raw.exhausted_no_match = self.target(t, "no-match").map(NodeId::index);
                    }
                }
            } else {
                let target = self.target(v, "exhausted").map(NodeId::index);
                raw.exhausted_no_input = target;
                raw.exhausted_no_match = target;
            }
        }
        raw
    }

    /// The node's own exhaustion target for one kind of failure, else the default's (then the
    /// edge from this node is recorded here, since the default was lowered outside any node).
    fn exhausted_target(&mut self, own: Option<usize>, default: Option<usize>) -> Option<usize> {
        if own.is_some() {
            return own;
        }
        if let Some(e) = default
            && let Some(cur) = self.current
            && let Some(edges) = self.facts.edges.get_mut(cur)
        {
            edges.push(e);
        }
        default
    }

    fn ask(&mut self, key: &Key, f: &Fields<'_>) -> Option<Ask> {
        let raw = f.get("ask").map(|y| self.raw_ask(y)).unwrap_or_default();
        let d = self.default_ask.clone();
        let retry_raw = f
            .get("retry")
            .map(|y| self.raw_retry(y))
            .unwrap_or_default();
        let dr = self.default_retry.clone();
        let no_input = self.exhausted_target(retry_raw.exhausted_no_input, dr.exhausted_no_input);
        let no_match = self.exhausted_target(retry_raw.exhausted_no_match, dr.exhausted_no_match);
        // A kind with no target: (the words for the message, the key to add).
        let missing = match (no_input, no_match) {
            (Some(_), Some(_)) => None,
            (None, Some(_)) => Some(Some(("after a last silence", "no-input"))),
            (Some(_), None) => Some(Some(("after a last unmatched answer", "no-match"))),
            (None, None) => Some(None),
        };
        // A target that was written but does not resolve has its own error already.
        let written = |kind: &str| {
            f.get("retry").is_some_and(|r| {
                field(r, "exhausted").is_some_and(|e| match &e.value {
                    Value::Map(_) => field(e, kind).is_some(),
                    _ => true,
                })
            })
        };
        if let Some(kind) = missing
            && !(no_input.is_none() && written("no-input"))
            && !(no_match.is_none() && written("no-match"))
        {
            let (when, help) = match kind {
                None => (
                    String::new(),
                    "add `retry: { exhausted: <node> }` to this node, or `defaults: { retry: { exhausted: <node> } }` to the flow".to_owned(),
                ),
                Some((when, key)) => (
                    format!(" {when}"),
                    format!("add `{key}: <node>` to `exhausted`, here or in `defaults: {{ retry: ... }}`; `exhausted: <node>` alone covers both"),
                ),
            };
            self.error_help(
                codes::NO_EXHAUSTED_TARGET,
                key.span,
                format!(
                    "node `{}` does not say where to go when its retries are exhausted{when}",
                    key.text
                ),
                "no exhaustion target",
                Some(help),
            );
        }
        let save_as = raw
            .save_as
            .or(d.save_as)
            .unwrap_or_else(|| "answer".to_owned());
        self.facts.writes.insert(save_as.clone());
        Some(Ask {
            input: raw.input.or(d.input).unwrap_or(InputMode::Both),
            timeout_secs: raw.timeout.or(d.timeout).unwrap_or(5),
            speech_timeout: raw
                .speech_timeout
                .or(d.speech_timeout)
                .unwrap_or(SpeechTimeout::Auto),
            hints: raw
                .hints
                .or(d.hints)
                .unwrap_or_else(|| Localized::All(Vec::new())),
            num_digits: raw.num_digits.or(d.num_digits),
            finish_on_key: raw.finish_on_key.or(d.finish_on_key),
            language: raw.language.or(d.language),
            save_as,
            unclear: raw.unclear.or(d.unclear),
            retry: RetryPolicy {
                attempts: retry_raw.attempts.or(dr.attempts).unwrap_or(3),
                no_input: retry_raw.no_input.or(dr.no_input).unwrap_or_default(),
                no_match: retry_raw.no_match.or(dr.no_match).unwrap_or_default(),
                repeat_question: retry_raw
                    .repeat_question
                    .or(dr.repeat_question)
                    .unwrap_or(false),
                exhausted: Exhausted {
                    no_input: NodeId(u32::try_from(no_input?).ok()?),
                    no_match: NodeId(u32::try_from(no_match?).ok()?),
                },
            },
        })
    }

    /// `W0003`: a question that takes keys, whose `digits` routes are all `n` keys long, with
    /// neither `num-digits` nor `finish-on-key`. Twilio waits `timeout` seconds after the last
    /// key before posting it, so every caller who presses a key hears silence for that long.
    /// Not reported when another answer condition (`regex`, `number`) or a `next` may take
    /// entries of any length.
    fn keys_wait(&mut self, key: &Key, at: Span, ask: &Ask, routes: &[Route]) {
        if ask.input == InputMode::Speech || ask.num_digits.is_some() || ask.finish_on_key.is_some()
        {
            return;
        }
        let mut lengths = BTreeSet::new();
        for m in routes.iter().flat_map(|r| &r.answer) {
            match m {
                AnswerMatch::Digits(list) => lengths.extend(list.iter().map(|d| d.chars().count())),
                AnswerMatch::Regex(_) | AnswerMatch::Number(_) => return,
                AnswerMatch::Keywords(_) | AnswerMatch::Intent(_) => {}
            }
        }
        let (Some(&n), 1) = (lengths.first(), lengths.len()) else {
            return;
        };
        let (presses, taken) = if n == 1 {
            ("presses a key".to_owned(), "it is")
        } else {
            (format!("presses {n} keys"), "they are")
        };
        self.diags.push(
            Diagnostic::warning(
                codes::KEYS_WAIT,
                self.file,
                at,
                format!(
                    "a caller who {presses} at node `{}` waits {} s in silence before {taken} taken",
                    key.text, ask.timeout_secs
                ),
                "no `num-digits`",
            )
            .with_help(format!(
                "every `digits` route here is {n} {} long: add `num-digits: {n}` so that Twilio posts the keys at once (Twilio waits `timeout` seconds for another key otherwise)",
                if n == 1 { "key" } else { "keys" }
            )),
        );
    }

    // ----- routes --------------------------------------------------------------------------

    fn routes(&mut self, y: &Yaml) -> Vec<Route> {
        let Value::Seq(items) = &y.value else {
            self.wrong_type(y, "routes", "a list of routes (`- keywords: ...`)");
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            if let Some(r) = self.route(item) {
                out.push(r);
            }
        }
        out
    }

    fn route(&mut self, y: &Yaml) -> Option<Route> {
        let errors_before = self.error_count();
        let f = self.fields(y, "route", ROUTE_FIELDS)?;
        let negation = match f.get("negation") {
            Some(v) => self.boolean(v, "negation").unwrap_or(true),
            None => true,
        };
        let mut answer = Vec::new();
        let mut labels: Vec<String> = Vec::new();
        if let Some(v) = f.get("keywords")
            && let Some(k) = self.keywords(v, "keywords", negation, &mut labels)
        {
            answer.push(AnswerMatch::Keywords(k));
        }
        if let Some(v) = f.get("digits")
            && let Some(list) = self.text_list(v, "digits")
        {
            let mut digits = Vec::new();
            for d in list {
                let ok = !d.value.is_empty()
                    && d.value.len() <= 64
                    && d.value
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == '*' || c == '#');
                if ok {
                    labels.push(d.value.clone());
                    digits.push(d.value);
                } else {
                    self.error(
                        codes::INVALID_VALUE,
                        d.span,
                        format!("`{}` is not a keypad entry", d.value),
                        "only 0-9, `*` and `#`",
                    );
                }
            }
            answer.push(AnswerMatch::Digits(digits));
        }
        if let Some(v) = f.get("regex")
            && let Some(t) = self.text(v, "regex")
        {
            match regex::RegexBuilder::new(&t.value)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
            {
                Ok(re) => {
                    labels.push(format!("/{}/", t.value));
                    answer.push(AnswerMatch::Regex(re));
                }
                Err(e) => {
                    let detail = e.to_string();
                    let last = detail
                        .lines()
                        .rev()
                        .find(|l| !l.trim().is_empty())
                        .unwrap_or("")
                        .trim()
                        .trim_start_matches("error: ")
                        .to_owned();
                    self.error_help(
                        codes::INVALID_REGEX,
                        t.span,
                        format!("invalid regular expression: {last}"),
                        "does not compile",
                        Some("in YAML, prefer single quotes around regexes: '^\\d{5}$'".into()),
                    );
                }
            }
        }
        if let Some(v) = f.get("number")
            && let Some(t) = self.text(v, "number")
        {
            match parse_comparison(&t.value) {
                Some(c) => {
                    labels.push(format!(
                        "number {} {}",
                        c.op.as_str(),
                        Literal::Number(c.value).to_text()
                    ));
                    answer.push(AnswerMatch::Number(c));
                }
                None => self.unreadable(
                    &t,
                    format!("`{}` is not a number comparison", t.value),
                    "invalid comparison",
                    "write an operator and a number, e.g. `>= 65` or `< 38.5`",
                ),
            }
        }
        if let Some(v) = f.get("intent")
            && let Some(t) = self.text(v, "intent")
        {
            if self.intent_engine.is_none() {
                self.error_help(
                    codes::NO_INTENT_ENGINE,
                    t.span,
                    format!("intent `{}` needs an intent engine", t.value),
                    "no intent engine configured",
                    Some("add `intents: <engine name>` at the top of the flow".into()),
                );
            }
            labels.push(format!("intent {}", t.value));
            answer.push(AnswerMatch::Intent(t.value));
        }
        let mut conditions = Vec::new();
        if let Some(v) = f.get("if")
            && let Some(list) = self.text_list(v, "if")
        {
            for c in list {
                match parse_condition(&c.value) {
                    Some(cond) => {
                        self.facts.reads.push(Spanned {
                            value: cond.var.clone(),
                            span: c.span,
                        });
                        labels.push(cond.source());
                        conditions.push(cond);
                    }
                    None => self.unreadable(
                        &c,
                        format!("`{}` is not a condition", c.value),
                        "invalid condition",
                        "write `variable operator value`, e.g. `score >= 4` or `risk == high` (operators: == != < <= > >=)",
                    ),
                }
            }
        }
        let mut assign = Vec::new();
        if let Some(v) = f.get("set") {
            self.assignments(v, false, &mut assign);
        }
        if let Some(v) = f.get("add") {
            self.assignments(v, true, &mut assign);
        }
        let language = f.get("language").and_then(|v| self.language(v, "language"));
        if let Some(l) = &language {
            labels.push(format!("language {l}"));
        }
        let target = match f.get("goto") {
            Some(v) => self.target(v, "goto"),
            None => {
                self.missing(
                    y.span,
                    "route",
                    "goto",
                    "add `goto: <node>`: where this route leads",
                );
                None
            }
        };
        if answer.is_empty() && conditions.is_empty() && self.error_count() == errors_before {
            self.error_help(
                codes::EMPTY_ROUTE,
                y.span,
                "this route has no condition, so it always matches".into(),
                "route without condition",
                Some("add `keywords`, `digits`, `regex`, `number`, `intent` or `if`; for a catch-all use `next:` on the node".into()),
            );
        }
        if self.error_count() > errors_before {
            return None;
        }
        let mut label = labels.join(" / ");
        let effects: Vec<String> = assign
            .iter()
            .map(|a| match &a.op {
                AssignOp::Add(n) if *n >= 0.0 => {
                    format!("{} +{}", a.var, Literal::Number(*n).to_text())
                }
                AssignOp::Add(n) => format!("{} {}", a.var, Literal::Number(*n).to_text()),
                AssignOp::Set(SetValue::Literal(l)) => format!("{} = {}", a.var, l.to_text()),
                AssignOp::Set(SetValue::Text(t)) => format!("{} = {}", a.var, t.source()),
            })
            .collect();
        if !effects.is_empty() {
            label.push_str(&format!(" [{}]", effects.join(", ")));
        }
        Some(Route {
            span: y.span,
            label,
            answer,
            conditions,
            assign,
            language,
            target: target?,
        })
    }

    /// A keyword list (`keywords`, `unclear`): one list for every language, or one per declared
    /// language; synonyms expanded. The first words go into `labels`.
    fn keywords(
        &mut self,
        y: &Yaml,
        what: &str,
        negation: bool,
        labels: &mut Vec<String>,
    ) -> Option<Localized<KeywordSet>> {
        match &y.value {
            Value::Map(_) => {
                // The label names the route in every language (`oui / yes`), so that the
                // graph and the report read the same whatever language a caller spoke.
                let variants = self.per_language(y, what);
                let take = if variants.len() > 1 { 1 } else { 3 };
                let mut out = Vec::new();
                for (lang, v) in variants {
                    let list = self.text_list(v, what)?;
                    for t in list.iter().take(take) {
                        if !labels.contains(&t.value) {
                            labels.push(t.value.clone());
                        }
                    }
                    out.push((lang, self.keyword_set(&list, negation)));
                }
                Some(Localized::PerLanguage(out))
            }
            _ => {
                let list = self.text_list(y, what)?;
                labels.extend(list.iter().take(3).map(|t| t.value.clone()));
                Some(Localized::All(self.keyword_set(&list, negation)))
            }
        }
    }

    fn keyword_set(&mut self, list: &[Spanned<String>], negation: bool) -> KeywordSet {
        let mut words: Vec<String> = Vec::new();
        let mut seen = BTreeSet::new();
        for t in list {
            if matcher::Phrase::new(&t.value).is_none() {
                self.error(
                    codes::INVALID_VALUE,
                    t.span,
                    format!("keyword `{}` has no letters or digits", t.value),
                    "empty keyword",
                );
                continue;
            }
            let folded = matcher::fold(&t.value);
            let group = self
                .synonyms
                .iter()
                .find(|g| g.iter().any(|w| matcher::fold(w) == folded));
            let expanded: Vec<String> = match group {
                Some(g) => std::iter::once(t.value.clone())
                    .chain(g.iter().cloned())
                    .collect(),
                None => vec![t.value.clone()],
            };
            for w in expanded {
                if seen.insert(matcher::fold(&w)) {
                    words.push(w);
                }
            }
        }
        let mut set = KeywordSet::new(&words);
        set.negation = negation;
        set
    }

    fn assignments(&mut self, y: &Yaml, add: bool, out: &mut Vec<Assignment>) {
        let what = if add { "add" } else { "set" };
        let Some(f) = self.fields(y, what, &[]) else {
            return;
        };
        for (k, v) in f.entries {
            if !self.var_name(&k.text, k.span) {
                continue;
            }
            let Value::Scalar(s) = &v.value else {
                self.wrong_type(v, &k.text, "a single value");
                continue;
            };
            let op = if add {
                match s.text.trim().parse::<f64>() {
                    Ok(n) if n.is_finite() => AssignOp::Add(n),
                    _ => {
                        self.error(
                            codes::INVALID_VALUE,
                            v.span,
                            format!("`add` needs a number, found `{}`", s.text),
                            "not a number",
                        );
                        continue;
                    }
                }
            } else if s.quoted || s.text.contains("{{") {
                match self.template(&s.text, v.span) {
                    Some(t) => AssignOp::Set(SetValue::Text(t)),
                    None => continue,
                }
            } else {
                AssignOp::Set(SetValue::Literal(Literal::from_plain(&s.text)))
            };
            self.facts.writes.insert(k.text.clone());
            out.push(Assignment {
                var: k.text.clone(),
                op,
            });
        }
    }

    // ----- actions -------------------------------------------------------------------------

    fn dial(&mut self, y: Option<&Yaml>) -> Option<Dial> {
        let y = y?;
        let mut dial = Dial {
            target: DialTarget::Number(String::new()),
            timeout_secs: 30,
            caller_id: None,
            record: false,
        };
        let target_text = match &y.value {
            Value::Scalar(_) => self.text(y, "dial"),
            _ => {
                let f = self.fields(
                    y,
                    "dial",
                    &["number", "sip", "timeout", "caller-id", "record"],
                )?;
                if let Some(v) = f.get("timeout") {
                    dial.timeout_secs = self.uint(v, "timeout", 5, 600)?;
                }
                if let Some(v) = f.get("caller-id") {
                    let t = self.text(v, "caller-id")?;
                    match normalize_number(&t.value) {
                        Some(n) => dial.caller_id = Some(n),
                        None => {
                            self.error(
                                codes::INVALID_DIAL_TARGET,
                                t.span,
                                format!("caller ID `{}` is not a phone number", t.value),
                                "invalid number",
                            );
                            return None;
                        }
                    }
                }
                if let Some(v) = f.get("record") {
                    dial.record = self.boolean(v, "record")?;
                }
                match (f.get("number"), f.get("sip")) {
                    (Some(n), None) => self.text(n, "number"),
                    (None, Some(s)) => self.text(s, "sip"),
                    (Some(_), Some(s)) => {
                        self.error(
                            codes::CONFLICTING_ACTIONS,
                            s.span,
                            "`dial` has both `number` and `sip`".into(),
                            "choose one",
                        );
                        None
                    }
                    (None, None) => {
                        self.missing(
                            y.span,
                            "dial",
                            "number",
                            "add `number: \"+33...\"` or `sip: sip:agent@example.com`",
                        );
                        None
                    }
                }
            }
        }?;
        let v = target_text.value.trim();
        dial.target = if v.contains("{{") {
            DialTarget::Template(self.template(v, target_text.span)?)
        } else if v.starts_with("sip:") || v.starts_with("sips:") {
            if !is_sip_uri(v) {
                self.error_help(
                    codes::INVALID_DIAL_TARGET,
                    target_text.span,
                    format!("`{v}` is not a valid SIP URI"),
                    "invalid SIP URI",
                    Some("write `sip:user@host` or `sips:user@host:port`".into()),
                );
                return None;
            }
            DialTarget::Sip(v.to_owned())
        } else {
            match normalize_number(v) {
                Some(n) => DialTarget::Number(n),
                None => {
                    self.error_help(
                        codes::INVALID_DIAL_TARGET,
                        target_text.span,
                        format!("`{v}` is not a phone number or SIP URI"),
                        "cannot dial this",
                        Some("write an international number like `+33 800 130 000`, a short number like `15`, or `sip:user@host`".into()),
                    );
                    return None;
                }
            }
        };
        Some(dial)
    }

    fn enqueue(&mut self, y: Option<&Yaml>) -> Option<String> {
        let y = y?;
        let t = match &y.value {
            Value::Map(_) => {
                let f = self.fields(y, "enqueue", &["queue"])?;
                match f.get("queue") {
                    Some(q) => self.text(q, "queue")?,
                    None => {
                        self.missing(y.span, "enqueue", "queue", "add `queue: <queue name>`");
                        return None;
                    }
                }
            }
            _ => self.text(y, "enqueue")?,
        };
        if t.value.len() > 64 || t.value.trim().is_empty() {
            self.error(
                codes::INVALID_VALUE,
                t.span,
                "queue names are 1 to 64 characters".into(),
                "invalid queue name",
            );
            return None;
        }
        Some(t.value)
    }

    fn redirect(&mut self, y: Option<&Yaml>) -> Option<String> {
        let y = y?;
        let t = match &y.value {
            Value::Map(_) => {
                let f = self.fields(y, "redirect", &["flow"])?;
                match f.get("flow") {
                    Some(v) => self.text(v, "flow")?,
                    None => {
                        self.missing(y.span, "redirect", "flow", "add `flow: <flow id>`");
                        return None;
                    }
                }
            }
            _ => self.text(y, "redirect")?,
        };
        if !is_node_name(&t.value) {
            self.error_help(
                codes::INVALID_NAME,
                t.span,
                format!("`{}` is not a flow id", t.value),
                "invalid flow id",
                Some("`redirect` takes the `flow:` id of another flow file".into()),
            );
            return None;
        }
        Some(t.value)
    }

    fn record(&mut self, y: Option<&Yaml>) -> Option<Record> {
        let y = y?;
        let mut record = Record {
            max_length_secs: 120,
            finish_on_key: Some('#'),
            beep: true,
            transcribe: false,
            save_as: "recording".into(),
        };
        if let Value::Scalar(_) = &y.value {
            if self.boolean(y, "record")? {
                self.facts.writes.insert(record.save_as.clone());
                return Some(record);
            }
            return None;
        }
        let f = self.fields(
            y,
            "record",
            &[
                "max-length",
                "finish-on-key",
                "beep",
                "transcribe",
                "save-as",
            ],
        )?;
        if let Some(v) = f.get("max-length") {
            record.max_length_secs = self.uint(v, "max-length", 1, 14_400)?;
        }
        if let Some(v) = f.get("finish-on-key") {
            record.finish_on_key = Some(self.single_char(v, "finish-on-key")?);
        }
        if let Some(v) = f.get("beep") {
            record.beep = self.boolean(v, "beep")?;
        }
        if let Some(v) = f.get("transcribe") {
            record.transcribe = self.boolean(v, "transcribe")?;
        }
        if let Some(v) = f.get("save-as") {
            let t = self.text(v, "save-as")?;
            if !self.var_name(&t.value, t.span) {
                return None;
            }
            record.save_as = t.value;
        }
        self.facts.writes.insert(record.save_as.clone());
        Some(record)
    }

    fn webhook(&mut self, y: Option<&Yaml>) -> Option<Webhook> {
        let y = y?;
        let mut hook = Webhook {
            url: String::new(),
            timeout_secs: 5,
            returns: Vec::new(),
        };
        let url = match &y.value {
            Value::Map(_) => {
                let f = self.fields(y, "webhook", &["url", "timeout", "returns"])?;
                if let Some(v) = f.get("timeout") {
                    hook.timeout_secs = self.uint(v, "timeout", 1, 30)?;
                }
                if let Some(v) = f.get("returns") {
                    for t in self.text_list(v, "returns")? {
                        if self.var_name(&t.value, t.span) {
                            self.facts.writes.insert(t.value.clone());
                            hook.returns.push(t.value);
                        }
                    }
                }
                match f.get("url") {
                    Some(v) => self.text(v, "url")?,
                    None => {
                        self.missing(y.span, "webhook", "url", "add `url: https://...`");
                        return None;
                    }
                }
            }
            _ => self.text(y, "webhook")?,
        };
        if !is_http_url(&url.value) {
            self.error_help(
                codes::INVALID_WEBHOOK_URL,
                url.span,
                format!("webhook URL `{}` is not an http(s) URL", url.value),
                "not http(s)",
                Some("write `https://host/path` (plain `http://` only for local testing)".into()),
            );
            return None;
        }
        hook.url = url.value;
        Some(hook)
    }

    fn bot(&mut self, y: Option<&Yaml>) -> Option<Bot> {
        let y = y?;
        let mut bot = Bot {
            name: String::new(),
            collect: Vec::new(),
            max_duration_secs: 600,
        };
        let name = match &y.value {
            Value::Map(_) => {
                let f = self.fields(y, "bot", &["name", "collect", "max-duration"])?;
                if let Some(v) = f.get("collect") {
                    for t in self.text_list(v, "collect")? {
                        if self.var_name(&t.value, t.span) {
                            self.facts.writes.insert(t.value.clone());
                            bot.collect.push(t.value);
                        }
                    }
                }
                if let Some(v) = f.get("max-duration") {
                    bot.max_duration_secs = self.uint(v, "max-duration", 10, 3_600)?;
                }
                match f.get("name") {
                    Some(v) => self.text(v, "name")?,
                    None => {
                        self.missing(y.span, "bot", "name", "add `name: <bot name>`");
                        return None;
                    }
                }
            }
            _ => self.text(y, "bot")?,
        };
        bot.name = name.value;
        Some(bot)
    }
}

const INPUT_MODES: &[(&str, InputMode)] = &[
    ("speech", InputMode::Speech),
    ("dtmf", InputMode::Dtmf),
    ("both", InputMode::Both),
];

/// The value of `key` in a mapping, without diagnostics (the mapping is checked elsewhere).
fn field<'y>(y: &'y Yaml, key: &str) -> Option<&'y Yaml> {
    match &y.value {
        Value::Map(entries) => entries.iter().find(|(k, _)| k.text == key).map(|(_, v)| v),
        _ => None,
    }
}

fn field_help(field: &str) -> &'static str {
    match field {
        "routes" => {
            "routes belong on `ask`, `webhook`, `bot` nodes or on nodes without an action (branches)"
        }
        "retry" => "`retry` only applies to `ask` nodes",
        "fallback" => "`fallback` only applies to `dial`, `record`, `webhook` and `bot` nodes",
        _ => "`redirect` and `hangup` end the flow; remove `next`",
    }
}

fn display_dir(p: &Path) -> String {
    let s = p.display().to_string();
    if s.is_empty() { ".".into() } else { s }
}

/// `+33 (0)1 23-45.67` style numbers to digits; `None` when not a plausible number.
fn normalize_number(raw: &str) -> Option<String> {
    let v = raw.trim().replace("(0)", "");
    let (plus, rest) = match v.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, v.as_str()),
    };
    let mut digits = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    let ok = if plus {
        (8..=15).contains(&digits.len()) && !digits.starts_with('0')
    } else {
        (2..=15).contains(&digits.len())
    };
    ok.then(|| if plus { format!("+{digits}") } else { digits })
}

fn is_sip_uri(v: &str) -> bool {
    let rest = v
        .strip_prefix("sips:")
        .or_else(|| v.strip_prefix("sip:"))
        .unwrap_or("");
    let Some((user, host)) = rest.split_once('@') else {
        return false;
    };
    let host = host.split([';', '?']).next().unwrap_or("");
    let (host, port) = host.rsplit_once(':').unwrap_or((host, "5060"));
    !user.is_empty()
        && !user.contains(char::is_whitespace)
        && !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && port.parse::<u16>().is_ok()
}

fn is_http_url(v: &str) -> bool {
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !r.contains(char::is_whitespace)
    })
}

const OPS: &[(&str, CmpOp)] = &[
    (">=", CmpOp::Ge),
    ("<=", CmpOp::Le),
    ("==", CmpOp::Eq),
    ("!=", CmpOp::Ne),
    (">", CmpOp::Gt),
    ("<", CmpOp::Lt),
    ("=", CmpOp::Eq),
];

fn split_op(text: &str) -> Option<(&str, CmpOp, &str)> {
    let (pos, len, op) = OPS
        .iter()
        .filter_map(|(s, op)| text.find(s).map(|p| (p, s.len(), *op)))
        .min_by_key(|(p, len, _)| (*p, usize::MAX - len))?;
    Some((&text[..pos], op, &text[pos + len..]))
}

/// `>= 65`, `< 38.5`, or a bare number (equality).
pub(crate) fn parse_comparison(text: &str) -> Option<Comparison> {
    let t = text.trim();
    if let Some(value) = file_number(t) {
        return Some(Comparison {
            op: CmpOp::Eq,
            value,
        });
    }
    let (left, op, right) = split_op(t)?;
    if !left.trim().is_empty() {
        return None;
    }
    let value = file_number(right)?;
    Some(Comparison { op, value })
}

/// A number as a flow file writes it: in Rust's syntax (`65`, `38.5`, `-3`), with a decimal
/// comma (`38,5`), or in digit groups that read the same in every language (`1,200,000`,
/// `1.234,5`). `None` for anything else, and for a number whose reading depends on the
/// language ([`ambiguous_number`]).
fn file_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if let Ok(n) = t.parse::<f64>() {
        return n.is_finite().then_some(n);
    }
    let point = matcher::parse_number(t, "en")?;
    (matcher::parse_number(t, "fr") == Some(point)).then_some(point)
}

/// The two readings of a number that a flow file may not write, because they depend on the
/// language: `1,200` is 1200 in English and 1.2 in French. `text` is a comparison or a
/// condition (`>= 1,200`, `amount >= 1,200`), or a bare number.
pub(crate) fn ambiguous_number(text: &str) -> Option<(String, f64, f64)> {
    let right = split_op(text.trim())
        .map_or(text, |(_, _, right)| right)
        .trim();
    if right.parse::<f64>().is_ok() {
        return None;
    }
    let point = matcher::parse_number(right, "en")?;
    let comma = matcher::parse_number(right, "fr")?;
    (point != comma).then(|| (right.to_owned(), point, comma))
}

/// `score >= 4`, `risk == "high"`, `answered != true`.
pub(crate) fn parse_condition(text: &str) -> Option<Condition> {
    let (left, op, right) = split_op(text.trim())?;
    let var = left.trim();
    let right = right.trim();
    if !is_var_name(var) || right.is_empty() || right.starts_with(['<', '>', '=', '!']) {
        return None;
    }
    let value = if let Some(q) = right
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .or_else(|| right.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')))
    {
        Literal::Text(q.to_owned())
    } else if ambiguous_number(right).is_some() {
        return None;
    } else if let Some(n) = file_number(right) {
        Literal::Number(n)
    } else {
        Literal::from_plain(right)
    };
    Some(Condition {
        var: var.to_owned(),
        op,
        value,
    })
}

fn version_hash(source: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(source.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Resolves a prompt base folder for a flow file path.
pub(crate) fn base_dir_of(path: &Path) -> PathBuf {
    path.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(
            normalize_number("+33 800 130 000").as_deref(),
            Some("+33800130000")
        );
        assert_eq!(normalize_number("15").as_deref(), Some("15"));
        assert_eq!(
            normalize_number("+33 (0)1 99 00 12 34").as_deref(),
            Some("+33199001234")
        );
        assert_eq!(
            normalize_number("0800 130 000").as_deref(),
            Some("0800130000")
        );
        assert!(normalize_number("+0123456789").is_none());
        assert!(normalize_number("call me").is_none());
        assert!(normalize_number("1").is_none());
        assert!(normalize_number("+1234").is_none());
    }

    #[test]
    fn sip_and_http() {
        assert!(is_sip_uri("sip:agent@example.com"));
        assert!(is_sip_uri("sips:agent@pbx.example.com:5061;transport=tls"));
        assert!(!is_sip_uri("sip:example.com"));
        assert!(!is_sip_uri("sip:a b@example.com"));
        assert!(is_http_url("https://example.org/hook"));
        assert!(!is_http_url("ftp://example.org"));
        assert!(!is_http_url("https://"));
    }

    #[test]
    fn conditions() {
        let c = parse_condition("score >= 4");
        assert_eq!(
            c,
            Some(Condition {
                var: "score".into(),
                op: CmpOp::Ge,
                value: Literal::Number(4.0)
            })
        );
        assert_eq!(
            parse_condition("risk == \"very high\"").map(|c| c.value),
            Some(Literal::Text("very high".into()))
        );
        assert_eq!(
            parse_condition("risk = high").map(|c| c.op),
            Some(CmpOp::Eq)
        );
        assert!(parse_condition("score >=").is_none());
        assert!(parse_condition("4 >= score x").is_none());
        assert!(parse_condition("score").is_none());
        assert!(parse_condition("score >> 4").is_none());
        assert_eq!(
            parse_comparison(">= 65"),
            Some(Comparison {
                op: CmpOp::Ge,
                value: 65.0
            })
        );
        assert_eq!(parse_comparison("38,5").map(|c| c.op), Some(CmpOp::Eq));
        // Digit groups that read the same in every language; a number that does not is
        // refused, with both readings.
        assert_eq!(
            parse_comparison(">= 1.234,5").map(|c| c.value),
            Some(1234.5)
        );
        assert_eq!(parse_comparison(">= 1,200"), None);
        assert_eq!(
            ambiguous_number(">= 1,200"),
            Some(("1,200".into(), 1200.0, 1.2))
        );
        assert_eq!(parse_condition("amount >= 1,200"), None);
        assert_eq!(
            ambiguous_number("amount >= 1,200"),
            Some(("1,200".into(), 1200.0, 1.2))
        );
        assert_eq!(ambiguous_number("amount >= 1.200"), None);
        assert_eq!(ambiguous_number("temperature >= 38,5"), None);
        assert_eq!(
            parse_condition("temperature >= 38,5").map(|c| c.value),
            Some(Literal::Number(38.5))
        );
        assert_eq!(
            parse_condition("amount < 1,200,000").map(|c| c.value),
            Some(Literal::Number(1_200_000.0))
        );
        assert_eq!(parse_comparison("< 38,5").map(|c| c.value), Some(38.5));
        assert!(parse_comparison("about 3").is_none());
    }

    #[test]
    fn language_tags() {
        assert!(is_language_tag("fr-FR"));
        assert!(is_language_tag("en"));
        assert!(is_language_tag("cmn-Hans-CN"));
        assert!(!is_language_tag("French"));
        assert!(!is_language_tag("fr_FR"));
    }
}
