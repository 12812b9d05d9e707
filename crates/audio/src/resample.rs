//! Sample-rate conversion: streaming 2x converters for the call path, and an offline converter
//! for arbitrary rates (prompts, TTS output, uploaded WAV files).
//!
//! # Streaming 8 kHz ⇄ 16 kHz
//!
//! [`Upsampler2x`] and [`Downsampler2x`] are polyphase half-band FIR filters: a 63-tap
//! Kaiser-windowed sinc (β = 7.5) whose even-offset taps are zero except the centre, so each
//! pair of 16 kHz samples costs one 32-tap dot product over a contiguous window (eight SIMD-able
//! partial sums) plus the centre tap. The taps are computed at compile time by a `const fn`.
//!
//! Measured by this module's `quality_*` tests (asserted thresholds in parentheses): passband
//! ripple ±0.001 dB from 100 Hz to 3.4 kHz (±0.01 dB); the downsampler attenuates a 6 kHz tone by
//! 94 dB (90) and anything from 4.6 to 8 kHz by at least 80 dB (70); the upsampler's images sit at
//! least 79 dB below the tone (70). An 8 kHz → 16 kHz → 8 kHz round trip of a 1 kHz tone gives the
//! input back bit for bit (101 dB SNR before the final rounding), and of a four-tone chord
//! across the band 80 dB.
//!
//! State is carried across calls: feeding 20 ms frames one at a time produces exactly the same
//! samples as one call with the whole signal, for any split (odd-length chunks included). A
//! `process` call allocates nothing except by growing the caller's `out`. Arithmetic is `f32`;
//! `process` rounds to the nearest `i16` (saturating), and `process_f32` emits `f32` samples
//! scaled by 1/32768 and clamped to `[-1, 32767/32768]`, the range a 16-bit sample maps to, which
//! is what VAD and ASR models take. Both may be mixed on one converter.
//!
//! # Offline, any ratio
//!
//! [`resample`] converts a whole buffer between any two rates whose ratio is at most
//! [`MAX_RATIO`] either way, with a Kaiser-windowed sinc band-limited to 92.5 % of the lower of the
//! two Nyquist frequencies (passband to 85 %, e.g. 3.4 kHz for 8 kHz output, stopband from 100 %,
//! ≥ 80 dB design attenuation). It is zero-phase: output sample `k` is centred on input time
//! `k * from / to`, with silence assumed outside the buffer. Coefficients are tabulated per phase
//! when the reduced ratio has few enough phases, otherwise computed per output sample.
//!
//! Nothing here does I/O; only [`resample`] allocates, proportionally to its input and output.

use crate::AudioError;

/// Number of distinct non-zero side taps of the half-band filter (the filter has `4 * J - 1`
/// taps, centre included).
const J: usize = 16;

/// Kaiser window shape for the half-band filter: trades the transition width for rejection.
const HALF_BAND_BETA: f64 = 7.5;

/// `h[j]` is the half-band tap at offsets `±(2j + 1)` from the centre (the centre tap is 0.5 and
/// the other even offsets are zero). Normalised so that the side taps sum to exactly 0.5, which
/// makes the DC gain of both polyphase branches exactly one.
const HALF_BAND: [f32; J] = half_band_taps();

/// [`HALF_BAND`] doubled: the upsampler's interpolating branch needs gain 2 (zero stuffing halves
/// the amplitude).
const HALF_BAND_X2: [f32; J] = {
    let mut taps = HALF_BAND;
    let mut j = 0;
    while j < J {
        taps[j] *= 2.0;
        j += 1;
    }
    taps
};

/// Scale from an `i16` sample to the `f32` range `[-1, 1)`.
const I16_TO_F32: f32 = 1.0 / 32768.0;

/// Largest `f32` sample emitted by the `process_f32` methods: `i16::MAX / 32768`.
const F32_MAX: f32 = 32767.0 / 32768.0;

/// `I0(2 * sqrt(t))`, the modified Bessel function of the first kind, by its power series
/// `Σ t^k / (k!)^2`. Written with `t = z^2 / 4` so that the Kaiser window needs no square root.
const fn bessel_i0_of_quarter_square(t: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let mut k = 1.0;
    while k < 64.0 {
        term = term * t / (k * k);
        sum += term;
        if term < sum * 1e-18 {
            break;
        }
        k += 1.0;
    }
    sum
}

/// Kaiser window value at `r = offset / half_width`, for `|r| <= 1`.
const fn kaiser(r: f64, beta: f64) -> f64 {
    let t = beta * beta * (1.0 - r * r) / 4.0;
    bessel_i0_of_quarter_square(t) / bessel_i0_of_quarter_square(beta * beta / 4.0)
}

/// Half-band taps: the ideal response `sin(πn/2) / (πn)` at odd `n`, which is
/// `±1 / (πn)` with the sign alternating every other odd offset, times a Kaiser window reaching
/// zero just past the outermost tap.
const fn half_band_taps() -> [f32; J] {
    let mut raw = [0.0f64; J];
    let mut sum = 0.0;
    let half_width = (2 * J) as f64;
    let mut j = 0;
    while j < J {
        let n = (2 * j + 1) as f64;
        let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
        raw[j] = sign / (core::f64::consts::PI * n) * kaiser(n / half_width, HALF_BAND_BETA);
        sum += raw[j];
        j += 1;
    }
    let mut taps = [0.0f32; J];
    let mut j = 0;
    while j < J {
        // Both sides together sum to 0.5.
        taps[j] = (raw[j] * 0.25 / sum) as f32;
        j += 1;
    }
    taps
}

