//! TwiML renderer: [`Response`] → XML text, with correct escaping.
//!
//! This is on the per-webhook hot path, so it is hand-written: one pass over the model, appending
//! to a single `String`, with no intermediate allocation per node. It must not fail, must not
//! panic and must stay pure (no I/O, no clocks, no logging).
//!
//! Output rules:
//! - `<?xml version="1.0" encoding="UTF-8"?>` then `<Response>…</Response>` on one line, with no
//!   indentation. Elements with no content are self-closing (`<Hangup/>`, `<Gather …/>`).
//! - Attributes use Twilio's camelCase spelling and appear only when `Some`. Booleans render as
//!   `true`/`false`, methods as `GET`/`POST`, `speechTimeout` as a number or `auto`.
//! - Escaping, in text and attribute values alike: `&` `<` `>` `"` `'` become `&amp;` `&lt;`
//!   `&gt;` `&quot;` `&apos;`. A carriage return becomes `&#13;` everywhere (a literal one would be
//!   turned into a line feed by the reader's end-of-line normalisation). In attribute values,
//!   tab and line feed also become `&#9;` and `&#10;` (attribute-value normalisation would turn
//!   literal ones into spaces).
//! - Characters that XML 1.0 forbids outright (C0 controls other than tab, line feed and carriage
//!   return; U+FFFE; U+FFFF) are **dropped**: they cannot be written in an XML 1.0 document at all,
//!   not even as character references, and no text-to-speech engine or URL needs them.
//!
//! Because the parser trims element text, text that begins or ends with whitespace does not
//! survive a render → parse round trip unchanged; attribute values do.

use super::model::{
    Connect, Dial, DialTarget, Enqueue, Gather, GatherPrompt, Method, Pause, Play, Record,
    Redirect, Reject, Response, Say, SpeechTimeout, Start, Stop, Stream, Verb,
};
use std::fmt;

/// The XML declaration every rendered document starts with.
const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

impl Response {
    /// Renders the document with an XML declaration, as Twilio expects.
    ///
    /// ```
    /// use hotline_twilio::twiml::{Response, Say};
    /// let xml = Response::new().say(Say::new("Hi & bye")).hangup().to_xml();
    /// assert_eq!(
    ///     xml,
    ///     "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say>Hi &amp; bye</Say><Hangup/></Response>"
    /// );
    /// ```
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(self.size_hint());
        self.write_xml(&mut out);
        out
    }

    /// Appends the rendered document (declaration included) to `out`, so that a caller can
    /// reuse one buffer across requests.
    pub fn write_xml(&self, out: &mut String) {
        out.reserve(self.size_hint());
        out.push_str(DECLARATION);
        let mut w = Writer { out };
        if self.verbs.is_empty() {
            w.out.push_str("<Response/>");
            return;
        }
        w.out.push_str("<Response>");
        for verb in &self.verbs {
            w.verb(verb);
        }
        w.out.push_str("</Response>");
    }

    /// A cheap guess at the rendered length, so that the output buffer is allocated once in the
    /// common case.
    fn size_hint(&self) -> usize {
        DECLARATION.len() + 32 + self.verbs.len() * 160
    }
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_xml())
    }
}

/// Appends elements, attributes and escaped text to one buffer.
struct Writer<'o> {
    out: &'o mut String,
}

