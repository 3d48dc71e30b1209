//! Per-stage speed on one 12-MP photo: decode, resize, watermark, encode; and the light model's
//! fit and safety check on a working copy of it.
//! `cargo bench --bench stages`

#[path = "support/mod.rs"]
mod support;

use std::path::Path;

use beforeafter::config::{Config, Format};
use beforeafter::ingest::{self, IngestParams};
use beforeafter::render::{self, Region, encode};
use criterion::{Criterion, criterion_group, criterion_main};

fn stages(c: &mut Criterion) {
    let path = support::one_photo();
    let bytes = std::fs::read(&path).unwrap();
    let params = IngestParams {
        max_pixels: 100_000_000,
        max_file_bytes: 100_000_000,
    };
    let photo = ingest::decode(&bytes, Path::new("bench.jpg"), &params).unwrap();
    let full = Region::from_crop([0, 0, support::W, support::H]);
    let config = Config::defaults();
    let wm = beforeafter::pipeline::Settings::new(&config, false)
        .watermark
        .unwrap();
    let small = render::resample(
        &photo.pixels,
        &beforeafter::align::identity(),
        &full,
        2048,
        1536,
    );

    let mut g = c.benchmark_group("12mp");
    g.sample_size(10);
    g.bench_function("decode_jpeg_12mp", |b| {
        b.iter(|| ingest::decode(&bytes, Path::new("bench.jpg"), &params).unwrap())
    });
    // A real iPhone HEIC (4032×3024 grid) against the JPEG of the same photo.
    if let Some((heic, jpeg)) = iphone_heic_and_jpeg() {
        g.bench_function("decode_heic_iphone_12mp", |b| {
            b.iter(|| ingest::decode(&heic, Path::new("pug.heic"), &params).unwrap())
        });
        g.bench_function("decode_jpeg_of_the_iphone_heic", |b| {
            b.iter(|| ingest::decode(&jpeg, Path::new("pug.jpg"), &params).unwrap())
        });
    }
    for w in [2048u32, 1024, 480] {
        let h = w * 3 / 4;
        g.bench_function(format!("resize_12mp_to_{w}"), |b| {
            b.iter(|| render::resample(&photo.pixels, &beforeafter::align::identity(), &full, w, h))
        });
    }
    let rotated = [[0.996, -0.087, 200.0], [0.087, 0.996, -150.0]];
    g.bench_function("warp_rotated_12mp_to_2048", |b| {
        b.iter(|| render::resample(&photo.pixels, &rotated, &full, 2048, 1536))
    });
    g.bench_function("watermark_2048", |b| {
        b.iter(|| {
            let mut img = small.clone();
            wm.apply_mut(&mut img);
            img
        })
    });
    let mut p = encode::EncodeParams {
        jpeg_quality: 82,
        jpeg_progressive: false,
        webp_quality: 80,
        webp_effort: 2,
        avif_quality: 70,
        avif_speed: 8,
    };
    g.bench_function("encode_jpeg_q82_2048", |b| {
        b.iter(|| encode::encode(&small, Format::Jpeg, &p).unwrap())
    });
    p.jpeg_progressive = true;
    g.bench_function("encode_jpeg_progressive_q82_2048", |b| {
        b.iter(|| encode::encode(&small, Format::Jpeg, &p).unwrap())
    });
    p.jpeg_progressive = false;
    for effort in [2, 4] {
        p.webp_effort = effort;
        g.bench_function(format!("encode_webp_q80_effort{effort}_2048"), |b| {
            b.iter(|| encode::encode(&small, Format::Webp, &p).unwrap())
        });
    }
    g.bench_function("encode_avif_q70_speed8_2048", |b| {
        b.iter(|| encode::encode(&small, Format::Avif, &p).unwrap())
    });
    g.finish();
    tone_fit(c, &photo.pixels);
}

