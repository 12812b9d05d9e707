//! A line-by-line port of the 8 kHz path of libfvad (the WebRTC VAD: `vad_core.c`,
//! `vad_filterbank.c`, `vad_gmm.c`, `vad_sp.c` and the signal-processing helpers they use),
//! in safe Rust with the same fixed-point arithmetic.
//!
//! C's integer semantics are kept on purpose: `int16_t` arithmetic is done in `i32` and
//! truncated with `as i16`, and the places where the C code may overflow `int32_t` use wrapping
//! operations (what GCC does). The port is checked decision-for-decision against the C library
//! (the `webrtc-vad` crate, a dev-dependency) in `tests/webrtc_differential.rs`.
//!
//! Upstream: libfvad (BSD-3-Clause, Copyright (c) 2011 The WebRTC project authors,
//! 2016 Daniel Pirch), as bundled in webrtc-vad 0.4.0.

const NUM_CHANNELS: usize = 6;
const NUM_GAUSSIANS: usize = 2;
const TABLE_SIZE: usize = NUM_CHANNELS * NUM_GAUSSIANS;
const MIN_ENERGY: i16 = 10;

// vad_core.c
const SPECTRUM_WEIGHT: [i16; NUM_CHANNELS] = [6, 8, 10, 12, 14, 16];
const NOISE_UPDATE_CONST: i32 = 655; // Q15
const SPEECH_UPDATE_CONST: i32 = 6554; // Q15
const BACK_ETA: i32 = 154; // Q8
const MINIMUM_DIFFERENCE: [i16; NUM_CHANNELS] = [544, 544, 576, 576, 576, 576];
const MAXIMUM_SPEECH: [i16; NUM_CHANNELS] = [11392, 11392, 11520, 11520, 11520, 11520];
const MINIMUM_MEAN: [i16; NUM_GAUSSIANS] = [640, 768];
const MAXIMUM_NOISE: [i16; NUM_CHANNELS] = [9216, 9088, 8960, 8832, 8704, 8576];
const NOISE_DATA_WEIGHTS: [i16; TABLE_SIZE] = [34, 62, 72, 66, 53, 25, 94, 66, 56, 62, 75, 103];
const SPEECH_DATA_WEIGHTS: [i16; TABLE_SIZE] = [48, 82, 45, 87, 50, 47, 80, 46, 83, 41, 78, 81];
const NOISE_DATA_MEANS: [i16; TABLE_SIZE] = [
    6738, 4892, 7065, 6715, 6771, 3369, 7646, 3863, 7820, 7266, 5020, 4362,
];
const SPEECH_DATA_MEANS: [i16; TABLE_SIZE] = [
    8306, 10085, 10078, 11823, 11843, 6309, 9473, 9571, 10879, 7581, 8180, 7483,
];
const NOISE_DATA_STDS: [i16; TABLE_SIZE] =
    [378, 1064, 493, 582, 688, 593, 474, 697, 475, 688, 421, 455];
const SPEECH_DATA_STDS: [i16; TABLE_SIZE] = [
    555, 505, 567, 524, 585, 1231, 509, 828, 492, 1540, 1079, 850,
];
const MAX_SPEECH_FRAMES: i16 = 6;
const MIN_STD: i16 = 384;

/// Per-mode thresholds, indexed by frame length (10, 20, 30 ms).
struct ModeTables {
    over_hang_max_1: [i16; 3],
    over_hang_max_2: [i16; 3],
    individual: [i16; 3],
    total: [i16; 3],
}

const MODES: [ModeTables; 4] = [
    // 0: quality
    ModeTables {
        over_hang_max_1: [8, 4, 3],
        over_hang_max_2: [14, 7, 5],
        individual: [24, 21, 24],
        total: [57, 48, 57],
    },
    // 1: low bitrate
    ModeTables {
        over_hang_max_1: [8, 4, 3],
        over_hang_max_2: [14, 7, 5],
        individual: [37, 32, 37],
        total: [100, 80, 100],
    },
    // 2: aggressive
    ModeTables {
        over_hang_max_1: [6, 3, 2],
        over_hang_max_2: [9, 5, 3],
        individual: [82, 78, 82],
        total: [285, 260, 285],
    },
    // 3: very aggressive
    ModeTables {
        over_hang_max_1: [6, 3, 2],
        over_hang_max_2: [9, 5, 3],
        individual: [94, 94, 94],
        total: [1100, 1050, 1100],
    },
];

// vad_filterbank.c
const LOG_CONST: i32 = 24660; // 160*log10(2) in Q9
const LOG_ENERGY_INT_PART: i16 = 14336; // 14 in Q10
const HP_ZERO_COEFS: [i32; 3] = [6631, -13262, 6631];
const HP_POLE_COEFS: [i32; 3] = [16384, -7756, 5620];
const ALL_PASS_COEFS_Q15: [i32; 2] = [20972, 5571];
const OFFSET_VECTOR: [i16; 6] = [368, 368, 272, 176, 176, 176];