impl Writer<'_> {
    fn verb(&mut self, verb: &Verb) {
        match verb {
            Verb::Say(say) => self.say(say),
            Verb::Play(play) => self.play(play),
            Verb::Pause(pause) => self.pause(pause),
            Verb::Gather(gather) => self.gather(gather),
            Verb::Redirect(redirect) => self.redirect(redirect),
            Verb::Hangup => self.out.push_str("<Hangup/>"),
            Verb::Reject(reject) => self.reject(reject),
            Verb::Dial(dial) => self.dial(dial),
            Verb::Enqueue(enqueue) => self.enqueue(enqueue),
            Verb::Leave => self.out.push_str("<Leave/>"),
            Verb::Record(record) => self.record(record),
            Verb::Start(start) => self.start(start),
            Verb::Stop(stop) => self.stop(stop),
            Verb::Connect(connect) => self.connect(connect),
        }
    }

    fn say(&mut self, say: &Say) {
        self.open("Say");
        self.attr_str("voice", say.voice.as_deref());
        self.attr_str("language", say.language.as_deref());
        self.attr_u32("loop", say.loop_count);
        self.text_and_close("Say", &say.text);
    }

    fn play(&mut self, play: &Play) {
        self.open("Play");
        self.attr_u32("loop", play.loop_count);
        self.attr_str("digits", play.digits.as_deref());
        self.text_and_close("Play", &play.url);
    }

    fn pause(&mut self, pause: &Pause) {
        self.open("Pause");
        self.attr_u32("length", pause.length);
        self.out.push_str("/>");
    }

    fn gather(&mut self, g: &Gather) {
        self.open("Gather");
        if let Some(input) = g.input {
            self.attr("input", input.as_str());
        }
        self.attr_str("action", g.action.as_deref());
        self.attr_method("method", g.method);
        self.attr_u32("timeout", g.timeout);
        match g.speech_timeout {
            Some(SpeechTimeout::Seconds(n)) => self.attr_u32("speechTimeout", Some(n)),
            Some(SpeechTimeout::Auto) => self.attr("speechTimeout", "auto"),
            None => {}
        }
        self.attr_u32("maxSpeechTime", g.max_speech_time);
        self.attr_u32("numDigits", g.num_digits);
        self.attr_str("finishOnKey", g.finish_on_key.as_deref());
        self.attr_str("language", g.language.as_deref());
        self.attr_str("hints", g.hints.as_deref());
        self.attr_bool("actionOnEmptyResult", g.action_on_empty_result);
        self.attr_str(
            "partialResultCallback",
            g.partial_result_callback.as_deref(),
        );
        self.attr_method(
            "partialResultCallbackMethod",
            g.partial_result_callback_method,
        );
        self.attr_str("speechModel", g.speech_model.as_deref());
        self.attr_bool("enhanced", g.enhanced);
        self.attr_bool("profanityFilter", g.profanity_filter);
        self.attr_bool("bargeIn", g.barge_in);
        if g.prompts.is_empty() {
            self.out.push_str("/>");
            return;
        }
        self.out.push('>');
        for prompt in &g.prompts {
            match prompt {
                GatherPrompt::Say(say) => self.say(say),
                GatherPrompt::Play(play) => self.play(play),
                GatherPrompt::Pause(pause) => self.pause(pause),
            }
        }
        self.out.push_str("</Gather>");
    }

    fn redirect(&mut self, redirect: &Redirect) {
        self.open("Redirect");
        self.attr_method("method", redirect.method);
        self.text_and_close("Redirect", &redirect.url);
    }

    fn reject(&mut self, reject: &Reject) {
        self.open("Reject");
        self.attr_str("reason", reject.reason.as_deref());
        self.out.push_str("/>");
    }

    fn dial(&mut self, d: &Dial) {
        self.open("Dial");
        self.attr_str("action", d.action.as_deref());
        self.attr_method("method", d.method);
        self.attr_u32("timeout", d.timeout);
        self.attr_str("callerId", d.caller_id.as_deref());
        self.attr_str("record", d.record.as_deref());
        self.attr_u32("timeLimit", d.time_limit);
        self.attr_bool("hangupOnStar", d.hangup_on_star);
        let number = d.number.as_deref().unwrap_or("");
        if number.is_empty() && d.targets.is_empty() {
            self.out.push_str("/>");
            return;
        }
        self.out.push('>');
        self.text(number);
        for target in &d.targets {
            self.dial_target(target);
        }
        self.out.push_str("</Dial>");
    }

    fn dial_target(&mut self, target: &DialTarget) {
        match target {
            DialTarget::Number {
                number,
                send_digits,
                url,
            } => {
                self.open("Number");
                self.attr_str("sendDigits", send_digits.as_deref());
                self.attr_str("url", url.as_deref());
                self.text_and_close("Number", number);
            }
            DialTarget::Sip {
                uri,
                username,
                password,
            } => {
                self.open("Sip");
                self.attr_str("username", username.as_deref());
                self.attr_str("password", password.as_deref());
                self.text_and_close("Sip", uri);
            }
            DialTarget::Client { identity } => {
                self.open("Client");
                self.text_and_close("Client", identity);
            }
            DialTarget::Queue { name, url } => {
                self.open("Queue");
                self.attr_str("url", url.as_deref());
                self.text_and_close("Queue", name);
            }
            DialTarget::Conference {
                name,
                start_conference_on_enter,
                end_conference_on_exit,
            } => {
                self.open("Conference");
                self.attr_bool("startConferenceOnEnter", *start_conference_on_enter);
                self.attr_bool("endConferenceOnExit", *end_conference_on_exit);
                self.text_and_close("Conference", name);
            }
        }
    }

    fn enqueue(&mut self, e: &Enqueue) {
        self.open("Enqueue");
        self.attr_str("action", e.action.as_deref());
        self.attr_method("method", e.method);
        self.attr_str("waitUrl", e.wait_url.as_deref());
        self.attr_method("waitUrlMethod", e.wait_url_method);
        self.attr_str("workflowSid", e.workflow_sid.as_deref());
        self.text_and_close("Enqueue", &e.name);
    }

    fn record(&mut self, r: &Record) {
        self.open("Record");
        self.attr_str("action", r.action.as_deref());
        self.attr_method("method", r.method);
        self.attr_u32("timeout", r.timeout);
        self.attr_u32("maxLength", r.max_length);
        self.attr_str("finishOnKey", r.finish_on_key.as_deref());
        self.attr_bool("playBeep", r.play_beep);
        self.attr_str("trim", r.trim.as_deref());
        self.attr_bool("transcribe", r.transcribe);
        self.attr_str("transcribeCallback", r.transcribe_callback.as_deref());
        self.attr_str(
            "recordingStatusCallback",
            r.recording_status_callback.as_deref(),
        );
        self.attr_method(
            "recordingStatusCallbackMethod",
            r.recording_status_callback_method,
        );
        self.out.push_str("/>");
    }

    fn start(&mut self, s: &Start) {
        self.open("Start");
        self.attr_str("action", s.action.as_deref());
        self.attr_method("method", s.method);
        self.streams_and_close("Start", &s.streams);
    }

    fn stop(&mut self, s: &Stop) {
        self.open("Stop");
        self.streams_and_close("Stop", &s.streams);
    }

    fn connect(&mut self, c: &Connect) {
        self.open("Connect");
        self.attr_str("action", c.action.as_deref());
        self.attr_method("method", c.method);
        self.out.push('>');
        self.stream(&c.stream);
        self.out.push_str("</Connect>");
    }

    fn streams_and_close(&mut self, name: &str, streams: &[Stream]) {
        if streams.is_empty() {
            self.out.push_str("/>");
            return;
        }
        self.out.push('>');
        for stream in streams {
            self.stream(stream);
        }
        self.close(name);
    }

    fn stream(&mut self, s: &Stream) {
        self.open("Stream");
        if !s.url.is_empty() {
            self.attr("url", &s.url);
        }
        self.attr_str("name", s.name.as_deref());
        self.attr_str("track", s.track.as_deref());
        self.attr_str("statusCallback", s.status_callback.as_deref());
        self.attr_method("statusCallbackMethod", s.status_callback_method);
        if s.parameters.is_empty() {
            self.out.push_str("/>");
            return;
        }
        self.out.push('>');
        for p in &s.parameters {
            self.open("Parameter");
            self.attr("name", &p.name);
            self.attr("value", &p.value);
            self.out.push_str("/>");
        }
        self.out.push_str("</Stream>");
    }

    // --- primitives -----------------------------------------------------------------------

    /// `<name` (attributes follow).
    fn open(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
    }

    /// `</name>`.
    fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// Ends a start tag: `/>` for empty text, else `>text</name>`.
    fn text_and_close(&mut self, name: &str, text: &str) {
        if text.is_empty() {
            self.out.push_str("/>");
        } else {
            self.out.push('>');
            self.text(text);
            self.close(name);
        }
    }

    /// ` name="value"`, escaped.
    fn attr(&mut self, name: &str, value: &str) {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        push_escaped(self.out, value, true);
        self.out.push('"');
    }

    fn attr_str(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.attr(name, value);
        }
    }

    fn attr_u32(&mut self, name: &str, value: Option<u32>) {
        if let Some(n) = value {
            self.out.push(' ');
            self.out.push_str(name);
            self.out.push_str("=\"");
            self.out.push_str(itoa::Buffer::new().format(n));
            self.out.push('"');
        }
    }

    fn attr_bool(&mut self, name: &str, value: Option<bool>) {
        if let Some(b) = value {
            self.attr(name, if b { "true" } else { "false" });
        }
    }

    fn attr_method(&mut self, name: &str, value: Option<Method>) {
        if let Some(m) = value {
            self.attr(name, m.as_str());
        }
    }

    fn text(&mut self, text: &str) {
        push_escaped(self.out, text, false);
    }
}

