//! The bot format's shape, checked on the span-carrying YAML tree before serde reads it, so that
//! every unknown field, wrong kind, missing field and duplicate key is reported at once with its
//! position. Also [`at`]: find a node's span by path, for the semantic checks.

use hotline_flow::{Diagnostic, Span};

use crate::codes;
use crate::text::did_you_mean;
use crate::yaml::{Value, Yaml};

/// The expected shape of a node.
enum Shape {
    /// Text (any scalar).
    Str,
    /// A number.
    Num,
    /// `true`/`false`.
    Bool,
    /// A list of the inner shape.
    Seq(&'static Shape),
    /// A mapping with these fields (name, shape), of which these are required.
    Fields(
        &'static [(&'static str, &'static Shape)],
        &'static [&'static str],
    ),
    /// A mapping of user names to the inner shape.
    Dict(&'static Shape),
    /// A `then`: `listen`, `hangup`, `return` or `{ transfer: NUMBER }`.
    Then,
}

static STR: Shape = Shape::Str;
static NUM: Shape = Shape::Num;
static BOOL: Shape = Shape::Bool;
static STRS: Shape = Shape::Seq(&STR);
static THEN: Shape = Shape::Then;
static OUTCOME: Shape = Shape::Fields(&[("say", &STR), ("then", &THEN)], &[]);
static SCORE: Shape = Shape::Fields(
    &[
        ("points", &Shape::Dict(&NUM)),
        ("red_flags", &STRS),
        ("at_least", &NUM),
        ("high", &OUTCOME),
        ("low", &OUTCOME),
    ],
    &["at_least", "high", "low"],
);
static GIVE_UP: Shape = Shape::Fields(&[("say", &STR), ("then", &THEN)], &[]);
static VALUE: Shape = Shape::Fields(&[("value", &STR), ("synonyms", &STRS)], &["value"]);
static VALUES: Shape = Shape::Seq(&VALUE);
static SLOT_TYPE: Shape = Shape::Fields(
    &[
        ("description", &STR),
        ("values", &VALUES),
        ("regex", &STR),
        ("open", &BOOL),
    ],
    &[],
);
static VALIDATE: Shape = Shape::Fields(
    &[
        ("between", &STRS),
        ("regex", &STR),
        ("length", &NUM),
        ("message", &STR),
    ],
    &["message"],
);
static SLOT: Shape = Shape::Fields(
    &[
        ("type", &STR),
        ("required", &BOOL),
        ("prompt", &STR),
        ("reprompts", &STRS),
        ("validate", &VALIDATE),
    ],
    &["type"],
);
static WEBHOOK: Shape = Shape::Fields(
    &[("url", &STR), ("timeout_ms", &NUM), ("fallback", &STR)],
    &["url"],
);
static FULFILL: Shape = Shape::Fields(&[("say", &STR), ("webhook", &WEBHOOK)], &[]);
static INTENT: Shape = Shape::Fields(
    &[
        ("description", &STR),
        ("samples", &STRS),
        ("digits", &STR),
        ("slots", &Shape::Dict(&SLOT)),
        ("confirm", &STR),
        ("declined", &STR),
        ("fulfill", &FULFILL),
        ("then", &THEN),
    ],
    &[],
);
static LOCALE: Shape = Shape::Fields(
    &[
        ("voice", &STR),
        ("greeting", &STR),
        ("fallback", &STR),
        ("confidence", &NUM),
        ("max_retries", &NUM),
        ("give_up", &GIVE_UP),
        ("slot_types", &Shape::Dict(&SLOT_TYPE)),
        ("intents", &Shape::Dict(&INTENT)),
    ],
    &["greeting", "fallback", "intents"],
);
static ROOT: Shape = Shape::Fields(
    &[
        ("bot", &STR),
        ("description", &STR),
        ("locales", &Shape::Dict(&LOCALE)),
    ],
    &["bot", "locales"],
);

/// Checks the whole tree against the format; pushes every problem found.
pub(crate) fn check(root: &Yaml, file: &str, diags: &mut Vec<Diagnostic>) {
    walk(root, &ROOT, file, diags);
}

fn shape_name(shape: &Shape) -> &'static str {
    match shape {
        Shape::Str => "a single value (text)",
        Shape::Num => "a number",
        Shape::Bool => "`true` or `false`",
        Shape::Seq(_) => "a list",
        Shape::Fields(..) | Shape::Dict(_) => "a mapping",
        Shape::Then => "`listen`, `hangup`, `return` or `{ transfer: NUMBER }`",
    }
}

fn wrong(node: &Yaml, shape: &Shape, file: &str) -> Diagnostic {
    Diagnostic::error(
        codes::WRONG_TYPE,
        file,
        node.span,
        format!("expected {}, found {}", shape_name(shape), node.kind_name()),
        format!("expected {}", shape_name(shape)),
    )
}

