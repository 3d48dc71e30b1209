//! Perspective: was the later photo taken at a different camera angle?
//!
//! After the similarity fit, a change of camera angle leaves a keystone: the side that came
//! closer is magnified, the other shrunk. That residual is measured as local shifts of a grid of
//! tiles (phase correlation, which ignores gain and offset) between the before photo and the
//! aligned later photo, on a small copy (long side `long_side`). A homography is fitted to those
//! shifts robustly (Tukey-weighted least squares, so tiles on the treated area, on changed hair
//! or on flat skin drop out); the tiles are then re-sampled through that homography and
//! measured again, so that large keystones are followed in a few passes.
//!
//! From the homography in coordinates centred on the frame and divided by the focal length
//! `f`, the projective row `(g, h)` of a plane seen from two directions that differ by a tilt θ
//! has length `sin θ` (tilted view → frontal) or `tan θ` (the reverse), times the zoom when the
//! camera was also brought closer; the magnification at the centre `m` is `√cos θ` or its
//! inverse, times that zoom. `atan(|(g, h)| / m)` = `atan(sin θ / √cos θ)` either way, within 4%
//! of θ for θ ≤ 25°, whatever the zoom. The focal length is not in the pixels: it is
//! assumed from `focal_diag` (focal length / image diagonal). Phones' main cameras are about
//! 26 mm equivalent, i.e. 26 / 43.3 = 0.60 of the diagonal, the default. A longer lens (2×
//! zoom) shows the same tilt with less keystone, so with this default it is under-reported
//! (about half): set `focal_diag` from the clinic's camera (or EXIF `FocalLengthIn35mmFilm` /
//! 43.3) when it differs.

use rustfft::{FftPlanner, num_complex::Complex};
use serde::{Deserialize, Serialize};

use super::plane::Plane;

type C32 = Complex<f32>;
/// 3×3 homography, row-major, in normalised coordinates (see the module docs).
pub(super) type H3 = [[f64; 3]; 3];

/// Settings of the tilt measure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PerspectiveParams {
    /// Long side (px) of the copy the tiles are cut from (at least; integer shrink factors).
    pub long_side: u32,
    /// Tile side (px of that copy; a power of two).
    pub tile: u32,
    /// Measure-and-fit passes.
    pub passes: u32,
    /// Assumed focal length / image diagonal (0.60 = a phone's 26 mm-equivalent main camera).
    pub focal_diag: f64,
    /// Phase-correlation peak height (0–1) below which a tile is not used.
    pub min_peak: f32,
    /// Before-tile variance (levels²) below which a tile is too flat to use.
    pub min_variance: f32,
    /// Tiles needed to fit a homography; with fewer the tilt reads 0.
    pub min_tiles: usize,
    /// Tukey cut-off of the fit (px of the copy).
    pub tukey_px: f64,
}

impl Default for PerspectiveParams {
    fn default() -> Self {
        Self {
            long_side: 256,
            tile: 32,
            passes: 3,
            focal_diag: 0.60,
            min_peak: 0.03,
            min_variance: 12.0,
            min_tiles: 8,
            tukey_px: 1.5,
        }
    }
}

/// One before tile: its centre (normalised) and spectrum.
struct Tile {
    x0: usize,
    y0: usize,
    centre: [f64; 2],
    spectrum: Vec<C32>,
}

/// The normalised frame: pixel = `f * u + c`.
#[derive(Clone, Copy)]
pub(super) struct Frame {
    pub(super) f: f64,
    pub(super) c: [f64; 2],
}

impl Frame {
    fn to_px(self, u: [f64; 2]) -> [f64; 2] {
        [self.f * u[0] + self.c[0], self.f * u[1] + self.c[1]]
    }
    pub(super) fn to_norm(self, p: [f64; 2]) -> [f64; 2] {
        [(p[0] - self.c[0]) / self.f, (p[1] - self.c[1]) / self.f]
    }
}

/// The box shrink that takes a `w`×`h` working copy to the copy the tiles are cut from.
#[must_use]
pub fn shrink_factor(w: usize, h: usize, p: &PerspectiveParams) -> usize {
    (w.max(h) / p.long_side.max(32) as usize).max(1)
}

