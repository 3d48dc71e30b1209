//! Single-channel f32 planes and the image pyramid the registration works on: grey conversion,
//! 2x box reduction, box blurs, local contrast normalisation and gradients.

use image::RgbImage;

/// A row-major single-channel f32 image.
#[derive(Clone, Debug)]
pub struct Plane {
    pub w: usize,
    pub h: usize,
    pub data: Vec<f32>,
}

/// The grey level of one RGB pixel (Rec. 601 weights on the encoded values, 0..255), as
/// [`Plane::from_rgb`] computes it: code that reads single pixels gets the same bits.
#[must_use]
pub fn luma(p: &[u8]) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

impl Plane {
    #[must_use]
    pub fn new(w: usize, h: usize) -> Self {
        Self {
            w,
            h,
            data: vec![0.0; w * h],
        }
    }

    #[inline]
    #[must_use]
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.w + x]
    }

    /// Luma (Rec. 601 weights on the encoded values, 0..255): registration does not need
    /// linear light, and local normalisation removes the tone curve anyway.
    #[must_use]
    pub fn from_rgb(img: &RgbImage) -> Self {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let data = img.as_raw().chunks_exact(3).map(luma).collect();
        Self { w, h, data }
    }

    /// 2x2 box reduction; pixel centre mapping `x_half = (x + 0.5) / 2 - 0.5`. A side of one
    /// pixel stays one pixel; an empty plane stays empty.
    #[must_use]
    pub fn half(&self) -> Self {
        if self.data.is_empty() {
            return Self::new(0, 0);
        }
        let (w, h) = ((self.w / 2).max(1), (self.h / 2).max(1));
        let mut out = Self::new(w, h);
        for y in 0..h {
            let r0 = &self.data[(2 * y).min(self.h - 1) * self.w..][..self.w];
            let r1 = &self.data[(2 * y + 1).min(self.h - 1) * self.w..][..self.w];
            let o = &mut out.data[y * w..][..w];
            for (x, v) in o.iter_mut().enumerate() {
                let (a, b) = (2 * x, (2 * x + 1).min(self.w - 1));
                *v = 0.25 * (r0[a] + r0[b] + r1[a] + r1[b]);
            }
        }
        out
    }

    /// Bilinear sample at (x, y); `None` outside the pixel-centre hull.
    #[inline]
    #[must_use]
    pub fn sample(&self, x: f32, y: f32) -> Option<f32> {
        if self.data.is_empty()
            || !(x >= 0.0 && y >= 0.0 && x <= (self.w - 1) as f32 && y <= (self.h - 1) as f32)
        {
            return None;
        }
        let (x0, y0) = (
            (x as usize).min(self.w.saturating_sub(2)),
            (y as usize).min(self.h.saturating_sub(2)),
        );
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let i = y0 * self.w + x0;
        let d = &self.data;
        let x1 = usize::from(self.w > 1);
        let y1 = if self.h > 1 { self.w } else { 0 };
        let top = d[i] + fx * (d[i + x1] - d[i]);
        let bot = d[i + y1] + fx * (d[i + y1 + x1] - d[i + y1]);
        Some(top + fy * (bot - top))
    }

    /// Mean of the plane.
    #[must_use]
    pub fn mean(&self) -> f32 {
        self.data.iter().map(|&v| f64::from(v)).sum::<f64>() as f32 / self.data.len().max(1) as f32
    }
}

/// Pyramid of the grey image, level 0 = input resolution, each next level half the size.
#[must_use]
pub fn build(img: &RgbImage, levels: usize) -> Vec<Plane> {
    let mut out = vec![Plane::from_rgb(img)];
    while out.len() < levels.max(1) {
        let next = out[out.len() - 1].half();
        if next.w < 16 || next.h < 16 {
            break;
        }
        out.push(next);
    }
    out
}

