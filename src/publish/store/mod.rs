//! The few things a publish asks of a target, over three kinds of storage: a folder (plain
//! `std::fs`), an SFTP host (the system `sftp` client in batch mode, so keys, agent,
//! `~/.ssh/config` and known hosts are the user's own) and an S3-compatible store (requests
//! signed by `rusty-s3`, sent by `ureq`). Publishing needs no more than read, list, put and
//! delete, so three small adapters replace a storage framework (Apache OpenDAL and reqwest
//! cost 133 crates and about 208 s of CPU per fresh build; these, 55 crates and about 77 s).
//!
//! Every file lands whole: on a folder and over SFTP it is written under
//! `.beforeafter/incoming/` and renamed into place; an S3 object appears only once its upload
//! is complete. Errors are plain text naming what failed; `publish` adds the target and the fix.

mod file;
mod s3;
mod sftp;

use super::{PublishError, Target};

/// One file to write: its path in the gallery, its bytes and its headers (S3 keeps them).
pub struct Put {
    pub path: String,
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub cache_control: Option<String>,
}

/// A failed step: the gallery path it concerned (if one) and why.
#[derive(Debug)]
pub struct Failed {
    pub path: Option<String>,
    pub cause: String,
}

impl Failed {
    pub fn on(path: &str, cause: impl std::fmt::Display) -> Failed {
        Failed {
            path: Some(path.to_owned()),
            cause: cause.to_string(),
        }
    }

    pub fn whole(cause: impl std::fmt::Display) -> Failed {
        Failed {
            path: None,
            cause: cause.to_string(),
        }
    }
}

/// A publish target's storage. Paths are relative to the gallery's folder there.
pub trait Store {
    /// The file at `path`, or None when there is none.
    fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>, Failed>;
    /// Every file under the gallery's folder (none when the folder does not exist yet).
    fn list(&mut self) -> Result<Vec<String>, Failed>;
    /// How many files one [`Store::put`] call should carry (one SFTP session holds many; S3
    /// sends a call's files in parallel).
    fn batch(&self) -> usize;
    /// Write `files`, then, once all of them are in place, `then` (the record saying so).
    fn put(&mut self, files: &[Put], then: Option<&Put>) -> Result<(), Failed>;
    /// Delete `paths` (one already gone is not an error), then remove `folders` that are empty
    /// (deepest first; a folder holding anything is kept; targets without folders ignore
    /// them), then write `then`.
    fn delete(
        &mut self,
        paths: &[String],
        folders: &[String],
        then: Option<&Put>,
    ) -> Result<(), Failed>;
}

/// The storage behind a parsed address.
pub fn open(target: &Target) -> Result<Box<dyn Store>, PublishError> {
    Ok(match target {
        Target::File { root } => Box::new(file::Folder::new(root)),
        Target::Sftp {
            user,
            host,
            port,
            root,
        } => Box::new(sftp::Sftp::new(user.as_deref(), host, *port, root)),
        Target::S3 {
            bucket,
            prefix,
            endpoint,
            region,
        } => Box::new(
            s3::S3::new(bucket, prefix, endpoint.as_deref(), region.as_deref())
                .map_err(|e| PublishError::Target(format!("{}: {e}", target.display())))?,
        ),
    })
}

/// Where a file is written before it is renamed into place (a folder and SFTP): one name per
/// gallery path, so a file a stopped publish left half-written is overwritten by the next.
pub fn incoming_name(path: &str) -> String {
    format!(".beforeafter/incoming/{}.part", path.replace('/', "~"))
}

/// `path`'s folders, outermost first (`a/b/c.jpg` → `a`, `a/b`).
pub fn parents(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incoming_names_and_parents() {
        assert_eq!(
            incoming_name("c1/index.html"),
            ".beforeafter/incoming/c1~index.html.part"
        );
        assert_eq!(parents("a/b/c.jpg").collect::<Vec<_>>(), ["a", "a/b"]);
        assert_eq!(parents("c.jpg").count(), 0);
    }
}
