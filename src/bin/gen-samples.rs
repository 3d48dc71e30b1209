//! Regenerates the repository's `samples/` folder: synthetic clinic photos
//! (with phone-style EXIF the gallery tool must strip), case files, a logo
//! and a README. Deterministic: fixed seeds, so re-running on the same
//! machine rewrites identical bytes.
//!
//! Usage: `cargo run --release --features synth --bin gen-samples [output-dir]` (default
//! `samples`).

use beforeafter::synth::{Light, Rng, Scene, Shot, View, jpeg_with_exif, render};
use image::{Rgba, RgbaImage};
use std::path::{Path, PathBuf};

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 900;
const QUALITY: u8 = 85;

/// One photograph of a scene: camera placement, light, treatment progress.
struct Take {
    rotation: f64,
    scale: f64,
    shift: [f64; 2],
    light: Light,
    /// `None` before treatment, else the fraction of the final dots.
    density: Option<f64>,
    date: &'static str,
}

impl Take {
    /// A take with a random but bounded change of framing and light: the
    /// variation a clinic gets between sessions weeks apart.
    fn varied(rng: &mut Rng, density: Option<f64>, date: &'static str) -> Take {
        Take {
            rotation: rng.range(-8.0, 8.0),
            scale: rng.range(0.85, 1.15),
            shift: [rng.range(-0.07, 0.07), rng.range(-0.07, 0.07)],
            light: Light {
                gain: [
                    rng.range(0.8, 1.2),
                    rng.range(0.8, 1.2),
                    rng.range(0.8, 1.2),
                ],
                gamma: rng.range(0.9, 1.1),
            },
            density,
            date,
        }
    }

    /// The first photo of a case: near the reference framing, neutral light.
    fn baseline(date: &'static str) -> Take {
        Take {
            rotation: 0.0,
            scale: 1.0,
            shift: [0.0, 0.0],
            light: Light::NEUTRAL,
            density: None,
            date,
        }
    }

    fn shoot(&self, scene: &Scene, size: (u32, u32), seed: u64) -> image::RgbImage {
        let mut shot = Shot::moved(scene, size.0, size.1, self.rotation, self.scale, self.shift);
        shot.light = self.light;
        shot.treated = self.density.is_some();
        shot.density = self.density.unwrap_or(0.0);
        shot.noise_sigma = 1.5;
        shot.seed = seed;
        render(scene, &shot)
    }
}

fn write(path: &Path, bytes: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    println!("{:>9} B  {}", bytes.len(), path.display());
}

/// Renders a take and writes it as an upright (orientation 1) phone JPEG.
fn photo(path: PathBuf, scene: &Scene, take: &Take, seed: u64) {
    let img = take.shoot(scene, (WIDTH, HEIGHT), seed);
    write(&path, &jpeg_with_exif(&img, 1, QUALITY, Some(take.date)));
}

const SERIES_CASE: &str = r#"slug = "smp-crown-series"
title = "Crown and top, three sessions"
treatment = "Scalp micropigmentation"
sessions = 3
date = "2026-05"
technician = "A. Rivera"
tags = ["crown", "diffuse thinning"]
notes = "Density build-up over three sessions."
credit = "Photos: Example Clinic"
consent = true
"#;

const ROTATED_CASE: &str = r#"slug = "rotated-phone"
title = "Top view, phone held upright"
treatment = "Scalp micropigmentation"
sessions = 2
date = "2026-04"
tags = ["top"]
consent = true
"#;

const PRIVATE_CASE: &str = r#"title = "Temple restoration (no consent)"
treatment = "Scalp micropigmentation"
sessions = 2
date = "2026-03"
consent = false
"#;

/// The two-view, three-session series: each later photo reframed and
/// relit, the treatment building up towards full density.
fn series(out: &Path) {
    let dir = out.join("smp-crown-series");
    let stages: [(&str, Option<f64>, &str); 4] = [
        ("before", None, "2026:01:12 10:05:11"),
        ("session-1", Some(0.4), "2026:02:09 11:31:47"),
        ("session-2", Some(0.72), "2026:03:16 09:12:03"),
        ("after", Some(1.0), "2026:05:04 15:40:26"),
    ];
    for (view, seed) in [(View::Crown, 101), (View::Top, 102)] {
        let scene = Scene::new(view, seed);
        let mut rng = Rng::new(seed * 7919);
        for (i, (stage, density, date)) in stages.iter().enumerate() {
            let take = if i == 0 {
                Take::baseline(date)
            } else {
                Take::varied(&mut rng, *density, date)
            };
            let path = dir.join(format!("{}_{stage}.jpg", view.name()));
            photo(path, &scene, &take, seed * 100 + i as u64);
        }
    }
    write(&dir.join("case.toml"), SERIES_CASE.as_bytes());
}

