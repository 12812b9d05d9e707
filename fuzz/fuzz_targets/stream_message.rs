//! Fuzz target: Media Streams message decoding, both directions.
//!
//! Any text must decode or fail cleanly (never panic); a message that decodes must re-encode
//! to text that decodes back to the same message; a decoded audio payload must decode or fail
//! cleanly. This target must not do I/O.
#![no_main]

use hotline_twilio::stream::{Inbound, MAX_MESSAGE_LEN, Outbound, decode_payload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // WebSocket text frames are UTF-8 by definition.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut audio = Vec::new();

    if let Ok(message) = Inbound::decode(text) {
        let encoded = message.encode();
        // Re-encoding can grow a message (a `start` repeats its streamSid); past the length
        // limit the re-decode is refused by design.
        if encoded.len() <= MAX_MESSAGE_LEN {
            let again = Inbound::decode(&encoded).expect("re-encoded inbound message must decode");
            assert_eq!(again, message, "inbound round trip changed the message");
        }
        if let Inbound::Media(media) = &message {
            let _ = decode_payload(&media.payload, &mut audio);
        }
    }

    if let Ok(message) = Outbound::decode(text) {
        let encoded = message.encode();
        if encoded.len() <= MAX_MESSAGE_LEN {
            let again =
                Outbound::decode(&encoded).expect("re-encoded outbound message must decode");
            assert_eq!(again, message, "outbound round trip changed the message");
        }
        if let Outbound::Media { payload, .. } = &message {
            let _ = decode_payload(payload, &mut audio);
        }
    }
});
