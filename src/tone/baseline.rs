//! Benchmark baseline: whole-frame per-channel histogram matching (what a naive tool does). It
//! is fooled by the treatment, which shifts the after photo's histogram towards dark.

use image::{GrayImage, RgbImage};

/// Per-channel LUTs mapping `moving`'s histogram onto `fixed`'s, over the valid pixels.
#[must_use]
pub fn histogram_match_luts(
    fixed: &RgbImage,
    moving: &RgbImage,
    valid: Option<&GrayImage>,
) -> [[u8; 256]; 3] {
    let mut hf = [[0u64; 256]; 3];
    let mut hm = [[0u64; 256]; 3];
    for (i, (f, m)) in fixed.pixels().zip(moving.pixels()).enumerate() {
        let (x, y) = ((i as u32) % fixed.width(), (i as u32) / fixed.width());
        if valid.is_some_and(|v| v.get_pixel(x, y).0[0] == 0) {
            continue;
        }
        for c in 0..3 {
            hf[c][f.0[c] as usize] += 1;
            hm[c][m.0[c] as usize] += 1;
        }
    }
    std::array::from_fn(|c| {
        let (cf, cm) = (cdf(&hf[c]), cdf(&hm[c]));
        std::array::from_fn(|v| {
            // Smallest fixed level whose CDF reaches the moving level's CDF.
            cf.iter().position(|&p| p >= cm[v] - 1e-12).unwrap_or(255) as u8
        })
    })
}

fn cdf(h: &[u64; 256]) -> [f64; 256] {
    let total = h.iter().sum::<u64>().max(1) as f64;
    let mut acc = 0u64;
    std::array::from_fn(|i| {
        acc += h[i];
        acc as f64 / total
    })
}

/// Histogram-match `moving` (already warped into the fixed frame) to `fixed`.
#[must_use]
pub fn histogram_match_baseline(
    fixed: &RgbImage,
    moving: &RgbImage,
    valid: Option<&GrayImage>,
) -> RgbImage {
    let lut = histogram_match_luts(fixed, moving, valid);
    let mut out = moving.clone();
    for p in out.pixels_mut() {
        for c in 0..3 {
            p.0[c] = lut[c][p.0[c] as usize];
        }
    }
    out
}