/// A before/after pair; the after photo is reframed, relit and treated.
fn pair(
    before: PathBuf,
    after: PathBuf,
    view: View,
    seed: u64,
    dates: [&'static str; 2],
) -> (Scene, Take) {
    let scene = Scene::new(view, seed);
    photo(before, &scene, &Take::baseline(dates[0]), seed * 100);
    let take = Take::varied(&mut Rng::new(seed * 7919), Some(1.0), dates[1]);
    photo(after, &scene, &take, seed * 100 + 1);
    (scene, take)
}

/// Landscape "before", portrait "after" stored sideways with EXIF
/// orientation 6, as a phone held upright writes it.
fn rotated(out: &Path) {
    let dir = out.join("rotated-phone");
    let scene = Scene::new(View::Top, 108);
    // Both photos taken with the phone held upright (portrait): the before by a phone that
    // rotates the pixels itself, the after by one that stores them sideways with orientation 6.
    let baseline = Take::baseline("2026:02:20 14:02:09");
    let before = baseline.shoot(&scene, (HEIGHT, WIDTH), 10800);
    write(
        &dir.join("before.jpg"),
        &jpeg_with_exif(&before, 1, QUALITY, Some(baseline.date)),
    );
    let mut take = Take::varied(&mut Rng::new(108 * 7919), Some(1.0), "2026:04:17 16:45:52");
    take.scale = take.scale.min(1.0); // keep the head in the narrower frame
    let upright = take.shoot(&scene, (HEIGHT, WIDTH), 10801);
    write(
        &dir.join("after.jpg"),
        &jpeg_with_exif(&upright, 6, QUALITY, Some(take.date)),
    );
    write(&dir.join("case.toml"), ROTATED_CASE.as_bytes());
}

fn main() {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "samples".into()));
    series(&out);
    pair(
        out.join("hairline-07_before.jpg"),
        out.join("hairline-07_after.jpg"),
        View::Front,
        107,
        ["2026:01:28 12:20:40", "2026:03:30 12:48:15"],
    );
    rotated(&out);
    let private = out.join("private-case");
    pair(
        private.join("before.jpg"),
        private.join("after.jpg"),
        View::Side,
        109,
        ["2026:01:05 09:30:00", "2026:03:02 10:10:10"],
    );
    write(&private.join("case.toml"), PRIVATE_CASE.as_bytes());
    let stray = Scene::new(View::Crown, 110);
    photo(
        out.join("stray_before.jpg"),
        &stray,
        &Take::baseline("2026:04:01 08:55:19"),
        11000,
    );
    write(&out.join("logo.png"), &logo_png());
    write(&out.join("README.md"), README.as_bytes());
}

const README: &str = "# Sample cases\n\n\
These photos are synthetic: procedurally rendered scalps (no real patients), generated by \
`cargo run --release --features synth --bin gen-samples` from fixed seeds, and every JPEG carries phone-style EXIF \
(make, model, serial number, artist, capture date, GPS) that the gallery must strip. \
`smp-crown-series/` is a three-session case with crown and top views (`*_before`, `*_session-1`, \
`*_session-2`, `*_after`), each photo reframed and relit as between real visits, with the \
micropigmentation building up to full density, plus a `case.toml`; `hairline-07_before.jpg` / \
`hairline-07_after.jpg` are a flat front-hairline pair with no case file; `rotated-phone/` has a \
landscape before and an after stored sideways with EXIF orientation 6 (portrait phone); \
`private-case/` is a temple case whose `case.toml` says `consent = false`, so it must not be \
published; `stray_before.jpg` has no matching after; `logo.png` is a clinic logo with \
transparency for watermarking.\n";

/// Signed distance to a rounded rectangle (centre, half size, radius).
fn rounded_rect(p: [f64; 2], c: [f64; 2], half: [f64; 2], r: f64) -> f64 {
    let q = [
        (p[0] - c[0]).abs() - (half[0] - r),
        (p[1] - c[1]).abs() - (half[1] - r),
    ];
    let outside = q[0].max(0.0).hypot(q[1].max(0.0));
    outside + q[0].max(q[1]).min(0.0) - r
}

fn circle(p: [f64; 2], c: [f64; 2], r: f64) -> f64 {
    (p[0] - c[0]).hypot(p[1] - c[1]) - r
}

/// 400x120 RGBA logo: a teal rounded mark holding a dot pattern (the
/// micropigmentation motif) and two bars standing in for a wordmark (no
/// font is available). Edges are antialiased from signed distances.
fn logo_png() -> Vec<u8> {
    let img = RgbaImage::from_fn(400, 120, |x, y| {
        logo_pixel([x as f64 + 0.5, y as f64 + 0.5])
    });
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .expect("PNG encoding in memory");
    bytes
}

fn logo_pixel(p: [f64; 2]) -> Rgba<u8> {
    let teal = [0.0, 0.56, 0.6];
    let white = [1.0, 1.0, 1.0];
    let cov = |d: f64| (0.5 - d).clamp(0.0, 1.0);
    let mut dots = f64::INFINITY;
    for (i, j) in (0..3).flat_map(|i| (0..3).map(move |j| (i, j))) {
        let r = 6.0 + 2.5 * ((i + j) % 3) as f64;
        dots = dots.min(circle(
            p,
            [32.0 + 28.0 * i as f64, 32.0 + 28.0 * j as f64],
            r,
        ));
    }
    // Layers bottom to top: (colour, coverage), composited "over".
    let layers = [
        (teal, cov(rounded_rect(p, [60.0, 60.0], [52.0, 52.0], 20.0))),
        (white, cov(dots)),
        // The teal outline keeps the white bar visible on light skin.
        (
            teal,
            cov(rounded_rect(p, [255.0, 44.0], [127.5, 18.5], 18.5)),
        ),
        (
            white,
            cov(rounded_rect(p, [255.0, 44.0], [125.0, 16.0], 16.0)),
        ),
        (
            teal,
            cov(rounded_rect(p, [215.0, 82.0], [85.0, 10.0], 10.0)),
        ),
    ];
    let (mut rgb, mut a) = ([0.0f64; 3], 0.0f64); // premultiplied
    for (c, alpha) in layers {
        for k in 0..3 {
            rgb[k] = c[k] * alpha + rgb[k] * (1.0 - alpha);
        }
        a = alpha + a * (1.0 - alpha);
    }
    let straight = |v: f64| {
        if a > 0.0 {
            (255.0 * v / a).round().clamp(0.0, 255.0) as u8
        } else {
            0
        }
    };
    Rgba([
        straight(rgb[0]),
        straight(rgb[1]),
        straight(rgb[2]),
        (255.0 * a).round() as u8,
    ])
}
