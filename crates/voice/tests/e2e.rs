#![allow(clippy::unwrap_used)]
//! End to end on real speech: espeak-ng phrases (committed 8 kHz μ-law WAVs) with silence
//! around them, streamed as Twilio `media` messages through a session with an energy VAD.

mod common;

use common::*;
use hotline_twilio::stream::encode_payload;
use hotline_voice::{EndReason, Event, SessionConfig, SessionEvent, StreamSession};

const SID: &str = "MZe2e";

/// Low background noise (a few μ-law steps around zero), so the energy VAD sees a floor.
fn noise(ms: usize, seed: &mut u32) -> Vec<u8> {
    (0..ms * 8)
        .map(|_| {
            *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            hotline_audio::linear_to_ulaw(((*seed >> 16) % 200) as i16 - 100)
        })
        .collect()
}

fn run(audio: &[u8], before_play: impl FnOnce(&mut StreamSession)) -> (StreamSession, Vec<Event>) {
    let mut s = StreamSession::new(
        SessionConfig::default(),
        Box::new(EnergyVad { floor: 150.0 }),
    )
    .unwrap();
    s.handle_text(&format!(
        r#"{{"event":"start","sequenceNumber":"1","streamSid":"{SID}","start":{{"callSid":"CA1"}}}}"#
    ));
    before_play(&mut s);
    let mut events = Vec::new();
    for (i, chunk) in audio.chunks(160).enumerate() {
        s.handle_text(&format!(
            r#"{{"event":"media","sequenceNumber":"{}","streamSid":"{SID}","media":{{"timestamp":"{}","payload":"{}"}}}}"#,
            i + 2,
            i * 20,
            encode_payload(chunk)
        ));
        while let Some(e) = s.poll_event() {
            if let SessionEvent::Voice(v) = e {
                events.push(v);
            }
        }
    }
    (s, events)
}

fn speech_span(clip: &[u8]) -> (u64, u64) {
    // Where the clip is loud, by the same energy measure, in ms from its start.
    let pcm: Vec<i16> = clip
        .iter()
        .map(|&c| hotline_audio::ulaw_to_linear(c))
        .collect();
    let loud: Vec<usize> = pcm
        .chunks(160)
        .enumerate()
        .filter(|(_, f)| {
            let e: f64 = f.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / f.len() as f64;
            e.sqrt() > 300.0
        })
        .map(|(i, _)| i)
        .collect();
    (
        *loud.first().unwrap() as u64 * 20,
        (*loud.last().unwrap() as u64 + 1) * 20,
    )
}

#[test]
fn a_spoken_sentence_is_one_utterance_with_its_first_syllable() {
    let clip = fixture_ulaw("account_8k_ulaw.wav");
    let (first, last) = speech_span(&clip);
    let mut seed = 7;
    let mut audio = noise(1000, &mut seed);
    audio.extend(&clip);
    audio.extend(noise(1500, &mut seed));
    let (_, events) = run(&audio, |_| {});
    let utterances: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Utterance {
                audio,
                audio_start_ms,
                started_ms,
                ended_ms,
                reason,
            } => Some((
                audio.len(),
                *audio_start_ms,
                *started_ms,
                *ended_ms,
                *reason,
            )),
            _ => None,
        })
        .collect();
    assert_eq!(utterances.len(), 1, "{events:?}");
    let (len, audio_start, started, ended, reason) = utterances[0];
    assert_eq!(reason, EndReason::Silence);
    // Onset within 100 ms of where the clip gets loud; the pre-roll reaches before it.
    assert!(
        started.abs_diff(1000 + first) <= 100,
        "{started} vs {}",
        1000 + first
    );
    assert!(audio_start + 200 <= 1000 + first);
    // The end within 200 ms of the last loud frame; pauses between words did not split it.
    assert!(
        ended.abs_diff(1000 + last) <= 200,
        "{ended} vs {}",
        1000 + last
    );
    assert_eq!(len as u64, (ended + 700 - audio_start) * 8);
}

