//! `[gallery]`: the pages' title, theme, header logo, share address, templates and dates.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Allowed::{Int, Text};
use super::{Bounds, COLOUR, PATH, check_colour, invalid, read_relative};
use crate::error::ConfigError;

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
    /// The call to action on every page: address and words; "" = none.
    pub contact_url: String,
    pub contact_label: String,
    /// The divider's starting position, percent from the left.
    pub start: u32,
    /// Index cards per page.
    pub page_size: u32,
    /// Ask search engines not to index the pages (a staging copy).
    pub noindex: bool,
    /// Offer the square and social-media images on the public page. false: they are written
    /// for staff only, in `<input>/.beforeafter/social/` (see `pipeline::staff`).
    pub social_downloads: bool,
    /// The header logo, read once at load time so a missing logo is a config error.
    #[serde(skip)]
    pub logo_file: Option<GalleryLogo>,
    /// `templates` resolved against the config file's folder.
    #[serde(skip)]
    pub templates_dir: Option<PathBuf>,
    /// The clinic's signing public key (`minisign.pub`'s text), set by a run when the input
    /// folder has one (`beforeafter keys new`): the pages then say how to check the signature.
    #[serde(skip)]
    pub public_key: Option<String>,
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
    pub(super) const BOUNDS: Bounds = &[
        ("title", Text(200)),
        ("clinic", Text(200)),
        ("logo", PATH),
        ("background", COLOUR),
        ("text", COLOUR),
        ("accent", COLOUR),
        ("footer", Text(500)),
        ("base_url", Text(2000)),
        ("templates", PATH),
        ("contact_url", Text(2000)),
        ("contact_label", Text(100)),
        ("start", Int(0, 100)),
        ("page_size", Int(1, 1000)),
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

    pub(super) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
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
        check_contact(path, &self.contact_url, &self.contact_label)
    }

    /// Resolve `logo` and `templates` against `base` (the config file's folder).
    pub(super) fn load_files(&mut self, base: &Path, shown: &Path) -> Result<(), ConfigError> {
        if !self.templates.is_empty() {
            let dir = base.join(&self.templates);
            if !dir.is_dir() {
                return Err(invalid(
                    shown,
                    "gallery.templates",
                    format!(
                        "{} is not a folder; give a folder relative to the config file",
                        dir.display()
                    ),
                ));
            }
            self.templates_dir = Some(dir);
        }
        if !self.logo.is_empty() {
            let (file, bytes) =
                read_relative(base, &self.logo, shown, "gallery.logo", "PNG, JPEG or WebP")?;
            self.logo_file =
                Some(read_logo(bytes).map_err(|m| {
                    invalid(shown, "gallery.logo", format!("{}: {m}", file.display()))
                })?);
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

/// `contact_url` must be a web or mail address a visitor can follow, with words to show.
fn check_contact(path: &Path, url: &str, label: &str) -> Result<(), ConfigError> {
    if url.is_empty() {
        return Ok(());
    }
    let scheme_ok = ["https://", "http://", "mailto:"]
        .iter()
        .any(|s| url.starts_with(s) && url.len() > s.len());
    let chars_ok = !url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "\"'<>`\\".contains(c));
    if !(scheme_ok && chars_ok) {
        return Err(invalid(
            path,
            "gallery.contact_url",
            format!("{url:?}: give an address such as \"https://clinic.example/book\", or \"\""),
        ));
    }
    if label.trim().is_empty() {
        return Err(invalid(
            path,
            "gallery.contact_label",
            "empty while contact_url is set: give the link's words".into(),
        ));
    }
    Ok(())
}
