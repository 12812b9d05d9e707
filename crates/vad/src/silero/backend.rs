//! The shared Silero model (runtime + session pool) and the per-call detector.
//!
//! Loading (`SileroModel::load`) is the only IO; it runs one inference per session so that a
//! corrupt or wrong model fails at start-up, not at the first caller's first frame.

use std::collections::VecDeque;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;

use super::batch::Batcher;
use super::{CONTEXT, SileroConfig, WINDOW};
use crate::reframe::Reframer;
use crate::{SAMPLE_RATE, Vad, VadError};

pub(crate) const INPUT_LEN: usize = CONTEXT + WINDOW;
pub(crate) const STATE_LEN: usize = 2 * 128;
const INPUT_NAMES: [&str; 3] = ["input", "state", "sr"];
const OUTPUT_NAMES: [&str; 2] = ["output", "stateN"];

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Loads (once per process, shared with every other model) the ONNX Runtime library at `path`.
fn runtime(path: &Path) -> Result<Environment, VadError> {
    hotline_onnx::runtime(path).map_err(|e| match e {
        hotline_onnx::RuntimeError::Missing { path } => VadError::MissingFile {
            what: "ONNX Runtime library",
            path,
        },
        other => VadError::Runtime {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
    })
}

/// One pooled session.
struct Slot {
    session: Session,
}

/// Sessions shared by every call, plus where the model came from.
struct Pool {
    slots: Vec<Mutex<Slot>>,
    next: AtomicUsize,
    model_path: PathBuf,
    runtime_path: PathBuf,
    /// The cross-stream batcher, started on first use.
    batcher: OnceLock<Result<Batcher, String>>,
}

/// Silero VAD v6 loaded once and shared by all calls (cheap to clone).
#[derive(Clone)]
pub struct SileroModel {
    pool: Arc<Pool>,
}

impl fmt::Debug for SileroModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SileroModel")
            .field("model", &self.pool.model_path)
            .field("sessions", &self.pool.slots.len())
            .finish()
    }
}

impl SileroModel {
    /// Loads ONNX Runtime and the model into `config.session_count()` sessions, and checks
    /// each with one inference.
    ///
    /// # Errors
    /// [`VadError::MissingFile`] (with the install command) when a file is absent,
    /// [`VadError::Runtime`] when the library does not load, [`VadError::Model`] when the model
    /// is corrupt or lacks Silero's inputs and outputs.
    pub fn load(config: &SileroConfig) -> Result<Self, VadError> {
        config.validate()?;
        let model_path = config.model_path();
        if !model_path.is_file() {
            return Err(VadError::MissingFile {
                what: "Silero VAD model",
                path: model_path,
            });
        }
        let runtime_path = config.runtime_path();
        if !runtime_path.is_file() {
            return Err(VadError::MissingFile {
                what: "ONNX Runtime library",
                path: runtime_path,
            });
        }
        let env = runtime(&runtime_path)?;
        let model_error = |message: String| VadError::Model {
            path: model_path.clone(),
            message,
        };
        let mut slots = Vec::new();
        for _ in 0..config.session_count() {
            let session = build_session(&env, &model_path).map_err(model_error)?;
            check_signature(&session).map_err(model_error)?;
            let mut slot = Slot { session };
            let mut state = [0f32; STATE_LEN];
            let p = run(&mut slot, &[0f32; INPUT_LEN], &mut state).map_err(model_error)?;
            if !(0.0..=1.0).contains(&p) {
                return Err(model_error(format!(
                    "probability {p} on silence is not in [0, 1]"
                )));
            }
            slots.push(Mutex::new(slot));
        }
        tracing::debug!(model = %model_path.display(), sessions = slots.len(), "silero vad loaded");
        Ok(Self {
            pool: Arc::new(Pool {
                slots,
                next: AtomicUsize::new(0),
                model_path,
                runtime_path,
                batcher: OnceLock::new(),
            }),
        })
    }

    /// Sessions in the pool.
    #[must_use]
    pub fn sessions(&self) -> usize {
        self.pool.slots.len()
    }

    /// The process-wide batcher (started on first use: one thread and session per core, at most 4).
    fn batcher(&self) -> Result<Batcher, VadError> {
        let pool = &self.pool;
        let started = pool.batcher.get_or_init(|| {
            let env = runtime(&pool.runtime_path).map_err(|e| e.to_string())?;
            let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
            let sessions = (0..threads)
                .map(|_| build_session(&env, &pool.model_path))
                .collect::<Result<Vec<_>, _>>()?;
            Batcher::start(sessions)
        });
        started.clone().map_err(|message| VadError::Model {
            path: pool.model_path.clone(),
            message,
        })
    }

