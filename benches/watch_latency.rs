//! Watch mode, whole program: the real binary watching a temp folder.
//!
//! - latency: the last byte of a complete 12-MP pair written -> its case in `manifest.json` and
//!   `index.html` on disk, default config (full pipeline), quiet period included; p50/p95; with
//!   inotify events and with `--poll`.
//! - burst: 100 pairs dropped at once (2-MP photos, so the bench takes minutes, not an hour), time to the
//!   last case on disk versus `batch` on the same photos, and every case published exactly once.
//! - idle CPU of the watcher over 10 s, with events and with `--poll`.
//!
//! `cargo bench --bench watch_latency` (`-- --samples N`, default 20;
//! `-- --only latency|latency-poll|burst`).

#[path = "support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_beforeafter");

fn main() {
    let samples = std::env::args()
        .skip_while(|a| a != "--samples")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let only = std::env::args().skip_while(|a| a != "--only").nth(1);
    if only.as_deref().is_none_or(|o| o == "latency") {
        latency(samples, false);
    }
    if only.as_deref().is_none_or(|o| o == "latency-poll") {
        latency(samples.min(10), true);
    }
    if only.as_deref().is_none_or(|o| o == "burst") {
        burst(100);
    }
}

struct Watcher {
    child: Child,
    lines: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Watcher {
    fn start(input: &Path, out: &Path, extra: &[&str]) -> Watcher {
        let mut child = Command::new(BIN)
            .args([
                "watch",
                input.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--json",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str(&l) {
                    sink.lock().unwrap().push(v);
                }
            }
        });
        let w = Watcher { child, lines };
        w.until(|| w.count("round", None) >= 1);
        w
    }

    fn count(&self, event: &str, case: Option<&str>) -> usize {
        let lines = self.lines.lock().unwrap();
        lines
            .iter()
            .filter(|e| e["event"] == event && case.is_none_or(|c| e["case"] == c))
            .count()
    }

    /// The latest event of this kind.
    fn last(&self, event: &str) -> serde_json::Value {
        let lines = self.lines.lock().unwrap();
        let found = lines.iter().rev().find(|e| e["event"] == event);
        found.cloned().unwrap_or_default()
    }

    fn until(&self, cond: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(600);
        while !cond() {
            assert!(Instant::now() < deadline, "timed out");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// CPU seconds (user + system) the watcher has used so far, from /proc.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after_name.split_whitespace().collect();
        // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name, in clock ticks.
        let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
        ticks / 100.0
    }

    fn idle_cpu_percent(&self, secs: u64) -> f64 {
        let before = self.cpu_seconds();
        std::thread::sleep(Duration::from_secs(secs));
        (self.cpu_seconds() - before) / secs as f64 * 100.0
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn on_disk(out: &Path, id: &str) -> bool {
    let index = std::fs::read_to_string(out.join("index.html")).unwrap_or_default();
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap_or_default();
    index.contains(&format!("{id}/")) && manifest.contains(&format!("\"id\": \"{id}\""))
}

fn copy(from: &Path, to: &Path) {
    let bytes = std::fs::read(from).unwrap();
    std::fs::write(to, bytes).unwrap();
}

/// With `poll`, the watcher scans every `poll_ms` (default 1000 ms) instead of getting events, so
/// up to a scan interval is added.
fn latency(samples: usize, poll: bool) {
    let source = support::pairs(12);
    let dir = tempfile::tempdir().unwrap();
    let (input, out) = (dir.path().join("in"), dir.path().join("out"));
    support::clinic_config(&input);
    let mode = if poll { "--poll" } else { "events" };
    let w = Watcher::start(&input, &out, if poll { &["--poll"] } else { &[] });
    let mut times = Vec::new();
    for i in 0..samples {
        let src = source.join(format!("case-{:02}", i % 12));
        let id = format!("sample-{i:02}");
        let case = input.join(&id);
        std::fs::create_dir_all(&case).unwrap();
        copy(&src.join("before.jpg"), &case.join("before.jpg"));
        copy(&src.join("after.jpg"), &case.join("after.jpg"));
        let last_byte = Instant::now();
        w.until(|| on_disk(&out, &id));
        let secs = last_byte.elapsed().as_secs_f64();
        let round = w.last("round")["seconds"].as_f64().unwrap_or(f64::NAN);
        eprintln!("{id}: {secs:.3} s (the round itself {round:.3} s)");
        times.push(secs);
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
    println!(
        "latency ({mode}), last byte of a 12-MP pair -> index + manifest on disk ({samples} samples, default config): \
         p50 {:.2} s, p95 {:.2} s, max {:.2} s",
        pct(0.5),
        pct(0.95),
        times[times.len() - 1]
    );
    if !poll {
        println!(
            "idle CPU while watching (events): {:.2} %",
            w.idle_cpu_percent(10)
        );
    }
}

/// `n` pairs of cheap 1600×1200 textured photos (the scalp renderer would take minutes for 200).
fn small_pairs(n: usize) -> PathBuf {
    let dir = support::cache_dir().join("pairs-2mp");
    support::clinic_config(&dir);
    for i in 0..n {
        let case = dir.join(format!("case-{i:03}"));
        if case.join("after.jpg").is_file() {
            continue;
        }
        std::fs::create_dir_all(&case).unwrap();
        for (name, seed) in [
            ("before.jpg", 2 * i as u32),
            ("after.jpg", 2 * i as u32 + 1),
        ] {
            let img = image::RgbImage::from_fn(1600, 1200, |x, y| {
                let h = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503) ^ seed)
                    .wrapping_mul(97);
                let blob = u8::from((x / 23 + y / 19 + seed).is_multiple_of(5)) * 60;
                image::Rgb([
                    (x / 8) as u8 + blob,
                    (y / 6) as u8,
                    (h >> 24) as u8 / 4 + 100,
                ])
            });
            let mut bytes = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
                .encode_image(&img)
                .unwrap();
            std::fs::write(case.join(name), bytes).unwrap();
        }
    }
    dir
}

fn burst(n: usize) {
    let source = small_pairs(n);
    let dir = tempfile::tempdir().unwrap();
    let batch_out = dir.path().join("batch-out");
    let start = Instant::now();
    let status = Command::new(BIN)
        .args([
            "batch",
            source.to_str().unwrap(),
            "--out",
            batch_out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let batch_secs = start.elapsed().as_secs_f64();

    let (input, out) = (dir.path().join("in"), dir.path().join("out"));
    support::clinic_config(&input);
    let w = Watcher::start(&input, &out, &[]);
    let start = Instant::now();
    for i in 0..n {
        let case = input.join(format!("case-{i:03}"));
        std::fs::create_dir_all(&case).unwrap();
        copy(
            &source.join(format!("case-{i:03}/before.jpg")),
            &case.join("before.jpg"),
        );
        copy(
            &source.join(format!("case-{i:03}/after.jpg")),
            &case.join("after.jpg"),
        );
    }
    let copied = start.elapsed().as_secs_f64();
    w.until(|| (0..n).all(|i| on_disk(&out, &format!("case-{i:03}"))));
    let watch_secs = start.elapsed().as_secs_f64();
    // A case flagged for review is processed too; count both.
    let times = |i: usize| {
        let id = format!("case-{i:03}");
        w.count("published", Some(&id)) + w.count("review", Some(&id))
    };
    let once = (0..n).all(|i| times(i) == 1);
    if !once {
        let counts: Vec<usize> = (0..n).map(times).collect();
        eprintln!("processing events per case: {counts:?}");
    }
    let rounds = w.count("round", None) - 1;
    println!(
        "burst of {n} pairs (1600×1200 JPEG): batch {batch_secs:.1} s ({:.1} cases/s); watch {watch_secs:.1} s \
         from the first byte copied (copy took {copied:.1} s, {rounds} rounds, {:.1} cases/s); \
         each case published exactly once: {once}",
        n as f64 / batch_secs,
        n as f64 / watch_secs
    );
    println!(
        "idle CPU while watching {n} cases (events): {:.2} %",
        w.idle_cpu_percent(10)
    );
    drop(w);
    let w = Watcher::start(&input, &out, &["--poll"]);
    println!(
        "idle CPU while watching {n} cases (--poll, poll_ms default): {:.2} %",
        w.idle_cpu_percent(10)
    );
}
