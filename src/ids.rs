//! Public case ids. Clinics name folders and files after patients, and the output folder is
//! public, so a case's web address never comes from its folder name unless the clinic says so:
//! it is the `slug` of its `case.toml`, or an opaque id ("case-3f9a1c") made by a keyed hash of
//! the folder name. The key is a random secret kept in `<input>/.beforeafter/id-key`, beside the
//! photos: without it, nobody can test a guessed patient name against a published id; with it,
//! the same folder keeps the same address from run to run.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Where the key lives, relative to the input folder.
pub const KEY_FILE: &str = ".beforeafter/id-key";

/// How cases without a `slug` get their public id (`[cases] ids`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicIds {
    /// "case-3f9a1c": a keyed hash of the folder name; the title is neutral too.
    #[default]
    Opaque,
    /// The folder (or flat-pair) name itself, for clinics that name cases by number and never
    /// by patient.
    Folder,
}

/// The secret behind opaque ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdKey(pub [u8; 32]);

impl IdKey {
    /// The input folder's key, created on first use. When it can be neither read nor created (a
    /// read-only share), a key derived from the folder's own path is used instead, with a note:
    /// ids stay stable as long as the folder does not move.
    pub fn load_or_create(input: &Path) -> (IdKey, Option<String>) {
        let path = input.join(KEY_FILE);
        let read = std::fs::read(&path);
        if let Some(key) = read.as_ref().ok().and_then(|b| parse(b)) {
            return (IdKey(key), None);
        }
        let mut key = [0u8; 32];
        // Created once: shards starting at once on a new folder must all use the same key, so
        // the key that won the race is read back. An unreadable key is replaced. Whether there
        // was one comes from the same read: asking again could see a key another process has
        // just created, and replace it.
        let replace = !matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::NotFound);
        let fresh = getrandom(&mut key).and_then(|()| {
            let text = hex(&key);
            if replace {
                crate::disk::write_atomic(input, KEY_FILE, text.as_bytes()).map(|()| true)
            } else {
                crate::disk::write_once(input, KEY_FILE, text.as_bytes())
            }
        });
        match fresh {
            Ok(true) => (IdKey(key), None),
            Ok(false) => match std::fs::read(&path).ok().and_then(|b| parse(&b)) {
                Some(theirs) => (IdKey(theirs), None),
                None => (
                    IdKey(key),
                    Some(format!("{}: unreadable id key", path.display())),
                ),
            },
            Err(e) => {
                let canonical = std::fs::canonicalize(input).unwrap_or_else(|_| input.to_owned());
                let derived = blake3::derive_key(
                    "beforeafter 2026 public case ids",
                    canonical.to_string_lossy().as_bytes(),
                );
                let note = format!(
                    "cannot keep the id key in {} ({e}); public ids are derived from the input folder's path and change if it moves",
                    path.display()
                );
                (IdKey(derived), Some(note))
            }
        }
    }

    /// "case-" and 6 hex digits of the keyed hash of `name`.
    #[must_use]
    pub fn opaque_id(&self, name: &str) -> String {
        let hash = blake3::keyed_hash(&self.0, name.as_bytes()).to_hex();
        format!("case-{}", &hash[..6])
    }
}

fn parse(bytes: &[u8]) -> Option<[u8; 32]> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    let mut key = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, b) in key.iter_mut().enumerate() {
        *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(key)
}

fn hex(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n"
}

/// Random bytes from the operating system (`/dev/urandom`; elsewhere, a hash of the time, the
/// process id and a stack address, which is unpredictable enough for an id key).
fn getrandom(buf: &mut [u8; 32]) -> Result<(), crate::error::Fatal> {
    use std::io::Read;
    if let Ok(mut f) = std::fs::File::open("/dev/urandom")
        && f.read_exact(buf).is_ok()
    {
        return Ok(());
    }
    let mut h = blake3::Hasher::new();
    h.update(format!("{:?}", std::time::SystemTime::now()).as_bytes());
    h.update(&std::process::id().to_le_bytes());
    h.update(&(std::ptr::from_ref(buf) as usize).to_le_bytes());
    buf.copy_from_slice(h.finalize().as_bytes());
    Ok(())
}

/// A URL- and path-safe id: lower-case ASCII letters, digits and single dashes.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_table() {
        for (name, want) in [
            ("Smith Case 07", "smith-case-07"),
            ("../../etc", "etc"),
            ("a__b--c", "a-b-c"),
            ("ÜBER", "ber"),
            ("...", ""),
            ("hairline-07", "hairline-07"),
        ] {
            assert_eq!(slug(name), want, "{name}");
        }
    }

    #[test]
    fn processes_racing_to_create_the_key_all_use_one() {
        let dir = tempfile::tempdir().unwrap();
        let keys: Vec<IdKey> = std::thread::scope(|s| {
            let racing: Vec<_> = (0..8)
                .map(|_| s.spawn(|| IdKey::load_or_create(dir.path()).0))
                .collect();
            racing.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let (kept, _) = IdKey::load_or_create(dir.path());
        assert!(keys.iter().all(|k| *k == kept));
    }

    #[test]
    fn key_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (a, note) = IdKey::load_or_create(dir.path());
        assert!(note.is_none());
        let (b, _) = IdKey::load_or_create(dir.path());
        assert_eq!(a, b);
        let id = a.opaque_id("john-smith");
        assert!(id.starts_with("case-") && id.len() == 11, "{id}");
        assert!(!id.contains("smith"));
        assert_eq!(id, b.opaque_id("john-smith"));
        assert_ne!(id, a.opaque_id("john-smyth"));
        let other = tempfile::tempdir().unwrap();
        let (c, _) = IdKey::load_or_create(other.path());
        assert_ne!(
            id,
            c.opaque_id("john-smith"),
            "another clinic's key gives another id"
        );
    }
}
