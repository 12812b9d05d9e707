//! Fuzz target: WAV files are user input (caller audio, prompts); reading must never panic and
//! never produce more samples than the input has bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(wav) = hotline_audio::wav::read_wav(data) {
        assert!(wav.samples.len() <= data.len());
        let _ = hotline_audio::wav::to_telephone_ulaw(&wav);
    }
});
