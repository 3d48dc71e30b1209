//! The index: the order of the cases, their cards (one thumbnail shape for all), the filter
//! groups with their counts, and the pages ("Show more" links that work without JavaScript), so
//! a gallery of hundreds of cases opens as lightly as one of a dozen.

use std::cmp::Reverse;

use minijinja::Value;
use serde::Serialize;

use super::caption;
use super::model::{self, Picture, url};
use crate::discover::DEFAULT_VIEW;
use crate::manifest::{CaseEntry, OutputEntry, ViewEntry};
use crate::render::params::LabelParams;

/// Index cards above this position load at once (not lazily): the first screenful whatever the
/// column count, two rows of four on a laptop, up to four rows of two on a phone (a lazy image
/// on the first screen waits for layout and is often the largest paint).
const EAGER_CARDS: usize = 8;
/// Of those, the ones fetched with high priority: the first row on a phone.
const PRIORITY_CARDS: usize = 2;
/// `sizes` of a card's thumbnail: the grid's columns (at least 240 px, 1.2 rem apart, in a
/// main column of at most 1100 px): four from 1132 px, three from 826 px, else two (0.8 rem
/// apart on phones).
const THUMB_SIZES: &str = "(min-width: 1132px) 266px, (min-width: 826px) calc(33vw - 22px), \
                           (min-width: 547px) calc(50vw - 26px), calc(50vw - 23px)";

/// Cases in index order: by `order` (lowest first), then the featured ones, then newest first
/// (the case's `date`, else its latest photo's month), then by id.
pub fn ordered<'a>(cases: &[&'a CaseEntry]) -> Vec<&'a CaseEntry> {
    let mut out = cases.to_vec();
    out.sort_by_key(|c| {
        let newest = c.meta.date.clone().or_else(|| {
            (c.views.iter().flat_map(|v| &v.stages))
                .filter_map(|s| s.captured.clone())
                .max()
        });
        (
            c.meta.order.map_or((1, 0), |o| (0, o)),
            !c.meta.featured,
            Reverse(newest),
            c.id.clone(),
        )
    });
    out
}

/// One page of the index.
#[derive(Serialize)]
pub struct Page {
    /// 1-based.
    pub number: usize,
    pub count: usize,
    /// The file, from the gallery root: `index.html`, `page-2.html`, …
    pub file: String,
    pub previous: Option<Value>,
    pub next: Option<Value>,
    /// The first card's position (1-based) and the last's, of `total`.
    pub first: usize,
    pub last: usize,
    pub total: usize,
}

/// The index's file for page `n` (1-based).
pub fn page_file(n: usize) -> String {
    if n <= 1 {
        "index.html".into()
    } else {
        format!("page-{n}.html")
    }
}

/// The pages of `total` cards, `size` a page (at least one page, even when empty).
pub fn pages(total: usize, size: usize) -> Vec<Page> {
    let size = size.max(1);
    let count = total.div_ceil(size).max(1);
    (1..=count)
        .map(|n| Page {
            number: n,
            count,
            file: page_file(n),
            previous: (n > 1).then(|| url(&page_file(n - 1))),
            next: (n < count).then(|| url(&page_file(n + 1))),
            first: ((n - 1) * size + 1).min(total),
            last: (n * size).min(total),
            total,
        })
        .collect()
}

#[derive(Serialize)]
pub struct Card {
    pub id: String,
    pub href: Value,
    pub title: String,
    /// The thumbnail's alt text (`caption::pair_alt`).
    pub alt: String,
    pub treatment: Option<String>,
    pub sessions: Option<u32>,
    /// The split thumbnail at every width and format.
    pub thumb: Option<Picture>,
    /// On the first screen: loaded at once, not lazily.
    pub eager: bool,
    /// In the first row on any screen: fetched with high priority too.
    pub priority: bool,
    /// The thumbnail's two halves, as the slider labels them ("BEFORE", "AFTER").
    pub labels: [String; 2],
    /// Space-separated filter keys per group.
    pub tag_keys: String,
    pub treatment_key: String,
    pub view_keys: String,
}

/// One filter group on the index (tag, treatment, view) and its options.
#[derive(Serialize)]
pub struct FilterGroup {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<FilterOption>,
}

#[derive(Serialize)]
pub struct FilterOption {
    pub key: String,
    pub label: String,
    pub count: usize,
}

