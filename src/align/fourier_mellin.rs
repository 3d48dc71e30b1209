//! Coarse global registration by Fourier–Mellin: rotation and scale from phase correlation of
//! log-polar magnitude spectra (translation-invariant), then translation by phase correlation
//! after undoing them. Returns several ranked candidates; the caller refines and picks.

use rustfft::FftPlanner;

use super::fft::{C32, Peak, fft2d, hann, peaks, phase_surface};
use super::matrix::{compose, invert, similarity, translation};
use super::pyramid::Plane;
use super::{AlignParams, Matrix};

/// A coarse hypothesis: moving->fixed matrix in the coordinates of the planes given.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub matrix: Matrix,
    /// Height of the translation phase-correlation peak (sharpness of the match).
    pub peak: f64,
}

/// Mean-free, Hann-windowed copy of `p` in the top-left of an `n x n` complex buffer.
fn windowed(p: &Plane, n: usize) -> Vec<C32> {
    let mean = p.mean();
    let mut buf = vec![C32::new(0.0, 0.0); n * n];
    let wx: Vec<f32> = (0..p.w).map(|x| hann(x, p.w)).collect();
    for y in 0..p.h.min(n) {
        let wy = hann(y, p.h);
        for x in 0..p.w.min(n) {
            buf[y * n + x].re = (p.at(x, y) - mean) * wx[x] * wy;
        }
    }
    buf
}

/// High-passed magnitude spectrum resampled on a (angle in [0, pi)) x (log radius) grid.
fn log_polar(planner: &mut FftPlanner<f32>, p: &Plane, n: usize, params: &AlignParams) -> Vec<C32> {
    let mut spec = windowed(p, n);
    fft2d(planner, &mut spec, n, n, false);
    // Emphasise mid/high frequencies (the DC region carries the window, not the content).
    let fr = |i: usize| if i > n / 2 { i as f32 - n as f32 } else { i as f32 } / n as f32;
    let mag: Vec<f32> = spec
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let xx =
                (std::f32::consts::PI * fr(i % n)).cos() * (std::f32::consts::PI * fr(i / n)).cos();
            c.norm_sqr().sqrt() * (1.0 - xx) * (2.0 - xx)
        })
        .collect();
    let (nt, nr) = (params.fm_angles, params.fm_radii);
    let r_min = params.fm_min_radius * n as f64;
    let r_max = params.fm_max_radius * n as f64;
    let log_step = (r_max / r_min).ln() / nr as f64;
    let mut out = vec![C32::new(0.0, 0.0); nt * nr];
    for t in 0..nt {
        let (s, c) = (std::f64::consts::PI * t as f64 / nt as f64).sin_cos();
        for r in 0..nr {
            let rad = r_min * (log_step * r as f64).exp();
            let v = sample_wrapped(&mag, n, rad * c, rad * s);
            out[t * nr + r].re = v * hann(r, nr);
        }
    }
    out
}

/// Bilinear sample of an unshifted n x n spectrum at signed frequency (fx, fy).
fn sample_wrapped(mag: &[f32], n: usize, fx: f64, fy: f64) -> f32 {
    let (x0, y0) = (fx.floor(), fy.floor());
    let (ax, ay) = ((fx - x0) as f32, (fy - y0) as f32);
    let idx = |x: f64, y: f64| {
        (y as isize).rem_euclid(n as isize) as usize * n
            + (x as isize).rem_euclid(n as isize) as usize
    };
    let top = mag[idx(x0, y0)] * (1.0 - ax) + mag[idx(x0 + 1.0, y0)] * ax;
    let bot = mag[idx(x0, y0 + 1.0)] * (1.0 - ax) + mag[idx(x0 + 1.0, y0 + 1.0)] * ax;
    top * (1.0 - ay) + bot * ay
}

/// Rotation (degrees) / scale hypotheses from the log-polar phase correlation.
fn rotation_scale(
    planner: &mut FftPlanner<f32>,
    fixed: &Plane,
    moving: &Plane,
    params: &AlignParams,
) -> Vec<(f64, f64)> {
    let n = fixed
        .w
        .max(fixed.h)
        .max(moving.w)
        .max(moving.h)
        .next_power_of_two();
    let (nt, nr) = (params.fm_angles, params.fm_radii);
    let mut a = log_polar(planner, fixed, n, params);
    let mut b = log_polar(planner, moving, n, params);
    fft2d(planner, &mut a, nt, nr, false);
    fft2d(planner, &mut b, nt, nr, false);
    let surf = phase_surface(planner, &a, &b, nt, nr);
    let deg_per_bin = 180.0 / nt as f64;
    let log_step = (params.fm_max_radius / params.fm_min_radius).ln() / nr as f64;
    // |M(k)| = |F(R k / s)|: the moving log-polar map is the fixed one shifted by (-rot, +ln s).
    let to_rs = |p: &Peak| (-p.dy * deg_per_bin, (p.dx * log_step).exp());
    let margin = params.fm_bounds_margin;
    let ok = |dx: f64, dy: f64| {
        let (rot, s) = to_rs(&Peak { dx, dy, value: 0.0 });
        rot.abs() <= params.max_rotation_deg + margin * 20.0
            && s >= params.min_scale * (1.0 - margin)
            && s <= params.max_scale * (1.0 + margin)
    };
    peaks(&surf, nt, nr, params.fm_rotation_candidates, ok)
        .iter()
        .map(to_rs)
        .collect()
}

