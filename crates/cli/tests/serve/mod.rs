//! A `hotline serve` child process for the binary's end-to-end tests: a free loopback port,
//! the process killed when dropped, and a wait until it listens.
#![allow(clippy::unwrap_used, dead_code, unreachable_pub)]

use std::net::TcpStream;
use std::process::Child;
use std::time::{Duration, Instant};

/// The repository's root, where the tests run the binary (it reads `examples/`, fixtures).
pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// A free loopback port (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server process, killed when dropped.
pub struct Serve(pub Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Serve {
    /// Waits until `port` accepts connections; panics with the server's stderr (when piped)
    /// if it exits first, or after `within`. `hint` is added to the exit message.
    pub fn wait_listening(mut self, port: u16, within: Duration, hint: &str) -> Serve {
        let deadline = Instant::now() + within;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.0.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = self.0.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                panic!("hotline serve exited ({status}){hint}:\n{err}");
            }
            assert!(Instant::now() < deadline, "hotline serve did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        self
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
        .arg(server.0.id().to_string())
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
