//! sRGB transfer functions and CIELAB (D65) conversion.

/// sRGB encoded [0, 1] -> linear [0, 1].
#[inline]
#[must_use]
pub fn srgb_decode(e: f64) -> f64 {
    if e <= 0.040_45 {
        e / 12.92
    } else {
        ((e + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear [0, 1] -> sRGB encoded [0, 1].
#[inline]
#[must_use]
pub fn srgb_encode(v: f64) -> f64 {
    if v <= 0.003_130_8 {
        12.92 * v
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// 8-bit sRGB -> CIELAB (D65 white, 2° observer). The levels are decoded through a table of the
/// same values (the safety check converts tens of thousands of pixels per photo).
#[must_use]
pub fn srgb_to_lab(rgb: [u8; 3]) -> [f64; 3] {
    static DECODE: std::sync::OnceLock<[f64; 256]> = std::sync::OnceLock::new();
    let table = DECODE.get_or_init(decode_table);
    let [r, g, b] = rgb.map(|v| table[usize::from(v)]);
    let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / 0.950_47;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175_0 * b;
    let z = (0.019_333_9 * r + 0.119_192_0 * g + 0.950_304_1 * b) / 1.088_83;
    let f = |t: f64| {
        const E: f64 = 216.0 / 24389.0;
        const K: f64 = 24389.0 / 27.0;
        if t > E {
            t.cbrt()
        } else {
            (K * t + 16.0) / 116.0
        }
    };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// 256-entry table of `srgb_to_lab`'s per-channel linearisation, for speed on whole images.
#[must_use]
pub fn decode_table() -> [f64; 256] {
    std::array::from_fn(|i| srgb_decode(i as f64 / 255.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_of_white_and_black() {
        let w = srgb_to_lab([255, 255, 255]);
        assert!(
            (w[0] - 100.0).abs() < 1e-3 && w[1].abs() < 1e-2 && w[2].abs() < 1e-2,
            "{w:?}"
        );
        assert!(srgb_to_lab([0, 0, 0])[0].abs() < 1e-9);
        // sRGB red, reference Lab (53.24, 80.09, 67.20).
        let r = srgb_to_lab([255, 0, 0]);
        assert!(
            (r[0] - 53.24).abs() < 0.05 && (r[1] - 80.09).abs() < 0.1 && (r[2] - 67.20).abs() < 0.1,
            "{r:?}"
        );
        for v in [0.0, 0.002, 0.2, 0.9] {
            assert!((srgb_decode(srgb_encode(v)) - v).abs() < 1e-12);
        }
    }
}
