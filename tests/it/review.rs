//! Alignment decisions end to end: an unrelated pair is held for review (never published), the
//! review flag publishes it anyway, and case.toml landmarks override the estimator.

use crate::support;

use beforeafter::synth::{self, Light, Scene, Shot, View};
use support::env::{TestEnv, files, jpeg};

fn shot(view: View, seed: u64, moved: bool) -> Vec<u8> {
    let scene = Scene::new(view, seed);
    let mut s = if moved {
        Shot::moved(&scene, 800, 600, 6.0, 1.08, [0.04, -0.03])
    } else {
        Shot::reference(&scene, 800)
    };
    if moved {
        s.treated = true;
        s.light = Light {
            gain: [1.15, 1.0, 0.9],
            gamma: 1.05,
        };
    }
    jpeg(&synth::render(&scene, &s))
}

#[test]
fn unrelated_pair_is_held_for_review_and_never_published() {
    let env = TestEnv::new();
    env.put("good/before.jpg", &shot(View::Crown, 11, false));
    env.put("good/after.jpg", &shot(View::Crown, 11, true));
    env.put("mixup/before.jpg", &shot(View::Crown, 21, false));
    env.put("mixup/after.jpg", &shot(View::Top, 99, true));
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    assert_eq!(summary["published"], 1);
    assert_eq!(summary["review"], 1);
    let listed = files(&env.out());
    assert!(
        listed.iter().all(|f| !f.starts_with("mixup/")),
        "{listed:?}"
    );
    let index = std::fs::read_to_string(env.out().join("index.html")).unwrap();
    assert!(!index.contains("mixup"));
    // The uploaded folder names no held case, not even in the manifest; its record (reasons,
    // alignment figures) is kept beside the photos.
    let public: Vec<String> = files(&env.out())
        .into_iter()
        .filter(|f| std::fs::read_to_string(env.out().join(f)).is_ok_and(|t| t.contains("mixup")))
        .collect();
    assert!(public.is_empty(), "{public:?}");
    let manifest = env.manifest();
    let held = env.held();
    assert_eq!(held["cases"].as_array().unwrap().len(), 1, "{held}");
    let case = &held["cases"][0];
    assert_eq!(case["id"], "mixup");
    assert_eq!(case["review"], true);
    assert_eq!(case["published"], false);
    let after = &case["views"][0]["stages"][1];
    assert_eq!(after["review"], true);
    assert!(
        after["align"]["confidence"].as_f64().unwrap() < 0.5,
        "{after}"
    );
    assert!(!after["reasons"].as_array().unwrap().is_empty());
    let good = manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "good")
        .unwrap();
    let align = &good["views"][0]["stages"][1]["align"];
    assert!(align["confidence"].as_f64().unwrap() > 0.5, "{align}");
    // The after was shot turned +6°; its map back onto the before turns it by -6°.
    assert!(
        (align["rotation_deg"].as_f64().unwrap() + 6.0).abs() < 0.3,
        "{align}"
    );

    // Run again with nothing changed: the held case is not redone (same photos, same verdict),
    // and it still counts as held.
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    assert_eq!(summary["decoded"], 0, "{summary}");
    assert_eq!(summary["review"], 1, "{summary}");
    assert_eq!(env.manifest()["cases"], manifest["cases"]);
    assert_eq!(env.held()["cases"], held["cases"]);

    // The flag publishes it, still marked for review in the manifest: it counts as published,
    // with a separate count of overridden reviews, and its page says so.
    let (out, summary) = env.batch(&["--publish-review"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(summary["review"], 0, "{summary}");
    assert_eq!(summary["review_overridden"], 1, "{summary}");
    assert!(files(&env.out()).iter().any(|f| f.starts_with("mixup/")));
    let page = std::fs::read_to_string(env.out().join("mixup/index.html")).unwrap();
    assert!(page.contains("published without being confirmed"), "{page}");
}

#[test]
fn landmarks_in_case_toml_override_the_estimator() {
    let env = TestEnv::new();
    env.put("c/before.jpg", &shot(View::Top, 5, false));
    env.put("c/after.jpg", &shot(View::Top, 5, true));
    // The true map from after to before pixels, sampled at three points.
    let scene = Scene::new(View::Top, 5);
    let truth = synth::shot_to_shot(
        &Shot::moved(&scene, 800, 600, 6.0, 1.08, [0.04, -0.03]),
        &Shot::reference(&scene, 800),
    );
    let mut toml = String::from("[[align]]\nstage = \"after\"\nlandmarks = [\n");
    for p in [[100.0, 100.0], [700.0, 120.0], [400.0, 500.0]] {
        let b = synth::apply(&truth, p);
        toml += &format!("  [{:.2}, {:.2}, {:.2}, {:.2}],\n", b[0], b[1], p[0], p[1]);
    }
    toml += "]\n";
    env.put("c/case.toml", toml.as_bytes());
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    let manifest = env.manifest();
    let align = &manifest["cases"][0]["views"][0]["stages"][1]["align"];
    assert!(
        align["method"].as_str().unwrap().starts_with("landmarks"),
        "{align}"
    );
    let m = &align["matrix"];
    for r in 0..2 {
        for c in 0..3 {
            let got = m[r][c].as_f64().unwrap();
            assert!(
                (got - truth[r][c]).abs() < 1e-3 * truth[r][c].abs().max(1.0),
                "{align}"
            );
        }
    }
}

#[test]
fn an_override_naming_a_missing_stage_fails_the_case() {
    let env = TestEnv::new();
    env.put("c/before.jpg", &shot(View::Top, 5, false));
    env.put("c/after.jpg", &shot(View::Top, 5, true));
    env.put(
        "c/case.toml",
        b"[[align]]\nstage = \"session-9\"\nmatrix = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]\n",
    );
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        summary["cases"][0]["reasons"]
            .to_string()
            .contains("session-9"),
        "{summary}"
    );
}

