//! The per-channel tone curve on encoded values: a smooth monotone curve (piecewise linear
//! through knots every 32 levels, with a penalty on its bends) fitted robustly on the blocks the
//! gain-and-gamma fit found unchanged. It represents what a gain and a gamma cannot: a black
//! level (flare), gains applied to encoded values (a camera's white balance), a contrast curve.
//!
//! Beyond the levels the unchanged area covers nothing says what the light did, so the curve is
//! continued there with the identity slope or its own end slope, whichever changes the pixels
//! less (issue 30: extrapolating a fit is how a treatment darker than anything unchanged ends up
//! looking stronger than it is).

use super::robust::Joint;

/// Knot spacing in 8-bit levels: 9 knots at 0, 32, ..., 255.
const KNOTS: usize = 9;
/// Share of the blocks a channel must have clipped (levels 253 to 255 in the after photo) for
/// the clipped level to be fitted ([`clipped_level`]): 0.5%, as for the covered levels.
const CLIPPED_SHARE: f64 = 0.005;
/// IRLS passes (Tukey weights re-computed from the previous curves each time).
const PASSES: usize = 8;

fn knot_level(k: usize) -> f64 {
    (k as f64 * 255.0 / (KNOTS - 1) as f64).min(255.0)
}

/// The two knots around `v` and the weight of the upper one.
fn hat(v: f64) -> (usize, f64) {
    let t = (v / 255.0 * (KNOTS - 1) as f64).clamp(0.0, (KNOTS - 1) as f64);
    let i = (t.floor() as usize).min(KNOTS - 2);
    (i, t - i as f64)
}

/// A fitted curve per channel: output level per input level, and the input levels it was
/// fitted on.
pub struct Fitted {
    pub luts: [[f64; 256]; 3],
    /// `[lo, hi]` per channel: the moving levels of the unchanged blocks (0.5% and 99.5% of
    /// them).
    pub covered: [[u8; 2]; 3],
    /// How each channel is continued below and above them.
    pub beyond: [[Beyond; 2]; 3],
    /// Each channel's curve from the shared shape alone (`a_c + b_c * T`), over the levels any
    /// channel covers, continued by straight lines to black and white beyond them: where one
    /// channel's own levels stop, the others still measure the shape ([`Beyond::SharedShape`]).
    pub shared: [[f64; 256]; 3],
    /// Per channel the after photo clipped: the covered top where the line to the clipped
    /// level starts.
    pub clipped_from: [Option<usize>; 3],
}

/// One bin of a joint histogram: moving level, fixed level, count.
type Bin = (f64, f64, f64);

/// Cut-off of each pass, times `tukey_c`: wide at first so that a poor start (a light change the
/// gain and gamma cannot follow) still finds the unchanged blocks.
const ANNEAL: [f64; PASSES] = [4.0, 3.0, 2.0, 1.5, 1.0, 1.0, 1.0, 1.0];

