//! `webhook::parse_form` and `webhook::Form` decode exactly like `url::form_urlencoded` (which
//! the server used before): a property test over arbitrary bytes and over bodies built from
//! escapes, plus the edge cases by name.
#![allow(clippy::unwrap_used)]

use hotline_twilio::webhook::{Form, parse_form};
use proptest::prelude::*;

fn reference(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// `Form`'s pairs, owned, for comparison with the reference.
fn form(body: &[u8]) -> Vec<(String, String)> {
    Form::parse(body)
        .pairs()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn edge_cases_match_the_reference() {
    for body in [
        &b""[..],
        b"&",
        b"&&a=1&&",
        b"a",
        b"a=",
        b"=b",
        b"a=b=c",
        b"From=%2B33612345678&SpeechResult=j%27ai+des+sympt%C3%B4mes",
        b"bad=%zz&cut=%4&end=%",
        b"latin1=caf%E9&raw=\xff\xfe",
        b"plus=a+b%2Bc",
        b"Digits=1%23&Confidence=0.92",
    ] {
        assert_eq!(
            parse_form(body),
            reference(body),
            "{:?}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(
            form(body),
            reference(body),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
    // A character split over two components is replaced in each, not glued back together.
    assert_eq!(form(b"a=%C3&%A9=b"), reference(b"a=%C3&%A9=b"));
    let f = Form::parse(b"CallSid=CA1&Digits=1&Digits=2");
    assert_eq!(f.get("Digits"), Some("1"));
    assert_eq!(f.get("Missing"), None);
    assert_eq!(f.len(), 3);
    assert_eq!(
        parse_form(b"SpeechResult=oui+merci&CallSid=CA1"),
        vec![
            ("SpeechResult".to_owned(), "oui merci".to_owned()),
            ("CallSid".to_owned(), "CA1".to_owned())
        ]
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_match_the_reference(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        prop_assert_eq!(parse_form(&body), reference(&body));
        prop_assert_eq!(form(&body), reference(&body));
    }

    #[test]
    fn escaped_bodies_match_the_reference(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("&".to_owned()), Just("=".to_owned()), Just("+".to_owned()),
                Just("%".to_owned()), Just("%2B".to_owned()), Just("%C3%A9".to_owned()),
                Just("%e9".to_owned()), Just("%F0%9F%93%9E".to_owned()), "[a-zA-Z0-9]{1,6}",
            ],
            0..30,
        )
    ) {
        let body = parts.concat();
        prop_assert_eq!(parse_form(body.as_bytes()), reference(body.as_bytes()));
        prop_assert_eq!(form(body.as_bytes()), reference(body.as_bytes()));
    }

    /// Whatever the emulator signs and sends comes back as the same pairs. Values run past
    /// the length at which the decoder switches from a byte loop to `memchr` (48 bytes).
    #[test]
    fn serialized_pairs_round_trip(pairs in proptest::collection::vec(("\\PC{0,12}", "\\PC{0,80}"), 0..10)) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .finish();
        prop_assert_eq!(form(body.as_bytes()), pairs.clone());
        prop_assert_eq!(parse_form(body.as_bytes()), pairs);
    }
}
