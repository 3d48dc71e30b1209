//! Global tone matching: put the "after" photo under the "before" photo's light.
//!
//! Model, per channel c, on 8-bit encoded values v in [0, 1], in two steps fitted robustly on
//! the aligned pair (see [`fit`]): first `encode(gain_c * decode(v ^ gamma_c))` — a gain in
//! linear light (exposure, white balance) after a gamma (tone curve) — which finds the unchanged
//! area; then, on that area, a smooth monotone curve on encoded values ([`curve`]) that also
//! represents a black level (flare), gains on encoded values and a contrast curve, continued
//! conservatively beyond the levels the unchanged area covers. A safety check ([`guard`]) shrinks
//! the curve towards the identity when it would make the changed area (the treatment) differ more
//! from the before photo than the light change explains. Applied through three 256-entry LUTs,
//! never spatially varying, so local differences such as the treatment are preserved.

pub mod baseline;
mod color;
mod curve;
mod delta_e;
pub mod field;
pub mod guard;
mod robust;

pub use color::{srgb_decode, srgb_encode, srgb_to_lab};
pub use curve::Beyond;
pub use delta_e::delta_e2000;
pub use field::{Field, Frame};

use image::{GrayImage, RgbImage};
use rayon::prelude::*;

/// Names the light model and its safety check, hashed into every case key, so a gallery matched
/// by an earlier model is fitted again rather than kept.
pub const MODEL: &str = "curve-least-change-ends-falloff.4";

/// What tone matching does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToneMode {
    /// Fit the after photo to the before photo's light.
    MatchBefore,
    /// Bring each photo to a neutral grey-world balance.
    GreyWorld,
    /// Leave colours alone.
    Off,
}

/// Tone-matching settings.
#[derive(Clone, Debug)]
pub struct ToneParams {
    pub mode: ToneMode,
    /// Gains are bounded to [1/max_gain, max_gain].
    pub max_gain: f64,
    /// Bounds of the per-channel gamma.
    pub min_gamma: f64,
    pub max_gamma: f64,
    /// Block size (px) averaged before fitting: blurs noise, dots and misregistration.
    pub block: u32,
    /// Tukey cut-off (8-bit levels): residuals beyond it are outliers and do not pull the fit.
    pub tukey_c: f64,
    /// Values at or below / at or above these levels are clipped and ignored by the fit.
    pub clip_low: u8,
    pub clip_high: u8,
    /// Initial grid steps of the robust search (ln gain, gamma); refined by pattern search.
    pub search_log_gain_step: f64,
    pub search_gamma_step: f64,
    /// Whether the smooth curve refines the gain-and-gamma fit (false: gain and gamma only).
    pub curve: bool,
    /// Bending penalty of the curve (second differences of its knots, per unit of weight).
    pub smooth: f64,
    /// Safety check: slack (mean ΔE2000) and the share of blocks that must be changed for it to
    /// apply; a full fit past its limit by more than `guard_flag` is flagged for review.
    pub guard_tolerance: f64,
    pub guard_min_share: f64,
    pub guard_flag: f64,
    /// A changed area with more than this share of its pixels outside the covered levels is
    /// flagged for review too, when the curve moves those pixels by more than
    /// `guard_outside_shift` levels on average: their colour after matching is extrapolated, and
    /// the guess is large. (A curve that barely moves them shows them nearly as shot: a photo
    /// without a real light change, such as a retake under the same lamp, is not flagged.)
    pub guard_outside: f64,
    pub guard_outside_shift: f64,
    /// A changed area with more than this share of its pixels clipped in the after photo (a
    /// channel at 253 or more) is flagged for review: overexposure erased the texture there,
    /// and the flat patches read as change no light model can undo.
    pub guard_clipped: f64,
    /// Whether a lens falloff field ([`field`]) is fitted before the curve, where the after
    /// photo's frame is known.
    pub field: bool,
}