// vad_gmm.c
const COMP_VAR: i32 = 22005;
const LOG2_EXP: i32 = 5909; // log2(exp(1)) in Q12

// vad_sp.c
const SMOOTHING_DOWN: i32 = 6553; // 0.2 in Q15
const SMOOTHING_UP: i32 = 32439; // 0.99 in Q15

/// Aggressiveness modes 0 (quality) to 3 (very aggressive).
pub(crate) const MAX_MODE: u8 = 3;

/// The VAD state (`VadInstT` without the 16/32/48 kHz resampler state).
#[derive(Clone, Debug)]
pub(crate) struct Fvad {
    noise_means: [i16; TABLE_SIZE],
    speech_means: [i16; TABLE_SIZE],
    noise_stds: [i16; TABLE_SIZE],
    speech_stds: [i16; TABLE_SIZE],
    /// [`inverse_std`] of each of `noise_stds`, kept up to date with it: a division per
    /// Gaussian per frame saved (the C code divides each time).
    noise_inv_stds: [i16; TABLE_SIZE],
    /// The same for `speech_stds`.
    speech_inv_stds: [i16; TABLE_SIZE],
    frame_counter: i32,
    over_hang: i16,
    num_of_speech: i16,
    index_vector: [i16; 16 * NUM_CHANNELS],
    low_value_vector: [i16; 16 * NUM_CHANNELS],
    mean_value: [i16; NUM_CHANNELS],
    upper_state: [i16; 5],
    lower_state: [i16; 5],
    hp_filter_state: [i16; 4],
    mode: usize,
}

/// Frame lengths accepted by [`Fvad::process`]: 10, 20 and 30 ms at 8 kHz.
pub(crate) const FRAME_LENGTHS: [usize; 3] = [80, 160, 240];

impl Fvad {
    /// `WebRtcVad_InitCore` followed by `WebRtcVad_set_mode_core(mode)`; `mode` is clamped to 0–3.
    pub(crate) fn new(mode: u8) -> Self {
        Self {
            noise_means: NOISE_DATA_MEANS,
            speech_means: SPEECH_DATA_MEANS,
            noise_stds: NOISE_DATA_STDS,
            speech_stds: SPEECH_DATA_STDS,
            noise_inv_stds: NOISE_DATA_STDS.map(inverse_std),
            speech_inv_stds: SPEECH_DATA_STDS.map(inverse_std),
            frame_counter: 0,
            over_hang: 0,
            num_of_speech: 0,
            index_vector: [0; 16 * NUM_CHANNELS],
            low_value_vector: [10000; 16 * NUM_CHANNELS],
            mean_value: [1600; NUM_CHANNELS],
            upper_state: [0; 5],
            lower_state: [0; 5],
            hp_filter_state: [0; 4],
            mode: usize::from(mode.min(MAX_MODE)),
        }
    }

    /// `fvad_process` at 8 kHz: `true` for speech. `frame` must hold 80, 160 or 240 samples;
    /// other lengths return `None` (as libfvad returns -1).
    pub(crate) fn process(&mut self, frame: &[i16]) -> Option<bool> {
        let length_index = FRAME_LENGTHS.iter().position(|&n| n == frame.len())?;
        let mut features = [0i16; NUM_CHANNELS];
        let total_power = self.calculate_features(frame, &mut features);
        Some(self.gmm_probability(&features, total_power, length_index) > 0)
    }

