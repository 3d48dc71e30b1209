//! A new case without a file manager: photos dropped on the page (or chosen, several at once
//! from a phone's export) are sent one per request, checked, and kept in a staging folder
//! inside INPUT's own `.beforeafter/` (which discovery and the watcher leave alone) until staff
//! save the case. After each photo the app proposes every photo's view and stage by running
//! discovery itself over the staging folder ([`crate::discover::discover`]: stage words in the
//! names, else camera names ordered by capture time), so the proposal is what a batch would
//! have made of the same files; staff fix any of them from a list ([`super::newcase`] saves).
//!
//! What is accepted: a plain file name (no folder part, no `..`, not hidden; other characters
//! become `-`), content that is a JPEG, PNG, WebP, TIFF or HEIC photo whole and within
//! `[limits]` (size and pixels), checked by the same code as the watcher
//! ([`crate::ingest::check_complete`]); the extension is the content's. Anything else is
//! refused with a sentence saying what to do, and nothing is written.

use std::path::{Path, PathBuf};

use minijinja::context;
use serde::Serialize;
use serde_json::json;

use super::{State, encode, json, refused};
use crate::discover::{Rules, Stage};
use crate::http::{Request, Response};
use crate::ingest::IngestParams;
use crate::manifest::HELD_DIR;

/// Where uploads wait, inside INPUT: `.beforeafter/studio/uploads/<batch>/photos/`.
pub const STAGING: &str = "studio/uploads";
/// The one "case folder" of a batch, as discovery sees it.
pub const PHOTOS: &str = "photos";

pub fn page(state: &State) -> Response {
    let max_mb = state.config().map_or(0, |c| c.limits.max_file_mb);
    let ctx = context! { token => &state.token, max_mb => max_mb };
    super::render("new.html", ctx)
}

/// A batch's folder, for a batch id the app made (16 hex digits), or `None`.
pub fn batch_dir(input: &Path, batch: &str) -> Option<PathBuf> {
    let ok = batch.len() == 16 && batch.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| input.join(HELD_DIR).join(STAGING).join(batch))
}

/// Photos added for a case that was never saved are removed after this long (they are patients'
/// photos: nothing is kept that nobody asked for).
const ABANDONED: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Remove the staging folders of new cases left unsaved for a day (at start).
pub fn sweep(input: &Path) {
    let Ok(entries) = std::fs::read_dir(input.join(HELD_DIR).join(STAGING)) else {
        return;
    };
    for e in entries.flatten() {
        let old = (e.metadata().and_then(|m| m.modified()).ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > ABANDONED);
        if old && batch_dir(input, &e.file_name().to_string_lossy()).is_some() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A new batch id: 64 random bits.
fn new_batch() -> Result<String, String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness from the system: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The name a file is kept under in the staging folder: the sent name's stem made plain, with
/// the content's extension. Refused: a name with a folder part, `..`, or a hidden name.
pub fn plain_name(sent: &str, extension: &str) -> Result<String, String> {
    let bad = sent.contains(['/', '\\', '\0']) || sent.contains("..") || sent.starts_with('.');
    if sent.trim().is_empty() || bad {
        return Err(format!(
            "\u{201c}{sent}\u{201d} is not a plain file name (it names a folder, or is hidden): \
             rename the photo, for example IMG_0412.jpg, and add it again"
        ));
    }
    let stem = Path::new(sent)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(sent);
    let plain: String = stem
        .chars()
        .take(80)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let plain = plain.trim_matches('-');
    let plain = if plain.is_empty() { "photo" } else { plain };
    Ok(format!("{plain}.{extension}"))
}

/// The photo format of `bytes`, by content, as the extension it is saved with.
fn extension_of(bytes: &[u8]) -> Option<&'static str> {
    if crate::ingest::formats::is_heif(bytes) {
        return Some("heic");
    }
    match image::guess_format(bytes).ok()? {
        image::ImageFormat::Jpeg => Some("jpg"),
        image::ImageFormat::Png => Some("png"),
        image::ImageFormat::WebP => Some("webp"),
        image::ImageFormat::Tiff => Some("tif"),
        _ => None,
    }
}

/// Check one sent photo: size, kind and wholeness by content, and its name. Returns the name to
/// keep it under.
pub fn check(sent: &str, bytes: &[u8], params: &IngestParams) -> Result<String, String> {
    if bytes.len() as u64 > params.max_file_bytes {
        return Err(format!(
            "\u{201c}{sent}\u{201d} is {:.1} MB; the largest photo the clinic accepts is {} MB \
             (max_file_mb under [limits] in the settings). Export a smaller JPEG from the \
             camera or phone and add it again",
            bytes.len() as f64 / 1e6,
            params.max_file_bytes / 1_000_000
        ));
    }
    let Some(extension) = extension_of(bytes) else {
        return Err(format!(
            "\u{201c}{sent}\u{201d} is not a photo (its content is not JPEG, PNG, WebP, TIFF or \
             HEIC): choose the photo itself"
        ));
    };
    let name = plain_name(sent, extension)?;
    crate::ingest::check_complete(bytes, Path::new(&name), params).map_err(|e| {
        format!(
            "\u{201c}{sent}\u{201d} cannot be used: {}",
            e.to_string().trim()
        )
    })?;
    Ok(name)
}

/// `POST /api/upload?name=IMG_0412.jpg[&batch=…]`, the photo's bytes as the body.
pub fn receive(state: &State, req: &Request) -> Response {
    let config = match state.config() {
        Ok(c) => c,
        Err(e) => return refused(500, &e),
    };
    let params = IngestParams {
        max_pixels: config.limits.max_pixels(),
        max_file_bytes: config.limits.max_file_bytes(),
    };
    let sent = req.param("name").unwrap_or_default();
    let name = match check(&sent, &req.body, &params) {
        Ok(n) => n,
        Err(e) => return refused(400, &e),
    };
    let batch = match req.param("batch").filter(|b| !b.is_empty()) {
        Some(b) => b,
        None => match new_batch() {
            Ok(b) => b,
            Err(e) => return refused(500, &e),
        },
    };
    let Some(dir) = batch_dir(&state.input, &batch) else {
        return refused(400, "this new case was not started here: reload the page");
    };
    let photos = dir.join(PHOTOS);
    if photos.join(&name).exists() {
        return refused(
            409,
            &format!("\u{201c}{sent}\u{201d} was added already (as {name})"),
        );
    }
    let written = std::fs::create_dir_all(&photos)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            crate::disk::write_atomic(&photos, &name, &req.body).map_err(|e| e.to_string())
        });
    if let Err(e) = written {
        return refused(500, &format!("the photo could not be saved: {e}"));
    }
    match propose(state, &batch) {
        Ok(p) => json(
            200,
            &json!({ "ok": true, "batch": batch, "added": name, "proposal": p }),
        ),
        Err(e) => refused(500, &e),
    }
}

