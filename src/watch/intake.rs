//! File-system events in: notify's native watcher (inotify on Linux) or, with `--poll`, a scan
//! of the folder every `poll_ms` for network shares (SMB/NFS deliver no inotify events). Events,
//! watcher errors and stop requests from signals all arrive on one channel, so the loop sleeps in
//! one place and uses no CPU while nothing happens.
//!
//! The poller is ours rather than notify's `PollWatcher`: that one compares modification times in
//! whole seconds and never sizes, so a file replaced within the same second as the last scan (a
//! quick config edit, a re-copied photo) produced no event at all. Ours compares size and the full
//! mtime, and scans only as deep as discovery reads (the top level and one folder down).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::Duration;

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecursiveMode, Watcher};

use crate::error::Fatal;

/// What wakes the loop.
#[derive(Debug)]
pub enum Msg {
    /// Something happened to these paths (which may no longer exist).
    Changed(Vec<PathBuf>),
    /// Events were lost (queue overflow): compare the whole folder again.
    Rescan,
    /// A watcher problem that does not stop watching (e.g. a new folder could not be watched).
    Error(String),
    /// Ctrl-C or SIGTERM.
    Stop,
    /// Someone (the studio's "Update the gallery now") asks for a round at once.
    RunNow,
}

/// Keeps watching while alive.
pub enum Intake {
    /// The native watcher, held only so it keeps running.
    Events {
        _watcher: Box<dyn Watcher + Send>,
    },
    Polling,
}

/// Start watching `paths` (folder, recursive?): with events, or by scanning every `poll`.
pub fn start(
    paths: &[(PathBuf, bool)],
    poll: Option<Duration>,
    tx: Sender<Msg>,
) -> Result<Intake, Fatal> {
    match poll {
        Some(interval) => {
            let paths = paths.to_vec();
            std::thread::spawn(move || poll_loop(&paths, interval, &tx));
            Ok(Intake::Polling)
        }
        None => events(paths, tx).map(|w| Intake::Events { _watcher: w }),
    }
}

type Stamps = HashMap<PathBuf, (u64, Option<std::time::SystemTime>)>;

/// Scan every `interval`; report paths whose size or mtime changed, appeared or vanished.
fn poll_loop(paths: &[(PathBuf, bool)], interval: Duration, tx: &Sender<Msg>) {
    let scan = || {
        let mut stamps = Stamps::new();
        for (dir, recursive) in paths {
            stamp_tree(dir, if *recursive { 2 } else { 1 }, &mut stamps);
        }
        stamps
    };
    let mut last = scan();
    loop {
        std::thread::sleep(interval);
        let now = scan();
        let mut changed: Vec<PathBuf> = now
            .iter()
            .filter(|(p, s)| last.get(*p) != Some(s))
            .map(|(p, _)| p.clone())
            .collect();
        changed.extend(last.keys().filter(|p| !now.contains_key(*p)).cloned());
        if !changed.is_empty() && tx.send(Msg::Changed(changed)).is_err() {
            return;
        }
        last = now;
    }
}

fn stamp_tree(dir: &Path, depth: u32, stamps: &mut Stamps) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(m) = std::fs::metadata(&path) else {
            continue;
        };
        if m.is_dir() {
            if depth > 1 {
                stamps.insert(path.clone(), (0, None));
                stamp_tree(&path, depth - 1, stamps);
            }
        } else {
            stamps.insert(path, (m.len(), m.modified().ok()));
        }
    }
}

fn events(paths: &[(PathBuf, bool)], tx: Sender<Msg>) -> Result<Box<dyn Watcher + Send>, Fatal> {
    let handler = move |res: notify::Result<notify::Event>| {
        let msg = match res {
            Ok(e) if e.need_rescan() => Msg::Rescan,
            // Opening or reading a file (ours included) changes nothing; only a close after
            // writing does.
            Ok(e) if matches!(e.kind, EventKind::Access(a) if a != AccessKind::Close(AccessMode::Write)) =>
            {
                return;
            }
            Ok(e) => Msg::Changed(e.paths),
            Err(e) => Msg::Error(explain(&e)),
        };
        let _ = tx.send(msg);
    };
    let mut watcher: Box<dyn Watcher + Send> = Box::new(
        notify::RecommendedWatcher::new(handler, notify::Config::default())
            .map_err(|e| Fatal::Other(explain(&e)))?,
    );
    for (path, recursive) in paths {
        let mode = if *recursive {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        watcher.watch(path, mode).map_err(|e| {
            Fatal::Other(format!("cannot watch {}: {}", path.display(), explain(&e)))
        })?;
    }
    Ok(watcher)
}

/// A watcher error in words a clinic's IT person can act on.
pub fn explain(e: &notify::Error) -> String {
    let limit = matches!(e.kind, notify::ErrorKind::MaxFilesWatch)
        || matches!(&e.kind, notify::ErrorKind::Io(io) if matches!(io.raw_os_error(), Some(24 | 28)));
    if limit {
        format!(
            "{e}: the system's limit on watched folders (inotify) is reached. Run with --poll, \
             or raise the limit: sudo sysctl fs.inotify.max_user_watches=524288 \
             (and fs.inotify.max_user_instances=1024)"
        )
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_limit_error_suggests_poll_and_sysctl() {
        for e in [
            notify::Error::new(notify::ErrorKind::MaxFilesWatch),
            notify::Error::io(std::io::Error::from_raw_os_error(28)),
        ] {
            let text = explain(&e);
            assert!(
                text.contains("--poll") && text.contains("max_user_watches"),
                "{text}"
            );
        }
        assert!(!explain(&notify::Error::generic("x")).contains("--poll"));
    }
}
