//! The cases board: every case folder in INPUT with a thumbnail of its before photo and where
//! it stands, in the front desk's words (on the website, waiting for the patient's consent,
//! held and why, could not be made and why, not on the website yet), its quality notes, and
//! how many need someone ("3 cases need you"). Searching and filtering by state, treatment and
//! tag happen in the page (`assets/studio.js`); without script every case is listed.
//!
//! Where a case stands is read, not computed: discovery says what the folder holds and what
//! its consent allows today; the last round's private records (`held.json`, `published.json`
//! beside the photos) say what the pipeline made of it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Serialize;

use super::{State, encode};
use crate::consent::Status;
use crate::discover::{Case, Rules};
use crate::http::{Request, Response};
use crate::manifest::{CaseEntry, CaseStatus, HELD_DIR, HELD_FILE, Manifest, PRIVATE_FILE};

/// A case as the board shows it.
#[derive(Debug, Serialize)]
pub struct Card {
    pub source: String,
    pub title: String,
    /// `published`, `consent`, `private`, `held`, `failed` or `new`: the filter's key.
    pub state: &'static str,
    /// Where it stands, in words.
    pub words: String,
    /// Why (held, failed, not published), most useful first.
    pub why: Vec<String>,
    /// Quality notes that did not hold the case.
    pub notes: Vec<String>,
    pub treatment: String,
    pub tags: Vec<String>,
    pub thumb: String,
    pub details: String,
    pub preview: String,
    /// The review app's screen for a held or failed case.
    pub review: Option<String>,
}

impl Card {
    /// Someone at the clinic has to act: consent to collect, a held or failed case.
    #[must_use]
    pub fn needs_you(&self) -> bool {
        matches!(self.state, "consent" | "held" | "failed")
    }
}

/// The last round's records of each case, by folder name.
fn records(input: &Path) -> Vec<CaseEntry> {
    let read = |rel: &str| -> Vec<CaseEntry> {
        std::fs::read_to_string(input.join(rel))
            .ok()
            .and_then(|t| serde_json::from_str::<Manifest>(&t).ok())
            .map(|m| m.cases)
            .unwrap_or_default()
    };
    let mut all = read(HELD_FILE);
    all.retain(|c| !c.published);
    all.extend(read(PRIVATE_FILE));
    all
}

/// Every case in INPUT, as discovery finds it today.
pub fn cases(state: &State) -> Result<Vec<Case>, String> {
    let config = state.config()?;
    let (rules, _) = Rules::new(&config, &state.input);
    crate::discover::discover(&state.input, &rules, &[])
        .map(|inv| inv.cases)
        .map_err(|e| e.to_string())
}

/// Where `case` stands, from discovery and the last round's record of it.
fn standing(case: &Case, record: Option<&CaseEntry>) -> (&'static str, String, Vec<String>) {
    let reasons = || record.map(|r| r.reasons.clone()).unwrap_or_default();
    if !case.errors.is_empty() {
        return ("failed", "Could not be made".into(), case.errors.clone());
    }
    if record.is_some_and(|r| r.status == CaseStatus::Failed) {
        return ("failed", "Could not be made".into(), reasons());
    }
    let words = match case.decision.status {
        Status::Given => None,
        Status::Held => Some(("private", "Kept private by staff")),
        Status::Expired => Some(("consent", "The patient's consent has ended")),
        Status::Withdrawn => Some(("consent", "The patient withdrew consent")),
        Status::Waiting => Some(("consent", "Waiting for the patient's consent")),
    };
    if let Some((key, words)) = words {
        return (key, words.into(), Vec::new());
    }
    match record {
        Some(r) if r.published => ("published", "On the website".into(), Vec::new()),
        Some(r) if r.status == CaseStatus::Review => ("held", "Held for a check".into(), reasons()),
        _ => (
            "new",
            "Not on the website yet: the gallery is being updated".into(),
            Vec::new(),
        ),
    }
}

fn card(case: &Case, record: Option<&CaseEntry>, token: &str) -> Card {
    let (state, words, why) = standing(case, record);
    let before = (case.views.first().and_then(|v| v.stages.first()))
        .map(|s| s.rel.clone())
        .unwrap_or_default();
    let q = format!("c={}&t={token}", encode(&case.source));
    let notes = record
        .map(|r| r.flags())
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f.severity == crate::flags::Severity::Warning)
        .map(|f| f.message)
        .collect();
    Card {
        source: case.source.clone(),
        title: case.title(),
        state,
        words,
        why,
        notes,
        treatment: case.meta.treatment.clone().unwrap_or_default(),
        tags: case.meta.tags.clone(),
        thumb: format!("/thumb?p={}&t={token}", encode(&before)),
        details: format!("/details?{q}"),
        preview: format!("/preview?{q}"),
        review: matches!(state, "held" | "failed")
            .then(|| format!("/case?{q}"))
            .filter(|_| record.is_some()),
    }
}

