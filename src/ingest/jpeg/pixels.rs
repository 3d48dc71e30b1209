//! The one-pass decoder's back half: blocks from the strict walk (`entropy::coefficients`) go
//! through the inverse DCT (`idct`) into a plane per colour component that holds two bands of
//! MCU rows, and each band is turned into RGB as soon as the rows it depends on are decoded,
//! while they are still in the cache (so the decoder needs no memory beyond the photo's own). Upsampling and colour conversion copy zune-jpeg 0.5 (what `image` runs) to the
//! rounding: chroma upsampled by the 3:1 "triangle" filter, vertically first and then
//! horizontally, each step rounded (`(3a + b + 2) >> 2`), edges repeated at the padded plane's
//! border; YCbCr to RGB with zune-jpeg's 14-bit BT.601 full-range constants. Only the layouts
//! nearly every camera and phone writes are taken (grey, and YCbCr 4:4:4, 4:2:2, 4:2:0 in one
//! interleaved scan); the rest keeps the check-then-zune-jpeg path.

use super::Frame;
use super::entropy::Blocks;
use super::idct::{self, Idct};
use crate::ingest::buffer;

/// A decoded photo: 8-bit grey or RGB rows of `width` pixels, and its embedded ICC profile.
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    pub grey: bool,
    pub pixels: Vec<u8>,
    pub icc: Option<Vec<u8>>,
}

/// How the colour components sit against the luma.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    Grey,
    /// 4:4:4.
    Full,
    /// 4:2:2: chroma at half the width.
    Half,
    /// 4:2:0: chroma at half the width and half the height.
    Quarter,
}

/// One component's samples: the last two bands of MCU rows, in a ring (a band is converted as
/// soon as it is decoded; with 4:2:0 its last two rows also need the next band's first chroma
/// row, so two bands are kept).
struct Plane {
    data: Vec<u8>,
    stride: usize,
    /// Rows the ring holds, and rows of the whole padded frame.
    ring: usize,
    rows: usize,
    /// Blocks per MCU across and down.
    h: usize,
    v: usize,
    /// The next block: its MCU column and row, and its place in the MCU.
    mx: usize,
    my: usize,
    b: usize,
}

/// The planes of a photo being decoded, and its RGB (or grey) pixels so far.
pub(super) struct Planes {
    layout: Layout,
    width: usize,
    height: usize,
    mcus_x: usize,
    mcus_y: usize,
    planes: Vec<Plane>,
    idct: Idct,
    convert: Convert,
    out: Vec<u8>,
    /// Output rows already converted.
    done: usize,
    /// Rows of upsampled chroma (scratch).
    scratch: Vec<u8>,
}

impl Planes {
    /// Planes for `frame`, when it is a layout taken here (see the module header).
    pub(super) fn new(frame: &Frame) -> Option<Planes> {
        let sampling: Vec<(usize, usize)> = frame.comps.iter().map(|c| (c.h, c.v)).collect();
        let rgb_ids = frame.comps.iter().map(|c| c.id).eq(*b"RGB");
        if frame.progressive || frame.limits.dc_bits != 11 {
            return None;
        }
        let layout = match sampling[..] {
            [_] => Layout::Grey,
            _ if rgb_ids => return None,
            [(1, 1), (1, 1), (1, 1)] => Layout::Full,
            [(2, 1), (1, 1), (1, 1)] => Layout::Half,
            [(2, 2), (1, 1), (1, 1)] => Layout::Quarter,
            _ => return None,
        };
        // A grey frame's one scan codes its blocks row by row, whatever the sampling says.
        let (mcus_x, mcus_y) = match layout {
            Layout::Grey => (frame.comps[0].blocks_w, frame.comps[0].blocks_h),
            _ => (frame.mcus_x, frame.mcus_y),
        };
        let planes = sampling
            .iter()
            .map(|&(h, v)| {
                let (h, v) = if layout == Layout::Grey {
                    (1, 1)
                } else {
                    (h, v)
                };
                let (stride, rows) = (mcus_x * h * 8, mcus_y * v * 8);
                let ring = rows.min(2 * v * 8);
                Plane {
                    data: vec![0; stride * ring],
                    stride,
                    ring,
                    rows,
                    h,
                    v,
                    mx: 0,
                    my: 0,
                    b: 0,
                }
            })
            .collect();
        let channels = if layout == Layout::Grey { 1 } else { 3 };
        Some(Planes {
            layout,
            width: frame.width,
            height: frame.height,
            mcus_x,
            mcus_y,
            planes,
            idct: idct::choose(),
            convert: choose_convert(),
            out: buffer::zeroed(frame.width * frame.height * channels),
            done: 0,
            scratch: vec![0; 5 * mcus_x * 8],
        })
    }

