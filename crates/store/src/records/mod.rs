//! Durable call records: what happened on every call, for `hotline calls` and `hotline report`.
//!
//! # Model
//! - One [`CallRecord`] per call, written by [`RecordStore::call_started`] and completed by
//!   [`RecordStore::call_ended`] (outcome, end time, and `last_node`: the node of the call's
//!   highest-`seq` step written by then, [`kind::TRANSCRIBED`] steps aside; a backend that
//!   commits writes in batches may count the steps of its whole batch).
//! - [`StepRecord`]s, each identified by `(call_sid, seq)`. `seq` is assigned by the server,
//!   unique and increasing within a call; steps are always returned in `seq` order, whatever
//!   order they were written in.
//!
//! # Durability and idempotency
//! Every write method returns only once the write is **committed**: the server may then tell
//! Twilio what it implies. Writes are idempotent so a retried webhook can replay them: a step
//! whose `(call_sid, seq)` exists already is ignored (first write wins), as is a second
//! `call_started` for the same call SID. `call_ended` overwrites the outcome (a late status
//! callback wins); a [`CallEnd`] with `only_if_open` only ends a call still open.
//!
//! # Schema (`migrations/<dialect>/NNNN_*.sql`; SQLite at version 3, PostgreSQL at 2)
//! SQLite (0002 re-keys the steps by a small integer call id, handed out in arrival order; 0003
//! appends the step rows in commit order, with a unique index for each call's steps):
//! ```text
//! schema_version(version PK, applied_at_ms)
//! calls(id INTEGER PK, call_sid UNIQUE, flow_id, flow_version, from_number, to_number,
//!       started_at_ms, ended_at_ms NULL, outcome NULL, last_node NULL)
//!       index (flow_id, flow_version, started_at_ms), (started_at_ms)
//!       -- a row with started_at_ms NULL is a stub: steps arrived before call_started;
//!       -- queries skip it, call_started fills it in
//! steps(id INTEGER PK, call_id → calls.id, seq, at_ms, node, kind, route NULL, speech NULL,
//!       confidence NULL, digits NULL, detail NULL)
//!       unique index (call_id, seq)
//! ```
//! PostgreSQL keeps version 1's shape (`calls(call_sid PK, …)`, `steps(call_sid, seq, …)`);
//! 0002 gives `call_sid` the `"C"` collation (bytewise index comparisons).
//!
//! Times are milliseconds since the Unix epoch, supplied by the caller (the store never reads a
//! clock for record data).

pub mod postgres;
pub mod sqlite;

mod funnel;
mod model;
mod writer;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use funnel::{Funnel, NodeFunnel, OutcomeCount, RouteCount};
pub(crate) use funnel::{FunnelRows, assemble_funnel};
pub use model::{
    CallEnd, CallFilter, CallRecord, OUTCOME_CALLER_HANGUP, OUTCOME_LOST, StepRecord, TurnRecord,
    kind,
};

use crate::StoreError;

/// Durable storage of call records. Object safe: servers hold an `Arc<dyn RecordStore>`.
#[async_trait]
pub trait RecordStore: Send + Sync {
    /// Records a new call (idempotent on `call_sid`; `ended_at_ms`, `outcome` and `last_node`
    /// of the argument are ignored). Returns once committed.
    async fn call_started(&self, call: CallRecord) -> Result<(), StoreError>;

    /// Appends one step (idempotent on `(call_sid, seq)`). Returns once committed.
    async fn append(&self, step: StepRecord) -> Result<(), StoreError> {
        self.append_all(vec![step]).await
    }

    /// Appends several steps atomically (all or none), e.g. everything one webhook produced;
    /// one commit, one acknowledgement. Returns once committed.
    async fn append_all(&self, steps: Vec<StepRecord>) -> Result<(), StoreError>;

    /// Records the end of a call: outcome (e.g. `completed`, [`OUTCOME_CALLER_HANGUP`]), end
    /// time, and `last_node` from its latest step. [`StoreError::UnknownCall`] if the call was
    /// never started. Returns once committed.
    async fn call_ended(
        &self,
        call_sid: &str,
        outcome: &str,
        ended_at_ms: i64,
    ) -> Result<(), StoreError>;

    /// Writes everything one webhook produced — the call's start, its steps, its end, each
    /// optional — with the semantics of calling [`RecordStore::call_started`],
    /// [`RecordStore::append_all`] and [`RecordStore::call_ended`] in that order (idempotent
    /// likewise; [`StoreError::UnknownCall`] if the end names a call never started, the start
    /// and steps being written all the same). Returns once committed.
    ///
    /// The default makes those calls one after the other (up to three commits); the SQLite and
    /// PostgreSQL stores override it with **one** queued write and one commit, so a webhook
    /// waits for one group commit instead of up to three.
    async fn record_turn(&self, turn: TurnRecord) -> Result<(), StoreError> {
        if let Some(call) = turn.started {
            self.call_started(call).await?;
        }
        if !turn.steps.is_empty() {
            self.append_all(turn.steps).await?;
        }
        if let Some(end) = turn.ended {
            self.call_ended(&end.call_sid, &end.outcome, end.ended_at_ms)
                .await?;
        }
        Ok(())
    }

