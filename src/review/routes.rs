//! The review app's addresses: who may ask what. Every request but the static assets carries
//! the token (in the URL for pages and photos, in the `X-Review-Token` header, only, for
//! decisions, which a form on another site cannot send); anything else is refused.
//!
//! A decision's `Origin`, when the browser sends one, must be this app's own (`http://` and
//! the `Host` the server already accepted): a page elsewhere that somehow holds the token
//! still cannot decide. An absent `Origin` is let through: browsers send one with every POST a
//! page makes, so only a program without a browser (curl, a script) leaves it out, and that
//! program had to be given the token and put it in a header, which is the proof asked of
//! everyone. Refusing it would lock out scripting and stop nothing.

use super::State;
use super::decide::{self, Kind};
use super::page;
use super::preview;
use super::records::Records;
use super::settings;
use crate::http::{Request, Response, same_token};

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
    if !get && !same_origin(req) {
        return Response::text(
            403,
            "refused: this decision came from a page that is not the review app (its Origin \
             is another site); decide from the page the printed link opens\n",
        );
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
        (false, "/api/publish-again") => decide::decide(state, Kind::PublishAgain, &req.body),
        (false, "/api/withhold") => decide::decide(state, Kind::Withhold, &req.body),
        (false, "/api/unwithhold") => decide::decide(state, Kind::Unwithhold, &req.body),
        // Clinic settings (issue 34 item 6): [gallery] and [watermark] of beforeafter.toml. The
        // studio links to /settings?t=TOKEN.
        (true, "/settings") => settings::page(state),
        (true, "/settings/preview") => settings::preview(state, req),
        (false, "/api/settings") => settings::save(state, &req.body),
        (false, "/api/settings/logo") => settings::logo(state, &req.body),
        (false, _) => Response::text(405, "not a decision this app knows\n"),
        _ => Response::text(404, "not found\n"),
    }
}

/// The request's `Origin`, if sent, is the page's own: `http://` and the `Host` it was sent to.
/// The studio answers its own changes by the same rule.
pub(crate) fn same_origin(req: &Request) -> bool {
    let (Some(origin), Some(host)) = (req.header("origin"), req.header("host")) else {
        return req.header("origin").is_none();
    };
    origin
        .strip_prefix("http://")
        .is_some_and(|o| o.eq_ignore_ascii_case(host))
}

/// A photo some record names, from inside INPUT, as the browser can show it (a HEIC as a JPEG
/// made here: [`preview`]).
fn photo(state: &State, req: &Request) -> Response {
    let records = Records::load(&state.input);
    let found = req
        .param("p")
        .and_then(|rel| records.photo(&state.input, &rel));
    match found {
        Some(path) => preview::photo(&path, &state.config()),
        None => Response::text(404, "no recorded photo has that name\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "POST".into(),
            path: "/api/private".into(),
            query: String::new(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: Vec::new(),
            server: "127.0.0.1:8081".parse().unwrap(),
        }
    }

    #[test]
    fn a_decision_from_another_origin_is_not_the_apps() {
        let host = ("host", "127.0.0.1:8081");
        assert!(same_origin(&post(&[
            host,
            ("origin", "http://127.0.0.1:8081")
        ])));
        assert!(
            same_origin(&post(&[host])),
            "no Origin: a program, not a page"
        );
        for other in [
            "http://evil.example",
            "http://127.0.0.1:8082",
            "https://127.0.0.1:8081",
            "http://localhost:8081",
            "null",
            "",
        ] {
            assert!(!same_origin(&post(&[host, ("origin", other)])), "{other}");
        }
    }
}
