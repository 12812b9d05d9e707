//! WAV (RIFF/WAVE) files: a reader that is safe on hostile input, and small writers.
//!
//! [`read_wav`] decodes every encoding a prompt or a TTS engine is likely to hand us into
//! interleaved 16-bit samples: PCM 8-bit unsigned, 16/24/32-bit signed (any valid-bit count
//! that fits the container), 32/64-bit IEEE float, A-law and mu-law, each either plain or wrapped in
//! `WAVE_FORMAT_EXTENSIBLE`. Wider formats are rounded to the nearest 16-bit value (saturating;
//! NaN reads as silence).
//!
//! Tolerated, because real tools write them:
//! - RIFF and `data` sizes of `0xFFFFFFFF` (or any size past the end of the input), and a `data`
//!   size of 0 when the RIFF size is 0 or `0xFFFFFFFF`: streaming writers that never patch the
//!   header, e.g. `espeak-ng --stdout` (sizes `0x7FFFF024` / `0x7FFFF000`). The data then runs to
//!   the end of the input.
//! - a RIFF size that disagrees with the input length: it is ignored, the chunks are walked;
//! - unknown chunks (`LIST`, `fact`, `cue `, `bext`, `JUNK`, …) anywhere, `data` before `fmt `,
//!   trailing garbage after the `data` chunk, odd-sized chunks with or without their pad byte;
//! - a trailing partial sample frame, which is dropped;
//! - a `block_align` of 0.
//!
//! Rejected with a [`WavError`] saying what to do: anything that is not RIFF/WAVE, RF64 and
//! big-endian RIFX, truncated headers, missing `fmt ` or `data`, encodings other than the above
//! (ADPCM, GSM, MP3-in-WAV, …), 0 or more than [`MAX_CHANNELS`] channels, sample rates of 0 or
//! above [`MAX_SAMPLE_RATE`], and a `block_align` that contradicts the other fields.
//!
//! The reader never panics and allocates at most one `i16` per input byte (the decoded samples;
//! sizes written in the file are never trusted for allocation).
//!
//! The writers produce canonical little-endian RIFF: [`write_wav_pcm16`], and [`write_wav_ulaw`] /
//! [`write_wav_alaw`] (format 7 / 6 with a `fact` chunk, as the WAV spec asks for non-PCM data).
//! [`to_telephone_ulaw`] turns any decoded file into Twilio's format (mono, 8 kHz, mu-law).

use std::fmt;

use crate::{AudioError, TELEPHONE_RATE_HZ, g711, resample::resample};

/// Most channels [`read_wav`] accepts.
pub const MAX_CHANNELS: u16 = 256;

/// Highest sample rate [`read_wav`] accepts, in Hz.
pub const MAX_SAMPLE_RATE: u32 = 1_000_000;

const FORMAT_PCM: u16 = 0x0001;
const FORMAT_IEEE_FLOAT: u16 = 0x0003;
const FORMAT_ALAW: u16 = 0x0006;
const FORMAT_MULAW: u16 = 0x0007;
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// Bytes 2..16 of every `KSDATAFORMAT_SUBTYPE_*` GUID that wraps a classic format tag
/// (`XXXXXXXX-0000-0010-8000-00AA00389B71`, tag in the first two bytes, little-endian).
const SUBTYPE_GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// Decoded audio: interleaved 16-bit samples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wav {
    /// Frames per second, in Hz.
    pub sample_rate: u32,
    /// Number of interleaved channels (1 = mono).
    pub channels: u16,
    /// Samples, interleaved when `channels > 1` (left, right, left, … for stereo).
    pub samples: Vec<i16>,
}

impl Wav {
    /// Number of whole frames (one sample per channel).
    #[must_use]
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }

    /// The channels averaged into one, rounding to nearest; a trailing partial frame is dropped.
    /// Mono (or a `channels` of 0) is returned as is.
    #[must_use]
    pub fn to_mono(&self) -> Vec<i16> {
        let channels = usize::from(self.channels);
        if channels <= 1 {
            return self.samples.clone();
        }
        let divisor = i64::from(self.channels);
        self.samples
            .chunks_exact(channels)
            .map(|frame| {
                let sum: i64 = frame.iter().map(|&s| i64::from(s)).sum();
                // Round half away from zero; the mean of i16 values is always an i16.
                let rounded = (sum + sum.signum() * (divisor / 2)) / divisor;
                rounded as i16
            })
            .collect()
    }
}

/// A RIFF chunk or form identifier, shown as text when printable.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FourCc(pub [u8; 4]);

impl fmt::Display for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            self.0
                .iter()
                .try_for_each(|&b| write!(f, "{}", char::from(b)))
        } else {
            write!(
                f,
                "0x{:02X}{:02X}{:02X}{:02X}",
                self.0[0], self.0[1], self.0[2], self.0[3]
            )
        }
    }
}

impl fmt::Debug for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FourCc({self})")
    }
}

