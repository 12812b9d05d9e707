//! `hotline call` end to end: the real binary against the tests' TwiML app.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;
use support::{TOKEN, TestApp};

/// The local models (the clinic's scenarios route by intent), wherever the tests run from.
fn models() -> std::ffi::OsString {
    std::env::var_os("HOTLINE_MODELS_DIR").unwrap_or_else(|| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../models")
            .into()
    })
}

async fn hotline(args: &[&str]) -> (i32, Value) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["call", "--json", "--auth-token", TOKEN])
        .args(args)
        .env("HOTLINE_MODELS_DIR", models())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

/// The events as compact strings: `play:intro.wav`, `gather`, `input:no input…`, …
fn story(json: &Value) -> Vec<String> {
    json["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            Some(match e["type"].as_str()? {
                "play" => format!("play:{}", s("url").rsplit('/').next().unwrap_or_default()),
                "say" => format!("say:{}", s("text")),
                "gather" => "gather".to_owned(),
                "input_result" => format!("input:{}", s("result")),
                "dial" => format!("dial:{}", e["targets"][0].as_str().unwrap_or_default()),
                "enqueue" => format!("enqueue:{}", s("queue")),
                "application_error" => format!("app-error:{}", e["code"]),
                "call_ended" => format!("ended:{}", s("reason")),
                _ => return None,
            })
        })
        .collect()
}

#[tokio::test]
async fn silent_caller_hears_the_seed_bins_retries() {
    let app = TestApp::start().await;
    let (code, json) = hotline(&[&app.url("/voice"), "--silence", "30s"]).await;
    assert_eq!(code, 0);
    assert_eq!(
        story(&json),
        [
            "play:intro.wav",
            "play:beep.wav",
            "gather",
            "input:no input within 5s; continuing with the next verb",
            "play:error-01.wav",
            "play:beep.wav",
            "gather",
            "input:no input within 5s; continuing with the next verb",
            "play:error-02.wav",
            "ended:completed",
        ]
    );
    // Only the voice webhook was requested: a silent gather does not call its action.
    let seen = app.seen();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].signature_ok);
    assert_eq!(seen[0].param("CallStatus"), Some("ringing"));
}

#[tokio::test]
async fn speaking_caller_posts_a_signed_speech_result() {
    let app = TestApp::start().await;
    let (code, json) = hotline(&[
        &app.url("/voice"),
        "--say",
        "oui c'est le covid",
        "--confidence",
        "0.87",
    ])
    .await;
    assert_eq!(code, 0);
    let s = story(&json);
    assert!(s.contains(&"play:divert-samu.wav".to_owned()), "{s:?}");
    assert!(s.contains(&"dial:number 15".to_owned()), "{s:?}");
    assert_eq!(s.last().unwrap(), "ended:dial");
    let seen = app.seen();
    let action = seen.iter().find(|r| r.path == "/step-01").unwrap();
    assert!(
        action.signature_ok,
        "the gather action must be correctly signed"
    );
    assert_eq!(action.param("SpeechResult"), Some("oui c'est le covid"));
    assert_eq!(action.param("Confidence"), Some("0.87"));
    assert_eq!(action.param("CallStatus"), Some("in-progress"));
    for k in [
        "CallSid",
        "AccountSid",
        "From",
        "To",
        "Caller",
        "Called",
        "Direction",
        "ApiVersion",
    ] {
        assert!(action.param(k).is_some(), "missing {k}");
    }
}

#[tokio::test]
async fn a_wrong_token_is_refused_by_the_application() {
    let app = TestApp::start().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args([
            "call",
            "--json",
            "--auth-token",
            "not-the-token",
            &app.url("/voice"),
        ])
        .output()
        .await
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        story(&json),
        [
            "app-error:11200",
            "say:We are sorry, an application error has occurred. Goodbye.",
            "ended:application-error"
        ]
    );
    assert!(!app.seen()[0].signature_ok);
}

#[tokio::test]
async fn dtmf_menu_and_digits() {
    let app = TestApp::start().await;
    let (_, json) = hotline(&[&app.url("/menu"), "--press", "1"]).await;
    let s = story(&json);
    assert!(
        s.contains(&"dial:sip sip:sales@example.com".to_owned()),
        "{s:?}"
    );
    let choice = app
        .seen()
        .into_iter()
        .find(|r| r.path == "/menu-choice")
        .unwrap();
    assert_eq!(choice.param("Digits"), Some("1"));
}

