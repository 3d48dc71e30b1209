//! Plans a run, processes cases in parallel (rayon), writes pages and the manifest last, prunes
//! what nothing produces any more, and reports.
//!
//! Order matters for anyone looking at the gallery mid-run: images first, then the pages that
//! use them, then the manifest, then pruning of files no page links to any more.
//!
//! A run is two halves: every case processed (images written), then [`publish`] (pages,
//! manifest, pruning). `shard` runs them apart, on many machines: `batch --shard I/N` the first
//! for its cases, `merge` the second over every shard's record.

mod case;
mod checks;
mod fit;
mod report;
pub mod settings;
mod shard;
mod source;
pub mod staff;
pub mod timings;
pub mod withdrawals;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::discover::{self, Case, Problem};
use crate::disk;
use crate::error::{ExitCode, Fatal};
use crate::flags::Flag;
use crate::gallery;
use crate::manifest::{CaseEntry, CaseStatus, Manifest};

pub use fit::{
    Estimator, FitParams, NEEDS_CONFIRMATION, NOT_LINED_UP, PairFit, Working, fit_pair,
    working_copy,
};
pub use report::Reporter;
pub use settings::{Overrides, Settings};
pub use shard::{Shard, merge, run_shard};
pub use source::Source;

/// What happened to one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Published,
    UpToDate,
    Failed,
    Review,
    NoConsent,
    /// Left as it was this round (watch mode): a photo is still being written, or a stop was asked.
    Waiting,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseReport {
    pub id: String,
    pub outcome: Outcome,
    /// Published although flagged for review (`--publish-review`): its page says the alignment
    /// was not confirmed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub review_overridden: bool,
    pub reasons: Vec<String>,
    /// Every quality flag of the case's photos, warnings included (see `flags`).
    pub flags: Vec<Flag>,
}

/// The run's summary, printed at the end (as JSON with `--json`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub published: usize,
    pub up_to_date: usize,
    pub failed: usize,
    pub review: usize,
    pub no_consent: usize,
    /// Of the published and up-to-date cases, those published although flagged for review.
    pub review_overridden: usize,
    /// Cases left as they were this round (watch mode only).
    pub waiting: usize,
    /// Photos decoded in this run (0 when nothing changed).
    pub decoded: usize,
    pub cases: Vec<CaseReport>,
    pub unplaced: Vec<Problem>,
    pub notes: Vec<String>,
    /// CPU seconds per stage, summed over threads (and over shards, for a merge).
    pub timings: timings::StageSeconds,
    /// Encode CPU seconds by kind of file and format ("photo webp", "thumb jpeg"), summed over
    /// threads; empty for a merge.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub encode_split: std::collections::BTreeMap<String, f64>,
    /// The shard this run processed ("2/3"), for `batch --shard`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Withdrawal receipts this run wrote (`<input>/.beforeafter/withdrawals/`): cases it took
    /// off the website, or whose social images it removed, because of their consent.
    pub receipts: Vec<PathBuf>,
    /// Consent ending within `[cases] expiry_warning_days`.
    pub expiring: Vec<Expiring>,
}

/// A published case whose consent ends soon.
#[derive(Clone, Debug, Serialize)]
pub struct Expiring {
    pub id: String,
    /// The case folder (private: the summary is for the clinic's terminal).
    pub folder: String,
    /// "2029-03-14": the last day it is published.
    pub expires: String,
    pub days_left: i64,
}

/// Cases whose consent ends within `days` (the last day included), soonest first.
#[must_use]
pub fn expiring(cases: &[Case], days: u32) -> Vec<Expiring> {
    let mut soon: Vec<Expiring> = cases
        .iter()
        .filter_map(|c| {
            let left = c.decision.days_left.filter(|d| *d <= i64::from(days))?;
            let expires = crate::consent::iso(crate::consent::expires(c.meta.consent.as_ref())?);
            Some(Expiring {
                id: c.id.clone(),
                folder: c.source.clone(),
                expires,
                days_left: left,
            })
        })
        .collect();
    soon.sort_by_key(|e| e.days_left);
    soon
}

