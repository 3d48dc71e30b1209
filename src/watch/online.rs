//! Watch mode and the website: with `[publish] to` set, every round that changed the gallery is
//! followed by a publish (`crate::publish::run`), so a withdrawn consent leaves the website
//! seconds after `case.toml` is saved. A publish that fails (host down, network gone) is tried
//! again after 1 s, doubling to 60 s, without waiting for another change: a withdrawal keeps
//! being sent until it is through (`check` shows it as pending meanwhile).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use super::events::{Event, Log};
use crate::config::Config;

const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(60);

/// The publishing state of a watcher.
#[derive(Default)]
pub struct Online {
    /// After a failed publish: when to try again, and the wait after that one.
    retry: Option<(Instant, Duration)>,
}

impl Online {
    /// Whether a retry is waiting (the watcher then ticks instead of sleeping).
    pub fn waiting(&self) -> bool {
        self.retry.is_some()
    }

    /// Whether a retry is due now.
    pub fn due(&self, now: Instant) -> bool {
        self.retry.is_some_and(|(at, _)| now >= at)
    }

    /// Publish `out` to `[publish] to`, if set; logged either way.
    pub fn publish(&mut self, config: &Config, input: &Path, out: &Path, log: &Log) {
        let to = config.publish.to.as_str();
        if to.is_empty() {
            self.retry = None;
            return;
        }
        let start = Instant::now();
        let opts = crate::publish::report::options(&config.publish, Some(input));
        let mut ignore = |_: &crate::publish::Event| {};
        match crate::publish::run(out, to, &opts, &mut ignore) {
            Ok(r) => {
                self.retry = None;
                let seconds = start.elapsed().as_secs_f64();
                let mut message = format!(
                    "website {}: {} file(s) uploaded, {} deleted in {seconds:.2} s",
                    r.target, r.uploaded, r.deleted
                );
                for case in &r.withdrawn {
                    message.push_str(&format!("; withdrawn case {case} taken off"));
                }
                if let Some(refused) = &r.refused {
                    message.push_str(&format!("; REFUSED: {refused}"));
                }
                log.emit(Event::new("published_online", message).fields(json!({
                    "target": r.target, "uploaded": r.uploaded, "deleted": r.deleted,
                    "withdrawn": r.withdrawn, "refused": r.refused, "seconds": seconds,
                })));
            }
            Err(e) => {
                let wait = self
                    .retry
                    .map_or(FIRST_RETRY, |(_, w)| (w * 2).min(MAX_RETRY));
                self.retry = Some((Instant::now() + wait, wait));
                log.emit(Event::new(
                    "publish_failed",
                    format!("{e}; trying again in {} s", wait.as_secs()),
                ));
            }
        }
    }
}
