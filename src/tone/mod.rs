//! Global tone matching: put the "after" photo under the "before" photo's light.
//!
//! Model, per channel c, on 8-bit encoded values v in [0, 1]:
//! `out = encode(gain_c * decode(v ^ gamma_c))` — a gain in linear light (exposure, white
//! balance) after a gamma on the encoded values (tone curve). It is fitted robustly on pixel
//! correspondences of the aligned pair (see [`fit`]) and applied through three 256-entry LUTs,
//! never spatially varying, so local differences such as the treatment are preserved.

pub mod baseline;
mod color;
mod delta_e;
mod robust;

pub use color::{srgb_decode, srgb_encode, srgb_to_lab};
pub use delta_e::delta_e2000;

use image::{GrayImage, RgbImage};
use rayon::prelude::*;

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
    }
}

/// Fit the transform that puts `moving_warped` (already in the fixed frame) under `fixed`'s
/// light, using the pixels where `valid` is non-zero. Robust: changed content (treatment dots,
/// hair) is rejected by a Tukey loss. `ToneMode::Off` gives [`identity`].
#[must_use]
pub fn fit(
    fixed: &RgbImage,
    moving_warped: &RgbImage,
    valid: &GrayImage,
    params: &ToneParams,
) -> ToneFit {
    if params.mode == ToneMode::Off {
        return identity();
    }
    let hist = robust::joint_histograms(fixed, moving_warped, valid, params);
    let mut out = ToneFit {
        mode: ToneMode::MatchBefore,
        model: "per-channel gain (linear light) + gamma (encoded), Tukey M-estimate".into(),
        gain: [1.0; 3],
        gamma: [1.0; 3],
        inlier_fraction: 0.0,
        clamped: false,
    };
    for (c, h) in hist.iter().enumerate() {
        let ch = robust::fit_channel(h, params);
        out.gain[c] = ch.gain;
        out.gamma[c] = ch.gamma;
        out.inlier_fraction += ch.inlier_fraction / 3.0;
        out.clamped |= ch.clamped;
    }
    out
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

/// The three 256-entry LUTs of a fit.
#[must_use]
pub fn luts(fit: &ToneFit) -> [[u8; 256]; 3] {
    std::array::from_fn(|c| {
        robust::curve(fit.gain[c], fit.gamma[c]).map(|v| v.round().clamp(0.0, 255.0) as u8)
    })
}

/// Apply a fit in place (global, via LUTs).
pub fn apply_mut(img: &mut RgbImage, fit: &ToneFit) {
    let lut = luts(fit);
    img.par_chunks_mut(3 * 4096).for_each(|chunk| {
        for p in chunk.chunks_exact_mut(3) {
            for c in 0..3 {
                p[c] = lut[c][p[c] as usize];
            }
        }
    });
}
