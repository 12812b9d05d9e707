//! Tests of the Media Streams codec: Twilio's example messages verbatim, numbers given as JSON
//! numbers, unknown events, missing fields, payload limits, round trips and never-panic
//! properties.
//!
//! These tests must not open sockets.

use std::collections::BTreeMap;

use hotline_twilio::stream::{
    Connected, Dtmf, Inbound, MAX_MESSAGE_LEN, MAX_PAYLOAD_BYTES, Mark, Media, MediaFormat,
    Outbound, Start, Stop, StreamError, decode_payload, encode_payload,
};
use proptest::prelude::*;

// Twilio's examples (peers.md §4.3, from Twilio's Media Streams message docs), verbatim but
// with the elided SIDs filled in.
const CONNECTED: &str = r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#;
const START: &str = r#"{"event":"start","sequenceNumber":"1","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0",
 "start":{"streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","accountSid":"AC123","callSid":"CA123","tracks":["inbound"],
          "customParameters":{"k":"v"},
          "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}"#;
const MEDIA: &str = r#"{"event":"media","sequenceNumber":"3","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0",
 "media":{"track":"inbound","chunk":"1","timestamp":"160","payload":"/////w=="}}"#;
const DTMF: &str = r#"{"event":"dtmf","sequenceNumber":"5","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","dtmf":{"track":"inbound_track","digit":"1"}}"#;
const MARK: &str = r#"{"event":"mark","sequenceNumber":"4","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","mark":{"name":"my label"}}"#;
const STOP: &str = r#"{"event":"stop","sequenceNumber":"9","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","stop":{"accountSid":"AC123","callSid":"CA123"}}"#;

const OUT_MEDIA: &str = r#"{"event":"media","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","media":{"payload":"/////w=="}}"#;
const OUT_MARK: &str = r#"{"event":"mark","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","mark":{"name":"chunk-42"}}"#;
const OUT_CLEAR: &str = r#"{"event":"clear","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0"}"#;

const SID: &str = "MZ18ad3ab5a668481ce02b83e7395059f0";

fn start_message() -> Start {
    Start {
        sequence_number: 1,
        stream_sid: SID.to_owned(),
        account_sid: Some("AC123".to_owned()),
        call_sid: "CA123".to_owned(),
        tracks: vec!["inbound".to_owned()],
        custom_parameters: BTreeMap::from([("k".to_owned(), "v".to_owned())]),
        media_format: Some(MediaFormat::default()),
    }
}

fn media_message() -> Media {
    Media {
        sequence_number: 3,
        stream_sid: SID.to_owned(),
        track: Some("inbound".to_owned()),
        chunk: Some(1),
        timestamp: Some(160),
        payload: "/////w==".to_owned(),
    }
}

#[test]
fn decodes_twilio_examples() {
    assert_eq!(
        Inbound::decode(CONNECTED).unwrap(),
        Inbound::Connected(Connected {
            protocol: Some("Call".to_owned()),
            version: Some("1.0.0".to_owned()),
        })
    );
    assert_eq!(
        Inbound::decode(START).unwrap(),
        Inbound::Start(start_message())
    );
    assert_eq!(
        Inbound::decode(MEDIA).unwrap(),
        Inbound::Media(media_message())
    );
    assert_eq!(
        Inbound::decode(DTMF).unwrap(),
        Inbound::Dtmf(Dtmf {
            sequence_number: 5,
            stream_sid: SID.to_owned(),
            track: Some("inbound_track".to_owned()),
            digit: "1".to_owned(),
        })
    );
    assert_eq!(
        Inbound::decode(MARK).unwrap(),
        Inbound::Mark(Mark {
            sequence_number: 4,
            stream_sid: SID.to_owned(),
            name: "my label".to_owned(),
        })
    );
    assert_eq!(
        Inbound::decode(STOP).unwrap(),
        Inbound::Stop(Stop {
            sequence_number: 9,
            stream_sid: SID.to_owned(),
            account_sid: Some("AC123".to_owned()),
            call_sid: Some("CA123".to_owned()),
        })
    );
}