/// Warp plane `p` (moving) into a `w x h` fixed frame with moving->fixed matrix `m`; zero outside.
#[must_use]
pub fn warp_plane(p: &Plane, m: &Matrix, w: usize, h: usize) -> Plane {
    let inv = invert(m).unwrap_or(super::matrix::identity());
    let mut out = Plane::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let sx = inv[0][0] * x as f64 + inv[0][1] * y as f64 + inv[0][2];
            let sy = inv[1][0] * x as f64 + inv[1][1] * y as f64 + inv[1][2];
            out.data[y * w + x] = p.sample(sx as f32, sy as f32).unwrap_or(0.0);
        }
    }
    out
}

/// Ranked coarse candidates (moving->fixed, in these planes' coordinates).
#[must_use]
pub fn candidates(fixed: &Plane, moving: &Plane, params: &AlignParams) -> Vec<Candidate> {
    if fixed.data.is_empty() || moving.data.is_empty() {
        return Vec::new();
    }
    let mut planner = FftPlanner::new();
    let n = fixed.w.max(fixed.h).next_power_of_two();
    let mut ff = windowed(fixed, n);
    fft2d(&mut planner, &mut ff, n, n, false);
    let cf = ((fixed.w - 1) as f64 / 2.0, (fixed.h - 1) as f64 / 2.0);
    let cm = ((moving.w - 1) as f64 / 2.0, (moving.h - 1) as f64 / 2.0);
    let max_shift = params.max_shift * (1.0 + params.fm_bounds_margin) * fixed.w as f64;
    let mut out = Vec::new();
    for (rot, scale) in rotation_scale(&mut planner, fixed, moving, params) {
        let m0 = compose(
            &translation(cf.0, cf.1),
            &compose(
                &similarity(scale, rot, 0.0, 0.0),
                &translation(-cm.0, -cm.1),
            ),
        );
        let mean = moving.mean();
        let centred = Plane {
            w: moving.w,
            h: moving.h,
            data: moving.data.iter().map(|v| v - mean).collect(),
        };
        let warped = warp_plane(&centred, &m0, fixed.w, fixed.h);
        let mut fw = windowed(&warped, n);
        fft2d(&mut planner, &mut fw, n, n, false);
        let surf = phase_surface(&mut planner, &fw, &ff, n, n);
        for p in peaks(&surf, n, n, params.fm_shift_candidates, |dx, dy| {
            dx.hypot(dy) <= max_shift
        }) {
            out.push(Candidate {
                matrix: compose(&translation(p.dx, p.dy), &m0),
                peak: p.value,
            });
        }
    }
    out.sort_by(|a, b| b.peak.total_cmp(&a.peak));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::pyramid::{Plane, gradient_magnitude};
    use crate::synth::{Scene, Shot, View, render, shot_to_shot};

    #[test]
    fn recovers_similarity_on_synthetic_pair() {
        let scene = Scene::new(View::Top, 3);
        let a = Shot::reference(&scene, 256);
        let b = Shot::moved(&scene, 256, 192, 10.0, 1.15, [0.05, -0.03]);
        let fa = gradient_magnitude(&Plane::from_rgb(&render(&scene, &a)));
        let fb = gradient_magnitude(&Plane::from_rgb(&render(&scene, &b)));
        let truth = shot_to_shot(&b, &a);
        let cands = candidates(&fa, &fb, &AlignParams::default());
        for c in &cands {
            eprintln!(
                "{:?} peak {:.3} sr {:?}",
                c.matrix,
                c.peak,
                crate::align::scale_rotation(&c.matrix)
            );
        }
        eprintln!(
            "truth {:?} sr {:?}",
            truth,
            crate::align::scale_rotation(&truth)
        );
        let best = &cands[0].matrix;
        let p = crate::align::apply(best, [100.0, 80.0]);
        let q = crate::align::apply(&truth, [100.0, 80.0]);
        assert!((p[0] - q[0]).hypot(p[1] - q[1]) < 3.0, "{p:?} vs {q:?}");
    }
}
