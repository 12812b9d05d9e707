//! `hotline vad eval`: scores the voice activity detectors on a labelled telephone set
//! (`hotline_vad::eval`) and prints one table: frame precision / recall / F1, utterances found,
//! false cut-offs, merges, false alarms, end-of-speech delay, and CPU per 20 ms frame.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use hotline_vad::eval::{LabelledSet, Report, evaluate, frame_count, standard_detectors};
use hotline_vad::silero::default_models_dir;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// `hotline vad …`.
#[derive(Debug, Subcommand)]
pub(crate) enum VadCommand {
    /// Score every VAD (energy, WebRTC modes 0 and 3, Silero v6 and its If-less variant) on a
    /// labelled set of 8 kHz clips (`NAME.CONDITION.wav` + `NAME.CONDITION.labels.tsv`).
    Eval(VadEvalArgs),
}

/// `hotline vad eval` options.
#[derive(Debug, Args)]
pub(crate) struct VadEvalArgs {
    /// The labelled set's folder.
    #[arg(long, default_value = "crates/vad/tests/fixtures")]
    pub fixtures: PathBuf,
    /// Where the Silero model and ONNX Runtime are (default: $HOTLINE_MODELS_DIR, else
    /// ./models when present, else the user's models folder).
    #[arg(long)]
    pub models: Option<PathBuf>,
    /// Only these detectors (comma-separated labels: energy, webrtc-0, webrtc-3, silero,
    /// silero-ifless).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
}

/// Runs `hotline vad …`.
pub(crate) fn run(command: VadCommand) -> anyhow::Result<ExitCode> {
    match command {
        VadCommand::Eval(args) => eval(args),
    }
}

fn eval(args: VadEvalArgs) -> anyhow::Result<ExitCode> {
    let set = LabelledSet::load_dir(&args.fixtures).with_context(|| {
        format!(
            "cannot load the labelled set from {} (pass --fixtures DIR)",
            args.fixtures.display()
        )
    })?;
    let models = args.models.clone().unwrap_or_else(|| {
        if std::env::var_os(hotline_vad::silero::MODELS_DIR_ENV).is_none()
            && PathBuf::from("models").is_dir()
        {
            PathBuf::from("models")
        } else {
            default_models_dir()
        }
    });
    let detectors: Vec<_> = standard_detectors(&models)
        .into_iter()
        .filter(|(label, _)| args.only.is_empty() || args.only.iter().any(|o| o == label))
        .collect();
    if detectors.is_empty() {
        bail!(
            "--only {}: no such detector (energy, webrtc-0, webrtc-3, silero, silero-ifless)",
            args.only.join(",")
        );
    }
    let frames = frame_count(&set);
    println!(
        "{} clips, {frames} frames of 20 ms, from {}\n",
        set.clips.len(),
        args.fixtures.display()
    );
    println!("{}  {:>10}", Report::header(), "cpu/frame");
    let mut failed = false;
    for (label, config) in detectors {
        let factory = match config.build() {
            Ok(f) => f,
            Err(e) => {
                eprintln!("{label}: {e} (scripts/install-models.sh installs the models)");
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
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
