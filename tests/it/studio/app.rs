//! The studio as its tests start it (the real binary on a free loopback port, `--no-open`,
//! stopped when dropped), raw requests to it, and axe-core run on a page.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use headless_chrome::Tab;

use crate::support::chrome::eval;
use crate::support::env::TestEnv;

pub struct Studio {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub token: String,
}

impl Studio {
    pub fn start(env: &TestEnv) -> Studio {
        let mut child = Command::new(env!("CARGO_BIN_EXE_beforeafter"))
            .args(["studio", env.input().to_str().unwrap(), "--out"])
            .arg(env.out())
            .args(["--addr", "127.0.0.1:0", "--no-open"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines
            .by_ref()
            .map_while(Result::ok)
            .find(|l| l.contains("http://"))
            .expect("the studio prints its link");
        std::thread::spawn(move || lines.for_each(drop));
        let url = &line[line.find("http://").unwrap()..];
        let (base, token) = url.split_once("/?t=").unwrap();
        Studio {
            child,
            base: base.to_owned(),
            token: token.trim().to_owned(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{}{path}{sep}t={}", self.base, self.token)
    }

    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// A raw request with a binary body: status and body.
    pub fn send(&self, head: &str, body: &[u8]) -> (u16, String) {
        let mut s = TcpStream::connect(self.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let head = format!(
            "{head}\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr(),
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut bytes = Vec::new();
        let _ = s.read_to_end(&mut bytes);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map_or("", |b| b.1).to_owned();
        (status, body)
    }
}

impl Drop for Studio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wait (up to 20 s) until `js` is truthy in the page; its value then.
pub fn wait_for(tab: &Tab, what: &str, js: &str) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let v = eval(tab, js);
        if !(v.is_null() || v == false || v == "") {
            return v;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{what}: {js}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
