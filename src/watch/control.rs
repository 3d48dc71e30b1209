//! A running watch as another part of the same process sees it: the studio
//! ([`crate::studio`]) asks it for a round at once ("Update the gallery now") or to look at
//! the whole folder again (a case folder it just saved), and reads where the last round got
//! to, in words for the front desk. The watch owns the loop; this is only its mailbox and its
//! notice board, so the studio never runs the pipeline itself (the watch holds the output
//! folder's lock, and one writer is the rule).

use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

use super::intake::Msg;
use crate::pipeline::Summary;

/// Shared between the watch loop and whoever started it; cheap to clone.
#[derive(Clone, Default)]
pub struct Control {
    sender: Arc<Mutex<Option<Sender<Msg>>>>,
    status: Arc<Mutex<Status>>,
}

/// Where the gallery's updating stands.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Status {
    /// A round is running now.
    pub running: bool,
    /// Rounds finished (or failed) since the start.
    pub rounds: u64,
    /// When the last round ended, UTC, `HH:MM:SS`.
    pub finished: Option<String>,
    /// The last round's result in words ("2 cases on the website, 1 waiting for consent").
    pub words: Option<String>,
    /// The last round failed as a whole: why, in words.
    pub error: Option<String>,
}

impl Control {
    /// Ask for a round now; `false` when no watch is listening (yet).
    pub fn run_now(&self) -> bool {
        self.send(Msg::RunNow)
    }

    /// Ask the watch to compare the whole folder again (a folder was moved in by the program).
    pub fn rescan(&self) -> bool {
        self.send(Msg::Rescan)
    }

    #[must_use]
    pub fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn send(&self, msg: Msg) -> bool {
        let sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        sender.as_ref().is_some_and(|tx| tx.send(msg).is_ok())
    }

    pub(super) fn listen(&self, tx: Sender<Msg>) {
        *self.sender.lock().unwrap_or_else(PoisonError::into_inner) = Some(tx);
    }

    pub(super) fn update(&self, change: impl FnOnce(&mut Status)) {
        change(&mut self.status.lock().unwrap_or_else(PoisonError::into_inner));
    }

    pub(super) fn started(&self) {
        self.update(|s| s.running = true);
    }

    /// A round ended: with its summary, or the error that stopped it.
    pub(super) fn ended(&self, result: Result<&Summary, String>) {
        let stamp = crate::dates::utc_now_seconds();
        let now = stamp
            .split('T')
            .nth(1)
            .unwrap_or("")
            .trim_end_matches('Z')
            .to_owned();
        self.update(|s| {
            s.running = false;
            s.rounds += 1;
            s.finished = Some(now);
            match result {
                Ok(summary) => {
                    s.words = Some(words(summary));
                    s.error = None;
                }
                Err(e) => s.error = Some(e),
            }
        });
    }
}

/// A round's result as the front desk says it.
fn words(s: &Summary) -> String {
    let on_site = s.published + s.up_to_date;
    let mut parts = vec![plural(
        on_site,
        "case on the website",
        "cases on the website",
    )];
    let mut add = |n: usize, one: &str, many: &str| {
        if n > 0 {
            parts.push(plural(n, one, many));
        }
    };
    add(
        s.no_consent,
        "waiting for the patient's consent",
        "waiting for the patients' consent",
    );
    add(
        s.review,
        "held for a check by staff",
        "held for a check by staff",
    );
    add(s.failed, "could not be made", "could not be made");
    add(
        s.waiting,
        "still receiving photos",
        "still receiving photos",
    );
    parts.join(", ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rounds_result_is_said_in_words() {
        let s = Summary {
            published: 1,
            up_to_date: 1,
            no_consent: 1,
            failed: 2,
            ..Summary::default()
        };
        assert_eq!(
            words(&s),
            "2 cases on the website, 1 waiting for the patient's consent, 2 could not be made"
        );
        let control = Control::default();
        assert!(!control.run_now(), "no watch listening yet");
        control.started();
        assert!(control.status().running);
        control.ended(Ok(&s));
        let status = control.status();
        assert!(!status.running && status.rounds == 1 && status.finished.is_some());
    }
}
