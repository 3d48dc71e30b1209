//! `beforeafter watch`: bring the gallery up to date like `batch`, then keep it so. Staff drop
//! photos into a folder (often a network share) and nobody watches a terminal.
//!
//! The loop is deliberately plain: file events ([`intake`]) mark photos as pending; [`settle`]
//! decides when each is complete; then the same pipeline as `batch` runs again (a "round"),
//! told which photos are settled so a case with a photo still being copied is left as it was.
//! Unchanged cases are recognised from cached hashes and cost nothing. Errors that stop watching
//! ([`Fatal`] at start) are kept apart from those reported while watching goes on (a bad photo, a
//! bad config edit, an output folder that fails for one round).

mod control;
mod events;
mod intake;
mod online;
pub mod serve;
mod settle;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cli::{RunArgs, WatchArgs};
use crate::config::Config;
use crate::error::Fatal;
use crate::flags::Severity;
use crate::manifest::Manifest;
use crate::pipeline::{self, Outcome, Reporter, RunOptions, Summary};
pub use control::{Control, Status};
use events::{Event, Log};
use intake::Msg;
use settle::Tracker;

/// Watch until Ctrl-C or SIGTERM. Errors returned here happen at start only; a `--serve`
/// address refused without `--allow-lan` is the first of them, before anything is locked.
pub fn run(args: &WatchArgs) -> Result<(), Fatal> {
    run_with(args, Control::default())
}

/// [`run`], with `control` answering to another part of the process (the studio): it can ask
/// for a round now and read how the last one went.
pub fn run_with(args: &WatchArgs, control: Control) -> Result<(), Fatal> {
    let opts = &args.run;
    args.serve
        .map_or(Ok(()), |addr| crate::http::refuse_lan(addr, args.allow_lan))?;
    let input = input_folder(opts)?;
    let config = load_config(&input, opts)?;
    let out = output_folder(&input, opts)?;
    // Held for the whole watch: one writer at a time.
    let _lock = crate::journal::Lock::acquire(&out, opts.wait)?;
    let log = Log { json: opts.json };
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    on_stop_signal(stop.clone(), tx.clone())?;
    control.listen(tx.clone());
    let config_file = config_file(&input, opts);
    let watched = watched_folders(&input, &config_file);
    let poll = args
        .poll
        .then(|| Duration::from_millis(config.watch.poll_ms));
    // Watch before the first round, so nothing that changes during it is missed.
    let _watcher = intake::start(&watched, poll, tx)?;
    let generation = Arc::new(AtomicU64::new(0));
    preview(args, &out, generation.clone(), config.server.limits(), log)?;
    let mode = if args.poll { "polling" } else { "events" };
    log.emit(
        Event::new(
            "watching",
            format!("{} -> {} ({mode})", input.display(), out.display()),
        )
        .fields(json!({ "input": input, "out": out, "poll": args.poll })),
    );
    let quiet = Duration::from_millis(config.watch.quiet_ms);
    let mut w = Watch {
        tracker: Tracker::scan(&input, quiet),
        input,
        out,
        config,
        config_file,
        opts: opts.clone(),
        log,
        stop,
        generation,
        last: HashMap::new(),
        unplaced: Vec::new(),
        config_touched: None,
        today: crate::consent::today().ok(),
        warned: std::collections::HashSet::new(),
        retry: None,
        online: online::Online::default(),
        control,
        now: false,
    };
    w.round();
    w.listen(&rx);
    log.emit(Event::new(
        "stopped",
        "stopped; every page and image in the gallery is whole (cases not reached are as they were)",
    ));
    Ok(())
}

fn input_folder(opts: &RunArgs) -> Result<PathBuf, Fatal> {
    std::fs::canonicalize(&opts.input).map_err(|e| Fatal::Input {
        path: opts.input.clone(),
        message: format!("{e}; give the folder that holds the clinic's photos"),
    })
}

/// The output folder, checked apart from the input, created and made absolute.
fn output_folder(input: &Path, opts: &RunArgs) -> Result<PathBuf, Fatal> {
    crate::disk::check_apart(input, &opts.out)?;
    let output_error = |e| Fatal::Output {
        path: opts.out.clone(),
        cause: e,
    };
    std::fs::create_dir_all(&opts.out).map_err(output_error)?;
    std::fs::canonicalize(&opts.out).map_err(output_error)
}

/// The input folder (recursively) and, when the config file lies elsewhere, its folder.
fn watched_folders(input: &Path, config_file: &Path) -> Vec<(PathBuf, bool)> {
    let mut watched = vec![(input.to_owned(), true)];
    if let Some(dir) = config_file.parent().filter(|d| !d.starts_with(input)) {
        watched.push((dir.to_owned(), false));
    }
    watched
}