/// One staged photo and what the app proposes for it.
#[derive(Debug, Serialize)]
pub struct Proposed {
    pub file: String,
    pub view: String,
    /// `before`, `session-N`, `after`, or empty when discovery could not tell.
    pub stage: String,
    /// Why discovery could not place it, in its words.
    pub note: Option<String>,
    pub thumb: String,
}

/// What discovery makes of the batch's photos: each photo's view and stage, in series order,
/// and how the order was found (capture time).
pub fn propose(state: &State, batch: &str) -> Result<serde_json::Value, String> {
    let dir = batch_dir(&state.input, batch).ok_or("no such new case")?;
    let rules = Rules::folder_ids(false);
    let inv = crate::discover::discover(&dir, &rules, &[]).map_err(|e| e.to_string())?;
    let thumb = |file: &str| format!("/staged?b={batch}&f={}&t={}", encode(file), state.token);
    let file_of = |rel: &str| rel.rsplit('/').next().unwrap_or(rel).to_owned();
    let mut list: Vec<(Stage, Proposed)> = Vec::new();
    let mut notes = Vec::new();
    for case in &inv.cases {
        if !case.order_notes.is_empty() {
            // Discovery's note names capture days and paths: staff need only the rule.
            notes.push("The stages follow the time each photo was taken.".to_owned());
        }
        notes.extend(case.errors.iter().cloned());
        for view in &case.views {
            for s in &view.stages {
                let file = file_of(&s.rel);
                list.push((
                    s.stage,
                    Proposed {
                        view: view.name.clone(),
                        stage: s.stage.to_string(),
                        note: None,
                        thumb: thumb(&file),
                        file,
                    },
                ));
            }
        }
    }
    for p in inv.problems.iter().filter(|p| p.path.starts_with(PHOTOS)) {
        let file = file_of(&p.path);
        let placed = list.iter().any(|(_, q)| q.file == file);
        if !placed && crate::discover::is_photo(&file) {
            // Unpaired photos keep the stage their name says; the rest wait for staff.
            let stage = crate::discover::split_stage(file.rsplit_once('.').map_or(&*file, |s| s.0));
            list.push((
                stage.map_or(Stage::After, |s| s.1),
                Proposed {
                    view: crate::discover::DEFAULT_VIEW.into(),
                    stage: stage.map(|s| s.1.to_string()).unwrap_or_default(),
                    note: Some(p.reason.clone()),
                    thumb: thumb(&file),
                    file,
                },
            ));
        }
    }
    list.sort_by(|a, b| {
        a.1.view
            .cmp(&b.1.view)
            .then(a.0.cmp(&b.0))
            .then(a.1.file.cmp(&b.1.file))
    });
    let photos: Vec<Proposed> = list.into_iter().map(|(_, p)| p).collect();
    Ok(json!({ "photos": photos, "notes": notes }))
}

/// `GET /staged?b=…&f=…`: a small JPEG of a photo waiting in a batch.
pub fn staged(state: &State, req: &Request) -> Response {
    let batch = req.param("b").unwrap_or_default();
    let file = req.param("f").unwrap_or_default();
    let path = batch_dir(&state.input, &batch)
        .map(|d| d.join(PHOTOS).join(&file))
        .filter(|_| plain_name(&file, "x").is_ok())
        .filter(|p| p.is_file());
    match path.map(|p| super::board::thumbnail(state, &p)) {
        Some(Ok(bytes)) => Response::new(200, "image/jpeg", bytes),
        _ => Response::text(404, "no such photo\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_or_refused() {
        assert_eq!(plain_name("IMG_0412.JPG", "jpg").unwrap(), "IMG_0412.jpg");
        assert_eq!(
            plain_name("Mrs Smith (1).png", "png").unwrap(),
            "Mrs-Smith--1.png"
        );
        for bad in [
            "../before.jpg",
            "a/b.jpg",
            "..\\x.jpg",
            ".hidden.jpg",
            "",
            "x\0.jpg",
        ] {
            assert!(plain_name(bad, "jpg").is_err(), "{bad}");
        }
    }

    #[test]
    fn content_not_the_name_says_what_a_file_is() {
        let params = IngestParams {
            max_pixels: 1_000_000,
            max_file_bytes: 1_000,
        };
        let e = check("notes.jpg", b"Dear patient, ...", &params).unwrap_err();
        assert!(e.contains("is not a photo"), "{e}");
        let e = check("big.jpg", &[0u8; 2_000], &params).unwrap_err();
        assert!(e.contains("largest photo"), "{e}");
        assert_eq!(batch_dir(Path::new("/in"), "../../etc"), None);
    }
}
