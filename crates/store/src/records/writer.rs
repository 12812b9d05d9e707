//! What a group-committing writer receives: one write and the channel to acknowledge it on.
//! Shared by the SQLite writer thread and the PostgreSQL writer task.

use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::oneshot;

use crate::StoreError;
use crate::records::{CallEnd, CallRecord, StepRecord, TurnRecord};

/// One write, as queued for the writer.
#[derive(Debug)]
pub(crate) enum WriteOp {
    Started(CallRecord),
    Steps(Vec<StepRecord>),
    Ended(CallEnd),
    /// One webhook's start, steps and end, in one write (one acknowledgement).
    Turn(TurnRecord),
    /// A chunk of a retention purge ([`crate::RecordStore::purge`]), serialized with the
    /// webhooks' writes: no second writer for them to wait on.
    Purge(Purge),
}

/// The calls to delete, at most `max_calls` of those started before `started_before_ms`, and
/// where the writer puts how many it deleted before acknowledging.
#[derive(Debug)]
pub(crate) struct Purge {
    pub(crate) started_before_ms: i64,
    pub(crate) max_calls: i64,
    pub(crate) deleted: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// [`crate::RecordStore::purge`] through a writer's queue: the cutoff checked, one purge chunk
/// queued and committed, the number of calls it deleted.
pub(crate) async fn purge(
    queue: &tokio::sync::mpsc::Sender<Job>,
    backend: &'static str,
    started_before_ms: i64,
    max_calls: u32,
) -> Result<u64, StoreError> {
    crate::records::check_purge_cutoff(started_before_ms, crate::records::now_ms())?;
    let deleted = std::sync::Arc::default();
    let op = WriteOp::Purge(Purge {
        started_before_ms,
        max_calls: i64::from(max_calls),
        deleted: std::sync::Arc::clone(&deleted),
    });
    submit(queue, backend, op).await?;
    Ok(deleted.load(std::sync::atomic::Ordering::Relaxed))
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
///
/// The queue almost always has room: the job goes in with `try_send`, and the future waits on
/// the acknowledgement only. Waiting for room (`send`) is boxed, so that its state (the job and
/// the semaphore's waiter) does not make every webhook's future larger, to be copied into its
/// box for each request (BENCHMARKS.md, stop 21).
pub(crate) async fn submit(
    queue: &tokio::sync::mpsc::Sender<Job>,
    backend: &'static str,
    op: WriteOp,
) -> Result<(), StoreError> {
    let (ack, done) = oneshot::channel();
    match queue.try_send(Job { op, ack }) {
        Ok(()) => {}
        Err(TrySendError::Full(job)) => Box::pin(queue.send(job))
            .await
            .map_err(|_| StoreError::Closed(backend))?,
        Err(TrySendError::Closed(_)) => return Err(StoreError::Closed(backend)),
    }
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
    use super::{CallEnd, Job, WriteOp, check_queue, submit};
    use crate::StoreError;
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

    fn ended(sid: &str) -> WriteOp {
        WriteOp::Ended(CallEnd::new(sid, "completed", 1))
    }

    fn sid(job: &Job) -> &str {
        match &job.op {
            WriteOp::Ended(end) => &end.call_sid,
            other => panic!("unexpected write {other:?}"),
        }
    }

    /// A full queue: `submit` waits for room, then for its own acknowledgement.
    #[tokio::test]
    async fn submit_waits_for_room_when_the_queue_is_full() {
        let (queue, mut jobs) = tokio::sync::mpsc::channel(1);
        let (ack, _first_done) = tokio::sync::oneshot::channel();
        queue
            .try_send(Job {
                op: ended("CA1"),
                ack,
            })
            .expect("room for one job");
        let waiting = tokio::spawn({
            let queue = queue.clone();
            async move { submit(&queue, "test", ended("CA2")).await }
        });
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!waiting.is_finished(), "answered with the queue full");
        let job = jobs.recv().await.expect("the job that filled the queue");
        assert_eq!(sid(&job), "CA1");
        let job = jobs
            .recv()
            .await
            .expect("the waiting job, queued once there was room");
        assert_eq!(sid(&job), "CA2");
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(
            !waiting.is_finished(),
            "answered before its acknowledgement"
        );
        job.ack
            .send(Err(StoreError::UnknownCall("CA2".to_owned())))
            .expect("the submit waits");
        let err = waiting.await.expect("joins").expect_err("its own result");
        assert!(matches!(err, StoreError::UnknownCall(s) if s == "CA2"));
    }

    /// A writer gone, before or after taking the job: `Closed`, never a hang.
    #[tokio::test]
    async fn submit_reports_a_closed_writer() {
        let (queue, jobs) = tokio::sync::mpsc::channel::<Job>(4);
        drop(jobs);
        let err = submit(&queue, "test", ended("CA1"))
            .await
            .expect_err("closed");
        assert!(matches!(err, StoreError::Closed("test")), "{err}");

        let (queue, mut jobs) = tokio::sync::mpsc::channel::<Job>(4);
        let waiting = tokio::spawn(async move { submit(&queue, "test", ended("CA1")).await });
        let job = jobs.recv().await.expect("the job");
        drop(job);
        let err = waiting.await.expect("joins").expect_err("dropped ack");
        assert!(matches!(err, StoreError::Closed("test")), "{err}");
    }
}
