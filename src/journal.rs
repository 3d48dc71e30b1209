//! The output folder's own state, in `<out>/.beforeafter/`: a lock so one run writes at a time
//! (or several shards of one run), a journal of every file a run starts to write, and the cases
//! a run has finished. They hold only public names (the output folder's own paths, published
//! records), nothing private.
//!
//! - **Lock** (`lock`): batch, merge and watch hold it exclusively for their whole run; a second
//!   run refuses at once, naming the process that holds it, or waits with `--wait`. A shard
//!   (`batch --shard I/N`) holds it *shared*, so shards run side by side while no batch, merge
//!   or watch can, plus its own `shard-I-of-N.lock` exclusively, so one shard never runs twice.
//! - **Journal** (`journal`, `journal-I-of-N` for a shard): the inventory of every file the tool
//!   has written into the output folder and not yet removed. Before any file is written its path
//!   is appended and synced, so a kill at any moment leaves nothing unknown; a whole run that
//!   ends cleanly rewrites `journal` to the files that are still there ([`settle`]), never
//!   forgetting one, so a file stays known until it is removed, across any sequence of kills,
//!   crashes, full disks, setting changes, shards and resumes. A batch or merge reads every
//!   journal, the shards' included, and removes what no published case needs any more. Files it
//!   did not write, such as the web person's own, are never touched.
//! - **Finished cases** (`finished.jsonl`, `finished-I-of-N.jsonl`): each case's record is
//!   appended as it finishes, so a rerun after a kill or crash reuses finished cases instead of
//!   starting from zero.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::error::Fatal;

/// The folder, relative to the output folder.
pub const DIR: &str = ".beforeafter";
/// Where shards leave their records for the merge (`<out>/.shards/I-of-N.json`); a whole run
/// removes them once the manifest owns everything.
pub const SHARDS: &str = ".shards";
const LOCK: &str = ".beforeafter/lock";
/// Prefixes of the journals and finished-case files (the whole folder's, and each shard's).
const JOURNAL: &str = "journal";
const FINISHED: &str = "finished";
const SHARD_LOCK: &str = "shard-";

/// A run's own files in [`DIR`]: the whole folder's (`tag` none), or one shard's (`"2-of-3"`).
fn own_file(kind: &str, tag: Option<&str>) -> String {
    let ext = if kind == FINISHED { ".jsonl" } else { "" };
    match tag {
        None => format!("{DIR}/{kind}{ext}"),
        Some(t) => format!("{DIR}/{kind}-{t}{ext}"),
    }
}

/// Held while a run may write into the output folder; released on drop.
pub struct Lock {
    _file: File,
    _shard: Option<File>,
    out: PathBuf,
}

impl Lock {
    /// Take the output folder's lock for a whole run (batch, merge, watch): no other run and no
    /// shard at the same time. `wait`: block until they end; otherwise refuse at once, naming
    /// them. A lock file that cannot be opened (left by a run as another user, a read-only
    /// folder) refuses the run: going ahead unlocked would let two runs write at once.
    /// `--wait` waits only on a lock some live process holds: the kernel releases a dead
    /// process's lock, so a lock file left by a killed run never blocks.
    pub fn acquire(out: &Path, wait: bool) -> Result<Lock, Fatal> {
        let path = out.join(LOCK);
        let mut file = open(out, LOCK)?;
        take(&file, false, wait, out, &path, || {
            whole_run_holder(out, &path)
        })?;
        // The process id only: the command line would name the photo folder, and this folder
        // is uploaded.
        let _ = file.set_len(0);
        let _ = file.write_all(format!("process {}", std::process::id()).as_bytes());
        register(out, None);
        Ok(Lock {
            _file: file,
            _shard: None,
            out: out.to_owned(),
        })
    }

    /// Take the lock for one shard (`tag` "2-of-3"): shared with the other shards, exclusive of
    /// whole runs and of the same shard run twice.
    pub fn shard(out: &Path, wait: bool, tag: &str) -> Result<Lock, Fatal> {
        let path = out.join(LOCK);
        let file = open(out, LOCK)?;
        take(&file, true, wait, out, &path, || holder(&path))?;
        let rel = format!("{DIR}/{SHARD_LOCK}{tag}.lock");
        let shard_path = out.join(&rel);
        let mut shard = open(out, &rel)?;
        take(&shard, false, wait, out, &shard_path, || {
            format!(
                "shard {}, {}",
                tag.replace("-of-", "/"),
                holder(&shard_path)
            )
        })?;
        let _ = shard.set_len(0);
        let _ = shard.write_all(format!("process {}", std::process::id()).as_bytes());
        register(out, Some(tag.to_owned()));
        Ok(Lock {
            _file: file,
            _shard: Some(shard),
            out: out.to_owned(),
        })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        unregister(&self.out);
    }
}

