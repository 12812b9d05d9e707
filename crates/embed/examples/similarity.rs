//! Prints the cosine similarity of every pair of the sentences given as arguments, the time each
//! embedding took, and the process's resident memory with the model loaded (Linux).
//!
//! `cargo run --release -p hotline-embed --example similarity -- "book a visit" "cancel it"`
//! (models folder: `$HOTLINE_MODELS_DIR`, else `models/`).

use std::path::PathBuf;
use std::time::Instant;

use hotline_embed::{MiniLm, cosine, model_dir};

fn resident_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let models = std::env::var_os("HOTLINE_MODELS_DIR")
        .map_or_else(|| PathBuf::from("models"), PathBuf::from);
    let before = resident_mb();
    let start = Instant::now();
    let model = MiniLm::load(&model_dir(&models))?;
    println!("loaded in {:.0} ms", start.elapsed().as_secs_f64() * 1e3);
    let sentences: Vec<String> = std::env::args().skip(1).collect();
    let mut vectors = Vec::new();
    for s in &sentences {
        let start = Instant::now();
        let v = model.embed(s)?;
        let ids = model.tokenizer().encode(s, hotline_embed::MAX_TOKENS).len();
        println!(
            "{:7.2} ms  {ids:3} tokens  {s:?}",
            start.elapsed().as_secs_f64() * 1e3
        );
        vectors.push(v);
    }
    for (i, a) in vectors.iter().enumerate() {
        for (j, b) in vectors.iter().enumerate().skip(i + 1) {
            println!(
                "{:.4}  {:?} ~ {:?}",
                cosine(a, b),
                sentences[i],
                sentences[j]
            );
        }
    }
    if let (Some(before), Some(after)) = (before, resident_mb()) {
        println!("resident memory: {after:.0} MB ({before:.0} MB before loading the model)");
    }
    Ok(())
}
