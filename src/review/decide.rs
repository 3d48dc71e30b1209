//! A reviewer's decision carried out: landmarks saved as `[[align]]`, "approve as shown" (the
//! shown transform bound to the photos' content hashes), or "keep private" (`consent = false`),
//! each written into `case.toml` (see [`casetoml`]) and then the case run again, so the page can
//! say what happened: published, or still held and why.

use serde::{Deserialize, Serialize};

use super::State;
use super::casetoml::{self, EditError, Target};
use super::records::{Records, case_dir};
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
    /// Staff ticked "the same person, the same area, photographed on these dates" (approvals
    /// of photos held as not matching need it).
    #[serde(default)]
    confirmed: bool,
}

/// What the page is told after a decision.
#[derive(Serialize)]
struct Verdict {
    outcome: String,
    reasons: Vec<String>,
    stamp: String,
    message: String,
}

#[derive(Clone, Copy)]
pub enum Kind {
    Landmarks,
    Approve,
    Private,
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
    let records = Records::load(&state.input);
    let Some(entry) = records.case(&d.case) else {
        return json(
            404,
            &error("no recorded case has that folder; reload the page"),
        );
    };
    let Some(dir) = case_dir(&state.input, entry) else {
        return json(
            422,
            &error(
                "this case is a pair of photos side by side in the input folder: move them into a folder of their own to give it a case.toml",
            ),
        );
    };
    let edited = match kind {
        Kind::Landmarks => save_landmarks(&dir, &d, entry, state),
        Kind::Approve => approve(&dir, &d, entry, state),
        Kind::Private => casetoml::edit(&dir, &d.stamp, casetoml::keep_private),
    };
    match edited {
        Ok(stamp) => json(200, &run_again(state, entry, stamp)),
        Err(EditError::Changed(p)) => json(409, &error(&EditError::Changed(p).to_string())),
        Err(EditError::Refused(why, confirm)) => json(
            422,
            &serde_json::json!({ "error": why, "confirm": confirm, "refused": true }),
        ),
        Err(e) => json(422, &error(&e.to_string())),
    }
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
const CONFIRM_FIRST: &str = "Not saved: these photos were held because they may not show the \
    same person or area. Look at them side by side, then tick \"the same person, the same area, \
    photographed on these dates\" to approve them.";

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
    if mismatch && !d.confirmed {
        return Err(EditError::Refused(CONFIRM_FIRST.into(), true));
    }
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
                let table = casetoml::approval_entry(s.matrix(), &when, hashes, d.confirmed);
                casetoml::set_align(doc, &target, table)?;
            }
        }
        Ok(())
    };
    casetoml::edit_vetted(dir, &d.stamp, change, |meta| vet(state, entry, meta))
}

/// Run the pipeline over INPUT into OUT (as `batch` would) and say what became of the case.
fn run_again(state: &State, entry: &CaseEntry, stamp: String) -> Verdict {
    let saved = |message: String| Verdict {
        outcome: "saved".into(),
        reasons: Vec::new(),
        stamp: stamp.clone(),
        message,
    };
    let Some(out) = &state.out else {
        return saved(
            "Saved to case.toml. Run batch (or start review with --out) to publish.".into(),
        );
    };
    let summary = state
        .config()
        .map_err(|e| e.to_string())
        .and_then(|config| {
            // Not --wait: a watch holding the gallery would keep the page waiting for ever; the
            // page says another run is writing it instead (the decision is saved either way).
            let _lock = crate::journal::Lock::acquire(out, false).map_err(|e| e.to_string())?;
            pipeline::run(
                &state.input,
                out,
                &config,
                &RunOptions::default(),
                &Reporter::new(true),
            )
            .map_err(|e| e.to_string())
        });
    let summary = match summary {
        Ok(s) => s,
        Err(e) => return saved(format!("Saved to case.toml, but the run failed: {e}")),
    };
    let report = summary.cases.iter().find(|c| c.id == entry.id);
    let (outcome, reasons) = match report {
        Some(r) => (r.outcome, r.reasons.clone()),
        None => (Outcome::NoConsent, Vec::new()),
    };
    let message = match outcome {
        Outcome::Published | Outcome::UpToDate => "Published.",
        Outcome::Review => "Still held for review.",
        Outcome::Failed => "Failed.",
        Outcome::NoConsent => "Kept private: not published.",
        Outcome::Waiting => "Left as it was.",
    };
    Verdict {
        outcome: serde_json::to_value(outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        reasons,
        stamp,
        message: message.into(),
    }
}

fn error(message: &str) -> serde_json::Value {
    serde_json::json!({ "error": message })
}

fn json(status: u16, value: &impl Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    Response::new(status, "application/json", body)
}