impl Default for ToneParams {
    fn default() -> Self {
        Self {
            mode: ToneMode::MatchBefore,
            max_gain: 1.5,
            min_gamma: 0.7,
            max_gamma: 1.4,
            block: 4,
            tukey_c: 12.0,
            clip_low: 3,
            clip_high: 250,
            search_log_gain_step: 0.05,
            search_gamma_step: 0.1,
            curve: true,
            smooth: 0.01,
            guard_tolerance: 0.5,
            guard_min_share: 0.005,
            guard_flag: 2.0,
            guard_outside: 0.25,
            guard_outside_shift: 6.0,
            guard_clipped: 0.25,
            field: true,
        }
    }
}

/// A fitted global photometric transform: what is recorded in the manifest is exactly what
/// [`apply_mut`] applies.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ToneFit {
    pub mode: ToneMode,
    pub model: String,
    pub gain: [f64; 3],
    pub gamma: [f64; 3],
    /// Fraction of the correspondences within the Tukey cut-off (1 for neutral/identity fits).
    pub inlier_fraction: f64,
    /// Whether a bound of the parameters was hit.
    pub clamped: bool,
    /// The curve applied, per channel: output level for each input level 0..=255 (replaces the
    /// gain-and-gamma curve when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lut: Option<[Vec<u8>; 3]>,
    /// Per channel, the levels of the after photo the unchanged area covers (`[low, high]`);
    /// beyond them the curve is extrapolated conservatively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covered: Option<[[u8; 2]; 3]>,
    /// Per channel, how the curve is continued below and above the covered levels: of the
    /// ways tried, the one that shows the changed area least changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beyond: Option<[[Beyond; 2]; 3]>,
    /// The safety check: share of the fitted curve applied (1: all) and what it measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety: Option<Safety>,
    /// The lens falloff undone before the curve, in the after photo's coordinates (`None`:
    /// none measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
}

/// What the safety check measured, in words and numbers (mean ΔE2000 per pixel).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Safety {
    pub strength: f64,
    /// Changed area vs the before photo: unmatched, fully matched, as published.
    pub changed_delta_e: [f64; 3],
    /// Unchanged area vs the before photo: unmatched, fully matched.
    pub unchanged_delta_e: [f64; 2],
    /// How far the full fit went past the limit (0: it passed).
    pub excess: f64,
    /// Share of the changed area's pixels outside the covered levels (extrapolated).
    #[serde(default)]
    pub outside: f64,
    /// Their mean shift under the published curve (8-bit levels, largest channel).
    #[serde(default)]
    pub outside_shift: f64,
    /// Share of the changed area's pixels the after photo clipped (a channel at 253 or more).
    #[serde(default)]
    pub clipped: f64,
    pub note: String,
}

/// The do-nothing fit.
#[must_use]
pub fn identity() -> ToneFit {
    ToneFit {
        mode: ToneMode::Off,
        model: "identity".into(),
        gain: [1.0; 3],
        gamma: [1.0; 3],
        inlier_fraction: 1.0,
        clamped: false,
        lut: None,
        covered: None,
        beyond: None,
        safety: None,
        field: None,
    }
}

/// Fit the transform that puts `moving_warped` (already in the fixed frame) under `fixed`'s
/// light, using the pixels where `valid` is non-zero. Robust: changed content (treatment dots,
/// hair) is rejected by a Tukey loss. `ToneMode::Off` gives [`identity`]. No falloff field:
/// see [`fit_framed`].
#[must_use]
pub fn fit(
    fixed: &RgbImage,
    moving_warped: &RgbImage,
    valid: &GrayImage,
    params: &ToneParams,
) -> ToneFit {
    fit_framed(fixed, moving_warped, valid, None, params)
}

