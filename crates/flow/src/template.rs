//! Prompt templates: text with `{{ variable }}` placeholders.
//!
//! Parsing is strict (an unclosed `{{` or a placeholder that is not a variable name is an
//! error) and rendering is total (a missing variable renders as an empty string). There are no
//! filters, loops or expressions: prompts are read aloud, not programmed. No I/O here.

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Literal text.
    Text(String),
    /// A variable reference, by name.
    Var(String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    /// The pieces, in order.
    pub parts: Vec<Part>,
}

/// Why a template did not parse, with the byte offset inside the template text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// Byte offset of the problem inside the template string.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// Whether `name` is a valid variable name: a letter or `_`, then letters, digits, `_`.
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Template {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut offset = 0usize;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(TemplateError {
                    offset: offset + open,
                    message: "`{{` is never closed by `}}`".into(),
                });
            };
            let name = after[..close].trim();
            if !is_var_name(name) {
                return Err(TemplateError {
                    offset: offset + open,
                    message: format!(
                        "`{{{{ {name} }}}}` is not a variable name (letters, digits and `_`)"
                    ),
                });
            }
            parts.push(Part::Var(name.to_owned()));
            let consumed = open + 2 + close + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// The variable names referenced, in order (may repeat).
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            Part::Text(_) => None,
        })
    }

    /// True when the template has no placeholder.
    pub fn is_literal(&self) -> bool {
        self.variables().next().is_none()
    }

    /// Renders with `lookup`; unknown variables render as nothing.
    pub fn render(&self, lookup: impl Fn(&str) -> Option<String>) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => out.push_str(&lookup(v).unwrap_or_default()),
            }
        }
        out
    }

    /// The template written back as source text.
    pub fn source(&self) -> String {
        self.render_with(|v| format!("{{{{ {v} }}}}"))
    }

    fn render_with(&self, var: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => out.push_str(&var(v)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders() {
        let t = Template::parse("Votre score est {{ score }} sur {{max}}.").unwrap_or_default();
        assert_eq!(t.variables().collect::<Vec<_>>(), ["score", "max"]);
        let s = t.render(|v| (v == "score").then(|| "4".to_owned()));
        assert_eq!(s, "Votre score est 4 sur .");
        assert_eq!(t.source(), "Votre score est {{ score }} sur {{ max }}.");
    }

    #[test]
    fn rejects_bad_placeholders() {
        let e = Template::parse("a {{ b").err();
        assert_eq!(e.map(|e| e.offset), Some(2));
        assert!(Template::parse("{{ 1x }}").is_err());
        assert!(Template::parse("{{ a b }}").is_err());
        assert!(Template::parse("plain").is_ok_and(|t| t.is_literal()));
    }
}