/// `out/rel` opened for locking, created (with its folder) if missing; a file that cannot be
/// opened is refused with the fix.
fn open(out: &Path, rel: &str) -> Result<File, Fatal> {
    let path = out.join(rel);
    let opened = std::fs::create_dir_all(out.join(DIR)).and_then(|()| {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
    });
    opened.map_err(|e| {
        Fatal::Other(format!(
            "cannot open the lock file {} ({e}), so this run could not keep others out of {}: \
             it is usually left by a run as another user, or the folder is read-only; run as \
             that user, or remove {} (or make it writable) and run again",
            path.display(),
            out.display(),
            path.display()
        ))
    })
}

/// Lock `file` (shared or exclusive): at once, or, when it is held and `wait`, once it is free;
/// else refuse, saying who holds it.
fn take(
    file: &File,
    shared: bool,
    wait: bool,
    out: &Path,
    path: &Path,
    who: impl FnOnce() -> String,
) -> Result<(), Fatal> {
    let tried = if shared {
        file.try_lock_shared()
    } else {
        file.try_lock()
    };
    match tried {
        Ok(()) => Ok(()),
        Err(TryLockError::WouldBlock) if wait => {
            let locked = if shared {
                file.lock_shared()
            } else {
                file.lock()
            };
            locked.map_err(|e| io(path, e))
        }
        Err(TryLockError::WouldBlock) => Err(Fatal::Other(format!(
            "another beforeafter run is writing {} ({}); wait for it to end, or pass --wait",
            out.display(),
            who()
        ))),
        Err(TryLockError::Error(e)) => Err(io(path, e)),
    }
}

/// What a lock file says of its holder ("process 123").
fn holder(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.trim().to_owned()
}

/// Who keeps a whole run out: the shards running now (their locks are held), else the process
/// the lock file names.
fn whole_run_holder(out: &Path, path: &Path) -> String {
    let running: Vec<String> = shard_files(out, SHARD_LOCK)
        .into_iter()
        .filter(|p| {
            let file = OpenOptions::new().read(true).write(true).open(p);
            file.is_ok_and(|f| matches!(f.try_lock(), Err(TryLockError::WouldBlock)))
        })
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_owned();
            let tag = name.strip_prefix(SHARD_LOCK)?.strip_suffix(".lock")?;
            Some(format!("shard {}", tag.replace("-of-", "/")))
        })
        .collect();
    if running.is_empty() {
        holder(path)
    } else {
        format!("{} running", running.join(", "))
    }
}

/// Files in `out/.beforeafter/` whose names start with `prefix`, sorted.
fn shard_files(out: &Path, prefix: &str) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(out.join(DIR))
        .into_iter()
        .flatten()
        .flatten();
    let mut found: Vec<PathBuf> = entries
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(prefix))
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

fn io(path: &Path, e: std::io::Error) -> Fatal {
    Fatal::Output {
        path: path.to_owned(),
        cause: e,
    }
}

/// A run holding an output folder's lock in this process: whose it is (a shard's tag, or none
/// for a whole run) and its journal once opened.
struct Registration {
    tag: Option<String>,
    journal: Option<File>,
}

/// Output folders whose lock this process holds.
fn journals() -> &'static Mutex<HashMap<PathBuf, Registration>> {
    static J: OnceLock<Mutex<HashMap<PathBuf, Registration>>> = OnceLock::new();
    J.get_or_init(Default::default)
}

fn register(out: &Path, tag: Option<String>) {
    let mut j = journals().lock().expect("journal lock");
    j.insert(out.to_owned(), Registration { tag, journal: None });
}

fn unregister(out: &Path) {
    journals().lock().expect("journal lock").remove(out);
}

/// The shard tag of the run holding `out`'s lock in this process, if it is a shard.
fn tag_of(out: &Path) -> Option<String> {
    let j = journals().lock().expect("journal lock");
    j.get(out).and_then(|r| r.tag.clone())
}

