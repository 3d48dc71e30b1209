//! `beforeafter keys new`: the clinic's signing key. The secret half stays in the input folder
//! (`.beforeafter/signing.key`, readable by its owner only), which is never uploaded; the public
//! half goes beside it and, from the next run, into the gallery as `minisign.pub`. Both are in
//! the minisign formats, so the stock `minisign` tool checks what this signs.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{PASSWORD_ENV, PUBLIC_KEY_FILE, SECRET_KEY_FILE, SignError, key_id};

/// What `keys new` made.
#[derive(Debug)]
pub struct NewKey {
    pub secret: PathBuf,
    pub public: PathBuf,
    pub key_id: String,
    /// `signing.pub`'s text.
    pub public_text: String,
}

/// The secret key file's comment: what it is, and where it must never go.
const SECRET_COMMENT: &str =
    "beforeafter clinic signing key: keep it private, never copy it into the gallery";

/// The base64 of a key with no password starts with the bytes "Ed", no KDF, "B2".
const UNENCRYPTED_PREFIX: &str = "RWQAAEIy";

/// Whether a new secret key gets a password.
#[derive(Clone, Debug)]
pub enum Protect {
    /// None: runs sign unattended (the key file is readable by its owner only).
    No,
    /// This one (from [`PASSWORD_ENV`], for scripts).
    Given(String),
    /// Asked twice on the terminal.
    Ask,
}

impl Protect {
    /// `keys new --password`: [`PASSWORD_ENV`] when set, else asked.
    #[must_use]
    pub fn from_flag(password: bool) -> Protect {
        match (password, std::env::var(PASSWORD_ENV)) {
            (false, _) => Protect::No,
            (true, Ok(p)) => Protect::Given(p),
            (true, Err(_)) => Protect::Ask,
        }
    }
}

/// Make a key pair in `<input>/.beforeafter/`. Refuses to replace a key unless `force`.
pub fn new_key(input: &Path, protect: Protect, force: bool) -> Result<NewKey, SignError> {
    let secret = input.join(SECRET_KEY_FILE);
    let public = input.join(PUBLIC_KEY_FILE);
    if !force && let Some(path) = [&secret, &public].into_iter().find(|p| p.exists()) {
        return Err(SignError::Exists { path: path.clone() });
    }
    let generated = match protect {
        Protect::No => minisign::KeyPair::generate_unencrypted_keypair(),
        Protect::Given(p) => minisign::KeyPair::generate_encrypted_keypair(Some(p)),
        Protect::Ask => minisign::KeyPair::generate_encrypted_keypair(None),
    };
    let key_error = |e: minisign::PError| SignError::Key {
        path: secret.clone(),
        cause: e.to_string(),
    };
    let pair = generated.map_err(key_error)?;
    let secret_text = pair.sk.to_box(Some(SECRET_COMMENT)).map_err(key_error)?;
    let public_text = pair.pk.to_box().map_err(key_error)?.into_string();
    write_private(&secret, secret_text.into_string().as_bytes())?;
    write_replacing(&public, public_text.as_bytes(), 0o644)?;
    Ok(NewKey {
        key_id: key_id(pair.pk.keynum()),
        secret,
        public,
        public_text,
    })
}

/// The secret key in `path`, opened with `password` when it has one.
pub fn read_secret(
    path: &Path,
    password: Option<String>,
) -> Result<minisign::SecretKey, SignError> {
    let text = std::fs::read_to_string(path).map_err(|cause| SignError::Io {
        path: path.to_owned(),
        cause,
    })?;
    let encrypted = text
        .lines()
        .nth(1)
        .is_some_and(|l| !l.trim().starts_with(UNENCRYPTED_PREFIX));
    let boxed = minisign::SecretKeyBox::from_string(&text);
    let key = match (encrypted, password) {
        (false, _) => boxed.and_then(minisign::SecretKeyBox::into_unencrypted_secret_key),
        (true, Some(p)) => boxed.and_then(|b| b.into_secret_key(Some(p))),
        (true, None) => {
            return Err(SignError::NoPassword {
                path: path.to_owned(),
            });
        }
    };
    key.map_err(|e| SignError::Key {
        path: path.to_owned(),
        cause: e.to_string(),
    })
}

/// Write the secret key readable by its owner only, from the first byte on.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SignError> {
    write_replacing(path, bytes, 0o600)
}

/// `bytes` into a temp file of mode `mode` beside `path`, synced, then renamed over it.
fn write_replacing(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SignError> {
    let io = |cause| SignError::Io {
        path: path.to_owned(),
        cause,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = dir.join(format!(
        "{}{}-key",
        crate::disk::TEMP_PREFIX,
        std::process::id()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let written = options
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_private_and_never_replaced_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let made = new_key(dir.path(), Protect::No, false).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&made.secret)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let e = new_key(dir.path(), Protect::No, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("signing.key") && e.contains("--force"), "{e}");
        let again = new_key(dir.path(), Protect::No, true).unwrap();
        assert_ne!(again.key_id, made.key_id);
    }

    #[test]
    fn a_key_with_a_password_needs_it() {
        let dir = tempfile::tempdir().unwrap();
        let made = new_key(dir.path(), Protect::Given("s3cret".into()), false).unwrap();
        let e = read_secret(&made.secret, None).unwrap_err().to_string();
        assert!(e.contains(PASSWORD_ENV), "{e}");
        assert!(read_secret(&made.secret, Some("wrong".into())).is_err());
        assert!(read_secret(&made.secret, Some("s3cret".into())).is_ok());
    }
}