/// Tilt (degrees) of the aligned later photo's camera against the before photo's, beyond a
/// similarity; 0 when too few tiles can be measured. `b`, `a` and `ok` are the working copies
/// shrunk by [`shrink_factor`].
#[must_use]
pub fn tilt_deg(b: &Plane, a: &Plane, ok: &[bool], p: &PerspectiveParams) -> f32 {
    let n = (p.tile.max(8) as usize).next_power_of_two();
    let frame = Frame {
        f: p.focal_diag * (b.w as f64).hypot(b.h as f64),
        c: [(b.w as f64 - 1.0) / 2.0, (b.h as f64 - 1.0) / 2.0],
    };
    // The first pass uses tiles twice as large (overlapping by half): they follow the larger
    // shifts of a strong keystone; later passes only correct what is left. It cuts them from
    // copies shrunk by 2, as `n`-px tiles: the same footprint and reach for a fifth of the
    // FFT work. Normalised coordinates are the same at both scales.
    let mut fft = Fft::new(n);
    let (hb, ha) = (b.shrink(2), a.shrink(2));
    let hok = super::plane::shrink_mask(ok, b.w, b.h, 2);
    let half = Frame {
        f: frame.f / 2.0,
        c: [(frame.c[0] - 0.5) / 2.0, (frame.c[1] - 0.5) / 2.0],
    };
    let big_tiles = cut_tiles(&hb, &hok, n, n / 2, half, p, &mut fft);
    let tiles = cut_tiles(b, ok, n, n, frame, p, &mut fft);
    if tiles.len() < p.min_tiles {
        return 0.0;
    }
    let mut h: H3 = IDENTITY;
    for pass in 0..p.passes.max(1) {
        let (set, plane, at) = if pass == 0 && big_tiles.len() >= p.min_tiles {
            (&big_tiles, &ha, half)
        } else {
            (&tiles, a, frame)
        };
        let matches: Vec<Match> = set
            .iter()
            .filter_map(|t| match_tile(t, plane, &h, at, p, &mut fft))
            .collect();
        // A failed pass keeps what the previous ones found.
        let tukey = if pass == 0 { 2.0 } else { 1.0 } * p.tukey_px / frame.f;
        match (matches.len() >= p.min_tiles).then(|| fit_homography(&matches, tukey)) {
            // Converged: the last pass moved no corner of the frame by a tenth of a pixel.
            Some(Some(fit)) if pass > 0 && corner_shift(&h, &fit, frame) < 0.1 => {
                h = fit;
                break;
            }
            Some(Some(fit)) => h = fit,
            _ if pass == 0 => return 0.0,
            _ => break,
        }
    }
    tilt_of(&h)
}

/// The tilt (degrees) a homography between two normalised frames (each photo's own) shows:
/// `atan(|(g, h)| / m)` of its projective row `(g, h)` (see the module docs), where `m` is its
/// linear magnification at the frame centre. A camera brought closer by a factor `m` (the
/// usual way a later photo is zoomed) scales the projective row by `m` as well; without the
/// division a 7° tilt taken ×1.5 closer would read 10.4°. Aligned photos have `m` ≈ 1.
pub(super) fn tilt_of(h: &H3) -> f32 {
    let s = h[2][2];
    let (g, hh) = (h[2][0] / s, h[2][1] / s);
    // Jacobian at u = 0 of (A u + t) / (g·u + s): A / s − t gᵀ / s².
    let j = |r: usize, c: usize| h[r][c] / s - h[r][2] * h[2][c] / (s * s);
    let m = (j(0, 0) * j(1, 1) - j(0, 1) * j(1, 0)).abs().sqrt();
    if !m.is_finite() || m < 1e-6 {
        return 0.0;
    }
    (g.hypot(hh) / m).atan().to_degrees() as f32
}

/// Inverse of a 3×3 matrix, `None` when singular.
pub(super) fn invert3(m: &H3) -> Option<H3> {
    let c = |r: usize, k: usize| {
        let (r1, r2) = ((r + 1) % 3, (r + 2) % 3);
        let (k1, k2) = ((k + 1) % 3, (k + 2) % 3);
        m[r1][k1] * m[r2][k2] - m[r1][k2] * m[r2][k1]
    };
    let det = m[0][0] * c(0, 0) + m[0][1] * c(0, 1) + m[0][2] * c(0, 2);
    if !det.is_finite() || det.abs() < 1e-12 {
        return None;
    }
    let mut out = [[0.0; 3]; 3];
    for (r, row) in out.iter_mut().enumerate() {
        for (k, v) in row.iter_mut().enumerate() {
            *v = c(k, r) / det;
        }
    }
    Some(out)
}

/// Forward/inverse 2-D FFTs of `n`×`n` tiles (row passes and one transpose each way: the
/// spectrum is kept transposed, which correlation does not mind).
struct Fft {
    n: usize,
    fwd: std::sync::Arc<dyn rustfft::Fft<f32>>,
    inv: std::sync::Arc<dyn rustfft::Fft<f32>>,
    window: Vec<f32>,
}