/// Called by `disk::write_atomic` before a file is written: append `rel` to `out`'s journal
/// (this shard's, for a shard) and sync it, when a run holds `out`'s lock. The journal itself
/// and the lock are not listed, nor shard records (a whole run removes them).
pub fn record(out: &Path, rel: &str) -> Result<(), Fatal> {
    if rel.starts_with(DIR) || rel.starts_with(SHARDS) {
        return Ok(());
    }
    let mut j = journals().lock().expect("journal lock");
    let Some(reg) = j.get_mut(out) else {
        return Ok(());
    };
    let path = out.join(own_file(JOURNAL, reg.tag.as_deref()));
    if reg.journal.is_none() {
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        reg.journal = Some(f);
    }
    let f = reg.journal.as_mut().expect("just opened");
    f.write_all(format!("{rel}\n").as_bytes())
        .and_then(|()| f.sync_data())
        .map_err(|e| io(&path, e))
}

/// Every path any journal lists, every shard's included (files some run started to write since
/// the last clean end of a whole run).
#[must_use]
pub fn written(out: &Path) -> HashSet<String> {
    shard_files(out, JOURNAL)
        .iter()
        .flat_map(|p| read_lines(p))
        .collect()
}

/// A whole run ended cleanly and the manifest owns everything it keeps: `journal` becomes the
/// inventory of the tool's files still in `out` (every journal's paths and `kept`, the files
/// this run's gallery uses, whether or not this run wrote them), the shards' journals, finished
/// cases and lock files are forgotten. The inventory is written to a temp file and renamed, so
/// a kill or a full disk leaves the old journals whole (they list a superset) rather than none;
/// only then are the shards' journals removed. Nothing is written when nothing changed.
pub fn settle<'a>(out: &Path, kept: impl IntoIterator<Item = &'a str>) {
    let mut j = journals().lock().expect("journal lock");
    if let Some(reg) = j.get_mut(out) {
        reg.journal = None;
    }
    let own = out.join(own_file(JOURNAL, None));
    let mut inventory: Vec<String> = written(out)
        .into_iter()
        .chain(kept.into_iter().map(str::to_owned))
        .filter(|rel| !rel.starts_with(DIR) && !rel.starts_with(SHARDS))
        .filter(|rel| out.join(rel).is_file())
        .collect();
    inventory.sort();
    inventory.dedup();
    let others: Vec<PathBuf> = shard_files(out, JOURNAL)
        .into_iter()
        .filter(|p| *p != own)
        .collect();
    let current: Vec<String> = read_lines(&own).collect();
    let rewritten = current == inventory || replace(&own, &inventory).is_ok();
    for path in shard_files(out, FINISHED)
        .into_iter()
        .chain(shard_files(out, SHARD_LOCK))
        .chain(others.into_iter().filter(|_| rewritten))
    {
        let _ = std::fs::remove_file(&path);
    }
}

