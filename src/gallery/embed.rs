//! `embed.js`: the gallery inside another site's page. A web person pastes
//! `<div data-beforeafter-case="ID"></div>` or `<div data-beforeafter-index></div>` and
//! `<script src=".../embed.js" async></script>` into a WordPress, Squarespace or Wix page; the
//! script draws the case's slider or the index's first cards there, each in a Shadow DOM of its
//! own (see `assets/embed.js`).
//!
//! The cases are written into the script itself rather than fetched: a fetch from the clinic's
//! site to the gallery's address is cross-origin and most static hosts send no CORS header, so
//! the script would work on some hosts and not others. Photos are plain `<img>`s, which load
//! from another origin without CORS. Built from the same page models as the case pages and the
//! index (same photos, alt text, stage names, honesty note), and, like them, only for published
//! cases: a withdrawn case leaves the file with the run that withdraws it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::params::GalleryParams;
use super::{index, model};
use crate::manifest::CaseEntry;

pub const FILE_NAME: &str = "embed.js";
const SCRIPT: &str = include_str!("assets/embed.js");
const DATA_MARK: &str = "__BEFOREAFTER_DATA__";

#[derive(Serialize)]
struct Data {
    /// The divider's starting position, percent (`[gallery] slider_start`).
    start: u32,
    /// Slider per public id. Picture paths are relative to the case page (`page`).
    cases: BTreeMap<String, Case>,
    /// The index's first page of cards, in its order. Picture paths relative to the gallery.
    cards: Vec<Card>,
}

#[derive(Serialize)]
struct Case {
    page: String,
    title: String,
    treatment: Option<String>,
    honesty: String,
    /// The divider's accessible name.
    divider: String,
    /// The first view's pair as its page opens it: left, right.
    pair: [Stage; 2],
}

#[derive(Serialize)]
struct Stage {
    name: String,
    tag: String,
    alt: String,
    picture: model::Picture,
}

#[derive(Serialize)]
struct Card {
    page: String,
    title: String,
    treatment: Option<String>,
    alt: String,
    thumb: Option<model::Picture>,
    labels: [String; 2],
}

/// The script for the `published` cases, the divider starting at `start` percent.
pub fn script(published: &[&CaseEntry], config: &GalleryParams, start: u32) -> String {
    let mut cases = BTreeMap::new();
    for case in published {
        let mut page = model::case_page(case, config);
        if page.views.is_empty() {
            continue;
        }
        let view = page.views.swap_remove(0);
        let (a, b) = (view.a, view.b);
        let mut stages: Vec<Option<model::StageModel>> =
            view.stages.into_iter().map(Some).collect();
        let (Some(left), Some(right)) = (stages[a].take(), stages[b].take()) else {
            continue;
        };
        let divider = format!(
            "Divider: {} on the left, {} on the right",
            left.name, right.name
        );
        let id = page.id.clone();
        let entry = Case {
            page: format!("{id}/index.html"),
            title: page.title,
            treatment: page.treatment,
            honesty: page.honesty,
            divider,
            pair: [stage(left), stage(right)],
        };
        cases.insert(id, entry);
    }
    let ordered = index::ordered(published);
    let views = index::view_keys(&ordered);
    let shown = (config.gallery.page_size as usize).max(1);
    let cards = (ordered.iter().take(shown))
        .map(|c| index::card(c, usize::MAX, &config.labels, &views))
        .map(|c| Card {
            page: format!("{}/index.html", c.id),
            title: c.title,
            treatment: c.treatment,
            alt: c.alt,
            thumb: c.thumb,
            labels: c.labels,
        })
        .collect();
    let data = Data {
        start,
        cases,
        cards,
    };
    // JSON is a JavaScript expression; the file is a script of its own, never inside HTML.
    let json = serde_json::to_string(&data).unwrap_or_else(|_| "{}".into());
    SCRIPT.replacen(DATA_MARK, &json, 1)
}

fn stage(s: model::StageModel) -> Stage {
    Stage {
        name: s.name,
        tag: s.tag,
        alt: s.alt,
        picture: s.picture,
    }
}
