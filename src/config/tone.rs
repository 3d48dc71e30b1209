//! `[tone]`: global lighting and colour normalization.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Allowed::Number;
use super::{Bounds, in_range};
use crate::error::ConfigError;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ToneConfig {
    pub mode: crate::tone::ToneMode,
    pub max_gain: f64,
    pub min_gamma: f64,
    pub max_gamma: f64,
}

impl ToneConfig {
    pub(super) const BOUNDS: Bounds = &[
        ("max_gain", Number(1.0, 4.0)),
        ("min_gamma", Number(0.2, 5.0)),
        ("max_gamma", Number(0.2, 5.0)),
    ];

    pub(super) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        in_range(path, "tone.max_gamma", self.max_gamma, self.min_gamma, 5.0)
    }

    pub fn params(&self) -> crate::tone::ToneParams {
        crate::tone::ToneParams {
            mode: self.mode,
            max_gain: self.max_gain,
            min_gamma: self.min_gamma,
            max_gamma: self.max_gamma,
            ..crate::tone::ToneParams::default()
        }
    }
}
