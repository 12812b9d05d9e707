#![allow(clippy::unwrap_used)]
//! The pipeline with a scripted VAD: pre-roll, barge-in vs backchannels, DTMF, no-input in
//! audio time, playback tracking, listening, gaps, memory bounds under a flood.

mod common;

use common::*;
use hotline_voice::pipeline::{MAX_EVENTS, MAX_GAP_FILL_MS};
use hotline_voice::{DigitsEnd, DtmfConfig, EndReason, Event, Pipeline, PipelineConfig};

fn config() -> PipelineConfig {
    PipelineConfig::default()
}

#[test]
fn utterance_keeps_the_pre_roll_and_ends_after_silence() {
    // 50 quiet frames, 25 speech frames (500 ms), then silence.
    let mut p = scripted(config(), runs(&[(0.0, 50), (0.9, 25)]));
    let events = feed_events(&mut p, 50 + 25 + 35);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0], Event::SpeechStarted { at_ms: 1000 });
    let Event::Utterance {
        audio,
        audio_start_ms,
        started_ms,
        ended_ms,
        reason,
    } = &events[1]
    else {
        panic!("{events:?}")
    };
    assert_eq!(
        (*started_ms, *ended_ms, *reason),
        (1000, 1500, EndReason::Silence)
    );
    // 300 ms of pre-roll: the audio starts at frame 35.
    assert_eq!(*audio_start_ms, 700);
    assert_eq!(frame_of_sample(audio[0]), Some(35));
    assert_eq!(frame_of_sample(audio[15 * 160]), Some(50), "onset frame");
    // Up to the decision: 15 + 25 + 35 frames.
    assert_eq!(audio.len(), (15 + 25 + 35) * 160);
    assert_eq!(frame_of_sample(*audio.last().unwrap()), Some(109 % 100));
}

#[test]
fn pre_roll_is_clamped_at_the_start_of_the_call_and_after_the_previous_utterance() {
    let mut p = scripted(config(), runs(&[(0.9, 20), (0.0, 35), (0.0, 2), (0.9, 20)]));
    let events = feed_events(&mut p, 20 + 35 + 2 + 20 + 35);
    let utterances: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Utterance {
                audio_start_ms,
                started_ms,
                ..
            } => Some((*audio_start_ms, *started_ms)),
            _ => None,
        })
        .collect();
    // First: no audio before 0. Second: onset at 1140, pre-roll stops at the first's end (1100).
    assert_eq!(utterances, [(0, 0), (1100, 1140)]);
}

#[test]
fn max_length_splits_without_losing_or_duplicating_audio() {
    let mut p = Pipeline::new(config(), Box::new(ScriptedVad::new(vec![], 0.9))).unwrap();
    let events = feed_events(&mut p, 700);
    let spans: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Utterance {
                audio,
                audio_start_ms,
                reason,
                ..
            } => Some((*audio_start_ms, audio.len() as u64 / 8, *reason)),
            _ => None,
        })
        .collect();
    assert_eq!(spans, [(0, 13_000, EndReason::MaxLength)]);
    // The continuation is collecting from 13,000 on and will be the next utterance.
    assert!(p.buffered_samples() <= p.max_buffered_samples());
}

#[test]
fn backchannel_during_the_prompt_does_not_interrupt() {
    // "mm-hm": 300 ms of speech while the bot talks.
    let mut p = scripted(config(), runs(&[(0.0, 10), (0.9, 15)]));
    p.bot_started_speaking("prompt-1", 10_000);
    let events = feed_events(&mut p, 10 + 15 + 40);
    assert!(events.is_empty(), "{events:?}");
    assert!(p.is_bot_speaking());
    assert_eq!(p.stats().backchannels, 1);
    assert_eq!(p.stats().barge_ins, 0);
}

#[test]
fn sustained_speech_during_the_prompt_barges_in() {
    let mut p = scripted(config(), runs(&[(0.0, 10), (0.9, 40)]));
    p.bot_started_speaking("prompt-1", 10_000);
    let events = feed_events(&mut p, 10 + 40 + 35);
    // Onset at 200 ms; 400 ms voiced at 600 ms.
    assert_eq!(events[0], Event::BargeIn { at_ms: 600 });
    assert_eq!(events[1], Event::SpeechStarted { at_ms: 200 });
    assert!(matches!(
        events[2],
        Event::Utterance {
            started_ms: 200,
            ended_ms: 1000,
            ..
        }
    ));
    assert_eq!(events.len(), 3);
    assert!(!p.is_bot_speaking());
}

