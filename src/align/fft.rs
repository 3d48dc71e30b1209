//! Small 2-D FFT helpers on top of rustfft and phase correlation with sub-pixel peaks.

use rustfft::{FftPlanner, num_complex::Complex};

pub type C32 = Complex<f32>;

/// In-place 2-D FFT of a `rows x cols` row-major buffer (row FFTs, transpose, row FFTs,
/// transpose back: contiguous passes are much faster than strided column FFTs).
pub fn fft2d(
    planner: &mut FftPlanner<f32>,
    data: &mut [C32],
    rows: usize,
    cols: usize,
    inverse: bool,
) {
    let plan = |p: &mut FftPlanner<f32>, n| {
        if inverse {
            p.plan_fft_inverse(n)
        } else {
            p.plan_fft_forward(n)
        }
    };
    plan(planner, cols).process(data);
    let mut t = transpose(data, rows, cols);
    plan(planner, rows).process(&mut t);
    data.copy_from_slice(&transpose(&t, cols, rows));
}

/// Blocked transpose of a `rows x cols` matrix.
fn transpose(src: &[C32], rows: usize, cols: usize) -> Vec<C32> {
    const B: usize = 16;
    let mut out = vec![C32::new(0.0, 0.0); src.len()];
    for r0 in (0..rows).step_by(B) {
        for c0 in (0..cols).step_by(B) {
            for r in r0..(r0 + B).min(rows) {
                for c in c0..(c0 + B).min(cols) {
                    out[c * rows + r] = src[r * cols + c];
                }
            }
        }
    }
    out
}

/// A correlation peak: shift (dx, dy) with `b(u) ~ a(u - shift)`, and its height.
#[derive(Clone, Copy, Debug)]
pub struct Peak {
    pub dx: f64,
    pub dy: f64,
    pub value: f64,
}

/// Normalised cross-power spectrum of two spectra, inverse transformed: the phase-correlation
/// surface (real part), whose peak at (dx, dy) means `b(u) ~ a(u - d)`.
#[must_use]
pub fn phase_surface(
    planner: &mut FftPlanner<f32>,
    fa: &[C32],
    fb: &[C32],
    rows: usize,
    cols: usize,
) -> Vec<f32> {
    let mut cross: Vec<C32> = fa
        .iter()
        .zip(fb)
        .map(|(a, b)| {
            let c = b * a.conj();
            let n = c.norm_sqr().sqrt();
            if n > 1e-12 { c / n } else { C32::new(0.0, 0.0) }
        })
        .collect();
    fft2d(planner, &mut cross, rows, cols, true);
    let scale = 1.0 / (rows * cols) as f32;
    cross.iter().map(|c| c.re * scale).collect()
}

/// Local maxima of a periodic surface, highest first, with sub-pixel (parabolic) refinement.
/// `accept(dx, dy)` filters candidate shifts (already wrapped to (-n/2, n/2]).
pub fn peaks(
    surface: &[f32],
    rows: usize,
    cols: usize,
    k: usize,
    accept: impl Fn(f64, f64) -> bool,
) -> Vec<Peak> {
    let at = |r: isize, c: isize| {
        surface[r.rem_euclid(rows as isize) as usize * cols + c.rem_euclid(cols as isize) as usize]
    };
    let wrap = |v: usize, n: usize| {
        if v > n / 2 {
            v as f64 - n as f64
        } else {
            v as f64
        }
    };
    // Visit samples from the highest down; only the first few can be among the k best maxima.
    let mut order: Vec<usize> = (0..surface.len())
        .filter(|&i| accept(wrap(i % cols, cols), wrap(i / cols, rows)))
        .collect();
    let take = (64 * k).min(order.len());
    if take > 0 && take < order.len() {
        order.select_nth_unstable_by(take, |&a, &b| surface[b].total_cmp(&surface[a]));
    }
    order.truncate(take);
    order.sort_by(|&a, &b| surface[b].total_cmp(&surface[a]));
    let mut found = Vec::new();
    for i in order {
        let (r, c) = (i / cols, i % cols);
        let v = surface[i];
        let (ri, ci) = (r as isize, c as isize);
        let is_max =
            (-1..=1).all(|dr| (-1..=1).all(|dc| (dr == 0 && dc == 0) || at(ri + dr, ci + dc) <= v));
        if !is_max {
            continue;
        }
        let sub = |m: f32, p: f32| {
            let den = m - 2.0 * v + p;
            if den < 0.0 {
                f64::from(0.5 * (m - p) / den).clamp(-0.5, 0.5)
            } else {
                0.0
            }
        };
        let ox = sub(at(ri, ci - 1), at(ri, ci + 1));
        let oy = sub(at(ri - 1, ci), at(ri + 1, ci));
        found.push(Peak {
            dx: wrap(c, cols) + ox,
            dy: wrap(r, rows) + oy,
            value: f64::from(v),
        });
        if found.len() == k {
            break;
        }
    }
    found
}

/// Separable Hann window value for index `i` of `n`.
#[inline]
#[must_use]
pub fn hann(i: usize, n: usize) -> f32 {
    if n < 2 {
        return 1.0;
    }
    let t = i as f32 / (n - 1) as f32;
    0.5 - 0.5 * (2.0 * std::f32::consts::PI * t).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_correlation_finds_integer_shift() {
        let (rows, cols) = (32, 32);
        let pat = |x: usize, y: usize| ((x * 7 + y * 13) % 11) as f32 + ((x * y) % 5) as f32;
        let a: Vec<C32> = (0..rows * cols)
            .map(|i| C32::new(pat(i % cols, i / cols), 0.0))
            .collect();
        // b(u) = a(u - (3, -2))
        let b: Vec<C32> = (0..rows * cols)
            .map(|i| {
                let (x, y) = ((i % cols + cols - 3) % cols, (i / cols + 2) % rows);
                C32::new(pat(x, y), 0.0)
            })
            .collect();
        let mut planner = FftPlanner::new();
        let (mut fa, mut fb) = (a, b);
        fft2d(&mut planner, &mut fa, rows, cols, false);
        fft2d(&mut planner, &mut fb, rows, cols, false);
        let s = phase_surface(&mut planner, &fa, &fb, rows, cols);
        let p = peaks(&s, rows, cols, 1, |_, _| true)[0];
        assert!(
            (p.dx - 3.0).abs() < 0.01 && (p.dy + 2.0).abs() < 0.01,
            "{p:?}"
        );
    }
}
