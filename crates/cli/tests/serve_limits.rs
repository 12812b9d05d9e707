//! `hotline serve`'s connection limits, end to end: flags reach the server, abandoned and
//! trickling connections are closed, and the server goes on answering.
#![allow(clippy::unwrap_used)]

mod serve;

use serve::{Serve, root};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A `hotline serve` of the French triage flow with `limits`, its port, and its records' folder.
fn start(limits: &[&str]) -> (Serve, u16, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_hotline"));
    serve
        .current_dir(root())
        .args(["serve", "examples/flows/covid-triage-fr.yaml"])
        .args(["--listen", "127.0.0.1:0"])
        .args(["--auth-token", "limits-token"])
        .arg("--records")
        .arg(format!(
            "sqlite:{}",
            dir.path().join("records.db").display()
        ))
        .args(limits)
        .stdout(Stdio::null());
    let (server, addr) = Serve::start(serve, Duration::from_secs(30), "");
    (server, addr.port(), dir)
}

/// How long until the server closes `stream`, reading (and ignoring) whatever it sends.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> Duration {
    stream.set_read_timeout(Some(limit)).unwrap();
    let begun = Instant::now();
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return begun.elapsed(),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("still open after {limit:?}")
            }
            Err(_) => return begun.elapsed(),
        }
    }
}

fn healthy(port: u16) -> bool {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

#[test]
fn abandoned_and_trickling_connections_are_closed_and_the_server_goes_on() {
    let (server, port, dir) = start(&["--idle-timeout", "400ms", "--header-timeout", "300ms"]);
    let mut silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    slow.write_all(b"POST /voice HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let writer = {
        let mut slow = slow.try_clone().unwrap();
        std::thread::spawn(move || {
            // A header byte every 50 ms for 10 s, unless cut off.
            for _ in 0..200 {
                if slow.write_all(b"X").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let slow_after = closed_within(&mut slow, Duration::from_secs(8));
    let silent_after = closed_within(&mut silent, Duration::from_secs(8));
    assert!(slow_after >= Duration::from_millis(250), "{slow_after:?}");
    assert!(silent_after < Duration::from_secs(8));
    writer.join().unwrap();
    assert!(healthy(port), "the server answers after closing them");
    drop(server);
    drop(dir);
}

#[test]
fn a_limit_of_zero_is_refused_with_the_flag_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .current_dir(root())
        .args(["serve", "examples/flows/covid-triage-fr.yaml"])
        // Refused before it listens, so no port of its own (a free port taken here could be the
        // other test's).
        .args(["--listen", "127.0.0.1:0"])
        .args(["--auth-token", "limits-token"])
        .args(["--header-timeout", "0s"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--header-timeout"), "{err}");
}

/// `hotline serve` started by `sh` after `ulimit` (records in `dir`, then `extra` flags) on a
/// port of its own; gives the server and the address it bound.
fn serve_under_sh(
    ulimit: &str,
    dir: &std::path::Path,
    extra: &[&str],
) -> (Serve, std::net::SocketAddr) {
    let mut command = format!(
        "{ulimit}; exec \"$0\" serve examples/flows/covid-triage-fr.yaml --listen 127.0.0.1:0 \
         --auth-token limits-token --records sqlite:{}/records.db",
        dir.display()
    );
    for arg in extra {
        command.push(' ');
        command.push_str(arg);
    }
    let mut sh = Command::new("sh");
    sh.current_dir(root())
        .args(["-c", &command, env!("CARGO_BIN_EXE_hotline")])
        .stdout(Stdio::null());
    Serve::start(sh, Duration::from_secs(30), "")
}

/// What `hotline serve` prints up to where it listens, started by `sh` with `ulimit` first.
fn start_up_lines(ulimit: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = serve_under_sh(ulimit, dir.path(), extra);
    server.printed()
}

#[test]
fn the_open_file_limit_is_raised_to_the_hard_one_and_limits_beyond_it_are_warned_of() {
    let raised = start_up_lines("ulimit -S -n 256", &[]);
    assert!(
        raised.contains("open-file limit raised from 256 to"),
        "{raised}"
    );
    assert!(raised.contains("listening on"), "{raised}");
    let capped = start_up_lines("ulimit -n 512", &["--max-connections", "1000"]);
    assert!(
        capped.contains("WARNING: --max-connections 1000 needs about 1256 open files, but this process may open 512"),
        "{capped}"
    );
    assert!(capped.contains("listening on"), "{capped}");
    // Media streams leave the connection count once upgraded: they need descriptors of their own.
    let streams = start_up_lines(
        "ulimit -n 1024",
        &["--max-connections", "1000", "--max-streams", "200"],
    );
    assert!(
        streams.contains("WARNING: --max-connections 1000 and --max-streams 200 need about 1456 open files, but this process may open 1024"),
        "{streams}"
    );
}

#[test]
fn out_of_file_descriptors_idle_connections_make_room_and_it_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    // 64 descriptors in all: a few dozen connections exhaust them. Checks every 100 ms.
    let (server, addr) = serve_under_sh("ulimit -n 64", dir.path(), &["--header-timeout", "400ms"]);
    // More idle connections than descriptors; those past the limit wait in the backlog.
    let held: Vec<TcpStream> = (0..100)
        .filter_map(|_| TcpStream::connect(addr).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let deadline = Instant::now() + Duration::from_secs(20);
    let answered = loop {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut answer = String::new();
        if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .is_ok()
        {
            let _ = s.read_to_string(&mut answer);
        }
        if answer.starts_with("HTTP/1.1 200") {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
    };
    drop(held);
    let logged = server.stop();
    assert!(answered, "a new caller is served: {logged}");
    assert!(logged.contains("out of file descriptors"), "{logged}");
    drop(dir);
}
