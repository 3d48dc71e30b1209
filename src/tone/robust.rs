//! Robust per-channel fit of gain and gamma on joint histograms of block-averaged values.
//!
//! Working on a 256 x 256 joint histogram makes the fit cost independent of the image size, and
//! a Tukey loss (bounded, so outliers add a constant) minimised by grid + pattern search avoids
//! the bias and the bad starting points that least squares / IRLS would have with a third of the
//! frame changed.

use image::{GrayImage, RgbImage};

use super::ToneParams;
use super::color::{srgb_decode, srgb_encode};

/// Per-channel joint histograms: index `moving * 256 + fixed`.
pub type Joint = Vec<u32>;

/// Block-average both images over valid blocks and accumulate the joint histograms.
#[must_use]
pub fn joint_histograms(
    fixed: &RgbImage,
    moving: &RgbImage,
    valid: &GrayImage,
    params: &ToneParams,
) -> [Joint; 3] {
    let mut hist: [Joint; 3] = std::array::from_fn(|_| vec![0; 256 * 256]);
    let b = params.block.max(1) as usize;
    let w = fixed.width().min(moving.width()).min(valid.width()) as usize;
    let h = fixed.height().min(moving.height()).min(valid.height()) as usize;
    let (fw, mw, vw) = (
        fixed.width() as usize,
        moving.width() as usize,
        valid.width() as usize,
    );
    let (fr, mr, vr) = (fixed.as_raw(), moving.as_raw(), valid.as_raw());
    let half = (b * b / 2) as u32;
    let n = (b * b) as u32;
    let mut sums = vec![[0u32; 7]; w / b];
    for by in 0..h / b {
        sums.iter_mut().for_each(|s| *s = [0; 7]);
        for y in by * b..(by + 1) * b {
            let (f, m, v) = (
                &fr[y * fw * 3..][..w * 3],
                &mr[y * mw * 3..][..w * 3],
                &vr[y * vw..][..w],
            );
            for x in 0..(w / b) * b {
                let s = &mut sums[x / b];
                for c in 0..3 {
                    s[c] += u32::from(f[3 * x + c]);
                    s[3 + c] += u32::from(m[3 * x + c]);
                }
                s[6] += u32::from(v[x] == 0);
            }
        }
        for s in sums.iter().filter(|s| s[6] == 0) {
            for (c, hc) in hist.iter_mut().enumerate() {
                let (f, m) = ((s[c] + half) / n, (s[3 + c] + half) / n);
                hc[m as usize * 256 + f as usize] += 1;
            }
        }
    }
    hist
}

/// Tables that make evaluating the model curve cheap: ln of the 8-bit levels, and sRGB decode
/// and encode sampled finely (linear interpolation is accurate to ~0.01 level).
pub struct CurveTables {
    ln_level: [f64; 256],
    decode: Vec<f64>,
    encode: Vec<f64>,
}

const TABLE: usize = 4096;

impl CurveTables {
    #[must_use]
    pub fn new() -> Self {
        let grid = |f: fn(f64) -> f64| (0..=TABLE).map(|i| f(i as f64 / TABLE as f64)).collect();
        Self {
            ln_level: std::array::from_fn(|v| (v.max(1) as f64 / 255.0).ln()),
            decode: grid(srgb_decode),
            encode: grid(srgb_encode),
        }
    }

    fn lerp(t: &[f64], v: f64) -> f64 {
        let x = v.clamp(0.0, 1.0) * TABLE as f64;
        let i = (x as usize).min(TABLE - 1);
        t[i] + (x - i as f64) * (t[i + 1] - t[i])
    }

    /// `255 * encode(gain * decode((v/255)^gamma))` for the levels in `range`.
    fn curve(&self, gain: f64, gamma: f64, out: &mut [f64; 256], range: std::ops::Range<usize>) {
        for v in range {
            let e = (gamma * self.ln_level[v]).exp();
            out[v] = 255.0 * Self::lerp(&self.encode, gain * Self::lerp(&self.decode, e));
        }
    }
}

impl Default for CurveTables {
    fn default() -> Self {
        Self::new()
    }
}

/// The model curve on 8-bit levels: `255 * encode(gain * decode((v/255)^gamma))`.
#[must_use]
pub fn curve(gain: f64, gamma: f64) -> [f64; 256] {
    std::array::from_fn(|v| {
        255.0 * srgb_encode((gain * srgb_decode((v as f64 / 255.0).powf(gamma))).min(1.0))
    })
}

/// Result for one channel.
pub struct ChannelFit {
    pub gain: f64,
    pub gamma: f64,
    pub inlier_fraction: f64,
    pub clamped: bool,
}