/// Robust penalised fit of `out_c = a_c + b_c * T(v)`: one smooth monotone curve `T` shared by
/// the channels (a camera's contrast curve acts on all three alike) and per channel an offset
/// (black level) and a gain on encoded values (white balance), on the joint histograms
/// (`moving * 256 + fixed`), starting from the weights the gain-and-gamma curves `start` give.
/// `None` when too few blocks agree.
#[must_use]
pub fn fit(
    hists: &[Joint; 3],
    start: &[[f64; 256]; 3],
    tukey_c: f64,
    smooth: f64,
) -> Option<Fitted> {
    let bins: [Vec<Bin>; 3] = std::array::from_fn(|c| {
        hists[c]
            .iter()
            .enumerate()
            .filter(|&(i, &n)| {
                n > 0 && (4..250).contains(&(i / 256)) && (4..250).contains(&(i % 256))
            })
            .map(|(i, &n)| ((i / 256) as f64, (i % 256) as f64, f64::from(n)))
            .collect()
    });
    let mut luts = *start;
    let mut shape: [f64; 256] = std::array::from_fn(|v| v as f64);
    let mut affine = [(0.0, 1.0); 3];
    for cut in ANNEAL.map(|k| k * tukey_c) {
        let weights: [Vec<f64>; 3] =
            std::array::from_fn(|c| tukey_weights(&bins[c], &luts[c], cut));
        for (c, a) in affine.iter_mut().enumerate() {
            *a = fit_affine(&bins[c], &weights[c], &shape)?;
        }
        let knots = solve_shape(&bins, &weights, &affine, smooth)?;
        shape = std::array::from_fn(|v| {
            let (i, f) = hat(v as f64);
            knots[i] * (1.0 - f) + knots[i + 1] * f
        });
        luts = std::array::from_fn(|c| shape.map(|t| affine[c].0 + affine[c].1 * t));
    }
    let mut shared = luts;
    let mut covered = [[0u8, 255u8]; 3];
    let mut beyond = [[Beyond::IdentitySlope; 2]; 3];
    let mut clipped_from = [None; 3];
    for (c, lut) in luts.iter_mut().enumerate() {
        // Each channel's own levels: its offset and gain say nothing beyond them.
        covered[c] = covered_range(&bins[c], lut, tukey_c)?;
        let [lo, hi] = covered[c].map(usize::from);
        beyond[c] = extend(lut, lo, hi);
        if let Some(level) = clipped_level(&hists[c], CLIPPED_SHARE) {
            join_clipped(lut, hi, level);
            clipped_from[c] = Some(hi);
            covered[c][1] = 255;
            beyond[c][1] = Beyond::StraightLine;
        }
        make_monotone(lut);
    }
    to_union_ends(&mut shared, &covered);
    Some(Fitted {
        luts,
        covered,
        beyond,
        shared,
        clipped_from,
    })
}

/// The shared-shape curves kept over the levels any channel covers, straight lines beyond.
fn to_union_ends(shared: &mut [[f64; 256]; 3], covered: &[[u8; 2]; 3]) {
    let lo = usize::from(covered.iter().map(|c| c[0]).min().unwrap_or(0));
    let hi = usize::from(covered.iter().map(|c| c[1]).max().unwrap_or(255));
    for lut in shared {
        continue_side(lut, lo, hi, true, Beyond::StraightLine);
        continue_side(lut, lo, hi, false, Beyond::StraightLine);
        make_monotone(lut);
    }
}

/// Tukey biweight of each bin's residual under `lut` (times its count).
fn tukey_weights(bins: &[Bin], lut: &[f64; 256], cut: f64) -> Vec<f64> {
    bins.iter()
        .map(|&(m, f, n)| {
            let r = (f - lut[m as usize]) / cut;
            if r.abs() < 1.0 {
                n * (1.0 - r * r).powi(2)
            } else {
                0.0
            }
        })
        .collect()
}

/// Weighted least squares of `f = a + b * shape(m)`.
fn fit_affine(bins: &[Bin], w: &[f64], shape: &[f64; 256]) -> Option<(f64, f64)> {
    let (mut s, mut st, mut stt, mut sf, mut stf) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (&(m, f, _), &w) in bins.iter().zip(w) {
        let t = shape[m as usize];
        s += w;
        st += w * t;
        stt += w * t * t;
        sf += w * f;
        stf += w * t * f;
    }
    let det = s * stt - st * st;
    if s < 50.0 || det.abs() < 1e-9 {
        return None;
    }
    let b = (s * stf - st * sf) / det;
    Some(((sf - b * st) / s, b))
}

/// The shared curve's knots given each channel's offset and gain: weighted least squares of
/// `f - a_c = b_c * T(m)` over all channels, plus `smooth` times the squared second differences
/// of the knots (scaled by the weight sum).
fn solve_shape(
    bins: &[Vec<Bin>; 3],
    weights: &[Vec<f64>; 3],
    affine: &[(f64, f64); 3],
    smooth: f64,
) -> Option<[f64; KNOTS]> {
    let mut a = [[0.0; KNOTS]; KNOTS];
    let mut b = [0.0; KNOTS];
    let mut wsum = 0.0;
    for c in 0..3 {
        let (off, gain) = affine[c];
        for (&(m, f, _), &w) in bins[c].iter().zip(&weights[c]) {
            if w == 0.0 {
                continue;
            }
            wsum += w;
            let (i, t) = hat(m);
            let h = [(i, gain * (1.0 - t)), (i + 1, gain * t)];
            for &(p, hp) in &h {
                for &(q, hq) in &h {
                    a[p][q] += w * hp * hq;
                }
                b[p] += w * hp * (f - off);
            }
        }
    }
    if wsum < 50.0 {
        return None;
    }
    let lam = smooth * wsum;
    for k in 1..KNOTS - 1 {
        let d = [(k - 1, 1.0), (k, -2.0), (k + 1, 1.0)];
        for &(p, dp) in &d {
            for &(q, dq) in &d {
                a[p][q] += lam * dp * dq;
            }
        }
    }
    // A faint pull to the identity keeps knots without data defined (they are replaced by the
    // extension anyway).
    for (k, (row, bk)) in a.iter_mut().zip(b.iter_mut()).enumerate() {
        row[k] += 1e-6 * wsum;
        *bk += 1e-6 * wsum * knot_level(k);
    }
    solve(a, b)
}