#[tokio::test]
async fn broken_applications_get_twilios_outcomes() {
    let app = TestApp::start().await;
    for (path, code) in [
        ("/malformed", "12100"),
        ("/unknown-verb", "12100"),
        ("/json", "12300"),
        ("/error-500", "11200"),
        ("/nowhere", "11200"),
    ] {
        let (exit, json) = hotline(&[&app.url(path)]).await;
        assert_eq!(exit, 0, "{path}");
        let s = story(&json);
        assert_eq!(
            s.first().unwrap(),
            &format!("app-error:{code}"),
            "{path}: {s:?}"
        );
        assert_eq!(json["ended_by"], "application-error", "{path}");
    }
    // The parse error says where.
    let (_, json) = hotline(&[&app.url("/malformed")]).await;
    let err = json["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "application_error")
        .unwrap();
    assert!(err["message"].as_str().unwrap().contains("line 3"), "{err}");
    // A timeout.
    let (_, json) = hotline(&[&app.url("/slow"), "--timeout", "300ms"]).await;
    assert_eq!(story(&json)[0], "app-error:11205");
}

#[tokio::test]
async fn plain_text_missing_audio_and_loops() {
    let app = TestApp::start().await;
    let (_, json) = hotline(&[&app.url("/plain")]).await;
    assert_eq!(
        story(&json),
        ["say:Hello from plain text", "ended:completed"]
    );

    let (_, json) = hotline(&[&app.url("/missing-audio")]).await;
    assert_eq!(story(&json), ["say:still here", "ended:completed"]);

    let (_, json) = hotline(&[&app.url("/loop")]).await;
    assert_eq!(json["ended_by"], "limit");
}

#[tokio::test]
async fn record_posts_the_recording_and_transcription() {
    let app = TestApp::start().await;
    let (_, json) = hotline(&[
        &app.url("/record"),
        "--say",
        "please call me back",
        "--silence",
        "10s",
    ])
    .await;
    assert_eq!(json["ended_by"], "hangup");
    let seen = app.seen();
    let recorded = seen.iter().find(|r| r.path == "/recorded").unwrap();
    assert!(
        recorded
            .param("RecordingUrl")
            .unwrap()
            .contains("/recordings/RE")
    );
    assert!(recorded.param("RecordingDuration").is_some());
    let transcribed = seen.iter().find(|r| r.path == "/transcribed").unwrap();
    assert_eq!(
        transcribed.param("TranscriptionText"),
        Some("please call me back")
    );
}

#[tokio::test]
async fn scenarios_check_expectations_and_set_the_exit_code() {
    let app = TestApp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(
        &good,
        format!(
            "name: silent caller\nurl: {}\ncaller:\n  - silence: 30s\nexpect:\n  - heard: error-02\n  - not_heard: divert\n  - ended_by: completed\n  - max_duration: 60s\n",
            app.url("/voice")
        ),
    )
    .unwrap();
    let (code, json) = hotline(&["--scenario", good.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["passed"], true);

    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        format!(
            "url: {}\ncaller:\n  - say: oui\nexpect:\n  - enqueued: emergency\n",
            app.url("/voice")
        ),
    )
    .unwrap();
    let (code, json) = hotline(&["--scenario", bad.to_str().unwrap()]).await;
    assert_eq!(code, 1);
    assert_eq!(json["checks"][0]["passed"], false);
}

#[tokio::test]
async fn usage_errors_are_clear() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["call", "http://127.0.0.1:9/voice", "--press", "12x"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a phone key"));

    // An intent engine is for a flow served here, not for a URL.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args([
            "call",
            "http://127.0.0.1:9/voice",
            "--intents",
            "clinic=x.yaml",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give --flow FILE"));
}

/// Every scenario under `tests/scenarios/` passes: the seed's TwiML Bin at the top, and in a
/// folder per example flow, every route of that flow (the flow served by `hotline call` itself;
/// the clinic's with the local intent engine, so the models must be installed).
#[tokio::test]
async fn scenario_files_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            for inner in std::fs::read_dir(&path).unwrap() {
                files.push(inner.unwrap().path());
            }
        } else {
            files.push(path);
        }
    }
    files.retain(|p| p.extension().and_then(|e| e.to_str()) == Some("yaml"));
    files.sort();
    let flows = files.iter().filter(|p| p.parent() != Some(&*dir)).count();
    for path in &files {
        let (code, json) = hotline(&["--scenario", path.to_str().unwrap()]).await;
        assert_eq!(code, 0, "{}: {}", path.display(), json["checks"]);
        assert_eq!(json["passed"], true, "{}", path.display());
    }
    assert!(
        files.len() >= 30,
        "expected the scenario files, found {}",
        files.len()
    );
    assert!(
        flows >= 27,
        "expected the example flows' scenarios, found {flows}"
    );
}

/// `--flow FILE`: the flow is served in the process and called; a broken flow is not called,
/// and its diagnostics say why; `dial_outcome` in a scenario reaches the flow's `fallback`.
#[tokio::test]
async fn a_flow_file_is_called_without_a_server() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let flow = root.join("examples/flows/sales-menu.yaml");
    let (code, json) = hotline(&["--flow", flow.to_str().unwrap(), "--press", "1"]).await;
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["ended_by"], "hangup", "{json}");
    let events = json["events"].to_string();
    assert!(events.contains("+12025550123"), "{events}");
    assert!(events.contains("/flows/sales-menu/step?seq=1"), "{events}");

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "flow: broken\nlanguage: en-US\nnodes:\n  a: { say: hi, next: b }\n",
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["call", "--flow", broken.to_str().unwrap(), "--press", "1"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("F0001") || err.contains("`b`"), "{err}");
    assert!(err.contains("is not a valid flow"), "{err}");

    let scenario = dir.path().join("busy.yaml");
    std::fs::write(
        &scenario,
        format!(
            "flow: {}\ndial_outcome: busy\ncaller:\n  - press: \"1\"\nexpect:\n  - heard: next available operator\n  - enqueued: front-desk\n",
            flow.display()
        ),
    )
    .unwrap();
    let (code, json) = hotline(&["--scenario", scenario.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{}", json["checks"]);
}
