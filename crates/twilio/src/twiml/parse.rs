//! TwiML parser: XML text → [`Response`], with line/column on every diagnostic.
//!
//! Structural problems (malformed XML, a root other than `<Response>`, an unknown verb or noun,
//! a noun where it is not allowed, missing required content) are errors: Twilio answers them with
//! its "application error" outcome. Attribute problems (an unknown attribute, an unparsable value)
//! are warnings: Twilio logs a schema warning and carries on with the default, and so do we.
//!
//! Every diagnostic carries a stable [`Code`] and the 1-based line and column (in characters) of
//! the offending element (its `<`), attribute (its name) or text.
//!
//! This module must stay pure and total: no I/O, no clocks, no logging, and no panic on any input
//! (nothing here unwraps or indexes into the input). Work is bounded: documents larger than
//! [`MAX_INPUT_BYTES`] or nested deeper than [`MAX_DEPTH`] are rejected, and at most
//! [`MAX_WARNINGS`] warnings are kept.
//!
//! Choices made where Twilio's documentation is silent are documented on [`parse`].

use std::borrow::Cow;
use std::fmt;

use quick_xml::XmlVersion;
use quick_xml::events::attributes::AttrError;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::reader::Reader;

use super::model::{
    Connect, Dial, DialTarget, Enqueue, Gather, GatherInput, GatherPrompt, Method, Parameter,
    Pause, Play, Record, Redirect, Reject, Response, Say, SpeechTimeout, Start, Stop, Stream, Verb,
};

/// Largest document [`parse`] accepts, in bytes (1 MiB).
pub const MAX_INPUT_BYTES: usize = 1024 * 1024;

/// Deepest element nesting [`parse`] accepts; `<Response>` is level 1.
pub const MAX_DEPTH: usize = 32;

/// Most warnings [`parse`] reports; one more, [`Code::TooManyWarnings`], says that some were
/// left out.
pub const MAX_WARNINGS: usize = 100;

/// The stable identifier of a diagnostic. [`Code::as_str`] gives its spelling, which does not
/// change between releases even when the message wording does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    // ----- errors -----
    /// `malformed-xml`: the text is not well-formed XML 1.0 (unclosed or mismatched tags, bad
    /// attribute syntax, unknown entity, forbidden character, text outside the root …).
    /// Remedy: fix the XML at the reported position.
    MalformedXml,
    /// `too-large`: the document is larger than [`MAX_INPUT_BYTES`].
    /// Remedy: split the document with `<Redirect>`.
    TooLarge,
    /// `too-deep`: elements are nested deeper than [`MAX_DEPTH`].
    /// Remedy: flatten the document; real TwiML never nests more than a few levels.
    TooDeep,
    /// `wrong-root`: the document is empty or its root element is not `<Response>`.
    /// Remedy: wrap the verbs in `<Response>…</Response>`.
    WrongRoot,
    /// `unknown-element`: an element that is neither a TwiML verb nor a noun.
    /// Remedy: check the spelling (element names are case-sensitive).
    UnknownElement,
    /// `not-allowed-here`: a verb or noun where TwiML does not allow it (`<Number>` outside
    /// `<Dial>`, `<Gather>` inside `<Gather>`, a second `<Stream>` in `<Connect>` …).
    /// Remedy: move the element to where it belongs.
    NotAllowedHere,
    /// `unsupported`: a real Twilio verb or noun that Hotline does not implement
    /// (`<Pay>`, `<ConversationRelay>`, `<VirtualAgent>` …).
    /// Remedy: use `<Connect><Stream>` or the verbs Hotline supports.
    Unsupported,
    /// `missing-content`: required content is absent (`<Redirect>` with no URL, `<Stream>` with
    /// no `url`, `<Connect>` with no `<Stream>` …).
    /// Remedy: add the missing text, attribute or noun.
    MissingContent,
    // ----- warnings -----
    /// `unknown-attribute` (warning): an attribute TwiML does not define; it is ignored.
    UnknownAttribute,
    /// `unsupported-attribute` (warning): a real Twilio attribute Hotline does not implement;
    /// it is ignored.
    UnsupportedAttribute,
    /// `invalid-value` (warning): an attribute value that cannot be understood; Twilio's default
    /// applies instead.
    InvalidValue,
    /// `ssml-flattened` (warning): SSML inside `<Say>` was reduced to its plain text.
    SsmlFlattened,
    /// `ignored-text` (warning): non-blank text where the element takes none; it is ignored.
    IgnoredText,
    /// `empty-say` (warning): a `<Say>` with no text, which says nothing.
    EmptySay,
    /// `doctype-ignored` (warning): a `<!DOCTYPE>` declaration; it is ignored and its entities
    /// are not defined.
    DoctypeIgnored,
    /// `too-many-warnings` (warning): [`MAX_WARNINGS`] were reported; the rest were dropped.
    TooManyWarnings,
}

impl Code {
    /// The stable spelling, e.g. `"malformed-xml"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::MalformedXml => "malformed-xml",
            Code::TooLarge => "too-large",
            Code::TooDeep => "too-deep",
            Code::WrongRoot => "wrong-root",
            Code::UnknownElement => "unknown-element",
            Code::NotAllowedHere => "not-allowed-here",
            Code::Unsupported => "unsupported",
            Code::MissingContent => "missing-content",
            Code::UnknownAttribute => "unknown-attribute",
            Code::UnsupportedAttribute => "unsupported-attribute",
            Code::InvalidValue => "invalid-value",
            Code::SsmlFlattened => "ssml-flattened",
            Code::IgnoredText => "ignored-text",
            Code::EmptySay => "empty-say",
            Code::DoctypeIgnored => "doctype-ignored",
            Code::TooManyWarnings => "too-many-warnings",
        }
    }

    /// Whether this code makes the document fail (as opposed to a warning).
    pub fn is_error(self) -> bool {
        matches!(
            self,
            Code::MalformedXml
                | Code::TooLarge
                | Code::TooDeep
                | Code::WrongRoot
                | Code::UnknownElement
                | Code::NotAllowedHere
                | Code::Unsupported
                | Code::MissingContent
        )
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem found in a document, located by 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub column: u32,
    /// What is wrong, for a person.
    pub message: String,
    /// What is wrong, for a program: stable across releases.
    pub code: Code,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {} [{}]",
            self.line, self.column, self.message, self.code
        )
    }
}

/// A document that could not be understood at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message} [{code}]")]
pub struct ParseError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong, for a person.
    pub message: String,
    /// What is wrong, for a program: stable across releases (always an error code).
    pub code: Code,
}

/// A successfully parsed document and the warnings met on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The document.
    pub response: Response,
    /// Attribute-level problems that Twilio would only warn about.
    pub warnings: Vec<Diagnostic>,
}

