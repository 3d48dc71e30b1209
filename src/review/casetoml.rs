//! Edits of a case's `case.toml` by the review app. Format-preserving (`toml_edit`: the file's
//! comments, order and other keys stay as the clinic wrote them), checked (the result must parse
//! as a case.toml the pipeline accepts), atomic (temp file + rename, `disk::write_atomic`),
//! and only over the text the page was shown: the page carries the file's hash, and a file
//! changed on disk since is not overwritten.

use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, value};

pub const FILE: &str = "case.toml";

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{}: changed on disk since the page loaded; the page reloads to show it", .0.display())]
    Changed(PathBuf),
    #[error("{path}: {1}; fix the file by hand, then reload the page", path = .0.display())]
    Invalid(PathBuf, String),
    #[error("{0}")]
    Write(String),
    /// The decision would not publish (the photos do not line up, the crop is too small…):
    /// nothing was written. `confirm`: it would, with a confirmation the request lacked.
    #[error("{0}")]
    Refused(String, bool),
}

/// What the page carries to detect a change: BLAKE3 of the file's bytes, "none" without one.
#[must_use]
pub fn stamp(case_dir: &Path) -> String {
    match std::fs::read(case_dir.join(FILE)) {
        Ok(bytes) => blake3::hash(&bytes).to_hex().to_string(),
        Err(_) => "none".into(),
    }
}

/// Apply `change` to `case_dir/case.toml` (created when missing) if it is still the file whose
/// stamp is `expected`. Returns the new stamp.
pub fn edit(
    case_dir: &Path,
    expected: &str,
    change: impl FnOnce(&mut DocumentMut) -> Result<(), String>,
) -> Result<String, EditError> {
    edit_vetted(case_dir, expected, change, |_| Ok(()))
}

/// [`edit`], written only if `vet` accepts the case.toml it would write (parsed): a decision
/// that would not publish leaves the file as it was.
pub fn edit_vetted(
    case_dir: &Path,
    expected: &str,
    change: impl FnOnce(&mut DocumentMut) -> Result<(), String>,
    vet: impl FnOnce(crate::casefile::CaseMeta) -> Result<(), EditError>,
) -> Result<String, EditError> {
    let path = case_dir.join(FILE);
    if stamp(case_dir) != expected {
        return Err(EditError::Changed(path));
    }
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let invalid = |e: String| EditError::Invalid(path.clone(), e);
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| invalid(e.to_string()))?;
    change(&mut doc).map_err(invalid)?;
    let new = doc.to_string();
    vet(crate::casefile::parse(&new).map_err(invalid)?)?;
    crate::disk::write_atomic(case_dir, FILE, new.as_bytes())
        .map_err(|e| EditError::Write(e.to_string()))?;
    Ok(stamp(case_dir))
}

/// Which `[[align]]` entry: a stage, and its view when the case has several.
#[derive(Clone, Debug)]
pub struct Target {
    pub view: Option<String>,
    pub stage: String,
}

/// Replace the `[[align]]` entries for `target` (any earlier landmarks, matrix or approval) by
/// `entry`, leaving every other entry and key as it was.
pub fn set_align(doc: &mut DocumentMut, target: &Target, mut entry: Table) -> Result<(), String> {
    let item = doc
        .entry("align")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
    let Some(list) = item.as_array_of_tables_mut() else {
        return Err("`align` is not written as [[align]] tables".into());
    };
    list.retain(|t| !names(t, target));
    if let Some(view) = &target.view {
        entry.insert("view", value(view.as_str()));
    }
    entry.insert("stage", value(target.stage.as_str()));
    list.push(entry);
    Ok(())
}

fn names(t: &Table, target: &Target) -> bool {
    let stage = t.get("stage").and_then(Item::as_str);
    let view = t.get("view").and_then(Item::as_str);
    let same_view = match (&target.view, view) {
        (Some(a), Some(b)) => crate::ids::slug(a) == crate::ids::slug(b),
        _ => true,
    };
    same_view && stage.is_some_and(|s| s.eq_ignore_ascii_case(&target.stage))
}

/// `landmarks = [[before_x, before_y, stage_x, stage_y], …]`, to 0.01 px.
#[must_use]
pub fn landmarks_entry(landmarks: &[[f64; 4]]) -> Table {
    let mut rows = Array::new();
    for l in landmarks {
        let row: Array = l.iter().map(|v| (v * 100.0).round() / 100.0).collect();
        rows.push_formatted(toml_edit::Value::Array(row).decorated("\n  ", ""));
    }
    rows.set_trailing("\n");
    rows.set_trailing_comma(true);
    let mut t = Table::new();
    t.insert("landmarks", value(rows));
    t
}

/// An approval: the transform shown, when, the photos it holds for, and what staff confirmed
/// (the sentence they ticked, with the photos' capture days: case.toml is private).
#[must_use]
pub fn approval_entry(
    matrix: [[f64; 3]; 2],
    when: &str,
    hashes: [&str; 2],
    confirmed: Option<&str>,
) -> Table {
    let [before, photo] = hashes;
    let mut rows = Array::new();
    for r in matrix {
        rows.push(r.iter().copied().collect::<Array>());
    }
    let mut t = Table::new();
    t.insert("matrix", value(rows));
    t.insert("approved", value(when));
    t.insert("before_hash", value(before));
    t.insert("photo_hash", value(photo));
    if let Some(sentence) = confirmed {
        t.insert("confirmed", value(sentence));
    }
    t
}

