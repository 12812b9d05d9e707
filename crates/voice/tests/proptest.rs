#![allow(clippy::unwrap_used)]
//! Property tests: any sequence of inputs never panics and every buffer stays within bounds.

mod common;

use common::ScriptedVad;
use hotline_twilio::stream::encode_payload;
use hotline_voice::pipeline::MAX_EVENTS;
use hotline_voice::stream::{MAX_PENDING_MARKS, MAX_SESSION_EVENTS};
use hotline_voice::{Pipeline, PipelineConfig, SessionConfig, StreamSession};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Media(Vec<u8>, Option<u64>),
    Dtmf(char),
    Mark(u8),
    BotStarted(u8, u64),
    BotStopped(u8),
    Wall(u64),
    Listen,
    StopListening,
    BargeIn(bool),
    Poll,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (prop::collection::vec(any::<u8>(), 0..500), prop::option::of(0u64..100_000))
            .prop_map(|(b, t)| Op::Media(b, t)),
        2 => any::<char>().prop_map(Op::Dtmf),
        2 => prop::sample::select(vec!['1', '#', '*', '9']).prop_map(Op::Dtmf),
        1 => (0u8..3).prop_map(Op::Mark),
        1 => ((0u8..3), 0u64..5000).prop_map(|(i, d)| Op::BotStarted(i, d)),
        1 => (0u8..3).prop_map(Op::BotStopped),
        2 => (0u64..30_000).prop_map(Op::Wall),
        1 => Just(Op::Listen),
        1 => Just(Op::StopListening),
        1 => any::<bool>().prop_map(Op::BargeIn),
        1 => Just(Op::Poll),
    ]
}

fn short_config() -> PipelineConfig {
    // Short windows so that random inputs reach every state.
    let mut c = PipelineConfig::default();
    c.endpoint.end_ms = 100;
    c.endpoint.max_utterance_ms = 600;
    c.endpoint.no_input_ms = 300;
    c.endpoint.max_turn_wall_ms = 1000;
    c.dtmf.max_digits = 5;
    c.dtmf.inter_digit_ms = 200;
    c
}

proptest! {
    #[test]
    fn pipeline_never_panics_and_stays_bounded(
        probs in prop::collection::vec(prop_oneof![Just(f32::NAN), -1.0f32..2.0, 0.0f32..1.0], 0..200),
        ops in prop::collection::vec(op(), 0..200),
    ) {
        let mut p = Pipeline::new(short_config(), Box::new(ScriptedVad::new(probs, 0.7))).unwrap();
        let mut wall = 0;
        for op in ops {
            match op {
                Op::Media(b, t) => p.handle_media(&b, t),
                Op::Dtmf(c) => p.handle_dtmf(c),
                Op::Mark(i) => p.handle_mark(&format!("m{i}")),
                Op::BotStarted(i, d) => p.bot_started_speaking(&format!("m{i}"), d),
                Op::BotStopped(i) => p.bot_stopped_speaking(&format!("m{i}")),
                Op::Wall(d) => { wall += d; p.handle_wall_clock(wall); }
                Op::Listen => p.listen(),
                Op::StopListening => p.stop_listening(),
                Op::BargeIn(b) => p.set_barge_in(b),
                Op::Poll => while p.poll_event().is_some() {},
            }
            prop_assert!(p.queued_events() <= MAX_EVENTS);
            prop_assert!(p.pending_digits().len() <= 5);
            prop_assert!(
                p.buffered_samples() <= p.max_buffered_samples() + MAX_EVENTS * p.max_utterance_samples()
            );
            if let Some(t) = p.poll_timeout() {
                // A wall deadline is never absurdly far.
                prop_assert!(t <= wall + 1000);
            }
        }
    }

    #[test]
    fn session_never_panics_on_any_text(
        texts in prop::collection::vec(
            prop_oneof![
                any::<String>(),
                (prop::collection::vec(any::<u8>(), 0..400), 0u64..10).prop_map(|(b, s)| format!(
                    r#"{{"event":"media","sequenceNumber":"{s}","streamSid":"MZ1","media":{{"timestamp":"{}","payload":"{}"}}}}"#,
                    s * 20, encode_payload(&b))),
                "[0-9#*A-Z]{0,3}".prop_map(|d| format!(
                    r#"{{"event":"dtmf","sequenceNumber":"3","streamSid":"MZ1","dtmf":{{"digit":"{d}"}}}}"#)),
                "[a-z]{1,3}".prop_map(|n| format!(
                    r#"{{"event":"mark","sequenceNumber":"3","streamSid":"MZ1","mark":{{"name":"{n}"}}}}"#)),
                Just(r#"{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"callSid":"CA1"}}"#.to_owned()),
                Just(r#"{"event":"stop","sequenceNumber":"9","streamSid":"MZ1"}"#.to_owned()),
            ],
            0..100,
        ),
        plays in prop::collection::vec((0usize..5000, "[a-z]{1,3}"), 0..5),
    ) {
        let mut s = StreamSession::new(
            SessionConfig { pipeline: short_config(), ..SessionConfig::default() },
            Box::new(ScriptedVad::new(vec![], 0.6)),
        ).unwrap();
        let mut plays = plays.into_iter();
        for (i, t) in texts.iter().enumerate() {
            s.handle_text(t);
            if i % 10 == 0 && let Some((len, name)) = plays.next() {
                let _ = s.play(&vec![0xFF; len], &name);
            }
            prop_assert!(s.queued_events() <= MAX_SESSION_EVENTS);
            prop_assert!(s.pending_marks() <= MAX_PENDING_MARKS);
        }
        prop_assert_eq!(s.stats().messages, texts.len() as u64);
    }
}
