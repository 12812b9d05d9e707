//! A `hotline serve` child process for the binary's end-to-end tests: started on a port the
//! system picks (`--listen 127.0.0.1:0`), its address read from what it prints, the process
//! killed when dropped, and everything it printed kept for the tests' messages.
//!
//! Why not a "free port" found first and passed in: between the probe releasing that port and
//! the server binding it, a test running in parallel could take the same one, and the server
//! would fail to start or, worse, a test would talk to another test's server.
#![allow(clippy::unwrap_used, dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The repository's root, where the tests run the binary (it reads `examples/`, fixtures).
pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// A free loopback port (bound, read, released), for a listener that is not `hotline serve`'s
/// and must be named before it exists (the bench's fake REST API). Racy: see the module docs.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `request` sent on a new connection to `addr` (which closes it); gives the whole answer.
pub fn exchange(addr: SocketAddr, request: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}

/// The address in `hotline serve`'s start-up line (`hotline serve: listening on ADDR — …`).
fn listening_on(line: &str) -> Option<SocketAddr> {
    line.split("listening on ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The server process, killed when dropped.
pub struct Serve {
    child: Child,
    printed: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Spawns `command` (a `hotline serve … --listen 127.0.0.1:0`, or a shell that execs one)
    /// with its standard error piped, and waits until it prints the address it listens on.
    /// Panics with what it printed if it exits first or does not listen `within`; `hint` is
    /// added to that message.
    pub fn start(mut command: Command, within: Duration, hint: &str) -> (Serve, SocketAddr) {
        let mut child = command.stderr(Stdio::piped()).spawn().unwrap();
        let pipe = child.stderr.take().unwrap();
        let printed = Arc::new(Mutex::new(String::new()));
        let (found, listening) = mpsc::channel();
        let reader = {
            let printed = Arc::clone(&printed);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let addr = listening_on(&line);
                    {
                        let mut printed = printed.lock().unwrap();
                        printed.push_str(&line);
                        printed.push('\n');
                    }
                    if let Some(addr) = addr {
                        let _ = found.send(addr);
                    }
                }
            })
        };
        let mut server = Serve {
            child,
            printed,
            reader: Some(reader),
        };
        let deadline = Instant::now() + within;
        loop {
            match listening.recv_timeout(Duration::from_millis(100)) {
                Ok(addr) => return (server, addr),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = server.child.wait().unwrap();
                    panic!("hotline serve exited ({status}){hint}:\n{}", server.stop());
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = server.child.try_wait() {
                        panic!("hotline serve exited ({status}){hint}:\n{}", server.stop());
                    }
                    assert!(
                        Instant::now() < deadline,
                        "hotline serve did not listen within {within:?}{hint}:\n{}",
                        server.printed()
                    );
                }
            }
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server has printed on its standard error so far.
    pub fn printed(&self) -> String {
        self.printed.lock().unwrap().clone()
    }

    /// The metrics listener's address, from the start-up line `metrics: http://ADDR/metrics`.
    pub fn metrics_addr(&self) -> SocketAddr {
        let printed = self.printed();
        printed
            .lines()
            .find_map(|l| l.strip_prefix("metrics: http://")?.strip_suffix("/metrics"))
            .unwrap_or_else(|| panic!("no metrics address in:\n{printed}"))
            .parse()
            .unwrap()
    }

    /// Kills the server and gives everything it printed on its standard error.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.printed()
    }
}

/// Runs `hotline bench …` (from the repository root) with `args` and `--server-pid` of
/// `server`; panics with its output unless it succeeds, else gives its standard output.
pub fn bench(args: &[&str], server: &Serve) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .current_dir(root())
        .arg("bench")
        .args(args)
        .arg("--server-pid")
        .arg(server.pid().to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The fields of the row of a bench's table whose first field is `first`.
pub fn row<'a>(stdout: &'a str, first: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(first))
        .unwrap_or_else(|| panic!("no row for {first}:\n{stdout}"))
        .split_whitespace()
        .collect()
}