    /// `WebRtcVad_CalculateFeatures`: log energies of six sub-bands, returns the total power.
    ///
    /// The filter bank is a tree of split filters, each two all-pass recurrences whose
    /// latency (one multiply and a shift per sample, each depending on the last) is what the
    /// VAD costs. The C code runs the five splits one after the other; here the recurrences
    /// that do not depend on each other run interleaved (the two halves of every split, and the
    /// two splits of the first split's outputs), so that the CPU overlaps them. Every sample
    /// gets the same arithmetic; the energies are taken in the C code's order, since the total
    /// power depends on it.
    fn calculate_features(&mut self, data_in: &[i16], features: &mut [i16; NUM_CHANNELS]) -> i16 {
        let mut total_energy: i16 = 0;
        // `data_in` holds 80, 160 or 240 samples (`process` checks): every band fits the
        // buffers below, sized for 240, so none of the slices can fail.
        let half = data_in.len() >> 1;
        let quarter = half >> 1;
        let eighth = quarter >> 1;
        let sixteenth = eighth >> 1;
        // [0, 4000] Hz -> [2000, 4000] + [0, 2000].
        let mut hp_4k = [0i16; 120];
        let mut lp_2k = [0i16; 120];
        let (hp_4k, lp_2k) = (&mut hp_4k[..half], &mut lp_2k[..half]);
        let [s0, s1, s2, s3, s4] = &mut self.upper_state;
        let [l0, l1, l2, l3, l4] = &mut self.lower_state;
        split_filter(data_in, s0, l0, hp_4k, lp_2k);
        // [2000, 4000] -> [3000, 4000] + [2000, 3000], and [0, 2000] -> [1000, 2000] + [0, 1000].
        let mut bands = [[0i16; 60]; 4];
        let [hp_3k, lp_3k, hp_1k, lp_1k] = &mut bands;
        split_filter_pair(
            [&*hp_4k, &*lp_2k],
            [s1, s2],
            [l1, l2],
            [&mut hp_3k[..quarter], &mut hp_1k[..quarter]],
            [&mut lp_3k[..quarter], &mut lp_1k[..quarter]],
        );
        // [0, 1000] -> [500, 1000] + [0, 500].
        let mut hp_500 = [0i16; 30];
        let mut lp_500 = [0i16; 30];
        split_filter(
            &lp_1k[..quarter],
            s3,
            l3,
            &mut hp_500[..eighth],
            &mut lp_500[..eighth],
        );
        // [0, 500] -> [250, 500] + [0, 250].
        let mut hp_250 = [0i16; 15];
        let mut lp_250 = [0i16; 15];
        split_filter(
            &lp_500[..eighth],
            s4,
            l4,
            &mut hp_250[..sixteenth],
            &mut lp_250[..sixteenth],
        );
        // Remove [0, 80] Hz.
        let mut hp_80 = [0i16; 15];
        high_pass_filter(
            &lp_250[..sixteenth],
            &mut self.hp_filter_state,
            &mut hp_80[..sixteenth],
        );
        features[5] = log_of_energy(&hp_3k[..quarter], OFFSET_VECTOR[5], &mut total_energy);
        features[4] = log_of_energy(&lp_3k[..quarter], OFFSET_VECTOR[4], &mut total_energy);
        features[3] = log_of_energy(&hp_1k[..quarter], OFFSET_VECTOR[3], &mut total_energy);
        features[2] = log_of_energy(&hp_500[..eighth], OFFSET_VECTOR[2], &mut total_energy);
        features[1] = log_of_energy(&hp_250[..sixteenth], OFFSET_VECTOR[1], &mut total_energy);
        features[0] = log_of_energy(&hp_80[..sixteenth], OFFSET_VECTOR[0], &mut total_energy);
        total_energy
    }