    /// Whether a scan of these frame components, in this order, fills every plane.
    pub(super) fn fits(&self, comps: impl ExactSizeIterator<Item = usize>) -> bool {
        comps.len() == self.planes.len() && comps.enumerate().all(|(i, c)| i == c)
    }

    /// The finished photo, once every row is decoded.
    pub(super) fn finish(self, icc: Option<Vec<u8>>) -> Option<Decoded> {
        (self.done == self.height).then(|| Decoded {
            width: self.width as u32,
            height: self.height as u32,
            grey: self.layout == Layout::Grey,
            pixels: self.out,
            icc,
        })
    }

    /// Convert the output rows that `mcu_rows` decoded MCU rows make ready. With 4:2:0 the
    /// last two rows of a band wait for the next band's first chroma row.
    fn flush(&mut self, mcu_rows: usize) {
        let ready = match self.layout {
            _ if mcu_rows == self.mcus_y => self.height,
            Layout::Quarter => (16 * mcu_rows).saturating_sub(2),
            Layout::Grey | Layout::Full | Layout::Half => 8 * mcu_rows,
        };
        for y in self.done..ready.min(self.height) {
            self.row(y);
        }
        self.done = self.done.max(ready.min(self.height));
    }

    /// Output row `y`.
    fn row(&mut self, y: usize) {
        let w = self.width;
        let [luma, rest @ ..] = &self.planes[..] else {
            return;
        };
        let yrow = &luma.line(y)[..w];
        if self.layout == Layout::Grey {
            self.out[y * w..][..w].copy_from_slice(yrow);
            return;
        }
        let [cb, cr] = rest else { return };
        let cw = cb.stride;
        let (cbu, tail) = self.scratch.split_at_mut(2 * cw);
        let (cru, v) = tail.split_at_mut(2 * cw);
        let out = &mut self.out[3 * y * w..][..3 * w];
        match self.layout {
            Layout::Full => {
                let (cb, cr) = (&cb.line(y)[..w], &cr.line(y)[..w]);
                (self.convert)(yrow, cb, cr, out);
                return;
            }
            Layout::Half => {
                upsample_h(cb.line(y), cbu);
                upsample_h(cr.line(y), cru);
            }
            _ => {
                // The chroma row of this output row, and the one above (even rows) or below
                // (odd rows), repeated at the plane's top and bottom.
                let j = y / 2;
                let near = if y.is_multiple_of(2) {
                    j.saturating_sub(1)
                } else {
                    (j + 1).min(cb.rows - 1)
                };
                let v = &mut v[..cw];
                upsample_v(cb.line(j), cb.line(near), v);
                upsample_h(v, cbu);
                upsample_v(cr.line(j), cr.line(near), v);
                upsample_h(v, cru);
            }
        }
        (self.convert)(yrow, &cbu[..w], &cru[..w], out);
    }
}

impl Plane {
    /// Row `r` of the padded frame, from the ring.
    fn line(&self, r: usize) -> &[u8] {
        &self.data[r % self.ring * self.stride..][..self.stride]
    }
}

impl Blocks for Planes {
    fn block(&mut self, k: usize, coefs: &mut [i32; 64]) {
        let last = k + 1 == self.planes.len();
        let p = &mut self.planes[k];
        let (bx, by) = (p.mx * p.h + p.b % p.h, p.my * p.v + p.b / p.h);
        let at = (by * 8 % p.ring) * p.stride + bx * 8;
        (self.idct)(coefs, &mut p.data[at..], p.stride);
        p.b += 1;
        if p.b < p.h * p.v {
            return;
        }
        p.b = 0;
        p.mx += 1;
        if p.mx == self.mcus_x {
            p.mx = 0;
            p.my += 1;
            if last {
                let rows = p.my;
                self.flush(rows);
            }
        }
    }
}

