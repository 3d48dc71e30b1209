//! Keystone: the camera tilt of a later photo that registration could not place at all.
//!
//! A strong change of camera angle (beyond about 15°) can defeat the similarity registration:
//! the pair is then held as a mismatch, which tells staff nothing they can act on, and
//! [`super::perspective`] has no aligned photo to measure. Such a pair still shows the same
//! scalp, so feature matches between the two working copies (the oriented-FAST/BRIEF features
//! of `align::baseline`) agree on one homography; RANSAC finds it among the false matches, a
//! least-squares fit on its inliers refines it, and its projective row gives the tilt exactly as
//! in [`super::perspective`] (each photo in its own normalised frame, same focal length
//! assumption, divided by the magnification at the centre). Two photos
//! of different scenes leave no homography with enough inliers and read no tilt, so this never
//! turns a true mismatch into a perspective fault.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::perspective::{self, Frame, H3, Match, PerspectiveParams};
use crate::align::baseline::{SplitMix64, feature_pairs};

/// Settings of the keystone rescue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeystoneParams {
    /// RANSAC draws of four matches.
    pub iterations: u32,
    /// A match agrees with a homography within this distance (px of the working copy).
    pub tolerance_px: f64,
    /// Inliers needed before the homography is believed.
    pub min_inliers: usize,
    /// Share of all matches that must be inliers.
    pub min_inlier_share: f64,
}

impl Default for KeystoneParams {
    fn default() -> Self {
        Self {
            iterations: 1500,
            tolerance_px: 3.0,
            min_inliers: 24,
            min_inlier_share: 0.2,
        }
    }
}

/// Tilt (degrees) of `after`'s camera against `before`'s from feature matches of the two
/// working copies (not aligned); `None` when no homography is supported by enough matches.
#[must_use]
pub fn tilt_deg(
    before: &RgbImage,
    after: &RgbImage,
    p: &KeystoneParams,
    persp: &PerspectiveParams,
) -> Option<f32> {
    let (w, h) = (f64::from(before.width()), f64::from(before.height()));
    let frame = Frame {
        f: persp.focal_diag * w.hypot(h),
        c: [(w - 1.0) / 2.0, (h - 1.0) / 2.0],
    };
    // Each photo in its own normalised frame, so the magnification that `tilt_of` divides by
    // is the framing's, whatever the two resolutions.
    let (aw, ah) = (f64::from(after.width()), f64::from(after.height()));
    let after_frame = Frame {
        f: persp.focal_diag * aw.hypot(ah),
        c: [(aw - 1.0) / 2.0, (ah - 1.0) / 2.0],
    };
    let matches: Vec<Match> = feature_pairs(before, after)
        .into_iter()
        .map(|(moving, fixed)| Match {
            from: frame.to_norm(fixed),
            to: after_frame.to_norm(moving),
            weight: 1.0,
        })
        .collect();
    if matches.len() < p.min_inliers.max(4) {
        return None;
    }
    let tol = p.tolerance_px / after_frame.f;
    let best = ransac(&matches, tol, p.iterations)?;
    // Refit on the inliers and count again.
    let ones: Vec<f64> = inliers(&matches, &best, tol)
        .iter()
        .map(|&i| f64::from(u8::from(i)))
        .collect();
    let refit = perspective::solve_dlt(&matches, &ones)?;
    let n = inliers(&matches, &refit, tol)
        .iter()
        .filter(|&&i| i)
        .count();
    let enough = n >= p.min_inliers && n as f64 >= p.min_inlier_share * matches.len() as f64;
    enough.then(|| perspective::tilt_of(&refit))
}

/// Which matches `h` carries within `tol` (normalised units).
fn inliers(m: &[Match], h: &H3, tol: f64) -> Vec<bool> {
    m.iter()
        .map(|mt| {
            let q = perspective::apply_h(h, mt.from);
            (q[0] - mt.to[0]).hypot(q[1] - mt.to[1]) < tol
        })
        .collect()
}

/// The homography through four random matches that carries the most matches (deterministic).
fn ransac(m: &[Match], tol: f64, iterations: u32) -> Option<H3> {
    let mut rng = SplitMix64(0x6B65_7973);
    let mut best: Option<(usize, H3)> = None;
    let mut weights = vec![0.0; m.len()];
    for _ in 0..iterations {
        let pick: [usize; 4] = std::array::from_fn(|_| (rng.next_u64() % m.len() as u64) as usize);
        weights.iter_mut().for_each(|w| *w = 0.0);
        pick.iter().for_each(|&i| weights[i] = 1.0);
        let Some(h) = perspective::solve_dlt(m, &weights) else {
            continue;
        };
        let n = inliers(m, &h, tol).iter().filter(|&&i| i).count();
        if best.as_ref().is_none_or(|(b, _)| n > *b) {
            best = Some((n, h));
        }
    }
    best.map(|(_, h)| h)
}