#[test]
fn decodes_outbound_examples() {
    assert_eq!(
        Outbound::decode(OUT_MEDIA).unwrap(),
        Outbound::Media {
            stream_sid: SID.to_owned(),
            payload: "/////w==".to_owned(),
        }
    );
    assert_eq!(
        Outbound::decode(OUT_MARK).unwrap(),
        Outbound::Mark {
            stream_sid: SID.to_owned(),
            name: "chunk-42".to_owned(),
        }
    );
    assert_eq!(
        Outbound::decode(OUT_CLEAR).unwrap(),
        Outbound::Clear {
            stream_sid: SID.to_owned(),
        }
    );
}

#[test]
fn encodes_exactly_as_twilio_sends() {
    let compact = |s: &str| s.split_whitespace().collect::<String>();
    assert_eq!(Inbound::decode(CONNECTED).unwrap().encode(), CONNECTED);
    assert_eq!(Inbound::Start(start_message()).encode(), compact(START));
    assert_eq!(Inbound::Media(media_message()).encode(), compact(MEDIA));
    assert_eq!(Inbound::decode(DTMF).unwrap().encode(), DTMF);
    // `my label` has a space, so compare this one without compacting.
    assert_eq!(Inbound::decode(MARK).unwrap().encode(), MARK);
    assert_eq!(Inbound::decode(STOP).unwrap().encode(), STOP);
    assert_eq!(Outbound::decode(OUT_MEDIA).unwrap().encode(), OUT_MEDIA);
    assert_eq!(Outbound::decode(OUT_MARK).unwrap().encode(), OUT_MARK);
    assert_eq!(Outbound::decode(OUT_CLEAR).unwrap().encode(), OUT_CLEAR);
}

