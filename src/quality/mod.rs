//! The quality gate: is a later photo good enough to publish next to its before photo?
//!
//! Every measure compares the later photo with its own before photo, so a soft or dark *scene*
//! is never a fault; only a photo that is softer, more clipped, more tilted or shinier than the
//! before photo of the same patient is. All measures run at working resolution (the copies the
//! registration already made, long side `align.working_size`), on one core, in a few ms.
//!
//! Input contract of [`measure`] (what the pipeline has at hand after registration):
//! - `before`: the before photo's working copy;
//! - `after`: the later photo's working copy **warped into the before's frame** with the
//!   registration's similarity/affine matrix (`align::warp(&work_i, &invert(m), bw, bh)`),
//!   same size as `before`, *not* tone-matched (clipping is measured on the camera's values);
//! - `valid`: the coverage mask of that warp (`align::coverage_mask(m, after_size, before_size)`,
//!   non-zero where the warped photo has data), same size.
//!
//! Measures ([`Measures`]): focus relative to the before photo per textured block, median over
//! blocks ([`blur`]); new clipped highlights and crushed shadows ([`exposure`]); the camera tilt
//! left over after the similarity fit, from a homography fitted to tile shifts ([`perspective`]);
//! new small specular blobs ([`shine`]). [`faults`] turns them into [`Fault`]s with
//! [`Thresholds`] calibrated by `cargo bench --bench quality`.

pub mod blur;
pub mod direct;
pub mod exposure;
pub mod keystone;
pub mod perspective;
mod plane;
mod scan;
pub mod shine;

use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};

use plane::Level;
pub use plane::Plane;

/// What the quality gate measured for one later photo against its before photo.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measures {
    /// Focus of the later photo relative to the before photo (1 = as sharp; 0.3 = its fine
    /// detail carries 30% of the before's, relative to each block's contrast). Median over the
    /// before's textured blocks, so the treated area (a minority of blocks) does not move it.
    pub sharpness_ratio: f32,
    /// Share of the overlap that is clipped in the later photo but had detail in the before.
    pub highlights: f32,
    /// Share of the overlap that is crushed to black in the later photo but had detail before.
    pub shadows: f32,
    /// Camera tilt (degrees) between the two photos beyond what a similarity explains.
    pub tilt_deg: f32,
    /// Share of the overlap covered by new small, white, locally bright blobs (wet/oily shine).
    pub shine: f32,
}

/// Limits beyond which a measure is a fault. `Default` holds the values calibrated on the
/// real-photo set of `benches/quality.rs` (52 faulty pairs, 60 clean pairs with drift): each
/// sits between the worst clean pair and the mildest injected fault, nearer the clean side only
/// where the clean side is far (see that bench for the table of margins).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Blur when `sharpness_ratio` is below this (clean pairs ≥ 0.75, σ 2–4 px defocus ≤ 0.54).
    pub min_sharpness_ratio: f32,
    /// Overexposed when `highlights` is above this share (clean ≤ 0.0002; +1.5–2.5 EV ≥ 0.10).
    pub max_highlights: f32,
    /// Underexposed when `shadows` is above this share (clean 0; −1.5–2.5 EV ≥ 0.02: only
    /// pixels that had ≥ `detail_low` levels count, a subset of the photo).
    pub max_shadows: f32,
    /// Perspective when `tilt_deg` is above this (clean ≤ 0.3°; the "about 10°").
    pub max_tilt_deg: f32,
    /// Shine when `shine` is above this share and the photo is neither overexposed nor tilted
    /// (clean 0; 3–6 specular blobs ≥ 0.0004).
    pub max_shine: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            min_sharpness_ratio: 0.60,
            max_highlights: 0.05,
            max_shadows: 0.01,
            max_tilt_deg: 10.0,
            max_shine: 0.0003,
        }
    }
}

/// How the measures are taken (levels are 8-bit encoded values, lengths working pixels).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MeasureParams {
    pub blur: blur::BlurParams,
    pub exposure: exposure::ExposureParams,
    pub perspective: perspective::PerspectiveParams,
    pub keystone: keystone::KeystoneParams,
    pub direct: direct::DirectParams,
    pub shine: shine::ShineParams,
    /// Pixels this close to the edge of the coverage are ignored (the warp blends black in).
    pub border: u32,
}

impl Default for MeasureParams {
    fn default() -> Self {
        Self {
            blur: blur::BlurParams::default(),
            exposure: exposure::ExposureParams::default(),
            perspective: perspective::PerspectiveParams::default(),
            keystone: keystone::KeystoneParams::default(),
            direct: direct::DirectParams::default(),
            shine: shine::ShineParams::default(),
            border: 2,
        }
    }
}

/// A reason to retake a later photo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    Blur,
    Overexposed,
    Underexposed,
    Perspective,
    Shine,
}

impl Fault {
    /// Every fault, in report order.
    pub const ALL: [Fault; 5] = [
        Fault::Blur,
        Fault::Overexposed,
        Fault::Underexposed,
        Fault::Perspective,
        Fault::Shine,
    ];

