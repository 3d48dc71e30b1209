//! The review app's pages: the list of held and failed cases (published ones on request), and a
//! case's page (why it was held, its photos, the current alignment as onion skin, difference
//! and slider, and the point placing of `assets/review.js`). Rendered by minijinja with every
//! value escaped; the case's figures reach the script as JSON in an inert `<script>` block.

use minijinja::{Environment, Value, context};
use serde_json::json;

use super::State;
use super::casetoml;
use super::records::{Records, case_dir};
use crate::http::{Request, Response};
use crate::manifest::CaseEntry;

const INDEX: &str = include_str!("templates/index.html");
const CASE: &str = include_str!("templates/case.html");
const SCRIPT: &str = include_str!("assets/review.js");
const STYLE: &str = include_str!("assets/review.css");

pub fn asset(name: &str) -> Response {
    match name {
        "review.js" => Response::new(200, "text/javascript; charset=utf-8", SCRIPT),
        "review.css" => Response::new(200, "text/css; charset=utf-8", STYLE),
        _ => Response::text(404, "not found\n"),
    }
}

fn render(name: &str, source: &str, ctx: Value) -> Response {
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
        "reasons": c.reasons,
        "href": format!("/case?c={}&t={token}", encode(&source)),
    })
}

pub fn index(state: &State) -> Response {
    let records = Records::load(&state.input);
    let held: Vec<_> = records
        .held
        .iter()
        .map(|c| summary(c, &state.token))
        .collect();
    let published: Vec<_> = records
        .published
        .iter()
        .map(|c| summary(c, &state.token))
        .collect();
    let ctx = context! {
        held => Value::from(minijinja::value::Serde(&held)),
        published => Value::from(minijinja::value::Serde(&published)),
        input => state.input.display().to_string(),
    };
    render("index.html", INDEX, ctx)
}

pub fn case(state: &State, req: &Request) -> Response {
    let records = Records::load(&state.input);
    let Some(entry) = req.param("c").and_then(|c| records.case(&c).cloned()) else {
        return Response::text(
            404,
            "no recorded case has that folder; go back to the list\n",
        );
    };
    let model = state
        .config()
        .map(|c| {
            if c.align.model == crate::align::Model::Affine {
                "affine"
            } else {
                "similarity"
            }
        })
        .unwrap_or("similarity");
    let stamp =
        case_dir(&state.input, &entry).map_or_else(|| "none".into(), |d| casetoml::stamp(&d));
    let data = json!({
        "case": entry.source,
        "key": entry.key,
        "stamp": stamp,
        "model": model,
        "token": state.token,
        "published": entry.published,
        // Held because the photos may not belong together: approving asks for a confirmation.
        "mismatch": entry.flags().iter().any(|f| f.code == crate::flags::Code::Mismatch),
        "views": views(&entry, &state.token),
    });
    // Inert JSON inside <script>: only "<" could end the block early.
    let data = data.to_string().replace('<', "\\u003c");
    let ctx = context! {
        entry => Value::from(minijinja::value::Serde(&entry)),
        data => Value::from_safe_string(data),
        token => &state.token,
        flags => Value::from(minijinja::value::Serde(entry.flags())),
    };
    render("case.html", CASE, ctx)
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