impl Summary {
    /// Done when all are published, Attention when some cases failed or need review (also when
    /// published anyway with `--publish-review`: nobody has confirmed them yet).
    #[must_use]
    pub fn outcome(&self) -> ExitCode {
        ExitCode::attention_if(self.failed > 0 || self.review > 0 || self.review_overridden > 0)
    }
}

/// Options for one run that are not configuration.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Publish cases flagged for review anyway (`--publish-review`).
    pub publish_review: bool,
    /// `--jobs`: cases processed at once, over the configuration's `jobs`.
    pub jobs: Option<usize>,
    /// Watch mode: the photos known to be complete. A case with any other photo is left as it was
    /// this round (its previous manifest entry is kept, so nothing of it is pruned).
    pub settled: Option<Arc<Settled>>,
    /// Watch mode: once set, cases not yet started are left as they were.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl RunOptions {
    /// What these options set over the configuration, for [`Settings::resolve`].
    #[must_use]
    pub fn overrides(&self) -> Overrides {
        Overrides {
            publish_review: self.publish_review,
            jobs: self.jobs,
        }
    }
}

/// A file's size and modification time: what "unchanged" means without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStamp {
    pub len: u64,
    pub modified: Option<SystemTime>,
}

impl FileStamp {
    pub fn of(path: &Path) -> Option<FileStamp> {
        let m = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            len: m.len(),
            modified: m.modified().ok(),
        })
    }
}

/// Photos a watcher has seen complete: their stamp then, and their BLAKE3 hash when known (so an
/// unchanged case is recognised without reading its photos again).
#[derive(Clone, Debug, Default)]
pub struct Settled {
    pub files: HashMap<PathBuf, (FileStamp, Option<String>)>,
}

/// Bring `out` up to date with `input`: every case processed, then [`publish`]. A sharded batch
/// runs the same two halves apart: [`run_shard`] the first for its cases, [`merge`] the second.
pub fn run(
    input: &Path,
    out: &Path,
    config: &Config,
    options: &RunOptions,
    reporter: &Reporter,
) -> Result<Summary, Fatal> {
    let start = Start::new(input, out, config, options.overrides(), None)?;
    let cases = &start.inventory.cases;
    let results = process_all(cases, out, &start.settings, &start.old, options, reporter)
        .inspect_err(|_| clean_after_failure(input, out))?;
    let mut summary = start.summary();
    summary.timings = start.settings.timings.snapshot();
    summary.encode_split = start.settings.timings.encode_split();
    publish(input, out, &start, results, summary)
}

/// What every run starts from: the cases found, the settings resolved once, and the previous
/// records to reuse and prune by (the manifest with the private records, a shard's own last
/// record, and the cases interrupted runs finished).
struct Start {
    inventory: discover::Inventory,
    id_key: crate::ids::IdKey,
    settings: Settings,
    old: Manifest,
    notes: Vec<String>,
    /// The clinic's signing key (`beforeafter keys new`), for whole runs: loaded first, so a
    /// missing password refuses the run before anything is written.
    signer: Option<crate::sign::Signer>,
}

impl Start {
    fn new(
        input: &Path,
        out: &Path,
        config: &Config,
        cli: Overrides,
        shard: Option<Shard>,
    ) -> Result<Start, Fatal> {
        // A bad BEFOREAFTER_TODAY refuses the run: consent must not be decided for a guess.
        crate::consent::today().map_err(Fatal::Other)?;
        let signer = match shard {
            None => crate::sign::Signer::load(input)?,
            Some(_) => None,
        };
        let (rules, id_note) = discover::Rules::new(config, input);
        let inventory = discover::discover(input, &rules, &config.own_files())?;
        std::fs::create_dir_all(out).map_err(|e| Fatal::Output {
            path: out.to_owned(),
            cause: e,
        })?;
        // Other shards' temp files may be in flight: only a whole run removes stale ones.
        if shard.is_none() {
            disk::remove_stale_temps(out);
        }
        let (mut old, notes) = Manifest::load(out, input);
        shard::previous(input, out, shard, &mut old);
        resume(&mut old, out);
        let mut settings = Settings::resolve(config, cli);
        settings.staff = Some(staff::dir(input));
        settings.gallery.gallery.public_key = signer.as_ref().map(|s| s.public_text.clone());
        Ok(Start {
            inventory,
            id_key: rules.id_key,
            settings,
            old,
            notes: notes.into_iter().chain(id_note).collect(),
            signer,
        })
    }

