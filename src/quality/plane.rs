//! A grey plane (f32 per pixel) and the validity mask the measures share.

use image::GrayImage;

/// The registration's grey plane (Rec. 601 luma of the encoded values, `Plane::from_rgb`),
/// with what the measures add to it.
pub use crate::align::{Plane, luma};

impl Plane {
    /// `k`×`k` box average (the last partial row/column is dropped).
    #[must_use]
    pub fn shrink(&self, k: usize) -> Plane {
        let k = k.max(1);
        let (w, h) = (self.w / k, self.h / k);
        let mut data = vec![0f32; w * h];
        if k == 2 {
            // The common case (every shrink of a 1024 px working copy), in the same order of
            // additions as the general loop, so the same bits, at a third of its time.
            for (y, out) in data.chunks_exact_mut(w.max(1)).enumerate() {
                let r0 = &self.data[2 * y * self.w..][..2 * w];
                let r1 = &self.data[(2 * y + 1) * self.w..][..2 * w];
                for ((o, a), b) in out
                    .iter_mut()
                    .zip(r0.chunks_exact(2))
                    .zip(r1.chunks_exact(2))
                {
                    *o = ((a[0] + a[1]) + (b[0] + b[1])) * 0.25;
                }
            }
            return Plane { w, h, data };
        }
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
    if k == 2 {
        for (y, cells) in out.chunks_exact_mut(sw.max(1)).enumerate() {
            let r0 = &ok[2 * y * w..][..2 * sw];
            let r1 = &ok[(2 * y + 1) * w..][..2 * sw];
            for ((c, a), b) in cells
                .iter_mut()
                .zip(r0.chunks_exact(2))
                .zip(r1.chunks_exact(2))
            {
                *c = a[0] & a[1] & b[0] & b[1];
            }
        }
        return out;
    }
    for y in 0..sh * k {
        let cells = &mut out[(y / k) * sw..(y / k + 1) * sw];
        for (cell, px) in cells
            .iter_mut()
            .zip(ok[y * w..y * w + sw * k].chunks_exact(k))
        {
            *cell &= !px.contains(&false);
        }
    }
    out
}

/// A pair's grey planes and their validity mask, at one scale.
pub struct Level {
    pub before: Plane,
    pub after: Plane,
    pub ok: Vec<bool>,
}

impl Level {
    /// This level shrunk by `k` (box average; a cell is valid when every pixel in it is).
    #[must_use]
    pub fn shrink(&self, k: usize) -> Level {
        Level {
            before: self.before.shrink(k),
            after: self.after.shrink(k),
            ok: shrink_mask(&self.ok, self.before.w, self.before.h, k),
        }
    }
}
