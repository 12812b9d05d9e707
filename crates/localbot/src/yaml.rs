//! Bot files' YAML: `hotline_flow`'s span-carrying tree (every field name and kind checked at
//! once, every diagnostic at a line and column), with the bot codes and wording. The typed model
//! is then read with serde. This module only parses; it knows nothing about bots' fields.

use hotline_flow::Diagnostic;
use hotline_flow::yaml::Format;
pub(crate) use hotline_flow::yaml::{Key, Value, Yaml};

use crate::codes;

/// Bot files.
const BOT: Format = Format {
    noun: "bot",
    syntax_code: codes::YAML_SYNTAX,
    too_large_code: codes::TOO_LARGE,
    empty_help: "a bot needs at least `bot` and `locales`; see docs/bots.md",
};

/// Parses a bot file's `src` into a tree; `None` (with one diagnostic) when it is not YAML.
pub(crate) fn parse(src: &str, file: &str, diags: &mut Vec<Diagnostic>) -> Option<Yaml> {
    hotline_flow::yaml::parse_as(&BOT, src, file, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_get_the_bot_codes_and_wording() {
        let mut d = Vec::new();
        assert!(parse("a: [1, 2\nb: 3\n", "t.yaml", &mut d).is_none());
        assert_eq!(d[0].code, "B0001");

        let mut d = Vec::new();
        assert!(parse("", "t.yaml", &mut d).is_none());
        assert_eq!(d[0].code, "B0001");
        assert!(d[0].message.contains("bot file is empty"), "{:?}", d[0]);

        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let mut d = Vec::new();
        assert!(parse(&src, "t.yaml", &mut d).is_none());
        assert_eq!(d[0].code, "B0002");
    }
}
