//! What leaves the input folder with the shipped defaults: no patient name (folders and files
//! are named after patients), no day, nothing without recorded consent. Checked on every byte
//! the binary writes into `--out`.

use crate::support;

use support::env::{TestEnv, files, jpeg, photo, run};

/// Every byte of every file in the output folder, lower-cased where it is text.
fn everything(env: &TestEnv) -> Vec<(String, Vec<u8>)> {
    files(&env.out())
        .into_iter()
        .map(|rel| {
            let bytes = std::fs::read(env.out().join(&rel)).unwrap();
            (rel, bytes.to_ascii_lowercase())
        })
        .collect()
}

fn assert_absent(env: &TestEnv, needles: &[&str]) {
    for (rel, bytes) in everything(env) {
        for needle in needles {
            let n = needle.to_ascii_lowercase();
            assert!(
                !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
                "{rel} contains {needle:?}"
            );
            assert!(
                !rel.to_ascii_lowercase().contains(&n),
                "{rel} names {needle:?}"
            );
        }
    }
}

fn dated(seed: u32, date: &str, w: u32, h: u32) -> Vec<u8> {
    beforeafter::synth::jpeg_with_exif(&photo(w, h, seed), 1, 90, Some(date))
}

#[test]
fn by_default_a_case_without_recorded_consent_publishes_nothing() {
    let env = TestEnv::with_defaults();
    env.put("john-smith_before.jpg", &jpeg(&photo(800, 600, 1)));
    env.put("john-smith_after.jpg", &jpeg(&photo(900, 650, 2)));
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary["no_consent"], 1, "{summary}");
    assert_eq!(summary["published"], 0);
    assert_absent(&env, &["john", "smith"]);
    let human = run(&[
        "batch",
        env.input().to_str().unwrap(),
        "--out",
        env.out().to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("consent = true") && text.contains("default_consent"),
        "{text}"
    );
}

#[test]
fn patient_names_and_days_never_reach_the_output_folder() {
    let env = TestEnv::with_defaults();
    env.put(
        "john-smith/case.toml",
        b"consent = true\ndate = \"2026-03-14\"\n",
    );
    env.put(
        "john-smith/john-smith_crown_before.jpg",
        &dated(1, "2026:01:03 09:00:00", 900, 700),
    );
    env.put(
        "john-smith/john-smith_crown_after.jpg",
        &dated(2, "2026:03:14 10:20:30", 1000, 760),
    );
    let (out, summary) = env.batch(&["--publish-review"]);
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 3),
        "{summary}"
    );
    assert_eq!(summary["published"], 1, "{summary}");
    let id = summary["cases"][0]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("case-") && id.len() == 11, "{id}");
    assert_absent(
        &env,
        &[
            "john", "smith", "2026-03", "2026:03", "2026-01", "march", "january",
        ],
    );
    // The view keeps its anatomical name; the time since the before photo is shown.
    let page = std::fs::read_to_string(env.out().join(&id).join("index.html")).unwrap();
    assert!(
        page.contains("crown") || page.contains("Crown"),
        "view name kept"
    );
    assert!(page.contains("10 weeks later"), "relative time shown");
    // The clinic's own records keep the mapping, beside the photos.
    let private = std::fs::read_to_string(env.input().join(".beforeafter/published.json")).unwrap();
    assert!(private.contains("john-smith/john-smith_crown_after.jpg"));
    // `check` shows both names.
    let check = run(&["check", env.input().to_str().unwrap()]);
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(text.contains(&id) && text.contains("john-smith"), "{text}");
}

#[test]
fn month_dates_only_when_asked_and_never_a_day() {
    let env = TestEnv::with_defaults();
    env.put(
        "beforeafter.toml",
        b"[cases]\ndefault_consent = true\n[gallery]\ndates = \"month\"\n",
    );
    env.put(
        "c/case.toml",
        b"slug = \"crown-case\"\ndate = \"2026-03-14\"\n",
    );
    env.put("c/before.jpg", &dated(1, "2026:01:03 09:00:00", 900, 700));
    env.put("c/after.jpg", &dated(2, "2026:03:14 10:20:30", 1000, 760));
    env.batch(&["--publish-review"]);
    let page = std::fs::read_to_string(env.out().join("crown-case/index.html")).unwrap();
    assert!(
        page.contains("Mar 2026"),
        "month shown when asked (short, so labels fit)"
    );
    assert_absent(&env, &["2026-03-14", "2026:03:14", "14 march", "march 14"]);
}

#[test]
fn an_unreadable_case_toml_is_not_consent() {
    let env = TestEnv::new();
    env.put("c/case.toml", b"consent = maybe\n");
    env.put("c/before.jpg", &jpeg(&photo(800, 600, 1)));
    env.put("c/after.jpg", &jpeg(&photo(900, 650, 2)));
    let (out, summary) = env.batch(&["--publish-review"]);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    assert_eq!(summary["failed"], 1, "{summary}");
    assert!(
        summary["cases"][0]["reasons"]
            .to_string()
            .contains("case.toml")
    );
    assert!(!env.out().join("c").exists());
    assert_eq!(env.manifest()["cases"].as_array().unwrap().len(), 0);
}