#[test]
fn no_barge_in_when_forbidden_and_the_speech_is_dropped() {
    let mut p = scripted(config(), runs(&[(0.0, 10), (0.9, 40)]));
    p.set_barge_in(false);
    p.bot_started_speaking("legal", 10_000);
    let events = feed_events(&mut p, 10 + 40 + 35);
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(p.stats().backchannels, 1);
}

#[test]
fn speech_started_just_before_the_prompt_ended_is_taken() {
    let mut p = scripted(config(), runs(&[(0.0, 10), (0.9, 40)]));
    p.set_barge_in(false);
    p.bot_started_speaking("prompt", 0);
    feed(&mut p, 20); // speech started at 200 ms, bot still talking
    assert!(drain(&mut p).is_empty());
    p.handle_mark("prompt");
    assert_eq!(
        drain(&mut p),
        [
            Event::PlaybackFinished {
                id: "prompt".into(),
                at_ms: 400
            },
            Event::SpeechStarted { at_ms: 200 }
        ]
    );
    let events = feed_events(&mut p, 30 + 35);
    assert!(matches!(events.as_slice(), [Event::Utterance { .. }]));
}

#[test]
fn playback_ends_on_its_mark_by_estimate_and_not_on_stale_marks() {
    let mut p = scripted(config(), vec![]);
    p.bot_started_speaking("a", 1000);
    p.bot_started_speaking("b", 1000); // queued behind "a": ends at 2000
    p.handle_mark("a");
    assert!(p.is_bot_speaking());
    assert_eq!(p.stats().stale_marks, 1);
    let events = feed_events(&mut p, 100);
    assert_eq!(
        events,
        [Event::PlaybackFinished {
            id: "b".into(),
            at_ms: 2000
        }]
    );
}

#[test]
fn no_input_counts_audio_time_after_the_prompt() {
    let mut p = scripted(config(), vec![]);
    p.bot_started_speaking("q", 0);
    assert!(
        feed_events(&mut p, 1000).is_empty(),
        "not while the bot talks"
    );
    p.handle_mark("q"); // at 20,000 ms
    drain(&mut p);
    assert_eq!(p.next_audio_deadline(), Some(25_000));
    assert!(feed_events(&mut p, 249).is_empty());
    assert_eq!(feed_events(&mut p, 1), [Event::NoInput { at_ms: 25_000 }]);
    assert!(feed_events(&mut p, 1000).is_empty(), "once");
    // No audio, no time: no-input never fires on the wall clock.
    p.bot_started_speaking("q2", 0);
    p.bot_stopped_speaking("q2");
    drain(&mut p);
    p.handle_wall_clock(0);
    p.handle_wall_clock(19_999);
    assert!(drain(&mut p).is_empty());
    // ... but the wall cap does give up on a stalled stream.
    p.handle_wall_clock(20_000);
    assert!(matches!(
        drain(&mut p).as_slice(),
        [Event::TurnTimedOut { .. }]
    ));
}

#[test]
fn listen_opens_a_turn_and_stop_listening_silences_everything() {
    // Loud audio while not listening: the VAD is not even asked.
    let mut p = Pipeline::new(config(), Box::new(LevelVad)).unwrap();
    p.stop_listening();
    for _ in 0..100 {
        p.handle_media(&level_frame(0.9), None);
    }
    assert!(drain(&mut p).is_empty());
    let mut p2 = scripted(config(), vec![]);
    std::mem::swap(&mut p, &mut p2);
    p.stop_listening();
    assert!(feed_events(&mut p, 100).is_empty());
    p.handle_dtmf('5');
    assert!(drain(&mut p).is_empty());
    assert_eq!(p.stats().digits_ignored, 1);
    p.listen();
    assert!(feed_events(&mut p, 249).is_empty());
    assert_eq!(feed_events(&mut p, 1), [Event::NoInput { at_ms: 7000 }]);
}

#[test]
fn digits_finish_key() {
    let mut p = scripted(config(), vec![]);
    for d in ['1', '2', '3', '#'] {
        p.handle_dtmf(d);
    }
    assert_eq!(
        drain(&mut p),
        [Event::Digits {
            digits: "123".into(),
            reason: DigitsEnd::Finished
        }]
    );
    p.handle_dtmf('#');
    assert_eq!(
        drain(&mut p),
        [Event::Digits {
            digits: String::new(),
            reason: DigitsEnd::Finished
        }]
    );
}

