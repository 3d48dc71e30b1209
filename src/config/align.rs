//! `[align]`: registration of later photos onto the before photo.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Allowed::{Int, Number};
use super::{Bounds, in_range};
use crate::error::ConfigError;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlignConfig {
    pub enabled: bool,
    pub working_size: u32,
    pub model: crate::align::Model,
    pub min_confidence: f64,
    pub max_rotation: f64,
    pub min_scale: f64,
    pub max_scale: f64,
    pub max_shift: f64,
}

impl AlignConfig {
    pub(super) const BOUNDS: Bounds = &[
        ("working_size", Int(256, 4096)),
        ("min_confidence", Number(0.0, 1.0)),
        ("max_rotation", Number(0.0, 90.0)),
        ("min_scale", Number(0.1, 10.0)),
        ("max_scale", Number(0.1, 10.0)),
        ("max_shift", Number(0.0, 1.0)),
    ];

    pub(super) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        in_range(
            path,
            "align.max_scale",
            self.max_scale,
            self.min_scale,
            10.0,
        )
    }

    /// The registration settings: config keys over the estimator's tuned internals.
    pub fn params(&self) -> crate::align::AlignParams {
        crate::align::AlignParams {
            model: self.model,
            min_confidence: self.min_confidence,
            max_rotation_deg: self.max_rotation,
            min_scale: self.min_scale,
            max_scale: self.max_scale,
            max_shift: self.max_shift,
            ..crate::align::AlignParams::default()
        }
    }
}
