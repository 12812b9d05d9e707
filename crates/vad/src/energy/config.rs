//! Settings of the energy baseline.

use serde::{Deserialize, Serialize};

use crate::VadError;

/// `type: energy`. Frame RMS (16-bit scale) above `threshold` is speech.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnergyConfig {
    /// RMS threshold on 16-bit samples (the seed used 500).
    pub threshold: f32,
    /// Width of a linear ramp around the threshold, in RMS units: probability 0 at
    /// `threshold - ramp/2`, 1 at `threshold + ramp/2`. 0 gives hard 0/1 decisions.
    pub ramp: f32,
}

impl Default for EnergyConfig {
    fn default() -> Self {
        Self {
            threshold: 500.0,
            ramp: 0.0,
        }
    }
}

impl EnergyConfig {
    /// Checks the values.
    ///
    /// # Errors
    /// [`VadError::InvalidConfig`] when a value is negative or not finite.
    pub fn validate(&self) -> Result<(), VadError> {
        if !self.threshold.is_finite() || self.threshold <= 0.0 || self.threshold > 32_768.0 {
            return Err(VadError::InvalidConfig {
                field: "threshold",
                message: format!("{} is not in (0, 32768]", self.threshold),
            });
        }
        if !self.ramp.is_finite() || self.ramp < 0.0 {
            return Err(VadError::InvalidConfig {
                field: "ramp",
                message: format!("{} must be 0 or more", self.ramp),
            });
        }
        Ok(())
    }
}
