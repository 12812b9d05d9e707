//! What a group-committing writer receives: one write and the channel to acknowledge it on.
//! Shared by the SQLite writer thread and the PostgreSQL writer task.

use tokio::sync::oneshot;

use crate::StoreError;
use crate::records::{CallRecord, StepRecord, TurnRecord};

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
    /// One webhook's start, steps and end, in one write (one acknowledgement).
    Turn(TurnRecord),
}

/// A write and the caller waiting for it to be committed.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) op: WriteOp,
    pub(crate) ack: oneshot::Sender<Result<(), StoreError>>,
}

/// Checks the writer queue settings shared by every backend (`records.queue`,
/// `records.max_batch`); `default_max_batch` is quoted in the hint.
pub(crate) fn check_queue(
    queue: usize,
    max_batch: usize,
    default_max_batch: usize,
) -> Result<(), StoreError> {
    if !(1..=1_000_000).contains(&queue) {
        return Err(StoreError::config(
            "records.queue",
            format!("is {queue}"),
            "use 1..=1000000 (default 8192)",
        ));
    }
    if !(1..=100_000).contains(&max_batch) {
        return Err(StoreError::config(
            "records.max_batch",
            format!("is {max_batch}"),
            format!("use 1..=100000 (default {default_max_batch})"),
        ));
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::check_queue;
    use crate::records::postgres::PostgresConfig;
    use crate::records::sqlite::SqliteConfig;

    #[test]
    fn queue_settings_are_checked_for_every_backend() {
        assert!(check_queue(8192, 1024, 1024).is_ok());
        let err = check_queue(0, 1024, 1024).unwrap_err().to_string();
        assert!(err.contains("records.queue"), "{err}");
        let err = check_queue(8192, 0, 512).unwrap_err().to_string();
        assert!(
            err.contains("records.max_batch") && err.contains("512"),
            "{err}"
        );

        let mut sqlite = SqliteConfig::new("/tmp/x.db");
        sqlite.max_batch = 200_000;
        assert!(sqlite.validate().is_err());
        let mut pg = PostgresConfig::new("postgres://postgres@127.0.0.1/test");
        pg.queue = 0;
        assert!(pg.validate().is_err());
    }
}
