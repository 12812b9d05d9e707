//! The Moonshine recogniser: sessions, greedy decoding with the KV cache, and the bounded worker
//! pool that runs it off the async executor.
//!
//! [`Moonshine::load`] is the only place that touches files; it loads one encoder + decoder
//! session pair per worker (the encoder on `encoder_threads` threads, the decoder on one; the
//! weights, external data, are mapped once for all of them) and runs one tiny inference on
//! each, so a corrupt model fails at start-up. Each worker is a std thread owning its
//! sessions; jobs come through a bounded queue and answers go back on a oneshot channel, so
//! `transcribe` never blocks the executor. A job that waited longer than the limit is answered
//! `Overloaded` without being decoded.
//!
//! Decoding follows the research notes (`shared/research/speech.md`): the encoder takes 16 kHz
//! `input_values` [1, n]; the merged decoder starts from token 1 with empty past K/V and
//! `use_cache_branch = false`, keeps every `present.*` after step 0 and only the `.decoder.`
//! ones afterwards, and stops at token 2 or after `max(10, ⌈6.5 × seconds⌉)` tokens.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hotline_onnx::ort;
use ort::environment::Environment;
use ort::session::builder::PrepackedWeights;
use ort::session::{Session, SessionInputValue};
use ort::value::{DynValue, Tensor, TensorRef};
use tokio::sync::oneshot;

use super::config::{INSTALL_COMMAND, MODEL_FILES, MoonshineConfig};
use super::tokenizer::{END_TOKEN, START_TOKEN, Tokenizer};
use crate::prepare::{Shape, prepare};
use crate::{AsrError, Hints, Recognizer, SAMPLE_RATE, Transcript};

/// Decoder layers × {decoder, encoder} × {key, value}.
const LAYERS: usize = 8;
const HEADS: usize = 8;
const HEAD_DIM: usize = 52;
/// Fewest tokens decoded for any utterance.
const MIN_TOKENS: usize = 10;
/// Below this probability the first token means "no words here" and the text is empty.
/// Measured: pink noise gives 0.01–0.04 %; speech 5 % (a clipped word) to 99 %.
const MIN_FIRST_TOKEN_PROB: f64 = 0.01;

/// One worker's sessions.
struct Model {
    encoder: Session,
    decoder: Session,
    tokenizer: Arc<Tokenizer>,
    /// `past_key_values.{layer}.{decoder|encoder}.{key|value}`, in a fixed order…
    past_names: Vec<String>,
    /// …and the matching `present.*` outputs.
    present_names: Vec<String>,
    /// Whether each entry is decoder self-attention (replaced every step).
    is_decoder: Vec<bool>,
}

/// What greedy decoding produced.
struct Decoded {
    text: String,
    confidence: f32,
}

fn model_error(path: &Path, message: impl fmt::Display) -> AsrError {
    AsrError::Model(format!("{}: {message}", path.display()))
}

