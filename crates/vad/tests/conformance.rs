//! The conformance suite every VAD backend must pass: silence is quiet, loud speech is
//! speech, any frame length gives the same answers, reset restores the initial state, and
//! output is deterministic and within [0, 1].

mod common;

use common::{all_backends, clip};
use hotline_vad::Vad;

/// Runs `vad` over `samples` in chunks of `chunk` samples, returning one probability per
/// 160-sample boundary (so different chunkings can be compared).
fn track(vad: &mut dyn Vad, samples: &[i16], chunk: usize) -> Vec<f32> {
    let mut out = Vec::new();
    let mut fed = 0usize;
    for c in samples.chunks(chunk) {
        // Feed up to each 160 boundary separately so the probability at it can be recorded.
        let mut rest = c;
        while !rest.is_empty() {
            let to_boundary = 160 - fed % 160;
            let (head, tail) = rest.split_at(to_boundary.min(rest.len()));
            let p = vad.process(head);
            fed += head.len();
            rest = tail;
            if fed.is_multiple_of(160) {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn silence_gives_low_probability() {
    let hiss = clip("silence.clean.wav");
    for (name, factory) in all_backends() {
        let mut vad = factory.create();
        let probs = track(&mut *vad, &hiss, 160);
        let max = probs.iter().copied().fold(0.0f32, f32::max);
        assert!(max < 0.5, "{name}: max probability {max} on line hiss");
        let digital = vec![0i16; 8000];
        vad.reset();
        let max = track(&mut *vad, &digital, 160)
            .into_iter()
            .fold(0.0f32, f32::max);
        assert!(
            max < 0.5,
            "{name}: max probability {max} on digital silence"
        );
    }
}

#[test]
fn loud_speech_gives_high_probability() {
    let samples = clip("call1.clean.wav");
    // "I'd like to book an appointment for next Tuesday": 4513..7669 ms.
    let inside = (4700 / 20)..(7400 / 20);
    for (name, factory) in all_backends() {
        let mut vad = factory.create();
        let probs = track(&mut *vad, &samples, 160);
        let speech: Vec<f32> = probs.get(inside.clone()).unwrap().to_vec();
        let share = speech.iter().filter(|&&p| p >= 0.5).count() as f32 / speech.len() as f32;
        // The labelled span includes a 450 ms pause and unvoiced sounds; the energy baseline
        // (the weakest) scores about 0.4 here, the others above 0.7.
        assert!(
            share > 0.35,
            "{name}: only {share:.2} of speech frames ≥ 0.5"
        );
        let peak = speech.iter().copied().fold(0.0f32, f32::max);
        assert!(peak > 0.9, "{name}: peak {peak} in speech");
    }
}

#[test]
fn any_frame_length_gives_the_same_probabilities() {
    let samples = clip("call2.clean.wav");
    let samples = samples.get(..8000 * 4).unwrap();
    for (name, factory) in all_backends() {
        let mut vad = factory.create();
        let reference = track(&mut *vad, samples, 160);
        for chunk in [1, 80, 100, 159, 161, 320, 1000] {
            vad.reset();
            let got = track(&mut *vad, samples, chunk);
            assert_eq!(got, reference, "{name}: chunks of {chunk} differ from 160");
        }
        vad.reset();
        assert_eq!(vad.process(&[]), 0.0, "{name}: an empty frame after reset");
    }
}

#[test]
fn reset_restores_the_initial_state_and_output_is_deterministic() {
    let samples = clip("call3.snr20.wav");
    for (name, factory) in all_backends() {
        let mut a = factory.create();
        let first = track(&mut *a, &samples, 160);
        a.reset();
        let again = track(&mut *a, &samples, 160);
        assert_eq!(
            first, again,
            "{name}: reset did not restore the initial state"
        );
        let mut b = factory.create();
        assert_eq!(
            track(&mut *b, &samples, 160),
            first,
            "{name}: two detectors disagree"
        );
        assert!(
            first.iter().all(|p| (0.0..=1.0).contains(p)),
            "{name}: probability out of range"
        );
        assert_eq!(a.name(), b.name());
    }
}

#[test]
fn detectors_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    for (name, factory) in all_backends() {
        let mut vad = factory.create();
        assert_send(&vad);
        // Move it to another thread mid-call and keep going.
        let samples = clip("call4.clean.wav");
        let (head, tail) = samples.split_at(samples.len() / 320 * 160);
        let p1 = track(&mut *vad, head, 160);
        let (vad, p2) = std::thread::spawn({
            let tail = tail.to_vec();
            move || {
                let p = track(&mut *vad, &tail, 160);
                (vad, p)
            }
        })
        .join()
        .unwrap();
        let mut whole = factory.create();
        let reference = track(&mut *whole, &samples, 160);
        assert_eq!([p1, p2].concat(), reference, "{name}");
        drop(vad);
    }
}