    /// A summary with what discovery found, before any case is counted.
    fn summary(&self) -> Summary {
        let days = self.settings.cases.expiry_warning_days;
        Summary {
            unplaced: self.inventory.problems.clone(),
            notes: self.notes.clone(),
            expiring: expiring(&self.inventory.cases, days),
            ..Summary::default()
        }
    }
}

/// The second half of every whole run (batch, watch round, merge), from every case's result
/// in discovery order: counted, then the watermark asset, pages and manifest written, and what
/// nothing uses any more pruned. The output folder's journals and shard records are then
/// forgotten: the manifest owns everything.
fn publish(
    input: &Path,
    out: &Path,
    start: &Start,
    results: Vec<Processed>,
    mut summary: Summary,
) -> Result<Summary, Fatal> {
    let settings = &start.settings;
    let mut entries = Vec::new();
    for (report, entry, decoded) in results {
        summary.count(&report);
        summary.decoded += decoded;
        summary.cases.push(report);
        entries.extend(entry);
    }
    let manifest = Manifest::new(entries);
    let base_url = settings.gallery.gallery.base_url();
    let (receipts, failed) =
        withdrawals::write(input, &start.old, &start.inventory.cases, &base_url);
    summary.receipts = receipts;
    summary.notes.extend(failed);
    if let Some((rel, png)) = &settings.watermark_asset {
        disk::write_if_changed(out, rel, png)?;
    }
    // What was public until now, for the publication log; the public key before the pages.
    let before = std::fs::read(out.join(crate::manifest::FILE_NAME)).ok();
    if let Some(signer) = &start.signer {
        signer.publish_key(out)?;
    }
    gallery::write(out, &manifest, &settings.gallery)?;
    summary
        .notes
        .extend(manifest.save(out, input, &settings.render)?);
    let logged = match &start.signer {
        Some(signer) => signer.record(out, input, before.as_deref())?,
        None => crate::sign::record_unsigned(out, input, before.as_deref())?,
    };
    summary.notes.extend(logged);
    prune(out, &start.old, &manifest);
    staff::sweep(&staff::dir(input), &manifest);
    let kept = kept_files(&manifest, settings);
    prune_journal(out, &kept);
    crate::journal::settle(out, kept.iter().map(String::as_str));
    shard::forget(input, out);
    Ok(summary)
}

/// Every case, in parallel on `jobs` threads. Each runs behind a panic boundary: a bug that
/// panics fails that case ("internal error, please report") and the others go on.
fn process_all(
    cases: &[Case],
    out: &Path,
    settings: &Settings,
    old: &Manifest,
    options: &RunOptions,
    reporter: &Reporter,
) -> Result<Vec<(CaseReport, Option<CaseEntry>, usize)>, Fatal> {
    let pool = worker_pool(settings.threads)?;
    let old = &old.by_id();
    reporter.start(cases.len());
    let results = pool.install(|| {
        cases
            .par_iter()
            .map(|c| {
                let guarded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    process(c, out, settings, old, options)
                }));
                let result = guarded.unwrap_or_else(|panic| Ok(internal_error(c, &panic)));
                if let Ok((report, entry, _)) = &result {
                    reporter.case_done(report);
                    if let Some(e) = entry
                        .as_ref()
                        .filter(|_| report.outcome == Outcome::Published)
                    {
                        crate::journal::finished(out, &e.public());
                    }
                }
                result
            })
            .collect::<Result<_, Fatal>>()
    });
    reporter.finish();
    results
}

/// A case whose processing panicked: failed, with what to report.
fn internal_error(c: &Case, panic: &Box<dyn std::any::Any + Send>) -> Processed {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown");
    let why =
        format!("internal error, please report it (with the photos if you can share them): {what}");
    failed(c, vec![why])
}