/// Two photos of different scenes (`support::registration::unrelated_spec`), as case `name`.
fn unrelated_case(env: &TestEnv, name: &str) {
    let pair = support::registration::make(&support::registration::unrelated_spec(3, 800));
    env.put(&format!("{name}/before.jpg"), &jpeg(&pair.before));
    env.put(&format!("{name}/after.jpg"), &jpeg(&pair.after));
}

/// `batch` over `env`: the case is held, saying the photos do not line up, and nothing of it is
/// published.
fn assert_held_not_lined_up(env: &TestEnv) {
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    assert_eq!(summary["published"], 0, "{summary}");
    assert_eq!(summary["review"], 1, "{summary}");
    assert!(
        summary["cases"][0]["reasons"]
            .to_string()
            .contains("do not line up outside the treated area"),
        "{summary}"
    );
    assert!(
        files(&env.out()).iter().all(|f| !f.starts_with("c/")),
        "{:?}",
        files(&env.out())
    );
}

#[test]
fn landmarks_on_unrelated_photos_are_held_not_published() {
    let env = TestEnv::new();
    unrelated_case(&env, "c");
    // Three pairs spread over the photos, fitting exactly (residual 0): they check nothing.
    env.put(
        "c/case.toml",
        b"[[align]]\nstage = \"after\"\nlandmarks = [\n  [100.0, 100.0, 120.0, 90.0],\n  \
          [700.0, 120.0, 690.0, 140.0],\n  [400.0, 500.0, 410.0, 480.0],\n]\n",
    );
    assert_held_not_lined_up(&env);
}

#[test]
fn a_matrix_on_unrelated_photos_is_held_not_published() {
    let env = TestEnv::new();
    unrelated_case(&env, "c");
    env.put(
        "c/case.toml",
        b"[[align]]\nstage = \"after\"\nmatrix = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]\n",
    );
    assert_held_not_lined_up(&env);
}

#[test]
fn a_confirmed_approval_of_unrelated_photos_is_held_not_published() {
    let env = TestEnv::new();
    unrelated_case(&env, "c");
    let (_, summary) = env.batch(&[]);
    assert_eq!(summary["review"], 1, "{summary}");
    // Approve exactly what the run showed, for these photos, confirmed: still not published.
    let held = env.held();
    let stages = &held["cases"][0]["views"][0]["stages"];
    let m = &stages[1]["align"]["matrix"];
    let toml = format!(
        "[[align]]\nstage = \"after\"\nmatrix = {m}\napproved = \"2026-05-01T10:00:00Z\"\n\
         before_hash = {}\nphoto_hash = {}\nconfirmed = \"same person, same area\"\n",
        stages[0]["source_hash"], stages[1]["source_hash"]
    );
    env.put("c/case.toml", toml.as_bytes());
    assert_held_not_lined_up(&env);
}

