//! Final resampling of full-resolution photos and the common crop of a set of aligned photos.

use image::RgbImage;
use rayon::prelude::*;

use super::Matrix;
use super::matrix::apply;

/// Taps per axis are capped so that the i32 fixed-point accumulators cannot overflow
/// (11 x 11 taps x 65536 x 255 < 2^31); beyond an 11x reduction the footprint is sparsely sampled.
const MAX_TAPS: usize = 11;

/// Resample `src` into an `out_w x out_h` image; output pixel (x, y) takes the colour at
/// `apply(out_to_src, (x, y))`. When shrinking, each output pixel averages a ceil(s) x ceil(s)
/// grid of bilinear taps spread over its footprint (antialiasing). Outside the source: black.
#[must_use]
pub fn warp(src: &RgbImage, out_to_src: &Matrix, out_w: u32, out_h: u32) -> RgbImage {
    let m = out_to_src;
    let mut out = RgbImage::new(out_w, out_h);
    let (w, h) = (src.width() as usize, src.height() as usize);
    if w < 2 || h < 2 || out_w == 0 {
        return out;
    }
    let offsets = tap_offsets(m);
    let sampler = Sampler {
        data: src.as_raw(),
        w,
        h,
        offsets: &offsets,
        // Footprint reach of the taps, to decide when no clamping is needed.
        reach: offsets
            .iter()
            .fold(0.0f64, |r, o| r.max(o.0.abs()).max(o.1.abs())),
    };
    out.par_chunks_mut(out_w as usize * 3)
        .enumerate()
        .for_each(|(y, row)| sampler.row(m, y, row));
    out
}

/// Footprint tap offsets (fixed-point source pixels) for the matrix's local scale. A footprint
/// up to 10% larger than a pixel still gets one tap: the aliasing that adds is invisible and a
/// near-identity warp stays a single bilinear lookup.
fn tap_offsets(m: &Matrix) -> Vec<(f64, f64)> {
    let (ax, ay, bx, by) = (m[0][0], m[1][0], m[0][1], m[1][1]);
    let taps_along = |len: f64| ((len - 0.1).ceil().max(1.0) as usize).min(MAX_TAPS);
    let (nx, ny) = (taps_along(ax.hypot(ay)), taps_along(bx.hypot(by)));
    let mut offsets = Vec::with_capacity(nx * ny);
    for j in 0..ny {
        let v = (j as f64 + 0.5) / ny as f64 - 0.5;
        for i in 0..nx {
            let u = (i as f64 + 0.5) / nx as f64 - 0.5;
            offsets.push((u * ax + v * bx, u * ay + v * by));
        }
    }
    offsets
}

/// Fixed-point fraction bits of the sampler's coordinates.
const FRAC: i64 = 16;

struct Sampler<'a> {
    data: &'a [u8],
    w: usize,
    h: usize,
    offsets: &'a [(f64, f64)],
    reach: f64,
}

