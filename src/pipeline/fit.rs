//! Fitting a view together: each later stage registered onto the before photo (or fitted by the
//! case's manual landmarks or matrix), its light matched, and the crop every photo covers.
//!
//! Estimation runs on working-resolution copies whose long side is `align.working_size`, so a
//! scale in the working matrix is a framing change, not a resolution change; matrices are then
//! brought back to full resolution for rendering.
//!
//! [`fit_pair`] is the same fit for one pair, public so the registration tests and bench measure
//! exactly what is published.

use crate::align::{self, AlignParams, Matrix};
use crate::casefile::AlignOverride;
use crate::config::{AlignConfig, ReviewConfig, ToneConfig};
use crate::discover::{Stage, View};
use crate::flags::{Code, Finding};
use crate::ingest::Photo;
use crate::manifest::AlignRecord;
use crate::quality;
use crate::render;
use crate::tone::{self, ToneFit, ToneMode, ToneParams};
use image::{GrayImage, RgbImage};
use rayon::prelude::*;

use super::timings::{Stage as Timed, Timings};

/// What fitting a view decided, per stage (index 0 is the before photo).
pub struct ViewFit {
    /// This stage's full-resolution pixels -> the before photo's.
    pub matrices: Vec<Matrix>,
    /// The manifest's `align` record (`None` when alignment is off); its matrix is `matrices[i]`.
    pub align: Vec<Option<AlignRecord>>,
    pub tone: Vec<Option<ToneFit>>,
    /// What registration found wrong, per stage, before the clinic's policy is applied.
    pub findings: Vec<Vec<Finding>>,
    /// `[x, y, w, h]` in before pixels.
    pub crop: [u32; 4],
    /// Per stage: why the alignment given by hand is not believed (see [`hand_check`]). These
    /// hold the stage whatever the clinic's `[quality]` policy or an approval says.
    pub refused: Vec<Option<String>>,
}

/// What fitting applies, resolved once from `[align]`, `[tone]` and `[review]`.
pub struct FitParams {
    /// `[align] enabled`: register each later photo onto the before photo.
    pub align_enabled: bool,
    /// `[align] working_size`: the long side registration and tone fitting work at.
    pub working_size: u32,
    pub align: AlignParams,
    pub tone: ToneParams,
    /// The bars hand-given alignments and crops must meet.
    pub review: ReviewConfig,
}

impl FitParams {
    /// The one place these sections become fitting's parameters.
    #[must_use]
    pub fn resolve(align: &AlignConfig, tone: &ToneConfig, review: &ReviewConfig) -> FitParams {
        FitParams {
            align_enabled: align.enabled,
            working_size: align.working_size,
            align: align.params(),
            tone: tone.params(),
            review: review.clone(),
        }
    }
}

/// A copy at working resolution and its scale (working size / full size, per axis).
pub struct Working {
    pub image: RgbImage,
    pub scale: [f64; 2],
}

/// `image` brought down (never up) so its long side is `long_side`: the copy registration and
/// tone fitting work on.
#[must_use]
pub fn working_copy(image: &RgbImage, long_side: u32) -> Working {
    let (w, h) = image.dimensions();
    let k = f64::from(long_side) / f64::from(w.max(h));
    let (ww, wh) = if k >= 1.0 {
        (w, h)
    } else {
        (
            (f64::from(w) * k).round().max(1.0) as u32,
            (f64::from(h) * k).round().max(1.0) as u32,
        )
    };
    let image = if (ww, wh) == (w, h) {
        image.clone()
    } else {
        render::resize_exact(image, ww, wh)
    };
    Working {
        image,
        scale: [f64::from(ww) / f64::from(w), f64::from(wh) / f64::from(h)],
    }
}

/// The long side every working copy of a view is brought to: `working_size`, or the smallest
/// photo's long side when that is smaller, so all copies share one scale of the subject and an
/// estimated scale is a framing change, not a resolution difference (a 504 px before with an
/// 802 px after of the same framing gives scale 1, not 0.63).
pub fn working_side<'a>(images: impl IntoIterator<Item = &'a RgbImage>, working_size: u32) -> u32 {
    images
        .into_iter()
        .map(|i| i.width().max(i.height()))
        .fold(working_size, u32::min)
}

/// A registration estimator on working copies (fixed, moving): ours, [`align::estimate`], or a
/// baseline the registration bench compares it with.
pub type Estimator = fn(&RgbImage, &RgbImage, &AlignParams) -> align::Estimate;

