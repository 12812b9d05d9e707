//! End-to-end tests of the Moonshine recogniser on committed telephone audio (8 kHz mu-law WAV
//! made with flite, plus the real `beckett.wav` recording from the moonshine-cpp wheel).
//!
//! These need the installed models and FAIL (not skip) when they are absent: run
//! `scripts/install-models.sh` first (CI does).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use hotline_asr::normalize::numbers_to_digits;
use hotline_asr::{AsrError, Expect, Hints, Moonshine, MoonshineConfig, Recognizer};

/// The models folder: `$HOTLINE_MODELS_DIR`, else the repository's `models/`.
fn models_dir() -> PathBuf {
    let dir = std::env::var_os("HOTLINE_MODELS_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"),
        PathBuf::from,
    );
    assert!(
        dir.join("moonshine-base-en-q8/decoder_model_merged.onnx")
            .is_file(),
        "the Moonshine model is not installed in {}: run `scripts/install-models.sh` first",
        dir.display()
    );
    dir
}

/// One recogniser (2 workers) shared by the tests in this file.
fn recognizer() -> Arc<Moonshine> {
    static SHARED: OnceLock<Arc<Moonshine>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let config = MoonshineConfig {
                workers: Some(2),
                ..MoonshineConfig::in_dir(models_dir())
            };
            Arc::new(Moonshine::load(&config).unwrap())
        })
        .clone()
}

/// A committed fixture as 8 kHz samples.
fn fixture(name: &str) -> Vec<i16> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/fixtures")
        .join(name);
    let wav = hotline_audio::read_wav(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(wav.sample_rate, 8_000, "{name}");
    wav.to_mono()
}

/// Lowercase, no punctuation, numbers as digits.
fn norm(text: &str) -> String {
    numbers_to_digits(text)
}

const CASES: [(&str, &str); 6] = [
    ("yes.wav", "yes"),
    ("no.wav", "no"),
    ("book.wav", "i would like to book an appointment"),
    ("number.wav", "my number is four five six"),
    ("tomorrow.wav", "tomorrow at three p m"),
    (
        "beckett.wav",
        "ever tried ever failed no matter try again fail again fail better",
    ),
];

/// "p.m." / "pm" / "p m" are the same answer.
fn same_words(heard: &str, want: &str) -> bool {
    let squash = |s: &str| norm(s).replace("p m", "pm").replace(' ', "");
    squash(heard) == squash(want)
}

#[tokio::test]
async fn recognises_every_fixture() {
    let asr = recognizer();
    for (file, want) in CASES {
        let t = asr
            .transcribe(&fixture(file), &Hints::default())
            .await
            .unwrap();
        assert!(
            same_words(&t.text, want),
            "{file}: heard {:?}, want {want:?}",
            t.text
        );
        assert!(t.confidence > 0.3 && t.confidence <= 1.0, "{file}: {t:?}");
        assert!(!t.truncated);
        assert_eq!(t.normalized, None);
        assert!(t.audio.as_millis() > 500, "{file}: {t:?}");
    }
}

#[tokio::test]
async fn yes_no_and_digits_are_normalised_end_to_end() {
    let asr = recognizer();
    let yes_no = Hints {
        expect: Expect::YesNo,
        ..Hints::default()
    };
    let digits = Hints {
        expect: Expect::Digits,
        ..Hints::default()
    };
    let t = asr.transcribe(&fixture("yes.wav"), &yes_no).await.unwrap();
    assert_eq!(t.normalized.as_deref(), Some("yes"), "{t:?}");
    let t = asr.transcribe(&fixture("no.wav"), &yes_no).await.unwrap();
    assert_eq!(t.normalized.as_deref(), Some("no"), "{t:?}");
    let t = asr
        .transcribe(&fixture("number.wav"), &digits)
        .await
        .unwrap();
    assert_eq!(t.normalized.as_deref(), Some("456"), "{t:?}");
    // The text stays what was heard.
    assert!(t.text.to_lowercase().contains("number"), "{t:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_utterances_are_all_correct() {
    let asr = recognizer();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (file, want) = CASES[i % 5];
        let asr = Arc::clone(&asr);
        tasks.push(tokio::spawn(async move {
            let t = asr
                .transcribe(&fixture(file), &Hints::default())
                .await
                .unwrap();
            (file, want, t)
        }));
    }
    let mut queued = 0;
    for task in tasks {
        let (file, want, t) = task.await.unwrap();
        assert!(same_words(&t.text, want), "{file}: heard {:?}", t.text);
        if !t.queued.is_zero() {
            queued += 1;
        }
    }
    // 8 jobs on 2 workers: some of them waited in the queue.
    assert!(queued >= 1);
}

#[tokio::test]
async fn long_audio_is_truncated_to_the_maximum() {
    let asr = recognizer();
    let beckett = fixture("beckett.wav");
    let long: Vec<i16> = beckett.iter().copied().cycle().take(8_000 * 23).collect();
    let t = asr.transcribe(&long, &Hints::default()).await.unwrap();
    assert!(t.truncated, "{t:?}");
    assert_eq!(t.audio.as_millis(), 20_000);
    assert!(norm(&t.text).contains("ever tried"), "{t:?}");
}

#[tokio::test]
async fn empty_and_silent_audio_give_empty_text() {
    let asr = recognizer();
    for pcm in [Vec::new(), vec![0i16; 8_000], vec![3i16; 16_000]] {
        let t = asr.transcribe(&pcm, &Hints::default()).await.unwrap();
        assert_eq!(t.text, "", "{} samples: {t:?}", pcm.len());
        assert_eq!(t.confidence, 0.0);
    }
    let yes_no = Hints {
        expect: Expect::YesNo,
        ..Hints::default()
    };
    let t = asr.transcribe(&[], &yes_no).await.unwrap();
    assert_eq!(t.normalized, None);
}

