//! One case from source bytes to published files: decode every stage of a view, fit each later
//! stage to the before photo's frame, crop, then render every output through
//! [`outputs::render_view`] and write it.

use std::path::Path;

use rayon::prelude::*;

use crate::casefile::AlignOverride;
use crate::config::QualityConfig;
use crate::dates::DateStyle;
use crate::discover::{Case, Stage, View};
use crate::disk;
use crate::error::{Fatal, PhotoError};
use crate::flags::{Flag, Severity};
use crate::ingest::{self, Photo};
use crate::manifest::{CaseEntry, CaseStatus, OutputEntry, StageEntry, ViewEntry};

use super::settings::Settings;
use super::source::Source;
use super::timings::Stage as Timed;
use super::{checks, fit};
use crate::render::composite::Kind;
use crate::render::outputs::{self, Sink};

pub fn failed_entry(c: &Case, key: String, reasons: Vec<String>) -> CaseEntry {
    CaseEntry {
        id: c.id.clone(),
        source: Some(c.source.clone()),
        title: c.title(),
        status: CaseStatus::Failed,
        published: false,
        review: false,
        reasons,
        key,
        meta: c.public_meta(),
        views: Vec::new(),
    }
}

/// A reused entry with captions from the current case.toml (text never needs a re-render) and
/// the photos' current paths (the key says they are the same photos, in the same views and
/// stages; a record resumed from the output folder's journal has no paths at all).
pub fn refresh_meta(mut entry: CaseEntry, c: &Case) -> CaseEntry {
    entry.title = c.title();
    entry.meta = c.public_meta();
    entry.source = Some(c.source.clone());
    for (v, view) in entry.views.iter_mut().zip(&c.views) {
        for (s, file) in v.stages.iter_mut().zip(&view.stages) {
            s.source = Some(file.rel.clone());
        }
    }
    entry
}

/// Decode, fit, render and write a whole case. Every view is decoded and checked before anything
/// is written, so a photo problem fails the case without leaving files; output-folder problems
/// stop the run.
pub fn run_case(
    c: &Case,
    out: &Path,
    settings: &Settings,
    sources: Vec<Vec<Source>>,
    key: String,
) -> Result<CaseEntry, Fatal> {
    if let Err(e) = fit::check_overrides(&c.views, &c.meta.align) {
        return Ok(failed_entry(c, key, vec![e]));
    }
    let budget = Budget::start(settings.case_seconds);
    let mut views = Vec::new();
    let mut review = Vec::new();
    for (view, srcs) in c.views.iter().zip(sources) {
        let prepared = match prepare_view(view, srcs, &c.meta.align, settings, c.views.len() > 1) {
            Ok(p) => p,
            Err(e) => return Ok(failed_entry(c, key, vec![e])),
        };
        if let Some(why) = budget.exceeded() {
            return Ok(failed_entry(c, key, vec![why]));
        }
        review.extend(prepared.review_reasons(view));
        views.push(prepared);
    }
    let held = !review.is_empty() && !settings.publish_review;
    let mut entries = Vec::new();
    for (view, prepared) in c.views.iter().zip(views) {
        if let Some(why) = budget.exceeded() {
            return Ok(failed_entry(c, key, vec![why]));
        }
        entries.push(if held {
            prepared.into_entry(view, Vec::new(), Vec::new())
        } else {
            write_view(c, view, prepared, out, settings, &key)?
        });
    }
    Ok(case_entry(c, key, review, held, entries))
}

/// The record of a processed case. Published anyway with --publish-review, a case still counts
/// as needing review (exit 3).
fn case_entry(
    c: &Case,
    key: String,
    review: Vec<String>,
    held: bool,
    views: Vec<ViewEntry>,
) -> CaseEntry {
    let status = if review.is_empty() {
        CaseStatus::Published
    } else {
        CaseStatus::Review
    };
    CaseEntry {
        id: c.id.clone(),
        source: Some(c.source.clone()),
        title: c.title(),
        status,
        published: !held,
        review: !review.is_empty(),
        reasons: review,
        key,
        meta: c.public_meta(),
        views,
    }
}

