//! Energy threshold VAD: the seed's RMS > 500 rule, kept only as a baseline for evaluation.
//!
//! It cannot tell speech from noise or music of the same level; do not use it in production.

mod backend;
mod config;

pub use backend::EnergyVad;
pub use config::EnergyConfig;

/// Name used in reports.
pub const NAME: &str = "energy";
