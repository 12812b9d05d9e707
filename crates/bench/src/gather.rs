//! The gather-callback load: N connections each play whole calls through a flow, as Twilio
//! would — a signed voice webhook, then a signed `<Gather>` callback per question with a scripted
//! `SpeechResult`, following the `action` (and its `seq`) of each answer — and the latency of
//! every gather callback is recorded. A call that reaches a non-gather answer ends with a
//! signed status callback (`completed`), and the connection starts a new call.
//!
//! The first [`GatherConfig::warmup`] of load is not measured: a fresh server is still growing
//! its heap, its page cache and its database files then, and the connections are being opened.
//! Requests, latencies and the server's CPU time are counted from its end.

use crate::http1::Conn;
use hotline_twilio::signature;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct GatherConfig {
    /// `host:port` to connect to (loopback only).
    pub addr: String,
    /// The server's public base URL, as it checks signatures (e.g. `http://127.0.0.1:8080`).
    pub public_base: String,
    /// The flow id (`/flows/{flow}/voice`).
    pub flow: String,
    /// The auth token requests are signed with.
    pub auth_token: String,
    /// Concurrent connections.
    pub connections: usize,
    /// How long to run the load before measuring it.
    pub warmup: Duration,
    /// How long to measure, after the warm-up.
    pub duration: Duration,
    /// Speech answers, in order, for the questions of one call (cycled if the flow asks more).
    pub answers: Vec<String>,
    /// The server's process ids (all of them, for pre-forking servers), to measure their CPU
    /// time from `/proc`.
    pub server_pids: Vec<u32>,
}

/// What was measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Concurrent connections.
    pub connections: usize,
    /// Gather callbacks answered with 200.
    pub callbacks: u64,
    /// Calls started.
    pub calls: u64,
    /// Failed exchanges (non-200 or I/O errors).
    pub errors: u64,
    /// Wall time measured (the warm-up excluded).
    pub elapsed: Duration,
    /// Latency percentiles of gather callbacks, in µs: p50, p99, max.
    pub p50_us: u32,
    /// p99.
    pub p99_us: u32,
    /// Maximum.
    pub max_us: u32,
    /// Server CPU time (user + system) per HTTP request of any kind, in µs.
    pub server_cpu_us_per_request: Option<f64>,
    /// All HTTP requests made (voice webhooks, gather and status callbacks).
    pub requests: u64,
    /// Server CPU time per request (µs) by thread name, the largest first (for Hotline: the
    /// Tokio workers, the SQLite writer, its checkpointer); empty without server pids.
    pub server_cpu_by_thread: Vec<(String, f64)>,
}

impl Report {
    /// Gather callbacks per second.
    pub fn callbacks_per_sec(&self) -> f64 {
        self.callbacks as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Reads a process's CPU time (user + system) from `/proc/PID/stat`, in µs.
pub fn process_cpu_us(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_cpu_us(&stat).map(|(_, us)| us)
}

/// The name (`comm`) and CPU time (user + system, in µs) of a `/proc/…/stat` line.
fn stat_cpu_us(stat: &str) -> Option<(&str, u64)> {
    // The name (which may hold spaces and parentheses) runs from the first '(' to the last ')';
    // the fields after it start at the state, field 3 of the line.
    let (head, rest) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after ')'.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Linux reports them in clock ticks of USER_HZ, 100 on every mainstream platform.
    Some((name, (utime + stime) * 10_000))
}

/// The CPU time (user + system, in µs) of every thread of the processes `pids`, summed by
/// thread name (Linux's `comm`, cut at 15 bytes: `hotline-records`, `tokio-rt-worker`, …).
/// `None` when a process cannot be read. Threads that ended are not in it (their time is in
/// [`process_cpu_us`]).
///
/// Each thread's time is read to the nanosecond from its `schedstat` where the kernel has one
/// (the same run time `stat` scales into user and system ticks), so that a split over several
/// threads does not add up one truncated clock tick per thread; else from its `stat`.
pub fn threads_cpu_us(pids: &[u32]) -> Option<BTreeMap<String, u64>> {
    let mut by_name = BTreeMap::new();
    for pid in pids {
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
            let dir = task.ok()?.path();
            // A thread may end between the listing and the read: skip it.
            let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
                continue;
            };
            let Some((name, ticks_us)) = stat_cpu_us(&stat) else {
                continue;
            };
            let us = std::fs::read_to_string(dir.join("schedstat"))
                .ok()
                .and_then(|s| schedstat_us(&s))
                .unwrap_or(ticks_us);
            *by_name.entry(name.to_owned()).or_insert(0) += us;
        }
    }
    Some(by_name)
}

