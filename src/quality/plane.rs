//! A grey plane (f32 per pixel) and the validity mask the measures share.

use image::{GrayImage, RgbImage};

/// Row-major f32 values, pixel centres at integer coordinates.
#[derive(Clone, Debug)]
pub struct Plane {
    pub w: usize,
    pub h: usize,
    pub data: Vec<f32>,
}

impl Plane {
    /// Luma (Rec. 601 weights) of encoded 8-bit values, in levels 0–255.
    #[must_use]
    pub fn luma(img: &RgbImage) -> Plane {
        let data = img
            .pixels()
            .map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
            .collect();
        Plane {
            w: img.width() as usize,
            h: img.height() as usize,
            data,
        }
    }

    #[must_use]
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.w + x]
    }

    /// `k`×`k` box average (the last partial row/column is dropped).
    #[must_use]
    pub fn shrink(&self, k: usize) -> Plane {
        let k = k.max(1);
        let (w, h) = (self.w / k, self.h / k);
        let mut data = vec![0f32; w * h];
        for y in 0..h * k {
            let row = &self.data[y * self.w..y * self.w + w * k];
            let out = &mut data[(y / k) * w..(y / k + 1) * w];
            for (o, chunk) in out.iter_mut().zip(row.chunks_exact(k)) {
                *o += chunk.iter().sum::<f32>();
            }
        }
        let norm = 1.0 / (k * k) as f32;
        data.iter_mut().for_each(|v| *v *= norm);
        Plane { w, h, data }
    }

    /// Bilinear sample; `None` outside the plane.
    #[must_use]
    pub fn sample(&self, x: f64, y: f64) -> Option<f32> {
        if !(x >= 0.0 && y >= 0.0 && x <= (self.w - 1) as f64 && y <= (self.h - 1) as f64) {
            return None;
        }
        let (x0, y0) = (x as usize, y as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
        let (a, b) = (self.at(x0, y0), self.at(x1, y0));
        let (c, d) = (self.at(x0, y1), self.at(x1, y1));
        let top = a + (b - a) * fx;
        let bottom = c + (d - c) * fx;
        Some(top + (bottom - top) * fy)
    }
}

/// Pixels at least `border` px inside the coverage `valid` (non-zero = covered). The coverage of
/// a warp is a convex quadrilateral, so each row covers one interval and a pixel is that far
/// inside when the rows `border` above and below cover it with `border` to spare.
#[must_use]
pub fn inner_mask(valid: &GrayImage, border: u32) -> Vec<bool> {
    let (w, h) = (valid.width() as usize, valid.height() as usize);
    let b = border as usize;
    // Per row: first covered pixel and one past the last (empty rows: (w, 0)).
    let spans: Vec<(usize, usize)> = valid
        .as_raw()
        .chunks_exact(w.max(1))
        .map(|row| {
            let lo = row.iter().position(|&v| v > 0).unwrap_or(w);
            let hi = row.iter().rposition(|&v| v > 0).map_or(0, |i| i + 1);
            (lo, hi)
        })
        .collect();
    let mut ok = vec![false; w * h];
    for y in b..h.saturating_sub(b) {
        let (a, c) = (spans[y - b], spans[y + b]);
        let (lo, hi) = (a.0.max(c.0) + b, a.1.min(c.1).saturating_sub(b));
        if lo < hi {
            ok[y * w + lo..y * w + hi].fill(true);
        }
    }
    ok
}

/// A mask shrunk like [`Plane::shrink`]: a cell is valid when every pixel in it is.
#[must_use]
pub fn shrink_mask(ok: &[bool], w: usize, h: usize, k: usize) -> Vec<bool> {
    let k = k.max(1);
    let (sw, sh) = (w / k, h / k);
    let mut out = vec![true; sw * sh];
    for y in 0..sh * k {
        for x in 0..sw * k {
            if !ok[y * w + x] {
                out[(y / k) * sw + x / k] = false;
            }
        }
    }
    out
}
