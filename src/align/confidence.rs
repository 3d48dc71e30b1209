//! Match confidence: tile-wise normalised cross-correlation of the locally normalised planes
//! after alignment. Changed tiles (the treatment) score low but only lower a quantile, while an
//! unrelated pair scores near zero everywhere.

use super::pyramid::Plane;
use super::{AlignParams, Matrix};

/// Tile NCC summary over the overlap.
#[derive(Clone, Debug, Default)]
pub struct Agreement {
    /// Tile NCC at `conf_tile_quantile` over the tiles that are mostly covered.
    pub tile_ncc: f64,
    /// Fraction of the fixed frame covered by the warped moving image.
    pub overlap: f64,
}

/// Tile-wise NCC of `fixed` and `moving` warped by moving->fixed `m`.
#[must_use]
pub fn agreement(fixed: &Plane, moving: &Plane, m: &Matrix, params: &AlignParams) -> Agreement {
    let Some(w) = super::matrix::invert(m) else {
        return Agreement::default();
    };
    let n = params.conf_tiles.max(1);
    let tile_w = fixed.w.div_ceil(n);
    let tile_h = fixed.h.div_ceil(n);
    // Per tile: count, sum a, sum b, sum aa, sum bb, sum ab.
    let mut acc = vec![[0.0f64; 6]; n * n];
    let mut covered = 0usize;
    for y in 0..fixed.h {
        let (bx, by) = (w[0][1] * y as f64 + w[0][2], w[1][1] * y as f64 + w[1][2]);
        for x in 0..fixed.w {
            let sx = (w[0][0] * x as f64 + bx) as f32;
            let sy = (w[1][0] * x as f64 + by) as f32;
            let Some(b) = moving.sample(sx, sy) else {
                continue;
            };
            covered += 1;
            let a = f64::from(fixed.at(x, y));
            let b = f64::from(b);
            add_to_sums(&mut acc[(y / tile_h) * n + x / tile_w], a, b);
        }
    }
    let full = (tile_w * tile_h) as f64;
    let mut nccs: Vec<f64> = acc
        .iter()
        .filter(|t| t[0] >= params.conf_tile_coverage * full)
        .map(ncc_of_sums)
        .collect();
    nccs.sort_by(f64::total_cmp);
    let tile_ncc = if nccs.is_empty() {
        0.0
    } else {
        let i = ((nccs.len() - 1) as f64 * params.conf_tile_quantile).round() as usize;
        nccs[i]
    };
    Agreement {
        tile_ncc,
        overlap: covered as f64 / (fixed.w * fixed.h).max(1) as f64,
    }
}

/// Add the pair `(a, b)` to the sums that [`ncc_of_sums`] reads.
pub fn add_to_sums(t: &mut [f64; 6], a: f64, b: f64) {
    t[0] += 1.0;
    t[1] += a;
    t[2] += b;
    t[3] += a * a;
    t[4] += b * b;
    t[5] += a * b;
}

/// Normalised cross-correlation from the sums `[n, Σa, Σb, Σa², Σb², Σab]` of two samples
/// (0 when either is flat).
#[must_use]
pub fn ncc_of_sums(t: &[f64; 6]) -> f64 {
    let k = t[0];
    let va = t[3] - t[1] * t[1] / k;
    let vb = t[4] - t[2] * t[2] / k;
    let cov = t[5] - t[1] * t[2] / k;
    if va > 1e-9 && vb > 1e-9 {
        cov / (va * vb).sqrt()
    } else {
        0.0
    }
}

/// Map agreement to a confidence in [0, 1].
#[must_use]
pub fn confidence(a: &Agreement, params: &AlignParams) -> f64 {
    let span = (params.conf_ncc_full - params.conf_ncc_zero).max(1e-9);
    let ncc = ((a.tile_ncc - params.conf_ncc_zero) / span).clamp(0.0, 1.0);
    let overlap = (a.overlap / params.conf_min_overlap.max(1e-9)).clamp(0.0, 1.0);
    ncc * overlap
}
