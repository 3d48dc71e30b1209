//! The studio's addresses: who may ask what. As in the review app (whose screens are answered
//! here too), every request but the static assets shows the token: pages and photos in the
//! URL (`?t=`) or in the cookie the first page sets (`HttpOnly; SameSite=Strict`, so the
//! gallery's own pages, whose relative links cannot carry it, can be previewed); changes only
//! in the `X-Review-Token` header, which a form on another site cannot send, and, when the
//! browser sends an `Origin`, only from the studio's own.

use super::{State, board, form, newcase, preview, run, upload};
use crate::http::{Request, Response, same_token};
use crate::review::routes::same_origin;

/// The studio's own pages: only what this app serves; frames only of its own previews.
const CSP: &str = "default-src 'none'; img-src 'self'; script-src 'self'; style-src 'self'; \
                   connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

pub fn handle(state: &State, req: &Request) -> Response {
    let mut response = route(state, req);
    if !response
        .headers
        .iter()
        .any(|(k, _)| *k == "content-security-policy")
    {
        response
            .headers
            .push(("content-security-policy", CSP.into()));
    }
    response
}

fn route(state: &State, req: &Request) -> Response {
    let get = req.method == "GET" || req.method == "HEAD";
    if get && let Some(name) = req.path.strip_prefix("/studio-assets/") {
        return super::assets::asset(name);
    }
    if get && (req.path == "/favicon.ico" || req.path.starts_with("/assets/")) {
        return crate::review::routes::handle(&state.review, req);
    }
    if !get && !same_origin(req) {
        return super::refused(
            403,
            "Refused: this change came from a page that is not the studio. Make it from the \
             page the printed link opens.",
        );
    }
    let in_url = get && req.param("t").is_some_and(|t| same_token(&t, &state.token));
    let shown = if get {
        in_url
            || req
                .cookie(&cookie_name(req))
                .is_some_and(|t| same_token(t, &state.token))
    } else {
        req.header("x-review-token")
            .is_some_and(|t| same_token(t, &state.token))
    };
    if !shown {
        return Response::text(
            403,
            "Refused: the studio needs the link `beforeafter studio` printed, with its token. \
             Open that link.\n",
        );
    }
    let mut response = answer(state, req, get);
    if in_url {
        let cookie = format!(
            "{}={}; Path=/; HttpOnly; SameSite=Strict",
            cookie_name(req),
            state.token
        );
        response.headers.push(("set-cookie", cookie));
    }
    response
}

fn answer(state: &State, req: &Request, get: bool) -> Response {
    match (get, req.path.as_str()) {
        (true, "/") => board::page(state),
        (true, "/thumb") => board::thumb(state, req),
        (true, "/new") => upload::page(state),
        (true, "/staged") => upload::staged(state, req),
        (true, "/details") => form::page(state, req),
        (true, "/preview") => preview::page(state, req),
        (true, p) if p.starts_with("/site/") => preview::site(state, p),
        (true, "/api/status") => run::status(state),
        (false, "/api/upload") => upload::receive(state, req),
        (false, "/api/new-case") => newcase::save(state, req),
        (false, "/api/details") => form::save(state, req),
        (false, "/api/run") => run::run_now(state),
        // The review app's list of held cases, under a name of its own (the board is `/`).
        (true, "/review") => crate::review::routes::handle(&state.review, &at_root(req)),
        _ => crate::review::routes::handle(&state.review, req),
    }
}

/// `req` addressed to `/` (the review app's list).
fn at_root(req: &Request) -> Request {
    Request {
        method: req.method.clone(),
        path: "/".into(),
        query: req.query.clone(),
        headers: req.headers.clone(),
        body: Vec::new(),
        server: req.server,
    }
}

/// Per port, so two studios (or a studio and a preview) on one computer keep their own.
fn cookie_name(req: &Request) -> String {
    format!("beforeafter-studio-{}", req.server.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_sites_origin_is_refused() {
        let req = |origin: Option<&str>| Request {
            method: "POST".into(),
            path: "/api/run".into(),
            query: String::new(),
            headers: [("host", "127.0.0.1:8090")]
                .into_iter()
                .chain(origin.map(|o| ("origin", o)))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            body: Vec::new(),
            server: "127.0.0.1:8090".parse().unwrap(),
        };
        assert!(same_origin(&req(None)));
        assert!(same_origin(&req(Some("http://127.0.0.1:8090"))));
        assert!(!same_origin(&req(Some("http://evil.example"))));
        assert!(!same_origin(&req(Some("null"))));
    }
}