/// Bytes [`push_escaped`] must look at: markup characters, C0 controls and the lead byte of
/// U+FFFE/U+FFFF. Every other byte is copied as is.
const NEEDS_CARE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'&' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[b'"' as usize] = true;
    table[b'\'' as usize] = true;
    table[0xEF] = true;
    table
};

/// Appends `s` escaped for XML 1.0 text (`in_attribute == false`) or a double-quoted attribute
/// value (`in_attribute == true`); see the module documentation for the rules.
///
/// Unescaped runs are copied with one `push_str` each, so a string with nothing to escape costs
/// a single scan and a single copy.
fn push_escaped(out: &mut String, s: &str, in_attribute: bool) {
    let bytes = s.as_bytes();
    let mut run_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Skip the plain run with one table lookup per byte.
        match bytes
            .get(i..)
            .and_then(|rest| rest.iter().position(|&b| NEEDS_CARE[usize::from(b)]))
        {
            Some(n) => i += n,
            None => break,
        }
        let b = bytes[i];
        let (replacement, width): (&str, usize) = match b {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'"' => ("&quot;", 1),
            b'\'' => ("&apos;", 1),
            b'\r' => ("&#13;", 1),
            b'\n' if in_attribute => ("&#10;", 1),
            b'\t' if in_attribute => ("&#9;", 1),
            b'\n' | b'\t' => {
                i += 1;
                continue;
            }
            // Forbidden C0 control characters: dropped.
            0x00..=0x1F => ("", 1),
            // U+FFFE (EF BF BE) and U+FFFF (EF BF BF): forbidden, dropped.
            0xEF if bytes.get(i + 1) == Some(&0xBF)
                && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) =>
            {
                ("", 3)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        // `run_start` and `i` sit on ASCII bytes or on the lead byte of a 3-byte sequence,
        // so both are character boundaries.
        out.push_str(&s[run_start..i]);
        out.push_str(replacement);
        i += width;
        run_start = i;
    }
    out.push_str(&s[run_start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str, attr: bool) -> String {
        let mut out = String::new();
        push_escaped(&mut out, s, attr);
        out
    }

    #[test]
    fn escapes_the_five_xml_specials() {
        assert_eq!(
            escaped(r#"a&b<c>d"e'f"#, false),
            "a&amp;b&lt;c&gt;d&quot;e&apos;f"
        );
        assert_eq!(
            escaped(r#"a&b<c>d"e'f"#, true),
            "a&amp;b&lt;c&gt;d&quot;e&apos;f"
        );
    }

    #[test]
    fn whitespace_is_kept_in_text_and_referenced_in_attributes() {
        assert_eq!(escaped("a\tb\nc\rd", false), "a\tb\nc&#13;d");
        assert_eq!(escaped("a\tb\nc\rd", true), "a&#9;b&#10;c&#13;d");
    }

    #[test]
    fn forbidden_characters_are_dropped() {
        assert_eq!(escaped("a\u{0}b\u{1b}c\u{fffe}d\u{ffff}e", false), "abcde");
        assert_eq!(escaped("\u{fffd}\u{efbf}", false), "\u{fffd}\u{efbf}");
        assert_eq!(escaped("\u{b}", true), "");
    }

    #[test]
    fn unicode_passes_through() {
        assert_eq!(escaped("café 日本 😀", false), "café 日本 😀");
    }

    #[test]
    fn empty_response_is_self_closing() {
        assert_eq!(
            Response::new().to_xml(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"
        );
    }
}