#[test]
fn points_bunched_in_one_spot_are_held_even_on_a_true_pair() {
    let env = TestEnv::new();
    env.put("c/before.jpg", &shot(View::Top, 5, false));
    env.put("c/after.jpg", &shot(View::Top, 5, true));
    let scene = Scene::new(View::Top, 5);
    let truth = synth::shot_to_shot(
        &Shot::moved(&scene, 800, 600, 6.0, 1.08, [0.04, -0.03]),
        &Shot::reference(&scene, 800),
    );
    // True points, all within 60 px of each other.
    let mut toml = String::from("[[align]]\nstage = \"after\"\nlandmarks = [\n");
    for p in [[400.0, 300.0], [460.0, 300.0], [420.0, 350.0]] {
        let b = synth::apply(&truth, p);
        toml += &format!("  [{:.2}, {:.2}, {:.2}, {:.2}],\n", b[0], b[1], p[0], p[1]);
    }
    toml += "]\n";
    env.put("c/case.toml", toml.as_bytes());
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    assert!(
        summary["cases"][0]["reasons"]
            .to_string()
            .contains("bunched"),
        "{summary}"
    );
}

/// The shipped defaults, with consent and folder ids as the test clinic's (not its lower
/// `[review] min_crop`).
const DEFAULT_MIN_CROP: &str = "[cases]\ndefault_consent = true\nids = \"folder\"\n";

#[test]
fn a_crop_under_the_minimum_is_held_as_too_small() {
    let env = TestEnv::with_defaults();
    env.put("beforeafter.toml", DEFAULT_MIN_CROP.as_bytes());
    let small = |seed, moved| {
        let scene = Scene::new(View::Crown, seed);
        let mut s = if moved {
            Shot::moved(&scene, 360, 270, 3.0, 1.05, [0.02, 0.01])
        } else {
            Shot::reference(&scene, 360)
        };
        s.treated = moved;
        jpeg(&synth::render(&scene, &s))
    };
    env.put("c/before.jpg", &small(3, false));
    env.put("c/after.jpg", &small(3, true));
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    assert_eq!(summary["published"], 0, "{summary}");
    let reasons = summary["cases"][0]["reasons"].to_string();
    assert!(
        reasons.contains("too small") && reasons.contains("400"),
        "{summary}"
    );
    assert!(files(&env.out()).iter().all(|f| !f.starts_with("c/")));
    // The same photos publish where the clinic set a lower minimum.
    let lower = format!("{DEFAULT_MIN_CROP}[review]\nmin_crop = 200\n");
    env.put("beforeafter.toml", lower.as_bytes());
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(0), "{summary}");
}

/// Every public id, stage name and source hash the output folder's manifest lists.
fn published_stages(env: &TestEnv) -> Vec<(String, String, String)> {
    let manifest = env.manifest();
    let mut found = Vec::new();
    for c in manifest["cases"].as_array().unwrap() {
        for s in c["views"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|v| v["stages"].as_array().unwrap())
        {
            let text = |k: &str| s[k].as_str().unwrap_or_default().to_owned();
            found.push((
                c["id"].as_str().unwrap().to_owned(),
                text("stage"),
                text("source_hash"),
            ));
        }
    }
    found
}

