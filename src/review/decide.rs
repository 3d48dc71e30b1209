//! A reviewer's decision carried out: landmarks saved as `[[align]]`, "approve as shown" (the
//! shown transform bound to the photos' content hashes), "keep private" (staff's hold:
//! `keep_private = true`, never an edit of the patient's consent record), "don't publish this photo" (a photo problem: `[[withhold]]`), and the undo of the
//! last two, each written into `case.toml` (see [`casetoml`]) and then the case run again, so
//! the page can say what happened: published, kept off the website, or still held and why.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::State;
use super::casetoml::{self, EditError, Target};
use super::records::{Records, case_dir, case_folder};
use crate::flags::Code;
use crate::http::Response;
use crate::manifest::CaseEntry;
use crate::pipeline::{self, Outcome, Reporter, RunOptions};

/// What every decision names: the case (its folder) and the case.toml the page was shown.
#[derive(Deserialize)]
pub struct Decision {
    case: String,
    stamp: String,
    #[serde(default)]
    view: Option<String>,
    #[serde(default)]
    stage: Option<String>,
    /// `[before_x, before_y, stage_x, stage_y]` per point, in full-resolution pixels.
    #[serde(default)]
    landmarks: Vec<[f64; 4]>,
    /// The record's key the page showed (approvals only).
    #[serde(default)]
    key: Option<String>,
    /// Staff ticked "the same person, the same area, photographed on …" (approvals of photos
    /// held as not matching need it).
    #[serde(default)]
    confirmed: bool,
    /// The photo's file name in the case folder ("don't publish this photo" and its undo).
    #[serde(default)]
    file: Option<String>,
    /// Why a photo is not published, in staff's words.
    #[serde(default)]
    reason: Option<String>,
}

/// What the page is told after a decision: how the run ended, and what case.toml now keeps
/// off the website (so the page can offer the undo).
#[derive(Serialize)]
struct Verdict {
    outcome: String,
    reasons: Vec<String>,
    stamp: String,
    message: String,
    private: bool,
    withheld: Vec<crate::casefile::Withheld>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Landmarks,
    Approve,
    /// "Keep private": staff's hold (`keep_private = true`), apart from the patient's consent.
    Private,
    /// The undo of "Keep private".
    PublishAgain,
    /// "Don't publish this photo": a photo problem.
    Withhold,
    /// The undo of "Don't publish this photo".
    Unwithhold,
}

/// Carry out `body` (a JSON [`Decision`]) and answer with the new verdict as JSON.
pub fn decide(state: &State, kind: Kind, body: &[u8]) -> Response {
    let Ok(d) = serde_json::from_slice::<Decision>(body) else {
        return json(400, &error("the request is not a decision this app sends"));
    };
    let _one = state
        .running
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (dir, edited) = match kind {
        // An undo names a case the last run may not have recorded (kept private, or every
        // photo held back): its folder is enough.
        Kind::PublishAgain | Kind::Unwithhold => match case_folder(&state.input, &d.case) {
            Some(dir) => {
                let edited = undo(kind, &dir, &d);
                (dir, edited)
            }
            None => return json(404, &error("no case folder has that name; reload the page")),
        },
        _ => match recorded(state, kind, &d) {
            Ok(done) => done,
            Err(refused) => return refused,
        },
    };
    match edited {
        Ok(stamp) => json(200, &run_again(state, &d.case, &dir, stamp)),
        Err(EditError::Changed(p)) => json(409, &error(&EditError::Changed(p).to_string())),
        Err(EditError::Refused(why, confirm)) => json(
            422,
            &serde_json::json!({ "error": why, "confirm": confirm, "refused": true }),
        ),
        Err(e) => json(422, &error(&e.to_string())),
    }
}

/// A decision on a case the last run recorded: its folder, and the edit of its case.toml.
fn recorded(
    state: &State,
    kind: Kind,
    d: &Decision,
) -> Result<(PathBuf, Result<String, EditError>), Response> {
    let records = Records::load(&state.input);
    let Some(entry) = records.case(&d.case) else {
        return Err(json(
            404,
            &error("no recorded case has that folder; reload the page"),
        ));
    };
    let Some(dir) = case_dir(&state.input, entry) else {
        return Err(json(
            422,
            &error(
                "this case is a pair of photos side by side in the input folder: move them into a folder of their own to give it a case.toml",
            ),
        ));
    };
    let edited = match kind {
        Kind::Landmarks => save_landmarks(&dir, d, entry, state),
        Kind::Approve => approve(&dir, d, entry, state),
        Kind::Withhold => withhold(&dir, d, entry),
        _ => casetoml::edit(&dir, &d.stamp, casetoml::keep_private),
    };
    Ok((dir, edited))
}

/// "Publish again" and "Publish this photo again": the record removed from case.toml.
fn undo(kind: Kind, dir: &Path, d: &Decision) -> Result<String, EditError> {
    if kind == Kind::PublishAgain {
        return casetoml::edit(dir, &d.stamp, casetoml::publish_again);
    }
    let file = d.file.as_deref().unwrap_or_default();
    casetoml::edit(dir, &d.stamp, |doc| casetoml::unwithhold(doc, file))
}

