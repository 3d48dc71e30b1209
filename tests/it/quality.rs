//! The quality gate on real photographs: for each code, a pair with that fault injected must
//! measure beyond its default threshold, and a clean pair with normal drift (rotation, scale,
//! light change, JPEG, a treatment) must measure within it. Pairs are made as in
//! `benches/quality.rs` (see `tests/it/support/quality.rs`), from the smaller photos so this stays
//! fast.

use crate::support::env;
use crate::support::quality as set;
use crate::support::truth::scene;

use beforeafter::quality::{self, Fault, MeasureParams, Measures, Thresholds};
use set::Kind;

fn measured(photo: &'static str, variant: u64, kind: Kind) -> Measures {
    let scene = scene::load_scene(photo);
    let case = set::make(photo, variant, kind, &scene).expect("the scene can show this fault");
    // The pair is what was asked for: a fault of a real size, or none.
    assert_eq!(case.kind, kind);
    assert_eq!(
        Kind::FAULTS.contains(&kind),
        case.size != 0.0,
        "{}",
        case.name
    );
    let prepared = set::prepare(&case, 1024);
    assert!(prepared.confidence > 0.3, "{}: not registered", case.name);
    prepared.measure(&MeasureParams::default()).0
}

fn flags(m: &Measures) -> Vec<Fault> {
    quality::faults(m, &Thresholds::default())
}

#[test]
fn defocused_after_photo_is_blur() {
    let m = measured("coffee", 0, Kind::Blur);
    assert!(
        m.sharpness_ratio < Thresholds::default().min_sharpness_ratio,
        "{m:?}"
    );
    assert!(flags(&m).contains(&Fault::Blur));
}

#[test]
fn clean_pair_is_not_blur() {
    let m = measured("coffee", 101, Kind::Clean);
    assert!(
        m.sharpness_ratio >= Thresholds::default().min_sharpness_ratio,
        "{m:?}"
    );
}

#[test]
fn two_stops_brighter_is_overexposed() {
    let m = measured("chelsea", 0, Kind::Overexposed);
    assert!(m.highlights > Thresholds::default().max_highlights, "{m:?}");
    assert!(flags(&m).contains(&Fault::Overexposed));
}

#[test]
fn clean_pair_is_not_overexposed() {
    let m = measured("chelsea", 100, Kind::Clean);
    assert!(
        m.highlights <= Thresholds::default().max_highlights,
        "{m:?}"
    );
}

#[test]
fn two_stops_darker_is_underexposed() {
    let m = measured("rocket", 1, Kind::Underexposed);
    assert!(m.shadows > Thresholds::default().max_shadows, "{m:?}");
    assert!(flags(&m).contains(&Fault::Underexposed));
}

#[test]
fn clean_pair_is_not_underexposed() {
    let m = measured("rocket", 101, Kind::Clean);
    assert!(m.shadows <= Thresholds::default().max_shadows, "{m:?}");
}

#[test]
fn tilted_camera_is_perspective() {
    let m = measured("astronaut", 0, Kind::Perspective);
    assert!(m.tilt_deg > Thresholds::default().max_tilt_deg, "{m:?}");
    assert!(flags(&m).contains(&Fault::Perspective));
}

/// Tilted pair `variant` of `photo`, registered as the pipeline does; it must not register.
fn unregistered_tilt(photo: &'static str, variant: u64) -> set::Prepared {
    let scene = scene::load_scene(photo);
    let case = set::make(photo, variant, Kind::Perspective, &scene).expect("pair");
    let prepared = set::prepare(&case, 1024);
    assert!(!prepared.registered, "{}: registered after all", case.name);
    prepared
}

/// A camera angle too steep for the similarity registration: the pair is held as a mismatch,
/// and the tilt is still read (from feature matches of the unaligned photos), so the staff are
/// told to retake square-on rather than only that the photos do not match.
#[test]
fn a_tilt_too_steep_to_register_is_still_perspective() {
    let prepared = unregistered_tilt("astronaut", 1);
    let m = prepared.measure(&MeasureParams::default()).0;
    assert!(flags(&m).contains(&Fault::Perspective), "{m:?}");
}

