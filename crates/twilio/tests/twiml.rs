#![allow(clippy::unwrap_used)]
//! Tests of the TwiML codec: golden documents (the seed's TwiML Bin, an exact rendering, tables
//! of errors and warnings with their line and column), what the parser accepts, and properties:
//! render → parse gives back any model, and parsing never panics on arbitrary or mutated input
//! (with the same round-trip oracle as the fuzz target).
//!
//! These tests must not open sockets or touch files other than `tests/fixtures/`.

use hotline_twilio::twiml::{
    Code, Connect, Dial, DialTarget, Enqueue, Gather, GatherInput, GatherPrompt, MAX_DEPTH,
    MAX_INPUT_BYTES, Method, Parameter, Parsed, Pause, Play, Record, Redirect, Reject, Response,
    Say, SpeechTimeout, Start, Stop, Stream, Verb, parse,
};
use proptest::prelude::*;

const SEED_BIN: &str = include_str!("fixtures/seed-bin.xml");

fn ok(xml: &str) -> Parsed {
    match parse(xml) {
        Ok(parsed) => parsed,
        Err(e) => panic!("{e}\n--- document ---\n{xml}"),
    }
}

/// Parses and checks that there were no warnings.
fn clean(xml: &str) -> Response {
    let parsed = ok(xml);
    assert!(
        parsed.warnings.is_empty(),
        "unexpected warnings {:#?}\n--- document ---\n{xml}",
        parsed.warnings
    );
    parsed.response
}

fn seed_gather() -> Gather {
    Gather::new()
        .with_input(GatherInput::SPEECH)
        .with_speech_timeout(SpeechTimeout::Seconds(3))
        .with_language("fr-FR")
        .with_method(Method::Post)
        .with_action("https://example.com/step-01")
}

// ------------------------------------------------------------------------------------------
// Golden documents
// ------------------------------------------------------------------------------------------

#[test]
fn seed_bin_parses_to_the_expected_model() {
    let expected = Response::new()
        .play(Play::new("https://example.com/intro.mp3"))
        .play(Play::new("https://example.com/beep.mp3"))
        .gather(seed_gather())
        .play(Play::new("https://example.com/error-01.mp3"))
        .play(Play::new("https://example.com/beep.mp3"))
        .gather(seed_gather())
        .play(Play::new("https://example.com/error-02.mp3"));
    assert_eq!(clean(SEED_BIN), expected);
    // And it survives a round trip.
    assert_eq!(clean(&expected.to_xml()), expected);
}

#[test]
fn seed_bin_renders_exactly() {
    let xml = clean(SEED_BIN).to_xml();
    assert_eq!(
        xml,
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#,
            r#"<Play>https://example.com/intro.mp3</Play>"#,
            r#"<Play>https://example.com/beep.mp3</Play>"#,
            r#"<Gather input="speech" action="https://example.com/step-01" method="POST" speechTimeout="3" language="fr-FR"/>"#,
            r#"<Play>https://example.com/error-01.mp3</Play>"#,
            r#"<Play>https://example.com/beep.mp3</Play>"#,
            r#"<Gather input="speech" action="https://example.com/step-01" method="POST" speechTimeout="3" language="fr-FR"/>"#,
            r#"<Play>https://example.com/error-02.mp3</Play>"#,
            r#"</Response>"#,
        )
    );
}