/// Parses a TwiML document.
///
/// Accepted: an XML declaration (only at the very start) or none, a UTF-8 byte-order mark,
/// comments, processing instructions, whitespace, CDATA, the five predefined entities and
/// character references, self-closing elements, single- or double-quoted attributes, and SSML
/// inside `<Say>` (flattened to plain text, with one [`Code::SsmlFlattened`] warning).
///
/// Choices where Twilio's documentation is silent:
/// - Element text that holds a URL, number, name or speech (`<Say>`, `<Play>`, `<Redirect>`,
///   `<Enqueue>`, `<Dial>` and its nouns) is trimmed of XML whitespace (space, tab, CR, LF) at
///   both ends; inner whitespace is kept as written. Attribute values are never trimmed, except
///   that numbers, booleans and keywords tolerate surrounding whitespace.
/// - Booleans (`true`/`false`), methods (`GET`/`POST`), `input` words and `speechTimeout="auto"`
///   are matched case-insensitively; numbers must be plain decimal digits.
/// - Empty required content is an error: `<Play>` with neither URL nor `digits`, `<Redirect>`
///   with no URL, `<Dial>` with neither a number nor a noun, a noun with no text, `<Start>`/`<Stop>`
///   with no `<Stream>`, `<Stream>` with no `url` (in `<Stop>`: no `name` and no `url`),
///   `<Parameter>` with no `name`. An empty `<Say>` is only a warning ([`Code::EmptySay`]).
/// - Non-blank text where none is expected (directly in `<Response>`, `<Gather>`, `<Pause>` …) is
///   ignored with a [`Code::IgnoredText`] warning.
/// - `xmlns` and `xmlns:*` attributes are accepted anywhere without a warning; attributes of SSML
///   elements are not checked.
/// - `<!DOCTYPE>` before the root is ignored with a warning; its entities are not defined.
/// - In SSML, `<sub alias="…">` is spoken as its alias; `<break>`, `<p>` and `<s>` separate words
///   with a space; every other tag contributes its text.
/// - `<Client>` accepts its identity as text or as a nested `<Identity>`.
/// - Enumerated values are checked and an unknown one is a [`Code::InvalidValue`] warning:
///   `<Reject reason>`, `<Dial record>`, `<Record trim>`, `<Stream track>`, `<Gather finishOnKey>`
///   (one key or empty), `<Record finishOnKey>` (keys among `0-9*#`), `numDigits` (at least 1),
///   and DTMF in `<Play digits>` / `<Number sendDigits>` (`0-9*#` and `w`/`W`).
/// - Element and attribute names are case-sensitive, as in XML; a near miss gets a
///   "did you mean" hint. Real Twilio verbs, nouns and attributes that Hotline does not
///   implement get their own codes ([`Code::Unsupported`], [`Code::UnsupportedAttribute`]).
/// - Not checked (quick-xml does not): the syntax of element and attribute names, and a raw `<`
///   inside an attribute value.
pub fn parse(xml: &str) -> Result<Parsed, ParseError> {
    if xml.len() > MAX_INPUT_BYTES {
        return Err(ParseError {
            line: 1,
            column: 1,
            message: format!(
                "the document is {} bytes long; Hotline accepts at most {MAX_INPUT_BYTES} bytes (1 MiB)",
                xml.len()
            ),
            code: Code::TooLarge,
        });
    }
    let mut p = Parser::new(xml);
    if let Some((at, ch)) = first_forbidden_char(xml) {
        return Err(p.error(
            at,
            Code::MalformedXml,
            format!(
                "malformed XML: character U+{:04X} is not allowed in an XML 1.0 document",
                u32::from(ch)
            ),
        ));
    }
    let root = p.prolog()?;
    let response = p.response(&root)?;
    p.epilog()?;
    Ok(Parsed {
        response,
        warnings: p.warnings,
    })
}

// ------------------------------------------------------------------------------------------
// Element names
// ------------------------------------------------------------------------------------------

/// The verbs Hotline implements.
const VERBS: &[&str] = &[
    "Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Reject", "Dial", "Enqueue", "Leave",
    "Record", "Start", "Stop", "Connect",
];

/// Nouns Hotline implements (they appear only inside a verb).
const NOUNS: &[&str] = &[
    "Number",
    "Sip",
    "Client",
    "Queue",
    "Conference",
    "Stream",
    "Parameter",
    "Identity",
];

/// Real Twilio verbs and nouns that Hotline does not implement.
const UNSUPPORTED: &[&str] = &[
    "Pay",
    "Prompt",
    "Refer",
    "Echo",
    "Sms",
    "Message",
    "Application",
    "Sim",
    "WhatsApp",
    "Siprec",
    "Transcription",
    "Recording",
    "ConversationRelay",
    "VirtualAgent",
    "Room",
    "Autopilot",
    "Conversation",
    "Assistant",
    "AiSession",
    "Task",
    "Config",
];

/// SSML elements accepted (and flattened) inside `<Say>`, besides any `amazon:` element: the
/// tags Twilio documents for `<Say>`, plus a redundant `<speak>` wrapper.
const SSML: &[&str] = &[
    "break", "emphasis", "lang", "p", "phoneme", "prosody", "s", "say-as", "sub", "w", "speak",
];

fn is_ssml(name: &str) -> bool {
    SSML.contains(&name) || name.starts_with("amazon:")
}

// ------------------------------------------------------------------------------------------
// The parser
// ------------------------------------------------------------------------------------------

/// A start tag (or self-closing tag) and where it begins.
struct El<'a> {
    start: BytesStart<'a>,
    /// `<tag/>`: there is no content and no end tag to read.
    empty: bool,
    /// Byte offset of the `<` in the whole input.
    pos: usize,
}

impl El<'_> {
    fn name(&self) -> &str {
        self.start.name().into_inner()
    }
}