/// A steep tilt that also zooms in until the treatment fills much of the later photo: neither
/// the registration nor feature matches place it, and the direct homography fit does.
#[test]
fn a_zoomed_steep_tilt_on_little_texture_is_still_perspective() {
    let prepared = unregistered_tilt("retina", 0);
    let params = MeasureParams::default();
    let features = quality::keystone::tilt_deg(
        &prepared.before,
        &prepared.moving,
        &params.keystone,
        &params.perspective,
    );
    assert_eq!(features, None, "feature matches found it");
    let m = prepared.measure(&params).0;
    assert!(flags(&m).contains(&Fault::Perspective), "{m:?}");
}

/// The same, through the binary: `batch --json` holds each case with both codes, so the held
/// record says what to do (the feature rescue's pair and the direct fit's).
#[test]
fn batch_holds_a_steep_tilt_with_perspective_and_mismatch() {
    let t = env::TestEnv::new();
    for (photo, variant) in [("astronaut", 1), ("retina", 0)] {
        let scene = scene::load_scene(photo);
        let case = set::make(photo, variant, Kind::Perspective, &scene).expect("pair");
        t.put(&format!("{photo}/before.jpg"), &env::jpeg(&case.before));
        t.put(&format!("{photo}/after.jpg"), &env::jpeg(&case.after));
    }
    let (out, summary) = t.batch(&[]);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    let cases = summary["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 2, "{summary}");
    for case in cases {
        let codes: Vec<&str> = case["flags"]
            .as_array()
            .expect("flags")
            .iter()
            .filter_map(|f| f["code"].as_str())
            .collect();
        assert!(codes.contains(&"mismatch"), "{case}");
        assert!(codes.contains(&"perspective"), "{case}");
    }
}

/// Two different scenes do not register either, and must not read as a tilt.
#[test]
fn photos_of_different_scenes_read_no_tilt() {
    let (a, b) = (scene::load_scene("astronaut"), scene::load_scene("rocket"));
    let mut case = set::make("astronaut", 100, Kind::Clean, &a).expect("pair");
    case.after = set::make("rocket", 100, Kind::Clean, &b)
        .expect("pair")
        .after;
    let prepared = set::prepare(&case, 1024);
    assert!(!prepared.registered, "different scenes registered");
    let m = prepared.measure(&MeasureParams::default()).0;
    assert_eq!(flags(&m), vec![], "{m:?}");
}

#[test]
fn clean_pair_is_not_perspective() {
    let m = measured("astronaut", 100, Kind::Clean);
    assert!(m.tilt_deg <= Thresholds::default().max_tilt_deg, "{m:?}");
}

#[test]
fn specular_blobs_are_shine() {
    let m = measured("coffee", 1, Kind::Shine);
    assert!(m.shine > Thresholds::default().max_shine, "{m:?}");
    assert!(flags(&m).contains(&Fault::Shine));
}

#[test]
fn clean_pair_is_not_shine() {
    let m = measured("coffee", 100, Kind::Clean);
    assert!(m.shine <= Thresholds::default().max_shine, "{m:?}");
}

#[test]
fn overexposure_is_not_also_reported_as_shine() {
    let m = Measures {
        sharpness_ratio: 1.0,
        highlights: 0.3,
        shadows: 0.0,
        tilt_deg: 0.0,
        shine: 0.01,
    };
    assert_eq!(flags(&m), vec![Fault::Overexposed]);
    assert!(
        Fault::Overexposed
            .message(&m, &Thresholds::default())
            .contains("less light")
    );
}

#[test]
fn identical_photos_measure_clean() {
    let img = image::open(format!(
        "{}/tests/fixtures/real/rocket.jpg",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
    .to_rgb8();
    let valid = image::GrayImage::from_pixel(img.width(), img.height(), image::Luma([255]));
    let m = quality::measure(&img, &img, &valid, &MeasureParams::default());
    assert!((m.sharpness_ratio - 1.0).abs() < 1e-3, "{m:?}");
    assert!(
        m.highlights == 0.0 && m.shadows == 0.0 && m.shine == 0.0,
        "{m:?}"
    );
    assert!(m.tilt_deg < 1.0, "{m:?}");
}
