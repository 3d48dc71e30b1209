//! The studio's templates, style sheet and script, built into the program (nothing is loaded
//! from elsewhere: the CSP says so).

use crate::http::Response;

/// Every template, by name; pages extend `layout.html`.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("templates/layout.html")),
    ("board.html", include_str!("templates/board.html")),
    ("new.html", include_str!("templates/new.html")),
    ("details.html", include_str!("templates/details.html")),
    ("preview.html", include_str!("templates/preview.html")),
];

const SCRIPT: &str = include_str!("assets/studio.js");
const STYLE: &str = include_str!("assets/studio.css");

pub fn asset(name: &str) -> Response {
    match name {
        "studio.js" => Response::new(200, "text/javascript; charset=utf-8", SCRIPT),
        "studio.css" => Response::new(200, "text/css; charset=utf-8", STYLE),
        _ => Response::text(404, "not found\n"),
    }
}
