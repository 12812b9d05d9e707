//! A flow routing spoken answers by intent with the embedded engine, end to end: the real
//! binary serves `examples/flows/clinic-reception.yaml` with `--intents
//! clinic=examples/bots/appointments.yaml` (the local classifier with sentence embeddings), and
//! `hotline call` plays callers who say what they want in words that are in neither the
//! flow's keywords nor the bot's samples. Needs the models (`scripts/install-models.sh`, run
//! by `scripts/test.sh`).
#![allow(clippy::unwrap_used)]

mod serve;

use serde_json::Value;
use serve::{Serve, root};
use std::process::{Command, Stdio};
use std::time::Duration;

const TOKEN: &str = "intents-cli-token";

fn models() -> std::ffi::OsString {
    std::env::var_os("HOTLINE_MODELS_DIR").unwrap_or_else(|| root().join("models").into())
}

/// The clinic's flow served with its intents, on a port of its own.
fn serve(records: &std::path::Path) -> (Serve, u16) {
    let mut serve = Command::new(env!("CARGO_BIN_EXE_hotline"));
    serve
        .current_dir(root())
        .env("HOTLINE_MODELS_DIR", models())
        .args([
            "serve",
            "examples/flows/clinic-reception.yaml",
            "--intents",
            "clinic=examples/bots/appointments.yaml",
            "--listen",
            "127.0.0.1:0",
            "--auth-token",
            TOKEN,
            "--records",
        ])
        .arg(records)
        .stdout(Stdio::null());
    let (server, addr) = Serve::start(
        serve,
        Duration::from_secs(60),
        " (models: scripts/install-models.sh)",
    );
    (server, addr.port())
}

/// What the caller heard and where the call went: `say:…`, `dial:…`, `enqueue:…`.
fn call(port: u16, words: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args([
            "call",
            "--json",
            "--auth-token",
            TOKEN,
            &format!("http://127.0.0.1:{port}/voice"),
            "--say",
            words,
            "--silence",
            "6s",
        ])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    json["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            Some(match e["type"].as_str()? {
                "say" => format!("say:{}", s("text")),
                "dial" => format!("dial:{}", e["targets"][0].as_str().unwrap_or_default()),
                "enqueue" => format!("enqueue:{}", s("queue")),
                "application_error" => format!("app-error:{}", e["code"]),
                _ => return None,
            })
        })
        .collect()
}

#[test]
fn callers_are_routed_by_what_they_mean() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, port) = serve(&dir.path().join("records.db"));
    for (words, expected) in [
        (
            "hi, I was hoping to get my teeth cleaned sometime next week",
            "dial:number +12025550140",
        ),
        (
            "I can't make it on Thursday, I need to call off my visit",
            "dial:number +12025550141",
        ),
        (
            "what time do you close on Saturday",
            "say:We are open Monday to Friday",
        ),
        ("can I talk to somebody at the desk", "enqueue:front-desk"),
        // Nothing the clinic does: the question's no-match reprompt.
        ("my cat is sick", "say:Sorry, I didn't catch that."),
    ] {
        let story = call(port, words);
        assert!(
            story.iter().any(|s| s.starts_with(expected)),
            "{words:?} should lead to {expected:?}: {story:?}"
        );
        assert!(
            !story.iter().any(|s| s.starts_with("app-error")),
            "{story:?}"
        );
    }
}

#[test]
fn check_finds_intents_the_bot_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("clinic.yaml");
    let source = std::fs::read_to_string(root().join("examples/flows/clinic-reception.yaml"))
        .unwrap()
        .replace("intent: OpeningHours", "intent: OpeningHour");
    std::fs::write(&flow, source).unwrap();
    let check = |flow: &std::path::Path, spec: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
            .current_dir(root())
            .args(["check", "--color", "false", "--intents", spec])
            .arg(flow)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = check(&flow, "clinic=examples/bots/appointments.yaml");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("error[F0035]"), "{err}");
    assert!(err.contains("clinic.yaml:35:9"), "{err}");
    assert!(err.contains("did you mean `OpeningHours`?"), "{err}");

    let (code, err) = check(
        &root().join("examples/flows/clinic-reception.yaml"),
        "front=examples/bots/appointments.yaml",
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("error[F0034]"), "{err}");

    let (code, err) = check(
        &root().join("examples/flows/clinic-reception.yaml"),
        "clinic=examples/bots/appointments.yaml",
    );
    assert_eq!(code, Some(0), "{err}");
}
