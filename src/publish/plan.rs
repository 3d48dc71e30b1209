//! What a publish does, decided before anything is sent: the gallery's files with their BLAKE3
//! hashes, compared with the record the last publish left on the target
//! (`.beforeafter/published.json`: public names and hashes only), in the order that never shows
//! a visitor a broken page (images and assets, then pages, then `gallery.json`, then
//! `manifest.json` and its signature), then the files to delete, pages before the images they
//! show. Deletions of cases whose consent ended (a withdrawal receipt names them) are kept
//! apart: the delete cap never holds them back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::PublishError;

/// The record on the target, relative to the gallery's folder there.
pub const RECORD: &str = ".beforeafter/published.json";
const SCHEMA: u32 = 1;

/// What the target holds that this tool put there.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Record {
    pub schema: u32,
    /// Every file this tool uploaded and has not deleted: path → BLAKE3 (hex).
    pub files: BTreeMap<String, String>,
    /// Files a publish started to upload and had not yet recorded (a kill leaves them here, so
    /// the next publish still knows they are its own).
    #[serde(default)]
    pub incoming: BTreeSet<String>,
}

impl Record {
    pub fn parse(bytes: &[u8]) -> Result<Record, String> {
        let r: Record = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if r.schema != SCHEMA {
            return Err(format!("schema {} (this version reads {SCHEMA})", r.schema));
        }
        Ok(r)
    }

    /// The public ids of the cases whose page the target holds.
    pub fn cases(&self) -> BTreeSet<String> {
        (self.files.keys())
            .filter_map(|p| p.strip_suffix("/index.html"))
            .filter(|c| !c.contains('/'))
            .map(str::to_owned)
            .collect()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut r = self.clone();
        r.schema = SCHEMA;
        let mut json = serde_json::to_vec_pretty(&r).unwrap_or_default();
        json.push(b'\n');
        json
    }
}

/// One file to upload.
#[derive(Clone, Debug, Serialize)]
pub struct Upload {
    pub path: String,
    pub hash: String,
    pub bytes: u64,
}

/// The whole plan.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Plan {
    /// In upload order.
    pub uploads: Vec<Upload>,
    /// Files already on the target with the same content.
    pub unchanged: usize,
    /// Files to delete that are not a withdrawal's, pages first.
    pub deletes: Vec<String>,
    /// Files of cases whose consent ended, pages first: always deleted.
    pub withdrawals: Vec<String>,
    /// The public ids of those cases.
    pub withdrawn_cases: Vec<String>,
}

/// The gallery folder's publishable files: every file, except dot-names at any depth (the
/// folder's own `.beforeafter/`, `.shards/`, temporary files). Path → (hash, size).
pub fn local_files(out: &Path) -> Result<BTreeMap<String, (String, u64)>, PublishError> {
    let mut files = BTreeMap::new();
    let mut stack = vec![(out.to_owned(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| PublishError::local(&dir, &e))?;
        for entry in entries {
            let entry = entry.map_err(|e| PublishError::local(&dir, &e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry
                .file_type()
                .map_err(|e| PublishError::local(&path, &e))?;
            if kind.is_dir() {
                stack.push((path, child));
            } else if kind.is_file() {
                let bytes = std::fs::read(&path).map_err(|e| PublishError::local(&path, &e))?;
                let hash = blake3::hash(&bytes).to_hex().to_string();
                files.insert(child, (hash, bytes.len() as u64));
            }
        }
    }
    if !files.contains_key(crate::manifest::FILE_NAME) {
        return Err(PublishError::Local(format!(
            "{} has no {}: it is not a gallery (run `beforeafter batch` first)",
            out.display(),
            crate::manifest::FILE_NAME
        )));
    }
    Ok(files)
}

/// When a file goes up: 0 images and assets, 1 pages, 2 feeds and other JSON, 3 the manifest,
/// 4 its signature and public key.
pub fn phase(path: &str) -> u8 {
    match path {
        crate::manifest::FILE_NAME => 3,
        p if p.starts_with(crate::manifest::FILE_NAME) || p.ends_with(".pub") => 4,
        // embed.js names the photos as a page does: it goes up after them.
        p if p.ends_with(".html") || p == crate::gallery::EMBED_FILE => 1,
        p if p.ends_with(".json") || p.ends_with(".xml") => 2,
        _ => 0,
    }
}

/// `local` against the target's `record`; `withdrawn`: public ids of cases whose consent ended
/// (their files go whatever the cap), `published`: the ids the local manifest publishes.
pub fn make(
    local: &BTreeMap<String, (String, u64)>,
    record: &Record,
    withdrawn: &BTreeSet<String>,
) -> Plan {
    let mut plan = Plan::default();
    for (path, (hash, bytes)) in local {
        if record.files.get(path) == Some(hash) {
            plan.unchanged += 1;
        } else {
            plan.uploads.push(Upload {
                path: path.clone(),
                hash: hash.clone(),
                bytes: *bytes,
            });
        }
    }
    plan.uploads
        .sort_by(|a, b| (phase(&a.path), &a.path).cmp(&(phase(&b.path), &b.path)));
    let known = record.files.keys().chain(&record.incoming);
    let gone: BTreeSet<&String> = known.filter(|p| !local.contains_key(*p)).collect();
    let mut cases = BTreeSet::new();
    for path in gone {
        let case = path.split('/').next().unwrap_or("");
        if path.contains('/') && withdrawn.contains(case) {
            cases.insert(case.to_owned());
            plan.withdrawals.push(path.clone());
        } else {
            plan.deletes.push(path.clone());
        }
    }
    // Pages first, so no page is left showing a missing image.
    let pages_first = |p: &String| (!p.ends_with(".html"), p.clone());
    plan.deletes.sort_by_key(pages_first);
    plan.withdrawals.sort_by_key(pages_first);
    plan.withdrawn_cases = cases.into_iter().collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_withdrawals() {
        let local: BTreeMap<String, (String, u64)> = [
            ("manifest.json", "m2"),
            ("index.html", "i2"),
            ("a/index.html", "a1"),
            ("a/front-after-640.0123abcd.jpg", "x"),
            ("assets/style.css", "s"),
            ("gallery.json", "g"),
            ("embed.js", "e"),
        ]
        .into_iter()
        .map(|(p, h)| (p.to_owned(), (h.to_owned(), 1)))
        .collect();
        let mut record = Record::default();
        for (p, h) in [
            ("manifest.json", "m1"),
            ("index.html", "i1"),
            ("a/index.html", "a1"),
        ] {
            record.files.insert(p.into(), h.into());
        }
        for p in ["w/index.html", "w/x.jpg", "old/y.jpg"] {
            record.files.insert(p.into(), "h".into());
        }
        record.incoming.insert("a/stale.jpg".into());
        let withdrawn = BTreeSet::from(["w".to_owned()]);
        let plan = make(&local, &record, &withdrawn);
        let order: Vec<&str> = plan.uploads.iter().map(|u| u.path.as_str()).collect();
        assert_eq!(
            order,
            [
                "a/front-after-640.0123abcd.jpg",
                "assets/style.css",
                "embed.js",
                "index.html",
                "gallery.json",
                "manifest.json"
            ]
        );
        assert_eq!(plan.unchanged, 1);
        assert_eq!(plan.deletes, ["a/stale.jpg", "old/y.jpg"]);
        assert_eq!(plan.withdrawals, ["w/index.html", "w/x.jpg"]);
        assert_eq!(plan.withdrawn_cases, ["w"]);
    }
}
