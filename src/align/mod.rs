//! Registration of an "after" photo onto a "before" photo.
//!
//! Pipeline (all pure): grey pyramids -> Fourier–Mellin on gradient magnitude (rotation, scale,
//! then translation; several ranked hypotheses plus identity) -> each hypothesis refined briefly
//! at the coarsest level by robust inverse-compositional LK on locally normalised planes and
//! scored by tile NCC -> the best one refined down the pyramid -> confidence from tile NCC and
//! overlap. Matrices map pixel (x, y) of the MOVING image to the FIXED image, pixel centres at
//! integer coordinates.

pub mod baseline;
mod confidence;
mod ecc;
mod fft;
mod fourier_mellin;
mod matrix;
mod params;
pub(crate) mod pyramid;
mod warp;

pub use confidence::{add_to_sums, ncc_of_sums};
pub use matrix::{
    apply, compose, fit_landmarks, identity, invert, rescale, rescale_xy, scale_rotation,
    similarity,
};
pub use params::AlignParams;
pub use pyramid::{Plane, luma};
pub use warp::{common_crop, coverage_mask, warp};

use crate::flags::{Code, Finding};
use ecc::Template;

/// 2x3 affine matrix, moving pixel -> fixed pixel.
pub type Matrix = [[f64; 3]; 2];

/// Geometric model fitted by the refinement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    Similarity,
    Affine,
}

/// Result of [`estimate`]: the transform and what the estimator knows about it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Estimate {
    pub matrix: Matrix,
    /// In [0, 1]; compare with `AlignParams::min_confidence`.
    pub confidence: f64,
    /// Which hypothesis won, e.g. "fourier-mellin+ecc".
    pub method: String,
    /// Fraction of overlapping samples that kept a robust weight at the finest level.
    pub inlier_fraction: f64,
    /// Tile NCC quantile behind the confidence.
    pub tile_ncc: f64,
    /// Fraction of the fixed frame covered by the moving image.
    pub overlap: f64,
    /// Moving image size (working resolution), so reviews can measure the centre shift.
    pub moving_size: (u32, u32),
    /// Number of coarse hypotheses that were refined and scored.
    pub hypotheses: usize,
}

/// Per-level planes; the locally normalised ones are computed on first use and kept.
struct Levels<'p> {
    fixed: Vec<Plane>,
    moving: Vec<Plane>,
    norm: Vec<Option<(Template, Plane)>>,
    params: &'p AlignParams,
}

impl<'p> Levels<'p> {
    fn new(fixed: &image::RgbImage, moving: &image::RgbImage, params: &'p AlignParams) -> Self {
        let levels = params.pyramid_levels.max(1) as usize;
        let (mut f, mut m) = (
            pyramid::build(fixed, levels),
            pyramid::build(moving, levels),
        );
        let n = f.len().min(m.len());
        f.truncate(n);
        m.truncate(n);
        Self {
            fixed: f,
            moving: m,
            norm: (0..n).map(|_| None).collect(),
            params,
        }
    }

    fn coarse(&self) -> usize {
        self.fixed.len() - 1
    }

    fn normalised(&mut self, l: usize) -> &(Template, Plane) {
        let (f, m, p) = (&self.fixed[l], &self.moving[l], self.params);
        self.norm[l].get_or_insert_with(|| {
            let f = pyramid::local_normalise(f, p.norm_radius, p.norm_eps);
            (
                Template::new(f),
                pyramid::local_normalise(m, p.norm_radius, p.norm_eps),
            )
        })
    }
}

/// Level-`to` matrix from a level-`from` matrix (each level halves the previous one).
fn to_level(m: &Matrix, from: usize, to: usize) -> Matrix {
    let s = 2f64.powi(to as i32 - from as i32);
    rescale(m, s, s)
}

