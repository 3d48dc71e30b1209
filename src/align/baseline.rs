//! Feature-only registration (oriented FAST + steered BRIEF over a small scale pyramid, mutual
//! nearest-neighbour matching, RANSAC similarity). Alone it fails on low-texture and repetitive
//! scalp frames, which is why [`super::estimate`] does not rely on it first; the program uses it as
//! the `features+ecc` fallback and for `quality::keystone`'s matches, and the registration bench
//! uses it as the naive tool's baseline.

use image::{GrayImage, Luma};
use imageproc::corners::oriented_fast;

use super::matrix::{apply, fit_landmarks, similarity};
use super::{AlignParams, Estimate, Matrix, Model};

/// Tiny SplitMix64 generator (deterministic; no `rand` dependency).
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const PATCH_RADIUS: f64 = 12.0;
const BITS: usize = 256;
const LEVELS: usize = 4;
const LEVEL_SCALE: f64 = 1.25;
const CORNERS_PER_LEVEL: usize = 600;
const RANSAC_ITERS: usize = 800;
const RANSAC_TOL_PX: f64 = 3.0;

struct Feature {
    pos: [f64; 2],
    bits: [u64; BITS / 64],
}

fn test_pairs() -> Vec<[f64; 4]> {
    let mut rng = SplitMix64(0x0B5E_55ED);
    let mut out = Vec::with_capacity(BITS);
    while out.len() < BITS {
        let v: [f64; 4] =
            std::array::from_fn(|_| (rng.next_f64() * 2.0 - 1.0) * PATCH_RADIUS * 0.8);
        if v[0].hypot(v[1]) <= PATCH_RADIUS && v[2].hypot(v[3]) <= PATCH_RADIUS {
            out.push(v);
        }
    }
    out
}

/// Whether `oriented_fast` can run on an image of this size with this edge radius. It samples
/// 1 000 pixels uniformly in `[edge, size - edge)` to pick its threshold and indexes that sorted
/// sample: an image narrower than twice the edge underflows (a near-endless loop in release
/// builds, a panic in debug ones) or leaves the range empty (a panic), and one of fewer than
/// 1 000 pixels indexes past the sample (a panic).
fn fast_fits(img: &GrayImage, edge: u32) -> bool {
    let (w, h) = img.dimensions();
    w > 2 * edge && h > 2 * edge && u64::from(w) * u64::from(h) >= 1_000
}

fn features(img: &GrayImage, pairs: &[[f64; 4]]) -> Vec<Feature> {
    let mut out = Vec::new();
    let mut level = img.clone();
    let mut scale = 1.0;
    let r = PATCH_RADIUS.ceil() as u32 + 2;
    for l in 0..LEVELS {
        if l > 0 {
            scale *= LEVEL_SCALE;
            let (w, h) = (
                (f64::from(img.width()) / scale) as u32,
                (f64::from(img.height()) / scale) as u32,
            );
            level = image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle);
        }
        // Levels only get smaller: once one is too small for the detector, so are the rest.
        if !fast_fits(&level, r) {
            break;
        }
        let smooth = imageproc::filter::box_filter(&level, 2, 2);
        for c in oriented_fast(&level, None, CORNERS_PER_LEVEL, r, Some(7 + l as u64)) {
            let (x, y) = (c.corner.x, c.corner.y);
            let angle = centroid_angle(&smooth, x, y);
            let bits = describe(&smooth, x, y, angle, pairs);
            let pos = [
                (f64::from(x) + 0.5) * scale - 0.5,
                (f64::from(y) + 0.5) * scale - 0.5,
            ];
            out.push(Feature { pos, bits });
        }
    }
    out
}

fn centroid_angle(img: &GrayImage, x: u32, y: u32) -> f64 {
    let r = PATCH_RADIUS as i32;
    let (mut mx, mut my) = (0.0, 0.0);
    for dy in -r..=r {
        for dx in -r..=r {
            if dx * dx + dy * dy <= r * r {
                let v = f64::from(
                    img.get_pixel((x as i32 + dx) as u32, (y as i32 + dy) as u32)
                        .0[0],
                );
                mx += f64::from(dx) * v;
                my += f64::from(dy) * v;
            }
        }
    }
    my.atan2(mx)
}

fn describe(img: &GrayImage, x: u32, y: u32, angle: f64, pairs: &[[f64; 4]]) -> [u64; BITS / 64] {
    let (s, c) = angle.sin_cos();
    let px = |u: f64, v: f64| -> u8 {
        let (rx, ry) = (c * u - s * v, s * u + c * v);
        let (xx, yy) = (
            (f64::from(x) + rx).round() as u32,
            (f64::from(y) + ry).round() as u32,
        );
        img.get_pixel(xx.min(img.width() - 1), yy.min(img.height() - 1))
            .0[0]
    };
    let mut bits = [0u64; BITS / 64];
    for (i, p) in pairs.iter().enumerate() {
        if px(p[0], p[1]) < px(p[2], p[3]) {
            bits[i / 64] |= 1 << (i % 64);
        }
    }
    bits
}

