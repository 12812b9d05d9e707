//! The PostgreSQL [`RecordStore`]: a pipelining group-commit writer task and a deadpool for
//! queries.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use futures_util::future::try_join_all;
use tokio::sync::mpsc;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use super::{MIGRATIONS, PostgresConfig};
use crate::StoreError;
use crate::error::redact_url;
use crate::records::writer::{Job, Purge, WriteOp, fail_all, submit};
use crate::records::{
    CallEnd, CallFilter, CallRecord, Funnel, FunnelRows, OUTCOME_CALLER_HANGUP, RecordStore,
    StepRecord, TurnRecord, assemble_funnel, latest_version,
};

const BACKEND: &str = "postgres";
const REMEDY: &str = "start PostgreSQL or fix records.url (host, port, user, database)";

/// Call records in PostgreSQL (see the module docs).
pub struct PostgresRecordStore {
    queue: mpsc::Sender<Job>,
    pool: Pool,
}

impl std::fmt::Debug for PostgresRecordStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresRecordStore")
            .finish_non_exhaustive()
    }
}

fn pg_err(op: &'static str) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    move |e| StoreError::backend(BACKEND, op, e)
}

fn pool_err(op: &'static str) -> impl FnOnce(deadpool_postgres::PoolError) -> StoreError {
    move |e| StoreError::backend(BACKEND, op, e)
}

impl PostgresRecordStore {
    pub(super) async fn connect(config: &PostgresConfig) -> Result<Self, StoreError> {
        let target = redact_url(&config.url);
        let mut pg = config.pg_config()?;
        let timeout = Duration::from_secs(config.connect_timeout_secs);
        pg.connect_timeout(timeout);
        if let Some(schema) = &config.schema {
            pg.options(format!("-c search_path={schema}"));
        }
        let manager = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size + 1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::backend(BACKEND, "pool", e))?;
        let mut client = pool.get().await.map_err(|e| StoreError::Connect {
            what: "PostgreSQL",
            target: target.clone(),
            cause: Box::new(e),
            remedy: REMEDY,
        })?;
        if let Some(schema) = &config.schema {
            // `schema` was validated as a plain identifier.
            // Serialised with an advisory lock: concurrent `CREATE SCHEMA IF NOT EXISTS` of one
            // name can fail with a unique violation when several instances start together.
            client
                .batch_execute(&format!(
                    "BEGIN; SELECT pg_advisory_xact_lock(hashtext('hotline_create_schema'));
                     CREATE SCHEMA IF NOT EXISTS {schema}; COMMIT;"
                ))
                .await
                .map_err(|e| StoreError::Migrate {
                    version: 0,
                    cause: Box::new(e),
                })?;
        }
        migrate(&mut client).await?;
        drop(client);
        let (queue, jobs) = mpsc::channel(config.queue);
        tokio::spawn(run_writer(pool.clone(), jobs, config.max_batch));
        tracing::info!(target = %target, "call records open (postgres)");
        Ok(Self { queue, pool })
    }

    /// The schema this store's connections use (for tests and diagnostics).
    pub async fn current_schema(&self) -> Result<String, StoreError> {
        let client = self.pool.get().await.map_err(pool_err("current_schema"))?;
        let row = client
            .query_one("SELECT current_schema()::text", &[])
            .await
            .map_err(pg_err("current_schema"))?;
        row.try_get(0).map_err(pg_err("current_schema"))
    }
}

async fn migrate(client: &mut Object) -> Result<(), StoreError> {
    let setup = |e| StoreError::Migrate {
        version: 0,
        cause: Box::new(e),
    };
    let tx = client.transaction().await.map_err(setup)?;
    // Several instances starting together: one migrates, the others wait, then see it done.
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.hotline_schema_version'));
         CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at_ms BIGINT NOT NULL);",
    )
    .await
    .map_err(setup)?;
    let current: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::bigint FROM schema_version",
            &[],
        )
        .await
        .and_then(|r| r.try_get(0))
        .map_err(setup)?;
    let supported = latest_version(MIGRATIONS);
    if current > supported {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let migrate_err = |e| StoreError::Migrate {
            version: *version,
            cause: Box::new(e),
        };
        tx.batch_execute(sql).await.map_err(migrate_err)?;
        tx.execute(
            "INSERT INTO schema_version (version, applied_at_ms) VALUES ($1, $2)",
            &[version, &now],
        )
        .await
        .map_err(migrate_err)?;
    }
    tx.commit().await.map_err(setup)
}