/// The light model on a working copy (1024 px long side, as the pipeline fits it): the before
/// photo against itself under a contrast curve, white balance and flare, with a dark ellipse as
/// the treatment (its fit and safety check; issue 32 item 6 measures this per photo).
fn tone_fit(c: &mut Criterion, pixels: &image::RgbImage) {
    let full = Region::from_crop([0, 0, support::W, support::H]);
    let id = beforeafter::align::identity();
    let fixed = render::resample(pixels, &id, &full, 1024, 768);
    let lut: [[u8; 256]; 3] = std::array::from_fn(|k| {
        std::array::from_fn(|v| {
            let e = v as f64 / 255.0;
            let e = e - 0.4 * (std::f64::consts::TAU * e).sin() / std::f64::consts::TAU;
            let e = 0.04 + 0.96 * (e * [1.1, 1.0, 0.9][k]).min(1.0);
            (e * 255.0).round() as u8
        })
    });
    let mut moving = fixed.clone();
    for (x, y, p) in moving.enumerate_pixels_mut() {
        let (dx, dy) = (
            (f64::from(x) - 512.0) / 180.0,
            (f64::from(y) - 384.0) / 140.0,
        );
        let dark = dx * dx + dy * dy < 1.0 && (x / 3 + y / 5) % 4 == 0;
        for k in 0..3 {
            let v = if dark { p[k] / 5 } else { p[k] };
            p[k] = lut[k][v as usize];
        }
    }
    // A lens falloff too (issue 30), so that the field is fitted and the curve fitted again.
    let frame = beforeafter::tone::Frame::whole(&moving);
    let falloff = beforeafter::tone::Field { kx: -0.2, ky: -0.2 };
    let moving = beforeafter::tone::field::corrected(&moving, &falloff, &frame);
    let valid = image::GrayImage::from_pixel(1024, 768, image::Luma([255]));
    let params = beforeafter::tone::ToneParams::default();
    let mut g = c.benchmark_group("working");
    g.sample_size(20);
    g.bench_function("tone_fit_and_check_1024", |b| {
        b.iter(|| beforeafter::tone::fit_framed(&fixed, &moving, &valid, Some(&frame), &params))
    });
    let fit = beforeafter::tone::fit(&fixed, &moving, &valid, &params);
    let luts = beforeafter::tone::luts(&fit).map(|l| l.map(f64::from));
    g.bench_function("tone_check_only_1024", |b| {
        b.iter(|| {
            beforeafter::tone::guard::check(
                &fixed,
                [&moving, &moving],
                &valid,
                &mut luts.clone(),
                fit.covered
                    .as_ref()
                    .map(|covered| beforeafter::tone::guard::Ends {
                        covered,
                        shared: None,
                        clipped_from: [None; 3],
                    })
                    .as_ref(),
                &params,
            )
        })
    });
    eprintln!("{:?}", fit.safety);
    g.finish();
}

/// A real iPhone 13 Pro HEIC (tests/fixtures/heic/pug.heic: a grid of 48 tiles, a gain map and
/// a depth map) and the JPEG of the same photo, made once with heif-convert -q 92 and cached in
/// `target/bench-input/`; `None`, said, when libheif or heif-convert is missing.
fn iphone_heic_and_jpeg() -> Option<(Vec<u8>, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let heic = root.join("tests/fixtures/heic/pug.heic");
    let jpeg = root.join("target/bench-input/pug-heif-convert-q92.jpg");
    let made = jpeg.is_file()
        || std::process::Command::new("heif-convert")
            .args(["-q", "92"])
            .arg(&heic)
            .arg(&jpeg)
            .status()
            .is_ok_and(|s| s.success());
    if ingest::heif::available().is_err() || !made {
        eprintln!("decode_heic_iphone SKIPPED: needs libheif and heif-convert (libheif-examples)");
        return None;
    }
    Some((std::fs::read(heic).ok()?, std::fs::read(jpeg).ok()?))
}

criterion_group!(benches, stages);
criterion_main!(benches);
