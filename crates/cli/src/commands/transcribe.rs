//! `hotline transcribe FILE…`: local speech recognition (Moonshine base-en) of WAV files.
//!
//! Any WAV the audio crate reads (8–48 kHz, mono or stereo, 16-bit PCM, mu-law or A-law) is
//! mixed to mono and resampled to 8 kHz, i.e. what a phone call carries, then recognised on the
//! same worker pool the server uses. Prints one line per file (the text), or with `--json` one
//! object per file with the timings. Glue only: the work is in `hotline_asr`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use hotline_asr::{Expect, Hints, Moonshine, MoonshineConfig, Recognizer, Transcript};

/// Lowest and highest sample rates accepted.
const RATES: std::ops::RangeInclusive<u32> = 8_000..=48_000;

/// What kind of answer the files hold (enables the normalised value).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ExpectArg {
    /// Anything.
    Free,
    /// Yes or no: adds `normalized` = "yes" / "no".
    YesNo,
    /// Digits or a number: adds `normalized` = the digits.
    Digits,
}

impl From<ExpectArg> for Expect {
    fn from(value: ExpectArg) -> Self {
        match value {
            ExpectArg::Free => Self::Free,
            ExpectArg::YesNo => Self::YesNo,
            ExpectArg::Digits => Self::Digits,
        }
    }
}

/// `hotline transcribe` options.
#[derive(Debug, Args)]
pub(crate) struct TranscribeArgs {
    /// WAV files: 8–48 kHz, mono or stereo, 16-bit PCM, mu-law or A-law.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// One JSON object per file: file, text, confidence, audio_ms, decode_ms, queued_ms, rtf,
    /// truncated (and normalized with --expect).
    #[arg(long)]
    pub json: bool,
    /// The kind of answer expected: free, yes-no or digits.
    #[arg(long, value_enum, default_value = "free")]
    pub expect: ExpectArg,
    /// Where the models are (default: $HOTLINE_MODELS_DIR, else ./models); install them with
    /// scripts/install-models.sh.
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// Worker threads (default: the number of cores, at most 4, and no more than the files).
    #[arg(long)]
    pub workers: Option<usize>,
}

/// Reads `path` as 8 kHz mono samples.
fn read_8k(path: &Path) -> anyhow::Result<Vec<i16>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let wav = hotline_audio::read_wav(&bytes)
        .with_context(|| format!("{} is not a readable WAV file", path.display()))?;
    if !RATES.contains(&wav.sample_rate) {
        bail!(
            "{}: {} Hz is not supported (8000 to 48000 Hz)",
            path.display(),
            wav.sample_rate
        );
    }
    if !(1..=2).contains(&wav.channels) {
        bail!(
            "{}: {} channels; only mono or stereo",
            path.display(),
            wav.channels
        );
    }
    hotline_audio::resample(
        &wav.to_mono(),
        wav.sample_rate,
        hotline_audio::TELEPHONE_RATE_HZ,
    )
    .with_context(|| format!("cannot resample {}", path.display()))
}

fn json_line(path: &Path, t: &Transcript) -> serde_json::Value {
    let ms = |d: std::time::Duration| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
    let audio = t.audio.as_secs_f64();
    let rtf = if audio > 0.0 {
        t.decode.as_secs_f64() / audio
    } else {
        0.0
    };
    let mut v = serde_json::json!({
        "file": path.display().to_string(),
        "text": t.text,
        "confidence": (f64::from(t.confidence) * 1000.0).round() / 1000.0,
        "audio_ms": ms(t.audio),
        "decode_ms": ms(t.decode),
        "queued_ms": ms(t.queued),
        "rtf": (rtf * 10_000.0).round() / 10_000.0,
        "truncated": t.truncated,
    });
    if let (Some(normalized), Some(map)) = (&t.normalized, v.as_object_mut()) {
        map.insert("normalized".into(), normalized.clone().into());
    }
    v
}

/// Runs `hotline transcribe`.
pub(crate) async fn run(args: TranscribeArgs) -> anyhow::Result<ExitCode> {
    let mut config = args
        .models
        .clone()
        .map_or_else(MoonshineConfig::default, MoonshineConfig::in_dir);
    let workers = args
        .workers
        .unwrap_or_else(|| config.worker_count())
        .min(args.files.len())
        .max(1);
    config.workers = Some(workers);
    let asr = tokio::task::spawn_blocking(move || Moonshine::load(&config))
        .await
        .context("the model loader stopped")?
        .context("cannot load the speech recogniser")?;
    let asr = Arc::new(asr);
    let hints = Hints {
        expect: args.expect.into(),
        ..Hints::default()
    };

    // Every file is queued at once (the pool bounds the work); answers print in order.
    let mut tasks = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let asr = Arc::clone(&asr);
        let hints = hints.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let pcm = read_8k(&path)?;
            asr.transcribe(&pcm, &hints)
                .await
                .with_context(|| format!("cannot transcribe {}", path.display()))
        }));
    }
    let mut failed = false;
    for (path, task) in args.files.iter().zip(tasks) {
        let result = task.await.context("a transcription task stopped")?;
        match result {
            Ok(t) if args.json => println!("{}", json_line(path, &t)),
            Ok(t) => println!("{}", t.text),
            Err(e) => {
                failed = true;
                eprintln!("hotline transcribe: {e:#}");
                if args.json {
                    println!(
                        "{}",
                        serde_json::json!({"file": path.display().to_string(), "error": format!("{e:#}")})
                    );
                } else {
                    println!();
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
