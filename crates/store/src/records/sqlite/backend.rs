//! The SQLite [`RecordStore`]: the group-committing writer thread and the read pool.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};
use tokio::sync::mpsc;

use super::writer::{WAL_BACKSTOP_PAGES, Writer, run_checkpointer};
use super::{MIGRATIONS, SqliteConfig};
use crate::StoreError;
use crate::records::writer::{Job, WriteOp, submit};
use crate::records::{
    CallEnd, CallFilter, CallRecord, Funnel, FunnelRows, OUTCOME_CALLER_HANGUP, RecordStore,
    StepRecord, TurnRecord, assemble_funnel, latest_version,
};

pub(super) const BACKEND: &str = "sqlite";

/// Call records in one SQLite file (see the module docs).
pub struct SqliteRecordStore {
    queue: mpsc::Sender<Job>,
    readers: Arc<[Mutex<Connection>]>,
    next_reader: AtomicUsize,
    path: PathBuf,
    writer: Option<JoinHandle<()>>,
    /// Dropped with the store: stops the checkpointer thread.
    _checkpointer: std::sync::mpsc::Sender<()>,
}

impl std::fmt::Debug for SqliteRecordStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteRecordStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn open_err(path: &Path, cause: impl Into<crate::error::Cause>) -> StoreError {
    StoreError::Open {
        path: path.display().to_string(),
        cause: cause.into(),
    }
}

/// Opens the write connection, switches to WAL, migrates.
fn open_writer(config: &SqliteConfig) -> Result<Connection, StoreError> {
    let path = &config.path;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(open_err(
            path,
            format!("directory {} does not exist", dir.display()),
        ));
    }
    let conn = Connection::open(path).map_err(|e| open_err(path, e))?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| open_err(path, e))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(|e| open_err(path, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(open_err(
            path,
            format!("cannot switch to WAL mode (journal_mode is {mode})"),
        ));
    }
    conn.pragma_update(None, "synchronous", config.synchronous.pragma())
        .map_err(|e| open_err(path, e))?;
    // Checkpoints run on their own thread; the writer only checkpoints at commit as a backstop
    // when the WAL has grown past this many pages (it stays bounded either way).
    conn.pragma_update(None, "wal_autocheckpoint", WAL_BACKSTOP_PAGES)
        .map_err(|e| open_err(path, e))?;
    // 2 MiB of page cache (SQLite's default size): it holds what every commit touches (the
    // ends of the tables and indexes); the rest is a read from the OS's cache. A larger cache
    // costs more than it saves: when a b-tree page splits, SQLite renumbers pages through a
    // temporary page number past the 1 GiB lock byte, and the commit that follows then scans
    // the whole cache for pages to drop. With 32 MiB that scan took 2 % of the server's CPU at
    // 64 webhook connections (7 % before the steps were appended in commit order), and 32 MiB
    // was no faster than 2 MiB against a database of 300,000 calls (BENCHMARKS.md).
    conn.pragma_update(None, "cache_size", -2_048)
        .map_err(|e| open_err(path, e))?;
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(|e| open_err(path, e))?;
    migrate(conn, path)
}

fn migrate(mut conn: Connection, path: &Path) -> Result<Connection, StoreError> {
    // One IMMEDIATE transaction: two processes starting together migrate once.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| open_err(path, e))?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)",
    )
    .map_err(|e| open_err(path, e))?;
    let current: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )
        .map_err(|e| open_err(path, e))?;
    let supported = latest_version(MIGRATIONS);
    if current > supported {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let migrate_err = |e: rusqlite::Error| StoreError::Migrate {
            version: *version,
            cause: Box::new(e),
        };
        tx.execute_batch(sql).map_err(migrate_err)?;
        tx.execute(
            "INSERT INTO schema_version (version, applied_at_ms) VALUES (?1, ?2)",
            params![version, crate::records::now_ms()],
        )
        .map_err(migrate_err)?;
    }
    tx.commit().map_err(|e| open_err(path, e))?;
    Ok(conn)
}

/// The checkpointer's connection: read-write, same durability as the writer's.
fn open_checkpointer(config: &SqliteConfig) -> Result<Connection, StoreError> {
    let path = &config.path;
    let conn = Connection::open(path).map_err(|e| open_err(path, e))?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| open_err(path, e))?;
    conn.pragma_update(None, "synchronous", config.synchronous.pragma())
        .map_err(|e| open_err(path, e))?;
    Ok(conn)
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| open_err(path, e))?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| open_err(path, e))?;
    Ok(conn)
}

