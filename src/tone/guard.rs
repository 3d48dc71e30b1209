//! The safety check of a tone fit (issue 30): matching the light must never make the treatment
//! look stronger than it is. On the aligned working copies, with the exact LUTs the renderer
//! applies, the changed area (the blocks the fit leaves unexplained) must not differ from the
//! before photo by more after matching than before matching, beyond what the same matching
//! removes from the unchanged area (the light change it explains). A fit that fails is shrunk
//! towards the identity until it passes.

use image::{GrayImage, RgbImage};

use super::{delta_e2000, srgb_to_lab};

/// The shares of the full fit the check can keep: 1, 3/4, 1/2, 1/4 or 0 (the identity, which
/// always passes). Finer steps would cost a measure each and change little.
pub const STEP: f64 = 0.25;

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
    /// Mean shift (8-bit levels, largest channel) the kept curve gives those pixels: how much
    /// of their colour is an extrapolation's guess.
    pub outside_shift: f64,
    /// Share of the changed area's pixels the after photo clipped (a channel at 253 or more)
    /// where the light change clipped that channel: their texture is lost, and no curve brings
    /// it back.
    pub clipped: f64,
}

/// Top-left corners of blocks.
type Blocks = Vec<(u32, u32)>;

/// Pixels measured per area (changed, unchanged): the mean ΔE2000 of this many pixels, spread
/// over the area's blocks, is within a few hundredths of the mean over all of them, far below
/// the check's slack, at a fixed cost whatever the photo's size (issue 32 item 6).
const SAMPLES: usize = 12_288;

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
    let (w, h) = (w.min(moving.width()), h.min(moving.height()));
    let (fw, mw, vw) = (fixed.width(), moving.width(), valid.width());
    let (fr, mr, vr) = (fixed.as_raw(), moving.as_raw(), valid.as_raw());
    let (mut changed, mut unchanged) = (Vec::new(), Vec::new());
    let n = f64::from(block * block);
    for by in (0..h / block).map(|y| y * block) {
        for bx in (0..w / block).map(|x| x * block) {
            let mut s = [0u32; 6];
            let mut ok = true;
            for y in by..by + block {
                let row = |stride: u32| (y * stride + bx) as usize;
                ok &= vr[row(vw)..][..block as usize].iter().all(|&v| v > 0);
                let (f, m) = (&fr[3 * row(fw)..], &mr[3 * row(mw)..]);
                for i in 0..3 * block as usize {
                    s[i % 3] += u32::from(f[i]);
                    s[3 + i % 3] += u32::from(m[i]);
                }
            }
            if !ok {
                continue;
            }
            let r = (0..3)
                .map(|c| {
                    let mean = |v: u32| f64::from(v) / n;
                    (luts[c][mean(s[3 + c]).round() as usize] - mean(s[c])).abs()
                })
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

/// The pixels an area is measured on: the before photo's colour (CIELAB, converted once) and
/// the after photo's levels, from every pixel of evenly spaced blocks, about [`SAMPLES`] in all.
struct Samples {
    fixed: Vec<[f64; 3]>,
    moving: Vec<[u8; 3]>,
}

impl Samples {
    fn take(fixed: &RgbImage, moving: &RgbImage, blocks: &[(u32, u32)], block: u32) -> Samples {
        let per_block = (block * block) as usize;
        let step = (blocks.len() * per_block).div_ceil(SAMPLES).max(1);
        let (mut f, mut m) = (Vec::new(), Vec::new());
        for &(bx, by) in blocks.iter().step_by(step) {
            for (x, y) in (by..by + block).flat_map(|y| (bx..bx + block).map(move |x| (x, y))) {
                f.push(srgb_to_lab(fixed.get_pixel(x, y).0));
                m.push(moving.get_pixel(x, y).0);
            }
        }
        Samples {
            fixed: f,
            moving: m,
        }
    }

    /// Mean ΔE2000 between `lut(moving)` and `fixed` (0 when there are no pixels).
    fn mean_delta_e(&self, lut: &[[u8; 256]; 3]) -> f64 {
        if self.moving.is_empty() {
            return 0.0;
        }
        let sum: f64 = (self.moving.iter().zip(&self.fixed))
            .map(|(m, f)| {
                let mapped = std::array::from_fn(|c| lut[c][m[c] as usize]);
                delta_e2000(srgb_to_lab(mapped), *f)
            })
            .sum();
        sum / self.moving.len() as f64
    }

    /// Share of the pixels with a channel at 253 or more (clipped by the camera) where the
    /// light change itself clipped: `full` takes that channel's white below 250 (a brighter
    /// exposure). Whites that are white in both photos, such as bright spots that moved between
    /// two shots under the same light, do not count.
    fn clipped_share(&self, full: &[[f64; 256]; 3]) -> f64 {
        let n = (self.moving.iter())
            .filter(|p| (0..3).any(|c| p[c] >= 253 && full[c][255] < 250.0))
            .count();
        n as f64 / self.moving.len().max(1) as f64
    }

    /// Share of the pixels with a channel outside `covered` (by more than 2 levels), and the
    /// mean of their largest channel shift under `lut` (8-bit levels).
    fn outside(&self, covered: &[[u8; 2]; 3], lut: &[[u8; 256]; 3]) -> (f64, f64) {
        let shifts: Vec<i32> = (self.moving.iter())
            .filter(|p| {
                (0..3).any(|c| {
                    i32::from(p[c]) < i32::from(covered[c][0]) - 2
                        || i32::from(p[c]) > i32::from(covered[c][1]) + 2
                })
            })
            .map(|p| {
                (0..3)
                    .map(|c| (i32::from(lut[c][p[c] as usize]) - i32::from(p[c])).abs())
                    .fold(0, i32::max)
            })
            .collect();
        let n = shifts.len().max(1) as f64;
        (
            shifts.len() as f64 / self.moving.len().max(1) as f64,
            f64::from(shifts.iter().sum::<i32>()) / n,
        )
    }
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
/// The strengths are searched by halving (1, then 1/2, then 3/4 or 1/4, then 0): never a
/// stronger share than trying them in order would keep, in at most four measures.
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
    let few = (changed.len() as f64) < params.guard_min_share * total;
    let changed_px = Samples::take(fixed, moving, &changed, block);
    let unchanged_px = Samples::take(fixed, moving, &unchanged, block);
    let de = |s: f64| {
        let lut = shrink(full, s);
        (
            changed_px.mean_delta_e(&lut),
            unchanged_px.mean_delta_e(&lut),
        )
    };
    let ((c0, u0), (c1, u1)) = (de(0.0), de(1.0));
    let mut out = Outcome {
        strength: 1.0,
        changed: [c0, c1, c1],
        unchanged: [u0, u1],
        excess: 0.0,
        outside: 0.0,
        outside_shift: 0.0,
        clipped: changed_px.clipped_share(full),
    };
    let outside = |out: &mut Outcome| {
        if let Some(cov) = covered {
            (out.outside, out.outside_shift) = changed_px.outside(cov, &shrink(full, out.strength));
        }
    };
    if few {
        outside(&mut out);
        return out;
    }
    let limit = |u: f64| c0 + (u0 - u).max(0.0) + params.guard_tolerance;
    out.excess = (c1 - limit(u1)).max(0.0);
    if c1 <= limit(u1) {
        outside(&mut out);
        return out;
    }
    // Halving between the strongest share known to fail and the weakest known to pass (0).
    let (mut fail, mut pass, mut at_pass) = (1.0, 0.0, c0);
    while fail - pass > STEP + 1e-9 {
        let s = 0.5 * (fail + pass);
        let (c, u) = de(s);
        if c <= limit(u) {
            (pass, at_pass) = (s, c);
        } else {
            fail = s;
        }
    }
    out.strength = pass;
    out.changed[2] = at_pass;
    outside(&mut out);
    out
}