/// Why a WAV file could not be read.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WavError {
    /// The input does not start with a RIFF header (`RIFF`, size, `WAVE`).
    ///
    /// Remedy: this is not a WAV file (perhaps MP3, Ogg or raw samples); convert it, e.g.
    /// `sox in.mp3 -r 8000 -c 1 out.wav`.
    #[error("not a WAV file: expected a RIFF header, found {found}")]
    NotRiff {
        /// The first four bytes (zero-padded if the input is shorter).
        found: FourCc,
    },

    /// A RIFF file whose form type is not `WAVE` (e.g. `AVI `).
    ///
    /// Remedy: extract or convert the audio to a WAV file first.
    #[error("RIFF file of type {form}, not WAVE")]
    NotWave {
        /// The form type found.
        form: FourCc,
    },

    /// An RF64/BW64 (for files over 4 GiB) or big-endian RIFX container.
    ///
    /// Remedy: convert to a plain little-endian WAV, e.g. `sox in.wav -t wav out.wav`; prompts
    /// that large do not belong on a phone line anyway.
    #[error("unsupported container {magic}: only little-endian RIFF/WAVE is read")]
    UnsupportedContainer {
        /// The container magic found.
        magic: FourCc,
    },

    /// The input ends inside a header or inside the `fmt ` chunk.
    ///
    /// Remedy: the file was cut short (interrupted download or write); get the whole file.
    #[error("truncated WAV: {what} needs {needed} bytes at offset {offset}, input has {len}")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Where it starts.
        offset: usize,
        /// How many bytes it needs.
        needed: usize,
        /// Input length.
        len: usize,
    },

    /// No `fmt ` chunk before the end of the input.
    ///
    /// Remedy: the file is damaged or not really a WAV file; re-export it from the source.
    #[error("WAV has no fmt chunk")]
    MissingFmt,

    /// No `data` chunk before the end of the input.
    ///
    /// Remedy: the file is damaged or has no audio; re-export it from the source.
    #[error("WAV has no data chunk")]
    MissingData,

    /// The `fmt ` chunk is shorter than its format requires (16 bytes, or 40 for
    /// `WAVE_FORMAT_EXTENSIBLE`).
    ///
    /// Remedy: the header is damaged; re-export the file.
    #[error("fmt chunk too short: {size} bytes, need {needed}")]
    FmtTooShort {
        /// Size of the chunk found.
        size: usize,
        /// Size required.
        needed: usize,
    },

    /// An encoding this reader does not decode (ADPCM, GSM, MP3, 12-bit float, …).
    ///
    /// Remedy: convert to 16-bit PCM, e.g. `sox in.wav -e signed-integer -b 16 out.wav`.
    #[error(
        "unsupported WAV encoding: format tag {format_tag:#06x} with {bits_per_sample} bits per sample"
    )]
    UnsupportedEncoding {
        /// The format tag (for `WAVE_FORMAT_EXTENSIBLE`, the one in the sub-format GUID, or
        /// `0xFFFE` if the GUID is not a wrapped format tag).
        format_tag: u16,
        /// Bits per sample (container size).
        bits_per_sample: u16,
    },

    /// A channel count of 0 or above [`MAX_CHANNELS`].
    ///
    /// Remedy: the header is damaged, or the file is a multi-track recording; downmix it first
    /// (`sox in.wav -c 1 out.wav`).
    #[error("invalid channel count {channels} (1..={MAX_CHANNELS} supported)")]
    InvalidChannels {
        /// The count found.
        channels: u16,
    },

    /// A sample rate of 0 or above [`MAX_SAMPLE_RATE`].
    ///
    /// Remedy: the header is damaged; re-export the file or resample it with `sox`.
    #[error("invalid sample rate {sample_rate} Hz (1..={MAX_SAMPLE_RATE} supported)")]
    InvalidSampleRate {
        /// The rate found.
        sample_rate: u32,
    },

    /// `block_align` contradicts the channel count and sample size.
    ///
    /// Remedy: the header is damaged or uses a packing this reader does not know; convert the
    /// file to 16-bit PCM with `sox`.
    #[error(
        "block_align {block_align} does not match {expected} ({channels} channels of {bits_per_sample} bits)"
    )]
    BlockAlignMismatch {
        /// The value in the file.
        block_align: u16,
        /// `channels * bytes per sample`.
        expected: u32,
        /// Channels in the file.
        channels: u16,
        /// Bits per sample in the file.
        bits_per_sample: u16,
    },
}

/// How samples are stored in the `data` chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    U8,
    I16,
    I24,
    I32,
    F32,
    F64,
    Alaw,
    Mulaw,
}

