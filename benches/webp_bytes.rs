//! WebP bytes at equal visual quality and time per image, for libwebp's `method` 0 to 6, at every
//! size the default config writes in WebP: the slider photos (480, 1024, 2048 px, quality 80)
//! and the index thumbnails (360, 720 px, `thumb_quality` 65). Inputs are the throughput bench's
//! 12-MP photos, resized as a master is (Lanczos3). Each method runs over qualities around the
//! configured one; SSIM (luma, 8×8 windows) is measured against the uncompressed image, and
//! every method's bytes are read off its curve at the SSIM the shipped setting reaches (linear
//! between points), so methods are compared at the same visual quality, not the same number.
//! Time is one encode on one thread (mean over the photos). Then libwebp's multi-threaded mode
//! (`thread_level = 1`) against the default, one file at a time and two at once (as rayon runs
//! them in a batch).
//!
//! `cargo bench --bench webp_bytes` (`BA_PHOTOS` photos, default 4).

#[path = "support/metrics.rs"]
mod metrics;
#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use beforeafter::config::Config;
use beforeafter::ingest::{self, IngestParams};
use beforeafter::render;
use image::RgbImage;

/// (width, configured quality): the slider photos, then the thumbnails.
const SIZES: [(u32, u8); 5] = [(360, 65), (480, 80), (720, 65), (1024, 80), (2048, 80)];
/// Offsets around the configured quality that make each method's curve.
const OFFSETS: [i8; 5] = [-10, -5, 0, 5, 10];

/// Mean bytes, SSIM and encode milliseconds at one quality.
#[derive(Clone, Copy, Debug)]
struct Point {
    bytes: f64,
    ssim: f64,
    ms: f64,
}

fn main() {
    let n: usize = std::env::var("BA_PHOTOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let sources = sources(n);
    println!("{n} photos; per size, libwebp `method` 0-6 at the SSIM the shipped setting reaches");
    println!(
        "| size (quality) | method | ms per image (1 thread) | KB at equal SSIM | vs shipped |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for (width, quality) in SIZES {
        let refs: Vec<RgbImage> = sources
            .iter()
            .map(|s| render::resize_exact(s, width, width * s.height() / s.width()))
            .collect();
        let curves: Vec<Vec<Point>> = (0..=6).map(|m| curve(&refs, m, quality)).collect();
        // `outputs.webp_effort` in config/default.toml: the method every size is written with.
        let shipped_method = usize::from(Config::defaults().outputs.webp_effort);
        let at = curves[shipped_method][2];
        for (m, c) in curves.iter().enumerate() {
            let kb =
                bytes_at(c, at.ssim).map_or("outside".into(), |b| format!("{:.1}", b / 1024.0));
            let vs = bytes_at(c, at.ssim).map_or("–".into(), |b| format!("{:.3}", b / at.bytes));
            let mark = if m == shipped_method {
                " (shipped)"
            } else {
                ""
            };
            println!(
                "| {width} px (q{quality}, SSIM {:.4}) | {m}{mark} | {:.1} | {kb} | {vs} |",
                at.ssim, c[2].ms
            );
        }
    }
    threads(&sources);
}

/// The first `n` photos of the throughput pairs, decoded.
fn sources(n: usize) -> Vec<RgbImage> {
    let dir = support::pairs(n.div_ceil(2));
    let params = IngestParams {
        max_pixels: 100_000_000,
        max_file_bytes: 100_000_000,
    };
    (0..n)
        .map(|i| {
            let name = ["before.jpg", "after.jpg"][i % 2];
            let path = dir.join(format!("case-{:02}", i / 2)).join(name);
            ingest::decode(&std::fs::read(&path).unwrap(), &path, &params)
                .unwrap()
                .pixels
        })
        .collect()
}

/// Method `m`'s points at the qualities around `quality`, through the shipped encoder.
fn curve(refs: &[RgbImage], m: u8, quality: u8) -> Vec<Point> {
    OFFSETS
        .iter()
        .map(|&d| {
            let q = (i16::from(quality) + i16::from(d)).clamp(1, 100) as u8;
            let (mut bytes, mut ssim, mut ms) = (0.0, 0.0, 0.0);
            for img in refs {
                let start = Instant::now();
                let webp = webp(img, m, q, 0);
                ms += start.elapsed().as_secs_f64() * 1000.0;
                let back = image::load_from_memory(&webp).unwrap().to_rgb8();
                bytes += webp.len() as f64;
                ssim += metrics::ssim(img, &back);
            }
            let n = refs.len() as f64;
            Point {
                bytes: bytes / n,
                ssim: ssim / n,
                ms: ms / n,
            }
        })
        .collect()
}

/// `img` as lossy WebP at `method`, `quality` and `thread_level`.
fn webp(img: &RgbImage, method: u8, quality: u8, thread_level: i32) -> Vec<u8> {
    let mut config = webp::WebPConfig::new().unwrap();
    config.quality = f32::from(quality);
    config.method = i32::from(method);
    config.thread_level = thread_level;
    let encoder = webp::Encoder::from_rgb(img.as_raw(), img.width(), img.height());
    encoder.encode_advanced(&config).unwrap().to_vec()
}

/// libwebp's multi-threaded mode at 2048 px, quality 80, at the shipped method: one file alone
/// (latency) and files two at a time (a batch's throughput: rayon already keeps both cores busy).
fn threads(sources: &[RgbImage]) {
    let refs: Vec<RgbImage> = sources
        .iter()
        .map(|s| render::resize_exact(s, 2048, 2048 * s.height() / s.width()))
        .collect();
    let m = Config::defaults().outputs.webp_effort;
    println!("\n`thread_level` at 2048 px, q80, method {m} (ms per image; same bytes either way):");
    for level in [0, 1] {
        let start = Instant::now();
        for img in &refs {
            let _ = webp(img, m, 80, level);
        }
        let alone = start.elapsed().as_secs_f64() * 1000.0 / refs.len() as f64;
        let start = Instant::now();
        rayon::scope(|s| {
            for img in &refs {
                s.spawn(move |_| drop(webp(img, m, 80, level)));
            }
        });
        let two = start.elapsed().as_secs_f64() * 1000.0 / refs.len() as f64;
        let bytes: usize = refs.iter().map(|i| webp(i, m, 80, level).len()).sum();
        println!(
            "  thread_level {level}: {alone:.1} ms alone, {two:.1} ms per image with files run in \
             parallel on {} threads; {} KB in all",
            rayon::current_num_threads(),
            bytes / 1024
        );
    }
}

/// The bytes on `curve` at `ssim`, linear between the two measured points around it.
fn bytes_at(curve: &[Point], ssim: f64) -> Option<f64> {
    let mut pts = curve.to_vec();
    pts.sort_by(|a, b| a.ssim.total_cmp(&b.ssim));
    pts.windows(2).find_map(|w| {
        let (a, b) = (w[0], w[1]);
        (a.ssim <= ssim && ssim <= b.ssim && b.ssim > a.ssim)
            .then(|| a.bytes + (b.bytes - a.bytes) * (ssim - a.ssim) / (b.ssim - a.ssim))
    })
}