/// The filter keys of every named view in the gallery: a tag with one of these keys is filed
/// under View, not shown twice ("Tag: top" beside "View: Top").
pub fn view_keys(cases: &[&CaseEntry]) -> Vec<String> {
    let mut keys: Vec<String> = (cases.iter().flat_map(|c| named_views(c)))
        .map(|v| caption::filter_key(&v.view))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The case's tags that are not views, and its views with the tags that name one.
fn tags_and_views(case: &CaseEntry, views: &[String]) -> (Vec<String>, Vec<String>) {
    let (as_views, tags): (Vec<String>, Vec<String>) = model::tags(case)
        .into_iter()
        .partition(|t| views.contains(&caption::filter_key(t)));
    let mut named: Vec<String> = named_views(case)
        .map(|v| caption::view_name(&v.view))
        .collect();
    for t in as_views {
        if !named
            .iter()
            .any(|n| caption::filter_key(n) == caption::filter_key(&t))
        {
            named.push(caption::view_name(&t));
        }
    }
    (tags, named)
}

pub fn card(case: &CaseEntry, position: usize, labels: &LabelParams, views: &[String]) -> Card {
    let meta = &case.meta;
    let treatment = caption::text(meta.treatment.as_ref());
    let (tags, views) = tags_and_views(case, views);
    Card {
        id: case.id.clone(),
        href: url(&format!("{}/index.html", case.id)),
        title: case.title.clone(),
        alt: caption::pair_alt(&case.title),
        sessions: meta.sessions,
        thumb: thumb(case),
        eager: position < EAGER_CARDS,
        priority: position < PRIORITY_CARDS,
        labels: thumb_labels(case, labels),
        tag_keys: keys(tags.iter().map(String::as_str)),
        treatment_key: treatment
            .as_deref()
            .map(caption::filter_key)
            .unwrap_or_default(),
        view_keys: keys(views.iter().map(String::as_str)),
        treatment,
    }
}

fn keys<'a>(labels: impl Iterator<Item = &'a str>) -> String {
    let mut keys: Vec<String> = labels
        .map(caption::filter_key)
        .filter(|k| !k.is_empty())
        .collect();
    keys.dedup();
    keys.join(" ")
}

/// Views with a name of their own (a flat pair's single view is unnamed).
fn named_views(case: &CaseEntry) -> impl Iterator<Item = &ViewEntry> {
    case.views.iter().filter(|v| v.view != DEFAULT_VIEW)
}

/// The labels of the thumbnail's halves: the first view's before photo and its last photo.
fn thumb_labels(case: &CaseEntry, labels: &LabelParams) -> [String; 2] {
    let stages = case
        .views
        .first()
        .map(|v| v.stages.as_slice())
        .unwrap_or_default();
    let tag = |s: Option<&crate::manifest::StageEntry>| {
        s.map(|s| caption::stage_tag(&s.stage, labels))
            .unwrap_or_default()
    };
    [tag(stages.first()), tag(stages.last())]
}

/// The index card's image: the split thumbnails of the first view (the last photo's JPEGs for a
/// manifest written before thumbnails were split).
fn thumb(case: &CaseEntry) -> Option<Picture> {
    let view = case.views.first()?;
    let thumbs: Vec<OutputEntry> = (view.composites.iter())
        .filter(|o| o.kind.as_deref() == Some("thumb"))
        .cloned()
        .collect();
    let outputs = if thumbs.is_empty() {
        view.stages.last()?.outputs.clone()
    } else {
        thumbs
    };
    (!outputs.is_empty()).then(|| model::picture_at(&outputs, THUMB_SIZES, str::to_owned))
}

/// The index's filter groups. A group is shown only when choosing one of its options would
/// hide at least one card. A tag that names a view counts as that view.
pub fn filters(cases: &[&CaseEntry]) -> Vec<FilterGroup> {
    let views = view_keys(cases);
    let split: Vec<(Vec<String>, Vec<String>)> =
        cases.iter().map(|c| tags_and_views(c, &views)).collect();
    let groups: [(&str, &str, Vec<Vec<String>>); 3] = [
        ("tag", "Tag", split.iter().map(|s| s.0.clone()).collect()),
        (
            "treatment",
            "Treatment",
            cases
                .iter()
                .map(|c| {
                    caption::text(c.meta.treatment.as_ref())
                        .into_iter()
                        .collect()
                })
                .collect(),
        ),
        ("view", "View", split.into_iter().map(|s| s.1).collect()),
    ];
    groups
        .into_iter()
        .filter_map(|(name, label, per_case)| {
            let options = filter_options(&per_case);
            let narrows = options.iter().any(|o| o.count < cases.len());
            narrows.then_some(FilterGroup {
                name,
                label,
                options,
            })
        })
        .collect()
}

/// Distinct keys with the first label seen for each and how many cases have it.
fn filter_options(per_case: &[Vec<String>]) -> Vec<FilterOption> {
    let mut options: Vec<FilterOption> = Vec::new();
    for labels in per_case {
        let mut seen: Vec<String> = Vec::new();
        for label in labels {
            let key = caption::filter_key(label);
            if key.is_empty() || seen.contains(&key) {
                continue;
            }
            match options.iter_mut().find(|o| o.key == key) {
                Some(o) => o.count += 1,
                None => options.push(FilterOption {
                    key: key.clone(),
                    label: label.clone(),
                    count: 1,
                }),
            }
            seen.push(key);
        }
    }
    options.sort_by_key(|o| o.label.to_lowercase());
    options
}
