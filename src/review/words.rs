//! Why a case is held, in the words of the front desk: one sentence per kind of problem, said
//! once (naming every photo it concerns), the most useful first: "may not show the same area"
//! comes before "turned a lot", which comes before "a little blurred". The engineer's messages
//! the run recorded ("rotation 145.9° exceeds ±20.0°", a confidence, limits) stay in the case
//! page's details disclosure.
//!
//! A reason the run recorded without a quality flag (an approval for other photos, points that
//! do not line up, a crop too small) is already written for staff and is shown as it is.

use crate::flags::{Code, Flag, Severity};
use crate::manifest::CaseEntry;

/// The order staff should read problems in: first whether the photos belong together at all,
/// then which is which, then how they were taken, then the light.
const ORDER: [Code; 10] = [
    Code::Mismatch,
    Code::DateOrder,
    Code::Framing,
    Code::Perspective,
    Code::Blur,
    Code::Overexposed,
    Code::Underexposed,
    Code::Shine,
    Code::Timing,
    Code::Tone,
];

/// The case's reasons to be held, in plain words, most useful first.
#[must_use]
pub fn reasons(entry: &CaseEntry) -> Vec<String> {
    let several = entry.views.len() > 1;
    // Per code, the photos it concerns (and, for framing, how they are framed differently).
    let mut by_code: Vec<(Code, Vec<String>, Vec<&'static str>)> = Vec::new();
    let mut others: Vec<String> = Vec::new();
    for view in &entry.views {
        for s in &view.stages {
            let name = if several {
                format!("{} {}", view.view, spoken_stage(&s.stage))
            } else {
                spoken_stage(&s.stage)
            };
            for r in &s.reasons {
                match holding_flag(&s.flags, r) {
                    Some(f) => note(&mut by_code, f, &name),
                    None if !others.contains(r) => others.push(r.clone()),
                    None => {}
                }
            }
        }
    }
    by_code.sort_by_key(|(code, ..)| ORDER.iter().position(|c| c == code));
    let mut out: Vec<String> = by_code
        .iter()
        .map(|(code, photos, how)| sentence(*code, &photos_phrase(photos), how))
        .collect();
    out.extend(others.into_iter().map(capitalised));
    if out.is_empty() && entry.views.is_empty() {
        // A case that failed before its photos were read: the run's words (a file and a fix).
        out.extend(entry.reasons.iter().cloned().map(capitalised));
    }
    out
}

/// The holding flag whose message is reason `r`.
fn holding_flag<'a>(flags: &'a [Flag], r: &str) -> Option<&'a Flag> {
    flags
        .iter()
        .find(|f| f.severity == Severity::Review && f.message == r)
}

fn note(by_code: &mut Vec<(Code, Vec<String>, Vec<&'static str>)>, f: &Flag, name: &str) {
    let at = match by_code.iter().position(|(c, ..)| *c == f.code) {
        Some(at) => at,
        None => {
            by_code.push((f.code, Vec::new(), Vec::new()));
            by_code.len() - 1
        }
    };
    let (_, photos, how) = &mut by_code[at];
    if !photos.iter().any(|p| p == name) {
        photos.push(name.to_owned());
    }
    let framed = framing_kind(&f.message);
    if f.code == Code::Framing && !how.contains(&framed) {
        how.push(framed);
    }
}

/// How a framing message says the photo differs, in words.
fn framing_kind(message: &str) -> &'static str {
    if message.starts_with("rotation") {
        "turned"
    } else if message.starts_with("framing scale") {
        "taken much closer or further away"
    } else if message.starts_with("centre shift") {
        "off to one side"
    } else {
        "stretched or slanted"
    }
}

/// "session-2" as staff say it: "session 2".
fn spoken_stage(stage: &str) -> String {
    stage.replace(['-', '_'], " ")
}

