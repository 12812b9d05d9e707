//! A small span-carrying YAML tree, built from the event stream of serde-saphyr's parser.
//!
//! Why not deserialize straight into structs: serde stops at the first error, and a flow
//! checker must report every unknown field and wrong type at once. It also keeps every scalar
//! as written (`no`, `1`, `oui` stay text), so typing is decided by the flow format, not by
//! YAML 1.1 guessing. This module only builds the tree; it knows nothing about flows. Bot files
//! (`hotline-localbot`) use it too, with their own codes and wording ([`Format`]).

use serde_saphyr::granit_parser::{self, Event, Parser, ScalarStyle};

use crate::codes;
use crate::diagnostic::{Diagnostic, Span};

/// Most YAML nodes (including those copied by aliases) a flow file may produce.
pub const MAX_YAML_NODES: usize = 200_000;

/// A scalar as written: its text after YAML unescaping, and whether it was quoted.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub quoted: bool,
}

impl Scalar {
    /// A plain `~`, `null` or empty scalar.
    pub fn is_null(&self) -> bool {
        !self.quoted && matches!(self.text.as_str(), "" | "~" | "null" | "Null" | "NULL")
    }
}

/// The shape of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Vec<Yaml>),
    /// Entries in file order; keys are scalars with their own span.
    Map(Vec<(Key, Yaml)>),
}

/// A mapping key.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub text: String,
    pub span: Span,
}

/// A node with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Yaml {
    pub span: Span,
    pub value: Value,
}

impl Yaml {
    /// A word for the node's kind, for "expected X, found Y" messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar(s) if s.is_null() => "nothing",
            Value::Scalar(_) => "a single value",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    fn count(&self) -> usize {
        match &self.value {
            Value::Scalar(_) => 1,
            Value::Seq(items) => 1 + items.iter().map(Yaml::count).sum::<usize>(),
            Value::Map(entries) => 1 + entries.iter().map(|(_, v)| 1 + v.count()).sum::<usize>(),
        }
    }
}

enum Frame {
    Seq {
        span: Span,
        anchor: usize,
        items: Vec<Yaml>,
    },
    Map {
        span: Span,
        anchor: usize,
        entries: Vec<(Key, Yaml)>,
        key: Option<Key>,
    },
}

fn span_of(src: &str, s: &granit_parser::Span) -> Span {
    let start = s.start.byte_offset().unwrap_or(0).min(src.len());
    let end = s.end.byte_offset().unwrap_or(start).clamp(start, src.len());
    Span {
        start,
        end,
        line: s.start.line(),
        column: s.start.col() + 1,
    }
}

/// What a kind of file is called in messages, and the codes its YAML problems get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// The file's kind in messages (`flow` → "a flow file holds exactly one YAML document").
    pub noun: &'static str,
    /// The code of syntax errors, extra documents and empty files.
    pub syntax_code: &'static str,
    /// The code of a file that expands to too many values.
    pub too_large_code: &'static str,
    /// The help line of an empty file (what the file needs at least).
    pub empty_help: &'static str,
}

/// Flow files.
pub const FLOW: Format = Format {
    noun: "flow",
    syntax_code: codes::YAML_SYNTAX,
    too_large_code: codes::TOO_LARGE,
    empty_help: "a flow needs at least `flow`, `language` and `nodes`; see docs/flows.md",
};

/// Parses a flow file's `src` into a tree ([`parse_as`] with [`FLOW`]).
pub fn parse(src: &str, file: &str, diags: &mut Vec<Diagnostic>) -> Option<Yaml> {
    parse_as(&FLOW, src, file, diags)
}

