//! The BERT encoder of all-MiniLM-L6-v2 (6 layers, hidden 384, 12 heads, feed-forward 1536,
//! erf GELU, LayerNorm eps 1e-12) and the sentence-transformers head on top (mean pooling over
//! the tokens, L2 normalisation), in safe Rust over f32 weights read from `model.safetensors`.
//!
//! Several sentences are run together without padding: the per-token layers (projections,
//! feed-forward, LayerNorm) see all tokens of the batch as one matrix, and attention is computed
//! within each sentence's own rows, so a batch gives exactly the vectors of one-at-a-time calls.
//! Matrix products go through ndarray (matrixmultiply's sgemm). No I/O except at load.

use std::path::Path;

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2};

use crate::EmbedError;
use crate::safetensors::TensorFile;

/// Hidden size (the embedding dimension).
pub(crate) const HIDDEN: usize = 384;
const LAYERS: usize = 6;
const HEADS: usize = 12;
const HEAD_DIM: usize = HIDDEN / HEADS;
const FFN: usize = 1536;
pub(crate) const VOCAB: usize = 30522;
/// Rows of the position-embedding table.
pub(crate) const MAX_POSITIONS: usize = 512;
const TOKEN_TYPES: usize = 2;
const LN_EPS: f32 = 1e-12;

/// `y = x · Wᵀ + b`, with `W` read as PyTorch stores it (`[out, in]`) and kept transposed.
struct Linear {
    /// `Wᵀ`, `[in, out]`, row-major: matrixmultiply packs this layout fastest (measured: a short
    /// sentence costs about a third more CPU time with the `[out, in]` layout viewed transposed).
    weight_t: Array2<f32>,
    bias: Vec<f32>,
}

impl Linear {
    fn from_parts(weight: Vec<f32>, bias: Vec<f32>, out: usize, inp: usize) -> Self {
        // Shapes were checked when the tensors were read, so this cannot fail.
        let weight = Array2::from_shape_vec((out, inp), weight)
            .unwrap_or_else(|_| Array2::zeros((out, inp)));
        Self {
            weight_t: weight.reversed_axes().as_standard_layout().into_owned(),
            bias,
        }
    }

    fn load(t: &mut TensorFile, prefix: &str, out: usize, inp: usize) -> Result<Self, EmbedError> {
        let weight = t.read_f32(&format!("{prefix}.weight"), &[out, inp])?;
        let bias = t.read_f32(&format!("{prefix}.bias"), &[out])?;
        Ok(Self::from_parts(weight, bias, out, inp))
    }

    fn forward(&self, x: ArrayView2<'_, f32>) -> Array2<f32> {
        let rows = x.nrows();
        let out = self.bias.len();
        let mut y = Array2::from_shape_fn((rows, out), |(_, j)| self.bias[j]);
        general_mat_mul(1.0, &x, &self.weight_t, 1.0, &mut y);
        y
    }
}

struct LayerNorm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl LayerNorm {
    fn load(t: &mut TensorFile, prefix: &str) -> Result<Self, EmbedError> {
        Ok(Self {
            gamma: t.read_f32(&format!("{prefix}.weight"), &[HIDDEN])?,
            beta: t.read_f32(&format!("{prefix}.bias"), &[HIDDEN])?,
        })
    }

    /// Normalises every row of `x` in place.
    fn apply(&self, x: &mut Array2<f32>) {
        for mut row in x.rows_mut() {
            let n = row.len() as f32;
            let mean = row.sum() / n;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
            let inv = 1.0 / (var + LN_EPS).sqrt();
            for ((v, g), b) in row.iter_mut().zip(&self.gamma).zip(&self.beta) {
                *v = (*v - mean) * inv * g + b;
            }
        }
    }
}

struct Layer {
    /// Query, key and value projections fused into one `[384 → 1152]` product.
    qkv: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    out_norm: LayerNorm,
}

impl Layer {
    fn load(t: &mut TensorFile, i: usize) -> Result<Self, EmbedError> {
        let p = format!("encoder.layer.{i}");
        let mut weight = Vec::with_capacity(3 * HIDDEN * HIDDEN);
        let mut bias = Vec::with_capacity(3 * HIDDEN);
        for part in ["query", "key", "value"] {
            weight.extend(t.read_f32(
                &format!("{p}.attention.self.{part}.weight"),
                &[HIDDEN, HIDDEN],
            )?);
            bias.extend(t.read_f32(&format!("{p}.attention.self.{part}.bias"), &[HIDDEN])?);
        }
        Ok(Self {
            qkv: Linear::from_parts(weight, bias, 3 * HIDDEN, HIDDEN),
            attn_out: Linear::load(t, &format!("{p}.attention.output.dense"), HIDDEN, HIDDEN)?,
            attn_norm: LayerNorm::load(t, &format!("{p}.attention.output.LayerNorm"))?,
            intermediate: Linear::load(t, &format!("{p}.intermediate.dense"), FFN, HIDDEN)?,
            output: Linear::load(t, &format!("{p}.output.dense"), HIDDEN, FFN)?,
            out_norm: LayerNorm::load(t, &format!("{p}.output.LayerNorm"))?,
        })
    }

