//! `hotline bot chat`, `hotline bot import`, `hotline check` on bot files and `hotline
//! transcribe`, through the real binary. The chat and transcription need the models
//! (`scripts/install-models.sh`, run by `scripts/test.sh`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn hotline(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the hotline binary runs");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("stdin written");
    }
    child.wait_with_output().expect("the hotline binary ends")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[test]
fn bot_chat_json_fills_the_booking_slots_from_one_sentence() {
    let out = hotline(
        &[
            "bot",
            "chat",
            "--json",
            "--today",
            "2026-11-22",
            "examples/bots/appointments.yaml",
        ],
        "I'd like a filling tomorrow at 10 am\nJane Doe\nyes\n",
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 4, "greeting + 3 answers: {stdout}");
    assert_eq!(lines[1]["intent"], "BookAppointment");
    assert_eq!(lines[1]["slots"]["Service"], "filling");
    assert_eq!(lines[1]["slots"]["Date"], "2026-11-23");
    assert_eq!(lines[1]["slots"]["Time"], "10:00");
    assert_eq!(lines[2]["slots"]["Name"], "Jane Doe");
    assert_eq!(lines[3]["intent_state"], "Fulfilled");
    assert_eq!(lines[3]["action"], "hangup");
}

#[test]
fn bot_import_converts_a_lex_export_and_lists_what_it_dropped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out_file = dir.path().join("imported.yaml");
    let out = hotline(
        &[
            "bot",
            "import",
            "crates/localbot/tests/fixtures/lex/appointment.zip",
            "-o",
            out_file.to_str().expect("utf-8 path"),
        ],
        "",
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("code hook") || stderr.contains("codeHook"),
        "{stderr}"
    );
    let yaml = std::fs::read_to_string(&out_file).expect("the bot file was written");
    assert!(yaml.contains("MakeAppointment"), "{yaml}");
    // The result is a valid bot file.
    let check = hotline(&["check", out_file.to_str().expect("utf-8 path")], "");
    assert!(check.status.success(), "{}", text(&check.stderr));
    // An unreadable export is an error, not a panic.
    let bad = hotline(&["bot", "import", "Cargo.toml"], "");
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad.stderr));
}

#[test]
fn check_reports_bot_file_errors_with_positions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "bot: bad\nlocales:\n  en_US:\n    greeting: Hi\n    fallback: Sorry?\n    intents:\n      Book:\n        samples: [\"book on {Day}\"]\n",
    )
    .expect("written");
    let out = hotline(&["check", file.to_str().expect("utf-8 path")], "");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Day"), "{stderr}");
    assert!(stderr.contains(":8:"), "line 8 named: {stderr}");
}

#[test]
fn transcribe_json_reads_the_demo_recordings() {
    let out = hotline(
        &[
            "transcribe",
            "--json",
            "examples/demo/caller/2-date.wav",
            "examples/demo/caller/3-time.wav",
        ],
        "",
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let lower = stdout.to_lowercase();
    assert!(lower.contains("tomorrow"), "{stdout}");
    assert!(lower.contains("three") || lower.contains('3'), "{stdout}");
}

/// The README's `hotline check examples/bots/`: the folder's bots are valid, and its held-out
/// evaluation sets (`*.heldout.yaml`, `*.heldout2.yaml`) are not taken for bots.
#[test]
fn check_of_the_example_bots_folder_passes() {
    let out = hotline(&["check", "--color", "false", "examples/bots/"], "");
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("2 of 2 files valid; 0 errors"), "{stderr}");
    assert!(!stderr.contains("heldout"), "{stderr}");
}