    /// One model step on a free pooled session: `input` is 32 context + 256 new samples
    /// scaled to [-1, 1]; `state` is read and replaced.
    fn infer(&self, input: &[f32; INPUT_LEN], state: &mut [f32; STATE_LEN]) -> Result<f32, String> {
        let slots = &self.pool.slots;
        let start = self.pool.next.fetch_add(1, Ordering::Relaxed);
        let n = slots.len().max(1);
        let mut guard = None;
        for i in 0..n {
            if let Some(Ok(g)) = slots.get((start + i) % n).map(Mutex::try_lock) {
                guard = Some(g);
                break;
            }
        }
        let mut guard = match guard {
            Some(g) => g,
            None => match slots.get(start % n) {
                Some(m) => lock(m),
                None => return Err("empty session pool".into()),
            },
        };
        run(&mut guard, input, state)
    }
}

/// One session on one thread, without thread-pool spinning (it burns CPU on a small box).
fn build_session(env: &Environment, model_path: &Path) -> Result<Session, String> {
    let e = |e: ort::Error<ort::session::builder::SessionBuilder>| e.to_string();
    Session::builder(env)
        .map_err(|e| e.to_string())?
        .with_intra_threads(1)
        .map_err(e)?
        .with_inter_threads(1)
        .map_err(e)?
        .with_parallel_execution(false)
        .map_err(e)?
        .with_intra_op_spinning(false)
        .map_err(e)?
        .with_inter_op_spinning(false)
        .map_err(e)?
        // Optimisation level: ORT's default (all). rc.15's `Level3` maps to a value
        // that ONNX Runtime 1.22 rejects ("graph_optimization_level is not valid").
        .commit_from_file(model_path)
        .map_err(|e| e.to_string())
}

/// Checks that the model has Silero's named inputs and outputs.
fn check_signature(session: &Session) -> Result<(), String> {
    let inputs: Vec<&str> = session.inputs().iter().map(|o| o.name()).collect();
    let outputs: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
    for name in INPUT_NAMES {
        if !inputs.contains(&name) {
            return Err(format!(
                "not a Silero VAD v6 model: no input `{name}` (inputs: {inputs:?})"
            ));
        }
    }
    for name in OUTPUT_NAMES {
        if !outputs.contains(&name) {
            return Err(format!(
                "not a Silero VAD v6 model: no output `{name}` (outputs: {outputs:?})"
            ));
        }
    }
    Ok(())
}

/// Runs the model once, binding inputs by name.
fn run(
    slot: &mut Slot,
    input: &[f32; INPUT_LEN],
    state: &mut [f32; STATE_LEN],
) -> Result<f32, String> {
    let sr = [i64::from(SAMPLE_RATE)];
    let input_t =
        TensorRef::from_array_view(([1usize, INPUT_LEN], &input[..])).map_err(|e| e.to_string())?;
    let state_t =
        TensorRef::from_array_view(([2usize, 1, 128], &state[..])).map_err(|e| e.to_string())?;
    let sr_t = TensorRef::from_array_view(((), &sr[..])).map_err(|e| e.to_string())?;
    let outputs = slot
        .session
        .run(ort::inputs!["input" => input_t, "state" => state_t, "sr" => sr_t])
        .map_err(|e| e.to_string())?;
    let probability = outputs
        .get("output")
        .ok_or("no `output`")?
        .try_extract_tensor::<f32>()
        .map_err(|e| e.to_string())?
        .1
        .first()
        .copied()
        .ok_or("empty `output`")?;
    let (_, next) = outputs
        .get("stateN")
        .ok_or("no `stateN`")?
        .try_extract_tensor::<f32>()
        .map_err(|e| e.to_string())?;
    if next.len() != STATE_LEN {
        return Err(format!(
            "`stateN` has {} values, expected {STATE_LEN}",
            next.len()
        ));
    }
    state.copy_from_slice(next);
    Ok(probability)
}

/// A window scored ahead of time by the batcher, waiting for the detector to reach it.
struct Ready {
    /// The detector's window count (since creation, resets included) it is valid at.
    seq: u64,
    window: [i16; WINDOW],
    probability: f32,
    state: [f32; STATE_LEN],
}

/// Everything a detector carries between windows (shared with its [`SileroPrefetch`]).
struct Core {
    frames: Reframer<WINDOW>,
    input: [f32; INPUT_LEN],
    state: [f32; STATE_LEN],
    last: f32,
    errors: u64,
    /// Bumped at every window and every reset: a scored window is used only at its position.
    seq: u64,
    ready: VecDeque<Ready>,
    batched: u64,
    windows: u64,
}

impl Core {
    fn new() -> Self {
        Self {
            frames: Reframer::new(),
            input: [0.0; INPUT_LEN],
            state: [0.0; STATE_LEN],
            last: 0.0,
            errors: 0,
            seq: 0,
            ready: VecDeque::new(),
            batched: 0,
            windows: 0,
        }
    }
}

/// input = [previous context (32) | window (256) scaled to [-1, 1]]
fn shift_in(input: &mut [f32; INPUT_LEN], window: &[i16; WINDOW]) {
    input.copy_within(WINDOW.., 0);
    if let Some(dst) = input.get_mut(CONTEXT..) {
        for (d, &s) in dst.iter_mut().zip(window.iter()) {
            *d = f32::from(s) / 32_768.0;
        }
    }
}

