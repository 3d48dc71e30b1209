//! `beforeafter review`: a local web app in which staff resolve the cases a run held (low
//! confidence, framing out of bounds, dates out of order, capture-quality flags) or failed,
//! instead of typing landmark pixels into `case.toml`.
//!
//! Served by the program's one HTTP server ([`crate::http`]) on loopback (which answers only
//! requests naming it in `Host`), or on the network with `--allow-lan`. A random token, in the
//! URL printed at start, is required on every request but the static assets (and, in a header
//! only, on every request that changes anything, whose `Origin`, when sent, must be the app's
//! own), so neither another local user nor a web page in the same browser can read a photo or
//! change a case. Only photos a record names inside INPUT are served; the pages load nothing
//! from elsewhere (a strict CSP says so).
//!
//! [`routes`] dispatches, [`page`] renders, [`decide`] carries out a decision (landmarks saved,
//! "approve as shown", "keep private") and runs the case again, [`casetoml`] edits `case.toml`
//! without losing a comment, and [`records`] reads what the last run recorded. [`words`] says
//! why a case is held in staff's words, [`preview`] makes photos a browser cannot show (HEIC)
//! into JPEGs, and [`settings`] is the clinic's settings screen (`beforeafter.toml`).

pub mod casetoml;
mod decide;
mod page;
mod preview;
mod records;
/// Also answered inside `beforeafter studio`, whose board links to the held cases.
pub(crate) mod routes;
mod settings;
mod words;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::config::Config;
use crate::error::Fatal;
use crate::http::new_token;

/// What every request handler shares.
pub struct State {
    pub input: PathBuf,
    /// The gallery a decision is published to; without it, decisions are saved but not run.
    pub out: Option<PathBuf>,
    pub config_path: Option<PathBuf>,
    pub token: String,
    /// One decision at a time: each runs the pipeline over INPUT.
    pub running: Mutex<()>,
    /// A watch in this process keeps the gallery current (the studio): a saved decision is
    /// published by its next round, so staff are told that rather than to run a batch.
    pub watched: bool,
}

impl State {
    pub fn config(&self) -> Result<Config, String> {
        Config::for_input(&self.input, self.config_path.as_deref()).map_err(|e| e.to_string())
    }
}

/// Where and how to serve the app.
#[derive(Clone, Copy, Debug)]
pub struct Serve {
    pub addr: SocketAddr,
    /// The user allowed an address other than loopback (`--allow-lan`).
    pub allow_lan: bool,
}

/// Start the app and serve until the process is stopped. Returns the address and the token.
pub fn start(
    input: &Path,
    out: Option<&Path>,
    config_path: Option<&Path>,
    serve: Serve,
) -> Result<(SocketAddr, String), Fatal> {
    let addr = serve.addr;
    crate::http::refuse_lan(addr, serve.allow_lan)?;
    let config = Config::for_input(input, config_path)?;
    if let Some(out) = out {
        crate::disk::check_apart(input, out)?;
    }
    let input = std::fs::canonicalize(input).map_err(|e| {
        Fatal::Other(format!(
            "{}: {e}; give the folder that holds the clinic's photos",
            input.display()
        ))
    })?;
    let token = new_token()?;
    let state = Arc::new(State {
        input,
        out: out.map(Path::to_owned),
        config_path: config_path.map(Path::to_owned),
        token: token.clone(),
        running: Mutex::new(()),
        watched: false,
    });
    let handler = Arc::new(move |req| routes::handle(&state, &req));
    let bound = crate::http::start(addr, config.server.limits(), handler).map_err(|e| {
        Fatal::Other(format!(
            "cannot serve on {addr}: {e}; give another address with --addr 127.0.0.1:PORT"
        ))
    })?;
    Ok((bound, token))
}

/// `beforeafter review`: start, print the address with its token, serve until stopped.
pub fn run(
    input: &Path,
    out: Option<&Path>,
    config_path: Option<&Path>,
    serve: Serve,
) -> Result<(), Fatal> {
    let (bound, token) = start(input, out, config_path, serve)?;
    println!("Review held cases at http://{bound}/?t={token}");
    if bound.ip().is_unspecified() {
        println!(
            "(on every network interface: on another computer, put this one's address in place of {})",
            bound.ip()
        );
    }
    if !bound.ip().is_loopback() {
        println!("(not loopback: anyone who can reach this machine and has the link can use it)");
    }
    if out.is_none() {
        println!(
            "Without --out, decisions are saved to case.toml but not published until the next batch."
        );
    }
    println!("Stop with Ctrl-C.");
    loop {
        std::thread::park();
    }
}
