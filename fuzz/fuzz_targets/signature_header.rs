//! Fuzz target: `X-Twilio-Signature` parsing and validation.
//!
//! `parse_header` must accept or refuse any bytes without panicking; every validator must
//! refuse (or, astronomically rarely, accept) arbitrary headers, URLs and bodies without
//! panicking; and a signature computed over parameters derived from the input must always
//! validate. This target must not do I/O.
#![no_main]

use hotline_twilio::signature::{PublicBase, Validator, compute, parse_header};
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "12345";
const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

fuzz_target!(|data: &[u8]| {
    let _ = parse_header(data);

    // Parameters derived from the data, form-style: `a=1&b=2&a=3`.
    let text = String::from_utf8_lossy(data);
    let params: Vec<(String, String)> = text
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();

    let validator = Validator::new(TOKEN);
    let _ = validator.validate_form(URL, &params, Some(data));

    let signature = compute(TOKEN, URL, &params);
    assert_eq!(
        validator.validate_form(URL, &params, Some(signature.as_bytes())),
        Ok(()),
        "a computed signature must validate"
    );

    // The data as a URL: port handling and query parsing on arbitrary text.
    let _ = validator.validate_query(&text, Some(data));
    let _ = validator.validate_body(&text, data, Some(signature.as_bytes()));
    let _ = validator.validate_websocket(&text, Some(data));
    let signed_url = compute(TOKEN, &text, &[]);
    if text.contains("://") {
        assert_eq!(
            validator.validate_query(&text, Some(signed_url.as_bytes())),
            Ok(()),
            "a URL signed as given must validate"
        );
    }
    if let Ok(base) = PublicBase::parse(&text) {
        let _ = base.websocket_url("/media");
        let _ = base.http_url("voice");
    }
});