    /// One encoder layer over the rows of `x`; `spans` are the sentences' row ranges.
    fn forward(&self, x: Array2<f32>, spans: &[(usize, usize)]) -> Array2<f32> {
        let qkv = self.qkv.forward(x.view());
        let context = attention(&qkv, spans);
        let mut h = self.attn_out.forward(context.view());
        h += &x;
        self.attn_norm.apply(&mut h);
        let mut inner = self.intermediate.forward(h.view());
        inner.mapv_inplace(gelu);
        let mut out = self.output.forward(inner.view());
        out += &h;
        self.out_norm.apply(&mut out);
        out
    }
}

/// Scaled dot-product attention within each span, every head; `qkv` rows are `[q | k | v]`.
fn attention(qkv: &Array2<f32>, spans: &[(usize, usize)]) -> Array2<f32> {
    const ROW: usize = 3 * HIDDEN;
    let mut context = Array2::<f32>::zeros((qkv.nrows(), HIDDEN));
    let qkv = qkv.as_standard_layout();
    let (Some(qkv), Some(ctx)) = (qkv.as_slice(), context.as_slice_mut()) else {
        return context;
    };
    let scale = 1.0 / (HEAD_DIM as f32).sqrt();
    let mut scores = Vec::new();
    for &(start, end) in spans {
        for head in 0..HEADS {
            let col = head * HEAD_DIM;
            let field = |row: usize, base: usize| {
                let at = row * ROW + base + col;
                &qkv[at..at + HEAD_DIM]
            };
            for i in start..end {
                let q = field(i, 0);
                scores.clear();
                scores.extend((start..end).map(|j| dot(q, field(j, HIDDEN)) * scale));
                let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0.0;
                for p in &mut scores {
                    *p = (*p - max).exp();
                    sum += *p;
                }
                let out = &mut ctx[i * HIDDEN + col..i * HIDDEN + col + HEAD_DIM];
                for (p, j) in scores.iter().zip(start..end) {
                    let w = p / sum;
                    for (o, v) in out.iter_mut().zip(field(j, 2 * HIDDEN)) {
                        *o += w * v;
                    }
                }
            }
        }
    }
    context
}

/// Dot product with eight independent accumulators (so it vectorises).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// GELU with the exact erf form, as BERT's `gelu` activation. Branch-free f32 arithmetic (no
/// library calls), so the loop over a layer's activations vectorises.
#[inline]
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// erf(x) by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7, plus f32 rounding).
#[inline]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
    let y = 1.0 - poly * exp_nonpositive(-a * a);
    y.copysign(x)
}

/// e^z for z <= 0 (relative error about 2e-7; underflows to about 1e-38 below -87), by
/// range reduction to r in [-ln2/2, ln2/2], a degree-6 polynomial, and an exponent built from
/// bits.
#[inline]
fn exp_nonpositive(z: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer
    let z = z.max(-87.0);
    let shifted = z * std::f32::consts::LOG2_E + MAGIC;
    let n = shifted - MAGIC;
    let r = z - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // The integer n sits in the low bits of `shifted`; make it the exponent of 2^n.
    let bits = shifted
        .to_bits()
        .wrapping_sub(MAGIC.to_bits())
        .wrapping_add(127)
        << 23;
    p * f32::from_bits(bits)
}

/// The encoder with its embedding tables.
pub(crate) struct Bert {
    word: Vec<f32>,
    /// Position embedding plus the token-type-0 embedding, row per position.
    position: Vec<f32>,
    embed_norm: LayerNorm,
    layers: Vec<Layer>,
}

