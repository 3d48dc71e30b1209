//! Plans a run, processes cases in parallel (rayon), writes pages and the manifest last, prunes
//! what nothing produces any more, and reports.
//!
//! Order matters for anyone looking at the gallery mid-run: images first, then the pages that
//! use them, then the manifest, then pruning of files no page links to any more.

mod case;
mod fit;
mod report;
pub mod timings;

use std::collections::HashSet;
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::config::Config;
use crate::discover::{self, Case, Problem};
use crate::error::Fatal;
use crate::gallery;
use crate::manifest::{CaseEntry, CaseStatus, Manifest};
use crate::output;

pub use case::Settings;
pub use report::Reporter;

/// What happened to one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Published,
    UpToDate,
    Failed,
    Review,
    NoConsent,
}

#[derive(Clone, Debug, Serialize)]
pub struct CaseReport {
    pub id: String,
    pub outcome: Outcome,
    pub reasons: Vec<String>,
}

/// The run's summary, printed at the end (as JSON with `--json`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub published: usize,
    pub up_to_date: usize,
    pub failed: usize,
    pub review: usize,
    pub no_consent: usize,
    /// Photos decoded in this run (0 when nothing changed).
    pub decoded: usize,
    pub cases: Vec<CaseReport>,
    pub unplaced: Vec<Problem>,
    pub notes: Vec<String>,
    /// CPU seconds per stage, summed over threads.
    pub timings: timings::StageSeconds,
}

impl Summary {
    /// Exit code: 0 all published, 3 some cases failed or need review.
    pub fn exit_code(&self) -> i32 {
        if self.failed > 0 || self.review > 0 {
            3
        } else {
            0
        }
    }
}

/// Options for one run that are not configuration.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Publish cases flagged for review anyway.
    pub publish_review: bool,
}

/// Bring `out` up to date with `input`.
pub fn run(
    input: &Path,
    out: &Path,
    config: &Config,
    options: &RunOptions,
    reporter: &Reporter,
) -> Result<Summary, Fatal> {
    let inventory = discover::discover(input, config.cases.default_consent, &config.own_files())?;
    std::fs::create_dir_all(out).map_err(|e| Fatal::Output {
        path: out.to_owned(),
        source: e,
    })?;
    output::remove_stale_temps(out);
    let (old, note) = Manifest::load(out);
    let settings = Settings::new(config, options);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads())
        .build()
        .map_err(|e| Fatal::Other(format!("cannot start worker threads: {e}")))?;
    reporter.start(inventory.cases.len());
    let results: Vec<(CaseReport, Option<CaseEntry>, usize)> = pool.install(|| {
        inventory
            .cases
            .par_iter()
            .map(|c| {
                let result = process(c, input, out, &settings, &old);
                if let Ok((report, _, _)) = &result {
                    reporter.case_done(report);
                }
                result
            })
            .collect::<Result<_, Fatal>>()
    })?;
    reporter.finish();
    let mut summary = Summary {
        unplaced: inventory.problems,
        notes: note.into_iter().collect(),
        ..Summary::default()
    };
    let mut entries = Vec::new();
    for (report, entry, decoded) in results {
        summary.count(&report);
        summary.decoded += decoded;
        summary.cases.push(report);
        entries.extend(entry);
    }
    summary.timings = settings.timings.snapshot();
    let manifest = Manifest::new(entries);
    gallery::write(out, &manifest, config)?;
    manifest.save(out)?;
    prune(out, &old, &manifest);
    Ok(summary)
}

impl Summary {
    fn count(&mut self, report: &CaseReport) {
        match report.outcome {
            Outcome::Published => self.published += 1,
            Outcome::UpToDate => self.up_to_date += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Review => self.review += 1,
            Outcome::NoConsent => self.no_consent += 1,
        }
    }
}

/// One case: skipped, reused from the last run, or processed.
fn process(
    c: &Case,
    input: &Path,
    out: &Path,
    settings: &Settings,
    old: &Manifest,
) -> Result<(CaseReport, Option<CaseEntry>, usize), Fatal> {
    let report = |outcome, reasons| CaseReport {
        id: c.id.clone(),
        outcome,
        reasons,
    };
    if !c.errors.is_empty() {
        let entry = case::failed_entry(c, String::new(), c.errors.clone());
        return Ok((report(Outcome::Failed, c.errors.clone()), Some(entry), 0));
    }
    if !c.consent {
        let why = "no marketing consent (consent = false): nothing published".to_owned();
        return Ok((report(Outcome::NoConsent, vec![why]), None, 0));
    }
    let sources = match case::read_sources(c, settings) {
        Ok(sources) => sources,
        Err(e) => {
            let reasons = vec![e.to_string()];
            let entry = case::failed_entry(c, String::new(), reasons.clone());
            return Ok((report(Outcome::Failed, reasons), Some(entry), 0));
        }
    };
    let key = settings.case_key(c, &sources);
    if let Some(entry) = old.case(&c.id).filter(|e| is_fresh(e, &key, out)) {
        let entry = case::refresh_meta(entry.clone(), c);
        // A case published with --publish-review keeps counting as needing review.
        let outcome = if entry.review {
            Outcome::Review
        } else {
            Outcome::UpToDate
        };
        return Ok((report(outcome, entry.reasons.clone()), Some(entry), 0));
    }
    let decoded = sources.iter().map(Vec::len).sum();
    let entry = case::render(c, input, out, settings, sources, key)?;
    let outcome = match entry.status {
        CaseStatus::Published => Outcome::Published,
        CaseStatus::Review => Outcome::Review,
        CaseStatus::Failed => Outcome::Failed,
    };
    Ok((report(outcome, entry.reasons.clone()), Some(entry), decoded))
}

/// A previous entry can be reused when its key matches and every file it lists is still there.
fn is_fresh(entry: &CaseEntry, key: &str, out: &Path) -> bool {
    entry.key == key && entry.published && entry.output_paths().all(|p| out.join(p).is_file())
}

/// Remove outputs and pages that the previous run wrote and this one does not use.
fn prune(out: &Path, old: &Manifest, new: &Manifest) {
    let keep: HashSet<&str> = new.output_paths().collect();
    for path in old.output_paths().filter(|p| !keep.contains(p)) {
        output::remove(out, path);
    }
    for entry in &old.cases {
        let still = new.case(&entry.id).is_some_and(|e| e.published);
        if !still {
            gallery::remove_case_pages(out, &entry.id);
        }
    }
}
