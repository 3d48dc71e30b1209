//! Direct keystone: the camera tilt of a later photo that neither the registration nor the
//! feature matches of [`super::keystone`] could place.
//!
//! A steep change of camera angle often comes with a zoom: a phone held at an angle is brought
//! closer so the scalp still fills the frame, and the later photo then shows only the middle of
//! the before photo, much of it the treated area. Features on stippled pigment do not match, and
//! a similarity registration of the whole frames finds no scale. Three steps that do:
//! 1. **Seeds**: the later photo is registered (`align::estimate`, default settings) against the
//!    middle of the before photo, for each share of its sides in `crops` (1 = the whole frame;
//!    0.6 = where a view zoomed ×1.4–1.8 lands); the later photo is shrunk to the crop's size
//!    first, so the scale left is near 1.
//! 2. **Starts**: each seed is tilted about the frame centre by a grid of tilts (8–26°), 16 axes
//!    and scales (0.8–1.2), and the `starts` hypotheses under which the planes agree best (see
//!    below, on the middle scale) are kept. A similarity seed is too far from a 20° keystone for
//!    a local fit to find it alone.
//! 3. **Homography**: from each start, robust inverse-compositional Lucas–Kanade with all eight
//!    parameters, on locally normalised copies (long side `long_side` / 2, then `long_side`),
//!    with Tukey weights so the treated area and changed hair drop out; the first start that
//!    agrees (or the best) is refined once more at twice `long_side`.
//!
//! **Agreement** is the 75th percentile of the normalised cross-correlation of 16-px tiles of
//! the before plane with the later plane under the fit: a quarter of the overlap matching closely
//! is a match even when the treatment covers the rest. The fit is believed when it reaches
//! `min_agreement` on at least `min_overlap` of the before frame. Calibrated on the quality
//! bench's set: the zoomed tilts of 19.6° and 24.1° that only this finds agree at 0.90 and 0.97;
//! six pairs of different photos at most 0.16; an untilted pair that failed to register for
//! another reason at 0.57 (a partial fit, read as 13°), hence 0.75. The tilt is then read from the
//! projective row as in [`super::perspective`], divided by the magnification at the centre (a
//! camera brought closer scales the row by its zoom): those two pairs read 17.4° and 23.1°.
//!
//! It costs 0.3–1.4 s on one core, and runs only for a pair that registration could not place
//! and feature matches did not explain: a pair held for review in any case.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::perspective::{self, H3, PerspectiveParams, apply_h, invert3, mul3};
use super::plane::Plane;
use crate::align::{self, AlignParams, pyramid};

/// Settings of the direct keystone fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DirectParams {
    /// Sides of the middle of the before photo the seeds register against (share of each side;
    /// 1 = the whole frame, for a later photo that is not zoomed).
    pub crops: Vec<f64>,
    /// Long side (px) of the middle of the three scales (the others are half and twice that).
    pub long_side: u32,
    /// Gauss–Newton iterations per scale.
    pub iterations: u32,
    /// Tukey constant in units of the robust residual scale.
    pub tukey_c: f64,
    /// Starting points refined (the best of a grid of tilts, axes and scales).
    pub starts: u32,
    /// Agreement (a quantile of tile NCC) the fit must reach to be believed.
    pub min_agreement: f64,
    /// Share of the before frame the fitted homography must map inside the later photo.
    pub min_overlap: f64,
}

impl Default for DirectParams {
    fn default() -> Self {
        Self {
            crops: vec![1.0, 0.6],
            long_side: 128,
            iterations: 30,
            tukey_c: 4.685,
            starts: 16,
            min_agreement: 0.75,
            min_overlap: 0.2,
        }
    }
}

/// The fit and how well it holds.
#[derive(Clone, Copy, Debug)]
struct Fit {
    /// Tilt (degrees) from the projective row.
    tilt_deg: f32,
    /// Tile NCC of the two planes under the fit (the quantile `AGREEMENT_QUANTILE`).
    agreement: f64,
    /// Share of the before frame mapped inside the later photo.
    overlap: f64,
}

