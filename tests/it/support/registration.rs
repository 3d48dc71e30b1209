//! Registration harness of the tests and the bench: synthetic before/after pairs with exact
//! ground truth, fitted by the library's own stage (`beforeafter::pipeline::fit_pair`, the code
//! `batch` publishes with), and the measures.
// The bench includes this file on its own (`#[path]`), outside `tests/it/support/mod.rs`.
#![allow(dead_code)]

use beforeafter::align::{self, Matrix};
use beforeafter::config::Config;
use beforeafter::pipeline::timings::{Stage, Timings};
use beforeafter::pipeline::{Estimator, FitParams, PairFit, fit_pair};
use beforeafter::synth::{self, Light, Rng, Scene, Shot, View};
use beforeafter::tone;
use image::{GrayImage, RgbImage};

/// One synthetic pair at full resolution.
pub struct Case {
    pub name: String,
    pub before: RgbImage,
    pub after: RgbImage,
    /// Exact after-pixel -> before-pixel map (None for unrelated pairs).
    pub truth: Option<Matrix>,
    /// Treated region in the before frame.
    pub mask: GrayImage,
    /// The after shot re-rendered under the before's light (same geometry as `after`).
    pub after_true_light: Option<RgbImage>,
}

/// Knobs of one generated pair.
#[derive(Clone, Debug)]
pub struct Spec {
    pub view: View,
    pub seed: u64,
    /// Scene of the after shot when it differs (unrelated pair).
    pub other: Option<(View, u64)>,
    pub width: u32,
    pub after_width_factor: f64,
    pub rot: f64,
    pub scale: f64,
    pub shift: [f64; 2],
    pub light: Light,
    pub noise: f64,
    pub quality: u8,
    pub exif_rotated: bool,
}

/// Deterministic random spec number `i` (views cycle; every 5th after is 1.3x wider; every 9th
/// goes through a 90° EXIF rotation round trip).
#[must_use]
pub fn spec(i: u64, width: u32) -> Spec {
    let mut rng = Rng::new(0xBEF0_0000 + i);
    let view = View::ALL[(i % 4) as usize];
    let gain = [
        rng.range(0.7, 1.3),
        rng.range(0.7, 1.3),
        rng.range(0.7, 1.3),
    ];
    Spec {
        view,
        seed: 100 + i,
        other: None,
        width,
        after_width_factor: if i % 5 == 3 { 1.3 } else { 1.0 },
        rot: rng.range(-15.0, 15.0),
        scale: (rng.range(0.75f64.ln(), 1.33f64.ln())).exp(),
        shift: {
            // Up to 20% of the width in any direction.
            let (r, phi) = (
                0.2 * rng.next_f64().sqrt(),
                rng.range(0.0, std::f64::consts::TAU),
            );
            [r * phi.cos(), r * phi.sin()]
        },
        light: Light {
            gain,
            gamma: rng.range(0.8, 1.25),
        },
        noise: rng.range(2.0, 4.0),
        quality: 80 + (rng.next_u64() % 11) as u8,
        exif_rotated: i % 9 == 4,
    }
}

/// An unrelated pair: after from another scene (another seed, every other one another view).
#[must_use]
pub fn unrelated_spec(i: u64, width: u32) -> Spec {
    let mut s = spec(1000 + i, width);
    let other_view = View::ALL[((i + i % 2) % 4) as usize];
    s.other = Some((other_view, 5000 + i));
    s
}

fn jpeg_roundtrip(img: &RgbImage, quality: u8, exif_rotated: bool) -> RgbImage {
    if exif_rotated {
        // Stored rotated as a camera held sideways would (EXIF orientation 6), then un-rotated
        // exactly as a reader applying the orientation does.
        let bytes = synth::jpeg_with_exif(img, 6, quality, None);
        let stored = image::load_from_memory(&bytes).expect("decode").to_rgb8();
        return image::imageops::rotate90(&stored);
    }
    let mut bytes = Vec::new();
    jpeg_encoder::Encoder::new(&mut bytes, quality)
        .encode(
            img.as_raw(),
            img.width() as u16,
            img.height() as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .expect("encode");
    image::load_from_memory(&bytes).expect("decode").to_rgb8()
}

/// Render a pair, through an on-disk cache when `BA_SYNTH_CACHE` names a directory (the bench
/// renders ~150 images; the cache only speeds up repeated runs while tuning).
#[must_use]
pub fn make_cached(spec: &Spec) -> Case {
    let Ok(dir) = std::env::var("BA_SYNTH_CACHE") else {
        return make(spec);
    };
    let hash = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        format!("{spec:?}").hash(&mut h);
        h.finish()
    };
    let key = format!("{dir}/{}-{hash:016x}-", case_name(spec));
    let load = |k: &str| image::open(format!("{key}{k}.png")).ok();
    if let (Some(b), Some(a), Some(m)) = (load("b"), load("a"), load("m")) {
        let t = load("t").map(|i| i.to_rgb8());
        let case = make_geometry_only(spec);
        return Case {
            before: b.to_rgb8(),
            after: a.to_rgb8(),
            mask: m.to_luma8(),
            after_true_light: t,
            ..case
        };
    }
    let case = make(spec);
    let _ = std::fs::create_dir_all(&dir);
    let _ = case.before.save(format!("{key}b.png"));
    let _ = case.after.save(format!("{key}a.png"));
    let _ = case.mask.save(format!("{key}m.png"));
    if let Some(t) = &case.after_true_light {
        let _ = t.save(format!("{key}t.png"));
    }
    case
}

