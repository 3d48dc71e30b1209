//! A clinic's input folder that tests change the way staff do (photos retaken, settings
//! changed, consent withdrawn or given, cases added and removed), the runs of the real binary on
//! it (clean, killed at a moment, one shard), and everything each case ever published, so that
//! a withdrawn case can be checked for every byte it ever had.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use image::RgbImage;

use super::gallery::{self, Findings};
use crate::support::env::{TEST_CLINIC, TestEnv, jpeg, photo};

/// Settings a step may switch to; each changes every case's key, so everything is rendered
/// again under new names.
pub const SETTINGS: [&str; 4] = [
    "",
    "[outputs]\njpeg_quality = 75\n",
    "[outputs]\nwidths = [240, 400]\n",
    "[outputs]\nwebp_quality = 70\nwidths = [320]\n",
];

#[derive(Clone, Copy, Debug)]
struct CaseState {
    n: u32,
    /// Long side of its photos, in pixels.
    size: u32,
    present: bool,
    consent: bool,
    /// How many times each photo (before, after) was changed.
    versions: [u32; 2],
}

/// When a killed run is killed.
#[derive(Clone, Debug)]
pub enum KillAt {
    /// This long after it started.
    Delay(Duration),
    /// Once a finished-case file gains a line (for this case, when given).
    Finished(Option<String>),
}

pub struct Clinic {
    pub env: TestEnv,
    cases: BTreeMap<String, CaseState>,
    next: u32,
    setting: usize,
    /// `jobs` in the config: 1 makes cases finish in folder order.
    jobs: u32,
    /// Every output path (and page) each case id ever had, from every manifest and finished
    /// line seen.
    seen: BTreeMap<String, BTreeSet<String>>,
}

impl Clinic {
    /// `cases` cases of `size`-pixel photos, the web person's own files already in `--out`.
    pub fn new(cases: u32, size: u32, jobs: u32) -> Clinic {
        let mut clinic = Clinic {
            env: TestEnv::new(),
            cases: BTreeMap::new(),
            next: 0,
            setting: 0,
            jobs,
            seen: BTreeMap::new(),
        };
        clinic.write_config();
        for _ in 0..cases {
            clinic.add_case(size);
        }
        gallery::put_own_files(&clinic.env.out());
        clinic
    }

    fn write_config(&self) {
        let text = format!(
            "jobs = {}\n{TEST_CLINIC}{}",
            self.jobs, SETTINGS[self.setting]
        );
        self.env.put("beforeafter.toml", text.as_bytes());
    }

    pub fn set_setting(&mut self, which: usize) {
        self.setting = which % SETTINGS.len();
        self.write_config();
    }

    pub fn setting(&self) -> usize {
        self.setting
    }

    /// A new case folder (`p00`, `p01`, ...) with a before and an after photo; its id.
    pub fn add_case(&mut self, size: u32) -> String {
        let id = format!("p{:02}", self.next);
        let state = CaseState {
            n: self.next,
            size,
            present: true,
            consent: true,
            versions: [0, 0],
        };
        self.next += 1;
        self.cases.insert(id.clone(), state);
        self.write_photo(&id, 0);
        self.write_photo(&id, 1);
        id
    }

    pub fn remove_case(&mut self, id: &str) {
        std::fs::remove_dir_all(self.env.input().join(id)).unwrap();
        self.cases.get_mut(id).unwrap().present = false;
    }

    pub fn set_consent(&mut self, id: &str, consent: bool) {
        self.env.put(
            &format!("{id}/case.toml"),
            format!("consent = {consent}\n").as_bytes(),
        );
        self.cases.get_mut(id).unwrap().consent = consent;
    }

    /// Rewrite photo `which` (0 before, 1 after) of `id` with other pixels (brighter).
    pub fn change_photo(&mut self, id: &str, which: usize) {
        self.cases.get_mut(id).unwrap().versions[which] += 1;
        self.write_photo(id, which);
    }

    fn write_photo(&self, id: &str, which: usize) {
        let c = self.cases[id];
        let (w, h) = (
            c.size + 20 * which as u32,
            c.size * 3 / 4 + 10 * which as u32,
        );
        let img = brighten(photo(w, h, 2 * c.n + which as u32), c.versions[which]);
        let name = ["before.jpg", "after.jpg"][which];
        self.env.put(&format!("{id}/{name}"), &jpeg(&img));
    }

