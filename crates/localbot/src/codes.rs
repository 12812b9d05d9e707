//! The stable diagnostic codes of bot files, in one table.
//!
//! Codes never change meaning once released; retired codes are not reused. Every code is
//! documented in `docs/bots.md` (a test checks that the document mentions each one). This
//! module holds data only.

/// The YAML itself is malformed (bad indentation, unclosed quote, several documents...).
pub const YAML_SYNTAX: &str = "B0001";
/// The file is too large or expands to too many values.
pub const TOO_LARGE: &str = "B0002";
/// A field name is not part of the format (usually a typo).
pub const UNKNOWN_FIELD: &str = "B0003";
/// A field has the wrong kind of value (a list where text was expected...).
pub const WRONG_TYPE: &str = "B0004";
/// A required field is missing.
pub const MISSING_FIELD: &str = "B0005";
/// A value is not one of the accepted values or is out of range.
pub const INVALID_VALUE: &str = "B0006";
/// The same key appears twice in one mapping.
pub const DUPLICATE_KEY: &str = "B0007";
/// A bot, intent, slot or slot type name has characters that are not allowed.
pub const INVALID_NAME: &str = "B0008";
/// A slot's `type` is neither built in nor declared in the locale's `slot_types`.
pub const UNKNOWN_SLOT_TYPE: &str = "B0010";
/// A sample utterance has a `{Placeholder}` that is not one of the intent's slots.
pub const PLACEHOLDER_WITHOUT_SLOT: &str = "B0011";
/// A required slot never appears in the intent's samples (warning: it can only be asked for).
pub const SLOT_NOT_IN_SAMPLES: &str = "B0012";
/// The same sample utterance belongs to two intents.
pub const DUPLICATE_SAMPLE: &str = "B0013";
/// An intent has no sample utterances (and no menu digits), so it can never be recognised.
pub const NO_SAMPLES: &str = "B0014";
/// A regular expression does not compile.
pub const BAD_REGEX: &str = "B0015";
/// A `then` is not `listen`, `hangup`, `return` or `{ transfer: NUMBER }`.
pub const UNKNOWN_THEN: &str = "B0016";
/// A message template names a slot the intent does not have.
pub const TEMPLATE_UNKNOWN_SLOT: &str = "B0017";
/// One locale lacks content another has (an intent, a slot type), or has empty text.
pub const LOCALE_MISSING_CONTENT: &str = "B0018";
/// A webhook URL is not a valid `http://` or `https://` URL.
pub const BAD_WEBHOOK_URL: &str = "B0019";
/// A required slot has no `prompt` to ask for it.
pub const MISSING_PROMPT: &str = "B0020";
/// A slot's `validate` cannot apply to its type (bounds that do not parse...).
pub const BAD_VALIDATION: &str = "B0021";
/// Two intents of a locale claim the same menu digits.
pub const DUPLICATE_DIGITS: &str = "B0022";
/// A transfer target is not an E.164 number (`+15551234567`) or a `sip:` address.
pub const BAD_TRANSFER: &str = "B0023";
/// A slot type has neither `values` nor `regex`, or both.
pub const BAD_SLOT_TYPE: &str = "B0024";
/// A `then: { score: ... }` names a slot the intent does not have.
pub const UNKNOWN_SLOT_REFERENCE: &str = "B0025";

/// Every code, for documentation checks.
pub const ALL: [&str; 24] = [
    YAML_SYNTAX,
    TOO_LARGE,
    UNKNOWN_FIELD,
    WRONG_TYPE,
    MISSING_FIELD,
    INVALID_VALUE,
    DUPLICATE_KEY,
    INVALID_NAME,
    UNKNOWN_SLOT_TYPE,
    PLACEHOLDER_WITHOUT_SLOT,
    SLOT_NOT_IN_SAMPLES,
    DUPLICATE_SAMPLE,
    NO_SAMPLES,
    BAD_REGEX,
    UNKNOWN_THEN,
    TEMPLATE_UNKNOWN_SLOT,
    LOCALE_MISSING_CONTENT,
    BAD_WEBHOOK_URL,
    MISSING_PROMPT,
    BAD_VALIDATION,
    DUPLICATE_DIGITS,
    BAD_TRANSFER,
    BAD_SLOT_TYPE,
    UNKNOWN_SLOT_REFERENCE,
];
