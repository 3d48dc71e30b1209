//! `file:///path`: a folder on this computer or a mounted share, with `std::fs`. Each file is
//! written under `.beforeafter/incoming/` in the target folder and renamed into place, so a
//! web server reading the folder never serves half a file.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::{Failed, Put, Store, incoming_name};

pub struct Folder {
    root: PathBuf,
}

impl Folder {
    pub fn new(root: &str) -> Folder {
        Folder {
            root: PathBuf::from(root),
        }
    }

    fn write(&self, put: &Put) -> Result<(), Failed> {
        let fail = |e: std::io::Error| Failed::on(&put.path, e);
        let temp = self.root.join(incoming_name(&put.path));
        let dest = self.root.join(&put.path);
        for dir in [temp.parent(), dest.parent()].into_iter().flatten() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        std::fs::write(&temp, &put.bytes).map_err(fail)?;
        std::fs::rename(&temp, &dest).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            fail(e)
        })
    }
}

impl Store for Folder {
    fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>, Failed> {
        match std::fs::read(self.root.join(path)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Failed::on(path, e)),
        }
    }

    fn list(&mut self) -> Result<Vec<String>, Failed> {
        let mut files = Vec::new();
        walk(&self.root, &self.root, &mut files)?;
        Ok(files)
    }

    fn batch(&self) -> usize {
        super::super::CHECKPOINT
    }

    fn put(&mut self, files: &[Put], then: Option<&Put>) -> Result<(), Failed> {
        files.iter().chain(then).try_for_each(|p| self.write(p))
    }

    fn delete(
        &mut self,
        paths: &[String],
        folders: &[String],
        then: Option<&Put>,
    ) -> Result<(), Failed> {
        for path in paths {
            match std::fs::remove_file(self.root.join(path)) {
                Err(e) if e.kind() != ErrorKind::NotFound => return Err(Failed::on(path, e)),
                _ => {}
            }
        }
        for folder in folders {
            // Not empty (someone else's file), already gone, or refused: the folder stays.
            let _ = std::fs::remove_dir(self.root.join(folder));
        }
        self.put(&[], then)
    }
}

/// Every file under `dir`, relative to `root` with `/` separators.
fn walk(root: &Path, dir: &Path, files: &mut Vec<String>) -> Result<(), Failed> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Failed::whole(format!("cannot list {}: {e}", dir.display()))),
    };
    for entry in entries {
        let entry =
            entry.map_err(|e| Failed::whole(format!("cannot list {}: {e}", dir.display())))?;
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(root, &path, files)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            files.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}