impl Model {
    /// Loads the session pair; `prepacked` is shared by every worker, so the packed int8
    /// weights exist once per process instead of once per worker.
    fn load(
        env: &Environment,
        dir: &Path,
        tokenizer: Arc<Tokenizer>,
        prepacked: &PrepackedWeights,
        encoder_threads: usize,
    ) -> Result<Self, AsrError> {
        // The encoder may run on several threads (`encoder_threads`); a decoder step is too
        // small to split. Idle threads sleep instead of spinning between utterances.
        let session = |file: &str, threads: usize| -> Result<Session, AsrError> {
            let path = dir.join(file);
            Session::builder(env)
                .map_err(|e| model_error(&path, e))?
                .with_intra_threads(threads)
                .map_err(|e| model_error(&path, e))?
                .with_intra_op_spinning(false)
                .map_err(|e| model_error(&path, e))?
                // Pre-planned activation buffers per input shape: about 10 MB per worker for
                // no measurable speed on this model.
                .with_memory_pattern(false)
                .map_err(|e| model_error(&path, e))?
                .with_inter_threads(1)
                .map_err(|e| model_error(&path, e))?
                .with_prepacked_weights(prepacked)
                .map_err(|e| model_error(&path, e))?
                .with_config_entry("session.use_device_allocator_for_initializers", "1")
                .map_err(|e| model_error(&path, e))?
                .with_execution_providers([ort::ep::CPU::default()
                    .with_arena_allocator(false)
                    .build()])
                .map_err(|e| model_error(&path, e))?
                // Optimisation level: ORT's default. rc.15's `Level3` is rejected by ORT 1.22.
                .commit_from_file(&path)
                .map_err(|e| model_error(&path, e))
        };
        let encoder = session("encoder_model.onnx", encoder_threads)?;
        let decoder = session("decoder_model_merged.onnx", 1)?;
        let mut past_names = Vec::new();
        let mut present_names = Vec::new();
        let mut is_decoder = Vec::new();
        for layer in 0..LAYERS {
            for part in ["decoder", "encoder"] {
                for kind in ["key", "value"] {
                    past_names.push(format!("past_key_values.{layer}.{part}.{kind}"));
                    present_names.push(format!("present.{layer}.{part}.{kind}"));
                    is_decoder.push(part == "decoder");
                }
            }
        }
        let model = Self {
            encoder,
            decoder,
            tokenizer,
            past_names,
            present_names,
            is_decoder,
        };
        model
            .check_signature()
            .map_err(|m| model_error(&dir.join("decoder_model_merged.onnx"), m))?;
        Ok(model)
    }

    fn check_signature(&self) -> Result<(), String> {
        let names = |s: &Session, inputs: bool| -> Vec<String> {
            let list = if inputs { s.inputs() } else { s.outputs() };
            list.iter().map(|o| o.name().to_owned()).collect()
        };
        let enc_in = names(&self.encoder, true);
        if !enc_in.iter().any(|n| n == "input_values") {
            return Err(format!(
                "not a Moonshine encoder: no input `input_values` ({enc_in:?})"
            ));
        }
        let dec_in = names(&self.decoder, true);
        let dec_out = names(&self.decoder, false);
        for want in ["input_ids", "encoder_hidden_states", "use_cache_branch"]
            .iter()
            .copied()
            .chain(self.past_names.iter().map(String::as_str))
        {
            if !dec_in.iter().any(|n| n == want) {
                return Err(format!("not a Moonshine merged decoder: no input `{want}`"));
            }
        }
        for want in std::iter::once("logits").chain(self.present_names.iter().map(String::as_str)) {
            if !dec_out.iter().any(|n| n == want) {
                return Err(format!(
                    "not a Moonshine merged decoder: no output `{want}`"
                ));
            }
        }
        Ok(())
    }

