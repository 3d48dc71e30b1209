//! Writing to disk, named `disk` so that "output" means one thing in this crate: a published
//! file, which `config/outputs.rs` sets and `render/outputs.rs` makes. Into the output folder,
//! every file is written to a temp file in its final folder and renamed into place, so a visitor
//! or a crash never sees a half-written image, page or manifest; and paths are checked so no
//! input name can make the tool write outside `--out`.

use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Fatal;

/// Prefix of temp files, so an interrupted run's leftovers can be recognised and removed.
pub const TEMP_PREFIX: &str = ".beforeafter-tmp-";

/// `out` joined with a relative `rel` path, refusing anything that could escape `out`.
pub fn resolve(out: &Path, rel: &str) -> Result<PathBuf, Fatal> {
    let rel_path = Path::new(rel);
    let safe = !rel.is_empty()
        && rel_path
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !safe {
        return Err(Fatal::Other(format!(
            "refusing to write {rel:?}: outputs must stay inside the output folder"
        )));
    }
    Ok(out.join(rel_path))
}

/// Refuse an output folder that is the input folder, inside it, or holds it: the output folder
/// is uploaded as it is, so it must never sit among (or contain) the patients' photos, and the
/// gallery must never be written into case folders.
pub fn check_apart(input: &Path, out: &Path) -> Result<(), Fatal> {
    let (Some(i), Some(o)) = (absolute(input), absolute(out)) else {
        return Ok(());
    };
    let why = if o == i {
        "is the photo folder itself"
    } else if o.starts_with(&i) {
        "is inside the photo folder"
    } else if i.starts_with(&o) {
        "holds the photo folder"
    } else {
        return Ok(());
    };
    Err(Fatal::Other(format!(
        "--out {}: the output folder {why} ({}); it is uploaded as it is, so it must be apart \
         from the patients' photos: give --out a folder outside it, such as {}",
        out.display(),
        input.display(),
        i.parent().unwrap_or(&i).join("gallery").display()
    )))
}

/// `path` made absolute with symlinks resolved, for the part of it that exists.
fn absolute(path: &Path) -> Option<PathBuf> {
    let path = std::path::absolute(path).ok()?;
    let mut existing = path.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = std::fs::canonicalize(existing) {
            return Some(rest.iter().rev().fold(c, |p: PathBuf, r| p.join(r)));
        }
        rest.push(existing.file_name()?.to_owned());
        existing = existing.parent()?;
    }
}

/// Set once the user asked twice to stop (a second Ctrl-C or SIGTERM): from then on no write
/// starts and none is renamed into place, so the process can end at once with no partial file.
static ABANDONED: AtomicBool = AtomicBool::new(false);

/// Refuse every write from now on (see [`ABANDONED`]).
pub fn abandon() {
    ABANDONED.store(true, Ordering::SeqCst);
}

/// Write `bytes` to `out/rel` atomically (temp file in the same folder, fsync, rename). On any
/// failure the temp file is removed.
pub fn write_atomic(out: &Path, rel: &str, bytes: &[u8]) -> Result<(), Fatal> {
    let path = resolve(out, rel)?;
    let dir = path.parent().unwrap_or(out);
    let io = |e: std::io::Error| Fatal::Output {
        path: path.clone(),
        cause: e,
    };
    let abandoned = || {
        io(std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "stopping: write abandoned",
        ))
    };
    if ABANDONED.load(Ordering::SeqCst) {
        return Err(abandoned());
    }
    // Journaled first, so a kill at any moment after this leaves nothing the next run misses.
    crate::journal::record(out, rel)?;
    let tmp = synced_temp(dir, bytes).map_err(io)?;
    let result = if ABANDONED.load(Ordering::SeqCst) {
        Err(abandoned())
    } else {
        std::fs::rename(&tmp, &path).map_err(io)
    };
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Write `bytes` to `out/rel` only if no file is there yet, atomically, so that processes
/// racing to create the same file (shards starting at once) all end up reading the one that
/// won: the temp file is hard-linked into place, which fails when the name is taken. Whether
/// this call's bytes are the ones in place. Where hard links are not supported, the temp file
/// is renamed instead (the last writer wins).
pub fn write_once(out: &Path, rel: &str, bytes: &[u8]) -> Result<bool, Fatal> {
    let path = resolve(out, rel)?;
    let dir = path.parent().unwrap_or(out);
    let io = |e: std::io::Error| Fatal::Output {
        path: path.clone(),
        cause: e,
    };
    let tmp = synced_temp(dir, bytes).map_err(io)?;
    let result = match std::fs::hard_link(&tmp, &path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(_) => std::fs::rename(&tmp, &path).map(|()| true).map_err(io),
    };
    let _ = std::fs::remove_file(&tmp);
    result
}

