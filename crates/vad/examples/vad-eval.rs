//! Scores every VAD on the labelled telephone set and prints one table (the same as
//! `hotline vad eval`, kept for running from the repository without the CLI).
//!
//! ```sh
//! scripts/install-models.sh
//! cargo run -p hotline-vad --example vad-eval --release [-- FIXTURES_DIR]
//! ```
//! Columns: frame precision / recall / F1 of `p ≥ 0.5`; utterances found; false cut-offs;
//! merges; false alarms; end-of-speech delay (mean, p95) of the reference endpointer (start
//! after 100 ms ≥ 0.5, end after 700 ms < 0.35, so the delay includes the 700 ms hangover);
//! CPU per 20 ms frame measured over the whole run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use hotline_vad::eval::{LabelledSet, Report, evaluate, frame_count, standard_detectors};
use hotline_vad::silero::default_models_dir;

fn main() -> ExitCode {
    let dir = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
        PathBuf::from,
    );
    let set = match LabelledSet::load_dir(&dir) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("vad-eval: {e}");
            return ExitCode::FAILURE;
        }
    };
    let models = std::env::var_os("HOTLINE_MODELS_DIR").map_or_else(
        || {
            let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models");
            if repo.is_dir() {
                repo
            } else {
                default_models_dir()
            }
        },
        PathBuf::from,
    );
    let configs = standard_detectors(&models);
    let frames = frame_count(&set);
    println!(
        "{} clips, {frames} frames of 20 ms, from {}\n",
        set.clips.len(),
        dir.display()
    );
    println!("{}  {:>10}", Report::header(), "cpu/frame");
    let mut failed = false;
    for (label, config) in configs {
        let factory = match config.build() {
            Ok(f) => f,
            Err(e) => {
                eprintln!("{label}: {e}");
                failed = true;
                continue;
            }
        };
        let mut vad = factory.create();
        let started = Instant::now();
        let report = evaluate(&mut vad, &set);
        let per_frame = started.elapsed().as_secs_f64() * 1e6 / frames.max(1) as f64;
        for line in report.to_string().lines() {
            println!("{line}  {per_frame:>7.1} µs   ({label})");
        }
        println!();
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
