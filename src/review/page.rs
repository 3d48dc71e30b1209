//! The review app's pages: the list of held and failed cases, what is kept off the website
//! (cases kept private, photos held back, each with its undo; `assets/index.js`), published
//! ones on request, and a case's page. On the case page the decision, the two photos side by
//! side (where points are placed, `assets/review.js`) and the reasons in plain words
//! ([`super::words`]) fill one 1280×800 screen; the run's own messages and the alignment
//! overlay (onion skin, difference, slider) wait in a details disclosure below. Rendered by
//! minijinja with every value escaped; the case's figures reach the script as JSON in an inert
//! `<script>` block.

use minijinja::{Environment, Value, context};
use serde_json::json;

use super::State;
use super::casetoml;
use super::records::{KeptOff, Records, case_dir, case_folder, kept_off, kept_off_in};
use crate::http::{Request, Response};
use crate::manifest::CaseEntry;

const INDEX: &str = include_str!("templates/index.html");
const CASE: &str = include_str!("templates/case.html");
const SCRIPT: &str = include_str!("assets/review.js");
const INDEX_SCRIPT: &str = include_str!("assets/index.js");
const STYLE: &str = include_str!("assets/review.css");
const SETTINGS_SCRIPT: &str = include_str!("assets/settings.js");

pub fn asset(name: &str) -> Response {
    match name {
        "review.js" => Response::new(200, "text/javascript; charset=utf-8", SCRIPT),
        "index.js" => Response::new(200, "text/javascript; charset=utf-8", INDEX_SCRIPT),
        "review.css" => Response::new(200, "text/css; charset=utf-8", STYLE),
        "settings.js" => Response::new(200, "text/javascript; charset=utf-8", SETTINGS_SCRIPT),
        _ => Response::text(404, "not found\n"),
    }
}

pub(super) fn render(name: &str, source: &str, ctx: Value) -> Response {
    let mut env = Environment::new();
    let html = env
        .add_template(name, source)
        .and_then(|()| env.get_template(name)?.render(ctx));
    match html {
        Ok(html) => Response::new(200, "text/html; charset=utf-8", html),
        Err(e) => Response::text(500, &format!("page could not be made: {e}\n")),
    }
}

/// A case as the list shows it.
fn summary(c: &CaseEntry, token: &str) -> serde_json::Value {
    let source = c.source.clone().unwrap_or_default();
    json!({
        "source": source,
        "id": c.id,
        "status": c.status,
        "reasons": super::words::reasons(c),
        "href": format!("/case?c={}&t={token}", encode(&source)),
    })
}

pub fn index(state: &State) -> Response {
    let records = Records::load(&state.input);
    let list = |cases: &[CaseEntry]| -> Vec<_> {
        cases.iter().map(|c| summary(c, &state.token)).collect()
    };
    let kept: Vec<_> = kept_off(&state.input)
        .into_iter()
        .map(|k| {
            let href = format!("/case?c={}&t={}", encode(&k.source), state.token);
            json!({ "href": href, "kept": k })
        })
        .collect();
    let ctx = context! {
        held => Value::from(minijinja::value::Serde(&list(&records.held))),
        published => Value::from(minijinja::value::Serde(&list(&records.published))),
        kept => Value::from(minijinja::value::Serde(&kept)),
        input => state.input.display().to_string(),
        token => &state.token,
    };
    render("index.html", INDEX, ctx)
}

/// Where a case stands, in the words of the front desk.
fn standing(entry: Option<&CaseEntry>, kept: Option<&KeptOff>) -> &'static str {
    match entry {
        _ if kept.is_some_and(|k| k.private) => "Kept private \u{2014} not on the website",
        Some(e) if e.published => "On the website",
        Some(e) if e.status == crate::manifest::CaseStatus::Failed => {
            "Could not be made \u{2014} not on the website"
        }
        Some(_) => "Held for review \u{2014} not on the website",
        None => "Not on the website \u{2014} no before and later photo left to show",
    }
}

pub fn case(state: &State, req: &Request) -> Response {
    let records = Records::load(&state.input);
    let source = req.param("c").unwrap_or_default();
    let entry = records.case(&source).cloned();
    let dir = case_folder(&state.input, &source);
    let kept = dir.as_deref().and_then(|d| kept_off_in(d, source.clone()));
    if entry.is_none() && kept.is_none() {
        return Response::text(
            404,
            "no recorded case has that folder; go back to the list\n",
        );
    }
    let stamp = (entry.as_ref().and_then(|e| case_dir(&state.input, e)))
        .or(dir)
        .map_or_else(|| "none".into(), |d| casetoml::stamp(&d));
    let standing = standing(entry.as_ref(), kept.as_ref());
    let entry = entry.unwrap_or_else(|| unrecorded(&source));
    let confirmation = super::decide::confirmation(&state.input, &entry);
    let data = json!({
        "case": source,
        "key": entry.key,
        "stamp": stamp,
        "model": model(state),
        "token": state.token,
        "published": entry.published,
        // Held because the photos may not belong together: approving asks for a confirmation.
        "mismatch": entry.flags().iter().any(|f| f.code == crate::flags::Code::Mismatch),
        "private": kept.as_ref().is_some_and(|k| k.private),
        "withheld": kept.as_ref().map(|k| k.withheld.clone()).unwrap_or_default(),
        "views": views(&entry, &state.token),
    });
    // Inert JSON inside <script>: only "<" could end the block early.
    let data = data.to_string().replace('<', "\\u003c");
    let ctx = context! {
        entry => Value::from(minijinja::value::Serde(&entry)),
        standing => standing,
        confirmation => confirmation,
        data => Value::from_safe_string(data),
        token => &state.token,
        plain => Value::from(minijinja::value::Serde(super::words::reasons(&entry))),
        flags => Value::from(minijinja::value::Serde(entry.flags())),
    };
    render("case.html", CASE, ctx)
}

/// The alignment model points are fitted with, as the page's script names it.
fn model(state: &State) -> &'static str {
    match state.config().map(|c| c.align.model) {
        Ok(crate::align::Model::Affine) => "affine",
        _ => "similarity",
    }
}

/// A case folder no run recorded (kept private, or every photo held back): no photos to show,
/// only what keeps it off the website and the undo.
fn unrecorded(source: &str) -> CaseEntry {
    CaseEntry {
        id: String::new(),
        source: Some(source.to_owned()),
        title: source.to_owned(),
        status: crate::manifest::CaseStatus::Review,
        published: false,
        review: false,
        reasons: Vec::new(),
        key: String::new(),
        meta: crate::casefile::CaseMeta::default(),
        views: Vec::new(),
    }
}

fn views(entry: &CaseEntry, token: &str) -> serde_json::Value {
    let photo = |rel: &Option<String>| {
        format!(
            "/photo?p={}&t={token}",
            encode(rel.as_deref().unwrap_or(""))
        )
    };
    entry
        .views
        .iter()
        .map(|v| {
            let stages: Vec<_> = v
                .stages
                .iter()
                .map(|s| {
                    json!({
                        "stage": s.stage,
                        "url": photo(&s.source),
                        "file": s.source.as_deref().and_then(|r| r.rsplit('/').next()),
                        "size": s.oriented_size,
                        "matrix": s.matrix(),
                        "method": s.align.as_ref().map(|a| a.method.clone()),
                        "reasons": s.reasons,
                    })
                })
                .collect();
            json!({ "view": v.view, "stages": stages })
        })
        .collect()
}

/// Percent-encode a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
