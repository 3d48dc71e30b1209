//! The page model: what the templates see, built from the manifest and the config. Every
//! caption stays plain text here (the templates escape it); only URLs, which are
//! percent-encoded here, are marked safe so they read cleanly in the HTML.

use serde::Serialize;

use minijinja::Value;

use super::caption;
use crate::config::GalleryConfig;

use super::params::GalleryParams;
use crate::dates::DateStyle;
use crate::discover::DEFAULT_VIEW;
use crate::manifest::{CaseEntry, OutputEntry, StageEntry, ViewEntry};

/// `sizes` for a case page's photos: the slider's frame is at most the page's content width.
const STAGE_SIZES: &str = "(min-width: 1140px) 1100px, 100vw";
/// A composite is offered for download only when its shorter side has at least this many
/// pixels: smaller files (from small photos, which are never enlarged) look poor wherever they
/// are posted, and the photos themselves are on the page.
pub const MIN_DOWNLOAD_SIDE: u32 = 500;
/// A view whose photos are narrower than this (in pixels, so in CSS pixels at most, since a
/// photo is never shown larger than its pixels) puts its labels above the photo, not on it:
/// two labels would cover most of a small photo.
const SMALL_PHOTO: u32 = 600;
/// Image formats offered as `<source>`s before the `<img>` fallback, best first.
const SOURCE_FORMATS: [(&str, &str); 2] = [("avif", "image/avif"), ("webp", "image/webp")];

/// A relative or absolute URL, percent-encoded so it needs no HTML escaping. `%` passes as is:
/// paths are slugs and hashes, and `base_url` may already carry escapes.
pub fn url(path: &str) -> Value {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:%".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Value::from_safe_string(out)
}

/// Things every page shows: title, clinic, logo, theme, footer.
#[derive(Serialize)]
pub struct Site {
    pub title: String,
    /// The clinic's name, or the title when there is none.
    pub name: String,
    /// The clinic's name when set: the header shows it, else the title on case pages only (the
    /// index's heading is the title), so a page never says its title twice.
    pub clinic: Option<String>,
    /// The call to action on every page.
    pub contact: Option<Contact>,
    /// The divider's starting position, percent from the left.
    pub start: u32,
    /// Ask search engines to keep away (a staging copy).
    pub noindex: bool,
    pub footer: Option<String>,
    pub logo: Option<Image>,
    pub background: String,
    pub text: String,
    pub accent: String,
    /// The clinic's signing key, when it has one: pages link to how to check the signature.
    pub signed: Option<SignedBy>,
}

/// The public key the gallery's manifest is signed with, as the signature page shows it.
#[derive(Serialize)]
pub struct SignedBy {
    /// The key id minisign prints (16 hex digits).
    pub id: String,
    /// `minisign.pub`'s text.
    pub text: String,
    /// The page that says how to check it, from the gallery root.
    pub page: &'static str,
}

/// The signing key from `minisign.pub`'s text: its id is the comment's last word.
fn signed_by(text: &str) -> SignedBy {
    let comment = text.lines().next().unwrap_or_default();
    SignedBy {
        id: comment.rsplit(' ').next().unwrap_or_default().to_owned(),
        text: text.trim_end().to_owned(),
        page: super::SIGNATURE_PAGE,
    }
}

/// Share-preview metadata for the signature page.
pub fn signature_share(site: &Site, base_url: &str) -> Share {
    Share {
        title: format!("How to check {}", site.title),
        description: format!(
            "How to check that {}'s photos are what it published, and when",
            site.name
        ),
        image: None,
        image_alt: String::new(),
        url: (!base_url.is_empty()).then(|| url(&format!("{base_url}{}", super::SIGNATURE_PAGE))),
    }
}

/// A link to the clinic's booking page.
#[derive(Serialize)]
pub struct Contact {
    pub href: Value,
    pub label: String,
}

/// An `<img>`: relative URL and pixel size.
#[derive(Serialize)]
pub struct Image {
    pub src: Value,
    pub width: u32,
    pub height: u32,
}

/// A `<picture>`: modern formats as sources, JPEG (or the only format) as the `<img>`.
#[derive(Serialize)]
pub struct Picture {
    pub sources: Vec<Source>,
    pub src: Value,
    pub srcset: Value,
    pub sizes: &'static str,
    pub width: u32,
    pub height: u32,
}

#[derive(Serialize)]
pub struct Source {
    #[serde(rename = "type")]
    pub mime: &'static str,
    pub srcset: Value,
}

