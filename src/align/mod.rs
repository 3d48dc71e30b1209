//! Registration: the 2×3 matrix that maps a later photo's pixels onto the before photo's.
//!
//! Pixel centres are at integer coordinates.

/// Maps pixel (x, y) of one image to another: `[[a, b, tx], [c, d, ty]]`.
pub type Matrix = [[f64; 3]; 2];

pub const IDENTITY: Matrix = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];

/// `m` applied to point `p`.
pub fn apply(m: &Matrix, p: [f64; 2]) -> [f64; 2] {
    [
        m[0][0] * p[0] + m[0][1] * p[1] + m[0][2],
        m[1][0] * p[0] + m[1][1] * p[1] + m[1][2],
    ]
}

/// `a` after `b`.
pub fn compose(a: &Matrix, b: &Matrix) -> Matrix {
    let mut out = [[0.0; 3]; 2];
    for r in 0..2 {
        for c in 0..3 {
            out[r][c] = a[r][0] * b[0][c] + a[r][1] * b[1][c] + if c == 2 { a[r][2] } else { 0.0 };
        }
    }
    out
}

/// The inverse, or `None` when singular.
pub fn invert(m: &Matrix) -> Option<Matrix> {
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    if det.abs() < 1e-12 {
        return None;
    }
    let (a, b, c, d) = (m[1][1] / det, -m[0][1] / det, -m[1][0] / det, m[0][0] / det);
    Some([
        [a, b, -(a * m[0][2] + b * m[1][2])],
        [c, d, -(c * m[0][2] + d * m[1][2])],
    ])
}

/// Resample `src` into `out_w`×`out_h`: output pixel (x, y) takes the colour at
/// `apply(out_to_src, (x, y))`, bilinear, supersampling the pixel's footprint when shrinking so
/// it is antialiased. Points outside the source take the nearest edge colour.
#[must_use]
pub fn warp(src: &image::RgbImage, out_to_src: &Matrix, out_w: u32, out_h: u32) -> image::RgbImage {
    use rayon::prelude::*;
    let m = out_to_src;
    let scale = (m[0][0] * m[1][1] - m[0][1] * m[1][0]).abs().sqrt();
    let n = scale.ceil().max(1.0) as usize;
    let mut out = image::RgbImage::new(out_w, out_h);
    let row_len = out_w as usize * 3;
    out.par_chunks_mut(row_len)
        .enumerate()
        .for_each(|(y, row)| {
            for x in 0..out_w as usize {
                let mut acc = [0.0f32; 3];
                for j in 0..n {
                    for i in 0..n {
                        let ox = x as f64 - 0.5 + (i as f64 + 0.5) / n as f64;
                        let oy = y as f64 - 0.5 + (j as f64 + 0.5) / n as f64;
                        let p = apply(m, [ox, oy]);
                        let c = bilinear(src, p[0], p[1]);
                        for k in 0..3 {
                            acc[k] += c[k];
                        }
                    }
                }
                let inv = 1.0 / (n * n) as f32;
                for k in 0..3 {
                    row[x * 3 + k] = (acc[k] * inv).round().clamp(0.0, 255.0) as u8;
                }
            }
        });
    out
}

fn bilinear(src: &image::RgbImage, x: f64, y: f64) -> [f32; 3] {
    let (w, h) = (src.width() as i64, src.height() as i64);
    let x = x.clamp(0.0, (w - 1) as f64);
    let y = y.clamp(0.0, (h - 1) as f64);
    let (x0, y0) = (x.floor() as i64, y.floor() as i64);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
    let px = |x: i64, y: i64| src.get_pixel(x as u32, y as u32).0;
    let (a, b, c, d) = (px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1));
    let mut out = [0.0; 3];
    for k in 0..3 {
        let top = f32::from(a[k]) * (1.0 - fx) + f32::from(b[k]) * fx;
        let bottom = f32::from(c[k]) * (1.0 - fx) + f32::from(d[k]) * fx;
        out[k] = top * (1.0 - fy) + bottom * fy;
    }
    out
}
