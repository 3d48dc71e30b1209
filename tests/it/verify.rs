//! `beforeafter verify` on galleries the binary wrote: an honest one passes; a retouched
//! published photo, a swapped original, an unlisted image and an image with metadata are named.

use crate::support;

use support::env::{TestEnv, jpeg, photo};

fn pair(env: &TestEnv, case: &str) {
    env.put(&format!("{case}/before.jpg"), &jpeg(&photo(900, 700, 1)));
    env.put(&format!("{case}/after.jpg"), &jpeg(&photo(1000, 760, 2)));
}

/// The largest slider photo of a case's `after` stage, as published.
fn published_after(env: &TestEnv, case: &str) -> String {
    let m = env.manifest();
    let c = m["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == case)
        .unwrap();
    let stages = c["views"][0]["stages"].as_array().unwrap();
    let outputs = stages.last().unwrap()["outputs"].as_array().unwrap();
    outputs
        .iter()
        .filter(|o| o["format"] == "jpeg")
        .max_by_key(|o| o["width"].as_u64())
        .unwrap()["path"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn an_honest_gallery_verifies() {
    let env = TestEnv::new();
    pair(&env, "c1");
    pair(&env, "c2");
    let (out, _) = env.batch(&["--publish-review"]);
    assert!(out.status.code().is_some_and(|c| c == 0 || c == 3));
    let (code, text) = env.verify();
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("0 problem(s)") && text.contains("identical"),
        "{text}"
    );
}

#[test]
fn a_retouched_published_photo_is_named() {
    let env = TestEnv::new();
    pair(&env, "c1");
    env.batch(&["--publish-review"]);
    let rel = published_after(&env, "c1");
    let path = env.out().join(&rel);
    let mut img = image::open(&path).unwrap().into_rgb8();
    // Brighten a region, as a retoucher would, and save it again.
    for y in 100..180 {
        for x in 120..220 {
            let p = img.get_pixel_mut(x, y);
            p.0 = p.0.map(|v| v.saturating_add(25));
        }
    }
    std::fs::write(&path, jpeg(&img)).unwrap();
    let (code, text) = env.verify();
    assert_eq!(code, 3, "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains(&rel) && l.contains("pixels differ")),
        "{text}"
    );
}

#[test]
fn a_swapped_original_is_named() {
    let env = TestEnv::new();
    pair(&env, "c1");
    env.batch(&["--publish-review"]);
    env.put("c1/after.jpg", &jpeg(&photo(1000, 760, 3)));
    let (code, text) = env.verify();
    assert_eq!(code, 3, "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("c1/after.jpg") && l.contains("changed since it was published")),
        "{text}"
    );
}

#[test]
fn unlisted_images_and_metadata_are_named() {
    let env = TestEnv::new();
    pair(&env, "c1");
    env.batch(&["--publish-review"]);
    std::fs::write(env.out().join("c1/extra.jpg"), jpeg(&photo(64, 64, 3))).unwrap();
    let rel = published_after(&env, "c1");
    let tagged = beforeafter::synth::jpeg_with_exif(
        &image::open(env.out().join(&rel)).unwrap().into_rgb8(),
        1,
        82,
        Some("2026:03:14 10:20:30"),
    );
    std::fs::write(env.out().join(&rel), tagged).unwrap();
    let (code, text) = env.verify();
    assert_eq!(code, 3, "{text}");
    assert!(
        text.contains("c1/extra.jpg: an image no published case accounts for"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains(&rel) && l.contains("carries metadata")),
        "{text}"
    );
}

#[test]
fn verify_without_a_gallery_is_fatal() {
    let env = TestEnv::new();
    pair(&env, "c1");
    let (code, _) = env.verify();
    assert_eq!(code, 1);
}