    /// The name used in config, JSON and reports: the flag code's.
    pub fn code(self) -> &'static str {
        self.flag_code().name()
    }

    /// The flag code this fault is reported under.
    #[must_use]
    pub fn flag_code(self) -> crate::flags::Code {
        use crate::flags::Code;
        match self {
            Fault::Blur => Code::Blur,
            Fault::Overexposed => Code::Overexposed,
            Fault::Underexposed => Code::Underexposed,
            Fault::Perspective => Code::Perspective,
            Fault::Shine => Code::Shine,
        }
    }

    /// What the clinic should do, as the stem of a review message.
    #[must_use]
    pub fn advice(self) -> &'static str {
        match self {
            Fault::Blur => "the photo is out of focus: retake with the focus on the scalp",
            Fault::Overexposed => {
                "highlights are blown out: retake with less light or without the flash"
            }
            Fault::Underexposed => "shadows are crushed to black: retake with more light",
            Fault::Perspective => {
                "the camera angle differs: retake with the camera square to the scalp, \
                 same angle as the before photo"
            }
            Fault::Shine => {
                "the scalp shines (wet or oily): dry the scalp and retake without the shine"
            }
        }
    }

    /// The review message: advice plus the measured value against its limit.
    #[must_use]
    pub fn message(self, m: &Measures, t: &Thresholds) -> String {
        let detail = match self {
            Fault::Blur => format!(
                "sharpness {:.0}% of the before photo's, limit {:.0}%",
                100.0 * m.sharpness_ratio,
                100.0 * t.min_sharpness_ratio
            ),
            Fault::Overexposed => share("newly clipped", m.highlights, t.max_highlights),
            Fault::Underexposed => share("newly crushed", m.shadows, t.max_shadows),
            Fault::Perspective => format!(
                "tilt {:.0}° against the before photo, limit {:.0}°",
                m.tilt_deg, t.max_tilt_deg
            ),
            Fault::Shine => share("new specular shine on", m.shine, t.max_shine),
        };
        format!("{} ({detail})", self.advice())
    }
}

fn share(what: &str, v: f32, limit: f32) -> String {
    format!(
        "{what} {:.1}% of the photo, limit {:.1}%",
        100.0 * v,
        100.0 * limit
    )
}

impl Measures {
    /// The measures of a photo with no fault.
    pub const CLEAN: Measures = Measures {
        sharpness_ratio: 1.0,
        highlights: 0.0,
        shadows: 0.0,
        tilt_deg: 0.0,
        shine: 0.0,
    };
}

/// The quality gate's measures of a later photo: `after` is its working copy, `aligned` the
/// registration's warp of it into `before`'s frame with the coverage mask, or `None` when the
/// pair did not register. Then only the tilt can be read, from feature matches of the two
/// working copies ([`keystone`]) or, when those find nothing, from a direct homography fit
/// ([`direct`]), so that a photo taken from too steep an angle to register is reported as
/// such; the other measures need pixels side by side and read fault-free.
#[must_use]
pub fn measure_pair(
    before: &RgbImage,
    after: &RgbImage,
    aligned: Option<(&RgbImage, &GrayImage)>,
    params: &MeasureParams,
) -> Measures {
    match aligned {
        Some((warped, valid)) => measure(before, warped, valid, params),
        None => Measures {
            tilt_deg: keystone::tilt_deg(before, after, &params.keystone, &params.perspective)
                .or_else(|| direct::tilt_deg(before, after, &params.direct, &params.perspective))
                .unwrap_or(0.0),
            ..Measures::CLEAN
        },
    }
}

/// Take every measure of `after` against `before` (see the module docs for the input contract).
/// Images of different sizes, or with no valid pixel, measure as fault-free.
#[must_use]
pub fn measure(
    before: &RgbImage,
    after: &RgbImage,
    valid: &GrayImage,
    params: &MeasureParams,
) -> Measures {
    let clean = Measures::CLEAN;
    if before.dimensions() != after.dimensions() || before.dimensions() != valid.dimensions() {
        return clean;
    }
    let ok = plane::inner_mask(valid, params.border);
    if !ok.iter().any(|&v| v) {
        return clean;
    }
    // Blur works on the planes shrunk by its factor, made in the shared pass; perspective on a
    // smaller copy, made from those when its factor allows.
    let kb = params.blur.shrink.max(1) as usize;
    let scan = scan::scan(before, after, &ok, kb, &params.exposure, &params.shine);
    let (highlights, shadows) = scan.clipping();
    let shine = shine::shine(before, after, &scan.shine, scan.valid, &params.shine);
    let (w, h) = (before.width() as usize, before.height() as usize);
    let half = Level {
        ok: plane::shrink_mask(&ok, w, h, kb),
        before: scan.before,
        after: scan.after,
    };
    let sharpness_ratio = blur::sharpness_ratio(&half.before, &half.after, &half.ok, &params.blur);
    let kp = perspective::shrink_factor(w, h, &params.perspective);
    let full = || Level {
        before: Plane::from_rgb(before),
        after: Plane::from_rgb(after),
        ok: ok.clone(),
    };
    let small = match kp {
        _ if kp == kb => half,
        _ if kp.is_multiple_of(kb) => half.shrink(kp / kb),
        1 => full(),
        _ => full().shrink(kp),
    };
    let tilt_deg =
        perspective::tilt_deg(&small.before, &small.after, &small.ok, &params.perspective);
    Measures {
        sharpness_ratio,
        highlights,
        shadows,
        tilt_deg,
        shine,
    }
}

/// The faults `m` shows under `t`. Shine is not reported on an overexposed photo (the rims of
/// large clipped areas look like shine) nor on a tilted one (bright details that the keystone
/// moved look new); the retake advice of those faults covers it.
#[must_use]
pub fn faults(m: &Measures, t: &Thresholds) -> Vec<Fault> {
    let mut out = Vec::new();
    if m.sharpness_ratio < t.min_sharpness_ratio {
        out.push(Fault::Blur);
    }
    if m.highlights > t.max_highlights {
        out.push(Fault::Overexposed);
    }
    if m.shadows > t.max_shadows {
        out.push(Fault::Underexposed);
    }
    if m.tilt_deg > t.max_tilt_deg {
        out.push(Fault::Perspective);
    }
    let masked = out.contains(&Fault::Overexposed) || out.contains(&Fault::Perspective);
    if m.shine > t.max_shine && !masked {
        out.push(Fault::Shine);
    }
    out
}
