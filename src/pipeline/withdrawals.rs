//! Withdrawal receipts: when a published case stops being published because of its consent
//! (withdrawn, expired, scope narrowed to the website, staff's "Keep private"), the run writes a
//! private receipt into `<input>/.beforeafter/withdrawals/`: the public id, when, why, every
//! public path removed, and which square and social images had been offered (public or to
//! staff), so staff know which posts to take down. Written before the pages and pruning, so a
//! run stopped midway writes it again next time rather than never.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::consent::Status;
use crate::discover::Case;
use crate::manifest::{CaseEntry, Manifest};
use crate::render::outputs::SHARE_KINDS;

/// The receipts' folder, relative to the input folder.
pub const DIR: &str = ".beforeafter/withdrawals";

#[derive(Serialize)]
struct Receipt<'a> {
    case: &'a str,
    /// The case folder in the input folder (this file never leaves it).
    folder: &'a str,
    /// UTC.
    when: String,
    status: Status,
    why: String,
    /// The gallery's public address, when set (`[gallery] base_url`); paths below are from it.
    #[serde(skip_serializing_if = "str::is_empty")]
    base_url: &'a str,
    /// The case's page and every public file of it that this run removes.
    removed: Vec<String>,
    /// The square and social images offered for download on the public page.
    social_images_public: Vec<String>,
    /// The square and social images kept for staff (`.beforeafter/social/`), removed too.
    social_images_staff: Vec<String>,
}

/// A receipt for every case of `old` that was published and that `cases` (today's) no longer
/// let publish, or no longer let share; the paths written (and notes for any that failed).
pub fn write(
    input: &Path,
    old: &Manifest,
    cases: &[Case],
    base_url: &str,
) -> (Vec<PathBuf>, Vec<String>) {
    let by_id: std::collections::HashMap<&str, &Case> =
        cases.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut written = (Vec::new(), Vec::new());
    for entry in old.cases.iter().filter(|e| e.published) {
        let Some(c) = by_id.get(entry.id.as_str()).filter(|c| !c.consent_unknown) else {
            continue;
        };
        let Some(receipt) = receipt(entry, c, base_url) else {
            continue;
        };
        let stamp = receipt.when.replace(':', "");
        let rel = format!("{DIR}/{stamp}-{}.json", entry.id);
        let mut json = serde_json::to_string_pretty(&receipt).unwrap_or_default();
        json.push('\n');
        match crate::disk::write_atomic(input, &rel, json.as_bytes()) {
            Ok(()) => written.0.push(input.join(&rel)),
            Err(e) => written.1.push(format!(
                "cannot write the withdrawal receipt for {}: {e}",
                c.id
            )),
        }
    }
    written
}

/// What `c`'s consent today takes away from its published `entry`, if anything.
fn receipt<'a>(entry: &'a CaseEntry, c: &'a Case, base_url: &'a str) -> Option<Receipt<'a>> {
    let share = |o: &&crate::manifest::OutputEntry| {
        o.kind.as_deref().is_some_and(|k| SHARE_KINDS.contains(&k))
    };
    let mut public: Vec<String> = (entry.views.iter())
        .flat_map(|v| v.composites.iter().filter(share))
        .map(|o| o.path.clone())
        .collect();
    public.sort();
    let mut staff: Vec<String> = entry.staff_paths().map(str::to_owned).collect();
    staff.sort();
    let removed: Vec<String> = if !c.consent {
        let page = [format!("{}/", entry.id), format!("{}/index.html", entry.id)];
        page.into_iter()
            .chain(entry.output_paths().map(str::to_owned))
            .collect()
    } else if !c.social && (!public.is_empty() || !staff.is_empty()) {
        public.clone()
    } else {
        return None;
    };
    let why = match &c.decision.why {
        Some(why) if !c.consent => why.clone(),
        _ => "no consent for social media ([consent] social = false): its square and social \
              images are removed; the case stays on the website"
            .to_owned(),
    };
    Some(Receipt {
        case: &entry.id,
        folder: &c.source,
        when: crate::dates::utc_now_seconds(),
        status: c.decision.status,
        why,
        base_url,
        removed,
        social_images_public: public,
        social_images_staff: staff,
    })
}