/// Share-preview metadata for one page.
#[derive(Serialize)]
pub struct Share {
    pub title: String,
    pub description: String,
    /// The social composite: absolute with `base_url`, else relative to the page.
    pub image: Option<Image>,
    pub image_alt: String,
    /// The page's absolute address; only with `base_url`.
    pub url: Option<Value>,
}

#[derive(Serialize)]
pub struct CasePage {
    pub id: String,
    pub title: String,
    pub treatment: Option<String>,
    pub sessions: Option<u32>,
    /// Month and year, e.g. "May 2026".
    pub date: Option<String>,
    pub technician: Option<String>,
    pub notes: Option<String>,
    pub credit: Option<String>,
    pub tags: Vec<String>,
    pub honesty: String,
    pub views: Vec<ViewModel>,
}

#[derive(Serialize)]
pub struct ViewModel {
    /// Unique on the page: `view-<name>`.
    pub id: String,
    pub name: String,
    /// Shown when the case has several views or a named one.
    pub heading: Option<String>,
    /// Narrower than `SMALL_PHOTO`: its labels go above the photo.
    pub small: bool,
    pub stages: Vec<StageModel>,
    /// The stages the slider compares first: the before photo and the last one.
    pub a: usize,
    pub b: usize,
    pub downloads: Vec<Download>,
    pub social: Option<OutputEntry>,
}

#[derive(Serialize)]
pub struct StageModel {
    pub stage: String,
    /// "Session 1".
    pub name: String,
    /// "SESSION 1", from `[labels]`.
    pub tag: String,
    /// Capture month, e.g. "Feb 2026" (only with `[gallery] dates = "month"`).
    pub month: Option<String>,
    /// Time since the before photo in full, e.g. "Taken 10 weeks after the before photo".
    pub since: Option<String>,
    /// What the page shows beside the stage's name: the month and/or the time since the before
    /// photo, e.g. "10 weeks later", "Same day" or "May 2026, 10 weeks later"; `None` when no
    /// date is known (the label alone).
    pub when: Option<String>,
    pub alt: String,
    pub picture: Picture,
    pub eager: bool,
}

/// A composite offered for download, named by what a clinic would use it for (its pixel size
/// means nothing to a visitor).
#[derive(Serialize)]
pub struct Download {
    pub href: Value,
    /// What it is for: "For web pages and print".
    pub label: &'static str,
    /// Its shape: "side by side".
    pub shape: &'static str,
    /// The saved file's name: the case, the view and what the file is.
    pub filename: String,
}

pub fn site(config: &GalleryConfig, logo_src: Option<&str>) -> Site {
    let clinic = config.clinic.trim();
    Site {
        title: config.title.clone(),
        name: if clinic.is_empty() {
            config.title.clone()
        } else {
            clinic.to_owned()
        },
        clinic: (!clinic.is_empty()).then(|| clinic.to_owned()),
        contact: (!config.contact_url.is_empty()).then(|| Contact {
            href: url(&config.contact_url),
            label: config.contact_label.trim().to_owned(),
        }),
        start: config.start,
        noindex: config.noindex,
        footer: caption::text(Some(&config.footer)),
        logo: config
            .logo_file
            .as_ref()
            .zip(logo_src)
            .map(|(l, src)| Image {
                src: url(src),
                width: l.width,
                height: l.height,
            }),
        background: config.background.clone(),
        text: config.text.clone(),
        accent: config.accent.clone(),
        signed: config.public_key.as_deref().map(signed_by),
    }
}