impl Fft {
    fn new(n: usize) -> Fft {
        let mut planner = FftPlanner::new();
        let hann: Vec<f32> = (0..n)
            .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * (i as f32 + 0.5) / n as f32).cos())
            .collect();
        Fft {
            n,
            fwd: planner.plan_fft_forward(n),
            inv: planner.plan_fft_inverse(n),
            window: (0..n * n).map(|i| hann[i / n] * hann[i % n]).collect(),
        }
    }

    fn run(&self, data: &mut [C32], inverse: bool) {
        let plan = if inverse { &self.inv } else { &self.fwd };
        plan.process(data);
        transpose(data, self.n);
        plan.process(data);
    }

    /// Spectrum of the windowed, zero-mean tile, or `None` when it is flat.
    fn spectrum(&self, values: &[f32], min_variance: f32) -> Option<Vec<C32>> {
        let len = values.len() as f32;
        let mean = values.iter().sum::<f32>() / len;
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / len;
        if var < min_variance {
            return None;
        }
        let mut data: Vec<C32> = values
            .iter()
            .zip(&self.window)
            .map(|(v, w)| C32::new((v - mean) * w, 0.0))
            .collect();
        self.run(&mut data, false);
        Some(data)
    }
}

fn transpose(d: &mut [C32], n: usize) {
    for y in 0..n {
        for x in y + 1..n {
            d.swap(y * n + x, x * n + y);
        }
    }
}

/// Fully valid, textured `n`×`n` tiles of the before copy, every `step` px from a margin.
fn cut_tiles(
    b: &Plane,
    ok: &[bool],
    n: usize,
    step: usize,
    frame: Frame,
    p: &PerspectiveParams,
    fft: &mut Fft,
) -> Vec<Tile> {
    let mut tiles = Vec::new();
    let mut values = vec![0f32; n * n];
    for y0 in (step / 4..b.h.saturating_sub(n)).step_by(step) {
        'tile: for x0 in (step / 4..b.w.saturating_sub(n)).step_by(step) {
            for j in 0..n {
                for i in 0..n {
                    if !ok[(y0 + j) * b.w + x0 + i] {
                        continue 'tile;
                    }
                    values[j * n + i] = b.at(x0 + i, y0 + j);
                }
            }
            if let Some(spectrum) = fft.spectrum(&values, p.min_variance) {
                let c = [(x0 + n / 2) as f64, (y0 + n / 2) as f64];
                let centre = frame.to_norm(c);
                tiles.push(Tile {
                    x0,
                    y0,
                    centre,
                    spectrum,
                });
            }
        }
    }
    tiles
}

/// A tile's centre in the before frame and where it is in the after photo (normalised), weighed
/// by the correlation peak.
pub(super) struct Match {
    pub(super) from: [f64; 2],
    pub(super) to: [f64; 2],
    pub(super) weight: f64,
}

pub(super) fn apply_h(h: &H3, u: [f64; 2]) -> [f64; 2] {
    let z = h[2][0] * u[0] + h[2][1] * u[1] + h[2][2];
    [
        (h[0][0] * u[0] + h[0][1] * u[1] + h[0][2]) / z,
        (h[1][0] * u[0] + h[1][1] * u[1] + h[1][2]) / z,
    ]
}

/// Sample the after copy through `h` over the tile, phase-correlate with the before tile, and
/// turn the peak into a correspondence.
fn match_tile(
    t: &Tile,
    a: &Plane,
    h: &H3,
    frame: Frame,
    p: &PerspectiveParams,
    fft: &mut Fft,
) -> Option<Match> {
    let n = fft.n;
    let mut values = vec![0f32; n * n];
    sample_tile(t, a, h, frame, n, &mut values)?;
    let mut cross = fft.spectrum(&values, p.min_variance / 4.0)?;
    for (c, b) in cross.iter_mut().zip(&t.spectrum) {
        let v = *c * b.conj();
        *c = v / (v.norm() + 1e-6);
    }
    fft.run(&mut cross, true);
    let (dx, dy, peak) = peak(&cross, n);
    if peak < p.min_peak {
        return None;
    }
    // The sampled tile is the before tile moved by d: before point c sits at h(c + d).
    let c = frame.to_px(t.centre);
    let to = apply_h(h, frame.to_norm([c[0] + dx, c[1] + dy]));
    Some(Match {
        from: t.centre,
        to,
        weight: f64::from(peak),
    })
}