/// One piece of an element's content, as [`Parser::children`] hands it over.
enum Content<'a> {
    /// A child element; the callback must consume it completely.
    Element(El<'a>),
    /// Character data (plain text or CDATA), end-of-line normalised, and the offset of its
    /// first non-blank character.
    Text(Cow<'a, str>, usize),
    /// A resolved entity or character reference.
    Char(char, usize),
}

/// What an attribute callback made of one attribute.
enum Outcome {
    /// Understood and stored.
    Set,
    /// Not an attribute of this element.
    Unknown,
    /// A Twilio attribute that Hotline ignores.
    Unsupported,
    /// A known attribute whose value is not understood; the text says what was expected.
    Invalid(&'static str),
}

/// Where a `<Stream>` appears: inside `<Stop>` it may be identified by `name` alone.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StreamIn {
    Start,
    Stop,
    Connect,
}

struct Parser<'a> {
    /// The whole input, byte-order mark included (positions index into it).
    src: &'a str,
    /// Bytes before the reader's input: 3 for a UTF-8 byte-order mark, else 0.
    base: usize,
    reader: Reader<&'a [u8]>,
    lines: LineIndex,
    warnings: Vec<Diagnostic>,
    /// Nesting level of the element whose content is being read (`<Response>` is 1).
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        let (body, base) = match src.strip_prefix('\u{feff}') {
            Some(rest) => (rest, src.len() - rest.len()),
            None => (src, 0),
        };
        let mut reader = Reader::from_str(body);
        let config = reader.config_mut();
        config.check_comments = true;
        config.check_end_names = true;
        Parser {
            src,
            base,
            reader,
            lines: LineIndex::new(base),
            warnings: Vec::new(),
            depth: 0,
        }
    }

    // --- diagnostics ----------------------------------------------------------------------

    fn error(&mut self, pos: usize, code: Code, message: impl Into<String>) -> ParseError {
        let (line, column) = self.lines.locate(self.src, pos);
        ParseError {
            line,
            column,
            message: message.into(),
            code,
        }
    }

    fn warn(&mut self, pos: usize, code: Code, message: impl Into<String>) {
        if self.warnings.len() > MAX_WARNINGS {
            return;
        }
        let (code, message) = if self.warnings.len() == MAX_WARNINGS {
            (
                Code::TooManyWarnings,
                format!("more than {MAX_WARNINGS} warnings; the rest are not reported"),
            )
        } else {
            (code, message.into())
        };
        let (line, column) = self.lines.locate(self.src, pos);
        self.warnings.push(Diagnostic {
            line,
            column,
            message,
            code,
        });
    }

    /// Turns a quick-xml error into a [`Code::MalformedXml`] error at the position quick-xml
    /// blames.
    fn xml_error(&mut self, e: &quick_xml::Error) -> ParseError {
        use quick_xml::errors::IllFormedError;
        let pos = self
            .base
            .saturating_add(usize::try_from(self.reader.error_position()).unwrap_or(usize::MAX));
        let message = match e {
            quick_xml::Error::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
                format!("malformed XML: `</{found}>` does not close `<{expected}>`")
            }
            quick_xml::Error::IllFormed(IllFormedError::UnmatchedEndTag(found)) => {
                format!("malformed XML: `</{found}>` closes no open element")
            }
            quick_xml::Error::IllFormed(IllFormedError::UnclosedReference) => {
                "malformed XML: `&` starts no entity; write it as `&amp;`".to_owned()
            }
            quick_xml::Error::IllFormed(other) => format!("malformed XML: {other}"),
            quick_xml::Error::Syntax(other) => format!("malformed XML: {other}"),
            other => format!("malformed XML: {other}"),
        };
        self.error(pos, Code::MalformedXml, message)
    }

    fn attr_syntax_error(&mut self, el: &El<'_>, e: &AttrError) -> ParseError {
        let at = match e {
            AttrError::ExpectedEq(at)
            | AttrError::ExpectedValue(at)
            | AttrError::UnquotedValue(at)
            | AttrError::ExpectedQuote(at, _)
            | AttrError::Duplicated(at, _) => *at,
        };
        let what = match e {
            AttrError::ExpectedEq(_) => "an attribute name must be followed by `=` and a value",
            AttrError::ExpectedValue(_) => "an attribute has no value",
            AttrError::UnquotedValue(_) => "an attribute value must be quoted with `\"` or `'`",
            AttrError::ExpectedQuote(..) => "an attribute value is not closed by its quote",
            AttrError::Duplicated(..) => "duplicate attribute",
        };
        let message = format!("malformed XML: {what} in <{}>", clip(el.name()));
        // Positions are relative to the text after `<`.
        self.error(
            el.pos.saturating_add(1).saturating_add(at),
            Code::MalformedXml,
            message,
        )
    }

    /// The error for a child element that may not appear inside `parent`. `hint` completes the
    /// message (start it with `; `).
    fn misplaced(&mut self, child: &El<'_>, parent: &str, hint: &str) -> ParseError {
        let name = child.name();
        if name.is_empty() {
            return self.error(
                child.pos,
                Code::MalformedXml,
                "malformed XML: element with no name",
            );
        }
        let (code, message) = if UNSUPPORTED.contains(&name) {
            (
                Code::Unsupported,
                format!("<{name}> is not supported by Hotline{hint}"),
            )
        } else if VERBS.contains(&name) || NOUNS.contains(&name) {
            (
                Code::NotAllowedHere,
                format!("<{name}> is not allowed inside <{parent}>{hint}"),
            )
        } else {
            (
                Code::UnknownElement,
                format!("unknown element <{}> inside <{parent}>{hint}", clip(name)),
            )
        };
        self.error(child.pos, code, message)
    }

    /// Warns about non-blank text where an element takes none.
    fn ignore_text(&mut self, parent: &str, text: &str, pos: usize, hint: &str) {
        if !trim_start_xml(text).is_empty() {
            self.warn(
                pos,
                Code::IgnoredText,
                format!("text inside <{parent}> is ignored{hint}"),
            );
        }
    }

    // --- events ---------------------------------------------------------------------------

    /// The next raw event and the byte offset where it starts.
    fn raw(&mut self) -> Result<(Event<'a>, usize), ParseError> {
        let pos = self
            .base
            .saturating_add(usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX));
        match self.reader.read_event() {
            Ok(event) => Ok((event, pos)),
            Err(e) => Err(self.xml_error(&e)),
        }
    }

    /// Reads an element's content, skipping comments and processing instructions, and hands
    /// each piece to `f`. Returns after the element's end tag. Enforces [`MAX_DEPTH`].
    fn children<F>(&mut self, el: &El<'a>, mut f: F) -> Result<(), ParseError>
    where
        F: FnMut(&mut Self, Content<'a>) -> Result<(), ParseError>,
    {
        if el.empty {
            return Ok(());
        }
        loop {
            let (event, pos) = self.raw()?;
            match event {
                Event::End(_) => return Ok(()),
                Event::Start(_) | Event::Empty(_) if self.depth >= MAX_DEPTH => {
                    return Err(self.error(
                        pos,
                        Code::TooDeep,
                        format!("elements are nested more than {MAX_DEPTH} levels deep"),
                    ));
                }
                Event::Start(start) => self.child(
                    El {
                        start,
                        empty: false,
                        pos,
                    },
                    &mut f,
                )?,
                Event::Empty(start) => self.child(
                    El {
                        start,
                        empty: true,
                        pos,
                    },
                    &mut f,
                )?,
                Event::Text(text) => {
                    // Point at the first non-blank character, counted in the raw text (end-of-line
                    // normalisation may shorten it).
                    let blank = text.len() - trim_start_xml(&text).len();
                    f(self, Content::Text(text.xml10_content(), pos + blank))?;
                }
                Event::CData(cdata) => f(self, Content::Text(cdata.xml10_content(), pos))?,
                Event::GeneralRef(reference) => {
                    let ch = self.reference(&reference, pos)?;
                    f(self, Content::Char(ch, pos))?;
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::Decl(_) => {
                    return Err(self.error(
                        pos,
                        Code::MalformedXml,
                        "malformed XML: an XML declaration is only allowed at the very start of the document",
                    ));
                }
                Event::DocType(_) => {
                    return Err(self.error(
                        pos,
                        Code::MalformedXml,
                        "malformed XML: a DOCTYPE is only allowed before the root element",
                    ));
                }
                Event::Eof => {
                    return Err(self.error(
                        el.pos,
                        Code::MalformedXml,
                        format!("malformed XML: <{}> is never closed", clip(el.name())),
                    ));
                }
            }
        }
    }

    fn child<F>(&mut self, el: El<'a>, f: &mut F) -> Result<(), ParseError>
    where
        F: FnMut(&mut Self, Content<'a>) -> Result<(), ParseError>,
    {
        self.depth += 1;
        let result = f(self, Content::Element(el));
        self.depth -= 1;
        result
    }

    /// Resolves `&name;`: the five predefined entities and character references.
    fn reference(&mut self, r: &BytesRef<'_>, pos: usize) -> Result<char, ParseError> {
        let name: &str = r;
        let ch = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => match r.resolve_char_ref() {
                Ok(Some(ch)) if is_xml_char(ch) => ch,
                Ok(Some(ch)) => {
                    return Err(self.error(
                        pos,
                        Code::MalformedXml,
                        format!(
                            "malformed XML: `&{};` refers to U+{:04X}, which XML 1.0 does not allow",
                            clip(name),
                            u32::from(ch)
                        ),
                    ));
                }
                Ok(None) => {
                    return Err(self.error(
                        pos,
                        Code::MalformedXml,
                        format!(
                            "malformed XML: unknown entity `&{};` (only &amp; &lt; &gt; &quot; &apos; and character references are defined)",
                            clip(name)
                        ),
                    ));
                }
                Err(_) => {
                    return Err(self.error(
                        pos,
                        Code::MalformedXml,
                        format!(
                            "malformed XML: invalid character reference `&{};`",
                            clip(name)
                        ),
                    ));
                }
            },
        };
        Ok(ch)
    }

    // --- attributes -----------------------------------------------------------------------

    /// Reads `el`'s attributes, hands each (name, value) to `f`, and turns its verdict into
    /// warnings. `known` lists the element's attributes, for "did you mean" hints.
    fn attrs<F>(&mut self, el: &El<'a>, known: &[&str], mut f: F) -> Result<(), ParseError>
    where
        F: FnMut(&str, &str) -> Outcome,
    {
        for attr in el.start.attributes() {
            let attr = match attr {
                Ok(attr) => attr,
                Err(e) => return Err(self.attr_syntax_error(el, &e)),
            };
            let key = attr.key.into_inner();
            if key == "xmlns" || key.starts_with("xmlns:") {
                continue;
            }
            let pos = offset_in(self.src, key).unwrap_or(el.pos);
            let value = match attr.normalized_value(XmlVersion::Implicit1_0) {
                Ok(value) => value,
                Err(e) => {
                    use quick_xml::escape::EscapeError;
                    let key = clip(key);
                    let message = match e {
                        quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(_, name)) => {
                            format!(
                                "malformed XML: unknown entity `&{};` in attribute `{key}` (only &amp; &lt; &gt; &quot; &apos; and character references are defined)",
                                clip(&name)
                            )
                        }
                        quick_xml::Error::Escape(EscapeError::UnterminatedEntity(_)) => format!(
                            "malformed XML: `&` starts no entity in attribute `{key}`; write it as `&amp;`"
                        ),
                        quick_xml::Error::Escape(EscapeError::InvalidCharRef(_)) => format!(
                            "malformed XML: invalid character reference in attribute `{key}`"
                        ),
                        other => format!("malformed XML: in attribute `{key}`: {other}"),
                    };
                    return Err(self.error(pos, Code::MalformedXml, message));
                }
            };
            // A borrowed value is raw input, already checked by `first_forbidden_char`; only
            // a value with resolved references can hold a new character.
            let forbidden = match &value {
                Cow::Owned(resolved) => resolved.chars().find(|&c| !is_xml_char(c)),
                Cow::Borrowed(_) => None,
            };
            if let Some(ch) = forbidden {
                return Err(self.error(
                    pos,
                    Code::MalformedXml,
                    format!(
                        "malformed XML: attribute `{}` refers to U+{:04X}, which XML 1.0 does not allow",
                        clip(key),
                        u32::from(ch)
                    ),
                ));
            }
            match f(key, &value) {
                Outcome::Set => {}
                Outcome::Unknown => {
                    let hint = known
                        .iter()
                        .find(|k| k.eq_ignore_ascii_case(key))
                        .map(|k| format!(" (did you mean `{k}`?)"))
                        .unwrap_or_default();
                    let message = format!(
                        "unknown attribute `{}` on <{}> is ignored{hint}",
                        clip(key),
                        el.name()
                    );
                    self.warn(pos, Code::UnknownAttribute, message);
                }
                Outcome::Unsupported => {
                    let message = format!(
                        "attribute `{key}` on <{}> is not supported by Hotline and is ignored",
                        el.name()
                    );
                    self.warn(pos, Code::UnsupportedAttribute, message);
                }
                Outcome::Invalid(expected) => {
                    let message = format!(
                        "invalid value \"{}\" for `{key}` on <{}>: expected {expected}; Twilio's default applies",
                        clip(&value),
                        el.name()
                    );
                    self.warn(pos, Code::InvalidValue, message);
                }
            }
        }
        Ok(())
    }

    /// Reads an element that takes no attributes.
    fn no_attrs(&mut self, el: &El<'a>) -> Result<(), ParseError> {
        self.attrs(el, &[], |_, _| Outcome::Unknown)
    }

    // --- content helpers ------------------------------------------------------------------

    /// Reads an element that takes only text, returning it trimmed. `hint` completes the error
    /// for a child element.
    fn text_only(&mut self, el: &El<'a>, hint: &str) -> Result<String, ParseError> {
        let parent = el.name();
        let mut text = String::new();
        self.children(el, |p, content| match content {
            Content::Text(t, _) => {
                text.push_str(&t);
                Ok(())
            }
            Content::Char(ch, _) => {
                text.push(ch);
                Ok(())
            }
            Content::Element(child) => Err(p.misplaced(&child, parent, hint)),
        })?;
        Ok(trim_owned(text))
    }

    /// Reads an element that takes no content at all (text is ignored with a warning).
    fn no_content(&mut self, el: &El<'a>) -> Result<(), ParseError> {
        let parent = el.name();
        self.children(el, |p, content| match content {
            Content::Text(t, pos) => {
                p.ignore_text(parent, &t, pos, "");
                Ok(())
            }
            Content::Char(ch, pos) => {
                p.ignore_text(parent, ch.encode_utf8(&mut [0; 4]), pos, "");
                Ok(())
            }
            Content::Element(child) => Err(p.misplaced(&child, parent, "; it takes no content")),
        })
    }

    // --- document -------------------------------------------------------------------------

    /// Reads up to and including the root element's start tag.
    fn prolog(&mut self) -> Result<El<'a>, ParseError> {
        let mut first = true;
        loop {
            let (event, pos) = self.raw()?;
            match event {
                Event::Decl(_) if first && pos == self.base => {}
                Event::Decl(_) => {
                    return Err(self.error(
                        pos,
                        Code::MalformedXml,
                        "malformed XML: an XML declaration is only allowed at the very start of the document",
                    ));
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::DocType(_) => self.warn(
                    pos,
                    Code::DoctypeIgnored,
                    "the DOCTYPE declaration is ignored; its entities are not defined",
                ),
                Event::Text(t) if trim_start_xml(&t).is_empty() => {}
                Event::Text(t) => {
                    let at = pos + (t.len() - trim_start_xml(&t).len());
                    return Err(self.error(
                        at,
                        Code::MalformedXml,
                        "malformed XML: text before the root element <Response>",
                    ));
                }
                Event::CData(_) | Event::GeneralRef(_) => {
                    return Err(self.error(
                        pos,
                        Code::MalformedXml,
                        "malformed XML: text before the root element <Response>",
                    ));
                }
                Event::Start(start) | Event::Empty(start)
                    if start.name().into_inner() != "Response" =>
                {
                    let name = clip(start.name().into_inner()).to_owned();
                    return Err(self.error(
                        pos,
                        Code::WrongRoot,
                        format!("the root element must be <Response>, found <{name}>"),
                    ));
                }
                Event::Start(start) => {
                    return Ok(El {
                        start,
                        empty: false,
                        pos,
                    });
                }
                Event::Empty(start) => {
                    return Ok(El {
                        start,
                        empty: true,
                        pos,
                    });
                }
                Event::End(_) => {
                    return Err(self.error(
                        pos,
                        Code::MalformedXml,
                        "malformed XML: end tag before the root element",
                    ));
                }
                Event::Eof => {
                    return Err(self.error(
                        pos,
                        Code::WrongRoot,
                        "the document is empty: expected a <Response> element",
                    ));
                }
            }
            first = false;
        }
    }

    /// Reads what follows the root element: only comments, processing instructions and
    /// whitespace are allowed.
    fn epilog(&mut self) -> Result<(), ParseError> {
        loop {
            let (event, pos) = self.raw()?;
            let message = match event {
                Event::Eof => return Ok(()),
                Event::Comment(_) | Event::PI(_) => continue,
                Event::Text(t) if trim_start_xml(&t).is_empty() => continue,
                Event::Text(t) => {
                    let at = pos + (t.len() - trim_start_xml(&t).len());
                    return Err(self.error(
                        at,
                        Code::MalformedXml,
                        "malformed XML: text after </Response>",
                    ));
                }
                Event::CData(_) | Event::GeneralRef(_) => "malformed XML: text after </Response>",
                Event::Start(_) | Event::Empty(_) => {
                    "malformed XML: a document has one root element; found another after </Response>"
                }
                Event::Decl(_) => {
                    "malformed XML: an XML declaration is only allowed at the very start of the document"
                }
                Event::DocType(_) => {
                    "malformed XML: a DOCTYPE is only allowed before the root element"
                }
                Event::End(_) => "malformed XML: end tag after </Response>",
            };
            return Err(self.error(pos, Code::MalformedXml, message));
        }
    }

    fn response(&mut self, root: &El<'a>) -> Result<Response, ParseError> {
        self.no_attrs(root)?;
        self.depth = 1;
        let mut verbs = Vec::new();
        self.children(root, |p, content| {
            match content {
                Content::Element(el) => verbs.push(p.verb(&el)?),
                Content::Text(t, pos) => {
                    p.ignore_text("Response", &t, pos, "; wrap speech in <Say>")
                }
                Content::Char(ch, pos) => p.ignore_text(
                    "Response",
                    ch.encode_utf8(&mut [0; 4]),
                    pos,
                    "; wrap speech in <Say>",
                ),
            }
            Ok(())
        })?;
        Ok(Response { verbs })
    }

    fn verb(&mut self, el: &El<'a>) -> Result<Verb, ParseError> {
        Ok(match el.name() {
            "Say" => Verb::Say(self.say(el)?),
            "Play" => Verb::Play(self.play(el)?),
            "Pause" => Verb::Pause(self.pause(el)?),
            "Gather" => Verb::Gather(self.gather(el)?),
            "Redirect" => Verb::Redirect(self.redirect(el)?),
            "Hangup" => {
                self.no_attrs(el)?;
                self.no_content(el)?;
                Verb::Hangup
            }
            "Reject" => Verb::Reject(self.reject(el)?),
            "Dial" => Verb::Dial(self.dial(el)?),
            "Enqueue" => Verb::Enqueue(self.enqueue(el)?),
            "Leave" => {
                self.no_attrs(el)?;
                self.no_content(el)?;
                Verb::Leave
            }
            "Record" => Verb::Record(self.record(el)?),
            "Start" => Verb::Start(self.start(el)?),
            "Stop" => Verb::Stop(self.stop(el)?),
            "Connect" => Verb::Connect(self.connect(el)?),
            name if NOUNS.contains(&name) => {
                let message = format!(
                    "<{name}> is not allowed directly inside <Response>; it is a noun of {}",
                    noun_parents(name)
                );
                return Err(self.error(el.pos, Code::NotAllowedHere, message));
            }
            name if UNSUPPORTED.contains(&name) => {
                let message = format!("<{name}> is not supported by Hotline");
                return Err(self.error(el.pos, Code::Unsupported, message));
            }
            "" => {
                return Err(self.error(
                    el.pos,
                    Code::MalformedXml,
                    "malformed XML: element with no name",
                ));
            }
            name => {
                let hint = VERBS
                    .iter()
                    .find(|v| v.eq_ignore_ascii_case(name))
                    .map(|v| format!(" (did you mean <{v}>? names are case-sensitive)"))
                    .unwrap_or_default();
                let message = format!("unknown verb <{}>{hint}", clip(name));
                return Err(self.error(el.pos, Code::UnknownElement, message));
            }
        })
    }

    // --- verbs ----------------------------------------------------------------------------

    fn say(&mut self, el: &El<'a>) -> Result<Say, ParseError> {
        let mut say = Say::default();
        self.attrs(el, &["voice", "language", "loop"], |key, v| match key {
            "voice" => set_string(&mut say.voice, v),
            "language" => set_string(&mut say.language, v),
            "loop" => set_u32(&mut say.loop_count, v),
            _ => Outcome::Unknown,
        })?;
        let mut text = String::new();
        let mut flattened = false;
        self.ssml(el, &mut text, &mut flattened)?;
        say.text = trim_owned(text);
        if say.text.is_empty() {
            self.warn(el.pos, Code::EmptySay, "<Say> has no text and says nothing");
        }
        Ok(say)
    }

    /// Appends the plain text of `<Say>` or SSML content to `out`. Warns once, at the first
    /// SSML element, when `flattened` is still false.
    fn ssml(
        &mut self,
        el: &El<'a>,
        out: &mut String,
        flattened: &mut bool,
    ) -> Result<(), ParseError> {
        self.children(el, |p, content| match content {
            Content::Text(t, _) => {
                out.push_str(&t);
                Ok(())
            }
            Content::Char(ch, _) => {
                out.push(ch);
                Ok(())
            }
            Content::Element(child) => {
                let name = child.name();
                if !is_ssml(name) {
                    return Err(p.misplaced(&child, "Say", "; <Say> takes text and SSML only"));
                }
                if !*flattened {
                    *flattened = true;
                    p.warn(
                        child.pos,
                        Code::SsmlFlattened,
                        "SSML inside <Say> is flattened to plain text; Hotline speaks the words without the markup",
                    );
                }
                let mut alias = None;
                p.attrs(&child, &[], |key, v| {
                    if key == "alias" {
                        alias = Some(v.to_owned());
                    }
                    Outcome::Set
                })?;
                match (name, alias) {
                    ("sub", Some(alias)) => {
                        p.ssml(&child, &mut String::new(), flattened)?;
                        out.push_str(&alias);
                    }
                    ("break" | "p" | "s", _) => {
                        separate(out);
                        p.ssml(&child, out, flattened)?;
                        separate(out);
                    }
                    _ => p.ssml(&child, out, flattened)?,
                }
                Ok(())
            }
        })
    }

    fn play(&mut self, el: &El<'a>) -> Result<Play, ParseError> {
        let mut play = Play::default();
        self.attrs(el, &["loop", "digits"], |key, v| match key {
            "loop" => set_u32(&mut play.loop_count, v),
            "digits" => set_dtmf(&mut play.digits, v),
            _ => Outcome::Unknown,
        })?;
        play.url = self.text_only(el, "; it takes a URL as text")?;
        if play.url.is_empty() && play.digits.is_none() {
            return Err(self.error(
                el.pos,
                Code::MissingContent,
                "<Play> needs an audio URL as its text or a `digits` attribute",
            ));
        }
        Ok(play)
    }

    fn pause(&mut self, el: &El<'a>) -> Result<Pause, ParseError> {
        let mut pause = Pause::default();
        self.attrs(el, &["length"], |key, v| match key {
            "length" => set_u32(&mut pause.length, v),
            _ => Outcome::Unknown,
        })?;
        self.no_content(el)?;
        Ok(pause)
    }

    fn gather(&mut self, el: &El<'a>) -> Result<Gather, ParseError> {
        const KNOWN: &[&str] = &[
            "input",
            "action",
            "method",
            "timeout",
            "speechTimeout",
            "maxSpeechTime",
            "numDigits",
            "finishOnKey",
            "language",
            "hints",
            "actionOnEmptyResult",
            "partialResultCallback",
            "partialResultCallbackMethod",
            "speechModel",
            "enhanced",
            "profanityFilter",
            "bargeIn",
        ];
        let mut g = Gather::default();
        self.attrs(el, KNOWN, |key, v| match key {
            "input" => match GatherInput::parse(v) {
                Some(input) => {
                    g.input = Some(input);
                    Outcome::Set
                }
                None => Outcome::Invalid("`dtmf`, `speech` or `dtmf speech`"),
            },
            "action" => set_string(&mut g.action, v),
            "method" => set_method(&mut g.method, v),
            "timeout" => set_u32(&mut g.timeout, v),
            "speechTimeout" => match SpeechTimeout::parse(v) {
                Some(t) => {
                    g.speech_timeout = Some(t);
                    Outcome::Set
                }
                None => Outcome::Invalid("a whole number of seconds or `auto`"),
            },
            "maxSpeechTime" => set_u32(&mut g.max_speech_time, v),
            "numDigits" => match parse_u32(v) {
                Some(n) if n >= 1 => {
                    g.num_digits = Some(n);
                    Outcome::Set
                }
                _ => Outcome::Invalid("a whole number of at least 1"),
            },
            "finishOnKey" => {
                if v.is_empty() || (v.len() == 1 && v.bytes().all(is_key)) {
                    g.finish_on_key = Some(v.to_owned());
                    Outcome::Set
                } else {
                    Outcome::Invalid("one key (0-9, * or #), or empty to disable")
                }
            }
            "language" => set_string(&mut g.language, v),
            "hints" => set_string(&mut g.hints, v),
            "actionOnEmptyResult" => set_bool(&mut g.action_on_empty_result, v),
            "partialResultCallback" => set_string(&mut g.partial_result_callback, v),
            "partialResultCallbackMethod" => set_method(&mut g.partial_result_callback_method, v),
            "speechModel" => set_string(&mut g.speech_model, v),
            "enhanced" => set_bool(&mut g.enhanced, v),
            "profanityFilter" => set_bool(&mut g.profanity_filter, v),
            "bargeIn" => set_bool(&mut g.barge_in, v),
            "debug" => Outcome::Unsupported,
            _ => Outcome::Unknown,
        })?;
        let mut prompts = Vec::new();
        self.children(el, |p, content| {
            match content {
                Content::Element(child) => match child.name() {
                    "Say" => prompts.push(GatherPrompt::Say(p.say(&child)?)),
                    "Play" => prompts.push(GatherPrompt::Play(p.play(&child)?)),
                    "Pause" => prompts.push(GatherPrompt::Pause(p.pause(&child)?)),
                    "Gather" => {
                        return Err(p.error(
                            child.pos,
                            Code::NotAllowedHere,
                            "<Gather> cannot be nested inside another <Gather>",
                        ));
                    }
                    _ => {
                        return Err(p.misplaced(
                            &child,
                            "Gather",
                            "; only <Say>, <Play> and <Pause> may be nested in <Gather>",
                        ));
                    }
                },
                Content::Text(t, pos) => p.ignore_text("Gather", &t, pos, "; wrap speech in <Say>"),
                Content::Char(ch, pos) => p.ignore_text(
                    "Gather",
                    ch.encode_utf8(&mut [0; 4]),
                    pos,
                    "; wrap speech in <Say>",
                ),
            }
            Ok(())
        })?;
        g.prompts = prompts;
        Ok(g)
    }

    fn redirect(&mut self, el: &El<'a>) -> Result<Redirect, ParseError> {
        let mut redirect = Redirect::default();
        self.attrs(el, &["method"], |key, v| match key {
            "method" => set_method(&mut redirect.method, v),
            _ => Outcome::Unknown,
        })?;
        redirect.url = self.text_only(el, "; it takes a URL as text")?;
        if redirect.url.is_empty() {
            return Err(self.error(
                el.pos,
                Code::MissingContent,
                "<Redirect> needs a URL as its text",
            ));
        }
        Ok(redirect)
    }

    fn reject(&mut self, el: &El<'a>) -> Result<Reject, ParseError> {
        let mut reject = Reject::default();
        self.attrs(el, &["reason"], |key, v| match key {
            "reason" => set_one_of(
                &mut reject.reason,
                v,
                &["rejected", "busy"],
                "`rejected` or `busy`",
            ),
            _ => Outcome::Unknown,
        })?;
        self.no_content(el)?;
        Ok(reject)
    }

    fn dial(&mut self, el: &El<'a>) -> Result<Dial, ParseError> {
        const KNOWN: &[&str] = &[
            "action",
            "method",
            "timeout",
            "callerId",
            "record",
            "timeLimit",
            "hangupOnStar",
        ];
        let mut dial = Dial::default();
        self.attrs(el, KNOWN, |key, v| match key {
            "action" => set_string(&mut dial.action, v),
            "method" => set_method(&mut dial.method, v),
            "timeout" => set_u32(&mut dial.timeout, v),
            "callerId" => set_string(&mut dial.caller_id, v),
            "record" => set_one_of(
                &mut dial.record,
                v,
                &[
                    "do-not-record",
                    "record-from-answer",
                    "record-from-ringing",
                    "record-from-answer-dual",
                    "record-from-ringing-dual",
                ],
                "`do-not-record`, `record-from-answer`, `record-from-ringing`, `record-from-answer-dual` or `record-from-ringing-dual`",
            ),
            "timeLimit" => set_u32(&mut dial.time_limit, v),
            "hangupOnStar" => set_bool(&mut dial.hangup_on_star, v),
            "answerOnBridge" | "ringTone" | "recordingStatusCallback"
            | "recordingStatusCallbackMethod" | "recordingStatusCallbackEvent" | "recordingTrack"
            | "trim" | "sequential" | "referUrl" | "referMethod" | "events" | "callReason" => {
                Outcome::Unsupported
            }
            _ => Outcome::Unknown,
        })?;
        let mut number = String::new();
        let mut targets = Vec::new();
        self.children(el, |p, content| {
            match content {
                Content::Text(t, _) => number.push_str(&t),
                Content::Char(ch, _) => number.push(ch),
                Content::Element(child) => match child.name() {
                    "Number" | "Sip" | "Client" | "Queue" | "Conference" => {
                        targets.push(p.dial_target(&child)?);
                    }
                    _ => {
                        return Err(p.misplaced(
                            &child,
                            "Dial",
                            "; <Dial> takes a number as text or <Number>, <Sip>, <Client>, <Queue> or <Conference>",
                        ));
                    }
                },
            }
            Ok(())
        })?;
        let number = trim_owned(number);
        dial.number = (!number.is_empty()).then_some(number);
        dial.targets = targets;
        if dial.number.is_none() && dial.targets.is_empty() {
            return Err(self.error(
                el.pos,
                Code::MissingContent,
                "<Dial> needs a number as its text or a nested <Number>, <Sip>, <Client>, <Queue> or <Conference>",
            ));
        }
        Ok(dial)
    }

    fn dial_target(&mut self, el: &El<'a>) -> Result<DialTarget, ParseError> {
        let name = el.name();
        let target = match name {
            "Number" => {
                let (mut send_digits, mut url) = (None, None);
                self.attrs(el, &["sendDigits", "url"], |key, v| match key {
                    "sendDigits" => set_dtmf(&mut send_digits, v),
                    "url" => set_string(&mut url, v),
                    "method"
                    | "statusCallback"
                    | "statusCallbackEvent"
                    | "statusCallbackMethod"
                    | "byoc"
                    | "machineDetection"
                    | "machineDetectionTimeout"
                    | "amdStatusCallback"
                    | "amdStatusCallbackMethod"
                    | "callerId" => Outcome::Unsupported,
                    _ => Outcome::Unknown,
                })?;
                DialTarget::Number {
                    number: self.text_only(el, "; it takes a phone number as text")?,
                    send_digits,
                    url,
                }
            }
            "Sip" => {
                let (mut username, mut password) = (None, None);
                self.attrs(el, &["username", "password"], |key, v| match key {
                    "username" => set_string(&mut username, v),
                    "password" => set_string(&mut password, v),
                    "url"
                    | "method"
                    | "statusCallback"
                    | "statusCallbackEvent"
                    | "statusCallbackMethod"
                    | "machineDetection" => Outcome::Unsupported,
                    _ => Outcome::Unknown,
                })?;
                DialTarget::Sip {
                    uri: self.text_only(el, "; it takes a SIP URI as text")?,
                    username,
                    password,
                }
            }
            "Client" => {
                self.attrs(el, &[], |key, _| match key {
                    "url"
                    | "method"
                    | "statusCallback"
                    | "statusCallbackEvent"
                    | "statusCallbackMethod" => Outcome::Unsupported,
                    _ => Outcome::Unknown,
                })?;
                DialTarget::Client {
                    identity: self.client_identity(el)?,
                }
            }
            "Queue" => {
                let mut url = None;
                self.attrs(el, &["url"], |key, v| match key {
                    "url" => set_string(&mut url, v),
                    "method" | "reservationSid" | "postWorkActivitySid" => Outcome::Unsupported,
                    _ => Outcome::Unknown,
                })?;
                DialTarget::Queue {
                    name: self.text_only(el, "; it takes a queue name as text")?,
                    url,
                }
            }
            _ => {
                let (mut start, mut end) = (None, None);
                self.attrs(
                    el,
                    &["startConferenceOnEnter", "endConferenceOnExit"],
                    |key, v| match key {
                        "startConferenceOnEnter" => set_bool(&mut start, v),
                        "endConferenceOnExit" => set_bool(&mut end, v),
                        "muted"
                        | "beep"
                        | "waitUrl"
                        | "waitMethod"
                        | "maxParticipants"
                        | "record"
                        | "region"
                        | "coach"
                        | "trim"
                        | "statusCallback"
                        | "statusCallbackEvent"
                        | "statusCallbackMethod"
                        | "recordingStatusCallback"
                        | "recordingStatusCallbackMethod"
                        | "recordingStatusCallbackEvent"
                        | "eventCallbackUrl"
                        | "jitterBufferSize"
                        | "participantLabel"
                        | "callSidToCoach" => Outcome::Unsupported,
                        _ => Outcome::Unknown,
                    },
                )?;
                DialTarget::Conference {
                    name: self.text_only(el, "; it takes a conference name as text")?,
                    start_conference_on_enter: start,
                    end_conference_on_exit: end,
                }
            }
        };
        let empty = match &target {
            DialTarget::Number { number: s, .. }
            | DialTarget::Sip { uri: s, .. }
            | DialTarget::Client { identity: s }
            | DialTarget::Queue { name: s, .. }
            | DialTarget::Conference { name: s, .. } => s.is_empty(),
        };
        if empty {
            let what = match name {
                "Number" => "a phone number",
                "Sip" => "a SIP URI",
                "Client" => "a client identity",
                "Queue" => "a queue name",
                _ => "a conference name",
            };
            return Err(self.error(
                el.pos,
                Code::MissingContent,
                format!("<{name}> needs {what} as its text"),
            ));
        }
        Ok(target)
    }

    /// `<Client>alice</Client>` or `<Client><Identity>alice</Identity></Client>`.
    fn client_identity(&mut self, el: &El<'a>) -> Result<String, ParseError> {
        let mut text = String::new();
        let mut identity = None;
        self.children(el, |p, content| {
            match content {
                Content::Text(t, _) => text.push_str(&t),
                Content::Char(ch, _) => text.push(ch),
                Content::Element(child) if child.name() == "Identity" => {
                    p.no_attrs(&child)?;
                    identity = Some(p.text_only(&child, "; it takes a client identity as text")?);
                }
                Content::Element(child) if child.name() == "Parameter" => {
                    return Err(p.error(
                        child.pos,
                        Code::Unsupported,
                        "<Parameter> inside <Client> is not supported by Hotline",
                    ));
                }
                Content::Element(child) => {
                    return Err(p.misplaced(&child, "Client", "; it takes an identity as text"));
                }
            }
            Ok(())
        })?;
        Ok(identity.unwrap_or_else(|| trim_owned(text)))
    }

    fn enqueue(&mut self, el: &El<'a>) -> Result<Enqueue, ParseError> {
        const KNOWN: &[&str] = &[
            "action",
            "method",
            "waitUrl",
            "waitUrlMethod",
            "workflowSid",
        ];
        let mut e = Enqueue::default();
        self.attrs(el, KNOWN, |key, v| match key {
            "action" => set_string(&mut e.action, v),
            "method" => set_method(&mut e.method, v),
            "waitUrl" => set_string(&mut e.wait_url, v),
            "waitUrlMethod" => set_method(&mut e.wait_url_method, v),
            "workflowSid" => set_string(&mut e.workflow_sid, v),
            "maxQueueSize" => Outcome::Unsupported,
            _ => Outcome::Unknown,
        })?;
        e.name = self.text_only(el, "; it takes a queue name as text")?;
        if e.name.is_empty() && e.workflow_sid.is_none() {
            return Err(self.error(
                el.pos,
                Code::MissingContent,
                "<Enqueue> needs a queue name as its text (or a `workflowSid`)",
            ));
        }
        Ok(e)
    }

    fn record(&mut self, el: &El<'a>) -> Result<Record, ParseError> {
        const KNOWN: &[&str] = &[
            "action",
            "method",
            "timeout",
            "maxLength",
            "finishOnKey",
            "playBeep",
            "trim",
            "transcribe",
            "transcribeCallback",
            "recordingStatusCallback",
            "recordingStatusCallbackMethod",
        ];
        let mut r = Record::default();
        self.attrs(el, KNOWN, |key, v| match key {
            "action" => set_string(&mut r.action, v),
            "method" => set_method(&mut r.method, v),
            "timeout" => set_u32(&mut r.timeout, v),
            "maxLength" => set_u32(&mut r.max_length, v),
            "finishOnKey" => {
                if v.bytes().all(is_key) {
                    r.finish_on_key = Some(v.to_owned());
                    Outcome::Set
                } else {
                    Outcome::Invalid("keys among 0-9, * and #")
                }
            }
            "playBeep" => set_bool(&mut r.play_beep, v),
            "trim" => set_one_of(
                &mut r.trim,
                v,
                &["trim-silence", "do-not-trim"],
                "`trim-silence` or `do-not-trim`",
            ),
            "transcribe" => set_bool(&mut r.transcribe, v),
            "transcribeCallback" => set_string(&mut r.transcribe_callback, v),
            "recordingStatusCallback" => set_string(&mut r.recording_status_callback, v),
            "recordingStatusCallbackMethod" => {
                set_method(&mut r.recording_status_callback_method, v)
            }
            "recordingStatusCallbackEvent"
            | "recordingChannels"
            | "storageUrl"
            | "storageUrlMethod" => Outcome::Unsupported,
            _ => Outcome::Unknown,
        })?;
        self.no_content(el)?;
        Ok(r)
    }

    fn start(&mut self, el: &El<'a>) -> Result<Start, ParseError> {
        let mut start = Start::default();
        self.attrs(el, &["action", "method"], |key, v| match key {
            "action" => set_string(&mut start.action, v),
            "method" => set_method(&mut start.method, v),
            _ => Outcome::Unknown,
        })?;
        start.streams = self.streams(el, StreamIn::Start)?;
        if start.streams.is_empty() {
            return Err(self.error(
                el.pos,
                Code::MissingContent,
                "<Start> needs a nested <Stream>",
            ));
        }
        Ok(start)
    }

    fn stop(&mut self, el: &El<'a>) -> Result<Stop, ParseError> {
        self.no_attrs(el)?;
        let streams = self.streams(el, StreamIn::Stop)?;
        if streams.is_empty() {
            return Err(self.error(
                el.pos,
                Code::MissingContent,
                "<Stop> needs a nested <Stream name=\"…\"/>",
            ));
        }
        Ok(Stop { streams })
    }

    /// The `<Stream>` children of `<Start>` or `<Stop>`.
    fn streams(&mut self, el: &El<'a>, within: StreamIn) -> Result<Vec<Stream>, ParseError> {
        let parent = el.name();
        let mut streams = Vec::new();
        self.children(el, |p, content| {
            match content {
                Content::Element(child) if child.name() == "Stream" => {
                    streams.push(p.stream(&child, within)?);
                }
                Content::Element(child) => {
                    return Err(p.misplaced(
                        &child,
                        parent,
                        "; Hotline supports only <Stream> here",
                    ));
                }
                Content::Text(t, pos) => p.ignore_text(parent, &t, pos, ""),
                Content::Char(ch, pos) => {
                    p.ignore_text(parent, ch.encode_utf8(&mut [0; 4]), pos, "")
                }
            }
            Ok(())
        })?;
        Ok(streams)
    }

    fn connect(&mut self, el: &El<'a>) -> Result<Connect, ParseError> {
        let mut connect = Connect::default();
        self.attrs(el, &["action", "method"], |key, v| match key {
            "action" => set_string(&mut connect.action, v),
            "method" => set_method(&mut connect.method, v),
            _ => Outcome::Unknown,
        })?;
        let mut stream = None;
        self.children(el, |p, content| {
            match content {
                Content::Element(child) if child.name() == "Stream" => {
                    if stream.is_some() {
                        return Err(p.error(
                            child.pos,
                            Code::NotAllowedHere,
                            "<Connect> takes exactly one <Stream>; found a second one",
                        ));
                    }
                    stream = Some(p.stream(&child, StreamIn::Connect)?);
                }
                Content::Element(child) => {
                    return Err(p.misplaced(
                        &child,
                        "Connect",
                        "; Hotline supports only <Connect><Stream>",
                    ));
                }
                Content::Text(t, pos) => p.ignore_text("Connect", &t, pos, ""),
                Content::Char(ch, pos) => {
                    p.ignore_text("Connect", ch.encode_utf8(&mut [0; 4]), pos, "")
                }
            }
            Ok(())
        })?;
        match stream {
            Some(stream) => {
                connect.stream = stream;
                Ok(connect)
            }
            None => Err(self.error(
                el.pos,
                Code::MissingContent,
                "<Connect> needs exactly one nested <Stream>",
            )),
        }
    }

    fn stream(&mut self, el: &El<'a>, within: StreamIn) -> Result<Stream, ParseError> {
        const KNOWN: &[&str] = &[
            "url",
            "name",
            "track",
            "statusCallback",
            "statusCallbackMethod",
        ];
        let mut s = Stream::default();
        let mut url = None;
        self.attrs(el, KNOWN, |key, v| match key {
            "url" => set_string(&mut url, v),
            "name" => set_string(&mut s.name, v),
            "track" => set_one_of(
                &mut s.track,
                v,
                &["inbound_track", "outbound_track", "both_tracks"],
                "`inbound_track`, `outbound_track` or `both_tracks`",
            ),
            "statusCallback" => set_string(&mut s.status_callback, v),
            "statusCallbackMethod" => set_method(&mut s.status_callback_method, v),
            "connectorName" => Outcome::Unsupported,
            _ => Outcome::Unknown,
        })?;
        s.url = url.unwrap_or_default();
        let mut parameters = Vec::new();
        self.children(el, |p, content| {
            match content {
                Content::Element(child) if child.name() == "Parameter" => {
                    parameters.push(p.parameter(&child)?);
                }
                Content::Element(child) => {
                    return Err(p.misplaced(&child, "Stream", "; it takes only <Parameter>"));
                }
                Content::Text(t, pos) => p.ignore_text("Stream", &t, pos, ""),
                Content::Char(ch, pos) => {
                    p.ignore_text("Stream", ch.encode_utf8(&mut [0; 4]), pos, "")
                }
            }
            Ok(())
        })?;
        s.parameters = parameters;
        if s.url.is_empty() {
            if within != StreamIn::Stop {
                return Err(self.error(
                    el.pos,
                    Code::MissingContent,
                    "<Stream> needs a `url` attribute (a wss:// URL)",
                ));
            }
            if s.name.is_none() {
                return Err(self.error(
                    el.pos,
                    Code::MissingContent,
                    "<Stream> inside <Stop> needs a `name` (or the `url`) of the stream to stop",
                ));
            }
        }
        Ok(s)
    }

    fn parameter(&mut self, el: &El<'a>) -> Result<Parameter, ParseError> {
        let (mut name, mut value) = (None, None);
        self.attrs(el, &["name", "value"], |key, v| match key {
            "name" => set_string(&mut name, v),
            "value" => set_string(&mut value, v),
            _ => Outcome::Unknown,
        })?;
        self.no_content(el)?;
        match name {
            Some(name) if !name.is_empty() => Ok(Parameter {
                name,
                value: value.unwrap_or_default(),
            }),
            _ => Err(self.error(
                el.pos,
                Code::MissingContent,
                "<Parameter> needs a non-empty `name` attribute",
            )),
        }
    }
}

// ------------------------------------------------------------------------------------------
// Attribute value helpers
// ------------------------------------------------------------------------------------------

fn set_string(slot: &mut Option<String>, v: &str) -> Outcome {
    *slot = Some(v.to_owned());
    Outcome::Set
}

fn set_u32(slot: &mut Option<u32>, v: &str) -> Outcome {
    match parse_u32(v) {
        Some(n) => {
            *slot = Some(n);
            Outcome::Set
        }
        None => Outcome::Invalid("a whole number"),
    }
}

fn set_bool(slot: &mut Option<bool>, v: &str) -> Outcome {
    let v = trim_xml(v);
    if v.eq_ignore_ascii_case("true") {
        *slot = Some(true);
        Outcome::Set
    } else if v.eq_ignore_ascii_case("false") {
        *slot = Some(false);
        Outcome::Set
    } else {
        Outcome::Invalid("`true` or `false`")
    }
}

fn set_method(slot: &mut Option<Method>, v: &str) -> Outcome {
    match Method::parse(trim_xml(v)) {
        Some(m) => {
            *slot = Some(m);
            Outcome::Set
        }
        None => Outcome::Invalid("`GET` or `POST`"),
    }
}

fn set_one_of(
    slot: &mut Option<String>,
    v: &str,
    allowed: &[&str],
    expected: &'static str,
) -> Outcome {
    let v = trim_xml(v);
    match allowed.iter().find(|a| a.eq_ignore_ascii_case(v)) {
        Some(a) => {
            *slot = Some((*a).to_owned());
            Outcome::Set
        }
        None => Outcome::Invalid(expected),
    }
}

/// DTMF for `<Play digits>` and `<Number sendDigits>`: `0-9`, `*`, `#`, and `w`/`W` for a
/// half-second wait.
fn set_dtmf(slot: &mut Option<String>, v: &str) -> Outcome {
    if !v.is_empty() && v.bytes().all(|b| is_key(b) || b == b'w' || b == b'W') {
        *slot = Some(v.to_owned());
        Outcome::Set
    } else {
        Outcome::Invalid("DTMF digits (0-9, *, # and w for a pause)")
    }
}

fn is_key(b: u8) -> bool {
    b.is_ascii_digit() || b == b'*' || b == b'#'
}

/// A plain decimal number, surrounding whitespace allowed.
fn parse_u32(v: &str) -> Option<u32> {
    let v = trim_xml(v);
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

// ------------------------------------------------------------------------------------------
// Text helpers
// ------------------------------------------------------------------------------------------

const XML_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

fn trim_xml(s: &str) -> &str {
    s.trim_matches(XML_WHITESPACE)
}

fn trim_start_xml(s: &str) -> &str {
    s.trim_start_matches(XML_WHITESPACE)
}

/// Trims XML whitespace in place, without reallocating.
fn trim_owned(mut s: String) -> String {
    let end = s.trim_end_matches(XML_WHITESPACE).len();
    s.truncate(end);
    let start = s.len() - trim_start_xml(&s).len();
    s.drain(..start);
    s
}

/// Adds a word break to flattened SSML unless there already is one.
fn separate(out: &mut String) {
    if !out.is_empty() && !out.ends_with(XML_WHITESPACE) {
        out.push(' ');
    }
}

/// Whether XML 1.0 allows `c` in a document (production `Char`).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// The first character XML 1.0 forbids, with its byte offset: a C0 control other than tab,
/// line feed and carriage return, or U+FFFE / U+FFFF.
fn first_forbidden_char(s: &str) -> Option<(usize, char)> {
    let bytes = s.as_bytes();
    bytes.iter().enumerate().find_map(|(i, &b)| {
        let forbidden = (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
            || (b == 0xEF
                && bytes.get(i + 1) == Some(&0xBF)
                && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)));
        if forbidden {
            s.get(i..)
                .and_then(|rest| rest.chars().next())
                .map(|c| (i, c))
        } else {
            None
        }
    })
}

/// Byte offset of `part` inside `whole`, when `part` borrows from it.
fn offset_in(whole: &str, part: &str) -> Option<usize> {
    let offset = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (offset <= whole.len()).then_some(offset)
}

/// At most 40 characters of `s`, for messages.
fn clip(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((end, _)) => s.get(..end).unwrap_or(s),
        None => s,
    }
}

/// The verbs a noun belongs to, for messages.
fn noun_parents(noun: &str) -> &'static str {
    match noun {
        "Stream" => "<Start>, <Stop> or <Connect>",
        "Parameter" => "<Stream>",
        "Identity" => "<Client>",
        _ => "<Dial>",
    }
}

// ------------------------------------------------------------------------------------------
// Line and column
// ------------------------------------------------------------------------------------------

/// Turns byte offsets into 1-based (line, column-in-characters). Diagnostics mostly come in
/// document order, so it scans forward from the previous answer and restarts only when asked
/// about an earlier offset. LF, CR LF and a lone CR each end a line.
struct LineIndex {
    /// Where counting starts (after a byte-order mark).
    base: usize,
    offset: usize,
    line: u32,
    column: u32,
}

impl LineIndex {
    fn new(base: usize) -> Self {
        LineIndex {
            base,
            offset: base,
            line: 1,
            column: 1,
        }
    }

    fn locate(&mut self, src: &str, target: usize) -> (u32, u32) {
        let target = target.min(src.len());
        if target < self.offset {
            *self = LineIndex::new(self.base);
            if target < self.base {
                return (1, 1);
            }
        }
        let bytes = src.as_bytes();
        let segment = bytes.get(self.offset..target).unwrap_or(&[]);
        for (i, &b) in segment.iter().enumerate() {
            match b {
                b'\n' => {
                    self.line = self.line.saturating_add(1);
                    self.column = 1;
                }
                // A lone CR ends a line; in CR LF, the LF does.
                b'\r' if bytes.get(self.offset + i + 1) != Some(&b'\n') => {
                    self.line = self.line.saturating_add(1);
                    self.column = 1;
                }
                b'\r' => {}
                // Count characters: skip UTF-8 continuation bytes.
                _ if b & 0xC0 != 0x80 => self.column = self.column.saturating_add(1),
                _ => {}
            }
        }
        self.offset = target;
        (self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_characters_and_line_ends() {
        let src = "ab\ncé\r\nx\ry😀z";
        let mut idx = LineIndex::new(0);
        assert_eq!(idx.locate(src, 0), (1, 1));
        assert_eq!(idx.locate(src, 2), (1, 3));
        assert_eq!(idx.locate(src, 3), (2, 1));
        // "é" is two bytes, one column.
        assert_eq!(idx.locate(src, 6), (2, 3));
        assert_eq!(idx.locate(src, 8), (3, 1));
        assert_eq!(idx.locate(src, 10), (4, 1));
        assert_eq!(idx.locate(src, 15), (4, 3));
        // Going backwards restarts.
        assert_eq!(idx.locate(src, 1), (1, 2));
        assert_eq!(idx.locate(src, usize::MAX), (4, 4));
    }

    #[test]
    fn forbidden_characters_are_found() {
        assert_eq!(first_forbidden_char("ok\t\n\r"), None);
        assert_eq!(first_forbidden_char("a\u{1}"), Some((1, '\u{1}')));
        assert_eq!(first_forbidden_char("é\u{ffff}"), Some((2, '\u{ffff}')));
        assert_eq!(
            first_forbidden_char("\u{fffd}\u{fffe}"),
            Some((3, '\u{fffe}'))
        );
    }

    #[test]
    fn trimming_keeps_inner_whitespace() {
        assert_eq!(trim_owned(" \n a  b\t\r\n".to_owned()), "a  b");
        assert_eq!(trim_owned("\u{a0}a\u{a0}".to_owned()), "\u{a0}a\u{a0}");
        assert_eq!(trim_owned("  ".to_owned()), "");
    }

    #[test]
    fn numbers_are_plain_digits() {
        assert_eq!(parse_u32(" 5 "), Some(5));
        assert_eq!(parse_u32("+5"), None);
        assert_eq!(parse_u32("-1"), None);
        assert_eq!(parse_u32("99999999999"), None);
        assert_eq!(parse_u32(""), None);
    }

    #[test]
    fn clip_is_char_safe() {
        let long = "é".repeat(100);
        assert_eq!(clip(&long).chars().count(), 40);
        assert_eq!(clip("short"), "short");
    }
}
