//! A signed record of what the clinic published, and when. `verify` shows that the files follow
//! from the originals and the manifest; this shows that the manifest is the one the clinic
//! published on a given date, and what was public before a case was withdrawn. (The UK
//! advertising regulator upheld a complaint because an advertiser could not produce "signed and
//! dated proof that the photos had not been manipulated".)
//!
//! - [`keys`]: `beforeafter keys new`: an Ed25519 key in the minisign format (the `minisign`
//!   crate), the secret in `<input>/.beforeafter/signing.key` (mode 0600, never in `--out`).
//! - Every whole run that changes the gallery signs `manifest.json` ([`Signer::record`]): a
//!   detached `manifest.json.minisig` beside it, whose trusted comment says when and with which
//!   version, checkable with the stock `minisign` tool against `minisign.pub`; and appends an
//!   entry to the private publication log ([`log`]), a hash chain.
//! - [`check`]: `verify`'s side: the signature, whose key made it, and the chain.
//!
//! Without a key the gallery is exactly what it was before; only the private log notes each
//! change as unsigned ([`record_unsigned`]), so it has no silent period.

pub mod check;
pub mod keys;
pub mod log;
pub mod report;

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::disk;
use crate::error::Fatal;

pub use keys::{NewKey, Protect, new_key};

/// The clinic's secret key, relative to the input folder.
pub const SECRET_KEY_FILE: &str = ".beforeafter/signing.key";
/// The clinic's public key, relative to the input folder.
pub const PUBLIC_KEY_FILE: &str = ".beforeafter/signing.pub";
/// The publication log, relative to the input folder.
pub const LOG_FILE: &str = ".beforeafter/log.jsonl";
/// The public key as published in the output folder (the name the minisign tool expects).
pub const PUBLISHED_KEY: &str = "minisign.pub";
/// The manifest's detached signature in the output folder.
pub const SIGNATURE_FILE: &str = "manifest.json.minisig";
/// The files signing adds to the output folder.
pub const PUBLIC_FILES: [&str; 2] = [PUBLISHED_KEY, SIGNATURE_FILE];
/// Where runs read the secret key's password from.
pub const PASSWORD_ENV: &str = "BEFOREAFTER_KEY_PASSWORD";

/// A signing problem: names the file and the fix.
#[derive(Debug, Error)]
pub enum SignError {
    #[error(
        "{}: a signing key is already there; a new one would leave every earlier signature \
         checkable only against the old public key you published. Give --force to replace it \
         anyway (then publish the new public key)",
        path.display()
    )]
    Exists { path: PathBuf },
    #[error(
        "{}: the signing key is protected by a password: set {PASSWORD_ENV} to it for runs",
        path.display()
    )]
    NoPassword { path: PathBuf },
    #[error(
        "{}: not a usable minisign key ({cause}); check {PASSWORD_ENV}, or make a new key with \
         `beforeafter keys new INPUT --force` and publish its public key again",
        path.display()
    )]
    Key { path: PathBuf, cause: String },
    #[error("{}: {cause}; check that the folder is writable and the disk has room", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
}

impl From<SignError> for Fatal {
    fn from(e: SignError) -> Fatal {
        Fatal::Other(e.to_string())
    }
}

/// The clinic's key pair, loaded for a run.
pub struct Signer {
    secret: minisign::SecretKey,
    public: minisign::PublicKey,
    /// `minisign.pub`'s text: an untrusted comment naming the key id, then the key.
    pub public_text: String,
    /// The key id minisign prints (16 hex digits).
    pub key_id: String,
}