#[test]
fn numbers_as_json_numbers_or_strings() {
    let media = r#"{"event":"media","sequenceNumber":3,"streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0",
        "media":{"track":"inbound","chunk":1,"timestamp":160,"payload":"/////w=="}}"#;
    assert_eq!(
        Inbound::decode(media).unwrap(),
        Inbound::Media(media_message())
    );
    let start = START
        .replace(r#""sampleRate":8000"#, r#""sampleRate":"8000""#)
        .replace(r#""channels":1"#, r#""channels":"1""#)
        .replace(r#""sequenceNumber":"1""#, r#""sequenceNumber":1"#);
    assert_eq!(
        Inbound::decode(&start).unwrap(),
        Inbound::Start(start_message())
    );
}

#[test]
fn bad_numbers_are_errors() {
    for bad in [
        r#""sequenceNumber":"-1""#,
        r#""sequenceNumber":-1"#,
        r#""sequenceNumber":"3.0""#,
        r#""sequenceNumber":3.5"#,
        r#""sequenceNumber":"""#,
        r#""sequenceNumber":" 3""#,
        r#""sequenceNumber":"99999999999999999999999""#,
        r#""sequenceNumber":true"#,
    ] {
        let text = MEDIA.replace(r#""sequenceNumber":"3""#, bad);
        assert!(
            matches!(Inbound::decode(&text), Err(StreamError::Json(_))),
            "{bad}"
        );
    }
    let text = START.replace(r#""channels":1"#, r#""channels":70000"#);
    assert!(matches!(
        Inbound::decode(&text),
        Err(StreamError::InvalidNumber {
            field: "start.mediaFormat.channels"
        })
    ));
}

#[test]
fn optional_fields_may_be_missing() {
    let minimal_start =
        r#"{"event":"start","sequenceNumber":"1","start":{"streamSid":"MZ1","callSid":"CA1"}}"#;
    assert_eq!(
        Inbound::decode(minimal_start).unwrap(),
        Inbound::Start(Start {
            sequence_number: 1,
            stream_sid: "MZ1".to_owned(),
            account_sid: None,
            call_sid: "CA1".to_owned(),
            tracks: vec![],
            custom_parameters: BTreeMap::new(),
            media_format: None,
        })
    );
    let minimal_media = r#"{"event":"media","sequenceNumber":"2","streamSid":"MZ1","media":{"payload":""},"extra":[1,2]}"#;
    assert!(matches!(
        Inbound::decode(minimal_media).unwrap(),
        Inbound::Media(Media { track: None, chunk: None, timestamp: None, ref payload, .. }) if payload.is_empty()
    ));
    let bare_stop = r#"{"event":"stop","sequenceNumber":"9","streamSid":"MZ1"}"#;
    assert!(matches!(
        Inbound::decode(bare_stop).unwrap(),
        Inbound::Stop(Stop {
            account_sid: None,
            call_sid: None,
            ..
        })
    ));
    assert_eq!(
        Inbound::decode(r#"{"event":"connected"}"#).unwrap(),
        Inbound::Connected(Connected::default())
    );
}

#[test]
fn essential_fields_missing_are_typed_errors() {
    let cases: [(&str, &str, &str); 9] = [
        (
            r#"{"event":"media","sequenceNumber":"3","streamSid":"MZ1","media":{"track":"inbound"}}"#,
            "media",
            "media.payload",
        ),
        (
            r#"{"event":"media","sequenceNumber":"3","streamSid":"MZ1"}"#,
            "media",
            "media",
        ),
        (
            r#"{"event":"media","streamSid":"MZ1","media":{"payload":""}}"#,
            "media",
            "sequenceNumber",
        ),
        (
            r#"{"event":"media","sequenceNumber":"3","media":{"payload":""}}"#,
            "media",
            "streamSid",
        ),
        (
            r#"{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{}}"#,
            "start",
            "start.callSid",
        ),
        (
            r#"{"event":"start","sequenceNumber":"1","start":{"callSid":"CA1"}}"#,
            "start",
            "streamSid",
        ),
        (
            r#"{"event":"dtmf","sequenceNumber":"1","streamSid":"MZ1","dtmf":{"track":"inbound_track"}}"#,
            "dtmf",
            "dtmf.digit",
        ),
        (
            r#"{"event":"mark","sequenceNumber":"1","streamSid":"MZ1","mark":null}"#,
            "mark",
            "mark",
        ),
        (
            r#"{"event":"mark","sequenceNumber":"1","streamSid":"MZ1","mark":{}}"#,
            "mark",
            "mark.name",
        ),
    ];
    for (text, event, field) in cases {
        match Inbound::decode(text) {
            Err(StreamError::MissingField { event: e, field: f }) => {
                assert_eq!((e, f), (event, field), "{text}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    assert!(matches!(
        Outbound::decode(r#"{"event":"clear"}"#),
        Err(StreamError::MissingField {
            event: "clear",
            field: "streamSid"
        })
    ));
    assert!(matches!(
        Outbound::decode(r#"{"event":"media","streamSid":"MZ1","media":{}}"#),
        Err(StreamError::MissingField {
            event: "media",
            field: "media.payload"
        })
    ));
}

#[test]
fn unknown_events_are_tolerated_whatever_they_carry() {
    for text in [
        r#"{"event":"transcription","sequenceNumber":"7","streamSid":"MZ1"}"#,
        r#"{"event":"future","media":[1,2,3],"start":"x","version":2,"sequenceNumber":{"a":1}}"#,
        r#"{"event":""}"#,
    ] {
        let decoded = Inbound::decode(text).unwrap();
        assert!(matches!(decoded, Inbound::Unknown { .. }), "{text}");
        let outbound = Outbound::decode(text).unwrap();
        assert!(matches!(outbound, Outbound::Unknown { .. }), "{text}");
    }
    assert_eq!(
        Inbound::decode(r#"{"event":"transcription"}"#)
            .unwrap()
            .event(),
        "transcription"
    );
    // `start`/`stop` and friends are not outbound events.
    assert!(matches!(
        Outbound::decode(STOP).unwrap(),
        Outbound::Unknown { event } if event == "stop"
    ));
    // And `clear` is not an inbound one.
    assert!(matches!(
        Inbound::decode(OUT_CLEAR).unwrap(),
        Inbound::Unknown { event } if event == "clear"
    ));
}

#[test]
fn not_a_message_is_a_json_error() {
    for text in [
        "",
        "null",
        "[]",
        r#"{"event":5}"#,
        r#"{"streamSid":"MZ1"}"#,
        "{",
        r#"{"event":"media","event":"mark"}"#,
    ] {
        assert!(
            matches!(Inbound::decode(text), Err(StreamError::Json(_))),
            "{text}"
        );
        assert!(
            matches!(Outbound::decode(text), Err(StreamError::Json(_))),
            "{text}"
        );
    }
}

#[test]
fn oversized_messages_are_refused_before_parsing() {
    // Not even valid JSON: the length check comes first.
    let text = "x".repeat(MAX_MESSAGE_LEN + 1);
    assert!(matches!(
        Inbound::decode(&text),
        Err(StreamError::TooLong { len, max: MAX_MESSAGE_LEN }) if len == MAX_MESSAGE_LEN + 1
    ));
    assert!(matches!(
        Outbound::decode(&text),
        Err(StreamError::TooLong { .. })
    ));
    // A message at the limit is parsed.
    let filler = MAX_MESSAGE_LEN - r#"{"event":"x","pad":""}"#.len();
    let text = format!(r#"{{"event":"x","pad":"{}"}}"#, "a".repeat(filler));
    assert_eq!(text.len(), MAX_MESSAGE_LEN);
    assert!(matches!(
        Inbound::decode(&text),
        Ok(Inbound::Unknown { .. })
    ));
}

#[test]
fn payloads_decode_into_a_reused_buffer() {
    let mut out = Vec::new();
    decode_payload("/////w==", &mut out).unwrap();
    assert_eq!(out, [0xff, 0xff, 0xff, 0xff]);
    // Appends.
    decode_payload("AAE=", &mut out).unwrap();
    assert_eq!(out, [0xff, 0xff, 0xff, 0xff, 0x00, 0x01]);
    // Missing padding is tolerated.
    out.clear();
    decode_payload("AAE", &mut out).unwrap();
    assert_eq!(out, [0x00, 0x01]);
    // Empty is fine.
    out.clear();
    decode_payload("", &mut out).unwrap();
    assert!(out.is_empty());
    // Any frame size: 160 bytes (20 ms) or 1 byte or 8000 bytes (1 s).
    for len in [1usize, 159, 160, 161, 320, 8000, MAX_PAYLOAD_BYTES] {
        let audio: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        out.clear();
        decode_payload(&encode_payload(&audio), &mut out).unwrap();
        assert_eq!(out, audio);
    }
}

#[test]
fn bad_payloads_are_rejected_and_leave_the_buffer_alone() {
    let mut out = vec![7u8, 7];
    for bad in [
        "not base64!",
        "////\n////",
        "-_-_",
        "AAE=AAE=",
        "A",
        "AAF=", // non-canonical trailing bits
    ] {
        assert!(
            matches!(
                decode_payload(bad, &mut out),
                Err(StreamError::InvalidBase64(_))
            ),
            "{bad:?}"
        );
        assert_eq!(out, [7, 7], "{bad:?}");
    }
    let too_big = encode_payload(&vec![0u8; MAX_PAYLOAD_BYTES + 1]);
    assert!(matches!(
        decode_payload(&too_big, &mut out),
        Err(StreamError::PayloadTooLarge { .. })
    ));
    assert_eq!(out, [7, 7]);
    // Huge junk is refused from its length alone.
    let junk = "!".repeat(10 * MAX_PAYLOAD_BYTES);
    assert!(matches!(
        decode_payload(&junk, &mut out),
        Err(StreamError::PayloadTooLarge { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    // Any characters, including quotes, backslashes, controls and non-ASCII.
    "\\PC{0,12}|[\"\\\\\u{0}-\u{1f}é€😀]{0,6}"
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(text())
}

fn payload() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..400).prop_map(|b| encode_payload(&b))
}

fn known(event: &str) -> bool {
    matches!(
        event,
        "connected" | "start" | "media" | "dtmf" | "mark" | "stop" | "clear"
    )
}

fn inbound() -> impl Strategy<Value = Inbound> {
    let seq = any::<u64>();
    prop_oneof![
        (opt_text(), opt_text())
            .prop_map(|(protocol, version)| Inbound::Connected(Connected { protocol, version })),
        (
            seq,
            text(),
            opt_text(),
            text(),
            prop::collection::vec(text(), 0..3),
            prop::collection::btree_map(text(), text(), 0..4),
            prop::option::of((text(), any::<u32>(), any::<u16>())),
        )
            .prop_map(
                |(
                    sequence_number,
                    stream_sid,
                    account_sid,
                    call_sid,
                    tracks,
                    custom_parameters,
                    format,
                )| {
                    Inbound::Start(Start {
                        sequence_number,
                        stream_sid,
                        account_sid,
                        call_sid,
                        tracks,
                        custom_parameters,
                        media_format: format.map(|(encoding, sample_rate, channels)| MediaFormat {
                            encoding,
                            sample_rate,
                            channels,
                        }),
                    })
                }
            ),
        (
            seq,
            text(),
            opt_text(),
            prop::option::of(any::<u64>()),
            prop::option::of(any::<u64>()),
            payload()
        )
            .prop_map(
                |(sequence_number, stream_sid, track, chunk, timestamp, payload)| {
                    Inbound::Media(Media {
                        sequence_number,
                        stream_sid,
                        track,
                        chunk,
                        timestamp,
                        payload,
                    })
                }
            ),
        (seq, text(), opt_text(), text()).prop_map(
            |(sequence_number, stream_sid, track, digit)| {
                Inbound::Dtmf(Dtmf {
                    sequence_number,
                    stream_sid,
                    track,
                    digit,
                })
            }
        ),
        (seq, text(), text()).prop_map(|(sequence_number, stream_sid, name)| {
            Inbound::Mark(Mark {
                sequence_number,
                stream_sid,
                name,
            })
        }),
        (seq, text(), opt_text(), opt_text()).prop_map(
            |(sequence_number, stream_sid, account_sid, call_sid)| {
                Inbound::Stop(Stop {
                    sequence_number,
                    stream_sid,
                    account_sid,
                    call_sid,
                })
            }
        ),
        text()
            .prop_filter("unknown events only", |e| !known(e))
            .prop_map(|event| Inbound::Unknown { event }),
    ]
}

fn outbound() -> impl Strategy<Value = Outbound> {
    prop_oneof![
        (text(), payload()).prop_map(|(stream_sid, payload)| Outbound::Media {
            stream_sid,
            payload
        }),
        (text(), text()).prop_map(|(stream_sid, name)| Outbound::Mark { stream_sid, name }),
        text().prop_map(|stream_sid| Outbound::Clear { stream_sid }),
        text()
            .prop_filter("unknown events only", |e| !known(e))
            .prop_map(|event| Outbound::Unknown { event }),
    ]
}

proptest! {
    #[test]
    fn inbound_round_trip(message in inbound()) {
        let text = message.encode();
        prop_assert_eq!(Inbound::decode(&text).unwrap(), message);
    }

    #[test]
    fn outbound_round_trip(message in outbound()) {
        let text = message.encode();
        prop_assert_eq!(Outbound::decode(&text).unwrap(), message);
    }

    #[test]
    fn payload_round_trip(audio in prop::collection::vec(any::<u8>(), 0..2000)) {
        let mut out = vec![1, 2, 3];
        decode_payload(&encode_payload(&audio), &mut out).unwrap();
        prop_assert_eq!(&out[..3], &[1, 2, 3]);
        prop_assert_eq!(&out[3..], &audio[..]);
    }

    #[test]
    fn decoding_never_panics_on_arbitrary_text(text in "\\PC{0,300}") {
        let _ = Inbound::decode(&text);
        let _ = Outbound::decode(&text);
        let _ = decode_payload(&text, &mut Vec::new());
    }

    #[test]
    fn decoding_never_panics_on_mutated_messages(
        which in 0usize..9,
        cut in any::<prop::sample::Index>(),
        insert in "\\PC{0,8}",
    ) {
        let base = [CONNECTED, START, MEDIA, DTMF, MARK, STOP, OUT_MEDIA, OUT_MARK, OUT_CLEAR][which];
        let mut at = cut.index(base.len() + 1);
        while !base.is_char_boundary(at) {
            at -= 1;
        }
        let text = format!("{}{}{}", &base[..at], insert, &base[at..]);
        for candidate in [text.as_str(), &base[..at]] {
            if let Ok(m) = Inbound::decode(candidate) {
                prop_assert_eq!(Inbound::decode(&m.encode()).unwrap(), m);
            }
            if let Ok(m) = Outbound::decode(candidate) {
                prop_assert_eq!(Outbound::decode(&m.encode()).unwrap(), m);
            }
        }
    }
}