/// "the after photo", "the session 1 and after photos".
fn photos_phrase(photos: &[String]) -> String {
    match photos {
        [one] => format!("the {one} photo"),
        [rest @ .., last] => format!("the {} and {last} photos", rest.join(", ")),
        [] => "a later photo".into(),
    }
}

fn sentence(code: Code, photos: &str, how: &[&str]) -> String {
    let text = match code {
        Code::Mismatch => format!(
            "{photos} may not show the same area as the before photo: check it is the same \
             person and that each photo is in the right place"
        ),
        Code::DateOrder => {
            format!("{photos} is dated earlier than the photo before it: check which is which")
        }
        Code::Framing => format!(
            "{photos} is framed very differently from the before photo ({}): retake it framed \
             like the before photo, or line the photos up yourself below",
            how.join(", ")
        ),
        Code::Perspective => format!("{photos} was taken from another angle than the before photo"),
        Code::Blur => format!("{photos} is blurred compared with the before photo"),
        Code::Overexposed => format!("part of {photos} is too bright to see (washed out)"),
        Code::Underexposed => format!("part of {photos} is too dark to see"),
        Code::Shine => format!("{photos} shows shine on the skin that the before photo does not"),
        Code::Timing => format!(
            "{photos} was taken too soon after the last session: fresh pigment looks darker \
             until it heals"
        ),
        Code::Tone => "the light differs so much between the photos that evening it out could \
                       make the change look bigger than it is"
            .into(),
    };
    capitalised(text)
}

fn capitalised(text: String) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(name: &str, flags: Vec<Flag>, extra: &[&str]) -> crate::manifest::StageEntry {
        let reasons: Vec<String> = flags
            .iter()
            .filter(|f| f.severity == Severity::Review)
            .map(|f| f.message.clone())
            .chain(extra.iter().map(|s| (*s).to_owned()))
            .collect();
        serde_json::from_value(serde_json::json!({
            "stage": name, "source_hash": "", "oriented_size": [8, 8], "orientation": 1,
            "colour": "", "align": null, "tone": null, "crop": [0, 0, 8, 8], "outputs": [],
            "review": true, "reasons": reasons, "flags": flags,
        }))
        .unwrap()
    }

    fn flag(code: Code, message: &str) -> Flag {
        Flag {
            code,
            stage: "after".into(),
            severity: Severity::Review,
            message: message.into(),
        }
    }

    #[test]
    fn the_most_useful_reason_comes_first_said_once_in_plain_words() {
        let rotated = "rotation 145.9° exceeds ±20.0°: retake it framed like the before photo";
        let unsure = "confidence 0.12 below 0.30: the photos may not show the same area";
        let after = stage(
            "after",
            vec![flag(Code::Framing, rotated), flag(Code::Mismatch, unsure)],
            &["too small: the part all photos show is 40 × 30 pixels"],
        );
        let session = stage("session-1", vec![flag(Code::Mismatch, unsure)], &[]);
        let mut entry: CaseEntry = serde_json::from_value(serde_json::json!({
            "id": "c", "title": "c", "status": "review", "published": false, "review": true,
            "reasons": [], "key": "", "meta": {}, "views": [],
        }))
        .unwrap();
        entry.views = vec![crate::manifest::ViewEntry {
            view: "crown".into(),
            stages: vec![session, after],
            composites: Vec::new(),
            staff: Vec::new(),
        }];
        let words = reasons(&entry);
        assert_eq!(words.len(), 3, "{words:?}");
        assert!(
            words[0].starts_with("The session 1 and after photos may not show the same area"),
            "{words:?}"
        );
        assert!(words[1].contains("(turned)"), "{words:?}");
        assert!(words[2].starts_with("Too small"), "{words:?}");
        let all = words.join(" ").to_lowercase();
        for technical in ["confidence", "rotation", "145.9", "similarity", "affine"] {
            assert!(!all.contains(technical), "{technical}: {all}");
        }
    }
}