pub(super) fn tags(case: &CaseEntry) -> Vec<String> {
    case.meta
        .tags
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The case's tags less those that name one of its views: the view's heading says it already.
fn tags_beside_views(case: &CaseEntry) -> Vec<String> {
    let views: Vec<String> = (case.views.iter())
        .filter(|v| v.view != DEFAULT_VIEW)
        .map(|v| caption::filter_key(&v.view))
        .collect();
    tags(case)
        .into_iter()
        .filter(|t| !views.contains(&caption::filter_key(t)))
        .collect()
}

pub fn case_page(case: &CaseEntry, config: &GalleryParams) -> CasePage {
    let meta = &case.meta;
    let several = case.views.len() > 1;
    CasePage {
        id: case.id.clone(),
        title: case.title.clone(),
        treatment: caption::text(meta.treatment.as_ref()),
        sessions: meta.sessions,
        date: (meta.date.as_deref())
            .and_then(caption::month)
            .filter(|_| config.gallery.dates == DateStyle::Month)
            .map(|m| m.1),
        technician: caption::text(meta.technician.as_ref()),
        notes: caption::text(meta.notes.as_ref()),
        credit: caption::text(meta.credit.as_ref()),
        tags: tags_beside_views(case),
        honesty: caption::honesty(case),
        views: case
            .views
            .iter()
            .enumerate()
            .map(|(i, v)| view_model(case, v, i == 0, several, config))
            .collect(),
    }
}

fn view_model(
    case: &CaseEntry,
    view: &ViewEntry,
    first: bool,
    several: bool,
    config: &GalleryParams,
) -> ViewModel {
    let name = caption::view_name(&view.view);
    let last = view.stages.len().saturating_sub(1);
    let stages = view
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let stage = caption::stage_name(&s.stage, &config.labels).to_lowercase();
            let alt = if view.view == DEFAULT_VIEW {
                format!("{}, {stage}", case.title)
            } else {
                format!("{}, {} view, {stage}", case.title, name.to_lowercase())
            };
            stage_model(&case.id, s, alt, first && (i == 0 || i == last), config)
        })
        .collect();
    let composite = |kind: &str| {
        view.composites
            .iter()
            .find(|o| o.kind.as_deref() == Some(kind))
    };
    let downloads = downloads(case, view, &composite);
    let width = (view.stages.first())
        .and_then(|s| s.outputs.iter().map(|o| o.width).max())
        .unwrap_or(0);
    ViewModel {
        id: format!("view-{}", caption::filter_key(&view.view)),
        heading: (several || view.view != DEFAULT_VIEW).then(|| name.clone()),
        small: width > 0 && width < SMALL_PHOTO,
        name,
        stages,
        a: 0,
        b: last,
        downloads,
        social: composite("social").cloned(),
    }
}

fn stage_model(
    id: &str,
    stage: &StageEntry,
    alt: String,
    eager: bool,
    config: &GalleryParams,
) -> StageModel {
    let month = (stage.captured.as_deref())
        .and_then(caption::month)
        .filter(|_| config.gallery.dates == DateStyle::Month)
        .map(|m| m.1);
    let interval =
        (stage.since_before.as_ref()).filter(|_| config.gallery.dates != DateStyle::None);
    let since = interval.map(|s| caption::since_before(s));
    let when = [month.clone(), interval.map(|s| caption::later(s))]
        .into_iter()
        .flatten();
    let when = Some(when.collect::<Vec<_>>().join(", ")).filter(|w| !w.is_empty());
    StageModel {
        stage: stage.stage.clone(),
        name: caption::stage_name(&stage.stage, &config.labels),
        tag: caption::stage_tag(&stage.stage, &config.labels),
        month,
        since,
        when,
        alt,
        picture: picture(id, &stage.outputs),
        eager,
    }
}

/// The view's composites large enough to offer (`MIN_DOWNLOAD_SIDE`), named by use; the side
/// composite of wide photos puts them one above the other, which suits a phone's screen.
fn downloads<'a>(
    case: &CaseEntry,
    view: &ViewEntry,
    composite: &dyn Fn(&str) -> Option<&'a OutputEntry>,
) -> Vec<Download> {
    let photo = (view.stages.first())
        .and_then(|s| s.outputs.iter().max_by_key(|o| o.width))
        .map_or(1.0, |o| f64::from(o.width) / f64::from(o.height.max(1)));
    let kinds = [
        (
            "side",
            "For web pages and print",
            "side by side",
            "side-by-side",
        ),
        ("square", "For square posts", "square", "square"),
        ("social", "For link previews", "wide", "social"),
    ];
    kinds
        .into_iter()
        .filter_map(|(kind, label, shape, name)| {
            let o = composite(kind).filter(|o| o.width.min(o.height) >= MIN_DOWNLOAD_SIDE)?;
            let aspect = f64::from(o.width) / f64::from(o.height.max(1));
            let stacked = kind == "side" && aspect < photo;
            let (label, shape, name) = if stacked {
                ("For phone screens", "one above the other", "stacked")
            } else {
                (label, shape, name)
            };
            let view_part = if view.view == DEFAULT_VIEW {
                String::new()
            } else {
                format!("-{}", caption::filter_key(&view.view))
            };
            Some(Download {
                href: url(&local_path(&case.id, &o.path)),
                label,
                shape,
                filename: format!("{}{view_part}-{name}.jpg", case.id),
            })
        })
        .collect()
}

/// Manifest paths are relative to the output folder; case pages live one folder down.
fn local_path(id: &str, path: &str) -> String {
    match path.strip_prefix(id).and_then(|p| p.strip_prefix('/')) {
        Some(local) => local.to_owned(),
        None => format!("../{path}"),
    }
}

