//! Configuration: `config/default.toml` (embedded) overlaid key by key with the user's file,
//! then validated once.
//!
//! The defaults live only in `config/default.toml`: the structs below have no `Default`, so a
//! key missing from that file is a build-time test failure rather than a silent hard-coded value.
//! Unknown keys and out-of-range values are refused with the file, the key and what is allowed.
//! Each section lists what its keys allow ([`Allowed`]) and checks the rest in its own
//! `validate`, next to its fields.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// The configuration file a run finds in its input folder.
pub const CONFIG_NAME: &str = "beforeafter.toml";

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

impl Config {
    const BOUNDS: Bounds = &[("jobs", Int(0, 1024))];
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

impl OutputsConfig {
    const BOUNDS: Bounds = &[
        ("widths", Ints(1, 8192)),
        ("jpeg_quality", Int(1, 100)),
        ("webp_quality", Int(1, 100)),
        ("webp_effort", Int(0, 6)),
        ("avif_quality", Int(1, 100)),
        ("avif_speed", Int(1, 10)),
    ];

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
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

impl WatermarkConfig {
    const BOUNDS: Bounds = &[
        ("logo", PATH),
        ("text", Text(200)),
        ("opacity", Number(0.0, 1.0)),
        ("size", Number(0.02, 1.0)),
        ("margin", Number(0.0, 0.2)),
        ("min_width", Int(0, 100_000)),
    ];

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        if self.enabled && self.logo.is_empty() && self.text.trim().is_empty() {
            return Err(invalid(
                path,
                "watermark.text",
                "empty while watermark.logo is empty too: give one, or set watermark.enabled = false".into(),
            ));
        }
        Ok(())
    }
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

impl LabelsConfig {
    const BOUNDS: Bounds = &[
        ("before", Text(40)),
        ("after", Text(40)),
        ("session", Text(40)),
        ("size", Number(0.01, 0.2)),
    ];

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let times = self.session.matches("{n}").count();
        if times > 1 {
            return Err(invalid(
                path,
                "labels.session",
                format!(
                    "{:?} has \"{{n}}\" {times} times: write it at most once",
                    self.session
                ),
            ));
        }
        Ok(())
    }
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

impl CompositesConfig {
    const BOUNDS: Bounds = &[
        ("width", Int(64, 8192)),
        ("thumb_width", Int(64, 2048)),
        ("square", Int(64, 8192)),
        ("social", Ints(64, 8192)),
        ("stack_above_aspect", Number(0.1, 10.0)),
        ("gap", Number(0.0, 0.1)),
        ("background", COLOUR),
    ];

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        check_colour(path, "composites.background", &self.background)
    }
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
    const BOUNDS: Bounds = &[
        ("working_size", Int(256, 4096)),
        ("min_confidence", Number(0.0, 1.0)),
        ("max_rotation", Number(0.0, 90.0)),
        ("min_scale", Number(0.1, 10.0)),
        ("max_scale", Number(0.1, 10.0)),
        ("max_shift", Number(0.0, 1.0)),
    ];

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
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

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ToneConfig {
    pub mode: crate::tone::ToneMode,
    pub max_gain: f64,
    pub min_gamma: f64,
    pub max_gamma: f64,
}

impl ToneConfig {
    const BOUNDS: Bounds = &[
        ("max_gain", Number(1.0, 4.0)),
        ("min_gamma", Number(0.2, 5.0)),
        ("max_gamma", Number(0.2, 5.0)),
    ];

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
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

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_megapixels: u32,
    pub max_file_mb: u32,
    /// Time budget of one case, in seconds.
    pub case_seconds: u32,
}

impl LimitsConfig {
    const BOUNDS: Bounds = &[
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
    const BOUNDS: Bounds = &[
        ("title", Text(200)),
        ("clinic", Text(200)),
        ("logo", PATH),
        ("background", COLOUR),
        ("text", COLOUR),
        ("accent", COLOUR),
        ("footer", Text(500)),
        ("base_url", Text(2000)),
        ("templates", PATH),
    ];

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
        check_colour(path, "gallery.background", &self.background)?;
        check_colour(path, "gallery.text", &self.text)?;
        check_colour(path, "gallery.accent", &self.accent)?;
        let url = &self.base_url;
        let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
        let chars_ok = !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"'<>`\\".contains(c));
        let well_formed = scheme_ok && chars_ok && url.len() > "https://".len();
        if !url.is_empty() && !well_formed {
            return Err(invalid(
                path,
                "gallery.base_url",
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
            let bytes = read_small_file(&file).map_err(|e| {
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

impl WatchConfig {
    const BOUNDS: Bounds = &[
        ("quiet_ms", Int(50, 60_000)),
        ("poll_ms", Int(100, 600_000)),
        ("broken_after_ms", Int(100, 600_000)),
    ];
}

impl Config {
    /// The defaults alone.
    pub fn defaults() -> Config {
        Config::from_table(default_table(), None).expect("config/default.toml is valid")
    }

    /// The configuration for a run over `input`: `explicit` (`--config`) if given, else the
    /// input folder's own `beforeafter.toml` if it has one, else the defaults.
    pub fn for_input(input: &Path, explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let in_input = input.join(CONFIG_NAME);
        match explicit {
            Some(path) => Config::load(Some(path)),
            None if in_input.is_file() => Config::load(Some(&in_input)),
            None => Config::load(None),
        }
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
        check_bounds(&table, &shown)?;
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
        let bytes = read_small_file(&logo).map_err(|e| ConfigError::Invalid {
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

    /// The checks that need more than one key or more than a range (see [`Allowed`]).
    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        self.outputs.validate(path)?;
        self.watermark.validate(path)?;
        self.labels.validate(path)?;
        self.composites.validate(path)?;
        self.align.validate(path)?;
        self.tone.validate(path)?;
        self.gallery.validate(path)
    }
}

/// What a key allows. Checked on the merged TOML before it is deserialized into the structs
/// above, so that an integer out of range (`jpeg_quality = 820`, `jobs = -1`) gets the same
/// message as any other range rather than serde's "expected u8"; a float range holds its ends
/// exactly as written (`gap = 0.1`: the `f32` widened to `f64` would be 0.10000000149011612, past
/// the end) and the message shows the value as written; and a 100 000-character string is refused
/// here instead of exhausting memory in the renderer. A value of another type is left to serde,
/// which names the type expected.
#[derive(Clone, Copy, Debug)]
enum Allowed {
    /// An integer from the first to the second, both included.
    Int(i64, i64),
    /// An array of integers, each from the first to the second.
    Ints(i64, i64),
    /// A number, float or integer, from the first to the second, both included.
    Number(f64, f64),
    /// Text of at most this many characters.
    Text(usize),
}

use Allowed::{Int, Ints, Number, Text};

/// A file path, relative to the config file.
const PATH: Allowed = Text(4096);
/// A colour, `"#rrggbb"` (the format is checked by the section's `validate`).
const COLOUR: Allowed = Text(7);

/// A section's keys and what each allows.
type Bounds = &'static [(&'static str, Allowed)];

/// Every section's bounds; "" is the top level.
const SECTIONS: [(&str, Bounds); 10] = [
    ("", Config::BOUNDS),
    ("outputs", OutputsConfig::BOUNDS),
    ("watermark", WatermarkConfig::BOUNDS),
    ("labels", LabelsConfig::BOUNDS),
    ("composites", CompositesConfig::BOUNDS),
    ("align", AlignConfig::BOUNDS),
    ("tone", ToneConfig::BOUNDS),
    ("limits", LimitsConfig::BOUNDS),
    ("gallery", GalleryConfig::BOUNDS),
    ("watch", WatchConfig::BOUNDS),
];

/// Check every bounded key of the merged `table` (see [`Allowed`]).
fn check_bounds(table: &toml::Table, path: &Path) -> Result<(), ConfigError> {
    for (section, bounds) in SECTIONS {
        let keys = if section.is_empty() {
            Some(table)
        } else {
            table.get(section).and_then(toml::Value::as_table)
        };
        for (key, allowed) in bounds {
            let Some(value) = keys.and_then(|keys| keys.get(*key)) else {
                continue;
            };
            let dotted = if section.is_empty() {
                (*key).to_owned()
            } else {
                format!("{section}.{key}")
            };
            check_value(path, &dotted, *allowed, value)?;
        }
    }
    Ok(())
}

fn check_value(
    path: &Path,
    key: &str,
    allowed: Allowed,
    value: &toml::Value,
) -> Result<(), ConfigError> {
    use toml::Value;
    let message = match (allowed, value) {
        (Int(min, max), Value::Integer(n)) if !(min..=max).contains(n) => out_of_range(n, min, max),
        (Number(min, max), Value::Integer(n)) if !(min..=max).contains(&(*n as f64)) => {
            out_of_range(n, min, max)
        }
        (Number(min, max), Value::Float(x)) if !(min..=max).contains(x) => {
            out_of_range(x, min, max)
        }
        (Ints(min, max), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_value(path, &format!("{key}[{i}]"), Int(min, max), item)?;
            }
            return Ok(());
        }
        (Text(max), Value::String(text)) if text.chars().count() > max => format!(
            "{} characters is too long: allowed at most {max}",
            text.chars().count()
        ),
        _ => return Ok(()),
    };
    Err(invalid(path, key, message))
}

/// A range that depends on another key (`align.max_scale` from `align.min_scale` up).
fn in_range(path: &Path, key: &str, value: f64, min: f64, max: f64) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(invalid(path, key, out_of_range(value, min, max)))
    }
}

/// The value as written (`{:?}` keeps a float's point and writes 1e300 short), the range as
/// documented.
fn out_of_range(
    value: impl std::fmt::Debug,
    min: impl std::fmt::Display,
    max: impl std::fmt::Display,
) -> String {
    format!("{value:?} is out of range: allowed {min} to {max}")
}

fn check_colour(path: &Path, key: &str, value: &str) -> Result<(), ConfigError> {
    match parse_hex_colour(value) {
        Some(_) => Ok(()),
        None => Err(invalid(
            path,
            key,
            format!("{value:?} is not a colour: write it as \"#rrggbb\""),
        )),
    }
}

fn invalid(path: &Path, key: &str, message: String) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_owned(),
        key: key.to_owned(),
        message,
    }
}

/// `"#rrggbb"` to bytes.
/// Largest logo file read, in bytes: a logo is a small picture.
const MAX_LOGO_BYTES: u64 = 20_000_000;

/// A regular file of at most [`MAX_LOGO_BYTES`], so `/dev/zero` or a named pipe given as a
/// logo is refused instead of filling memory or hanging.
fn read_small_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > MAX_LOGO_BYTES {
        return Err(std::io::Error::other(format!(
            "{} bytes; a logo must be at most {MAX_LOGO_BYTES}",
            meta.len()
        )));
    }
    std::fs::read(path)
}

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
    fn every_number_and_text_key_has_bounds_and_every_bound_names_a_key() {
        // Names checked by serde against their enum, which lists what is allowed.
        const NAMES: [&str; 6] = [
            "cases.ids",
            "outputs.formats",
            "watermark.position",
            "align.model",
            "tone.mode",
            "gallery.dates",
        ];
        let defaults = default_table();
        let mut bounded = Vec::new();
        for (section, bounds) in SECTIONS {
            let keys = if section.is_empty() {
                Some(&defaults)
            } else {
                defaults.get(section).and_then(toml::Value::as_table)
            };
            for (key, _) in bounds {
                let dotted = format!("{section}.{key}");
                let dotted = dotted.trim_start_matches('.').to_owned();
                assert!(
                    keys.is_some_and(|keys| keys.contains_key(*key)),
                    "{dotted} is not in config/default.toml"
                );
                bounded.push(dotted);
            }
        }
        let mut leaves = Vec::new();
        for (key, value) in &defaults {
            match value {
                toml::Value::Table(inner) => {
                    leaves.extend(inner.iter().map(|(k, v)| (format!("{key}.{k}"), v)));
                }
                other => leaves.push((key.clone(), other)),
            }
        }
        for (key, value) in leaves {
            let free = !matches!(value, toml::Value::Boolean(_)) && !NAMES.contains(&&*key);
            assert!(!free || bounded.contains(&key), "{key} has no bounds");
        }
    }

    #[test]
    fn watch_timings_are_validated() {
        let c = Config::from_str_at("[watch]\nquiet_ms = 500\n", Path::new("c.toml")).unwrap();
        assert_eq!(c.watch.quiet_ms, 500);
        let e = Config::from_str_at("[watch]\nquiet_ms = 0\n", Path::new("c.toml"));
        assert!(e.unwrap_err().to_string().contains("watch.quiet_ms"));
    }
}