/// One later photo fitted onto the before photo the way [`fit_view`] fits a stage without a
/// manual override, with the working images a harness measures on.
pub struct PairFit {
    /// The estimator's answer at working resolution.
    pub estimate: align::Estimate,
    /// The after photo's full-resolution pixels -> the before photo's.
    pub matrix: Matrix,
    /// What registration found wrong (framing, mismatch); empty: nothing.
    pub findings: Vec<Finding>,
    /// The before photo at working resolution.
    pub before: RgbImage,
    /// The after photo at working resolution warped into `before`'s frame (not tone matched);
    /// black when the matrix is singular.
    pub warped: RgbImage,
    /// The after photo's working copy, as registered (not warped).
    pub moving: RgbImage,
    /// Where `warped` has pixels of the after photo.
    pub valid: GrayImage,
    /// The after photo's tone fit under the configured mode (`None` when off, or when the matrix
    /// is singular in mode `match_before`).
    pub tone: Option<ToneFit>,
}

/// Fit `after` onto `before` (both full resolution) with `estimator`: working copies, the
/// estimate and its review reasons, the warp, the tone fit. Runs the estimator whatever
/// `align.enabled` says, since registration is what is asked for.
#[must_use]
pub fn fit_pair(
    before: &RgbImage,
    after: &RgbImage,
    cfg: &FitParams,
    estimator: Estimator,
    timings: &Timings,
) -> PairFit {
    let size = working_side([before, after], cfg.working_size);
    let fixed = timings.time(Timed::Resample, || working_copy(before, size));
    let moving = timings.time(Timed::Resample, || working_copy(after, size));
    let (estimate, matrix, findings) =
        estimate_pair(&fixed, &moving, &cfg.align, estimator, timings);
    let params = cfg.tone.clone();
    let (warped, valid, tone) = timings.time(Timed::Tone, || {
        let Some(warp) = warp_working(&fixed, &moving, &matrix) else {
            let (w, h) = fixed.image.dimensions();
            return (RgbImage::new(w, h), GrayImage::new(w, h), None);
        };
        let frame = working_frame(&fixed, &moving, &matrix);
        let tone = stage_tone(&params, &fixed, &moving, Some(&warp), frame.as_ref());
        (warp.0, warp.1, tone)
    });
    PairFit {
        estimate,
        matrix,
        findings,
        before: fixed.image,
        moving: moving.image,
        warped,
        valid,
        tone,
    }
}

/// Run `estimator` on working copies: its estimate, the matrix brought to full resolution, and
/// what registration found wrong.
fn estimate_pair(
    fixed: &Working,
    moving: &Working,
    params: &AlignParams,
    estimator: Estimator,
    timings: &Timings,
) -> (align::Estimate, Matrix, Vec<Finding>) {
    let est = timings.time(Timed::Align, || {
        estimator(&fixed.image, &moving.image, params)
    });
    let full = align::rescale_xy(&est.matrix, moving.scale, fixed.scale);
    let findings = align::review_findings(&est, fixed.image.dimensions(), params);
    (est, full, findings)
}

/// The `moving` working copy warped into `fixed`'s frame by the full-resolution `matrix`, and the
/// mask of the pixels it covers (`None` when the matrix is singular).
fn warp_working(
    fixed: &Working,
    moving: &Working,
    matrix: &Matrix,
) -> Option<(RgbImage, GrayImage)> {
    let m = working_matrix(fixed, moving, matrix);
    let inv = align::invert(&m)?;
    let (w, h) = fixed.image.dimensions();
    let warped = align::warp(&moving.image, &inv, w, h);
    let valid = align::coverage_mask(&m, moving.image.dimensions(), (w, h));
    Some((warped, valid))
}

/// The full-resolution matrix back at working resolution, so manual overrides work too.
fn working_matrix(fixed: &Working, moving: &Working, matrix: &Matrix) -> Matrix {
    align::rescale_xy(
        matrix,
        [1.0 / moving.scale[0], 1.0 / moving.scale[1]],
        [1.0 / fixed.scale[0], 1.0 / fixed.scale[1]],
    )
}

