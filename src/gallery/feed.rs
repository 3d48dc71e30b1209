//! `gallery.json`: the published cases for a CMS or a site builder: captions, the honesty
//! note and every image URL (relative to the gallery folder; prefix them with `base_url`).
//! Built from the same manifest entries as the pages, so the two always agree.

use serde::Serialize;

use super::caption;
use crate::manifest::{CaseEntry, OutputEntry};

pub const FILE_NAME: &str = "gallery.json";
pub const SCHEMA: u32 = 1;

#[derive(Serialize)]
pub struct Feed<'a> {
    pub schema: u32,
    pub title: &'a str,
    /// The gallery folder's public address ("" when not configured).
    pub base_url: String,
    pub cases: Vec<FeedCase<'a>>,
}

#[derive(Serialize)]
pub struct FeedCase<'a> {
    pub id: &'a str,
    /// The case page, relative to the gallery folder.
    pub page: String,
    pub title: &'a str,
    pub treatment: Option<String>,
    pub sessions: Option<u32>,
    /// "YYYY-MM" (never the day).
    pub date: Option<String>,
    /// "May 2026".
    pub date_label: Option<String>,
    pub technician: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub credit: Option<String>,
    pub honesty: String,
    pub views: Vec<FeedView<'a>>,
}

#[derive(Serialize)]
pub struct FeedView<'a> {
    pub view: &'a str,
    pub stages: Vec<FeedStage<'a>>,
    pub composites: Vec<FeedImage<'a>>,
}

#[derive(Serialize)]
pub struct FeedStage<'a> {
    pub stage: &'a str,
    /// Capture month, "YYYY-MM" (only with `[gallery] dates = "month"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured: Option<&'a str>,
    /// Time since the before photo, "10 weeks".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since_before: Option<&'a str>,
    pub images: Vec<FeedImage<'a>>,
}

#[derive(Serialize)]
pub struct FeedImage<'a> {
    pub url: &'a str,
    pub width: u32,
    pub height: u32,
    pub format: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'a str>,
}

/// The feed for `cases` (published ones only: the caller filters).
/// Calendar months appear only when `months` (`[gallery] dates = "month"`).
pub fn feed<'a>(
    title: &'a str,
    base_url: String,
    cases: &[&'a CaseEntry],
    months: bool,
) -> Feed<'a> {
    Feed {
        schema: SCHEMA,
        title,
        base_url,
        cases: cases.iter().map(|c| feed_case(c, months)).collect(),
    }
}

fn feed_case(case: &CaseEntry, months: bool) -> FeedCase<'_> {
    let meta = &case.meta;
    let month = (meta.date.as_deref())
        .and_then(caption::month)
        .filter(|_| months);
    FeedCase {
        id: &case.id,
        page: format!("{}/index.html", case.id),
        title: &case.title,
        treatment: caption::text(meta.treatment.as_ref()),
        sessions: meta.sessions,
        date: month.as_ref().map(|m| m.0.clone()),
        date_label: month.map(|m| m.1),
        technician: caption::text(meta.technician.as_ref()),
        tags: meta
            .tags
            .iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect(),
        notes: caption::text(meta.notes.as_ref()),
        credit: caption::text(meta.credit.as_ref()),
        honesty: caption::honesty(case),
        views: case
            .views
            .iter()
            .map(|v| FeedView {
                view: &v.view,
                stages: v
                    .stages
                    .iter()
                    .map(|s| FeedStage {
                        stage: &s.stage,
                        captured: s.captured.as_deref().filter(|_| months),
                        since_before: s.since_before.as_deref(),
                        images: s.outputs.iter().map(image).collect(),
                    })
                    .collect(),
                composites: v.composites.iter().map(image).collect(),
            })
            .collect(),
    }
}

fn image(o: &OutputEntry) -> FeedImage<'_> {
    FeedImage {
        url: &o.path,
        width: o.width,
        height: o.height,
        format: &o.format,
        kind: o.kind.as_deref(),
    }
}
