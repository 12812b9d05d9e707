//! Benchmarks of the store hot paths, modelled on the server.
//!
//! - `sqlite_append_all`: what one Twilio gather callback costs the durable SQLite store —
//!   `append_all` of 5 step rows (`heard`, `matched`, `entered` with the prompt text, `asked`,
//!   `set`), from 1, 16 and 64 concurrent tasks, with `synchronous` FULL and NORMAL. Each task
//!   plays calls with random-looking Twilio SIDs; a call is `call_started` followed by
//!   [`APPENDS_PER_CALL`] callbacks (the `call_started` is part of the measured work, as it is
//!   of the server's).
//! - `memory_session`: the in-memory session `get` + `put` of every webhook.
//!
//! `HOTLINE_BENCH_DIR=/tmp cargo bench -p hotline-store --bench records`. Before criterion runs,
//! a report prints, per configuration: appends/s, rows/s, append latency p50/p99, and the
//! process CPU per append (utime + stime from `/proc/self/stat`, 10 ms clock ticks, so it
//! includes the benchmark's own tasks: an upper bound for the store's share).
//! `HOTLINE_BENCH_NO_REPORT=1` skips the report.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use hotline_store::records::sqlite::{SqliteConfig, Synchronous};
use hotline_store::session::memory::MemorySessionStore;
use hotline_store::{CallRecord, RecordStore, SessionStore, StepRecord};

const CONCURRENCY: [usize; 3] = [1, 16, 64];
/// Rows per `append_all`, as in a typical gather callback.
const ROWS: u64 = 5;
/// Gather callbacks per call before the task moves on to a new call.
const APPENDS_PER_CALL: u64 = 6;

struct Fixture {
    store: Arc<dyn RecordStore>,
    _dir: tempfile::TempDir,
    /// Per task: how many appends it has done so far (its calls and seqs follow from it).
    done: Vec<Arc<std::sync::atomic::AtomicU64>>,
}

fn fixture(rt: &tokio::runtime::Runtime, sync: Synchronous, tasks: usize) -> Fixture {
    let dir =
        tempfile::tempdir_in(std::env::var("HOTLINE_BENCH_DIR").unwrap_or_else(|_| ".".into()))
            .unwrap();
    let mut config = SqliteConfig::new(dir.path().join("calls.db"));
    config.synchronous = sync;
    let store: Arc<dyn RecordStore> = Arc::new(rt.block_on(config.build()).unwrap());
    Fixture {
        store,
        _dir: dir,
        done: (0..tasks).map(|_| Arc::default()).collect(),
    }
}

/// A Twilio-like SID: `CA` + 32 hex digits, scattered like real ones (splitmix64).
fn sid(task: usize, call: u64) -> String {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let a = mix((task as u64) << 40 ^ call);
    format!("CA{a:016x}{:016x}", mix(a))
}

/// The five rows of one gather callback.
fn callback(sid: &str, first_seq: u32) -> Vec<StepRecord> {
    let at = 1_700_000_000_000;
    let mut heard = StepRecord::new(sid, first_seq, at, "menu", "heard");
    heard.speech = Some("I'd like to talk to sales please".into());
    heard.confidence = Some(0.92);
    let mut matched = StepRecord::new(sid, first_seq + 1, at, "menu", "matched");
    matched.route = Some("sales".into());
    matched.detail = Some("→ sales".into());
    let mut entered = StepRecord::new(sid, first_seq + 2, at, "sales", "entered");
    entered.detail = Some(
        "said \"Connecting you to our sales team. Calls may be recorded for quality purposes.\""
            .into(),
    );
    let asked = StepRecord::new(sid, first_seq + 3, at, "sales", "asked");
    let mut set = StepRecord::new(sid, first_seq + 4, at, "sales", "set");
    set.detail = Some("department = sales".into());
    vec![heard, matched, entered, asked, set]
}

