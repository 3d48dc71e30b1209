//! The one HTTP server of the program, shared by `watch --serve` (the gallery preview) and
//! `review` (the review workspace): hyper's HTTP/1 parser on a small tokio runtime of its own
//! thread, so neither mode hand-parses requests.
//!
//! Robust by construction rather than by thread count: connections are tasks, not threads, so
//! idle ones cost a few kilobytes and do not block anyone; a request's line, headers and body
//! must all arrive within `[server] read_ms` (slow-byte senders are cut off), the whole
//! connection (one request: no keep-alive) ends after `request_ms`, and past `max_connections`
//! new connections are closed unanswered. Handlers are plain functions run on tokio's blocking
//! pool, so a slow answer (the review app re-running a case) never stalls other connections.
//!
//! Who may ask is decided here too, once for both apps: a request whose `Host` does not name
//! the server is refused before any handler sees it ([`host`]: DNS rebinding), and
//! [`refuse_lan`] keeps both off the network unless the user says `--allow-lan`.

mod files;
mod host;
mod token;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::Semaphore;

pub use files::{content_type, percent_decode, resolve};
pub use host::refuse_lan;
pub use token::{new_token, same_token};

/// What a server tolerates (from `[server]` in the config).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Connections open at once; more are closed unanswered.
    pub max_connections: usize,
    /// The request line, headers and body must have arrived within this.
    pub read_timeout: Duration,
    /// The whole connection (one request and its answer) ends after this.
    pub request_timeout: Duration,
    /// Larger request bodies are refused (413).
    pub max_body_bytes: usize,
}

/// A request as a handler sees it: everything read, nothing streaming.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// Percent-encoded, as sent.
    pub path: String,
    pub query: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The address the server is bound to (its port names per-server cookies).
    pub server: SocketAddr,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter, percent-decoded (`+` is a space).
    pub fn param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then(|| percent_decode(&v.replace('+', " ")))?
        })
    }

    /// A cookie's value, as sent.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "cookie")
            .flat_map(|(_, v)| v.split(';'))
            .find_map(|pair| {
                let (k, v) = pair.trim().split_once('=')?;
                (k == name).then_some(v)
            })
    }
}

/// A complete answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            content_type,
            body: body.into(),
            headers: Vec::new(),
        }
    }

    pub fn text(status: u16, body: &str) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body)
    }
}

/// What answers requests; run on the blocking pool.
pub type Handler = Arc<dyn Fn(Request) -> Response + Send + Sync>;

/// Bind `addr` and answer with `handler` on a background thread until the process ends; returns
/// the bound address (useful with port 0).
pub fn start(addr: SocketAddr, limits: Limits, handler: Handler) -> std::io::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("http".into())
        .spawn(move || runtime.block_on(accept(listener, Arc::new(limits), handler)))?;
    Ok(bound)
}

/// Where a connection was accepted: the bound address and the one it arrived at (the same,
/// unless bound to every interface).
#[derive(Clone, Copy)]
struct Ends {
    bound: SocketAddr,
    local: SocketAddr,
}

async fn accept(listener: std::net::TcpListener, limits: Arc<Limits>, handler: Handler) {
    let (Ok(bound), Ok(listener)) = (
        listener.local_addr(),
        tokio::net::TcpListener::from_std(listener),
    ) else {
        return;
    };
    let open = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors, say: wait a little rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            continue;
        };
        let local = stream.local_addr().unwrap_or(bound);
        let ends = Ends { bound, local };
        let (limits, handler) = (Arc::clone(&limits), Arc::clone(&handler));
        tokio::spawn(async move {
            let _permit = permit;
            let deadline = limits.request_timeout;
            let read = limits.read_timeout;
            let service =
                service_fn(move |req| answer(req, ends, Arc::clone(&limits), Arc::clone(&handler)));
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(read)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(deadline, conn).await;
        });
    }
}

async fn answer(
    req: hyper::Request<Incoming>,
    ends: Ends,
    limits: Arc<Limits>,
    handler: Handler,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    // Exactly one Host: with two, which one a proxy or browser meant is anyone's guess.
    let mut hosts = parts.headers.get_all(hyper::header::HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (Some(h), None) => h.to_str().ok(),
        _ => None,
    };
    if !host::host_allowed(host, ends.bound, ends.local) {
        return Ok(build(host::misdirected(ends.bound)));
    }
    let collect = Limited::new(body, limits.max_body_bytes).collect();
    let body = match tokio::time::timeout(limits.read_timeout, collect).await {
        Ok(Ok(b)) => b.to_bytes().to_vec(),
        Ok(Err(_)) => return Ok(build(Response::text(413, "request too large\n"))),
        Err(_) => return Ok(build(Response::text(408, "request too slow\n"))),
    };
    let request = Request {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body,
        server: ends.bound,
    };
    let response = tokio::task::spawn_blocking(move || handler(request))
        .await
        .unwrap_or_else(|_| Response::text(500, "internal error\n"));
    Ok(build(response))
}

fn build(r: Response) -> hyper::Response<Full<Bytes>> {
    let mut b = hyper::Response::builder()
        .status(r.status)
        .header("content-type", r.content_type)
        .header("cache-control", "no-store")
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer");
    for (k, v) in r.headers {
        b = b.header(k, v);
    }
    b.body(Full::new(Bytes::from(r.body)))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
}
