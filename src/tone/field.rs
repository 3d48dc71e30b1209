//! Lens falloff (vignetting): the one light change between two shots that varies over the frame.
//! A global curve cannot undo it, so a photo whose corners are darker than the before photo's
//! had its treatment under-shown (issue 30: vignette pairs at 0.71–0.89 of the true effect).
//!
//! The field is a smooth, bounded, two-parameter gain in linear light, in the after photo's own
//! coordinates (where its lens put the falloff): `exp(kx·dx² + ky·dy²)`, with `dx`, `dy` from −1
//! to 1 across the after photo. It is even about the after photo's centre and monotone from the
//! centre out, so it cannot paint a local change such as the treatment; its parameters are
//! bounded ([`LIMIT`]); it is fitted robustly on the blocks the global curve already explains,
//! and it is applied before the curve, in the fit and in every rendered output alike
//! ([`super::apply_mut`]), so `verify` re-renders it exactly.

use image::{GrayImage, RgbImage};
use rayon::prelude::*;

use super::color::{decode_table, srgb_encode};
use crate::align::{self, Matrix};

/// Largest |k| per axis: a gain of e^0.6 ≈ 1.8 at the middle of an edge (a strong vignette loses
/// about 40% of the light in the corners), never more.
pub const LIMIT: f64 = 0.6;
/// Below this on both axes the field is left out (it would change no level by more than about
/// one in the corners).
const NEGLIGIBLE: f64 = 0.04;
/// Block size (px) of the working copy the field is fitted on, and the Tukey cut-off of the
/// residuals (natural log of a gain: 0.15 is about 16%).
const BLOCK: u32 = 8;
const CUT: f64 = 0.15;

/// The fitted field: linear light of the after photo times `exp(kx·dx² + ky·dy²)`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Field {
    pub kx: f64,
    pub ky: f64,
}

/// Where each pixel of an image lies in the after photo: `to_after` takes the image's pixel
/// centres to the after photo's pixel (centres at integer coordinates), `size` is the after
/// photo's size in those pixels.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    pub to_after: Matrix,
    pub size: (u32, u32),
}

impl Frame {
    /// The image is the after photo itself.
    #[must_use]
    pub fn whole(img: &RgbImage) -> Frame {
        Frame {
            to_after: align::identity(),
            size: img.dimensions(),
        }
    }

    /// `(dx², dy²)` of pixel `(x, y)`.
    fn at(&self, x: f64, y: f64) -> (f64, f64) {
        let [ax, ay] = align::apply(&self.to_after, [x, y]);
        let d = |a: f64, n: u32| 2.0 * (a + 0.5) / f64::from(n.max(1)) - 1.0;
        (d(ax, self.size.0).powi(2), d(ay, self.size.1).powi(2))
    }
}

impl Field {
    /// Natural log of the gain at `(dx², dy²)`.
    fn log_gain(&self, (dx2, dy2): (f64, f64)) -> f64 {
        self.kx * dx2 + self.ky * dy2
    }
}

/// Multiply the linear light of every pixel of `img` by the field's gain, in place; each level
/// comes out as a fractional level (0..=255) so that the curve applied after it is interpolated,
/// not rounded twice.
#[must_use]
pub fn apply(img: &RgbImage, field: &Field, frame: &Frame) -> Vec<[f32; 3]> {
    let table = decode_table();
    let w = img.width() as usize;
    let mut out = vec![[0f32; 3]; img.as_raw().len() / 3];
    out.par_chunks_mut(w.max(1))
        .zip(img.as_raw().par_chunks(3 * w.max(1)))
        .enumerate()
        .for_each(|(y, (row, src))| {
            for (x, (o, p)) in row.iter_mut().zip(src.chunks_exact(3)).enumerate() {
                let g = field.log_gain(frame.at(x as f64, y as f64)).exp();
                for c in 0..3 {
                    let lin = (table[usize::from(p[c])] * g).min(1.0);
                    o[c] = (255.0 * srgb_encode(lin)) as f32;
                }
            }
        });
    out
}

/// `img` with the field applied and rounded to levels (the fit's working copy).
#[must_use]
pub fn corrected(img: &RgbImage, field: &Field, frame: &Frame) -> RgbImage {
    let px = apply(img, field, frame);
    let raw = px
        .iter()
        .flat_map(|p| p.map(|v| v.round().clamp(0.0, 255.0) as u8))
        .collect();
    RgbImage::from_raw(img.width(), img.height(), raw).expect("same size")
}

/// The field that best explains, on the blocks where `luts(moving)` already matches `fixed`
/// within [`CUT`], what is left: the log ratio of the before photo's linear light to the matched
/// after photo's, per block, regressed robustly on `dx²` and `dy²` (with a free constant, which
/// the curve absorbs). `None` when too few blocks or the field is negligible; bounded by
/// [`LIMIT`].
#[must_use]
pub fn fit(
    fixed: &RgbImage,
    moving: &RgbImage,
    valid: &GrayImage,
    luts: &[[f64; 256]; 3],
    frame: &Frame,
) -> Option<Field> {
    let rows = residuals(fixed, moving, valid, luts, frame);
    if rows.len() < 64 {
        return None;
    }
    let mut k = [0.0; 3];
    for pass in 0..6 {
        let cut = CUT * if pass == 0 { 3.0 } else { 1.0 };
        k = weighted_fit(&rows, &k, cut)?;
    }
    let field = Field {
        kx: k[1].clamp(-LIMIT, LIMIT),
        ky: k[2].clamp(-LIMIT, LIMIT),
    };
    (field.kx.abs().max(field.ky.abs()) >= NEGLIGIBLE).then_some(field)
}

