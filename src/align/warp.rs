//! Final resampling of full-resolution photos and the common crop of a set of aligned photos.

use image::RgbImage;
use rayon::prelude::*;

use super::Matrix;
use super::matrix::apply;

/// Taps per axis are capped so that the fixed-point accumulators cannot overflow
/// (16 x 16 taps x 65536 x 255 < 2^32); beyond a 16x reduction the footprint is sparsely sampled.
const MAX_TAPS: usize = 16;

/// Resample `src` into an `out_w x out_h` image; output pixel (x, y) takes the colour at
/// `apply(out_to_src, (x, y))`. When shrinking, each output pixel averages a ceil(s) x ceil(s)
/// grid of bilinear taps spread over its footprint (antialiasing). Outside the source: black.
#[must_use]
pub fn warp(src: &RgbImage, out_to_src: &Matrix, out_w: u32, out_h: u32) -> RgbImage {
    let m = out_to_src;
    let (ax, ay) = (m[0][0], m[1][0]);
    let (bx, by) = (m[0][1], m[1][1]);
    let taps_along = |len: f64| ((len - 1e-9).ceil().max(1.0) as usize).min(MAX_TAPS);
    let (nx, ny) = (taps_along(ax.hypot(ay)), taps_along(bx.hypot(by)));
    let mut offsets = Vec::with_capacity(nx * ny);
    for j in 0..ny {
        let v = (j as f64 + 0.5) / ny as f64 - 0.5;
        for i in 0..nx {
            let u = (i as f64 + 0.5) / nx as f64 - 0.5;
            offsets.push(((u * ax + v * bx) as f32, (u * ay + v * by) as f32));
        }
    }
    let (w, h) = (src.width() as usize, src.height() as usize);
    let mut out = RgbImage::new(out_w, out_h);
    if w == 0 || h == 0 || out_w == 0 {
        return out;
    }
    let sampler = Sampler {
        data: src.as_raw(),
        w,
        h,
        offsets: &offsets,
    };
    out.par_chunks_mut(out_w as usize * 3)
        .enumerate()
        .for_each(|(y, row)| {
            let start = apply(m, [0.0, y as f64]);
            for (x, px) in row.chunks_exact_mut(3).enumerate() {
                let cx = start[0] + ax * x as f64;
                let cy = start[1] + ay * x as f64;
                px.copy_from_slice(&sampler.pixel(cx as f32, cy as f32));
            }
        });
    out
}

struct Sampler<'a> {
    data: &'a [u8],
    w: usize,
    h: usize,
    offsets: &'a [(f32, f32)],
}

impl Sampler<'_> {
    /// Average of the bilinear taps around centre (cx, cy); black when the centre is outside.
    #[inline]
    fn pixel(&self, cx: f32, cy: f32) -> [u8; 3] {
        let (wf, hf) = (self.w as f32, self.h as f32);
        if !(cx >= -0.5 && cy >= -0.5 && cx <= wf - 0.5 && cy <= hf - 0.5) {
            return [0; 3];
        }
        let mut acc = [0u32; 3];
        let (xmax, ymax) = ((self.w - 1) as f32, (self.h - 1) as f32);
        for &(ox, oy) in self.offsets {
            let x = (cx + ox).clamp(0.0, xmax);
            let y = (cy + oy).clamp(0.0, ymax);
            let (x0, y0) = (x as usize, y as usize);
            let fx = ((x - x0 as f32) * 256.0) as u32;
            let fy = ((y - y0 as f32) * 256.0) as u32;
            let x1 = (x0 + 1).min(self.w - 1);
            let y1 = (y0 + 1).min(self.h - 1);
            let (r0, r1) = (y0 * self.w, y1 * self.w);
            let (i00, i01, i10, i11) = ((r0 + x0) * 3, (r0 + x1) * 3, (r1 + x0) * 3, (r1 + x1) * 3);
            let w00 = (256 - fx) * (256 - fy);
            let w01 = fx * (256 - fy);
            let w10 = (256 - fx) * fy;
            let w11 = fx * fy;
            let d = self.data;
            for c in 0..3 {
                acc[c] += w00 * u32::from(d[i00 + c])
                    + w01 * u32::from(d[i01 + c])
                    + w10 * u32::from(d[i10 + c])
                    + w11 * u32::from(d[i11 + c]);
            }
        }
        let total = self.offsets.len() as u32 * 65536;
        acc.map(|a| ((a + total / 2) / total) as u8)
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