/// Parses `src` into a tree. Syntax errors are fatal for the file (YAML parsers cannot resync
/// reliably), so at most one `format.syntax_code` error is pushed and `None` returned.
pub fn parse_as(
    format: &Format,
    src: &str,
    file: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Yaml> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: std::collections::HashMap<usize, Yaml> = std::collections::HashMap::new();
    let mut root: Option<Yaml> = None;
    let mut documents = 0usize;
    let mut budget = MAX_YAML_NODES;

    for item in Parser::new_from_str(src) {
        let (event, raw_span) = match item {
            Ok(pair) => pair,
            Err(e) => {
                let m = e.marker();
                let start = m.byte_offset().unwrap_or(0).min(src.len());
                let span = Span {
                    start,
                    end: start,
                    line: m.line(),
                    column: m.col() + 1,
                };
                diags.push(
                    Diagnostic::error(
                        format.syntax_code,
                        file,
                        span,
                        format!("invalid YAML: {}", e.info()),
                        "the YAML parser stopped here",
                    )
                    .with_help(
                        "check the indentation and quotes around this line; text containing `: ` or `#` must be quoted",
                    ),
                );
                return None;
            }
        };
        let span = span_of(src, &raw_span);
        let node = match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    diags.push(
                        Diagnostic::error(
                            format.syntax_code,
                            file,
                            span,
                            format!("a {} file holds exactly one YAML document", format.noun),
                            "a second document starts here",
                        )
                        .with_help(format!("put each {} in its own file", format.noun)),
                    );
                    return None;
                }
                continue;
            }
            Event::SequenceStart(_, anchor, _) => {
                stack.push(Frame::Seq {
                    span,
                    anchor,
                    items: Vec::new(),
                });
                continue;
            }
            Event::MappingStart(_, anchor, _) => {
                stack.push(Frame::Map {
                    span,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                });
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq {
                    span: start,
                    anchor,
                    items,
                }) => {
                    let y = Yaml {
                        span: join(start, span),
                        value: Value::Seq(items),
                    };
                    if anchor != 0 {
                        anchors.insert(anchor, y.clone());
                    }
                    y
                }
                _ => continue,
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    span: start,
                    anchor,
                    entries,
                    ..
                }) => {
                    let y = Yaml {
                        span: join(start, span),
                        value: Value::Map(entries),
                    };
                    if anchor != 0 {
                        anchors.insert(anchor, y.clone());
                    }
                    y
                }
                _ => continue,
            },
            Event::Scalar(text, style, anchor, _) => {
                let y = Yaml {
                    span,
                    value: Value::Scalar(Scalar {
                        text: text.into_owned(),
                        quoted: !matches!(style, ScalarStyle::Plain),
                    }),
                };
                if anchor != 0 {
                    anchors.insert(anchor, y.clone());
                }
                y
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some(y) => {
                    let n = y.count();
                    if n > budget {
                        diags.push(too_many_nodes(format, file, span));
                        return None;
                    }
                    budget -= n;
                    y.clone()
                }
                None => continue,
            },
            _ => continue,
        };
        if budget == 0 {
            diags.push(too_many_nodes(format, file, span));
            return None;
        }
        budget -= 1;
        // Attach the finished node to its parent.
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => match node.value {
                    Value::Scalar(s) => {
                        *key = Some(Key {
                            text: s.text,
                            span: node.span,
                        });
                    }
                    _ => {
                        diags.push(
                            Diagnostic::error(
                                format.syntax_code,
                                file,
                                node.span,
                                "mapping keys must be plain names",
                                "a list or mapping used as a key",
                            )
                            .with_help("write `name: value`"),
                        );
                        return None;
                    }
                },
                Some(k) => entries.push((k, node)),
            },
        }
    }
    if root.is_none() {
        diags.push(
            Diagnostic::error(
                format.syntax_code,
                file,
                Span {
                    start: 0,
                    end: 0,
                    line: 1,
                    column: 1,
                },
                format!("the {} file is empty", format.noun),
                "nothing here",
            )
            .with_help(format.empty_help),
        );
    }
    root
}

fn too_many_nodes(format: &Format, file: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        format.too_large_code,
        file,
        span,
        format!("the YAML expands to more than {MAX_YAML_NODES} values"),
        "expansion limit reached here",
    )
    .with_help(format!(
        "avoid deeply nested aliases (`*name`); split the {} into several files",
        format.noun
    ))
}

/// A span covering `a` through the end of `b`.
pub fn join(a: Span, b: Span) -> Span {
    Span {
        start: a.start,
        end: b.end.max(a.start),
        line: a.line,
        column: a.column,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(src: &str) -> Yaml {
        let mut d = Vec::new();
        match parse(src, "t.yaml", &mut d) {
            Some(y) => y,
            None => panic!("parse failed: {d:?}"),
        }
    }

    #[test]
    fn keeps_plain_scalars_as_text() {
        let y = tree("a: no\nb: [1, oui]\n");
        let Value::Map(entries) = y.value else {
            panic!("not a map")
        };
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].0.text, "a");
        assert_eq!(
            entries[0].1.value,
            Value::Scalar(Scalar {
                text: "no".into(),
                quoted: false
            })
        );
        assert_eq!(entries[1].1.span.line, 2);
    }

    #[test]
    fn spans_point_at_values() {
        let src = "nodes:\n  intro:\n    next: menu\n";
        let y = tree(src);
        let Value::Map(entries) = y.value else {
            panic!()
        };
        let Value::Map(nodes) = &entries[0].1.value else {
            panic!()
        };
        let Value::Map(intro) = &nodes[0].1.value else {
            panic!()
        };
        let next = &intro[0].1;
        assert_eq!((next.span.line, next.span.column), (3, 11));
        assert_eq!(&src[next.span.start..next.span.end], "menu");
        assert_eq!((intro[0].0.span.line, intro[0].0.span.column), (3, 5));
    }

    #[test]
    fn syntax_error_reports_position() {
        let mut d = Vec::new();
        assert!(parse("a: [1, 2\nb: 3\n", "t.yaml", &mut d).is_none());
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "F0001");
    }

    #[test]
    fn aliases_are_expanded() {
        let y = tree("a: &x {k: v}\nb: *x\n");
        let Value::Map(entries) = y.value else {
            panic!()
        };
        assert_eq!(entries[0].1.value, entries[1].1.value);
    }

    #[test]
    fn billion_laughs_is_bounded() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let mut d = Vec::new();
        assert!(parse(&src, "t.yaml", &mut d).is_none());
        assert_eq!(d[0].code, "F0009");
    }
}