impl Signer {
    /// The clinic's key from `<input>/.beforeafter/`, or `None` when it has none. A key
    /// protected by a password is opened with [`PASSWORD_ENV`]; runs never prompt.
    pub fn load(input: &Path) -> Result<Option<Signer>, SignError> {
        let path = input.join(SECRET_KEY_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let password = std::env::var(PASSWORD_ENV).ok();
        let secret = keys::read_secret(&path, password)?;
        let pub_path = input.join(PUBLIC_KEY_FILE);
        let public_text = read(&pub_path)?;
        let public = parse_public(&pub_path, &public_text)?;
        if public.keynum() != secret.keynum() {
            return Err(SignError::Key {
                path: pub_path,
                cause: "it is not the public half of signing.key".into(),
            });
        }
        let key_id = key_id(public.keynum());
        Ok(Some(Signer {
            secret,
            public,
            public_text,
            key_id,
        }))
    }

    /// Put the public key in the output folder as `minisign.pub` (before the pages that link it).
    pub fn publish_key(&self, out: &Path) -> Result<(), Fatal> {
        disk::write_if_changed(out, PUBLISHED_KEY, self.public_text.as_bytes()).map(|_| ())
    }

    /// A detached minisign signature of `bytes` (the signature file's text) whose trusted
    /// comment is `comment`.
    pub fn sign(&self, bytes: &[u8], comment: &str) -> Result<String, SignError> {
        let untrusted = "beforeafter signature of manifest.json; the trusted comment says when";
        minisign::sign(
            Some(&self.public),
            &self.secret,
            std::io::Cursor::new(bytes),
            Some(comment),
            Some(untrusted),
        )
        .map(minisign::SignatureBox::into_string)
        .map_err(|e| SignError::Key {
            path: PathBuf::from(SECRET_KEY_FILE),
            cause: e.to_string(),
        })
    }

    /// After a whole run saved `manifest.json`: sign it and log the publication, unless the
    /// signature in place is this key's over these very bytes and the log's last entry already
    /// records them (a run that changed nothing signs and logs nothing). `before` is the
    /// manifest the run found (what was public until now). The signature is written after the
    /// manifest, atomically (journaled), so a crash leaves at worst a signature that no longer
    /// matches, which the next run replaces. Returns a note when the log could not be written.
    pub fn record(
        &self,
        out: &Path,
        input: &Path,
        before: Option<&[u8]>,
    ) -> Result<Option<String>, Fatal> {
        let (manifest, hash) = saved_manifest(out)?;
        let signed = check::signed_by(out, &self.public, &manifest);
        let last = log::last(input);
        let logged = last
            .as_ref()
            .is_some_and(|e| e.manifest == hash && e.key == self.key_id);
        if signed && logged {
            return Ok(None);
        }
        let time = crate::dates::utc_now_seconds();
        if !signed {
            let comment = trusted_comment(&time);
            disk::write_atomic(
                out,
                SIGNATURE_FILE,
                self.sign(&manifest, &comment)?.as_bytes(),
            )?;
        }
        if logged {
            return Ok(None);
        }
        let since = before.filter(|_| last.is_some());
        let entry = log::Entry::new(time, hash, &self.key_id, since, &manifest);
        Ok(log::append(input, entry)
            .err()
            .map(|e| format!("the publication log was not written: {e}")))
    }
}

/// After a whole run without a signing key saved `manifest.json`: log it, unsigned, unless the
/// log's last entry already records these very bytes, so the publication log has no silent
/// period. Returns a note when the log could not be written.
pub fn record_unsigned(
    out: &Path,
    input: &Path,
    before: Option<&[u8]>,
) -> Result<Option<String>, Fatal> {
    let (manifest, hash) = saved_manifest(out)?;
    let last = log::last(input);
    if last.as_ref().is_some_and(|e| e.manifest == hash) {
        return Ok(None);
    }
    let since = before.filter(|_| last.is_some());
    let time = crate::dates::utc_now_seconds();
    let entry = log::Entry::new(time, hash, "", since, &manifest);
    Ok(log::append(input, entry)
        .err()
        .map(|e| format!("the publication log was not written: {e}")))
}

/// The `manifest.json` a run just saved in `out`, and its BLAKE3 hash (hex), as the log keeps it.
fn saved_manifest(out: &Path) -> Result<(Vec<u8>, String), Fatal> {
    let path = out.join(crate::manifest::FILE_NAME);
    let manifest = std::fs::read(&path).map_err(|cause| Fatal::Output { path, cause })?;
    let hash = blake3::hash(&manifest).to_hex().to_string();
    Ok((manifest, hash))
}

/// The signature's trusted comment: when, and by which version. `minisign -V` prints it.
#[must_use]
pub fn trusted_comment(time: &str) -> String {
    format!("signed {time} by beforeafter {}", env!("CARGO_PKG_VERSION"))
}

/// Whether `input` has a signing key.
#[must_use]
pub fn has_key(input: &Path) -> bool {
    input.join(SECRET_KEY_FILE).exists() || input.join(PUBLIC_KEY_FILE).exists()
}

/// The clinic's public key text from `<input>/.beforeafter/signing.pub`, when there is one.
#[must_use]
pub fn public_key_text(input: &Path) -> Option<String> {
    std::fs::read_to_string(input.join(PUBLIC_KEY_FILE)).ok()
}

/// A key id as minisign prints it: the 8 key-number bytes, little-endian, in 16 hex digits.
#[must_use]
pub fn key_id(keynum: &[u8]) -> String {
    let mut n = [0u8; 8];
    for (d, s) in n.iter_mut().zip(keynum) {
        *d = *s;
    }
    format!("{:016X}", u64::from_le_bytes(n))
}

fn read(path: &Path) -> Result<String, SignError> {
    std::fs::read_to_string(path).map_err(|cause| SignError::Io {
        path: path.to_owned(),
        cause,
    })
}

/// A public key box (`untrusted comment: …` then the key), or why it is not one.
pub fn parse_public(path: &Path, text: &str) -> Result<minisign::PublicKey, SignError> {
    minisign::PublicKey::from_box(minisign::PublicKeyBox::from_string(text).map_err(|e| {
        SignError::Key {
            path: path.to_owned(),
            cause: e.to_string(),
        }
    })?)
    .map_err(|e| SignError::Key {
        path: path.to_owned(),
        cause: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clinic() -> (tempfile::TempDir, Signer) {
        let dir = tempfile::tempdir().unwrap();
        new_key(dir.path(), Protect::No, false).unwrap();
        let signer = Signer::load(dir.path()).unwrap().unwrap();
        (dir, signer)
    }

    #[test]
    fn key_ids_read_as_minisign_prints_them() {
        assert_eq!(key_id(&[1, 0, 0, 0, 0, 0, 0, 0xAB]), "AB00000000000001");
    }

    #[test]
    fn a_folder_without_a_key_has_no_signer() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Signer::load(dir.path()).unwrap().is_none());
        assert!(!has_key(dir.path()));
    }

    #[test]
    fn a_signature_checks_against_its_key_and_not_after_a_change() {
        let (_dir, signer) = clinic();
        let sig = signer
            .sign(b"{\"cases\":[]}", &trusted_comment("t"))
            .unwrap();
        let sig = minisign::SignatureBox::from_string(&sig).unwrap();
        let ok = |data: &[u8]| {
            minisign::verify(
                &signer.public,
                &sig,
                std::io::Cursor::new(data),
                true,
                false,
                false,
            )
        };
        assert!(ok(b"{\"cases\":[]}").is_ok());
        assert!(ok(b"{\"cases\":[1]}").is_err());
        assert!(
            sig.trusted_comment()
                .unwrap()
                .starts_with("signed t by beforeafter")
        );
    }

    #[test]
    fn runs_without_a_key_are_logged_unsigned_once_per_manifest() {
        let (dir, signer) = clinic();
        let out = dir.path().join("out");
        disk::write_atomic(&out, "manifest.json", b"{\"cases\":[]}\n").unwrap();
        record_unsigned(&out, dir.path(), None).unwrap();
        record_unsigned(&out, dir.path(), None).unwrap();
        let entries = log::read(dir.path()).unwrap();
        assert_eq!(entries.len(), 1);
        assert!(!entries[0].signed && entries[0].key.is_empty());
        // A key made later signs the same manifest and logs it, signed.
        signer.record(&out, dir.path(), None).unwrap();
        let entries = log::read(dir.path()).unwrap();
        assert_eq!(entries.len(), 2);
        assert!(entries[1].signed);
    }

    #[test]
    fn record_signs_and_logs_once_for_the_same_manifest() {
        let (dir, signer) = clinic();
        let out = dir.path().join("out");
        disk::write_atomic(&out, "manifest.json", b"{\"cases\":[]}\n").unwrap();
        signer.record(&out, dir.path(), None).unwrap();
        let sig = std::fs::read(out.join(SIGNATURE_FILE)).unwrap();
        signer.record(&out, dir.path(), None).unwrap();
        assert_eq!(std::fs::read(out.join(SIGNATURE_FILE)).unwrap(), sig);
        assert_eq!(log::read(dir.path()).unwrap().len(), 1);
    }
}
