//! Sub-pixel refinement: robust inverse-compositional Lucas–Kanade (the Gauss–Newton form of
//! ECC on locally normalised planes) with a similarity or affine model. Per-pixel Tukey weights
//! with a MAD scale make changed content (pigment dots, hair) stop pulling the estimate.

use super::matrix::{compose, invert};
use super::pyramid::{Plane, gradients};
use super::{AlignParams, Matrix, Model};

/// Template side of one pyramid level: the fixed plane and its gradients.
pub struct Template {
    pub t: Plane,
    pub gx: Plane,
    pub gy: Plane,
}

impl Template {
    #[must_use]
    pub fn new(t: Plane) -> Self {
        let (gx, gy) = gradients(&t);
        Self { t, gx, gy }
    }
}

/// What one refinement run did.
#[derive(Clone, Copy, Debug, Default)]
pub struct RefineStats {
    pub iterations: usize,
    /// Fraction of overlapping samples that kept a non-zero robust weight.
    pub inlier_fraction: f64,
    /// Fraction of the template's samples that land inside the moving plane.
    pub overlap: f64,
    /// Robust residual scale (MAD sigma) at the last iteration.
    pub sigma: f64,
}

struct Frame {
    cx: f64,
    cy: f64,
    l: f64,
}

impl Frame {
    /// Parameter increment -> fixed-frame pixel warp (centred, scaled coordinates for conditioning).
    fn delta(&self, p: &[f64; 6], model: Model) -> Matrix {
        let lin = match model {
            Model::Similarity => [[1.0 + p[0], -p[1]], [p[1], 1.0 + p[0]]],
            Model::Affine => [[1.0 + p[0], p[1]], [p[3], 1.0 + p[4]]],
        };
        let (tx, ty) = match model {
            Model::Similarity => (p[2], p[3]),
            Model::Affine => (p[2], p[5]),
        };
        let norm = [
            [lin[0][0], lin[0][1], tx * self.l],
            [lin[1][0], lin[1][1], ty * self.l],
        ];
        let to_c = [[1.0, 0.0, -self.cx], [0.0, 1.0, -self.cy]];
        let from_c = [[1.0, 0.0, self.cx], [0.0, 1.0, self.cy]];
        compose(&from_c, &compose(&norm, &to_c))
    }
}

/// Residuals of the current warp over the sample grid: (x, y, r) for samples inside `moving`.
fn residuals(
    tpl: &Template,
    moving: &Plane,
    w: &Matrix,
    stride: usize,
    margin: usize,
) -> (Vec<(u32, u32, f32)>, usize) {
    let t = &tpl.t;
    let mut out = Vec::with_capacity(t.w * t.h / (stride * stride) + 1);
    let mut total = 0;
    for y in (margin..t.h.saturating_sub(margin)).step_by(stride) {
        let (bx, by) = (w[0][1] * y as f64 + w[0][2], w[1][1] * y as f64 + w[1][2]);
        for x in (margin..t.w.saturating_sub(margin)).step_by(stride) {
            total += 1;
            let sx = (w[0][0] * x as f64 + bx) as f32;
            let sy = (w[1][0] * x as f64 + by) as f32;
            if let Some(v) = moving.sample(sx, sy) {
                out.push((x as u32, y as u32, v - t.at(x, y)));
            }
        }
    }
    (out, total)
}

/// Robust residual scale: 1.4826 x median |r| on a subsample.
fn mad_sigma(res: &[(u32, u32, f32)], floor: f64) -> f64 {
    let step = (res.len() / 20_000).max(1);
    let mut a: Vec<f32> = res.iter().step_by(step).map(|r| r.2.abs()).collect();
    if a.is_empty() {
        return floor;
    }
    let mid = a.len() / 2;
    let (_, m, _) = a.select_nth_unstable_by(mid, f32::total_cmp);
    (1.4826 * f64::from(*m)).max(floor)
}

