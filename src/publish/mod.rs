//! `beforeafter publish OUT --to TARGET`: put the gallery folder on the clinic's website and keep
//! it there in step with the folder: a folder (`file://`), an SFTP host through the system `sftp`
//! client (`sftp://`) or an S3-compatible store (`s3://`), each behind [`store::Store`].
//!
//! Safe to interrupt, in the order `hugo deploy` taught: compare by hash with the record the
//! last publish left on the target ([`plan::RECORD`]), upload images, then pages, then
//! `manifest.json` last, then delete what the gallery no longer has, pages first. Only files
//! this tool put there are ever deleted. The record names every file before it is uploaded
//! (`incoming`) and is saved after each phase and every [`CHECKPOINT`] files, so a publish
//! killed at any point resumes where it stopped and never forgets a file it put there.
//! `max_deletes` refuses a plan that would delete more files, except those of cases whose
//! consent ended (withdrawal receipts in the photo folder name them): those always go, and when
//! the cap refuses, they go alone, before anything else is changed.
//!
//! One library call ([`run`]) with events for a progress display, used by the command, by
//! `watch` after each round and by the staff app.

pub mod live;
mod net;
pub mod plan;
pub mod report;
pub mod state;
mod store;
pub mod target;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use plan::{Plan, RECORD, Record};
pub use target::Target;

/// The record is saved after this many uploads (and after each phase).
pub const CHECKPOINT: usize = 50;

/// Why a publish could not be done.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("publish address {0}")]
    Target(String),
    #[error("{0}")]
    Local(String),
    #[error(
        "{target}: {what}: {cause}; check the address, that the host is up and that your key or credentials let you write there"
    )]
    Remote {
        target: String,
        what: String,
        cause: String,
    },
}

impl PublishError {
    fn local(path: &Path, e: &std::io::Error) -> PublishError {
        PublishError::Local(format!("cannot read {}: {e}", path.display()))
    }
}

/// How to publish (from `[publish]` and the command line).
#[derive(Clone, Debug)]
pub struct Options {
    /// Print the plan; change nothing.
    pub dry_run: bool,
    /// Refuse a plan deleting more files than this (consent withdrawals aside).
    pub max_deletes: usize,
    /// The photo folder: its withdrawal receipts let withdrawals through the cap, and the
    /// outcome is recorded there for `check`. Without it every deletion counts against the cap.
    pub input: Option<PathBuf>,
    /// `Cache-Control` for files whose name carries a content hash (targets that take headers).
    pub cache_hashed: String,
    /// `Cache-Control` for pages, JSON and other files.
    pub cache_other: String,
}

/// What a publish is doing, for a progress display.
#[derive(Debug)]
pub enum Event<'a> {
    Planned(&'a Plan),
    Uploaded {
        path: &'a str,
        done: usize,
        total: usize,
    },
    Deleted {
        path: &'a str,
        withdrawal: bool,
    },
}

/// What a publish did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub target: String,
    pub dry_run: bool,
    pub uploaded: usize,
    pub uploaded_bytes: u64,
    pub unchanged: usize,
    pub deleted: usize,
    /// Public ids of cases whose consent ended and whose files were taken off.
    pub withdrawn: Vec<String>,
    /// Why the deletions beyond withdrawals (and the uploads) were refused, if they were.
    pub refused: Option<String>,
    /// The public ids of the cases the target holds now (by its record).
    pub cases_on_target: BTreeSet<String>,
    pub plan: Plan,
    pub notes: Vec<String>,
}

impl Report {
    /// 0 done, 3 refused by the delete cap (withdrawals done).
    pub fn exit_code(&self) -> i32 {
        if self.refused.is_some() { 3 } else { 0 }
    }
}