/// [`write_atomic`], skipped when `out/rel` already holds exactly `bytes` (pages and feeds are
/// rebuilt after every watch round, and most of them come out the same). Whether it wrote.
pub fn write_if_changed(out: &Path, rel: &str, bytes: &[u8]) -> Result<bool, Fatal> {
    let path = resolve(out, rel)?;
    let same = std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64)
        && std::fs::read(&path).is_ok_and(|old| old == bytes);
    if same {
        return Ok(false);
    }
    write_atomic(out, rel, bytes).map(|()| true)
}

/// A new, uniquely named temp file in `dir`.
/// `bytes` in a new temp file in `dir` (made if missing), synced to disk; the temp file's path.
/// On a failed write the temp file is removed.
fn synced_temp(dir: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let (tmp, mut file) = tempfile_in(dir)?;
    let written = file.write_all(bytes).and_then(|()| file.sync_data());
    drop(file);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    use std::sync::atomic::AtomicU64;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("{TEMP_PREFIX}{}-{n}", std::process::id());
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Remove `out/rel` if it exists; then remove its folder if that is now empty.
pub fn remove(out: &Path, rel: &str) {
    let Ok(path) = resolve(out, rel) else { return };
    let _ = std::fs::remove_file(&path);
    if let Some(dir) = path.parent().filter(|d| *d != out) {
        // Fails harmlessly when the folder still holds something.
        let _ = std::fs::remove_dir(dir);
    }
}

/// Remove temp files left behind by an interrupted run (top level and one folder down).
pub fn remove_stale_temps(out: &Path) {
    let Ok(entries) = std::fs::read_dir(out) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            remove_stale_temps_in(&path);
        } else if is_temp(&path) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

fn remove_stale_temps_in(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if is_temp(&entry.path()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn is_temp(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(TEMP_PREFIX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_escape_are_refused() {
        let out = Path::new("/tmp/out");
        for bad in ["../x", "/etc/passwd", "a/../../x", "", "./a"] {
            assert!(resolve(out, bad).is_err(), "{bad}");
        }
        assert_eq!(resolve(out, "case/a.jpg").unwrap(), out.join("case/a.jpg"));
    }

    #[test]
    fn output_and_input_folders_must_stay_apart() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("photos");
        std::fs::create_dir_all(input.join("case-1")).unwrap();
        for bad in [
            input.clone(),
            input.join("gallery"),
            input.join("case-1"),
            dir.path().to_owned(),
        ] {
            assert!(check_apart(&input, &bad).is_err(), "{}", bad.display());
        }
        assert!(check_apart(&input, &dir.path().join("gallery")).is_ok());
        assert!(check_apart(&input, &input.join("../gallery")).is_ok());
        let e = check_apart(&input, &input.join("new/out"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("inside the photo folder") && e.contains("uploaded"),
            "{e}"
        );
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(dir.path(), "a/b.txt", b"one").unwrap();
        write_atomic(dir.path(), "a/b.txt", b"two").unwrap();
        assert_eq!(std::fs::read(dir.path().join("a/b.txt")).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a")).unwrap().collect();
        assert_eq!(names.len(), 1);
    }
}