impl Encoding {
    const fn bytes(self) -> usize {
        match self {
            Self::U8 | Self::Alaw | Self::Mulaw => 1,
            Self::I16 => 2,
            Self::I24 => 3,
            Self::I32 | Self::F32 => 4,
            Self::F64 => 8,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Format {
    encoding: Encoding,
    channels: u16,
    sample_rate: u32,
}

fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    let b = bytes.get(offset..offset.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    let b = bytes.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn fourcc_at(bytes: &[u8], offset: usize) -> Option<[u8; 4]> {
    let b = bytes.get(offset..offset.checked_add(4)?)?;
    Some([b[0], b[1], b[2], b[3]])
}

/// Chunk ids that may follow an odd-sized chunk whose writer forgot the pad byte.
const KNOWN_CHUNKS: [&[u8; 4]; 12] = [
    b"fmt ", b"data", b"fact", b"LIST", b"cue ", b"bext", b"JUNK", b"junk", b"PAD ", b"id3 ",
    b"ID3 ", b"smpl",
];

/// Reads a WAV file held in memory. See the [module docs](self) for what is accepted.
///
/// # Errors
///
/// A [`WavError`] describing the first problem that prevents decoding.
pub fn read_wav(bytes: &[u8]) -> Result<Wav, WavError> {
    let len = bytes.len();
    let magic = fourcc_at(bytes, 0).unwrap_or_else(|| {
        let mut padded = [0u8; 4];
        for (slot, &b) in padded.iter_mut().zip(bytes) {
            *slot = b;
        }
        padded
    });
    match &magic {
        b"RIFF" => {}
        b"RIFX" | b"RF64" | b"BW64" => {
            return Err(WavError::UnsupportedContainer {
                magic: FourCc(magic),
            });
        }
        _ => {
            return Err(WavError::NotRiff {
                found: FourCc(magic),
            });
        }
    }
    let (Some(riff_size), Some(form)) = (u32_at(bytes, 4), fourcc_at(bytes, 8)) else {
        return Err(WavError::Truncated {
            what: "RIFF header",
            offset: 0,
            needed: 12,
            len,
        });
    };
    if &form != b"WAVE" {
        return Err(WavError::NotWave { form: FourCc(form) });
    }
    let streaming = riff_size == 0 || riff_size == u32::MAX;

    let mut format: Option<Format> = None;
    let mut data: Option<&[u8]> = None;
    let mut offset = 12usize;
    while format.is_none() || data.is_none() {
        let (Some(id), Some(size)) = (fourcc_at(bytes, offset), u32_at(bytes, offset + 4)) else {
            // No room for another chunk header: the walk is over (trailing bytes are ignored).
            break;
        };
        let body_start = offset + 8;
        let available = len - body_start; // `u32_at` succeeded, so body_start <= len.
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        match &id {
            b"fmt " if format.is_none() => {
                let body = bytes
                    .get(body_start..body_start.saturating_add(size))
                    .ok_or(WavError::Truncated {
                        what: "fmt chunk",
                        offset,
                        needed: size.saturating_add(8),
                        len,
                    })?;
                format = Some(parse_fmt(body)?);
            }
            b"data" if data.is_none() => {
                if size > available || (size == 0 && streaming) {
                    // Streaming or truncated output: the samples run to the end of the input.
                    data = bytes.get(body_start..);
                    break;
                }
                data = bytes.get(body_start..body_start + size);
            }
            _ => {}
        }
        if size > available {
            // A chunk running past the end: nothing after it can be read.
            break;
        }
        let mut next = body_start + size;
        if size % 2 == 1 {
            let unpadded_is_chunk = fourcc_at(bytes, next)
                .is_some_and(|id| KNOWN_CHUNKS.iter().any(|known| **known == id));
            if !unpadded_is_chunk {
                next += 1;
            }
        }
        offset = next;
    }

    let format = format.ok_or(WavError::MissingFmt)?;
    let data = data.ok_or(WavError::MissingData)?;
    Ok(Wav {
        sample_rate: format.sample_rate,
        channels: format.channels,
        samples: decode_samples(format, data),
    })
}

fn parse_fmt(body: &[u8]) -> Result<Format, WavError> {
    let too_short = |needed| WavError::FmtTooShort {
        size: body.len(),
        needed,
    };
    let (Some(mut format_tag), Some(channels), Some(sample_rate), Some(block_align), Some(bits)) = (
        u16_at(body, 0),
        u16_at(body, 2),
        u32_at(body, 4),
        u16_at(body, 12),
        u16_at(body, 14),
    ) else {
        return Err(too_short(16));
    };
    if format_tag == FORMAT_EXTENSIBLE {
        // cbSize (2), valid bits (2), channel mask (4), sub-format GUID (16).
        let (Some(sub_tag), Some(tail)) = (u16_at(body, 24), body.get(26..40)) else {
            return Err(too_short(40));
        };
        if tail != SUBTYPE_GUID_TAIL {
            return Err(WavError::UnsupportedEncoding {
                format_tag: FORMAT_EXTENSIBLE,
                bits_per_sample: bits,
            });
        }
        format_tag = sub_tag;
    }
    let encoding = match (format_tag, bits) {
        (FORMAT_PCM, 1..=8) => Encoding::U8,
        (FORMAT_PCM, 9..=16) => Encoding::I16,
        (FORMAT_PCM, 17..=24) => Encoding::I24,
        (FORMAT_PCM, 25..=32) => Encoding::I32,
        (FORMAT_IEEE_FLOAT, 32) => Encoding::F32,
        (FORMAT_IEEE_FLOAT, 64) => Encoding::F64,
        (FORMAT_ALAW, 8) => Encoding::Alaw,
        (FORMAT_MULAW, 8) => Encoding::Mulaw,
        _ => {
            return Err(WavError::UnsupportedEncoding {
                format_tag,
                bits_per_sample: bits,
            });
        }
    };
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(WavError::InvalidChannels { channels });
    }
    if sample_rate == 0 || sample_rate > MAX_SAMPLE_RATE {
        return Err(WavError::InvalidSampleRate { sample_rate });
    }
    let expected = u32::from(channels) * encoding.bytes() as u32;
    if block_align != 0 && u32::from(block_align) != expected {
        return Err(WavError::BlockAlignMismatch {
            block_align,
            expected,
            channels,
            bits_per_sample: bits,
        });
    }
    Ok(Format {
        encoding,
        channels,
        sample_rate,
    })
}

/// Rounds `value / 2^shift` to nearest, ties away from zero, and saturates to `i16`.
fn round_shift(value: i64, shift: u32) -> i16 {
    let half = 1i64 << (shift - 1);
    let rounded = if value >= 0 {
        (value + half) >> shift
    } else {
        -((-value + half) >> shift)
    };
    rounded.clamp(i16::MIN.into(), i16::MAX.into()) as i16
}

fn float_to_i16(value: f64) -> i16 {
    // `as` saturates and maps NaN to 0.
    (value * 32768.0).round() as i16
}

fn decode_samples(format: Format, data: &[u8]) -> Vec<i16> {
    let sample_bytes = format.encoding.bytes();
    let frame_bytes = sample_bytes * usize::from(format.channels);
    let usable = data.len() - data.len() % frame_bytes;
    let data = data.get(..usable).unwrap_or_default();
    let mut samples = Vec::with_capacity(usable / sample_bytes);
    match format.encoding {
        Encoding::U8 => samples.extend(data.iter().map(|&b| (i16::from(b) - 128) << 8)),
        Encoding::Mulaw => g711::decode_ulaw(data, &mut samples),
        Encoding::Alaw => g711::decode_alaw(data, &mut samples),
        Encoding::I16 => samples.extend(
            data.chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]])),
        ),
        Encoding::I24 => samples.extend(data.chunks_exact(3).map(|b| {
            let value = i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8;
            round_shift(value.into(), 8)
        })),
        Encoding::I32 => samples.extend(
            data.chunks_exact(4)
                .map(|b| round_shift(i32::from_le_bytes([b[0], b[1], b[2], b[3]]).into(), 16)),
        ),
        Encoding::F32 => samples.extend(
            data.chunks_exact(4)
                .map(|b| float_to_i16(f32::from_le_bytes([b[0], b[1], b[2], b[3]]).into())),
        ),
        Encoding::F64 => samples.extend(data.chunks_exact(8).map(|b| {
            float_to_i16(f64::from_le_bytes([
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
            ]))
        })),
    }
    samples
}