/// Where each pixel of `moving`'s copy warped into `fixed`'s frame lies in the `moving` photo
/// (for the tone fit's lens falloff field).
fn working_frame(fixed: &Working, moving: &Working, matrix: &Matrix) -> Option<tone::Frame> {
    Some(tone::Frame {
        to_after: align::invert(&working_matrix(fixed, moving, matrix))?,
        size: moving.image.dimensions(),
    })
}

pub fn fit_view(
    view: &View,
    photos: &[Photo],
    overrides: &[AlignOverride],
    cfg: &FitParams,
    timings: &Timings,
) -> Result<ViewFit, String> {
    let (bw, bh) = photos[0].pixels.dimensions();
    let n = photos.len();
    let mut fit = ViewFit {
        matrices: vec![align::identity(); n],
        align: vec![None; n],
        tone: vec![None; n],
        findings: vec![Vec::new(); n],
        crop: [0, 0, bw, bh],
        refused: vec![None; n],
    };
    if !cfg.align_enabled {
        for (i, p) in photos.iter().enumerate().skip(1) {
            fit.matrices[i] = fit_to_frame(p.pixels.dimensions(), (bw, bh));
        }
    }
    let needs_working = cfg.align_enabled || cfg.tone.mode != ToneMode::Off;
    if !needs_working {
        return Ok(fit);
    }
    let size = working_side(photos.iter().map(|p| &p.pixels), cfg.working_size);
    let work: Vec<Working> = photos
        .par_iter()
        .map(|p| timings.time(Timed::Resample, || working_copy(&p.pixels, size)))
        .collect();
    if cfg.align_enabled {
        fit.align[0] = Some(AlignRecord::reference());
        for i in 1..n {
            let over = find_override(view, view.stages[i].stage, overrides);
            register(&mut fit, i, &work, over, cfg, timings)?;
        }
        let movings: Vec<_> = (1..n)
            .map(|i| (fit.matrices[i], photos[i].pixels.dimensions()))
            .collect();
        match align::common_crop((bw, bh), &movings, f64::from(bw) / f64::from(bh)) {
            Some(crop) => fit.crop = crop,
            None => fit.findings[n - 1].push(Finding::new(
                Code::Mismatch,
                "the photos share no common region to crop to: check that they show the same area",
            )),
        }
    }
    // Each later stage warped into the before's frame once, for the quality gate and the tone fit.
    let warps = if cfg.align_enabled || cfg.tone.mode == ToneMode::MatchBefore {
        warp_stages(&work, &fit.matrices, timings)
    } else {
        vec![None; n]
    };
    if cfg.align_enabled {
        measure_quality(&mut fit, &work, &warps, timings);
    }
    fit_tone(&mut fit, &work, &warps, &cfg.tone, timings);
    Ok(fit)
}

/// A later stage's working copy warped into the before's frame, with its coverage mask.
type Warp = Option<(RgbImage, GrayImage)>;

/// Every later stage warped into the before's frame (index 0, the before photo, is `None`).
fn warp_stages(work: &[Working], matrices: &[Matrix], timings: &Timings) -> Vec<Warp> {
    (0..work.len())
        .map(|i| {
            let warp = || warp_working(&work[0], &work[i], &matrices[i]);
            if i == 0 {
                None
            } else {
                timings.time(Timed::Resample, warp)
            }
        })
        .collect()
}

/// The quality gate on each later stage: its working copy warped into the before photo's frame
/// (not tone-matched: clipping is judged on the camera's values), measured against the before
/// photo; each fault becomes a finding with what to do.
fn measure_quality(fit: &mut ViewFit, work: &[Working], warps: &[Warp], timings: &Timings) {
    let params = quality::MeasureParams::default();
    let limits = quality::Thresholds::default();
    for (i, warp) in warps.iter().enumerate().skip(1) {
        // A pair that does not register is measured for tilt only (its likeliest cause).
        let registered = !fit.findings[i].iter().any(|f| f.code == Code::Mismatch);
        let aligned = warp.as_ref().filter(|_| registered).map(|(w, v)| (w, v));
        let m = timings.time(Timed::Quality, || {
            quality::measure_pair(&work[0].image, &work[i].image, aligned, &params)
        });
        for fault in quality::faults(&m, &limits) {
            fit.findings[i].push(Finding::new(fault.flag_code(), fault.message(&m, &limits)));
        }
    }
}

