//! Saving a new case from the photos staged by [`super::upload`], with the views and stages
//! staff settled on: the photos are renamed to what discovery reads (`before.jpg`,
//! `crown_session-1.jpg`, …) inside a folder built in the staging area, with a `case.toml`
//! that records no consent yet, and that folder is then moved into INPUT in one rename, so the
//! watcher never sees half a case. The folder's name is opaque (`case-20261206-3fa9c1`) unless
//! staff type one: folder names stay in the clinic, but a patient's name has no place there
//! by default either.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use serde_json::json;

use super::upload::{PHOTOS, batch_dir, plain_name};
use super::{State, encode, json, refused};
use crate::discover::{DEFAULT_VIEW, Stage};
use crate::http::{Request, Response};

/// What the page sends.
#[derive(Debug, Deserialize)]
struct NewCase {
    batch: String,
    /// A folder name staff typed; empty for an opaque one.
    #[serde(default)]
    folder: String,
    photos: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    file: String,
    view: String,
    /// `before`, `session-N`, `after`, or `leave-out`.
    stage: String,
}

/// The case.toml a new case starts with: nothing published until consent is recorded.
const CASE_TOML: &str = "# Made in the studio. The case's details and the patient's consent are filled in on its\n\
# \"Details\" page; nothing of it is published until the consent is recorded there.\n";

pub fn save(state: &State, req: &Request) -> Response {
    let Ok(new) = serde_json::from_slice::<NewCase>(&req.body) else {
        return refused(
            400,
            "the page sent something the studio does not understand: reload it",
        );
    };
    let _one_at_a_time = state.saving.lock();
    let names = match plan(&new) {
        Ok(n) => n,
        Err(e) => return refused(400, &e),
    };
    let folder = match folder_name(&state.input, &new.folder) {
        Ok(f) => f,
        Err(e) => return refused(400, &e),
    };
    let Some(batch) = batch_dir(&state.input, &new.batch) else {
        return refused(400, "this new case was not started here: reload the page");
    };
    if let Err(e) = build(&batch, &names).and_then(|ready| {
        std::fs::rename(&ready, state.input.join(&folder))
            .map_err(|e| format!("the case folder could not be put in place: {e}"))
    }) {
        return refused(500, &e);
    }
    let _ = std::fs::remove_dir_all(&batch);
    state.control.rescan();
    let details = format!("/details?c={}&t={}", encode(&folder), state.token);
    json(
        200,
        &json!({ "ok": true, "folder": folder, "details": details }),
    )
}

/// Each kept photo's staged name and the name discovery will read, checked: plain names, a
/// known stage, one photo per view and stage, and in each view a before and a later photo.
fn plan(new: &NewCase) -> Result<Vec<(String, String)>, String> {
    let mut seen = BTreeSet::new();
    let mut names = Vec::new();
    for c in new.photos.iter().filter(|c| c.stage != "leave-out") {
        let ext = c
            .file
            .rsplit_once('.')
            .map_or("", |s| s.1)
            .to_ascii_lowercase();
        plain_name(&c.file, &ext)?;
        let stage = stage(&c.stage).ok_or_else(|| {
            format!(
                "choose the stage of {} (before, a session, or after)",
                c.file
            )
        })?;
        let view = crate::ids::slug(&c.view);
        let view = if view.is_empty() {
            DEFAULT_VIEW.to_owned()
        } else {
            view
        };
        if !seen.insert((view.clone(), stage)) {
            return Err(format!(
                "two photos are marked {} of the {} view: change one of them",
                stage,
                crate::discover::view_name(&view).to_lowercase()
            ));
        }
        let stem = if view == DEFAULT_VIEW {
            stage.to_string()
        } else {
            format!("{view}_{stage}")
        };
        names.push((c.file.clone(), format!("{stem}.{ext}")));
    }
    let views: BTreeSet<&String> = seen.iter().map(|(v, _)| v).collect();
    for v in views {
        let has = |f: fn(&Stage) -> bool| seen.iter().any(|(w, s)| w == v && f(s));
        if !has(|s| *s == Stage::Before) || !has(|s| *s != Stage::Before) {
            return Err(format!(
                "the {} view needs a before photo and a later one (a session or after)",
                crate::discover::view_name(v).to_lowercase()
            ));
        }
    }
    if names.is_empty() {
        return Err("add a before photo and a later one first".into());
    }
    Ok(names)
}

