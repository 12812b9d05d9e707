#![allow(clippy::unwrap_used)]
//! Every transition of the endpointer, exactly, with scripted probabilities.

use hotline_voice::endpoint::{
    EndReason, EndpointConfig, EndpointEvent, Endpointer, SpeechState, level_db, ms_to_frames,
};

fn ep() -> Endpointer {
    Endpointer::new(&EndpointConfig::default()).unwrap()
}

/// Feeds `n` frames of probability `p`, continuing from frame `*at`, and collects events.
fn run(e: &mut Endpointer, at: &mut u64, p: f32, n: usize) -> Vec<EndpointEvent> {
    let mut out = Vec::new();
    for _ in 0..n {
        e.handle_frame(p, *at * 20);
        *at += 1;
        out.extend(std::iter::from_fn(|| e.poll_event()));
    }
    out
}

#[test]
fn defaults_convert_to_frames() {
    let c = EndpointConfig::default();
    assert_eq!(ms_to_frames(c.start_ms), 8);
    assert_eq!(ms_to_frames(c.end_ms), 35);
    assert_eq!(ms_to_frames(150), 8, "rounds up to whole frames");
    c.validate().unwrap();
}

#[test]
fn invalid_configs_are_refused() {
    let bad = [
        EndpointConfig {
            stay_threshold: 0.6,
            ..EndpointConfig::default()
        },
        EndpointConfig {
            start_threshold: f32::NAN,
            ..EndpointConfig::default()
        },
        EndpointConfig {
            end_ms: 0,
            ..EndpointConfig::default()
        },
        EndpointConfig {
            max_utterance_ms: 60_000,
            ..EndpointConfig::default()
        },
        EndpointConfig {
            max_utterance_ms: 100,
            ..EndpointConfig::default()
        },
        EndpointConfig {
            end_backdate_ms: 400,
            ..EndpointConfig::default()
        },
        EndpointConfig {
            end_quiet_db: f32::NAN,
            ..EndpointConfig::default()
        },
    ];
    for c in bad {
        assert!(Endpointer::new(&c).is_err(), "{c:?}");
    }
}

#[test]
fn starts_after_exactly_start_frames() {
    let mut e = ep();
    let mut at = 5;
    assert!(run(&mut e, &mut at, 0.9, 7).is_empty());
    assert_eq!(
        e.state(),
        SpeechState::Starting {
            onset_ms: 100,
            frames: 7
        }
    );
    assert_eq!(
        run(&mut e, &mut at, 0.9, 1),
        [EndpointEvent::SpeechStarted {
            onset_ms: 100,
            at_ms: 260
        }]
    );
}

#[test]
fn a_blip_shorter_than_start_is_nothing() {
    let mut e = ep();
    let mut at = 0;
    assert!(run(&mut e, &mut at, 0.9, 7).is_empty());
    assert!(run(&mut e, &mut at, 0.0, 100).is_empty());
    assert_eq!(e.state(), SpeechState::Quiet);
}

#[test]
fn hysteresis_in_starting_holds_between_thresholds_and_aborts_below_stay() {
    let mut e = ep();
    let mut at = 0;
    run(&mut e, &mut at, 0.9, 4);
    // Between stay (0.35) and start (0.5): neither counts nor aborts.
    assert!(run(&mut e, &mut at, 0.4, 10).is_empty());
    assert_eq!(
        e.state(),
        SpeechState::Starting {
            onset_ms: 0,
            frames: 4
        }
    );
    // Below stay: back to quiet.
    run(&mut e, &mut at, 0.3, 1);
    assert_eq!(e.state(), SpeechState::Quiet);
    // 0.45 never starts anything.
    assert!(run(&mut e, &mut at, 0.45, 100).is_empty());
}

#[test]
fn hysteresis_in_speech_stays_above_stay_threshold() {
    let mut e = ep();
    let mut at = 0;
    run(&mut e, &mut at, 0.9, 10);
    // 0.36 keeps the utterance going for as long as it lasts.
    assert!(run(&mut e, &mut at, 0.36, 100).is_empty());
    assert!(matches!(e.state(), SpeechState::Speaking { .. }));
    assert_eq!(e.voiced_ms(), 110 * 20);
    // 0.34 is silence: trailing.
    run(&mut e, &mut at, 0.34, 1);
    assert!(matches!(e.state(), SpeechState::Trailing { frames: 1, .. }));
}

