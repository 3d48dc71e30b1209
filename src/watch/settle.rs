//! When is a photo complete? The debouncer only says "quiet for N ms"; a copy over a slow network
//! can pause longer than that mid-file. So a photo is taken only when its size and modification
//! time have not changed for the quiet period *and* it decodes. One that stays unchanged but does
//! not decode is handed to the pipeline after `broken_after_ms`, which reports it (file and
//! reason); it is tried again whenever it changes.
//!
//! A JPEG can prove itself complete sooner: one that ends with an end-of-image marker is checked
//! at once, and taken if its entropy-coded data is whole to the last block (the strict check
//! every decode makes). A copy cut or paused anywhere fails that check, so this only skips the
//! wait, never the proof; a JPEG that fails it waits for the quiet period like any photo.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::config::Config;
use crate::discover;
use crate::ingest::{self, IngestParams};
use crate::pipeline::{FileStamp, Settled};

/// A photo seen changing and not yet settled.
#[derive(Debug)]
struct Pending {
    stamp: Option<FileStamp>,
    /// When its stamp last changed.
    since: Instant,
    /// Why it did not decode at this stamp, and when that was first seen.
    broken: Option<(String, Instant)>,
    /// The stamp at which it ended like a whole JPEG but failed the check (not tried again
    /// before it changes or goes quiet).
    early_failed: Option<FileStamp>,
}

/// What a round of checks found, for the log.
#[derive(Debug, Default)]
pub struct Checked {
    /// Photos that stopped changing but do not decode (yet): path and reason.
    pub not_ready: Vec<(PathBuf, String)>,
    /// How many photos were read and checked.
    pub examined: usize,
}

#[derive(Debug, Default)]
pub struct Tracker {
    pub settled: Settled,
    pending: HashMap<PathBuf, Pending>,
    /// Something other than a photo's content changed (a deletion, case.toml, a folder).
    dirty: bool,
    /// Settled photos not yet seen by a round.
    fresh: bool,
    last_event: Option<Instant>,
    /// When the first change still waiting for a round became ready.
    ready_since: Option<Instant>,
}

/// A round runs at the latest this long after its first change became ready, even while other
/// files keep changing (a card dump that takes minutes still publishes as it goes).
const MAX_BATCH_WAIT: Duration = Duration::from_secs(2);

/// With every photo settled and no folder or other file changed, a round waits only this long
/// after the last event (not the whole quiet period): long enough for the next file of a copy
/// to announce itself, so a card dump still goes in one round.
const SETTLED_CALM: Duration = Duration::from_millis(40);

/// A photo to check: its stamp, and whether it is checked early (it ends like a whole JPEG but
/// has not been quiet for the quiet period).
type Candidate = (PathBuf, FileStamp, bool);

/// A photo to move to the settled set: its stamp and its hash (`None`: broken, settled as is).
type Settling = (PathBuf, FileStamp, Option<String>);

impl Tracker {
    /// Start from the folder as it is: photos untouched for `quiet` are settled (their hashes
    /// unknown until a round reads them), the rest wait like any change.
    pub fn scan(input: &Path, quiet: Duration) -> Tracker {
        let mut t = Tracker::default();
        let now = Instant::now();
        for path in photos_under(input) {
            let Some(stamp) = FileStamp::of(&path) else {
                continue;
            };
            let age = stamp
                .modified
                .and_then(|m| m.elapsed().ok())
                .unwrap_or(Duration::MAX);
            if age >= quiet {
                t.settled.files.insert(path, (stamp, None));
            } else {
                t.pending.insert(path, pending(Some(stamp), now));
            }
        }
        t
    }

    /// Compare the folder with what is settled (after lost events, or when a case waits on a
    /// file no event told about).
    pub fn rescan(&mut self, input: &Path) {
        let now = Instant::now();
        let on_disk = photos_under(input);
        let gone: Vec<PathBuf> = self
            .settled
            .files
            .keys()
            .filter(|p| !p.exists())
            .cloned()
            .collect();
        for p in gone {
            self.settled.files.remove(&p);
            self.dirty = true;
        }
        for path in on_disk {
            let stamp = FileStamp::of(&path);
            let known = self.settled.files.get(&path).map(|(s, _)| Some(*s));
            if known != Some(stamp) && !self.pending.contains_key(&path) {
                self.pending.insert(path, pending(stamp, now));
            }
        }
        self.last_event = Some(now);
    }

