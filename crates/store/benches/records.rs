//! Benchmarks of the store hot paths: durable SQLite `append` under 1, 16 and 64 concurrent
//! appenders with `synchronous` NORMAL and FULL (group commit makes concurrency pay), and the
//! in-memory session `get` + `put` of every webhook.
//!
//! `cargo bench -p hotline-store --bench records`. Before criterion runs, a latency report
//! (p50/p99 per append, steps/s) is printed for each configuration.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use hotline_store::records::sqlite::{SqliteConfig, Synchronous};
use hotline_store::session::memory::MemorySessionStore;
use hotline_store::{CallRecord, RecordStore, SessionStore, StepRecord};

const CONCURRENCY: [usize; 3] = [1, 16, 64];

struct Fixture {
    store: Arc<dyn RecordStore>,
    _dir: tempfile::TempDir,
    seq: Arc<AtomicU64>,
}

fn fixture(rt: &tokio::runtime::Runtime, sync: Synchronous, appenders: usize) -> Fixture {
    let dir =
        tempfile::tempdir_in(std::env::var("HOTLINE_BENCH_DIR").unwrap_or_else(|_| ".".into()))
            .unwrap();
    let mut config = SqliteConfig::new(dir.path().join("calls.db"));
    config.synchronous = sync;
    let store: Arc<dyn RecordStore> = Arc::new(rt.block_on(config.build()).unwrap());
    rt.block_on(async {
        for a in 0..appenders {
            store
                .call_started(CallRecord::started(
                    format!("CA{a:032}"),
                    "bench",
                    "v1",
                    "+1",
                    "+2",
                    0,
                ))
                .await
                .unwrap();
        }
    });
    Fixture {
        store,
        _dir: dir,
        seq: Arc::new(AtomicU64::new(0)),
    }
}

fn step(appender: usize, seq: u64) -> StepRecord {
    let mut s = StepRecord::new(
        format!("CA{appender:032}"),
        seq as u32,
        1_700_000_000_000,
        "menu",
        "heard",
    );
    s.speech = Some("I'd like to talk to sales".into());
    s.confidence = Some(0.92);
    s
}

/// `total` appends split over `appenders` tasks; returns the wall time and each append's latency.
fn run(
    rt: &tokio::runtime::Runtime,
    f: &Fixture,
    appenders: usize,
    total: u64,
    latencies: bool,
) -> (Duration, Vec<Duration>) {
    let per_task = total.div_ceil(appenders as u64);
    rt.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = (0..appenders)
            .map(|a| {
                let (store, seq) = (Arc::clone(&f.store), Arc::clone(&f.seq));
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    for _ in 0..per_task {
                        let n = seq.fetch_add(1, Ordering::Relaxed);
                        let t = Instant::now();
                        store.append(step(a, n)).await.unwrap();
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
        (start.elapsed(), all)
    })
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn latency_report(rt: &tokio::runtime::Runtime) {
    eprintln!("append latency report (SQLite, WAL, group commit):");
    for sync in [Synchronous::Normal, Synchronous::Full] {
        for appenders in CONCURRENCY {
            let f = fixture(rt, sync, appenders);
            let _ = run(rt, &f, appenders, 2_000, false); // warm up
            let total = 20_000;
            let (wall, mut lat) = run(rt, &f, appenders, total, true);
            lat.sort();
            eprintln!(
                "  {sync:?} x{appenders:<3}: {:>8.0} steps/s  p50 {:>7.1} µs  p99 {:>7.1} µs  max {:>7.1} µs",
                lat.len() as f64 / wall.as_secs_f64(),
                pct(&lat, 0.5).as_secs_f64() * 1e6,
                pct(&lat, 0.99).as_secs_f64() * 1e6,
                pct(&lat, 1.0).as_secs_f64() * 1e6,
            );
        }
    }
}

fn appends(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let mut group = c.benchmark_group("sqlite_append");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(1));
    for sync in [Synchronous::Normal, Synchronous::Full] {
        for appenders in CONCURRENCY {
            let f = fixture(rt, sync, appenders);
            group.bench_with_input(
                BenchmarkId::new(format!("{sync:?}"), appenders),
                &appenders,
                |b, &appenders| {
                    b.iter_custom(|iters| {
                        run(rt, &f, appenders, iters.max(appenders as u64), false).0
                    });
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
        latency_report(&rt);
    }
    sessions(&mut c, &rt);
    appends(&mut c, &rt);
    c.final_summary();
}