#[test]
fn ends_after_exactly_the_silence_window() {
    let mut e = ep();
    let mut at = 0;
    run(&mut e, &mut at, 0.9, 20); // 400 ms voiced
    assert!(run(&mut e, &mut at, 0.1, 34).is_empty());
    assert_eq!(
        run(&mut e, &mut at, 0.1, 1),
        [EndpointEvent::SpeechEnded {
            onset_ms: 0,
            last_voiced_ms: 400,
            at_ms: 400 + 700,
            reason: EndReason::Silence
        }]
    );
    assert_eq!(e.state(), SpeechState::Quiet);
}

#[test]
fn speech_in_the_window_resumes_the_utterance() {
    let mut e = ep();
    let mut at = 0;
    run(&mut e, &mut at, 0.9, 20);
    run(&mut e, &mut at, 0.0, 30); // a 600 ms pause ("umm")
    assert!(run(&mut e, &mut at, 0.9, 1).is_empty());
    assert!(matches!(
        e.state(),
        SpeechState::Speaking {
            onset_ms: 0,
            last_voiced_ms: 1020
        }
    ));
}

#[test]
fn shorter_than_min_utterance_is_discarded() {
    let mut e = ep();
    let mut at = 0;
    run(&mut e, &mut at, 0.9, 9); // 180 ms < 200 ms
    let events = run(&mut e, &mut at, 0.0, 35);
    assert_eq!(
        events,
        [EndpointEvent::SpeechStarted {
            onset_ms: 0,
            at_ms: 160
        }]
        .into_iter()
        .chain([EndpointEvent::SpeechDiscarded {
            onset_ms: 0,
            at_ms: 180 + 700
        }])
        .collect::<Vec<_>>()[1..]
    );
    // Exactly the minimum is kept.
    let mut at = 100;
    run(&mut e, &mut at, 0.9, 10);
    let events = run(&mut e, &mut at, 0.0, 35);
    assert!(matches!(
        events.as_slice(),
        [EndpointEvent::SpeechEnded {
            reason: EndReason::Silence,
            ..
        }]
    ));
}

#[test]
fn max_length_splits_and_continues_without_a_new_start_delay() {
    let mut e = ep();
    let mut at = 0;
    let events = run(&mut e, &mut at, 0.9, 650 + 10);
    assert_eq!(
        events,
        [
            EndpointEvent::SpeechStarted {
                onset_ms: 0,
                at_ms: 160
            },
            EndpointEvent::SpeechEnded {
                onset_ms: 0,
                last_voiced_ms: 13_000,
                at_ms: 13_000,
                reason: EndReason::MaxLength
            },
            EndpointEvent::SpeechStarted {
                onset_ms: 13_000,
                at_ms: 13_000
            },
        ]
    );
    assert_eq!(e.voiced_ms(), 200);
}

#[test]
fn no_input_fires_in_audio_time_once() {
    let mut e = ep();
    let mut at = 50;
    e.open_turn(1000);
    assert_eq!(e.next_audio_deadline(), Some(6000));
    assert!(run(&mut e, &mut at, 0.0, 249).is_empty());
    assert_eq!(
        run(&mut e, &mut at, 0.0, 1),
        [EndpointEvent::NoInput { at_ms: 6000 }]
    );
    assert!(
        run(&mut e, &mut at, 0.0, 500).is_empty(),
        "fires once per turn"
    );
}

#[test]
fn no_input_pauses_during_speech_and_restarts_after_a_blip() {
    let mut e = ep();
    let mut at = 0;
    e.open_turn(0);
    run(&mut e, &mut at, 0.0, 200); // 4 s
    run(&mut e, &mut at, 0.9, 9); // a cough, 180 ms, confirmed at 4160
    let events = run(&mut e, &mut at, 0.0, 35);
    assert!(matches!(
        events.as_slice(),
        [EndpointEvent::SpeechDiscarded { at_ms: 4880, .. }]
    ));
    // The window restarts at the discard: 5 s from 4880.
    assert_eq!(e.next_audio_deadline(), Some(9880));
    assert!(run(&mut e, &mut at, 0.0, 249).is_empty());
    assert_eq!(
        run(&mut e, &mut at, 0.0, 1),
        [EndpointEvent::NoInput { at_ms: 9880 }]
    );
}