/// `[limits] case_seconds`: a case that takes longer fails rather than stalling the run.
struct Budget {
    started: std::time::Instant,
    limit: std::time::Duration,
}

impl Budget {
    fn start(seconds: u32) -> Budget {
        Budget {
            started: std::time::Instant::now(),
            limit: std::time::Duration::from_secs(u64::from(seconds)),
        }
    }

    fn exceeded(&self) -> Option<String> {
        let elapsed = self.started.elapsed();
        (elapsed > self.limit).then(|| {
            format!(
                "processing took {:.0} s, more than [limits] case_seconds ({} s): check its photos, or raise the limit",
                elapsed.as_secs_f64(),
                self.limit.as_secs()
            )
        })
    }
}

/// What a run would decide about a case, with nothing written: every photo read, decoded and
/// fitted, and the flags of every stage (`check`).
pub fn assess_case(c: &Case, settings: &Settings) -> Result<Vec<Flag>, String> {
    fit::check_overrides(&c.views, &c.meta.align)?;
    let sources = super::source::read_sources(c, &settings.ingest).map_err(|e| e.to_string())?;
    let mut flags = Vec::new();
    for (view, srcs) in c.views.iter().zip(sources) {
        let several = c.views.len() > 1;
        let prepared = prepare_view(view, srcs, &c.meta.align, settings, several)?;
        flags.extend(prepared.stages.into_iter().flat_map(|s| s.flags));
    }
    Ok(flags)
}

/// What would still hold a case whatever a decision says, with nothing written: for each view,
/// the reasons its alignments given by hand are not believed and its crop is too small (the
/// review app asks this before it saves a decision, so a refused one leaves case.toml as it
/// was). `Ok(empty)`: nothing does.
pub fn vet_case(c: &Case, settings: &Settings) -> Result<Vec<String>, String> {
    fit::check_overrides(&c.views, &c.meta.align)?;
    let sources = super::source::read_sources(c, &settings.ingest).map_err(|e| e.to_string())?;
    let mut holds = Vec::new();
    for (view, srcs) in c.views.iter().zip(sources) {
        let (photos, hashes) = decode_view(view, srcs, settings)?;
        let (overrides, _) = honoured_overrides(view, &c.meta.align, &hashes);
        let fitted = fit::fit_view(view, &photos, &overrides, &settings.fit, &settings.timings)?;
        holds.extend(fitted.refused.into_iter().flatten());
        holds.extend(too_small(fitted.crop, settings.fit.review.min_crop));
    }
    holds.dedup();
    Ok(holds)
}

/// A view decoded and fitted, before anything is written.
struct Prepared {
    photos: Vec<Photo>,
    crop: [u32; 4],
    /// The records of every stage; their matrices and tone fits are what gets rendered.
    stages: Vec<StageEntry>,
}

fn prepare_view(
    view: &View,
    sources: Vec<Source>,
    overrides: &[AlignOverride],
    settings: &Settings,
    several_views: bool,
) -> Result<Prepared, String> {
    let (photos, hashes) = decode_view(view, sources, settings)?;
    let (overrides, voided) = honoured_overrides(view, overrides, &hashes);
    let fitted = fit::fit_view(view, &photos, &overrides, &settings.fit, &settings.timings)?;
    let ctx = RecordContext {
        fitted: &fitted,
        voided,
        small: too_small(fitted.crop, settings.fit.review.min_crop),
        stages: view.stages.iter().map(|s| s.stage).collect(),
        days: photos.iter().map(|p| p.captured).collect(),
        aligned: settings.fit.align_enabled,
        dates: settings.dates(),
        quality: &settings.quality,
        prefix: several_views.then(|| view.name.clone()),
    };
    let stages = view
        .stages
        .iter()
        .zip(&photos)
        .zip(hashes)
        .enumerate()
        .map(|(i, ((s, photo), hash))| stage_record(i, s, photo, hash, &ctx))
        .collect();
    Ok(Prepared {
        photos,
        crop: fitted.crop,
        stages,
    })
}