/// [`fit`], and where `frame` says where each pixel of `moving_warped` lies in the after photo,
/// a lens falloff field first ([`field`]): fitted on what the curve leaves, then the curve
/// fitted again on the corrected copy, twice. The safety check measures the whole (field and
/// curve) against the photo as shot; if it has to hold the fit back, the field is dropped and
/// the curve alone is checked (the milder fit).
#[must_use]
pub fn fit_framed(
    fixed: &RgbImage,
    moving_warped: &RgbImage,
    valid: &GrayImage,
    frame: Option<&Frame>,
    params: &ToneParams,
) -> ToneFit {
    if params.mode == ToneMode::Off {
        return identity();
    }
    let plain = fit_curves(fixed, moving_warped, valid, params);
    let Some(frame) = frame.filter(|_| params.field && params.curve) else {
        return check_fit(fixed, moving_warped, moving_warped, valid, plain, params);
    };
    let mut field: Option<Field> = None;
    let mut best = None;
    for _ in 0..2 {
        let (corrected, luts) = match (&field, &best) {
            (Some(f), Some(b)) => (field::corrected(moving_warped, f, frame), curves_of(b)),
            _ => (moving_warped.clone(), curves_of(&plain)),
        };
        let Some(more) = field::fit(fixed, &corrected, valid, &luts, frame) else {
            break;
        };
        let k = field.map_or([0.0; 2], |f| [f.kx, f.ky]);
        let next = Field {
            kx: (k[0] + more.kx).clamp(-field::LIMIT, field::LIMIT),
            ky: (k[1] + more.ky).clamp(-field::LIMIT, field::LIMIT),
        };
        let corrected = field::corrected(moving_warped, &next, frame);
        best = Some(fit_curves(fixed, &corrected, valid, params));
        field = Some(next);
    }
    let (Some(f), Some(curves)) = (field, best) else {
        return check_fit(fixed, moving_warped, moving_warped, valid, plain, params);
    };
    let corrected = field::corrected(moving_warped, &f, frame);
    let mut out = check_fit(fixed, &corrected, moving_warped, valid, curves, params);
    if out.safety.as_ref().is_some_and(|s| s.strength < 1.0) {
        return check_fit(fixed, moving_warped, moving_warped, valid, plain, params);
    }
    out.field = Some(f);
    out.model
        .push_str("; lens falloff exp(kx·dx² + ky·dy²) in linear light undone first");
    out
}

/// The fit before its safety check: the record, the full curves, what the curve fit adds.
struct Curves {
    out: ToneFit,
    full: [[f64; 256]; 3],
    fitted: Option<Extras>,
}

fn curves_of(c: &Curves) -> [[f64; 256]; 3] {
    c.full
}

/// The gain-and-gamma fit, refined by the curve when `params.curve`.
fn fit_curves(
    fixed: &RgbImage,
    moving_warped: &RgbImage,
    valid: &GrayImage,
    params: &ToneParams,
) -> Curves {
    let hist = robust::joint_histograms(fixed, moving_warped, valid, params);
    let mut out = ToneFit {
        mode: ToneMode::MatchBefore,
        model: "per-channel gain (linear light) + gamma (encoded), Tukey M-estimate".into(),
        inlier_fraction: 0.0,
        ..identity()
    };
    for (c, h) in hist.iter().enumerate() {
        let ch = robust::fit_channel(h, params);
        out.gain[c] = ch.gain;
        out.gamma[c] = ch.gamma;
        out.inlier_fraction += ch.inlier_fraction / 3.0;
        out.clamped |= ch.clamped;
    }
    let (full, fitted) = if params.curve {
        refine(&mut out, &hist, params)
    } else {
        (
            std::array::from_fn(|c| robust::curve(out.gain[c], out.gamma[c])),
            None,
        )
    };
    Curves { out, full, fitted }
}

