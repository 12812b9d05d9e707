//! Voice webhook request parameters, as Twilio sends them.
//!
//! [`CallInfo`] describes a call; [`CallInfo::params`] produces the form parameters Twilio posts
//! to the voice URL, `<Gather action>`, `<Redirect>` and the rest, in a stable order. Extra
//! per-request parameters (`Digits`, `SpeechResult`, …) are appended by the caller of this
//! module. Pure: no I/O.

use std::fmt;

/// The API version Twilio reports in every request.
pub const API_VERSION: &str = "2010-04-01";

/// `CallStatus` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallStatus {
    /// The call is waiting to be placed.
    Queued,
    /// Outbound: Twilio has started dialling (status-callback event `initiated`).
    Initiated,
    /// The phone is ringing.
    Ringing,
    /// The call was answered and is live.
    InProgress,
    /// The call ended normally.
    Completed,
    /// The callee was busy (or the call was rejected with `reason="busy"`).
    Busy,
    /// The call could not be placed.
    Failed,
    /// Nobody answered (or the call was rejected).
    NoAnswer,
    /// The call was canceled before it was answered.
    Canceled,
}

impl CallStatus {
    /// The wire spelling (`in-progress`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Queued => "queued",
            CallStatus::Initiated => "initiated",
            CallStatus::Ringing => "ringing",
            CallStatus::InProgress => "in-progress",
            CallStatus::Completed => "completed",
            CallStatus::Busy => "busy",
            CallStatus::Failed => "failed",
            CallStatus::NoAnswer => "no-answer",
            CallStatus::Canceled => "canceled",
        }
    }
}

impl fmt::Display for CallStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Call direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// A caller dialled the Twilio number.
    #[default]
    Inbound,
    /// The call was created through the REST API.
    OutboundApi,
    /// A child leg created by `<Dial>`.
    OutboundDial,
}

impl Direction {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::OutboundApi => "outbound-api",
            Direction::OutboundDial => "outbound-dial",
        }
    }
}

/// What Twilio knows about a call, the source of every webhook's standard parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    /// `CallSid`, `CA` + 32 hex digits.
    pub call_sid: String,
    /// `AccountSid`, `AC` + 32 hex digits.
    pub account_sid: String,
    /// `From`: the caller, E.164 or `client:name`.
    pub from: String,
    /// `To`: the called number.
    pub to: String,
    /// `Direction`.
    pub direction: Direction,
    /// `CallerName` (caller ID name), when known.
    pub caller_name: Option<String>,
    /// `ForwardedFrom`, when the call was forwarded.
    pub forwarded_from: Option<String>,
    /// `FromCountry` / `CallerCountry`, when known (e.g. `FR`).
    pub from_country: Option<String>,
    /// `ToCountry` / `CalledCountry`, when known.
    pub to_country: Option<String>,
}

impl CallInfo {
    /// The standard parameters of a voice request with the given `CallStatus`, in the order
    /// Twilio's documentation lists them. Legacy duplicates (`Caller`, `Called`) are included.
    pub fn params(&self, status: CallStatus) -> Vec<(String, String)> {
        let mut p: Vec<(String, String)> = Vec::with_capacity(16);
        let mut push = |k: &str, v: &str| p.push((k.to_owned(), v.to_owned()));
        push("AccountSid", &self.account_sid);
        push("ApiVersion", API_VERSION);
        push("CallSid", &self.call_sid);
        push("CallStatus", status.as_str());
        push("Called", &self.to);
        push("Caller", &self.from);
        push("Direction", self.direction.as_str());
        push("From", &self.from);
        push("To", &self.to);
        if let Some(name) = &self.caller_name {
            push("CallerName", name);
        }
        if let Some(fwd) = &self.forwarded_from {
            push("ForwardedFrom", fwd);
        }
        if let Some(c) = &self.from_country {
            push("FromCountry", c);
            push("CallerCountry", c);
        }
        if let Some(c) = &self.to_country {
            push("ToCountry", c);
            push("CalledCountry", c);
        }
        p
    }
}

/// Builds a Twilio-style SID: a two-letter prefix and 32 lowercase hex digits from `bits`.
pub fn sid(prefix: &str, bits: u128) -> String {
    format!("{prefix}{bits:032x}")
}

/// Whether `s` looks like a SID with the given prefix (`CA`, `AC`, `MZ`, …).
pub fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s.bytes().skip(2).all(|b| b.is_ascii_hexdigit())
}

/// A decoded `application/x-www-form-urlencoded` body: the same pairs as [`parse_form`], kept
/// in one string (every name and value decoded back to back) with their spans, so a webhook of
/// twenty-odd fields costs two allocations instead of two per field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    text: String,
    /// `(name_start, name_end, value_end)` in `text`; the value starts where the name ends.
    spans: Vec<(usize, usize, usize)>,
}

impl Form {
    /// Decodes `body` (or a query string) exactly as [`parse_form`] does.
    pub fn parse(body: &[u8]) -> Form {
        let mut bytes = Vec::with_capacity(body.len());
        let mut spans = Vec::with_capacity(memchr::memchr_iter(b'&', body).count() + 1);
        for piece in pieces(body) {
            if piece.is_empty() {
                continue;
            }
            let (name, value) = split_piece(piece);
            let start = bytes.len();
            decode_into(name, &mut bytes);
            let name_end = bytes.len();
            decode_into(value, &mut bytes);
            spans.push((start, name_end, bytes.len()));
        }
        match String::from_utf8(bytes) {
            // Valid as a whole and no character straddles two components: each component is
            // valid UTF-8 on its own, as the per-component decoding requires.
            Ok(text)
                if spans.iter().all(|&(a, b, c)| {
                    text.is_char_boundary(a) && text.is_char_boundary(b) && text.is_char_boundary(c)
                }) =>
            {
                Form { text, spans }
            }
            // Some component is not valid UTF-8: replace per component, as `parse_form` does.
            _ => parse_form(body)
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
        }
    }

