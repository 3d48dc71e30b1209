//! Consent that means what it says (issue 33), on the files the binary writes: a case is published
//! only within its consent's dates and scope, every route by which it loses consent (withdrawn,
//! expired, social scope narrowed, unreadable record) leaves no byte of it in `--out` or among the
//! staff's social images, each writes a withdrawal receipt, and the register says where every
//! case stands. "Today" comes from the documented `BEFOREAFTER_TODAY` hook.

use crate::support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::env::{TEST_CLINIC, TestEnv, files, jpeg, photo};

/// The case's consent dates and form path: none may reach `--out`.
const PRIVATE: [&str; 4] = ["2026-03-14", "2026-06-01", "2026-05-20", "smith-07.pdf"];

/// `beforeafter ARGS` with today set to `today`.
fn on(today: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_beforeafter"))
        .env("BEFOREAFTER_TODAY", today)
        .args(args)
        .output()
        .unwrap()
}

/// `batch --json` on `today`: exit code and summary.
fn batch(env: &TestEnv, today: &str) -> (Option<i32>, Value) {
    let (i, o) = (env.input(), env.out());
    let out = on(
        today,
        &[
            "batch",
            i.to_str().unwrap(),
            "--out",
            o.to_str().unwrap(),
            "--json",
        ],
    );
    let summary = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!("{}", String::from_utf8_lossy(&out.stderr));
    });
    (out.status.code(), summary)
}

/// A small pair in `case/` with this `case.toml`.
fn case(env: &TestEnv, name: &str, seed: u32, toml: &str) {
    env.put(&format!("{name}/before.jpg"), &jpeg(&photo(400, 300, seed)));
    env.put(
        &format!("{name}/after.jpg"),
        &jpeg(&photo(420, 310, seed + 1)),
    );
    env.put(&format!("{name}/case.toml"), toml.as_bytes());
}

fn record(scopes: &str, extra: &str) -> String {
    format!(
        "title = \"Crown\"\n[consent]\n{scopes}\nsigned = \"2026-03-14\"\nexpires = \"2026-06-01\"\n\
         form = \"forms/smith-07.pdf\"\n{extra}"
    )
}

/// Files under `dir` (none when it does not exist).
fn all(dir: &Path) -> Vec<String> {
    if dir.is_dir() { files(dir) } else { Vec::new() }
}

fn staff(env: &TestEnv) -> Vec<String> {
    all(&env.input().join(".beforeafter/social"))
}

fn of(list: &[String], id: &str) -> Vec<String> {
    let prefix = format!("{id}/");
    list.iter()
        .filter(|f| f.starts_with(&prefix))
        .cloned()
        .collect()
}

/// No byte of `--out` holds a consent date or the form's path.
fn no_consent_record_in_out(env: &TestEnv) {
    for rel in files(&env.out()) {
        let bytes = std::fs::read(env.out().join(&rel)).unwrap();
        for needle in PRIVATE {
            let hit = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
            assert!(!hit, "{rel} contains {needle}");
        }
    }
}