/// Saturating conversion for header size fields: a payload too big for 32 bits is written with
/// the streaming marker `0xFFFFFFFF`, which [`read_wav`] (and most readers) accept.
fn size_field(size: usize) -> u32 {
    u32::try_from(size).unwrap_or(u32::MAX)
}

/// A canonical 16-bit PCM WAV file (44-byte header). `samples` are interleaved if
/// `channels > 1`; a `channels` of 0 is written as 1.
#[must_use]
pub fn write_wav_pcm16(sample_rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
    let channels = channels.max(1);
    let data_len = samples.len().saturating_mul(2);
    let block_align = channels.saturating_mul(2);
    let mut out = Vec::with_capacity(data_len.saturating_add(44));
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&size_field(data_len.saturating_add(36)).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&FORMAT_PCM.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(
        &sample_rate
            .saturating_mul(u32::from(block_align))
            .to_le_bytes(),
    );
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&size_field(data_len).to_le_bytes());
    for sample in samples {
        out.extend_from_slice(&sample.to_le_bytes());
    }
    out
}

/// A mono mu-law WAV file (format 7, 8 bits, with a `fact` chunk), e.g. a Media Streams
/// recording at 8000 Hz.
#[must_use]
pub fn write_wav_ulaw(sample_rate: u32, codes: &[u8]) -> Vec<u8> {
    write_g711(FORMAT_MULAW, sample_rate, codes)
}

/// A mono A-law WAV file (format 6, 8 bits, with a `fact` chunk).
#[must_use]
pub fn write_wav_alaw(sample_rate: u32, codes: &[u8]) -> Vec<u8> {
    write_g711(FORMAT_ALAW, sample_rate, codes)
}

fn write_g711(format_tag: u16, sample_rate: u32, codes: &[u8]) -> Vec<u8> {
    let pad = codes.len() % 2;
    // 4 (WAVE) + 26 (fmt chunk) + 12 (fact chunk) + 8 (data header) + data + pad.
    let riff_size = codes.len().saturating_add(50 + pad);
    let mut out = Vec::with_capacity(riff_size.saturating_add(8));
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&size_field(riff_size).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&18u32.to_le_bytes());
    out.extend_from_slice(&format_tag.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // channels
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes()); // bytes per second
    out.extend_from_slice(&1u16.to_le_bytes()); // block align
    out.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(&0u16.to_le_bytes()); // cbSize
    out.extend_from_slice(b"fact");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&size_field(codes.len()).to_le_bytes()); // sample frames
    out.extend_from_slice(b"data");
    out.extend_from_slice(&size_field(codes.len()).to_le_bytes());
    out.extend_from_slice(codes);
    if pad == 1 {
        out.push(0);
    }
    out
}

