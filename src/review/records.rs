//! What the last run recorded, as the review app reads it: held and failed cases from
//! `<input>/.beforeafter/held.json`, published ones from `published.json` (on request), each
//! found by its folder name. Only photos named here are ever served.

use std::path::{Path, PathBuf};

use crate::manifest::{CaseEntry, HELD_FILE, Manifest, PRIVATE_FILE};

/// The cases a reviewer can open.
pub struct Records {
    pub held: Vec<CaseEntry>,
    pub published: Vec<CaseEntry>,
}

impl Records {
    pub fn load(input: &Path) -> Records {
        let read = |rel: &str| -> Vec<CaseEntry> {
            std::fs::read_to_string(input.join(rel))
                .ok()
                .and_then(|t| serde_json::from_str::<Manifest>(&t).ok())
                .map(|m| m.cases)
                .unwrap_or_default()
        };
        Records {
            held: read(HELD_FILE)
                .into_iter()
                .filter(|c| !c.published)
                .collect(),
            published: read(PRIVATE_FILE),
        }
    }

    /// The case recorded for folder `source`, held ones first.
    pub fn case(&self, source: &str) -> Option<&CaseEntry> {
        self.held
            .iter()
            .chain(&self.published)
            .find(|c| c.source.as_deref() == Some(source))
    }

    /// `rel`, when some record names it as a photo, as a path inside `input`.
    pub fn photo(&self, input: &Path, rel: &str) -> Option<PathBuf> {
        let named = self
            .held
            .iter()
            .chain(&self.published)
            .flat_map(|c| c.views.iter().flat_map(|v| &v.stages))
            .any(|s| s.source.as_deref() == Some(rel));
        let path = input.join(rel).canonicalize().ok()?;
        (named && path.starts_with(input) && path.is_file()).then_some(path)
    }
}

/// The folder of a case, where its case.toml lives; `None` for a flat pair (photos side by side
/// in INPUT), whose case.toml would be shared.
pub fn case_dir(input: &Path, entry: &CaseEntry) -> Option<PathBuf> {
    let dir = input.join(entry.source.as_deref()?);
    dir.is_dir().then_some(dir)
}