/// The safety check on `moving_warped` (the copy the curves were fitted on), measured against
/// `as_shot` (the after photo before any matching), and the record of what it kept.
fn check_fit(
    fixed: &RgbImage,
    moving_warped: &RgbImage,
    as_shot: &RgbImage,
    valid: &GrayImage,
    curves: Curves,
    params: &ToneParams,
) -> ToneFit {
    let Curves {
        mut out,
        mut full,
        fitted,
    } = curves;
    let ends = out.covered.as_ref().map(|covered| guard::Ends {
        covered,
        shared: fitted.as_ref().map(|f| &f.0),
        clipped_from: fitted.as_ref().map_or([None; 3], |f| f.1),
    });
    let check = guard::check(
        fixed,
        [moving_warped, as_shot],
        valid,
        &mut full,
        ends.as_ref(),
        params,
    );
    if let Some(b) = out.beyond.as_mut() {
        // The check's choice where changed pixels lie beyond, the fit's elsewhere.
        (b.iter_mut().flatten().zip(check.beyond.iter().flatten()))
            .for_each(|(o, t)| *o = t.unwrap_or(*o));
    }
    if params.curve || check.strength < 1.0 {
        out.lut = Some(guard::shrink(&full, check.strength).map(|l| l.to_vec()));
    }
    out.safety = Some(safety_record(&check));
    out
}

/// What the curve fit adds for the safety check: the shared-shape curves and, per channel the
/// after photo clipped, where the line to the clipped level starts.
type Extras = ([[f64; 256]; 3], [Option<usize>; 3]);

/// The shared smooth curve with per-channel offset and gain, started from the gain-and-gamma
/// fit (kept when the curve cannot be fitted), and the curves of the shared shape alone
/// (`curve::Fitted::shared`). Records the covered levels.
fn refine(
    out: &mut ToneFit,
    hist: &[robust::Joint; 3],
    params: &ToneParams,
) -> ([[f64; 256]; 3], Option<Extras>) {
    let start = std::array::from_fn(|c| robust::curve(out.gain[c], out.gamma[c]));
    let Some(f) = curve::fit(hist, &start, params.tukey_c, params.smooth) else {
        return (start, None);
    };
    out.model = "per channel: black level + gain on encoded values after one smooth monotone \
                 curve shared by the channels (knots every 32 levels), started from a gain in \
                 linear light + gamma, Tukey M-estimate; beyond the covered levels the identity slope, the end slope, a \
                 straight line to black/white or the shape the other channels measured, whichever shows the changed area least changed; \
                 safety check"
        .into();
    out.covered = Some(f.covered);
    out.beyond = Some(f.beyond);
    (f.luts, Some((f.shared, f.clipped_from)))
}

fn safety_record(check: &guard::Outcome) -> Safety {
    let note = if check.strength >= 1.0 {
        "full fit kept: the changed area does not differ more than the light change explains".into()
    } else {
        format!(
            "fell back to {:.0}% of the fit: at full strength the changed area would have differed \
             from the before photo by {:.1} ΔE more than the light change explains",
            100.0 * check.strength,
            check.excess
        )
    };
    let r = |v: f64| (v * 100.0).round() / 100.0;
    Safety {
        strength: check.strength,
        changed_delta_e: check.changed.map(r),
        unchanged_delta_e: check.unchanged.map(r),
        excess: r(check.excess),
        outside: r(check.outside),
        outside_shift: r(check.outside_shift),
        clipped: r(check.clipped),
        note,
    }
}

/// Grey-world fit: per-channel linear gains that equalise the channel means of `img` (clipped
/// pixels ignored), keeping the overall mean. `ToneMode::Off` gives [`identity`].
#[must_use]
pub fn fit_neutral(img: &RgbImage, params: &ToneParams) -> ToneFit {
    if params.mode == ToneMode::Off {
        return identity();
    }
    let table = color::decode_table();
    let mut sum = [0.0f64; 3];
    for p in img.pixels() {
        if p.0
            .iter()
            .all(|&v| v > params.clip_low && v < params.clip_high)
        {
            for c in 0..3 {
                sum[c] += table[p.0[c] as usize];
            }
        }
    }
    let mean = (sum[0] + sum[1] + sum[2]) / 3.0;
    let mut fit = identity();
    fit.mode = ToneMode::GreyWorld;
    fit.model = "grey world: per-channel gain, linear light".into();
    for (gain, &s) in fit.gain.iter_mut().zip(&sum) {
        let g = if s > 0.0 { mean / s } else { 1.0 };
        let bounded = g.clamp(1.0 / params.max_gain, params.max_gain);
        fit.clamped |= bounded != g;
        *gain = bounded;
    }
    fit
}