/// The one receipt the run named: its JSON.
fn receipt(summary: &Value) -> Value {
    let receipts = summary["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 1, "{summary}");
    let path = receipts[0].as_str().unwrap();
    assert!(path.contains(".beforeafter/withdrawals/"), "{path}");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn listed(receipt: &Value, key: &str) -> Vec<String> {
    let list = receipt[key].as_array().unwrap();
    list.iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn withdrawal_and_expiry_take_every_byte_off_and_leave_a_receipt() {
    let env = TestEnv::new();
    case(&env, "w", 1, &record("website = true\nsocial = true", ""));
    case(&env, "x", 3, &record("website = true\nsocial = true", ""));
    // Before it is signed: nothing.
    let (code, s) = batch(&env, "2026-03-13");
    assert_eq!((code, s["no_consent"].as_u64()), (Some(0), Some(2)), "{s}");
    assert!(of(&files(&env.out()), "w").is_empty());
    // Signed: published, with the social and square images kept for staff, not in --out.
    let (code, s) = batch(&env, "2026-05-20");
    assert_eq!((code, s["published"].as_u64()), (Some(0), Some(2)), "{s}");
    let expiring: Vec<&str> = (s["expiring"].as_array().unwrap().iter())
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(expiring, ["w", "x"], "12 days left, within 30: {s}");
    let out = files(&env.out());
    assert!(
        out.iter()
            .any(|f| f.starts_with("w/") && f.contains("-side.")),
        "{out:?}"
    );
    assert!(
        !out.iter()
            .any(|f| f.contains("-social.") || f.contains("-square.")),
        "{out:?}"
    );
    let kept = staff(&env);
    assert_eq!(of(&kept, "w").len(), 2, "{kept:?}");
    let page = std::fs::read_to_string(env.out().join("w/index.html")).unwrap();
    assert!(
        page.contains("Published with the patient&#x27;s consent.")
            || page.contains("Published with the patient's consent."),
        "{page}"
    );
    assert!(
        !page.contains("For social media"),
        "staff images are not offered"
    );
    no_consent_record_in_out(&env);
    let published_w = of(&out, "w");

    // Withdrawn: every file, the page, the staff images gone; a receipt names them.
    case(
        &env,
        "w",
        1,
        &record(
            "website = true\nsocial = true",
            "withdrawn = \"2026-05-20\"\n",
        ),
    );
    let (_, s) = batch(&env, "2026-05-20");
    assert_eq!(s["no_consent"].as_u64(), Some(1), "{s}");
    assert!(of(&files(&env.out()), "w").is_empty());
    assert!(of(&staff(&env), "w").is_empty(), "{:?}", staff(&env));
    let r = receipt(&s);
    assert_eq!(
        (r["case"].as_str(), r["status"].as_str()),
        (Some("w"), Some("withdrawn"))
    );
    let removed = listed(&r, "removed");
    for f in &published_w {
        assert!(removed.contains(f), "{f} not in the receipt: {removed:?}");
    }
    assert_eq!(listed(&r, "social_images_staff"), of(&kept, "w"));
    no_consent_record_in_out(&env);

    // Expired: published on its last day, gone the day after, with a receipt.
    let (_, s) = batch(&env, "2026-06-01");
    assert!(s["receipts"].as_array().unwrap().is_empty(), "{s}");
    assert_eq!(s["expiring"][0]["days_left"].as_i64(), Some(0), "{s}");
    assert!(!of(&files(&env.out()), "x").is_empty());
    let (_, s) = batch(&env, "2026-06-02");
    assert!(of(&files(&env.out()), "x").is_empty());
    assert!(of(&staff(&env), "x").is_empty());
    assert_eq!(receipt(&s)["status"], "expired");
    no_consent_record_in_out(&env);
    assert_eq!(env.manifest()["cases"].as_array().unwrap().len(), 0);
}

#[test]
fn social_images_need_social_consent_and_narrowing_the_scope_removes_them() {
    let env = TestEnv::new();
    let config = format!("{TEST_CLINIC}\n[gallery]\nsocial_downloads = true\n");
    env.put("beforeafter.toml", config.as_bytes());
    case(&env, "s", 5, "[consent]\nwebsite = true\nsocial = true\n");
    case(&env, "web", 7, "[consent]\nwebsite = true\n");
    let (code, s) = batch(&env, "2026-05-20");
    assert_eq!((code, s["published"].as_u64()), (Some(0), Some(2)), "{s}");
    let social = |id: &str| -> Vec<String> {
        (of(&files(&env.out()), id).into_iter())
            .filter(|f| f.contains("-social.") || f.contains("-square."))
            .collect()
    };
    assert_eq!(social("s").len(), 2, "offered on the public page");
    assert!(
        social("web").is_empty(),
        "website consent only: no social image made"
    );
    let page = std::fs::read_to_string(env.out().join("web/index.html")).unwrap();
    assert!(
        !page.contains("og:image"),
        "no link preview without social consent"
    );
    assert!(staff(&env).is_empty(), "{:?}", staff(&env));
    let was = social("s");

    // The patient narrows the consent to the website: the case stays, its social images go.
    case(&env, "s", 5, "[consent]\nwebsite = true\nsocial = false\n");
    let (_, s) = batch(&env, "2026-05-21");
    assert!(social("s").is_empty());
    assert!(env.out().join("s/index.html").is_file());
    let r = receipt(&s);
    assert_eq!(listed(&r, "social_images_public"), was);
    assert_eq!(listed(&r, "removed"), was);
    assert_eq!(env.verify().0, 0);
}

#[test]
fn an_unreadable_consent_record_fails_the_case_and_nothing_of_it_is_published() {
    let env = TestEnv::new();
    for (name, toml, says) in [
        (
            "a",
            "[consent]\nwebsite = true\nsigned = \"14/03/2026\"\n",
            "not a date",
        ),
        (
            "b",
            "[consent]\nwebsite = true\nsocail = true\n",
            "no key \"socail\"",
        ),
        (
            "c",
            "[consent]\nwebsite = true\nsigned = \"2026-03-14\"\nexpires = \"2025-03-14\"\n",
            "before signed",
        ),
    ] {
        case(&env, name, 9, toml);
        let (code, s) = batch(&env, "2026-05-20");
        assert_eq!(code, Some(3), "{s}");
        let report = (s["cases"].as_array().unwrap().iter())
            .find(|c| c["id"] == name)
            .unwrap();
        assert_eq!(report["outcome"], "failed", "{s}");
        assert!(report["reasons"][0].as_str().unwrap().contains(says), "{s}");
        assert!(of(&files(&env.out()), name).is_empty());
        std::fs::remove_dir_all(env.input().join(name)).unwrap();
    }
    assert!(staff(&env).is_empty());
}

#[test]
fn the_register_lists_every_case_and_what_of_it_is_public() {
    let env = TestEnv::new();
    case(
        &env,
        "pub",
        11,
        &record("website = true\nsocial = true", ""),
    );
    case(
        &env,
        "gone",
        13,
        &record("website = true", "withdrawn = \"2026-05-01\"\n"),
    );
    case(
        &env,
        "old",
        15,
        "[consent]\nwebsite = true\nexpires = \"2026-01-31\"\n",
    );
    case(&env, "yes", 17, "consent = true\nkeep_private = true\n");
    let (_, s) = batch(&env, "2026-05-20");
    assert_eq!(s["published"].as_u64(), Some(1), "{s}");
    let (i, o) = (env.input(), env.out());
    let args = [
        "consent",
        i.to_str().unwrap(),
        "--out",
        o.to_str().unwrap(),
        "--csv",
    ];
    let out = on("2026-05-20", &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let files_pub = of(&files(&env.out()), "pub").len() - 1;
    let want = format!(
        "public_id,folder,website,social,signed,expires,days_left,status,public_pages,public_files,public_social_images\r\n\
         gone,gone,yes,no,2026-03-14,2026-06-01,,withdrawn,0,0,0\r\n\
         old,old,yes,no,,2026-01-31,,expired,0,0,0\r\n\
         pub,pub,yes,yes,2026-03-14,2026-06-01,12,published,1,{files_pub},0\r\n\
         yes,yes,yes,yes,,,,held (kept private by staff),0,0,0\r\n"
    );
    assert_eq!(csv, want);
    // Written where asked, never into the gallery.
    let inside = o.join("register.csv");
    let refused = on(
        "2026-05-20",
        &[
            "consent",
            i.to_str().unwrap(),
            "--out",
            o.to_str().unwrap(),
            "--to",
            inside.to_str().unwrap(),
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(!inside.exists());
    let check = on("2026-05-20", &["check", i.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        text.contains("consent for pub (folder pub) ends on 2026-06-01 (12 day(s) left)"),
        "{text}"
    );
}
