//! Image comparison for the benches: PSNR over RGB and SSIM on luma.
#![allow(dead_code)]

use image::RgbImage;

pub fn psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    let se: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let mse = se / a.as_raw().len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

/// Mean SSIM of the luma over 8×8 windows.
pub fn ssim(a: &RgbImage, b: &RgbImage) -> f64 {
    let luma = |p: &image::Rgb<u8>| {
        0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
    };
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let (w, h) = a.dimensions();
    let (mut sum, mut n) = (0.0, 0usize);
    for y0 in (0..h.saturating_sub(7)).step_by(8) {
        for x0 in (0..w.saturating_sub(7)).step_by(8) {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for y in y0..y0 + 8 {
                for x in x0..x0 + 8 {
                    let (u, v) = (luma(a.get_pixel(x, y)), luma(b.get_pixel(x, y)));
                    (sa, sb, saa, sbb, sab) =
                        (sa + u, sb + v, saa + u * u, sbb + v * v, sab + u * v);
                }
            }
            let (ma, mb) = (sa / 64.0, sb / 64.0);
            let (va, vb, cov) = (
                saa / 64.0 - ma * ma,
                sbb / 64.0 - mb * mb,
                sab / 64.0 - ma * mb,
            );
            sum += ((2.0 * ma * mb + c1) * (2.0 * cov + c2))
                / ((ma * ma + mb * mb + c1) * (va + vb + c2));
            n += 1;
        }
    }
    sum / n.max(1) as f64
}