struct Problem {
    /// (moving level, fixed level, count) of the non-empty, unclipped bins.
    bins: Vec<(u8, f64, f64)>,
    c: f64,
    tables: CurveTables,
    /// Moving levels present in the bins.
    range: std::ops::Range<usize>,
}

impl Problem {
    /// Tukey biweight loss summed over the bins (bounded: outliers add a constant).
    fn loss(&self, log_gain: f64, gamma: f64) -> f64 {
        let mut pred = [0.0; 256];
        self.tables
            .curve(log_gain.exp(), gamma, &mut pred, self.range.clone());
        let c2 = self.c * self.c;
        self.bins
            .iter()
            .map(|&(m, f, n)| {
                let q = ((f - pred[m as usize]).powi(2) / c2).min(1.0);
                n * (1.0 - (1.0 - q).powi(3))
            })
            .sum()
    }
}

/// Robust fit of one channel's joint histogram.
#[must_use]
pub fn fit_channel(hist: &Joint, params: &ToneParams) -> ChannelFit {
    let (lo, hi) = (usize::from(params.clip_low), usize::from(params.clip_high));
    let bins: Vec<(u8, f64, f64)> = hist
        .iter()
        .enumerate()
        .filter(|&(i, &n)| {
            n > 0 && (lo + 1..hi).contains(&(i / 256)) && (lo + 1..hi).contains(&(i % 256))
        })
        .map(|(i, &n)| ((i / 256) as u8, (i % 256) as f64, f64::from(n)))
        .collect();
    let total: f64 = bins.iter().map(|b| b.2).sum();
    if total < 1.0 {
        return ChannelFit {
            gain: 1.0,
            gamma: 1.0,
            inlier_fraction: 0.0,
            clamped: false,
        };
    }
    let range = bins.iter().map(|b| b.0 as usize).min().unwrap_or(0)
        ..bins.iter().map(|b| b.0 as usize + 1).max().unwrap_or(0);
    let prob = Problem {
        bins,
        c: params.tukey_c,
        tables: CurveTables::new(),
        range,
    };
    let lg_max = params.max_gain.max(1.0).ln();
    let bounds = [(-lg_max, lg_max), (params.min_gamma, params.max_gamma)];
    let steps = [
        params.search_log_gain_step.max(1e-3),
        params.search_gamma_step.max(1e-3),
    ];
    let start = grid_search(&prob, steps, bounds);
    let p = pattern_search(&prob, start, steps, bounds);
    let pred = curve(p[0].exp(), p[1]);
    let inliers: f64 = prob
        .bins
        .iter()
        .filter(|b| (b.1 - pred[b.0 as usize]).abs() < prob.c)
        .map(|b| b.2)
        .sum();
    let at_bound =
        |k: usize| (p[k] - bounds[k].0).abs() < 1e-3 || (p[k] - bounds[k].1).abs() < 1e-3;
    ChannelFit {
        gain: p[0].exp(),
        gamma: p[1],
        inlier_fraction: inliers / total,
        clamped: at_bound(0) || at_bound(1),
    }
}

/// Best point of a coarse grid over (ln gain, gamma): the bounded loss has local minima, so
/// the local search starts from the global grid optimum.
fn grid_search(prob: &Problem, steps: [f64; 2], bounds: [(f64, f64); 2]) -> [f64; 2] {
    let grid = |k: usize| {
        let n = ((bounds[k].1 - bounds[k].0) / steps[k]).ceil() as usize;
        (0..=n).map(move |i| (bounds[k].0 + i as f64 * steps[k]).min(bounds[k].1))
    };
    let mut best = (f64::INFINITY, [0.0, 1.0f64.clamp(bounds[1].0, bounds[1].1)]);
    for g in grid(0) {
        for y in grid(1) {
            let l = prob.loss(g, y);
            if l < best.0 {
                best = (l, [g, y]);
            }
        }
    }
    best.1
}

/// Compass search within bounds, halving the steps when no neighbour improves.
fn pattern_search(
    prob: &Problem,
    mut p: [f64; 2],
    mut steps: [f64; 2],
    bounds: [(f64, f64); 2],
) -> [f64; 2] {
    let mut cur = prob.loss(p[0], p[1]);
    while steps[0] > 1e-3 || steps[1] > 1e-3 {
        let mut moved = false;
        for k in 0..2 {
            for dir in [-1.0, 1.0] {
                let mut q = p;
                q[k] = (q[k] + dir * steps[k]).clamp(bounds[k].0, bounds[k].1);
                let l = prob.loss(q[0], q[1]);
                if l < cur {
                    (cur, p, moved) = (l, q, true);
                }
            }
        }
        if !moved {
            steps = steps.map(|s| s * 0.5);
        }
    }
    p
}