#[test]
fn note_input_cancels_no_input() {
    let mut e = ep();
    let mut at = 0;
    e.open_turn(0);
    run(&mut e, &mut at, 0.0, 100);
    e.note_input();
    assert!(run(&mut e, &mut at, 0.0, 1000).is_empty());
}

#[test]
fn wall_cap_ends_continuous_speech_in_wall_time() {
    // Hold music: the VAD says "speech" forever; audio stalls or trickles.
    let mut e = Endpointer::new(&EndpointConfig {
        max_utterance_ms: 55_000,
        ..EndpointConfig::default()
    })
    .unwrap();
    let mut at = 0;
    e.handle_wall_clock(1_000_000);
    assert_eq!(e.poll_timeout(), None, "no turn, no wall deadline");
    run(&mut e, &mut at, 0.9, 10); // speech starts: the cap needs stamping
    assert_eq!(e.poll_timeout(), Some(1_000_000), "call back now");
    e.handle_wall_clock(1_000_100);
    assert_eq!(e.poll_timeout(), Some(1_020_100));
    run(&mut e, &mut at, 0.9, 500);
    e.handle_wall_clock(1_020_099);
    assert!(e.poll_event().is_none());
    e.handle_wall_clock(1_020_100);
    assert_eq!(
        e.poll_event(),
        Some(EndpointEvent::SpeechEnded {
            onset_ms: 0,
            last_voiced_ms: 510 * 20,
            at_ms: 510 * 20,
            reason: EndReason::WallCap
        })
    );
    assert_eq!(e.state(), SpeechState::Quiet);
    assert_eq!(e.poll_timeout(), None);
}

#[test]
fn wall_cap_with_nothing_usable_times_the_turn_out() {
    let mut e = ep();
    let mut at = 0;
    e.open_turn(0);
    e.handle_wall_clock(500);
    // The stream stalls: no audio at all. Audio time cannot fire no-input; the wall cap does.
    e.handle_wall_clock(20_499);
    assert!(e.poll_event().is_none());
    e.handle_wall_clock(20_500);
    assert_eq!(
        e.poll_event(),
        Some(EndpointEvent::TurnTimedOut { at_ms: 0 })
    );
    // A blip still trailing when the cap fires is not usable either.
    e.open_turn(0);
    e.handle_wall_clock(30_000);
    run(&mut e, &mut at, 0.9, 9);
    let _ = std::iter::from_fn(|| e.poll_event()).count();
    run(&mut e, &mut at, 0.0, 10);
    e.handle_wall_clock(50_000);
    let events: Vec<_> = std::iter::from_fn(|| e.poll_event()).collect();
    assert_eq!(
        events,
        [
            EndpointEvent::SpeechDiscarded {
                onset_ms: 0,
                at_ms: 380
            },
            EndpointEvent::TurnTimedOut { at_ms: 380 }
        ]
    );
    assert_eq!(e.state(), SpeechState::Quiet);
}

#[test]
fn nan_and_out_of_range_probabilities_are_sanitised() {
    let mut e = ep();
    let mut at = 0;
    assert!(run(&mut e, &mut at, f32::NAN, 20).is_empty());
    assert!(run(&mut e, &mut at, -3.0, 20).is_empty());
    assert_eq!(run(&mut e, &mut at, 7.0, 8).len(), 1);
}

/// Feeds `n` frames of probability `p` at `level` dBFS, continuing from frame `*at`.
fn run_level(e: &mut Endpointer, at: &mut u64, p: f32, level: f32, n: usize) -> Vec<EndpointEvent> {
    let mut out = Vec::new();
    for _ in 0..n {
        e.handle_frame_with_level(p, *at * 20, level);
        *at += 1;
        out.extend(std::iter::from_fn(|| e.poll_event()));
    }
    out
}

fn ended(events: &[EndpointEvent]) -> Option<(u64, u64)> {
    events.iter().find_map(|e| match e {
        EndpointEvent::SpeechEnded {
            last_voiced_ms,
            at_ms,
            ..
        } => Some((*last_voiced_ms, *at_ms)),
        _ => None,
    })
}

