//! The sample gallery, built once per test binary with the real binary into `target/tmp/`,
//! plus text helpers shared by the gallery tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The public id of the sample flat pair `hairline-07_before.jpg` / `_after.jpg`: opaque, from
/// the sample clinic's committed key (`samples/.beforeafter/id-key`), since a flat pair's name is
/// usually a patient's.
pub const FLAT_PAIR_ID: &str = "case-644c32";

/// `samples/` rendered into `target/tmp/<name>/gallery`; built on first use.
pub fn sample_gallery(name: &str) -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(name)
            .join("gallery");
        let _ = std::fs::remove_dir_all(&out);
        let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
        let o = Command::new(env!("CARGO_BIN_EXE_beforeafter"))
            .args([
                "batch",
                samples.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    })
}

/// `target/<sub>`, created.
pub fn target_dir(sub: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join(sub);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Content hashes in file names (`.1a2b3c4d.jpg`) and asset versions (`?v=1a2b3c4d`) replaced,
/// so snapshots do not depend on encoder output, which may differ between CPUs.
pub fn normalise(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex8 = |at: usize| {
            at + 8 <= bytes.len()
                && bytes[at..at + 8]
                    .iter()
                    .all(|b| b"0123456789abcdef".contains(b))
        };
        if bytes[i] == b'.' && hex8(i + 1) && bytes.get(i + 9) == Some(&b'.') {
            out.push_str(".KEY.");
            i += 10;
        } else if text[i..].starts_with("?v=") && hex8(i + 3) {
            out.push_str("?v=HASH");
            i += 11;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Every `<tag ...>` opening tag named `name` in `html`.
pub fn tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&open) {
        let tail = &rest[at..];
        let after = tail.as_bytes().get(open.len()).copied();
        let end = tail.find('>').unwrap_or(tail.len());
        if matches!(after, Some(b' ' | b'>' | b'\n')) {
            found.push(&tail[..end + 1]);
        }
        rest = &tail[end.min(tail.len() - 1) + 1..];
    }
    found
}

/// The value of `attr` in an opening tag.
pub fn attr<'a>(tag: &'a str, attr: &str) -> Option<&'a str> {
    let key = format!(" {attr}=\"");
    let at = tag.find(&key)? + key.len();
    let len = tag[at..].find('"')?;
    Some(&tag[at..at + len])
}

/// A test that cannot run here (a tool is missing): fails under CI (`CI` set), where `.ci/run`
/// installs the tool; otherwise it is said on the terminal and the test passes. Written to the
/// process's stderr handle rather than with `eprintln!`, which the test harness captures and
/// shows only for failing tests, so the skip would go unseen.
pub fn skip_or_fail(message: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{message}; CI must run it"
    );
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "\n*** {message} ***\n");
}