/// "Don't publish this photo": a photo of the record, named by its file in the case folder.
fn withhold(dir: &Path, d: &Decision, entry: &CaseEntry) -> Result<String, EditError> {
    let file = d.file.as_deref().unwrap_or_default();
    let photos = entry.views.iter().flat_map(|v| &v.stages);
    let known = photos
        .filter_map(|s| s.source.as_deref())
        .any(|rel| rel.rsplit('/').next() == Some(file));
    if !known {
        return Err(EditError::Invalid(
            dir.join(casetoml::FILE),
            format!("{file:?} is not a photo of this case"),
        ));
    }
    let reason = d.reason.as_deref().unwrap_or_default();
    let when = crate::dates::utc_now();
    casetoml::edit(dir, &d.stamp, |doc| {
        casetoml::withhold(doc, file, reason, &when)
    })
}

fn save_landmarks(
    dir: &std::path::Path,
    d: &Decision,
    entry: &CaseEntry,
    state: &State,
) -> Result<String, EditError> {
    let invalid = |m: &str| EditError::Invalid(dir.join(casetoml::FILE), m.to_owned());
    // Three pairs at least, whatever the model: two always fit exactly, so they check nothing.
    if d.landmarks.len() < 3 || d.landmarks.iter().flatten().any(|v| !v.is_finite()) {
        return Err(EditError::Refused(
            "place at least three pairs of points, far apart".into(),
            false,
        ));
    }
    let target = target(d, entry).ok_or_else(|| invalid("no such photo in this case"))?;
    let table = casetoml::landmarks_entry(&d.landmarks);
    casetoml::edit_vetted(
        dir,
        &d.stamp,
        |doc| casetoml::set_align(doc, &target, table),
        |meta| vet(state, entry, meta),
    )
}

/// Refuse, writing nothing, a case.toml under which the case would still be held whatever a
/// decision says (photos that do not line up, points bunched, a crop too small): the same
/// checks `batch` makes, run on the photos before saving.
fn vet(state: &State, entry: &CaseEntry, meta: crate::casefile::CaseMeta) -> Result<(), EditError> {
    let config = state.config().map_err(EditError::Write)?;
    let source = entry.source.as_deref().unwrap_or_default();
    let holds = pipeline::vet_decision(&state.input, &config, source, meta)
        .map_err(|e| EditError::Refused(e, false))?;
    if holds.is_empty() {
        return Ok(());
    }
    let confirm = holds.iter().all(|h| h == pipeline::NEEDS_CONFIRMATION);
    Err(EditError::Refused(
        format!("Not saved, nothing published: {}.", holds.join("; ")),
        confirm,
    ))
}

/// Asked before approving photos the run held as not matching.
fn confirm_first(sentence: &str) -> String {
    format!(
        "Not saved: these photos were held because they may not show the same person or area. \
         Look at them side by side, then tick \"these photos show {sentence}\" to approve them."
    )
}

/// What staff confirm to approve photos held as not matching: "the same person, the same area,
/// photographed on 3 March 2026 and 14 June 2026", the days read from the photos as a run
/// reads them. Private: shown on this computer and kept in case.toml, never published.
#[must_use]
pub fn confirmation(input: &Path, entry: &CaseEntry) -> String {
    let photos: Vec<&str> = (entry.views.iter().flat_map(|v| &v.stages))
        .filter_map(|s| s.source.as_deref())
        .collect();
    let days: Vec<_> = (photos.iter())
        .filter_map(|rel| crate::ingest::capture_day(&input.join(rel)))
        .collect();
    let undated = photos.len() - days.len();
    let when = match crate::dates::spoken_days(&days) {
        Some(days) if undated == 0 => format!(", photographed on {days}"),
        Some(days) => format!(", photographed on {days} ({undated} photo(s) record no date)"),
        None => " (the photos record no date: check them by eye)".into(),
    };
    format!("the same person, the same area{when}")
}

/// The `[[align]]` target the decision names, checked against the record.
fn target(d: &Decision, entry: &CaseEntry) -> Option<Target> {
    let stage = d.stage.as_deref()?;
    let view = entry
        .views
        .iter()
        .find(|v| d.view.as_deref().is_none_or(|name| name == v.view))?;
    view.stages.iter().skip(1).find(|s| s.stage == stage)?;
    Some(Target {
        view: (entry.views.len() > 1).then(|| view.view.clone()),
        stage: stage.to_owned(),
    })
}

