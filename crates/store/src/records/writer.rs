//! What a group-committing writer receives: one write and the channel to acknowledge it on.
//! Shared by the SQLite writer thread and the PostgreSQL writer task.

use tokio::sync::oneshot;

use crate::StoreError;
use crate::records::{CallRecord, StepRecord};

/// One write, as queued for the writer.
#[derive(Debug)]
pub(crate) enum WriteOp {
    Started(CallRecord),
    Steps(Vec<StepRecord>),
    Ended {
        call_sid: String,
        outcome: String,
        ended_at_ms: i64,
    },
}

/// A write and the caller waiting for it to be committed.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) op: WriteOp,
    pub(crate) ack: oneshot::Sender<Result<(), StoreError>>,
}

/// Sends `op` to the writer and waits for its commit.
pub(crate) async fn submit(
    queue: &tokio::sync::mpsc::Sender<Job>,
    backend: &'static str,
    op: WriteOp,
) -> Result<(), StoreError> {
    let (ack, done) = oneshot::channel();
    queue
        .send(Job { op, ack })
        .await
        .map_err(|_| StoreError::Closed(backend))?;
    done.await.map_err(|_| StoreError::Closed(backend))?
}

/// Acknowledges every job of a failed batch with the same error.
pub(crate) fn fail_all(jobs: Vec<Job>, backend: &'static str, message: &str) {
    for job in jobs {
        let _ = job.ack.send(Err(StoreError::backend(
            backend,
            "commit",
            message.to_owned(),
        )));
    }
}
