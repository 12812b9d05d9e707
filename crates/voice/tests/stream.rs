#![allow(clippy::unwrap_used)]
//! The Media Streams session: lifecycle, bad input counted and survived, play/mark/clear.

mod common;

use common::*;
use hotline_twilio::stream::{Outbound, encode_payload};
use hotline_voice::stream::PlayError;
use hotline_voice::{Event, SessionConfig, SessionEvent, StreamSession};

const SID: &str = "MZ00000000000000000000000000000001";

fn start() -> String {
    format!(
        r#"{{"event":"start","sequenceNumber":"1","streamSid":"{SID}","start":{{"streamSid":"{SID}","accountSid":"AC1","callSid":"CA1","tracks":["inbound"],"customParameters":{{"flow":"triage"}},"mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}}}}"#
    )
}

fn media(seq: u64, payload: &[u8]) -> String {
    format!(
        r#"{{"event":"media","sequenceNumber":"{seq}","streamSid":"{SID}","media":{{"track":"inbound","chunk":"{seq}","timestamp":"{}","payload":"{}"}}}}"#,
        seq.saturating_sub(2) * 20,
        encode_payload(payload)
    )
}

fn session(vad: Box<dyn hotline_voice::Vad>) -> StreamSession {
    let mut s = StreamSession::new(SessionConfig::default(), vad).unwrap();
    s.handle_text(r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#);
    s.handle_text(&start());
    s
}

fn events(s: &mut StreamSession) -> Vec<SessionEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn outbound(s: &mut StreamSession) -> Vec<Outbound> {
    std::iter::from_fn(|| s.poll_outbound()).collect()
}

#[test]
fn lifecycle_start_media_stop() {
    let mut s = session(Box::new(LevelVad));
    let ev = events(&mut s);
    let [SessionEvent::Started(info)] = ev.as_slice() else {
        panic!("{ev:?}")
    };
    assert_eq!(info.call_sid, "CA1");
    assert_eq!(info.custom_parameters["flow"], "triage");
    let mut seq = 2;
    for p in [0.0, 0.9, 0.0] {
        for _ in 0..40 {
            s.handle_text(&media(seq, &level_frame(p)));
            seq += 1;
        }
    }
    let ev = events(&mut s);
    assert!(matches!(
        ev.as_slice(),
        [
            SessionEvent::Voice(Event::SpeechStarted { at_ms: 800 }),
            SessionEvent::Voice(Event::Utterance { .. })
        ]
    ));
    s.handle_text(&format!(
        r#"{{"event":"stop","sequenceNumber":"{seq}","streamSid":"{SID}","stop":{{"accountSid":"AC1","callSid":"CA1"}}}}"#
    ));
    assert_eq!(events(&mut s), [SessionEvent::Stopped]);
    s.handle_text(&media(seq + 1, &[0xFF; 160]));
    assert_eq!(s.stats().out_of_order, 1);
    assert_eq!(s.stats().media, 120);
}

#[test]
fn bad_messages_are_counted_never_fatal() {
    let mut s = StreamSession::new(SessionConfig::default(), Box::new(LevelVad)).unwrap();
    s.handle_text(&media(2, &[0xFF; 160])); // before start
    s.handle_text(&start());
    s.handle_text(&start()); // a second start
    s.handle_text("not json");
    s.handle_text(r#"{"event":"media","sequenceNumber":"3"}"#); // no streamSid
    s.handle_text(r#"{"event":"transcription","x":[1,2]}"#);
    s.handle_text(&format!(
        r#"{{"event":"media","sequenceNumber":"4","streamSid":"{SID}","media":{{"payload":"!!!not base64"}}}}"#
    ));
    s.handle_text(&format!(
        r#"{{"event":"media","sequenceNumber":"5","streamSid":"{SID}","media":{{"payload":"{}"}}}}"#,
        "A".repeat(120_000)
    ));
    s.handle_text(&"x".repeat(300 * 1024));
    s.handle_text(
        r#"{"event":"media","sequenceNumber":"6","streamSid":"MZother","media":{"payload":"AAAA"}}"#,
    );
    s.handle_text(&format!(
        r#"{{"event":"media","sequenceNumber":"7","streamSid":"{SID}","media":{{"track":"outbound","payload":"AAAA"}}}}"#
    ));
    s.handle_text(&format!(
        r#"{{"event":"dtmf","sequenceNumber":"8","streamSid":"{SID}","dtmf":{{"digit":"12"}}}}"#
    ));
    s.handle_text(&format!(
        r#"{{"event":"mark","sequenceNumber":"9","streamSid":"{SID}","mark":{{"name":"never-sent"}}}}"#
    ));
    let st = s.stats();
    assert_eq!(st.messages, 13);
    assert_eq!(st.out_of_order, 2);
    assert_eq!(st.malformed, 2);
    assert_eq!(st.unknown_events, 1);
    assert_eq!(st.invalid_payloads, 1);
    assert_eq!(st.oversized_payloads, 1);
    assert_eq!(st.too_long, 1);
    assert_eq!(st.wrong_stream, 1);
    assert_eq!(st.outbound_track, 1);
    assert_eq!(st.invalid_digits, 1);
    assert_eq!(st.stale_marks, 1);
    assert_eq!(st.media, 0);
    // Still alive.
    s.handle_text(&media(10, &[0xFF; 160]));
    assert_eq!(s.stats().media, 1);
}

#[test]
fn play_chunks_audio_and_marks_the_end() {
    let mut s = session(Box::new(LevelVad));
    events(&mut s);
    s.play(&[0xFF; 8000], "greeting").unwrap(); // 1 s: 3 chunks of 400 ms
    let out = outbound(&mut s);
    assert_eq!(out.len(), 4);
    assert!(matches!(&out[3], Outbound::Mark { name, .. } if name == "greeting"));
    assert!(s.pipeline().is_bot_speaking());
    s.handle_text(&format!(
        r#"{{"event":"mark","sequenceNumber":"3","streamSid":"{SID}","mark":{{"name":"greeting"}}}}"#
    ));
    assert!(matches!(
        events(&mut s).as_slice(),
        [SessionEvent::Voice(Event::PlaybackFinished { .. })]
    ));
    assert_eq!(s.pending_marks(), 0);
}

#[test]
fn barge_in_clears_and_forgets_pending_marks() {
    let mut s = session(Box::new(LevelVad));
    events(&mut s);
    s.play(&[0xFF; 80_000], "long-prompt").unwrap(); // 10 s
    let sent = outbound(&mut s).len();
    assert_eq!(sent, 26);
    s.play(&[0xFF; 8000], "follow-up").unwrap(); // queued, not yet sent
    let mut seq = 2;
    for p in [0.0, 0.9] {
        for _ in 0..30 {
            s.handle_text(&media(seq, &level_frame(p)));
            seq += 1;
        }
    }
    let ev = events(&mut s);
    assert!(
        matches!(
            ev.first(),
            Some(SessionEvent::Voice(Event::BargeIn { at_ms: 1000 }))
        ),
        "{ev:?}"
    );
    // Unsent audio dropped, one clear queued.
    assert_eq!(
        outbound(&mut s),
        [Outbound::Clear {
            stream_sid: SID.into()
        }]
    );
    assert_eq!(s.pending_marks(), 0);
    // Twilio echoes the cleared mark: ignored, counted.
    s.handle_text(&format!(
        r#"{{"event":"mark","sequenceNumber":"{seq}","streamSid":"{SID}","mark":{{"name":"long-prompt"}}}}"#
    ));
    assert_eq!(s.stats().stale_marks, 1);
    assert!(events(&mut s).is_empty());
}

#[test]
fn unidirectional_streams_cannot_play() {
    let mut s = StreamSession::new(
        SessionConfig {
            bidirectional: false,
            ..SessionConfig::default()
        },
        Box::new(LevelVad),
    )
    .unwrap();
    assert_eq!(s.play(&[0xFF; 160], "x"), Err(PlayError::NotBidirectional));
    let mut s = StreamSession::new(SessionConfig::default(), Box::new(LevelVad)).unwrap();
    assert_eq!(s.play(&[0xFF; 160], "x"), Err(PlayError::NotStreaming));
}

#[test]
fn a_flood_of_messages_keeps_memory_bounded() {
    let mut s = session(Box::new(ScriptedVad::new(vec![], 0.9)));
    let text = media(2, &[0x40; 160]);
    let n = if cfg!(debug_assertions) {
        100_000
    } else {
        1_000_000
    };
    for _ in 0..n {
        s.handle_text(&text);
        s.handle_text("{\"event\":\"junk\"}");
    }
    assert_eq!(s.stats().media, n);
    assert_eq!(s.stats().unknown_events, n);
    assert!(s.queued_events() <= hotline_voice::stream::MAX_SESSION_EVENTS);
    assert_eq!(s.queued_outbound(), 0);
    let p = s.pipeline();
    assert!(p.buffered_samples() <= p.max_buffered_samples() + 32 * p.max_utterance_samples());
}

#[test]
fn lookahead_gives_the_audio_the_vad_will_get_and_two_phases_equal_handle_text() {
    use hotline_audio::g711::ulaw_to_linear;
    let payload: Vec<u8> = (0..160u32).map(|i| (i * 37 % 256) as u8).collect();
    let mut one = session(Box::new(LevelVad));
    let mut two = session(Box::new(LevelVad));
    let mut audio = Vec::new();
    let text = media(2, &payload);
    let message = two.decode_text(&text).unwrap();
    assert!(two.vad_lookahead(&message, &mut audio));
    let want: Vec<i16> = payload.iter().map(|&b| ulaw_to_linear(b)).collect();
    assert_eq!(audio, want);
    two.handle_inbound(message);
    one.handle_text(&text);
    assert_eq!(one.stats(), two.stats());
    // Not media, another stream, or not listening: no audio for the VAD.
    let other = text.replace(SID, "MZ00000000000000000000000000000002");
    let message = two.decode_text(&other).unwrap();
    assert!(!two.vad_lookahead(&message, &mut audio));
    assert!(audio.is_empty());
    two.pipeline_mut().stop_listening();
    let message = two.decode_text(&media(3, &payload)).unwrap();
    assert!(!two.vad_lookahead(&message, &mut audio));
    // Texts that do not decode are counted as by handle_text.
    assert!(two.decode_text("{not json").is_none());
    assert_eq!(two.stats().malformed, 1);
}