#[test]
fn the_vads_lag_over_quiet_frames_counts_as_trailing_silence() {
    // 1 s of speech at -20 dBFS, then the line goes quiet (-70 dBFS) but the VAD keeps
    // scoring speech for 100 ms (5 frames), then silence.
    let mut e = ep();
    let mut at = 0;
    let mut events = run_level(&mut e, &mut at, 0.9, -20.0, 50);
    events.extend(run_level(&mut e, &mut at, 0.8, -70.0, 5));
    events.extend(run_level(&mut e, &mut at, 0.05, -70.0, 40));
    let (last_voiced, at_ms) = ended(&events).unwrap();
    // Speech really ended at 1,000 ms: the 700 ms window counts from there.
    assert_eq!(last_voiced, 1_000);
    assert_eq!(at_ms, 1_700);

    // Without levels, the window counts from the VAD's own end (100 ms later).
    let mut e = ep();
    let mut at = 0;
    let mut events = run(&mut e, &mut at, 0.9, 50);
    events.extend(run(&mut e, &mut at, 0.8, 5));
    events.extend(run(&mut e, &mut at, 0.05, 40));
    assert_eq!(ended(&events).unwrap(), (1_100, 1_800));
}

#[test]
fn nothing_moves_on_a_noisy_line_or_beyond_the_limit() {
    // Noise 20 dB under the speech: not quiet enough to count as silence.
    let mut e = ep();
    let mut at = 0;
    let mut events = run_level(&mut e, &mut at, 0.9, -20.0, 50);
    events.extend(run_level(&mut e, &mut at, 0.8, -40.0, 5));
    events.extend(run_level(&mut e, &mut at, 0.05, -40.0, 40));
    assert_eq!(ended(&events).unwrap(), (1_100, 1_800));

    // A VAD lagging 400 ms: only `end_backdate_ms` (200) of it is taken back.
    let mut e = ep();
    let mut at = 0;
    let mut events = run_level(&mut e, &mut at, 0.9, -20.0, 50);
    events.extend(run_level(&mut e, &mut at, 0.8, -70.0, 20));
    events.extend(run_level(&mut e, &mut at, 0.05, -70.0, 40));
    assert_eq!(ended(&events).unwrap(), (1_200, 1_900));

    // The largest backdate (320 ms, 16 frames): a lag of 15 quiet frames is taken back
    // exactly (the 16th frame back is loud speech; the ring must not wrap onto the current
    // frame).
    let mut e = Endpointer::new(&EndpointConfig {
        end_backdate_ms: 320,
        ..EndpointConfig::default()
    })
    .unwrap();
    let mut at = 0;
    let mut events = run_level(&mut e, &mut at, 0.9, -20.0, 50);
    events.extend(run_level(&mut e, &mut at, 0.8, -70.0, 15));
    events.extend(run_level(&mut e, &mut at, 0.05, -70.0, 40));
    assert_eq!(ended(&events).unwrap(), (1_000, 1_700));

    // Switched off.
    let mut e = Endpointer::new(&EndpointConfig {
        end_backdate_ms: 0,
        ..EndpointConfig::default()
    })
    .unwrap();
    let mut at = 0;
    let mut events = run_level(&mut e, &mut at, 0.9, -20.0, 50);
    events.extend(run_level(&mut e, &mut at, 0.8, -70.0, 5));
    events.extend(run_level(&mut e, &mut at, 0.05, -70.0, 40));
    assert_eq!(ended(&events).unwrap(), (1_100, 1_800));
}

#[test]
fn a_pause_inside_speech_still_needs_the_whole_window() {
    // Quiet frames the VAD scored as speech, then speech again: nothing ends early.
    let mut e = ep();
    let mut at = 0;
    let mut events = run_level(&mut e, &mut at, 0.9, -20.0, 50);
    events.extend(run_level(&mut e, &mut at, 0.8, -70.0, 5));
    events.extend(run_level(&mut e, &mut at, 0.05, -70.0, 20));
    events.extend(run_level(&mut e, &mut at, 0.9, -20.0, 10));
    assert_eq!(ended(&events), None);
    assert!(matches!(e.state(), SpeechState::Speaking { .. }));
}

#[test]
fn frame_levels() {
    assert_eq!(level_db(&[0; 160]), -100.0);
    assert!((level_db(&[i16::MAX; 160]) - 0.0).abs() < 0.01);
    assert!((level_db(&[3_277; 160]) + 20.0).abs() < 0.1);
    assert_eq!(level_db(&[]), -100.0);
}
