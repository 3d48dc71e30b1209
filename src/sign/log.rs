//! The publication log, `<input>/.beforeafter/log.jsonl`: one JSON line per change of the
//! gallery (when, the manifest's BLAKE3, the key, the cases added, changed and removed by
//! public id), each holding the BLAKE3 of the line before it. A run without a signing key is
//! logged too, as `"signed": false`, so the log has no silent period (what was public while the
//! clinic had no key, or had lost it, is on record as unsigned). Rewriting or removing an earlier
//! line breaks the chain at the next one, so the log answers "what was public, and since when"
//! for a regulator, and shows when it was edited. It stays beside the photos (private): a case's
//! withdrawal is recorded without publishing that the case existed.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::LOG_FILE;
use crate::error::Fatal;

/// One publication.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// When it was signed, UTC ("2026-12-01T21:40:05Z"); the signature's trusted comment too.
    pub time: String,
    /// BLAKE3 of `manifest.json` as published.
    pub manifest: String,
    /// BLAKE3 of the previous line's bytes (without its newline); "" for the first line.
    pub previous: String,
    /// The signing key's id; "" when unsigned.
    pub key: String,
    /// Whether the run signed the manifest (entries from before unsigned runs were logged are
    /// all signed).
    #[serde(default = "signed_by_default")]
    pub signed: bool,
    pub tool: String,
    /// Public ids of cases published, changed (photos, records or captions) and withdrawn.
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl Entry {
    /// An entry for `manifest` (its hash `hash`), compared case by case with `before` (what was
    /// public until now; `None`: nothing was, so every case is added), signed by `key` ("":
    /// unsigned). Its `previous` is set by [`append`].
    #[must_use]
    pub fn new(
        time: String,
        hash: String,
        key: &str,
        before: Option<&[u8]>,
        manifest: &[u8],
    ) -> Entry {
        let old = before.map(cases).unwrap_or_default();
        let new = cases(manifest);
        let ids = |f: &dyn Fn(&String, &String) -> bool, from: &BTreeMap<String, String>| {
            from.iter()
                .filter(|(id, c)| f(id, c))
                .map(|(id, _)| id.clone())
                .collect()
        };
        Entry {
            time,
            manifest: hash,
            previous: String::new(),
            key: key.to_owned(),
            signed: !key.is_empty(),
            tool: format!("beforeafter {}", env!("CARGO_PKG_VERSION")),
            added: ids(&|id, _| !old.contains_key(id), &new),
            changed: ids(&|id, c| old.get(id).is_some_and(|o| o != c), &new),
            removed: ids(&|id, _| !new.contains_key(id), &old),
        }
    }
}

fn signed_by_default() -> bool {
    true
}

/// A manifest's published cases: public id → the case's JSON (compared whole).
fn cases(manifest: &[u8]) -> BTreeMap<String, String> {
    let value: serde_json::Value = serde_json::from_slice(manifest).unwrap_or_default();
    let listed = value["cases"].as_array().cloned().unwrap_or_default();
    listed
        .iter()
        .filter(|c| c["published"].as_bool() != Some(false))
        .filter_map(|c| Some((c["id"].as_str()?.to_owned(), c.to_string())))
        .collect()
}

/// BLAKE3 of one line, as the next line records it.
#[must_use]
pub fn line_hash(line: &str) -> String {
    blake3::hash(line.as_bytes()).to_hex().to_string()
}

/// Add `entry` after the log's last line (its `previous` set to that line's hash). The log is
/// written whole, atomically, so a crash never leaves half a line; earlier lines are kept
/// byte for byte.
pub fn append(input: &Path, mut entry: Entry) -> Result<(), Fatal> {
    let mut text = std::fs::read_to_string(input.join(LOG_FILE)).unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    entry.previous = text.lines().last().map(line_hash).unwrap_or_default();
    let line = serde_json::to_string(&entry).map_err(|e| Fatal::Other(e.to_string()))?;
    text.push_str(&line);
    text.push('\n');
    crate::disk::write_atomic(input, LOG_FILE, text.as_bytes())
}

/// The log's last entry, if it has one that reads.
#[must_use]
pub fn last(input: &Path) -> Option<Entry> {
    let text = std::fs::read_to_string(input.join(LOG_FILE)).ok()?;
    serde_json::from_str(text.lines().last()?).ok()
}

