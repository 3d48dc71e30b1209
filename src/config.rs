//! Configuration: `config/default.toml` (embedded) overlaid key by key with the user's file,
//! then validated once.
//!
//! The defaults live only in `config/default.toml`: the structs below have no `Default`, so a
//! key missing from that file is a build-time test failure rather than a silent hard-coded value.
//! Unknown keys and out-of-range values are refused with the file, the key and what is allowed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// The embedded defaults, documented key by key.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// The validated configuration the program runs with.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Cases processed at once; 0 = one per core.
    pub jobs: usize,
    pub cases: CasesConfig,
    pub outputs: OutputsConfig,
    pub watermark: WatermarkConfig,
    pub labels: LabelsConfig,
    pub composites: CompositesConfig,
    pub align: AlignConfig,
    pub tone: ToneConfig,
    pub limits: LimitsConfig,
    pub gallery: GalleryConfig,
    pub watch: WatchConfig,
    /// Where the user's file lives (relative paths in it are resolved against its folder).
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// The logo PNG's bytes, read once at load time so a missing logo is a config error.
    #[serde(skip)]
    pub logo_png: Option<Vec<u8>>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CasesConfig {
    pub default_consent: bool,
    pub publish_review: bool,
    /// Public ids of cases without a `slug`: opaque, or the folder names.
    pub ids: crate::ids::PublicIds,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Jpeg,
    Webp,
    /// AVIF (AV1, by rav1e through ravif): the smallest files and by far the slowest encoder,
    /// so it is off unless `outputs.formats` names it.
    Avif,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Webp => "webp",
            Format::Avif => "avif",
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputsConfig {
    pub widths: Vec<u32>,
    pub formats: Vec<Format>,
    pub jpeg_quality: u8,
    pub webp_quality: u8,
    pub webp_effort: u8,
    pub avif_quality: u8,
    pub avif_speed: u8,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Anchor {
    TopLeft,
    Top,
    TopRight,
    Left,
    Center,
    Right,
    BottomLeft,
    Bottom,
    BottomRight,
    Tiled,
}

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

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LabelsConfig {
    pub enabled: bool,
    pub before: String,
    pub after: String,
    pub session: String,
    pub size: f32,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CompositesConfig {
    pub enabled: bool,
    pub width: u32,
    pub thumb_width: u32,
    pub square: u32,
    pub social: [u32; 2],
    pub stack_above_aspect: f32,
    pub gap: f32,
    pub background: String,
}

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

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ToneConfig {
    pub mode: crate::tone::ToneMode,
    pub max_gain: f64,
    pub min_gamma: f64,
    pub max_gamma: f64,
}

impl ToneConfig {
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

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_megapixels: u32,
    pub max_file_mb: u32,
}

impl LimitsConfig {
    pub fn max_pixels(&self) -> u64 {
        u64::from(self.max_megapixels) * 1_000_000
    }
    pub fn max_file_bytes(&self) -> u64 {
        u64::from(self.max_file_mb) * 1_000_000
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GalleryConfig {
    pub title: String,
    pub clinic: String,
    /// Header logo, relative to the config file; "" = none.
    pub logo: String,
    /// Theme colours, "#rrggbb".
    pub background: String,
    pub text: String,
    pub accent: String,
    pub footer: String,
    /// Public address of the gallery folder for share previews; "" = relative.
    pub base_url: String,
    /// The clinic's template folder, relative to the config file; "" = built-in only.
    pub templates: String,
    /// How dates are shown: time since the before photo, also the month, or none.
    pub dates: crate::dates::DateStyle,
    /// The header logo, read once at load time so a missing logo is a config error.
    #[serde(skip)]
    pub logo_file: Option<GalleryLogo>,
    /// `templates` resolved against the config file's folder.
    #[serde(skip)]
    pub templates_dir: Option<PathBuf>,
}

/// The gallery's header logo: its bytes, file extension and pixel size.
#[derive(Clone, Debug)]
pub struct GalleryLogo {
    pub bytes: Vec<u8>,
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

impl GalleryConfig {
    /// `base_url` with exactly one trailing `/`, or "" when unset.
    pub fn base_url(&self) -> String {
        let trimmed = self.base_url.trim_end_matches('/');
        if trimmed.is_empty() {
            String::new()
        } else {
            format!("{trimmed}/")
        }
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let bad = |key: &str, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            key: format!("gallery.{key}"),
            message,
        };
        for (key, value) in [
            ("background", &self.background),
            ("text", &self.text),
            ("accent", &self.accent),
        ] {
            if parse_hex_colour(value).is_none() {
                return Err(bad(
                    key,
                    format!("{value:?} is not a colour: write it as \"#rrggbb\""),
                ));
            }
        }
        let url = &self.base_url;
        let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
        let chars_ok = !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"'<>`\\".contains(c));
        let well_formed = scheme_ok && chars_ok && url.len() > "https://".len();
        if !url.is_empty() && !well_formed {
            return Err(bad(
                "base_url",
                format!(
                    "{url:?}: give the gallery folder's public address, such as \"https://clinic.example/results/\", or \"\""
                ),
            ));
        }
        Ok(())
    }

    /// Resolve `logo` and `templates` against `base` (the config file's folder).
    fn load_files(&mut self, base: &Path, shown: &Path) -> Result<(), ConfigError> {
        let bad = |key: &str, message: String| ConfigError::Invalid {
            path: shown.to_owned(),
            key: format!("gallery.{key}"),
            message,
        };
        if !self.templates.is_empty() {
            let dir = base.join(&self.templates);
            if !dir.is_dir() {
                return Err(bad(
                    "templates",
                    format!(
                        "{} is not a folder; give a folder relative to the config file",
                        dir.display()
                    ),
                ));
            }
            self.templates_dir = Some(dir);
        }
        if !self.logo.is_empty() {
            let file = base.join(&self.logo);
            let bytes = std::fs::read(&file).map_err(|e| {
                bad(
                    "logo",
                    format!(
                        "cannot read {}: {e}; give a PNG, JPEG or WebP path relative to the config file",
                        file.display()
                    ),
                )
            })?;
            self.logo_file = Some(
                read_logo(bytes).map_err(|m| bad("logo", format!("{}: {m}", file.display())))?,
            );
        }
        Ok(())
    }
}

/// Check a gallery logo's format and read its size without decoding the pixels.
fn read_logo(bytes: Vec<u8>) -> Result<GalleryLogo, String> {
    use image::ImageFormat;
    let format = image::guess_format(&bytes).map_err(|e| e.to_string())?;
    let extension = match format {
        ImageFormat::Png => "png",
        ImageFormat::Jpeg => "jpg",
        ImageFormat::WebP => "webp",
        other => {
            return Err(format!(
                "{other:?} is not allowed: give a PNG, JPEG or WebP file"
            ));
        }
    };
    let (width, height) = image::ImageReader::with_format(std::io::Cursor::new(&bytes), format)
        .into_dimensions()
        .map_err(|e| format!("not a readable image: {e}"))?;
    Ok(GalleryLogo {
        bytes,
        extension,
        width,
        height,
    })
}

/// `beforeafter watch` timing (see `config/default.toml`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// How long a photo's size and mtime must stay the same before it is read, in ms.
    pub quiet_ms: u64,
    /// `--poll` scan interval, in ms.
    pub poll_ms: u64,
    /// How long a photo that does not decode must stay unchanged before it is reported, in ms.
    pub broken_after_ms: u64,
}

impl Config {
    /// The defaults alone.
    pub fn defaults() -> Config {
        Config::from_table(default_table(), None).expect("config/default.toml is valid")
    }

    /// Defaults overlaid with `path` (if any), validated.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let Some(path) = path else {
            return Ok(Config::defaults());
        };
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_owned(),
            source: e,
        })?;
        Config::from_str_at(&text, path)
    }

    /// Defaults overlaid with TOML `text`, reported as coming from `path`.
    pub fn from_str_at(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let user: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let mut merged = default_table();
        overlay(&mut merged, user, "", path)?;
        Config::from_table(merged, Some(path))
    }

    fn from_table(table: toml::Table, path: Option<&Path>) -> Result<Config, ConfigError> {
        let shown = path.map_or_else(|| PathBuf::from("config/default.toml"), Path::to_owned);
        let mut config: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: shown.clone(),
                    message: e.to_string(),
                })?;
        config.source = path.map(Path::to_owned);
        config.validate(&shown)?;
        config.load_logo(&shown)?;
        let base = config.base_dir().to_owned();
        config.gallery.load_files(&base, &shown)?;
        Ok(config)
    }

    /// Files the configuration itself uses (the file, the logos, the template folder), so
    /// discovery skips them.
    pub fn own_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self.source.iter().cloned().collect();
        let base = self.base_dir();
        for rel in [
            &self.watermark.logo,
            &self.gallery.logo,
            &self.gallery.templates,
        ] {
            if !rel.is_empty() {
                files.push(base.join(rel));
            }
        }
        files
    }

    /// The folder relative paths in the config file are resolved against.
    fn base_dir(&self) -> &Path {
        self.source
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(Path::new("."))
    }

    /// The number of worker threads to use: `jobs`, or one per core.
    pub fn threads(&self) -> usize {
        if self.jobs == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.jobs
        }
    }

    fn load_logo(&mut self, shown: &Path) -> Result<(), ConfigError> {
        if self.watermark.logo.is_empty() {
            return Ok(());
        }
        let base = self
            .source
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(Path::new("."));
        let logo = base.join(&self.watermark.logo);
        let bytes = std::fs::read(&logo).map_err(|e| ConfigError::Invalid {
            path: shown.to_owned(),
            key: "watermark.logo".into(),
            message: format!(
                "cannot read {}: {e}; give a PNG path relative to the config file",
                logo.display()
            ),
        })?;
        image::load_from_memory_with_format(&bytes, image::ImageFormat::Png).map_err(|e| {
            ConfigError::Invalid {
                path: shown.to_owned(),
                key: "watermark.logo".into(),
                message: format!("{} is not a readable PNG: {e}", logo.display()),
            }
        })?;
        self.logo_png = Some(bytes);
        Ok(())
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let bad = |key: &str, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            key: key.to_owned(),
            message,
        };
        let o = &self.outputs;
        if o.widths.is_empty() || o.widths.iter().any(|w| !(1..=8192).contains(w)) {
            return Err(bad(
                "outputs.widths",
                format!("{:?}: give 1 to 8192 pixels each, at least one", o.widths),
            ));
        }
        if o.formats.is_empty() {
            return Err(bad(
                "outputs.formats",
                "give at least one of \"jpeg\", \"webp\", \"avif\"".into(),
            ));
        }
        in_range(
            path,
            "outputs.jpeg_quality",
            f64::from(o.jpeg_quality),
            1.0,
            100.0,
        )?;
        in_range(
            path,
            "outputs.webp_quality",
            f64::from(o.webp_quality),
            1.0,
            100.0,
        )?;
        in_range(
            path,
            "outputs.webp_effort",
            f64::from(o.webp_effort),
            0.0,
            6.0,
        )?;
        in_range(
            path,
            "outputs.avif_quality",
            f64::from(o.avif_quality),
            1.0,
            100.0,
        )?;
        in_range(
            path,
            "outputs.avif_speed",
            f64::from(o.avif_speed),
            1.0,
            10.0,
        )?;
        let w = &self.watermark;
        in_range(path, "watermark.opacity", f64::from(w.opacity), 0.0, 1.0)?;
        in_range(path, "watermark.size", f64::from(w.size), 0.02, 1.0)?;
        in_range(path, "watermark.margin", f64::from(w.margin), 0.0, 0.2)?;
        if w.enabled && w.logo.is_empty() && w.text.trim().is_empty() {
            return Err(bad(
                "watermark.text",
                "empty while watermark.logo is empty too: give one, or set watermark.enabled = false".into(),
            ));
        }
        in_range(path, "labels.size", f64::from(self.labels.size), 0.01, 0.2)?;
        let c = &self.composites;
        in_range(path, "composites.width", f64::from(c.width), 64.0, 8192.0)?;
        in_range(
            path,
            "composites.thumb_width",
            f64::from(c.thumb_width),
            64.0,
            2048.0,
        )?;
        in_range(path, "composites.square", f64::from(c.square), 64.0, 8192.0)?;
        in_range(
            path,
            "composites.social[0]",
            f64::from(c.social[0]),
            64.0,
            8192.0,
        )?;
        in_range(
            path,
            "composites.social[1]",
            f64::from(c.social[1]),
            64.0,
            8192.0,
        )?;
        in_range(
            path,
            "composites.stack_above_aspect",
            f64::from(c.stack_above_aspect),
            0.1,
            10.0,
        )?;
        in_range(path, "composites.gap", f64::from(c.gap), 0.0, 0.1)?;
        if parse_hex_colour(&c.background).is_none() {
            return Err(bad(
                "composites.background",
                format!(
                    "{:?} is not a colour: write it as \"#rrggbb\"",
                    c.background
                ),
            ));
        }
        let a = &self.align;
        in_range(
            path,
            "align.working_size",
            f64::from(a.working_size),
            256.0,
            4096.0,
        )?;
        in_range(path, "align.min_confidence", a.min_confidence, 0.0, 1.0)?;
        in_range(path, "align.max_rotation", a.max_rotation, 0.0, 90.0)?;
        in_range(path, "align.min_scale", a.min_scale, 0.1, 10.0)?;
        in_range(path, "align.max_scale", a.max_scale, a.min_scale, 10.0)?;
        in_range(path, "align.max_shift", a.max_shift, 0.0, 1.0)?;
        let t = &self.tone;
        in_range(path, "tone.max_gain", t.max_gain, 1.0, 4.0)?;
        in_range(path, "tone.min_gamma", t.min_gamma, 0.2, 5.0)?;
        in_range(path, "tone.max_gamma", t.max_gamma, t.min_gamma, 5.0)?;
        in_range(
            path,
            "limits.max_megapixels",
            f64::from(self.limits.max_megapixels),
            1.0,
            1000.0,
        )?;
        in_range(
            path,
            "limits.max_file_mb",
            f64::from(self.limits.max_file_mb),
            1.0,
            2000.0,
        )?;
        let w = &self.watch;
        in_range(path, "watch.quiet_ms", w.quiet_ms as f64, 50.0, 60000.0)?;
        in_range(path, "watch.poll_ms", w.poll_ms as f64, 100.0, 600000.0)?;
        in_range(
            path,
            "watch.broken_after_ms",
            w.broken_after_ms as f64,
            100.0,
            600000.0,
        )?;
        self.gallery.validate(path)
    }
}