/// `path` replaced by `lines`, atomically (temp file, sync, rename).
fn replace(path: &Path, lines: &[String]) -> std::io::Result<()> {
    let tmp = path.with_extension("new");
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    let written = File::create(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A shard ended cleanly and its record owns its cases: forget its finished cases (its journal
/// stays, for the merge to prune by).
pub fn clear_finished(out: &Path) {
    let rel = own_file(FINISHED, tag_of(out).as_deref());
    let _ = std::fs::remove_file(out.join(rel));
}

/// Record a finished case (the caller passes its public record) so a rerun after a kill can
/// reuse it.
pub fn finished<T: serde::Serialize>(out: &Path, entry: &T) {
    let Ok(line) = serde_json::to_string(entry) else {
        return;
    };
    let path = out.join(own_file(FINISHED, tag_of(out).as_deref()));
    if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(&path) {
        let _ = f
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| f.sync_data());
    }
}

/// The cases interrupted runs finished, newest last within each file: a shard's own, or for a
/// whole run every file, the shards' included.
#[must_use]
pub fn finished_cases<T: serde::de::DeserializeOwned>(out: &Path) -> Vec<T> {
    let files = match tag_of(out) {
        Some(tag) => vec![out.join(own_file(FINISHED, Some(&tag)))],
        None => shard_files(out, FINISHED),
    };
    files
        .iter()
        .flat_map(|p| read_lines(p))
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect()
}

fn read_lines(path: &Path) -> impl Iterator<Item = String> + use<> {
    let file = File::open(path).ok();
    file.into_iter()
        .flat_map(|f| std::io::BufReader::new(f).lines().map_while(Result::ok))
        .filter(|l| !l.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = Lock::acquire(dir.path(), false).unwrap();
        let second = Lock::acquire(dir.path(), false);
        let Err(e) = second else {
            panic!("two runs at once")
        };
        let text = e.to_string();
        assert!(
            text.contains("another beforeafter run") && text.contains("process"),
            "{text}"
        );
        drop(first);
        assert!(Lock::acquire(dir.path(), false).is_ok());
    }

    #[test]
    fn shards_share_the_folder_and_keep_whole_runs_out() {
        let dir = tempfile::tempdir().unwrap();
        let one = Lock::shard(dir.path(), false, "1-of-2").unwrap();
        let two = Lock::shard(dir.path(), false, "2-of-2").unwrap();
        let again = Lock::shard(dir.path(), false, "1-of-2")
            .err()
            .unwrap()
            .to_string();
        assert!(again.contains("shard 1/2, process"), "{again}");
        let whole = Lock::acquire(dir.path(), false).err().unwrap().to_string();
        assert!(whole.contains("shard 1/2, shard 2/2 running"), "{whole}");
        drop((one, two));
        let whole = Lock::acquire(dir.path(), false).unwrap();
        let shard = Lock::shard(dir.path(), false, "1-of-2")
            .err()
            .unwrap()
            .to_string();
        assert!(shard.contains("another beforeafter run"), "{shard}");
        drop(whole);
    }

    #[test]
    fn each_shard_has_its_journal_and_a_whole_run_folds_them_into_one_inventory() {
        let dir = tempfile::tempdir().unwrap();
        let shard = Lock::shard(dir.path(), false, "2-of-3").unwrap();
        crate::disk::write_atomic(dir.path(), "a/b.jpg", b"x").unwrap();
        finished(dir.path(), &"case-a");
        assert!(dir.path().join(".beforeafter/journal-2-of-3").is_file());
        assert_eq!(finished_cases::<String>(dir.path()), ["case-a"]);
        drop(shard);
        let whole = Lock::acquire(dir.path(), false).unwrap();
        crate::disk::write_atomic(dir.path(), "c.jpg", b"x").unwrap();
        let all = written(dir.path());
        assert!(all.contains("a/b.jpg") && all.contains("c.jpg"), "{all:?}");
        assert_eq!(finished_cases::<String>(dir.path()), ["case-a"]);
        settle(dir.path(), []);
        assert_eq!(
            written(dir.path()),
            HashSet::from(["a/b.jpg".into(), "c.jpg".into()])
        );
        assert!(finished_cases::<String>(dir.path()).is_empty());
        let mut left: Vec<_> = std::fs::read_dir(dir.path().join(DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["journal", "lock"], "one inventory and the lock");
        drop(whole);
    }

    /// Issue 31: a clean run used to clear the journal, so files an earlier clean run wrote
    /// were known only through the manifest, and a resumed run's manifest forgot them.
    #[test]
    fn a_file_stays_in_the_inventory_until_it_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let lock = Lock::acquire(dir.path(), false).unwrap();
        crate::disk::write_atomic(dir.path(), "a/b.jpg", b"x").unwrap();
        std::fs::write(dir.path().join("own.txt"), b"the web person's").unwrap();
        settle(dir.path(), ["gallery.json"]);
        assert_eq!(written(dir.path()), HashSet::from(["a/b.jpg".into()]));
        let before = std::fs::metadata(dir.path().join(".beforeafter/journal")).unwrap();
        settle(dir.path(), []);
        let after = std::fs::metadata(dir.path().join(".beforeafter/journal")).unwrap();
        assert_eq!(
            before.modified().unwrap(),
            after.modified().unwrap(),
            "nothing changed"
        );
        crate::disk::remove(dir.path(), "a/b.jpg");
        settle(dir.path(), []);
        assert!(written(dir.path()).is_empty());
        drop(lock);
        crate::disk::write_atomic(dir.path(), "c.jpg", b"x").unwrap();
        assert!(written(dir.path()).is_empty(), "no run, no journal");
    }

    #[test]
    fn a_lock_file_that_cannot_be_opened_refuses_the_run() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the lock file should be: it cannot be opened even by root.
        std::fs::create_dir_all(dir.path().join(LOCK)).unwrap();
        for refused in [
            Lock::acquire(dir.path(), false).err(),
            Lock::acquire(dir.path(), true).err(),
            Lock::shard(dir.path(), false, "1-of-2").err(),
        ] {
            let text = refused.expect("refused").to_string();
            assert!(text.contains("cannot open the lock file"), "{text}");
            assert!(
                text.contains(".beforeafter/lock") && text.contains("remove"),
                "{text}"
            );
        }
    }
}
