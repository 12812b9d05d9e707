//! Tests of `X-Twilio-Signature`: every published vector (Twilio's security docs and
//! twilio-python's `tests/unit/test_request_validator.py`), port variants both ways, the
//! `bodySHA256` and WebSocket cases, tampering, and properties.
//!
//! These tests must not reach the network.

use std::collections::BTreeMap;

use hotline_twilio::signature::{
    self, PublicBase, PublicBaseError, SignatureError, Validator, body_sha256_hex, compute,
    parse_header,
};
use proptest::prelude::*;

const TOKEN: &str = "12345";
const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Twilio's security documentation example.
fn docs_params() -> Vec<(String, String)> {
    params(&[
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ])
}

/// twilio-python's test parameters, deliberately not sorted.
fn python_params() -> Vec<(String, String)> {
    params(&[
        ("CallSid", "CA1234567890ABCDE"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
        ("Caller", "+14158675309"),
    ])
}

fn header(sig: &str) -> Option<&[u8]> {
    Some(sig.as_bytes())
}

#[test]
fn twilio_docs_vector() {
    assert_eq!(
        compute(TOKEN, URL, &docs_params()),
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    );
    let v = Validator::new(TOKEN);
    assert_eq!(
        v.validate_form(URL, &docs_params(), header("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")),
        Ok(())
    );
}

#[test]
fn borrowed_pairs_validate_like_owned_params() {
    let v = Validator::new(TOKEN);
    let docs = docs_params();
    let borrowed = docs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    assert_eq!(
        v.validate_form_pairs(
            URL,
            borrowed.clone(),
            header("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        ),
        Ok(())
    );
    assert_eq!(
        v.validate_form_pairs(URL, borrowed, header("RSOYDt4T1cUTdK1PDd93/VVr8B8=")),
        Err(SignatureError::Mismatch)
    );
    // Unsorted, with a repeated pair (appended once) and the port variant.
    let mut python = python_params();
    python.push(("Digits".to_owned(), "1234".to_owned()));
    assert_eq!(
        v.validate_form_pairs(
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            python.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            header("RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        ),
        Ok(())
    );
}

#[test]
fn twilio_python_vector_with_unsorted_params() {
    assert_eq!(
        compute(TOKEN, URL, &python_params()),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
    let v = Validator::new(TOKEN);
    assert_eq!(
        v.validate_form(
            URL,
            &python_params(),
            header("RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        ),
        Ok(())
    );
}

#[test]
fn repeated_keys_sorted_and_deduplicated() {
    let p = params(&[
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
        ("Digits", "1234"),
    ]);
    assert_eq!(compute(TOKEN, URL, &p), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    // Without the duplicate pair the signature is the same.
    assert_eq!(compute(TOKEN, URL, &p[..4]), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
}

#[test]
fn http_url_with_explicit_port() {
    let url = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
    assert_eq!(
        compute(TOKEN, url, &python_params()),
        "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
    );
    let v = Validator::new(TOKEN);
    assert_eq!(
        v.validate_form(
            url,
            &python_params(),
            header("Zmvh+3yNM1Phv2jhDCwEM3q5ebU=")
        ),
        Ok(())
    );
}

#[test]
fn https_port_removed_when_signature_has_none() {
    // twilio-python `test_validation_removes_port_on_https`: any explicit port is also tried
    // stripped.
    let v = Validator::new(TOKEN);
    let url = "https://mycompany.com:1234/myapp.php?foo=1&bar=2";
    assert_eq!(
        v.validate_form(
            url,
            &python_params(),
            header("RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        ),
        Ok(())
    );
    // And the default port.
    let url = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    assert_eq!(
        v.validate_form(
            url,
            &python_params(),
            header("RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        ),
        Ok(())
    );
}

#[test]
fn default_port_added_when_signature_has_it() {
    let v = Validator::new(TOKEN);
    // twilio-python `test_validation_adds_port_on_https`: signed with :443.
    assert_eq!(
        compute(
            TOKEN,
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &python_params()
        ),
        "kvajT1Ptam85bY51eRf/AJRuM3w="
    );
    assert_eq!(
        v.validate_form(
            URL,
            &python_params(),
            header("kvajT1Ptam85bY51eRf/AJRuM3w=")
        ),
        Ok(())
    );
    // twilio-python `test_validation_adds_port_on_http`: signed with :80.
    let http = "http://mycompany.com/myapp.php?foo=1&bar=2";
    assert_eq!(
        v.validate_form(
            http,
            &python_params(),
            header("0ZXoZLH/DfblKGATFgpif+LLRf4=")
        ),
        Ok(())
    );
}

#[test]
fn wrong_port_is_not_added() {
    // An http URL signed with :443 is not accepted: only the scheme's default port is added.
    let v = Validator::new(TOKEN);
    let http = "http://mycompany.com/myapp.php?foo=1&bar=2";
    let sig = compute(
        TOKEN,
        "http://mycompany.com:443/myapp.php?foo=1&bar=2",
        &python_params(),
    );
    assert_eq!(
        v.validate_form(http, &python_params(), header(&sig)),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn ports_with_user_info_and_ipv6() {
    let v = Validator::new(TOKEN);
    for (seen, signed) in [
        ("https://u:p@example.com:443/x", "https://u:p@example.com/x"),
        ("https://u:p@example.com/x", "https://u:p@example.com:443/x"),
        ("https://[::1]/x", "https://[::1]:443/x"),
        ("https://[::1]:443/x", "https://[::1]/x"),
        ("https://example.com", "https://example.com:443"),
        ("https://example.com?a=b", "https://example.com:443?a=b"),
        ("wss://example.com:443/stream", "wss://example.com/stream"),
        ("ws://example.com/stream", "ws://example.com:80/stream"),
    ] {
        let sig = compute(TOKEN, signed, &[]);
        assert_eq!(v.validate_query(seen, header(&sig)), Ok(()), "{seen}");
    }
}

#[test]
fn body_sha256_vector() {
    let body = br#"{"property": "value", "boolean": true}"#;
    let hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
    assert_eq!(body_sha256_hex(body), hash);
    let url = format!("{URL}&bodySHA256={hash}");
    // twilio-python `test_validation_of_body_succeeds`.
    assert_eq!(compute(TOKEN, &url, &[]), "a9nBmqA0ju/hNViExpshrM61xv4=");
    let v = Validator::new(TOKEN);
    assert_eq!(
        v.validate_body(&url, body, header("a9nBmqA0ju/hNViExpshrM61xv4=")),
        Ok(())
    );
    // Uppercase hex in the URL is the same hash (but the URL is signed as written).
    let upper = format!("{URL}&bodySHA256={}", hash.to_uppercase());
    let sig = compute(TOKEN, &upper, &[]);
    assert_eq!(v.validate_body(&upper, body, header(&sig)), Ok(()));
}

#[test]
fn body_tampering_and_missing_hash() {
    let v = Validator::new(TOKEN);
    let body = br#"{"property": "value", "boolean": true}"#;
    let url = format!("{URL}&bodySHA256={}", body_sha256_hex(body));
    let sig = compute(TOKEN, &url, &[]);
    assert_eq!(
        v.validate_body(
            &url,
            br#"{"property":"value","boolean":true}"#,
            header(&sig)
        ),
        Err(SignatureError::BodyHashMismatch)
    );
    let sig = compute(TOKEN, URL, &[]);
    assert_eq!(
        v.validate_body(URL, body, header(&sig)),
        Err(SignatureError::MissingBodyHash)
    );
    let bad = format!("{URL}&bodySHA256=zz");
    let sig = compute(TOKEN, &bad, &[]);
    assert_eq!(
        v.validate_body(&bad, body, header(&sig)),
        Err(SignatureError::MalformedBodyHash)
    );
    // A forged hash in the URL breaks the HMAC.
    let forged = format!("{URL}&bodySHA256={}", body_sha256_hex(br#"{"evil":true}"#));
    assert_eq!(
        v.validate_body(&forged, br#"{"evil":true}"#, header(&sig)),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn get_request_signs_the_query_string() {
    let v = Validator::new(TOKEN);
    let url = "https://example.com/voice?CallSid=CA1&From=%2B15551234567";
    let sig = compute(TOKEN, url, &[]);
    assert_eq!(v.validate_query(url, header(&sig)), Ok(()));
    assert_eq!(
        v.validate_query(
            "https://example.com/voice?CallSid=CA2&From=%2B15551234567",
            header(&sig)
        ),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn websocket_handshake_signed_over_wss() {
    let v = Validator::new(TOKEN);
    let base = PublicBase::parse("https://hotline.example.com").unwrap();
    let ws = base.websocket_url("/media");
    assert_eq!(ws, "wss://hotline.example.com/media");
    let sig = compute(TOKEN, "wss://hotline.example.com/media", &[]);
    assert_eq!(v.validate_websocket(&ws, header(&sig)), Ok(()));
    // The https spelling a proxy would show is refused outright…
    assert_eq!(
        v.validate_websocket(&base.http_url("/media"), header(&sig)),
        Err(SignatureError::NotWebSocketUrl)
    );
    // …and a signature over https:// does not validate a wss:// handshake.
    let https_sig = compute(TOKEN, "https://hotline.example.com/media", &[]);
    assert_eq!(
        v.validate_websocket(&ws, header(&https_sig)),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn public_base_rebuilds_urls() {
    let base = PublicBase::parse("http://localhost:3000").unwrap();
    assert_eq!(base.websocket_url("/media"), "ws://localhost:3000/media");
    assert_eq!(
        base.http_url("/voice?x=1"),
        "http://localhost:3000/voice?x=1"
    );

    let base: PublicBase = "HTTPS://example.com/hotline/".parse().unwrap();
    assert_eq!(base.http_url("/voice"), "https://example.com/hotline/voice");
    assert_eq!(
        base.websocket_url("media"),
        "wss://example.com/hotline/media"
    );

    assert_eq!(
        PublicBase::parse("ftp://example.com"),
        Err(PublicBaseError::UnsupportedScheme)
    );
    assert_eq!(
        PublicBase::parse("example.com"),
        Err(PublicBaseError::UnsupportedScheme)
    );
    assert_eq!(
        PublicBase::parse("https:///x"),
        Err(PublicBaseError::MissingHost)
    );
    assert_eq!(
        PublicBase::parse("https://example.com/?a=b"),
        Err(PublicBaseError::UnexpectedPart)
    );
}

#[test]
fn tampering_is_rejected() {
    let v = Validator::new(TOKEN);
    let sig = compute(TOKEN, URL, &docs_params());
    // A changed value.
    let mut p = docs_params();
    p[2].1 = "9".to_owned();
    assert_eq!(
        v.validate_form(URL, &p, header(&sig)),
        Err(SignatureError::Mismatch)
    );
    // An added parameter.
    let mut p = docs_params();
    p.push(("Extra".to_owned(), String::new()));
    assert_eq!(
        v.validate_form(URL, &p, header(&sig)),
        Err(SignatureError::Mismatch)
    );
    // A removed parameter.
    assert_eq!(
        v.validate_form(URL, &docs_params()[1..], header(&sig)),
        Err(SignatureError::Mismatch)
    );
    // Another URL: path, query, host, scheme.
    for url in [
        "https://mycompany.com/myapp.php?foo=1&bar=3",
        "https://mycompany.com/other.php?foo=1&bar=2",
        "https://evil.com/myapp.php?foo=1&bar=2",
        "http://mycompany.com/myapp.php?foo=1&bar=2",
    ] {
        assert_eq!(
            v.validate_form(url, &docs_params(), header(&sig)),
            Err(SignatureError::Mismatch),
            "{url}"
        );
    }
    // Another token.
    assert_eq!(
        Validator::new("54321").validate_form(URL, &docs_params(), header(&sig)),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn header_problems() {
    let v = Validator::new(TOKEN);
    assert_eq!(
        v.validate_form(URL, &docs_params(), None),
        Err(SignatureError::MissingHeader)
    );
    for bad in [
        "",
        "   ",
        "not base64!",
        "AAAA",                             // 3 bytes
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ",      // missing padding
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ=AAAA", // 23 bytes
        "0_KCTR6DLpKmkAf8muzZqo1nDgQ=",     // URL-safe alphabet
        "0/KCTR6DLpKmkAf8muzZqo1nDgR=",     // non-canonical trailing bits
    ] {
        assert!(
            matches!(
                parse_header(bad.as_bytes()),
                Err(SignatureError::MalformedHeader { .. })
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        parse_header(&[b'A'; 10_000]),
        Err(SignatureError::MalformedHeader { .. })
    ));
    // Surrounding whitespace is tolerated.
    let tag = parse_header(b" 0/KCTR6DLpKmkAf8muzZqo1nDgQ=\t").unwrap();
    assert_eq!(tag.len(), signature::TAG_LEN);
    assert_eq!(
        v.validate_form(URL, &docs_params(), Some(b" 0/KCTR6DLpKmkAf8muzZqo1nDgQ= ")),
        Ok(())
    );
}

#[test]
fn long_and_non_ascii_tokens() {
    // Keys longer than SHA-1's 64-byte block are hashed first (RFC 2104); a validator built
    // from the token must agree with `compute`.
    for token in [
        "",
        "k",
        &"x".repeat(64),
        &"y".repeat(65),
        &"z".repeat(300),
        "ключ",
    ] {
        let sig = compute(token, URL, &docs_params());
        assert_eq!(
            Validator::new(token).validate_form(URL, &docs_params(), header(&sig)),
            Ok(()),
            "{token:?}"
        );
        // Cross-check against the hmac crate's own key handling.
        let mut mac =
            <hmac::Hmac<sha1::Sha1> as hmac::KeyInit>::new_from_slice(token.as_bytes()).unwrap();
        hmac::Mac::update(&mut mac, URL.as_bytes());
        let expected = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            hmac::Mac::finalize(mac).into_bytes(),
        );
        assert_eq!(compute(token, URL, &[]), expected, "{token:?}");
    }
}

#[test]
fn validator_debug_hides_the_token() {
    let text = format!("{:?}", Validator::new("super-secret-token"));
    assert!(!text.contains("super-secret-token"), "{text}");
}

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9]{0,12}"
}

fn value() -> impl Strategy<Value = String> {
    "[ -~]{1,24}"
}

proptest! {
    #[test]
    fn compute_then_validate_succeeds(
        token in "[ -~]{0,40}",
        path in "[a-z/]{0,20}",
        params in prop::collection::vec((name(), "[ -~é€]{0,24}"), 0..12),
    ) {
        let url = format!("https://example.com/{path}");
        let sig = compute(&token, &url, &params);
        let v = Validator::new(&token);
        prop_assert_eq!(v.validate_form(&url, &params, Some(sig.as_bytes())), Ok(()));
        // Order of the parameters does not matter.
        let mut reversed = params.clone();
        reversed.reverse();
        prop_assert_eq!(v.validate_form(&url, &reversed, Some(sig.as_bytes())), Ok(()));
    }

    #[test]
    fn any_single_byte_change_of_a_value_fails(
        params in prop::collection::btree_map(name(), value(), 1..10),
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        delta in 1u8..95,
    ) {
        let params: Vec<(String, String)> = params.into_iter().collect::<BTreeMap<_, _>>().into_iter().collect();
        let sig = compute(TOKEN, URL, &params);
        let mut tampered = params.clone();
        let target = &mut tampered[which.index(params.len())].1;
        let mut bytes = target.clone().into_bytes();
        let i = at.index(bytes.len());
        // Printable ASCII stays printable ASCII, and differs from the original byte.
        bytes[i] = b' ' + (bytes[i] - b' ' + delta) % 95;
        *target = String::from_utf8(bytes).unwrap();
        prop_assert_eq!(
            Validator::new(TOKEN).validate_form(URL, &tampered, Some(sig.as_bytes())),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn parse_header_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse_header(&bytes);
    }

    #[test]
    fn validators_never_panic(url in "\\PC{0,60}", header in "\\PC{0,40}", body in prop::collection::vec(any::<u8>(), 0..32)) {
        let v = Validator::new(TOKEN);
        let _ = v.validate_query(&url, Some(header.as_bytes()));
        let _ = v.validate_body(&url, &body, Some(header.as_bytes()));
        let _ = v.validate_websocket(&url, Some(header.as_bytes()));
        let _ = PublicBase::parse(&url);
    }
}
