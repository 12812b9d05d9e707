//! Cross-stream batching of Silero windows: process-wide threads (one per core, at most 4)
//! score the windows of every call in batched inferences, because ONNX Runtime's fixed cost per run (≈70 µs) dwarfs the
//! model's own cost per window (≈35 µs) at batch 1.
//!
//! The driver (not the sans-IO pipeline) uses it: before handing a media payload to the
//! pipeline it asks the call's [`SileroPrefetch`] to score the windows that payload completes
//! (an `await` on the batcher), and the call's [`super::SileroVad`] then takes those results
//! instead of running the model itself. Results are keyed by the window's position since the
//! last reset and its samples, so a prediction that does not match what the pipeline actually
//! feeds (a reset, a gap filled with silence, a partial frame) is dropped and the detector runs
//! the model synchronously: the probabilities are those of the unbatched path either way.
//!
//! The batcher waits at most [`MAX_WAIT`] after the first queued window (or until
//! [`MAX_BATCH`] are queued) before it runs, so a decision arrives a few ms later, in order.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use ort::session::Session;
use ort::value::TensorRef;

use super::backend::{INPUT_LEN, STATE_LEN};
use crate::SAMPLE_RATE;

/// Longest wait for more windows after the first one is queued.
pub const MAX_WAIT: Duration = Duration::from_millis(3);
/// How often a collecting batcher looks for more windows.
const POLL: Duration = Duration::from_micros(500);
/// Most windows in one inference.
pub const MAX_BATCH: usize = 64;

/// One window's result: speech probability and the next recurrent state.
pub(crate) type Scored = Result<(f32, [f32; STATE_LEN]), String>;

/// A window to score, with where to send the result.
struct Job {
    input: [f32; INPUT_LEN],
    state: [f32; STATE_LEN],
    reply: Reply,
}

#[derive(Default)]
struct Slot {
    result: Option<Scored>,
    waker: Option<Waker>,
}

