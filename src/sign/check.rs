//! `verify`'s side of signing: is `manifest.json` signed, by whose key, when, and does it still
//! match; and (`verify --log`) does the publication log's chain hold, and what does it say about
//! one case. Problems name the file, like the rest of `verify`, and make it exit 3.

use std::path::Path;

use serde::Serialize;

use super::log::{self, Entry};
use super::{LOG_FILE, PUBLIC_KEY_FILE, PUBLISHED_KEY, SIGNATURE_FILE, key_id, parse_public};
use crate::error::Fatal;
use crate::manifest::FILE_NAME as MANIFEST;

/// What `verify` found about the signature: a sentence saying who signed and when, and the
/// problems (file, what is wrong).
#[derive(Debug, Default, Serialize)]
pub struct SignatureCheck {
    pub said: Option<String>,
    pub problems: Vec<(String, String)>,
}

impl SignatureCheck {
    fn problem(&mut self, path: &str, what: String) {
        self.problems.push((path.to_owned(), what));
    }
}

/// Whether `out` holds a signature of `manifest` by `public`.
#[must_use]
pub fn signed_by(out: &Path, public: &minisign::PublicKey, manifest: &[u8]) -> bool {
    let Ok(text) = std::fs::read_to_string(out.join(SIGNATURE_FILE)) else {
        return false;
    };
    minisign::SignatureBox::from_string(&text).is_ok_and(|sig| {
        minisign::verify(
            public,
            &sig,
            std::io::Cursor::new(manifest),
            true,
            false,
            false,
        )
        .is_ok()
    })
}

/// Check `out/manifest.json.minisig` against the clinic's public key in the input folder (or,
/// when the input folder has none, the `minisign.pub` published beside it, said to prove
/// nothing on its own). No signature and no key: nothing to say.
#[must_use]
pub fn signature(input: &Path, out: &Path) -> SignatureCheck {
    let mut found = SignatureCheck::default();
    let clinic = clinic_key(input, &mut found);
    let Ok(text) = std::fs::read_to_string(out.join(SIGNATURE_FILE)) else {
        if clinic.is_some() {
            found.problem(
                SIGNATURE_FILE,
                format!(
                    "missing: the clinic has a signing key ({PUBLIC_KEY_FILE} in the photo \
                     folder) but manifest.json is not signed; run `beforeafter batch` to sign it"
                ),
            );
        }
        return found;
    };
    let Ok(sig) = minisign::SignatureBox::from_string(&text) else {
        found.problem(SIGNATURE_FILE, "not a minisign signature".into());
        return found;
    };
    let signer = key_id(sig.keynum());
    check_published_key(out, clinic.as_ref(), &mut found);
    let Some((key, whose)) = key_to_check(out, clinic, &mut found) else {
        return found;
    };
    let expected = key_id(key.keynum());
    if signer != expected {
        found.problem(
            SIGNATURE_FILE,
            format!(
                "signed by key {signer}, not by {whose} ({expected}): the manifest was signed \
                 again by someone else"
            ),
        );
        return found;
    }
    let manifest = std::fs::read(out.join(MANIFEST)).unwrap_or_default();
    if !signed_by(out, &key, &manifest) {
        found.problem(
            MANIFEST,
            format!(
                "does not match its signature ({SIGNATURE_FILE}, key {signer}): it was changed \
                 after it was signed"
            ),
        );
        return found;
    }
    let when = sig.trusted_comment().unwrap_or_default();
    found.said = Some(format!(
        "manifest.json is signed by key {signer} ({whose}); trusted comment: {when}"
    ));
    found
}

/// The key a signature must be by: the clinic's, else (saying so) the one published beside it.
fn key_to_check(
    out: &Path,
    clinic: Option<minisign::PublicKey>,
    found: &mut SignatureCheck,
) -> Option<(minisign::PublicKey, String)> {
    if let Some(k) = clinic {
        return Some((k, "the clinic's key".to_owned()));
    }
    let Some(k) = published_key(out) else {
        found.problem(
            SIGNATURE_FILE,
            format!(
                "no public key to check it against: neither {PUBLIC_KEY_FILE} in the photo \
                 folder nor {PUBLISHED_KEY} in the gallery"
            ),
        );
        return None;
    };
    let whose = format!(
        "the key in {PUBLISHED_KEY} beside it only: compare it with the one the clinic \
         publishes elsewhere"
    );
    Some((k, whose))
}