    /// An event about `path`.
    pub fn touch(&mut self, path: &Path, now: Instant) {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if discover::is_hidden(name) || discover::is_partial(name) {
            return;
        }
        self.last_event = Some(now);
        if path.is_dir() {
            // A folder created, renamed or moved in: its photos come with no events of their own,
            // so they are tracked here and settle like any photo. Anything else in it (case.toml,
            // a subfolder) is for discovery: that makes the folder dirty, which waits for the
            // whole quiet period. A new empty folder, or one holding only photos (the usual: a
            // folder made, then photos dropped in), is not: its photos bring the round.
            for p in photos_under_dir(path) {
                self.touch(&p, now);
            }
            self.dirty |= holds_more_than_photos(path);
        } else if discover::is_photo(name) && path.is_file() {
            let stamp = FileStamp::of(path);
            let entry = self
                .pending
                .entry(path.to_owned())
                .or_insert_with(|| pending(stamp, now));
            if entry.stamp != stamp {
                *entry = pending(stamp, now);
            }
        } else {
            // Deleted photos and folders, case.toml, anything else: discovery decides.
            let prefix = path.to_owned();
            self.settled.files.retain(|p, _| !p.starts_with(&prefix));
            self.pending.retain(|p, _| !p.starts_with(&prefix));
            self.dirty = true;
        }
    }

    /// Whether anything is in flight (then the loop wakes up to check; otherwise it sleeps).
    pub fn busy(&self) -> bool {
        !self.pending.is_empty() || self.dirty || self.fresh
    }

    /// Check pending photos: settle those quiet for long enough that decode, and those that stayed
    /// broken for `broken_after_ms`.
    pub fn check(&mut self, config: &Config, now: Instant) -> Checked {
        let quiet = Duration::from_millis(config.watch.quiet_ms);
        let broken_after = Duration::from_millis(config.watch.broken_after_ms);
        let (candidates, mut settle) = self.sweep(quiet, broken_after, now);
        let params = IngestParams {
            max_pixels: config.limits.max_pixels(),
            max_file_bytes: config.limits.max_file_bytes(),
        };
        let results: Vec<_> = candidates
            .into_par_iter()
            .map(|(path, stamp, early)| {
                let r = decodes(&path, &params);
                (path, stamp, early, r)
            })
            .collect();
        let mut checked = Checked {
            examined: results.len(),
            ..Checked::default()
        };
        for (path, stamp, early, result) in results {
            match result {
                // Changed while it was read: not settled, wait for quiet again.
                _ if FileStamp::of(&path) != Some(stamp) => {}
                Ok(hash) => settle.push((path, stamp, Some(hash))),
                // Not whole yet: wait for the quiet period, then check it as any photo.
                Err(_) if early => {
                    if let Some(p) = self.pending.get_mut(&path) {
                        p.early_failed = Some(stamp);
                    }
                }
                Err(reason) => {
                    if let Some(p) = self.pending.get_mut(&path) {
                        p.broken = Some((reason.clone(), now));
                    }
                    checked.not_ready.push((path, reason));
                }
            }
        }
        for (path, stamp, hash) in settle {
            self.pending.remove(&path);
            self.settled.files.insert(path, (stamp, hash));
            self.fresh = true;
        }
        if (self.fresh || self.dirty) && self.ready_since.is_none() {
            self.ready_since = Some(now);
        }
        checked
    }

    /// Go through the pending photos: restart the clock of those that changed, forget those
    /// gone, and return those quiet long enough to be checked, and those broken for long
    /// enough to be settled as they are.
    fn sweep(
        &mut self,
        quiet: Duration,
        broken_after: Duration,
        now: Instant,
    ) -> (Vec<Candidate>, Vec<Settling>) {
        let mut candidates = Vec::new();
        let mut settle = Vec::new();
        let mut gone = Vec::new();
        for (path, p) in &mut self.pending {
            let Some(stamp) = FileStamp::of(path) else {
                gone.push(path.clone());
                continue;
            };
            if Some(stamp) != p.stamp {
                *p = pending(Some(stamp), now);
            } else if let Some((_, since)) = &p.broken {
                if now.duration_since(*since) >= broken_after {
                    settle.push((path.clone(), stamp, None));
                }
            } else if self
                .settled
                .files
                .get(path)
                .is_some_and(|(s, h)| *s == stamp && h.is_some())
            {
                // An event that changed nothing (e.g. a touch without writing).
                gone.push(path.clone());
            } else if now.duration_since(p.since) >= quiet {
                candidates.push((path.clone(), stamp, false));
            } else if p.early_failed != Some(stamp) && ends_like_whole_jpeg(path) {
                candidates.push((path.clone(), stamp, true));
            }
        }
        for path in gone {
            self.pending.remove(&path);
            if !path.exists() && self.settled.files.remove(&path).is_some() {
                self.dirty = true;
            }
        }
        (candidates, settle)
    }

    /// Whether a round should run now: there is settled work, and nothing else is about to
    /// settle (no photo pending, or only photos that do not decode, once the folder is quiet),
    /// or the work has waited long enough. Waiting for the rest of a card dump to settle keeps
    /// it to one round with every case in parallel, instead of a small round and then the rest.
    pub fn ready(&self, quiet: Duration, now: Instant) -> bool {
        let Some(ready_since) = self.ready_since else {
            return false;
        };
        let calm_for = |d: Duration| self.last_event.is_none_or(|t| now.duration_since(t) >= d);
        let calm =
            calm_for(quiet) || (self.pending.is_empty() && !self.dirty && calm_for(SETTLED_CALM));
        let only_broken = self.pending.values().all(|p| p.broken.is_some());
        let overdue = now.duration_since(ready_since) >= MAX_BATCH_WAIT;
        (self.fresh || self.dirty) && ((calm && only_broken) || overdue)
    }

