//! `watch --serve`: a preview of the gallery for staff, on loopback unless an address is given,
//! answered by the program's one HTTP server ([`crate::http`]).
//!
//! Only files under the output folder are served ([`http::resolve`]: no `..`, no symlink out,
//! no temp file); everything else is a 404. HTML pages get a small script that polls
//! `/__beforeafter/version` and reloads the page when a round finished. The script is added to
//! the response only; the gallery's files never contain it.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Fatal;
use crate::http::{self, Limits, Request, Response};

const VERSION_PATH: &str = "/__beforeafter/version";
const RELOAD_SCRIPT: &str = "<script>(()=>{let v=null;const f=async()=>{try{const r=await \
fetch('/__beforeafter/version',{cache:'no-store'});const t=await r.text();if(v!==null&&t!==v)\
{location.reload();return}v=t}catch(e){}setTimeout(f,1000)};f()})();</script>";

/// Bind `addr` and serve `root` on a background thread; returns the bound address (useful with
/// port 0). `generation` changes whenever the gallery did.
pub fn start(
    addr: SocketAddr,
    root: &Path,
    generation: Arc<AtomicU64>,
    limits: Limits,
) -> Result<SocketAddr, Fatal> {
    let root = root.to_owned();
    let handler = Arc::new(move |req: Request| handle(&req, &root, &generation));
    http::start(addr, limits, handler).map_err(|e| {
        Fatal::Other(format!(
            "cannot serve on {addr}: {e}; give another address with --serve ADDR"
        ))
    })
}

fn handle(req: &Request, root: &Path, generation: &AtomicU64) -> Response {
    if req.method != "GET" && req.method != "HEAD" {
        return Response::text(405, "GET only\n");
    }
    if req.path == VERSION_PATH {
        let v = generation.load(Ordering::SeqCst).to_string();
        return Response::new(200, "text/plain", v);
    }
    let found = http::resolve(root, &req.path).and_then(|f| std::fs::read(&f).ok().map(|b| (f, b)));
    let Some((file, mut body)) = found else {
        return Response::text(404, "not found\n");
    };
    let kind = http::content_type(&file);
    if kind.starts_with("text/html") {
        body = inject_reload(&body);
    }
    Response::new(200, kind, body)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reload_script_goes_before_the_end_of_body() {
        let html = inject_reload(b"<html><body><p>x</p></body></html>");
        let text = String::from_utf8(html).unwrap();
        assert!(text.contains("__beforeafter/version"));
        assert!(text.ends_with("</script></body></html>"));
    }
}