fn in_range(path: &Path, key: &str, value: f64, min: f64, max: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value >= min && value <= max {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            path: path.to_owned(),
            key: key.to_owned(),
            message: format!("{value} is out of range: allowed {min} to {max}"),
        })
    }
}

/// `"#rrggbb"` to bytes.
pub fn parse_hex_colour(text: &str) -> Option<[u8; 3]> {
    let hex = text.strip_prefix('#')?;
    if hex.len() != 6 || !hex.is_ascii() {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

fn default_table() -> toml::Table {
    toml::from_str(DEFAULT_TOML).expect("config/default.toml parses")
}

/// Overlay `user` onto `base` key by key; a key that `base` lacks is unknown.
fn overlay(
    base: &mut toml::Table,
    user: toml::Table,
    prefix: &str,
    path: &Path,
) -> Result<(), ConfigError> {
    for (key, value) in user {
        let dotted = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let Some(slot) = base.get_mut(&key) else {
            let mut allowed: Vec<&str> = base.keys().map(String::as_str).collect();
            allowed.sort_unstable();
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                key: dotted,
                message: format!("unknown key; allowed here: {}", allowed.join(", ")),
            });
        };
        match (slot, value) {
            (toml::Value::Table(inner), toml::Value::Table(value)) => {
                overlay(inner, value, &dotted, path)?;
            }
            (toml::Value::Table(_), _) => {
                return Err(ConfigError::Invalid {
                    path: path.to_owned(),
                    key: dotted,
                    message: "must be a table ([section])".into(),
                });
            }
            (slot, value) => *slot = value,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_validate() {
        let c = Config::defaults();
        assert_eq!(c.outputs.widths, vec![480, 1024, 2048]);
        assert!(
            !c.cases.default_consent,
            "nothing is published without recorded consent"
        );
        assert_eq!(c.cases.ids, crate::ids::PublicIds::Opaque);
        assert_eq!(c.gallery.dates, crate::dates::DateStyle::Relative);
    }

    #[test]
    fn user_file_overrides_one_key_and_keeps_the_rest() {
        let c = Config::from_str_at("[outputs]\njpeg_quality = 90\n", Path::new("x.toml")).unwrap();
        assert_eq!(c.outputs.jpeg_quality, 90);
        assert_eq!(c.outputs.webp_quality, 80);
    }

    #[test]
    fn unknown_key_is_refused_with_file_and_key() {
        let e = Config::from_str_at("[outputs]\nwidthz = [1]\n", Path::new("clinic.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("clinic.toml") && e.contains("outputs.widthz"),
            "{e}"
        );
        assert!(e.contains("widths"), "lists the allowed keys: {e}");
    }

    #[test]
    fn out_of_range_value_is_refused_with_what_is_allowed() {
        let e = Config::from_str_at("[outputs]\njpeg_quality = 150\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("outputs.jpeg_quality") && e.contains("1 to 100"),
            "{e}"
        );
    }

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

    #[test]
    fn wrong_type_is_refused_with_file() {
        let e = Config::from_str_at("jobs = \"many\"\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.toml") && e.contains("jobs"), "{e}");
    }

    #[test]
    fn bad_colour_and_bad_anchor_are_refused() {
        let e = Config::from_str_at(
            "[composites]\nbackground = \"white\"\n",
            Path::new("c.toml"),
        );
        assert!(e.unwrap_err().to_string().contains("#rrggbb"));
        let e = Config::from_str_at("[watermark]\nposition = \"middle\"\n", Path::new("c.toml"));
        assert!(e.unwrap_err().to_string().contains("watermark"));
    }

    #[test]
    fn watch_timings_are_validated() {
        let c = Config::from_str_at("[watch]\nquiet_ms = 500\n", Path::new("c.toml")).unwrap();
        assert_eq!(c.watch.quiet_ms, 500);
        let e = Config::from_str_at("[watch]\nquiet_ms = 0\n", Path::new("c.toml"));
        assert!(e.unwrap_err().to_string().contains("watch.quiet_ms"));
    }
}