    /// Run a round even though no photo changed (the configuration did).
    pub fn force(&mut self) {
        self.dirty = true;
        self.ready_since.get_or_insert_with(Instant::now);
    }

    /// A round has started: what was ready is now its work.
    pub fn taken(&mut self) {
        self.fresh = false;
        self.dirty = false;
        self.ready_since = None;
    }

    /// After a round: learn the hashes the pipeline read, for photos unchanged since they settled.
    pub fn learn_hashes(&mut self, input: &Path, manifest: &crate::manifest::Manifest) {
        let mut by_rel: HashMap<&str, &str> = HashMap::new();
        for case in &manifest.cases {
            for view in &case.views {
                for s in &view.stages {
                    if let Some(source) = &s.source {
                        by_rel.insert(source, &s.source_hash);
                    }
                }
            }
        }
        for (path, (stamp, hash)) in &mut self.settled.files {
            if hash.is_some() || FileStamp::of(path) != Some(*stamp) {
                continue;
            }
            let rel = path
                .strip_prefix(input)
                .map(|r| r.to_string_lossy().replace('\\', "/"));
            if let Some(h) = rel.ok().and_then(|r| by_rel.get(r.as_str()).copied()) {
                *hash = Some(h.to_owned());
            }
        }
    }
}

fn pending(stamp: Option<FileStamp>, now: Instant) -> Pending {
    Pending {
        stamp,
        since: now,
        broken: None,
        early_failed: None,
    }
}

/// Whether the file starts with a JPEG start-of-image marker and ends with an end-of-image
/// marker: worth the full check before the quiet period is over. Reads four bytes.
fn ends_like_whole_jpeg(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let (mut head, mut tail) = ([0u8; 2], [0u8; 2]);
    f.read_exact(&mut head).is_ok()
        && head == [0xFF, 0xD8]
        && f.seek(SeekFrom::End(-2)).is_ok()
        && f.read_exact(&mut tail).is_ok()
        && tail == [0xFF, 0xD9]
}

/// Read a photo and check that it is whole (a full decode only where a cheap check cannot
/// tell): its BLAKE3 hash, or why it cannot be used (yet). The round decodes it for real.
fn decodes(path: &Path, params: &IngestParams) -> Result<String, String> {
    let bytes = ingest::read_bytes(path, params).map_err(|e| e.reason)?;
    ingest::check_complete(&bytes, path, params).map_err(|e| e.reason)?;
    Ok(blake3::hash(&bytes).to_hex().to_string())
}

/// Photos discovery can see: the top level and one folder down.
fn photos_under(input: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (path, is_dir) in entries(input) {
        if is_dir {
            out.extend(photos_under_dir(&path));
        } else if is_candidate(&path) {
            out.push(path);
        }
    }
    out
}

/// Whether `dir` holds anything discovery reads besides photos (hidden and partial files aside).
fn holds_more_than_photos(dir: &Path) -> bool {
    entries(dir).iter().any(|(p, is_dir)| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let ignored = discover::is_hidden(name) || discover::is_partial(name);
        !ignored && (*is_dir || !discover::is_photo(name))
    })
}

fn photos_under_dir(dir: &Path) -> Vec<PathBuf> {
    entries(dir)
        .into_iter()
        .filter(|(p, is_dir)| !is_dir && is_candidate(p))
        .map(|(p, _)| p)
        .collect()
}

fn entries(dir: &Path) -> Vec<(PathBuf, bool)> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    read.flatten()
        .map(|e| {
            let p = e.path();
            let is_dir = p.is_dir();
            (p, is_dir)
        })
        .collect()
}

fn is_candidate(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    discover::is_photo(name) && !discover::is_hidden(name) && !discover::is_partial(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_folder_of_photos_waits_only_on_its_photos_one_with_more_is_dirty() {
        let dir = tempfile::tempdir().unwrap();
        let case = dir.path().join("case-1");
        std::fs::create_dir(&case).unwrap();
        std::fs::write(case.join("before.jpg"), b"\xFF\xD8").unwrap();
        std::fs::write(case.join(".DS_Store"), b"").unwrap();
        let now = Instant::now();
        let mut t = Tracker::default();
        t.touch(&case, now);
        assert!(
            !t.dirty,
            "photos only: the photo settles and brings the round"
        );
        assert!(t.pending.contains_key(&case.join("before.jpg")));
        std::fs::write(case.join("case.toml"), b"consent = true\n").unwrap();
        t.touch(&case, now);
        assert!(t.dirty, "a case.toml is for discovery");
    }
}
