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
    let b = params.block.max(1);
    let (w, h) = (
        fixed.width().min(moving.width()).min(valid.width()),
        fixed.height().min(moving.height()).min(valid.height()),
    );
    let n = f64::from(b * b);
    for by in 0..h / b {
        for bx in 0..w / b {
            let mut sf = [0u32; 3];
            let mut sm = [0u32; 3];
            let mut ok = true;
            'block: for y in by * b..(by + 1) * b {
                for x in bx * b..(bx + 1) * b {
                    if valid.get_pixel(x, y).0[0] == 0 {
                        ok = false;
                        break 'block;
                    }
                    let (f, m) = (fixed.get_pixel(x, y).0, moving.get_pixel(x, y).0);
                    for c in 0..3 {
                        sf[c] += u32::from(f[c]);
                        sm[c] += u32::from(m[c]);
                    }
                }
            }
            if !ok {
                continue;
            }
            for c in 0..3 {
                let (f, m) = (
                    (f64::from(sf[c]) / n).round() as usize,
                    (f64::from(sm[c]) / n).round() as usize,
                );
                hist[c][m * 256 + f] += 1;
            }
        }
    }
    hist
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
}

impl Problem {
    /// Tukey biweight loss summed over the bins (bounded: outliers add a constant).
    fn loss(&self, log_gain: f64, gamma: f64) -> f64 {
        let pred = curve(log_gain.exp(), gamma);
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
    let prob = Problem {
        bins,
        c: params.tukey_c,
    };
    let lg_max = params.max_gain.max(1.0).ln();
    let bounds = [(-lg_max, lg_max), (params.min_gamma, params.max_gamma)];
    let mut best = (f64::INFINITY, [0.0, 1.0f64.clamp(bounds[1].0, bounds[1].1)]);
    let steps = [
        params.search_log_gain_step.max(1e-3),
        params.search_gamma_step.max(1e-3),
    ];
    let grid = |k: usize| {
        let n = ((bounds[k].1 - bounds[k].0) / steps[k]).ceil() as usize;
        (0..=n).map(move |i| (bounds[k].0 + i as f64 * steps[k]).min(bounds[k].1))
    };
    for g in grid(0) {
        for y in grid(1) {
            let l = prob.loss(g, y);
            if l < best.0 {
                best = (l, [g, y]);
            }
        }
    }
    let p = pattern_search(&prob, best.1, steps, bounds);
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

/// Compass search within bounds, halving the steps when no neighbour improves.
fn pattern_search(
    prob: &Problem,
    mut p: [f64; 2],
    mut steps: [f64; 2],
    bounds: [(f64, f64); 2],
) -> [f64; 2] {
    let mut cur = prob.loss(p[0], p[1]);
    while steps[0] > 1e-4 || steps[1] > 1e-4 {
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