/// Largest distance (px of the copy) between where `a` and `b` put the frame's corners.
fn corner_shift(a: &H3, b: &H3, frame: Frame) -> f64 {
    let [cx, cy] = frame.c;
    [
        [0.0, 0.0],
        [2.0 * cx, 0.0],
        [0.0, 2.0 * cy],
        [2.0 * cx, 2.0 * cy],
    ]
    .into_iter()
    .map(|p| {
        let u = frame.to_norm(p);
        let (qa, qb) = (frame.to_px(apply_h(a, u)), frame.to_px(apply_h(b, u)));
        (qa[0] - qb[0]).hypot(qa[1] - qb[1])
    })
    .fold(0.0, f64::max)
}

const IDENTITY: H3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

pub(super) fn mul3(a: &H3, b: &H3) -> H3 {
    let mut out = [[0.0; 3]; 3];
    for (r, row) in out.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| a[r][k] * b[k][c]).sum();
        }
    }
    out
}

/// The after copy sampled through `h` (normalised coordinates) over the tile's `n`×`n` pixels,
/// bilinear; `None` when a sample falls outside the copy. The first pass (`h` the identity)
/// copies the pixels; otherwise the homography is stepped along each row in pixel
/// coordinates, one division per sample.
fn sample_tile(t: &Tile, a: &Plane, h: &H3, frame: Frame, n: usize, out: &mut [f32]) -> Option<()> {
    if *h == IDENTITY {
        for (j, row) in out.chunks_exact_mut(n).enumerate() {
            let at = (t.y0 + j) * a.w + t.x0;
            row.copy_from_slice(a.data.get(at..at + n)?);
        }
        return Some(());
    }
    let (f, [cx, cy]) = (frame.f, frame.c);
    let to_px = [[f, 0.0, cx], [0.0, f, cy], [0.0, 0.0, 1.0]];
    let to_norm = [
        [1.0 / f, 0.0, -cx / f],
        [0.0, 1.0 / f, -cy / f],
        [0.0, 0.0, 1.0],
    ];
    let m = mul3(&mul3(&to_px, h), &to_norm);
    for (j, row) in out.chunks_exact_mut(n).enumerate() {
        let (x, y) = (t.x0 as f64, (t.y0 + j) as f64);
        let mut q = [0.0; 3];
        for (v, r) in q.iter_mut().zip(&m) {
            *v = r[0] * x + r[1] * y + r[2];
        }
        for v in row {
            *v = a.sample((q[0] / q[2]) as f32, (q[1] / q[2]) as f32)?;
            for (qv, r) in q.iter_mut().zip(&m) {
                *qv += r[0];
            }
        }
    }
    Some(())
}

/// Highest real value of the correlation surface (row-major again after the inverse
/// [`Fft::run`]), its sub-pixel position as a signed shift, and its height in 0–1.
fn peak(s: &[C32], n: usize) -> (f64, f64, f32) {
    let (mut best, mut at) = (f32::MIN, 0);
    for (i, v) in s.iter().enumerate() {
        if v.re > best {
            (best, at) = (v.re, i);
        }
    }
    let (x, y) = (at % n, at / n);
    let val = |x: usize, y: usize| f64::from(s[(y % n) * n + x % n].re);
    let sub = |m: f64, c: f64, p: f64| {
        let d = m + p - 2.0 * c;
        if d < 0.0 {
            (0.5 * (m - p) / d).clamp(-0.5, 0.5)
        } else {
            0.0
        }
    };
    let c = val(x, y);
    let fx = sub(val(x + n - 1, y), c, val(x + 1, y));
    let fy = sub(val(x, y + n - 1), c, val(x, y + 1));
    let signed = |v: usize| {
        if v >= n / 2 {
            v as f64 - n as f64
        } else {
            v as f64
        }
    };
    (signed(x) + fx, signed(y) + fy, best / (n * n) as f32)
}

/// Robust homography through the matches (DLT with h33 = 1, Tukey-reweighted).
fn fit_homography(m: &[Match], tukey: f64) -> Option<H3> {
    let mut robust = vec![1.0; m.len()];
    let mut h = None;
    for _ in 0..6 {
        let fit = solve_dlt(m, &robust)?;
        for (r, mt) in robust.iter_mut().zip(m) {
            let q = apply_h(&fit, mt.from);
            let e = (q[0] - mt.to[0]).hypot(q[1] - mt.to[1]) / tukey;
            *r = if e < 1.0 { (1.0 - e * e).powi(2) } else { 0.0 };
        }
        h = Some(fit);
    }
    let inliers = robust.iter().filter(|&&r| r > 0.0).count();
    if inliers < 6 { None } else { h }
}

