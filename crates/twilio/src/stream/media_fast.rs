//! The fast path of [`Inbound::decode`](super::Inbound::decode) for the message that is 99 % of
//! the traffic: `media`, 50 of them a second per call.
//!
//! The general decoder reads the envelope with `serde_json`, keeping every field raw until the
//! event is known, then parses the event's object a second time. For a `media` message of 20 ms
//! that costs about as much as the voice activity detection of the audio it carries. This
//! matcher accepts only the exact text Twilio sends (and [`Inbound::encode`](super::Inbound::encode)
//! writes): the keys in Twilio's order, numbers as strings of digits, no whitespace, no escape
//! sequence. Anything else — another event, another order, a missing or extra key, an escape,
//! a control character, a number too large — returns `None`, and the general decoder decides.
//! What it accepts it decodes exactly as the general decoder does; property tests in this
//! module check the two against each other on such messages and on mutations of them.

use super::Media;

/// Decodes `text` if it is a `media` message exactly as Twilio writes one; `None` means "use
/// the general decoder".
pub(super) fn media(text: &str) -> Option<Media> {
    let rest = text.strip_prefix(r#"{"event":"media","sequenceNumber":""#)?;
    let (sequence_number, rest) = digits(rest)?;
    let rest = rest.strip_prefix(r#","streamSid":""#)?;
    let (stream_sid, rest) = plain_string(rest)?;
    let rest = rest.strip_prefix(r#","media":{"track":""#)?;
    let (track, rest) = plain_string(rest)?;
    let rest = rest.strip_prefix(r#","chunk":""#)?;
    let (chunk, rest) = digits(rest)?;
    let rest = rest.strip_prefix(r#","timestamp":""#)?;
    let (timestamp, rest) = digits(rest)?;
    let rest = rest.strip_prefix(r#","payload":""#)?;
    let (payload, rest) = plain_string(rest)?;
    if rest != "}}" {
        return None;
    }
    Some(Media {
        sequence_number,
        stream_sid: stream_sid.to_owned(),
        track: Some(track.to_owned()),
        chunk: Some(chunk),
        timestamp: Some(timestamp),
        payload: payload.to_owned(),
    })
}

/// A JSON string's remaining content made only of decimal digits (at least one), its closing
/// quote, and a value that fits in a `u64`: the value and the text after the quote.
fn digits(text: &str) -> Option<(u64, &str)> {
    let len = text.bytes().take_while(u8::is_ascii_digit).count();
    if len == 0 || text.as_bytes().get(len) != Some(&b'"') {
        return None;
    }
    let value = text.get(..len)?.parse().ok()?;
    Some((value, text.get(len + 1..)?))
}

/// A JSON string's remaining content up to its closing quote, when it holds no escape
/// sequence and no control character (the general decoder handles the first and refuses the
/// second): the content and the text after the quote.
fn plain_string(text: &str) -> Option<(&str, &str)> {
    /// A byte that ends the plain run: the quote, an escape, or a control character.
    fn special(b: u8) -> bool {
        (b == b'"') | (b == b'\\') | (b < 0x20)
    }
    let bytes = text.as_bytes();
    // Skip whole chunks first: a branch-free test of 32 bytes compiles to a few vector
    // compares, where a byte-by-byte search takes three branches per byte of the payload.
    let mut start = 0;
    for chunk in bytes.chunks_exact(32) {
        if chunk.iter().fold(false, |any, &b| any | special(b)) {
            break;
        }
        start += chunk.len();
    }
    let len = start + bytes.get(start..)?.iter().position(|&b| special(b))?;
    if bytes.get(len) != Some(&b'"') {
        return None;
    }
    // The quote is ASCII: both slices start and end on character boundaries.
    Some((text.get(..len)?, text.get(len + 1..)?))
}

#[cfg(test)]
mod tests {
    use super::super::{Inbound, StreamError};
    use super::*;
    use proptest::prelude::*;

    const TWILIO: &str = r#"{"event":"media","sequenceNumber":"3","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"no+JhoaJjpzSHxAKBgYJDhtEopGKh4aIjZm7JhILBwYIDRY1qZWMiIaHi5SsLRYNCAYHChEnt5iOiYaHipGjOxsPCQcHCQ8fzJ2QioeHiY+eTyARCwcHCA4ZWqOUjIiHiIyYsCoVDQkHBwsRI7iaj4qHh4qQoD0bDwkHBwkPHc2dkIqHh4mPnVAfEQsIBwgNGFmjlIyIh4iMmK8pFQ0JBwcLESO4mo+Kh4eKkKA9Gw8JBwcJDx3NnZCKh4eJj51QHxELCAcIDRhZo5SMiIeIjJivKRUNCQcHCxEjuJqPioeHipCgPRsPCQcHCQ8dzZ2QioeHiY+dUB8RCwgHCA0YWaOUjIiHiIyYrykVDQkHBwsRI7iaj4qHh4qQoD0bDw=="}}"#;

    /// The general decoder: what the fast path must agree with.
    fn general(text: &str) -> Result<Inbound, StreamError> {
        Inbound::decode_general(text)
    }

    #[test]
    fn decodes_twilios_media_message_as_the_general_decoder_does() {
        let fast = media(TWILIO).expect("Twilio's own message takes the fast path");
        let Ok(Inbound::Media(slow)) = general(TWILIO) else {
            panic!("the general decoder reads Twilio's message");
        };
        assert_eq!(fast, slow);
        assert_eq!(fast.sequence_number, 3);
        assert_eq!(fast.chunk, Some(1));
        assert_eq!(fast.timestamp, Some(5));
    }

    #[test]
    fn gives_up_on_anything_unusual() {
        for text in [
            // Other events and shapes.
            r#"{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{}}"#,
            r#"{"event":"media","sequenceNumber":"1","streamSid":"MZ1"}"#,
            r#"{"event":"media","sequenceNumber":"1","media":{"payload":""}}"#,
            r#"{"sequenceNumber":"1","streamSid":"MZ1","media":{"payload":""}}"#,
            // Escapes, nulls, repeats, extra keys, odd numbers, trailing text.
            r#"{"event":"media","sequenceNumber":"1","streamSid":"MZ\u0031","media":{"payload":""}}"#,
            r#"{"event":"media","sequenceNumber":"1","streamSid":"MZ1","media":{"track":null,"payload":""}}"#,
            r#"{"event":"media","event":"media","sequenceNumber":"1","streamSid":"MZ1","media":{"payload":""}}"#,
            r#"{"event":"media","sequenceNumber":"1","streamSid":"MZ1","media":{"payload":""},"x":1}"#,
            r#"{"event":"media","sequenceNumber":01,"streamSid":"MZ1","media":{"payload":""}}"#,
            r#"{"event":"media","sequenceNumber":1.0,"streamSid":"MZ1","media":{"payload":""}}"#,
            r#"{"event":"media","sequenceNumber":"-1","streamSid":"MZ1","media":{"payload":""}}"#,
            r#"{"event":"media","sequenceNumber":"99999999999999999999","streamSid":"MZ1","media":{"payload":""}}"#,
            r#"{"event":"media","sequenceNumber":"1","streamSid":"MZ1","media":{"payload":""}} x"#,
            r#"{"event":"media","sequenceNumber":"1","streamSid":"MZ1","media":{"payload":""},}"#,
            "{\"event\":\"media\",\"sequenceNumber\":\"1\",\"streamSid\":\"MZ\t1\",\"media\":{\"payload\":\"\"}}",
        ] {
            assert_eq!(media(text), None, "{text}");
        }
    }

    #[test]
    fn other_orders_and_forms_are_left_to_the_general_decoder() {
        for text in [
            " {\"event\":\"media\",\"sequenceNumber\":\"1\",\"streamSid\":\"MZ1\",\"media\":{\"track\":\"inbound\",\"chunk\":\"1\",\"timestamp\":\"0\",\"payload\":\"AAAA\"}}",
            r#"{"event":"media","sequenceNumber":1,"streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"AAAA"}}"#,
            r#"{"sequenceNumber":"1","event":"media","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"AAAA"}}"#,
            r#"{"event":"media","sequenceNumber":"1","streamSid":"MZ1","media":{"chunk":"1","timestamp":"0","payload":"AAAA"}}"#,
            r#"{"event":"media","sequenceNumber":"1","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"AAAA"}} "#,
        ] {
            assert_eq!(media(text), None, "{text}");
            assert!(
                matches!(general(text), Ok(Inbound::Media(_))),
                "the general decoder reads {text}"
            );
        }
    }

    fn mutations() -> impl Strategy<Value = String> {
        // Twilio's message with a few bytes replaced, inserted or removed.
        let edits = prop::collection::vec(
            (
                0..TWILIO.len(),
                prop::sample::select(b" \t\"\\{}[],:0-1.eE9nul\x01aA".to_vec()),
                0..3u8,
            ),
            1..4,
        );
        edits.prop_map(|edits| {
            let mut bytes = TWILIO.as_bytes().to_vec();
            for (at, byte, kind) in edits {
                let at = at.min(bytes.len().saturating_sub(1));
                match kind {
                    0 => bytes[at] = byte,
                    1 => bytes.insert(at, byte),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    }

    /// `media` messages in Twilio's exact form, with varied values.
    fn plain_media() -> impl Strategy<Value = String> {
        let num = prop_oneof![any::<u64>().prop_map(|n| n.to_string()), "0[0-9]{0,3}"];
        (
            num.clone(),
            "[A-Za-z0-9é ]{0,12}",
            "[a-z_]{0,10}",
            num.clone(),
            num,
            "[A-Za-z0-9+/=]{0,40}",
        )
            .prop_map(|(seq, sid, track, chunk, ts, payload)| {
                format!(
                    r#"{{"event":"media","sequenceNumber":"{seq}","streamSid":"{sid}","media":{{"track":"{track}","chunk":"{chunk}","timestamp":"{ts}","payload":"{payload}"}}}}"#
                )
            })
    }

    proptest! {
        #[test]
        fn plain_messages_take_the_fast_path_and_decode_the_same(text in plain_media()) {
            let fast = media(&text);
            prop_assert!(fast.is_some(), "{}", text);
            prop_assert_eq!(fast.map(Inbound::Media), general(&text).ok());
        }

        #[test]
        fn whatever_the_fast_path_accepts_decodes_the_same(text in mutations()) {
            if let Some(fast) = media(&text) {
                prop_assert_eq!(Some(Inbound::Media(fast)), general(&text).ok(), "{}", text);
            }
        }
    }
}