/// Cases an interrupted run finished (recorded as they finished) replace the older records, so
/// they are reused rather than redone.
fn resume(old: &mut Manifest, out: &Path) {
    old.update(crate::journal::finished_cases::<CaseEntry>(out));
}

impl Summary {
    fn count(&mut self, report: &CaseReport) {
        self.review_overridden += usize::from(report.review_overridden);
        match report.outcome {
            Outcome::Published => self.published += 1,
            Outcome::UpToDate => self.up_to_date += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Review => self.review += 1,
            Outcome::NoConsent => self.no_consent += 1,
            Outcome::Waiting => self.waiting += 1,
        }
    }
}

/// The rayon pool a run's cases are processed on (`jobs` threads).
fn worker_pool(threads: usize) -> Result<rayon::ThreadPool, Fatal> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Fatal::Other(format!("cannot start worker threads: {e}")))
}

/// A case's id and its flags, or why it cannot be processed.
pub type Assessed = (String, Result<Vec<Flag>, String>);

/// `check`: what a run would find about each case that would be processed (consent, no
/// discovery error), decoded and fitted in parallel, nothing written: its flags, or why it fails.
pub fn assess(cases: &[&Case], config: &Config) -> Result<Vec<Assessed>, Fatal> {
    let settings = Settings::new(config, false);
    let pool = worker_pool(settings.threads)?;
    Ok(pool.install(|| {
        cases
            .par_iter()
            .filter(|c| c.consent && c.errors.is_empty())
            .map(|c| (c.id.clone(), case::assess_case(c, &settings)))
            .collect()
    }))
}

/// What would still hold the case from folder `source` of `input` if its case.toml said `meta`
/// (see [`case::vet_case`]): the review app's check before it saves a decision.
pub fn vet_decision(
    input: &Path,
    config: &Config,
    source: &str,
    meta: crate::casefile::CaseMeta,
) -> Result<Vec<String>, String> {
    let (rules, _) = discover::Rules::new(config, input);
    let inventory =
        discover::discover(input, &rules, &config.own_files()).map_err(|e| e.to_string())?;
    let Some(mut c) = inventory.cases.into_iter().find(|c| c.source == source) else {
        return Err("the case is no longer in the input folder; reload the page".into());
    };
    c.meta = meta;
    case::vet_case(&c, &Settings::new(config, false))
}

/// The public id a run gives the case from folder `source` of `input`; `None` when no case is
/// found there (every photo held back, say).
#[must_use]
pub fn case_id(input: &Path, config: &Config, source: &str) -> Option<String> {
    let (rules, _) = discover::Rules::new(config, input);
    let inventory = discover::discover(input, &rules, &config.own_files()).ok()?;
    inventory
        .cases
        .into_iter()
        .find(|c| c.source == source)
        .map(|c| c.id)
}

/// A case's report, its record (if it has one to keep) and how many photos were decoded.
type Processed = (CaseReport, Option<CaseEntry>, usize);

/// The previous records by case id.
type Known<'a> = HashMap<&'a str, &'a CaseEntry>;

fn case_report(c: &Case, outcome: Outcome, reasons: Vec<String>) -> CaseReport {
    CaseReport {
        id: c.id.clone(),
        outcome,
        review_overridden: false,
        reasons,
        flags: Vec::new(),
    }
}

/// One case: skipped, reused from the last run, or processed.
fn process(
    c: &Case,
    out: &Path,
    settings: &Settings,
    old: &Known,
    options: &RunOptions,
) -> Result<Processed, Fatal> {
    let known = match admit(c, old, options) {
        Ok(known) => known,
        Err(done) => return Ok(*done),
    };
    if let Some(hashes) = &known {
        let sources: Vec<Vec<Source>> = hashes
            .iter()
            .map(|v| v.iter().cloned().map(Source::known).collect())
            .collect();
        if let Some(reused) = reuse(old, c, &settings.case_key(c, &sources), out, settings) {
            return Ok(reused);
        }
    }
    let mut sources = match source::read_sources(c, &settings.ingest) {
        Ok(sources) => sources,
        Err(e) => return Ok(failed(c, vec![e.to_string()])),
    };
    // The watcher checked each of these photos whole as it settled; unchanged since, the
    // decoder need not check it again.
    if let Some(hashes) = &known {
        source::mark_checked(&mut sources, hashes);
    }
    let key = settings.case_key(c, &sources);
    if let Some(reused) = reuse(old, c, &key, out, settings) {
        return Ok(reused);
    }
    let decoded = sources.iter().map(Vec::len).sum();
    let entry = case::run_case(c, out, settings, sources, key)?;
    let outcome = match entry.status {
        _ if entry.published => Outcome::Published,
        CaseStatus::Published => Outcome::Published,
        CaseStatus::Review => Outcome::Review,
        CaseStatus::Failed => Outcome::Failed,
    };
    let mut r = case_report(c, outcome, entry.reasons.clone());
    r.review_overridden = entry.published && entry.review;
    r.flags = entry.flags();
    Ok((r, Some(entry), decoded))
}

