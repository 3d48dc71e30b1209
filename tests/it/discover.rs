//! Discovery on real folders: conventions, views, case.toml, stray and hidden files, collisions.

use crate::support;

use beforeafter::discover::{ProblemKind, Rules, Stage, discover};
use support::env::TestEnv;

fn layout(env: &TestEnv, files: &[&str]) {
    for f in files {
        env.put(f, b"x");
    }
}

#[test]
fn conventions_table() {
    let env = TestEnv::new();
    layout(
        &env,
        &[
            "Smith 01_BEFORE.JPG",
            "Smith 01-after.jpeg",
            "jones_pre.png",
            "jones_post.png",
            "series/before.jpg",
            "series/session-1.jpg",
            "series/Session_2.jpg",
            "series/after.jpg",
            "views/crown_before.jpg",
            "views/crown_after.jpg",
            "views/front-pre.jpg",
            "views/front-session 1.jpg",
            "stray_before.jpg",
            "notes.txt",
            ".DS_Store",
            "._smith_before.jpg",
            "Thumbs.db",
            "series/.hidden.jpg",
            "series/IMG_1234.jpg",
        ],
    );
    let inv = discover(&env.input(), &Rules::folder_ids(true), &[]).unwrap();
    let ids: Vec<&str> = inv.cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["jones", "series", "smith-01", "views"]);
    let series = &inv.cases[1];
    let stages: Vec<Stage> = series.views[0].stages.iter().map(|s| s.stage).collect();
    assert_eq!(
        stages,
        [
            Stage::Before,
            Stage::Session(1),
            Stage::Session(2),
            Stage::After
        ]
    );
    let views: Vec<&str> = inv.cases[3].views.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(views, ["crown", "front"]);
    let problem = |path: &str| inv.problems.iter().find(|p| p.path == path).map(|p| p.kind);
    assert_eq!(problem("stray_before.jpg"), Some(ProblemKind::Unpaired));
    assert_eq!(problem("notes.txt"), Some(ProblemKind::Unknown));
    assert_eq!(problem(".DS_Store"), Some(ProblemKind::Skipped));
    assert_eq!(problem("._smith_before.jpg"), Some(ProblemKind::Skipped));
    assert_eq!(problem("Thumbs.db"), Some(ProblemKind::Skipped));
    assert_eq!(problem("series/.hidden.jpg"), Some(ProblemKind::Skipped));
    assert_eq!(problem("series/IMG_1234.jpg"), Some(ProblemKind::Unknown));
    assert_eq!(inv.problems.len(), 7, "{:#?}", inv.problems);
}

#[test]
fn case_toml_sets_captions_and_consent() {
    let env = TestEnv::new();
    layout(
        &env,
        &["a/before.jpg", "a/after.jpg", "b/before.jpg", "b/after.jpg"],
    );
    env.put(
        "a/case.toml",
        b"title = \"Crown\"\ntags = [\"x\"]\nconsent = false\n",
    );
    let inv = discover(&env.input(), &Rules::folder_ids(true), &[]).unwrap();
    assert_eq!(inv.cases[0].meta.title.as_deref(), Some("Crown"));
    assert!(!inv.cases[0].consent);
    assert!(inv.cases[1].consent, "default consent from config");
    let inv = discover(&env.input(), &Rules::folder_ids(false), &[]).unwrap();
    assert!(!inv.cases[1].consent);
}

#[test]
fn bad_case_toml_fails_that_case_with_file_and_key() {
    let env = TestEnv::new();
    layout(&env, &["a/before.jpg", "a/after.jpg"]);
    env.put("a/case.toml", b"titel = \"typo\"\n");
    let inv = discover(&env.input(), &Rules::folder_ids(true), &[]).unwrap();
    let e = &inv.cases[0].errors[0];
    assert!(e.contains("a/case.toml") && e.contains("titel"), "{e}");
}

#[test]
fn colliding_ids_fail_both_and_name_both() {
    let env = TestEnv::new();
    layout(
        &env,
        &[
            "Case 1/before.jpg",
            "Case 1/after.jpg",
            "case-1_before.jpg",
            "case-1_after.jpg",
        ],
    );
    let inv = discover(&env.input(), &Rules::folder_ids(true), &[]).unwrap();
    assert_eq!(inv.cases.len(), 2);
    for c in &inv.cases {
        let e = c.errors.join(" ");
        assert!(e.contains("Case 1") && e.contains("case-1"), "{e}");
    }
}