/// The `[[align]]` entries that hold for these photos: an approval (`approved`) holds only for
/// the photos it was given for, so one whose before or later photo has changed is dropped and
/// that stage gets a review reason instead (per stage, in series order).
fn honoured_overrides(
    view: &View,
    overrides: &[AlignOverride],
    hashes: &[String],
) -> (Vec<AlignOverride>, Vec<Option<String>>) {
    let mut voided = vec![None; view.stages.len()];
    let mut kept = Vec::new();
    for o in overrides {
        let one = std::slice::from_ref(o);
        let stage = view
            .stages
            .iter()
            .position(|s| fit::find_override(view, s.stage, one).is_some());
        let (Some(when), Some(i)) = (&o.approved, stage.filter(|&i| i > 0)) else {
            kept.push(o.clone());
            continue;
        };
        let same = o.before_hash.as_deref() == Some(hashes[0].as_str())
            && o.photo_hash.as_deref() == Some(hashes[i].as_str());
        if same {
            kept.push(o.clone());
        } else {
            voided[i] = Some(format!(
                "the approval of {when} was for other photos: a photo has changed since, so \
                 review the case again"
            ));
        }
    }
    (kept, voided)
}

/// Why a view whose photos share only `crop` (`[x, y, w, h]`) is not published: shorter than
/// `[review] min_crop` on its short side, it would look blurred and blocky in the gallery.
fn too_small(crop: [u32; 4], min_crop: u32) -> Option<String> {
    let short = crop[2].min(crop[3]);
    (short < min_crop).then(|| {
        format!(
            "too small: the part all photos of this view show is {} × {} pixels, and the gallery \
             needs at least {min_crop} on the short side; use larger photos, or retake the later \
             photo framed like the before photo",
            crop[2], crop[3]
        )
    })
}

/// Every photo of a view decoded (in parallel), with its content hash.
fn decode_view(
    view: &View,
    sources: Vec<Source>,
    settings: &Settings,
) -> Result<(Vec<Photo>, Vec<String>), String> {
    let decoded: Vec<(Photo, String)> = view
        .stages
        .par_iter()
        .zip(sources)
        .map(|(s, src)| {
            let photo = settings.timings.time(Timed::Decode, || {
                ingest::decode_checked(&src.bytes, Path::new(&s.rel), &settings.ingest, src.checked)
            })?;
            Ok((photo, src.hash))
        })
        .collect::<Result<_, PhotoError>>()
        .map_err(|e| e.to_string())?;
    Ok(decoded.into_iter().unzip())
}

/// What every stage record of a view is built from, besides its own photo.
struct RecordContext<'a> {
    fitted: &'a fit::ViewFit,
    /// Per stage: why its approval no longer holds (see [`honoured_overrides`]).
    voided: Vec<Option<String>>,
    /// Why the view's crop is too small to publish (held on its last stage).
    small: Option<String>,
    /// Every stage of the view and its capture day, in series order.
    stages: Vec<Stage>,
    days: Vec<Option<crate::dates::Day>>,
    aligned: bool,
    dates: DateStyle,
    quality: &'a QualityConfig,
    /// The view's name, when the case has several (flags then say "crown after").
    prefix: Option<String>,
}

impl RecordContext<'_> {
    /// Stage `i`'s findings (registration and quality from fitting, then the date checks) as
    /// flags under the clinic's policy.
    fn flags(&self, i: usize) -> Vec<Flag> {
        let stage = self.stages[i].to_string();
        let named = match &self.prefix {
            Some(view) => format!("{view} {stage}"),
            None => stage,
        };
        let min_days = self.quality.min_days_after_session;
        self.fitted.findings[i]
            .iter()
            .cloned()
            .chain(checks::date_findings(&self.stages, &self.days, i, min_days))
            .filter_map(|f| {
                let policy = self.quality.policy(f.code);
                f.flag(&named, policy)
            })
            .collect()
    }
}

