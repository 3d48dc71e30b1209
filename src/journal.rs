//! The output folder's own state, in `<out>/.beforeafter/`: a lock so one run writes at a time,
//! a journal of every file a run starts to write, and the cases a run has finished. They hold
//! only public names (the output folder's own paths, published records), nothing private.
//!
//! - **Lock** (`lock`): batch and watch hold it for their whole run; a second run refuses at
//!   once, naming the process that holds it, or waits with `--wait`.
//! - **Journal** (`journal`): before any file is written into the output folder its path is
//!   appended and synced, so the next run knows every file any run wrote, finished or not, and
//!   removes what no published case needs any more (orphans of a kill, crash, full disk or
//!   abandoned run). Files it did not write, such as the web person's own, are never touched.
//! - **Finished cases** (`finished.jsonl`): each case's record is appended as it finishes, so a
//!   rerun after a kill or crash reuses finished cases instead of starting from zero.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::error::Fatal;

/// The folder, relative to the output folder.
pub const DIR: &str = ".beforeafter";
const LOCK: &str = ".beforeafter/lock";
const JOURNAL: &str = ".beforeafter/journal";
const FINISHED: &str = ".beforeafter/finished.jsonl";

/// Held while a run may write into the output folder; released on drop.
pub struct Lock {
    _file: Option<File>,
    out: PathBuf,
}

impl Lock {
    /// Take the output folder's lock. `wait`: block until the other run ends; otherwise refuse
    /// at once, naming it. A folder where the lock cannot even be created (read-only) is not
    /// locked: nothing can be written there anyway, and a run that changes nothing still works.
    pub fn acquire(out: &Path, wait: bool) -> Result<Lock, Fatal> {
        let path = out.join(LOCK);
        let opened = std::fs::create_dir_all(out.join(DIR)).and_then(|()| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
        });
        let Ok(mut file) = opened else {
            return Ok(Lock {
                _file: None,
                out: out.to_owned(),
            });
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) if wait => {
                file.lock().map_err(|e| io(&path, e))?;
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                return Err(Fatal::Other(format!(
                    "another beforeafter run is writing {} ({}); wait for it to end, or pass --wait",
                    out.display(),
                    holder.trim()
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&path, e)),
        }
        // The process id only: the command line would name the photo folder, and this folder
        // is uploaded.
        let me = format!("process {}", std::process::id());
        let _ = file.set_len(0);
        let _ = file.write_all(me.as_bytes());
        register(out);
        Ok(Lock {
            _file: Some(file),
            out: out.to_owned(),
        })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        unregister(&self.out);
    }
}

fn io(path: &Path, e: std::io::Error) -> Fatal {
    Fatal::Output {
        path: path.to_owned(),
        source: e,
    }
}

/// Output folders whose journal is open in this process.
fn journals() -> &'static Mutex<HashMap<PathBuf, Option<File>>> {
    static J: OnceLock<Mutex<HashMap<PathBuf, Option<File>>>> = OnceLock::new();
    J.get_or_init(Default::default)
}

fn register(out: &Path) {
    let mut j = journals().lock().expect("journal lock");
    j.insert(out.to_owned(), None);
}

fn unregister(out: &Path) {
    journals().lock().expect("journal lock").remove(out);
}

/// Called by `output::write_atomic` before a file is written: append `rel` to `out`'s journal
/// and sync it, when a run holds `out`'s lock. The journal itself and the lock are not listed.
pub fn record(out: &Path, rel: &str) -> Result<(), Fatal> {
    if rel.starts_with(DIR) {
        return Ok(());
    }
    let mut j = journals().lock().expect("journal lock");
    let Some(slot) = j.get_mut(out) else {
        return Ok(());
    };
    let path = out.join(JOURNAL);
    if slot.is_none() {
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        *slot = Some(f);
    }
    let f = slot.as_mut().expect("just opened");
    f.write_all(format!("{rel}\n").as_bytes())
        .and_then(|()| f.sync_data())
        .map_err(|e| io(&path, e))
}

/// Every path the journal lists (files some run started to write since the last clean end).
#[must_use]
pub fn written(out: &Path) -> HashSet<String> {
    read_lines(&out.join(JOURNAL)).collect()
}

/// A run ended cleanly and the manifest owns everything it keeps: start a new journal and
/// forget finished cases. Nothing is written when both are already empty.
pub fn clear(out: &Path) {
    let mut j = journals().lock().expect("journal lock");
    if let Some(slot) = j.get_mut(out) {
        *slot = None;
    }
    for rel in [JOURNAL, FINISHED] {
        let path = out.join(rel);
        if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Record a finished case (the caller passes its public record) so a rerun after a kill can
/// reuse it.
pub fn finished<T: serde::Serialize>(out: &Path, entry: &T) {
    let Ok(line) = serde_json::to_string(entry) else {
        return;
    };
    let path = out.join(FINISHED);
    if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(&path) {
        let _ = f
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| f.sync_data());
    }
}

/// The cases an interrupted run finished, newest last.
#[must_use]
pub fn finished_cases<T: serde::de::DeserializeOwned>(out: &Path) -> Vec<T> {
    read_lines(&out.join(FINISHED))
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect()
}

fn read_lines(path: &Path) -> impl Iterator<Item = String> {
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
    fn writes_are_journaled_while_locked() {
        let dir = tempfile::tempdir().unwrap();
        let lock = Lock::acquire(dir.path(), false).unwrap();
        crate::output::write_atomic(dir.path(), "a/b.jpg", b"x").unwrap();
        assert!(written(dir.path()).contains("a/b.jpg"));
        clear(dir.path());
        assert!(written(dir.path()).is_empty());
        drop(lock);
        crate::output::write_atomic(dir.path(), "c.jpg", b"x").unwrap();
        assert!(written(dir.path()).is_empty(), "no run, no journal");
    }
}