/// A case that failed before any photo was decoded, recorded with its reasons.
fn failed(c: &Case, reasons: Vec<String>) -> Processed {
    let entry = case::failed_entry(c, String::new(), reasons.clone());
    (case_report(c, Outcome::Failed, reasons), Some(entry), 0)
}

/// Whether a case goes on to be read: `Err` with its result when it stops here (no consent,
/// still settling in watch mode, discovery errors), else the photos' hashes when the watcher
/// knows them all.
fn admit(
    c: &Case,
    old: &Known,
    options: &RunOptions,
) -> Result<Option<Vec<Vec<String>>>, Box<Processed>> {
    // Consent first, before anything else (watch mode's waiting included): a case without it
    // is recorded nowhere, even when it also has a problem, and what it had published is pruned.
    // An unreadable case.toml fails the case (recorded only in the private held records).
    if c.consent_unknown {
        return Err(Box::new(failed(c, c.errors.clone())));
    }
    if !c.consent {
        let why = c.decision.why.clone().unwrap_or_default();
        let report = case_report(c, Outcome::NoConsent, vec![why]);
        return Err(Box::new((report, None, 0)));
    }
    let known = settled_hashes(c, options).map_err(|why| {
        let kept = old.get(c.id.as_str()).map(|e| (*e).clone());
        Box::new((case_report(c, Outcome::Waiting, vec![why]), kept, 0))
    })?;
    if !c.errors.is_empty() {
        return Err(Box::new(failed(c, c.errors.clone())));
    }
    Ok(known)
}

/// Watch mode: `Err(why)` when the case must be left as it was this round; otherwise every
/// photo's hash per view and stage when the watcher knows them all (`None` when any must be read).
fn settled_hashes(c: &Case, options: &RunOptions) -> Result<Option<Vec<Vec<String>>>, String> {
    if options
        .cancel
        .as_ref()
        .is_some_and(|f| f.load(Ordering::Relaxed))
    {
        return Err("stopping: left as it was".into());
    }
    let Some(settled) = &options.settled else {
        return Ok(None);
    };
    let mut hashes = Vec::new();
    let mut all_known = true;
    for view in &c.views {
        let mut row = Vec::new();
        for s in &view.stages {
            match settled.files.get(&s.path) {
                Some((stamp, hash)) if FileStamp::of(&s.path) == Some(*stamp) => match hash {
                    Some(h) => row.push(h.clone()),
                    None => all_known = false,
                },
                _ => {
                    return Err(format!(
                        "{}: still being written or just changed; left as it was",
                        s.rel
                    ));
                }
            }
        }
        hashes.push(row);
    }
    Ok(all_known.then_some(hashes))
}

