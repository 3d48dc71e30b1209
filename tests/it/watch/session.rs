//! A running `beforeafter watch --json` on a temp tree: its events as they arrive, waits with
//! deadlines (never a sleep standing in for an assertion), and a clean stop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::env::TestEnv;

/// Settings that keep the tests quick: one small JPEG size, no composites, short quiet period;
/// the small test photos publish (crops down to 64 px, where the shipped minimum is 400).
pub const FAST_CONFIG: &str = "[cases]\ndefault_consent = true\nids = \"folder\"\n\
[outputs]\nwidths = [320]\nformats = [\"jpeg\"]\n\
[composites]\nenabled = false\n[review]\nmin_crop = 64\n[quality]\ntone = \"warn\"\n[watch]\nquiet_ms = 200\npoll_ms = 150\nbroken_after_ms = 1200\n";

pub struct Session {
    child: Child,
    events: Arc<Mutex<Vec<Value>>>,
    stderr: Arc<Mutex<String>>,
}

impl Session {
    /// `beforeafter watch <in> --out <out> --json` plus `args`, with [`FAST_CONFIG`] in the input
    /// folder unless a test wrote its own `beforeafter.toml`; returns after the first round.
    pub fn start(env: &TestEnv, args: &[&str]) -> Session {
        Session::start_with(env, args, &[])
    }

    /// [`Session::start`] with these environment variables set for the watcher.
    pub fn start_with(env: &TestEnv, args: &[&str], vars: &[(&str, &str)]) -> Session {
        std::fs::create_dir_all(env.input()).unwrap();
        let own = std::fs::read_to_string(env.input().join("beforeafter.toml"))
            .is_ok_and(|t| t != crate::support::env::TEST_CLINIC);
        if !own {
            env.put("beforeafter.toml", FAST_CONFIG.as_bytes());
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_beforeafter"))
            .args([
                "watch",
                env.input().to_str().unwrap(),
                "--out",
                env.out().to_str().unwrap(),
                "--json",
            ])
            .args(args)
            .envs(vars.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (out, err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let sink = events.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
                sink.lock().unwrap().push(v);
            }
        });
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(err).read_to_string(&mut text);
            sink.lock().unwrap().push_str(&text);
        });
        let s = Session {
            child,
            events,
            stderr,
        };
        s.wait_for("the first round", |e| count(e, "round", None) >= 1);
        s
    }

    pub fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// Poll the events until `pred` holds; fail with everything seen after a generous deadline.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        self.wait_until(what, || pred(&self.events()))
    }

    /// Poll any condition (files on disk, say) with the same deadline.
    pub fn wait_until(&self, what: &str, cond: impl Fn() -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if cond() {
                return self.events();
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}\nevents: {:#?}\nstderr: {}",
                self.events(),
                self.stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then wait (with a deadline) for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        self.terminate_times(1)
    }

    /// SIGTERM `times` times in a row (twice: "stop now"), then wait for the exit.
    pub fn terminate_times(&mut self, times: usize) -> ExitStatus {
        let pid = self.child.id().to_string();
        for _ in 0..times {
            let ok = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
            assert!(ok.success());
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.wait_until("the log to end", || {
                    count(&self.events(), "stopped", None) == 1
                });
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "still running 60 s after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many `event` events (for `case`, when given) there are.
pub fn count(events: &[Value], event: &str, case: Option<&str>) -> usize {
    events
        .iter()
        .filter(|e| e["event"] == event && case.is_none_or(|c| e["case"] == c))
        .count()
}

/// A plain HTTP/1.1 GET: (status code, body).
pub fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split_whitespace()
        .nth(1)
        .unwrap_or("0")
        .parse()
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
