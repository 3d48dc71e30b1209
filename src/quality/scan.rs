//! One pass over the pixel pairs, shared by every per-pixel measure: the grey planes that blur
//! and perspective use, the clipping counts of [`super::exposure`] and the few pixels that
//! [`super::shine`] looks at further. One pass instead of four is most of the gate's speed.

use image::RgbImage;

use super::exposure::ExposureParams;
use super::plane::Plane;
use super::shine::ShineParams;

/// What the pass found over the valid pixels.
pub struct Scan {
    /// Grey planes ([`Plane::from_rgb`], bit for bit) of the before and the warped after photo.
    pub before: Plane,
    pub after: Plane,
    /// Valid pixels.
    pub valid: u32,
    /// Valid pixels newly clipped / newly crushed (see [`super::exposure`]).
    pub highlights: u32,
    pub shadows: u32,
    /// Indices of valid pixels near white, colourless and much brighter than the before's:
    /// the candidates for new specular shine.
    pub shine: Vec<usize>,
}

impl Scan {
    /// (highlights, shadows): shares of the valid pixels newly clipped and newly crushed.
    #[must_use]
    pub fn clipping(&self) -> (f32, f32) {
        let n = self.valid.max(1) as f32;
        (self.highlights as f32 / n, self.shadows as f32 / n)
    }
}

/// The grey level [`Plane::from_rgb`] gives a pixel (the same operations, so the same bits).
fn luma(p: &[u8]) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

/// Scan `before` and `after` (same size) over the `ok` pixels.
#[must_use]
pub fn scan(
    before: &RgbImage,
    after: &RgbImage,
    ok: &[bool],
    e: &ExposureParams,
    s: &ShineParams,
) -> Scan {
    let (w, h) = (before.width() as usize, before.height() as usize);
    // The planes first, in a loop the compiler vectorises; then the counts on the bytes.
    let plane = |img: &RgbImage| img.as_raw().chunks_exact(3).map(luma).collect::<Vec<f32>>();
    let (lb, la) = (plane(before), plane(after));
    let (mut valid, mut highlights, mut shadows) = (0u32, 0u32, 0u32);
    let mut shine = Vec::new();
    let pixels = before
        .as_raw()
        .chunks_exact(3)
        .zip(after.as_raw().chunks_exact(3));
    for (i, ((b, a), &ok)) in pixels.zip(ok).enumerate() {
        if !ok {
            continue;
        }
        let (bm, am) = (b[0].max(b[1]).max(b[2]), a[0].max(a[1]).max(a[2]));
        valid += 1;
        highlights += u32::from(am >= e.clip_high && bm <= e.detail_high);
        shadows += u32::from(am <= e.crush_low && bm >= e.detail_low);
        // Cheap byte tests first: a candidate is bright in its largest channel and colourless.
        if am < s.min_luma as u8 || am - a[0].min(a[1]).min(a[2]) > s.max_chroma {
            continue;
        }
        if la[i] >= s.min_luma && la[i] - lb[i] >= s.min_rise {
            shine.push(i);
        }
    }
    Scan {
        before: Plane { w, h, data: lb },
        after: Plane { w, h, data: la },
        valid,
        highlights,
        shadows,
        shine,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_are_the_registrations_bit_for_bit() {
        let img = RgbImage::from_fn(37, 23, |x, y| {
            image::Rgb([(x * 7) as u8, (y * 11) as u8, ((x * y) % 251) as u8])
        });
        let ok = vec![true; 37 * 23];
        let s = scan(
            &img,
            &img,
            &ok,
            &ExposureParams::default(),
            &ShineParams::default(),
        );
        assert_eq!(s.before.data, Plane::from_rgb(&img).data);
        assert_eq!(s.valid, 37 * 23);
    }
}
