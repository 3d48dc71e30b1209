//! Stateless lattice value noise for skin blotches, pores and wobbly
//! region boundaries. Stateless (hash of seed and lattice cell) so any scene
//! point can be evaluated independently and in parallel.

use super::mix64;

/// Hash of an integer lattice cell.
#[inline]
pub(crate) fn cell_hash(seed: u64, ix: i64, iy: i64) -> u64 {
    mix64(
        seed ^ (ix as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (iy as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F),
    )
}

/// Gradient at a lattice point: one of 16 unit directions, so no lattice
/// axis is preferred (value noise looked blocky on smooth skin).
#[inline]
fn gradient(seed: u64, ix: i64, iy: i64, dx: f64, dy: f64) -> f64 {
    let (gx, gy) = UNIT16[(cell_hash(seed, ix, iy) >> 60) as usize];
    gx * dx + gy * dy
}

const H: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// `(cos, sin)` of `k * 22.5°` for k in 0..16.
const UNIT16: [(f64, f64); 16] = [
    (1.0, 0.0),
    (0.923_879_532_511_286_7, 0.382_683_432_365_089_8),
    (H, H),
    (0.382_683_432_365_089_8, 0.923_879_532_511_286_7),
    (0.0, 1.0),
    (-0.382_683_432_365_089_8, 0.923_879_532_511_286_7),
    (-H, H),
    (-0.923_879_532_511_286_7, 0.382_683_432_365_089_8),
    (-1.0, 0.0),
    (-0.923_879_532_511_286_7, -0.382_683_432_365_089_8),
    (-H, -H),
    (-0.382_683_432_365_089_8, -0.923_879_532_511_286_7),
    (0.0, -1.0),
    (0.382_683_432_365_089_8, -0.923_879_532_511_286_7),
    (H, -H),
    (0.923_879_532_511_286_7, -0.382_683_432_365_089_8),
];

/// `f64::floor` is a libm call on baseline x86-64 (no SSE4.1); this is hot.
#[inline]
pub(crate) fn floor(x: f64) -> i64 {
    let i = x as i64;
    if (i as f64) > x { i - 1 } else { i }
}

/// 2-D gradient (Perlin) noise in `[-1, 1]` with unit lattice spacing.
pub(crate) fn value(seed: u64, x: f64, y: f64) -> f64 {
    let (ix, iy) = (floor(x), floor(y));
    let (tx, ty) = (x - ix as f64, y - iy as f64);
    // Quintic fade keeps the gradient continuous so shading has no creases.
    let sx = tx * tx * tx * (tx * (tx * 6.0 - 15.0) + 10.0);
    let sy = ty * ty * ty * (ty * (ty * 6.0 - 15.0) + 10.0);
    let a = gradient(seed, ix, iy, tx, ty);
    let b = gradient(seed, ix + 1, iy, tx - 1.0, ty);
    let c = gradient(seed, ix, iy + 1, tx, ty - 1.0);
    let d = gradient(seed, ix + 1, iy + 1, tx - 1.0, ty - 1.0);
    let top = a + (b - a) * sx;
    let bottom = c + (d - c) * sx;
    // 2-D Perlin noise stays within about ±0.71; stretch to roughly ±1.
    ((top + (bottom - top) * sy) * 1.4).clamp(-1.0, 1.0)
}

/// Fractal sum of `octaves` octaves starting at frequency `freq` (cycles per
/// scene unit), each half the amplitude of the previous. Octaves that would
/// alias at the pixel `footprint` fade out, so a low-resolution render shows
/// the low-pass version of a high-resolution one instead of sparkle.
pub(crate) fn fbm(seed: u64, p: [f64; 2], freq: f64, octaves: u32, footprint: f64) -> f64 {
    let mut sum = 0.0;
    let mut amp = 1.0;
    let mut norm = 0.0;
    let mut f = freq;
    for o in 0..octaves {
        let band = (1.5 - 2.0 * f * footprint).clamp(0.0, 1.0);
        if band > 0.0 {
            let s = seed.wrapping_add(o as u64 * 0x1234_5678_9ABC_DEF1);
            sum += amp * band * value(s, p[0] * f, p[1] * f);
        }
        norm += amp;
        amp *= 0.5;
        f *= 2.0;
    }
    sum / norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_noise_is_bounded_and_continuous() {
        let mut prev = value(7, 0.0, 0.3);
        for i in 1..2000 {
            let v = value(7, i as f64 * 0.001, 0.3);
            assert!((-1.0..=1.0).contains(&v));
            assert!((v - prev).abs() < 0.01, "jump at {i}");
            prev = v;
        }
    }

    #[test]
    fn fbm_fades_aliasing_octaves() {
        // At a huge footprint every octave is beyond Nyquist: flat result.
        assert_eq!(fbm(3, [0.3713, 0.1177], 500.0, 3, 1.0), 0.0);
        // (Off-lattice point: gradient noise is exactly zero on the lattice.)
        assert_ne!(fbm(3, [0.3713, 0.1177], 500.0, 3, 0.0), 0.0);
    }
}