/// Name and truth of a pair without rendering.
fn make_geometry_only(spec: &Spec) -> Case {
    let scene = Scene::new(spec.view, spec.seed);
    let before_shot = Shot::reference(&scene, spec.width);
    let aw = (f64::from(spec.width) * spec.after_width_factor).round() as u32;
    let ah = (f64::from(aw) * scene.aspect()).round() as u32;
    let after_shot = Shot::moved(&scene, aw, ah, spec.rot, spec.scale, spec.shift);
    let related = spec.other.is_none();
    Case {
        name: case_name(spec),
        before: RgbImage::new(1, 1),
        after: RgbImage::new(1, 1),
        truth: related.then(|| synth::shot_to_shot(&after_shot, &before_shot)),
        mask: GrayImage::new(1, 1),
        after_true_light: None,
    }
}

fn case_name(spec: &Spec) -> String {
    let hires = if spec.after_width_factor > 1.0 {
        "-hires"
    } else {
        ""
    };
    let exif = if spec.exif_rotated { "-exif90" } else { "" };
    let other = spec
        .other
        .map(|(v, s)| format!("-vs-{}-{s}", v.name()))
        .unwrap_or_default();
    format!("{}-{}{hires}{exif}{other}", spec.view.name(), spec.seed)
}

/// Render a pair.
#[must_use]
pub fn make(spec: &Spec) -> Case {
    let scene = Scene::new(spec.view, spec.seed);
    let mut before_shot = Shot::reference(&scene, spec.width);
    before_shot.noise_sigma = 2.0;
    before_shot.seed = spec.seed * 2 + 1;
    let after_scene = spec.other.map(|(v, s)| Scene::new(v, s));
    let ascene = after_scene.as_ref().unwrap_or(&scene);
    let aw = (f64::from(spec.width) * spec.after_width_factor).round() as u32;
    let ah = (f64::from(aw) * ascene.aspect()).round() as u32;
    let mut after_shot = Shot::moved(ascene, aw, ah, spec.rot, spec.scale, spec.shift);
    after_shot.treated = true;
    after_shot.light = spec.light;
    after_shot.noise_sigma = spec.noise;
    after_shot.seed = spec.seed * 2 + 2;
    let before = jpeg_roundtrip(&synth::render(&scene, &before_shot), 92, false);
    let after = jpeg_roundtrip(
        &synth::render(ascene, &after_shot),
        spec.quality,
        spec.exif_rotated,
    );
    let related = spec.other.is_none();
    // Same camera pipeline (noise, JPEG, EXIF round trip), only the light differs.
    let after_true_light = related.then(|| {
        let mut s = after_shot.clone();
        s.light = before_shot.light;
        jpeg_roundtrip(&synth::render(&scene, &s), spec.quality, spec.exif_rotated)
    });
    Case {
        name: case_name(spec),
        before,
        after,
        truth: related.then(|| synth::shot_to_shot(&after_shot, &before_shot)),
        mask: synth::treatment_mask(&scene, &before_shot),
        after_true_light,
    }
}

/// Mean distance (in a 1000-px-wide before frame) between where a 5x5 grid of before points
/// lands under the estimate and under the truth (after -> before matrices, full resolution).
#[must_use]
pub fn grid_error(est: &Matrix, truth: &Matrix, before_size: (u32, u32)) -> f64 {
    let (w, h) = (f64::from(before_size.0), f64::from(before_size.1));
    let inv_truth = align::invert(truth).expect("truth invertible");
    let mut sum = 0.0;
    for j in 0..5 {
        for i in 0..5 {
            let p = [
                (f64::from(i) + 0.5) / 5.0 * w - 0.5,
                (f64::from(j) + 0.5) / 5.0 * h - 0.5,
            ];
            let q = align::apply(est, align::apply(&inv_truth, p));
            sum += (q[0] - p[0]).hypot(q[1] - p[1]);
        }
    }
    sum / 25.0 * 1000.0 / w
}

/// The `[align]` and `[tone]` settings a clinic gets by default.
#[must_use]
pub fn default_fit() -> FitParams {
    let config = Config::defaults();
    FitParams::resolve(&config.align, &config.tone, &config.review)
}

/// What the library's fit made of one pair, and how long it took.
pub struct Outcome {
    pub fit: PairFit,
    /// Held for review (any review reason).
    pub flagged: bool,
    /// Seconds of estimation and tone fitting (the warp included), not of resizing to working
    /// size; the caller chooses the thread pool.
    pub seconds: f64,
}

/// Fit the pair with the library's own stage and `estimator`.
#[must_use]
pub fn run(case: &Case, cfg: &FitParams, estimator: Estimator) -> Outcome {
    let timings = Timings::default();
    let fit = fit_pair(&case.before, &case.after, cfg, estimator, &timings);
    let spent = timings.snapshot().0;
    Outcome {
        flagged: !fit.findings.is_empty(),
        seconds: spent[Stage::Align as usize] + spent[Stage::Tone as usize],
        fit,
    }
}

/// Median of a slice (NaN for empty).
#[must_use]
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median CIEDE2000 between `a` and `b` over pixels where `sel(x, y)`.
#[must_use]
pub fn median_delta_e(a: &RgbImage, b: &RgbImage, sel: impl Fn(u32, u32) -> bool) -> f64 {
    let mut d: Vec<f64> = Vec::new();
    for (x, y, p) in a.enumerate_pixels() {
        if sel(x, y) {
            d.push(tone::delta_e2000(
                tone::srgb_to_lab(p.0),
                tone::srgb_to_lab(b.get_pixel(x, y).0),
            ));
        }
    }
    median(&mut d)
}

/// Treated mask at working resolution (nearest neighbour).
#[must_use]
pub fn mask_to(mask: &GrayImage, w: u32, h: u32) -> GrayImage {
    image::imageops::resize(mask, w, h, image::imageops::FilterType::Nearest)
}
