//! Telephone audio at the edge of Hotline: pure codecs and converters, no I/O.
//!
//! - [`g711`]: mu-law (PCMU, what Twilio Media Streams carry: 8 kHz, 160 bytes per 20 ms) and
//!   A-law (PCMA), table-driven, checked against a reference implementation on every input.
//! - [`resample`](mod@resample): streaming 8 kHz ⇄ 16 kHz half-band converters for the live call
//!   path (VAD and ASR models want 16 kHz, often as `f32`), and an offline converter for any pair
//!   of rates (espeak-ng's 22,050 Hz, 44.1 kHz and 48 kHz files, …).
//! - [`wav`]: a hostile-input-safe WAV reader (PCM 8/16/24/32-bit, float, mu-law, A-law,
//!   `WAVE_FORMAT_EXTENSIBLE`) and writers for 16-bit PCM and mu-law files, plus
//!   [`to_telephone_ulaw`], which turns any decoded WAV into what Twilio expects.
//!
//! Everything here is synchronous and deterministic: time is the sample count. Nothing reads a
//! file, opens a socket or looks at a clock; the caller brings the bytes. Nothing panics on
//! input data.
//!
//! ```
//! use hotline_audio::{Upsampler2x, decode_ulaw};
//!
//! // One 20 ms Media Streams frame of silence, decoded and upsampled for an ASR model.
//! let frame = [0xFFu8; 160];
//! let mut pcm = Vec::new();
//! decode_ulaw(&frame, &mut pcm);
//! let mut upsampler = Upsampler2x::new();
//! let mut wide = Vec::new();
//! upsampler.process_f32(&pcm, &mut wide);
//! assert_eq!(wide.len(), 320);
//! ```

pub mod g711;
pub mod resample;
pub mod wav;

pub use g711::{
    ALAW_SILENCE, ULAW_SILENCE, alaw_to_linear, decode_alaw, decode_ulaw, encode_alaw, encode_ulaw,
    linear_to_alaw, linear_to_ulaw, ulaw_to_linear,
};
pub use resample::{Downsampler2x, MAX_RATIO, Upsampler2x, resample};
pub use wav::{
    FourCc, Wav, WavError, read_wav, to_telephone_ulaw, write_wav_alaw, write_wav_pcm16,
    write_wav_ulaw,
};

/// The sample rate of G.711 telephone audio (Twilio Media Streams), in Hz.
pub const TELEPHONE_RATE_HZ: u32 = 8000;

/// Errors from converting audio (as opposed to parsing it, see [`WavError`]).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AudioError {
    /// A sample rate of 0 Hz was given.
    ///
    /// Remedy: the audio's header or the configuration is wrong; pass the real rate in Hz.
    #[error("invalid sample rate: cannot convert {from_hz} Hz to {to_hz} Hz (0 Hz is not a rate)")]
    InvalidSampleRate {
        /// The source rate given.
        from_hz: u32,
        /// The target rate given.
        to_hz: u32,
    },

    /// One rate is more than [`MAX_RATIO`] times the other.
    ///
    /// Remedy: such a conversion is almost certainly a mislabelled rate; check the source file,
    /// or convert it first with a dedicated tool (e.g. `sox in.wav -r 8000 out.wav`).
    #[error(
        "unsupported resampling ratio {from_hz} Hz -> {to_hz} Hz (at most {MAX_RATIO}x either way)"
    )]
    UnsupportedRatio {
        /// The source rate given.
        from_hz: u32,
        /// The target rate given.
        to_hz: u32,
    },

    /// The converted audio would not fit in memory on this platform.
    ///
    /// Remedy: split the audio into shorter pieces.
    #[error("audio too long to convert in one piece")]
    TooLong,

    /// A WAV file could not be used.
    ///
    /// Remedy: see the [`WavError`] variant.
    #[error(transparent)]
    Wav(#[from] WavError),
}
