//! What the intent classifier relies on: paraphrases land closer than unrelated sentences, any
//! text (empty, very long, accents, emoji, control characters) gives a unit vector without
//! panicking, long input is truncated, and a missing or damaged model is a clear error at load
//! that names the install command.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use hotline_embed::{DIM, EmbedError, INSTALL_COMMAND, MAX_TOKENS, MiniLm, cosine, model_dir};

fn unit(v: &[f32]) -> bool {
    v.len() == DIM
        && v.iter().all(|x| x.is_finite())
        && (v.iter().map(|x| x * x).sum::<f32>().sqrt() - 1.0).abs() < 1e-4
}

#[test]
fn paraphrases_are_closer_than_unrelated_sentences() {
    let m = common::model();
    let book = m.embed("I want to book an appointment").unwrap();
    let schedule = m.embed("can I schedule a visit").unwrap();
    let weather = m.embed("what's the weather").unwrap();
    let para = cosine(&book, &schedule);
    assert!(para > cosine(&book, &weather) + 0.2, "paraphrase {para}");
    assert!(
        para > cosine(&schedule, &weather) + 0.2,
        "paraphrase {para}"
    );

    // A small intent table: every probe's nearest sample is its own intent.
    let intents = [
        ("book", "I'd like to make an appointment"),
        ("cancel", "I need to cancel my booking"),
        ("agent", "let me speak to a human"),
        ("hours", "when are you open"),
    ];
    let samples = m.embed_batch(&intents.map(|(_, s)| s)).unwrap();
    for (want, probe) in [
        ("book", "could I get an appointment for Tuesday"),
        ("cancel", "please call off my reservation"),
        ("agent", "can I talk to a real person"),
        ("hours", "what time do you close today"),
    ] {
        let v = m.embed(probe).unwrap();
        let best = samples
            .iter()
            .zip(intents)
            .max_by(|a, b| cosine(a.0, &v).total_cmp(&cosine(b.0, &v)))
            .map(|(_, (name, _))| name)
            .unwrap();
        assert_eq!(best, want, "{probe:?}");
    }
}

#[test]
fn odd_input_never_panics_and_gives_unit_vectors() {
    let m = common::model();
    let texts = [
        "",
        " \t\n ",
        "é",
        "😀",
        "👍🏽👍🏽👍🏽",
        "\u{0}\u{fffd}\u{7}",
        "\u{200b}\u{feff}\u{202e}",
        "Zalgo: z̸̢̛a̵̧l̷g̶o̴",
        "ﷺ ﷽ 𒀱 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "[CLS] [SEP] [MASK] ##ing",
    ];
    for t in texts {
        assert!(unit(&m.embed(t).unwrap()), "{t:?}");
    }
    let batch = m.embed_batch(&texts).unwrap();
    assert_eq!(batch.len(), texts.len());
    assert!(batch.iter().all(|v| unit(v)));
    assert!(m.embed_batch(&[]).unwrap().is_empty());
}

#[test]
fn empty_input_is_the_embedding_of_cls_sep() {
    let m = common::model();
    assert_eq!(m.tokenizer().encode("", MAX_TOKENS), [101, 102]);
    // Whitespace and removed control characters tokenise to nothing as well.
    let empty = m.embed("").unwrap();
    assert!(cosine(&empty, &m.embed(" \u{7} ").unwrap()) > 0.99999);
}

#[test]
fn very_long_input_is_truncated_to_max_tokens() {
    let m = common::model();
    let head = "I would like to book an appointment for tomorrow morning please. ";
    let long = head.repeat(40);
    let ids = m.tokenizer().encode(&long, MAX_TOKENS);
    assert_eq!(ids.len(), MAX_TOKENS);
    assert_eq!(ids.first(), Some(&101));
    assert_eq!(ids.last(), Some(&102));
    // Whatever follows the first MAX_TOKENS pieces makes no difference.
    let a = m.embed(&long).unwrap();
    let b = m
        .embed(&format!(
            "{long} and then something entirely different about the weather"
        ))
        .unwrap();
    assert!(cosine(&a, &b) > 0.99999);
    // A 100 KB utterance is fine too.
    assert!(unit(&m.embed(&"word ".repeat(20_000)).unwrap()));
}