    /// `GmmProbability`: the decision (0 noise, 1 speech, >1 hangover) and the model update.
    #[allow(clippy::too_many_lines, clippy::needless_range_loop)] // kept close to the C
    fn gmm_probability(
        &mut self,
        features: &[i16; NUM_CHANNELS],
        total_power: i16,
        length_index: usize,
    ) -> i16 {
        let mode = &MODES[self.mode.min(MODES.len() - 1)];
        let overhead1 = mode.over_hang_max_1[length_index];
        let overhead2 = mode.over_hang_max_2[length_index];
        let individual_test = i32::from(mode.individual[length_index]);
        let total_test = i32::from(mode.total[length_index]);
        let mut vadflag: i16 = 0;

        if total_power > MIN_ENERGY {
            let mut delta_n = [0i16; TABLE_SIZE];
            let mut delta_s = [0i16; TABLE_SIZE];
            let mut ngprvec = [0i16; TABLE_SIZE];
            let mut sgprvec = [0i16; TABLE_SIZE];
            let mut sum_log_likelihood_ratios: i32 = 0;

            for channel in 0..NUM_CHANNELS {
                let mut h0_test: i32 = 0;
                let mut h1_test: i32 = 0;
                let mut noise_probability = [0i32; NUM_GAUSSIANS];
                let mut speech_probability = [0i32; NUM_GAUSSIANS];
                for k in 0..NUM_GAUSSIANS {
                    let g = channel + k * NUM_CHANNELS;
                    let p = gaussian_probability_inv(
                        features[channel],
                        self.noise_means[g],
                        self.noise_inv_stds[g],
                        &mut delta_n[g],
                    );
                    noise_probability[k] = i32::from(NOISE_DATA_WEIGHTS[g]).wrapping_mul(p);
                    h0_test = h0_test.wrapping_add(noise_probability[k]);
                    let p = gaussian_probability_inv(
                        features[channel],
                        self.speech_means[g],
                        self.speech_inv_stds[g],
                        &mut delta_s[g],
                    );
                    speech_probability[k] = i32::from(SPEECH_DATA_WEIGHTS[g]).wrapping_mul(p);
                    h1_test = h1_test.wrapping_add(speech_probability[k]);
                }
                let shifts_h0 = if h0_test == 0 { 31 } else { norm_w32(h0_test) };
                let shifts_h1 = if h1_test == 0 { 31 } else { norm_w32(h1_test) };
                let log_likelihood_ratio = i32::from((shifts_h0 - shifts_h1) as i16);
                sum_log_likelihood_ratios = sum_log_likelihood_ratios
                    .wrapping_add(log_likelihood_ratio * i32::from(SPECTRUM_WEIGHT[channel]));
                if log_likelihood_ratio * 4 > individual_test {
                    vadflag = 1;
                }
                let h0 = (h0_test >> 12) as i16;
                if h0 > 0 {
                    let t = ((noise_probability[0] as u32 & 0xFFFF_F000) << 2) as i32;
                    ngprvec[channel] = div_w32_w16(t, h0) as i16;
                    ngprvec[channel + NUM_CHANNELS] = (16384 - i32::from(ngprvec[channel])) as i16;
                } else {
                    ngprvec[channel] = 16384;
                }
                let h1 = (h1_test >> 12) as i16;
                if h1 > 0 {
                    let t = ((speech_probability[0] as u32 & 0xFFFF_F000) << 2) as i32;
                    sgprvec[channel] = div_w32_w16(t, h1) as i16;
                    sgprvec[channel + NUM_CHANNELS] = (16384 - i32::from(sgprvec[channel])) as i16;
                }
            }
            if sum_log_likelihood_ratios >= total_test {
                vadflag |= 1;
            }

            let mut maxspe: i32 = 12800;
            for channel in 0..NUM_CHANNELS {
                let feature = i32::from(features[channel]);
                let feature_minimum = i32::from(self.find_minimum(features[channel], channel));
                let noise_global_mean =
                    weighted_average(&mut self.noise_means, channel, 0, &NOISE_DATA_WEIGHTS);
                let tmp1_s16 = i32::from((noise_global_mean >> 6) as i16);
                for k in 0..NUM_GAUSSIANS {
                    let g = channel + k * NUM_CHANNELS;
                    let nmk = i32::from(self.noise_means[g]);
                    let smk = i32::from(self.speech_means[g]);
                    let mut nsk = self.noise_stds[g];
                    let mut ssk = self.speech_stds[g];

                    let mut nmk2 = nmk as i16;
                    if vadflag == 0 {
                        let delt = ((i32::from(ngprvec[g]) * i32::from(delta_n[g])) >> 11) as i16;
                        nmk2 = (nmk
                            + i32::from(((i32::from(delt) * NOISE_UPDATE_CONST) >> 22) as i16))
                            as i16;
                    }
                    let ndelt = ((feature_minimum << 4) - tmp1_s16) as i16;
                    let mut nmk3 = (i32::from(nmk2)
                        + i32::from(((i32::from(ndelt) * BACK_ETA) >> 9) as i16))
                        as i16;
                    let low = ((k as i32 + 5) << 7) as i16;
                    if nmk3 < low {
                        nmk3 = low;
                    }
                    let high = ((72 + k as i32 - channel as i32) << 7) as i16;
                    if nmk3 > high {
                        nmk3 = high;
                    }
                    self.noise_means[g] = nmk3;

                    if vadflag != 0 {
                        let delt = ((i32::from(sgprvec[g]) * i32::from(delta_s[g])) >> 11) as i16;
                        let tmp_s16 = ((i32::from(delt) * SPEECH_UPDATE_CONST) >> 21) as i16;
                        let mut smk2 = (smk + ((i32::from(tmp_s16) + 1) >> 1)) as i16;
                        let maxmu = (maxspe + 640) as i16;
                        if smk2 < MINIMUM_MEAN[k] {
                            smk2 = MINIMUM_MEAN[k];
                        }
                        if smk2 > maxmu {
                            smk2 = maxmu;
                        }
                        self.speech_means[g] = smk2;

                        let tmp_s16 = ((smk + 4) >> 3) as i16;
                        let tmp_s16 = (feature - i32::from(tmp_s16)) as i16;
                        let tmp1_s32 = (i32::from(delta_s[g]) * i32::from(tmp_s16)) >> 3;
                        let tmp2_s32 = tmp1_s32.wrapping_sub(4096);
                        let tmp_s16 = sgprvec[g] >> 2;
                        let tmp1_s32 = i32::from(tmp_s16).wrapping_mul(tmp2_s32);
                        let tmp2_s32 = tmp1_s32 >> 4;
                        let den = (i32::from(ssk) * 10) as i16;
                        let mut tmp_s16 = if tmp2_s32 > 0 {
                            div_w32_w16(tmp2_s32, den) as i16
                        } else {
                            (div_w32_w16(tmp2_s32.wrapping_neg(), den) as i16).wrapping_neg()
                        };
                        tmp_s16 = tmp_s16.wrapping_add(128);
                        ssk = ssk.wrapping_add(tmp_s16 >> 8);
                        if ssk < MIN_STD {
                            ssk = MIN_STD;
                        }
                        self.speech_stds[g] = ssk;
                        self.speech_inv_stds[g] = inverse_std(ssk);
                    } else {
                        let tmp_s16 = (feature - (nmk >> 3)) as i16;
                        let mut tmp1_s32 = (i32::from(delta_n[g]) * i32::from(tmp_s16)) >> 3;
                        tmp1_s32 = tmp1_s32.wrapping_sub(4096);
                        let tmp_s16 = ((i32::from(ngprvec[g]) + 2) >> 2) as i16;
                        let tmp2_s32 = i32::from(tmp_s16).wrapping_mul(tmp1_s32);
                        let tmp1_s32 = tmp2_s32 >> 14;
                        let mut tmp_s16 = if tmp1_s32 > 0 {
                            div_w32_w16(tmp1_s32, nsk) as i16
                        } else {
                            (div_w32_w16(tmp1_s32.wrapping_neg(), nsk) as i16).wrapping_neg()
                        };
                        tmp_s16 = tmp_s16.wrapping_add(32);
                        nsk = nsk.wrapping_add(tmp_s16 >> 6);
                        if nsk < MIN_STD {
                            nsk = MIN_STD;
                        }
                        self.noise_stds[g] = nsk;
                        self.noise_inv_stds[g] = inverse_std(nsk);
                    }
                }

                // Separate the models if they are too close.
                let mut noise_global_mean =
                    weighted_average(&mut self.noise_means, channel, 0, &NOISE_DATA_WEIGHTS);
                let mut speech_global_mean =
                    weighted_average(&mut self.speech_means, channel, 0, &SPEECH_DATA_WEIGHTS);
                let diff = (i32::from((speech_global_mean >> 9) as i16)
                    - i32::from((noise_global_mean >> 9) as i16)) as i16;
                if diff < MINIMUM_DIFFERENCE[channel] {
                    let tmp_s16 = i32::from(MINIMUM_DIFFERENCE[channel]) - i32::from(diff);
                    let tmp1_s16 = ((13 * tmp_s16) >> 2) as i16;
                    let tmp2_s16 = ((3 * tmp_s16) >> 2) as i16;
                    speech_global_mean = weighted_average(
                        &mut self.speech_means,
                        channel,
                        tmp1_s16,
                        &SPEECH_DATA_WEIGHTS,
                    );
                    noise_global_mean = weighted_average(
                        &mut self.noise_means,
                        channel,
                        tmp2_s16.wrapping_neg(),
                        &NOISE_DATA_WEIGHTS,
                    );
                }

                // Keep the means from drifting too much.
                maxspe = i32::from(MAXIMUM_SPEECH[channel]);
                let tmp2_s16 = (speech_global_mean >> 7) as i16;
                if i32::from(tmp2_s16) > maxspe {
                    let excess = (i32::from(tmp2_s16) - maxspe) as i16;
                    for k in 0..NUM_GAUSSIANS {
                        let g = channel + k * NUM_CHANNELS;
                        self.speech_means[g] = self.speech_means[g].wrapping_sub(excess);
                    }
                }
                let tmp2_s16 = (noise_global_mean >> 7) as i16;
                if tmp2_s16 > MAXIMUM_NOISE[channel] {
                    let excess = tmp2_s16.wrapping_sub(MAXIMUM_NOISE[channel]);
                    for k in 0..NUM_GAUSSIANS {
                        let g = channel + k * NUM_CHANNELS;
                        self.noise_means[g] = self.noise_means[g].wrapping_sub(excess);
                    }
                }
            }
            self.frame_counter = self.frame_counter.wrapping_add(1);
        }

        // Hangover smoothing.
        if vadflag == 0 {
            if self.over_hang > 0 {
                vadflag = 2i16.wrapping_add(self.over_hang);
                self.over_hang -= 1;
            }
            self.num_of_speech = 0;
        } else {
            self.num_of_speech = self.num_of_speech.wrapping_add(1);
            if self.num_of_speech > MAX_SPEECH_FRAMES {
                self.num_of_speech = MAX_SPEECH_FRAMES;
                self.over_hang = overhead2;
            } else {
                self.over_hang = overhead1;
            }
        }
        vadflag
    }