    /// Greedy decoding of 16 kHz audio, at most `max_tokens` tokens.
    fn recognize(&mut self, wide: &[f32], max_tokens: usize) -> Result<Decoded, String> {
        let err = |e: ort::Error| e.to_string();
        let input = TensorRef::from_array_view(([1usize, wide.len()], wide)).map_err(err)?;
        let hidden: DynValue = {
            let mut out = self
                .encoder
                .run(ort::inputs!["input_values" => input])
                .map_err(err)?;
            out.remove("last_hidden_state")
                .ok_or("the encoder gave no `last_hidden_state`")?
        };
        let mut past: Vec<DynValue> = Vec::with_capacity(self.past_names.len());
        for _ in &self.past_names {
            let empty = Tensor::<f32>::from_array(([0usize, HEADS, 1, HEAD_DIM], Vec::new()))
                .map_err(err)?;
            past.push(empty.into_dyn());
        }
        let mut tokens: Vec<i64> = Vec::new();
        let mut log_prob_sum = 0f64;
        let mut scored = 0usize;
        let mut token = START_TOKEN;
        for step in 0..max_tokens {
            let ids = Tensor::<i64>::from_array(([1usize, 1], vec![token])).map_err(err)?;
            let branch = Tensor::<bool>::from_array(([1usize], vec![step > 0])).map_err(err)?;
            let mut inputs: Vec<(Cow<'_, str>, SessionInputValue<'_>)> =
                Vec::with_capacity(3 + past.len());
            inputs.push(("input_ids".into(), ids.into()));
            inputs.push(("encoder_hidden_states".into(), (&hidden).into()));
            inputs.push(("use_cache_branch".into(), branch.into()));
            for (name, value) in self.past_names.iter().zip(&past) {
                inputs.push((name.as_str().into(), value.into()));
            }
            let mut out = self.decoder.run(inputs).map_err(err)?;
            let (next, log_prob) = {
                let (_, logits) = out
                    .get("logits")
                    .ok_or("the decoder gave no `logits`")?
                    .try_extract_tensor::<f32>()
                    .map_err(err)?;
                // Moonshine sometimes ends at once on clear speech (a 10 s recording, a lone
                // "yes" in noise). The audio passed the silence gate, so the first token is
                // never the end: the runner-up is taken, and its (low) probability lowers
                // the confidence.
                let ban = if step == 0 { Some(END_TOKEN) } else { None };
                best(logits, ban).ok_or("the decoder gave empty or non-finite logits")?
            };
            log_prob_sum += log_prob;
            scored += 1;
            if step == 0 && log_prob < MIN_FIRST_TOKEN_PROB.ln() {
                // Noise, not words (e.g. line hiss above the silence gate gives "So" at 0.04 %).
                return Ok(Decoded {
                    text: String::new(),
                    confidence: 0.0,
                });
            }
            if next == END_TOKEN {
                break;
            }
            for ((slot, name), &is_decoder) in past
                .iter_mut()
                .zip(&self.present_names)
                .zip(&self.is_decoder)
            {
                if step == 0 || is_decoder {
                    *slot = out
                        .remove(name)
                        .ok_or_else(|| format!("the decoder gave no `{name}`"))?;
                }
            }
            tokens.push(next);
            token = next;
        }
        let confidence = if scored == 0 {
            0.0
        } else {
            (log_prob_sum / scored as f64).exp() as f32
        };
        Ok(Decoded {
            text: self.tokenizer.decode(&tokens),
            confidence,
        })
    }
}

/// The arg-max of `logits` (never `ban`) and its log-probability under the full softmax.
fn best(logits: &[f32], ban: Option<i64>) -> Option<(i64, f64)> {
    let banned = ban.and_then(|b| usize::try_from(b).ok());
    let (index, &chosen) = logits
        .iter()
        .enumerate()
        .filter(|&(i, l)| l.is_finite() && Some(i) != banned)
        .max_by(|a, b| a.1.total_cmp(b.1))?;
    let max = logits
        .iter()
        .filter(|l| l.is_finite())
        .fold(chosen, |m, &l| m.max(l));
    let sum: f64 = logits
        .iter()
        .filter(|l| l.is_finite())
        .map(|&l| f64::from(l - max).exp())
        .sum();
    Some((
        i64::try_from(index).ok()?,
        f64::from(chosen - max) - sum.ln(),
    ))
}

/// Maximum tokens for an utterance of `samples` at 8 kHz.
fn max_tokens(samples: usize, tokens_per_second: f32) -> usize {
    let seconds = samples as f32 / SAMPLE_RATE as f32;
    ((seconds * tokens_per_second).ceil() as usize).max(MIN_TOKENS)
}

fn duration_of(samples: usize) -> Duration {
    Duration::from_secs_f64(samples as f64 / f64::from(SAMPLE_RATE))
}

/// One utterance waiting for a worker.
struct Job {
    pcm: Vec<i16>,
    hints: Hints,
    enqueued: Instant,
    reply: oneshot::Sender<Result<Transcript, AsrError>>,
}

/// What every worker shares (read-only).
#[derive(Clone, Copy)]
struct Limits {
    shape: Shape,
    tokens_per_second: f32,
    max_wait: Duration,
}

