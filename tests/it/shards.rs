//! Shards and merge (issue 18): N `batch --shard I/N` processes at once into one output folder,
//! then `merge`, must leave exactly what one `batch` leaves (the same cases, file names and
//! bytes, and the same private records); merge refuses missing and stale shards, naming them;
//! a shard killed mid-way and rerun alone changes nothing in the result.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::env::{TEST_CLINIC, TestEnv, files, jpeg, photo};

fn beforeafter(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_beforeafter"));
    command.args(args);
    command
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn shard(input: &Path, out: &Path, which: &str, extra: &[&str]) -> Command {
    let mut c = beforeafter(&["batch", path(input), "--out", path(out), "--shard", which]);
    c.args(extra);
    c
}

fn merge(input: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut c = beforeafter(&["merge", path(input), "--out", path(out), "--json"]);
    c.args(extra).output().unwrap()
}

fn summary(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null)
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned() + &String::from_utf8_lossy(&o.stdout)
}

/// Every file of a gallery and its bytes, the output folder's own state (lock) aside.
fn tree(out: &Path) -> BTreeMap<String, Vec<u8>> {
    files(out)
        .into_iter()
        .filter(|f| !f.starts_with(".beforeafter/"))
        .map(|f| {
            let bytes = std::fs::read(out.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

fn assert_same_gallery(one_batch: &Path, sharded: &Path) {
    let (a, b) = (tree(one_batch), tree(sharded));
    let names = |t: &BTreeMap<String, Vec<u8>>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "file names differ");
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name}: bytes differ");
    }
    // Merged, nothing of the shards is left: the lock and one inventory of the tool's files,
    // the same as one batch's.
    let own: Vec<String> = files(sharded)
        .into_iter()
        .filter(|f| f.starts_with(".beforeafter/"))
        .collect();
    assert_eq!(own, [".beforeafter/journal", ".beforeafter/lock"]);
    let inventory = |out: &Path| std::fs::read_to_string(out.join(".beforeafter/journal")).unwrap();
    assert_eq!(
        inventory(one_batch),
        inventory(sharded),
        "inventories differ"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// The sample clinic (3 published cases, one without consent, a flat pair with an opaque id)
/// plus a case that fails (a truncated photo) and one held for review (two unrelated photos).
fn sample_clinic(to: &Path) {
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"), to);
    let before = std::fs::read(to.join("rotated-phone/before.jpg")).unwrap();
    std::fs::create_dir_all(to.join("broken")).unwrap();
    std::fs::write(to.join("broken/before.jpg"), &before[..20_000]).unwrap();
    std::fs::copy(
        to.join("rotated-phone/after.jpg"),
        to.join("broken/after.jpg"),
    )
    .unwrap();
    std::fs::create_dir_all(to.join("unrelated")).unwrap();
    std::fs::write(to.join("unrelated/before.jpg"), &before).unwrap();
    std::fs::copy(
        to.join("hairline-07_after.jpg"),
        to.join("unrelated/after.jpg"),
    )
    .unwrap();
}

fn counts(s: &serde_json::Value) -> Vec<u64> {
    ["published", "up_to_date", "failed", "review", "no_consent"]
        .iter()
        .map(|k| s[k].as_u64().unwrap())
        .collect()
}

#[test]
fn three_shards_at_once_then_merge_give_the_bytes_of_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (in_a, out_a) = (dir.path().join("a"), dir.path().join("gallery-a"));
    let (in_b, out_b) = (dir.path().join("b"), dir.path().join("gallery-b"));
    sample_clinic(&in_a);
    sample_clinic(&in_b);
    let batch = beforeafter(&["batch", path(&in_a), "--out", path(&out_a), "--json"])
        .output()
        .unwrap();
    assert_eq!(batch.status.code(), Some(3), "{}", text(&batch));
    let batch = summary(&batch);
    assert_eq!(counts(&batch), [3, 0, 1, 1, 1], "{batch}");

    let running: Vec<_> = (1..=3)
        .map(|i| {
            shard(&in_b, &out_b, &format!("{i}/3"), &["--json"])
                .stderr(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut shard_cases = 0;
    for child in running {
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        shard_cases += summary(&o)["cases"].as_array().unwrap().len();
    }
    assert_eq!(shard_cases, 6, "every case in exactly one shard");
    public_records_name_nothing_private(&out_b, &batch);

    let merged = merge(&in_b, &out_b, &[]);
    assert_eq!(merged.status.code(), Some(3), "{}", text(&merged));
    assert_eq!(counts(&summary(&merged)), counts(&batch));
    assert_same_gallery(&out_a, &out_b);
    for private in ["held.json", "published.json"] {
        let read = |input: &Path| std::fs::read(input.join(".beforeafter").join(private)).unwrap();
        assert!(read(&in_a) == read(&in_b), "{private} differs");
    }
    assert!(!in_b.join(".beforeafter/shards").exists());

    // Incremental, per shard: nothing changed, so a shard rerun decodes nothing, and merging
    // again changes nothing.
    let again = shard(&in_b, &out_b, "2/3", &["--json"]).output().unwrap();
    assert_eq!(summary(&again)["decoded"], 0, "{}", text(&again));
    for i in [1, 3] {
        let o = shard(&in_b, &out_b, &format!("{i}/3"), &[])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    let merged = merge(&in_b, &out_b, &[]);
    assert_eq!(merged.status.code(), Some(3), "{}", text(&merged));
    assert_same_gallery(&out_a, &out_b);
}

/// The output folder is uploaded as it is: shard records there hold published cases only, and
/// no folder or file name.
fn public_records_name_nothing_private(out: &Path, batch: &serde_json::Value) {
    let mut unpublished: Vec<String> = batch["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] != "published")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    unpublished.extend(
        [
            "hairline",
            "broken",
            "unrelated",
            "private-case",
            "before.jpg",
        ]
        .map(String::from),
    );
    let records = files(&out.join(".shards"));
    assert_eq!(records, ["1-of-3.json", "2-of-3.json", "3-of-3.json"]);
    for r in records {
        let text = std::fs::read_to_string(out.join(".shards").join(&r)).unwrap();
        for needle in &unpublished {
            assert!(!text.contains(needle.as_str()), "{r} names {needle}");
        }
    }
}

/// `n` cases of small synthetic photos, published with `--publish-review`.
fn small_cases(env: &TestEnv, n: u32, size: (u32, u32)) {
    for i in 0..n {
        let (w, h) = size;
        env.put(&format!("c{i}/before.jpg"), &jpeg(&photo(w, h, 2 * i)));
        env.put(
            &format!("c{i}/after.jpg"),
            &jpeg(&photo(w + 40, h + 30, 2 * i + 1)),
        );
    }
}

#[test]
fn merge_refuses_a_missing_shard_and_one_from_other_settings_or_photos() {
    let env = TestEnv::new();
    small_cases(&env, 5, (640, 480));
    let (input, out) = (env.input(), env.out());
    let pr = ["--publish-review"];
    let refused = |o: &Output, says: &[&str]| {
        assert_eq!(o.status.code(), Some(1), "{}", text(o));
        let t = text(o);
        for s in says {
            assert!(t.contains(s), "{s:?} not in: {t}");
        }
        assert!(!out.join("manifest.json").exists(), "a refused merge wrote");
    };
    refused(&merge(&input, &out, &pr), &["nothing to merge"]);
    for i in [1, 2] {
        let o = shard(&input, &out, &format!("{i}/3"), &pr)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    refused(&merge(&input, &out, &pr), &["shard 3/3: missing"]);

    let other = env.dir.path().join("other.toml");
    std::fs::write(
        &other,
        format!("{TEST_CLINIC}[outputs]\njpeg_quality = 70\n"),
    )
    .unwrap();
    let o = shard(
        &input,
        &out,
        "3/3",
        &["--publish-review", "--config", path(&other)],
    )
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    refused(
        &merge(&input, &out, &pr),
        &["shard 3/3: made with other settings", "--shard I/N"],
    );
    let o = shard(&input, &out, "3/3", &pr).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    // The merge's own settings must be the shards' too.
    refused(&merge(&input, &out, &[]), &["made with other settings"]);

    env.put("c2/after.jpg", &jpeg(&photo(700, 500, 99)));
    refused(&merge(&input, &out, &pr), &["another input listing"]);
    for i in 1..=3 {
        let o = shard(&input, &out, &format!("{i}/3"), &pr)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = merge(&input, &out, &pr);
    assert!(matches!(o.status.code(), Some(0 | 3)), "{}", text(&o));
    let s = summary(&o);
    assert_eq!(
        s["published"].as_u64().unwrap() + s["up_to_date"].as_u64().unwrap(),
        5,
        "{s}"
    );
    assert!(!out.join(".shards").exists());
}

/// Waits until `file` exists (a shard has finished a case), at most a minute.
/// Wait until `file` holds at least one whole line: the file is created when the shard starts,
/// before any case is finished, so its mere existence is too early a moment to kill the shard
/// (a loaded machine once killed it there, and the rerun had nothing to reuse).
fn wait_for(file: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let has_line = || std::fs::read(file).is_ok_and(|b| b.contains(&b'\n'));
    while !has_line() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_shard_killed_mid_way_and_rerun_alone_gives_the_gallery_of_one_batch() {
    let (sharded, reference) = (TestEnv::new(), TestEnv::new());
    for env in [&sharded, &reference] {
        small_cases(env, 8, (1200, 900));
    }
    let (input, out) = (sharded.input(), sharded.out());
    let pr = ["--publish-review"];
    let o = shard(&input, &out, "2/2", &pr).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));

    // One case at a time, so the kill comes between cases, with some finished and some not.
    let mut child = shard(&input, &out, "1/2", &["--publish-review", "--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&out.join(".beforeafter/finished-1-of-2.jsonl"));
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !out.join(".shards/1-of-2.json").exists(),
        "killed too late: the shard had finished"
    );
    let refused = merge(&input, &out, &pr);
    assert!(
        text(&refused).contains("shard 1/2: missing"),
        "{}",
        text(&refused)
    );

    let rerun = shard(&input, &out, "1/2", &["--publish-review", "--json"])
        .output()
        .unwrap();
    assert!(rerun.status.success(), "{}", text(&rerun));
    let s = summary(&rerun);
    assert!(
        s["up_to_date"].as_u64().unwrap() >= 1,
        "finished cases reused: {s}"
    );
    let merged = merge(&input, &out, &pr);
    assert!(
        matches!(merged.status.code(), Some(0 | 3)),
        "{}",
        text(&merged)
    );

    let (o, _) = reference.batch(&pr);
    assert!(matches!(o.status.code(), Some(0 | 3)));
    assert_same_gallery(&reference.out(), &out);
}

#[test]
fn a_plain_batch_after_shards_finishes_their_work_without_redoing_it() {
    let env = TestEnv::new();
    small_cases(&env, 4, (640, 480));
    let (input, out) = (env.input(), env.out());
    for i in 1..=2 {
        let o = shard(&input, &out, &format!("{i}/2"), &["--publish-review"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    let (o, s) = env.batch(&["--publish-review"]);
    assert!(matches!(o.status.code(), Some(0 | 3)), "{}", text(&o));
    assert_eq!(s["decoded"], 0, "{s}");
    assert_eq!(s["up_to_date"], 4, "{s}");
    assert!(!out.join(".shards").exists());
    assert!(!input.join(".beforeafter/shards").exists());
}