/// Per fully valid block: `(dx², dy², log ratio)`, the ratio the mean of the channels whose
/// levels are away from black and white.
fn residuals(
    fixed: &RgbImage,
    moving: &RgbImage,
    valid: &GrayImage,
    luts: &[[f64; 256]; 3],
    frame: &Frame,
) -> Vec<[f64; 3]> {
    let table = decode_table();
    let (w, h) = fixed.dimensions();
    let (w, h) = (w.min(moving.width()), h.min(moving.height()));
    let n = f64::from(BLOCK * BLOCK);
    let mut rows = Vec::new();
    for by in (0..h / BLOCK).map(|y| y * BLOCK) {
        for bx in (0..w / BLOCK).map(|x| x * BLOCK) {
            let mut s = [0.0; 6];
            let mut ok = true;
            for (x, y) in (by..by + BLOCK).flat_map(|y| (bx..bx + BLOCK).map(move |x| (x, y))) {
                ok &= valid.get_pixel(x, y)[0] > 0;
                let (f, m) = (fixed.get_pixel(x, y).0, moving.get_pixel(x, y).0);
                for c in 0..3 {
                    s[c] += f64::from(f[c]);
                    s[3 + c] += f64::from(m[c]);
                }
            }
            if !ok {
                continue;
            }
            let level = |v: f64| table[(v / n).round().clamp(0.0, 255.0) as usize];
            let logs: Vec<f64> = (0..3)
                .filter(|&c| (12.0..243.0).contains(&(s[c] / n)))
                .filter(|&c| (12.0..243.0).contains(&(s[3 + c] / n)))
                .map(|c| {
                    let matched = luts[c][(s[3 + c] / n).round() as usize];
                    (level(s[c]) / table[matched.round().clamp(1.0, 255.0) as usize]).ln()
                })
                .collect();
            if logs.is_empty() {
                continue;
            }
            let half = f64::from(BLOCK) / 2.0 - 0.5;
            let (dx2, dy2) = frame.at(f64::from(bx) + half, f64::from(by) + half);
            rows.push([dx2, dy2, logs.iter().sum::<f64>() / logs.len() as f64]);
        }
    }
    rows
}

/// Tukey-weighted least squares of `r = k0 + k1·dx² + k2·dy²`, the weights from the residuals
/// under `k`.
fn weighted_fit(rows: &[[f64; 3]], k: &[f64; 3], cut: f64) -> Option<[f64; 3]> {
    let mut a = [[0.0; 3]; 3];
    let mut b = [0.0; 3];
    let mut wsum = 0.0;
    for &[dx2, dy2, r] in rows {
        let e = (r - k[0] - k[1] * dx2 - k[2] * dy2) / cut;
        if e.abs() >= 1.0 {
            continue;
        }
        let w = (1.0 - e * e).powi(2);
        let x = [1.0, dx2, dy2];
        for i in 0..3 {
            for j in 0..3 {
                a[i][j] += w * x[i] * x[j];
            }
            b[i] += w * x[i] * r;
        }
        wsum += w;
    }
    if wsum < 32.0 {
        return None;
    }
    solve3(a, b)
}

/// Cramer's rule; `None` when the blocks do not spread over the frame (singular).
fn solve3(a: [[f64; 3]; 3], b: [f64; 3]) -> Option<[f64; 3]> {
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(a);
    if d.abs() < 1e-9 * (a[0][0].powi(3)).max(1e-30) {
        return None;
    }
    Some(std::array::from_fn(|i| {
        let mut m = a;
        (0..3).for_each(|r| m[r][i] = b[r]);
        det(m) / d
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vignette_is_recovered_and_a_dark_patch_at_the_centre_is_not_taken_for_one() {
        // A before photo with texture; the after photo the same under a falloff towards its
        // edges, with a dark treated patch at its centre.
        let (w, h) = (160u32, 120u32);
        let before = RgbImage::from_fn(w, h, |x, y| {
            let v = 60 + ((x * 7 + y * 13) % 120) as u8;
            image::Rgb([v, v.saturating_add(20), v / 2 + 40])
        });
        let truth = Field { kx: -0.3, ky: -0.2 };
        let frame = Frame::whole(&before);
        let mut after = corrected(&before, &truth, &frame);
        for (x, y, p) in after.enumerate_pixels_mut() {
            if (x as i32 - 80).pow(2) + (y as i32 - 60).pow(2) < 30 * 30 {
                p.0 = p.0.map(|v| v / 2);
            }
        }
        let valid = GrayImage::from_pixel(w, h, image::Luma([255]));
        let identity: [[f64; 256]; 3] = std::array::from_fn(|_| std::array::from_fn(|v| v as f64));
        let got = fit(&before, &after, &valid, &identity, &frame).expect("a field");
        assert!(
            (got.kx - 0.3).abs() < 0.05 && (got.ky - 0.2).abs() < 0.05,
            "{got:?}"
        );
    }
}