#[test]
fn yes_is_short_but_is_an_utterance() {
    let clip = fixture_ulaw("yes_8k_ulaw.wav");
    let mut seed = 11;
    let mut audio = noise(500, &mut seed);
    audio.extend(&clip);
    audio.extend(noise(1000, &mut seed));
    let (_, events) = run(&audio, |_| {});
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Utterance {
                reason: EndReason::Silence,
                ..
            }
        )),
        "{events:?}"
    );
}

#[test]
fn talking_over_the_prompt_barges_in_and_clears() {
    let clip = fixture_ulaw("account_8k_ulaw.wav");
    let mut seed = 3;
    let mut audio = noise(500, &mut seed);
    audio.extend(&clip);
    audio.extend(noise(1500, &mut seed));
    let (mut s, events) = run(&audio, |s| {
        s.play(&[0xFF; 8000 * 20], "long-prompt").unwrap();
        while s.poll_outbound().is_some() {}
    });
    let barge = events
        .iter()
        .position(|e| matches!(e, Event::BargeIn { .. }))
        .unwrap();
    assert!(matches!(events[barge + 1], Event::SpeechStarted { .. }));
    assert!(events.iter().any(|e| matches!(e, Event::Utterance { .. })));
    assert!(matches!(
        s.poll_outbound(),
        Some(hotline_twilio::stream::Outbound::Clear { .. })
    ));
}

#[test]
fn a_short_yes_over_the_prompt_is_a_backchannel_with_a_long_barge_in_minimum() {
    // With barge_in_min_ms at 600, the ~400 ms "yes" is taken as a backchannel.
    let clip = fixture_ulaw("yes_8k_ulaw.wav");
    let mut seed = 5;
    let mut audio = noise(500, &mut seed);
    audio.extend(&clip);
    audio.extend(noise(1500, &mut seed));
    let mut config = SessionConfig::default();
    config.pipeline.barge_in_min_ms = 600;
    let mut s = StreamSession::new(config, Box::new(EnergyVad { floor: 150.0 })).unwrap();
    s.handle_text(&format!(
        r#"{{"event":"start","sequenceNumber":"1","streamSid":"{SID}","start":{{"callSid":"CA1"}}}}"#
    ));
    s.play(&[0xFF; 8000 * 20], "prompt").unwrap();
    for chunk in audio.chunks(160) {
        s.handle_text(&format!(
            r#"{{"event":"media","sequenceNumber":"2","streamSid":"{SID}","media":{{"payload":"{}"}}}}"#,
            encode_payload(chunk)
        ));
    }
    let events: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(events.len() == 1, "only Started: {events:?}");
    assert_eq!(s.pipeline().stats().backchannels, 1);
    assert!(s.pipeline().is_bot_speaking());
}

#[test]
fn the_real_webrtc_vad_finds_the_sentence_too() {
    let clip = fixture_ulaw("account_8k_ulaw.wav");
    let (first, last) = speech_span(&clip);
    let mut seed = 9;
    let mut audio = noise(1000, &mut seed);
    audio.extend(&clip);
    audio.extend(noise(1500, &mut seed));
    let vad = hotline_vad::VadConfig::Webrtc(Default::default())
        .build()
        .unwrap()
        .create();
    let mut s = StreamSession::new(SessionConfig::default(), vad).unwrap();
    s.handle_text(&format!(
        r#"{{"event":"start","sequenceNumber":"1","streamSid":"{SID}","start":{{"callSid":"CA1"}}}}"#
    ));
    for chunk in audio.chunks(160) {
        s.handle_text(&format!(
            r#"{{"event":"media","sequenceNumber":"2","streamSid":"{SID}","media":{{"payload":"{}"}}}}"#,
            encode_payload(chunk)
        ));
    }
    let spans: Vec<_> = std::iter::from_fn(|| s.poll_event())
        .filter_map(|e| match e {
            SessionEvent::Voice(Event::Utterance {
                started_ms,
                ended_ms,
                ..
            }) => Some((started_ms, ended_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(spans.len(), 1, "{spans:?}");
    let (started, ended) = spans[0];
    assert!(
        started.abs_diff(1000 + first) <= 200,
        "{started} vs {}",
        1000 + first
    );
    assert!(
        ended.abs_diff(1000 + last) <= 300,
        "{ended} vs {}",
        1000 + last
    );
}
