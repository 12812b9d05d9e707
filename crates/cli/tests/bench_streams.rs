//! `hotline bench streams` end to end, small: the real binary serves a voice bot on the fake
//! engine (as `scripts/bench-streams.sh` does) and the bench opens a few real-time streams
//! against it. Every stream must open, last and close cleanly, the bot must take turns (the
//! bench plays Twilio's REST API and sees the call updates), and lag samples must come back.
#![allow(clippy::unwrap_used)]

mod serve;

use serve::{Serve, bench, free_port, root, row};
use std::process::{Command, Stdio};
use std::time::Duration;

const TOKEN: &str = "bench-streams-token";
const ACCOUNT: &str = "AC00000000000000000000000000000000";

#[test]
fn a_few_streams_open_take_turns_and_close_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let bot = dir.path().join("bot.yaml");
    std::fs::write(
        &bot,
        "greeting: [\"Hello.\"]\naudio_transcript: \"my account number\"\nno_match: [\"OK.\"]\n",
    )
    .unwrap();
    // The bench's fake REST API must be named to the server before the bench listens on it:
    // a probed port (the server's own is chosen by the system).
    let rest = free_port();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_hotline"));
    serve
        .current_dir(root())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--auth-token", TOKEN, "--account-sid", ACCOUNT])
        .arg("--records")
        .arg(format!(
            "sqlite:{}",
            dir.path().join("records.db").display()
        ))
        .arg("--bot")
        .arg(format!("load=fake:{},vad=webrtc", bot.display()))
        .args(["--twilio-api-base", &format!("http://127.0.0.1:{rest}")])
        .stdout(Stdio::null());
    let (server, addr) = Serve::start(serve, Duration::from_secs(30), "");
    let addr = addr.to_string();
    let rest_listen = format!("127.0.0.1:{rest}");
    let stdout = bench(
        &[
            "streams",
            "--addr",
            &addr,
            "--bot",
            "load",
            "--auth-token",
            TOKEN,
            "--rest-listen",
            &rest_listen,
            "--audio",
            "crates/voice/tests/fixtures/account_8k_ulaw.wav",
            "--silence-after",
            "1s",
            "--streams",
            "4",
            "--duration",
            "6s",
            "--ramp",
            "200ms",
            "--warmup",
            "300ms",
        ],
        &server,
    );
    // streams failed dropped lag-p50 lag-p99 lag-max turns turn-p50 turn-p95 turn-min srv cli late held
    let row = row(&stdout, "4");
    assert_eq!(row.len(), 14, "{stdout}");
    assert_eq!(
        (row[1], row[2]),
        ("0", "0"),
        "no failed or dropped stream:\n{stdout}"
    );
    let turns: usize = row[6].parse().unwrap();
    assert!(turns >= 4, "each stream's bot took a turn:\n{stdout}");
    assert_eq!(row[13], "yes", "{stdout}");
    assert!(stdout.contains("largest level held"), "{stdout}");
}
