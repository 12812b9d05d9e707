//! Intent accuracy of the example bots on their held-out paraphrases
//! (`examples/bots/*.heldout*.yaml`: the first sets and the second ones written to check tuning
//! does not overfit), with and without sentence embeddings.
//!
//! ```text
//! cargo run -p hotline-localbot --example eval [-- BOT.heldout.yaml ...]
//! ```

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let args: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let files = if args.is_empty() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/bots");
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                name.contains(".heldout") && name.ends_with(".yaml")
            })
            .collect();
        files.sort();
        files
    } else {
        args
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let models =
        std::env::var_os("HOTLINE_MODELS_DIR").map_or_else(|| root.join("models"), PathBuf::from);
    let encoder = hotline_localbot::load_encoder(Some(&models)).ok();
    if encoder.is_none() {
        eprintln!(
            "note: sentence embeddings unavailable (run scripts/install-models.sh); lexical only"
        );
    }
    for file in files {
        println!("{}", file.display());
        for (label, enc) in [("lexical", None), ("embeddings+lexical", encoder.clone())] {
            if label != "lexical" && enc.is_none() {
                continue;
            }
            let report = hotline_localbot::eval::evaluate(&file, enc)?;
            println!("{label:>20}  {}", report.summary());
            for miss in &report.misses {
                println!("{:>20}    miss: {miss}", "");
            }
        }
    }
    Ok(())
}