    /// `WebRtcVad_FindMinimum`: tracks the 16 smallest feature values of the last 100 frames
    /// and returns the smoothed median of the five smallest.
    fn find_minimum(&mut self, feature_value: i16, channel: usize) -> i16 {
        let offset = channel << 4;
        let (Some(age), Some(smallest)) = (
            self.index_vector.get_mut(offset..offset + 16),
            self.low_value_vector.get_mut(offset..offset + 16),
        ) else {
            return 1600;
        };
        for i in 0..16 {
            if age[i] != 100 {
                age[i] = age[i].wrapping_add(1);
            } else {
                // Too old: remove and shift larger values down.
                for j in i..15 {
                    smallest[j] = smallest[j + 1];
                    age[j] = age[j + 1];
                }
                age[15] = 101;
                smallest[15] = 10000;
            }
        }
        // Insert position: the first slot holding a larger value (the C code's binary search
        // over the sorted list gives the same index).
        let position = smallest.iter().position(|&v| feature_value < v);
        if let Some(position) = position {
            for i in (position + 1..16).rev() {
                smallest[i] = smallest[i - 1];
                age[i] = age[i - 1];
            }
            smallest[position] = feature_value;
            age[position] = 1;
        }
        let current_median = if self.frame_counter > 2 {
            smallest[2]
        } else if self.frame_counter > 0 {
            smallest[0]
        } else {
            1600
        };
        let mean = &mut self.mean_value[channel];
        let alpha: i32 = if self.frame_counter > 0 {
            if current_median < *mean {
                SMOOTHING_DOWN
            } else {
                SMOOTHING_UP
            }
        } else {
            0
        };
        let mut tmp32 = (alpha + 1) * i32::from(*mean);
        tmp32 = tmp32.wrapping_add((32767 - alpha) * i32::from(current_median));
        tmp32 = tmp32.wrapping_add(16384);
        *mean = (tmp32 >> 15) as i16;
        *mean
    }
}