fn hamming(a: &[u64; BITS / 64], b: &[u64; BITS / 64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

/// Mutual nearest neighbours with Lowe's ratio test: (moving point, fixed point).
fn matches(fixed: &[Feature], moving: &[Feature]) -> Vec<([f64; 2], [f64; 2])> {
    let best = |f: &Feature, set: &[Feature]| {
        let mut d = [(u32::MAX, 0usize); 2];
        for (j, g) in set.iter().enumerate() {
            let h = hamming(&f.bits, &g.bits);
            if h < d[0].0 {
                d = [(h, j), d[0]];
            } else if h < d[1].0 {
                d[1] = (h, j);
            }
        }
        d
    };
    let mut out = Vec::new();
    for (i, m) in moving.iter().enumerate() {
        let d = best(m, fixed);
        if d[0].0 == u32::MAX || f64::from(d[0].0) > 0.8 * f64::from(d[1].0) || d[0].0 > 64 {
            continue;
        }
        if best(&fixed[d[0].1], moving)[0].1 == i {
            out.push((m.pos, fixed[d[0].1].pos));
        }
    }
    out
}

fn ransac(pairs: &[([f64; 2], [f64; 2])]) -> (Matrix, Vec<usize>) {
    let mut rng = SplitMix64(42);
    let mut best: (Matrix, Vec<usize>) = (similarity(1.0, 0.0, 0.0, 0.0), Vec::new());
    let inliers = |m: &Matrix| -> Vec<usize> {
        (0..pairs.len())
            .filter(|&k| {
                let q = apply(m, pairs[k].0);
                (q[0] - pairs[k].1[0]).hypot(q[1] - pairs[k].1[1]) < RANSAC_TOL_PX
            })
            .collect()
    };
    for _ in 0..RANSAC_ITERS {
        let (a, b) = (
            (rng.next_u64() as usize) % pairs.len(),
            (rng.next_u64() as usize) % pairs.len(),
        );
        let Ok(m) = fit_landmarks(&[pairs[a], pairs[b]], Model::Similarity) else {
            continue;
        };
        let inl = inliers(&m);
        if inl.len() > best.1.len() {
            best = (m, inl);
        }
    }
    if best.1.len() >= 2 {
        let sel: Vec<_> = best.1.iter().map(|&k| pairs[k]).collect();
        if let Ok(m) = fit_landmarks(&sel, Model::Similarity) {
            best = (m, inliers(&m));
        }
    }
    best
}

fn to_gray(img: &image::RgbImage) -> GrayImage {
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y).0;
        Luma([
            (0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])).round()
                as u8,
        ])
    })
}

/// Mutual-nearest-neighbour feature matches of two photos, as (moving point, fixed point) in
/// pixels, for fits other than this baseline's similarity (the quality gate's keystone).
#[must_use]
pub fn feature_pairs(
    fixed: &image::RgbImage,
    moving: &image::RgbImage,
) -> Vec<([f64; 2], [f64; 2])> {
    let pairs_def = test_pairs();
    let ff = features(&to_gray(fixed), &pairs_def);
    let fm = features(&to_gray(moving), &pairs_def);
    matches(&ff, &fm)
}

/// Feature match of two grey images: similarity moving->fixed and RANSAC inlier count.
#[must_use]
pub fn match_gray(fixed: &GrayImage, moving: &GrayImage) -> (Matrix, usize, usize) {
    let pairs_def = test_pairs();
    let ff = features(fixed, &pairs_def);
    let fm = features(moving, &pairs_def);
    let pairs = matches(&ff, &fm);
    if pairs.len() < 2 {
        return (similarity(1.0, 0.0, 0.0, 0.0), 0, pairs.len());
    }
    let (m, inl) = ransac(&pairs);
    (m, inl.len(), pairs.len())
}

/// Feature-only estimate (benchmark baseline). Confidence grows with the RANSAC inlier count.
#[must_use]
pub fn estimate_features_only(
    fixed: &image::RgbImage,
    moving: &image::RgbImage,
    _params: &AlignParams,
) -> Estimate {
    let (matrix, inliers, matches) = match_gray(&to_gray(fixed), &to_gray(moving));
    Estimate {
        matrix,
        confidence: ((inliers as f64 - 8.0) / 22.0).clamp(0.0, 1.0),
        method: "orb+ransac".into(),
        inlier_fraction: inliers as f64 / matches.max(1) as f64,
        tile_ncc: 0.0,
        overlap: 0.0,
        moving_size: moving.dimensions(),
        hypotheses: matches,
    }
}