/// Publish the gallery in `out` to `to`, calling `on_event` as it goes. Records the outcome
/// (success or failure) in the photo folder when `opts.input` is given.
pub fn run(
    out: &Path,
    to: &str,
    opts: &Options,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Report, PublishError> {
    let target = Target::parse(to)?;
    let result = publish(out, &target, opts, on_event);
    let Some(input) = opts.input.as_ref().filter(|_| !opts.dry_run) else {
        return result;
    };
    let now = crate::dates::utc_now_seconds();
    let note = state::save(input, &target.display(), |o| match &result {
        Ok(report) => {
            o.ok_at = Some(now);
            o.cases = report.cases_on_target.clone();
            o.error = None;
            o.failed_at = None;
        }
        Err(e) => {
            o.error = Some(e.to_string());
            o.failed_at = Some(now);
        }
    });
    result.map(|mut r| {
        r.notes.extend(note);
        r
    })
}

fn publish(
    out: &Path,
    target: &Target,
    opts: &Options,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Report, PublishError> {
    let local = plan::local_files(out)?;
    let withdrawn: BTreeSet<String> = match &opts.input {
        Some(input) => state::receipts(input).into_iter().map(|r| r.case).collect(),
        None => BTreeSet::new(),
    };
    let mut sync = Sync {
        store: store::open(target)?,
        target: target.clone(),
        opts: opts.clone(),
        out: out.to_owned(),
        record: Record::default(),
    };
    sync.record = sync.read_record()?;
    let plan = plan::make(&local, &sync.record, &withdrawn);
    on_event(&Event::Planned(&plan));
    let mut report = Report {
        target: target.display(),
        dry_run: opts.dry_run,
        unchanged: plan.unchanged,
        ..Report::default()
    };
    if !opts.dry_run {
        sync.apply(&plan, &mut report, on_event)?;
    } else if plan.deletes.len() > opts.max_deletes {
        report.refused = Some(cap_message(plan.deletes.len(), opts.max_deletes));
    }
    report.cases_on_target = sync.record.cases();
    report.plan = plan;
    Ok(report)
}

fn cap_message(deletes: usize, max: usize) -> String {
    format!(
        "{deletes} file(s) would be deleted from the website, more than the limit of {max}: \
         nothing was uploaded or deleted except withdrawn cases. If the gallery really lost that \
         much, publish again with --max-deletes {deletes} (or raise [publish] max_deletes)"
    )
}

/// One publish in progress.
struct Sync {
    store: Box<dyn store::Store>,
    target: Target,
    opts: Options,
    out: PathBuf,
    record: Record,
}

impl Sync {
    fn remote(&self, what: &str, e: impl std::fmt::Display) -> PublishError {
        PublishError::Remote {
            target: self.target.display(),
            what: what.to_owned(),
            cause: e.to_string(),
        }
    }

    /// A store failure, naming the file it concerned (or `what` when it concerned none).
    fn failed(&self, verb: &str, what: &str, f: store::Failed) -> PublishError {
        match f.path {
            Some(path) => self.remote(&format!("{verb} {path}"), f.cause),
            None => self.remote(what, f.cause),
        }
    }

    fn read_record(&mut self) -> Result<Record, PublishError> {
        match self.store.read(RECORD) {
            Ok(Some(bytes)) => Record::parse(&bytes)
                .map_err(|e| self.remote(&format!("{RECORD} is not this tool's record"), e)),
            Ok(None) => {
                self.check_empty()?;
                Ok(Record::default())
            }
            Err(f) => Err(self.failed("cannot read", &format!("cannot read {RECORD}"), f)),
        }
    }

    /// Before the first publish: a folder with files of someone else's is refused, since a
    /// gallery page (`index.html`) would replace theirs.
    fn check_empty(&mut self) -> Result<(), PublishError> {
        let listed = self.store.list();
        let entries =
            listed.map_err(|f| self.failed("cannot list", "cannot list the folder", f))?;
        let theirs: Vec<String> = entries
            .into_iter()
            .filter(|p| !p.starts_with(".beforeafter/"))
            .take(3)
            .collect();
        if theirs.is_empty() {
            return Ok(());
        }
        Err(self.remote(
            "the folder already has files this tool did not put there",
            format!(
                "{} ...: publish the gallery into a folder of its own (such as \
                 /gallery/), or empty this one first",
                theirs.join(", ")
            ),
        ))
    }

    /// The record as it stands, as a file to write.
    fn record_file(&self) -> store::Put {
        store::Put {
            path: RECORD.to_owned(),
            bytes: self.record.to_bytes(),
            content_type: "application/json",
            cache_control: self.target.takes_headers().then(|| "no-store".to_owned()),
        }
    }

    fn save_record(&mut self) -> Result<(), PublishError> {
        let record = self.record_file();
        (self.store.put(&[], Some(&record)))
            .map_err(|f| self.failed("cannot write", &format!("cannot write {RECORD}"), f))
    }

    fn apply(
        &mut self,
        plan: &Plan,
        report: &mut Report,
        on_event: &mut dyn FnMut(&Event<'_>),
    ) -> Result<(), PublishError> {
        self.delete(&plan.withdrawals, true, report, on_event)?;
        report.withdrawn = plan.withdrawn_cases.clone();
        if plan.deletes.len() > self.opts.max_deletes {
            report.refused = Some(cap_message(plan.deletes.len(), self.opts.max_deletes));
            return Ok(());
        }
        if !plan.uploads.is_empty() {
            (self.record.incoming).extend(plan.uploads.iter().map(|u| u.path.clone()));
            self.save_record()?;
            self.upload_all(plan, report, on_event)?;
        }
        self.delete(&plan.deletes, false, report, on_event)
    }

    /// Each phase in batches of the store's size; the record goes with the batch that ends a
    /// phase or reaches [`CHECKPOINT`] files since it was last saved, after that batch's files.
    fn upload_all(
        &mut self,
        plan: &Plan,
        report: &mut Report,
        on_event: &mut dyn FnMut(&Event<'_>),
    ) -> Result<(), PublishError> {
        let total = plan.uploads.len();
        let mut since_save = 0;
        let phases = (plan.uploads).chunk_by(|a, b| plan::phase(&a.path) == plan::phase(&b.path));
        for phase in phases {
            let batches: Vec<&[plan::Upload]> = phase.chunks(self.store.batch()).collect();
            for (i, batch) in batches.iter().enumerate() {
                let mut files = Vec::with_capacity(batch.len());
                for u in *batch {
                    files.push(self.file(u)?);
                }
                for (u, f) in batch.iter().zip(&files) {
                    self.record.incoming.remove(&u.path);
                    let hash = blake3::hash(&f.bytes).to_hex().to_string();
                    self.record.files.insert(u.path.clone(), hash);
                }
                since_save += batch.len();
                let save = since_save >= CHECKPOINT || i + 1 == batches.len();
                let record = save.then(|| self.record_file());
                (self.store.put(&files, record.as_ref()))
                    .map_err(|f| self.failed("cannot upload", "an upload stopped", f))?;
                if save {
                    since_save = 0;
                }
                for f in &files {
                    report.uploaded += 1;
                    report.uploaded_bytes += f.bytes.len() as u64;
                    on_event(&Event::Uploaded {
                        path: &f.path,
                        done: report.uploaded,
                        total,
                    });
                }
            }
        }
        Ok(())
    }

    /// The file to upload for `u`, read now: what goes up is what is recorded, even if the file
    /// changed since it was planned.
    fn file(&self, u: &plan::Upload) -> Result<store::Put, PublishError> {
        let bytes = std::fs::read(self.out.join(&u.path)).map_err(|e| {
            self.remote(
                &format!("cannot upload {}", u.path),
                format!("cannot read it in the gallery folder: {e}"),
            )
        })?;
        let (content_type, cache_control) = self.headers(&u.path);
        Ok(store::Put {
            path: u.path.clone(),
            bytes,
            content_type,
            cache_control,
        })
    }

    /// `(content type, cache control)` for a file.
    fn headers(&self, path: &str) -> (&'static str, Option<String>) {
        let kind = crate::http::content_type(Path::new(path));
        if !self.target.takes_headers() {
            return (kind, None);
        }
        let cache = if is_hashed(path) {
            &self.opts.cache_hashed
        } else {
            &self.opts.cache_other
        };
        (kind, Some(cache.clone()))
    }

    /// Delete `paths` and the folders that leaves without a file of the gallery's, and save
    /// the record saying so (one step for the store: one SFTP session).
    fn delete(
        &mut self,
        paths: &[String],
        withdrawal: bool,
        report: &mut Report,
        on_event: &mut dyn FnMut(&Event<'_>),
    ) -> Result<(), PublishError> {
        if paths.is_empty() {
            return Ok(());
        }
        for path in paths {
            self.record.files.remove(path);
            self.record.incoming.remove(path);
        }
        let folders = self.emptied_folders(paths);
        let record = self.record_file();
        (self.store.delete(paths, &folders, Some(&record)))
            .map_err(|f| self.failed("cannot delete", "the deletions stopped", f))?;
        for path in paths {
            report.deleted += 1;
            on_event(&Event::Deleted { path, withdrawal });
        }
        Ok(())
    }

    /// Folders (a withdrawn case's `case-3f9a1c/`) that the deletions left with nothing of the
    /// gallery's, deepest first. The store removes a folder only when it is empty, so anything
    /// else in it keeps it; S3 has no folders.
    fn emptied_folders(&self, deleted: &[String]) -> Vec<String> {
        let mut folders: BTreeSet<&str> = BTreeSet::new();
        for path in deleted {
            folders.extend(store::parents(path));
        }
        let mut folders: Vec<&str> = folders.into_iter().collect();
        folders.sort_by_key(|f| std::cmp::Reverse(f.matches('/').count()));
        let ours = || self.record.files.keys().chain(&self.record.incoming);
        folders
            .into_iter()
            .filter(|f| !f.starts_with('.') && !ours().any(|p| p.starts_with(&format!("{f}/"))))
            .map(str::to_owned)
            .collect()
    }
}

/// A name carrying a content hash (`front-after-640.1a2b3c4d.jpg`): never changes content.
pub fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut parts = name.rsplit('.');
    let (_ext, hash) = (parts.next(), parts.next());
    hash.is_some_and(|h| h.len() >= 8 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        && parts.next().is_some()
}