/// A delay line holding the last `2 * J` samples, stored twice so that the window is always one
/// contiguous slice (no modulo in the filter loop).
#[derive(Clone, Debug)]
struct DelayLine {
    buf: [f32; 4 * J],
    /// Index of the newest sample in the first copy.
    pos: usize,
}

impl DelayLine {
    const LEN: usize = 2 * J;

    const fn new() -> Self {
        Self {
            buf: [0.0; 4 * J],
            pos: Self::LEN - 1,
        }
    }

    #[inline]
    fn push(&mut self, sample: f32) {
        self.pos = if self.pos + 1 == Self::LEN {
            0
        } else {
            self.pos + 1
        };
        self.buf[self.pos] = sample;
        self.buf[self.pos + Self::LEN] = sample;
    }

    /// The last `2 * J` samples, oldest first.
    #[inline]
    fn window(&self) -> &[f32] {
        &self.buf[self.pos + 1..self.pos + 1 + Self::LEN]
    }

    /// The half-band sum around the middle of the window, which lies half-way between
    /// `window[J - 1]` and `window[J]`: `Σ taps[k] * window[k]` over the `2 * J` symmetric taps
    /// from [`symmetric`].
    #[inline]
    fn dot(&self, taps: &[f32; 2 * J]) -> f32 {
        // Eight independent partial sums in a fixed order (so results do not depend on how the
        // input was split into calls): the compiler turns them into SIMD lanes instead of one
        // serial chain of additions.
        let mut lanes = [0.0f32; 8];
        for (window, taps) in self.window().chunks_exact(8).zip(taps.chunks_exact(8)) {
            for ((acc, &w), &h) in lanes.iter_mut().zip(window).zip(taps) {
                *acc += w * h;
            }
        }
        let [l0, l1, l2, l3, l4, l5, l6, l7] = lanes;
        ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7))
    }
}

/// The `2 * J` non-zero side taps of the half-band filter in window order, oldest sample first:
/// `taps[J - 1 - j]` and `taps[J + j]` are both `half[j]`.
const fn symmetric(half: [f32; J]) -> [f32; 2 * J] {
    let mut taps = [0.0f32; 2 * J];
    let mut j = 0;
    while j < J {
        taps[J - 1 - j] = half[j];
        taps[J + j] = half[j];
        j += 1;
    }
    taps
}

/// [`HALF_BAND`] laid out for [`DelayLine::dot`] (downsampler).
const SIDE_TAPS: [f32; 2 * J] = symmetric(HALF_BAND);

/// [`HALF_BAND_X2`] laid out for [`DelayLine::dot`] (upsampler).
const SIDE_TAPS_X2: [f32; 2 * J] = symmetric(HALF_BAND_X2);

/// Rounds to the nearest integer (ties away from zero) and saturates to `i16`.
#[inline]
fn to_i16(value: f32) -> i16 {
    // `as` truncates towards zero and saturates (NaN becomes 0).
    (value + 0.5f32.copysign(value)) as i16
}

/// Scales to `[-1, 32767/32768]` like an `i16` sample would be.
#[inline]
fn to_unit_f32(value: f32) -> f32 {
    (value * I16_TO_F32).clamp(-1.0, F32_MAX)
}

/// Streaming 2x upsampler, e.g. 8 kHz telephone audio to the 16 kHz that ASR models want.
///
/// Each input sample yields two output samples. See the [module docs](self) for the filter.
#[derive(Clone, Debug)]
pub struct Upsampler2x {
    history: DelayLine,
}

impl Default for Upsampler2x {
    fn default() -> Self {
        Self::new()
    }
}

impl Upsampler2x {
    /// A converter whose history is silence.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            history: DelayLine::new(),
        }
    }

    /// Forgets all history, as if newly created (e.g. between calls).
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Group delay in output (2x rate) samples: output sample `n + delay_samples()` corresponds
    /// to input time `n / 2`. 32 samples, 2 ms at 16 kHz.
    #[must_use]
    pub const fn delay_samples() -> usize {
        2 * J
    }

    /// Upsamples `input`, appending `2 * input.len()` samples to `out`.
    pub fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        out.reserve(2 * input.len());
        self.run(input, |sample| out.push(to_i16(sample)));
    }

    /// Like [`process`](Self::process), but appends `f32` samples scaled to `[-1, 1)`.
    pub fn process_f32(&mut self, input: &[i16], out: &mut Vec<f32>) {
        out.reserve(2 * input.len());
        self.run(input, |sample| out.push(to_unit_f32(sample)));
    }

    #[inline]
    fn run(&mut self, input: &[i16], mut emit: impl FnMut(f32)) {
        for &sample in input {
            self.history.push(f32::from(sample));
            // The sample J steps back passes straight through (the centre tap), then the
            // interpolated sample half-way between it and the next one.
            emit(self.history.window()[J - 1]);
            emit(self.history.dot(&SIDE_TAPS_X2));
        }
    }
}