fn stage(word: &str) -> Option<Stage> {
    match word {
        "before" => Some(Stage::Before),
        "after" => Some(Stage::After),
        _ => word
            .strip_prefix("session-")?
            .parse()
            .ok()
            .filter(|n| (1..=99).contains(n))
            .map(Stage::Session),
    }
}

/// A folder name that is new in INPUT: staff's, made plain, or an opaque one.
fn folder_name(input: &Path, typed: &str) -> Result<String, String> {
    if typed.trim().is_empty() {
        for _ in 0..8 {
            let mut bytes = [0u8; 3];
            getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
            let day = crate::dates::iso(crate::dates::utc_day()).replace('-', "");
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let name = format!("case-{day}-{hex}");
            if !input.join(&name).exists() {
                return Ok(name);
            }
        }
        return Err("no free folder name was found: try again".into());
    }
    let name = crate::ids::slug(typed);
    if name.is_empty() {
        return Err("the folder name needs letters or digits".into());
    }
    if input.join(&name).exists() {
        return Err(format!(
            "a folder named {name} exists already: choose another name, or leave it empty"
        ));
    }
    Ok(name)
}

/// The case folder made inside the batch (`ready/`), photos moved in under their new names.
fn build(batch: &Path, names: &[(String, String)]) -> Result<std::path::PathBuf, String> {
    let ready = batch.join("ready");
    let _ = std::fs::remove_dir_all(&ready);
    std::fs::create_dir_all(&ready).map_err(|e| e.to_string())?;
    for (staged, name) in names {
        let from = batch.join(PHOTOS).join(staged);
        std::fs::rename(&from, ready.join(name))
            .map_err(|e| format!("{staged} is no longer waiting here ({e}): add it again"))?;
    }
    crate::disk::write_atomic(&ready, crate::review::casetoml::FILE, CASE_TOML.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(ready)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(photos: &[(&str, &str, &str)]) -> NewCase {
        NewCase {
            batch: "0123456789abcdef".into(),
            folder: String::new(),
            photos: photos
                .iter()
                .map(|(f, v, s)| Choice {
                    file: (*f).into(),
                    view: (*v).into(),
                    stage: (*s).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn photos_get_the_names_discovery_reads() {
        let names = plan(&new(&[
            ("IMG_1.jpg", "main", "before"),
            ("IMG_2.jpg", "main", "session-1"),
            ("IMG_3.heic", "Crown", "before"),
            ("IMG_4.jpg", "Crown", "after"),
            ("IMG_5.jpg", "main", "leave-out"),
        ]))
        .unwrap();
        let to: Vec<&str> = names.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(
            to,
            [
                "before.jpg",
                "session-1.jpg",
                "crown_before.heic",
                "crown_after.jpg"
            ]
        );
        let e = plan(&new(&[
            ("a.jpg", "main", "before"),
            ("b.jpg", "main", "before"),
        ]));
        assert!(e.unwrap_err().contains("two photos are marked before"));
        let e = plan(&new(&[("a.jpg", "main", "before")]));
        assert!(
            e.unwrap_err()
                .contains("needs a before photo and a later one")
        );
        let e = plan(&new(&[
            ("../a.jpg", "main", "before"),
            ("b.jpg", "main", "after"),
        ]));
        assert!(e.unwrap_err().contains("not a plain file name"));
    }

    #[test]
    fn folder_names_are_opaque_unless_typed() {
        let dir = tempfile::tempdir().unwrap();
        let name = folder_name(dir.path(), " ").unwrap();
        assert!(name.starts_with("case-") && name.len() == "case-20261206-3fa9c1".len());
        assert_eq!(folder_name(dir.path(), "Crown 07").unwrap(), "crown-07");
        std::fs::create_dir(dir.path().join("crown-07")).unwrap();
        assert!(folder_name(dir.path(), "Crown 07").is_err());
    }
}
