//! The safety check of a tone fit (issue 30): matching the light must never make the treatment
//! look stronger than it is. On the aligned working copies, with the exact LUTs the renderer
//! applies, the changed area (the blocks the fit leaves unexplained) must not differ from the
//! before photo by more after matching than before matching, beyond what the same matching
//! removes from the unchanged area (the light change it explains). A fit that fails is shrunk
//! towards the identity until it passes.

use image::{GrayImage, RgbImage};

use super::curve::{self, Beyond};
use super::{delta_e2000, srgb_to_lab};

/// The shares of the full fit the check can keep: 1, 3/4, 1/2, 1/4 or 0 (the identity, which
/// always passes). Finer steps would cost a measure each and change little.
pub const STEP: f64 = 0.25;

/// What the check measured for the strength it kept (mean ΔE2000 per pixel).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Outcome {
    /// Share of the full fit applied (1: all of it; 0 in `Default`, set by the check).
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
    /// Per channel, below and above the covered levels: the continuation the check chose, where
    /// changed pixels lie there (`None`: none do, the fit's own stands).
    pub beyond: [[Option<Beyond>; 2]; 3],
}

/// What the fit measured about its curve's ends, for the check's choice beyond them.
#[derive(Clone, Copy, Debug)]
pub struct Ends<'a> {
    /// Per channel, the levels the unchanged area covers.
    pub covered: &'a [[u8; 2]; 3],
    /// The curves from the shape the channels share (`curve::Fitted::shared`), if fitted.
    pub shared: Option<&'a [[f64; 256]; 3]>,
    /// Per channel the after photo clipped, the covered top where the line to the clipped
    /// level starts.
    pub clipped_from: [Option<usize>; 3],
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
    /// The before photo's levels of the same pixels.
    levels: Vec<[u8; 3]>,
    moving: Vec<[u8; 3]>,
}