fn worker(mut model: Model, jobs: Arc<Mutex<Receiver<Job>>>, limits: Limits) {
    loop {
        let job = {
            let rx = jobs.lock().unwrap_or_else(PoisonError::into_inner);
            rx.recv()
        };
        let Ok(job) = job else {
            return; // the recogniser was dropped
        };
        let queued = job.enqueued.elapsed();
        let result = if queued > limits.max_wait {
            Err(AsrError::Overloaded(queued))
        } else {
            // A bug on one utterance must cost that utterance (the caller is reprompted), not
            // the worker: a worker that died would shrink the pool for every later call.
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_job(&mut model, &job.pcm, &job.hints, &limits)
            }));
            match run {
                Ok(r) => r.map(|mut t| {
                    t.queued = queued;
                    t
                }),
                Err(_) => {
                    tracing::error!(
                        "speech recognition panicked on one utterance; the worker goes on"
                    );
                    Err(AsrError::Model(
                        "the recogniser failed on this utterance (a bug: it panicked)".into(),
                    ))
                }
            }
        };
        // The caller may have gone away (call hung up): nothing to do then.
        let _ = job.reply.send(result);
    }
}

fn run_job(
    model: &mut Model,
    pcm: &[i16],
    hints: &Hints,
    limits: &Limits,
) -> Result<Transcript, AsrError> {
    let started = Instant::now();
    let prepared = prepare(pcm, &limits.shape);
    let audio = duration_of(prepared.used);
    if prepared.wide.is_empty() {
        return Ok(Transcript {
            truncated: prepared.truncated,
            decode: started.elapsed(),
            ..Transcript::silent(audio)
        });
    }
    let decoded = model
        .recognize(
            &prepared.wide,
            max_tokens(prepared.used, limits.tokens_per_second),
        )
        .map_err(AsrError::Model)?;
    Ok(Transcript {
        normalized: hints.expect.normalize(&decoded.text),
        text: decoded.text,
        confidence: decoded.confidence,
        audio,
        queued: Duration::ZERO,
        decode: started.elapsed(),
        truncated: prepared.truncated,
    })
}

/// Moonshine base-en on a bounded pool of worker threads (cheap to share behind an `Arc`).
pub struct Moonshine {
    jobs: SyncSender<Job>,
    workers: usize,
    model_dir: PathBuf,
}

impl fmt::Debug for Moonshine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Moonshine")
            .field("model_dir", &self.model_dir)
            .field("workers", &self.workers)
            .finish()
    }
}

fn missing(what: &str, path: &Path) -> AsrError {
    AsrError::Missing(format!(
        "the {what} {} is missing; install the models with `{INSTALL_COMMAND}` \
         (or set HOTLINE_MODELS_DIR to the folder that has them)",
        path.display()
    ))
}