/// The clinic's public key from the input folder, if it has one (a damaged one is a problem).
fn clinic_key(input: &Path, found: &mut SignatureCheck) -> Option<minisign::PublicKey> {
    let text = super::public_key_text(input)?;
    match parse_public(&input.join(PUBLIC_KEY_FILE), &text) {
        Ok(k) => Some(k),
        Err(e) => {
            found.problem(PUBLIC_KEY_FILE, e.to_string());
            None
        }
    }
}

fn published_key(out: &Path) -> Option<minisign::PublicKey> {
    let text = std::fs::read_to_string(out.join(PUBLISHED_KEY)).ok()?;
    parse_public(&out.join(PUBLISHED_KEY), &text).ok()
}

/// The gallery's `minisign.pub`, when there is one, must be the clinic's key.
fn check_published_key(
    out: &Path,
    clinic: Option<&minisign::PublicKey>,
    found: &mut SignatureCheck,
) {
    let (Some(clinic), true) = (clinic, out.join(PUBLISHED_KEY).exists()) else {
        return;
    };
    let published = published_key(out).map(|k| key_id(k.keynum()));
    let ours = key_id(clinic.keynum());
    if published.as_deref() != Some(ours.as_str()) {
        found.problem(
            PUBLISHED_KEY,
            format!(
                "is not the clinic's public key ({ours}, {PUBLIC_KEY_FILE} in the photo folder)"
            ),
        );
    }
}

/// What `verify --log` found: the chain's breaks, the entries (or one case's history) as
/// lines to print.
#[derive(Debug, Default, Serialize)]
pub struct LogCheck {
    pub entries: usize,
    /// Entries of runs without a signing key.
    pub unsigned: usize,
    pub lines: Vec<String>,
    pub problems: Vec<(String, String)>,
}

/// Check the publication log's chain, that its last entry is the manifest in `out`, and list
/// the entries, or with `case` that case's history (published, changed, withdrawn).
pub fn log(input: &Path, out: &Path, case: Option<&str>) -> Result<LogCheck, Fatal> {
    let path = input.join(LOG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Fatal::Input {
        path: path.clone(),
        message: format!(
            "{e}: there is no publication log; it starts with the first run that \
             publishes (signed after `beforeafter keys new`)"
        ),
    })?;
    let (entries, breaks) = log::check_chain(&text);
    let mut found = LogCheck {
        entries: entries.len(),
        unsigned: entries.iter().filter(|e| !e.signed).count(),
        ..LogCheck::default()
    };
    for b in breaks {
        let at = format!("{LOG_FILE} line {}", b.line);
        found
            .problems
            .push((at, format!("the chain is broken: {}", b.why)));
    }
    let manifest = std::fs::read(out.join(MANIFEST)).unwrap_or_default();
    let hash = blake3::hash(&manifest).to_hex().to_string();
    if entries.last().is_some_and(|e| e.manifest != hash) {
        found.problems.push((
            MANIFEST.to_owned(),
            "is not the manifest the log's last entry records: it was published without \
             being logged, or changed since"
                .into(),
        ));
    }
    found.lines = match case {
        Some(id) => case_lines(&entries, id),
        None => entries.iter().map(entry_line).collect(),
    };
    Ok(found)
}

fn case_lines(entries: &[Entry], id: &str) -> Vec<String> {
    let events = log::history(entries, id);
    if events.is_empty() {
        return vec![format!("{id}: not in the publication log")];
    }
    events
        .into_iter()
        .map(|(time, what, signed)| {
            let unsigned = if signed { "" } else { " (unsigned)" };
            format!("{time}  {id} {what}{unsigned}")
        })
        .collect()
}

fn entry_line(e: &Entry) -> String {
    let list = |ids: &[String]| {
        if ids.is_empty() {
            "-".to_owned()
        } else {
            ids.join(", ")
        }
    };
    let by = if e.signed {
        format!("key {}", e.key)
    } else {
        "UNSIGNED (no signing key)".to_owned()
    };
    format!(
        "{}  {by}  manifest {}  published: {}; changed: {}; withdrawn: {}",
        e.time,
        &e.manifest[..e.manifest.len().min(16)],
        list(&e.added),
        list(&e.changed),
        list(&e.removed)
    )
}