#[test]
fn digits_inter_digit_timeout_in_audio_time() {
    let mut p = scripted(config(), vec![]);
    p.handle_dtmf('4');
    feed(&mut p, 100);
    p.handle_dtmf('2'); // at 2000 ms: deadline 5000
    assert!(drain(&mut p).is_empty());
    assert!(feed_events(&mut p, 149).is_empty());
    assert_eq!(
        feed_events(&mut p, 1),
        [Event::Digits {
            digits: "42".into(),
            reason: DigitsEnd::InterDigitTimeout
        }]
    );
}

#[test]
fn digits_max_digits_and_invalid_keys() {
    let mut p = scripted(
        PipelineConfig {
            dtmf: DtmfConfig {
                max_digits: 4,
                finish_key: None,
                ..DtmfConfig::default()
            },
            ..config()
        },
        vec![],
    );
    for d in ['9', 'x', '8', '7', '*', '6'] {
        p.handle_dtmf(d);
    }
    assert_eq!(
        drain(&mut p),
        [Event::Digits {
            digits: "987*".into(),
            reason: DigitsEnd::MaxDigits
        }]
    );
    assert_eq!(p.pending_digits(), "6");
    assert_eq!(p.stats().digits_ignored, 1);
}

#[test]
fn digits_during_speech_are_collected_alongside_the_utterance() {
    let mut p = scripted(config(), runs(&[(0.9, 50)]));
    feed(&mut p, 20);
    p.handle_dtmf('1');
    p.handle_dtmf('#');
    let mut events = drain(&mut p);
    events.extend(feed_events(&mut p, 30 + 35));
    assert_eq!(events[0], Event::SpeechStarted { at_ms: 0 });
    assert_eq!(
        events[1],
        Event::Digits {
            digits: "1".into(),
            reason: DigitsEnd::Finished
        }
    );
    assert!(matches!(events[2], Event::Utterance { .. }));
}

#[test]
fn a_digit_during_the_prompt_is_a_barge_in() {
    let mut p = scripted(config(), vec![]);
    p.bot_started_speaking("menu", 8000);
    feed(&mut p, 10);
    p.handle_dtmf('2');
    assert_eq!(drain(&mut p)[0], Event::BargeIn { at_ms: 200 });
    assert!(!p.is_bot_speaking());
}

#[test]
fn timestamp_gaps_are_filled_up_to_a_limit() {
    let mut p = scripted(config(), vec![]);
    p.handle_media(&[0xFF; 160], Some(0));
    p.handle_media(&[0xFF; 160], Some(20));
    p.handle_media(&[0xFF; 160], Some(540)); // 500 ms lost
    assert_eq!(p.audio_ms(), 560);
    assert_eq!(p.stats().gap_filled_ms, 500);
    p.handle_media(&[0xFF; 160], Some(1_000_000)); // absurd: not filled
    assert_eq!(p.audio_ms(), 580);
    assert_eq!(p.stats().gaps_not_filled, 1);
    p.handle_media(&[0xFF; 160], Some(500 + MAX_GAP_FILL_MS)); // jitter backwards: ignored
    assert_eq!(p.audio_ms(), 600 + MAX_GAP_FILL_MS - 100 + 20);
}

#[test]
fn odd_payload_sizes_assemble_into_frames() {
    let mut p = scripted(config(), vec![]);
    for len in [1usize, 159, 7, 313, 0, 40] {
        p.handle_media(&vec![0xFF; len], None);
    }
    assert_eq!(p.audio_ms(), 520 / 160 * 20);
    p.handle_media(&vec![0xFF; 64 * 1024 + 1], None);
    assert_eq!(p.stats().oversized_payloads, 1);
}

#[test]
fn a_flood_of_a_million_frames_stays_bounded() {
    // Continuous "speech" (max-length splits), with digits and no polling at all.
    let mut p = Pipeline::new(config(), Box::new(ScriptedVad::new(vec![], 0.9))).unwrap();
    let frame = [0x40u8; 160];
    let mut worst = 0;
    for i in 0..1_000_000u32 {
        p.handle_media(&frame, None);
        if i % 1000 == 0 {
            p.handle_dtmf('1');
        }
        worst = worst.max(p.buffered_samples());
    }
    assert!(p.queued_events() <= MAX_EVENTS);
    assert!(p.stats().events_dropped > 0);
    let bound = p.max_buffered_samples() + MAX_EVENTS * p.max_utterance_samples();
    assert!(worst <= bound, "{worst} > {bound}");
    assert!(p.pending_digits().len() <= 32);
    assert_eq!(p.audio_ms(), 20_000_000);
}