/// The preview server with live reload, when asked for (`--serve`): on the network
/// (`--allow-lan`) with a token, printed in the link.
fn preview(
    args: &WatchArgs,
    out: &Path,
    generation: Arc<AtomicU64>,
    limits: crate::http::Limits,
    log: Log,
) -> Result<(), Fatal> {
    let Some(addr) = args.serve else {
        return Ok(());
    };
    let token = args.allow_lan.then(crate::http::new_token).transpose()?;
    let bound = serve::start(addr, out, generation, limits, token.clone())?;
    let query = token.map(|t| format!("?t={t}")).unwrap_or_default();
    let url = format!("http://{bound}/{query}");
    let mut message = format!("previewing the gallery at {url}");
    if bound.ip().is_unspecified() {
        let ip = bound.ip();
        message.push_str(&format!(
            " (from another computer, its address in place of {ip})"
        ));
    }
    if !bound.ip().is_loopback() {
        message.push_str(" (on the network: anyone with this link can see the gallery)");
    }
    let fields = json!({ "address": bound.to_string(), "url": url });
    log.emit(Event::new("serving", message).fields(fields));
    Ok(())
}

/// Ctrl-C and SIGTERM ask the loop to stop after the work in hand.
fn on_stop_signal(stop: Arc<AtomicBool>, tx: mpsc::Sender<Msg>) -> Result<(), Fatal> {
    ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            // A second Ctrl-C: the user does not want to wait for the work in hand. Writes
            // stop (no temp file is left, nothing half-done is renamed into place), the
            // round ends at once with the gallery as it was, and the loop exits with 0.
            crate::disk::abandon();
        }
        let _ = tx.send(Msg::Stop);
    })
    .map_err(|e| Fatal::Other(format!("cannot handle Ctrl-C/SIGTERM: {e}")))
}

struct Watch {
    input: PathBuf,
    out: PathBuf,
    config: Config,
    config_file: PathBuf,
    opts: RunArgs,
    log: Log,
    tracker: Tracker,
    stop: Arc<AtomicBool>,
    /// Bumped after every round, so a previewing browser knows to reload.
    generation: Arc<AtomicU64>,
    /// Each case's last outcome and reasons, so only what changed is logged.
    last: HashMap<String, (Outcome, Vec<String>)>,
    unplaced: Vec<String>,
    config_touched: Option<Instant>,
    /// The day consent was last decided for: a new day runs a round, so consent that ended
    /// overnight takes the case off without any file event.
    today: Option<crate::dates::Day>,
    /// Consent-expiry warnings already logged (case, days left), so each is said once a day.
    warned: std::collections::HashSet<(String, i64)>,
    /// After a round that failed as a whole (output folder unwritable, say): when to try again,
    /// and the wait after that one (doubling up to [`MAX_RETRY`]).
    retry: Option<(Instant, Duration)>,
    /// Publishing to the website after each round (`[publish] to`).
    online: online::Online,
    /// The studio's mailbox and notice board ([`Control`]).
    control: Control,
    /// A round was asked for ("Update the gallery now"): run one at the next step.
    now: bool,
}

/// The first and the longest wait before a failed round is tried again.
const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(60);

/// How often an idle watcher looks at the date (`consent::today`: the clock, or the
/// `BEFOREAFTER_TODAY` hook's file), so a consent that ends overnight is acted on within this.
const DAY_CHECK: Duration = Duration::from_secs(1);

/// Check passes in one step at most (each pass checks what became ready during the last).
const MAX_CHECK_PASSES: usize = 4;