fn picture(id: &str, outputs: &[OutputEntry]) -> Picture {
    picture_at(outputs, STAGE_SIZES, |path| local_path(id, path))
}

/// A `<picture>` of `outputs` (one image at several widths and formats), shown at `sizes`,
/// with `at` giving each file's URL from the page.
pub fn picture_at(
    outputs: &[OutputEntry],
    sizes: &'static str,
    at: impl Fn(&str) -> String,
) -> Picture {
    let srcset = |format: &str| {
        let mut of: Vec<&OutputEntry> = outputs.iter().filter(|o| o.format == format).collect();
        of.sort_by_key(|o| o.width);
        let text: Vec<String> = of
            .iter()
            .map(|o| format!("{} {}w", at(&o.path), o.width))
            .collect();
        text.join(", ")
    };
    let fallback_format = if outputs.iter().any(|o| o.format == "jpeg") {
        "jpeg"
    } else {
        outputs.first().map_or("jpeg", |o| o.format.as_str())
    };
    let sources = SOURCE_FORMATS
        .iter()
        .filter(|(f, _)| *f != fallback_format)
        .map(|&(format, mime)| (mime, srcset(format)))
        .filter(|(_, s)| !s.is_empty())
        .map(|(mime, s)| Source {
            mime,
            srcset: url_list(&s),
        })
        .collect();
    let largest = outputs
        .iter()
        .filter(|o| o.format == fallback_format)
        .max_by_key(|o| o.width);
    let (src, width, height) =
        largest.map_or((String::new(), 0, 0), |o| (at(&o.path), o.width, o.height));
    Picture {
        sources,
        src: url(&src),
        srcset: url_list(&srcset(fallback_format)),
        sizes,
        width,
        height,
    }
}

/// A `srcset` value: encode each URL, keep the ", " separators and the width descriptors.
fn url_list(srcset: &str) -> Value {
    let parts: Vec<String> = srcset
        .split(", ")
        .map(|item| match item.rsplit_once(' ') {
            Some((u, w)) => format!("{} {w}", url(u)),
            None => url(item).to_string(),
        })
        .collect();
    Value::from_safe_string(parts.join(", "))
}

/// Share metadata for a case page (`prefix` is the case's folder from the gallery root).
pub fn share(page: &CasePage, site: &Site, base_url: &str) -> Share {
    let social = page.views.iter().find_map(|v| v.social.as_ref());
    let mut description: Vec<String> = Vec::new();
    description.extend(page.treatment.clone());
    if let Some(n) = page.sessions {
        description.push(format!("{n} session{}", if n == 1 { "" } else { "s" }));
    }
    description.push(page.honesty.clone());
    Share {
        title: format!("{} · {}", page.title, site.name),
        description: description.join(" · "),
        image: social.map(|o| share_image(o, &page.id, base_url)),
        image_alt: caption::pair_alt(&page.title),
        url: (!base_url.is_empty()).then(|| url(&format!("{base_url}{}/", page.id))),
    }
}

/// Share metadata for the index: the first case's social composite.
pub fn index_share(cases: &[&CaseEntry], site: &Site, base_url: &str) -> Share {
    let social = cases.iter().find_map(|c| {
        c.views
            .iter()
            .flat_map(|v| v.composites.iter())
            .find(|o| o.kind.as_deref() == Some("social"))
    });
    let n = cases.len();
    Share {
        title: site.title.clone(),
        description: format!("{n} before and after case{}", if n == 1 { "" } else { "s" }),
        image: social.map(|o| share_image(o, "", base_url)),
        image_alt: social
            .and_then(|o| {
                cases
                    .iter()
                    .find(|c| o.path.starts_with(&format!("{}/", c.id)))
            })
            .map(|c| caption::pair_alt(&c.title))
            .unwrap_or_default(),
        url: (!base_url.is_empty()).then(|| url(base_url)),
    }
}

/// An image URL for share previews: absolute with `base_url`, else relative to the page
/// (`page_dir` is "" for the index, the case id for a case page).
fn share_image(o: &OutputEntry, page_dir: &str, base_url: &str) -> Image {
    let src = if !base_url.is_empty() {
        format!("{base_url}{}", o.path)
    } else if page_dir.is_empty() {
        o.path.clone()
    } else {
        local_path(page_dir, &o.path)
    };
    Image {
        src: url(&src),
        width: o.width,
        height: o.height,
    }
}