/// "Keep private": staff's own decision, `keep_private = true`. It never edits the patient's
/// consent record (`consent`), so the clinic's record of what the patient agreed to stays true.
pub fn keep_private(doc: &mut DocumentMut) -> Result<(), String> {
    doc["keep_private"] = value(true);
    Ok(())
}

/// "Publish again", the undo of "Keep private": staff's decision removed, nothing else. A case
/// whose patient has not consented stays off the website (the app says it waits for consent).
pub fn publish_again(doc: &mut DocumentMut) -> Result<(), String> {
    if doc.get("keep_private").and_then(Item::as_bool) != Some(true) {
        return Err("this case is not kept private".into());
    }
    doc.remove("keep_private");
    Ok(())
}

/// "Don't publish this photo" (a photo problem, not consent): a `[[withhold]]` entry naming
/// the file, why, and when; any earlier entry for the same file is replaced.
pub fn withhold(doc: &mut DocumentMut, file: &str, reason: &str, when: &str) -> Result<(), String> {
    let item = doc
        .entry("withhold")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
    let Some(list) = item.as_array_of_tables_mut() else {
        return Err("`withhold` is not written as [[withhold]] tables".into());
    };
    list.retain(|t| !same_file(t, file));
    let mut t = Table::new();
    t.insert("file", value(file));
    if !reason.trim().is_empty() {
        t.insert("reason", value(reason.trim()));
    }
    t.insert("since", value(when));
    list.push(t);
    Ok(())
}

/// "Publish this photo again": its `[[withhold]]` entry removed (the list too when empty).
pub fn unwithhold(doc: &mut DocumentMut, file: &str) -> Result<(), String> {
    let list = doc
        .get_mut("withhold")
        .and_then(Item::as_array_of_tables_mut)
        .filter(|l| l.iter().any(|t| same_file(t, file)))
        .ok_or_else(|| format!("{file} is not held back in this case.toml"))?;
    list.retain(|t| !same_file(t, file));
    if list.is_empty() {
        doc.remove("withhold");
    }
    Ok(())
}

fn same_file(t: &Table, file: &str) -> bool {
    (t.get("file").and_then(Item::as_str)).is_some_and(|f| f.eq_ignore_ascii_case(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_comments_order_and_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        let text = "# Mrs Example, crown\ntitle = \"Crown\" # shown on the page\nconsent = true\n\n\
                    [[align]]\nstage = \"session-2\" # by hand\nmatrix = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]\n";
        std::fs::write(dir.path().join(FILE), text).unwrap();
        let before = stamp(dir.path());
        let target = Target {
            view: None,
            stage: "after".into(),
        };
        let entry = landmarks_entry(&[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.123]]);
        let after = edit(dir.path(), &before, |d| set_align(d, &target, entry)).unwrap();
        let new = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(new.starts_with("# Mrs Example, crown\ntitle = \"Crown\" # shown on the page\n"));
        assert!(new.contains("stage = \"session-2\" # by hand"), "{new}");
        let meta = crate::casefile::parse(&new).unwrap();
        assert_eq!(meta.align.len(), 2);
        assert_eq!(meta.align[1].landmarks[1], [5.0, 6.0, 7.0, 8.12]);
        // The page's stamp is now stale: a second edit from it is refused.
        assert!(matches!(
            edit(dir.path(), &before, keep_private),
            Err(EditError::Changed(_))
        ));
        edit(dir.path(), &after, keep_private).unwrap();
        let meta = crate::casefile::read(&dir.path().join(FILE)).unwrap();
        assert!(meta.keep_private);
        assert_eq!(meta.consent, Some(crate::consent::Consent::Given(true)));
    }

    #[test]
    fn keep_private_and_withhold_are_undone_apart() {
        let dir = tempfile::tempdir().unwrap();
        let text = "# note\ntitle = \"Crown\"\n";
        std::fs::write(dir.path().join(FILE), text).unwrap();
        let read = || crate::casefile::read(&dir.path().join(FILE)).unwrap();
        let s = edit(dir.path(), &stamp(dir.path()), keep_private).unwrap();
        let s = edit(dir.path(), &s, |d| withhold(d, "after.jpg", "blurred", "t")).unwrap();
        let meta = read();
        assert!(meta.keep_private && meta.consent.is_none());
        assert_eq!(meta.withhold[0].reason.as_deref(), Some("blurred"));
        let s = edit(dir.path(), &s, publish_again).unwrap();
        assert!(
            !read().keep_private && read().consent.is_none(),
            "consent untouched"
        );
        assert!(read().withholds("after.jpg"), "the photo stays held back");
        let s = edit(dir.path(), &s, |d| unwithhold(d, "AFTER.jpg")).unwrap();
        let e = edit(dir.path(), &s, |d| unwithhold(d, "after.jpg")).unwrap_err();
        assert!(e.to_string().contains("not held back"), "{e}");
        let new = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert_eq!(new, "# note\ntitle = \"Crown\"\n");
        let e = edit(dir.path(), &s, publish_again).unwrap_err();
        assert!(e.to_string().contains("not kept private"), "{e}");
    }
}