/// The three 256-entry LUTs of a fit: its recorded curve, else its gain and gamma.
#[must_use]
pub fn luts(fit: &ToneFit) -> [[u8; 256]; 3] {
    std::array::from_fn(|c| match &fit.lut {
        Some(l) if l[c].len() == 256 => std::array::from_fn(|v| l[c][v]),
        _ => robust::curve(fit.gain[c], fit.gamma[c]).map(|v| v.round().clamp(0.0, 255.0) as u8),
    })
}

impl ToneFit {
    /// Whether the fit changes no level of any channel.
    #[must_use]
    pub fn is_identity(&self) -> bool {
        self.field.is_none()
            && luts(self)
                .iter()
                .all(|l| l.iter().enumerate().all(|(v, &o)| usize::from(o) == v))
    }

    /// Whether every channel gets the same curve (an exposure change, no colour change).
    #[must_use]
    pub fn is_uniform(&self) -> bool {
        let l = luts(self);
        l[0] == l[1] && l[1] == l[2]
    }

    /// What staff read when the safety check had to hold the fit back by a lot, or when much
    /// of the treated area lies beyond the light levels the rest of the photo shows.
    #[must_use]
    pub fn review_message(&self, params: &ToneParams) -> Option<String> {
        let s = self.safety.as_ref()?;
        if s.excess > params.guard_flag {
            return Some(format!(
                "Matching this photo's light would have made the treated area look more changed \
                 than it is, so the light was matched only {:.0}% — compare the two photos' \
                 lighting and retake the after photo if it differs a lot",
                100.0 * s.strength
            ));
        }
        if s.clipped > params.guard_clipped {
            return Some(format!(
                "The after photo is overexposed in the treated area ({:.0}% of it is burnt out \
                 to white), so its detail there is lost and it can look more changed than it \
                 is — retake the after photo with less light or exposure",
                100.0 * s.clipped
            ));
        }
        (s.outside > params.guard_outside && s.outside_shift > params.guard_outside_shift).then(|| {
            "Much of the treated area is darker or brighter than anything else in the photo, so \
             its colour after matching the light is an estimate — check that the after photo \
             does not look more changed than the patient does, or retake it under the before \
             photo's lighting"
                .to_owned()
        })
    }
}

/// Apply a fit in place: its falloff field, if any, with `img` taken as the whole after photo,
/// then its curves. See [`apply_framed_mut`].
pub fn apply_mut(img: &mut RgbImage, fit: &ToneFit) {
    let frame = Frame::whole(img);
    apply_framed_mut(img, fit, &frame);
}

/// Apply a fit in place, `frame` saying where `img`'s pixels lie in the after photo (for the
/// falloff field; the curves are global LUTs, interpolated after the field).
pub fn apply_framed_mut(img: &mut RgbImage, fit: &ToneFit, frame: &Frame) {
    let lut = luts(fit);
    if let Some(f) = &fit.field {
        let px = field::apply(img, f, frame);
        img.par_chunks_mut(3 * 4096)
            .zip(px.par_chunks(4096))
            .for_each(|(chunk, src)| {
                for (p, s) in chunk.chunks_exact_mut(3).zip(src) {
                    for c in 0..3 {
                        let v = f64::from(s[c]).clamp(0.0, 255.0);
                        let (i, t) = ((v.floor() as usize).min(254), v - v.floor().min(254.0));
                        let out = f64::from(lut[c][i]) * (1.0 - t) + f64::from(lut[c][i + 1]) * t;
                        p[c] = out.round() as u8;
                    }
                }
            });
        return;
    }
    img.par_chunks_mut(3 * 4096).for_each(|chunk| {
        for p in chunk.chunks_exact_mut(3) {
            for c in 0..3 {
                p[c] = lut[c][p[c] as usize];
            }
        }
    });
}