/// One document with every verb and most attributes, rendered to an exact string.
fn representative() -> Response {
    Response::new()
        .say(
            Say::new(r#"Tom & Jerry's "<best>" café"#)
                .with_voice("Polly.Joanna")
                .with_language("en-US")
                .with_loop(2),
        )
        .play(Play::digits("1w2#").with_loop(0))
        .pause(Pause::new(2))
        .gather(Gather {
            input: Some(GatherInput::BOTH),
            timeout: Some(4),
            speech_timeout: Some(SpeechTimeout::Auto),
            max_speech_time: Some(30),
            num_digits: Some(1),
            finish_on_key: Some(String::new()),
            hints: Some("yes, no".into()),
            action_on_empty_result: Some(true),
            partial_result_callback: Some("/partial".into()),
            partial_result_callback_method: Some(Method::Get),
            speech_model: Some("phone_call".into()),
            enhanced: Some(true),
            profanity_filter: Some(false),
            barge_in: Some(false),
            ..Gather::new()
                .with_action("/step?a=1&b=2")
                .with_method(Method::Get)
                .with_language("fr-FR")
                .say(Say::new("Dites oui\nou non"))
                .play(Play::new("https://example.com/beep.mp3"))
                .pause(Pause::default())
        })
        .redirect(Redirect::new("https://example.com/next").with_method(Method::Get))
        .reject(Reject {
            reason: Some("busy".into()),
        })
        .dial(Dial {
            targets: vec![
                DialTarget::Number {
                    number: "+15551230000".into(),
                    send_digits: Some("ww1".into()),
                    url: Some("/whisper".into()),
                },
                DialTarget::Sip {
                    uri: "sip:alice@example.com".into(),
                    username: Some("alice".into()),
                    password: Some("p\"w".into()),
                },
                DialTarget::Client {
                    identity: "bob".into(),
                },
                DialTarget::Queue {
                    name: "support".into(),
                    url: Some("/about-to-connect".into()),
                },
                DialTarget::Conference {
                    name: "room 1".into(),
                    start_conference_on_enter: Some(true),
                    end_conference_on_exit: Some(false),
                },
            ],
            time_limit: Some(600),
            hangup_on_star: Some(true),
            ..Dial::number("+15551234567")
                .with_action("/dialed")
                .with_timeout(20)
                .with_caller_id("+15550001111")
                .with_record("record-from-answer")
        })
        .enqueue(Enqueue {
            action: Some("/left".into()),
            method: Some(Method::Post),
            wait_url: Some("/hold".into()),
            wait_url_method: Some(Method::Get),
            workflow_sid: Some("WW123".into()),
            ..Enqueue::new("support")
        })
        .leave()
        .record(Record {
            method: Some(Method::Post),
            timeout: Some(3),
            finish_on_key: Some("#*".into()),
            trim: Some("do-not-trim".into()),
            transcribe: Some(false),
            transcribe_callback: Some("/transcribed".into()),
            recording_status_callback: Some("/recorded".into()),
            recording_status_callback_method: Some(Method::Get),
            ..Record::new()
                .with_action("/recording")
                .with_max_length(60)
                .with_play_beep(false)
        })
        .start(Start {
            action: Some("/started".into()),
            method: Some(Method::Post),
            ..Start::stream(
                Stream::new("wss://media.example.com/fork")
                    .with_name("fork")
                    .with_track("both_tracks")
                    .with_status_callback("/stream-status"),
            )
        })
        .stop(Stop {
            streams: vec![Stream::default().with_name("fork")],
        })
        .connect(Connect {
            action: Some("/after-bot".into()),
            method: Some(Method::Get),
            stream: Stream {
                status_callback_method: Some(Method::Get),
                ..Stream::new("wss://bot.example.com/call")
                    .with_parameter("caller", "+1 555 <x>")
                    .with_parameter("empty", "")
            },
        })
        .hangup()
}

#[test]
fn representative_document_renders_exactly() {
    let expected = concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#,
        r#"<Say voice="Polly.Joanna" language="en-US" loop="2">Tom &amp; Jerry&apos;s &quot;&lt;best&gt;&quot; café</Say>"#,
        r#"<Play loop="0" digits="1w2#"/>"#,
        r#"<Pause length="2"/>"#,
        r#"<Gather input="dtmf speech" action="/step?a=1&amp;b=2" method="GET" timeout="4" speechTimeout="auto" maxSpeechTime="30" numDigits="1" finishOnKey="" language="fr-FR" hints="yes, no" actionOnEmptyResult="true" partialResultCallback="/partial" partialResultCallbackMethod="GET" speechModel="phone_call" enhanced="true" profanityFilter="false" bargeIn="false">"#,
        "<Say>Dites oui\nou non</Say>",
        r#"<Play>https://example.com/beep.mp3</Play>"#,
        r#"<Pause/>"#,
        r#"</Gather>"#,
        r#"<Redirect method="GET">https://example.com/next</Redirect>"#,
        r#"<Reject reason="busy"/>"#,
        r#"<Dial action="/dialed" timeout="20" callerId="+15550001111" record="record-from-answer" timeLimit="600" hangupOnStar="true">+15551234567"#,
        r#"<Number sendDigits="ww1" url="/whisper">+15551230000</Number>"#,
        r#"<Sip username="alice" password="p&quot;w">sip:alice@example.com</Sip>"#,
        r#"<Client>bob</Client>"#,
        r#"<Queue url="/about-to-connect">support</Queue>"#,
        r#"<Conference startConferenceOnEnter="true" endConferenceOnExit="false">room 1</Conference>"#,
        r#"</Dial>"#,
        r#"<Enqueue action="/left" method="POST" waitUrl="/hold" waitUrlMethod="GET" workflowSid="WW123">support</Enqueue>"#,
        r#"<Leave/>"#,
        r##"<Record action="/recording" method="POST" timeout="3" maxLength="60" finishOnKey="#*" playBeep="false" trim="do-not-trim" transcribe="false" transcribeCallback="/transcribed" recordingStatusCallback="/recorded" recordingStatusCallbackMethod="GET"/>"##,
        r#"<Start action="/started" method="POST"><Stream url="wss://media.example.com/fork" name="fork" track="both_tracks" statusCallback="/stream-status"/></Start>"#,
        r#"<Stop><Stream name="fork"/></Stop>"#,
        r#"<Connect action="/after-bot" method="GET"><Stream url="wss://bot.example.com/call" statusCallbackMethod="GET"><Parameter name="caller" value="+1 555 &lt;x&gt;"/><Parameter name="empty" value=""/></Stream></Connect>"#,
        r#"<Hangup/>"#,
        r#"</Response>"#,
    );
    let doc = representative();
    assert_eq!(doc.to_xml(), expected);
    assert_eq!(doc.to_string(), expected, "Display renders the same text");
    let mut reused = String::from("prefix:");
    doc.write_xml(&mut reused);
    assert_eq!(reused.strip_prefix("prefix:"), Some(expected));
    assert_eq!(clean(expected), doc);
}

#[test]
fn rendering_escapes_whitespace_in_attributes_and_drops_forbidden_characters() {
    let doc = Response::new().say(
        Say::new("a\u{1}b\rc\u{FFFE}")
            .with_voice("x\ty\nz\r")
            .with_language("\u{0}"),
    );
    assert_eq!(
        doc.to_xml(),
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#,
            r#"<Say voice="x&#9;y&#10;z&#13;" language="">ab&#13;c</Say></Response>"#
        )
    );
    let back = clean(&doc.to_xml());
    assert_eq!(
        back,
        Response::new().say(Say::new("ab\rc").with_voice("x\ty\nz\r").with_language(""))
    );
}

/// (document, line, column, code, message)
type ErrorCase = (&'static str, u32, u32, Code, &'static str);