/// Streaming 2x downsampler, e.g. 16 kHz audio (TTS, recordings) to 8 kHz for the phone line.
///
/// Each pair of input samples yields one output sample; an odd sample left at the end of a call
/// is kept for the next call. See the [module docs](self) for the filter.
#[derive(Clone, Debug)]
pub struct Downsampler2x {
    /// Odd-indexed input samples (the branch that meets the side taps).
    odd: DelayLine,
    /// Even-indexed input samples; only the one `J - 1` pairs back is used (the centre tap).
    even: [f32; J],
    /// Position of the newest sample in `even`.
    even_pos: usize,
    /// An even-indexed sample waiting for its odd partner.
    pending: Option<f32>,
}

impl Default for Downsampler2x {
    fn default() -> Self {
        Self::new()
    }
}

impl Downsampler2x {
    /// A converter whose history is silence.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            odd: DelayLine::new(),
            even: [0.0; J],
            even_pos: J - 1,
            pending: None,
        }
    }

    /// Forgets all history, including a pending odd sample, as if newly created.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Group delay in output (half rate) samples: output sample `n + delay_samples()`
    /// corresponds to input time `2 * n`. 15 samples, 1.875 ms at 8 kHz.
    ///
    /// An [`Upsampler2x`] followed by a `Downsampler2x` therefore delays by
    /// `Upsampler2x::delay_samples() / 2 + Downsampler2x::delay_samples()` = 31 samples.
    #[must_use]
    pub const fn delay_samples() -> usize {
        J - 1
    }

    /// Downsamples `input`, appending one sample to `out` per complete pair of input samples
    /// (counting a sample held over from the previous call).
    pub fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        out.reserve(input.len().div_ceil(2));
        self.run(input, |sample| out.push(to_i16(sample)));
    }

    /// Like [`process`](Self::process), but appends `f32` samples scaled to `[-1, 1)`.
    pub fn process_f32(&mut self, input: &[i16], out: &mut Vec<f32>) {
        out.reserve(input.len().div_ceil(2));
        self.run(input, |sample| out.push(to_unit_f32(sample)));
    }

    #[inline]
    fn run(&mut self, input: &[i16], mut emit: impl FnMut(f32)) {
        for &sample in input {
            let sample = f32::from(sample);
            match self.pending.take() {
                None => self.pending = Some(sample),
                Some(even) => {
                    self.even_pos = if self.even_pos + 1 == J {
                        0
                    } else {
                        self.even_pos + 1
                    };
                    // The slot being overwritten held the even sample J pairs back; the centre
                    // tap wants the one J - 1 pairs back, which is the next slot round.
                    self.even[self.even_pos] = even;
                    self.odd.push(sample);
                    let centre_pos = if self.even_pos + 1 == J {
                        0
                    } else {
                        self.even_pos + 1
                    };
                    emit(0.5 * self.even[centre_pos] + self.odd.dot(&SIDE_TAPS));
                }
            }
        }
    }
}

/// Largest conversion ratio [`resample`] accepts, up or down (e.g. 8 kHz ⇄ 512 kHz).
pub const MAX_RATIO: u32 = 64;

/// Passband edge of the offline converter as a fraction of the lower Nyquist frequency.
const OFFLINE_PASSBAND: f64 = 0.85;

/// Stopband edge of the offline converter as a fraction of the lower Nyquist frequency.
const OFFLINE_STOPBAND: f64 = 1.0;

/// Kaiser β for about 80 dB of stopband attenuation (`0.1102 * (80 - 8.7)`).
const OFFLINE_BETA: f64 = 7.857;

/// Half-width of the offline kernel in samples of the lower rate: the Kaiser estimate
/// `(80 - 7.95) / (2.285 * 2π * 0.075) / 2` for a transition 15 % of Nyquist wide, rounded up.
const OFFLINE_HALF_WIDTH: f64 = 34.0;

/// Coefficient budget (in `f64`s, 2 MiB) for the per-phase table.
const MAX_TABLE: usize = 1 << 18;

/// Finest phase grid used when the exact phases of a ratio do not fit in [`MAX_TABLE`]; with
/// linear interpolation between grid rows the kernel error stays below -110 dB.
const MAX_GRID: usize = 1024;

