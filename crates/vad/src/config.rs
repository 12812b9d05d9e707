//! The per-bot VAD setting: which backend, with which options; and the factory it builds.
//!
//! ```yaml
//! vad:
//!   type: silero        # or: webrtc, energy
//!   sessions: 2         # silero only; see SileroConfig
//! ```
//! [`VadConfig::validate`] checks values without touching the disk; [`VadConfig::build`] loads
//! what the backend needs (the Silero model) once, so that a broken install fails at start-up.

use serde::{Deserialize, Serialize};

use crate::energy::{EnergyConfig, EnergyVad};
use crate::silero::{SileroConfig, SileroModel, SileroPrefetch, SileroVad};
use crate::webrtc::{WebrtcConfig, WebrtcVad};
use crate::{Vad, VadError};

/// Which detector a bot uses. Tagged by `type`; Silero is the default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum VadConfig {
    /// RMS threshold (baseline only).
    Energy(EnergyConfig),
    /// WebRTC GMM VAD (cheap; fails under loud noise).
    Webrtc(WebrtcConfig),
    /// Silero VAD v6 (default).
    Silero(SileroConfig),
}

impl Default for VadConfig {
    fn default() -> Self {
        Self::Silero(SileroConfig::default())
    }
}

impl VadConfig {
    /// Checks every value, without IO.
    ///
    /// # Errors
    /// [`VadError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<(), VadError> {
        match self {
            Self::Energy(c) => c.validate(),
            Self::Webrtc(c) => c.validate(),
            Self::Silero(c) => c.validate(),
        }
    }

    /// Validates, then loads what the backend needs (for Silero: the runtime library and the
    /// model, into a pool of sessions shared by every call built from the factory).
    ///
    /// # Errors
    /// [`VadError`]: invalid settings, missing or corrupt model files.
    pub fn build(&self) -> Result<VadFactory, VadError> {
        self.validate()?;
        let kind = match self {
            Self::Energy(c) => FactoryKind::Energy(c.clone()),
            Self::Webrtc(c) => FactoryKind::Webrtc(c.clone()),
            Self::Silero(c) => FactoryKind::Silero(SileroModel::load(c)?),
        };
        Ok(VadFactory { kind })
    }
}

/// Hands out one detector per call. Cheap to clone; building a detector does no IO.
#[derive(Clone, Debug)]
pub struct VadFactory {
    kind: FactoryKind,
}

#[derive(Clone, Debug)]
enum FactoryKind {
    Energy(EnergyConfig),
    Webrtc(WebrtcConfig),
    Silero(SileroModel),
}

impl VadFactory {
    /// A fresh detector for a new call.
    #[must_use]
    pub fn create(&self) -> Box<dyn Vad> {
        match &self.kind {
            FactoryKind::Energy(c) => Box::new(EnergyVad::new(c)),
            FactoryKind::Webrtc(c) => Box::new(WebrtcVad::new(c)),
            FactoryKind::Silero(m) => Box::new(SileroVad::new(m.clone())),
        }
    }

    /// A fresh detector for a new call, plus (Silero only) the handle with which a driver has
    /// its windows scored by the process-wide batcher (see [`SileroPrefetch`]). Falls back to
    /// a plain detector, with a warning, if the batcher cannot start.
    #[must_use]
    pub fn create_prefetched(&self) -> (Box<dyn Vad>, Option<SileroPrefetch>) {
        match &self.kind {
            FactoryKind::Silero(m) => match SileroVad::with_prefetch(m.clone()) {
                Ok((vad, prefetch)) => (Box::new(vad), Some(prefetch)),
                Err(e) => {
                    tracing::warn!(error = %e, "silero batcher unavailable; scoring per call");
                    (Box::new(SileroVad::new(m.clone())), None)
                }
            },
            _ => (self.create(), None),
        }
    }

    /// The short name of the detectors this factory makes ("energy", "webrtc", "silero").
    #[must_use]
    pub fn name(&self) -> &'static str {
        match &self.kind {
            FactoryKind::Energy(_) => crate::energy::NAME,
            FactoryKind::Webrtc(_) => crate::webrtc::NAME,
            FactoryKind::Silero(_) => crate::silero::NAME,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::VadConfig;

    #[test]
    fn tagged_by_type_with_defaults() {
        let c: VadConfig = serde_json::from_str(r#"{"type":"webrtc"}"#).unwrap();
        assert!(matches!(c, VadConfig::Webrtc(_)));
        let c: VadConfig = serde_json::from_str(r#"{"type":"energy","threshold":300}"#).unwrap();
        assert!(matches!(c, VadConfig::Energy(ref e) if e.threshold == 300.0));
        assert!(serde_json::from_str::<VadConfig>(r#"{"type":"nope"}"#).is_err());
        assert!(serde_json::from_str::<VadConfig>(r#"{"type":"energy","treshold":1}"#).is_err());
        assert!(matches!(VadConfig::default(), VadConfig::Silero(_)));
    }
}
