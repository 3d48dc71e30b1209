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

    /// `to` must name a kind of target `publish` knows, and hold no password (the full
    /// address is parsed by `publish::Target`, which this module must not import: it reads the
    /// config).
    pub(super) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        if self.to.is_empty() {
            return Ok(());
        }
        let bad = |why: &str| invalid(path, "publish.to", format!("{:?}: {why}", self.to));
        let Some((scheme, rest)) = self.to.split_once("://") else {
            return Err(bad(
                "give file:///path, sftp://user@host/path or s3://bucket/prefix",
            ));
        };
        if !["file", "sftp", "s3"].contains(&scheme) {
            return Err(bad("only file://, sftp:// and s3:// addresses are known"));
        }
        let authority = rest.split('/').next().unwrap_or("");
        if authority
            .rsplit_once('@')
            .is_some_and(|(user, _)| user.contains(':'))
        {
            return Err(bad(
                "no password here: SFTP signs in with your SSH key or agent",
            ));
        }
        if rest.contains("secret") || rest.contains("access_key") {
            return Err(bad(
                "no keys here: S3 keys come from AWS_* variables or your profile",
            ));
        }
        Ok(())
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