/// The one place a stage's record is built: what fitting decided for stage `i` (the matrix and
/// tone fit the renderer will apply), its review reasons, and the dates the gallery may show.
fn stage_record(
    i: usize,
    s: &crate::discover::StageFile,
    photo: &Photo,
    hash: String,
    ctx: &RecordContext,
) -> StageEntry {
    let (fitted, dates) = (ctx.fitted, ctx.dates);
    let (w, h) = photo.pixels.dimensions();
    let flags = ctx.flags(i);
    // Words only: reasons of a case published with --publish-review are public. A stage
    // approved by hand was seen with its reasons: they no longer hold it.
    let approved = fitted.align[i]
        .as_ref()
        .is_some_and(|a| a.approved.is_some());
    let reasons: Vec<String> = flags
        .iter()
        .filter(|f| f.severity == Severity::Review && !approved)
        .map(|f| f.message.clone())
        .chain(ctx.voided[i].clone())
        .chain(fitted.refused[i].clone())
        .chain(ctx.small.clone().filter(|_| i + 1 == ctx.stages.len()))
        .collect();
    let since = ctx.days[0]
        .zip(photo.captured)
        .map(|(b, d)| d.days_since(&b));
    StageEntry {
        stage: s.stage.to_string(),
        source: Some(s.rel.clone()),
        source_hash: hash,
        oriented_size: [w, h],
        orientation: photo.orientation,
        colour: photo.colour.clone(),
        since_before: since
            .filter(|_| dates != DateStyle::None && s.stage != Stage::Before)
            .and_then(crate::dates::interval),
        captured: photo
            .captured
            .filter(|_| dates == DateStyle::Month)
            .map(|d| d.month_key()),
        align: fitted.align[i].clone(),
        tone: fitted.tone[i].clone(),
        framing: (!ctx.aligned && i > 0).then_some(fitted.matrices[i]),
        crop: fitted.crop,
        outputs: Vec::new(),
        review: !reasons.is_empty(),
        reasons,
        flags,
    }
}

impl Prepared {
    fn review_reasons(&self, view: &View) -> Vec<String> {
        self.stages
            .iter()
            .flat_map(|s| {
                s.reasons
                    .iter()
                    .map(move |r| format!("{} {}: {r}", view.name, s.stage))
            })
            .collect()
    }

    fn into_entry(
        self,
        view: &View,
        composites: Vec<OutputEntry>,
        staff: Vec<OutputEntry>,
    ) -> ViewEntry {
        ViewEntry {
            view: view.name.clone(),
            stages: self.stages,
            composites,
            staff,
        }
    }
}

/// Writes rendered files into the output folder, atomically; the square and social images into
/// the staff folder instead when it is given (`[gallery] social_downloads = false`).
struct WriteSink<'a> {
    out: &'a Path,
    staff: Option<&'a Path>,
}

impl Sink for WriteSink<'_> {
    fn accept(&self, rel: &str, kind: Option<Kind>, bytes: &[u8]) -> Result<(), Fatal> {
        match self.staff {
            Some(staff) if kind.is_some_and(Kind::is_share) => {
                disk::write_atomic(staff, rel, bytes)
            }
            _ => disk::write_atomic(self.out, rel, bytes),
        }
    }
}

fn write_view(
    c: &Case,
    view: &View,
    mut prepared: Prepared,
    out: &Path,
    settings: &Settings,
    key: &str,
) -> Result<ViewEntry, Fatal> {
    let plan = crate::manifest::view_plan(
        format!("{}/{}", c.id, view.name),
        key,
        prepared.crop,
        &prepared.stages,
        prepared.photos.iter().map(|p| &p.pixels),
        c.social,
    );
    let staff = (settings.staff.as_deref()).filter(|_| !settings.gallery.gallery.social_downloads);
    let sink = WriteSink { out, staff };
    let written = outputs::render_view(&plan, settings.renderer(), &sink)?;
    for (stage, outs) in prepared.stages.iter_mut().zip(written.stages) {
        stage.outputs = outs;
    }
    let (kept, public): (Vec<OutputEntry>, Vec<OutputEntry>) =
        written.composites.into_iter().partition(|o| {
            staff.is_some()
                && o.kind
                    .as_deref()
                    .is_some_and(|k| outputs::SHARE_KINDS.contains(&k))
        });
    Ok(prepared.into_entry(view, public, kept))
}