impl Moonshine {
    /// Loads ONNX Runtime and one session pair per worker, checks each with a tiny inference,
    /// and starts the workers.
    ///
    /// # Errors
    /// [`AsrError::Config`] for a bad setting; [`AsrError::Missing`] (naming
    /// `scripts/install-models.sh`) when a model file or the runtime is absent;
    /// [`AsrError::Model`] when the runtime does not load or a model is corrupt.
    pub fn load(config: &MoonshineConfig) -> Result<Self, AsrError> {
        config.validate()?;
        let model_dir = config.model_dir();
        for file in MODEL_FILES {
            let path = model_dir.join(file);
            if !path.is_file() {
                return Err(missing("Moonshine model file", &path));
            }
        }
        let runtime_path = config.runtime_path();
        if !runtime_path.is_file() {
            return Err(missing("ONNX Runtime library", &runtime_path));
        }
        let env = hotline_onnx::runtime(&runtime_path).map_err(|e| match e {
            hotline_onnx::RuntimeError::Missing { path } => missing("ONNX Runtime library", &path),
            other => AsrError::Model(other.to_string()),
        })?;
        let tokenizer_path = model_dir.join("tokenizer.bin");
        let bytes = std::fs::read(&tokenizer_path).map_err(|e| model_error(&tokenizer_path, e))?;
        let tokenizer =
            Arc::new(Tokenizer::parse(&bytes).map_err(|m| model_error(&tokenizer_path, m))?);
        let limits = Limits {
            shape: config.shape(),
            tokens_per_second: config.tokens_per_second,
            max_wait: config.max_queue_wait(),
        };
        let workers = config.worker_count();
        let mut models = Vec::with_capacity(workers);
        let prepacked = PrepackedWeights::new();
        for _ in 0..workers {
            let mut model = Model::load(
                &env,
                &model_dir,
                Arc::clone(&tokenizer),
                &prepacked,
                config.encoder_thread_count(),
            )?;
            // A tiny inference (0.5 s of faint noise, 2 tokens) so a broken model fails now.
            let probe: Vec<f32> = (0..8_000u32)
                .map(|i| ((i.wrapping_mul(2_654_435_761) >> 16) as f32 / 65_536.0 - 0.5) * 1e-3)
                .collect();
            model
                .recognize(&probe, 2)
                .map_err(|m| AsrError::Model(format!("{}: {m}", model_dir.display())))?;
            models.push(model);
        }
        let (tx, rx) = sync_channel::<Job>(config.queue);
        let rx = Arc::new(Mutex::new(rx));
        for (i, model) in models.into_iter().enumerate() {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("asr-moonshine-{i}"))
                .spawn(move || worker(model, rx, limits))
                .map_err(|e| AsrError::Model(format!("cannot start a worker thread: {e}")))?;
        }
        tracing::debug!(model = %model_dir.display(), workers, tokens = tokenizer.len(), "moonshine loaded");
        Ok(Self {
            jobs: tx,
            workers,
            model_dir,
        })
    }

    /// Worker threads (each with its own sessions).
    #[must_use]
    pub fn workers(&self) -> usize {
        self.workers
    }
}

#[async_trait]
impl Recognizer for Moonshine {
    async fn transcribe(&self, pcm_8k: &[i16], hints: &Hints) -> Result<Transcript, AsrError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            pcm: pcm_8k.to_vec(),
            hints: hints.clone(),
            enqueued: Instant::now(),
            reply,
        };
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => AsrError::Overloaded(Duration::ZERO),
            TrySendError::Disconnected(_) => {
                AsrError::Model("every speech recognition worker has stopped".into())
            }
        })?;
        answer
            .await
            .map_err(|_| AsrError::Model("the speech recognition worker stopped".into()))?
    }

    fn name(&self) -> &'static str {
        super::NAME
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_token_and_its_probability() {
        let (i, lp) = best(&[0.0, 2.0, 0.0], None).unwrap();
        assert_eq!(i, 1);
        let p = lp.exp();
        let want = 2f64.exp() / (2.0 + 2f64.exp());
        assert!((p - want).abs() < 1e-6, "{p} vs {want}");
        assert!(best(&[], None).is_none());
        assert!(best(&[f32::NAN], None).is_none());
        assert_eq!(best(&[f32::NAN, 1.0], None).unwrap().0, 1);
        // A banned winner gives the runner-up, with its probability under the full softmax.
        let (i, lp) = best(&[0.0, 2.0, 1.0], Some(1)).unwrap();
        assert_eq!(i, 2);
        let want = 1f64.exp() / (1.0 + 2f64.exp() + 1f64.exp());
        assert!((lp.exp() - want).abs() < 1e-6);
        assert!(best(&[1.0], Some(0)).is_none());
    }

    #[test]
    fn token_budget_follows_audio_length() {
        assert_eq!(max_tokens(0, 6.5), MIN_TOKENS);
        assert_eq!(max_tokens(8_000, 6.5), MIN_TOKENS);
        assert_eq!(max_tokens(80_000, 6.5), 65);
        assert_eq!(max_tokens(8_000 * 3 / 2 * 2, 6.5), 20);
    }
}
