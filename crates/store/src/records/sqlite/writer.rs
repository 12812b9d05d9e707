//! The SQLite writer thread: drains the queue, writes each batch in one transaction, commits,
//! acknowledges; plus the checkpointer thread that keeps WAL checkpoints off that path.
//!
//! What makes a batch cheap (schema versions 2 and 3, `migrations/sqlite/`):
//! - a commit dirties, and writes to the WAL, as few pages as it can. Step rows are appended at
//!   the end of `steps` (an integer primary key in commit order), whatever the number of calls
//!   in progress; their unique `(call_id, seq)` index entries are small, and `call_id` is the
//!   call's small integer rowid, handed out in arrival order, so the calls in progress share
//!   the last few pages of that index. The writer caches SID → id (bounded; cleared whenever a
//!   transaction rolls back, since it may then hold ids that were never committed).
//! - the step rows of a batch go in as multi-row `INSERT … VALUES (…),(…)` in chunks of
//!   [`CHUNKS`] rows (each chunk size one cached prepared statement), not one statement per row;
//!   the calls the batch ends are ended after all its steps are in, so that an ending call does
//!   not cut the batch's steps into smaller statements.
//! - no statement needs a temporary table: an `INSERT … RETURNING` would open (and close) an
//!   ephemeral b-tree for every new call.
//!
//! This module must not decide durability: that is the connection's `synchronous` pragma, set
//! once when the store opens.

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::mpsc;

use crate::StoreError;
use crate::records::writer::{Job, WriteOp, fail_all};
use crate::records::{CallEnd, CallRecord, StepRecord};

use super::backend::BACKEND;

/// Call ids by call SID, with a fast seeded hasher.
type CallIds = HashMap<String, i64, foldhash::fast::RandomState>;

/// Rows per multi-row `INSERT` statement, largest first; a batch is cut greedily into these.
/// 64 rows × 10 columns = 640 variables, far below SQLite's limit (32766).
const CHUNKS: [usize; 7] = [64, 32, 16, 8, 4, 2, 1];

/// Columns bound per step row.
const STEP_COLUMNS: usize = 10;

/// Most SID → call id entries the writer remembers; beyond it the cache starts over (a miss
/// costs one indexed lookup).
const MAX_CACHED_IDS: usize = 65_536;

/// How often the checkpointer copies the WAL back into the database file.
pub(super) const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(250);

/// WAL pages after which the writer checkpoints by itself at commit (SQLite's
/// `wal_autocheckpoint`): a backstop, should the checkpointer fall behind, that bounds the WAL.
pub(super) const WAL_BACKSTOP_PAGES: u32 = 16_384;

/// The multi-row insert of `n` steps, for each size in [`CHUNKS`].
///
/// `OR IGNORE` rather than `ON CONFLICT DO NOTHING`: the same first-write-wins on `(call_id,
/// seq)`, but a statement that can never abort needs no statement journal, which SQLite would
/// otherwise write for every multi-row insert (≈ 6% of the writer's instructions). The only other
/// constraints, `NOT NULL`, cannot fail: those columns are bound from non-optional fields.
static INSERT_STEPS: LazyLock<Vec<(usize, String)>> = LazyLock::new(|| {
    CHUNKS
        .iter()
        .map(|&n| {
            let row = format!("({})", ["?"; STEP_COLUMNS].join(","));
            let rows = vec![row.as_str(); n].join(",");
            (
                n,
                format!(
                    "INSERT OR IGNORE INTO steps (call_id, seq, at_ms, node, kind, route, speech, confidence, digits, detail) \
                     VALUES {rows}"
                ),
            )
        })
        .collect()
});

/// Starts a call; a call with a row already (a stub, or started before) is left to
/// [`FILL_STUB`]. `OR IGNORE`, as for the steps: no statement journal.
const START_CALL: &str = "INSERT OR IGNORE INTO calls (call_sid, flow_id, flow_version, from_number, to_number, started_at_ms) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
/// Fills in the stub left by steps appended before the call started; a call started already is
/// left alone (first write wins).
const FILL_STUB: &str = "UPDATE calls SET flow_id = ?2, flow_version = ?3, from_number = ?4, to_number = ?5, \
     started_at_ms = ?6 WHERE call_sid = ?1 AND started_at_ms IS NULL";
const CALL_ID: &str = "SELECT id FROM calls WHERE call_sid = ?1";
const STUB_CALL: &str = "INSERT INTO calls (call_sid) VALUES (?1)";
/// A purge chunk's calls: the oldest started before `?1`, at most `?2` (the same rows for
/// both statements, in one transaction).
const PURGE_STEPS: &str = "DELETE FROM steps WHERE call_id IN (SELECT id FROM calls \
     WHERE started_at_ms < ?1 ORDER BY started_at_ms, id LIMIT ?2)";
const PURGE_CALLS: &str = "DELETE FROM calls WHERE id IN (SELECT id FROM calls \
     WHERE started_at_ms < ?1 ORDER BY started_at_ms, id LIMIT ?2)";