/// Every case's card, in the folder's order.
pub fn cards(state: &State) -> Result<Vec<Card>, String> {
    let records = records(&state.input);
    let found = |c: &Case| {
        records
            .iter()
            .find(|r| r.source.as_deref() == Some(&c.source))
    };
    Ok(cases(state)?
        .iter()
        .map(|c| card(c, found(c), &state.token))
        .collect())
}

/// "3 cases need you".
fn headline(n: usize) -> String {
    match n {
        0 => "No case needs you".into(),
        1 => "1 case needs you".into(),
        n => format!("{n} cases need you"),
    }
}

pub fn page(state: &State) -> Response {
    let cards = match cards(state) {
        Ok(c) => c,
        Err(e) => return Response::text(500, &format!("{e}\n")),
    };
    let treatments: BTreeSet<&str> = (cards.iter())
        .map(|c| c.treatment.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    let tags: BTreeSet<&str> = cards
        .iter()
        .flat_map(|c| &c.tags)
        .map(String::as_str)
        .collect();
    let count = |s: &str| cards.iter().filter(|c| c.state == s).count();
    let counts = context! {
        published => count("published"), consent => count("consent"), held => count("held"),
        failed => count("failed"), new => count("new"), private => count("private"),
    };
    let ctx = context! {
        headline => headline(cards.iter().filter(|c| c.needs_you()).count()),
        cards => Value::from(Serde(&cards)),
        counts => counts,
        treatments => Value::from(Serde(&treatments)),
        tags => Value::from(Serde(&tags)),
        token => &state.token,
        status => Value::from(Serde(&state.control.status())),
    };
    super::render("board.html", ctx)
}

/// A small JPEG of a photo in INPUT (any format the pipeline reads, HEIC included), made once
/// and kept beside the photos in `.beforeafter/studio/thumbs/`. Only a photo strictly inside
/// INPUT, through no dot-name and no link out ([`crate::http::resolve`]).
pub fn thumb(state: &State, req: &Request) -> Response {
    let rel = req.param("p").unwrap_or_default();
    let photo = crate::http::resolve(&state.input, &format!("/{}", encode(&rel))).filter(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(crate::discover::is_photo)
    });
    let Some(photo) = photo else {
        return Response::text(404, "no photo\n");
    };
    match thumbnail(state, &photo) {
        Ok(bytes) => Response::new(200, "image/jpeg", bytes),
        Err(e) => Response::text(404, &format!("{e}\n")),
    }
}

/// The thumbnail's place in the cache: named by the photo's path, size and time stamp.
fn cached(input: &Path, photo: &Path) -> Option<PathBuf> {
    let meta = std::fs::metadata(photo).ok()?;
    let stamp = format!(
        "{}|{}|{:?}",
        photo.display(),
        meta.len(),
        meta.modified().ok()
    );
    let name = blake3::hash(stamp.as_bytes()).to_hex();
    Some(
        input
            .join(HELD_DIR)
            .join("studio/thumbs")
            .join(format!("{}.jpg", &name[..32])),
    )
}

pub(super) fn thumbnail(state: &State, photo: &Path) -> Result<Vec<u8>, String> {
    let cache = cached(&state.input, photo);
    if let Some(bytes) = cache.as_ref().and_then(|p| std::fs::read(p).ok()) {
        return Ok(bytes);
    }
    let config = state.config()?;
    let params = crate::ingest::IngestParams {
        max_pixels: config.limits.max_pixels(),
        max_file_bytes: config.limits.max_file_bytes(),
    };
    let bytes = crate::ingest::read_bytes(photo, &params).map_err(|e| e.to_string())?;
    let decoded = crate::ingest::decode(&bytes, photo, &params).map_err(|e| e.to_string())?;
    let small = image::imageops::thumbnail(
        &decoded.pixels,
        320,
        320 * decoded.pixels.height() / decoded.pixels.width().max(1),
    );
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode_image(&small)
        .map_err(|e| e.to_string())?;
    if let Some(path) = cache {
        let dir = path.parent().unwrap_or(&state.input);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("thumb.jpg");
        let _ = std::fs::create_dir_all(dir);
        let _ = crate::disk::write_atomic(dir, name, &jpeg);
    }
    Ok(jpeg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_counts_in_words() {
        assert_eq!(headline(0), "No case needs you");
        assert_eq!(headline(1), "1 case needs you");
        assert_eq!(headline(3), "3 cases need you");
    }
}
