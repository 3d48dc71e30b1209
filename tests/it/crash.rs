//! Crashes and second runs: `kill -9` at arbitrary moments then a rerun, a consent withdrawn
//! after a killed run, two runs on one output folder. Every check is on the files in `--out`,
//! and `verify` must pass on what the rerun leaves. (A longer kill loop: `BA_KILLS=50 cargo test
//! --release --test it -- --ignored crash::`.)

use crate::support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::env::{TestEnv, files, jpeg, photo};

fn cases(env: &TestEnv, n: u32) {
    for i in 0..n {
        env.put(
            &format!("c{i}/before.jpg"),
            &jpeg(&photo(1400, 1050, 2 * i)),
        );
        env.put(
            &format!("c{i}/after.jpg"),
            &jpeg(&photo(1500, 1100, 2 * i + 1)),
        );
    }
}

/// `batch` on the test folders with `--publish-review` and `extra`, not yet started.
fn batch_command(env: &TestEnv, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_beforeafter"));
    command
        .args([
            "batch",
            env.input().to_str().unwrap(),
            "--out",
            env.out().to_str().unwrap(),
            "--publish-review",
        ])
        .args(extra);
    command
}

fn spawn_batch(env: &TestEnv, extra: &[&str]) -> Child {
    batch_command(env, extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Files in `--out` that the manifest does not account for (pages, assets and the output
/// folder's own state aside), and listed files that are missing.
fn orphans_and_missing(out: &Path) -> (Vec<String>, Vec<String>) {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let mut listed = Vec::new();
    for c in manifest["cases"].as_array().unwrap() {
        listed.push(format!("{}/index.html", c["id"].as_str().unwrap()));
        for v in c["views"].as_array().unwrap() {
            let stages = v["stages"].as_array().unwrap();
            let outs = stages.iter().flat_map(|s| s["outputs"].as_array().unwrap());
            for o in outs.chain(v["composites"].as_array().unwrap()) {
                listed.push(o["path"].as_str().unwrap().to_owned());
            }
        }
    }
    let present = files(out);
    let own = |f: &String| {
        f.starts_with("assets/")
            || f.starts_with(".beforeafter/")
            || ["index.html", "gallery.json", "embed.js", "manifest.json"].contains(&f.as_str())
    };
    let orphans = present
        .iter()
        .filter(|f| !own(f) && !listed.contains(f))
        .cloned()
        .collect();
    let missing = listed
        .into_iter()
        .filter(|f| !present.contains(f))
        .collect();
    (orphans, missing)
}

fn kill_loop(kills: u32) {
    let env = TestEnv::new();
    cases(&env, 4);
    let mut rng = beforeafter::synth::Rng::new(0x5EED);
    for _ in 0..kills {
        let mut child = spawn_batch(&env, &[]);
        std::thread::sleep(Duration::from_millis(rng.range(30.0, 2500.0) as u64));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
    }
    let (out, summary) = env.batch(&["--publish-review"]);
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 3),
        "{summary}"
    );
    assert_eq!(
        summary["published"].as_u64().unwrap() + summary["up_to_date"].as_u64().unwrap(),
        4
    );
    let temps: Vec<String> = files(&env.out())
        .into_iter()
        .filter(|f| f.contains(beforeafter::disk::TEMP_PREFIX))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
    let (orphans, missing) = orphans_and_missing(&env.out());
    assert!(orphans.is_empty(), "orphans: {orphans:?}");
    assert!(missing.is_empty(), "missing: {missing:?}");
    let (code, text) = env.verify();
    assert_eq!(code, 0, "{text}");
}

#[test]
fn kill_9_at_random_moments_then_a_rerun_leaves_a_whole_gallery() {
    kill_loop(5);
}

#[test]
#[ignore = "long: run with BA_KILLS=N"]
fn kill_9_loop_long() {
    let n = std::env::var("BA_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    kill_loop(n);
}

#[test]
fn consent_withdrawn_after_a_killed_run_leaves_no_byte_of_the_case() {
    let env = TestEnv::new();
    cases(&env, 3);
    let mut child = spawn_batch(&env, &[]);
    // Kill as soon as some of c1's files are in place, before the manifest lists them.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !env.out().join("c1").is_dir() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(150));
    let _ = child.kill();
    child.wait().unwrap();
    env.put(
        "c1/case.toml",
        b"[consent]\nwebsite = true\nsocial = true\nwithdrawn = \"2026-05-01\"\n",
    );
    let (out, summary) = env.batch(&["--publish-review"]);
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 3),
        "{summary}"
    );
    assert_eq!(summary["no_consent"], 1, "{summary}");
    let left: Vec<String> = files(&env.out())
        .into_iter()
        .filter(|f| f.starts_with("c1/"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // Nor among the staff's social images the killed run wrote.
    let staff = env.input().join(".beforeafter/social");
    let kept = if staff.is_dir() {
        files(&staff)
    } else {
        Vec::new()
    };
    assert!(kept.iter().all(|f| !f.starts_with("c1/")), "{kept:?}");
    assert!(kept.iter().any(|f| f.starts_with("c0/")), "{kept:?}");
    // Pages, lists and the manifest name no file of c1. Images are left out: three bytes of
    // compressed data spell "c1/" by chance (a 1024-px JPEG of c0 once did).
    let image = |f: &str| {
        [".jpg", ".webp", ".avif", ".png"]
            .iter()
            .any(|e| f.ends_with(e))
    };
    for f in files(&env.out()).into_iter().filter(|f| !image(f)) {
        let text = std::fs::read(env.out().join(&f)).unwrap();
        assert!(!text.windows(3).any(|w| w == b"c1/"), "{f} mentions c1");
    }
}

#[test]
fn a_second_run_on_the_same_folder_is_refused_or_waits() {
    let env = TestEnv::new();
    cases(&env, 3);
    let mut first = spawn_batch(&env, &[]);
    let lock = env.out().join(".beforeafter/lock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !lock.is_file() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let (out, _) = env.batch(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    let refused = out.status.code() == Some(1) && err.contains("another beforeafter run");
    let waited = batch_command(&env, &["--wait"]).output().unwrap();
    let first_status = first.wait().unwrap();
    // The first run may already have finished on a fast machine; then nothing was refused.
    assert!(
        refused || first_status.success() || first_status.code() == Some(3),
        "{err}"
    );
    assert!(waited.status.code().is_some_and(|c| c == 0 || c == 3));
    let (orphans, missing) = orphans_and_missing(&env.out());
    assert!(
        orphans.is_empty() && missing.is_empty(),
        "{orphans:?} {missing:?}"
    );
}

/// Issue 31: a lock file that could not be opened (left by a run as another user) used to let
/// the run go ahead unlocked, so two runs wrote at once. Now the run refuses with exit 1, naming
/// the file and the fix, and writes nothing; with `--wait` too (nothing live holds it).
#[test]
fn a_lock_file_that_cannot_be_opened_refuses_the_run_and_names_it() {
    let env = TestEnv::new();
    cases(&env, 1);
    // A folder in the lock file's place cannot be opened for writing, even by root (CI).
    std::fs::create_dir_all(env.out().join(".beforeafter/lock")).unwrap();
    for extra in [&[][..], &["--wait"][..]] {
        let out = batch_command(&env, extra).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(".beforeafter/lock"), "{stderr}");
        assert!(
            stderr.contains("remove") && stderr.contains("another user"),
            "{stderr}"
        );
    }
    let written: Vec<String> = files(&env.out())
        .into_iter()
        .filter(|f| !f.starts_with(".beforeafter/"))
        .collect();
    assert!(written.is_empty(), "{written:?}");
}