/// `total` appends split over the fixture's tasks; returns the wall time, the process CPU
/// time, and (if asked) each append's latency.
fn run(
    rt: &tokio::runtime::Runtime,
    f: &Fixture,
    total: u64,
    latencies: bool,
) -> (Duration, Duration, Vec<Duration>) {
    let per_task = total.div_ceil(f.done.len() as u64);
    rt.block_on(async {
        let cpu = cpu_time();
        let start = Instant::now();
        let tasks: Vec<_> = f
            .done
            .iter()
            .enumerate()
            .map(|(task, done)| {
                let (store, done) = (Arc::clone(&f.store), Arc::clone(done));
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    for _ in 0..per_task {
                        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let (call, turn) = (n / APPENDS_PER_CALL, n % APPENDS_PER_CALL);
                        let sid = sid(task, call);
                        if turn == 0 {
                            store
                                .call_started(CallRecord::started(
                                    &sid,
                                    "bench",
                                    "v1",
                                    "+33612345678",
                                    "+15005550006",
                                    0,
                                ))
                                .await
                                .unwrap();
                        }
                        let rows = callback(&sid, (turn * ROWS) as u32 + 1);
                        let t = Instant::now();
                        store.append_all(rows).await.unwrap();
                        if latencies {
                            lat.push(t.elapsed());
                        }
                    }
                    lat
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        (start.elapsed(), cpu_time().saturating_sub(cpu), all)
    })
}

/// utime + stime of this process, from `/proc/self/stat` (clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the `(comm)`, which may contain spaces: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn report(rt: &tokio::runtime::Runtime) {
    eprintln!(
        "append_all report (SQLite, WAL, group commit; {ROWS} rows per append, a new call every {APPENDS_PER_CALL} appends):"
    );
    for sync in [Synchronous::Full, Synchronous::Normal] {
        for tasks in CONCURRENCY {
            let f = fixture(rt, sync, tasks);
            let _ = run(rt, &f, 2_000, false); // warm up
            let total = if tasks == 1 && sync == Synchronous::Full {
                3_000
            } else {
                30_000
            };
            let (wall, cpu, mut lat) = run(rt, &f, total, true);
            lat.sort();
            let n = lat.len() as f64;
            eprintln!(
                "  {sync:?} x{tasks:<3}: {:>8.0} appends/s {:>8.0} rows/s  p50 {:>7.1} µs  p99 {:>7.1} µs  CPU {:>5.1} µs/append",
                n / wall.as_secs_f64(),
                n * ROWS as f64 / wall.as_secs_f64(),
                pct(&lat, 0.5).as_secs_f64() * 1e6,
                pct(&lat, 0.99).as_secs_f64() * 1e6,
                cpu.as_secs_f64() * 1e6 / n,
            );
        }
    }
}

fn appends(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let mut group = c.benchmark_group("sqlite_append_all");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS));
    for sync in [Synchronous::Full, Synchronous::Normal] {
        for tasks in CONCURRENCY {
            let f = fixture(rt, sync, tasks);
            group.bench_with_input(
                BenchmarkId::new(format!("{sync:?}"), tasks),
                &tasks,
                |b, &tasks| {
                    b.iter_custom(|iters| run(rt, &f, iters.max(tasks as u64), false).0);
                },
            );
        }
    }
    group.finish();
}

fn sessions(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let store: Arc<dyn SessionStore> = Arc::new(MemorySessionStore::new(100_000, 64));
    let sids: Vec<String> = (0..1000).map(|i| format!("CA{i:032x}")).collect();
    let bytes = vec![b'x'; 512];
    let ttl = Duration::from_secs(3600);
    let mut group = c.benchmark_group("memory_session");
    group.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    group.bench_function("get+put 512B (dyn, async)", |b| {
        b.iter(|| {
            i = (i + 1) % sids.len();
            let sid = sids.get(i).unwrap();
            rt.block_on(async {
                let s = store.get(sid).await.unwrap();
                black_box(store.put(sid, &bytes, ttl).await.unwrap());
                black_box(s)
            })
        });
    });
    let direct = MemorySessionStore::new(100_000, 64);
    group.bench_function("get+put 512B (direct, sync)", |b| {
        b.iter(|| {
            i = (i + 1) % sids.len();
            let sid = sids.get(i).unwrap();
            let now = Instant::now();
            let s = direct.get_at(sid, now);
            black_box(direct.write_at(sid, None, &bytes, ttl, now).unwrap());
            black_box(s)
        });
    });
    group.finish();
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut c = Criterion::default().configure_from_args();
    if std::env::var_os("HOTLINE_BENCH_NO_REPORT").is_none() {
        report(&rt);
    }
    sessions(&mut c, &rt);
    appends(&mut c, &rt);
    c.final_summary();
}