/// `WeightedAverage`: adds `offset` to both Gaussians' values of `channel`, returns the
/// weighted sum.
fn weighted_average(
    data: &mut [i16; TABLE_SIZE],
    channel: usize,
    offset: i16,
    weights: &[i16; TABLE_SIZE],
) -> i32 {
    let mut sum: i32 = 0;
    for k in 0..NUM_GAUSSIANS {
        let g = channel + k * NUM_CHANNELS;
        data[g] = data[g].wrapping_add(offset);
        sum = sum.wrapping_add(i32::from(data[g]) * i32::from(weights[g]));
    }
    sum
}

/// `WebRtcVad_GaussianProbability` as the C code calls it (the unit tests' reference).
#[cfg(test)]
fn gaussian_probability(input: i16, mean: i16, std: i16, delta: &mut i16) -> i32 {
    gaussian_probability_inv(input, mean, inverse_std(std), delta)
}

/// `1/std` in Q10 as `WebRtcVad_GaussianProbability` computes it (`std` in Q7).
fn inverse_std(std: i16) -> i16 {
    div_w32_w16(131_072 + i32::from(std >> 1), std) as i16
}

/// `WebRtcVad_GaussianProbability`: `(1/s) * exp(-(x-m)^2 / (2 s^2))` in Q20, and
/// `delta = (x-m)/s^2` in Q11. `input` Q4, `mean` Q7; `inv_std` is [`inverse_std`] of the
/// standard deviation.
fn gaussian_probability_inv(input: i16, mean: i16, inv_std: i16, delta: &mut i16) -> i32 {
    let tmp16 = i32::from(inv_std >> 2);
    let inv_std2 = ((tmp16 * tmp16) >> 2) as i16;
    let tmp16 = (i32::from(input) << 3) as i16;
    let tmp16 = (i32::from(tmp16) - i32::from(mean)) as i16;
    *delta = ((i32::from(inv_std2) * i32::from(tmp16)) >> 10) as i16;
    let tmp32 = (i32::from(*delta) * i32::from(tmp16)) >> 9;
    let mut exp_value: i32 = 0;
    if tmp32 < COMP_VAR {
        let mut t = ((LOG2_EXP * tmp32) >> 12) as i16;
        t = t.wrapping_neg();
        exp_value = i32::from(0x0400 | (t & 0x03FF));
        t = !t;
        t >>= 10;
        t = t.wrapping_add(1);
        exp_value >>= i32::from(t).clamp(0, 31);
    }
    i32::from(inv_std).wrapping_mul(exp_value)
}

/// `HighPassFilter`: 80 Hz high pass of the 0–250 Hz band (Q14 coefficients).
fn high_pass_filter(data_in: &[i16], state: &mut [i16; 4], data_out: &mut [i16]) {
    for (&x, out) in data_in.iter().zip(data_out.iter_mut()) {
        let mut tmp32 = HP_ZERO_COEFS[0] * i32::from(x);
        tmp32 = tmp32.wrapping_add(HP_ZERO_COEFS[1] * i32::from(state[0]));
        tmp32 = tmp32.wrapping_add(HP_ZERO_COEFS[2] * i32::from(state[1]));
        state[1] = state[0];
        state[0] = x;
        tmp32 = tmp32.wrapping_sub(HP_POLE_COEFS[1] * i32::from(state[2]));
        tmp32 = tmp32.wrapping_sub(HP_POLE_COEFS[2] * i32::from(state[3]));
        state[3] = state[2];
        state[2] = (tmp32 >> 14) as i16;
        *out = state[2];
    }
}

