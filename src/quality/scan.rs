//! One pass over the pixel pairs, shared by every per-pixel measure: the shrunk grey planes that
//! blur and perspective use, the clipping counts of [`super::exposure`] and the few pixels that
//! [`super::shine`] looks at further. One pass instead of four is most of the gate's speed.
//!
//! The grey planes are averaged down as they are read, so no full-size plane is allocated
//! (unless the perspective's shrink factor is not a multiple of the blur's, see
//! [`super::measure`]): on this project's VMs, first touching a fresh 4 MB buffer costs more than
//! filling it.

use image::RgbImage;

use super::exposure::ExposureParams;
use super::plane::{Plane, luma};
use super::shine::ShineParams;

/// What the pass found over the valid pixels.
pub struct Scan {
    /// Grey planes of the before and the warped after photo shrunk by the pass's factor:
    /// [`Plane::from_rgb`] then [`Plane::shrink`], bit for bit.
    pub before: Plane,
    pub after: Plane,
    /// Valid pixels.
    pub valid: u32,
    /// Valid pixels newly clipped / newly crushed (see [`super::exposure`]).
    pub highlights: u32,
    pub shadows: u32,
    /// Indices (full size, row-major) of valid pixels near white, colourless and much brighter
    /// than the before's: the candidates for new specular shine.
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

/// Scan `before` and `after` (same size) over the `ok` pixels; the planes are shrunk by `k`.
#[must_use]
pub fn scan(
    before: &RgbImage,
    after: &RgbImage,
    ok: &[bool],
    k: usize,
    e: &ExposureParams,
    s: &ShineParams,
) -> Scan {
    let (w, h) = (before.width() as usize, before.height() as usize);
    let k = k.max(1);
    let (sw, sh) = (w / k, h / k);
    let (mut pb, mut pa) = (vec![0f32; sw * sh], vec![0f32; sw * sh]);
    let mut out = Scan {
        before: Plane::new(0, 0),
        after: Plane::new(0, 0),
        valid: 0,
        highlights: 0,
        shadows: 0,
        shine: Vec::new(),
    };
    let rows = before
        .as_raw()
        .chunks_exact(3 * w.max(1))
        .zip(after.as_raw().chunks_exact(3 * w.max(1)))
        .zip(ok.chunks_exact(w.max(1)));
    for (y, ((rb, ra), rok)) in rows.enumerate() {
        out.count_row(y * w, rb, ra, rok, e, s);
        if y < sh * k {
            add_row(&mut pb[(y / k) * sw..][..sw], rb, k);
            add_row(&mut pa[(y / k) * sw..][..sw], ra, k);
        }
    }
    // `Plane::shrink` multiplies by the reciprocal; a factor of 1 leaves the values as they are.
    if k > 1 {
        let norm = 1.0 / (k * k) as f32;
        pb.iter_mut().chain(pa.iter_mut()).for_each(|v| *v *= norm);
    }
    out.before = Plane {
        w: sw,
        h: sh,
        data: pb,
    };
    out.after = Plane {
        w: sw,
        h: sh,
        data: pa,
    };
    out
}

impl Scan {
    /// Count one row of pixel pairs whose first pixel has index `at`.
    fn count_row(
        &mut self,
        at: usize,
        before: &[u8],
        after: &[u8],
        ok: &[bool],
        e: &ExposureParams,
        s: &ShineParams,
    ) {
        self.valid += ok.iter().map(|&v| u32::from(v)).sum::<u32>();
        let min_luma = s.min_luma as u8;
        // Most pixels are neither dark nor bright in the after photo: they count as valid and
        // nothing else, so they are passed over on their largest channel alone.
        let bright = e.clip_high.min(min_luma);
        let pixels = before.chunks_exact(3).zip(after.chunks_exact(3)).zip(ok);
        for (x, ((b, a), &ok)) in pixels.enumerate() {
            let am = a[0].max(a[1]).max(a[2]);
            if !ok || (am > e.crush_low && am < bright) {
                continue;
            }
            let bm = b[0].max(b[1]).max(b[2]);
            self.highlights += u32::from(am >= e.clip_high && bm <= e.detail_high);
            self.shadows += u32::from(am <= e.crush_low && bm >= e.detail_low);
            // Cheap byte tests first: a candidate is bright in its largest channel and
            // colourless; only then its grey levels.
            if am >= min_luma && am - a[0].min(a[1]).min(a[2]) <= s.max_chroma {
                let (yb, ya) = (luma(b), luma(a));
                if ya >= s.min_luma && ya - yb >= s.min_rise {
                    self.shine.push(at + x);
                }
            }
        }
    }
}

/// Add one row of grey levels to a row of the shrunk plane, `k` pixels per cell, in
/// [`Plane::shrink`]'s order of additions.
fn add_row(out: &mut [f32], row: &[u8], k: usize) {
    if k == 2 {
        // The usual factor, spelt out (a third faster); `(−0 + a) + b` of the sum is `a + b`.
        for (o, c) in out.iter_mut().zip(row.chunks_exact(6)) {
            *o += luma(&c[..3]) + luma(&c[3..]);
        }
        return;
    }
    for (o, cell) in out.iter_mut().zip(row.chunks_exact(3 * k)) {
        *o += cell.chunks_exact(3).map(luma).sum::<f32>();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_are_the_registrations_shrunk_bit_for_bit() {
        let img = RgbImage::from_fn(37, 23, |x, y| {
            image::Rgb([(x * 7) as u8, (y * 11) as u8, ((x * y) % 251) as u8])
        });
        let ok = vec![true; 37 * 23];
        for k in [1, 2, 3] {
            let s = scan(
                &img,
                &img,
                &ok,
                k,
                &ExposureParams::default(),
                &ShineParams::default(),
            );
            assert_eq!(s.before.data, Plane::from_rgb(&img).shrink(k).data, "k {k}");
            assert_eq!(s.valid, 37 * 23);
        }
    }

    /// The counts against a plain per-pixel reading of the rules (no pass-over shortcut).
    #[test]
    fn counts_follow_the_rules_on_every_pixel() {
        let px = |x: u32, y: u32, s: u32| {
            let v = ((x * 37 + y * 91 + s) % 256) as u8;
            image::Rgb([
                v,
                v.saturating_sub((x % 7) as u8 * 9),
                v.saturating_sub((y % 5) as u8 * 7),
            ])
        };
        let before = RgbImage::from_fn(41, 29, |x, y| px(x, y, 0));
        let after = RgbImage::from_fn(41, 29, |x, y| px(x, y, 77));
        let ok: Vec<bool> = (0..41 * 29).map(|i| i % 5 != 0).collect();
        let (e, sh) = (ExposureParams::default(), ShineParams::default());
        let got = scan(&before, &after, &ok, 2, &e, &sh);
        let (mut hi, mut lo, mut cand) = (0, 0, Vec::new());
        for (i, (b, a)) in before.pixels().zip(after.pixels()).enumerate() {
            let (b, a) = (b.0, a.0);
            let (bm, am) = (*b.iter().max().unwrap(), *a.iter().max().unwrap());
            if !ok[i] {
                continue;
            }
            hi += u32::from(am >= e.clip_high && bm <= e.detail_high);
            lo += u32::from(am <= e.crush_low && bm >= e.detail_low);
            let chroma = am - *a.iter().min().unwrap();
            let (yb, ya) = (luma(&b), luma(&a));
            if chroma <= sh.max_chroma && ya >= sh.min_luma && ya - yb >= sh.min_rise {
                cand.push(i);
            }
        }
        assert!(
            hi > 0 && lo > 0 && !cand.is_empty(),
            "the fixture has all three ({hi}, {lo}, {})",
            cand.len()
        );
        assert_eq!((got.highlights, got.shadows), (hi, lo));
        assert_eq!(got.shine, cand);
        assert_eq!(got.valid, ok.iter().filter(|&&v| v).count() as u32);
    }
}