/// Box blur with radius `r` (window 2r+1), edges clamped; running sums so cost is independent
/// of the radius, and the vertical pass runs along rows to stay cache friendly.
#[must_use]
pub fn box_blur(p: &Plane, r: usize) -> Plane {
    let (w, h) = (p.w, p.h);
    if p.data.is_empty() {
        return p.clone();
    }
    let mut tmp = Plane::new(w, h);
    for y in 0..h {
        blur_line(&p.data[y * w..][..w], &mut tmp.data[y * w..][..w], r);
    }
    let row = |y: isize| &tmp.data[y.clamp(0, h as isize - 1) as usize * w..][..w];
    let ri = r as isize;
    let mut acc = vec![0.0f32; w];
    for k in -ri..=ri {
        acc.iter_mut().zip(row(k)).for_each(|(a, v)| *a += v);
    }
    let norm = 1.0 / (2 * r + 1) as f32;
    let mut out = Plane::new(w, h);
    for y in 0..h {
        let o = &mut out.data[y * w..][..w];
        o.iter_mut().zip(&acc).for_each(|(o, a)| *o = a * norm);
        let (add, sub) = (row(y as isize + ri + 1), row(y as isize - ri));
        for ((a, ad), sb) in acc.iter_mut().zip(add).zip(sub) {
            *a += ad - sb;
        }
    }
    out
}

fn blur_line(src: &[f32], dst: &mut [f32], r: usize) {
    let n = src.len();
    let at = |i: isize| src[i.clamp(0, n as isize - 1) as usize];
    let r = r as isize;
    let norm = 1.0 / (2 * r + 1) as f32;
    let mut acc: f32 = (-r..=r).map(at).sum();
    for (i, d) in dst.iter_mut().enumerate() {
        *d = acc * norm;
        let i = i as isize;
        acc += at(i + r + 1) - at(i - r);
    }
}

/// Local contrast normalisation: `(I - mean) / sqrt(var + eps^2)` over a (2r+1)^2 box (applied
/// twice, roughly Gaussian). Makes the planes of two photos comparable under different exposure,
/// white balance and tone curves, which are locally close to affine in intensity.
#[must_use]
pub fn local_normalise(p: &Plane, r: usize, eps: f32) -> Plane {
    let mean = box_blur(&box_blur(p, r), r);
    let mut sq = Plane::new(p.w, p.h);
    for ((s, &v), &m) in sq.data.iter_mut().zip(&p.data).zip(&mean.data) {
        *s = (v - m) * (v - m);
    }
    let var = box_blur(&box_blur(&sq, r), r);
    let mut out = Plane::new(p.w, p.h);
    let e2 = eps * eps;
    for (((o, &v), &m), &s) in out
        .data
        .iter_mut()
        .zip(&p.data)
        .zip(&mean.data)
        .zip(&var.data)
    {
        *o = (v - m) / (s + e2).sqrt();
    }
    out
}

/// Central-difference gradients (one-sided at the border).
#[must_use]
pub fn gradients(p: &Plane) -> (Plane, Plane) {
    let (w, h) = (p.w, p.h);
    let mut gx = Plane::new(w, h);
    let mut gy = Plane::new(w, h);
    for y in 0..h {
        let (ym, yp) = (y.saturating_sub(1), (y + 1).min(h - 1));
        let fy = if yp - ym == 2 { 0.5 } else { 1.0 };
        for x in 0..w {
            let (xm, xp) = (x.saturating_sub(1), (x + 1).min(w - 1));
            let fx = if xp - xm == 2 { 0.5 } else { 1.0 };
            gx.data[y * w + x] = fx * (p.at(xp, y) - p.at(xm, y));
            gy.data[y * w + x] = fy * (p.at(x, yp) - p.at(x, ym));
        }
    }
    (gx, gy)
}

/// Gradient magnitude of a plane.
#[must_use]
pub fn gradient_magnitude(p: &Plane) -> Plane {
    let (gx, gy) = gradients(p);
    let data = gx
        .data
        .iter()
        .zip(&gy.data)
        .map(|(a, b)| (a * a + b * b).sqrt())
        .collect();
    Plane {
        w: p.w,
        h: p.h,
        data,
    }
}