/// The manual alignment given in case.toml for this view and stage, if any.
pub(super) fn find_override<'a>(
    view: &View,
    stage: Stage,
    overrides: &'a [AlignOverride],
) -> Option<&'a AlignOverride> {
    overrides.iter().find(|o| {
        let view_matches = o
            .view
            .as_deref()
            .is_none_or(|v| crate::ids::slug(v) == view.name);
        view_matches && o.stage.eq_ignore_ascii_case(&stage.to_string())
    })
}

/// Every `[[align]]` entry must name a stage that exists, so a typo is not silently ignored.
pub fn check_overrides(views: &[View], overrides: &[AlignOverride]) -> Result<(), String> {
    for o in overrides {
        let found = views.iter().any(|v| {
            v.stages
                .iter()
                .skip(1)
                .any(|s| find_override(v, s.stage, std::slice::from_ref(o)).is_some())
        });
        if !found {
            return Err(format!(
                "case.toml [[align]] names view {:?}, stage {:?}, but no later photo of the case has that name",
                o.view.as_deref().unwrap_or("(any)"),
                o.stage
            ));
        }
    }
    Ok(())
}

/// Register stage `i` onto the before photo: the case's manual alignment when given, else the
/// estimator on working copies, checked against the configured bounds.
fn register(
    fit: &mut ViewFit,
    i: usize,
    work: &[Working],
    over: Option<&AlignOverride>,
    cfg: &FitParams,
    timings: &Timings,
) -> Result<(), String> {
    let params = &cfg.align;
    if let Some(o) = over {
        let (m, mut record) = manual(o, params.model)?;
        let confidence = timings.time(Timed::Align, || {
            hand_confidence(&work[0], &work[i], &m, params)
        });
        record.confidence = Some(round(confidence, 3));
        let sizes = [full_size(&work[0]), full_size(&work[i])];
        fit.refused[i] = hand_check(o, confidence, sizes, cfg);
        fit.matrices[i] = m;
        fit.align[i] = Some(record);
        return Ok(());
    }
    let (est, full, findings) = estimate_pair(&work[0], &work[i], params, align::estimate, timings);
    fit.findings[i].extend(findings);
    let (scale, rotation) = align::scale_rotation(&est.matrix);
    fit.matrices[i] = full;
    fit.align[i] = Some(AlignRecord {
        method: est.method,
        model: Some(params.model),
        matrix: full,
        confidence: Some(round(est.confidence, 3)),
        rotation_deg: Some(round(rotation, 3)),
        framing_scale: Some(round(scale, 4)),
        inlier_fraction: Some(round(est.inlier_fraction, 3)),
        overlap: Some(round(est.overlap, 3)),
        working_size: Some(work[0].image.width().max(work[0].image.height())),
        landmark_rms_px: None,
        approved: None,
    });
    Ok(())
}

/// The automatic alignment's confidence measure applied to the full-resolution `matrix` given
/// by hand, on the working copies registration would use.
fn hand_confidence(
    fixed: &Working,
    moving: &Working,
    matrix: &Matrix,
    params: &AlignParams,
) -> f64 {
    let m = align::rescale_xy(matrix, moving.scale, fixed.scale);
    align::confidence_of(&fixed.image, &moving.image, &m, params)
}

/// A working copy's full-resolution size.
fn full_size(w: &Working) -> [f64; 2] {
    let (ww, wh) = w.image.dimensions();
    [f64::from(ww) / w.scale[0], f64::from(wh) / w.scale[1]]
}

/// Staff's words when a hand-given alignment leaves the photos disagreeing.
pub const NOT_LINED_UP: &str = "these photos do not line up outside the treated area: check \
                                that they show the same person and the same view";

/// Staff's words when an approval of photos that agree only weakly lacks `confirmed`.
pub const NEEDS_CONFIRMATION: &str = "the photos line up less well than the automatic check \
     asks: confirm in the review app that they show the same person, the same area, \
     photographed on these dates";

