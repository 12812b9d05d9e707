//! Fuzz target for the TwiML parser: arbitrary bytes must never make `parse` panic, and any
//! document that parses must survive a round trip (render, re-parse, get the same model back,
//! with no warning other than an empty `<Say>`).
//!
//! This target must not do I/O or keep state between runs.
#![no_main]

use hotline_twilio::twiml::{Code, MAX_INPUT_BYTES, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = parse(text) else {
        return;
    };
    let xml = parsed.response.to_xml();
    if xml.len() > MAX_INPUT_BYTES {
        // Escaping can make the rendering longer than the input; over the limit is not a bug.
        return;
    }
    let again = match parse(&xml) {
        Ok(again) => again,
        Err(e) => panic!("rendered TwiML does not parse: {e}\ninput: {text:?}\nrendered: {xml:?}"),
    };
    assert_eq!(
        again.response, parsed.response,
        "round trip changed the model\ninput: {text:?}\nrendered: {xml:?}"
    );
    assert!(
        again.warnings.iter().all(|w| w.code == Code::EmptySay),
        "rendered TwiML has warnings {:?}\nrendered: {xml:?}",
        again.warnings
    );
});
