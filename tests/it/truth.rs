//! Ground truth on real photographs, end to end: eight small pairs (five under light changes the
//! gain-and-gamma model cannot represent) through the real binary,
//! measured on the published files with loose thresholds (the bench, `benches/truth.rs`, holds
//! the targets). The output stays in `target/tmp/truth/` for inspection.

use crate::support;
use support::truth;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use truth::{LightKind, Measures, Pair, Published};

/// Small scenes (the before photos are about 340 to 450 px wide); the last after photo is 1.25×
/// wider than its before.
const PAIRS: [(&str, u64); 3] = [("chelsea", 0), ("coffee", 1), ("astronaut", 2)];

/// Pairs shot under light changes the gain-and-gamma model cannot represent (issue 30), run in
/// the same batch: a contrast curve on encoded values, a black-level lift, white balance on
/// encoded values; and on the red retina scene, whose dark treatment lies below every red level
/// of the rest of the photo, a contrast curve (1.18× before the light model followed the other
/// channels' curves there) and a vignette (0.71× before the lens falloff field).
const LIT: [(&str, u64, LightKind); 5] = [
    ("coffee", 0, LightKind::Contrast),
    ("chelsea", 1, LightKind::Flare),
    ("rocket", 0, LightKind::WhiteBalance),
    ("retina", 0, LightKind::Contrast),
    ("retina", 1, LightKind::Vignette),
];

struct Run {
    pairs: Vec<Pair>,
    out: PathBuf,
    measures: Vec<Measures>,
}

/// The pairs, one batch run and their measures, once per test binary.
fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("truth");
        let _ = std::fs::remove_dir_all(&dir);
        let mut pairs: Vec<Pair> = PAIRS
            .iter()
            .map(|&(photo, v)| truth::make(&truth::spec(photo, v), truth::load_scene(photo)))
            .collect();
        for &(photo, v, kind) in &LIT {
            let mut spec = truth::spec(photo, v);
            spec.light = truth::Light::of_kind(spec.light, kind, spec.seed);
            pairs.push(truth::make(&spec, truth::load_scene(photo)));
        }
        let bin = Path::new(env!("CARGO_BIN_EXE_beforeafter"));
        let measures = truth::evaluate(&pairs, bin, &dir)
            .results
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .unwrap_or_else(|e| panic!("{e}"));
        Run {
            pairs,
            out: dir.join("out"),
            measures,
        }
    })
}

fn check(what: &str, ok: impl Fn(&Measures) -> bool) {
    let bad: Vec<&Measures> = run().measures.iter().filter(|m| !ok(m)).collect();
    assert!(bad.is_empty(), "{what}:\n{bad:#?}");
}

#[test]
fn recorded_and_published_alignment_within_2_px_per_1000() {
    check("alignment error > 2 px per 1000 px", |m| {
        m.align_manifest <= 2.0 && m.align_files.is_some_and(|e| e <= 2.0)
    });
}

#[test]
fn slider_photos_median_delta_e_outside_the_treatment_at_most_3() {
    check("median ΔE2000 outside the treatment > 3", |m| {
        m.delta_e_off <= 3.0
    });
}

#[test]
fn treatment_effect_within_20_percent_of_the_truth() {
    check("treatment ΔE / truth outside 0.8–1.2", |m| {
        m.treatment_ratio.is_some_and(|r| (0.8..=1.2).contains(&r))
    });
}

/// Issue 30: under a light change the fit's gain and gamma cannot represent, the published
/// treatment is never shown more than 15% stronger than the truth (nor erased).
#[test]
fn under_other_light_changes_the_published_treatment_is_not_exaggerated() {
    let lit = &run().measures[PAIRS.len()..];
    assert_eq!(lit.len(), LIT.len());
    let bad: Vec<&Measures> = lit
        .iter()
        .filter(|m| !m.treatment_ratio.is_some_and(|r| (0.8..=1.15).contains(&r)))
        .collect();
    assert!(
        bad.is_empty(),
        "treatment ΔE / truth outside 0.8–1.15:\n{bad:#?}"
    );
}

#[test]
fn slider_after_photo_matches_the_composite_within_3_levels() {
    check("slider vs composite > 3 levels", |m| {
        m.slider_vs_composite_max() <= 3.0
    });
}

/// The published files of pair `i`, with the after slider photo replaced by `after`.
fn published_with(
    i: usize,
    after: impl Fn(&Published) -> image::RgbImage,
) -> (Published, &'static Pair) {
    let r = run();
    let pair = &r.pairs[i];
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r.out.join("manifest.json")).expect("manifest"))
            .expect("json");
    let case = truth::find_case(&manifest, &pair.name).expect("case");
    let mut p = truth::read_published(&r.out, case).expect("published");
    p.after = after(&p);
    (p, pair)
}

#[test]
fn measures_detect_an_unaligned_after_photo() {
    // The raw after photo squeezed onto the slider's size: no registration, no tone match.
    let (p, pair) = published_with(0, |p| {
        let raw = image::load_from_memory(&run().pairs[0].after_jpeg)
            .expect("after")
            .to_rgb8();
        let (w, h) = p.after.dimensions();
        image::imageops::resize(&raw, w, h, image::imageops::FilterType::Triangle)
    });
    let m = truth::measure(pair, &p).expect("measures");
    assert!(m.align_files.is_none_or(|e| e > 5.0), "{m:#?}");
    assert!(m.delta_e_off > 3.0, "{m:#?}");
}

#[test]
fn measures_detect_an_after_photo_under_other_light() {
    // The truth itself, but 25% brighter in red: aligned, tone not matched.
    let (p, pair) = published_with(1, |p| {
        let (w, h) = p.after.dimensions();
        let mut img = run().pairs[1].truth_on(p.crop, w, h);
        img.pixels_mut()
            .for_each(|px| px[0] = (f64::from(px[0]) * 1.25).min(255.0) as u8);
        img
    });
    let m = truth::measure(pair, &p).expect("measures");
    assert!(m.align_files.is_some_and(|e| e <= 1.0), "{m:#?}");
    assert!(m.delta_e_off > 3.0, "{m:#?}");
    assert!(m.slider_vs_composite_max() > 3.0, "{m:#?}");
}

#[test]
fn verify_after_batch_makes_every_published_image_again() {
    let r = run();
    let input = r.out.parent().expect("run dir").join("in");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_beforeafter"))
        .args(["verify", input.to_str().unwrap(), "--out"])
        .arg(&r.out)
        .arg("--json")
        .output()
        .expect("verify runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert!(report["compared"].as_u64().unwrap() > 0, "{report:#}");
    assert_eq!(report["problems"].as_array().unwrap().len(), 0);
}
