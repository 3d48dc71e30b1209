//! "Update the gallery now": the watch running in this process is asked for a round at once,
//! and the page follows it through `/api/status` until it ends, saying the result in words.
//!
//! The hook for publishing to the website (`src/publish/`, being built apart): once that work
//! lands, the push belongs after a round that ended well — here, where the button is answered
//! ([`run_now`]) and reported ([`status`]: add the live site's last update to [`Report`]) —
//! not in the watch loop, so a clinic that publishes by hand keeps the gallery current on
//! disk without pushing on every change.

use serde::Serialize;
use serde_json::json;

use super::{State, json, refused};
use crate::http::Response;
use crate::watch::Status;

/// What the page shows: the watch's status and a sentence for it.
#[derive(Debug, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub status: Status,
    pub sentence: String,
}

/// The status in one sentence for the front desk.
#[must_use]
pub fn sentence(s: &Status) -> String {
    match (s.running, &s.error, &s.words, &s.finished) {
        (true, ..) => "Updating the gallery\u{2026}".into(),
        (false, Some(e), _, Some(at)) => {
            format!("The gallery could not be updated at {at} UTC: {e}")
        }
        (false, None, Some(words), Some(at)) => format!("Gallery updated at {at} UTC: {words}."),
        _ => "The gallery has not been updated yet since the studio started.".into(),
    }
}

pub fn status(state: &State) -> Response {
    let status = state.control.status();
    let report = Report {
        sentence: sentence(&status),
        status,
    };
    json(200, &serde_json::to_value(report).unwrap_or_default())
}

pub fn run_now(state: &State) -> Response {
    let rounds = state.control.status().rounds;
    if !state.control.run_now() {
        return refused(503, "The studio is still starting: try again in a moment.");
    }
    json(
        200,
        &json!({ "ok": true, "rounds": rounds, "sentence": "Updating the gallery\u{2026}" }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_reads_as_a_sentence() {
        let mut s = Status::default();
        assert!(sentence(&s).contains("not been updated yet"));
        s.running = true;
        assert_eq!(sentence(&s), "Updating the gallery\u{2026}");
        s.running = false;
        s.finished = Some("14:02:10".into());
        s.words = Some("2 cases on the website".into());
        assert_eq!(
            sentence(&s),
            "Gallery updated at 14:02:10 UTC: 2 cases on the website."
        );
    }
}
