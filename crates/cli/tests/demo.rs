//! `hotline demo` end to end, the README's main job: the real binary serves the local
//! appointments bot and calls it through the emulator; the caller's recorded speech must go
//! through VAD, local speech recognition and the local bot until the appointment is booked.
//! Needs the models (`scripts/install-models.sh`, run by `scripts/test.sh`).

use std::process::Command;

#[test]
fn the_demo_books_an_appointment_by_voice() {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("demo")
        .env(
            "HOTLINE_MODELS_DIR",
            std::env::var_os("HOTLINE_MODELS_DIR")
                .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../models").into()),
        )
        .output()
        .expect("the hotline binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "hotline demo failed (models are installed by scripts/install-models.sh)\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // What the bot understood from each recording, and what the caller heard back. (The name
    // is not checked word for word: where the VAD cuts a real-time stream moves by a few ms
    // from run to run, and the recogniser hears "Sarah" or "Sir".)
    for expected in [
        "BookAppointment",
        "Service=cleaning",
        "Date=",
        "Time=15:00",
        "Name=",
        "is booked for",
        "the appointment was booked",
    ] {
        assert!(
            stdout.contains(expected),
            "`{expected}` missing from the demo's transcript:\n{stdout}"
        );
    }
    assert!(!stdout.contains("application error"), "{stdout}");
}
