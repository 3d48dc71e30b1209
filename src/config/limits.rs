//! `[limits]`: the largest photo, file and time budget a case may use.

use serde::{Deserialize, Serialize};

use super::Allowed::Int;
use super::Bounds;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_megapixels: u32,
    pub max_file_mb: u32,
    /// Time budget of one case, in seconds.
    pub case_seconds: u32,
}

impl LimitsConfig {
    pub(super) const BOUNDS: Bounds = &[
        ("max_megapixels", Int(1, 1000)),
        ("max_file_mb", Int(1, 2000)),
        ("case_seconds", Int(10, 86_400)),
    ];

    pub fn max_pixels(&self) -> u64 {
        u64::from(self.max_megapixels) * 1_000_000
    }
    pub fn max_file_bytes(&self) -> u64 {
        u64::from(self.max_file_mb) * 1_000_000
    }
}