#[test]
fn batches_are_shared_safely_across_threads() {
    let m = common::model().clone();
    let reference = m.embed("book a table for two").unwrap();
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || m.embed("book a table for two").unwrap())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), reference);
    }
}

fn load_err(dir: &Path) -> EmbedError {
    MiniLm::load(dir).expect_err("loading must fail")
}

#[test]
fn missing_model_dir_is_a_clear_error_with_the_install_command() {
    let dir = std::env::temp_dir().join("hotline-embed-test-no-such-models");
    let err = load_err(&model_dir(&dir));
    assert!(matches!(err, EmbedError::Missing { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(INSTALL_COMMAND), "{msg}");
    assert!(msg.contains("minilm-l6-v2"), "{msg}");
}

/// A scratch copy of the installed model folder (config and vocabulary copied, the weights
/// written by `weights`).
fn scratch(name: &str, weights: impl FnOnce(&[u8]) -> Vec<u8>) -> std::path::PathBuf {
    let src = model_dir(&common::models_dir());
    let dir =
        std::env::temp_dir().join(format!("hotline-embed-test-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["config.json", "vocab.txt"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    let original = std::fs::read(src.join("model.safetensors")).unwrap_or_else(|e| {
        panic!("the installed model is needed ({e}); install it with `{INSTALL_COMMAND}`")
    });
    std::fs::write(dir.join("model.safetensors"), weights(&original)).unwrap();
    dir
}

/// Damages a copy of `model.safetensors`.
type Damage = fn(&[u8]) -> Vec<u8>;

/// The file offset just past tensor `name`'s data.
fn data_end(file: &[u8], name: &str) -> usize {
    let header_len = usize::try_from(u64::from_le_bytes(file[..8].try_into().unwrap())).unwrap();
    let header: serde_json::Value = serde_json::from_slice(&file[8..8 + header_len]).unwrap();
    let end = header[name]["data_offsets"][1].as_u64().unwrap();
    8 + header_len + usize::try_from(end).unwrap()
}

#[test]
fn corrupt_weights_are_an_error_at_load() {
    let cases: [(&str, Damage, &str); 4] = [
        ("truncated", |b| b[..b.len() / 2].to_vec(), "truncated"),
        ("empty", |_| Vec::new(), "too short"),
        (
            "garbage-header",
            |b| {
                let mut b = b.to_vec();
                b[8] = b'#';
                b
            },
            "not JSON",
        ),
        (
            "nan",
            |b| {
                // Make the last value of a weight the encoder reads a NaN.
                let mut b = b.to_vec();
                let at = data_end(&b, "encoder.layer.5.output.dense.weight");
                b[at - 4..at].copy_from_slice(&f32::NAN.to_le_bytes());
                b
            },
            "non-finite",
        ),
    ];
    for (name, damage, want) in cases {
        let dir = scratch(name, damage);
        let err = load_err(&dir);
        let msg = err.to_string();
        assert!(matches!(err, EmbedError::Corrupt { .. }), "{name}: {err:?}");
        assert!(msg.contains(want), "{name}: {msg}");
        assert!(msg.contains(INSTALL_COMMAND), "{name}: {msg}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn wrong_config_or_vocabulary_is_an_error_at_load() {
    let dir = scratch("config", <[u8]>::to_vec);
    std::fs::write(dir.join("config.json"), r#"{"hidden_size": 768}"#).unwrap();
    let msg = load_err(&dir).to_string();
    assert!(
        msg.contains("hidden_size") && msg.contains("config.json"),
        "{msg}"
    );
    std::fs::copy(
        model_dir(&common::models_dir()).join("config.json"),
        dir.join("config.json"),
    )
    .unwrap();
    std::fs::write(dir.join("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n").unwrap();
    let msg = load_err(&dir).to_string();
    assert!(msg.contains("vocab.txt") && msg.contains("30522"), "{msg}");
    std::fs::remove_file(dir.join("vocab.txt")).unwrap();
    assert!(matches!(load_err(&dir), EmbedError::Missing { .. }));
    std::fs::remove_dir_all(&dir).unwrap();
}