impl Sampler<'_> {
    /// One output row. Coordinates step incrementally in 16.16 fixed point; pixels whose whole
    /// footprint is inside the source skip the clamping.
    fn row(&self, m: &Matrix, y: usize, row: &mut [u8]) {
        let one = (1i64 << FRAC) as f64;
        let start = apply(m, [0.0, y as f64]);
        let (wf, hf) = (self.w as f64, self.h as f64);
        let fix = |v: f64| (v * one).round() as i64;
        // Interior: every tap's 2x2 neighbourhood is in bounds without clamping.
        let (lo, hix, hiy) = (
            fix(self.reach),
            fix(wf - 1.0 - self.reach) - 1,
            fix(hf - 1.0 - self.reach) - 1,
        );
        let taps: Vec<(i64, i64)> = self.offsets.iter().map(|o| (fix(o.0), fix(o.1))).collect();
        let (dx, dy) = (fix(m[0][0]), fix(m[1][0]));
        let (mut fx, mut fy) = (fix(start[0]), fix(start[1]));
        let (minb, maxx, maxy) = (fix(-0.5), fix(wf - 0.5), fix(hf - 0.5));
        // Rounding: (sum + half) * inv >> 32 divides by taps x 65536 without a division.
        let inv = (1u64 << 32) / (taps.len() as u64 * 65536);
        let half = taps.len() as u64 * 32768;
        for px in row.chunks_exact_mut(3) {
            let (cx, cy) = (fx, fy);
            fx += dx;
            fy += dy;
            if cx < minb || cy < minb || cx > maxx || cy > maxy {
                px.copy_from_slice(&[0; 3]);
                continue;
            }
            let acc = if cx >= lo && cy >= lo && cx < hix && cy < hiy {
                self.taps_sum(cx, cy, &taps, false)
            } else {
                self.taps_sum(cx, cy, &taps, true)
            };
            for c in 0..3 {
                px[c] = (((u64::from(acc[c]) + half) * inv) >> 32).min(255) as u8;
            }
        }
    }

    /// Sum of the bilinear taps around the fixed-point centre (each tap weighs 65536), as
    /// nested lerps (3 multiplies per channel). `clamp` is only needed near the border.
    #[inline(always)]
    fn taps_sum(&self, cx: i64, cy: i64, taps: &[(i64, i64)], clamp: bool) -> [u32; 3] {
        let mut acc = [0i32; 3];
        let (xmax, ymax) = (((self.w - 1) as i64) << FRAC, ((self.h - 1) as i64) << FRAC);
        let stride = self.w * 3;
        for &(ox, oy) in taps {
            let (mut x, mut y) = (cx + ox, cy + oy);
            if clamp {
                x = x.clamp(0, xmax - 1);
                y = y.clamp(0, ymax - 1);
            }
            let (x0, y0) = ((x >> FRAC) as usize, (y >> FRAC) as usize);
            let (ax, ay) = (
                ((x >> (FRAC - 8)) & 0xFF) as i32,
                ((y >> (FRAC - 8)) & 0xFF) as i32,
            );
            let i = y0 * stride + x0 * 3;
            // One bounds check covers the 2x2 neighbourhood.
            let quad = &self.data[i..i + stride + 6];
            for c in 0..3 {
                let (tl, tr) = (i32::from(quad[c]), i32::from(quad[c + 3]));
                let (bl, br) = (i32::from(quad[stride + c]), i32::from(quad[stride + c + 3]));
                let t = (tl << 8) + ax * (tr - tl);
                let b = (bl << 8) + ax * (br - bl);
                acc[c] += (t << 8) + ay * (b - t);
            }
        }
        acc.map(|a| a as u32)
    }
}

/// Half-plane `n . p <= d` in fixed edge coordinates (pixel (0,0) covers [0,1) x [0,1)).
type HalfPlane = ([f64; 2], f64);

