//! Shine: small specular highlights (wet or oily scalp) that the before photo lacks.
//!
//! A specular highlight reflects the light source, so it is near white whatever the skin
//! colour (low chroma), much brighter than the same spot in the before photo (a brighter
//! exposure raises a pixel by a few tens of levels at most before it clips), and brighter than
//! its own surroundings (a highlight is a small blob, not a bright area). The measure is the
//! share of the overlap where all three hold. Large clipped areas pass the test along their
//! rims, which is why [`super::faults`] does not report shine on an overexposed photo.

use serde::{Deserialize, Serialize};

use image::RgbImage;

use super::plane::luma;

/// What counts as a specular pixel (8-bit encoded levels; radius in working pixels).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShineParams {
    /// Luma at or above: near white.
    pub min_luma: f32,
    /// Largest channel minus smallest at or below: not a coloured bright surface.
    pub max_chroma: u8,
    /// Luma rise over the before photo at the same spot, at least.
    pub min_rise: f32,
    /// Luma above the mean of its `radius` neighbourhood, at least.
    pub min_contrast: f32,
    pub radius: u32,
    /// The rise is measured against the brightest before pixel within this radius, so that a
    /// bright detail the registration left a pixel or two off does not look new.
    pub slack: u32,
}

impl Default for ShineParams {
    fn default() -> Self {
        Self {
            min_luma: 225.0,
            max_chroma: 60,
            min_rise: 50.0,
            min_contrast: 20.0,
            radius: 8,
            slack: 2,
        }
    }
}

/// Summed-area table of `img`'s grey levels with a zero first row and column: `(w + 1) × (h + 1)`.
fn integral(img: &RgbImage) -> Vec<f64> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let w1 = w + 1;
    let mut s = vec![0f64; w1 * (h + 1)];
    for (y, pixels) in img.as_raw().chunks_exact(3 * w.max(1)).enumerate() {
        let mut row = 0f64;
        for (x, p) in pixels.chunks_exact(3).enumerate() {
            row += f64::from(luma(p));
            s[(y + 1) * w1 + x + 1] = s[y * w1 + x + 1] + row;
        }
    }
    s
}

/// Mean grey level over the box of radius `r` around (x, y), clipped to the `w`×`h` image.
fn box_mean(s: &[f64], (w, h): (usize, usize), x: usize, y: usize, r: usize) -> f32 {
    let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
    let (x1, y1) = ((x + r + 1).min(w), (y + r + 1).min(h));
    let w1 = w + 1;
    let sum = s[y1 * w1 + x1] - s[y0 * w1 + x1] - s[y1 * w1 + x0] + s[y0 * w1 + x0];
    (sum / ((x1 - x0) * (y1 - y0)) as f64) as f32
}

/// Largest grey level of `img` within `r` of (x, y).
fn brightest(img: &RgbImage, x: usize, y: usize, r: usize) -> f32 {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
    (y.saturating_sub(r)..(y + r + 1).min(h))
        .flat_map(|yy| img.as_raw()[3 * (yy * w + x0)..3 * (yy * w + x1)].chunks_exact(3))
        .fold(0f32, |best, p| best.max(luma(p)))
}

/// Share of the valid pixels that are new specular highlights. The shared pixel pass
/// ([`super::scan`]) has already kept the `candidates` (row-major indices): pixels near white,
/// colourless and much brighter than the before photo at the same spot. Here each is checked
/// against the brightest before pixel nearby and against its own surroundings, on the grey
/// levels of the two photos (computed here for the few pixels that need them).
#[must_use]
pub fn shine(
    before: &RgbImage,
    after: &RgbImage,
    candidates: &[usize],
    valid: u32,
    p: &ShineParams,
) -> f32 {
    let w = after.width() as usize;
    let size = (w, after.height() as usize);
    let mut sat: Option<Vec<f64>> = None;
    let mut hits = 0u32;
    for &i in candidates {
        let la = luma(&after.as_raw()[3 * i..3 * i + 3]);
        let (x, y) = (i % w, i / w);
        if la - brightest(before, x, y, p.slack as usize) < p.min_rise {
            continue;
        }
        // Only a few pixels get this far: build the summed-area table on first need.
        let s = sat.get_or_insert_with(|| integral(after));
        if la - box_mean(s, size, x, y, p.radius as usize) >= p.min_contrast {
            hits += 1;
        }
    }
    hits as f32 / valid.max(1) as f32
}