impl SqliteRecordStore {
    pub(super) async fn open(config: SqliteConfig) -> Result<Self, StoreError> {
        let path = config.path.clone();
        let opened = tokio::task::spawn_blocking(move || {
            let writer = open_writer(&config)?;
            let checkpointer = open_checkpointer(&config)?;
            let readers = (0..config.readers)
                .map(|_| open_reader(&config.path).map(Mutex::new))
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, StoreError>((writer, checkpointer, readers, config))
        })
        .await
        .map_err(|e| open_err(&path, e))?;
        let (writer, checkpointer, readers, config) = opened?;
        let (queue, jobs) = mpsc::channel(config.queue);
        let max_batch = config.max_batch;
        let writer = std::thread::Builder::new()
            .name("hotline-records".into())
            .spawn(move || Writer::new(writer).run(jobs, max_batch))
            .map_err(|e| open_err(&path, e))?;
        let (stop, stopped) = std::sync::mpsc::channel();
        let wal = path.clone();
        std::thread::Builder::new()
            .name("hotline-checkpoint".into())
            .spawn(move || run_checkpointer(checkpointer, stopped, &wal))
            .map_err(|e| open_err(&path, e))?;
        tracing::info!(path = %path.display(), synchronous = ?config.synchronous, "call records open (sqlite, WAL)");
        Ok(Self {
            queue,
            readers: readers.into(),
            next_reader: AtomicUsize::new(0),
            path,
            writer: Some(writer),
            _checkpointer: stop,
        })
    }

    /// Stops accepting writes, lets the writer commit everything queued, and waits for it.
    pub async fn close(mut self) {
        let writer = self.writer.take();
        drop(self);
        if let Some(writer) = writer {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
    }

    async fn read<T, F>(&self, op: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let readers = Arc::clone(&self.readers);
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % readers.len();
        tokio::task::spawn_blocking(move || {
            let conn = readers.get(i).ok_or(rusqlite::Error::InvalidQuery)?;
            let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&conn)
        })
        .await
        .map_err(|e| StoreError::backend(BACKEND, op, e))?
        .map_err(|e| StoreError::backend(BACKEND, op, e))
    }
}

const CALL_COLUMNS: &str = "c.call_sid, c.flow_id, c.flow_version, c.from_number, c.to_number, c.started_at_ms, \
     c.ended_at_ms, c.outcome, \
     COALESCE(c.last_node, (SELECT s.node FROM steps s WHERE s.call_id = c.id AND s.kind <> 'transcribed' ORDER BY s.seq DESC LIMIT 1))";

fn call_from_row(r: &Row<'_>) -> rusqlite::Result<CallRecord> {
    Ok(CallRecord {
        call_sid: r.get(0)?,
        flow_id: r.get(1)?,
        flow_version: r.get(2)?,
        from: r.get(3)?,
        to: r.get(4)?,
        started_at_ms: r.get(5)?,
        ended_at_ms: r.get(6)?,
        outcome: r.get(7)?,
        last_node: r.get(8)?,
    })
}

fn step_from_row(call_sid: &str, r: &Row<'_>) -> rusqlite::Result<StepRecord> {
    Ok(StepRecord {
        call_sid: call_sid.to_owned(),
        seq: r.get(0)?,
        at_ms: r.get(1)?,
        node: r.get(2)?,
        kind: r.get(3)?,
        route: r.get(4)?,
        speech: r.get(5)?,
        confidence: r.get(6)?,
        digits: r.get(7)?,
        detail: r.get(8)?,
    })
}

#[async_trait]
impl RecordStore for SqliteRecordStore {
    /// On the writer thread, in its next group commit: the webhooks' writes never wait on a
    /// second writer's lock.
    async fn purge(&self, started_before_ms: i64, max_calls: u32) -> Result<u64, StoreError> {
        crate::records::writer::purge(&self.queue, BACKEND, started_before_ms, max_calls).await
    }

    async fn call_started(&self, call: CallRecord) -> Result<(), StoreError> {
        submit(&self.queue, BACKEND, WriteOp::Started(call)).await
    }

    async fn append_all(&self, steps: Vec<StepRecord>) -> Result<(), StoreError> {
        if steps.is_empty() {
            return Ok(());
        }
        submit(&self.queue, BACKEND, WriteOp::Steps(steps)).await
    }

    async fn call_ended(
        &self,
        call_sid: &str,
        outcome: &str,
        ended_at_ms: i64,
    ) -> Result<(), StoreError> {
        let op = WriteOp::Ended(CallEnd::new(call_sid, outcome, ended_at_ms));
        submit(&self.queue, BACKEND, op).await
    }

    async fn record_turn(&self, turn: TurnRecord) -> Result<(), StoreError> {
        if turn.is_empty() {
            return Ok(());
        }
        submit(&self.queue, BACKEND, WriteOp::Turn(turn)).await
    }

