//! Shared by the integration tests: load the installed model or fail loudly with the install
//! command (CI installs the models before the tests; a missing model is a failure, not a skip).
#![allow(clippy::unwrap_used, dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::OnceLock;

use hotline_embed::{MiniLm, model_dir};

/// `$HOTLINE_MODELS_DIR`, else the repository's `models/`.
pub fn models_dir() -> PathBuf {
    std::env::var_os("HOTLINE_MODELS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"),
        PathBuf::from,
    )
}

/// The model, loaded once per test binary.
pub fn model() -> &'static MiniLm {
    static MODEL: OnceLock<MiniLm> = OnceLock::new();
    MODEL.get_or_init(|| {
        let dir = model_dir(&models_dir());
        MiniLm::load(&dir).unwrap_or_else(|e| {
            panic!(
                "all-MiniLM-L6-v2 is needed by these tests and could not be loaded from {}: {e}\n\
                 install it with `scripts/install-models.sh` (or `scripts/install-minilm.sh`)",
                dir.display()
            )
        })
    })
}