/// Converts decoded audio to what a Twilio call carries: channels averaged to mono, resampled
/// to 8 kHz with [`resample`], mu-law encoded.
///
/// # Errors
///
/// [`AudioError::InvalidSampleRate`] / [`AudioError::UnsupportedRatio`] if the WAV's rate is 0 or
/// more than [`crate::MAX_RATIO`] times away from 8 kHz.
pub fn to_telephone_ulaw(wav: &Wav) -> Result<Vec<u8>, AudioError> {
    let mono = wav.to_mono();
    let telephone = resample(&mono, wav.sample_rate, TELEPHONE_RATE_HZ)?;
    let mut codes = Vec::with_capacity(telephone.len());
    g711::encode_ulaw(&telephone, &mut codes);
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A `fmt ` chunk body: tag, channels, rate, byte rate, block align, bits (+ extra bytes).
    fn fmt_body(tag: u16, channels: u16, rate: u32, bits: u16, extra: &[u8]) -> Vec<u8> {
        let block_align = channels * bits.div_ceil(8);
        let mut body = Vec::new();
        body.extend_from_slice(&tag.to_le_bytes());
        body.extend_from_slice(&channels.to_le_bytes());
        body.extend_from_slice(&rate.to_le_bytes());
        body.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
        body.extend_from_slice(&block_align.to_le_bytes());
        body.extend_from_slice(&bits.to_le_bytes());
        body.extend_from_slice(extra);
        body
    }

    /// Extension bytes for `WAVE_FORMAT_EXTENSIBLE` wrapping `sub_tag`.
    fn extensible(valid_bits: u16, sub_tag: u16) -> Vec<u8> {
        let mut extra = Vec::new();
        extra.extend_from_slice(&22u16.to_le_bytes());
        extra.extend_from_slice(&valid_bits.to_le_bytes());
        extra.extend_from_slice(&4u32.to_le_bytes()); // front centre
        extra.extend_from_slice(&sub_tag.to_le_bytes());
        extra.extend_from_slice(&SUBTYPE_GUID_TAIL);
        extra
    }

    fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = id.to_vec();
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
        if body.len() % 2 == 1 {
            out.push(0);
        }
        out
    }

    fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
        out.extend_from_slice(b"WAVE");
        out.extend_from_slice(&body);
        out
    }

    fn simple(fmt: Vec<u8>, data: &[u8]) -> Vec<u8> {
        riff(&[chunk(b"fmt ", &fmt), chunk(b"data", data)])
    }

    const PCM: [i16; 6] = [0, 1, -1, 12_345, i16::MAX, i16::MIN];

    fn pcm16_bytes(samples: &[i16]) -> Vec<u8> {
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    #[test]
    fn pcm16_round_trip_mono_and_stereo() {
        let bytes = write_wav_pcm16(8000, 1, &PCM);
        assert_eq!(bytes.len(), 44 + 12);
        assert_eq!(
            read_wav(&bytes).unwrap(),
            Wav {
                sample_rate: 8000,
                channels: 1,
                samples: PCM.to_vec()
            }
        );
        let bytes = write_wav_pcm16(44100, 2, &PCM);
        let wav = read_wav(&bytes).unwrap();
        assert_eq!((wav.sample_rate, wav.channels, wav.frames()), (44100, 2, 3));
        assert_eq!(wav.samples, PCM);
        // byte rate and block align
        assert_eq!(&bytes[28..34], &[0x10, 0xB1, 0x02, 0x00, 4, 0]);
    }

    #[test]
    fn write_pcm16_canonical_header() {
        let bytes = write_wav_pcm16(16000, 0, &[1, -2]);
        let expected: &[u8] = &[
            b'R', b'I', b'F', b'F', 40, 0, 0, 0, b'W', b'A', b'V', b'E', b'f', b'm', b't', b' ',
            16, 0, 0, 0, 1, 0, 1, 0, 0x80, 0x3E, 0, 0, 0, 0x7D, 0, 0, 2, 0, 16, 0, b'd', b'a',
            b't', b'a', 4, 0, 0, 0, 1, 0, 0xFE, 0xFF,
        ];
        assert_eq!(bytes, expected);
    }

    #[test]
    fn ulaw_and_alaw_round_trip_with_fact_chunk() {
        let codes: Vec<u8> = (0..=255).collect();
        for odd in [false, true] {
            let codes = if odd { &codes[..255] } else { &codes[..] };
            let bytes = write_wav_ulaw(8000, codes);
            assert_eq!(bytes.len(), 58 + codes.len() + usize::from(odd));
            assert_eq!(&bytes[20..22], &[7, 0]);
            assert_eq!(&bytes[38..42], b"fact");
            assert_eq!(u32_at(&bytes, 46), Some(codes.len() as u32));
            assert_eq!(u32_at(&bytes, 4), Some(bytes.len() as u32 - 8));
            let wav = read_wav(&bytes).unwrap();
            let mut expected = Vec::new();
            g711::decode_ulaw(codes, &mut expected);
            assert_eq!((wav.sample_rate, wav.channels), (8000, 1));
            assert_eq!(wav.samples, expected);

            let bytes = write_wav_alaw(8000, codes);
            assert_eq!(&bytes[20..22], &[6, 0]);
            let mut expected = Vec::new();
            g711::decode_alaw(codes, &mut expected);
            assert_eq!(read_wav(&bytes).unwrap().samples, expected);
        }
    }

    #[test]
    fn reads_every_encoding() {
        // 8-bit unsigned
        let wav = read_wav(&simple(fmt_body(1, 1, 8000, 8, &[]), &[0, 128, 255, 129])).unwrap();
        assert_eq!(wav.samples, [-32768, 0, 32512, 256]);
        // 24-bit: rounds to nearest, saturating at the top.
        let data = [
            0x00, 0x00, 0x80, 0xFF, 0xFF, 0x7F, 0x7F, 0x00, 0x00, 0x80, 0x00, 0x00, 0x80, 0xFF,
            0xFF,
        ];
        let wav = read_wav(&simple(fmt_body(1, 1, 8000, 24, &[]), &data)).unwrap();
        assert_eq!(wav.samples, [-32768, 32767, 0, 1, -1]);
        // 32-bit integer
        let data: Vec<u8> = [i32::MIN, i32::MAX, 0x0001_8000, -0x0001_8000, 0x7FFF]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let wav = read_wav(&simple(fmt_body(1, 1, 8000, 32, &[]), &data)).unwrap();
        assert_eq!(wav.samples, [-32768, 32767, 2, -2, 0]);
        // 32-bit float, including out-of-range and NaN
        let data: Vec<u8> = [0.5f32, -1.0, 2.0, -3.0, f32::NAN, 1.0 / 32768.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let wav = read_wav(&simple(fmt_body(3, 1, 8000, 32, &[]), &data)).unwrap();
        assert_eq!(wav.samples, [16384, -32768, 32767, -32768, 0, 1]);
        // 64-bit float
        let data: Vec<u8> = [0.25f64, -0.25]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let wav = read_wav(&simple(fmt_body(3, 1, 8000, 64, &[]), &data)).unwrap();
        assert_eq!(wav.samples, [8192, -8192]);
        // A-law and mu-law, with the 2-byte cbSize most writers add
        let wav = read_wav(&simple(fmt_body(6, 1, 8000, 8, &[0, 0]), &[0xD5, 0x55])).unwrap();
        assert_eq!(wav.samples, [8, -8]);
        let wav = read_wav(&simple(
            fmt_body(7, 1, 8000, 8, &[0, 0]),
            &[0xFF, 0x80, 0x00],
        ))
        .unwrap();
        assert_eq!(wav.samples, [0, 32124, -32124]);
    }

    #[test]
    fn reads_extensible_wrappers() {
        // (sub-format tag, container bits, valid bits, data, expected samples)
        type Case = (u16, u16, u16, Vec<u8>, Vec<i16>);
        let cases: [Case; 5] = [
            (1, 16, 16, pcm16_bytes(&PCM), PCM.to_vec()),
            (
                1,
                24,
                20,
                vec![0x00, 0x10, 0x00, 0x00, 0xF0, 0xFF],
                vec![16, -16],
            ),
            (1, 32, 24, 0x0100_0000i32.to_le_bytes().to_vec(), vec![256]),
            (3, 32, 32, (-0.5f32).to_le_bytes().to_vec(), vec![-16384]),
            (7, 8, 8, vec![0xFF, 0x00], vec![0, -32124]),
        ];
        for (sub_tag, bits, valid, data, expected) in cases {
            let fmt = fmt_body(
                FORMAT_EXTENSIBLE,
                1,
                16000,
                bits,
                &extensible(valid, sub_tag),
            );
            assert_eq!(fmt.len(), 40);
            let wav = read_wav(&simple(fmt, &data)).unwrap();
            assert_eq!(wav.samples, expected, "sub-format {sub_tag} {bits} bits");
            assert_eq!(wav.sample_rate, 16000);
        }
        // An extensible GUID that is not a wrapped format tag (e.g. Ambisonic B-format).
        let mut extra = extensible(16, 1);
        extra[10] = 0x01;
        let fmt = fmt_body(FORMAT_EXTENSIBLE, 1, 16000, 16, &extra);
        assert_eq!(
            read_wav(&simple(fmt, &[0, 0])),
            Err(WavError::UnsupportedEncoding {
                format_tag: 0xFFFE,
                bits_per_sample: 16
            })
        );
        // Extensible tag with a 16-byte fmt chunk.
        let fmt = fmt_body(FORMAT_EXTENSIBLE, 1, 16000, 16, &[]);
        assert_eq!(
            read_wav(&simple(fmt, &[0, 0])),
            Err(WavError::FmtTooShort {
                size: 16,
                needed: 40
            })
        );
    }

    fn with_sizes(mut bytes: Vec<u8>, riff_size: u32, data_size: u32) -> Vec<u8> {
        bytes[4..8].copy_from_slice(&riff_size.to_le_bytes());
        let data = bytes.windows(4).position(|w| w == b"data").unwrap();
        bytes[data + 4..data + 8].copy_from_slice(&data_size.to_le_bytes());
        bytes
    }

    #[test]
    fn tolerates_streaming_and_wrong_sizes() {
        let good = write_wav_pcm16(8000, 1, &PCM);
        for (riff_size, data_size) in [
            (u32::MAX, u32::MAX),
            (0, 0),
            (0x7FFF_F024, 0x7FFF_F000), // espeak-ng --stdout
            (u32::MAX, 0),
            (4, 1000), // RIFF too small, data too big
            (1_000_000, 12),
        ] {
            let bytes = with_sizes(good.clone(), riff_size, data_size);
            assert_eq!(
                read_wav(&bytes).unwrap().samples,
                PCM,
                "{riff_size:#x} {data_size:#x}"
            );
        }
        // A truncated stream drops the partial sample.
        let bytes = with_sizes(good.clone(), u32::MAX, u32::MAX);
        assert_eq!(
            read_wav(&bytes[..bytes.len() - 1]).unwrap().samples,
            PCM[..5]
        );
        // A correct data size stops before trailing garbage.
        let mut bytes = good.clone();
        bytes.extend_from_slice(b"garbage\xFF\xFF");
        assert_eq!(read_wav(&bytes).unwrap().samples, PCM);
        // An empty data chunk in a patched file is really empty.
        assert_eq!(
            read_wav(&write_wav_pcm16(8000, 1, &[])).unwrap().samples,
            []
        );
    }

    #[test]
    fn skips_unknown_chunks_and_handles_padding() {
        let fmt = chunk(b"fmt ", &fmt_body(1, 1, 8000, 16, &[]));
        let data = chunk(b"data", &pcm16_bytes(&PCM));
        let list = chunk(b"LIST", b"INFOISFT\x05\x00\x00\x00odd!\x00"); // odd size, padded
        let fact = chunk(b"fact", &6u32.to_le_bytes());
        for order in [
            vec![list.clone(), fmt.clone(), fact.clone(), data.clone()],
            vec![fmt.clone(), list.clone(), data.clone(), list.clone()],
            vec![data.clone(), list.clone(), fmt.clone()],
        ] {
            assert_eq!(read_wav(&riff(&order)).unwrap().samples, PCM);
        }
        // A writer that forgot the pad byte after an odd chunk.
        let mut unpadded = list.clone();
        unpadded.pop();
        assert_eq!(
            read_wav(&riff(&[fmt.clone(), unpadded, data.clone()]))
                .unwrap()
                .samples,
            PCM
        );
        // The first fmt chunk wins.
        let other = chunk(b"fmt ", &fmt_body(1, 1, 16000, 16, &[]));
        assert_eq!(
            read_wav(&riff(&[fmt, other, data])).unwrap().sample_rate,
            8000
        );
    }

    #[test]
    fn to_mono_averages_and_rounds() {
        let wav = Wav {
            sample_rate: 8000,
            channels: 2,
            samples: vec![
                1,
                2,
                -1,
                -2,
                100,
                -100,
                i16::MAX,
                i16::MAX,
                i16::MIN,
                i16::MIN,
                7,
            ],
        };
        assert_eq!(wav.to_mono(), [2, -2, 0, i16::MAX, i16::MIN]);
        assert_eq!(wav.frames(), 5);
        let wav = Wav {
            sample_rate: 8000,
            channels: 3,
            samples: vec![1, 1, 2],
        };
        assert_eq!(wav.to_mono(), [1]);
        let wav = Wav {
            sample_rate: 8000,
            channels: 0,
            samples: vec![5, 6],
        };
        assert_eq!(wav.to_mono(), [5, 6]);
    }

    #[test]
    fn to_telephone_ulaw_downmixes_and_resamples() {
        // 0.1 s of a 16 kHz stereo 500 Hz tone, one channel inverted half as loud.
        let samples: Vec<i16> = (0..1600)
            .flat_map(|n| {
                let x = (8000.0 * (2.0 * std::f64::consts::PI * 500.0 * n as f64 / 16000.0).sin())
                    as i16;
                [x, x / 2]
            })
            .collect();
        let wav = Wav {
            sample_rate: 16000,
            channels: 2,
            samples,
        };
        let codes = to_telephone_ulaw(&wav).unwrap();
        assert_eq!(codes.len(), 800);
        let mut decoded = Vec::new();
        g711::decode_ulaw(&codes, &mut decoded);
        let peak = decoded[100..700]
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap();
        assert!((5800..=6200).contains(&peak), "peak {peak}");
        // Already telephone rate and mono: just encoding.
        let wav = Wav {
            sample_rate: 8000,
            channels: 1,
            samples: PCM.to_vec(),
        };
        let mut expected = Vec::new();
        g711::encode_ulaw(&PCM, &mut expected);
        assert_eq!(to_telephone_ulaw(&wav).unwrap(), expected);
        let wav = Wav {
            sample_rate: 0,
            channels: 1,
            samples: vec![],
        };
        assert!(matches!(
            to_telephone_ulaw(&wav),
            Err(AudioError::InvalidSampleRate { .. })
        ));
    }

    #[test]
    fn rejects_bad_input_with_a_clear_error() {
        let fmt16 = fmt_body(1, 1, 8000, 16, &[]);
        let cases: Vec<(Vec<u8>, WavError)> = vec![
            (
                vec![],
                WavError::NotRiff {
                    found: FourCc([0; 4]),
                },
            ),
            (
                b"RI".to_vec(),
                WavError::NotRiff {
                    found: FourCc(*b"RI\0\0"),
                },
            ),
            (
                b"ID3\x04rest of an mp3".to_vec(),
                WavError::NotRiff {
                    found: FourCc(*b"ID3\x04"),
                },
            ),
            (
                b"RIFF\0\0\0".to_vec(),
                WavError::Truncated {
                    what: "RIFF header",
                    offset: 0,
                    needed: 12,
                    len: 7,
                },
            ),
            (
                b"RIFX\0\0\0\0WAVE".to_vec(),
                WavError::UnsupportedContainer {
                    magic: FourCc(*b"RIFX"),
                },
            ),
            (
                b"RF64\xFF\xFF\xFF\xFFWAVE".to_vec(),
                WavError::UnsupportedContainer {
                    magic: FourCc(*b"RF64"),
                },
            ),
            (
                b"RIFF\x04\0\0\0AVI ".to_vec(),
                WavError::NotWave {
                    form: FourCc(*b"AVI "),
                },
            ),
            (b"RIFF\x04\0\0\0WAVE".to_vec(), WavError::MissingFmt),
            (riff(&[chunk(b"data", &[0, 0])]), WavError::MissingFmt),
            (riff(&[chunk(b"fmt ", &fmt16)]), WavError::MissingData),
            (
                riff(&[chunk(b"fmt ", &fmt16[..14]), chunk(b"data", &[])]),
                WavError::FmtTooShort {
                    size: 14,
                    needed: 16,
                },
            ),
            (
                simple(fmt_body(2, 1, 8000, 4, &[]), &[0]),
                WavError::UnsupportedEncoding {
                    format_tag: 2,
                    bits_per_sample: 4,
                },
            ),
            (
                simple(fmt_body(3, 1, 8000, 16, &[]), &[0, 0]),
                WavError::UnsupportedEncoding {
                    format_tag: 3,
                    bits_per_sample: 16,
                },
            ),
            (
                simple(fmt_body(1, 1, 8000, 0, &[]), &[0, 0]),
                WavError::UnsupportedEncoding {
                    format_tag: 1,
                    bits_per_sample: 0,
                },
            ),
            (
                simple(fmt_body(1, 1, 8000, 40, &[]), &[0, 0]),
                WavError::UnsupportedEncoding {
                    format_tag: 1,
                    bits_per_sample: 40,
                },
            ),
            (
                simple(fmt_body(1, 0, 8000, 16, &[]), &[0, 0]),
                WavError::InvalidChannels { channels: 0 },
            ),
            (
                simple(fmt_body(1, 257, 8000, 16, &[]), &[0, 0]),
                WavError::InvalidChannels { channels: 257 },
            ),
            (
                simple(fmt_body(1, 1, 0, 16, &[]), &[0, 0]),
                WavError::InvalidSampleRate { sample_rate: 0 },
            ),
            (
                simple(fmt_body(1, 1, 1_000_001, 16, &[]), &[0, 0]),
                WavError::InvalidSampleRate {
                    sample_rate: 1_000_001,
                },
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(read_wav(&bytes), Err(expected.clone()), "{bytes:?}");
            assert!(!expected.to_string().is_empty());
        }
        // block_align contradicting channels * bytes per sample
        let mut fmt = fmt16.clone();
        fmt[12] = 4;
        assert_eq!(
            read_wav(&simple(fmt, &[0, 0, 0, 0])),
            Err(WavError::BlockAlignMismatch {
                block_align: 4,
                expected: 2,
                channels: 1,
                bits_per_sample: 16
            })
        );
        // block_align 0 is tolerated
        let mut fmt = fmt16.clone();
        fmt[12] = 0;
        assert_eq!(read_wav(&simple(fmt, &[1, 0])).unwrap().samples, [1]);
        // A fmt chunk that claims more bytes than the file has.
        let mut bytes = simple(fmt16, &[0, 0]);
        bytes[16] = 0xFF;
        assert!(matches!(
            read_wav(&bytes),
            Err(WavError::Truncated {
                what: "fmt chunk",
                ..
            })
        ));
    }

    #[test]
    fn error_messages_name_the_problem() {
        assert_eq!(
            WavError::NotRiff {
                found: FourCc(*b"OggS")
            }
            .to_string(),
            "not a WAV file: expected a RIFF header, found OggS"
        );
        assert_eq!(
            WavError::NotRiff {
                found: FourCc([0xFF, 0xFB, 0x90, 0x00])
            }
            .to_string(),
            "not a WAV file: expected a RIFF header, found 0xFFFB9000"
        );
        assert_eq!(
            WavError::UnsupportedEncoding {
                format_tag: 0x55,
                bits_per_sample: 0
            }
            .to_string(),
            "unsupported WAV encoding: format tag 0x0055 with 0 bits per sample"
        );
    }

    fn valid_files() -> Vec<Vec<u8>> {
        vec![
            write_wav_pcm16(8000, 2, &PCM),
            write_wav_ulaw(8000, &[1, 2, 3]),
            simple(
                fmt_body(FORMAT_EXTENSIBLE, 1, 16000, 24, &extensible(24, 1)),
                &[1, 2, 3, 4, 5, 6],
            ),
            simple(fmt_body(3, 1, 8000, 64, &[]), &[0; 16]),
            riff(&[
                chunk(b"LIST", b"abc"),
                chunk(b"fmt ", &fmt_body(1, 1, 8000, 8, &[])),
                chunk(b"data", &[1, 2, 3]),
            ]),
        ]
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(wav) = read_wav(&bytes) {
                prop_assert!(wav.samples.len() <= bytes.len());
            }
        }

        #[test]
        fn never_panics_on_arbitrary_bytes_after_a_riff_header(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut bytes = b"RIFF\xFF\xFF\xFF\xFFWAVEfmt ".to_vec();
            bytes.extend_from_slice(&tail);
            if let Ok(wav) = read_wav(&bytes) {
                prop_assert!(wav.samples.len() <= bytes.len());
            }
        }

        #[test]
        fn never_panics_on_mutated_valid_files(
            file in 0usize..5,
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
            cut in any::<usize>(),
        ) {
            let mut bytes = valid_files().swap_remove(file);
            for (position, value) in edits {
                let index = position % bytes.len();
                bytes[index] = value;
            }
            bytes.truncate(cut % (bytes.len() + 1));
            if let Ok(wav) = read_wav(&bytes) {
                prop_assert!(wav.samples.len() <= bytes.len());
                prop_assert!(wav.channels >= 1 && wav.sample_rate >= 1);
                let _ = wav.to_mono();
            }
        }

        #[test]
        fn pcm16_round_trips(samples in proptest::collection::vec(any::<i16>(), 0..300), channels in 1u16..4, rate in 1u32..200_000) {
            let bytes = write_wav_pcm16(rate, channels, &samples);
            let wav = read_wav(&bytes).unwrap();
            let whole = samples.len() - samples.len() % usize::from(channels);
            prop_assert_eq!(wav.sample_rate, rate);
            prop_assert_eq!(wav.channels, channels);
            prop_assert_eq!(&wav.samples[..], &samples[..whole]);
        }
    }
}