/// The writer task: drain, pipeline one transaction, commit, acknowledge; until the queue closes.
async fn run_writer(pool: Pool, mut jobs: mpsc::Receiver<Job>, max_batch: usize) {
    let mut conn: Option<Object> = None;
    let mut batch = Vec::with_capacity(max_batch);
    while let Some(job) = jobs.recv().await {
        batch.push(job);
        while batch.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let client = match conn.take() {
            Some(c) if !c.is_closed() => c,
            _ => match pool.get().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "call-record writer cannot get a PostgreSQL connection");
                    fail_all(std::mem::take(&mut batch), BACKEND, &e.to_string());
                    continue;
                }
            },
        };
        let mut client = client;
        match write_batch(&mut client, &batch).await {
            Ok(results) => {
                for (job, result) in batch.drain(..).zip(results) {
                    let _ = job.ack.send(result);
                }
            }
            Err(e) if batch.len() > 1 && !client.is_closed() => {
                tracing::warn!(error = %e, writes = batch.len(), "call-record batch failed; retrying its writes one by one");
                for job in batch.drain(..) {
                    match write_batch(&mut client, std::slice::from_ref(&job)).await {
                        Ok(mut r) => {
                            let _ = job.ack.send(r.pop().unwrap_or(Ok(())));
                        }
                        Err(e) => fail_all(vec![job], BACKEND, &e.to_string()),
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "call-record write failed");
                fail_all(std::mem::take(&mut batch), BACKEND, &e.to_string());
            }
        }
        conn = Some(client);
    }
}

const INSERT_CALL: &str = "INSERT INTO calls (call_sid, flow_id, flow_version, from_number, to_number, started_at_ms) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (call_sid) DO NOTHING";
/// All the step rows of a run of `append_all`s, as one statement: column arrays, unnested.
const INSERT_STEPS: &str = "INSERT INTO steps (call_sid, seq, at_ms, node, kind, route, speech, confidence, digits, detail) \
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], \
     $7::text[], $8::real[], $9::text[], $10::text[]) \
     ON CONFLICT (call_sid, seq) DO NOTHING";
/// A purge chunk: the oldest calls started before `$1`, at most `$2`, and their steps.
const PURGE: &str = "WITH doomed AS (SELECT call_sid FROM calls WHERE started_at_ms < $1 \
     ORDER BY started_at_ms, call_sid LIMIT $2), \
     gone AS (DELETE FROM steps WHERE call_sid IN (SELECT call_sid FROM doomed)) \
     DELETE FROM calls WHERE call_sid IN (SELECT call_sid FROM doomed)";
/// Ends a call: its last node is its highest step's, a recording's transcription aside (numbered
/// past every step, it may arrive before the call ends). With `$4` (`only_if_open`), only a call
/// not ended yet.
const END_CALL: &str = "UPDATE calls SET ended_at_ms = $2, outcome = $3, \
     last_node = (SELECT node FROM steps WHERE call_sid = $1 AND kind <> 'transcribed' \
     ORDER BY seq DESC LIMIT 1) WHERE call_sid = $1 AND (NOT $4 OR ended_at_ms IS NULL)";

/// The step rows of consecutive `append_all`s, column by column.
#[derive(Default)]
struct StepColumns<'a> {
    call_sid: Vec<&'a str>,
    seq: Vec<i64>,
    at_ms: Vec<i64>,
    node: Vec<&'a str>,
    kind: Vec<&'a str>,
    route: Vec<Option<&'a str>>,
    speech: Vec<Option<&'a str>>,
    confidence: Vec<Option<f32>>,
    digits: Vec<Option<&'a str>>,
    detail: Vec<Option<&'a str>>,
}

