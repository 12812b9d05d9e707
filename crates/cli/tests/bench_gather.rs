//! `hotline bench gather` end to end, small: the real binary serves the French triage flow with
//! signatures checked and SQLite records (as `scripts/bench-gather.sh` does), and the bench plays
//! whole calls against it after a warm-up. Every callback must be answered, the figures must be
//! there, and only the measured window may be counted.
#![allow(clippy::unwrap_used)]

mod serve;

use serve::{Serve, bench, root, row};
use std::process::{Command, Stdio};
use std::time::Duration;

const TOKEN: &str = "bench-gather-token";

#[test]
fn calls_are_played_and_measured_after_the_warm_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_hotline"));
    serve
        .current_dir(root())
        .args(["serve", "examples/flows/covid-triage-fr.yaml"])
        .args(["--listen", "127.0.0.1:0"])
        .args(["--auth-token", TOKEN])
        .arg("--records")
        .arg(format!("sqlite:{}", db.display()))
        .stdout(Stdio::null());
    let (server, addr) = Serve::start(serve, Duration::from_secs(30), "");
    // Signatures are checked against the default public URL, which names the chosen port.
    let printed = server.printed();
    assert!(
        printed.contains(&format!("voice webhook http://{addr}/voice")),
        "{printed}"
    );
    let addr = addr.to_string();
    // A run at 2 connections after `warmup` of unmeasured load, measured for 1 s.
    let run = |warmup: &str| {
        bench(
            &[
                "gather",
                "--addr",
                &addr,
                "--auth-token",
                TOKEN,
                "--connections",
                "2",
                "--warmup",
                warmup,
                "--duration",
                "1s",
            ],
            &server,
        )
    };
    let stdout = run("2s");
    // conns callbacks/s p50 p99 max CPU-µs/req errors
    let row = row(&stdout, "2");
    assert_eq!(row.len(), 7, "{stdout}");
    let number = |i: usize| row[i].parse::<f64>().unwrap();
    let per_sec = number(1);
    assert!(per_sec > 0.0, "{stdout}");
    assert!(number(2) > 0.0 && number(2) <= number(3), "{stdout}");
    assert!(number(3) <= number(4), "{stdout}");
    assert!(number(5) > 0.0, "no server CPU per request: {stdout}");
    assert_eq!(row[6], "0", "{stdout}");
    // The server's CPU split by thread: its HTTP workers and its SQLite writer, whose shares
    // sum to at most the whole (threads that ended are only in the whole). The threads' times
    // are exact (`schedstat`); the whole is in clock ticks, its user and system parts each cut
    // to a tick at either end of the window: two ticks (10 ms each, over the requests, fewer
    // than the callbacks), and each printed share's rounding to 0.1 µs.
    let split = stdout
        .lines()
        .find_map(|l| l.split_once("server CPU µs/req by thread: "))
        .map(|(_, split)| split)
        .unwrap_or_else(|| panic!("no CPU split by thread: {stdout}"));
    let shares: Vec<(&str, f64)> = split
        .split(", ")
        .map(|part| {
            let (name, us) = part.rsplit_once(' ').unwrap();
            (name, us.parse::<f64>().unwrap())
        })
        .collect();
    for thread in ["tokio-rt-worker", "hotline-records"] {
        assert!(
            shares.iter().any(|(name, us)| *name == thread && *us > 0.0),
            "{thread} missing: {stdout}"
        );
    }
    let sum: f64 = shares.iter().map(|(_, us)| us).sum();
    let tick_per_request = 10_000.0 / per_sec;
    let slack = 2.0 * tick_per_request + 0.1 * shares.len() as f64;
    assert!(
        sum <= number(5) + slack,
        "{sum} > {} + {slack}: {stdout}",
        number(5)
    );

    // Callbacks/s is over the measured second only: the warm-up's callbacks, in the records
    // too, are not counted. The records hold both (one `heard` step per callback answered):
    // about three times the measured rate, more than 1.5 times unless the warm-up ran at under
    // a quarter of that rate. Counting the warm-up, or skipping it, gives about once.
    let heard = || -> f64 {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.query_row("SELECT count(*) FROM steps WHERE kind = 'heard'", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap() as f64
    };
    let first = heard();
    assert!(
        first > per_sec * 1.5,
        "{first} callbacks recorded over 3 s of load, {per_sec}/s measured over 1 s: {stdout}"
    );

    // A second run against the same server plays new calls: with the first run's call SIDs,
    // the records (first write wins) would keep nothing of it, and the run would measure a
    // writer with nothing to write.
    let stdout = run("1s");
    let again = serve::row(&stdout, "2")[1].parse::<f64>().unwrap();
    let added = heard() - first;
    assert!(
        added > again,
        "{added} callbacks recorded over 2 s of a second run at {again}/s: {stdout}"
    );
    drop(server);
}
