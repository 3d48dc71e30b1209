//! The quality gate's pipeline-level codes end to end, through the binary: `timing`,
//! `date_order`, `framing` and `mismatch`, one positive and one clean case each, checked in
//! `batch --json` (`cases[].flags`), the manifest, the held records and the published page.
//! The photo-level codes (blur, exposure, perspective) are measured in `tests/it/quality.rs`.

use crate::support;

use beforeafter::synth::{self, Scene, Shot, View};
use serde_json::Value;
use support::env::{TestEnv, jpeg};

/// A 4:3 photo of the scene, `width` px wide, taken on 2026-05-`day` (no date when `None`).
fn shot(scene: &Scene, width: u32, moved: Option<f64>, day: Option<u8>) -> Vec<u8> {
    let s = match moved {
        Some(deg) => Shot::moved(scene, width, width * 3 / 4, deg, 1.0, [0.0, 0.0]),
        None => Shot::reference(scene, width),
    };
    let img = synth::render(scene, &s);
    match day {
        Some(d) => {
            let date = format!("2026:05:{d:02} 10:00:00");
            synth::jpeg_with_exif(&img, 1, 90, Some(&date))
        }
        None => jpeg(&img),
    }
}

/// The flags `batch --json` reports for case `id`.
fn flags(summary: &Value, id: &str) -> Vec<Value> {
    let cases = summary["cases"].as_array().unwrap();
    let case = cases.iter().find(|c| c["id"] == id).unwrap();
    case["flags"].as_array().unwrap().clone()
}

fn codes(flags: &[Value]) -> Vec<&str> {
    flags.iter().map(|f| f["code"].as_str().unwrap()).collect()
}

#[test]
fn an_after_photo_taken_two_days_after_the_last_session_is_flagged_and_disclosed() {
    let env = TestEnv::new();
    let scene = Scene::new(View::Crown, 5);
    for (case, after_day) in [("fresh", 22), ("healed", 28)] {
        env.put(
            &format!("{case}/before.jpg"),
            &shot(&scene, 640, None, Some(1)),
        );
        env.put(
            &format!("{case}/session-1.jpg"),
            &shot(&scene, 640, None, Some(18)),
        );
        env.put(
            &format!("{case}/after.jpg"),
            &shot(&scene, 640, None, Some(after_day)),
        );
    }
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    assert!(flags(&summary, "healed").is_empty(), "{summary}");
    let fresh = flags(&summary, "fresh");
    assert_eq!(codes(&fresh), ["timing"], "{summary}");
    assert_eq!(fresh[0]["severity"], "warning");
    assert_eq!(fresh[0]["stage"], "after");
    let message = fresh[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("After photo taken 4 days after session 1"),
        "{message}"
    );
    // Warned, so published, and the page says so (an interval, never a date).
    let page = std::fs::read_to_string(env.out().join("fresh/index.html")).unwrap();
    assert!(page.contains("After photo taken 4 days after session 1; fresh pigment looks darker"));
    assert!(!page.contains("2026-05") && !page.contains("May 22"));
    let healed = std::fs::read_to_string(env.out().join("healed/index.html")).unwrap();
    assert!(!healed.contains("fresh pigment"));
    // The manifest carries the flag on the stage.
    let manifest = env.manifest();
    let case = manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "fresh");
    let after = &case.unwrap()["views"][0]["stages"][2];
    assert_eq!(after["flags"][0]["code"], "timing");
}

#[test]
fn a_later_stage_dated_before_an_earlier_one_is_held_with_date_order() {
    let env = TestEnv::new();
    let scene = Scene::new(View::Top, 8);
    env.put("mixed/before.jpg", &shot(&scene, 640, None, Some(20)));
    env.put("mixed/after.jpg", &shot(&scene, 640, None, Some(2)));
    env.put("ordered/before.jpg", &shot(&scene, 640, None, Some(2)));
    env.put("ordered/after.jpg", &shot(&scene, 640, None, Some(28)));
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    assert!(flags(&summary, "ordered").is_empty(), "{summary}");
    let mixed = flags(&summary, "mixed");
    assert_eq!(codes(&mixed), ["date_order"]);
    assert_eq!(mixed[0]["severity"], "review");
    assert!(
        mixed[0]["message"]
            .as_str()
            .unwrap()
            .contains("check which photo is which")
    );
    assert!(!env.out().join("mixed").exists());
    // The held record keeps the flag beside the photos.
    let held = env.held();
    assert_eq!(
        held["cases"][0]["views"][0]["stages"][1]["flags"][0]["code"],
        "date_order"
    );
    // `[quality] date_order = "warn"` publishes it with a warning instead.
    let config =
        support::env::TEST_CLINIC.replace("[quality]\n", "[quality]\ndate_order = \"warn\"\n");
    env.put("beforeafter.toml", config.as_bytes());
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    assert_eq!(flags(&summary, "mixed")[0]["severity"], "warning");
    assert!(env.out().join("mixed/index.html").is_file());
}

#[test]
fn framing_is_measured_as_framing_whatever_the_resolutions() {
    let env = TestEnv::new();
    let scene = Scene::new(View::Crown, 13);
    // The same framing at 504 and 802 px wide: no flag (it used to read as scale 0.628).
    env.put("small-before/before.jpg", &shot(&scene, 504, None, None));
    env.put("small-before/after.jpg", &shot(&scene, 802, None, None));
    // Turned 12° where the clinic allows ±5°.
    let config = format!("{}[align]\nmax_rotation = 5.0\n", support::env::TEST_CLINIC);
    env.put("beforeafter.toml", config.as_bytes());
    env.put("turned/before.jpg", &shot(&scene, 640, None, None));
    env.put("turned/after.jpg", &shot(&scene, 640, Some(12.0), None));
    let (_, summary) = env.batch(&[]);
    assert!(flags(&summary, "small-before").is_empty(), "{summary}");
    let turned = flags(&summary, "turned");
    assert!(codes(&turned).contains(&"framing"), "{summary}");
    assert!(turned.iter().all(|f| f["severity"] == "review"));
    assert!(turned[0]["message"].as_str().unwrap().contains("rotation"));
}

#[test]
fn photos_of_different_scalps_are_held_as_mismatch() {
    let env = TestEnv::new();
    let crown = Scene::new(View::Crown, 21);
    env.put("same/before.jpg", &shot(&crown, 640, None, None));
    env.put("same/after.jpg", &shot(&crown, 640, Some(4.0), None));
    env.put("mixup/before.jpg", &shot(&crown, 640, None, None));
    env.put(
        "mixup/after.jpg",
        &shot(&Scene::new(View::Top, 99), 640, None, None),
    );
    let (out, summary) = env.batch(&[]);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    assert!(flags(&summary, "same").is_empty(), "{summary}");
    let mixup = flags(&summary, "mixup");
    assert!(codes(&mixup).contains(&"mismatch"), "{summary}");
    // Not a tilt: the keystone rescue finds no homography between two scalps.
    assert!(!codes(&mixup).contains(&"perspective"), "{summary}");
    assert!(mixup.iter().any(|f| f["severity"] == "review"));
}

#[test]
fn check_lists_flags_per_case_and_predicts_the_hold() {
    let env = TestEnv::new();
    let scene = Scene::new(View::Top, 3);
    env.put("mixed/before.jpg", &shot(&scene, 640, None, Some(20)));
    env.put("mixed/after.jpg", &shot(&scene, 640, None, Some(2)));
    let out = support::env::run(&["check", env.input().to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("mixed:") && text.contains("HOLD date_order (after)"),
        "{text}"
    );
    // Nothing written.
    assert!(!env.out().exists());
}
