//! The safety check of a tone fit (issue 30): matching the light must never make the treatment
//! look stronger than it is. On the aligned working copies, with the exact LUTs the renderer
//! applies, the changed area (the blocks the fit leaves unexplained) must not differ from the
//! before photo by more after matching than before matching, beyond what the same matching
//! removes from the unchanged area (the light change it explains). A fit that fails is shrunk
//! towards the identity until it passes.

use image::{GrayImage, RgbImage};

use super::{delta_e2000, srgb_to_lab};

/// Shares of the full fit tried, strongest first; 0 (the identity) always passes.
pub const STRENGTHS: [f64; 5] = [1.0, 0.75, 0.5, 0.25, 0.0];

/// What the check measured for the strength it kept (mean ΔE2000 per pixel).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// Share of the full fit applied (1: all of it).
    pub strength: f64,
    /// Changed area: before matching, after matching at full strength, after at `strength`.
    pub changed: [f64; 3],
    /// Unchanged area: before matching, after matching at full strength.
    pub unchanged: [f64; 2],
    /// How far the full fit went past the limit (0 when it passed).
    pub excess: f64,
    /// Share of the changed area's pixels with a channel outside the levels the unchanged area
    /// covers (where the curve is extrapolated).
    pub outside: f64,
}

/// Top-left corners of blocks.
type Blocks = Vec<(u32, u32)>;

/// The blocks (`block`² px, fully valid) whose largest channel residual under `luts` is at
/// least `cut` (changed) or below `cut / 2` (unchanged), as top-left corners.
fn split_blocks(
    fixed: &RgbImage,
    moving: &RgbImage,
    valid: &GrayImage,
    luts: &[[f64; 256]; 3],
    block: u32,
    cut: f64,
) -> (Blocks, Blocks) {
    let (w, h) = fixed.dimensions();
    let (mut changed, mut unchanged) = (Vec::new(), Vec::new());
    let n = f64::from(block * block);
    for by in (0..h / block).map(|y| y * block) {
        for bx in (0..w / block).map(|x| x * block) {
            let mut s = [0.0f64; 6];
            let mut ok = true;
            for (x, y) in (by..by + block).flat_map(|y| (bx..bx + block).map(move |x| (x, y))) {
                ok &= valid.get_pixel(x, y)[0] > 0;
                for c in 0..3 {
                    s[c] += f64::from(fixed.get_pixel(x, y)[c]);
                    s[3 + c] += f64::from(moving.get_pixel(x, y)[c]);
                }
            }
            if !ok {
                continue;
            }
            let r = (0..3)
                .map(|c| (luts[c][(s[3 + c] / n).round() as usize] - s[c] / n).abs())
                .fold(0.0, f64::max);
            if r >= cut {
                changed.push((bx, by));
            } else if r < cut / 2.0 {
                unchanged.push((bx, by));
            }
        }
    }
    (changed, unchanged)
}

/// Mean ΔE2000 between `lut(moving)` and `fixed` over the pixels of `blocks`.
fn mean_delta_e(
    fixed: &RgbImage,
    moving: &RgbImage,
    lut: &[[u8; 256]; 3],
    blocks: &[(u32, u32)],
    block: u32,
) -> f64 {
    let mut sum = 0.0;
    let mut n = 0.0;
    for &(bx, by) in blocks {
        for (x, y) in (by..by + block).flat_map(|y| (bx..bx + block).map(move |x| (x, y))) {
            let m = moving.get_pixel(x, y).0;
            let mapped = [
                lut[0][m[0] as usize],
                lut[1][m[1] as usize],
                lut[2][m[2] as usize],
            ];
            sum += delta_e2000(srgb_to_lab(mapped), srgb_to_lab(fixed.get_pixel(x, y).0));
            n += 1.0;
        }
    }
    if n > 0.0 { sum / n } else { 0.0 }
}

/// Share of the pixels of `blocks` with a channel outside `covered` (by more than 2 levels).
fn outside_share(
    moving: &RgbImage,
    covered: &[[u8; 2]; 3],
    blocks: &[(u32, u32)],
    block: u32,
) -> f64 {
    let mut out = 0usize;
    let mut n = 0usize;
    for &(bx, by) in blocks {
        for (x, y) in (by..by + block).flat_map(|y| (bx..bx + block).map(move |x| (x, y))) {
            let p = moving.get_pixel(x, y).0;
            n += 1;
            out += usize::from((0..3).any(|c| {
                i32::from(p[c]) < i32::from(covered[c][0]) - 2
                    || i32::from(p[c]) > i32::from(covered[c][1]) + 2
            }));
        }
    }
    if n > 0 { out as f64 / n as f64 } else { 0.0 }
}

/// `full` shrunk towards the identity: `v + strength * (full(v) - v)`, rounded.
#[must_use]
pub fn shrink(full: &[[f64; 256]; 3], strength: f64) -> [[u8; 256]; 3] {
    std::array::from_fn(|c| {
        std::array::from_fn(|v| {
            let out = v as f64 + strength * (full[c][v] - v as f64);
            out.round().clamp(0.0, 255.0) as u8
        })
    })
}

/// The strongest share of `full` whose changed-area difference grows by at most what it removes
/// from the unchanged area, plus `tolerance` (ΔE2000). Fewer than `min_share` of the blocks
/// changed: nothing to protect, full strength. `covered`: the levels the curve was fitted on.
#[must_use]
pub fn check(
    fixed: &RgbImage,
    moving: &RgbImage,
    valid: &GrayImage,
    full: &[[f64; 256]; 3],
    covered: Option<&[[u8; 2]; 3]>,
    params: &super::ToneParams,
) -> Outcome {
    let block = params.block.max(1);
    let (changed, unchanged) = split_blocks(fixed, moving, valid, full, block, params.tukey_c);
    let total = (changed.len() + unchanged.len()).max(1) as f64;
    // Every third unchanged block is plenty for a mean.
    let unchanged: Vec<(u32, u32)> = unchanged.into_iter().step_by(3).collect();
    let de = |blocks: &[(u32, u32)], s: f64| {
        mean_delta_e(fixed, moving, &shrink(full, s), blocks, block)
    };
    let (c0, u0) = (de(&changed, 0.0), de(&unchanged, 0.0));
    let (c1, u1) = (de(&changed, 1.0), de(&unchanged, 1.0));
    let mut out = Outcome {
        strength: 1.0,
        changed: [c0, c1, c1],
        unchanged: [u0, u1],
        excess: 0.0,
        outside: covered.map_or(0.0, |cov| outside_share(moving, cov, &changed, block)),
    };
    if (changed.len() as f64) < params.guard_min_share * total {
        return out;
    }
    let limit = |u: f64| c0 + (u0 - u).max(0.0) + params.guard_tolerance;
    out.excess = (c1 - limit(u1)).max(0.0);
    for s in STRENGTHS {
        let (c, u) = if s == 1.0 {
            (c1, u1)
        } else {
            (de(&changed, s), de(&unchanged, s))
        };
        if c <= limit(u) || s == 0.0 {
            out.strength = s;
            out.changed[2] = c;
            break;
        }
    }
    out
}
