//! Tunable settings of the registration. Every knob a user might want lives here so that the
//! integrator can expose it as a config key; defaults are tuned on the synthetic benchmark.

use super::Model;

/// Registration settings. Lengths are in pixels of the pyramid level they act on unless noted.
#[derive(Clone, Debug)]
pub struct AlignParams {
    /// Geometric model of the final refinement (the coarse stages are always similarity).
    pub model: Model,
    /// Shortest side (px at working resolution, either photo) worth registering: below it there
    /// are too few pixels to tell a match from chance, so [`super::estimate`] returns the identity
    /// with confidence 0 (review then holds the case). Empty images are never registered.
    pub min_side: u32,
    /// Number of pyramid levels (each halves the previous one; level 0 = working resolution).
    pub pyramid_levels: u32,
    /// Finest level refined (0 = working resolution; 1 = half, faster, ~0.1 px less precise).
    pub finest_level: u32,
    /// Estimates below this confidence are flagged for review.
    pub min_confidence: f64,
    /// Review bound on |rotation|, degrees.
    pub max_rotation_deg: f64,
    /// Review bounds on the scale (framing change).
    pub min_scale: f64,
    pub max_scale: f64,
    /// Review bound on the camera shift (the fixed centre's offset from the centre as seen in
    /// the moving image), fraction of the fixed width.
    pub max_shift: f64,
    /// Review bound on the singular-value ratio (affine model only; 1 = no shear/stretch).
    pub max_anisotropy: f64,
    /// Long side (px) of the pyramid level used for Fourier–Mellin.
    pub fm_size: u32,
    /// Log-polar grid: angle bins over 180°, log-radius bins.
    pub fm_angles: usize,
    pub fm_radii: usize,
    /// Log-polar radius range as fractions of the FFT size.
    pub fm_min_radius: f64,
    pub fm_max_radius: f64,
    /// Rotation/scale peaks kept, translation peaks kept per rotation/scale peak.
    pub fm_rotation_candidates: usize,
    pub fm_shift_candidates: usize,
    /// Relative slack on the search bounds so that hypotheses just outside them are still
    /// found (and then flagged by review rather than replaced by a wrong in-bounds one).
    pub fm_bounds_margin: f64,
    /// Local contrast normalisation: box radius (applied twice) and noise floor (grey levels).
    pub norm_radius: usize,
    pub norm_eps: f32,
    /// Tukey biweight constant in units of the MAD residual scale.
    pub ecc_tukey_c: f64,
    /// Lower bound of the residual scale (normalised units) so perfect matches stay stable.
    pub ecc_sigma_floor: f64,
    /// Convergence: stop when the frame corners move less than this (px of the level).
    pub ecc_epsilon_px: f64,
    /// Iterations per level for the final refinement, and for screening each hypothesis.
    pub ecc_iterations: usize,
    pub ecc_screen_iterations: usize,
    /// Minimum number of overlapping samples for a refinement step.
    pub ecc_min_samples: usize,
    /// Sample stride at the finest level (2 = a quarter of the pixels: speed over a little
    /// precision).
    pub ecc_finest_stride: usize,
    /// Screening: at most this many hypotheses (best pre-scores first) are refined; screening
    /// stops at the first whose tile NCC reaches `screen_accept_ncc`.
    pub screen_hypotheses: usize,
    pub screen_accept_ncc: f64,
    /// When the best screened hypothesis has a tile NCC below this, a feature match (ORB-like +
    /// RANSAC at pyramid level `feature_level`) is tried as one more hypothesis (0 disables).
    pub feature_fallback_below: f64,
    pub feature_level: u32,
    /// Confidence: tiles per side, minimum covered fraction of a tile, tile-NCC quantile used.
    pub conf_tiles: usize,
    pub conf_tile_coverage: f64,
    pub conf_tile_quantile: f64,
    /// Confidence mapping: tile NCC at which confidence is 0 and 1.
    pub conf_ncc_zero: f64,
    pub conf_ncc_full: f64,
    /// Overlap fraction below which confidence is scaled down proportionally.
    pub conf_min_overlap: f64,
}

impl Default for AlignParams {
    fn default() -> Self {
        Self {
            model: Model::Similarity,
            min_side: 32,
            pyramid_levels: 4,
            finest_level: 1,
            min_confidence: 0.5,
            max_rotation_deg: 20.0,
            min_scale: 0.7,
            max_scale: 1.45,
            max_shift: 0.25,
            max_anisotropy: 1.15,
            fm_size: 256,
            fm_angles: 256,
            fm_radii: 128,
            fm_min_radius: 0.02,
            fm_max_radius: 0.4,
            fm_rotation_candidates: 3,
            fm_shift_candidates: 2,
            fm_bounds_margin: 0.1,
            norm_radius: 4,
            norm_eps: 2.0,
            ecc_tukey_c: 4.685,
            ecc_sigma_floor: 0.02,
            ecc_epsilon_px: 0.01,
            ecc_iterations: 30,
            ecc_screen_iterations: 15,
            ecc_min_samples: 200,
            ecc_finest_stride: 2,
            screen_hypotheses: 4,
            screen_accept_ncc: 0.6,
            feature_fallback_below: 0.4,
            feature_level: 1,
            conf_tiles: 8,
            conf_tile_coverage: 0.5,
            conf_tile_quantile: 0.6,
            conf_ncc_zero: 0.15,
            conf_ncc_full: 0.45,
            conf_min_overlap: 0.3,
        }
    }
}
