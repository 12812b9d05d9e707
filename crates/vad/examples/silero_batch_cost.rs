//! Measures the CPU cost of one Silero window at several batch sizes and session options.
//!
//! `cargo run --release -p hotline-vad --example silero_batch_cost [ifless]`: prints µs of this
//! thread's CPU time (from /proc/thread-self/schedstat) per window for batch 1..128.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use hotline_vad::silero::{MODELS_DIR_ENV, SileroConfig, SileroVariant};
use ort::session::Session;
use ort::value::TensorRef;

fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn main() {
    let dir = std::env::var_os(MODELS_DIR_ENV).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"),
        PathBuf::from,
    );
    let mut config = SileroConfig::in_dir(dir);
    if std::env::args().any(|a| a == "ifless") {
        config.variant = SileroVariant::Ifless;
    }
    let env = hotline_onnx::runtime(&config.runtime_path()).unwrap();
    for tuned in [false, true] {
        let mut b = Session::builder(&env)
            .unwrap()
            .with_intra_threads(1)
            .unwrap()
            .with_inter_threads(1)
            .unwrap();
        if tuned {
            b = b
                .with_parallel_execution(false)
                .unwrap()
                .with_intra_op_spinning(false)
                .unwrap()
                .with_inter_op_spinning(false)
                .unwrap();
        }
        let mut session = b.commit_from_file(config.model_path()).unwrap();
        for batch in [1usize, 2, 4, 8, 16, 32, 64, 128, 256] {
            let input: Vec<f32> = (0..batch * 288)
                .map(|i| ((i * 7919 % 1000) as f32 / 1000.0 - 0.5) * 0.2)
                .collect();
            let mut state = vec![0f32; 2 * batch * 128];
            let sr = [8000i64];
            let iters = (4000 / batch).max(20);
            let mut run = |state: &mut Vec<f32>| {
                let i = TensorRef::from_array_view(([batch, 288], &input[..])).unwrap();
                let s = TensorRef::from_array_view(([2usize, batch, 128], &state[..])).unwrap();
                let r = TensorRef::from_array_view(((), &sr[..])).unwrap();
                let out = session
                    .run(ort::inputs!["input" => i, "state" => s, "sr" => r])
                    .unwrap();
                let (shape, p) = out["output"].try_extract_tensor::<f32>().unwrap();
                assert_eq!(p.len(), batch, "output shape {shape:?}");
                let (_, n) = out["stateN"].try_extract_tensor::<f32>().unwrap();
                state.copy_from_slice(n);
            };
            for _ in 0..10 {
                run(&mut state);
            }
            let t0 = std::time::Instant::now();
            let c0 = thread_cpu_ns();
            for _ in 0..iters {
                run(&mut state);
            }
            let cpu = (thread_cpu_ns() - c0) as f64 / 1e3 / (iters * batch) as f64;
            let wall = t0.elapsed().as_secs_f64() * 1e6 / (iters * batch) as f64;
            println!(
                "tuned={tuned} batch={batch:4} cpu/window={cpu:7.2} us wall/window={wall:7.2} us run={:.1} us",
                cpu * batch as f64
            );
        }
    }
}