/// Gaussian elimination with partial pivoting.
fn solve(mut a: [[f64; KNOTS]; KNOTS], mut b: [f64; KNOTS]) -> Option<[f64; KNOTS]> {
    for col in 0..KNOTS {
        let piv = (col..KNOTS).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[piv][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        for r in (0..KNOTS).filter(|&r| r != col) {
            let f = a[r][col] / a[col][col];
            let pivot_row = a[col];
            for (x, p) in a[r].iter_mut().zip(pivot_row).skip(col) {
                *x -= f * p;
            }
            b[r] -= f * b[col];
        }
    }
    Some(std::array::from_fn(|i| b[i] / a[i][i]))
}

/// The 0.5% and 99.5% moving levels of the blocks the curve fits within the cut-off.
fn covered_range(bins: &[Bin], lut: &[f64; 256], c: f64) -> Option<[u8; 2]> {
    let mut per_level = [0.0; 256];
    for b in bins.iter().filter(|b| (b.1 - lut[b.0 as usize]).abs() < c) {
        per_level[b.0 as usize] += b.2;
    }
    let total: f64 = per_level.iter().sum();
    if total < 1.0 {
        return None;
    }
    let level_at = |share: f64| {
        let mut acc = 0.0;
        (0..256)
            .find(|&v| {
                acc += per_level[v];
                acc >= share * total
            })
            .unwrap_or(255) as u8
    };
    Some([level_at(0.005), level_at(0.995)])
}

/// How a curve is continued beyond the levels the unchanged area covers (issue 30): nothing
/// there says what the light did, so each way is a guess; the safety check keeps, per channel
/// and side, the one that leaves the changed area least different from the before photo
/// (`guard::check`), so that a guess can only understate the treatment, never overstate it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Beyond {
    /// The curve's value at the covered end, then slope 1 (an offset).
    IdentitySlope,
    /// The curve's own slope over its last 8 covered levels.
    EndSlope,
    /// A straight line to black (below) or white (above).
    StraightLine,
    /// The straight line bent to the shape the other channels measured there (the fit's curve
    /// shape is shared by the channels: a camera's contrast curve acts on all three alike),
    /// from the covered end to black or white.
    SharedShape,
    /// A channel's fitted curve (the shared shape with that channel's black level and gain),
    /// moved to join the covered end: the slope the light change has out there in this
    /// channel, or in another whose levels reach there (a dark treatment on a red background
    /// lies beyond the red levels the rest of the photo covers, not beyond the green ones).
    SharedCurve,
}

impl Beyond {
    pub const ALL: [Beyond; 5] = [
        Beyond::IdentitySlope,
        Beyond::EndSlope,
        Beyond::StraightLine,
        Beyond::SharedShape,
        Beyond::SharedCurve,
    ];
}

/// Beyond `[lo, hi]`, continue the curve from its end with the identity slope or its own end
/// slope (over the last 8 levels), whichever moves the levels out there less in total; the
/// safety check may then pick another continuation per channel and side ([`Beyond`]).
pub fn extend(lut: &mut [f64; 256], lo: usize, hi: usize) -> [Beyond; 2] {
    if hi <= lo {
        return [Beyond::IdentitySlope; 2];
    }
    let dev = |lut: &[f64; 256], range: std::ops::Range<usize>| -> f64 {
        range.map(|v| (lut[v] - v as f64).abs()).sum()
    };
    let pick = |lut: &mut [f64; 256], low: bool| {
        let range = if low { 0..lo } else { hi + 1..256 };
        let mut end = *lut;
        continue_side(&mut end, lo, hi, low, Beyond::EndSlope);
        let mut id = *lut;
        continue_side(&mut id, lo, hi, low, Beyond::IdentitySlope);
        let (how, best) = if dev(&end, range.clone()) < dev(&id, range) {
            (Beyond::EndSlope, end)
        } else {
            (Beyond::IdentitySlope, id)
        };
        *lut = best;
        how
    };
    [pick(lut, true), pick(lut, false)]
}

