//! `[review]`: what a decision taken by hand must meet before it publishes, and the smallest
//! photo the gallery shows. A receptionist cannot be the only check that two photos belong
//! together (scalp photos of two patients look alike), so a hand-given alignment is measured the
//! way the automatic one is, at a lower bar.

use serde::{Deserialize, Serialize};

use super::Allowed::{Int, Number};
use super::Bounds;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewConfig {
    /// The bar a transform given by hand (landmarks, a matrix, an approval) must clear on the
    /// automatic alignment's own measure (`align::confidence_of`); a lower `[align]
    /// min_confidence` lowers it too (see [`ReviewConfig::hand_bar`]).
    pub hand_min_confidence: f64,
    /// Points placed by hand must span a triangle covering at least this fraction of each photo.
    pub min_point_spread: f64,
    /// A view whose common crop is shorter than this on its short side (pixels) is held.
    pub min_crop: u32,
}

impl ReviewConfig {
    pub(super) const BOUNDS: Bounds = &[
        ("hand_min_confidence", Number(0.05, 1.0)),
        ("min_point_spread", Number(0.0, 0.5)),
        ("min_crop", Int(16, 8192)),
    ];

    /// The bar a hand-given transform must clear: `hand_min_confidence`, or the automatic bar
    /// when a clinic set that lower, since a hand decision is never held to more than it.
    #[must_use]
    pub fn hand_bar(&self, min_confidence: f64) -> f64 {
        self.hand_min_confidence.min(min_confidence)
    }
}
