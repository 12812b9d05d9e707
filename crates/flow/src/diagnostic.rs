//! Compiler-style diagnostics for flow files: what went wrong, where, and how to fix it.
//!
//! A [`Diagnostic`] carries a stable code (see [`crate::codes`]), a severity, the file, a
//! 1-based line and column, a message, a short label shown under the caret and an optional
//! help line. [`render_diagnostics`] prints them rustc-style with the offending source line.
//! This module must not know anything about the flow model: it only formats positions and text.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// A region of a source file: byte offsets (`start..end`) plus the 1-based line and column
/// (in characters) of `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte (equal to `start` for an empty span).
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column (in characters) of `start`.
    pub column: usize,
}

/// A value with the span of the YAML node it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The flow cannot be used.
    Error,
    /// The flow works but something looks wrong (an unreachable node, an unknown variable).
    Warning,
}

/// One problem found in a flow file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code, e.g. `F0010`; documented in `docs/flows.md`.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// The file name as given to the loader (used to look the source up when rendering).
    pub file: String,
    /// 1-based line (0 when the problem is about the whole file).
    pub line: usize,
    /// 1-based column in characters (0 when unknown).
    pub column: usize,
    /// Byte range of the offending text (empty when unknown).
    pub span: Span,
    /// One sentence saying what is wrong.
    pub message: String,
    /// A short label printed under the caret.
    pub label: String,
    /// How to fix it, when we can tell ("did you mean `symptom-2`?").
    pub help: Option<String>,
}

impl Diagnostic {
    /// Builds an error at `span` of `file`.
    pub fn error(
        code: &'static str,
        file: &str,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        Self {
            code,
            severity: Severity::Error,
            file: file.to_owned(),
            line: span.line,
            column: span.column,
            span,
            message: message.into(),
            label: label.into(),
            help: None,
        }
    }

    /// Builds a warning at `span` of `file`.
    pub fn warning(
        code: &'static str,
        file: &str,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, file, span, message, label)
        }
    }

    /// Adds a help line.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a help line when there is one.
    #[must_use]
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The source texts diagnostics refer to, by file name.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: BTreeMap<String, String>,
}

impl Sources {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the text of `file`.
    pub fn add(&mut self, file: impl Into<String>, text: impl Into<String>) {
        self.files.insert(file.into(), text.into());
    }

    /// Reads every file named by `diagnostics` from disk (unreadable files are skipped: their
    /// diagnostics are then rendered without a source excerpt).
    pub fn read_for(diagnostics: &[Diagnostic]) -> Self {
        let mut sources = Self::new();
        for d in diagnostics {
            if !sources.files.contains_key(&d.file)
                && let Ok(text) = std::fs::read_to_string(Path::new(&d.file))
            {
                sources.add(d.file.clone(), text);
            }
        }
        sources
    }

    /// The text of `file`, if registered.
    pub fn get(&self, file: &str) -> Option<&str> {
        self.files.get(file).map(String::as_str)
    }
}

/// Renders diagnostics as plain text, rustc-style, followed by a summary line.
///
/// ```text
/// error[F0010]: route goes to unknown node `symtom-2`
///   --> flows/bad.yaml:12:15
///    |
/// 12 |         goto: symtom-2
///    |               ^^^^^^^^ no node named `symtom-2`
///    |
///    = help: did you mean `symptom-2`?
/// ```
pub fn render_diagnostics(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    render_diagnostics_with(diagnostics, sources, false)
}

