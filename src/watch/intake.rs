//! File-system events in: notify's native watcher (inotify on Linux) or, with `--poll`, its
//! polling watcher for network shares (SMB/NFS deliver no inotify events). Events, watcher errors
//! and stop requests from signals all arrive on one channel, so the loop sleeps in one place and
//! uses no CPU while nothing happens.

use std::path::PathBuf;
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
}

/// Start watching `paths` (folder, recursive?). Keep the returned watcher alive while watching.
pub fn start(
    paths: &[(PathBuf, bool)],
    poll: Option<Duration>,
    tx: Sender<Msg>,
) -> Result<Box<dyn Watcher + Send>, Fatal> {
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
    let mut watcher: Box<dyn Watcher + Send> = match poll {
        Some(interval) => Box::new(
            notify::PollWatcher::new(
                handler,
                notify::Config::default().with_poll_interval(interval),
            )
            .map_err(|e| Fatal::Other(explain(&e)))?,
        ),
        None => Box::new(
            notify::RecommendedWatcher::new(handler, notify::Config::default())
                .map_err(|e| Fatal::Other(explain(&e)))?,
        ),
    };
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
