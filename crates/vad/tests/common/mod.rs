//! Helpers shared by the integration tests: fixtures, model paths, backends under test.
#![allow(clippy::unwrap_used, dead_code, unreachable_pub)]

use std::path::PathBuf;

use hotline_vad::silero::{MODELS_DIR_ENV, SileroConfig, SileroVariant};
use hotline_vad::{VadConfig, VadFactory};

/// The committed labelled set.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Samples of one fixture clip.
pub fn clip(name: &str) -> Vec<i16> {
    let bytes = std::fs::read(fixtures().join(name)).unwrap();
    hotline_audio::read_wav(&bytes).unwrap().to_mono()
}

/// The models folder the install script fills: `$HOTLINE_MODELS_DIR` or `<repo>/models`.
pub fn models_dir() -> PathBuf {
    std::env::var_os(MODELS_DIR_ENV).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"),
        PathBuf::from,
    )
}

/// A Silero config reading the installed models. Panics (never skips) with the install
/// command when they are missing, locally and in CI alike.
pub fn silero_config(variant: SileroVariant) -> SileroConfig {
    let config = SileroConfig {
        variant,
        ..SileroConfig::in_dir(models_dir())
    };
    for path in [config.model_path(), config.runtime_path()] {
        assert!(
            path.is_file(),
            "{} is missing: run scripts/install-models.sh (Silero tests fail rather than skip{})",
            path.display(),
            if std::env::var_os("CI").is_some() {
                "; CI must install the models"
            } else {
                ""
            }
        );
    }
    config
}

/// Every backend under test, built through `VadConfig`.
pub fn all_backends() -> Vec<(&'static str, VadFactory)> {
    vec![
        (
            "energy",
            VadConfig::Energy(Default::default()).build().unwrap(),
        ),
        (
            "webrtc",
            VadConfig::Webrtc(Default::default()).build().unwrap(),
        ),
        (
            "silero",
            VadConfig::Silero(SileroConfig {
                sessions: Some(2),
                ..silero_config(SileroVariant::Standard)
            })
            .build()
            .unwrap(),
        ),
        (
            "silero-ifless",
            VadConfig::Silero(SileroConfig {
                sessions: Some(1),
                ..silero_config(SileroVariant::Ifless)
            })
            .build()
            .unwrap(),
        ),
    ]
}
