//! `[publish]`: where `beforeafter publish` and `watch` put the gallery, and how.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Allowed::{Int, Text};
use super::{Bounds, invalid};
use crate::error::ConfigError;

/// Publishing to the website (see `config/default.toml`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PublishConfig {
    /// The website's folder (`file://`, `sftp://`, `s3://`); "" = not published by `watch`.
    pub to: String,
    /// A publish deleting more files than this is refused (withdrawn consent aside).
    pub max_deletes: u32,
    /// `Cache-Control` of files whose names carry a content hash (S3 and the like).
    pub cache_control_hashed: String,
    /// `Cache-Control` of pages, JSON and other files.
    pub cache_control_pages: String,
}

impl PublishConfig {
    pub(super) const BOUNDS: Bounds = &[
        ("to", Text(2000)),
        ("max_deletes", Int(0, 1_000_000)),
        ("cache_control_hashed", Text(200)),
        ("cache_control_pages", Text(200)),
    ];

    /// `to` must be an address `publish` can use, holding no password.
    pub(super) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        if self.to.is_empty() {
            return Ok(());
        }
        crate::publish::Target::parse(&self.to)
            .map(|_| ())
            .map_err(|e| invalid(path, "publish.to", e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    #[test]
    fn publish_addresses_are_checked() {
        let ok = "[publish]\nto = \"sftp://clinic@example.org/var/www/gallery\"\n";
        let c = Config::from_str_at(ok, Path::new("c.toml")).unwrap();
        assert_eq!(c.publish.max_deletes, 50);
        let bad = "[publish]\nto = \"sftp://clinic:secret@example.org/var/www\"\n";
        let e = Config::from_str_at(bad, Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().contains("publish.to"), "{e}");
    }
}
