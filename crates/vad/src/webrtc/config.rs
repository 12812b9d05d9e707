//! Settings of the WebRTC VAD.

use serde::{Deserialize, Serialize};

use super::fvad::MAX_MODE;
use crate::VadError;

/// `type: webrtc`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebrtcConfig {
    /// Aggressiveness, 0 (quality: reports speech most readily) to 3 (very aggressive: fewest
    /// false alarms, more missed speech).
    pub mode: u8,
    /// Analysis frame length in milliseconds: 10, 20 or 30.
    pub frame_ms: u8,
}

impl Default for WebrtcConfig {
    fn default() -> Self {
        Self {
            mode: 3,
            frame_ms: 20,
        }
    }
}

impl WebrtcConfig {
    /// Checks the values.
    ///
    /// # Errors
    /// [`VadError::InvalidConfig`] for a mode above 3 or a frame length other than 10/20/30 ms.
    pub fn validate(&self) -> Result<(), VadError> {
        if self.mode > MAX_MODE {
            return Err(VadError::InvalidConfig {
                field: "mode",
                message: format!("{} is not one of 0, 1, 2, 3", self.mode),
            });
        }
        if !matches!(self.frame_ms, 10 | 20 | 30) {
            return Err(VadError::InvalidConfig {
                field: "frame_ms",
                message: format!("{} is not one of 10, 20, 30", self.frame_ms),
            });
        }
        Ok(())
    }
}
