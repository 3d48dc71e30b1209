//! The static gallery: an index of published cases and a page per case, rendered from the
//! manifest with templates that live in `src/gallery/templates/`. No request leaves the
//! gallery's own files, and every link is relative.

use std::path::Path;

use minijinja::Environment;
use serde::Serialize;

use crate::config::Config;
use crate::error::Fatal;
use crate::manifest::{CaseEntry, Manifest, OutputEntry};
use crate::output;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("index.html", include_str!("templates/index.html")),
    ("case.html", include_str!("templates/case.html")),
];
const STYLE_CSS: &str = include_str!("assets/style.css");

#[derive(Serialize)]
struct CardModel<'a> {
    id: &'a str,
    title: &'a str,
    treatment: Option<&'a str>,
    thumb: Option<&'a OutputEntry>,
}

#[derive(Serialize)]
struct StageModel {
    label: String,
    src: String,
    jpeg_srcset: String,
    webp_srcset: String,
    width: u32,
    height: u32,
}

#[derive(Serialize)]
struct ViewModel {
    name: String,
    stages: Vec<StageModel>,
}

#[derive(Serialize)]
struct CaseModel<'a> {
    title: &'a str,
    treatment: Option<&'a str>,
    notes: Option<&'a str>,
    views: Vec<ViewModel>,
}

/// Write the index, one page per published case, and the stylesheet.
pub fn write(out: &Path, manifest: &Manifest, config: &Config) -> Result<(), Fatal> {
    let env = environment()?;
    let published: Vec<&CaseEntry> = manifest.cases.iter().filter(|c| c.published).collect();
    output::write_atomic(out, "assets/style.css", STYLE_CSS.as_bytes())?;
    for case in &published {
        let page = render(
            &env,
            "case.html",
            minijinja::context! {
                gallery_title => &config.gallery.title,
                root => "../",
                case => minijinja::Value::from(minijinja::value::Serde(case_model(case))),
            },
        )?;
        output::write_atomic(out, &format!("{}/index.html", case.id), page.as_bytes())?;
    }
    let cards: Vec<CardModel> = published.iter().map(|c| card_model(c)).collect();
    let index = render(
        &env,
        "index.html",
        minijinja::context! {
            gallery_title => &config.gallery.title,
            root => "",
            cases => minijinja::Value::from(minijinja::value::Serde(&cards)),
        },
    )?;
    output::write_atomic(out, "index.html", index.as_bytes())
}

/// Remove a case's page (and its folder when that is empty).
pub fn remove_case_pages(out: &Path, id: &str) {
    output::remove(out, &format!("{id}/index.html"));
}

fn environment() -> Result<Environment<'static>, Fatal> {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| Fatal::Other(format!("built-in template {name}: {e}")))?;
    }
    Ok(env)
}

fn render(env: &Environment, name: &str, ctx: minijinja::Value) -> Result<String, Fatal> {
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| Fatal::Other(format!("rendering {name}: {e:#}")))
}

fn card_model(case: &CaseEntry) -> CardModel<'_> {
    let thumb = case.views.first().and_then(|v| {
        v.composites
            .iter()
            .find(|o| o.kind.as_deref() == Some("side"))
    });
    CardModel {
        id: &case.id,
        title: &case.title,
        treatment: case.meta.treatment.as_deref(),
        thumb,
    }
}

fn case_model(case: &CaseEntry) -> CaseModel<'_> {
    let views = case
        .views
        .iter()
        .map(|v| ViewModel {
            name: v.view.clone(),
            stages: v
                .stages
                .iter()
                .filter_map(|s| stage_model(&case.id, &s.stage, &s.outputs))
                .collect(),
        })
        .collect();
    CaseModel {
        title: &case.title,
        treatment: case.meta.treatment.as_deref(),
        notes: case.meta.notes.as_deref(),
        views,
    }
}

/// Paths in the manifest are relative to the output folder; case pages live one folder down.
fn stage_model(id: &str, stage: &str, outputs: &[OutputEntry]) -> Option<StageModel> {
    let local = |o: &OutputEntry| {
        o.path
            .strip_prefix(&format!("{id}/"))
            .unwrap_or(&o.path)
            .to_owned()
    };
    let srcset = |format: &str| {
        outputs
            .iter()
            .filter(|o| o.format == format)
            .map(|o| format!("{} {}w", local(o), o.width))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let largest = outputs
        .iter()
        .filter(|o| o.format == "jpeg")
        .max_by_key(|o| o.width)?;
    Some(StageModel {
        label: stage.replace('-', " "),
        src: local(largest),
        jpeg_srcset: srcset("jpeg"),
        webp_srcset: srcset("webp"),
        width: largest.width,
        height: largest.height,
    })
}
