//! `beforeafter publish OUT --to TARGET`: put the gallery folder on the clinic's website and keep
//! it there in step with the folder, through Apache OpenDAL (`file://`, `sftp://`, `s3://`).
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
pub mod plan;
pub mod report;
pub mod state;
pub mod target;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use opendal::Operator;
use serde::Serialize;

pub use plan::{Plan, RECORD, Record};
pub use target::Target;

/// The record is saved after this many uploads (and after each phase).
pub const CHECKPOINT: usize = 50;
/// Uploads in flight at once.
const PARALLEL: usize = 8;

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

/// Rustls's ring provider, once per process (the HTTP clients are built without one, so
/// that aws-lc's C build stays out of the program).
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    opendal_http_transport_reqwest::install_default();
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
    install_tls();
    let op = target.operator()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PublishError::Local(format!("cannot start the network runtime: {e}")))?;
    let mut sync = Sync {
        op,
        target: target.clone(),
        opts: opts.clone(),
        out: out.to_owned(),
        record: Record::default(),
    };
    runtime.block_on(async {
        sync.record = sync.read_record().await?;
        let plan = plan::make(&local, &sync.record, &withdrawn);
        on_event(&Event::Planned(&plan));
        let mut report = Report {
            target: target.display(),
            dry_run: opts.dry_run,
            unchanged: plan.unchanged,
            ..Report::default()
        };
        if !opts.dry_run {
            sync.apply(&plan, &mut report, on_event).await?;
        } else if plan.deletes.len() > opts.max_deletes {
            report.refused = Some(cap_message(plan.deletes.len(), opts.max_deletes));
        }
        report.cases_on_target = sync.record.cases();
        report.plan = plan;
        Ok(report)
    })
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
    op: Operator,
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

    async fn read_record(&self) -> Result<Record, PublishError> {
        match self.op.read(RECORD).await {
            Ok(buf) => Record::parse(&buf.to_vec())
                .map_err(|e| self.remote(&format!("{RECORD} is not this tool's record"), e)),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => {
                self.check_empty().await?;
                Ok(Record::default())
            }
            Err(e) => Err(self.remote(&format!("cannot read {RECORD}"), e)),
        }
    }

    /// Before the first publish: a folder with files of someone else's is refused, since a
    /// gallery page (`index.html`) would replace theirs.
    async fn check_empty(&self) -> Result<(), PublishError> {
        let listed = self.op.list_with("").recursive(true).await;
        let entries = match listed {
            Ok(entries) => entries,
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.remote("cannot list the folder", e)),
        };
        let theirs: Vec<String> = entries
            .iter()
            .map(|e| e.path().to_owned())
            .filter(|p| !p.ends_with('/') && !p.starts_with(".beforeafter/"))
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

    async fn save_record(&self) -> Result<(), PublishError> {
        self.op
            .write_with(RECORD, self.record.to_bytes())
            .content_type("application/json")
            .cache_control("no-store")
            .await
            .map(|_| ())
            .map_err(|e| self.remote(&format!("cannot write {RECORD}"), e))
    }

    async fn apply(
        &mut self,
        plan: &Plan,
        report: &mut Report,
        on_event: &mut dyn FnMut(&Event<'_>),
    ) -> Result<(), PublishError> {
        self.delete(&plan.withdrawals, true, report, on_event)
            .await?;
        report.withdrawn = plan.withdrawn_cases.clone();
        if plan.deletes.len() > self.opts.max_deletes {
            report.refused = Some(cap_message(plan.deletes.len(), self.opts.max_deletes));
            return Ok(());
        }
        if !plan.uploads.is_empty() {
            (self.record.incoming).extend(plan.uploads.iter().map(|u| u.path.clone()));
            self.save_record().await?;
            self.upload_all(plan, report, on_event).await?;
        }
        self.delete(&plan.deletes, false, report, on_event).await
    }

    async fn upload_all(
        &mut self,
        plan: &Plan,
        report: &mut Report,
        on_event: &mut dyn FnMut(&Event<'_>),
    ) -> Result<(), PublishError> {
        let total = plan.uploads.len();
        let mut since_save = 0;
        for phase in plan
            .uploads
            .chunk_by(|a, b| plan::phase(&a.path) == plan::phase(&b.path))
        {
            for batch in phase.chunks(PARALLEL) {
                let mut tasks = tokio::task::JoinSet::new();
                for u in batch {
                    tasks.spawn(upload(
                        self.op.clone(),
                        self.out.clone(),
                        u.clone(),
                        self.headers(&u.path),
                    ));
                }
                while let Some(done) = tasks.join_next().await {
                    let (u, result) = done.map_err(|e| self.remote("an upload stopped", e))?;
                    result.map_err(|e| self.remote(&format!("cannot upload {}", u.path), e))?;
                    self.record.incoming.remove(&u.path);
                    self.record.files.insert(u.path.clone(), u.hash.clone());
                    report.uploaded += 1;
                    report.uploaded_bytes += u.bytes;
                    since_save += 1;
                    on_event(&Event::Uploaded {
                        path: &u.path,
                        done: report.uploaded,
                        total,
                    });
                }
                if since_save >= CHECKPOINT {
                    self.save_record().await?;
                    since_save = 0;
                }
            }
            self.save_record().await?;
            since_save = 0;
        }
        Ok(())
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

    async fn delete(
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
            match self.op.delete(path).await {
                Ok(()) => {}
                Err(e) if e.kind() == opendal::ErrorKind::NotFound => {}
                Err(e) => {
                    let _ = self.save_record().await;
                    return Err(self.remote(&format!("cannot delete {path}"), e));
                }
            }
            self.record.files.remove(path);
            self.record.incoming.remove(path);
            report.deleted += 1;
            on_event(&Event::Deleted { path, withdrawal });
        }
        self.remove_emptied_folders(paths).await;
        self.save_record().await
    }

    /// Folders (a withdrawn case's `case-3f9a1c/`) that the deletions left with nothing of the
    /// gallery's, deepest first. A folder is only removed when empty (a non-recursive remove),
    /// so anything else in it keeps it; S3 has no folders.
    async fn remove_emptied_folders(&self, deleted: &[String]) {
        if self.target.takes_headers() {
            return;
        }
        let mut folders: BTreeSet<&str> = BTreeSet::new();
        for path in deleted {
            let mut at = path.as_str();
            while let Some((parent, _)) = at.rsplit_once('/') {
                folders.insert(parent);
                at = parent;
            }
        }
        let mut folders: Vec<&str> = folders.into_iter().collect();
        folders.sort_by_key(|f| std::cmp::Reverse(f.matches('/').count()));
        for folder in folders {
            let prefix = format!("{folder}/");
            let mut ours = self.record.files.keys().chain(&self.record.incoming);
            if folder.starts_with('.') || ours.any(|p| p.starts_with(&prefix)) {
                continue;
            }
            // Not empty (someone else's file), already gone, or refused: the folder stays.
            let _ = self.op.delete(&prefix).await;
        }
    }
}

async fn upload(
    op: Operator,
    out: PathBuf,
    u: plan::Upload,
    (kind, cache): (&'static str, Option<String>),
) -> (plan::Upload, Result<(), String>) {
    let bytes = match std::fs::read(out.join(&u.path)) {
        Ok(b) => b,
        Err(e) => return (u, Err(format!("cannot read it in the gallery folder: {e}"))),
    };
    // What goes up is what is recorded, even if the file changed since it was planned.
    let mut u = u;
    u.hash = blake3::hash(&bytes).to_hex().to_string();
    u.bytes = bytes.len() as u64;
    let mut write = op.write_with(&u.path, bytes).content_type(kind);
    if let Some(cache) = &cache {
        write = write.cache_control(cache);
    }
    let result = write.await.map(|_| ()).map_err(|e| e.to_string());
    (u, result)
}

/// A name carrying a content hash (`front-after-640.1a2b3c4d.jpg`): never changes content.
pub fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut parts = name.rsplit('.');
    let (_ext, hash) = (parts.next(), parts.next());
    hash.is_some_and(|h| h.len() >= 8 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        && parts.next().is_some()
}
