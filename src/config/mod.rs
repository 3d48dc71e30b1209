//! Configuration: `config/default.toml` (embedded) overlaid key by key with the user's file,
//! then validated once.
//!
//! Layout: one file per `[section]` (`outputs.rs` for `[outputs]`, and so on), each holding its
//! struct, what its keys allow (its `BOUNDS`, right next to the fields) and its own `validate`
//! for the checks that need more than a range. This file holds [`Config`] itself, loading and
//! overlaying, the refusal of unknown keys, and the validation machinery the sections share
//! ([`Allowed`], `SECTIONS`, `check_value`, `in_range`, `invalid`, colours, logo files).
//!
//! The defaults live only in `config/default.toml`: the structs have no `Default`, so a key
//! missing from that file is a build-time test failure rather than a silent hard-coded value.
//! Unknown keys and out-of-range values are refused with the file, the key and what is allowed.

mod align;
mod cases;
mod composites;
mod gallery;
mod labels;
mod limits;
mod outputs;
mod publish;
mod quality;
mod render;
mod review;
mod server;
mod tone;
mod watch;
mod watermark;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use align::AlignConfig;
pub use cases::CasesConfig;
pub use composites::CompositesConfig;
pub use gallery::{GalleryConfig, GalleryLogo};
pub use labels::LabelsConfig;
pub use limits::LimitsConfig;
pub use outputs::{Format, OutputsConfig};
pub use publish::PublishConfig;
pub use quality::QualityConfig;
pub use render::RenderSections;
pub use review::ReviewConfig;
pub use server::ServerConfig;
pub use tone::ToneConfig;
pub use watch::WatchConfig;
pub use watermark::{Anchor, WatermarkConfig};

use crate::error::ConfigError;

/// The configuration file a run finds in its input folder.
pub const CONFIG_NAME: &str = "beforeafter.toml";

/// The watermark text `init` wrote before it asked for the clinic's name.
pub const SAMPLE_WATERMARK: &str = "beforeafter sample clinic";

/// The embedded defaults, documented key by key.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

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
    pub quality: QualityConfig,
    pub review: ReviewConfig,
    pub gallery: GalleryConfig,
    pub watch: WatchConfig,
    pub server: ServerConfig,
    pub publish: PublishConfig,
    /// Where the user's file lives (relative paths in it are resolved against its folder).
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// The logo PNG's bytes, read once at load time so a missing logo is a config error.
    #[serde(skip)]
    pub logo_png: Option<Vec<u8>>,
}

impl Config {
    const BOUNDS: Bounds = &[("jobs", Int(0, 1024))];

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
        config.resolve_watermark_text();
        config.validate(&shown)?;
        let base = config.base_dir().to_owned();
        config.logo_png = config.watermark.load_logo(&base, &shown)?;
        config.gallery.load_files(&base, &shown)?;
        Ok(config)
    }

    /// `[watermark] text = ""` means the clinic's name, else the gallery's title, so a clinic
    /// never publishes a mark naming someone else. Resolved before the cache key is taken.
    fn resolve_watermark_text(&mut self) {
        if self.watermark.text.trim().is_empty() {
            let clinic = self.gallery.clinic.trim();
            let title = self.gallery.title.trim();
            self.watermark.text = if clinic.is_empty() { title } else { clinic }.to_owned();
        }
    }

    /// What `check` should warn about in the settings a clinic would publish with: a watermark
    /// that does not name the clinic.
    pub fn publishing_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let text_mark = self.watermark.enabled && self.watermark.logo.is_empty();
        if text_mark && self.watermark.text.trim() == SAMPLE_WATERMARK {
            out.push(format!(
                "[watermark] text is the sample's {SAMPLE_WATERMARK:?}: set it to your clinic's \
                 name, or set it to \"\" and [gallery] clinic"
            ));
        } else if text_mark && self.gallery.clinic.trim().is_empty() {
            out.push(format!(
                "[gallery] clinic is not set, so the watermark reads {:?} (the title): set \
                 clinic to your clinic's name",
                self.watermark.text
            ));
        }
        out
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
    /// The sections rendering depends on (resolved by [`RenderSections::params`]).
    #[must_use]
    pub fn render_sections(&self) -> RenderSections {
        RenderSections {
            outputs: self.outputs.clone(),
            watermark: self.watermark.clone(),
            labels: self.labels.clone(),
            composites: self.composites.clone(),
        }
    }

    pub fn threads(&self) -> usize {
        if self.jobs == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.jobs
        }
    }

    /// The checks that need more than one key or more than a range (see [`Allowed`]).
    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        self.outputs.validate(path)?;
        self.watermark.validate(path)?;
        self.labels.validate(path)?;
        self.composites.validate(path)?;
        self.align.validate(path)?;
        self.tone.validate(path)?;
        self.gallery.validate(path)?;
        self.publish.validate(path)
    }
}

/// What a key allows. Checked on the merged TOML before it is deserialized into the section
/// structs, so that an integer out of range (`jpeg_quality = 820`, `jobs = -1`) gets the same
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
const SECTIONS: [(&str, Bounds); 15] = [
    ("", Config::BOUNDS),
    ("outputs", OutputsConfig::BOUNDS),
    ("watermark", WatermarkConfig::BOUNDS),
    ("labels", LabelsConfig::BOUNDS),
    ("composites", CompositesConfig::BOUNDS),
    ("align", AlignConfig::BOUNDS),
    ("tone", ToneConfig::BOUNDS),
    ("limits", LimitsConfig::BOUNDS),
    ("quality", QualityConfig::BOUNDS),
    ("review", ReviewConfig::BOUNDS),
    ("gallery", GalleryConfig::BOUNDS),
    ("cases", CasesConfig::BOUNDS),
    ("watch", WatchConfig::BOUNDS),
    ("server", ServerConfig::BOUNDS),
    ("publish", PublishConfig::BOUNDS),
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

/// Read the logo `rel` (the value of `key`) relative to `base`, the config file's folder; a
/// file that cannot be read is refused, saying which `kinds` of image the key takes. Returns
/// the resolved path too, for the messages of later checks.
fn read_relative(
    base: &Path,
    rel: &str,
    shown: &Path,
    key: &str,
    kinds: &str,
) -> Result<(PathBuf, Vec<u8>), ConfigError> {
    let file = base.join(rel);
    match read_small_file(&file) {
        Ok(bytes) => Ok((file, bytes)),
        Err(e) => Err(invalid(
            shown,
            key,
            format!(
                "cannot read {}: {e}; give a {kinds} path relative to the config file",
                file.display()
            ),
        )),
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
        const NAMES: [&str; 16] = [
            "cases.ids",
            "outputs.formats",
            "watermark.position",
            "align.model",
            "tone.mode",
            "gallery.dates",
            "quality.blur",
            "quality.overexposed",
            "quality.underexposed",
            "quality.perspective",
            "quality.shine",
            "quality.timing",
            "quality.date_order",
            "quality.framing",
            "quality.mismatch",
            "quality.tone",
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
}
