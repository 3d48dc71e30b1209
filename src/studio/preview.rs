//! "See it as visitors will": a case's public page, the very file `--out` holds (the gallery's
//! own page, styles and script, not a look-alike), shown in a frame on the studio's page and
//! openable on its own. The output folder is what gets published, so this is the page before
//! it goes to the website and after. A case not in it yet says why, in the board's words.
//!
//! The gallery's files are served under `/site/` by [`crate::http::resolve`] (nothing outside
//! `--out`, no dot-name, so not its `.beforeafter/`), with the token in the cookie the studio's
//! pages set: the gallery's relative links cannot carry it.

use minijinja::context;

use super::{State, encode};
use crate::http::Response;

/// The gallery's pages as they are (their inline style and the script they load), framed only
/// by the studio, loading nothing from elsewhere.
const SITE_CSP: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' \
                        'unsafe-inline'; img-src 'self' data:; base-uri 'none'; \
                        form-action 'none'; frame-ancestors 'self'";

pub fn page(state: &State, req: &crate::http::Request) -> Response {
    let source = req.param("c").unwrap_or_default();
    let cases = super::board::cases(state).unwrap_or_default();
    let Some(case) = cases.iter().find(|c| c.source == source) else {
        return Response::text(
            404,
            "There is no case with that name. Go back to the board.\n",
        );
    };
    let manifest = crate::manifest::Manifest::load(&state.out, &state.input).0;
    let published = manifest.case(&case.id).is_some_and(|c| c.published)
        && state.out.join(&case.id).join("index.html").is_file();
    let card = super::board::cards(state)
        .ok()
        .and_then(|cs| cs.into_iter().find(|c| c.source == source));
    let ctx = context! {
        source => &source,
        title => case.title(),
        published => published,
        page => format!("/site/{}/index.html", encode(&case.id)),
        card => minijinja::Value::from(minijinja::value::Serde(&card)),
        details => format!("/details?c={}&t={}", encode(&source), state.token),
        token => &state.token,
    };
    super::render("preview.html", ctx)
}

/// `GET /site/…`: a file of the gallery, as it is in `--out`.
pub fn site(state: &State, path: &str) -> Response {
    let rest = path.strip_prefix("/site").unwrap_or("/");
    let found =
        crate::http::resolve(&state.out, rest).and_then(|f| std::fs::read(&f).ok().map(|b| (f, b)));
    let mut response = match found {
        Some((file, bytes)) => Response::new(200, crate::http::content_type(&file), bytes),
        None => Response::text(404, "This page is not in the gallery (yet).\n"),
    };
    response
        .headers
        .push(("content-security-policy", SITE_CSP.into()));
    response
}