/// Weighted least squares of the 8 DLT unknowns.
pub(super) fn solve_dlt(m: &[Match], robust: &[f64]) -> Option<H3> {
    let mut ata = [[0f64; 8]; 8];
    let mut atb = [0f64; 8];
    for (mt, r) in m.iter().zip(robust) {
        let w = mt.weight * r;
        if w <= 0.0 {
            continue;
        }
        let ([x, y], [u, v]) = (mt.from, mt.to);
        let rows = [
            ([x, y, 1.0, 0.0, 0.0, 0.0, -x * u, -y * u], u),
            ([0.0, 0.0, 0.0, x, y, 1.0, -x * v, -y * v], v),
        ];
        for (a, b) in rows {
            for i in 0..8 {
                atb[i] += w * a[i] * b;
                for j in 0..8 {
                    ata[i][j] += w * a[i] * a[j];
                }
            }
        }
    }
    let s = solve8(ata, atb)?;
    Some([[s[0], s[1], s[2]], [s[3], s[4], s[5]], [s[6], s[7], 1.0]])
}

/// Gaussian elimination with partial pivoting; `None` when singular.
pub(super) fn solve8(mut a: [[f64; 8]; 8], mut b: [f64; 8]) -> Option<[f64; 8]> {
    for c in 0..8 {
        let p = (c..8).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-12 {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..8 {
            let k = a[r][c] / a[c][c];
            let pivot = a[c];
            for (v, pv) in a[r][c..].iter_mut().zip(&pivot[c..]) {
                *v -= k * pv;
            }
            b[r] -= k * b[c];
        }
    }
    let mut x = [0f64; 8];
    for c in (0..8).rev() {
        let s: f64 = (c + 1..8).map(|j| a[c][j] * x[j]).sum();
        x[c] = (b[c] - s) / a[c][c];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Smooth random texture (value noise at two scales) seen through `map`.
    fn texture(w: usize, h: usize, map: impl Fn(f64, f64) -> [f64; 2]) -> Plane {
        let lattice = |i: i64, j: i64, s: u64| {
            let mut z = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ (j as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9)
                ^ s;
            z = (z ^ (z >> 29)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z >> 40) as f64 / (1u64 << 24) as f64) - 0.5
        };
        let noise = |x: f64, y: f64, cell: f64, s: u64| {
            let (gx, gy) = (x / cell, y / cell);
            let (i, j) = (gx.floor() as i64, gy.floor() as i64);
            let (fx, fy) = (gx - gx.floor(), gy - gy.floor());
            let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
            let top = lattice(i, j, s) * (1.0 - sx) + lattice(i + 1, j, s) * sx;
            let bottom = lattice(i, j + 1, s) * (1.0 - sx) + lattice(i + 1, j + 1, s) * sx;
            top * (1.0 - sy) + bottom * sy
        };
        let data = (0..w * h)
            .map(|i| {
                let q = map((i % w) as f64, (i / w) as f64);
                (128.0 + 120.0 * noise(q[0], q[1], 5.0, 1) + 80.0 * noise(q[0], q[1], 17.0, 2))
                    as f32
            })
            .collect();
        Plane { w, h, data }
    }

    #[test]
    fn a_shift_reads_no_tilt() {
        let b = texture(256, 192, |x, y| [x, y]);
        let a = texture(256, 192, |x, y| [x + 1.3, y - 0.7]);
        let ok = vec![true; 256 * 192];
        let t = tilt_deg(&b, &a, &ok, &PerspectiveParams::default());
        assert!(t < 2.0, "tilt {t}");
    }

    #[test]
    fn a_keystone_reads_its_tilt() {
        // The after photo's pixel (x, y) shows the before's H(x, y) with |(g, h)| = tan 15°.
        let (w, h) = (256usize, 192usize);
        let f = 0.6 * (w as f64).hypot(h as f64);
        let c = [(w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0];
        let g = 15f64.to_radians().tan();
        let b = texture(w, h, |x, y| [x, y]);
        let a = texture(w, h, |x, y| {
            let (u, v) = ((x - c[0]) / f, (y - c[1]) / f);
            let z = 1.0 + g * u;
            [f * u / z + c[0], f * v / z + c[1]]
        });
        let ok = vec![true; w * h];
        let t = tilt_deg(&b, &a, &ok, &PerspectiveParams::default());
        assert!((t - 15.0).abs() < 2.0, "tilt {t}");
    }
}