/// The previous run's entry for `c`, with today's captions, when it can stand: its key matches
/// (same photos, same settings, `--publish-review` included) and every file it lists is still
/// there. A case held for review lists no files and is reused too, since redoing it would reach
/// the same verdict (in watch mode it would otherwise be decoded and aligned again every round).
/// A failed case is always tried again: its cause may be a limit or a passing read error.
fn reuse(old: &Known, c: &Case, key: &str, out: &Path, settings: &Settings) -> Option<Processed> {
    let entry = old.get(c.id.as_str())?;
    let held = entry.status == CaseStatus::Review && !entry.published;
    let fresh = entry.key == key
        && (entry.published || held)
        && entry.output_paths().all(|p| out.join(p).is_file());
    if !fresh {
        return None;
    }
    let mut entry = case::refresh_meta((*entry).clone(), c);
    // The staff's square and social images must be there too, when the case makes them.
    let staff = (settings.staff.as_deref()).filter(|_| !settings.gallery.gallery.social_downloads);
    let expected = c.social && settings.render.composites.is_some() && entry.published;
    let mark = settings.watermark.as_ref();
    let watermarked = |w: u32| mark.is_some_and(|m| m.applies_to(w));
    if staff.is_some_and(|dir| !staff::present(&mut entry, dir, expected, &watermarked)) {
        return None;
    }
    let outcome = if entry.published {
        Outcome::UpToDate
    } else {
        Outcome::Review
    };
    let report = CaseReport {
        id: c.id.clone(),
        outcome,
        // A case published with --publish-review keeps being counted as unconfirmed.
        review_overridden: entry.published && entry.review,
        reasons: entry.reasons.clone(),
        flags: entry.flags(),
    };
    Some((report, Some(entry), 0))
}

/// What this run's gallery uses: every published case's images and page, the index pages,
/// `gallery.json`, `embed.js`, the manifest and the watermark asset.
fn kept_files(new: &Manifest, settings: &Settings) -> HashSet<String> {
    let mut keep: HashSet<String> = new.output_paths().map(str::to_owned).collect();
    for c in new.cases.iter().filter(|c| c.published) {
        keep.insert(format!("{}/index.html", c.id));
    }
    keep.extend(
        [
            "gallery.json",
            crate::gallery::EMBED_FILE,
            crate::manifest::FILE_NAME,
        ]
        .map(String::from),
    );
    let published = new.cases.iter().filter(|c| c.published).count();
    keep.extend(crate::gallery::index_files(
        published,
        settings.gallery.gallery.page_size,
    ));
    keep.extend(settings.watermark_asset.iter().map(|(p, _)| p.clone()));
    if settings.gallery.gallery.public_key.is_some() {
        keep.extend(crate::sign::PUBLIC_FILES.map(String::from));
        keep.insert(crate::gallery::SIGNATURE_PAGE.to_owned());
    }
    keep
}

/// Remove every file the journal says a run wrote (finished or not: killed, crashed, out of
/// disk) that this run's gallery does not use (`kept`). Only journaled files are candidates,
/// so files the tool did not write are never touched.
/// The gallery manages `assets/` itself (the style sheet, script, icon and logo), except
/// watermarks of earlier settings.
fn prune_journal(out: &Path, kept: &HashSet<String>) {
    for rel in crate::journal::written(out) {
        let asset = rel.starts_with("assets/") && !rel.starts_with("assets/watermark.");
        if !kept.contains(&rel) && !asset {
            disk::remove(out, &rel);
        }
    }
}

/// A run that failed before its pages were written (a full disk, say) removes the images it
/// wrote that the published gallery (the manifest still in `out`) does not use, so the disk is
/// left with the room it had; pages and assets stay, since the live gallery may use them. What
/// this cannot remove (a kill) stays in the journal for the next run.
fn clean_after_failure(input: &Path, out: &Path) {
    let (published, _) = Manifest::load(out, input);
    let used: HashSet<&str> = published.output_paths().collect();
    for rel in crate::journal::written(out) {
        // A case's images sit in its folder; pages, the feed and `assets/` are left alone.
        let image = rel.contains('/') && !rel.starts_with("assets/") && !rel.ends_with(".html");
        if image && !used.contains(rel.as_str()) {
            disk::remove(out, &rel);
        }
    }
}

/// Remove outputs and pages that the previous run wrote and this one does not use.
fn prune(out: &Path, old: &Manifest, new: &Manifest) {
    let keep: HashSet<&str> = new.output_paths().collect();
    for path in old.output_paths().filter(|p| !keep.contains(p)) {
        disk::remove(out, path);
    }
    let new = new.by_id();
    for entry in &old.cases {
        let still = new.get(entry.id.as_str()).is_some_and(|e| e.published);
        if !still {
            gallery::remove_case_pages(out, &entry.id);
        }
    }
}
