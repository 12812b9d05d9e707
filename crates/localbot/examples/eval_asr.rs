//! Intent accuracy with speech recognition in the loop: every held-out utterance of
//! `examples/bots/*.heldout*.yaml` (or the files given) is spoken by Debian's `flite` (voice
//! `slt` unless `FLITE_VOICE` says otherwise), cut to telephone audio (8 kHz mono) with `sox`,
//! transcribed by the local Moonshine recogniser, then classified with embeddings + lexical
//! scores.
//!
//! Transcripts are cached next to each held-out file (`NAME.asr-cache.json`, keyed by the
//! spoken text and the voice) so that tuning the classifier is repeatable and fast; the cache is
//! only a record of what the recogniser heard. `--refresh` ignores it and re-runs speech
//! synthesis and recognition for every case (then rewrites it); `--verbose` prints the two best
//! intents of every case, on the text and on the transcript.
//!
//! ```text
//! apt-get install -y flite sox && scripts/install-models.sh
//! cargo run -p hotline-localbot --example eval_asr [-- [--refresh] [--verbose] FILE.heldout.yaml ...]
//! ```

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use hotline_asr::{Hints, Moonshine, MoonshineConfig, Recognizer};
use hotline_localbot::eval::{EVAL_DAY, Heldout};
use hotline_localbot::{Classifier, load_bot, load_encoder};

/// 16-bit mono samples of a WAV file (the `data` chunk).
fn wav_samples(bytes: &[u8]) -> Vec<i16> {
    let mut i = 12;
    while i + 8 <= bytes.len() {
        let id = &bytes[i..i + 4];
        let len = u32::from_le_bytes(bytes[i + 4..i + 8].try_into().unwrap()) as usize;
        if id == b"data" {
            let end = (i + 8 + len).min(bytes.len());
            return bytes[i + 8..end]
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
        }
        i += 8 + len + (len & 1);
    }
    Vec::new()
}

fn speak(text: &str, voice: &str, dir: &Path, n: usize) -> Vec<i16> {
    let raw = dir.join(format!("{n}.wav"));
    let tel = dir.join(format!("{n}-8k.wav"));
    let ok = Command::new("flite")
        .args(["-voice", voice, "-t", text, "-o"])
        .arg(&raw)
        .status()
        .unwrap()
        .success();
    assert!(ok, "flite failed (apt-get install -y flite)");
    let ok = Command::new("sox")
        .arg(&raw)
        .args(["-r", "8000", "-c", "1", "-b", "16"])
        .arg(&tel)
        .status()
        .unwrap()
        .success();
    assert!(ok, "sox failed (apt-get install -y sox)");
    wav_samples(&std::fs::read(&tel).unwrap())
}

/// `examples/bots/*.heldout*.yaml`, sorted.
fn example_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/bots");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.contains(".heldout") && name.ends_with(".yaml")
        })
        .collect();
    files.sort();
    files
}

/// `a.heldout.yaml` → `a.heldout.asr-cache.json`.
fn cache_path(file: &Path) -> PathBuf {
    file.with_extension("asr-cache.json")
}

#[tokio::main]
async fn main() {
    let (mut refresh, mut verbose) = (false, false);
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        if arg == "--refresh" {
            refresh = true;
        } else if arg == "--verbose" {
            verbose = true;
        } else {
            files.push(PathBuf::from(arg));
        }
    }
    if files.is_empty() {
        files = example_files();
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let models =
        std::env::var_os("HOTLINE_MODELS_DIR").map_or_else(|| root.join("models"), PathBuf::from);
    let voice = std::env::var("FLITE_VOICE").unwrap_or_else(|_| "slt".into());
    let mut asr: Option<Moonshine> = None;
    let encoder = load_encoder(Some(&models)).unwrap();
    let tmp = std::env::temp_dir().join(format!("hotline-eval-asr-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let (mut all_right, mut all_total, mut words_same) = (0, 0, 0);
    for file in files {
        let heldout: Heldout =
            serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let bot = load_bot(&file.parent().unwrap().join(&heldout.bot))
            .unwrap()
            .bot;
        let classifier = Classifier::new(&bot, Some(Arc::clone(&encoder))).unwrap();
        let threshold = bot.locale("").0.threshold();
        let cache_file = cache_path(&file);
        let mut cache: BTreeMap<String, String> = if refresh {
            BTreeMap::new()
        } else {
            std::fs::read_to_string(&cache_file)
                .ok()
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default()
        };
        let mut cache_changed = false;
        let (mut right, mut total) = (0, 0);
        for (n, case) in heldout.cases.iter().enumerate() {
            let key = format!("{voice}: {}", case.say);
            let heard = match cache.get(&key) {
                Some(h) => h.clone(),
                None => {
                    let pcm = speak(&case.say, &voice, &tmp, n);
                    if asr.is_none() {
                        asr = Some(Moonshine::load(&MoonshineConfig::in_dir(&models)).unwrap());
                    }
                    let heard = asr
                        .as_ref()
                        .unwrap()
                        .transcribe(&pcm, &Hints::default())
                        .await
                        .map(|t| t.text)
                        .unwrap_or_default();
                    cache.insert(key, heard.clone());
                    cache_changed = true;
                    heard
                }
            };
            let ranked = classifier.classify(0, &heard, EVAL_DAY);
            let got = ranked
                .first()
                .filter(|s| s.score >= threshold)
                .map(|s| s.intent.clone());
            total += 1;
            if verbose {
                let top2 = |r: &[hotline_localbot::Scored]| {
                    r.iter()
                        .take(2)
                        .map(|s| format!("{} {:.2}", s.intent, s.score))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let text = classifier.classify(0, &case.say, EVAL_DAY);
                println!(
                    "  case: {:<18} text [{}] asr [{}] \"{}\" / \"{heard}\"",
                    case.intent.as_deref().unwrap_or("fallback"),
                    top2(&text),
                    top2(&ranked),
                    case.say
                );
            }
            let norm = |s: &str| hotline_localbot::text::tokens(s).join(" ");
            if norm(&heard) == norm(&case.say) {
                words_same += 1;
            }
            if got == case.intent {
                right += 1;
            } else {
                let best: Vec<String> = ranked
                    .iter()
                    .take(2)
                    .map(|s| format!("{} {:.2}", s.intent, s.score))
                    .collect();
                println!(
                    "  miss: said \"{}\", heard \"{heard}\": expected {}, got {} ({})",
                    case.say,
                    case.intent.as_deref().unwrap_or("fallback"),
                    got.as_deref().unwrap_or("fallback"),
                    best.join(", ")
                );
            }
        }
        if cache_changed {
            std::fs::write(
                &cache_file,
                serde_json::to_string_pretty(&cache).unwrap() + "\n",
            )
            .unwrap();
        }
        println!(
            "{} ({}): {right}/{total} = {:.1}% with ASR in the loop",
            bot.id(),
            file.file_name().unwrap().to_string_lossy(),
            100.0 * right as f64 / total as f64
        );
        all_right += right;
        all_total += total;
    }
    println!(
        "all: {all_right}/{all_total} = {:.1}%; transcripts word-exact for {words_same}/{all_total}",
        100.0 * all_right as f64 / all_total as f64
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