    async fn list_calls(&self, filter: &CallFilter) -> Result<Vec<CallRecord>, StoreError> {
        let filter = filter.clone();
        self.read("list_calls", move |conn| {
            let sql = format!(
                "SELECT {CALL_COLUMNS} FROM calls c WHERE c.started_at_ms IS NOT NULL \
                 AND (?1 IS NULL OR c.flow_id = ?1) \
                 AND (?2 IS NULL OR c.flow_version = ?2) AND (?3 IS NULL OR c.started_at_ms >= ?3) \
                 ORDER BY c.started_at_ms DESC, c.call_sid LIMIT ?4"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params![
                    filter.flow_id,
                    filter.flow_version,
                    filter.since_ms,
                    filter.limit
                ],
                call_from_row,
            )?;
            rows.collect()
        })
        .await
    }

    async fn get_call(
        &self,
        call_sid: &str,
    ) -> Result<Option<(CallRecord, Vec<StepRecord>)>, StoreError> {
        let call_sid = call_sid.to_owned();
        self.read("get_call", move |conn| {
            let tx = conn.unchecked_transaction()?;
            let sql = format!(
                "SELECT {CALL_COLUMNS}, c.id FROM calls c WHERE c.call_sid = ?1 AND c.started_at_ms IS NOT NULL"
            );
            let Some((call, id)) = tx
                .prepare_cached(&sql)?
                .query_row([&call_sid], |r| Ok((call_from_row(r)?, r.get::<_, i64>(9)?)))
                .optional()?
            else {
                return Ok(None);
            };
            let steps = tx
                .prepare_cached(
                    "SELECT seq, at_ms, node, kind, route, speech, confidence, digits, detail \
                     FROM steps WHERE call_id = ?1 ORDER BY seq",
                )?
                .query_map([id], |r| step_from_row(&call_sid, r))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Some((call, steps)))
        })
        .await
    }

    async fn funnel(
        &self,
        flow_id: &str,
        flow_version: Option<&str>,
        since_ms: Option<i64>,
    ) -> Result<Funnel, StoreError> {
        let (flow, version) = (flow_id.to_owned(), flow_version.map(str::to_owned));
        let rows = self
            .read("funnel", move |conn| {
                let tx = conn.unchecked_transaction()?;
                let mut rows = FunnelRows::default();
                let mut stmt = tx.prepare_cached(
                    "SELECT s.node, COUNT(DISTINCT s.call_id), \
                     SUM(CASE WHEN s.kind = 'retry' THEN 1 ELSE 0 END), \
                     SUM(CASE WHEN s.kind = 'no-input' THEN 1 ELSE 0 END), \
                     SUM(CASE WHEN s.kind = 'no-match' THEN 1 ELSE 0 END), \
                     MIN(s.seq) \
                     FROM calls c JOIN steps s ON s.call_id = c.id \
                     WHERE c.flow_id = ?1 AND (?2 IS NULL OR c.flow_version = ?2) \
                     AND (?3 IS NULL OR c.started_at_ms >= ?3) GROUP BY s.node",
                )?;
                rows.nodes = stmt
                    .query_map(params![flow, version, since_ms], |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                        ))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                let mut stmt = tx.prepare_cached(
                    "SELECT last_node, COUNT(*) FROM calls \
                     WHERE flow_id = ?1 AND (?2 IS NULL OR flow_version = ?2) AND outcome = ?4 \
                     AND (?3 IS NULL OR started_at_ms >= ?3) \
                     AND last_node IS NOT NULL GROUP BY last_node",
                )?;
                rows.hangups = stmt
                    .query_map(
                        params![flow, version, since_ms, OUTCOME_CALLER_HANGUP],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )?
                    .collect::<rusqlite::Result<_>>()?;
                let mut stmt = tx.prepare_cached(
                    "SELECT outcome, COUNT(*) FROM calls \
                     WHERE flow_id = ?1 AND (?2 IS NULL OR flow_version = ?2) \
                     AND (?3 IS NULL OR started_at_ms >= ?3) GROUP BY outcome",
                )?;
                rows.outcomes = stmt
                    .query_map(params![flow, version, since_ms], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                let mut stmt = tx.prepare_cached(
                    "SELECT s.node, s.route, COUNT(*) \
                     FROM calls c JOIN steps s ON s.call_id = c.id \
                     WHERE c.flow_id = ?1 AND (?2 IS NULL OR c.flow_version = ?2) \
                     AND (?3 IS NULL OR c.started_at_ms >= ?3) \
                     AND s.route IS NOT NULL GROUP BY s.node, s.route",
                )?;
                rows.routes = stmt
                    .query_map(params![flow, version, since_ms], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(rows)
            })
            .await?;
        Ok(assemble_funnel(flow_id, flow_version, rows))
    }
}
