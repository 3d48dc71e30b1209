//! Bytes at equal visual quality: our JPEG encoder (mozjpeg-rs, standard tables, no trellis;
//! sequential and progressive, at the quality the config asks for) against mozjpeg as sharp
//! runs it (`jpeg({ quality, mozjpeg: true })`: trellis quantisation, optimised progressive
//! scans), on what a gallery publishes: 2048-px renders of the throughput bench's 12-MP photos.
//! Each encoder runs over a range of qualities; SSIM (luma, 8×8 windows) is measured against the
//! uncompressed render; mozjpeg's bytes at our SSIM are read off its curve (linear between its
//! points), so the two are compared at the same visual quality, not the same quality number.
//!
//! `cargo bench --bench jpeg_bytes` (`BA_PHOTOS` photos, default 8). mozjpeg comes from sharp,
//! installed into `target/sharp-compare` as `benches/sharp_compare.sh` does; without npm only our
//! curve is printed.

#[path = "support/metrics.rs"]
mod metrics;
#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use beforeafter::config::Format;
use beforeafter::ingest::{self, IngestParams};
use beforeafter::render::{self, encode};
use image::RgbImage;

const QUALITIES: [u8; 8] = [60, 70, 75, 80, 82, 85, 90, 95];
const SHARP: &str = "sharp@0.34.5";

/// Mean bytes and mean SSIM at one quality setting.
#[derive(Clone, Copy, Debug)]
struct Point {
    quality: u8,
    bytes: f64,
    ssim: f64,
}

fn main() {
    let n: usize = std::env::var("BA_PHOTOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let work = support::cache_dir().join("../jpeg-bytes");
    std::fs::create_dir_all(&work).unwrap();
    let refs = references(n, &work);
    // Sequential (the default) and progressive (`outputs.jpeg_progressive`).
    let [seq, prog] = [false, true].map(|progressive| curve(&refs, progressive));
    let moz = mozjpeg_curve(&refs, &work);
    println!("{n} photos, 2048 px wide: mean bytes and mean SSIM against the uncompressed render");
    println!(
        "| quality | ours KB (sequential / progressive) | ours SSIM | mozjpeg KB | mozjpeg SSIM |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for (i, (s, p)) in seq.iter().zip(&prog).enumerate() {
        let m = moz.as_ref().map_or("– | –".to_owned(), |m| {
            format!("{:.0} | {:.4}", m[i].bytes / 1024.0, m[i].ssim)
        });
        println!(
            "| {} | {:.0} / {:.0} | {:.4} | {m} |",
            s.quality,
            s.bytes / 1024.0,
            p.bytes / 1024.0,
            s.ssim
        );
    }
    let Some(moz) = moz else {
        println!("mozjpeg SKIPPED: npm or the registry is not available; our curve only");
        return;
    };
    for (name, ours) in [("sequential", &seq), ("progressive", &prog)] {
        println!("\n{name}, at equal SSIM (mozjpeg's bytes read off its curve at our SSIM):");
        for o in ours {
            match bytes_at(&moz, o.ssim) {
                Some(b) => println!(
                    "  ours q{}: SSIM {:.4}, {:.0} KB vs mozjpeg {:.0} KB: ours / mozjpeg = {:.3}",
                    o.quality,
                    o.ssim,
                    o.bytes / 1024.0,
                    b / 1024.0,
                    o.bytes / b
                ),
                None => println!(
                    "  ours q{}: SSIM {:.4} is outside mozjpeg's measured range",
                    o.quality, o.ssim
                ),
            }
        }
    }
}

/// Our encoder's points over `QUALITIES`, sequential or progressive.
fn curve(refs: &[(PathBuf, RgbImage)], progressive: bool) -> Vec<Point> {
    QUALITIES
        .iter()
        .map(|&q| {
            measure(q, refs, |_, img| {
                let p = encode::EncodeParams {
                    jpeg_quality: q,
                    jpeg_progressive: progressive,
                    webp_quality: 80,
                    webp_effort: 2,
                    avif_quality: 70,
                    avif_speed: 8,
                };
                encode::encode(img, Format::Jpeg, &p).unwrap()
            })
        })
        .collect()
}

/// The first `n` photos of the throughput pairs, rendered at 2048 px as a master is (Lanczos3
/// from the source), also written as PNG for sharp.
fn references(n: usize, work: &Path) -> Vec<(PathBuf, RgbImage)> {
    let dir = support::pairs(n.div_ceil(2));
    let params = IngestParams {
        max_pixels: 100_000_000,
        max_file_bytes: 100_000_000,
    };
    (0..n)
        .map(|i| {
            let name = if i % 2 == 0 {
                "before.jpg"
            } else {
                "after.jpg"
            };
            let path = dir.join(format!("case-{:02}", i / 2)).join(name);
            let photo = ingest::decode(&std::fs::read(&path).unwrap(), &path, &params).unwrap();
            let (w, h) = photo.pixels.dimensions();
            let img = render::resize_exact(&photo.pixels, 2048, 2048 * h / w);
            let png = work.join(format!("ref-{i}.png"));
            img.save(&png).unwrap();
            (png, img)
        })
        .collect()
}

/// Encode every reference (by index) at quality `q` with `encode`, decode and compare.
fn measure(
    q: u8,
    refs: &[(PathBuf, RgbImage)],
    encode: impl Fn(usize, &RgbImage) -> Vec<u8>,
) -> Point {
    let (mut bytes, mut ssim) = (0.0, 0.0);
    for (i, (_, img)) in refs.iter().enumerate() {
        let jpeg = encode(i, img);
        let back = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        bytes += jpeg.len() as f64;
        ssim += metrics::ssim(img, &back);
    }
    let n = refs.len() as f64;
    Point {
        quality: q,
        bytes: bytes / n,
        ssim: ssim / n,
    }
}

/// mozjpeg's curve through sharp, or `None` without node and sharp.
fn mozjpeg_curve(refs: &[(PathBuf, RgbImage)], work: &Path) -> Option<Vec<Point>> {
    let prefix = support::cache_dir().join("../sharp-compare");
    if !prefix.join("node_modules/sharp").is_dir() {
        let args = [
            "install",
            "--prefix",
            "",
            "--no-save",
            "--no-audit",
            "--no-fund",
            SHARP,
        ];
        let ok = Command::new("npm")
            .args(args.map(|a| {
                if a.is_empty() {
                    prefix.to_str().unwrap()
                } else {
                    a
                }
            }))
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return None;
        }
    }
    let script = work.join("moz.js");
    std::fs::write(
        &script,
        "const sharp = require(process.argv[2]);\n\
         const [out, qs, ...pngs] = process.argv.slice(3);\n\
         (async () => { for (const q of qs.split(',').map(Number)) for (const [i, p] of pngs.entries())\n\
           await sharp(p).jpeg({ quality: q, mozjpeg: true }).toFile(`${out}/moz-${i}-${q}.jpg`); })();\n",
    )
    .unwrap();
    let qs: Vec<String> = QUALITIES.iter().map(u8::to_string).collect();
    let status = Command::new("node")
        .arg(&script)
        .arg(prefix.join("node_modules/sharp"))
        .arg(work)
        .arg(qs.join(","))
        .args(refs.iter().map(|(p, _)| p))
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    let read = |i: usize, q: u8| std::fs::read(work.join(format!("moz-{i}-{q}.jpg"))).unwrap();
    Some(
        QUALITIES
            .iter()
            .map(|&q| measure(q, refs, |i, _| read(i, q)))
            .collect(),
    )
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
