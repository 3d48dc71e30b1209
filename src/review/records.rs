//! What the last run recorded, as the review app reads it: held and failed cases from
//! `<input>/.beforeafter/held.json`, published ones from `published.json` (on request), each
//! found by its folder name. Only photos named here are ever served. And what the clinic keeps
//! off the website, which no run records: cases kept private and photos held back, read from
//! the case folders' case.toml files.

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

/// A case folder whose case.toml keeps something off the website.
#[derive(Clone, Debug, serde::Serialize)]
pub struct KeptOff {
    /// The folder's name.
    pub source: String,
    /// `keep_private = true`: staff's "Keep private".
    pub private: bool,
    /// `[[withhold]]`: "Don't publish this photo".
    pub withheld: Vec<crate::casefile::Withheld>,
    /// The case.toml's stamp, for the undo.
    pub stamp: String,
}

/// Every case folder of `input` (not a dot-name) whose case.toml keeps it private or holds back
/// a photo, in name order.
#[must_use]
pub fn kept_off(input: &Path) -> Vec<KeptOff> {
    let Ok(dir) = std::fs::read_dir(input) else {
        return Vec::new();
    };
    let mut found: Vec<KeptOff> = dir
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let source = e.file_name().to_str()?.to_owned();
            kept_off_in(&e.path(), source)
        })
        .collect();
    found.sort_by(|a, b| a.source.cmp(&b.source));
    found
}

/// What `dir`'s case.toml keeps off the website, if anything.
#[must_use]
pub fn kept_off_in(dir: &Path, source: String) -> Option<KeptOff> {
    if source.starts_with('.') {
        return None;
    }
    let meta = crate::casefile::read(&dir.join(super::casetoml::FILE)).ok()?;
    let private = meta.keep_private;
    (private || !meta.withhold.is_empty()).then(|| KeptOff {
        source,
        private,
        withheld: meta.withhold,
        stamp: super::casetoml::stamp(dir),
    })
}

/// `name` as a case folder directly inside `input` (canonical): not a dot-name, not through a
/// link out.
#[must_use]
pub fn case_folder(input: &Path, name: &str) -> Option<PathBuf> {
    let plain = !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\']);
    let dir = input.join(name).canonicalize().ok()?;
    (plain && dir.parent() == Some(input) && dir.is_dir()).then_some(dir)
}