impl Bert {
    pub(crate) fn load(path: &Path) -> Result<Self, EmbedError> {
        let mut t = TensorFile::open(path)?;
        let word = t.read_f32("embeddings.word_embeddings.weight", &[VOCAB, HIDDEN])?;
        let mut position = t.read_f32(
            "embeddings.position_embeddings.weight",
            &[MAX_POSITIONS, HIDDEN],
        )?;
        let token_type = t.read_f32(
            "embeddings.token_type_embeddings.weight",
            &[TOKEN_TYPES, HIDDEN],
        )?;
        for row in position.chunks_exact_mut(HIDDEN) {
            for (p, t) in row.iter_mut().zip(&token_type) {
                *p += t;
            }
        }
        let embed_norm = LayerNorm::load(&mut t, "embeddings.LayerNorm")?;
        let layers = (0..LAYERS)
            .map(|i| Layer::load(&mut t, i))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            word,
            position,
            embed_norm,
            layers,
        })
    }

    /// Sentence embeddings (mean-pooled, L2-normalised) of already tokenised sentences. Every id
    /// must be below [`VOCAB`] and every sentence at most [`MAX_POSITIONS`] long (the caller
    /// truncates); an out-of-range id is read as `[UNK]` (100) rather than panicking.
    pub(crate) fn embed(&self, sentences: &[Vec<u32>]) -> Vec<Vec<f32>> {
        let mut spans = Vec::with_capacity(sentences.len());
        let mut total = 0;
        for ids in sentences {
            let n = ids.len().min(MAX_POSITIONS);
            spans.push((total, total + n));
            total += n;
        }
        let mut x = Array2::<f32>::zeros((total, HIDDEN));
        for (ids, &(start, end)) in sentences.iter().zip(&spans) {
            for (pos, (&id, mut row)) in ids
                .iter()
                .zip(x.rows_mut().into_iter().skip(start).take(end - start))
                .enumerate()
            {
                let id = usize::try_from(id)
                    .ok()
                    .filter(|&id| id < VOCAB)
                    .unwrap_or(100);
                let word = &self.word[id * HIDDEN..(id + 1) * HIDDEN];
                let position = &self.position[pos * HIDDEN..(pos + 1) * HIDDEN];
                for ((v, w), p) in row.iter_mut().zip(word).zip(position) {
                    *v = w + p;
                }
            }
        }
        self.embed_norm.apply(&mut x);
        for layer in &self.layers {
            x = layer.forward(x, &spans);
        }
        spans
            .iter()
            .map(|&(start, end)| {
                let mut v = vec![0.0f32; HIDDEN];
                for row in x.rows().into_iter().skip(start).take(end - start) {
                    for (acc, r) in v.iter_mut().zip(row) {
                        *acc += r;
                    }
                }
                let n = (end - start).max(1) as f32;
                v.iter_mut().for_each(|a| *a /= n);
                let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt().max(1e-12);
                v.iter_mut().for_each(|a| *a /= norm);
                v
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        for (x, want) in [
            (0.0f32, 0.0f32),
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (-1.0, -0.842_700_8),
            (2.0, 0.995_322_3),
            (-3.0, -0.999_977_9),
        ] {
            assert!((erf(x) - want).abs() < 3e-7, "erf({x}) = {}", erf(x));
        }
    }

    #[test]
    fn fast_exp_and_erf_match_f64() {
        let mut z = -100.0f32;
        while z <= 0.0 {
            let want = f64::from(z).exp();
            let got = f64::from(exp_nonpositive(z));
            assert!(
                (got - want).abs() <= 4e-7 * want + 1e-37,
                "exp({z}) = {got}, want {want}"
            );
            z += 0.01;
        }
        let mut x = -8.0f32;
        while x <= 8.0 {
            let want = erf_f64(f64::from(x));
            let err = (f64::from(erf(x)) - want).abs();
            assert!(err < 1e-6, "erf({x}) off by {err}");
            let xf = f64::from(x);
            let gelu_want = 0.5 * xf * (1.0 + erf_f64(xf / std::f64::consts::SQRT_2));
            let gelu_err = (f64::from(gelu(x)) - gelu_want).abs();
            assert!(
                gelu_err < 1e-6 * xf.abs().max(1.0),
                "gelu({x}) off by {gelu_err}"
            );
            x += 0.001;
        }
    }

    /// erf in f64 for the test above: Taylor series below 3, the asymptotic erfc series above.
    fn erf_f64(x: f64) -> f64 {
        let a = x.abs();
        if a >= 3.0 {
            let a2 = a * a;
            let erfc = (-a2).exp() / (a * std::f64::consts::PI.sqrt())
                * (1.0 - 1.0 / (2.0 * a2) + 3.0 / (4.0 * a2 * a2) - 15.0 / (8.0 * a2 * a2 * a2));
            return (1.0 - erfc).copysign(x);
        }
        let mut term = x;
        let mut sum = x;
        for n in 1..100 {
            term *= -x * x / f64::from(n);
            sum += term / f64::from(2 * n + 1);
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn gelu_is_exact_form() {
        assert!((gelu(1.0) - 0.841_344_7).abs() < 1e-6);
        assert!((gelu(-1.0) + 0.158_655_3).abs() < 1e-6);
        assert_eq!(gelu(0.0), 0.0);
    }
}
