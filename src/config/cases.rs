//! `[cases]`: which cases may be published and how their public ids are made.

use serde::{Deserialize, Serialize};

use super::Allowed::Int;
use super::Bounds;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CasesConfig {
    pub default_consent: bool,
    pub publish_review: bool,
    /// Public ids of cases without a `slug`: opaque, or the folder names.
    pub ids: crate::ids::PublicIds,
    /// Read photos and case folders linked in from outside the input folder.
    pub follow_symlinks: bool,
    /// `check`, every run's summary and watch logs warn about consent ending within this many
    /// days.
    pub expiry_warning_days: u32,
}

impl CasesConfig {
    pub(super) const BOUNDS: Bounds = &[("expiry_warning_days", Int(0, 3650))];
}
