//! `[outputs]`: the widths, formats and encoder settings of every published photo.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Allowed::{Int, Ints};
use super::{Bounds, invalid};
use crate::error::ConfigError;

pub use crate::render::Format;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputsConfig {
    pub widths: Vec<u32>,
    pub formats: Vec<Format>,
    pub jpeg_quality: u8,
    pub jpeg_progressive: bool,
    pub webp_quality: u8,
    pub webp_effort: u8,
    pub avif_quality: u8,
    pub avif_speed: u8,
}

impl OutputsConfig {
    pub(super) const BOUNDS: Bounds = &[
        ("widths", Ints(1, 8192)),
        ("jpeg_quality", Int(1, 100)),
        ("webp_quality", Int(1, 100)),
        ("webp_effort", Int(0, 6)),
        ("avif_quality", Int(1, 100)),
        ("avif_speed", Int(1, 10)),
    ];

    pub(super) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        if self.widths.is_empty() {
            return Err(invalid(
                path,
                "outputs.widths",
                "[]: give 1 to 8192 pixels each, at least one".into(),
            ));
        }
        if self.formats.is_empty() {
            return Err(invalid(
                path,
                "outputs.formats",
                "give at least one of \"jpeg\", \"webp\", \"avif\"".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;

    #[test]
    fn encoder_settings_are_checked_avif_included() {
        let c = Config::from_str_at(
            "[outputs]\nformats = [\"jpeg\", \"avif\"]\navif_speed = 10\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(c.outputs.formats, [Format::Jpeg, Format::Avif]);
        for (key, bad) in [("avif_speed", 0), ("avif_quality", 101), ("webp_effort", 7)] {
            let e =
                Config::from_str_at(&format!("[outputs]\n{key} = {bad}\n"), Path::new("c.toml"))
                    .unwrap_err()
                    .to_string();
            assert!(e.contains(&format!("outputs.{key}")), "{e}");
        }
        let e = Config::from_str_at("[outputs]\nformats = [\"heic\"]\n", Path::new("c.toml"));
        assert!(e.unwrap_err().to_string().contains("formats"));
    }
}