/// Ends a call: its last node is its highest step's, a recording's transcription aside (numbered
/// past every step, it may arrive before the call ends). With `?4` (`only_if_open`), only a call
/// not ended yet.
const END_CALL: &str = "UPDATE calls SET ended_at_ms = ?2, outcome = ?3, \
     last_node = (SELECT node FROM steps WHERE call_id = calls.id AND kind <> 'transcribed' \
     ORDER BY seq DESC LIMIT 1) \
     WHERE call_sid = ?1 AND started_at_ms IS NOT NULL AND (NOT ?4 OR ended_at_ms IS NULL)";

/// The write connection and what the writer remembers between batches.
pub(super) struct Writer {
    conn: Connection,
    ids: CallIds,
}

impl Writer {
    pub(super) fn new(conn: Connection) -> Self {
        // Every chunk size plus the single-row statements stay prepared.
        conn.set_prepared_statement_cache_capacity(CHUNKS.len() + 16);
        Self {
            conn,
            ids: CallIds::default(),
        }
    }

    /// Drain, write one transaction, commit, acknowledge; until the queue closes.
    pub(super) fn run(mut self, mut jobs: mpsc::Receiver<Job>, max_batch: usize) {
        let mut batch = Vec::with_capacity(max_batch);
        while let Some(job) = jobs.blocking_recv() {
            batch.push(job);
            while batch.len() < max_batch {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            match self.write(&batch) {
                Ok(results) => {
                    for (job, result) in batch.drain(..).zip(results) {
                        let _ = job.ack.send(result);
                    }
                }
                Err(e) if batch.len() > 1 => {
                    tracing::warn!(error = %e, writes = batch.len(), "call-record batch failed; retrying its writes one by one");
                    for job in batch.drain(..) {
                        match self.write(std::slice::from_ref(&job)) {
                            Ok(mut r) => {
                                let _ = job.ack.send(r.pop().unwrap_or(Ok(())));
                            }
                            Err(e) => {
                                tracing::error!(error = %e, "call-record write failed");
                                fail_all(vec![job], BACKEND, &e.to_string());
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "call-record write failed");
                    fail_all(std::mem::take(&mut batch), BACKEND, &e.to_string());
                }
            }
        }
        tracing::debug!("call-record writer stopped");
    }

    /// Writes `jobs` in one transaction. `Err` (nothing committed) for a failure of the whole
    /// batch; per-write logical results (unknown call) in the `Ok` vector.
    fn write(&mut self, jobs: &[Job]) -> rusqlite::Result<Vec<Result<(), StoreError>>> {
        let result = write_batch(&mut self.conn, &mut self.ids, jobs);
        if result.is_err() {
            // Rolled back: ids handed out in this transaction no longer exist.
            self.ids.clear();
        }
        result
    }
}

/// `BEGIN IMMEDIATE`, `COMMIT` and `ROLLBACK` as cached prepared statements: rusqlite's
/// `Transaction` parses them again for every batch.
const BEGIN: &str = "BEGIN IMMEDIATE";
const COMMIT: &str = "COMMIT";
const ROLLBACK: &str = "ROLLBACK";

/// Writes `jobs` in one transaction: committed if every statement succeeded, rolled back
/// otherwise.
fn write_batch(
    conn: &mut Connection,
    ids: &mut CallIds,
    jobs: &[Job],
) -> rusqlite::Result<Vec<Result<(), StoreError>>> {
    conn.prepare_cached(BEGIN)?.execute([])?;
    let result = write_jobs(conn, ids, jobs)
        .and_then(|results| conn.prepare_cached(COMMIT)?.execute([]).map(|_| results));
    if result.is_err() && !conn.is_autocommit() {
        // Nothing of the batch may stay; a failed rollback leaves the connection as SQLite
        // left it (it rolls back by itself on the errors that need it).
        let _ = conn
            .prepare_cached(ROLLBACK)
            .and_then(|mut stmt| stmt.execute([]));
    }
    result
}

fn write_jobs(
    tx: &Connection,
    ids: &mut CallIds,
    jobs: &[Job],
) -> rusqlite::Result<Vec<Result<(), StoreError>>> {
    let mut results = Vec::with_capacity(jobs.len());
    let mut pending: Vec<(i64, &StepRecord)> = Vec::new();
    // Calls ended by this batch, by the index of their job's result: ended after every step of
    // the batch is in, so that the steps go in as few multi-row statements as possible and
    // `last_node` sees them all.
    let mut ends: Vec<(usize, &CallEnd)> = Vec::new();
    for job in jobs {
        let index = results.len();
        results.push(Ok(()));
        match &job.op {
            WriteOp::Started(c) => start_call(tx, ids, c)?,
            WriteOp::Steps(steps) => {
                for s in steps {
                    pending.push((call_id(tx, ids, &s.call_sid)?, s));
                }
            }
            WriteOp::Ended(end) => ends.push((index, end)),
            WriteOp::Turn(turn) => {
                if let Some(c) = &turn.started {
                    start_call(tx, ids, c)?;
                }
                for s in &turn.steps {
                    pending.push((call_id(tx, ids, &s.call_sid)?, s));
                }
                if let Some(end) = &turn.ended {
                    ends.push((index, end));
                }
            }
            WriteOp::Purge(p) => {
                // What was queued before the purge is written before it.
                insert_steps(tx, &mut pending)?;
                let range = params![p.started_before_ms, p.max_calls];
                tx.prepare_cached(PURGE_STEPS)?.execute(range)?;
                let n = tx.prepare_cached(PURGE_CALLS)?.execute(range)?;
                p.deleted.store(
                    u64::try_from(n).unwrap_or(u64::MAX),
                    std::sync::atomic::Ordering::Relaxed,
                );
                // Deleted calls' ids may be handed out again.
                ids.clear();
            }
        }
    }
    insert_steps(tx, &mut pending)?;
    for (index, end) in ends {
        if let Some(slot) = results.get_mut(index) {
            *slot = end_call(tx, end)?;
        }
    }
    Ok(results)
}

/// Ends a call; `Ok(Err(UnknownCall))` if it was never started (or, `only_if_open`, has its end).
fn end_call(tx: &Connection, end: &CallEnd) -> rusqlite::Result<Result<(), StoreError>> {
    let n = tx.prepare_cached(END_CALL)?.execute(params![
        end.call_sid,
        end.ended_at_ms,
        end.outcome,
        end.only_if_open
    ])?;
    Ok(if n == 0 {
        Err(StoreError::UnknownCall(end.call_sid.clone()))
    } else {
        Ok(())
    })
}

fn remember(ids: &mut CallIds, sid: &str, id: i64) {
    if ids.len() >= MAX_CACHED_IDS {
        ids.clear();
    }
    ids.insert(sid.to_owned(), id);
}

fn start_call(tx: &Connection, ids: &mut CallIds, c: &CallRecord) -> rusqlite::Result<()> {
    let values = params![
        c.call_sid,
        c.flow_id,
        c.flow_version,
        c.from,
        c.to,
        c.started_at_ms
    ];
    if tx.prepare_cached(START_CALL)?.execute(values)? == 1 {
        remember(ids, &c.call_sid, tx.last_insert_rowid());
    } else {
        tx.prepare_cached(FILL_STUB)?.execute(values)?;
    }
    Ok(())
}

/// The call's id: cached, looked up, or a new stub row for a call not started yet.
fn call_id(tx: &Connection, ids: &mut CallIds, sid: &str) -> rusqlite::Result<i64> {
    if let Some(&id) = ids.get(sid) {
        return Ok(id);
    }
    let found: Option<i64> = tx
        .prepare_cached(CALL_ID)?
        .query_row([sid], |r| r.get(0))
        .optional()?;
    let id = match found {
        Some(id) => id,
        None => {
            tx.prepare_cached(STUB_CALL)?.execute([sid])?;
            tx.last_insert_rowid()
        }
    };
    remember(ids, sid, id);
    Ok(id)
}

/// Inserts `pending` in multi-row statements of [`CHUNKS`] rows, then empties it.
fn insert_steps(tx: &Connection, pending: &mut Vec<(i64, &StepRecord)>) -> rusqlite::Result<()> {
    let mut rest = pending.as_slice();
    while !rest.is_empty() {
        let Some((n, sql)) = INSERT_STEPS.iter().find(|(n, _)| *n <= rest.len()) else {
            break;
        };
        let Some((chunk, tail)) = rest.split_at_checked(*n) else {
            break;
        };
        let mut stmt = tx.prepare_cached(sql)?;
        let mut i = 0;
        for (id, s) in chunk {
            stmt.raw_bind_parameter(i + 1, id)?;
            stmt.raw_bind_parameter(i + 2, s.seq)?;
            stmt.raw_bind_parameter(i + 3, s.at_ms)?;
            stmt.raw_bind_parameter(i + 4, &s.node)?;
            stmt.raw_bind_parameter(i + 5, &s.kind)?;
            stmt.raw_bind_parameter(i + 6, &s.route)?;
            stmt.raw_bind_parameter(i + 7, &s.speech)?;
            stmt.raw_bind_parameter(i + 8, s.confidence)?;
            stmt.raw_bind_parameter(i + 9, &s.digits)?;
            stmt.raw_bind_parameter(i + 10, &s.detail)?;
            i += STEP_COLUMNS;
        }
        stmt.raw_execute()?;
        rest = tail;
    }
    pending.clear();
    Ok(())
}

/// The checkpointer thread: every [`CHECKPOINT_INTERVAL`], a passive checkpoint on its own
/// connection (it never blocks the writer or readers), until `stop` is dropped.
pub(super) fn run_checkpointer(conn: Connection, stop: std_mpsc::Receiver<()>, path: &Path) {
    // Any message, or the store dropping its sender, stops the thread.
    while let Err(std_mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_INTERVAL) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, path = %path.display(), "WAL checkpoint failed; the writer will checkpoint at commit instead");
        }
    }
}
