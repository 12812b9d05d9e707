//! `read_wav` on real files made by espeak-ng and SoX (committed in `tests/fixtures/`, made by
//! `tests/fixtures/make_wav_fixtures.sh`; this test needs neither tool).
//!
//! All the SoX files are re-encodings of `sox_pcm16_8k.wav` without dither, so each is checked
//! sample by sample against that file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hotline_audio::{
    Wav, alaw_to_linear, linear_to_alaw, linear_to_ulaw, read_wav, resample, to_telephone_ulaw,
    ulaw_to_linear,
};

fn fixture(name: &str) -> Wav {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(bytes.len() < 20 * 1024, "{name} should stay small");
    read_wav(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The reference: "hello" at 8 kHz, 16-bit mono (3,179 samples according to SoX's `fact`).
fn reference() -> Vec<i16> {
    let wav = fixture("sox_pcm16_8k.wav");
    assert_eq!(
        (wav.sample_rate, wav.channels, wav.samples.len()),
        (8000, 1, 3179)
    );
    wav.samples
}

fn peak(samples: &[i16]) -> u16 {
    samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0)
}

#[test]
fn espeak_ng_file_at_22050_hz() {
    let wav = fixture("espeak_hello_22050.wav");
    assert_eq!(
        (wav.sample_rate, wav.channels, wav.samples.len()),
        (22050, 1, 8763)
    );
    assert!(peak(&wav.samples) > 5000, "there is speech in it");
}

#[test]
fn espeak_ng_stdout_with_placeholder_sizes() {
    // RIFF size 0x7FFFF024 and data size 0x7FFFF000 in a 10,876-byte file.
    let wav = fixture("espeak_stdout_yes.wav");
    assert_eq!((wav.sample_rate, wav.channels), (22050, 1));
    assert_eq!(wav.samples.len(), (10_876 - 44) / 2);
    assert!(peak(&wav.samples) > 5000);
}

/// SoX rounds a 16-bit sample to the nearest multiple of `2^bits` (saturating) before its
/// 14-bit mu-law / 13-bit A-law encoder; see `hotline_audio::g711`.
fn sox_round(x: i16, bits: u32) -> i16 {
    let half = 1i32 << (bits - 1);
    (((i32::from(x) + half) >> bits) << bits).clamp(-32768, 32767) as i16
}

#[test]
fn sox_mulaw_matches_the_pcm_reference() {
    let pcm = reference();
    let wav = fixture("sox_ulaw_8k.wav");
    assert_eq!(
        (wav.sample_rate, wav.channels, wav.samples.len()),
        (8000, 1, 3179)
    );
    let mut ours_differ = 0;
    for (i, (&x, &decoded)) in pcm.iter().zip(&wav.samples).enumerate() {
        let sox_model = ulaw_to_linear(linear_to_ulaw(sox_round(x, 2)));
        assert_eq!(decoded, sox_model, "sample {i} = {x}");
        let ours = ulaw_to_linear(linear_to_ulaw(x));
        if decoded != ours {
            ours_differ += 1;
            // Where they differ, ours is never the farther level.
            let error = |level: i16| (i32::from(level) - i32::from(x)).abs();
            assert!(error(ours) <= error(decoded), "sample {i} = {x}");
        }
    }
    // Most differences are near-silent samples such as ±2, which SoX rounds up to ±4 (level ±8)
    // and ours down to 0. Measured: 141 of 3,179.
    eprintln!(
        "SoX mu-law vs ours: {ours_differ} of {} samples differ",
        pcm.len()
    );
    assert!(ours_differ < pcm.len() / 10, "{ours_differ}");
}

#[test]
fn sox_alaw_matches_the_pcm_reference() {
    let pcm = reference();
    let wav = fixture("sox_alaw_8k.wav");
    assert_eq!(
        (wav.sample_rate, wav.channels, wav.samples.len()),
        (8000, 1, 3179)
    );
    for (i, (&x, &decoded)) in pcm.iter().zip(&wav.samples).enumerate() {
        let sox_model = alaw_to_linear(linear_to_alaw(sox_round(x, 3)));
        assert_eq!(decoded, sox_model, "sample {i} = {x}");
    }
}

#[test]
fn sox_float32_is_exact() {
    let wav = fixture("sox_float32_8k.wav");
    assert_eq!((wav.sample_rate, wav.channels), (8000, 1));
    assert_eq!(wav.samples, reference());
}

#[test]
fn sox_unsigned_8_bit_is_within_one_step() {
    let pcm = reference();
    let wav = fixture("sox_u8_8k.wav");
    assert_eq!(
        (wav.sample_rate, wav.channels, wav.samples.len()),
        (8000, 1, 3179)
    );
    for (&x, &y) in pcm.iter().zip(&wav.samples) {
        assert!((i32::from(x) - i32::from(y)).abs() <= 256, "{x} vs {y}");
    }
}

#[test]
fn sox_extensible_24_bit_stereo_and_32_bit() {
    let pcm = reference();
    let wav = fixture("sox_extensible_s24_stereo_8k.wav");
    assert_eq!(
        (wav.sample_rate, wav.channels, wav.frames()),
        (8000, 2, 3179)
    );
    let left: Vec<i16> = wav.samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = wav.samples.iter().skip(1).step_by(2).copied().collect();
    assert_eq!(left, pcm);
    assert_eq!(right, pcm);
    assert_eq!(wav.to_mono(), pcm);

    let wav = fixture("sox_extensible_s32_8k.wav");
    assert_eq!((wav.sample_rate, wav.channels), (8000, 1));
    assert_eq!(wav.samples, pcm);
}

#[test]
fn telephone_conversion_of_espeak_agrees_with_sox() {
    let wav = fixture("espeak_hello_22050.wav");
    let codes = to_telephone_ulaw(&wav).unwrap();
    // ceil(8763 * 8000 / 22050)
    assert_eq!(codes.len(), 3180);
    // Our resampler and SoX's differ in their filters (ours cuts at 3.4-4 kHz, SoX's default
    // passes up to ~3.8 kHz) but must agree closely on speech.
    let ours = resample(&wav.samples, 22050, 8000).unwrap();
    let theirs = reference();
    let (mut signal, mut noise) = (0.0f64, 0.0f64);
    for (&a, &b) in ours.iter().zip(&theirs) {
        signal += f64::from(b).powi(2);
        noise += (f64::from(a) - f64::from(b)).powi(2);
    }
    let snr = 10.0 * (signal / noise).log10();
    eprintln!("ours vs SoX 22050 -> 8000 on espeak speech: {snr:.1} dB");
    assert!(snr > 25.0, "{snr:.1} dB");
    let decoded: Vec<i16> = codes.iter().map(|&c| ulaw_to_linear(c)).collect();
    assert!(peak(&decoded) > 5000);
}