/// Deterministic noise (xorshift, summed into a rough pink-ish spectrum) at `rms` (i16 units).
fn noise(len: usize, rms: f64, seed: u64) -> Vec<i16> {
    let mut state = seed | 1;
    let mut low = 0.0;
    let raw: Vec<f64> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let white = (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
            low = 0.95 * low + 0.3 * white;
            low + 0.5 * white
        })
        .collect();
    let power = (raw.iter().map(|x| x * x).sum::<f64>() / len as f64).sqrt();
    raw.iter().map(|x| (x / power * rms) as i16).collect()
}

#[tokio::test]
async fn line_noise_without_words_gives_empty_text() {
    let asr = recognizer();
    // -45 and -30 dBFS: above the silence gate, so the model decides.
    for (rms, seed) in [(185.0, 1), (1_000.0, 2)] {
        let t = asr
            .transcribe(&noise(16_000, rms, seed), &Hints::default())
            .await
            .unwrap();
        assert_eq!(t.text, "", "noise at rms {rms}: {t:?}");
    }
}

#[tokio::test]
async fn odd_audio_never_fails() {
    let asr = recognizer();
    // A single click, full-scale square wave, 30 ms of noise: some text or none, never an error.
    let click = {
        let mut v = vec![0i16; 4_000];
        v[2_000] = i16::MAX;
        v
    };
    let square: Vec<i16> = (0..8_000)
        .map(|i| if i / 20 % 2 == 0 { i16::MAX } else { i16::MIN })
        .collect();
    let short: Vec<i16> = (0..240)
        .map(|i| ((i * 7919) % 20_000 - 10_000) as i16)
        .collect();
    for pcm in [click, square, short] {
        asr.transcribe(&pcm, &Hints::default()).await.unwrap();
    }
}

#[test]
fn a_missing_model_names_the_install_command() {
    let dir = tempfile::tempdir().unwrap();
    let err = Moonshine::load(&MoonshineConfig::in_dir(dir.path())).unwrap_err();
    assert!(matches!(err, AsrError::Missing(_)), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("scripts/install-models.sh"), "{message}");
    assert!(message.contains("moonshine-base-en-q8"), "{message}");
}

#[test]
fn a_corrupt_model_fails_at_load() {
    let models = models_dir();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("encoder_model.onnx"),
        b"not an onnx model at all",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("decoder_model_merged.onnx"),
        vec![0x5Au8; 4096],
    )
    .unwrap();
    for data in ["encoder_model.onnx.data", "decoder_model_merged.onnx.data"] {
        std::fs::write(dir.path().join(data), vec![0u8; 4096]).unwrap();
    }
    std::fs::copy(
        models.join("moonshine-base-en-q8/tokenizer.bin"),
        dir.path().join("tokenizer.bin"),
    )
    .unwrap();
    let config = MoonshineConfig {
        model_dir: Some(dir.path().to_path_buf()),
        workers: Some(1),
        ..MoonshineConfig::in_dir(&models)
    };
    let err = Moonshine::load(&config).unwrap_err();
    assert!(matches!(err, AsrError::Model(_)), "{err:?}");
    assert!(err.to_string().contains("encoder_model.onnx"), "{err}");

    // A truncated tokenizer is caught too.
    std::fs::write(dir.path().join("tokenizer.bin"), [200u8, b'a']).unwrap();
    let err = Moonshine::load(&config).unwrap_err();
    assert!(err.to_string().contains("tokenizer.bin"), "{err}");
}

#[test]
fn truncated_weights_fail_at_load() {
    // The real graphs with their weights file cut short (an interrupted copy).
    let models = models_dir();
    let dir = tempfile::tempdir().unwrap();
    for file in hotline_asr::moonshine::config::MODEL_FILES {
        std::fs::copy(
            models.join("moonshine-base-en-q8").join(file),
            dir.path().join(file),
        )
        .unwrap();
    }
    let data = dir.path().join("decoder_model_merged.onnx.data");
    let bytes = std::fs::read(&data).unwrap();
    std::fs::write(&data, &bytes[..bytes.len() / 2]).unwrap();
    let config = MoonshineConfig {
        model_dir: Some(dir.path().to_path_buf()),
        workers: Some(1),
        ..MoonshineConfig::in_dir(&models)
    };
    let err = Moonshine::load(&config).unwrap_err();
    assert!(matches!(err, AsrError::Model(_)), "{err:?}");
    assert!(err.to_string().contains("decoder_model_merged"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_overloaded() {
    let config = MoonshineConfig {
        workers: Some(1),
        max_queue_wait_ms: 200,
        ..MoonshineConfig::in_dir(models_dir())
    };
    let asr = Arc::new(Moonshine::load(&config).unwrap());
    let book = Arc::new(fixture("book.wav"));
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let asr = Arc::clone(&asr);
        let book = Arc::clone(&book);
        tasks.push(tokio::spawn(async move {
            asr.transcribe(&book, &Hints::default()).await
        }));
    }
    let mut ok = 0;
    let mut overloaded = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(AsrError::Overloaded(waited)) => {
                assert!(waited.as_millis() > 200, "{waited:?}");
                overloaded += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(ok >= 1, "at least one job is served");
    // Twelve 2.8 s utterances on one worker: the last ones wait 11 decodes (> 200 ms).
    assert!(overloaded >= 1, "no job was refused");
}