/// One step of `AllPassFilter` (first-order all-pass, Q15 coefficient, Q16 state): returns
/// the output sample. `(a - b) * 2` is written `2a - 2b`, the same in wrapping arithmetic and
/// one operation shorter on the recurrence's critical path.
#[inline(always)]
fn all_pass_step(x: i16, coefficient: i32, state32: &mut i32) -> i16 {
    let out = (state32.wrapping_add(coefficient * i32::from(x)) >> 16) as i16;
    *state32 = (i32::from(x) << 15).wrapping_sub((coefficient * 2).wrapping_mul(i32::from(out)));
    out
}

/// `SplitFilter`: splits into a high band and a low band, each at half the rate: the upper
/// all-pass filter over the even samples, the lower over the odd ones (run interleaved), then
/// their difference and sum. `data_in` has an even length, twice the outputs'.
fn split_filter(
    data_in: &[i16],
    upper_state: &mut i16,
    lower_state: &mut i16,
    hp_out: &mut [i16],
    lp_out: &mut [i16],
) {
    let mut upper = i32::from(*upper_state).wrapping_mul(1 << 16);
    let mut lower = i32::from(*lower_state).wrapping_mul(1 << 16);
    for ((pair, hp), lp) in data_in
        .chunks_exact(2)
        .zip(hp_out.iter_mut())
        .zip(lp_out.iter_mut())
    {
        let u = all_pass_step(pair[0], ALL_PASS_COEFS_Q15[0], &mut upper);
        let l = all_pass_step(pair[1], ALL_PASS_COEFS_Q15[1], &mut lower);
        *hp = u.wrapping_sub(l);
        *lp = l.wrapping_add(u);
    }
    *upper_state = (upper >> 16) as i16;
    *lower_state = (lower >> 16) as i16;
}

/// Two independent [`split_filter`]s of equal length, run interleaved (four recurrences).
fn split_filter_pair(
    data_in: [&[i16]; 2],
    upper_state: [&mut i16; 2],
    lower_state: [&mut i16; 2],
    hp_out: [&mut [i16]; 2],
    lp_out: [&mut [i16]; 2],
) {
    let [a_in, b_in] = data_in;
    let [a_upper_state, b_upper_state] = upper_state;
    let [a_lower_state, b_lower_state] = lower_state;
    let [a_hp, b_hp] = hp_out;
    let [a_lp, b_lp] = lp_out;
    let mut a_upper = i32::from(*a_upper_state).wrapping_mul(1 << 16);
    let mut a_lower = i32::from(*a_lower_state).wrapping_mul(1 << 16);
    let mut b_upper = i32::from(*b_upper_state).wrapping_mul(1 << 16);
    let mut b_lower = i32::from(*b_lower_state).wrapping_mul(1 << 16);
    let a = a_in
        .chunks_exact(2)
        .zip(a_hp.iter_mut().zip(a_lp.iter_mut()));
    let b = b_in
        .chunks_exact(2)
        .zip(b_hp.iter_mut().zip(b_lp.iter_mut()));
    for ((a_pair, (a_hp, a_lp)), (b_pair, (b_hp, b_lp))) in a.zip(b) {
        let au = all_pass_step(a_pair[0], ALL_PASS_COEFS_Q15[0], &mut a_upper);
        let al = all_pass_step(a_pair[1], ALL_PASS_COEFS_Q15[1], &mut a_lower);
        let bu = all_pass_step(b_pair[0], ALL_PASS_COEFS_Q15[0], &mut b_upper);
        let bl = all_pass_step(b_pair[1], ALL_PASS_COEFS_Q15[1], &mut b_lower);
        *a_hp = au.wrapping_sub(al);
        *a_lp = al.wrapping_add(au);
        *b_hp = bu.wrapping_sub(bl);
        *b_lp = bl.wrapping_add(bu);
    }
    *a_upper_state = (a_upper >> 16) as i16;
    *a_lower_state = (a_lower >> 16) as i16;
    *b_upper_state = (b_upper >> 16) as i16;
    *b_lower_state = (b_lower >> 16) as i16;
}

/// `LogOfEnergy`: `10*log10(energy)` in Q4 plus `offset`; updates `total_energy` while it is
/// at most `MIN_ENERGY`.
fn log_of_energy(data_in: &[i16], offset: i16, total_energy: &mut i16) -> i16 {
    let (energy, mut tot_rshifts) = spl_energy(data_in);
    let mut energy = energy as u32;
    if energy == 0 {
        return offset;
    }
    let normalizing_rshifts = 17 - norm_u32(energy);
    let mut log2_energy = LOG_ENERGY_INT_PART;
    tot_rshifts += normalizing_rshifts;
    if normalizing_rshifts < 0 {
        energy <<= -normalizing_rshifts;
    } else {
        energy >>= normalizing_rshifts;
    }
    log2_energy = log2_energy.wrapping_add(((energy & 0x0000_3FFF) >> 4) as i16);
    let mut log_energy =
        (((LOG_CONST * i32::from(log2_energy)) >> 19) + ((tot_rshifts * LOG_CONST) >> 9)) as i16;
    if log_energy < 0 {
        log_energy = 0;
    }
    log_energy = log_energy.wrapping_add(offset);
    if *total_energy <= MIN_ENERGY {
        if tot_rshifts >= 0 {
            *total_energy = total_energy.wrapping_add(MIN_ENERGY + 1);
        } else {
            *total_energy = total_energy.wrapping_add((energy >> -tot_rshifts) as i16);
        }
    }
    log_energy
}