/// Like [`render_diagnostics`], with ANSI colors when `color` is true (for terminals; the CLI
/// decides, e.g. from `--color` and whether stderr is a TTY).
pub fn render_diagnostics_with(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    color: bool,
) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let mut one = String::new();
        render_one(&mut one, d, sources);
        if color {
            one = colorize(&one, d.severity);
        }
        out.push_str(&one);
        out.push('\n');
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    if errors + warnings > 0 {
        let _ = writeln!(
            out,
            "{}: {} error{}, {} warning{} emitted",
            if errors > 0 { "error" } else { "warning" },
            errors,
            plural(errors),
            warnings,
            plural(warnings)
        );
    }
    out
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BLUE: &str = "\x1b[1;34m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Colors a rendered diagnostic: the header in red/yellow, gutters in blue, carets in the
/// severity color.
fn colorize(text: &str, severity: Severity) -> String {
    let accent = match severity {
        Severity::Error => RED,
        Severity::Warning => YELLOW,
    };
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            match line.split_once(": ") {
                Some((head, msg)) => {
                    let _ = write!(out, "{accent}{head}{RESET}{BOLD}: {msg}{RESET}");
                }
                None => out.push_str(line),
            }
        } else if let Some(pos) = line
            .find(" | ")
            .or_else(|| line.find(" |").filter(|p| p + 2 == line.len()))
        {
            let (gutter, rest) = line.split_at(pos + 2);
            let rest = if rest.trim_start().starts_with('^') {
                format!("{accent}{rest}{RESET}")
            } else {
                rest.to_owned()
            };
            let _ = write!(out, "{BLUE}{gutter}{RESET}{rest}");
        } else {
            let _ = write!(out, "{BLUE}{line}{RESET}");
        }
        out.push('\n');
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn render_one(out: &mut String, d: &Diagnostic, sources: &Sources) {
    let kind = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(out, "{kind}[{}]: {}", d.code, d.message);
    let line_text = if d.line > 0 {
        sources
            .get(&d.file)
            .and_then(|text| text.lines().nth(d.line - 1))
    } else {
        None
    };
    let gutter = if d.line > 0 {
        d.line.to_string().len()
    } else {
        1
    };
    let pad = " ".repeat(gutter);
    if d.line > 0 {
        let _ = writeln!(out, "{pad}--> {}:{}:{}", d.file, d.line, d.column.max(1));
    } else {
        let _ = writeln!(out, "{pad}--> {}", d.file);
    }
    if let Some(text) = line_text {
        let text = text.trim_end_matches('\r');
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{} | {}", d.line, text);
        let col = d.column.max(1);
        let line_chars = text.chars().count();
        let span_chars = span_width(d, sources).max(1);
        let available = (line_chars + 1).saturating_sub(col).max(1);
        let width = span_chars.min(available);
        let indent: String = text
            .chars()
            .take(col - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let carets = "^".repeat(width);
        if d.label.is_empty() {
            let _ = writeln!(out, "{pad} | {indent}{carets}");
        } else {
            let _ = writeln!(out, "{pad} | {indent}{carets} {}", d.label);
        }
    } else if !d.label.is_empty() {
        let _ = writeln!(out, "{pad} = {}", d.label);
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{pad} = help: {help}");
    }
}

/// Width in characters of the diagnostic's span, limited to its first line.
fn span_width(d: &Diagnostic, sources: &Sources) -> usize {
    let Some(text) = sources.get(&d.file) else {
        return 1;
    };
    let start = d.span.start.min(text.len());
    let end = d.span.end.clamp(start, text.len());
    text.get(start..end)
        .map(|s| s.lines().next().unwrap_or("").trim_end().chars().count())
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_span() {
        let src = "nodes:\n  a:\n    next: symtom-2\n";
        let start = src.find("symtom").unwrap_or(0);
        let span = Span {
            start,
            end: start + 8,
            line: 3,
            column: 11,
        };
        let d = Diagnostic::error("F0010", "f.yaml", span, "unknown node", "no such node")
            .with_help("did you mean `symptom-2`?");
        let mut sources = Sources::new();
        sources.add("f.yaml", src);
        let text = render_diagnostics(&[d], &sources);
        let expected = "error[F0010]: unknown node\n --> f.yaml:3:11\n  |\n3 |     next: symtom-2\n  |           ^^^^^^^^ no such node\n  |\n  = help: did you mean `symptom-2`?\n\nerror: 1 error, 0 warnings emitted\n";
        assert_eq!(text, expected);
        let colored = render_diagnostics_with(&[d_again()], &sources, true);
        assert!(colored.contains("\x1b[1;31merror[F0010]\x1b[0m"));
        assert!(colored.contains("^^^^^^^^ no such node"));
    }

    fn d_again() -> Diagnostic {
        let span = Span {
            start: 22,
            end: 30,
            line: 3,
            column: 11,
        };
        Diagnostic::error("F0010", "f.yaml", span, "unknown node", "no such node")
    }
}