const ERROR_CASES: &[ErrorCase] = &[
    (
        "",
        1,
        1,
        Code::WrongRoot,
        "the document is empty: expected a <Response> element",
    ),
    (
        "<?xml version=\"1.0\"?>\n<!-- nothing -->\n",
        3,
        1,
        Code::WrongRoot,
        "the document is empty: expected a <Response> element",
    ),
    (
        "<?xml version=\"1.0\"?>\n<Foo/>",
        2,
        1,
        Code::WrongRoot,
        "the root element must be <Response>, found <Foo>",
    ),
    (
        "<Response>\n  <Sya>hi</Sya>\n</Response>",
        2,
        3,
        Code::UnknownElement,
        "unknown verb <Sya>",
    ),
    (
        "<Response><say>hi</say></Response>",
        1,
        11,
        Code::UnknownElement,
        "unknown verb <say> (did you mean <Say>? names are case-sensitive)",
    ),
    (
        "<Response>\n  <Number>+15551234567</Number>\n</Response>",
        2,
        3,
        Code::NotAllowedHere,
        "<Number> is not allowed directly inside <Response>; it is a noun of <Dial>",
    ),
    (
        "<Response>\n<Gather>\n  <Say>one</Say>\n  <Gather/>\n</Gather>\n</Response>",
        4,
        3,
        Code::NotAllowedHere,
        "<Gather> cannot be nested inside another <Gather>",
    ),
    (
        "<Response><Gather><Dial>+1555</Dial></Gather></Response>",
        1,
        19,
        Code::NotAllowedHere,
        "<Dial> is not allowed inside <Gather>; only <Say>, <Play> and <Pause> may be nested in <Gather>",
    ),
    (
        "<Response><Gather><Record/></Gather></Response>",
        1,
        19,
        Code::NotAllowedHere,
        "<Record> is not allowed inside <Gather>; only <Say>, <Play> and <Pause> may be nested in <Gather>",
    ),
    (
        "<Response><Connect/></Response>",
        1,
        11,
        Code::MissingContent,
        "<Connect> needs exactly one nested <Stream>",
    ),
    (
        "<Response>\n<Connect>\n  <Stream url=\"wss://a\"/>\n  <Stream url=\"wss://b\"/>\n</Connect>\n</Response>",
        4,
        3,
        Code::NotAllowedHere,
        "<Connect> takes exactly one <Stream>; found a second one",
    ),
    (
        "<Response><Connect><ConversationRelay url=\"wss://a\"/></Connect></Response>",
        1,
        20,
        Code::Unsupported,
        "<ConversationRelay> is not supported by Hotline; Hotline supports only <Connect><Stream>",
    ),
    (
        "<Response><Connect><VirtualAgent connectorName=\"x\"/></Connect></Response>",
        1,
        20,
        Code::Unsupported,
        "<VirtualAgent> is not supported by Hotline; Hotline supports only <Connect><Stream>",
    ),
    (
        "<Response><Connect><Room>r</Room></Connect></Response>",
        1,
        20,
        Code::Unsupported,
        "<Room> is not supported by Hotline; Hotline supports only <Connect><Stream>",
    ),
    (
        "<Response><Pay/></Response>",
        1,
        11,
        Code::Unsupported,
        "<Pay> is not supported by Hotline",
    ),
    (
        "<Response>\n  <Redirect>   </Redirect>\n</Response>",
        2,
        3,
        Code::MissingContent,
        "<Redirect> needs a URL as its text",
    ),
    (
        "<Response><Start><Stream name=\"a\"/></Start></Response>",
        1,
        18,
        Code::MissingContent,
        "<Stream> needs a `url` attribute (a wss:// URL)",
    ),
    (
        "<Response><Start></Start></Response>",
        1,
        11,
        Code::MissingContent,
        "<Start> needs a nested <Stream>",
    ),
    (
        "<Response><Stop><Stream/></Stop></Response>",
        1,
        17,
        Code::MissingContent,
        "<Stream> inside <Stop> needs a `name` (or the `url`) of the stream to stop",
    ),
    (
        "<Response><Connect><Stream url=\"wss://a\"><Parameter value=\"v\"/></Stream></Connect></Response>",
        1,
        42,
        Code::MissingContent,
        "<Parameter> needs a non-empty `name` attribute",
    ),
    (
        "<Response><Play/></Response>",
        1,
        11,
        Code::MissingContent,
        "<Play> needs an audio URL as its text or a `digits` attribute",
    ),
    (
        "<Response><Dial>  </Dial></Response>",
        1,
        11,
        Code::MissingContent,
        "<Dial> needs a number as its text or a nested <Number>, <Sip>, <Client>, <Queue> or <Conference>",
    ),
    (
        "<Response><Dial><Number> </Number></Dial></Response>",
        1,
        17,
        Code::MissingContent,
        "<Number> needs a phone number as its text",
    ),
    (
        "<Response><Dial><Sim>DE123</Sim></Dial></Response>",
        1,
        17,
        Code::Unsupported,
        "<Sim> is not supported by Hotline; <Dial> takes a number as text or <Number>, <Sip>, <Client>, <Queue> or <Conference>",
    ),
    (
        "<Response><Enqueue/></Response>",
        1,
        11,
        Code::MissingContent,
        "<Enqueue> needs a queue name as its text (or a `workflowSid`)",
    ),
    (
        "<Response><Play><Say>x</Say></Play></Response>",
        1,
        17,
        Code::NotAllowedHere,
        "<Say> is not allowed inside <Play>; it takes a URL as text",
    ),
    (
        "<Response><Say>hi <audio src=\"x.mp3\"/></Say></Response>",
        1,
        19,
        Code::UnknownElement,
        "unknown element <audio> inside <Say>; <Say> takes text and SSML only",
    ),
    (
        "<Response><Say>hi <b>there</b></Say></Response>",
        1,
        19,
        Code::UnknownElement,
        "unknown element <b> inside <Say>; <Say> takes text and SSML only",
    ),
    (
        "<Response><Hangup><Say>x</Say></Hangup></Response>",
        1,
        19,
        Code::NotAllowedHere,
        "<Say> is not allowed inside <Hangup>; it takes no content",
    ),
    (
        "<Response>\n  <Say>hi</Play>\n</Response>",
        2,
        10,
        Code::MalformedXml,
        "malformed XML: `</Play>` does not close `<Say>`",
    ),
    (
        "<Response>\n  <Say>hi",
        2,
        3,
        Code::MalformedXml,
        "malformed XML: <Say> is never closed",
    ),
    (
        "<Response>\n",
        1,
        1,
        Code::MalformedXml,
        "malformed XML: <Response> is never closed",
    ),
    (
        "<Response></Say></Response>",
        1,
        11,
        Code::MalformedXml,
        "malformed XML: `</Say>` does not close `<Response>`",
    ),
    (
        "<Response><Say>a &nbsp; b</Say></Response>",
        1,
        18,
        Code::MalformedXml,
        "malformed XML: unknown entity `&nbsp;` (only &amp; &lt; &gt; &quot; &apos; and character references are defined)",
    ),
    (
        "<Response><Say>a & b</Say></Response>",
        1,
        18,
        Code::MalformedXml,
        "malformed XML: `&` starts no entity; write it as `&amp;`",
    ),
    (
        "<Response><Say>a&#1;</Say></Response>",
        1,
        17,
        Code::MalformedXml,
        "malformed XML: `&#1;` refers to U+0001, which XML 1.0 does not allow",
    ),
    (
        "<Response>\n<Say>é\u{1}</Say></Response>",
        2,
        7,
        Code::MalformedXml,
        "malformed XML: character U+0001 is not allowed in an XML 1.0 document",
    ),
    (
        "<Response><Pause length=\"1\" length=\"2\"/></Response>",
        1,
        29,
        Code::MalformedXml,
        "malformed XML: duplicate attribute in <Pause>",
    ),
    (
        "<Response><Pause length=1/></Response>",
        1,
        25,
        Code::MalformedXml,
        "malformed XML: an attribute value must be quoted with `\"` or `'` in <Pause>",
    ),
    (
        "<Response><Say voice=\"&bogus;\">x</Say></Response>",
        1,
        16,
        Code::MalformedXml,
        "malformed XML: unknown entity `&bogus;` in attribute `voice` (only &amp; &lt; &gt; &quot; &apos; and character references are defined)",
    ),
    (
        "\n<?xml version=\"1.0\"?><Response/>",
        2,
        1,
        Code::MalformedXml,
        "malformed XML: an XML declaration is only allowed at the very start of the document",
    ),
    (
        "hello<Response/>",
        1,
        1,
        Code::MalformedXml,
        "malformed XML: text before the root element <Response>",
    ),
    (
        "<Response/>\n  hello",
        2,
        3,
        Code::MalformedXml,
        "malformed XML: text after </Response>",
    ),
    (
        "<Response/><Response/>",
        1,
        12,
        Code::MalformedXml,
        "malformed XML: a document has one root element; found another after </Response>",
    ),
    (
        "<Response>\r\n  <Say>é😀</Say><Bad/>\r\n</Response>",
        2,
        16,
        Code::UnknownElement,
        "unknown verb <Bad>",
    ),
    (
        "\u{feff}<Response>\n<Oops/></Response>",
        2,
        1,
        Code::UnknownElement,
        "unknown verb <Oops>",
    ),
    (
        "<Response><!-- a -- b --></Response>",
        1,
        18,
        Code::MalformedXml,
        "malformed XML: forbidden string `--` was found in a comment",
    ),
    (
        "<Response><Say voice=\"a & b\">x</Say></Response>",
        1,
        16,
        Code::MalformedXml,
        "malformed XML: `&` starts no entity in attribute `voice`; write it as `&amp;`",
    ),
    (
        "<Response><Say voice=\"&#0;\">x</Say></Response>",
        1,
        16,
        Code::MalformedXml,
        "malformed XML: invalid character reference in attribute `voice`",
    ),
    (
        "<Response><Say voice=\"&#x1b;\">x</Say></Response>",
        1,
        16,
        Code::MalformedXml,
        "malformed XML: attribute `voice` refers to U+001B, which XML 1.0 does not allow",
    ),
    (
        "<Response><Say voice>x</Say></Response>",
        1,
        21,
        Code::MalformedXml,
        "malformed XML: an attribute name must be followed by `=` and a value in <Say>",
    ),
    (
        "<Response><Say voice='x>hi</Say></Response>",
        1,
        11,
        Code::MalformedXml,
        "malformed XML: attribute value not closed: `'` not found before end of input",
    ),
    (
        "<Response><Say>hi<!-- x </Say></Response>",
        1,
        18,
        Code::MalformedXml,
        "malformed XML: comment not closed: `-->` not found before end of input",
    ),
    (
        "<Response><Say>hi</Say></Response><!DOCTYPE x>",
        1,
        35,
        Code::MalformedXml,
        "malformed XML: a DOCTYPE is only allowed before the root element",
    ),
    (
        "<Response><Say>&#xD800;</Say></Response>",
        1,
        16,
        Code::MalformedXml,
        "malformed XML: invalid character reference `&#xD800;`",
    ),
    (
        "<Response>\n  <Stop><Transcription/></Stop>\n</Response>",
        2,
        9,
        Code::Unsupported,
        "<Transcription> is not supported by Hotline; Hotline supports only <Stream> here",
    ),
    (
        "<Response><Dial><Client><Parameter name=\"a\" value=\"b\"/>bob</Client></Dial></Response>",
        1,
        25,
        Code::Unsupported,
        "<Parameter> inside <Client> is not supported by Hotline",
    ),
    (
        "<Response><Enqueue><Task>{}</Task></Enqueue></Response>",
        1,
        20,
        Code::Unsupported,
        "<Task> is not supported by Hotline; it takes a queue name as text",
    ),
    (
        "<Response><Stream url=\"wss://a\"/></Response>",
        1,
        11,
        Code::NotAllowedHere,
        "<Stream> is not allowed directly inside <Response>; it is a noun of <Start>, <Stop> or <Connect>",
    ),
    (
        "<Response><Say><Say>x</Say></Say></Response>",
        1,
        16,
        Code::NotAllowedHere,
        "<Say> is not allowed inside <Say>; <Say> takes text and SSML only",
    ),
];