/// Tilt (degrees) of `after`'s camera against `before`'s (working copies, not aligned), or
/// `None` when no homography makes the two agree.
#[must_use]
pub fn tilt_deg(
    before: &RgbImage,
    after: &RgbImage,
    p: &DirectParams,
    persp: &PerspectiveParams,
) -> Option<f32> {
    let fit = fit(before, after, p, persp)?;
    (fit.agreement >= p.min_agreement && fit.overlap >= p.min_overlap).then_some(fit.tilt_deg)
}

/// The homography fit, believed or not.
fn fit(
    before: &RgbImage,
    after: &RgbImage,
    p: &DirectParams,
    persp: &PerspectiveParams,
) -> Option<Fit> {
    let seeds: Vec<H3> = p
        .crops
        .iter()
        .filter_map(|&c| seed(before, after, c))
        .collect();
    let (bp, ap) = (Plane::from_rgb(before), Plane::from_rgb(after));
    let levels: Vec<Level> = [p.long_side / 2, p.long_side, 2 * p.long_side]
        .into_iter()
        .map(|side| Level::new(&bp, &ap, side, persp.focal_diag))
        .collect();
    // Every start is refined on the coarse levels; only the best goes on to the finest.
    let (fine, coarse) = levels.split_last()?;
    let mut best: Option<(H3, f64)> = None;
    for start in starts(&levels[1], &seeds, p) {
        let Some(h) = coarse
            .iter()
            .try_fold(start, |h, level| level.refine(&h, p).map(|r| r.0))
            .filter(|h| fine.in_front(h))
        else {
            continue;
        };
        let agreement = coarse[coarse.len() - 1].agreement(&h);
        if best.is_none_or(|b| agreement > b.1) {
            best = Some((h, agreement));
        }
        if agreement >= p.min_agreement {
            break;
        }
    }
    let (coarse_fit, _) = best?;
    let (h, overlap) = fine
        .refine(&coarse_fit, p)
        .filter(|(h, _)| fine.in_front(h))?;
    let agreement = fine.agreement(&h);
    // Between the two photos' own normalised frames (focal length as in `perspective`).
    let frame = |img: &RgbImage| {
        let (w, h) = (f64::from(img.width()), f64::from(img.height()));
        let f = persp.focal_diag * w.hypot(h);
        [
            [f, 0.0, (w - 1.0) / 2.0],
            [0.0, f, (h - 1.0) / 2.0],
            [0.0, 0.0, 1.0],
        ]
    };
    let normalised = mul3(&invert3(&frame(after))?, &mul3(&h, &frame(before)));
    Some(Fit {
        tilt_deg: perspective::tilt_of(&normalised),
        agreement,
        overlap,
    })
}