/// `WebRtcSpl_Energy`: sum of squares, each scaled down so the sum cannot overflow; returns
/// the sum and the scale (right shifts).
fn spl_energy(vector: &[i16]) -> (i32, i32) {
    let scaling = get_scaling_square(vector, vector.len());
    let mut en: i32 = 0;
    for &x in vector {
        en = en.wrapping_add((i32::from(x) * i32::from(x)) >> scaling);
    }
    (en, scaling)
}

/// `WebRtcSpl_GetScalingSquare`.
fn get_scaling_square(vector: &[i16], times: usize) -> i32 {
    let nbits = 32 - (times as u32).leading_zeros() as i32;
    let mut smax: i16 = -1;
    for &x in vector {
        let sabs = if x > 0 { x } else { x.wrapping_neg() };
        if sabs > smax {
            smax = sabs;
        }
    }
    let t = norm_w32(i32::from(smax).wrapping_mul(i32::from(smax)));
    if smax == 0 || t > nbits { 0 } else { nbits - t }
}

/// `WebRtcSpl_NormW32`: left shifts possible without overflow (0 for 0).
fn norm_w32(a: i32) -> i32 {
    if a == 0 {
        0
    } else {
        let v = if a < 0 { !a } else { a };
        (v as u32).leading_zeros() as i32 - 1
    }
}

/// `WebRtcSpl_NormU32`.
fn norm_u32(a: u32) -> i32 {
    if a == 0 { 0 } else { a.leading_zeros() as i32 }
}

/// `WebRtcSpl_DivW32W16`: truncating division, `i32::MAX` for a zero divisor.
fn div_w32_w16(num: i32, den: i16) -> i32 {
    if den == 0 {
        i32::MAX
    } else {
        num.wrapping_div(i32::from(den))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_matches_the_c_definition() {
        assert_eq!(norm_w32(0), 0);
        assert_eq!(norm_w32(1), 30);
        assert_eq!(norm_w32(-1), 31);
        assert_eq!(norm_w32(i32::MAX), 0);
        assert_eq!(norm_w32(i32::MIN), 0);
        assert_eq!(norm_u32(1), 31);
        assert_eq!(div_w32_w16(7, 0), i32::MAX);
        assert_eq!(div_w32_w16(-7, 2), -3);
    }

    #[test]
    fn gaussian_probability_matches_libfvad_unit_test() {
        // From libfvad tests/vad_gmm_unittest.c.
        let mut delta = 0;
        assert_eq!(gaussian_probability(0, 0, 128, &mut delta), 1048576);
        assert_eq!(delta, 0);
        assert_eq!(gaussian_probability(16, 128, 128, &mut delta), 1048576);
        assert_eq!(delta, 0);
        assert_eq!(gaussian_probability(-16, -128, 128, &mut delta), 1048576);
        assert_eq!(delta, 0);
        assert_eq!(gaussian_probability(59, 0, 128, &mut delta), 1024);
        assert_eq!(delta, 7552);
        assert_eq!(gaussian_probability(75, 128, 128, &mut delta), 1024);
        assert_eq!(delta, 7552);
        assert_eq!(gaussian_probability(-75, -128, 128, &mut delta), 1024);
        assert_eq!(delta, -7552);
        assert_eq!(gaussian_probability(105, 0, 128, &mut delta), 0);
        assert_eq!(delta, 13440);
    }

    #[test]
    fn find_minimum_matches_libfvad_unit_test() {
        // From libfvad tests/vad_sp_unittest.c.
        const REFERENCE: [i16; 32] = [
            1600, 720, 509, 512, 532, 552, 570, 588, 606, 624, 642, 659, 675, 691, 707, 723, 1600,
            544, 502, 522, 542, 561, 579, 597, 615, 633, 651, 667, 683, 699, 715, 731,
        ];
        let mut vad = Fvad::new(0);
        for i in 0..16 {
            let value = 500 * (i as i16 + 1);
            for channel in 0..NUM_CHANNELS {
                assert_eq!(vad.find_minimum(value, channel), REFERENCE[i]);
                assert_eq!(vad.find_minimum(12000, channel), REFERENCE[i + 16]);
            }
            vad.frame_counter += 1;
        }
    }

    #[test]
    fn silence_is_not_speech_and_bad_lengths_are_refused() {
        let mut vad = Fvad::new(0);
        assert_eq!(vad.process(&[0; 160]), Some(false));
        assert_eq!(vad.process(&[0; 100]), None);
    }
}