fn lock_core(core: &Mutex<Core>) -> MutexGuard<'_, Core> {
    core.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Per-call Silero detector: recurrent state, context and window buffer; the model is shared.
pub struct SileroVad {
    model: SileroModel,
    core: Arc<Mutex<Core>>,
}

impl fmt::Debug for SileroVad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let core = lock_core(&self.core);
        f.debug_struct("SileroVad")
            .field("last", &core.last)
            .field("errors", &core.errors)
            .field("batched", &core.batched)
            .finish()
    }
}

impl SileroVad {
    /// A detector for one call, sharing `model`'s sessions.
    #[must_use]
    pub fn new(model: SileroModel) -> Self {
        Self {
            model,
            core: Arc::new(Mutex::new(Core::new())),
        }
    }

    /// A detector plus the handle a driver uses to have its windows scored by the process-wide
    /// batcher (see [`SileroPrefetch`]). Starts the batcher on first use.
    ///
    /// # Errors
    /// [`VadError::Model`] when the batcher's session cannot be created (the detector still
    /// works without it: use [`SileroVad::new`]).
    pub fn with_prefetch(model: SileroModel) -> Result<(Self, SileroPrefetch), VadError> {
        let batcher = model.batcher()?;
        let vad = Self::new(model);
        let prefetch = SileroPrefetch {
            core: Arc::clone(&vad.core),
            batcher,
        };
        Ok((vad, prefetch))
    }

    /// Inference failures so far (each leaves the previous probability in place).
    #[must_use]
    pub fn errors(&self) -> u64 {
        lock_core(&self.core).errors
    }

    /// Windows whose score came from the batcher (the others ran the model here).
    #[must_use]
    pub fn batched(&self) -> u64 {
        lock_core(&self.core).batched
    }
}

impl Vad for SileroVad {
    fn process(&mut self, frame: &[i16]) -> f32 {
        let model = &self.model;
        let mut guard = lock_core(&self.core);
        let Core {
            frames,
            input,
            state,
            last,
            errors,
            seq,
            ready,
            batched,
            windows,
        } = &mut *guard;
        frames.push(frame, |window| {
            shift_in(input, window);
            *windows += 1;
            let at = *seq;
            *seq += 1;
            if let Some(r) = ready.pop_front() {
                if r.seq == at && r.window == *window {
                    *last = r.probability;
                    *state = r.state;
                    *batched += 1;
                    return;
                }
                ready.clear();
            }
            match model.infer(input, state) {
                Ok(p) => *last = p,
                Err(message) => {
                    if *errors == 0 {
                        tracing::warn!(%message, "silero vad inference failed; keeping the last probability");
                    }
                    *errors += 1;
                }
            }
        });
        *last
    }

    fn reset(&mut self) {
        let mut core = lock_core(&self.core);
        core.frames.reset();
        core.input = [0.0; INPUT_LEN];
        core.state = [0.0; STATE_LEN];
        core.last = 0.0;
        core.seq += 1;
        core.ready.clear();
    }

    fn name(&self) -> &'static str {
        super::NAME
    }
}

/// The driver's side of a batched [`SileroVad`]: scores, on the process-wide batcher, the
/// windows that the next samples will complete, so that the detector finds them ready.
///
/// Call [`SileroPrefetch::prefetch`] with exactly the samples about to be given to the
/// detector (through the pipeline), then give them. Anything else is safe but slow: a
/// prediction that does not match is dropped and the detector runs the model itself.
pub struct SileroPrefetch {
    core: Arc<Mutex<Core>>,
    batcher: Batcher,
}

impl fmt::Debug for SileroPrefetch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SileroPrefetch").finish_non_exhaustive()
    }
}

impl SileroPrefetch {
    /// Windows the detector has scored so far, and how many of them came from the batcher.
    #[must_use]
    pub fn windows(&self) -> (u64, u64) {
        let core = lock_core(&self.core);
        (core.windows, core.batched)
    }

    /// Scores the windows that `samples` (the detector's next input) complete; resolves when
    /// they are ready (a few ms: the batcher collects windows from every call). Does nothing
    /// while earlier scored windows are still unused.
    pub async fn prefetch(&self, samples: &[i16]) {
        let (mut frames, mut input, mut state, mut seq) = {
            let core = lock_core(&self.core);
            if !core.ready.is_empty() {
                return;
            }
            (core.frames.clone(), core.input, core.state, core.seq)
        };
        let mut windows: Vec<[i16; WINDOW]> = Vec::new();
        frames.push(samples, |w| windows.push(*w));
        for window in windows {
            shift_in(&mut input, &window);
            match self.batcher.submit(&input, &state).await {
                Ok((probability, next)) => {
                    lock_core(&self.core).ready.push_back(Ready {
                        seq,
                        window,
                        probability,
                        state: next,
                    });
                    state = next;
                    seq += 1;
                }
                Err(message) => {
                    tracing::debug!(%message, "silero batch failed; the detector will run the model");
                    return;
                }
            }
        }
    }
}