/// Coarse hypotheses (level-0 matrices): Fourier–Mellin candidates plus the identity.
fn hypotheses(lv: &Levels, fm_level: usize) -> Vec<(Matrix, &'static str)> {
    let gf = pyramid::gradient_magnitude(&lv.fixed[fm_level]);
    let gm = pyramid::gradient_magnitude(&lv.moving[fm_level]);
    let mut hyps: Vec<(Matrix, &str)> = fourier_mellin::candidates(&gf, &gm, lv.params)
        .into_iter()
        .map(|c| (to_level(&c.matrix, fm_level, 0), "fourier-mellin+ecc"))
        .collect();
    hyps.push((identity(), "identity+ecc"));
    hyps
}

/// Rank hypotheses by tile agreement at the coarsest level as they are, then refine them briefly
/// in that order and keep the best; stop early once one agrees clearly (saves most of the time).
fn screen(lv: &mut Levels, hyps: &[(Matrix, &'static str)]) -> (f64, Matrix, &'static str) {
    let coarse = lv.coarse();
    let p = lv.params;
    let (tpl, mov) = lv.normalised(coarse);
    let mut ranked: Vec<(f64, Matrix, &str)> = hyps
        .iter()
        .map(|(m0, method)| {
            let m = to_level(m0, 0, coarse);
            (
                confidence::agreement(&tpl.t, mov, &m, p).tile_ncc,
                m,
                *method,
            )
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut best: Option<(f64, Matrix, &str)> = None;
    for (_, m, method) in ranked.iter().take(p.screen_hypotheses.max(1)) {
        let it = p.ecc_screen_iterations;
        let (m, _) = ecc::refine(tpl, mov, m, Model::Similarity, 1, it, p);
        let score = confidence::agreement(&tpl.t, mov, &m, p).tile_ncc;
        if best.as_ref().is_none_or(|b| score > b.0) {
            best = Some((score, m, method));
        }
        if score >= p.screen_accept_ncc {
            break;
        }
    }
    best.map_or((0.0, identity(), "identity"), |b| {
        (b.0, to_level(&b.1, coarse, 0), b.2)
    })
}

/// Best coarse hypothesis (level-0 matrix), its method and how many hypotheses were scored.
fn coarse_estimate(lv: &mut Levels, fm_level: usize) -> (Matrix, &'static str, usize) {
    let hyps = hypotheses(lv, fm_level);
    let (score, m0, method) = screen(lv, &hyps);
    if score >= lv.params.feature_fallback_below {
        return (m0, method, hyps.len());
    }
    // Fourier–Mellin found nothing convincing (little overlap, strong zoom): try a feature match
    // as one more hypothesis. Only here, because it costs more than everything else together.
    let hyp = feature_hypothesis(lv);
    let (s, m, _) = screen(lv, &[(hyp, "features+ecc")]);
    if s > score {
        (m, "features+ecc", hyps.len() + 1)
    } else {
        (m0, method, hyps.len() + 1)
    }
}

/// ORB-like feature match on the half-resolution grey planes, as a level-0 matrix.
fn feature_hypothesis(lv: &Levels) -> Matrix {
    let l = (lv.params.feature_level as usize).min(lv.coarse());
    let gray = |p: &Plane| {
        let data = p
            .data
            .iter()
            .map(|v| v.round().clamp(0.0, 255.0) as u8)
            .collect();
        image::GrayImage::from_raw(p.w as u32, p.h as u32, data).unwrap_or_default()
    };
    let (m, _, _) = baseline::match_gray(&gray(&lv.fixed[l]), &gray(&lv.moving[l]));
    to_level(&m, l, 0)
}

/// Refine a level-0 matrix from the coarsest level down to `params.finest_level`.
fn refine_down(lv: &mut Levels, mut m0: Matrix) -> (Matrix, ecc::RefineStats) {
    let (coarse, p) = (lv.coarse(), lv.params);
    let finest = (p.finest_level as usize).min(coarse);
    let mut stats = ecc::RefineStats::default();
    for l in (finest..=coarse).rev() {
        let (tpl, mov) = lv.normalised(l);
        let model = if l == coarse {
            Model::Similarity
        } else {
            p.model
        };
        let stride = if l == finest { p.ecc_finest_stride } else { 1 };
        let (m, s) = ecc::refine(
            tpl,
            mov,
            &to_level(&m0, 0, l),
            model,
            stride,
            p.ecc_iterations,
            p,
        );
        m0 = to_level(&m, l, 0);
        stats = s;
    }
    (m0, stats)
}

/// Estimate the moving->fixed transform. Both images at working resolution (same long side).
#[must_use]
pub fn estimate(
    fixed: &image::RgbImage,
    moving: &image::RgbImage,
    params: &AlignParams,
) -> Estimate {
    if too_small(fixed, moving, params) {
        return unregistered(moving);
    }
    let mut lv = Levels::new(fixed, moving, params);
    let coarse = lv.coarse();
    let fm_level = (0..=coarse)
        .find(|&l| lv.fixed[l].w.max(lv.fixed[l].h) <= params.fm_size as usize)
        .unwrap_or(coarse);
    let (m0, method, n_hyps) = coarse_estimate(&mut lv, fm_level);
    let (matrix, stats) = refine_down(&mut lv, m0);
    let agree = agreement_at_finest(&mut lv, &matrix, params);
    Estimate {
        matrix,
        confidence: confidence::confidence(&agree, params),
        method: method.to_string(),
        inlier_fraction: stats.inlier_fraction,
        tile_ncc: agree.tile_ncc,
        overlap: agree.overlap,
        moving_size: moving.dimensions(),
        hypotheses: n_hyps,
    }
}

/// The confidence [`estimate`] would give `matrix` (moving -> fixed, working resolution)
/// without moving it: the same tile NCC at the same pyramid level, so a transform given by hand
/// is judged by the measure the automatic alignment is. The treated area only lowers a
/// quantile of the tiles; photos of two different scenes score near zero everywhere.
#[must_use]
pub fn confidence_of(
    fixed: &image::RgbImage,
    moving: &image::RgbImage,
    matrix: &Matrix,
    params: &AlignParams,
) -> f64 {
    if too_small(fixed, moving, params) {
        return 0.0;
    }
    let mut lv = Levels::new(fixed, moving, params);
    let agree = agreement_at_finest(&mut lv, matrix, params);
    confidence::confidence(&agree, params)
}

/// Whether either photo's short side is under `min_side`: too small to register or to judge.
fn too_small(fixed: &image::RgbImage, moving: &image::RgbImage, params: &AlignParams) -> bool {
    let shortest = [fixed.dimensions(), moving.dimensions()]
        .iter()
        .map(|&(w, h)| w.min(h))
        .min()
        .unwrap_or(0);
    shortest < params.min_side.max(1)
}

/// How well `matrix` (moving -> fixed, level 0) lines the photos up, measured at the finest
/// refined level: fine texture (hair, follicles) is specific to the pair, while coarse shapes
/// (hairline, brows) are shared by unrelated heads.
fn agreement_at_finest(
    lv: &mut Levels,
    matrix: &Matrix,
    params: &AlignParams,
) -> confidence::Agreement {
    let level = (params.finest_level as usize).min(lv.coarse());
    let (tpl, mov) = lv.normalised(level);
    confidence::agreement(&tpl.t, mov, &to_level(matrix, 0, level), params)
}

/// How far `points` are spread over a `size` photo: the area of the largest triangle three of
/// them span, as a fraction of the photo's area (0 with fewer than three).
#[must_use]
pub fn point_spread(points: &[[f64; 2]], size: [f64; 2]) -> f64 {
    let mut best = 0.0f64;
    for (i, a) in points.iter().enumerate() {
        for (j, b) in points.iter().enumerate().skip(i + 1) {
            for c in points.iter().skip(j + 1) {
                let cross = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
                best = best.max(cross.abs() / 2.0);
            }
        }
    }
    best / (size[0] * size[1]).max(1.0)
}

/// The estimate for photos too small to register: the identity, with no confidence.
fn unregistered(moving: &image::RgbImage) -> Estimate {
    Estimate {
        matrix: identity(),
        confidence: 0.0,
        method: "none (photo too small to register)".into(),
        inlier_fraction: 0.0,
        tile_ncc: 0.0,
        overlap: 0.0,
        moving_size: moving.dimensions(),
        hypotheses: 0,
    }
}

/// What is wrong with the estimate, as `framing` or `mismatch` findings with what to do (empty = fine).
#[must_use]
pub fn review_findings(
    est: &Estimate,
    fixed_size: (u32, u32),
    params: &AlignParams,
) -> Vec<Finding> {
    const MANUAL: &str = "or give the alignment by hand in case.toml [[align]]";
    let m = &est.matrix;
    if !m.iter().flatten().all(|v| v.is_finite()) || invert(m).is_none() {
        return vec![Finding::new(
            Code::Mismatch,
            format!(
                "transform is degenerate (not invertible): check that both photos show the same area, {MANUAL}"
            ),
        )];
    }
    let mut out = Vec::new();
    let (scale, rot) = scale_rotation(m);
    let retake = "retake it framed like the before photo";
    if rot.abs() > params.max_rotation_deg {
        out.push(format!(
            "rotation {rot:.1}° exceeds ±{:.1}°",
            params.max_rotation_deg
        ));
    }
    if scale < params.min_scale || scale > params.max_scale {
        out.push(format!(
            "framing scale {scale:.3} outside {:.2}–{:.2}",
            params.min_scale, params.max_scale
        ));
    }
    let shift = centre_shift(est, fixed_size);
    if shift > params.max_shift {
        out.push(format!(
            "centre shift {:.0}% of the width exceeds {:.0}%",
            shift * 100.0,
            params.max_shift * 100.0
        ));
    }
    let aniso = anisotropy(m);
    if aniso > params.max_anisotropy {
        out.push(format!(
            "shear/stretch {aniso:.3} exceeds {:.3}",
            params.max_anisotropy
        ));
    }
    let mut findings: Vec<Finding> = out
        .into_iter()
        .map(|what| Finding::new(Code::Framing, format!("{what}: {retake}, {MANUAL}")))
        .collect();
    if est.confidence < params.min_confidence {
        findings.push(Finding::new(
            Code::Mismatch,
            format!(
                "confidence {:.2} below {:.2}: the photos may not show the same area; check which photo is which, {MANUAL}",
                est.confidence, params.min_confidence
            ),
        ));
    }
    findings
}

/// Camera shift: where the fixed frame's centre appears in the moving image, relative to the
/// moving centre (independent of the zoom), in fixed widths.
fn centre_shift(est: &Estimate, fixed_size: (u32, u32)) -> f64 {
    let m = &est.matrix;
    let (mw, mh) = est.moving_size;
    let (fw, fh) = (f64::from(fixed_size.0), f64::from(fixed_size.1));
    let c = apply(
        &invert(m).unwrap_or(*m),
        [(fw - 1.0) / 2.0, (fh - 1.0) / 2.0],
    );
    (c[0] - (f64::from(mw) - 1.0) / 2.0).hypot(c[1] - (f64::from(mh) - 1.0) / 2.0) / fw.max(1.0)
}

/// Ratio of the singular values of the linear part (1 for a similarity).
fn anisotropy(m: &Matrix) -> f64 {
    let (a, b, c, d) = (m[0][0], m[0][1], m[1][0], m[1][1]);
    let e = (a * a + b * b + c * c + d * d) / 2.0;
    let det = (a * d - b * c).abs();
    let disc = (e * e - det * det).max(0.0).sqrt();
    let (s1, s2) = ((e + disc).sqrt(), (e - disc).max(0.0).sqrt());
    if s2 > 1e-12 { s1 / s2 } else { f64::INFINITY }
}