/// Why stage photos aligned by hand (`o`, whose transform scores `confidence`) must not be
/// published: too few or bunched points, photos that do not then agree (`[review]
/// hand_min_confidence`), or an approval of weakly agreeing photos without `confirmed`.
/// `sizes`: the before and the stage photo, full resolution. `None`: it may publish.
fn hand_check(
    o: &AlignOverride,
    confidence: f64,
    sizes: [[f64; 2]; 2],
    cfg: &FitParams,
) -> Option<String> {
    if o.matrix.is_none() {
        if o.landmarks.len() < 3 {
            return Some("place at least three pairs of points, far apart".into());
        }
        let before: Vec<[f64; 2]> = o.landmarks.iter().map(|l| [l[0], l[1]]).collect();
        let later: Vec<[f64; 2]> = o.landmarks.iter().map(|l| [l[2], l[3]]).collect();
        let spread =
            align::point_spread(&before, sizes[0]).min(align::point_spread(&later, sizes[1]));
        if spread < cfg.review.min_point_spread {
            return Some(
                "the points are bunched in one part of the photo: place them far apart, near \
                 the corners of what both photos show"
                    .into(),
            );
        }
    }
    if confidence < cfg.review.hand_bar(cfg.align.min_confidence) {
        return Some(NOT_LINED_UP.into());
    }
    let weak = confidence < cfg.align.min_confidence;
    (weak && o.approved.is_some() && o.confirmed.is_none()).then(|| NEEDS_CONFIRMATION.into())
}

fn round(v: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (v * k).round() / k
}

/// A case.toml `[[align]]` entry as a matrix and its manifest record.
fn manual(o: &AlignOverride, model: align::Model) -> Result<(Matrix, AlignRecord), String> {
    if let Some(m) = o.matrix {
        if align::invert(&m).is_none() {
            return Err(format!(
                "case.toml [[align]] for {}: the matrix is not invertible",
                o.stage
            ));
        }
        let method = if o.approved.is_some() {
            "approved by hand (case.toml)"
        } else {
            "manual matrix (case.toml)"
        };
        let record = AlignRecord {
            method: method.into(),
            matrix: m,
            confidence: None,
            approved: o.approved.clone(),
            ..AlignRecord::reference()
        };
        return Ok((m, record));
    }
    let pairs: Vec<([f64; 2], [f64; 2])> = o
        .landmarks
        .iter()
        .map(|l| ([l[2], l[3]], [l[0], l[1]]))
        .collect();
    let m = align::fit_landmarks(&pairs, model)
        .map_err(|e| format!("case.toml [[align]] for {}: {e}", o.stage))?;
    let rms = (pairs
        .iter()
        .map(|(s, b)| {
            let p = align::apply(&m, *s);
            (p[0] - b[0]).powi(2) + (p[1] - b[1]).powi(2)
        })
        .sum::<f64>()
        / pairs.len() as f64)
        .sqrt();
    let record = AlignRecord {
        method: format!(
            "landmarks (case.toml, {} pairs, least squares)",
            pairs.len()
        ),
        model: Some(model),
        matrix: m,
        confidence: None,
        landmark_rms_px: Some(round(rms, 2)),
        approved: o.approved.clone(),
        ..AlignRecord::reference()
    };
    Ok((m, record))
}

/// Fit the global photometric transform of each stage (mode `match_before`: on aligned working
/// copies, the before photo as reference; `grey_world`: every photo on its own).
fn fit_tone(
    fit: &mut ViewFit,
    work: &[Working],
    warps: &[Warp],
    params: &ToneParams,
    timings: &Timings,
) {
    for i in 0..work.len() {
        // The before photo is the reference, except in grey_world where each stands alone.
        if i == 0 && params.mode != ToneMode::GreyWorld {
            continue;
        }
        let warp = warps[i].as_ref();
        let frame = working_frame(&work[0], &work[i], &fit.matrices[i]);
        fit.tone[i] = timings.time(Timed::Tone, || {
            stage_tone(params, &work[0], &work[i], warp, frame.as_ref())
        });
        if let Some(message) = fit.tone[i].as_ref().and_then(|t| t.review_message(params)) {
            fit.findings[i].push(Finding::new(Code::Tone, message));
        }
    }
}

/// One stage's tone fit under `params.mode`: nothing (`off`), its own grey world, or matched to
/// the before photo on `warp` (its copy warped into the before's frame; `None`: singular).
fn stage_tone(
    params: &ToneParams,
    fixed: &Working,
    moving: &Working,
    warp: Option<&(RgbImage, GrayImage)>,
    frame: Option<&tone::Frame>,
) -> Option<ToneFit> {
    match params.mode {
        ToneMode::Off => None,
        ToneMode::GreyWorld => Some(tone::fit_neutral(&moving.image, params)),
        ToneMode::MatchBefore => {
            warp.map(|(w, v)| tone::fit_framed(&fixed.image, w, v, frame, params))
        }
    }
}