    /// Calls matching `filter`, newest first. For calls still in progress `last_node` is the
    /// node of their latest step so far.
    async fn list_calls(&self, filter: &CallFilter) -> Result<Vec<CallRecord>, StoreError>;

    /// One call and all its steps in `seq` order, or `None`.
    async fn get_call(
        &self,
        call_sid: &str,
    ) -> Result<Option<(CallRecord, Vec<StepRecord>)>, StoreError>;

    /// Where callers of `flow_id` went (all versions if `flow_version` is `None`), counting the
    /// calls started at or after `since_ms` (ms since the Unix epoch) when it is given.
    async fn funnel(
        &self,
        flow_id: &str,
        flow_version: Option<&str>,
        since_ms: Option<i64>,
    ) -> Result<Funnel, StoreError>;

    /// Deletes, with all their steps, the calls started before `started_before_ms` (oldest
    /// first, at most `max_calls` of them) in one transaction, and gives how many it deleted:
    /// fewer than `max_calls` once none is left. For a retention period ([`purge_before`] repeats
    /// it in short transactions, so that the webhooks' writes are never held up long).
    ///
    /// Calls started less than [`MIN_RETENTION_MS`] ago may still be in progress (Twilio ends
    /// every call within a day), so a cutoff later than that is refused with
    /// [`StoreError::Config`] and nothing is deleted.
    async fn purge(&self, started_before_ms: i64, max_calls: u32) -> Result<u64, StoreError>;
}

/// The start time before which a purge deletes calls, to keep `age` of them: now minus `age`,
/// in milliseconds since the Unix epoch.
pub fn purge_cutoff(age: std::time::Duration) -> i64 {
    now_ms().saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX))
}

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The shortest retention a purge accepts: one day, in milliseconds.
pub const MIN_RETENTION_MS: i64 = 24 * 3600 * 1000;

/// Calls per purge transaction for a retention purge (`hotline serve --retention`, `hotline
/// purge`): about a thousand step rows, a few milliseconds of the records' writer.
pub const PURGE_CHUNK: u32 = 100;

/// The shortest pause [`purge_before`] takes between two chunks of a retention purge.
pub const PURGE_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// Refuses a purge cutoff that calls in progress could be older than ([`RecordStore::purge`]).
pub(crate) fn check_purge_cutoff(started_before_ms: i64, now_ms: i64) -> Result<(), StoreError> {
    if started_before_ms > now_ms.saturating_sub(MIN_RETENTION_MS) {
        return Err(StoreError::config(
            "purge cutoff",
            format!(
                "is {} s before now",
                now_ms.saturating_sub(started_before_ms) / 1000
            ),
            "keep records at least a day (calls in progress may be that old)",
        ));
    }
    Ok(())
}

/// Deletes every call started before `started_before_ms` from `store`, `chunk` calls per
/// transaction, and gives how many it deleted. Paced so as to leave the records' writer to the
/// webhooks: after each chunk it waits three times as long as the chunk took, and at least
/// `pause` (a backlog of old calls takes the writer a quarter of the time at most).
pub async fn purge_before(
    store: &dyn RecordStore,
    started_before_ms: i64,
    chunk: u32,
    pause: std::time::Duration,
) -> Result<u64, StoreError> {
    let chunk = chunk.max(1);
    let mut total = 0;
    loop {
        let begun = std::time::Instant::now();
        let n = store.purge(started_before_ms, chunk).await?;
        total += n;
        if n < u64::from(chunk) {
            return Ok(total);
        }
        tokio::time::sleep(pause.max(begun.elapsed() * 3)).await;
    }
}

/// Which record store to use; `type` tags the backend.
///
/// ```
/// # use hotline_store::RecordStoreConfig;
/// let c: RecordStoreConfig = serde_json::from_str(
///     r#"{"type":"postgres","url":"postgres://postgres@127.0.0.1:5432/test","pool_size":4}"#,
/// ).unwrap();
/// c.validate().unwrap();
/// let c: RecordStoreConfig =
///     serde_json::from_str(r#"{"type":"sqlite","path":"calls.db","synchronous":"normal"}"#).unwrap();
/// c.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum RecordStoreConfig {
    /// Embedded SQLite file (the default).
    Sqlite(sqlite::SqliteConfig),
    /// A PostgreSQL server, for larger deployments.
    Postgres(postgres::PostgresConfig),
}

impl RecordStoreConfig {
    /// Checks the values without any IO.
    pub fn validate(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(c) => c.validate(),
            Self::Postgres(c) => c.validate(),
        }
    }

    /// Validates, opens or connects, migrates the schema and starts the writer. Fails with a
    /// message naming the file or server and the remedy when it cannot.
    pub async fn build(&self) -> Result<Arc<dyn RecordStore>, StoreError> {
        self.validate()?;
        Ok(match self {
            Self::Sqlite(c) => Arc::new(c.build().await?),
            Self::Postgres(c) => Arc::new(c.build().await?),
        })
    }
}

/// The embedded migrations of one SQL dialect: `(version, sql)` in order.
pub(crate) type Migrations = &'static [(i64, &'static str)];

/// The highest schema version a backend's migrations reach: what this build writes, and the
/// newest database it accepts.
pub(crate) fn latest_version(migrations: Migrations) -> i64 {
    migrations.last().map_or(0, |(version, _)| *version)
}