#[test]
fn error_table() {
    let mut failures = Vec::new();
    for &(xml, line, column, code, message) in ERROR_CASES {
        match parse(xml) {
            Ok(parsed) => failures.push(format!("{xml:?}: parsed as {parsed:?}")),
            Err(e) => {
                assert!(
                    e.code.is_error(),
                    "{xml:?}: {:?} is not an error code",
                    e.code
                );
                let got = (e.line, e.column, e.code, e.message.as_str());
                if got != (line, column, code, message) {
                    failures.push(format!(
                        "{xml:?}\n   want {:?}\n   got  {got:?}",
                        (line, column, code, message)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn error_display_has_position_message_and_code() {
    let e = parse("<Response><Pay/></Response>").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 1, column 11: <Pay> is not supported by Hotline [unsupported]"
    );
}

#[test]
fn too_large_and_too_deep_documents_are_rejected() {
    let big = format!(
        "<Response><Say>{}</Say></Response>",
        "a".repeat(MAX_INPUT_BYTES)
    );
    let e = parse(&big).unwrap_err();
    assert_eq!((e.line, e.column, e.code), (1, 1, Code::TooLarge));

    // <Response> is level 1, <Say> level 2, then SSML: level 32 is fine, 33 is not.
    let nest = |levels: usize| {
        format!(
            "<Response><Say>{}x{}</Say></Response>",
            "<emphasis>".repeat(levels),
            "</emphasis>".repeat(levels)
        )
    };
    let fine = ok(&nest(MAX_DEPTH - 2));
    assert_eq!(
        fine.response,
        Response::new().say(Say::new("x")),
        "{:?}",
        fine.warnings
    );
    let e = parse(&nest(MAX_DEPTH - 1)).unwrap_err();
    assert_eq!(e.code, Code::TooDeep);
    assert_eq!(e.line, 1);
    assert_eq!(e.column as usize, 16 + "<emphasis>".len() * (MAX_DEPTH - 2));

    // Very deep nesting is cut off early, without recursion trouble.
    let e = parse(&format!("<Response><Say>{}", "<s>".repeat(100_000))).unwrap_err();
    assert_eq!(e.code, Code::TooDeep, "{e}");
}

/// (document, expected warnings as (line, column, code, message))
type WarningCase = (&'static str, &'static [(u32, u32, Code, &'static str)]);

const WARNING_CASES: &[WarningCase] = &[
    (
        "<Response>\n  <Gather timeout=\"abc\" method=\"PUT\" input=\"fax\"/>\n</Response>",
        &[
            (
                2,
                11,
                Code::InvalidValue,
                "invalid value \"abc\" for `timeout` on <Gather>: expected a whole number; Twilio's default applies",
            ),
            (
                2,
                25,
                Code::InvalidValue,
                "invalid value \"PUT\" for `method` on <Gather>: expected `GET` or `POST`; Twilio's default applies",
            ),
            (
                2,
                38,
                Code::InvalidValue,
                "invalid value \"fax\" for `input` on <Gather>: expected `dtmf`, `speech` or `dtmf speech`; Twilio's default applies",
            ),
        ],
    ),
    (
        "<Response><Say colour=\"red\" Voice=\"alice\">hi</Say></Response>",
        &[
            (
                1,
                16,
                Code::UnknownAttribute,
                "unknown attribute `colour` on <Say> is ignored",
            ),
            (
                1,
                29,
                Code::UnknownAttribute,
                "unknown attribute `Voice` on <Say> is ignored (did you mean `voice`?)",
            ),
        ],
    ),
    (
        "<Response><Dial answerOnBridge=\"true\">+15551234567</Dial></Response>",
        &[(
            1,
            17,
            Code::UnsupportedAttribute,
            "attribute `answerOnBridge` on <Dial> is not supported by Hotline and is ignored",
        )],
    ),
    (
        "<Response><Gather speechTimeout=\"soon\" numDigits=\"0\" finishOnKey=\"##\" bargeIn=\"yes\"/></Response>",
        &[
            (
                1,
                19,
                Code::InvalidValue,
                "invalid value \"soon\" for `speechTimeout` on <Gather>: expected a whole number of seconds or `auto`; Twilio's default applies",
            ),
            (
                1,
                40,
                Code::InvalidValue,
                "invalid value \"0\" for `numDigits` on <Gather>: expected a whole number of at least 1; Twilio's default applies",
            ),
            (
                1,
                54,
                Code::InvalidValue,
                "invalid value \"##\" for `finishOnKey` on <Gather>: expected one key (0-9, * or #), or empty to disable; Twilio's default applies",
            ),
            (
                1,
                71,
                Code::InvalidValue,
                "invalid value \"yes\" for `bargeIn` on <Gather>: expected `true` or `false`; Twilio's default applies",
            ),
        ],
    ),
    (
        "<Response>\n  <Say>Hello <break time=\"1s\"/>world <emphasis>now</emphasis></Say>\n</Response>",
        &[(
            2,
            14,
            Code::SsmlFlattened,
            "SSML inside <Say> is flattened to plain text; Hotline speaks the words without the markup",
        )],
    ),
    (
        "<Response>\r\n\r\n  Hello there\n  <Hangup>\r\n x</Hangup>\n</Response>",
        &[
            (
                3,
                3,
                Code::IgnoredText,
                "text inside <Response> is ignored; wrap speech in <Say>",
            ),
            (5, 2, Code::IgnoredText, "text inside <Hangup> is ignored"),
        ],
    ),
    (
        "<Response>\n  Hello there\n  <Hangup/>\n</Response>",
        &[(
            2,
            3,
            Code::IgnoredText,
            "text inside <Response> is ignored; wrap speech in <Say>",
        )],
    ),
    (
        "<Response><Gather>Press 1<Say>x</Say></Gather><Pause>3</Pause></Response>",
        &[
            (
                1,
                19,
                Code::IgnoredText,
                "text inside <Gather> is ignored; wrap speech in <Say>",
            ),
            (1, 54, Code::IgnoredText, "text inside <Pause> is ignored"),
        ],
    ),
    (
        "<Response><Say>  </Say><Say/></Response>",
        &[
            (1, 11, Code::EmptySay, "<Say> has no text and says nothing"),
            (1, 24, Code::EmptySay, "<Say> has no text and says nothing"),
        ],
    ),
    (
        "<!DOCTYPE Response>\n<Response/>",
        &[(
            1,
            1,
            Code::DoctypeIgnored,
            "the DOCTYPE declaration is ignored; its entities are not defined",
        )],
    ),
    (
        "<Response><Play digits=\"12x\" loop=\"-1\">https://a/b.mp3</Play><Reject reason=\"nope\"/></Response>",
        &[
            (
                1,
                17,
                Code::InvalidValue,
                "invalid value \"12x\" for `digits` on <Play>: expected DTMF digits (0-9, *, # and w for a pause); Twilio's default applies",
            ),
            (
                1,
                30,
                Code::InvalidValue,
                "invalid value \"-1\" for `loop` on <Play>: expected a whole number; Twilio's default applies",
            ),
            (
                1,
                70,
                Code::InvalidValue,
                "invalid value \"nope\" for `reason` on <Reject>: expected `rejected` or `busy`; Twilio's default applies",
            ),
        ],
    ),
];

#[test]
fn warning_table() {
    let mut failures = Vec::new();
    for &(xml, want) in WARNING_CASES {
        let parsed = ok(xml);
        let got: Vec<_> = parsed
            .warnings
            .iter()
            .map(|w| (w.line, w.column, w.code, w.message.as_str()))
            .collect();
        assert!(parsed.warnings.iter().all(|w| !w.code.is_error()));
        if got != want {
            failures.push(format!("{xml:?}\n   want {want:#?}\n   got  {got:#?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn invalid_values_fall_back_to_the_default() {
    let parsed = ok(
        r#"<Response><Gather timeout="abc" method="PUT" input="fax" numDigits="2"/></Response>"#,
    );
    assert_eq!(
        parsed.response,
        Response::new().gather(Gather::new().with_num_digits(2))
    );
    let Verb::Gather(g) = &parsed.response.verbs[0] else {
        unreachable!()
    };
    assert_eq!(g.timeout_secs(), 5);
    assert_eq!(g.method_or_default(), Method::Post);
    assert_eq!(g.input_or_default(), GatherInput::DTMF);
}

#[test]
fn warnings_are_capped() {
    let attrs: String = (0..500).map(|i| format!(" a{i}=\"x\"")).collect();
    let parsed = ok(&format!("<Response><Hangup{attrs}/></Response>"));
    assert_eq!(parsed.warnings.len(), 101);
    assert_eq!(
        parsed.warnings.last().map(|w| w.code),
        Some(Code::TooManyWarnings)
    );
}

// ------------------------------------------------------------------------------------------
// What the parser accepts
// ------------------------------------------------------------------------------------------

#[test]
fn ssml_is_flattened_to_plain_text() {
    let parsed = ok(concat!(
        r#"<Response xmlns:amazon="https://amazon.com/ssml"><Say voice="Polly.Joanna">"#,
        r#"Hello <break time="1s"/>world, <emphasis level="strong">really</emphasis> "#,
        r#"<sub alias="World Wide Web Consortium">W3C</sub>.<p>New <s>para</s></p>"#,
        r#"<amazon:effect name="whispered">psst</amazon:effect>"#,
        r#"<prosody rate="slow"><say-as interpret-as="digits">123</say-as></prosody>"#,
        r#"<phoneme alphabet="ipa" ph="pɪˈkɑːn">pecan</phoneme><lang xml:lang="fr-FR">oui</lang><w role="x">!</w>"#,
        r#"</Say></Response>"#
    ));
    assert_eq!(
        parsed.response,
        Response::new().say(
            Say::new("Hello world, really World Wide Web Consortium. New para psst123pecanoui!")
                .with_voice("Polly.Joanna")
        )
    );
    assert_eq!(parsed.warnings.len(), 1);
    assert_eq!(parsed.warnings[0].code, Code::SsmlFlattened);
}

#[test]
fn xml_syntax_variants_are_accepted() {
    let doc = concat!(
        "\u{feff}<?xml version='1.0' encoding='UTF-8'?>\n",
        "<!-- a comment --><?app some instruction?>\n",
        "<Response >\n",
        "  <Say language='fr-FR' loop = \"2\" >\n",
        "    Caf&#233; &amp; <![CDATA[<croissants> & \"thé\"]]>&#x1F600;&lt;&gt;&quot;&apos;\n",
        "  </Say>\n",
        "  <!-- comment between verbs -->\n",
        "  <Play\n     loop='3'\n  >  https://example.com/a.mp3?x=1&amp;y=2  </Play>\n",
        "  <Pause/><Pause length=\"0\"></Pause>\n",
        "  <Hangup></Hangup>\n",
        "</Response >\n",
        "<!-- trailing comment -->\n",
    );
    let expected = Response::new()
        .say(
            Say::new("Café & <croissants> & \"thé\"😀<>\"'")
                .with_language("fr-FR")
                .with_loop(2),
        )
        .play(Play::new("https://example.com/a.mp3?x=1&y=2").with_loop(3))
        .pause(Pause::default())
        .pause(Pause::new(0))
        .hangup();
    assert_eq!(clean(doc), expected);
}

#[test]
fn no_declaration_and_empty_response_are_fine() {
    assert_eq!(clean("<Response/>"), Response::new());
    assert_eq!(clean("<Response></Response>"), Response::new());
}

#[test]
fn gather_input_accepts_either_order_and_case() {
    for (value, want) in [
        ("dtmf", GatherInput::DTMF),
        ("speech", GatherInput::SPEECH),
        ("dtmf speech", GatherInput::BOTH),
        ("speech dtmf", GatherInput::BOTH),
        ("  Speech\tDTMF ", GatherInput::BOTH),
    ] {
        let r = clean(&format!(
            r#"<Response><Gather input="{value}"/></Response>"#
        ));
        assert_eq!(
            r,
            Response::new().gather(Gather::new().with_input(want)),
            "{value:?}"
        );
    }
    for bad in ["", "fax", "dtmf,speech", "dtmf fax"] {
        let parsed = ok(&format!(r#"<Response><Gather input="{bad}"/></Response>"#));
        assert_eq!(parsed.response, Response::new().gather(Gather::new()));
        assert_eq!(parsed.warnings[0].code, Code::InvalidValue, "{bad:?}");
    }
}

#[test]
fn dial_text_is_a_number_and_nouns_are_targets() {
    let r = clean(
        "<Response>\n<Dial callerId='+15550001111'>\n   +15551234567\n</Dial>\n<Dial>\n  <Number>+1 555 000</Number>\n  <Client><Identity>alice</Identity></Client>\n  <Conference>Room</Conference>\n</Dial>\n</Response>",
    );
    assert_eq!(
        r,
        Response::new()
            .dial(Dial::number("+15551234567").with_caller_id("+15550001111"))
            .dial(Dial {
                targets: vec![
                    DialTarget::number("+1 555 000"),
                    DialTarget::Client {
                        identity: "alice".into()
                    },
                    DialTarget::Conference {
                        name: "Room".into(),
                        start_conference_on_enter: None,
                        end_conference_on_exit: None,
                    },
                ],
                ..Dial::default()
            })
    );
}

#[test]
fn streams_in_start_stop_and_connect() {
    let r = clean(concat!(
        r#"<Response>"#,
        r#"<Start><Stream url="wss://a.example/s" name="fork" track="inbound_track"/></Start>"#,
        r#"<Stop><Stream name="fork"/></Stop>"#,
        r#"<Connect action="/done"><Stream url="wss://b.example/s">"#,
        r#"<Parameter name="lang" value="fr"/><Parameter name="blank"/></Stream></Connect>"#,
        r#"</Response>"#
    ));
    assert_eq!(
        r,
        Response::new()
            .start(Start::stream(
                Stream::new("wss://a.example/s")
                    .with_name("fork")
                    .with_track("inbound_track")
            ))
            .stop(Stop {
                streams: vec![Stream::default().with_name("fork")]
            })
            .connect(Connect {
                action: Some("/done".into()),
                ..Connect::stream(Stream {
                    parameters: vec![
                        Parameter {
                            name: "lang".into(),
                            value: "fr".into()
                        },
                        Parameter {
                            name: "blank".into(),
                            value: String::new()
                        },
                    ],
                    ..Stream::new("wss://b.example/s")
                })
            })
    );
}

#[test]
fn gather_prompts_are_kept_in_order() {
    let r = clean(
        "<Response><Gather numDigits='1' finishOnKey=''>\n  <Say>Press 1</Say>\n  <Pause length='1'/>\n  <Play>https://a/b.wav</Play>\n</Gather></Response>",
    );
    let Verb::Gather(g) = &r.verbs[0] else {
        unreachable!()
    };
    assert_eq!(g.finish_key(), None);
    assert_eq!(
        g.prompts,
        vec![
            GatherPrompt::Say(Say::new("Press 1")),
            GatherPrompt::Pause(Pause::new(1)),
            GatherPrompt::Play(Play::new("https://a/b.wav")),
        ]
    );
}

#[test]
fn model_parsers() {
    assert_eq!(GatherInput::parse("speech  dtmf"), Some(GatherInput::BOTH));
    assert_eq!(GatherInput::parse(" "), None);
    assert_eq!(SpeechTimeout::parse("AUTO"), Some(SpeechTimeout::Auto));
    assert_eq!(SpeechTimeout::parse(" 7 "), Some(SpeechTimeout::Seconds(7)));
    assert_eq!(SpeechTimeout::parse("-7"), None);
    assert_eq!(SpeechTimeout::Seconds(3).to_string(), "3");
    assert_eq!(SpeechTimeout::Auto.to_string(), "auto");
    assert_eq!(Code::MalformedXml.to_string(), "malformed-xml");
    assert!(!Code::InvalidValue.is_error());
}

// ------------------------------------------------------------------------------------------
// Properties
// ------------------------------------------------------------------------------------------

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Characters for generated text: XML specials, whitespace, accents, CJK, an emoji, the BOM.
const ALPHABET: &str = "[a-zA-Z0-9 <>&\"'éü日本😀\u{feff}\t\n\r;#.:/=?-]";

/// Element text: anything, but no leading or trailing whitespace (the parser trims it).
fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("{ALPHABET}{{0,24}}"))
        .unwrap()
        .prop_map(|s| s.trim_matches(is_xml_space).to_owned())
}

/// Non-empty element text.
fn some_text() -> impl Strategy<Value = String> {
    text().prop_map(|s| if s.is_empty() { "x".to_owned() } else { s })
}

/// Attribute values are not trimmed: anything goes.
fn value() -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("{ALPHABET}{{0,16}}")).unwrap()
}

fn opt_value() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(value())
}

fn method() -> impl Strategy<Value = Option<Method>> {
    proptest::option::of(prop_oneof![Just(Method::Get), Just(Method::Post)])
}

fn one_of(values: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    proptest::option::of(proptest::sample::select(values).prop_map(str::to_owned))
}

fn dtmf() -> impl Strategy<Value = String> {
    "[0-9*#wW]{1,8}"
}

fn say() -> impl Strategy<Value = Say> {
    (
        some_text(),
        opt_value(),
        opt_value(),
        proptest::option::of(any::<u32>()),
    )
        .prop_map(|(text, voice, language, loop_count)| Say {
            text,
            voice,
            language,
            loop_count,
        })
}

fn play() -> impl Strategy<Value = Play> {
    (
        text(),
        proptest::option::of(any::<u32>()),
        proptest::option::of(dtmf()),
    )
        .prop_map(|(url, loop_count, digits)| {
            let digits = if url.is_empty() && digits.is_none() {
                Some("1".to_owned())
            } else {
                digits
            };
            Play {
                url,
                loop_count,
                digits,
            }
        })
}

fn pause() -> impl Strategy<Value = Pause> {
    proptest::option::of(any::<u32>()).prop_map(|length| Pause { length })
}

fn gather() -> impl Strategy<Value = Gather> {
    let input = proptest::option::of(prop_oneof![
        Just(GatherInput::DTMF),
        Just(GatherInput::SPEECH),
        Just(GatherInput::BOTH),
    ]);
    let speech_timeout = proptest::option::of(prop_oneof![
        any::<u32>().prop_map(SpeechTimeout::Seconds),
        Just(SpeechTimeout::Auto),
    ]);
    let prompt = prop_oneof![
        say().prop_map(GatherPrompt::Say),
        play().prop_map(GatherPrompt::Play),
        pause().prop_map(GatherPrompt::Pause),
    ];
    (
        (
            input,
            opt_value(),
            method(),
            proptest::option::of(any::<u32>()),
            speech_timeout,
            proptest::option::of(any::<u32>()),
            proptest::option::of(1..=u32::MAX),
            proptest::option::of("[0-9*#]?"),
        ),
        (
            opt_value(),
            opt_value(),
            proptest::option::of(any::<bool>()),
            opt_value(),
            method(),
            opt_value(),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
        ),
        proptest::collection::vec(prompt, 0..4),
    )
        .prop_map(
            |(
                (
                    input,
                    action,
                    method,
                    timeout,
                    speech_timeout,
                    max_speech_time,
                    num_digits,
                    finish_on_key,
                ),
                (
                    language,
                    hints,
                    action_on_empty_result,
                    partial_result_callback,
                    partial_result_callback_method,
                    speech_model,
                    enhanced,
                    profanity_filter,
                    barge_in,
                ),
                prompts,
            )| Gather {
                input,
                action,
                method,
                timeout,
                speech_timeout,
                max_speech_time,
                num_digits,
                finish_on_key,
                language,
                hints,
                action_on_empty_result,
                partial_result_callback,
                partial_result_callback_method,
                speech_model,
                enhanced,
                profanity_filter,
                barge_in,
                prompts,
            },
        )
}

fn dial_target() -> impl Strategy<Value = DialTarget> {
    prop_oneof![
        (some_text(), proptest::option::of(dtmf()), opt_value()).prop_map(
            |(number, send_digits, url)| DialTarget::Number {
                number,
                send_digits,
                url
            }
        ),
        (some_text(), opt_value(), opt_value()).prop_map(|(uri, username, password)| {
            DialTarget::Sip {
                uri,
                username,
                password,
            }
        }),
        some_text().prop_map(|identity| DialTarget::Client { identity }),
        (some_text(), opt_value()).prop_map(|(name, url)| DialTarget::Queue { name, url }),
        (
            some_text(),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>())
        )
            .prop_map(|(name, start, end)| DialTarget::Conference {
                name,
                start_conference_on_enter: start,
                end_conference_on_exit: end,
            }),
    ]
}

fn dial() -> impl Strategy<Value = Dial> {
    (
        proptest::option::of(some_text()),
        proptest::collection::vec(dial_target(), 0..4),
        opt_value(),
        method(),
        proptest::option::of(any::<u32>()),
        opt_value(),
        one_of(&[
            "do-not-record",
            "record-from-answer",
            "record-from-ringing",
            "record-from-answer-dual",
            "record-from-ringing-dual",
        ]),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(
            |(number, targets, action, method, timeout, caller_id, record, time_limit, hos)| {
                let number = if number.is_none() && targets.is_empty() {
                    Some("+15551234567".to_owned())
                } else {
                    number
                };
                Dial {
                    number,
                    targets,
                    action,
                    method,
                    timeout,
                    caller_id,
                    record,
                    time_limit,
                    hangup_on_star: hos,
                }
            },
        )
}

fn enqueue() -> impl Strategy<Value = Enqueue> {
    (
        text(),
        opt_value(),
        method(),
        opt_value(),
        method(),
        opt_value(),
    )
        .prop_map(
            |(name, action, method, wait_url, wait_url_method, workflow_sid)| {
                let name = if name.is_empty() && workflow_sid.is_none() {
                    "support".to_owned()
                } else {
                    name
                };
                Enqueue {
                    name,
                    action,
                    method,
                    wait_url,
                    wait_url_method,
                    workflow_sid,
                }
            },
        )
}

fn record() -> impl Strategy<Value = Record> {
    (
        opt_value(),
        method(),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of("[0-9*#]{0,4}"),
        proptest::option::of(any::<bool>()),
        one_of(&["trim-silence", "do-not-trim"]),
        proptest::option::of(any::<bool>()),
        opt_value(),
        opt_value(),
        method(),
    )
        .prop_map(
            |(
                action,
                method,
                timeout,
                max_length,
                finish_on_key,
                play_beep,
                trim,
                transcribe,
                transcribe_callback,
                recording_status_callback,
                recording_status_callback_method,
            )| Record {
                action,
                method,
                timeout,
                max_length,
                finish_on_key,
                play_beep,
                trim,
                transcribe,
                transcribe_callback,
                recording_status_callback,
                recording_status_callback_method,
            },
        )
}

/// A `<Stream>`; `url_required` is false inside `<Stop>`, where a name is enough.
fn stream(url_required: bool) -> impl Strategy<Value = Stream> {
    let parameter = (value(), value()).prop_map(|(name, value)| Parameter {
        name: if name.is_empty() { "p".into() } else { name },
        value,
    });
    (
        value(),
        opt_value(),
        one_of(&["inbound_track", "outbound_track", "both_tracks"]),
        opt_value(),
        method(),
        proptest::collection::vec(parameter, 0..3),
    )
        .prop_map(
            move |(url, name, track, status_callback, status_callback_method, parameters)| {
                let mut s = Stream {
                    url,
                    name,
                    track,
                    status_callback,
                    status_callback_method,
                    parameters,
                };
                if s.url.is_empty() && (url_required || s.name.is_none()) {
                    s.url = "wss://example.com/s".into();
                }
                s
            },
        )
}

fn verb() -> impl Strategy<Value = Verb> {
    prop_oneof![
        say().prop_map(Verb::Say),
        play().prop_map(Verb::Play),
        pause().prop_map(Verb::Pause),
        gather().prop_map(Verb::Gather),
        (some_text(), method()).prop_map(|(url, method)| Verb::Redirect(Redirect { url, method })),
        Just(Verb::Hangup),
        one_of(&["rejected", "busy"]).prop_map(|reason| Verb::Reject(Reject { reason })),
        dial().prop_map(Verb::Dial),
        enqueue().prop_map(Verb::Enqueue),
        Just(Verb::Leave),
        record().prop_map(Verb::Record),
        (
            opt_value(),
            method(),
            proptest::collection::vec(stream(true), 1..3)
        )
            .prop_map(|(action, method, streams)| Verb::Start(Start {
                action,
                method,
                streams
            })),
        proptest::collection::vec(stream(false), 1..3)
            .prop_map(|streams| Verb::Stop(Stop { streams })),
        (opt_value(), method(), stream(true)).prop_map(|(action, method, stream)| {
            Verb::Connect(Connect {
                action,
                method,
                stream,
            })
        }),
    ]
}

fn response() -> impl Strategy<Value = Response> {
    proptest::collection::vec(verb(), 0..6).prop_map(|verbs| Response { verbs })
}

/// The fuzz target's oracle: whatever parses renders to a document that parses back to the
/// same model, with no warnings other than empty `<Say>`s.
fn check_round_trip_oracle(input: &str) -> Result<(), TestCaseError> {
    let Ok(parsed) = parse(input) else {
        return Ok(());
    };
    let xml = parsed.response.to_xml();
    if xml.len() > MAX_INPUT_BYTES {
        return Ok(());
    }
    let again = parse(&xml)
        .map_err(|e| TestCaseError::fail(format!("{e}\ninput: {input:?}\nrendered: {xml:?}")))?;
    prop_assert_eq!(
        &again.response,
        &parsed.response,
        "input: {:?}\nrendered: {:?}",
        input,
        xml
    );
    prop_assert!(
        again.warnings.iter().all(|w| w.code == Code::EmptySay),
        "{:?}\nrendered: {:?}",
        again.warnings,
        xml
    );
    Ok(())
}

/// One edit to a document, by character position (so that edits never split a character).
#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, String),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippet = prop_oneof![
        proptest::sample::select(
            &[
                "<",
                ">",
                "/>",
                "</",
                "&",
                "&amp;",
                "&#0;",
                "&#233;",
                "&#xD800;",
                "\"",
                "'",
                "=",
                "<!--",
                "-->",
                "<![CDATA[",
                "]]>",
                "<?x?>",
                "<?xml version=\"1.0\"?>",
                "<!DOCTYPE x>",
                "<Gather>",
                "</Gather>",
                "<Say>",
                "</Say>",
                "<Dial>",
                "<Number>1</Number>",
                "<Response>",
                "</Response>",
                "<Connect>",
                "<Stream url='wss://x'/>",
                " timeout='x'",
                " a='1'",
                "<break/>",
                "<sub alias='x'>",
                "\u{0}",
                "\r",
                "\u{feff}",
                "é",
                "😀",
            ][..]
        )
        .prop_map(str::to_owned),
        ".{0,8}",
    ];
    prop_oneof![
        (any::<usize>(), 0..8usize).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (any::<usize>(), snippet).prop_map(|(at, s)| Mutation::Insert(at, s)),
        (any::<usize>(), 0..16usize).prop_map(|(at, n)| Mutation::Duplicate(at, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(doc: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = doc.chars().collect();
    for m in mutations {
        let len = chars.len();
        let at = |i: usize| if len == 0 { 0 } else { i % (len + 1) };
        match m {
            Mutation::Delete(i, n) => {
                let start = at(*i);
                let end = (start + n).min(len);
                chars.drain(start..end);
            }
            Mutation::Insert(i, s) => {
                let start = at(*i);
                chars.splice(start..start, s.chars());
            }
            Mutation::Duplicate(i, n) => {
                let start = at(*i);
                let end = (start + n).min(len);
                let copy: Vec<char> = chars[start..end].to_vec();
                chars.splice(end..end, copy);
            }
            Mutation::Truncate(i) => chars.truncate(at(*i)),
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn render_then_parse_gives_back_the_model(r in response()) {
        let xml = r.to_xml();
        let parsed = parse(&xml).map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
        prop_assert!(parsed.warnings.is_empty(), "{:?}\n{}", parsed.warnings, xml);
        prop_assert_eq!(parsed.response, r);
    }

    #[test]
    fn parse_never_panics_on_arbitrary_strings(s in any::<String>()) {
        check_round_trip_oracle(&s)?;
    }

    #[test]
    fn parse_never_panics_on_xmlish_strings(
        s in r#"(<|</|/>|>|Response|Say|Gather|Dial|Number|Stream|Connect| |=|"|'|&|;|#|x|<!--|-->|\?)*"#
    ) {
        check_round_trip_oracle(&s)?;
        check_round_trip_oracle(&format!("<Response>{s}</Response>"))?;
    }

    #[test]
    fn parse_never_panics_on_mutated_documents(
        r in response(),
        mutations in proptest::collection::vec(mutation(), 1..5),
    ) {
        let doc = apply(&r.to_xml(), &mutations);
        check_round_trip_oracle(&doc)?;
    }

    #[test]
    fn parse_never_panics_on_mutated_seed(mutations in proptest::collection::vec(mutation(), 1..6)) {
        check_round_trip_oracle(&apply(SEED_BIN, &mutations))?;
    }
}
