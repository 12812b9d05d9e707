//! The stable diagnostic codes of the flow language, in one table.
//!
//! Codes never change meaning once released; retired codes are not reused. Every code is
//! documented with an example in `docs/flows.md` (a test checks that the document mentions
//! each one). This module holds data only.

/// The YAML itself is malformed (bad indentation, unclosed quote, several documents...).
pub const YAML_SYNTAX: &str = "F0001";
/// A field has the wrong kind of value (a list where text was expected...).
pub const WRONG_TYPE: &str = "F0002";
/// A field name is not part of the format (usually a typo).
pub const UNKNOWN_FIELD: &str = "F0003";
/// A required field is missing.
pub const MISSING_FIELD: &str = "F0004";
/// The same key appears twice in one mapping.
pub const DUPLICATE_KEY: &str = "F0005";
/// Two nodes have the same id.
pub const DUPLICATE_NODE: &str = "F0006";
/// A value is not one of the accepted values or is out of range.
pub const INVALID_VALUE: &str = "F0007";
/// A node id, variable or flow id contains characters that are not allowed.
pub const INVALID_NAME: &str = "F0008";
/// The file is too large or has too many nodes.
pub const TOO_LARGE: &str = "F0009";
/// A `next`, `goto`, `exhausted`, `fallback` or `start` names a node that does not exist.
pub const DANGLING_TARGET: &str = "F0010";
/// A node has no way out: nothing says where the call goes after it.
pub const NO_WAY_OUT: &str = "F0011";
/// An `ask` node has no place to go when its retries are exhausted.
pub const NO_EXHAUSTED_TARGET: &str = "F0012";
/// A group of nodes forms a loop that the call can never leave.
pub const LOOP_WITHOUT_EXIT: &str = "F0013";
/// A node mixes actions that cannot go together (`ask` and `dial`, `routes` on a `dial`...).
pub const CONFLICTING_ACTIONS: &str = "F0014";
/// A route has no condition, so it would always match.
pub const EMPTY_ROUTE: &str = "F0015";
/// A `play` prompt names a file missing from the local prompt folder.
pub const PROMPT_FILE_MISSING: &str = "F0020";
/// A prompt or keyword list has no variant for one of the declared languages.
pub const PROMPT_LANGUAGE_MISSING: &str = "F0021";
/// A language is used that the flow does not declare in `languages`.
pub const UNDECLARED_LANGUAGE: &str = "F0022";
/// A `play` prompt needs a prompt base but the flow has no `prompts`.
pub const NO_PROMPT_BASE: &str = "F0023";
/// The `prompts` base is neither a folder, an http(s) URL nor an `s3://bucket/prefix`.
pub const INVALID_PROMPT_BASE: &str = "F0024";
/// A regular expression does not compile.
pub const INVALID_REGEX: &str = "F0030";
/// An `if` condition or a `number` comparison cannot be parsed.
pub const INVALID_CONDITION: &str = "F0031";
/// A `{{ ... }}` template is malformed.
pub const INVALID_TEMPLATE: &str = "F0032";
/// An `intent` route is used but the flow configures no intent engine.
pub const NO_INTENT_ENGINE: &str = "F0033";
/// The flow's intent engine is not configured on the server (checked by the server and by
/// `hotline check --intents`, not by the flow loader).
pub const UNKNOWN_INTENT_ENGINE: &str = "F0034";
/// An `intent` route names an intent its engine does not have (checked by the server and by
/// `hotline check --intents`).
pub const UNKNOWN_INTENT: &str = "F0035";
/// A `dial` target is neither a phone number nor a SIP URI.
pub const INVALID_DIAL_TARGET: &str = "F0040";
/// A webhook URL is not an http(s) URL.
pub const INVALID_WEBHOOK_URL: &str = "F0041";
/// A language tag is not of the form `fr-FR` / `en-US` / `fr`.
pub const INVALID_LANGUAGE: &str = "F0042";
/// A node is never reached from the start node.
pub const UNREACHABLE_NODE: &str = "W0001";
/// A template or condition reads a variable that is never declared nor set.
pub const UNKNOWN_VARIABLE: &str = "W0002";
/// A question whose key routes all have one length, without `num-digits` or `finish-on-key`:
/// callers wait `timeout` seconds after pressing.
pub const KEYS_WAIT: &str = "W0003";

/// Every code with a one-line summary, for documentation and `hotline check --explain`.
pub const ALL: &[(&str, &str)] = &[
    (YAML_SYNTAX, "YAML syntax error"),
    (WRONG_TYPE, "a field has the wrong kind of value"),
    (UNKNOWN_FIELD, "unknown field"),
    (MISSING_FIELD, "missing required field"),
    (DUPLICATE_KEY, "duplicate key in a mapping"),
    (DUPLICATE_NODE, "duplicate node id"),
    (INVALID_VALUE, "invalid value"),
    (INVALID_NAME, "invalid id or variable name"),
    (TOO_LARGE, "file too large or too many nodes"),
    (DANGLING_TARGET, "target names an unknown node"),
    (NO_WAY_OUT, "node with no way out"),
    (NO_EXHAUSTED_TARGET, "ask node without an exhaustion target"),
    (LOOP_WITHOUT_EXIT, "loop with no exit"),
    (CONFLICTING_ACTIONS, "conflicting actions in one node"),
    (EMPTY_ROUTE, "route without a condition"),
    (
        PROMPT_FILE_MISSING,
        "prompt file missing from the prompt folder",
    ),
    (
        PROMPT_LANGUAGE_MISSING,
        "prompt missing in a declared language",
    ),
    (UNDECLARED_LANGUAGE, "language not declared by the flow"),
    (NO_PROMPT_BASE, "`play` used without a prompt base"),
    (INVALID_PROMPT_BASE, "invalid prompt base"),
    (INVALID_REGEX, "invalid regular expression"),
    (INVALID_CONDITION, "invalid condition"),
    (INVALID_TEMPLATE, "invalid template"),
    (NO_INTENT_ENGINE, "intent route without an intent engine"),
    (
        UNKNOWN_INTENT_ENGINE,
        "intent engine not configured on the server",
    ),
    (UNKNOWN_INTENT, "intent unknown to the intent engine"),
    (INVALID_DIAL_TARGET, "invalid phone number or SIP URI"),
    (INVALID_WEBHOOK_URL, "webhook URL is not http(s)"),
    (INVALID_LANGUAGE, "invalid language tag"),
    (UNREACHABLE_NODE, "unreachable node"),
    (UNKNOWN_VARIABLE, "unknown variable"),
    (
        KEYS_WAIT,
        "callers wait `timeout` seconds after pressing keys",
    ),
];
