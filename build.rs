//! Stamps the program with the commit it was built from, so `beforeafter --version` (and so a
//! clinic's bug report, and the package's man page) says exactly which code made a gallery.
//!
//! The commit comes from, in this order: `BEFOREAFTER_COMMIT` (a packager building without git
//! sets it), `git` when this folder is the top of a git checkout (not a crate unpacked inside
//! someone else's repository), or `.cargo_vcs_info.json`, which `cargo package` writes into a
//! crate tarball. Without any of them the version says "commit unknown" rather than guess.
//!
//! The git files that name the commit (HEAD, the branch's ref, packed-refs) are watched, so a
//! new commit rebuilds the crate once and `--version` is never stale. A build from a tree with
//! uncommitted changes shows the commit it started from.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=BEFOREAFTER_COMMIT");
    let from_env = std::env::var("BEFOREAFTER_COMMIT").ok();
    let commit = commit(&dir, from_env.as_deref(), |path| {
        println!("cargo::rerun-if-changed={}", path.display());
    });
    let version = version_line(env!("CARGO_PKG_VERSION"), commit.as_deref());
    println!("cargo::rustc-env=BEFOREAFTER_VERSION={version}");
}

/// `0.1.0 (commit 1a2b3c4d5e6f)`, or `0.1.0 (commit unknown)`.
pub fn version_line(version: &str, commit: Option<&str>) -> String {
    match commit {
        Some(c) => format!("{version} (commit {})", &c[..c.len().min(12)]),
        None => format!("{version} (commit unknown)"),
    }
}

/// The commit of the source in `dir`, from `from_env`, git or `.cargo_vcs_info.json`; `watch`
/// is told each git file that would change with the commit.
pub fn commit(dir: &Path, from_env: Option<&str>, mut watch: impl FnMut(&Path)) -> Option<String> {
    if let Some(c) = from_env.map(str::trim).filter(|c| is_hex(c)) {
        return Some(c.to_owned());
    }
    git_commit(dir, &mut watch).or_else(|| vcs_info_commit(dir, &mut watch))
}

fn is_hex(s: &str) -> bool {
    s.len() >= 7 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// `git rev-parse HEAD` when `dir` is the top of its own checkout.
fn git_commit(dir: &Path, watch: &mut impl FnMut(&Path)) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if std::fs::canonicalize(&top).ok()? != std::fs::canonicalize(dir).ok()? {
        return None;
    }
    let head = git(dir, &["rev-parse", "HEAD"]).filter(|c| is_hex(c))?;
    let mut files = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    files.extend(git(dir, &["rev-parse", "--symbolic-full-name", "HEAD"]));
    for name in files {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", &name]) {
            let path = dir.join(path);
            // A watched file that does not exist would rerun this script on every build.
            if path.is_file() {
                watch(&path);
            }
        }
    }
    Some(head)
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}

/// `{"git": {"sha1": "…"}, …}`, written by `cargo package` (no JSON parser in a build script:
/// the one field is found by its name).
fn vcs_info_commit(dir: &Path, watch: &mut impl FnMut(&Path)) -> Option<String> {
    let path = dir.join(".cargo_vcs_info.json");
    if path.is_file() {
        watch(&path);
    }
    let text = std::fs::read_to_string(path).ok()?;
    let after = &text[text.find("\"sha1\"")? + "\"sha1\"".len()..];
    let value = after
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let sha = &value[..value.find('"')?];
    is_hex(sha).then(|| sha.to_owned())
}