#[test]
fn a_case_named_assets_fails_instead_of_writing_into_the_gallerys_assets() {
    let env = TestEnv::new();
    layout(&env, &["Assets/before.jpg", "Assets/after.jpg"]);
    let inv = discover(&env.input(), &Rules::folder_ids(true), &[]).unwrap();
    let e = inv.cases[0].errors.join(" ");
    assert!(e.contains("`assets`") && e.contains("rename Assets"), "{e}");
}

#[test]
fn duplicate_stage_is_an_error() {
    let env = TestEnv::new();
    layout(&env, &["a/before.jpg", "a/before.png", "a/after.jpg"]);
    let inv = discover(&env.input(), &Rules::folder_ids(true), &[]).unwrap();
    assert!(inv.cases[0].errors[0].contains("keep one"));
}

#[test]
fn hostile_names_make_safe_ids() {
    let env = TestEnv::new();
    layout(
        &env,
        &[
            "x..%2F..%2Fetc_before.jpg",
            "x..%2F..%2Fetc_after.jpg",
            "Pat. O'Neil <b>/before.jpg",
            "Pat. O'Neil <b>/after.jpg",
        ],
    );
    let inv = discover(&env.input(), &Rules::folder_ids(true), &[]).unwrap();
    assert_eq!(inv.cases[0].id, "pat-o-neil-b");
    assert_eq!(inv.cases[1].id, "x-2f-2fetc");
}

/// Issue 31: `batch` followed a link inside INPUT to a photo outside it and published it.
/// Links that leave the folder now fail their case, naming the link and the setting; links that
/// stay inside are read; `follow_symlinks = true` reads them all. Checked on what the binary
/// writes into `--out`.
#[test]
fn a_link_to_a_photo_outside_the_input_folder_is_not_followed_unless_allowed() {
    use std::os::unix::fs::symlink;
    use support::env::{files, jpeg, photo};
    let env = TestEnv::new();
    let elsewhere = env.dir.path().join("elsewhere");
    std::fs::create_dir_all(elsewhere.join("case")).unwrap();
    for (i, name) in ["stray.jpg", "case/before.jpg", "case/after.jpg"]
        .iter()
        .enumerate()
    {
        let bytes = jpeg(&photo(640, 480, 40 + i as u32 % 2));
        std::fs::write(elsewhere.join(name), bytes).unwrap();
    }
    env.put("a/before.jpg", &jpeg(&photo(640, 480, 40)));
    symlink(elsewhere.join("stray.jpg"), env.input().join("a/after.jpg")).unwrap();
    symlink(elsewhere.join("case"), env.input().join("b")).unwrap();
    env.put("c/before.jpg", &jpeg(&photo(640, 480, 40)));
    env.put("c/.original.jpg", &jpeg(&photo(640, 480, 41)));
    symlink(
        env.input().join("c/.original.jpg"),
        env.input().join("c/after.jpg"),
    )
    .unwrap();

    let (out, summary) = env.batch(&["--publish-review"]);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    let outcome = |id: &str| {
        let cases = summary["cases"].as_array().unwrap();
        let c = cases.iter().find(|c| c["id"] == id).unwrap();
        (
            c["outcome"].as_str().unwrap().to_owned(),
            c["reasons"].to_string(),
        )
    };
    for (id, link) in [("a", "a/after.jpg"), ("b", "b/before.jpg")] {
        let (outcome, reasons) = outcome(id);
        assert_eq!(outcome, "failed", "{id}: {reasons}");
        assert!(
            reasons.contains(link) && reasons.contains("follow_symlinks"),
            "{reasons}"
        );
    }
    assert_eq!(outcome("c").0, "published");
    let written = files(&env.out());
    assert!(written.iter().any(|f| f.starts_with("c/")), "{written:?}");
    assert!(
        !written
            .iter()
            .any(|f| f.starts_with("a/") || f.starts_with("b/")),
        "{written:?}"
    );

    let settings = format!("{}follow_symlinks = true\n", support::env::TEST_CLINIC);
    env.put("beforeafter.toml", settings.as_bytes());
    let (_, summary) = env.batch(&["--publish-review"]);
    assert_eq!(summary["failed"], 0, "{summary}");
    let written = files(&env.out());
    assert!(written.iter().any(|f| f.starts_with("a/")), "{written:?}");
    assert!(written.iter().any(|f| f.starts_with("b/")), "{written:?}");
}
