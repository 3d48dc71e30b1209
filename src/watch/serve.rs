//! `watch --serve`: a preview of the gallery for staff, on loopback unless an address is given.
//!
//! Only files under the output folder are served: the request path is percent-decoded, any `..`
//! segment, backslash or NUL is refused, and the resolved file must still be inside the folder
//! after symlinks are followed; everything else is a 404. HTML pages get a small script that polls
//! `/__beforeafter/version` and reloads the page when a round finished. The script is added to the
//! response only; the gallery's files never contain it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crate::error::Fatal;

const VERSION_PATH: &str = "/__beforeafter/version";
/// Connections served at once; more are closed unanswered.
const MAX_CONNECTIONS: usize = 64;
/// A request's line and headers are read up to this many bytes; the rest is ignored.
const MAX_HEAD_BYTES: u64 = 16 * 1024;
const RELOAD_SCRIPT: &str = "<script>(()=>{let v=null;const f=async()=>{try{const r=await \
fetch('/__beforeafter/version',{cache:'no-store'});const t=await r.text();if(v!==null&&t!==v)\
{location.reload();return}v=t}catch(e){}setTimeout(f,1000)};f()})();</script>";

/// Bind `addr` and serve `root` on a background thread; returns the bound address (useful with
/// port 0). `generation` changes whenever the gallery did.
pub fn start(
    addr: SocketAddr,
    root: &Path,
    generation: Arc<AtomicU64>,
) -> Result<SocketAddr, Fatal> {
    let listener = TcpListener::bind(addr).map_err(|e| {
        Fatal::Other(format!(
            "cannot serve on {addr}: {e}; give another address with --serve ADDR"
        ))
    })?;
    let bound = listener
        .local_addr()
        .map_err(|e| Fatal::Other(e.to_string()))?;
    let root = root.to_owned();
    let open = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // A preview for staff needs a handful of connections; past the cap new ones are
            // closed at once, so a flood (when bound beyond loopback) cannot exhaust threads.
            if open.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                continue;
            }
            open.fetch_add(1, Ordering::SeqCst);
            let (root, generation, open) = (root.clone(), generation.clone(), open.clone());
            std::thread::spawn(move || {
                let _ = handle(stream, &root, &generation);
                open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    Ok(bound)
}

fn handle(mut stream: TcpStream, root: &Path, generation: &AtomicU64) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?.take(MAX_HEAD_BYTES));
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Drain the headers; nothing in them changes the answer.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n",
            true,
        );
    }
    let path = target.split(['?', '#']).next().unwrap_or("");
    let head = method == "HEAD";
    if path == VERSION_PATH {
        let v = generation.load(Ordering::SeqCst).to_string();
        return respond(&mut stream, "200 OK", "text/plain", v.as_bytes(), !head);
    }
    let found = resolve(root, path).and_then(|f| std::fs::read(&f).ok().map(|b| (f, b)));
    let Some((file, mut body)) = found else {
        return respond(
            &mut stream,
            "404 Not Found",
            "text/plain",
            b"not found\n",
            !head,
        );
    };
    let kind = content_type(&file);
    if kind.starts_with("text/html") {
        body = inject_reload(&body);
    }
    respond(&mut stream, "200 OK", kind, &body, !head)
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    kind: &str,
    body: &[u8],
    with_body: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\
         X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
}

/// The file under `root` that a request path names, or `None` (a 404) for anything that is not
/// a plain relative path to a file inside `root`.
pub fn resolve(root: &Path, request_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(request_path)?;
    if decoded.contains(['\\', '\0']) || !decoded.starts_with('/') {
        return None;
    }
    let mut path = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return None,
            s if s.starts_with(crate::output::TEMP_PREFIX) => return None,
            s => path.push(s),
        }
    }
    if path.is_dir() {
        path.push("index.html");
    }
    let real = path.canonicalize().ok()?;
    let real_root = root.canonicalize().ok()?;
    (real.starts_with(&real_root) && real.is_file()).then_some(real)
}

/// `%2e%2E` → `..`; `None` for a malformed escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
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

fn inject_reload(html: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(html);
    let at = text
        .to_ascii_lowercase()
        .rfind("</body>")
        .unwrap_or(text.len());
    let mut out = String::with_capacity(text.len() + RELOAD_SCRIPT.len());
    out.push_str(&text[..at]);
    out.push_str(RELOAD_SCRIPT);
    out.push_str(&text[at..]);
    out.into_bytes()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
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
    fn reload_script_goes_before_the_end_of_body() {
        let html = inject_reload(b"<html><body><p>x</p></body></html>");
        let text = String::from_utf8(html).unwrap();
        assert!(text.contains("__beforeafter/version"));
        assert!(text.ends_with("</script></body></html>"));
    }
}