    /// Ids of the cases in the input folder.
    pub fn present(&self) -> Vec<String> {
        self.ids(|c| c.present)
    }

    /// Ids of cases in the input folder with consent withdrawn.
    pub fn withdrawn(&self) -> Vec<String> {
        self.ids(|c| c.present && !c.consent)
    }

    fn ids(&self, keep: impl Fn(&CaseState) -> bool) -> Vec<String> {
        self.cases
            .iter()
            .filter(|(_, c)| keep(c))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Withdrawn and removed cases, each with every path it ever had.
    pub fn gone(&self) -> BTreeMap<String, BTreeSet<String>> {
        let gone = self.ids(|c| !c.present || !c.consent);
        gone.into_iter()
            .map(|id| {
                let paths = self.seen.get(&id).cloned().unwrap_or_default();
                (id, paths)
            })
            .collect()
    }

    /// Remember every path the manifest and the finished-case files now list.
    pub fn observe(&mut self) {
        let out = self.env.out();
        let mut cases = gallery::manifest_cases(&out);
        cases.extend(gallery::finished_cases(&out));
        for (id, paths) in gallery::paths_by_case(&cases) {
            self.seen.entry(id).or_default().extend(paths);
        }
    }

    fn command(&self, extra: &[&str]) -> Command {
        let (input, out) = (self.env.input(), self.env.out());
        let mut c = Command::new(env!("CARGO_BIN_EXE_beforeafter"));
        c.args([
            "batch",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--publish-review", "--json"])
        .args(extra);
        c
    }

    /// A whole batch run to its end: exit code and summary.
    pub fn run(&mut self, extra: &[&str]) -> (i32, serde_json::Value, String) {
        let o = self.command(extra).output().unwrap();
        self.observe();
        let summary = serde_json::from_slice(&o.stdout).unwrap_or_default();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        (o.status.code().unwrap_or(-1), summary, err)
    }

    /// A clean whole run (it must end with 0, or 3 since reviews are published anyway), then
    /// the gallery checked.
    pub fn clean_run(&mut self) -> Findings {
        let (code, summary, err) = self.run(&[]);
        assert!(
            code == 0 || code == 3,
            "clean run exited {code}: {err}\n{summary}"
        );
        let failed = summary["failed"].as_u64();
        assert_eq!(failed, Some(0), "a case failed: {summary}");
        gallery::check(&self.env, &self.gone())
    }

    /// `batch --shard 1/2` to its end; its exit code.
    pub fn shard(&mut self) -> i32 {
        self.run(&["--shard", "1/2"]).0
    }

    /// A batch killed with SIGKILL at `at`: how long it ran, or `None` when it ended first.
    pub fn killed_run(&mut self, at: &KillAt) -> Option<Duration> {
        let before = finished_lines(self, None);
        let started = Instant::now();
        let mut child = self
            .command(&[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let killed = match at {
            KillAt::Delay(d) => wait_until(&mut child, started + *d, || false),
            KillAt::Finished(id) => {
                let deadline = started + Duration::from_secs(120);
                wait_until(&mut child, deadline, || {
                    finished_lines(self, id.as_deref()) > before
                })
            }
        };
        let _ = child.kill();
        child.wait().unwrap();
        self.observe();
        killed.then(|| started.elapsed())
    }
}

/// Poll until `ready` or `deadline`: true when the child is still running then.
fn wait_until(child: &mut Child, deadline: Instant, ready: impl Fn() -> bool) -> bool {
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if ready() || Instant::now() >= deadline {
            return child.try_wait().unwrap().is_none();
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Lines of the finished-case files (of case `id` only, when given).
fn finished_lines(clinic: &Clinic, id: Option<&str>) -> usize {
    let cases = gallery::finished_cases(&clinic.env.out());
    cases
        .iter()
        .filter(|c| id.is_none_or(|id| c["id"] == id))
        .count()
}

/// `img` brightened: version `by` adds its own level (0 for version 0) to every channel.
fn brighten(mut img: RgbImage, by: u32) -> RgbImage {
    let add = ((by * 37) % 97) as u8;
    for p in img.pixels_mut() {
        for c in &mut p.0 {
            *c = c.saturating_add(add);
        }
    }
    img
}
