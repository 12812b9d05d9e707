//! Cross-stream batching: calls whose windows are scored together by the process-wide batcher
//! get the same probabilities as the unbatched path (within 1e-4), in order, and a prediction
//! that does not match what the detector is fed (a reset in between) falls back safely.

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use common::{clip, silero_config};
use hotline_vad::silero::{SileroModel, SileroPrefetch, SileroVad, SileroVariant};
use hotline_vad::{Vad, VadConfig};

/// A minimal executor: polls `fut`, parking the thread until it is woken.
fn block_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

fn solo(model: &SileroModel, samples: &[i16]) -> Vec<f32> {
    let mut vad = SileroVad::new(model.clone());
    samples.chunks(160).map(|f| vad.process(f)).collect()
}

/// Like the driver: prefetch each frame, then feed it.
fn batched(vad: &mut SileroVad, prefetch: &SileroPrefetch, samples: &[i16]) -> Vec<f32> {
    samples
        .chunks(160)
        .map(|f| {
            block_on(prefetch.prefetch(f));
            vad.process(f)
        })
        .collect()
}

fn assert_close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-4, "{what}: largest difference {worst}");
}

#[test]
fn concurrent_batched_calls_match_solo_runs() {
    let model = SileroModel::load(&silero_config(SileroVariant::Standard)).unwrap();
    let clips = ["call1.snr20.wav", "call2.clean.wav", "call3.snr10.wav"];
    let expected: Vec<(Vec<i16>, Vec<f32>)> = clips
        .iter()
        .map(|name| {
            let samples = clip(name);
            let p = solo(&model, &samples);
            (samples, p)
        })
        .collect();
    let expected = Arc::new(expected);
    // 12 calls on 12 threads, so that the batcher really stacks several calls per run.
    let handles: Vec<_> = (0..12)
        .map(|k| {
            let model = model.clone();
            let expected = Arc::clone(&expected);
            std::thread::spawn(move || {
                let (samples, want) = &expected[k % expected.len()];
                let (mut vad, prefetch) = SileroVad::with_prefetch(model).unwrap();
                let got = batched(&mut vad, &prefetch, samples);
                assert_close(&got, want, &format!("call {k}"));
                assert_eq!(vad.errors(), 0);
                // Every window came from the batcher: none ran the model on its own.
                assert_eq!(vad.batched() as usize, samples.len() / 256, "call {k}");
                assert_eq!(prefetch.windows(), (vad.batched(), vad.batched()));
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn a_stale_prediction_is_dropped_and_the_model_runs_instead() {
    let model = SileroModel::load(&silero_config(SileroVariant::Standard)).unwrap();
    let samples = clip("call1.snr20.wav");
    let want = solo(&model, &samples[..1600]);
    let (mut vad, prefetch) = SileroVad::with_prefetch(model).unwrap();
    // Predict a window from audio that is then not fed: its samples do not match.
    block_on(prefetch.prefetch(&samples[5000..5300]));
    let got = batched(&mut vad, &prefetch, &samples[..1600]);
    assert_close(&got, &want, "after a stale prediction");
    assert_eq!(
        vad.batched(),
        1600 / 256 - 1,
        "only the mismatched window ran here"
    );
    // After a reset (the pipeline's `listen`), the same audio gives the same scores again.
    block_on(prefetch.prefetch(&samples[..160]));
    vad.reset();
    let again = batched(&mut vad, &prefetch, &samples[..1600]);
    assert_close(&again, &want, "after a reset");
}

#[test]
fn the_factory_hands_out_a_prefetch_handle_only_for_silero() {
    let silero = VadConfig::Silero(silero_config(SileroVariant::Standard))
        .build()
        .unwrap();
    assert!(silero.create_prefetched().1.is_some());
    let webrtc = VadConfig::Webrtc(Default::default()).build().unwrap();
    assert!(webrtc.create_prefetched().1.is_none());
}