impl Samples {
    fn take(fixed: &RgbImage, moving: &RgbImage, blocks: &[(u32, u32)], block: u32) -> Samples {
        let per_block = (block * block) as usize;
        let step = (blocks.len() * per_block).div_ceil(SAMPLES).max(1);
        let (mut f, mut l, mut m) = (Vec::new(), Vec::new(), Vec::new());
        for &(bx, by) in blocks.iter().step_by(step) {
            for (x, y) in (by..by + block).flat_map(|y| (bx..bx + block).map(move |x| (x, y))) {
                let p = fixed.get_pixel(x, y).0;
                f.push(srgb_to_lab(p));
                l.push(p);
                m.push(moving.get_pixel(x, y).0);
            }
        }
        Samples {
            fixed: f,
            levels: l,
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

    /// Mean ΔE2000 over the pixels `idx` between `lut(moving)` and `fixed`, channel `c` through
    /// `trial` instead.
    fn mean_delta_e_of(
        &self,
        idx: &[usize],
        lut: &[[u8; 256]; 3],
        c: usize,
        trial: &[u8; 256],
    ) -> f64 {
        let sum: f64 = (idx.iter())
            .map(|&i| {
                let m = self.moving[i];
                let mapped = std::array::from_fn(|k| {
                    if k == c {
                        trial[m[k] as usize]
                    } else {
                        lut[k][m[k] as usize]
                    }
                });
                delta_e2000(srgb_to_lab(mapped), self.fixed[i])
            })
            .sum();
        sum / idx.len().max(1) as f64
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

/// Per channel and side, among the ways of continuing the curve beyond the covered levels
/// ([`Beyond`]), the one under which the changed pixels out there differ least from the before
/// photo: where nothing measured says what the light did, the guess that shows the least change
/// is kept, so that it can understate the treatment but not overstate it (issue 30: a treatment
/// darker than any unchanged level read 1.25× its true effect under the guess that moved levels
/// least). `full` is changed in place.
fn least_change_beyond(
    changed: &Samples,
    full: &mut [[f64; 256]; 3],
    ends: &Ends,
) -> [[Option<Beyond>; 2]; 3] {
    let (covered, shared) = (ends.covered, ends.shared);
    let mut chosen = [[None; 2]; 3];
    let round = |l: &[f64; 256]| -> [u8; 256] {
        std::array::from_fn(|v| l[v].round().clamp(0.0, 255.0) as u8)
    };
    for c in 0..3 {
        let [lo, hi] = covered[c].map(usize::from);
        for (side, low) in [(0, true), (1, false)] {
            let idx: Vec<usize> = (0..changed.moving.len())
                .filter(|&i| {
                    let v = usize::from(changed.moving[i][c]);
                    if low { v < lo } else { v > hi }
                })
                .collect();
            if idx.is_empty() || hi <= lo {
                continue;
            }
            let lut: [[u8; 256]; 3] = std::array::from_fn(|k| round(&full[k]));
            let mut best: Option<(f64, Beyond, [f64; 256])> = None;
            for how in Beyond::ALL {
                let mut trial = full[c];
                if how == Beyond::SharedShape {
                    let Some(shared) = shared else { continue };
                    if !bend_to_shape(&mut trial, &shared[c], lo, hi, low) {
                        continue;
                    }
                } else {
                    curve::continue_side(&mut trial, lo, hi, low, how);
                }
                curve::make_monotone(&mut trial);
                let de = changed.mean_delta_e_of(&idx, &lut, c, &round(&trial));
                if best.as_ref().is_none_or(|b| de < b.0 - 1e-9) {
                    best = Some((de, how, trial));
                }
            }
            if let Some((_, how, trial)) = best {
                full[c] = trial;
                chosen[c][side] = Some(how);
            }
        }
    }
    chosen
}

/// Below `lo` (`low`) or above `hi`, the curve from its covered end to black (0 → 0) or white
/// (255 → 255) following `shape` (a curve affine in the shared shape: only its form is used, so
/// the channel's own offset and gain do not matter). `false` when the shape is flat there.
fn bend_to_shape(
    lut: &mut [f64; 256],
    shape: &[f64; 256],
    lo: usize,
    hi: usize,
    low: bool,
) -> bool {
    let (end, far, target) = if low { (lo, 0, 0.0) } else { (hi, 255, 255.0) };
    let span = shape[end] - shape[far];
    if span.abs() < 1.0 {
        return false;
    }
    let at = lut[end];
    let range = if low { 0..lo } else { hi + 1..256 };
    for v in range {
        let t = (shape[v] - shape[far]) / span;
        lut[v] = target + t * (at - target);
    }
    true
}

/// Per channel the after photo clipped, the level its clipped pixels are shown at: the before
/// photo's median level over all clipped pixels (the fit's, [`curve::join_clipped`]) or over
/// the changed area's, whichever shows the changed area less changed. Overexposure erased what
/// those pixels showed; one level cannot suit a bright background and a darker treated area
/// alike, and the one that suits the unchanged area made burnt-out texture in the treated area
/// read as change (1.28× the treatment's true effect on the truth bench).
fn least_clipped_level(changed: &Samples, full: &mut [[f64; 256]; 3], from: &[Option<usize>; 3]) {
    for (c, hi) in from.iter().enumerate() {
        let Some(hi) = *hi else { continue };
        let idx: Vec<usize> = (0..changed.moving.len())
            .filter(|&i| usize::from(changed.moving[i][c]) > hi)
            .collect();
        let mut levels: Vec<u8> = (idx.iter())
            .filter(|&&i| changed.moving[i][c] >= 253)
            .map(|&i| changed.levels[i][c])
            .collect();
        if levels.is_empty() {
            continue;
        }
        let mid = levels.len() / 2;
        let median = f64::from(*levels.select_nth_unstable(mid).1);
        let round = |l: &[f64; 256]| -> [u8; 256] {
            std::array::from_fn(|v| l[v].round().clamp(0.0, 255.0) as u8)
        };
        let lut: [[u8; 256]; 3] = std::array::from_fn(|k| round(&full[k]));
        let mut trial = full[c];
        curve::join_clipped(&mut trial, hi, median);
        curve::make_monotone(&mut trial);
        let (now, then) = (
            changed.mean_delta_e_of(&idx, &lut, c, &lut[c]),
            changed.mean_delta_e_of(&idx, &lut, c, &round(&trial)),
        );
        if then < now {
            full[c] = trial;
        }
    }
}

/// The strongest share (a multiple of [`STEP`]) whose changed-area difference `de(s).0` is
/// within `limit` of the unchanged area's `de(s).1`, by halving between the strongest share
/// known to fail (1) and the weakest known to pass (0, where the difference is `c0`); and that
/// difference.
fn halve(de: &dyn Fn(f64) -> (f64, f64), limit: &dyn Fn(f64) -> f64, c0: f64) -> (f64, f64) {
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
    (pass, at_pass)
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
/// changed: nothing to protect, full strength. `covered`: the levels the curve was fitted on;
/// beyond them `full` is first continued the way that shows the least change
/// ([`least_change_beyond`], in place; `shared`: the curves from the shape all channels share).
/// The strengths are searched by halving (1, then 1/2, then 3/4 or 1/4, then 0): never a
/// stronger share than trying them in order would keep, in at most four measures.
#[must_use]
pub fn check(
    fixed: &RgbImage,
    moving: &RgbImage,
    valid: &GrayImage,
    full: &mut [[f64; 256]; 3],
    ends: Option<&Ends>,
    params: &super::ToneParams,
) -> Outcome {
    let block = params.block.max(1);
    let (changed, unchanged) = split_blocks(fixed, moving, valid, full, block, params.tukey_c);
    let few = (changed.len() as f64)
        < params.guard_min_share * (changed.len() + unchanged.len()).max(1) as f64;
    let [changed_px, unchanged_px] =
        [&changed, &unchanged].map(|b| Samples::take(fixed, moving, b, block));
    let beyond = ends.map_or([[None; 2]; 3], |e| {
        least_clipped_level(&changed_px, full, &e.clipped_from);
        least_change_beyond(&changed_px, full, e)
    });
    let full = &*full;
    let de = |s: f64| {
        let lut = shrink(full, s);
        (
            changed_px.mean_delta_e(&lut),
            unchanged_px.mean_delta_e(&lut),
        )
    };
    let ((c0, u0), (c1, u1)) = (de(0.0), de(1.0));
    let mut out = Outcome {
        changed: [c0, c1, c1],
        unchanged: [u0, u1],
        clipped: changed_px.clipped_share(full),
        beyond,
        ..Outcome::default()
    };
    let outside = |out: &mut Outcome| {
        if let Some(e) = ends {
            (out.outside, out.outside_shift) =
                changed_px.outside(e.covered, &shrink(full, out.strength));
        }
    };
    out.strength = 1.0;
    let limit = |u: f64| c0 + (u0 - u).max(0.0) + params.guard_tolerance;
    out.excess = if few { 0.0 } else { (c1 - limit(u1)).max(0.0) };
    if few || c1 <= limit(u1) {
        outside(&mut out);
        return out;
    }
    (out.strength, out.changed[2]) = halve(&|s| de(s), &limit, c0);
    outside(&mut out);
    out
}