/// Starting homographies (before px -> after px at working size), best first: the seed
/// tilted by a grid of tilts and axes about the frame centre and scaled about it, ranked by
/// the agreement they give on `level`; the best `p.starts`.
fn starts(level: &Level, seeds: &[H3], p: &DirectParams) -> Vec<H3> {
    let lk = &level.lk;
    let to_px = lk.to_px();
    let Some(to_norm) = invert3(&to_px) else {
        return seeds.to_vec();
    };
    // Before px at working size -> before normalised at this level, and back.
    let (down, up) = (mul3(&to_norm, &level.down), mul3(&level.up, &to_px));
    let mut ranked: Vec<(f64, H3)> = seeds.iter().map(|s| (level.agreement(s), *s)).collect();
    for (seed, deg) in seeds
        .iter()
        .flat_map(|s| [8.0f64, 14.0, 20.0, 26.0].map(|d| (s, d)))
    {
        let g = deg.to_radians().tan();
        for sc in [0.8, 0.9, 1.0, 1.1, 1.2] {
            for i in 0..16 {
                let phi = std::f64::consts::TAU * f64::from(i) / 16.0;
                let tilt = [
                    [sc, 0.0, 0.0],
                    [0.0, sc, 0.0],
                    [g * phi.cos(), g * phi.sin(), 1.0],
                ];
                let h = mul3(&mul3(seed, &up), &mul3(&tilt, &down));
                ranked.push((level.agreement(&h), h));
            }
        }
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked
        .into_iter()
        .take(p.starts.max(1) as usize)
        .map(|(_, h)| h)
        .collect()
}

/// One scale: the locally normalised planes of both photos, shrunk by `k`, and the fit on them.
struct Level {
    lk: Lk,
    moving: Plane,
    /// Working px -> this level's px, and back.
    down: H3,
    up: H3,
}

impl Level {
    /// The level of long side `side` (at least) from the grey planes of the working copies.
    fn new(before: &Plane, after: &Plane, side: u32, focal_diag: f64) -> Level {
        let k = (before.w.max(before.h) / side.max(16) as usize).max(1);
        let align = AlignParams::default();
        let norm = |plane: &Plane| {
            pyramid::local_normalise(&plane.shrink(k), align.norm_radius, align.norm_eps)
        };
        let s = k as f64;
        Level {
            lk: Lk::new(norm(before), focal_diag),
            moving: norm(after),
            down: [[1.0 / s, 0.0, 0.0], [0.0, 1.0 / s, 0.0], [0.0, 0.0, 1.0]],
            up: [[s, 0.0, 0.0], [0.0, s, 0.0], [0.0, 0.0, 1.0]],
        }
    }

    /// `h` (working px) in this level's px.
    fn local(&self, h: &H3) -> H3 {
        mul3(&mul3(&self.down, h), &self.up)
    }

    /// Agreement of the planes under `h` (before px -> after px at working size).
    fn agreement(&self, h: &H3) -> f64 {
        let w = mul3(&self.local(h), &self.lk.to_px());
        self.lk.tile_ncc(&self.moving, &w, AGREEMENT_QUANTILE)
    }

    /// Whether `h` keeps the whole before frame in front of the later camera (the projective
    /// denominator positive at its corners): a fit that folds the plane is no camera angle.
    fn in_front(&self, h: &H3) -> bool {
        let (w, hh) = (self.lk.t.w as f64 - 1.0, self.lk.t.h as f64 - 1.0);
        let local = self.local(h);
        [[0.0, 0.0], [w, 0.0], [0.0, hh], [w, hh]]
            .iter()
            .all(|p| local[2][0] * p[0] + local[2][1] * p[1] + local[2][2] > 0.0)
    }

    /// `h` refined on this level, with the share of the before frame it maps inside `after`.
    fn refine(&self, h: &H3, p: &DirectParams) -> Option<(H3, f64)> {
        let (fit, overlap) = self.lk.refine(&self.moving, self.local(h), p)?;
        Some((mul3(&mul3(&self.up, &fit), &self.down), overlap))
    }
}

/// Fewest overlapping samples a Gauss–Newton step is taken on.
const MIN_SAMPLES: usize = 64;
/// Lower bound of the robust residual scale (normalised units), so a near-perfect fit stays
/// stable.
const SIGMA_FLOOR: f64 = 0.05;
/// The fit has converged when no parameter moves by more than this.
const CONVERGED: f64 = 1e-5;

/// The agreement is this quantile of the tiles' NCC: a quarter of the overlap agreeing closely
/// is a match even when the treatment covers the rest.
const AGREEMENT_QUANTILE: f64 = 0.75;

/// Before px -> after px similarity (as a homography) from registering `after`, shrunk, against
/// the middle `crop` of `before`.
fn seed(before: &RgbImage, after: &RgbImage, crop: f64) -> Option<H3> {
    let c = crop.clamp(0.2, 1.0);
    let (bw, bh) = before.dimensions();
    let (cw, ch) = (
        (f64::from(bw) * c).round() as u32,
        (f64::from(bh) * c).round() as u32,
    );
    let (aw, ah) = after.dimensions();
    if cw == 0 || ch == 0 || aw == 0 || ah == 0 {
        return None;
    }
    let (x0, y0) = ((bw - cw) / 2, (bh - ch) / 2);
    let crop = image::imageops::crop_imm(before, x0, y0, cw, ch).to_image();
    let s = f64::from(cw.max(ch)) / f64::from(aw.max(ah));
    let (sw, sh) = (
        (f64::from(aw) * s).round().max(1.0) as u32,
        (f64::from(ah) * s).round().max(1.0) as u32,
    );
    let small = image::imageops::resize(after, sw, sh, image::imageops::FilterType::Triangle);
    let est = align::estimate(&crop, &small, &AlignParams::default());
    // after px -> small px (×s) -> crop px (estimate) -> before px (+ offset).
    let m = est.matrix;
    let to_before = [
        [m[0][0] * s, m[0][1] * s, m[0][2] + f64::from(x0)],
        [m[1][0] * s, m[1][1] * s, m[1][2] + f64::from(y0)],
        [0.0, 0.0, 1.0],
    ];
    invert3(&to_before)
}

/// Inverse-compositional Lucas–Kanade with a homography, on one scale: the template (the
/// before plane) with its gradients and the normalised frame of its pixels.
struct Lk {
    t: Plane,
    gx: Plane,
    gy: Plane,
    /// Normalised coordinates: `u = (x - c) / l`.
    c: [f64; 2],
    l: f64,
}

impl Lk {
    fn new(t: Plane, focal_diag: f64) -> Lk {
        let (gx, gy) = pyramid::gradients(&t);
        let l = focal_diag * (t.w as f64).hypot(t.h as f64);
        let c = [(t.w as f64 - 1.0) / 2.0, (t.h as f64 - 1.0) / 2.0];
        Lk { t, gx, gy, c, l }
    }

    /// Template normalised -> template px.
    fn to_px(&self) -> H3 {
        [
            [self.l, 0.0, self.c[0]],
            [0.0, self.l, self.c[1]],
            [0.0, 0.0, 1.0],
        ]
    }

    /// Refine `h` (template px -> moving px); returns it with the share of the template it maps
    /// inside the moving plane, or `None` when it left the moving plane.
    fn refine(&self, m: &Plane, h: H3, p: &DirectParams) -> Option<(H3, f64)> {
        let to_px = self.to_px();
        let to_norm = invert3(&to_px)?;
        // Work on w: template normalised -> moving px.
        let mut w = mul3(&h, &to_px);
        let total = (self.t.w * self.t.h) as f64;
        // A step that cannot be taken (too few samples left, a singular system) ends the fit
        // with the last warp; the fit fails only when not even the start overlaps.
        let mut last = None;
        for _ in 0..p.iterations.max(1) {
            let res = self.residuals(m, &w);
            if res.len() < MIN_SAMPLES {
                break;
            }
            last = Some((w, res.len() as f64 / total));
            let sigma = mad(&res).max(SIGMA_FLOOR);
            let Some(dp) = self.step(&res, p.tukey_c * sigma) else {
                break;
            };
            let dw = [
                [1.0 + dp[0], dp[1], dp[2]],
                [dp[3], 1.0 + dp[4], dp[5]],
                [dp[6], dp[7], 1.0],
            ];
            let Some(next) = invert3(&dw).map(|inv| mul3(&w, &inv)) else {
                break;
            };
            w = next;
            if dp.iter().map(|v| v.abs()).fold(0.0, f64::max) < CONVERGED {
                break;
            }
        }
        last.map(|(w, overlap)| (mul3(&w, &to_norm), overlap))
    }

    /// Quantile `q` of the NCC of 16-px template tiles that `w` maps mostly inside `m`.
    fn tile_ncc(&self, m: &Plane, w: &H3, q: f64) -> f64 {
        const T: usize = 16;
        let (nx, ny) = (self.t.w / T, self.t.h / T);
        let mut acc = vec![[0.0f64; 6]; nx * ny];
        for y in 0..ny * T {
            let v = (y as f64 - self.c[1]) / self.l;
            for x in 0..nx * T {
                let u = (x as f64 - self.c[0]) / self.l;
                let p = apply_h(w, [u, v]);
                let Some(b) = m.sample(p[0] as f32, p[1] as f32) else {
                    continue;
                };
                let a = f64::from(self.t.data[y * self.t.w + x]);
                let b = f64::from(b);
                align::add_to_sums(&mut acc[(y / T) * nx + x / T], a, b);
            }
        }
        let mut nccs: Vec<f64> = acc
            .iter()
            .filter(|t| t[0] >= 0.8 * (T * T) as f64)
            .map(align::ncc_of_sums)
            .collect();
        if nccs.len() < 8 {
            return 0.0;
        }
        nccs.sort_by(f64::total_cmp);
        nccs[((nccs.len() - 1) as f64 * q).round() as usize]
    }

    /// (pixel index, u, v, residual) for template pixels that `w` maps inside `m`.
    fn residuals(&self, m: &Plane, w: &H3) -> Vec<(usize, [f32; 2], f32)> {
        let mut out = Vec::with_capacity(self.t.w * self.t.h);
        for y in 0..self.t.h {
            let v = (y as f64 - self.c[1]) / self.l;
            for x in 0..self.t.w {
                let u = (x as f64 - self.c[0]) / self.l;
                let q = apply_h(w, [u, v]);
                if let Some(a) = m.sample(q[0] as f32, q[1] as f32) {
                    let i = y * self.t.w + x;
                    out.push((i, [u as f32, v as f32], a - self.t.data[i]));
                }
            }
        }
        out
    }

    /// One robust Gauss–Newton step: the increment of the eight parameters.
    #[allow(clippy::needless_range_loop)]
    fn step(&self, res: &[(usize, [f32; 2], f32)], cutoff: f64) -> Option<[f64; 8]> {
        let mut a = [[0.0f64; 8]; 8];
        let mut b = [0.0f64; 8];
        let inv_c2 = 1.0 / (cutoff * cutoff);
        for &(i, [u, v], r) in res {
            let r = f64::from(r);
            let q = r * r * inv_c2;
            if q >= 1.0 {
                continue;
            }
            let wgt = (1.0 - q) * (1.0 - q);
            let (gx, gy) = (
                f64::from(self.gx.data[i]) * self.l,
                f64::from(self.gy.data[i]) * self.l,
            );
            let (u, v) = (f64::from(u), f64::from(v));
            let s = gx * u + gy * v;
            let j = [gx * u, gx * v, gx, gy * u, gy * v, gy, -u * s, -v * s];
            for r0 in 0..8 {
                b[r0] += wgt * j[r0] * r;
                for c0 in r0..8 {
                    a[r0][c0] += wgt * j[r0] * j[c0];
                }
            }
        }
        for r0 in 0..8 {
            for c0 in 0..r0 {
                a[r0][c0] = a[c0][r0];
            }
        }
        perspective::solve8(a, b)
    }
}

/// Robust scale: 1.4826 × median |r|.
fn mad(res: &[(usize, [f32; 2], f32)]) -> f64 {
    let step = (res.len() / 20_000).max(1);
    let mut a: Vec<f32> = res.iter().step_by(step).map(|r| r.2.abs()).collect();
    let mid = a.len() / 2;
    let (_, m, _) = a.select_nth_unstable_by(mid, f32::total_cmp);
    1.4826 * f64::from(*m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// A smooth random texture (value noise over three octaves), `w`×`h`, one per `seed`.
    fn texture(w: u32, h: u32, seed: i64) -> RgbImage {
        let hash = |x: i64, y: i64, o: i64| {
            let mut v = (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663) ^ o) as u64;
            v = v.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            (v >> 40) as f64 / f64::from(1u32 << 24)
        };
        let noise = |x: f64, y: f64, cell: f64, o: i64| {
            let (fx, fy) = (x / cell, y / cell);
            let (ix, iy) = (fx.floor() as i64, fy.floor() as i64);
            let (tx, ty) = (fx - fx.floor(), fy - fy.floor());
            let top = hash(ix, iy, o) * (1.0 - tx) + hash(ix + 1, iy, o) * tx;
            let bottom = hash(ix, iy + 1, o) * (1.0 - tx) + hash(ix + 1, iy + 1, o) * tx;
            top * (1.0 - ty) + bottom * ty
        };
        RgbImage::from_fn(w, h, |x, y| {
            let (x, y) = (f64::from(x), f64::from(y));
            let v = 0.5 * noise(x, y, 24.0, seed)
                + 0.3 * noise(x, y, 9.0, seed + 1)
                + 0.2 * noise(x, y, 4.0, seed + 2);
            let g = (40.0 + 180.0 * v) as u8;
            Rgb([g, g.saturating_sub(20), g.saturating_sub(40)])
        })
    }

    /// The later photo of `before`'s plane from a camera turned by `deg` about the vertical axis
    /// through the frame centre and brought `zoom` times closer.
    fn tilted(before: &RgbImage, deg: f64, zoom: f64, focal_diag: f64) -> RgbImage {
        let (w, h) = (f64::from(before.width()), f64::from(before.height()));
        let f = focal_diag * w.hypot(h);
        let frame = [
            [f, 0.0, (w - 1.0) / 2.0],
            [0.0, f, (h - 1.0) / 2.0],
            [0.0, 0.0, 1.0],
        ];
        let (s, c) = deg.to_radians().sin_cos();
        // Plane z = 1 seen by the rotated camera whose axis meets it at distance 1 / zoom:
        // columns R e1, R e2 and e3 / zoom.
        let h_norm = [[c, 0.0, 0.0], [0.0, 1.0, 0.0], [-s, 0.0, 1.0 / zoom]];
        let to_after = mul3(&frame, &mul3(&h_norm, &invert3(&frame).unwrap()));
        let back = invert3(&to_after).unwrap();
        let plane = Plane::from_rgb(before);
        RgbImage::from_fn(before.width(), before.height(), |x, y| {
            let q = apply_h(&back, [f64::from(x), f64::from(y)]);
            let v = plane.sample(q[0] as f32, q[1] as f32).unwrap_or(0.0);
            let g = v.round().clamp(0.0, 255.0) as u8;
            Rgb([g, g, g])
        })
    }

    #[test]
    fn reads_a_tilt_whatever_the_zoom() {
        let p = DirectParams::default();
        let persp = PerspectiveParams::default();
        let before = texture(512, 384, 1);
        for (deg, zoom) in [(20.0, 1.0), (20.0, 1.5), (7.0, 1.5)] {
            let after = tilted(&before, deg, zoom, persp.focal_diag);
            let read = tilt_deg(&before, &after, &p, &persp).expect("the fit is believed");
            // atan(sin θ / √cos θ) is within 4% of θ up to 25°.
            assert!(
                (f64::from(read) - deg).abs() < 0.1 * deg + 0.5,
                "{deg}° ×{zoom}: read {read:.1}°"
            );
        }
    }

    #[test]
    fn different_textures_read_no_tilt() {
        let p = DirectParams::default();
        let persp = PerspectiveParams::default();
        let (before, other) = (texture(512, 384, 1), texture(512, 384, 7));
        assert_eq!(tilt_deg(&before, &other, &p, &persp), None);
    }
}