/// The ICC profile from the APP2 chunks before the first scan (sequence number, count, data),
/// assembled as zune-jpeg does: all of them must agree on the count and be numbered 1 to count
/// once each, or there is none.
pub(super) fn icc(chunks: &[(u8, u8, Vec<u8>)]) -> Option<Vec<u8>> {
    let count = chunks.len();
    if count == 0 || count >= 255 {
        return None;
    }
    let mut by_seq: [Option<&[u8]>; 256] = [None; 256];
    for (seq, n, data) in chunks {
        let slot = &mut by_seq[usize::from(*seq)];
        if usize::from(*n) != count || *seq == 0 || slot.is_some() {
            return None;
        }
        *slot = Some(data);
    }
    by_seq[1..=count]
        .iter()
        .try_fold(Vec::new(), |mut icc, chunk| {
            icc.extend_from_slice(chunk.as_ref()?);
            Some(icc)
        })
}

/// zune-jpeg's vertical step: each chroma row, weighted 3:1 with its nearer neighbour row.
fn upsample_v(row: &[u8], near: &[u8], out: &mut [u8]) {
    for ((o, &a), &b) in out.iter_mut().zip(row).zip(near) {
        *o = ((3 * u16::from(a) + u16::from(b) + 2) >> 2) as u8;
    }
}

/// zune-jpeg's horizontal step: two samples out per sample in, each weighted 3:1 with its
/// nearer neighbour, the first and last repeated at the edges.
fn upsample_h(row: &[u8], out: &mut [u8]) {
    let n = row.len();
    for (i, pair) in out[..2 * n].chunks_exact_mut(2).enumerate() {
        let c = 3 * u16::from(row[i]) + 2;
        let (l, r) = (row[i.saturating_sub(1)], row[(i + 1).min(n - 1)]);
        pair[0] = ((c + u16::from(l)) >> 2) as u8;
        pair[1] = ((c + u16::from(r)) >> 2) as u8;
    }
}

/// YCbCr rows to an RGB row.
type Convert = fn(&[u8], &[u8], &[u8], &mut [u8]);

fn choose_convert() -> Convert {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        return |y, cb, cr, out| {
            // SAFETY: only chosen where the processor has AVX2.
            unsafe { ycc_avx2(y, cb, cr, out) }
        };
    }
    ycc
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn ycc_avx2(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
    ycc(y, cb, cr, out);
}

/// zune-jpeg's conversion: 14-bit fixed point, rounding just under one half.
#[inline(always)]
fn ycc(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
    let clamp = |v: i32| v.clamp(0, 255) as u8;
    for (((o, &y), &cb), &cr) in out.chunks_exact_mut(3).zip(y).zip(cb).zip(cr) {
        let y0 = i32::from(y) * 16384 + 8191;
        let (cb, cr) = (i32::from(cb) - 128, i32::from(cr) - 128);
        o[0] = clamp((y0 + cr * 22970) >> 14);
        o[1] = clamp((y0 - cr * 11700 - cb * 5638) >> 14);
        o[2] = clamp((y0 + cb * 29032) >> 14);
    }
}

#[cfg(test)]
mod tests {
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

    /// A photo-like test card: gradients, a sharp edge and noise, `w` × `h`.
    fn card(w: u32, h: u32) -> Vec<u8> {
        let mut seed = 7u32;
        let mut px = Vec::new();
        for y in 0..h {
            for x in 0..w {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let noise = (seed >> 27) as u8;
                let edge = if x * 3 > w { 200 } else { 30 };
                px.extend([
                    (x * 255 / w) as u8 ^ noise,
                    edge,
                    (y * 255 / h) as u8 + noise,
                ]);
            }
        }
        px
    }

