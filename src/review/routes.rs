//! The review app's addresses: who may ask what. Every request but the static assets carries
//! the token (in the URL for pages and photos, in the `X-Review-Token` header, only, for
//! decisions, which a form on another site cannot send); anything else is refused.

use super::decide::{self, Kind};
use super::page;
use super::records::Records;
use super::{State, same_token};
use crate::http::{Request, Response};

/// Pages may load only what this app serves; nothing else, from anywhere.
const CSP: &str = "default-src 'none'; img-src 'self'; script-src 'self'; style-src 'self'; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn handle(state: &State, req: &Request) -> Response {
    let mut response = route(state, req);
    response
        .headers
        .push(("content-security-policy", CSP.into()));
    response
}

fn route(state: &State, req: &Request) -> Response {
    let get = req.method == "GET" || req.method == "HEAD";
    if get && let Some(name) = req.path.strip_prefix("/assets/") {
        return page::asset(name);
    }
    if get && req.path == "/favicon.ico" {
        // Browsers ask for it on their own, without the token: nothing to show, nothing refused.
        return Response::new(204, "image/x-icon", Vec::new());
    }
    let given = if get {
        req.param("t")
    } else {
        req.header("x-review-token").map(str::to_owned)
    };
    if !given.is_some_and(|t| same_token(&t, &state.token)) {
        return Response::text(
            403,
            "refused: this address needs the token printed by `beforeafter review` (open the link it printed)\n",
        );
    }
    match (get, req.path.as_str()) {
        (true, "/") => page::index(state),
        (true, "/case") => page::case(state, req),
        (true, "/photo") => photo(state, req),
        (false, "/api/landmarks") => decide::decide(state, Kind::Landmarks, &req.body),
        (false, "/api/approve") => decide::decide(state, Kind::Approve, &req.body),
        (false, "/api/private") => decide::decide(state, Kind::Private, &req.body),
        (false, _) => Response::text(405, "not a decision this app knows\n"),
        _ => Response::text(404, "not found\n"),
    }
}

/// A photo some record names, from inside INPUT.
fn photo(state: &State, req: &Request) -> Response {
    let records = Records::load(&state.input);
    let found = req
        .param("p")
        .and_then(|rel| records.photo(&state.input, &rel))
        .and_then(|path| std::fs::read(&path).ok().map(|b| (path, b)));
    match found {
        Some((path, bytes)) => Response::new(200, crate::http::content_type(&path), bytes),
        None => Response::text(404, "no recorded photo has that name\n"),
    }
}