impl Watch {
    fn listen(&mut self, rx: &mpsc::Receiver<Msg>) {
        loop {
            let quiet = Duration::from_millis(self.config.watch.quiet_ms);
            let busy = self.tracker.busy()
                || self.config_touched.is_some()
                || self.retry.is_some()
                || self.online.waiting();
            let msg = if busy {
                let tick = (quiet / 4).clamp(Duration::from_millis(10), Duration::from_millis(250));
                match rx.recv_timeout(tick) {
                    Ok(m) => Some(m),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            } else {
                // Woken each DAY_CHECK at least, to see the day change.
                match rx.recv_timeout(DAY_CHECK) {
                    Ok(m) => Some(m),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            };
            for m in msg.into_iter().chain(rx.try_iter()) {
                self.handle(m);
            }
            if self.stop.load(Ordering::SeqCst) {
                self.log.emit(Event::new(
                    "stopping",
                    "stop requested; finishing the work in hand",
                ));
                return;
            }
            self.step(quiet, rx);
        }
    }

    fn handle(&mut self, msg: Msg) {
        let now = Instant::now();
        match msg {
            Msg::Changed(paths) => {
                for p in paths {
                    if p == self.config_file {
                        self.config_touched = Some(now);
                    } else if p.starts_with(&self.input)
                        && p != self.input
                        && !p.starts_with(&self.out)
                        && !p.starts_with(self.input.join(crate::manifest::HELD_DIR))
                    {
                        self.tracker.touch(&p, now);
                    }
                }
            }
            Msg::Rescan => self.tracker.rescan(&self.input),
            Msg::Error(e) => self.log.emit(Event::new("error", e)),
            Msg::Stop => self.stop.store(true, Ordering::SeqCst),
            Msg::RunNow => self.now = true,
        }
    }

    /// Check pending files; reload the config; run a round when work is ready.
    fn step(&mut self, quiet: Duration, rx: &mpsc::Receiver<Msg>) {
        let now = Instant::now();
        if self
            .config_touched
            .is_some_and(|t| now.duration_since(t) >= quiet)
        {
            self.config_touched = None;
            self.reload_config();
        }
        if self.retry.is_some_and(|(at, _)| now >= at) {
            self.tracker.force();
        }
        // Checking takes a while (a 12-MP JPEG, about 70 ms): photos that became ready to check
        // meanwhile (the next file of a pair) are checked straight away, not a tick later.
        for _ in 0..MAX_CHECK_PASSES {
            let checked = self.tracker.check(&self.config, Instant::now());
            for (path, reason) in checked.not_ready {
                let rel = self.rel(&path);
                let after = self.config.watch.broken_after_ms;
                self.log.emit(
                    Event::new(
                        "not_ready",
                        format!("{rel}: {reason}; waiting for it to be complete (reported if unchanged for {after} ms)"),
                    )
                    .fields(json!({ "path": rel, "reason": reason })),
                );
            }
            // Events that came in while photos were checked count first.
            for m in rx.try_iter() {
                self.handle(m);
            }
            if checked.examined == 0 {
                break;
            }
        }
        if std::mem::take(&mut self.now)
            || self.tracker.ready(quiet, Instant::now())
            || self.new_day()
        {
            self.round();
        } else if self.online.due(Instant::now()) {
            (self.online).publish(&self.config, &self.input, &self.out, &self.log);
        }
    }

    /// Whether the day changed since the last round (logged): consent is decided again.
    fn new_day(&mut self) -> bool {
        let today = crate::consent::today().ok();
        if today.is_none() || today == self.today {
            return false;
        }
        self.today = today;
        let day = today.map(crate::consent::iso).unwrap_or_default();
        self.log.emit(
            Event::new("day", format!("{day}: deciding every case's consent again"))
                .fields(json!({ "today": day })),
        );
        true
    }

    fn reload_config(&mut self) {
        if self.config.source.is_some() && !self.config_file.exists() {
            // Falling back to the defaults would re-render every photo with the sample watermark.
            self.log.emit(Event::new(
                "config_refused",
                format!(
                    "{} was removed; keeping the previous settings (restart to run without a config file)",
                    self.config_file.display()
                ),
            ));
            return;
        }
        match load_config(&self.input, &self.opts) {
            Ok(c) => {
                self.config = c;
                self.log.emit(Event::new(
                    "config",
                    format!("reloaded {}", self.config_file.display()),
                ));
                self.tracker.force();
            }
            Err(e) => self.log.emit(Event::new(
                "config_refused",
                format!("{e:#}; keeping the previous settings"),
            )),
        }
    }

    /// One run of the pipeline over the whole folder; unchanged cases cost a stat each.
    fn round(&mut self) {
        self.tracker.taken();
        self.log
            .emit(Event::new("round_started", "updating the gallery"));
        self.control.started();
        let options = RunOptions {
            publish_review: self.opts.publish_review,
            jobs: self.opts.jobs,
            settled: Some(Arc::new(self.tracker.settled.clone())),
            cancel: Some(self.stop.clone()),
        };
        let start = Instant::now();
        let result = pipeline::run(
            &self.input,
            &self.out,
            &self.config,
            &options,
            &Reporter::new(true),
        );
        let seconds = start.elapsed().as_secs_f64();
        match result {
            Ok(summary) => {
                let (manifest, _) = Manifest::load(&self.out, &self.input);
                self.tracker.learn_hashes(&self.input, &manifest);
                if summary.waiting > 0 {
                    // A case waits on a photo no event told about: look for it.
                    self.tracker.rescan(&self.input);
                }
                self.report(&summary, seconds);
                self.control.ended(Ok(&summary));
                self.generation.fetch_add(1, Ordering::SeqCst);
                self.retry = None;
                (self.online).publish(&self.config, &self.input, &self.out, &self.log);
            }
            Err(e) if self.stop.load(Ordering::SeqCst) => self.log.emit(Event::new(
                "stopping",
                format!("{e}; the gallery was left as it was"),
            )),
            Err(e) => {
                self.control.ended(Err(format!("{e}")));
                let wait = self
                    .retry
                    .map_or(FIRST_RETRY, |(_, w)| (w * 2).min(MAX_RETRY));
                self.retry = Some((Instant::now() + wait, wait));
                self.log.emit(Event::new(
                    "error",
                    format!(
                        "{e}; the gallery was left as it was, trying again in {} s or on the next change",
                        wait.as_secs()
                    ),
                ));
            }
        }
    }

    fn report(&mut self, s: &Summary, seconds: f64) {
        self.report_cases(s);
        self.report_consent(s);
        self.report_unplaced(s);
        self.report_round(s, seconds);
    }

    /// A line per case whose outcome or reasons changed (every publish), and per case gone.
    fn report_cases(&mut self, s: &Summary) {
        let mut now: HashMap<String, (Outcome, Vec<String>)> = HashMap::new();
        for c in &s.cases {
            let previous = self.last.get(&c.id);
            let changed = previous.is_none_or(|(o, r)| *o != c.outcome || *r != c.reasons);
            let word = match c.outcome {
                Outcome::Published => Some("published"),
                Outcome::Failed if changed => Some("failed"),
                Outcome::Review if changed => Some("review"),
                Outcome::NoConsent if changed => Some("no_consent"),
                Outcome::Waiting if changed => Some("waiting"),
                _ => None,
            };
            if let Some(word) = word {
                let mut message = match c.outcome {
                    Outcome::Published => "published".to_owned(),
                    Outcome::Failed => "FAILED".to_owned(),
                    Outcome::Review => "held for review".to_owned(),
                    Outcome::NoConsent => "not published (no consent)".to_owned(),
                    _ => "left as it was".to_owned(),
                };
                for r in &c.reasons {
                    message.push_str(&format!("; {r}"));
                }
                for f in c.flags.iter().filter(|f| f.severity == Severity::Warning) {
                    message.push_str(&format!("; warning: {} {}: {}", f.code, f.stage, f.message));
                }
                self.log.emit(
                    Event::new(word, message)
                        .case(&c.id)
                        .fields(json!({ "reasons": c.reasons, "flags": c.flags })),
                );
            }
            now.insert(c.id.clone(), (c.outcome, c.reasons.clone()));
        }
        for id in self.last.keys().filter(|id| !now.contains_key(*id)) {
            self.log
                .emit(Event::new("removed", "removed; its pages and images were pruned").case(id));
        }
        self.last = now;
    }

    /// Consent ending soon (once per case and day left) and withdrawal receipts written.
    fn report_consent(&mut self, s: &Summary) {
        for e in &s.expiring {
            if self.warned.insert((e.id.clone(), e.days_left)) {
                self.log.emit(
                    Event::new(
                        "consent_expiring",
                        format!(
                            "consent ends on {} ({} day(s) left): ask the patient to renew it",
                            e.expires, e.days_left
                        ),
                    )
                    .case(&e.id)
                    .fields(json!({ "expires": e.expires, "days_left": e.days_left })),
                );
            }
        }
        for r in &s.receipts {
            self.log.emit(
                Event::new(
                    "withdrawal_receipt",
                    format!("receipt written: {}", r.display()),
                )
                .fields(json!({ "path": r })),
            );
        }
    }

    /// A line per file newly found that cannot be placed in a case.
    fn report_unplaced(&mut self, s: &Summary) {
        let unplaced: Vec<String> = s.unplaced.iter().map(|p| p.path.clone()).collect();
        for p in s
            .unplaced
            .iter()
            .filter(|p| !self.unplaced.contains(&p.path))
        {
            self.log.emit(
                Event::new("unplaced", format!("{}: {}", p.path, p.reason))
                    .fields(json!({ "path": p.path, "kind": p.kind })),
            );
        }
        self.unplaced = unplaced;
    }

    fn report_round(&self, s: &Summary, seconds: f64) {
        self.log.emit(
            Event::new(
                "round",
                format!(
                    "{} published, {} up to date, {} failed, {} need review, {} waiting; {} photos decoded in {seconds:.2} s",
                    s.published, s.up_to_date, s.failed, s.review, s.waiting, s.decoded
                ),
            )
            .fields(json!({
                "published": s.published, "up_to_date": s.up_to_date, "failed": s.failed,
                "review": s.review, "waiting": s.waiting, "decoded": s.decoded, "seconds": seconds,
            })),
        );
    }

    fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.input)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }
}

/// The config file to use and watch: `--config`, else `<input>/beforeafter.toml`.
fn config_file(input: &Path, opts: &RunArgs) -> PathBuf {
    match &opts.config {
        Some(p) => std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()),
        None => input.join(crate::config::CONFIG_NAME),
    }
}

/// The config file's settings (`--jobs` goes over them in each round's `RunOptions`).
fn load_config(input: &Path, opts: &RunArgs) -> Result<Config, Fatal> {
    Ok(Config::for_input(input, opts.config.as_deref())?)
}
