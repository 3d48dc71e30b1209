//! `beforeafter init DIR`: a new clinic's photo folder and a first run without guessing. DIR
//! is the photo folder (the cases go straight in it); the gallery is made beside it, in
//! `DIR-gallery`, since the output folder may not be inside the photos. The guide is printed
//! with paths as typed, so its commands work from where `init` was run, and saved as
//! `DIR/README.md`. Its config holds only what clinics change (the rest points to the full
//! reference), and its example case file publishes nothing until edited: every caption is
//! commented out.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::ExitCode;

/// The short config: the settings clinics change, each at its default (a test holds them to
/// `config/default.toml`), and where the full reference is.
pub const CONFIG: &str = include_str!("init/clinic.toml");
/// The example case file: captions commented out, consent not given.
pub const CASE: &str = include_str!("init/case.toml");
/// The line of [`CASE`] that records consent, and what the guide says to make it.
pub const CONSENT_OFF: &str = "website = false";
pub const CONSENT_ON: &str = "website = true";
/// The example client folder the guide names.
const CLIENT: &str = "client-07";

pub fn run(dir: &Path, clinic: Option<&str>) -> Result<ExitCode> {
    let clinic = clinic.map(str::trim).filter(|c| !c.is_empty());
    let guide = guide(dir, clinic.is_some());
    let config = config_for(clinic);
    let files: [(&str, &str); 3] = [
        ("beforeafter.toml", &config),
        ("README.md", &guide),
        ("example-case/case.toml", CASE),
    ];
    for (rel, text) in files {
        let path = dir.join(rel);
        if path.exists() {
            println!("kept     {} (already exists)", path.display());
            continue;
        }
        write_new(&path, text)?;
        println!("created  {}", path.display());
    }
    println!();
    print!("{guide}");
    Ok(ExitCode::Done)
}

/// [`CONFIG`] with `[gallery] clinic` set (the watermark follows it).
pub fn config_for(clinic: Option<&str>) -> String {
    match clinic {
        Some(name) => {
            let value = toml::Value::String(name.to_owned()).to_string();
            CONFIG.replacen("\nclinic = \"\"\n", &format!("\nclinic = {value}\n"), 1)
        }
        None => CONFIG.to_owned(),
    }
}

/// The gallery folder beside `dir`: `my-clinic` -> `my-clinic-gallery`.
pub fn gallery_for(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .filter(|n| *n != "." && *n != "..")
        .map(|n| n.to_string_lossy().into_owned());
    match name {
        Some(n) => dir.with_file_name(format!("{n}-gallery")),
        // `init .`: name it after the folder itself, one level up.
        None => {
            let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
            let n = real.file_name().map(|n| n.to_string_lossy().into_owned());
            dir.join("..")
                .join(format!("{}-gallery", n.unwrap_or("clinic".into())))
        }
    }
}

/// The numbered steps from an empty folder to a published gallery.
pub fn guide(dir: &Path, named: bool) -> String {
    let at = |rel: &str| quote(&dir.join(rel));
    let (d, config) = (quote(dir), at("beforeafter.toml"));
    let gallery = gallery_for(dir);
    let mut steps = Vec::new();
    if !named {
        steps.push(format!(
            "Name your clinic: in {config} set clinic = \"…\" (the header and the watermark)."
        ));
    }
    steps.push(format!(
        "Put each client's photos in a folder of their own in {d}, named by stage:\n      \
         {}  {}\n   \
         (session-1.jpg, session-2.jpg … between them; crown_before.jpg, front_after.jpg …\n   \
         for several views). Folder names are never published: a client's name is fine.",
        at(&format!("{CLIENT}/before.jpg")),
        at(&format!("{CLIENT}/after.jpg")),
    ));
    steps.push(format!(
        "Record the client's consent: copy the example case file into their folder,\n      \
         cp {} {}\n   \
         then in {} change `{CONSENT_OFF}` to `{CONSENT_ON}`\n   \
         once the client has agreed: until then nothing of the case is published. Its captions\n   \
         are commented out: remove the # in front of those you want shown.",
        at("example-case/case.toml"),
        at(&format!("{CLIENT}/")),
        at(&format!("{CLIENT}/case.toml")),
    ));
    steps.push(format!(
        "See what would be published, and any problem:\n      beforeafter check {d}"
    ));
    steps.push(format!(
        "Make the gallery (beside the photos, never inside them):\n      \
         beforeafter batch {d} --out {}",
        quote(&gallery)
    ));
    steps.push(format!(
        "Open {} in a browser, then upload the folder\n   {} to your website as it is.",
        quote(&gallery.join("index.html")),
        quote(&gallery)
    ));
    let mut text = format!(
        "# Your beforeafter photo folder: {d}\n\n\
         Run these from the folder where `beforeafter init` was run (the one holding {d}).\n\
         Settings: {config} (name, logo, watermark, booking link, sizes;\n\
         it names the full list).\n\n"
    );
    for (i, step) in steps.iter().enumerate() {
        text.push_str(&format!("{}. {step}\n", i + 1));
    }
    text
}

/// `path` as a shell word: as it is when it holds only safe characters, else in single quotes.
fn quote(path: &Path) -> String {
    let s = path.to_string_lossy();
    let safe = |c: char| c.is_ascii_alphanumeric() || "._-/+:,@".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Create `path` (and its folder) with `text`, whole or not at all.
fn write_new(path: &Path, text: &str) -> Result<()> {
    let fail = || {
        format!(
            "cannot write {}: check that its folder is writable",
            path.display()
        )
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(fail)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let result = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The short config's comments say each value is the default: hold them to it.
    #[test]
    fn short_config_values_are_the_defaults() {
        let short: toml::Table = toml::from_str(CONFIG).unwrap();
        let full: toml::Table = toml::from_str(crate::config::DEFAULT_TOML).unwrap();
        for (section, keys) in &short {
            for (key, value) in keys.as_table().unwrap() {
                assert_eq!(Some(value), full[section].get(key), "[{section}] {key}");
            }
        }
    }

    /// The guide names the consent line as the template writes it.
    #[test]
    fn the_case_template_publishes_nothing_but_its_consent_line() {
        let case: toml::Table = toml::from_str(CASE).unwrap();
        assert_eq!(case.keys().collect::<Vec<_>>(), ["consent"]);
        assert!(CASE.lines().any(|l| l == CONSENT_OFF));
        let edited = CASE.replace(CONSENT_OFF, CONSENT_ON);
        assert_eq!(
            toml::from_str::<toml::Table>(&edited).unwrap()["consent"]["website"],
            true.into()
        );
    }

    #[test]
    fn gallery_sits_beside_the_photo_folder() {
        assert_eq!(
            gallery_for(Path::new("my-clinic")),
            Path::new("my-clinic-gallery")
        );
        assert_eq!(
            gallery_for(Path::new("/srv/a b")),
            Path::new("/srv/a b-gallery")
        );
        assert_eq!(quote(Path::new("/srv/a b")), "'/srv/a b'");
        assert_eq!(quote(Path::new("it's")), "'it'\\''s'");
    }
}