impl<'a> StepColumns<'a> {
    fn push(&mut self, s: &'a StepRecord) {
        self.call_sid.push(&s.call_sid);
        self.seq.push(i64::from(s.seq));
        self.at_ms.push(s.at_ms);
        self.node.push(&s.node);
        self.kind.push(&s.kind);
        self.route.push(s.route.as_deref());
        self.speech.push(s.speech.as_deref());
        self.confidence.push(s.confidence);
        self.digits.push(s.digits.as_deref());
        self.detail.push(s.detail.as_deref());
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 10] {
        [
            &self.call_sid,
            &self.seq,
            &self.at_ms,
            &self.node,
            &self.kind,
            &self.route,
            &self.speech,
            &self.confidence,
            &self.digits,
            &self.detail,
        ]
    }
}

/// One statement of a batch: which job it belongs to, and its parameters.
// The step columns are inline: a batch holds a handful of statements, built once per commit, and
// boxing them would cost an allocation per batch.
#[allow(clippy::large_enum_variant)]
enum Stmt<'a> {
    Call(&'a CallRecord),
    Steps(StepColumns<'a>),
    End(&'a CallEnd),
    Purge(&'a Purge),
}

/// Adds `steps` (of job `i`) to the batch: to the step statement being built, or a new one.
fn push_steps<'a>(stmts: &mut Vec<(usize, Stmt<'a>)>, i: usize, steps: &'a [StepRecord]) {
    if steps.is_empty() {
        return;
    }
    if !matches!(stmts.last(), Some((_, Stmt::Steps(_)))) {
        stmts.push((i, Stmt::Steps(StepColumns::default())));
    }
    if let Some((_, Stmt::Steps(columns))) = stmts.last_mut() {
        steps.iter().for_each(|s| columns.push(s));
    }
}

/// Writes `jobs` in one transaction, every statement pipelined in queue order. The steps of
/// consecutive `append_all`s go in as one `INSERT … SELECT FROM unnest(…)`; a `call_ended`
/// closes the run so that its `last_node` sees the steps queued before it.
async fn write_batch(
    client: &mut Object,
    jobs: &[Job],
) -> Result<Vec<Result<(), StoreError>>, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let (insert_call, insert_steps, end_call, purge) = tokio::try_join!(
        tx.prepare_cached(INSERT_CALL),
        tx.prepare_cached(INSERT_STEPS),
        tx.prepare_cached(END_CALL),
        tx.prepare_cached(PURGE)
    )?;
    let mut stmts: Vec<(usize, Stmt<'_>)> = Vec::with_capacity(jobs.len());
    for (i, job) in jobs.iter().enumerate() {
        match &job.op {
            WriteOp::Started(c) => stmts.push((i, Stmt::Call(c))),
            WriteOp::Steps(steps) => push_steps(&mut stmts, i, steps),
            WriteOp::Ended(end) => stmts.push((i, Stmt::End(end))),
            WriteOp::Turn(turn) => {
                if let Some(c) = &turn.started {
                    stmts.push((i, Stmt::Call(c)));
                }
                push_steps(&mut stmts, i, &turn.steps);
                if let Some(end) = &turn.ended {
                    stmts.push((i, Stmt::End(end)));
                }
            }
            WriteOp::Purge(p) => stmts.push((i, Stmt::Purge(p))),
        }
    }
    let counts = try_join_all(stmts.iter().map(|(_, stmt)| {
        let (statement, params): (_, Vec<&(dyn ToSql + Sync)>) = match stmt {
            Stmt::Call(c) => (
                &insert_call,
                vec![
                    &c.call_sid,
                    &c.flow_id,
                    &c.flow_version,
                    &c.from,
                    &c.to,
                    &c.started_at_ms,
                ],
            ),
            Stmt::Steps(columns) => (&insert_steps, columns.params().to_vec()),
            Stmt::End(end) => (
                &end_call,
                vec![
                    &end.call_sid,
                    &end.ended_at_ms,
                    &end.outcome,
                    &end.only_if_open,
                ],
            ),
            Stmt::Purge(p) => (&purge, vec![&p.started_before_ms, &p.max_calls]),
        };
        let tx = &tx;
        async move { tx.execute(statement, &params).await }
    }))
    .await?;
    tx.commit().await?;
    let mut results: Vec<Result<(), StoreError>> = jobs.iter().map(|_| Ok(())).collect();
    for ((i, stmt), n) in stmts.iter().zip(counts) {
        if let (Stmt::End(end), 0) = (stmt, n)
            && let Some(slot) = results.get_mut(*i)
        {
            *slot = Err(StoreError::UnknownCall(end.call_sid.clone()));
        }
        if let Stmt::Purge(p) = stmt {
            p.deleted.store(n, std::sync::atomic::Ordering::Relaxed);
        }
    }
    Ok(results)
}

const CALL_COLUMNS: &str = "c.call_sid, c.flow_id, c.flow_version, c.from_number, c.to_number, c.started_at_ms, \
     c.ended_at_ms, c.outcome, \
     COALESCE(c.last_node, (SELECT s.node FROM steps s WHERE s.call_sid = c.call_sid AND s.kind <> 'transcribed' ORDER BY s.seq DESC LIMIT 1))";

fn call_from_row(r: &Row) -> Result<CallRecord, tokio_postgres::Error> {
    Ok(CallRecord {
        call_sid: r.try_get(0)?,
        flow_id: r.try_get(1)?,
        flow_version: r.try_get(2)?,
        from: r.try_get(3)?,
        to: r.try_get(4)?,
        started_at_ms: r.try_get(5)?,
        ended_at_ms: r.try_get(6)?,
        outcome: r.try_get(7)?,
        last_node: r.try_get(8)?,
    })
}

fn step_from_row(r: &Row) -> Result<StepRecord, StoreError> {
    let get = pg_err("get_call");
    let seq: i64 = r.try_get(1).map_err(pg_err("get_call"))?;
    let call_sid: String = r.try_get(0).map_err(pg_err("get_call"))?;
    let Ok(seq) = u32::try_from(seq) else {
        return Err(StoreError::Corrupt {
            key: call_sid,
            what: "step (seq out of range)",
        });
    };
    (|| {
        Ok(StepRecord {
            call_sid,
            seq,
            at_ms: r.try_get(2)?,
            node: r.try_get(3)?,
            kind: Cow::Owned(r.try_get::<_, String>(4)?),
            route: r.try_get(5)?,
            speech: r.try_get(6)?,
            confidence: r.try_get(7)?,
            digits: r.try_get(8)?,
            detail: r.try_get(9)?,
        })
    })()
    .map_err(get)
}

#[async_trait]
impl RecordStore for PostgresRecordStore {
    /// On the writer task, in its next transaction, like every other write.
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
        let client = self.pool.get().await.map_err(pool_err("list_calls"))?;
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM calls c WHERE ($1::text IS NULL OR c.flow_id = $1) \
             AND ($2::text IS NULL OR c.flow_version = $2) AND ($3::bigint IS NULL OR c.started_at_ms >= $3) \
             ORDER BY c.started_at_ms DESC, c.call_sid LIMIT $4"
        );
        let stmt = client
            .prepare_cached(&sql)
            .await
            .map_err(pg_err("list_calls"))?;
        let limit = i64::from(filter.limit);
        let rows = client
            .query(
                &stmt,
                &[
                    &filter.flow_id,
                    &filter.flow_version,
                    &filter.since_ms,
                    &limit,
                ],
            )
            .await
            .map_err(pg_err("list_calls"))?;
        rows.iter()
            .map(call_from_row)
            .collect::<Result<_, _>>()
            .map_err(pg_err("list_calls"))
    }

    async fn get_call(
        &self,
        call_sid: &str,
    ) -> Result<Option<(CallRecord, Vec<StepRecord>)>, StoreError> {
        let mut client = self.pool.get().await.map_err(pool_err("get_call"))?;
        let tx = client
            .build_transaction()
            .read_only(true)
            .start()
            .await
            .map_err(pg_err("get_call"))?;
        let sql = format!("SELECT {CALL_COLUMNS} FROM calls c WHERE c.call_sid = $1");
        let Some(row) = tx
            .query_opt(&sql, &[&call_sid])
            .await
            .map_err(pg_err("get_call"))?
        else {
            return Ok(None);
        };
        let call = call_from_row(&row).map_err(pg_err("get_call"))?;
        let rows = tx
            .query(
                "SELECT call_sid, seq, at_ms, node, kind, route, speech, confidence, digits, detail \
                 FROM steps WHERE call_sid = $1 ORDER BY seq",
                &[&call_sid],
            )
            .await
            .map_err(pg_err("get_call"))?;
        let steps = rows
            .iter()
            .map(step_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((call, steps)))
    }

    async fn funnel(
        &self,
        flow_id: &str,
        flow_version: Option<&str>,
        since_ms: Option<i64>,
    ) -> Result<Funnel, StoreError> {
        let mut client = self.pool.get().await.map_err(pool_err("funnel"))?;
        let e = || pg_err("funnel");
        let tx = client
            .build_transaction()
            .read_only(true)
            .start()
            .await
            .map_err(e())?;
        let nodes = tx
            .query(
                "SELECT s.node, COUNT(DISTINCT s.call_sid)::bigint, \
                 SUM(CASE WHEN s.kind = 'retry' THEN 1 ELSE 0 END)::bigint, \
                 SUM(CASE WHEN s.kind = 'no-input' THEN 1 ELSE 0 END)::bigint, \
                 SUM(CASE WHEN s.kind = 'no-match' THEN 1 ELSE 0 END)::bigint, \
                 MIN(s.seq)::bigint \
                 FROM calls c JOIN steps s ON s.call_sid = c.call_sid \
                 WHERE c.flow_id = $1 AND ($2::text IS NULL OR c.flow_version = $2) \
                 AND ($3::bigint IS NULL OR c.started_at_ms >= $3) GROUP BY s.node",
                &[&flow_id, &flow_version, &since_ms],
            )
            .await
            .map_err(e())?;
        let hangups = tx
            .query(
                "SELECT last_node, COUNT(*)::bigint FROM calls \
                 WHERE flow_id = $1 AND ($2::text IS NULL OR flow_version = $2) AND outcome = $4 \
                 AND ($3::bigint IS NULL OR started_at_ms >= $3) \
                 AND last_node IS NOT NULL GROUP BY last_node",
                &[&flow_id, &flow_version, &since_ms, &OUTCOME_CALLER_HANGUP],
            )
            .await
            .map_err(e())?;
        let outcomes = tx
            .query(
                "SELECT outcome, COUNT(*)::bigint FROM calls \
                 WHERE flow_id = $1 AND ($2::text IS NULL OR flow_version = $2) \
                 AND ($3::bigint IS NULL OR started_at_ms >= $3) GROUP BY outcome",
                &[&flow_id, &flow_version, &since_ms],
            )
            .await
            .map_err(e())?;
        let routes = tx
            .query(
                "SELECT s.node, s.route, COUNT(*)::bigint \
                 FROM calls c JOIN steps s ON s.call_sid = c.call_sid \
                 WHERE c.flow_id = $1 AND ($2::text IS NULL OR c.flow_version = $2) \
                 AND ($3::bigint IS NULL OR c.started_at_ms >= $3) \
                 AND s.route IS NOT NULL GROUP BY s.node, s.route",
                &[&flow_id, &flow_version, &since_ms],
            )
            .await
            .map_err(e())?;
        let rows = FunnelRows {
            nodes: nodes
                .iter()
                .map(|r| {
                    Ok((
                        r.try_get(0)?,
                        r.try_get(1)?,
                        r.try_get(2)?,
                        r.try_get(3)?,
                        r.try_get(4)?,
                        r.try_get(5)?,
                    ))
                })
                .collect::<Result<_, tokio_postgres::Error>>()
                .map_err(e())?,
            hangups: hangups
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, tokio_postgres::Error>>()
                .map_err(e())?,
            outcomes: outcomes
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, tokio_postgres::Error>>()
                .map_err(e())?,
            routes: routes
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect::<Result<_, tokio_postgres::Error>>()
                .map_err(e())?,
        };
        Ok(assemble_funnel(flow_id, flow_version, rows))
    }
}