/// The run time (µs) of a `/proc/…/schedstat` line: its first field, in nanoseconds.
fn schedstat_us(schedstat: &str) -> Option<u64> {
    let ns: u64 = schedstat.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1_000)
}

/// CPU per request by thread name, the largest first, from two [`threads_cpu_us`] readings;
/// names with no time in between are left out.
fn per_request_by_thread(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
    requests: u64,
) -> Vec<(String, f64)> {
    let mut rows: Vec<(String, f64)> = after
        .iter()
        .filter_map(|(name, &us)| {
            let spent = us.saturating_sub(before.get(name).copied().unwrap_or(0));
            (spent > 0).then(|| (name.clone(), spent as f64 / requests.max(1) as f64))
        })
        .collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows
}

fn form(params: &[(String, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Extracts the `action` of the first `<Gather>` in a TwiML answer, as a path and query.
fn gather_action(xml: &str, public_base: &str) -> Option<String> {
    let g = xml.find("<Gather")?;
    let rest = xml.get(g..)?;
    let a = rest.find("action=\"")? + "action=\"".len();
    let rest = rest.get(a..)?;
    let end = rest.find('"')?;
    let url = rest.get(..end)?.replace("&amp;", "&");
    url.strip_prefix(public_base).map(str::to_owned)
}

struct Worker {
    latencies: Vec<u32>,
    callbacks: u64,
    calls: u64,
    errors: u64,
    requests: u64,
}

/// One connection's calls until `deadline`; what it sends before `measure_from` is not counted.
async fn worker(
    cfg: GatherConfig,
    run: u32,
    id: usize,
    measure_from: Instant,
    deadline: Instant,
) -> Worker {
    let mut w = Worker {
        latencies: Vec::with_capacity(200_000),
        callbacks: 0,
        calls: 0,
        errors: 0,
        requests: 0,
    };
    let mut conn = match Conn::connect(&cfg.addr).await {
        Ok(c) => c,
        Err(_) => {
            w.errors += 1;
            return w;
        }
    };
    let account = "AC00000000000000000000000000000000".to_owned();
    let mut n: u64 = 0;
    while Instant::now() < deadline {
        n += 1;
        let call_sid = format!("CA{run:08x}{id:08x}{n:016x}");
        let base = vec![
            ("AccountSid".to_owned(), account.clone()),
            ("ApiVersion".to_owned(), "2010-04-01".to_owned()),
            ("CallSid".to_owned(), call_sid.clone()),
            ("Called".to_owned(), "+33970000000".to_owned()),
            ("Caller".to_owned(), "+33612345678".to_owned()),
            ("Direction".to_owned(), "inbound".to_owned()),
            ("From".to_owned(), "+33612345678".to_owned()),
            ("To".to_owned(), "+33970000000".to_owned()),
        ];
        let mut params = base.clone();
        params.push(("CallStatus".to_owned(), "ringing".to_owned()));
        let path = format!("/flows/{}/voice", cfg.flow);
        let sig = signature::compute(
            &cfg.auth_token,
            &format!("{}{path}", cfg.public_base),
            &params,
        );
        let measured = Instant::now() >= measure_from;
        w.requests += u64::from(measured);
        let reply = match conn
            .post_form(&path, &[("X-Twilio-Signature", &sig)], &form(&params))
            .await
        {
            Ok(r) if r.status == 200 => r,
            _ => {
                w.errors += u64::from(measured);
                match Conn::connect(&cfg.addr).await {
                    Ok(c) => conn = c,
                    Err(_) => return w,
                }
                continue;
            }
        };
        w.calls += u64::from(measured);
        let mut action = gather_action(&String::from_utf8_lossy(&reply.body), &cfg.public_base);
        let mut i = 0usize;
        while let Some(path) = action.take() {
            if i >= 64 || Instant::now() >= deadline {
                break;
            }
            let mut params = base.clone();
            params.push(("CallStatus".to_owned(), "in-progress".to_owned()));
            let answer = cfg
                .answers
                .get(i % cfg.answers.len().max(1))
                .cloned()
                .unwrap_or_default();
            params.push(("Confidence".to_owned(), "0.92".to_owned()));
            params.push(("Language".to_owned(), "fr-FR".to_owned()));
            params.push(("SpeechResult".to_owned(), answer));
            let sig = signature::compute(
                &cfg.auth_token,
                &format!("{}{path}", cfg.public_base),
                &params,
            );
            let body = form(&params);
            let t0 = Instant::now();
            let measured = t0 >= measure_from;
            w.requests += u64::from(measured);
            match conn
                .post_form(&path, &[("X-Twilio-Signature", &sig)], &body)
                .await
            {
                Ok(r) if r.status == 200 => {
                    if measured {
                        let us = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
                        w.latencies.push(us);
                        w.callbacks += 1;
                    }
                    action = gather_action(&String::from_utf8_lossy(&r.body), &cfg.public_base);
                }
                _ => {
                    w.errors += u64::from(measured);
                    match Conn::connect(&cfg.addr).await {
                        Ok(c) => conn = c,
                        Err(_) => return w,
                    }
                }
            }
            i += 1;
        }
        // The call is over: Twilio's status callback ends its session and record.
        let mut params = base;
        params.push(("CallStatus".to_owned(), "completed".to_owned()));
        params.push(("CallDuration".to_owned(), "60".to_owned()));
        let sig = signature::compute(
            &cfg.auth_token,
            &format!("{}/status", cfg.public_base),
            &params,
        );
        let measured = Instant::now() >= measure_from;
        w.requests += u64::from(measured);
        if conn
            .post_form("/status", &[("X-Twilio-Signature", &sig)], &form(&params))
            .await
            .is_err()
        {
            w.errors += u64::from(measured);
            match Conn::connect(&cfg.addr).await {
                Ok(c) => conn = c,
                Err(_) => return w,
            }
        }
    }
    w
}

/// A number for this run, the first eight hex digits of its call SIDs (then the connection's
/// number and the call's). Two runs against one server must not share SIDs: the records keep a
/// call's first write, so a call replayed under a recorded SID commits nothing new, and the
/// second run would measure a writer with nothing to write.
fn run_id() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| {
            d.subsec_nanos() ^ (d.as_secs() as u32).rotate_left(16)
        });
    nanos ^ std::process::id().rotate_left(8)
}

/// Runs the load and reports.
pub async fn run(cfg: GatherConfig) -> Report {
    let cpu = |pids: &[u32]| -> Option<u64> {
        if pids.is_empty() {
            return None;
        }
        pids.iter().map(|p| process_cpu_us(*p)).sum()
    };
    let measure_from = Instant::now() + cfg.warmup;
    let deadline = measure_from + cfg.duration;
    let run = run_id();
    let mut tasks = Vec::new();
    for id in 0..cfg.connections.max(1) {
        tasks.push(tokio::spawn(worker(
            cfg.clone(),
            run,
            id,
            measure_from,
            deadline,
        )));
    }
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu_before = cpu(&cfg.server_pids);
    let threads_before = threads_cpu_us(&cfg.server_pids);
    let started = Instant::now();
    let mut latencies: Vec<u32> = Vec::new();
    let (mut callbacks, mut calls, mut errors, mut requests) = (0, 0, 0, 0);
    for t in tasks {
        if let Ok(w) = t.await {
            latencies.extend(w.latencies);
            callbacks += w.callbacks;
            calls += w.calls;
            errors += w.errors;
            requests += w.requests;
        }
    }
    let elapsed = started.elapsed();
    // The threads' window inside the process's: their split never exceeds the whole.
    let threads_after = threads_cpu_us(&cfg.server_pids);
    let cpu_after = cpu(&cfg.server_pids);
    latencies.sort_unstable();
    let pct = |p: f64| -> u32 {
        if latencies.is_empty() {
            return 0;
        }
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(i).copied().unwrap_or(0)
    };
    Report {
        connections: cfg.connections,
        callbacks,
        calls,
        errors,
        elapsed,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        max_us: latencies.last().copied().unwrap_or(0),
        server_cpu_us_per_request: match (cpu_before, cpu_after) {
            (Some(a), Some(b)) if requests > 0 => Some((b - a) as f64 / requests as f64),
            _ => None,
        },
        requests,
        server_cpu_by_thread: match (threads_before, threads_after) {
            (Some(a), Some(b)) if requests > 0 => per_request_by_thread(&a, &b, requests),
            _ => Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_gather_action() {
        let xml = r#"<Response><Gather input="speech" action="http://h:1/flows/x/step?seq=2&amp;a=b"><Say>q</Say></Gather></Response>"#;
        assert_eq!(
            gather_action(xml, "http://h:1").as_deref(),
            Some("/flows/x/step?seq=2&a=b")
        );
        assert_eq!(
            gather_action("<Response><Dial>15</Dial></Response>", "http://h:1"),
            None
        );
    }

    #[test]
    fn reads_its_own_cpu_time() {
        assert!(process_cpu_us(std::process::id()).is_some());
    }

    #[test]
    fn reads_a_stat_line_whatever_the_name() {
        let line = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 17 0 0 20 0 3 0 1 2 3";
        assert_eq!(stat_cpu_us(line), Some(("a (b) c", 2_670_000)));
        assert_eq!(stat_cpu_us("42 (x) S 1 2"), None);
        assert_eq!(stat_cpu_us("no name at all"), None);
    }

    #[test]
    fn reads_a_schedstat_line_in_microseconds() {
        assert_eq!(schedstat_us("244340123 0 2\n"), Some(244_340));
        assert_eq!(schedstat_us(""), None);
        assert_eq!(schedstat_us("x 0 2"), None);
    }

    #[test]
    fn splits_its_own_cpu_time_by_thread_name() {
        let me = [std::process::id()];
        let before = threads_cpu_us(&me).unwrap();
        // A named thread that spins until it has spent 20 ms of CPU (or 30 s have
        // passed on a machine too busy to give it them), reading its own figure as it goes.
        let during = std::thread::Builder::new()
            .name("bench-spin".to_owned())
            .spawn(|| {
                let start = std::time::Instant::now();
                let mut x = 0u64;
                let mut during = BTreeMap::new();
                while start.elapsed() < Duration::from_secs(30) {
                    for _ in 0..100_000 {
                        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                    }
                    during = threads_cpu_us(&[std::process::id()]).unwrap_or_default();
                    if during.get("bench-spin").copied().unwrap_or(0) >= 20_000 {
                        break;
                    }
                }
                during
            })
            .unwrap()
            .join()
            .unwrap();
        let spun = during.get("bench-spin").copied().unwrap_or(0);
        assert!(spun >= 20_000, "{during:?}");
        // Per request: the thread's time (new since `before`) over the 10 requests.
        let rows = per_request_by_thread(&before, &during, 10);
        let spin = rows.iter().find(|(n, _)| n == "bench-spin");
        assert_eq!(
            spin.map(|(_, us)| *us),
            Some(spun as f64 / 10.0),
            "{rows:?}"
        );
        // The largest first.
        assert!(rows.windows(2).all(|w| w[0].1 >= w[1].1), "{rows:?}");
        assert!(threads_cpu_us(&[u32::MAX]).is_none());
    }
}
