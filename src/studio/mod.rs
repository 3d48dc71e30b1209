//! `beforeafter studio`: the clinic's studio, one local web app in which staff do the whole job
//! without a terminal or a text editor: see every case and where it stands ([`board`]), start
//! a case by dropping photos on the page ([`upload`], saved by [`newcase`]), fill in its details and the patient's
//! consent ([`form`]), see its public page as visitors will ([`preview`]), and update the
//! gallery now ([`mod@run`]). Held cases are resolved in the review app's screens, answered by the
//! same server under the same token (the board links to them).
//!
//! It grows out of `review`: the program's one HTTP server ([`crate::http`]: loopback unless
//! `--allow-lan`, `Host` checked), the token on every request, changes only with the token in
//! a header and from the app's own origin, a strict CSP ([`routes`]). And it runs `watch` in
//! the same process ([`crate::watch::run_with`]), so what staff save (photos, case.toml) is
//! published by the watcher, as if they had dropped files in the folder; the studio never runs
//! the pipeline itself (the watch holds the output folder's lock: one writer).

mod assets;
mod board;
mod form;
mod newcase;
mod preview;
mod routes;
mod run;
mod upload;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use minijinja::{Environment, Value};

use crate::cli::{RunArgs, StudioArgs, WatchArgs};
use crate::config::Config;
use crate::error::Fatal;
use crate::http::{Response, new_token};
use crate::watch::Control;

/// What every request handler shares.
pub struct State {
    /// INPUT, made absolute.
    pub input: PathBuf,
    /// `--out`, made absolute.
    pub out: PathBuf,
    pub config_path: Option<PathBuf>,
    pub token: String,
    /// The review app's screens, answered under the studio's token. Its decisions save
    /// case.toml only (no `out`): the watch in this process publishes them.
    pub review: crate::review::State,
    /// The watch running in this process.
    pub control: Control,
    /// One new case saved at a time (folder names are chosen then).
    pub saving: Mutex<()>,
}

impl State {
    pub fn config(&self) -> Result<Config, String> {
        Config::for_input(&self.input, self.config_path.as_deref()).map_err(|e| e.to_string())
    }
}

/// `beforeafter studio`: serve the app, print (and open) its link, then watch until stopped.
pub fn run(args: &StudioArgs) -> Result<(), Fatal> {
    crate::http::refuse_lan(args.addr, args.allow_lan)?;
    let config = Config::for_input(&args.input, args.config.as_deref())?;
    crate::disk::check_apart(&args.input, &args.out)?;
    let input = std::fs::canonicalize(&args.input).map_err(|e| Fatal::Input {
        path: args.input.clone(),
        message: format!("{e}; give the folder that holds the clinic's photos"),
    })?;
    let output_error = |e| Fatal::Output {
        path: args.out.clone(),
        cause: e,
    };
    std::fs::create_dir_all(&args.out).map_err(output_error)?;
    let out = std::fs::canonicalize(&args.out).map_err(output_error)?;
    upload::sweep(&input);
    let token = new_token()?;
    let control = Control::default();
    let state = Arc::new(State {
        review: crate::review::State {
            input: input.clone(),
            out: None,
            config_path: args.config.clone(),
            token: token.clone(),
            running: Mutex::new(()),
            watched: true,
        },
        input,
        out,
        config_path: args.config.clone(),
        token: token.clone(),
        control: control.clone(),
        saving: Mutex::new(()),
    });
    let limits = limits(&config);
    let handler = Arc::new(move |req| routes::handle(&state, &req));
    let addr = args.addr;
    let bound = crate::http::start(addr, limits, handler).map_err(|e| {
        Fatal::Other(format!(
            "cannot serve on {addr}: {e}; give another address with --addr 127.0.0.1:PORT"
        ))
    })?;
    announce(bound, &token, !args.no_open);
    let watch = WatchArgs {
        run: RunArgs {
            input: args.input.clone(),
            out: args.out.clone(),
            config: args.config.clone(),
            jobs: None,
            json: false,
            publish_review: false,
            wait: false,
        },
        poll: args.poll,
        serve: None,
        allow_lan: false,
    };
    crate::watch::run_with(&watch, control)
}

/// The server's limits, with room in a request for a photo: the largest the clinic accepts and
/// a half more, so one just over the limit gets the studio's own message, not a bare 413.
fn limits(config: &Config) -> crate::http::Limits {
    let mut limits = config.server.limits();
    let photo_room = usize::try_from(config.limits.max_file_bytes()).unwrap_or(usize::MAX);
    limits.max_body_bytes = limits
        .max_body_bytes
        .max(photo_room.saturating_add(photo_room / 2));
    limits
}

/// Print the link with its token, and open it in the browser where there is one.
fn announce(bound: SocketAddr, token: &str, open: bool) {
    let url = format!("http://{bound}/?t={token}");
    println!("The studio is at {url}");
    if bound.ip().is_unspecified() {
        println!(
            "(on every network interface: on a tablet, put this computer's address in place of {})",
            bound.ip()
        );
    }
    if !bound.ip().is_loopback() {
        println!(
            "(on the network: anyone who can reach this computer and has the link can use it)"
        );
    }
    println!("Keep the link to yourself. Stop with Ctrl-C.");
    if open && !bound.ip().is_unspecified() {
        open_browser(&url);
    }
}

/// The desktop's own "open this link", where there is a desktop; nothing is waited for, and a
/// failure only means the link must be opened by hand (it was printed).
fn open_browser(url: &str) {
    let program: Option<(&str, Vec<&str>)> = if cfg!(target_os = "macos") {
        Some(("open", vec![url]))
    } else if cfg!(windows) {
        Some(("cmd", vec!["/C", "start", "", url]))
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    {
        Some(("xdg-open", vec![url]))
    } else {
        None
    };
    if let Some((program, args)) = program {
        let _ = std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}

/// A page from one of the studio's templates (every value escaped), with the shared layout.
fn render(name: &str, ctx: Value) -> Response {
    let mut env = Environment::new();
    let added = assets::TEMPLATES
        .iter()
        .try_for_each(|(n, source)| env.add_template(n, source));
    let html = added.and_then(|()| env.get_template(name)?.render(ctx));
    match html {
        Ok(html) => Response::new(200, "text/html; charset=utf-8", html),
        Err(e) => Response::text(500, &format!("page could not be made: {e}\n")),
    }
}

/// An answer to a change the page asked for, as JSON: `{ok: true, …}` or `{error: "…"}`.
fn json(status: u16, value: &serde_json::Value) -> Response {
    Response::new(status, "application/json", value.to_string())
}

fn refused(status: u16, message: &str) -> Response {
    json(status, &serde_json::json!({ "error": message }))
}

/// Percent-encode a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The case folder `name` (one plain folder name) inside INPUT, if there is one.
fn case_folder(input: &Path, name: &str) -> Option<PathBuf> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name != "..";
    let dir = input.join(name);
    (plain && dir.is_dir()).then_some(dir)
}