fn walk(node: &Yaml, shape: &Shape, file: &str, diags: &mut Vec<Diagnostic>) {
    match (shape, &node.value) {
        (Shape::Str, Value::Scalar(_)) => {}
        (Shape::Num, Value::Scalar(s)) => {
            if s.text.parse::<f64>().is_err() {
                diags.push(wrong(node, shape, file));
            }
        }
        (Shape::Bool, Value::Scalar(s)) => {
            if !matches!(s.text.as_str(), "true" | "false") {
                diags.push(wrong(node, shape, file));
            }
        }
        (Shape::Seq(inner), Value::Seq(items)) => {
            for item in items {
                walk(item, inner, file, diags);
            }
        }
        // A single value where a list is expected is accepted by serde? No: report it.
        (Shape::Dict(inner), Value::Map(entries)) => {
            duplicates(entries, file, diags);
            for (_, v) in entries {
                walk(v, inner, file, diags);
            }
        }
        (Shape::Dict(_), Value::Scalar(s)) if s.is_null() => {}
        (Shape::Fields(fields, required), Value::Map(entries)) => {
            duplicates(entries, file, diags);
            for (k, v) in entries {
                match fields.iter().find(|(name, _)| *name == k.text) {
                    Some((_, inner)) => walk(v, inner, file, diags),
                    None => diags.push(
                        Diagnostic::error(
                            codes::UNKNOWN_FIELD,
                            file,
                            k.span,
                            format!("unknown field `{}`", k.text),
                            "not part of the bot format here",
                        )
                        .with_help(
                            did_you_mean(&k.text, fields.iter().map(|(n, _)| *n)).unwrap_or_else(
                                || {
                                    format!(
                                        "the fields allowed here are: {}",
                                        fields
                                            .iter()
                                            .map(|(n, _)| format!("`{n}`"))
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    )
                                },
                            ),
                        ),
                    ),
                }
            }
            for r in *required {
                if !entries.iter().any(|(k, _)| k.text == *r) {
                    diags.push(
                        Diagnostic::error(
                            codes::MISSING_FIELD,
                            file,
                            head(node.span),
                            format!("missing field `{r}`"),
                            format!("`{r}` is required here"),
                        )
                        .with_help("see docs/bots.md, \"Local bots\""),
                    );
                }
            }
        }
        (Shape::Then, Value::Scalar(s)) => {
            if !matches!(s.text.as_str(), "listen" | "hangup" | "return") {
                let help = did_you_mean(&s.text, ["listen", "hangup", "return", "transfer"])
                    .unwrap_or_else(|| {
                        "write `listen`, `hangup`, `return` or `{ transfer: \"+15551234567\" }`"
                            .into()
                    });
                diags.push(
                    Diagnostic::error(
                        codes::UNKNOWN_THEN,
                        file,
                        node.span,
                        format!("unknown `then`: `{}`", s.text),
                        "not a known next step",
                    )
                    .with_help(help),
                );
            }
        }
        (Shape::Then, Value::Map(entries)) => match entries.as_slice() {
            [(k, v)] if k.text == "transfer" => walk(v, &STR, file, diags),
            [(k, v)] if k.text == "score" => walk(v, &SCORE, file, diags),
            _ => diags.push(
                Diagnostic::error(
                    codes::UNKNOWN_THEN,
                    file,
                    node.span,
                    "a `then` mapping must be `{ transfer: NUMBER }` or `{ score: ... }`",
                    "not a known next step",
                )
                .with_help("write `then: { transfer: \"+15551234567\" }`"),
            ),
        },
        _ => diags.push(wrong(node, shape, file)),
    }
}

/// The first line of a span (a mapping's span covers its whole body).
fn head(span: Span) -> Span {
    Span {
        end: span.start,
        ..span
    }
}

fn duplicates(entries: &[(crate::yaml::Key, Yaml)], file: &str, diags: &mut Vec<Diagnostic>) {
    for (i, (k, _)) in entries.iter().enumerate() {
        if let Some((first, _)) = entries[..i].iter().find(|(f, _)| f.text == k.text) {
            diags.push(
                Diagnostic::error(
                    codes::DUPLICATE_KEY,
                    file,
                    k.span,
                    format!("`{}` appears twice in this mapping", k.text),
                    "second occurrence",
                )
                .with_help(format!(
                    "the first is on line {}; remove or rename one",
                    first.span.line
                )),
            );
        }
    }
}

/// One step of a path into the tree: a mapping key or a list index.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg<'a> {
    /// A mapping key.
    Key(&'a str),
    /// A list index.
    Idx(usize),
}

/// The node at `path`, if present.
pub(crate) fn at<'y>(root: &'y Yaml, path: &[Seg<'_>]) -> Option<&'y Yaml> {
    let mut node = root;
    for seg in path {
        node = match (&node.value, seg) {
            (Value::Map(entries), Seg::Key(k)) => {
                &entries.iter().find(|(key, _)| key.text == *k)?.1
            }
            (Value::Seq(items), Seg::Idx(i)) => items.get(*i)?,
            _ => return None,
        };
    }
    Some(node)
}

/// The span of the key at the end of `path` (a mapping entry's name), if present.
pub(crate) fn key_at(root: &Yaml, path: &[Seg<'_>]) -> Option<Span> {
    let (last, parent) = path.split_last()?;
    let Seg::Key(k) = last else { return None };
    match &at(root, parent)?.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(key, _)| key.text == *k)
            .map(|(key, _)| key.span),
        _ => None,
    }
}
