//! `case.toml`: what a clinic writes about one case (captions, consent, manual alignment), its
//! schema and its checks. Discovery reads it; the manifest publishes its public part.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ids::slug;

/// `case.toml`: captions and consent for one case.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaseMeta {
    /// The case's public id (its web address): lower-case letters, digits and dashes. Without
    /// it the id is opaque (see `ids`), since folder names are often patients' names.
    pub slug: Option<String>,
    pub title: Option<String>,
    pub treatment: Option<String>,
    pub sessions: Option<u32>,
    /// "2026-05" (a day after it is allowed and dropped); the gallery shows month and year
    /// only. Any other form fails the case with a message.
    pub date: Option<String>,
    pub technician: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub credit: Option<String>,
    /// `consent = true|false`, or the `[consent]` record (see `consent`). Private: the public
    /// manifest never holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<crate::consent::Consent>,
    /// Staff's "Keep private" (the review app): holds the case whatever the consent says, and
    /// never edits the patient's consent record. Private.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_private: bool,
    /// Where the case goes on the index: lower first, before every case without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<i32>,
    /// Shown before the cases that are not featured (after those with an `order`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub featured: bool,
    /// Manual alignment for stages the estimator gets wrong.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub align: Vec<AlignOverride>,
    /// Photos of this case left out of the gallery (a photo problem, not consent): the rest of
    /// the case still publishes if a view keeps a before and a later photo.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withhold: Vec<Withheld>,
}

/// `[[withhold]]` in case.toml: one photo not to publish ("Don't publish this photo" in
/// `beforeafter review`). Consent is `consent`; this is for a blurred photo, one that shows
/// more than it should, one in the wrong folder. Private: never in the output folder.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Withheld {
    /// The photo's file name in the case folder ("after.jpg").
    pub file: String,
    /// Why, in the clinic's words (kept for the clinic's records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it was withheld (UTC), as the review app writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

impl CaseMeta {
    /// Whether `file` (a file name in the case folder) is withheld.
    #[must_use]
    pub fn withholds(&self, file: &str) -> bool {
        self.withhold
            .iter()
            .any(|w| w.file.eq_ignore_ascii_case(file))
    }

    /// Every `[[withhold]]` file must be one of `photos` (the case folder's photo file names):
    /// a mistyped name would otherwise publish the photo it meant to hold back.
    pub fn check_withheld(&self, photos: &[&str]) -> Result<(), String> {
        let Some(w) = (self.withhold.iter())
            .find(|w| !photos.iter().any(|p| p.eq_ignore_ascii_case(&w.file)))
        else {
            return Ok(());
        };
        Err(format!(
            "[[withhold]] file = {:?} is not a photo in this folder (its photos: {}); correct \
             the name or remove that [[withhold]] entry. Nothing of the case is published until then",
            w.file,
            photos.join(", ")
        ))
    }
}

/// `[[align]]` in case.toml: the transform of one stage given by hand, either as landmark pairs
/// (the same point in the before photo and in this stage, in oriented full-resolution pixels)
/// fitted by least squares, or as a matrix outright.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlignOverride {
    /// The view; may be left out when the case has one view.
    pub view: Option<String>,
    /// "after", "session-2", …
    pub stage: String,
    /// `[before_x, before_y, stage_x, stage_y]` per landmark; at least 2 (similarity) or 3 (affine).
    #[serde(default)]
    pub landmarks: Vec<[f64; 4]>,
    /// The 2×3 matrix from this stage's pixels to the before photo's.
    pub matrix: Option<[[f64; 3]; 2]>,
    /// Set by `beforeafter review`'s "Approve as shown": when (UTC), for the photos below. The
    /// case is then published with this transform although a check held it; a change to either
    /// photo voids the approval (the case is held again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<String>,
    /// BLAKE3 of the before photo the approval was given for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_hash: Option<String>,
    /// BLAKE3 of this stage's photo the approval was given for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_hash: Option<String>,
    /// What staff confirmed when approving photos that agree less than the automatic check
    /// asks (`[align] min_confidence`): "same person, same area, photographed on these dates".
    /// Without it such an approval holds the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<String>,
}

pub fn read(path: &Path) -> Result<CaseMeta, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    parse(&text)
}

/// `case.toml`'s text as captions. A `date` the gallery cannot show as month and year ("May
/// 2026", "5/2026") fails the case rather than vanishing from the page unnoticed: the clinic
/// wrote it to be shown.
pub fn parse(text: &str) -> Result<CaseMeta, String> {
    let meta: CaseMeta = toml::from_str(text).map_err(|e| {
        if e.message().starts_with("[consent]") {
            return e.message().to_owned();
        }
        format!(
            "{}; allowed keys: slug, title, treatment, sessions, date, technician, tags, notes, credit, consent ([consent]), keep_private, order, featured, [[align]], [[withhold]]",
            e.message()
        )
    })?;
    if let Some(s) = &meta.slug
        && (s.is_empty() || slug(s) != *s)
    {
        return Err(format!(
            "slug {s:?} is not a web address: use lower-case letters, digits and single dashes, such as slug = \"{}\"",
            slug(s)
        ));
    }
    if let Some(w) = meta.withhold.iter().find(|w| {
        w.file.trim().is_empty() || w.file.contains(['/', '\\']) || w.file.starts_with('.')
    }) {
        return Err(format!(
            "[[withhold]] file = {:?} is not a file name: give the photo's name in this case's \
             folder, such as file = \"after.jpg\"",
            w.file
        ));
    }
    if let Some(date) = &meta.date
        && crate::dates::month(date).is_none()
    {
        return Err(format!(
            "date {date:?} is not a year and month; write it as date = \"2026-05\" \
             (the gallery shows \"May 2026\"; a day, if given, is dropped)"
        ));
    }
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_toml_date_must_be_year_and_month() {
        for ok in ["2026-05", "2026-05-17", " 2026-12 "] {
            assert!(parse(&format!("date = {ok:?}")).is_ok(), "{ok}");
        }
        for bad in ["May 2026", "5/2026", "2026-13", "2026-00", "2026", "2026-5"] {
            let e = parse(&format!("date = {bad:?}")).unwrap_err();
            assert!(e.contains(bad) && e.contains("2026-05"), "{bad}: {e}");
        }
        assert!(parse("title = \"x\"").unwrap().date.is_none());
    }

    #[test]
    fn withheld_photos_must_be_photos_of_the_folder() {
        let meta = parse("[[withhold]]\nfile = \"After.JPG\"\nreason = \"blurred\"\n").unwrap();
        assert!(meta.withholds("after.jpg") && !meta.withholds("before.jpg"));
        assert!(meta.check_withheld(&["before.jpg", "after.jpg"]).is_ok());
        let e = meta
            .check_withheld(&["before.jpg", "aftr.jpg"])
            .unwrap_err();
        assert!(
            e.contains("\"After.JPG\"") && e.contains("before.jpg, aftr.jpg"),
            "{e}"
        );
        for bad in ["", "../x.jpg", "sub/after.jpg", ".hidden.jpg"] {
            let e = parse(&format!("[[withhold]]\nfile = {bad:?}\n")).unwrap_err();
            assert!(e.contains("not a file name"), "{bad}: {e}");
        }
        let e = parse("[[withhold]]\nfile = \"a.jpg\"\nwhy = \"x\"\n").unwrap_err();
        assert!(e.contains("[[withhold]]"), "{e}");
    }
}