/// Continue the curve below `lo` (`low`) or above `hi` the way `how` says (`SharedShape` needs
/// the shared curves: here it is the straight line).
pub fn continue_side(lut: &mut [f64; 256], lo: usize, hi: usize, low: bool, how: Beyond) {
    if hi <= lo {
        return;
    }
    let span = (hi - lo).min(8);
    let (end, slope) = if low {
        let end_slope = (lut[lo + span] - lut[lo]) / span as f64;
        let slope = match how {
            Beyond::IdentitySlope => 1.0,
            Beyond::EndSlope => end_slope,
            Beyond::StraightLine | Beyond::SharedShape | Beyond::SharedCurve => {
                lut[lo] / lo.max(1) as f64
            }
        };
        (lo, slope)
    } else {
        let end_slope = (lut[hi] - lut[hi - span]) / span as f64;
        let slope = match how {
            Beyond::IdentitySlope => 1.0,
            Beyond::EndSlope => end_slope,
            Beyond::StraightLine | Beyond::SharedShape | Beyond::SharedCurve => {
                (255.0 - lut[hi]) / (255 - hi).max(1) as f64
            }
        };
        (hi, slope)
    };
    let at = lut[end];
    let range = if low { 0..lo } else { hi + 1..256 };
    for v in range {
        lut[v] = at + slope * (v as f64 - end as f64);
    }
}

/// Where the after photo clipped a channel (levels 253 to 255), the level the before photo shows
/// there: the median of those pixels' before levels, when they are at least `share` of the
/// channel's blocks. Clipping is a light change the unchanged area does show (its clipped
/// pixels), so this level is measured, not extrapolated; `None` when too few clipped.
fn clipped_level(hist: &Joint, share: f64) -> Option<f64> {
    let mut per_fixed = [0u64; 256];
    for (i, &n) in hist.iter().enumerate().filter(|(i, _)| i / 256 >= 253) {
        per_fixed[i % 256] += u64::from(n);
    }
    let clipped: u64 = per_fixed.iter().sum();
    let total: u64 = hist.iter().map(|&n| u64::from(n)).sum();
    if total == 0 || (clipped as f64) < share * total as f64 {
        return None;
    }
    let mut acc = 0;
    let median = (0..256).find(|&v| {
        acc += per_fixed[v];
        2 * acc >= clipped
    })?;
    Some(median as f64)
}

/// Join the curve at `hi` to `(255, level)` with a straight line (the clipped level, see
/// [`clipped_level`]), never below the curve at `hi`.
pub fn join_clipped(lut: &mut [f64; 256], hi: usize, level: f64) {
    let (at_hi, end) = (lut[hi], level.max(lut[hi]));
    for (v, out) in lut.iter_mut().enumerate().skip(hi + 1) {
        *out = at_hi + (v - hi) as f64 / (255 - hi).max(1) as f64 * (end - at_hi);
    }
}

/// Non-decreasing and within [0, 255].
pub fn make_monotone(lut: &mut [f64; 256]) {
    let mut floor = 0.0f64;
    for v in lut.iter_mut() {
        *v = v.clamp(floor, 255.0);
        floor = *v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_the_covered_range_the_curve_moves_levels_no_more_than_at_its_end() {
        // A curve that lifts blacks: y = 30 + 0.9 x on [60, 200].
        let mut lut: [f64; 256] = std::array::from_fn(|v| 30.0 + 0.9 * v as f64);
        extend(&mut lut, 60, 200);
        for v in 0..60 {
            // End slope 0.9 would move level 0 by 6 more than the identity slope: identity wins.
            assert!((lut[v] - v as f64 - (lut[60] - 60.0)).abs() < 1e-9, "{v}");
        }
        for v in 201..256 {
            // Above, the end slope 0.9 brings the curve back towards identity: it is kept.
            assert!((lut[v] - (lut[200] + 0.9 * (v as f64 - 200.0))).abs() < 1e-9);
        }
    }
}