/// Scale a `size` photo to cover the `frame` and centre it: the matrix from its pixels to the
/// frame's (pixel centres at integer coordinates). Used when alignment is off.
pub fn fit_to_frame(size: (u32, u32), frame: (u32, u32)) -> Matrix {
    let (w, h) = (f64::from(size.0), f64::from(size.1));
    let (fw, fh) = (f64::from(frame.0), f64::from(frame.1));
    let s = (fw / w).max(fh / h);
    let ox = (fw - s * w) / 2.0;
    let oy = (fh - s * h) / 2.0;
    [[s, 0.0, ox + 0.5 * s - 0.5], [0.0, s, oy + 0.5 * s - 0.5]]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit_params() -> FitParams {
        let c = crate::config::Config::defaults();
        FitParams::resolve(&c.align, &c.tone, &c.review)
    }

    fn approval(confirmed: Option<&str>) -> AlignOverride {
        AlignOverride {
            view: None,
            stage: "after".into(),
            landmarks: Vec::new(),
            matrix: Some(align::identity()),
            approved: Some("2026-05-01T10:00:00Z".into()),
            before_hash: None,
            photo_hash: None,
            confirmed: confirmed.map(str::to_owned),
        }
    }

    #[test]
    fn a_hand_alignment_below_the_hand_bar_is_refused_confirmed_or_not() {
        let cfg = fit_params();
        let size = [[800.0, 600.0]; 2];
        let low = cfg.review.hand_min_confidence - 0.01;
        let confirmed = approval(Some("same person, same area"));
        assert_eq!(
            hand_check(&confirmed, low, size, &cfg).as_deref(),
            Some(NOT_LINED_UP)
        );
        let mut typed = approval(None);
        typed.approved = None;
        assert_eq!(
            hand_check(&typed, low, size, &cfg).as_deref(),
            Some(NOT_LINED_UP)
        );
        assert_eq!(
            hand_check(&typed, cfg.review.hand_min_confidence, size, &cfg),
            None
        );
    }

    #[test]
    fn an_approval_between_the_bars_needs_confirmed() {
        let cfg = fit_params();
        let size = [[800.0, 600.0]; 2];
        let between = f64::midpoint(cfg.review.hand_min_confidence, cfg.align.min_confidence);
        let unconfirmed = hand_check(&approval(None), between, size, &cfg);
        assert_eq!(unconfirmed.as_deref(), Some(NEEDS_CONFIRMATION));
        let confirmed = approval(Some("same person, same area"));
        assert_eq!(hand_check(&confirmed, between, size, &cfg), None);
        // Above the automatic bar, an approval needs no confirmation.
        assert_eq!(hand_check(&approval(None), 0.9, size, &cfg), None);
    }

    #[test]
    fn two_pairs_of_points_or_bunched_ones_are_refused() {
        let cfg = fit_params();
        let size = [[800.0, 600.0]; 2];
        let points = |ps: &[[f64; 2]]| AlignOverride {
            landmarks: ps.iter().map(|p| [p[0], p[1], p[0], p[1]]).collect(),
            matrix: None,
            approved: None,
            ..approval(None)
        };
        let two = points(&[[100.0, 100.0], [700.0, 500.0]]);
        assert!(hand_check(&two, 0.9, size, &cfg).unwrap().contains("three"));
        let bunched = points(&[[400.0, 300.0], [460.0, 300.0], [420.0, 350.0]]);
        assert!(
            hand_check(&bunched, 0.9, size, &cfg)
                .unwrap()
                .contains("bunched")
        );
        let spread = points(&[[100.0, 100.0], [700.0, 120.0], [400.0, 500.0]]);
        assert_eq!(hand_check(&spread, 0.9, size, &cfg), None);
    }

    #[test]
    fn fit_to_frame_covers_and_centres() {
        // A 2000×1000 photo fitted into a 1000×1000 frame: scale 1, centred crop.
        let m = fit_to_frame((2000, 1000), (1000, 1000));
        let centre = align::apply(&m, [999.5, 499.5]);
        assert!((centre[0] - 499.5).abs() < 1e-9 && (centre[1] - 499.5).abs() < 1e-9);
        let inv = align::invert(&m).unwrap();
        let tl = align::apply(&inv, [-0.5, -0.5]);
        assert!(tl[0] >= -0.5 - 1e-9 && tl[1] >= -0.5 - 1e-9);
    }
}
