//! `[watermark]`: the logo or text burnt into published photos and composites.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Allowed::{Int, Number, Text};
use super::{Bounds, PATH, invalid, read_relative};
use crate::error::ConfigError;

pub use crate::render::watermark::Anchor;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WatermarkConfig {
    pub enabled: bool,
    pub logo: String,
    pub text: String,
    pub position: Anchor,
    pub opacity: f32,
    pub size: f32,
    pub margin: f32,
    pub min_width: u32,
}

impl WatermarkConfig {
    pub(super) const BOUNDS: Bounds = &[
        ("logo", PATH),
        ("text", Text(200)),
        ("opacity", Number(0.0, 1.0)),
        ("size", Number(0.02, 1.0)),
        ("margin", Number(0.0, 0.2)),
        ("min_width", Int(0, 100_000)),
    ];

    pub(super) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        if self.enabled && self.logo.is_empty() && self.text.trim().is_empty() {
            return Err(invalid(
                path,
                "watermark.text",
                "empty while watermark.logo is empty too: give one, or set watermark.enabled = false".into(),
            ));
        }
        Ok(())
    }

    /// The logo PNG's bytes, read from `logo` relative to `base` (the config file's folder), or
    /// `None` when there is no logo.
    pub(super) fn load_logo(
        &self,
        base: &Path,
        shown: &Path,
    ) -> Result<Option<Vec<u8>>, ConfigError> {
        if self.logo.is_empty() {
            return Ok(None);
        }
        let (logo, bytes) = read_relative(base, &self.logo, shown, "watermark.logo", "PNG")?;
        image::load_from_memory_with_format(&bytes, image::ImageFormat::Png).map_err(|e| {
            invalid(
                shown,
                "watermark.logo",
                format!("{} is not a readable PNG: {e}", logo.display()),
            )
        })?;
        Ok(Some(bytes))
    }
}