fn lock(m: &Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The sending half of a one-shot result; dropping it unfilled reports an error.
struct Reply(Option<Arc<Mutex<Slot>>>);

impl Reply {
    fn send(mut self, result: Scored) {
        if let Some(slot) = self.0.take() {
            let waker = {
                let mut s = lock(&slot);
                s.result = Some(result);
                s.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if self.0.is_some() {
            Reply(self.0.take()).send(Err("the silero batcher stopped".into()));
        }
    }
}

/// The receiving half: a future resolving to the window's result.
pub(crate) struct Ticket(Arc<Mutex<Slot>>);

impl Future for Ticket {
    type Output = Scored;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Scored> {
        let mut s = lock(&self.0);
        match s.result.take() {
            Some(r) => Poll::Ready(r),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Handle to the batching thread (cheap to clone; the thread stops when every handle is gone).
#[derive(Clone)]
pub(crate) struct Batcher {
    jobs: Sender<Job>,
}

impl Batcher {
    /// Starts one thread per session; they take turns collecting a batch from one queue, so
    /// one collects while the others run.
    pub(crate) fn start(sessions: Vec<Session>) -> Result<Self, String> {
        let (jobs, rx) = mpsc::channel();
        let rx = Arc::new(Mutex::new(rx));
        for (i, session) in sessions.into_iter().enumerate() {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("silero-batch-{i}"))
                .spawn(move || serve(session, &rx))
                .map_err(|e| e.to_string())?;
        }
        Ok(Self { jobs })
    }

    /// Queues one window; the ticket resolves when its batch has run.
    pub(crate) fn submit(&self, input: &[f32; INPUT_LEN], state: &[f32; STATE_LEN]) -> Ticket {
        let slot = Arc::new(Mutex::new(Slot::default()));
        let job = Job {
            input: *input,
            state: *state,
            reply: Reply(Some(Arc::clone(&slot))),
        };
        // A send error drops the job, whose reply then reports the error.
        let _ = self.jobs.send(job);
        Ticket(slot)
    }
}

/// Waits for the first window, then gathers more for up to [`MAX_WAIT`] (polling every
/// [`POLL`], not waking at each arrival) or until [`MAX_BATCH`] are there.
fn collect(rx: &Mutex<Receiver<Job>>, batch: &mut Vec<Job>) -> bool {
    let rx = rx.lock().unwrap_or_else(PoisonError::into_inner);
    let Ok(first) = rx.recv() else {
        return false;
    };
    batch.push(first);
    let deadline = Instant::now() + MAX_WAIT;
    loop {
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return true,
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if batch.len() >= MAX_BATCH || left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(POLL));
    }
}

/// A batcher thread: collect, run, reply, until every sender is gone.
fn serve(mut session: Session, rx: &Mutex<Receiver<Job>>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut inputs: Vec<f32> = Vec::with_capacity(MAX_BATCH * INPUT_LEN);
    let mut states: Vec<f32> = Vec::with_capacity(MAX_BATCH * STATE_LEN);
    while collect(rx, &mut batch) {
        match run_batch(&mut session, &batch, &mut inputs, &mut states) {
            Ok(()) => {
                let n = batch.len();
                for (i, job) in batch.drain(..).enumerate() {
                    let p = states.get(n * STATE_LEN + i).copied().unwrap_or(0.0);
                    let mut next = [0f32; STATE_LEN];
                    let half = STATE_LEN / 2;
                    for layer in 0..2 {
                        let from = layer * n * half + i * half;
                        if let (Some(dst), Some(src)) = (
                            next.get_mut(layer * half..(layer + 1) * half),
                            states.get(from..from + half),
                        ) {
                            dst.copy_from_slice(src);
                        }
                    }
                    job.reply.send(Ok((p, next)));
                }
            }
            Err(message) => {
                for job in batch.drain(..) {
                    job.reply.send(Err(message.clone()));
                }
            }
        }
    }
}

/// Runs one batched inference. On success `states` holds the stacked next states
/// ([2, n, 128]) followed by the n probabilities.
fn run_batch(
    session: &mut Session,
    batch: &[Job],
    inputs: &mut Vec<f32>,
    states: &mut Vec<f32>,
) -> Result<(), String> {
    let n = batch.len();
    let half = STATE_LEN / 2;
    inputs.clear();
    states.clear();
    for job in batch {
        inputs.extend_from_slice(&job.input);
    }
    for layer in 0..2 {
        for job in batch {
            states.extend_from_slice(
                job.state
                    .get(layer * half..(layer + 1) * half)
                    .unwrap_or(&[]),
            );
        }
    }
    let sr = [i64::from(SAMPLE_RATE)];
    let input_t =
        TensorRef::from_array_view(([n, INPUT_LEN], &inputs[..])).map_err(|e| e.to_string())?;
    let state_t =
        TensorRef::from_array_view(([2usize, n, half], &states[..])).map_err(|e| e.to_string())?;
    let sr_t = TensorRef::from_array_view(((), &sr[..])).map_err(|e| e.to_string())?;
    let outputs = session
        .run(ort::inputs!["input" => input_t, "state" => state_t, "sr" => sr_t])
        .map_err(|e| e.to_string())?;
    let (_, probs) = outputs
        .get("output")
        .ok_or("no `output`")?
        .try_extract_tensor::<f32>()
        .map_err(|e| e.to_string())?;
    let (_, next) = outputs
        .get("stateN")
        .ok_or("no `stateN`")?
        .try_extract_tensor::<f32>()
        .map_err(|e| e.to_string())?;
    if probs.len() != n || next.len() != n * STATE_LEN {
        return Err(format!(
            "batch of {n}: `output` has {} values and `stateN` {}, expected {n} and {}",
            probs.len(),
            next.len(),
            n * STATE_LEN
        ));
    }
    states.clear();
    states.extend_from_slice(next);
    states.extend_from_slice(probs);
    Ok(())
}
