//! `[composites]`: the side-by-side, square and social composites of each view.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Allowed::{Int, Ints, Number};
use super::{Bounds, COLOUR, check_colour};
use crate::error::ConfigError;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CompositesConfig {
    pub enabled: bool,
    pub width: u32,
    /// The index thumbnails' widths, and their shape (width / height).
    pub thumb_widths: Vec<u32>,
    pub thumb_aspect: f32,
    /// The thumbnails' JPEG and WebP quality.
    pub thumb_quality: u8,
    pub square: u32,
    pub social: [u32; 2],
    pub stack_above_aspect: f32,
    pub gap: f32,
    pub background: String,
}

impl CompositesConfig {
    pub(super) const BOUNDS: Bounds = &[
        ("width", Int(64, 8192)),
        ("thumb_widths", Ints(64, 2048)),
        ("thumb_aspect", Number(0.5, 3.0)),
        ("thumb_quality", Int(1, 100)),
        ("square", Int(64, 8192)),
        ("social", Ints(64, 8192)),
        ("stack_above_aspect", Number(0.1, 10.0)),
        ("gap", Number(0.0, 0.1)),
        ("background", COLOUR),
    ];

    pub(super) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        check_colour(path, "composites.background", &self.background)
    }
}