    fn encode(w: u16, h: u16, sampling: Option<SamplingFactor>, restart: u16) -> Vec<u8> {
        let rgb = card(u32::from(w), u32::from(h));
        let mut out = Vec::new();
        let mut enc = Encoder::new(&mut out, 90);
        enc.set_restart_interval(restart);
        match sampling {
            Some(s) => {
                enc.set_sampling_factor(s);
                enc.encode(&rgb, w, h, ColorType::Rgb).unwrap();
            }
            None => {
                let grey: Vec<u8> = rgb.chunks(3).map(|p| p[1] / 2 + p[0] / 3).collect();
                enc.encode(&grey, w, h, ColorType::Luma).unwrap();
            }
        }
        out
    }

    /// Each layout the one-pass decoder takes, at sizes that are not whole MCUs and with and
    /// without restart markers, gives zune-jpeg's pixels exactly (tolerance: none).
    #[test]
    fn every_layout_decodes_to_zune_jpegs_pixels() {
        let layouts = [
            None,
            Some(SamplingFactor::F_1_1),
            Some(SamplingFactor::F_2_1),
            Some(SamplingFactor::F_2_2),
        ];
        for sampling in layouts {
            for (w, h, restart) in [(97, 61, 0), (64, 48, 3), (203, 130, 0)] {
                let bytes = encode(w, h, sampling, restart);
                let ours = super::super::decode(&bytes)
                    .unwrap()
                    .expect("a layout taken");
                let zune =
                    image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).unwrap();
                let theirs = if ours.grey {
                    zune.into_luma8().into_raw()
                } else {
                    zune.into_rgb8().into_raw()
                };
                let what = format!("{sampling:?} {w}×{h} restart {restart}");
                assert_eq!(
                    (ours.width, ours.height),
                    (u32::from(w), u32::from(h)),
                    "{what}"
                );
                let differ = ours
                    .pixels
                    .iter()
                    .zip(&theirs)
                    .filter(|(a, b)| a != b)
                    .count();
                assert_eq!(differ, 0, "{what}: {differ} samples differ");
            }
        }
    }

    #[test]
    fn progressive_files_are_left_to_zune_jpeg() {
        let mut out = Vec::new();
        let mut enc = Encoder::new(&mut out, 90);
        enc.set_progressive(true);
        enc.encode(&card(40, 30), 40, 30, ColorType::Rgb).unwrap();
        assert!(matches!(super::super::decode(&out), Ok(None)));
    }

    /// Damaged files get exactly the strict check's verdict and message from the decoder, and
    /// never panic it. `BEFOREAFTER_MUTANTS` sets how many per file (an evaluation runs tens of
    /// thousands; the default keeps the test short).
    #[test]
    fn damaged_files_get_the_checks_verdict() {
        let n: usize = std::env::var("BEFOREAFTER_MUTANTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300);
        let files = [
            encode(97, 61, Some(SamplingFactor::F_2_2), 0),
            encode(64, 48, Some(SamplingFactor::F_1_1), 2),
            encode(80, 40, Some(SamplingFactor::F_2_1), 0),
            encode(50, 30, None, 1),
        ];
        let mut seed = 0x1234_5678_u64;
        let mut next = |m: usize| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as usize % m
        };
        let (mut refused, mut decoded) = (0, 0);
        for file in &files {
            for _ in 0..n {
                let mut m = file.clone();
                match next(4) {
                    0 => m.truncate(next(m.len())),
                    1 => {
                        let at = next(m.len());
                        m[at] ^= 1 << next(8);
                    }
                    2 => {
                        let at = next(m.len());
                        m[at] = next(256) as u8;
                    }
                    _ => {
                        let at = next(m.len());
                        let len = next(16).min(m.len() - at);
                        m.drain(at..at + len);
                    }
                }
                let verdict = super::super::decode(&m).map(|d| d.is_some());
                let check = super::super::check(&m);
                assert_eq!(verdict.as_ref().err(), check.as_ref().err());
                refused += usize::from(verdict.is_err());
                decoded += usize::from(verdict == Ok(true));
            }
        }
        assert!(
            refused > n && decoded > n / 4,
            "refused {refused}, decoded {decoded}"
        );
    }
}