    /// The pairs, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.spans.iter().map(|&(a, b, c)| {
            (
                self.text.get(a..b).unwrap_or_default(),
                self.text.get(b..c).unwrap_or_default(),
            )
        })
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        // Names compared as bytes (length first): no `str` is built for the pairs skipped.
        let text = self.text.as_bytes();
        let &(_, b, c) = self
            .spans
            .iter()
            .find(|&&(a, b, _)| text.get(a..b) == Some(name.as_bytes()))?;
        self.text.get(b..c)
    }

    /// How many pairs there are.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there is no pair.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for Form {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(iter: I) -> Self {
        let mut form = Form::default();
        for (name, value) in iter {
            let start = form.text.len();
            form.text.push_str(name);
            let name_end = form.text.len();
            form.text.push_str(value);
            form.spans.push((start, name_end, form.text.len()));
        }
        form
    }
}

/// The `&`-separated pieces of a body (empty ones included, as `split` gives them).
fn pieces(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'&', body)
        .chain(std::iter::once(body.len()))
        .map(move |end| {
            let piece = body.get(start..end).unwrap_or_default();
            start = end + 1;
            piece
        })
}

/// Below this length a form piece or component is searched byte by byte: most of Twilio's
/// (SIDs, numbers, statuses, digits) are, and a vector search costs more to set up than it
/// saves on a few dozen bytes. Longer ones (a `SpeechResult`, say) use `memchr`.
const SHORT: usize = 48;

/// The first `=` of a piece.
fn find_eq(piece: &[u8]) -> Option<usize> {
    if piece.len() < SHORT {
        piece.iter().position(|&b| b == b'=')
    } else {
        memchr::memchr(b'=', piece)
    }
}

/// The first `+` or `%` of a component.
fn find_escape(raw: &[u8]) -> Option<usize> {
    if raw.len() < SHORT {
        raw.iter().position(|&b| b == b'+' || b == b'%')
    } else {
        memchr::memchr2(b'+', b'%', raw)
    }
}

fn split_piece(piece: &[u8]) -> (&[u8], &[u8]) {
    match find_eq(piece) {
        Some(i) => (
            piece.get(..i).unwrap_or_default(),
            piece.get(i + 1..).unwrap_or_default(),
        ),
        None => (piece, &[][..]),
    }
}

/// Decodes an `application/x-www-form-urlencoded` body (or a query string) into its
/// `(name, value)` pairs, in order: exactly what `url::form_urlencoded::parse(body).into_owned()`
/// yields (`+` is a space, `%XX` a byte, a malformed `%` kept as is, invalid UTF-8 replaced by
/// U+FFFD, empty pieces skipped), without its per-byte iterator and lossy UTF-8 pass: the
/// common piece with no escape at all is validated and copied in one go.
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(memchr::memchr_iter(b'&', body).count() + 1);
    for piece in pieces(body) {
        if piece.is_empty() {
            continue;
        }
        let (name, value) = split_piece(piece);
        out.push((decode_component(name), decode_component(value)));
    }
    out
}

/// One form component: `+` → space, `%XX` → byte, then UTF-8 (lossy).
fn decode_component(raw: &[u8]) -> String {
    if find_escape(raw).is_none() {
        return match std::str::from_utf8(raw) {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(raw).into_owned(),
        };
    }
    let mut bytes = Vec::with_capacity(raw.len());
    decode_into(raw, &mut bytes);
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Appends one form component's bytes to `out`: `+` → space, `%XX` → byte, a malformed `%`
/// kept. The runs between escapes are copied whole (one search and one copy each), so a value
/// such as `%2B33612345678` costs two copies, not a push per byte.
fn decode_into(raw: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(rest) = raw.get(i..).filter(|r| !r.is_empty()) {
        let run = find_escape(rest).unwrap_or(rest.len());
        out.extend_from_slice(rest.get(..run).unwrap_or_default());
        i += run;
        match raw.get(i) {
            Some(b'+') => {
                out.push(b' ');
                i += 1;
            }
            Some(b'%') => {
                let hi = raw.get(i + 1).and_then(|&c| hex_value(c));
                let lo = raw.get(i + 2).and_then(|&c| hex_value(c));
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push(hi << 4 | lo);
                    i += 3;
                } else {
                    out.push(b'%');
                    i += 1;
                }
            }
            _ => {}
        }
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_carry_the_standard_fields() {
        let call = CallInfo {
            call_sid: sid("CA", 1),
            account_sid: sid("AC", 2),
            from: "+33612345678".into(),
            to: "+33970000000".into(),
            direction: Direction::Inbound,
            caller_name: None,
            forwarded_from: None,
            from_country: Some("FR".into()),
            to_country: None,
        };
        let p = call.params(CallStatus::Ringing);
        let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("CallStatus"), Some("ringing"));
        assert_eq!(get("Caller"), get("From"));
        assert_eq!(get("Called"), get("To"));
        assert_eq!(get("ApiVersion"), Some("2010-04-01"));
        assert_eq!(get("CallerCountry"), Some("FR"));
        assert!(is_sid(&call.call_sid, "CA"));
        assert!(!is_sid("CA123", "CA"));
    }
}
