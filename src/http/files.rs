//! Serving files from a folder: a request path to a file strictly inside it (or nothing), and
//! the content type of a file.
//!
//! Nothing whose name starts with a dot is ever served: the output folder keeps its private
//! state there (`.beforeafter/`: the lock, the journals; `.shards/`: records of cases not yet
//! published; `.beforeafter-tmp-*` files being written), and a gallery has no dot-file to show.

use std::path::{Path, PathBuf};

/// The file under `root` that a request path names, or `None` (a 404) for anything that is not
/// a plain relative path to a file inside `root`, or that passes through a dot-name.
pub fn resolve(root: &Path, request_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(request_path)?;
    if decoded.contains(['\\', '\0']) || !decoded.starts_with('/') {
        return None;
    }
    let mut path = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" => {}
            // `.` and `..` too: a path is spelled plainly or not at all.
            s if s.starts_with('.') => return None,
            s => path.push(s),
        }
    }
    if path.is_dir() {
        path.push("index.html");
    }
    let real = path.canonicalize().ok()?;
    let real_root = root.canonicalize().ok()?;
    // Checked again on the real path, so a link inside the folder cannot lead into `.beforeafter/`.
    let inside = real.strip_prefix(&real_root).ok()?;
    let hidden = inside
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
    (!hidden && real.is_file()).then_some(real)
}

/// `%2e%2E` → `..`; `None` for a malformed escape or bytes that are not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "png" => "image/png",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_inside_the_root_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        std::fs::create_dir_all(root.join("case")).unwrap();
        std::fs::write(root.join("index.html"), "x").unwrap();
        std::fs::write(root.join("case/index.html"), "x").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "x").unwrap();
        assert!(resolve(&root, "/").is_some());
        assert!(resolve(&root, "/case/").is_some());
        assert!(resolve(&root, "/case/index.html").is_some());
        for bad in [
            "/../secret.txt",
            "/case/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/%2E%2E%2fsecret.txt",
            "/..%5csecret.txt",
            "/%252e%252e/secret.txt",
            "/case/%00",
            "//etc/passwd",
            "/%zz",
            "secret.txt",
        ] {
            assert_eq!(resolve(&root, bad), None, "{bad}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("link.txt"))
                .unwrap();
            assert_eq!(resolve(&root, "/link.txt"), None, "symlink out of the root");
        }
    }

    #[test]
    fn the_output_folders_private_state_and_dot_files_are_never_served() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for file in [
            ".beforeafter/lock",
            ".beforeafter/index.html",
            ".shards/1-of-2.json",
            "case/.hidden.jpg",
            ".beforeafter-tmp-x.jpg",
            "case/index.html",
        ] {
            std::fs::create_dir_all(root.join(file).parent().unwrap()).unwrap();
            std::fs::write(root.join(file), "x").unwrap();
        }
        assert!(resolve(root, "/case/index.html").is_some());
        for bad in [
            "/.beforeafter/lock",
            "/.beforeafter/",
            "/%2ebeforeafter/lock",
            "/.shards/1-of-2.json",
            "/case/.hidden.jpg",
            "/.beforeafter-tmp-x.jpg",
            "/./case/index.html",
        ] {
            assert_eq!(resolve(root, bad), None, "{bad}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join(".beforeafter"), root.join("state")).unwrap();
            assert_eq!(
                resolve(root, "/state/lock"),
                None,
                "a link into .beforeafter/"
            );
        }
    }
}