#[test]
fn a_withheld_photo_is_left_out_and_the_rest_of_the_case_publishes() {
    let env = TestEnv::new();
    let scene = Scene::new(View::Crown, 11);
    let mut session = Shot::moved(&scene, 800, 600, 3.0, 1.02, [0.01, 0.02]);
    session.treated = true;
    let session = jpeg(&synth::render(&scene, &session));
    let after = shot(View::Crown, 11, true);
    env.put("c/before.jpg", &shot(View::Crown, 11, false));
    env.put("c/session-1.jpg", &session);
    env.put("c/after.jpg", &after);
    let reason = "blurred-at-the-desk";
    let toml =
        format!("title = \"Crown\"\n\n[[withhold]]\nfile = \"after.jpg\"\nreason = \"{reason}\"\n");
    env.put("c/case.toml", toml.as_bytes());
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    let after_hash = blake3::hash(&after).to_hex().to_string();
    let stages = published_stages(&env);
    let names: Vec<&str> = stages.iter().map(|s| s.1.as_str()).collect();
    assert_eq!(names, ["before", "session-1"], "{stages:?}");
    assert!(stages.iter().all(|s| s.2 != after_hash), "{stages:?}");
    // Nothing of the after photo, of the [[withhold]] entry or its reason is in --out.
    for f in files(&env.out()) {
        let name = f.trim_start_matches(".beforeafter/");
        assert!(!name.contains("after"), "{f}");
        let bytes = std::fs::read(env.out().join(&f)).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(reason) && !text.contains("withhold"),
            "{f}: {text}"
        );
    }
    assert!(
        summary.to_string().contains("[[withhold]]"),
        "reported: {summary}"
    );

    // The entry removed, the next batch publishes the after photo again.
    env.put("c/case.toml", b"title = \"Crown\"\n");
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    let stages = published_stages(&env);
    assert!(
        stages.iter().any(|s| s.1 == "after" && s.2 == after_hash),
        "{stages:?}"
    );
}

#[test]
fn withholding_the_only_before_photo_publishes_nothing_of_the_case() {
    let env = TestEnv::new();
    env.put("c/before.jpg", &shot(View::Crown, 11, false));
    env.put("c/after.jpg", &shot(View::Crown, 11, true));
    env.put("c/case.toml", b"[[withhold]]\nfile = \"before.jpg\"\n");
    let (_, summary) = env.batch(&[]);
    assert_eq!(summary["published"], 0, "{summary}");
    assert!(env.manifest()["cases"].as_array().unwrap().is_empty());
}

#[test]
fn a_withheld_name_that_is_no_photo_of_the_folder_fails_the_case() {
    let env = TestEnv::new();
    env.put("c/before.jpg", &shot(View::Crown, 11, false));
    env.put("c/after.jpg", &shot(View::Crown, 11, true));
    env.put(
        "c/case.toml",
        b"[[withhold]]\nfile = \"aftr.jpg\"\nreason = \"blurred\"\n",
    );
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    let reasons = summary["cases"][0]["reasons"].to_string();
    assert!(
        reasons.contains("c/case.toml")
            && reasons.contains("aftr.jpg")
            && reasons.contains("after.jpg, before.jpg"),
        "{reasons}"
    );
    assert!(env.manifest()["cases"].as_array().unwrap().is_empty());
}

#[test]
fn what_staff_confirmed_with_its_dates_stays_in_case_toml_never_in_the_output_folder() {
    let env = TestEnv::new();
    let scene = Scene::new(View::Top, 5);
    let moved = Shot::moved(&scene, 800, 600, 6.0, 1.08, [0.04, -0.03]);
    let mut after = moved.clone();
    after.treated = true;
    let dated =
        |shot: &Shot, when| synth::jpeg_with_exif(&synth::render(&scene, shot), 1, 90, Some(when));
    env.put(
        "c/before.jpg",
        &dated(&Shot::reference(&scene, 800), "2026:03:03 10:15:00"),
    );
    env.put("c/after.jpg", &dated(&after, "2026:06:14 16:40:00"));
    let truth = synth::shot_to_shot(&moved, &Shot::reference(&scene, 800));
    let rows: Vec<String> = truth
        .iter()
        .map(|r| format!("[{}, {}, {}]", r[0], r[1], r[2]))
        .collect();
    let toml = format!(
        "[[align]]\nstage = \"after\"\nmatrix = [{}]\nconfirmed = \"the same person, the same \
         area, photographed on 3 March 2026 and 14 June 2026\"\n",
        rows.join(", ")
    );
    env.put("c/case.toml", toml.as_bytes());
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    assert_eq!(summary["published"], 1, "{summary}");
    for f in files(&env.out()) {
        let text =
            String::from_utf8_lossy(&std::fs::read(env.out().join(&f)).unwrap()).into_owned();
        for day in [
            "3 March",
            "14 June",
            "2026-03-03",
            "2026:03:03",
            "2026-06-14",
            "confirmed",
        ] {
            assert!(!text.contains(day), "{f} holds {day:?}");
        }
    }
}
