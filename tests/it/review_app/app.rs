//! The review app as its tests start it (the real binary on a free loopback port, stopped when
//! dropped), and waiting for a decision's verdict on its page.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use headless_chrome::Tab;

use crate::support::chrome::eval;
use crate::support::env::TestEnv;

/// The app as a user starts it, on a free loopback port; stopped when dropped.
pub struct App {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub token: String,
}

impl App {
    pub fn start(env: &TestEnv) -> App {
        let mut child = Command::new(env!("CARGO_BIN_EXE_beforeafter"))
            .args(["review", env.input().to_str().unwrap(), "--out"])
            .arg(env.out())
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines
            .by_ref()
            .map_while(Result::ok)
            .find(|l| l.contains("http://"))
            .expect("review prints its address");
        std::thread::spawn(move || lines.for_each(drop));
        let url = &line[line.find("http://").unwrap()..];
        let (base, token) = url.split_once("/?t=").unwrap();
        App {
            child,
            base: base.to_owned(),
            token: token.trim().to_owned(),
        }
    }

    pub fn url(&self) -> String {
        format!("{}/?t={}", self.base, self.token)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wait until the page's script says how a decision ended (or the verdict says `text`).
pub fn wait_verdict(tab: &Tab, text: &str) -> String {
    let js = format!(
        "new Promise(r => {{ const t = setInterval(() => {{ const v = document.getElementById('verdict').textContent; \
         if (document.body.dataset.outcome || (v.includes({text:?}))) {{ clearInterval(t); r(v); }} }}, 100); }})"
    );
    eval(tab, &js).as_str().unwrap_or_default().to_owned()
}