/// Converts `samples` from `from_hz` to `to_hz` (mono, or any single channel).
///
/// Returns a copy when the rates are equal. The output has `ceil(len * to_hz / from_hz)` samples.
///
/// # Errors
///
/// [`AudioError::InvalidSampleRate`] if either rate is zero, [`AudioError::UnsupportedRatio`] if
/// one rate is more than [`MAX_RATIO`] times the other.
pub fn resample(samples: &[i16], from_hz: u32, to_hz: u32) -> Result<Vec<i16>, AudioError> {
    if from_hz == 0 || to_hz == 0 {
        return Err(AudioError::InvalidSampleRate { from_hz, to_hz });
    }
    if u64::from(from_hz) > u64::from(to_hz) * u64::from(MAX_RATIO)
        || u64::from(to_hz) > u64::from(from_hz) * u64::from(MAX_RATIO)
    {
        return Err(AudioError::UnsupportedRatio { from_hz, to_hz });
    }
    if from_hz == to_hz {
        return Ok(samples.to_vec());
    }

    let divisor = gcd(from_hz, to_hz);
    let up = u64::from(to_hz / divisor); // number of phases
    let down = u64::from(from_hz / divisor);

    let out_len = (samples.len() as u128 * u128::from(up)).div_ceil(u128::from(down));
    let out_len = usize::try_from(out_len).map_err(|_| AudioError::TooLong)?;

    let kernel = Kernel::new(from_hz, to_hz);
    let table = PhaseTable::new(&kernel, up);
    let mut scratch = vec![0.0; kernel.taps()];
    let mut out = Vec::with_capacity(out_len);
    for k in 0..out_len as u64 {
        // Output k sits at input time (k * down) / up = base + phase / up.
        let position = u128::from(k) * u128::from(down);
        let base = (position / u128::from(up)) as i64;
        let phase = (position % u128::from(up)) as u64;
        let taps = table.coefficients(phase, up, &mut scratch);
        // taps[r] weighs input index base - reach + 1 + r; indices outside the input are silence.
        let first = base - kernel.reach + 1;
        let skip = usize::try_from(-first).unwrap_or(0);
        let input_start = usize::try_from(first).unwrap_or(0);
        let taps = taps.get(skip..).unwrap_or_default();
        let input = samples.get(input_start..).unwrap_or_default();
        let acc: f64 = taps
            .iter()
            .zip(input)
            .map(|(&h, &x)| h * f64::from(x))
            .sum();
        out.push(acc.round().clamp(i16::MIN.into(), i16::MAX.into()) as i16);
    }
    Ok(out)
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The offline windowed-sinc kernel, in units of input samples.
struct Kernel {
    /// Cutoff (-6 dB point) in cycles per input sample.
    cutoff: f64,
    /// Half-width of the window in input samples.
    half_width: f64,
    /// Taps on each side of an output position: `2 * reach` taps in all.
    reach: i64,
    /// `I0(β)`, the Kaiser window's normaliser.
    i0_beta: f64,
}

impl Kernel {
    fn new(from_hz: u32, to_hz: u32) -> Self {
        // Fraction of the input Nyquist frequency that survives: 1 when upsampling.
        let scale = (f64::from(to_hz) / f64::from(from_hz)).min(1.0);
        let half_width = OFFLINE_HALF_WIDTH / scale;
        Self {
            cutoff: 0.5 * scale * (OFFLINE_PASSBAND + OFFLINE_STOPBAND) / 2.0,
            half_width,
            reach: half_width.ceil() as i64,
            i0_beta: bessel_i0_of_quarter_square(OFFLINE_BETA * OFFLINE_BETA / 4.0),
        }
    }

    fn taps(&self) -> usize {
        2 * self.reach as usize
    }

    /// Coefficients for an output at fractional position `frac` in `[0, 1)` past an input
    /// sample, normalised to unit DC gain. `out[r]` weighs the input `reach - 1 - r` samples
    /// before that one (negative: after).
    fn fill(&self, frac: f64, out: &mut [f64]) {
        let mut sum = 0.0;
        for (r, slot) in out.iter_mut().enumerate() {
            let distance = frac + (self.reach - 1 - r as i64) as f64;
            let value = if distance.abs() >= self.half_width {
                0.0
            } else {
                let x = 2.0 * self.cutoff * distance;
                let sinc = if x == 0.0 {
                    1.0
                } else {
                    (core::f64::consts::PI * x).sin() / (core::f64::consts::PI * x)
                };
                let r = distance / self.half_width;
                let window =
                    bessel_i0_of_quarter_square(OFFLINE_BETA * OFFLINE_BETA * (1.0 - r * r) / 4.0)
                        / self.i0_beta;
                2.0 * self.cutoff * sinc * window
            };
            *slot = value;
            sum += value;
        }
        if sum != 0.0 {
            for slot in out.iter_mut() {
                *slot /= sum;
            }
        }
    }
}

/// Kernel coefficients tabulated by phase: exactly, one row per phase of the reduced ratio,
/// when they fit in [`MAX_TABLE`]; otherwise on a grid of at most [`MAX_GRID`] phases (plus the
/// closing row at phase 1) between which rows are linearly interpolated.
struct PhaseTable {
    taps: usize,
    /// Number of grid intervals when interpolating; `None` when exact.
    grid: Option<usize>,
    rows: Vec<f64>,
}

impl PhaseTable {
    fn new(kernel: &Kernel, phases: u64) -> Self {
        let taps = kernel.taps();
        let exact = usize::try_from(phases)
            .ok()
            .filter(|&phases| phases.saturating_mul(taps) <= MAX_TABLE);
        let (row_count, grid) = match exact {
            Some(phases) => (phases, None),
            None => {
                let grid = (MAX_TABLE / taps).saturating_sub(1).clamp(16, MAX_GRID);
                (grid + 1, Some(grid))
            }
        };
        let divisor = match grid {
            Some(grid) => grid as f64,
            None => phases as f64,
        };
        let mut rows = vec![0.0; row_count * taps];
        for (row, chunk) in rows.chunks_exact_mut(taps).enumerate() {
            kernel.fill(row as f64 / divisor, chunk);
        }
        Self { taps, grid, rows }
    }

    fn row(&self, index: usize) -> &[f64] {
        let start = index * self.taps;
        self.rows.get(start..start + self.taps).unwrap_or_default()
    }

    /// The coefficients for `phase / phases` of the way to the next input sample.
    fn coefficients<'a>(&'a self, phase: u64, phases: u64, scratch: &'a mut [f64]) -> &'a [f64] {
        let Some(grid) = self.grid else {
            return self.row(phase as usize);
        };
        let position = phase as f64 / phases as f64 * grid as f64;
        let index = (position as usize).min(grid - 1);
        let weight = position - index as f64;
        let (lower, upper) = (self.row(index), self.row(index + 1));
        for ((slot, &a), &b) in scratch.iter_mut().zip(lower).zip(upper) {
            *slot = a + weight * (b - a);
        }
        scratch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::f64::consts::PI;

    fn sine(freq: f64, rate: f64, amplitude: f64, len: usize) -> Vec<i16> {
        (0..len)
            .map(|n| (amplitude * (2.0 * PI * freq * n as f64 / rate).sin()).round() as i16)
            .collect()
    }

    fn to_f64(samples: &[i16]) -> Vec<f64> {
        samples.iter().map(|&x| f64::from(x)).collect()
    }

    /// Least-squares fit of `a cos + b sin` at `freq`; returns (amplitude, RMS of the residual).
    fn fit_tone(signal: &[f64], freq: f64, rate: f64) -> (f64, f64) {
        let (mut cc, mut ss, mut cs, mut xc, mut xs) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (n, &x) in signal.iter().enumerate() {
            let (s, c) = (2.0 * PI * freq * n as f64 / rate).sin_cos();
            cc += c * c;
            ss += s * s;
            cs += c * s;
            xc += x * c;
            xs += x * s;
        }
        let det = cc * ss - cs * cs;
        let a = (xc * ss - xs * cs) / det;
        let b = (xs * cc - xc * cs) / det;
        let residual: f64 = signal
            .iter()
            .enumerate()
            .map(|(n, &x)| {
                let (s, c) = (2.0 * PI * freq * n as f64 / rate).sin_cos();
                (x - (a * c + b * s)).powi(2)
            })
            .sum();
        (
            (a * a + b * b).sqrt(),
            (residual / signal.len() as f64).sqrt(),
        )
    }

    fn rms(signal: &[f64]) -> f64 {
        (signal.iter().map(|x| x * x).sum::<f64>() / signal.len() as f64).sqrt()
    }

    fn db(ratio: f64) -> f64 {
        20.0 * ratio.log10()
    }

    fn up_f32(input: &[i16]) -> Vec<f64> {
        let mut out = Vec::new();
        Upsampler2x::new().process_f32(input, &mut out);
        out.iter().map(|&x| f64::from(x) * 32768.0).collect()
    }

    fn down_f32(input: &[i16]) -> Vec<f64> {
        let mut out = Vec::new();
        Downsampler2x::new().process_f32(input, &mut out);
        out.iter().map(|&x| f64::from(x) * 32768.0).collect()
    }

    /// Skips the filter's start-up transient (and a margin at the end).
    fn steady(signal: &[f64]) -> &[f64] {
        &signal[200..signal.len() - 200]
    }

    #[test]
    fn half_band_taps_are_normalised_and_alternate() {
        let sum: f32 = HALF_BAND.iter().sum();
        assert!((sum - 0.25).abs() < 1e-6, "{sum}");
        const { assert!(HALF_BAND[0] > 0.3 && HALF_BAND[0] < 0.32) };
        for (j, &h) in HALF_BAND.iter().enumerate() {
            assert_eq!(h > 0.0, j % 2 == 0, "tap {j} = {h}");
        }
    }

    #[test]
    fn output_lengths_and_delays() {
        let mut out = Vec::new();
        Upsampler2x::new().process(&[1; 160], &mut out);
        assert_eq!(out.len(), 320);
        let mut down = Downsampler2x::new();
        let mut out = Vec::new();
        down.process(&[1; 321], &mut out);
        assert_eq!(out.len(), 160);
        down.process(&[1], &mut out);
        assert_eq!(out.len(), 161);
        assert_eq!(Upsampler2x::delay_samples(), 32);
        assert_eq!(Downsampler2x::delay_samples(), 15);
    }

    #[test]
    fn impulse_responses_peak_at_the_stated_delay() {
        let mut impulse = vec![0i16; 100];
        impulse[0] = 16384;
        let mut out = Vec::new();
        Upsampler2x::new().process(&impulse, &mut out);
        let peak = (0..out.len()).max_by_key(|&i| out[i]).unwrap();
        assert_eq!(peak, Upsampler2x::delay_samples());
        assert_eq!(out[peak], 16384);

        let mut out = Vec::new();
        Downsampler2x::new().process(&impulse, &mut out);
        let peak = (0..out.len()).max_by_key(|&i| out[i]).unwrap();
        assert_eq!(peak, Downsampler2x::delay_samples());
        assert_eq!(out[peak], 8192);
    }

    #[test]
    fn dc_passes_at_unity_gain() {
        let mut out = Vec::new();
        Upsampler2x::new().process(&[10_000; 200], &mut out);
        assert!(out[100..].iter().all(|&s| s == 10_000));
        let mut out = Vec::new();
        Downsampler2x::new().process(&[-10_000; 400], &mut out);
        assert!(out[100..].iter().all(|&s| s == -10_000));
    }

    #[test]
    fn reset_forgets_history() {
        let signal = sine(440.0, 8000.0, 10_000.0, 333);
        let mut up = Upsampler2x::new();
        let mut down = Downsampler2x::new();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        up.process(&signal, &mut a);
        down.process(&signal, &mut b);
        up.reset();
        down.reset();
        let (mut a2, mut b2) = (Vec::new(), Vec::new());
        up.process(&signal, &mut a2);
        down.process(&signal, &mut b2);
        assert_eq!(a, a2);
        assert_eq!(b, b2);
    }

    #[test]
    fn full_scale_input_saturates_instead_of_wrapping() {
        // A full-scale square wave overshoots (Gibbs); the output must clip, not wrap.
        let square: Vec<i16> = (0..800)
            .map(|n| {
                if (n / 20) % 2 == 0 {
                    i16::MAX
                } else {
                    i16::MIN
                }
            })
            .collect();
        let mut out = Vec::new();
        Upsampler2x::new().process(&square, &mut out);
        let mut wide = Vec::new();
        Upsampler2x::new().process_f32(&square, &mut wide);
        assert!(out.contains(&i16::MAX) && out.contains(&i16::MIN));
        assert!(wide.iter().all(|&x| (-1.0..1.0).contains(&x)));
        for (&i, &f) in out.iter().zip(&wide) {
            assert!((f64::from(i) / 32768.0 - f64::from(f)).abs() <= 0.5 / 32768.0 + 1e-7);
        }
    }

    /// SNR in dB of `output[n + delay]` against `input[n]`, away from the start-up transient.
    fn aligned_snr(input: &[f64], output: &[f64], delay: usize) -> f64 {
        let (mut signal, mut noise) = (0.0, 0.0);
        for n in 100..input.len() - 100 {
            signal += input[n] * input[n];
            noise += (output[n + delay] - input[n]).powi(2);
        }
        10.0 * (signal / noise).log10()
    }

    /// 8 kHz → 16 kHz → 8 kHz, compared with the delay-aligned input: 16-bit output, and the
    /// downsampler's `f32` output, which shows the filters' own error before rounding.
    #[test]
    fn quality_round_trip_snr() {
        let delay = Upsampler2x::delay_samples() / 2 + Downsampler2x::delay_samples();
        assert_eq!(delay, 31);
        let tone = sine(1000.0, 8000.0, 16_000.0, 8000);
        // Four tones across the telephone band, 4,000 peak each.
        let chord: Vec<i16> = (0..8000)
            .map(|n| {
                [300.0, 1000.0, 2500.0, 3300.0]
                    .iter()
                    .map(|f| 4000.0 * (2.0 * PI * f * n as f64 / 8000.0 + f / 1000.0).sin())
                    .sum::<f64>()
                    .round() as i16
            })
            .collect();
        for (name, input, min_i16, min_f32) in [
            ("1 kHz", &tone, 90.0, 95.0),
            ("300/1000/2500/3300 Hz", &chord, 78.0, 78.0),
        ] {
            let mut wide = Vec::new();
            Upsampler2x::new().process(input, &mut wide);
            let mut back = Vec::new();
            Downsampler2x::new().process(&wide, &mut back);
            let mut back_f32 = Vec::new();
            Downsampler2x::new().process_f32(&wide, &mut back_f32);
            let back_f32: Vec<f64> = back_f32.iter().map(|&x| f64::from(x) * 32768.0).collect();
            let snr = aligned_snr(&to_f64(input), &to_f64(&back), delay);
            let snr_f32 = aligned_snr(&to_f64(input), &back_f32, delay);
            eprintln!("round trip {name}: SNR {snr:.1} dB (i16), {snr_f32:.1} dB (f32)");
            assert!(snr >= min_i16, "{name}: round trip SNR {snr:.1} dB");
            assert!(
                snr_f32 >= min_f32,
                "{name}: round trip SNR {snr_f32:.1} dB (f32)"
            );
        }
    }

    #[test]
    fn quality_passband_flatness() {
        let mut worst_up: f64 = 0.0;
        let mut worst_down: f64 = 0.0;
        for freq in (100..=3400).step_by(100).map(f64::from) {
            let narrow = sine(freq, 8000.0, 16_000.0, 2000);
            let (reference, _) = fit_tone(&to_f64(&narrow), freq, 8000.0);
            let (amplitude, _) = fit_tone(steady(&up_f32(&narrow)), freq, 16000.0);
            worst_up = worst_up.max(db(amplitude / reference).abs());

            let wide = sine(freq, 16000.0, 16_000.0, 4000);
            let (reference, _) = fit_tone(&to_f64(&wide), freq, 16000.0);
            let (amplitude, _) = fit_tone(steady(&down_f32(&wide)), freq, 8000.0);
            worst_down = worst_down.max(db(amplitude / reference).abs());
        }
        eprintln!("passband 100..3400 Hz: up ±{worst_up:.4} dB, down ±{worst_down:.4} dB");
        assert!(worst_up <= 0.01, "upsampler ripple {worst_up} dB");
        assert!(worst_down <= 0.01, "downsampler ripple {worst_down} dB");
    }

    #[test]
    fn quality_downsampler_rejects_aliases() {
        let mut worst = f64::INFINITY;
        let mut at_6k = 0.0;
        for freq in (4600..8000).step_by(100).map(f64::from) {
            let wide = sine(freq, 16000.0, 16_000.0, 4000);
            let rejection = -db(rms(steady(&down_f32(&wide))) / rms(&to_f64(&wide)));
            if freq == 6000.0 {
                at_6k = rejection;
            }
            worst = worst.min(rejection);
        }
        eprintln!(
            "16k -> 8k: 6 kHz rejected by {at_6k:.1} dB, 4.6..8 kHz by at least {worst:.1} dB"
        );
        assert!(at_6k >= 90.0, "6 kHz alias only {at_6k:.1} dB down");
        assert!(worst >= 70.0, "stopband only {worst:.1} dB down");
    }

    #[test]
    fn quality_upsampler_rejects_images() {
        let mut worst = f64::INFINITY;
        for freq in (100..=3400).step_by(100).map(f64::from) {
            let narrow = sine(freq, 8000.0, 16_000.0, 2000);
            let (amplitude, residual) = fit_tone(steady(&up_f32(&narrow)), freq, 16000.0);
            // The residual holds the image at 8 kHz - f plus the input's own rounding noise.
            worst = worst.min(db(amplitude / std::f64::consts::SQRT_2 / residual));
        }
        eprintln!("8k -> 16k: tone-to-(image + noise) at least {worst:.1} dB");
        assert!(worst >= 70.0, "images only {worst:.1} dB down");
    }

    fn streamed<T>(
        input: &[i16],
        splits: &[usize],
        mut process: impl FnMut(&[i16], &mut Vec<T>),
    ) -> Vec<T> {
        let mut out = Vec::new();
        let mut rest = input;
        for &split in splits {
            let (head, tail) = rest.split_at(split.min(rest.len()));
            process(head, &mut out);
            rest = tail;
        }
        process(rest, &mut out);
        out
    }

    #[test]
    fn twenty_ms_frames_equal_one_call() {
        let narrow = sine(1234.0, 8000.0, 12_000.0, 8000);
        let mut whole = Vec::new();
        Upsampler2x::new().process(&narrow, &mut whole);
        let mut up = Upsampler2x::new();
        let mut framed = Vec::new();
        for frame in narrow.chunks(160) {
            up.process(frame, &mut framed);
        }
        assert_eq!(whole, framed);

        let wide = sine(1234.0, 16000.0, 12_000.0, 16000);
        let mut whole = Vec::new();
        Downsampler2x::new().process(&wide, &mut whole);
        let mut down = Downsampler2x::new();
        let mut framed = Vec::new();
        for frame in wide.chunks(320) {
            down.process(frame, &mut framed);
        }
        assert_eq!(whole, framed);
    }

    proptest! {
        #[test]
        fn any_split_equals_one_call(
            input in proptest::collection::vec(any::<i16>(), 0..600),
            splits in proptest::collection::vec(0usize..80, 0..12),
        ) {
            let mut whole = Vec::new();
            Upsampler2x::new().process(&input, &mut whole);
            let mut up = Upsampler2x::new();
            prop_assert_eq!(&whole, &streamed(&input, &splits, |i, o| up.process(i, o)));
            let mut whole_f32 = Vec::new();
            Upsampler2x::new().process_f32(&input, &mut whole_f32);
            let mut up = Upsampler2x::new();
            prop_assert_eq!(&whole_f32, &streamed(&input, &splits, |i, o| up.process_f32(i, o)));

            let mut whole = Vec::new();
            Downsampler2x::new().process(&input, &mut whole);
            let mut down = Downsampler2x::new();
            prop_assert_eq!(&whole, &streamed(&input, &splits, |i, o| down.process(i, o)));
            let mut whole_f32 = Vec::new();
            Downsampler2x::new().process_f32(&input, &mut whole_f32);
            let mut down = Downsampler2x::new();
            prop_assert_eq!(&whole_f32, &streamed(&input, &splits, |i, o| down.process_f32(i, o)));
        }

    }

    proptest! {
        // Each case may build a table of a quarter-million coefficients: keep the count modest.
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn offline_output_length(len in 0usize..300, from in 1000u32..50_000, to in 1000u32..50_000) {
            let out = resample(&vec![0i16; len], from, to).unwrap();
            let expected = (len as u64 * u64::from(to)).div_ceil(u64::from(from));
            prop_assert_eq!(out.len() as u64, expected);
        }
    }

    #[test]
    fn offline_identity_and_errors() {
        let input = sine(1000.0, 8000.0, 8000.0, 100);
        assert_eq!(resample(&input, 8000, 8000).unwrap(), input);
        assert_eq!(resample(&[], 22050, 8000).unwrap(), Vec::<i16>::new());
        assert_eq!(
            resample(&input, 0, 8000),
            Err(AudioError::InvalidSampleRate {
                from_hz: 0,
                to_hz: 8000
            })
        );
        assert_eq!(
            resample(&input, 8000, 0),
            Err(AudioError::InvalidSampleRate {
                from_hz: 8000,
                to_hz: 0
            })
        );
        assert_eq!(
            resample(&input, 8000, 8000 * 65),
            Err(AudioError::UnsupportedRatio {
                from_hz: 8000,
                to_hz: 520_000
            })
        );
        assert_eq!(
            resample(&input, u32::MAX, 1),
            Err(AudioError::UnsupportedRatio {
                from_hz: u32::MAX,
                to_hz: 1
            })
        );
        assert_eq!(resample(&input, 8000, 8000 * 64).unwrap().len(), 6400);
        assert_eq!(resample(&input, 8000 * 64, 8000).unwrap().len(), 2);
    }

    #[test]
    fn offline_dc_and_clipping() {
        let out = resample(&[12_345; 2000], 44100, 8000).unwrap();
        // Away from the edges (where silence is assumed outside the input) DC is exact.
        assert!(out[100..out.len() - 100].iter().all(|&s| s == 12_345));
        let square: Vec<i16> = (0..4000)
            .map(|n| {
                if (n / 50) % 2 == 0 {
                    i16::MAX
                } else {
                    i16::MIN
                }
            })
            .collect();
        let out = resample(&square, 48000, 8000).unwrap();
        assert!(out.contains(&i16::MAX) && out.contains(&i16::MIN));
    }

    /// Converts a 1 s tone and returns (gain in dB at the tone, SNR in dB against the ideal tone
    /// at the output rate), ignoring the edges where the input is padded with silence.
    fn offline_tone(freq: f64, from: u32, to: u32) -> (f64, f64) {
        let amplitude = 16_000.0;
        let input = sine(freq, f64::from(from), amplitude, from as usize);
        let out = resample(&input, from, to).unwrap();
        let margin = to as usize / 20;
        let region = margin..out.len() - margin;
        let ideal = |k: usize| amplitude * (2.0 * PI * freq * k as f64 / f64::from(to)).sin();
        let (fitted, _) = fit_tone(&to_f64(&out[region.clone()]), freq, f64::from(to));
        let noise: f64 = region
            .clone()
            .map(|k| (f64::from(out[k]) - ideal(k)).powi(2))
            .sum();
        let signal: f64 = region.map(|k| ideal(k).powi(2)).sum();
        (db(fitted / amplitude), 10.0 * (signal / noise).log10())
    }

    /// RMS of the converted tone relative to the input's, in dB (negative: attenuated).
    fn offline_rejection(freq: f64, from: u32, to: u32) -> f64 {
        let input = sine(freq, f64::from(from), 16_000.0, from as usize);
        let out = resample(&input, from, to).unwrap();
        let margin = to as usize / 20;
        db(rms(&to_f64(&out[margin..out.len() - margin])) / rms(&to_f64(&input)))
    }

    #[test]
    fn quality_offline_22050_to_8000() {
        let (gain, snr) = offline_tone(1000.0, 22050, 8000);
        let rejection = offline_rejection(5000.0, 22050, 8000);
        eprintln!(
            "22050 -> 8000: 1 kHz gain {gain:+.4} dB, SNR {snr:.1} dB; 5 kHz at {rejection:.1} dB"
        );
        assert!(gain.abs() <= 0.01, "gain {gain} dB");
        assert!(snr >= 85.0, "SNR {snr:.1} dB");
        assert!(rejection <= -85.0, "5 kHz only {rejection:.1} dB down");
    }

    #[test]
    fn quality_offline_common_rates() {
        for (from, to) in [
            (16000, 8000),
            (44100, 8000),
            (48000, 8000),
            (8000, 16000),
            (8000, 22050),
            (8000, 48000),
            (22050, 16000),
            (8000, 7919),  // 7919 phases: the interpolated table
            (48000, 7919), // 7919 phases, 6x down
        ] {
            let (gain, snr) = offline_tone(1000.0, from, to);
            let passband_edge = 0.85 * f64::from(from.min(to)) / 2.0;
            let (edge_gain, _) = offline_tone(passband_edge, from, to);
            eprintln!("{from} -> {to}: 1 kHz gain {gain:+.4} dB, SNR {snr:.1} dB");
            eprintln!("{from} -> {to}: {passband_edge} Hz gain {edge_gain:+.4} dB");
            assert!(gain.abs() <= 0.01, "{from} -> {to}: gain {gain} dB");
            assert!(snr >= 80.0, "{from} -> {to}: SNR {snr:.1} dB");
            assert!(
                edge_gain.abs() <= 0.05,
                "{from} -> {to}: passband edge {edge_gain} dB"
            );
            let alias = f64::from(to) / 2.0 * 1.05;
            if from > to && alias < 0.95 * f64::from(from) / 2.0 {
                // Just above the output Nyquist: must not fold back into the band.
                let rejection = offline_rejection(alias, from, to);
                eprintln!("{from} -> {to}: {alias} Hz at {rejection:.1} dB");
                assert!(
                    rejection <= -75.0,
                    "{from} -> {to}: {alias} Hz only {rejection:.1} dB down"
                );
            }
        }
    }
}
