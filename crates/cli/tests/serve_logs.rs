//! `hotline serve --log-format json`: everything the server writes on standard error, its log
//! events and the operator's lines (banner, warnings, flow diagnostics) alike, is one JSON object
//! per line at its level (ERROR for what stopped the server), so that a log shipper reads one format.
#![allow(clippy::unwrap_used)]

mod serve;

use serve::{Serve, exchange, root};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Each line of `text` as JSON; a line that is not fails the test.
fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn with_the_json_log_format_every_line_on_stderr_is_a_json_event() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_hotline"));
    command
        .current_dir(root())
        .args(["serve", "examples/flows/covid-triage-fr.yaml", "-v"])
        .args(["--listen", "127.0.0.1:0", "--metrics-listen", "0.0.0.0:0"])
        .args(["--auth-token", "log-format-token"])
        .arg("--records")
        .arg(format!(
            "sqlite:{}",
            dir.path().join("records.db").display()
        ))
        .env("HOTLINE_LOG_FORMAT", "json")
        .env_remove("HOTLINE_LOG")
        .env_remove("HOTLINE_METRICS_TOKEN")
        .stdout(Stdio::null());
    let (server, webhooks) = Serve::start(command, Duration::from_secs(30), "");
    // A webhook without a signature: refused, and logged.
    let answer = exchange(
        webhooks,
        "POST /voice HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nFrom=%2B",
    );
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let printed = server.stop();

    let events = json_lines(&printed);
    for e in &events {
        assert!(e["timestamp"].is_string(), "{e}");
        assert!(e["level"].is_string(), "{e}");
        assert!(e["target"].is_string(), "{e}");
        assert!(e["fields"]["message"].is_string(), "{e}");
    }
    let said = |target: &str, level: &str, text: &str| {
        events.iter().any(|e| {
            e["target"] == target
                && e["level"] == level
                && e["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(text))
        })
    };
    // The operator's lines: the banner, the flow loaded, the metrics' warning, the stop.
    assert!(
        said("hotline_console", "INFO", "listening on 127.0.0.1:"),
        "{printed}"
    );
    assert!(
        said("hotline_console", "INFO", "flow covid-triage-fr (version"),
        "{printed}"
    );
    assert!(
        said(
            "hotline_console",
            "WARN",
            "WARNING: the metrics on 0.0.0.0:"
        ),
        "{printed}"
    );
    // The server's own log events (-v: info).
    assert!(
        events.iter().any(|e| e["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("hotline_store"))),
        "{printed}"
    );
}

#[test]
fn with_the_json_log_format_invalid_flows_are_reported_as_one_json_event() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("broken.yaml");
    std::fs::write(
        &flow,
        "flow: broken\nlanguage: en-US\nnodes:\n  start:\n    goto: nowhere\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("serve")
        .arg(&flow)
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(["--auth-token", "log-format-token"])
        .arg("--records")
        .arg(format!(
            "sqlite:{}",
            dir.path().join("records.db").display()
        ))
        .env_remove("HOTLINE_LOG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let events = json_lines(&stderr);
    // Both at the ERROR level: they are what stopped the server.
    let errors: Vec<&str> = events
        .iter()
        .filter(|e| e["level"] == "ERROR")
        .filter_map(|e| e["fields"]["message"].as_str())
        .collect();
    assert!(
        errors
            .iter()
            .any(|m| m.contains("error[F") && m.contains("nowhere") && m.contains('\n')),
        "{stderr}"
    );
    assert!(
        errors.iter().any(|m| m.contains("nothing was started")),
        "{stderr}"
    );
}
