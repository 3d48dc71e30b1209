//! `watch --serve`: a preview of the gallery for staff, on loopback unless `--allow-lan`,
//! answered by the program's one HTTP server ([`crate::http`], which also refuses requests
//! that do not name it in `Host`).
//!
//! Only files under the output folder are served ([`http::resolve`]: no `..`, no symlink out,
//! no dot-name, so not the folder's own `.beforeafter/` or `.shards/`); everything else is a
//! 404. HTML pages get a small script that polls `/__beforeafter/version` and reloads the page
//! when a round finished. The script is added to the response only; the gallery's files never
//! contain it.
//!
//! On the network (`--allow-lan`) every request needs the token printed in the link. The
//! gallery's pages link to each other and to images by relative URLs, which cannot carry it,
//! so the first request with `?t=TOKEN` sets it as an `HttpOnly; SameSite=Strict` cookie and
//! later requests show that instead: a page elsewhere can neither read it nor make the browser
//! send it. Its name carries the port, so two previews on one machine do not overwrite each
//! other's.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Fatal;
use crate::http::{self, Limits, Request, Response, same_token};

const VERSION_PATH: &str = "/__beforeafter/version";
const RELOAD_SCRIPT: &str = "<script>(()=>{let v=null;const f=async()=>{try{const r=await \
fetch('/__beforeafter/version',{cache:'no-store'});const t=await r.text();if(v!==null&&t!==v)\
{location.reload();return}v=t}catch(e){}setTimeout(f,1000)};f()})();</script>";

/// Bind `addr` and serve `root` on a background thread; returns the bound address (useful with
/// port 0). `generation` changes whenever the gallery did. With a `token`, every request must
/// show it (in `?t=` or the cookie that sets).
pub fn start(
    addr: SocketAddr,
    root: &Path,
    generation: Arc<AtomicU64>,
    limits: Limits,
    token: Option<String>,
) -> Result<SocketAddr, Fatal> {
    let root = root.to_owned();
    let handler = Arc::new(move |req: Request| match &token {
        None => handle(&req, &root, &generation),
        Some(token) => with_token(&req, token, |req| handle(req, &root, &generation)),
    });
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

/// Answer with `handle` only a request that shows `token`; one that brought it in the URL also
/// gets the cookie, so the page's relative links and images need not carry it.
fn with_token(req: &Request, token: &str, handle: impl Fn(&Request) -> Response) -> Response {
    let name = cookie_name(req);
    let in_url = req.param("t").is_some_and(|t| same_token(&t, token));
    let in_cookie = req.cookie(&name).is_some_and(|t| same_token(t, token));
    if !in_url && !in_cookie {
        return Response::text(
            403,
            "refused: this preview is on the network, so it needs the token in the link \
             `beforeafter watch --serve` printed; open that link\n",
        );
    }
    let mut response = handle(req);
    if in_url {
        let cookie = format!("{name}={token}; Path=/; HttpOnly; SameSite=Strict");
        response.headers.push(("set-cookie", cookie));
    }
    response
}

fn cookie_name(req: &Request) -> String {
    format!("beforeafter-preview-{}", req.server.port())
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

    fn get(query: &str, cookie: Option<&str>) -> Request {
        let mut headers = vec![("host".to_owned(), "192.168.1.5:8080".to_owned())];
        if let Some(c) = cookie {
            headers.push(("cookie".to_owned(), c.to_owned()));
        }
        Request {
            method: "GET".into(),
            path: "/".into(),
            query: query.into(),
            headers,
            body: Vec::new(),
            server: "0.0.0.0:8080".parse().unwrap(),
        }
    }

    #[test]
    fn on_the_network_the_token_is_asked_once_then_carried_by_a_strict_cookie() {
        let ok = |_: &Request| Response::text(200, "ok");
        let answer = |q, c| with_token(&get(q, c), "abc", ok);
        assert_eq!(answer("", None).status, 403);
        assert_eq!(answer("t=abd", None).status, 403);
        assert_eq!(answer("", Some("beforeafter-preview-8080=abd")).status, 403);
        assert_eq!(answer("", Some("beforeafter-preview-9090=abc")).status, 403);
        let first = answer("t=abc", None);
        assert_eq!(first.status, 200);
        let (_, cookie) = first
            .headers
            .iter()
            .find(|(k, _)| *k == "set-cookie")
            .unwrap();
        assert_eq!(
            cookie,
            "beforeafter-preview-8080=abc; Path=/; HttpOnly; SameSite=Strict"
        );
        let later = answer("", Some("other=1; beforeafter-preview-8080=abc"));
        assert_eq!(later.status, 200);
        assert!(
            later.headers.is_empty(),
            "the cookie is set once, from the link"
        );
    }

    #[test]
    fn reload_script_goes_before_the_end_of_body() {
        let html = inject_reload(b"<html><body><p>x</p></body></html>");
        let text = String::from_utf8(html).unwrap();
        assert!(text.contains("__beforeafter/version"));
        assert!(text.ends_with("</script></body></html>"));
    }
}
