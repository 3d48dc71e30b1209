//! Per-stage speed on one 12-MP photo: decode, resize, watermark, encode.
//! `cargo bench --bench stages`

#[path = "support/mod.rs"]
mod support;

use std::path::Path;

use beforeafter::config::{Config, Format};
use beforeafter::ingest::{self, IngestParams};
use beforeafter::render::watermark::Watermark;
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
    let wm = Watermark::new(&config.watermark, None).unwrap();
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
    // The same photo as an iPhone-quality HEIC (heif-enc from the JPEG), through libheif.
    if let Some(heic) = heic_of(&path) {
        g.bench_function("decode_heic_12mp", |b| {
            b.iter(|| ingest::decode(&heic, Path::new("bench.heic"), &params).unwrap())
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
}

/// `jpeg` made into a HEIC once with heif-enc, or `None`, said, when heif-enc or libheif is
/// missing. Cached in `target/bench-input/`, outside the pairs folder: a HEIC beside the JPEG
/// would be a second before photo there and fail that case in the throughput bench.
fn heic_of(jpeg: &Path) -> Option<Vec<u8>> {
    let heic = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-input/before-12mp.heic");
    if ingest::heif::available().is_err() || !heic.is_file() && !make_heic(jpeg, &heic) {
        eprintln!("decode_heic_12mp SKIPPED: needs heif-enc and libheif (libheif-examples)");
        return None;
    }
    std::fs::read(heic).ok()
}

fn make_heic(jpeg: &Path, heic: &Path) -> bool {
    std::process::Command::new("heif-enc")
        .args(["-q", "80"])
        .arg(jpeg)
        .arg("-o")
        .arg(heic)
        .status()
        .is_ok_and(|s| s.success())
}

criterion_group!(benches, stages);
criterion_main!(benches);