fn quad_half_planes(m: &Matrix, size: (u32, u32)) -> Vec<HalfPlane> {
    let (w, h) = (f64::from(size.0), f64::from(size.1));
    let corners = [
        [-0.5, -0.5],
        [w - 0.5, -0.5],
        [w - 0.5, h - 0.5],
        [-0.5, h - 0.5],
    ]
    .map(|p| apply(m, p))
    .map(|p| [p[0] + 0.5, p[1] + 0.5]);
    let area: f64 = (0..4)
        .map(|i| {
            let (a, b) = (corners[i], corners[(i + 1) % 4]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum();
    let sign = if area >= 0.0 { 1.0 } else { -1.0 };
    (0..4)
        .map(|i| {
            let (a, b) = (corners[i], corners[(i + 1) % 4]);
            // Outward normal for a positively oriented polygon (y down flips nothing: the sign
            // of the area already encodes the orientation).
            let n = [sign * (b[1] - a[1]), -sign * (b[0] - a[0])];
            (n, n[0] * a[0] + n[1] * a[1])
        })
        .collect()
}

/// Largest half-height of an `aspect` rectangle centred at `c` satisfying all half-planes.
fn max_half_height(planes: &[HalfPlane], c: [f64; 2], aspect: f64) -> f64 {
    planes
        .iter()
        .map(|(n, d)| {
            let reach = n[0].abs() * aspect + n[1].abs();
            if reach <= 1e-15 {
                f64::INFINITY
            } else {
                (d - n[0] * c[0] - n[1] * c[1]) / reach
            }
        })
        .fold(f64::INFINITY, f64::min)
}

/// Ternary search of a concave function on [lo, hi].
fn argmax(mut lo: f64, mut hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    for _ in 0..80 {
        let (a, b) = (lo + (hi - lo) / 3.0, hi - (hi - lo) / 3.0);
        if f(a) < f(b) { lo = a } else { hi = b }
    }
    0.5 * (lo + hi)
}

/// Largest axis-aligned `aspect` (w/h) rectangle `[x, y, w, h]` inside the fixed frame and
/// covered by every moving image (matrix moving->fixed, size). `None` if there is none.
#[must_use]
pub fn common_crop(
    fixed_size: (u32, u32),
    movings: &[(Matrix, (u32, u32))],
    aspect: f64,
) -> Option<[u32; 4]> {
    if !(aspect.is_finite() && aspect > 0.0) || fixed_size.0 == 0 || fixed_size.1 == 0 {
        return None;
    }
    let (fw, fh) = (f64::from(fixed_size.0), f64::from(fixed_size.1));
    let mut planes: Vec<HalfPlane> = vec![
        ([-1.0, 0.0], 0.0),
        ([1.0, 0.0], fw),
        ([0.0, -1.0], 0.0),
        ([0.0, 1.0], fh),
    ];
    for (m, size) in movings {
        planes.extend(quad_half_planes(m, *size));
    }
    // The feasible half-height is concave in the centre, so nested ternary search finds the max.
    let best_y = |cx: f64| argmax(0.0, fh, |cy| max_half_height(&planes, [cx, cy], aspect));
    let cx = argmax(0.0, fw, |cx| {
        max_half_height(&planes, [cx, best_y(cx)], aspect)
    });
    let cy = best_y(cx);
    let half = max_half_height(&planes, [cx, cy], aspect);
    // One pixel of slack absorbs rounding the corners to integers.
    let h = (2.0 * half - 1.0).floor();
    let w = (h * aspect)
        .round()
        .min((2.0 * half * aspect - 1.0).floor());
    if !(h >= 1.0 && w >= 1.0) {
        return None;
    }
    let x = (cx - w / 2.0).round().clamp(0.0, fw - w);
    let y = (cy - h / 2.0).round().clamp(0.0, fh - h);
    Some([x as u32, y as u32, w as u32, h as u32])
}

/// 255 where a fixed-frame pixel centre is covered by the moving image (matrix moving->fixed),
/// i.e. where a warp of the moving image has data; 0 elsewhere.
#[must_use]
pub fn coverage_mask(
    m: &Matrix,
    moving_size: (u32, u32),
    fixed_size: (u32, u32),
) -> image::GrayImage {
    let inv = super::matrix::invert(m).unwrap_or([[f64::NAN; 3]; 2]);
    let (mw, mh) = (f64::from(moving_size.0), f64::from(moving_size.1));
    image::GrayImage::from_fn(fixed_size.0, fixed_size.1, |x, y| {
        let p = apply(&inv, [f64::from(x), f64::from(y)]);
        let inside = p[0] >= -0.5 && p[1] >= -0.5 && p[0] <= mw - 0.5 && p[1] <= mh - 0.5;
        image::Luma([if inside { 255 } else { 0 }])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::matrix::{identity, similarity};

    #[test]
    fn identity_warp_is_exact() {
        let img = RgbImage::from_fn(37, 23, |x, y| {
            image::Rgb([(x * 7) as u8, (y * 11) as u8, (x + y) as u8])
        });
        assert_eq!(warp(&img, &identity(), 37, 23), img);
    }

    #[test]
    fn halving_averages_blocks() {
        let img = RgbImage::from_fn(8, 8, |x, _| {
            image::Rgb([if x % 2 == 0 { 0 } else { 200 }; 3])
        });
        let m = [[2.0, 0.0, 0.5], [0.0, 2.0, 0.5]];
        let out = warp(&img, &m, 4, 4);
        assert!(
            out.pixels().all(|p| p.0[0].abs_diff(100) <= 1),
            "{:?}",
            out.get_pixel(1, 1)
        );
    }

    #[test]
    fn common_crop_of_identity_is_the_frame() {
        let r = common_crop((400, 300), &[(identity(), (400, 300))], 4.0 / 3.0).unwrap();
        assert!(r[2] >= 397 && r[3] >= 298, "{r:?}");
        let rot = similarity(1.0, 10.0, 0.0, 0.0);
        let r = common_crop((400, 300), &[(rot, (400, 300))], 4.0 / 3.0).unwrap();
        assert!(r[2] < 400 && r[2] > 200, "{r:?}");
        assert!(
            common_crop(
                (400, 300),
                &[(crate::align::matrix::translation(1000.0, 0.0), (400, 300))],
                1.0
            )
            .is_none()
        );
    }
}