/// "Approve as shown": every later photo's shown transform, bound to its photo's and the before
/// photo's content hashes, for the record the page showed (its key).
fn approve(
    dir: &std::path::Path,
    d: &Decision,
    entry: &CaseEntry,
    state: &State,
) -> Result<String, EditError> {
    let path = dir.join(casetoml::FILE);
    if d.key.as_deref() != Some(entry.key.as_str()) {
        return Err(EditError::Changed(path));
    }
    let mismatch = entry.flags().iter().any(|f| f.code == Code::Mismatch);
    let sentence = confirmation(&state.input, entry);
    if mismatch && !d.confirmed {
        return Err(EditError::Refused(confirm_first(&sentence), true));
    }
    let confirmed = d.confirmed.then_some(sentence.as_str());
    if entry.views.is_empty() {
        return Err(EditError::Invalid(
            path,
            "this case failed before its photos were aligned: there is nothing to approve".into(),
        ));
    }
    let when = crate::dates::utc_now();
    let several = entry.views.len() > 1;
    let change = |doc: &mut toml_edit::DocumentMut| {
        for view in &entry.views {
            let before = &view.stages[0].source_hash;
            for s in view.stages.iter().skip(1) {
                let target = Target {
                    view: several.then(|| view.view.clone()),
                    stage: s.stage.clone(),
                };
                let hashes = [before.as_str(), s.source_hash.as_str()];
                let table = casetoml::approval_entry(s.matrix(), &when, hashes, confirmed);
                casetoml::set_align(doc, &target, table)?;
            }
        }
        Ok(())
    };
    casetoml::edit_vetted(dir, &d.stamp, change, |meta| vet(state, entry, meta))
}

/// Run the pipeline over INPUT into OUT (as `batch` would) and say what became of the case
/// from folder `source`.
fn run_again(state: &State, source: &str, dir: &Path, stamp: String) -> Verdict {
    let meta = crate::casefile::read(&dir.join(casetoml::FILE)).unwrap_or_default();
    let verdict = |outcome: &str, reasons: Vec<String>, message: String| Verdict {
        outcome: outcome.into(),
        reasons,
        stamp: stamp.clone(),
        message,
        private: meta.keep_private,
        withheld: meta.withhold.clone(),
    };
    let Some(out) = &state.out else {
        let saved = if state.watched {
            "Saved. The gallery will be updated in a few seconds."
        } else {
            "Saved to case.toml. Run batch (or start review with --out) to publish."
        };
        return verdict("saved", Vec::new(), saved.into());
    };
    let config = match state.config() {
        Ok(c) => c,
        Err(e) => return verdict("saved", Vec::new(), format!("Saved, but: {e}")),
    };
    let summary = crate::journal::Lock::acquire(out, false)
        .map_err(|e| e.to_string())
        .and_then(|_lock| {
            // Not --wait: a watch holding the gallery would keep the page waiting for ever; the
            // page says another run is writing it instead (the decision is saved either way).
            let (options, reporter) = (RunOptions::default(), Reporter::new(true));
            pipeline::run(&state.input, out, &config, &options, &reporter)
                .map_err(|e| e.to_string())
        });
    let summary = match summary {
        Ok(s) => s,
        Err(e) => {
            let failed = format!("Saved to case.toml, but the run failed: {e}");
            return verdict("saved", Vec::new(), failed);
        }
    };
    let id = pipeline::case_id(&state.input, &config, source);
    let Some(report) = summary.cases.iter().find(|c| Some(&c.id) == id.as_ref()) else {
        let none = "Not on the website: this case has no before and later photo left to publish.";
        return verdict("withheld", Vec::new(), none.into());
    };
    let message = match report.outcome {
        Outcome::Published | Outcome::UpToDate => "Published.",
        Outcome::Review => "Still held for review.",
        Outcome::Failed => "Failed.",
        Outcome::NoConsent => not_published(&meta, &config),
        Outcome::Waiting => "Left as it was.",
    };
    let outcome = serde_json::to_value(report.outcome)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    verdict(
        &outcome,
        said_reasons(state, source, report),
        message.into(),
    )
}

/// Why the run left the case as it is, for the page: none when kept off for consent (the message
/// says it all; the run's reason is for the terminal), the page's plain words when still held
/// (read from the record just written), else the run's own.
fn said_reasons(state: &State, source: &str, report: &pipeline::CaseReport) -> Vec<String> {
    match report.outcome {
        Outcome::NoConsent => Vec::new(),
        Outcome::Review => Records::load(&state.input)
            .case(source)
            .map(super::words::reasons)
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| report.reasons.clone()),
        _ => report.reasons.clone(),
    }
}

/// Why a case is off the website, in the app's words: staff's "Keep private", or the patient's
/// consent (absent, not yet signed, expired, withdrawn), which staff cannot give for them.
fn not_published(meta: &crate::casefile::CaseMeta, config: &crate::config::Config) -> &'static str {
    use crate::consent::{Status, decide, today};
    let today = today().unwrap_or_else(|_| crate::dates::utc_day());
    let default = config.cases.default_consent;
    match decide(meta.consent.as_ref(), default, meta.keep_private, today).status {
        Status::Held => "Kept private \u{2014} not on the website.",
        Status::Expired => "Not on the website: the patient's consent has expired.",
        Status::Withdrawn => "Not on the website: the patient withdrew their consent.",
        _ => "Not on the website: waiting for the patient's consent.",
    }
}

fn error(message: &str) -> serde_json::Value {
    serde_json::json!({ "error": message })
}

fn json(status: u16, value: &impl Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    Response::new(status, "application/json", body)
}