/// Where the chain does not hold: the line (1-based) and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Break {
    pub line: usize,
    pub why: String,
}

/// Every entry that reads, and every place the chain breaks.
#[must_use]
pub fn check_chain(text: &str) -> (Vec<Entry>, Vec<Break>) {
    let mut entries = Vec::new();
    let mut breaks = Vec::new();
    let mut before = String::new();
    for (i, line) in text.lines().enumerate() {
        let at = |why: String| Break { line: i + 1, why };
        match serde_json::from_str::<Entry>(line) {
            Ok(e) if e.previous == before => entries.push(e),
            Ok(e) => {
                breaks.push(at(format!(
                    "it records {} as the line before it, but that line hashes to {}: an \
                     earlier line was changed, removed or inserted",
                    short(&e.previous),
                    short(&before)
                )));
                entries.push(e);
            }
            Err(e) => breaks.push(at(format!("not a log entry ({e})"))),
        }
        before = line_hash(line);
    }
    (entries, breaks)
}

fn short(hash: &str) -> &str {
    if hash.is_empty() {
        "nothing"
    } else {
        &hash[..hash.len().min(16)]
    }
}

/// The log's entries, unchecked, or nothing when there is no log.
pub fn read(input: &Path) -> Option<Vec<Entry>> {
    let text = std::fs::read_to_string(input.join(LOG_FILE)).ok()?;
    Some(check_chain(&text).0)
}

/// What happened to case `id`, in order: (time, "published" | "changed" | "withdrawn", whether
/// that run was signed).
#[must_use]
pub fn history(entries: &[Entry], id: &str) -> Vec<(String, &'static str, bool)> {
    let has = |list: &[String]| list.iter().any(|x| x == id);
    entries
        .iter()
        .filter_map(|e| {
            let what = if has(&e.added) {
                "published"
            } else if has(&e.changed) {
                "changed"
            } else if has(&e.removed) {
                "withdrawn"
            } else {
                return None;
            };
            Some((e.time.clone(), what, e.signed))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(cases: &[(&str, &str)]) -> Vec<u8> {
        let cases: Vec<_> = cases
            .iter()
            .map(|(id, t)| serde_json::json!({"id": id, "title": t, "published": true}))
            .collect();
        serde_json::to_vec(&serde_json::json!({ "cases": cases })).unwrap()
    }

    fn entry(before: Option<&[u8]>, now: &[u8], time: &str) -> Entry {
        Entry::new(time.into(), line_hash(time), "K", before, now)
    }

    #[test]
    fn entries_name_cases_added_changed_and_removed() {
        let a = manifest(&[("c1", "one"), ("c2", "two")]);
        let b = manifest(&[("c1", "one, retitled"), ("c3", "three")]);
        let e = entry(Some(&a), &b, "t");
        assert_eq!(
            (e.added, e.changed, e.removed),
            (
                vec!["c3".to_owned()],
                vec!["c1".to_owned()],
                vec!["c2".to_owned()]
            )
        );
        assert_eq!(entry(None, &a, "t").added, ["c1", "c2"]);
    }

    #[test]
    fn the_chain_breaks_where_a_line_was_edited() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (manifest(&[("c1", "x")]), manifest(&[]));
        append(dir.path(), entry(None, &a, "t1")).unwrap();
        append(dir.path(), entry(Some(&a), &b, "t2")).unwrap();
        append(dir.path(), entry(Some(&b), &a, "t3")).unwrap();
        let text = std::fs::read_to_string(dir.path().join(LOG_FILE)).unwrap();
        let (entries, breaks) = check_chain(&text);
        assert_eq!((entries.len(), breaks.len()), (3, 0));
        let events: Vec<_> = history(&entries, "c1").into_iter().map(|e| e.1).collect();
        assert_eq!(events, ["published", "withdrawn", "published"]);
        let edited = text.replacen("\"removed\":[\"c1\"]", "\"removed\":[]", 1);
        let (_, breaks) = check_chain(&edited);
        assert_eq!(breaks.iter().map(|b| b.line).collect::<Vec<_>>(), [3]);
    }
}
