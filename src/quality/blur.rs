//! Focus: is the later photo much softer than the before photo?
//!
//! Both photos are halved (2×2 box: sensor noise, JPEG ringing and the warp's own bilinear
//! softening live mostly in the top octave, which a real defocus empties anyway) and cut into
//! blocks. Per block, `gradient energy / variance` is a mean squared spatial frequency: it does
//! not change with exposure, contrast or white balance, only with detail. The ratio after/before
//! is taken per block, on the blocks where the before photo has texture, and the median of those
//! ratios is the measure.
//!
//! Why a median over blocks instead of masking the treatment: the treated area changes texture
//! for real (pigment dots add detail, new hair adds or removes it), but it covers a minority of
//! the textured blocks of a photo; the median ignores it without needing a tone-corrected
//! difference image or a treatment mask. Blocks too flat in the before photo (sky, shaved skin
//! under a soft light) are skipped: their ratio is noise over noise.

use serde::{Deserialize, Serialize};

use super::plane::Plane;

/// Settings of the sharpness measure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlurParams {
    /// Working pixels averaged per side before measuring (2 = half resolution).
    pub shrink: u32,
    /// Block side, in pixels of the shrunk plane.
    pub block: u32,
    /// Blocks whose before variance is below this (levels²) are skipped as flat.
    pub min_variance: f32,
    /// Only the most textured blocks of the before photo take part (this share of them).
    pub textured_share: f32,
}

impl Default for BlurParams {
    fn default() -> Self {
        Self {
            shrink: 2,
            block: 16,
            min_variance: 9.0,
            textured_share: 0.5,
        }
    }
}

/// Gradient energy and variance of one block, or `None` when any pixel is invalid. Rows are
/// summed in `f32` (16 values of at most 255², exact enough) and the rows in `f64`.
fn block_stats(p: &Plane, ok: &[bool], x0: usize, y0: usize, n: usize) -> Option<(f64, f64)> {
    let (mut s, mut ss, mut g) = (0f64, 0f64, 0f64);
    for y in y0..y0 + n {
        let at = y * p.w + x0;
        if ok[at..at + n].contains(&false) {
            return None;
        }
        let (row, below) = (&p.data[at..=at + n], &p.data[at + p.w..at + p.w + n]);
        let (mut rs, mut rss, mut rg) = (0f32, 0f32, 0f32);
        for ((pair, &v), &d) in row.windows(2).zip(row).zip(below) {
            let (gx, gy) = (pair[1] - v, d - v);
            rs += v;
            rss += v * v;
            rg += gx * gx + gy * gy;
        }
        s += f64::from(rs);
        ss += f64::from(rss);
        g += f64::from(rg);
    }
    let k = (n * n) as f64;
    Some((g / k, ss / k - (s / k) * (s / k)))
}

/// Median over textured blocks of (after's detail / before's detail); 1 when no block is
/// textured enough to tell. The planes and mask are the working copies shrunk by
/// [`BlurParams::shrink`] (see [`super::measure`]).
#[must_use]
pub fn sharpness_ratio(b: &Plane, a: &Plane, ok: &[bool], p: &BlurParams) -> f32 {
    let n = p.block.max(4) as usize;
    // Blocks stop one pixel short of the edge: the forward differences read x + 1 and y + 1.
    let mut blocks: Vec<(f64, f64)> = Vec::new();
    for y0 in (0..b.h.saturating_sub(n + 1)).step_by(n) {
        for x0 in (0..b.w.saturating_sub(n + 1)).step_by(n) {
            let Some((gb, vb)) = block_stats(b, ok, x0, y0, n) else {
                continue;
            };
            let Some((ga, va)) = block_stats(a, ok, x0, y0, n) else {
                continue;
            };
            let min_var = f64::from(p.min_variance);
            if vb < min_var || va < min_var / 4.0 || gb <= 0.0 {
                continue;
            }
            blocks.push((gb, (ga / va) / (gb / vb)));
        }
    }
    if blocks.is_empty() {
        return 1.0;
    }
    blocks.sort_by(|x, y| y.0.total_cmp(&x.0));
    let keep = ((blocks.len() as f32 * p.textured_share).ceil() as usize).clamp(1, blocks.len());
    let mut ratios: Vec<f64> = blocks[..keep].iter().map(|b| b.1).collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2] as f32
}