/// Index loops mirror the maths of the normal equations (clippy's iterator form obscures it).
#[allow(clippy::needless_range_loop)]
/// One Gauss–Newton step: solves the weighted normal equations; returns the increment and the
/// inlier count.
fn step(
    tpl: &Template,
    res: &[(u32, u32, f32)],
    frame: &Frame,
    model: Model,
    c: f64,
) -> Option<([f64; 6], usize)> {
    let n = match model {
        Model::Similarity => 4,
        Model::Affine => 6,
    };
    let mut h = [[0.0f64; 6]; 6];
    let mut b = [0.0f64; 6];
    let mut inliers = 0;
    let inv_c2 = 1.0 / (c * c);
    for &(x, y, r) in res {
        let r = f64::from(r);
        let q = r * r * inv_c2;
        if q >= 1.0 {
            continue;
        }
        inliers += 1;
        let wgt = (1.0 - q) * (1.0 - q);
        let i = y as usize * tpl.t.w + x as usize;
        // Pixel displacement per parameter is L times the centred-unit derivative.
        let (gx, gy) = (
            f64::from(tpl.gx.data[i]) * frame.l,
            f64::from(tpl.gy.data[i]) * frame.l,
        );
        let (u, v) = (
            (f64::from(x) - frame.cx) / frame.l,
            (f64::from(y) - frame.cy) / frame.l,
        );
        let j = match model {
            Model::Similarity => [gx * u + gy * v, gy * u - gx * v, gx, gy, 0.0, 0.0],
            Model::Affine => [gx * u, gx * v, gx, gy * u, gy * v, gy],
        };
        for a in 0..n {
            b[a] += wgt * j[a] * r;
            for bb in a..n {
                h[a][bb] += wgt * j[a] * j[bb];
            }
        }
    }
    for a in 0..n {
        for bb in 0..a {
            h[a][bb] = h[bb][a];
        }
    }
    solve(&mut h, &mut b, n).map(|d| (d, inliers))
}

#[allow(clippy::needless_range_loop)]
/// Gaussian elimination with partial pivoting on the leading n x n block.
fn solve(h: &mut [[f64; 6]; 6], b: &mut [f64; 6], n: usize) -> Option<[f64; 6]> {
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| h[i][col].abs().total_cmp(&h[j][col].abs()))?;
        if h[piv][col].abs() < 1e-12 {
            return None;
        }
        h.swap(col, piv);
        b.swap(col, piv);
        for row in col + 1..n {
            let f = h[row][col] / h[col][col];
            for k in col..n {
                h[row][k] -= f * h[col][k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 6];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| h[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / h[row][row];
    }
    Some(x)
}

/// Refine moving->fixed matrix `m` on one level. `stride` subsamples the template grid.
#[must_use]
pub fn refine(
    tpl: &Template,
    moving: &Plane,
    m: &Matrix,
    model: Model,
    stride: usize,
    max_iter: usize,
    params: &AlignParams,
) -> (Matrix, RefineStats) {
    let Some(mut w) = invert(m) else {
        return (*m, RefineStats::default());
    };
    let frame = Frame {
        cx: (tpl.t.w - 1) as f64 / 2.0,
        cy: (tpl.t.h - 1) as f64 / 2.0,
        l: tpl.t.w.max(tpl.t.h) as f64 / 2.0,
    };
    let mut stats = RefineStats::default();
    for it in 0..max_iter {
        let (res, total) = residuals(tpl, moving, &w, stride, 1);
        let sigma = mad_sigma(&res, params.ecc_sigma_floor);
        stats.overlap = res.len() as f64 / total.max(1) as f64;
        stats.sigma = sigma;
        stats.iterations = it + 1;
        if res.len() < params.ecc_min_samples {
            break;
        }
        let Some((dp, inliers)) = step(tpl, &res, &frame, model, params.ecc_tukey_c * sigma) else {
            break;
        };
        stats.inlier_fraction = inliers as f64 / res.len() as f64;
        let dw = frame.delta(&dp, model);
        let Some(dw_inv) = invert(&dw) else { break };
        w = compose(&w, &dw_inv);
        let moved = corner_motion(&dw, tpl.t.w, tpl.t.h);
        if moved < params.ecc_epsilon_px {
            break;
        }
    }
    (invert(&w).unwrap_or(*m), stats)
}

/// Largest displacement of the frame corners under an increment (convergence test in pixels).
fn corner_motion(dw: &Matrix, w: usize, h: usize) -> f64 {
    let pts = [
        [0.0, 0.0],
        [w as f64, 0.0],
        [0.0, h as f64],
        [w as f64, h as f64],
    ];
    pts.iter()
        .map(|p| {
            let q = super::matrix::apply(dw, *p);
            (q[0] - p[0]).hypot(q[1] - p[1])
        })
        .fold(0.0, f64::max)
}
