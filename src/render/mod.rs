//! Crop, resample, watermark, label, composite and encode. Everything here is pure (pixels in,
//! pixels or bytes out); the pipeline writes the results.
//!
//! Each photo is resampled once from the oriented source through the matrix that maps it onto
//! the before photo, into a [`Master`] at the size of its largest output (tone applied); that
//! largest output is the master itself, and every smaller width and every composite panel is
//! derived from the master by an axis-aligned Lanczos3 resize. A rotated warp from 12 MP costs
//! several times a resize from the master, and the master's resize of a warped photo is no worse
//! than a supersampled warp straight to a small size. An output that would need more pixels than
//! the master holds (a denser composite crop) is resampled from the source instead.

pub mod composite;
pub mod encode;
pub mod outputs;
pub mod params;
pub mod text;
pub mod watermark;

use fast_image_resize as fir;
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::align::{self, Matrix};

/// The file formats published images are written in (`[outputs] formats`).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Jpeg,
    Webp,
    /// AVIF (AV1, by rav1e through ravif): the smallest files and by far the slowest encoder,
    /// so it is off unless `outputs.formats` names it.
    Avif,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Webp => "webp",
            Format::Avif => "avif",
        }
    }
}

/// A rectangle in the before photo's pixel grid, in continuous coordinates
/// (pixel `i` spans `[i, i + 1)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Region {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Region {
    pub fn from_crop(crop: [u32; 4]) -> Region {
        Region {
            x: f64::from(crop[0]),
            y: f64::from(crop[1]),
            w: f64::from(crop[2]),
            h: f64::from(crop[3]),
        }
    }

    pub fn aspect(&self) -> f64 {
        self.w / self.h
    }

    /// The largest centred sub-region with aspect `aspect` (width / height).
    pub fn centred_with_aspect(&self, aspect: f64) -> Region {
        let (w, h) = if self.aspect() > aspect {
            (self.h * aspect, self.h)
        } else {
            (self.w, self.w / aspect)
        };
        Region {
            x: self.x + (self.w - w) / 2.0,
            y: self.y + (self.h - h) / 2.0,
            w,
            h,
        }
    }
}

/// Output sizes for a crop: each configured width, never upscaled (a width above the crop's is
/// replaced by the crop's own), deduplicated, ascending.
pub fn output_sizes(crop_w: u32, crop_h: u32, widths: &[u32]) -> Vec<(u32, u32)> {
    let mut ws: Vec<u32> = widths.iter().map(|&w| w.min(crop_w)).collect();
    ws.sort_unstable();
    ws.dedup();
    ws.into_iter()
        .map(|w| {
            let h = (f64::from(w) * f64::from(crop_h) / f64::from(crop_w)).round() as u32;
            (w, h.max(1))
        })
        .collect()
}

/// The pixels of any published output of a photo, the one path they all take: `region` of the
/// before photo's frame at `out_w`×`out_h`, resampled once from the source through `matrix`
/// (this photo's pixels -> the before photo's), then the global tone fit, if any. Single photos
/// at every width, composite panels and thumbnails all come from here, so they show the same
/// colours; the watermark and labels go on afterwards.
#[must_use]
pub fn render_photo(
    src: &RgbImage,
    matrix: &Matrix,
    tone: Option<&crate::tone::ToneFit>,
    region: &Region,
    out_w: u32,
    out_h: u32,
) -> RgbImage {
    let mut img = resample(src, matrix, region, out_w, out_h);
    if let Some(t) = tone {
        // The falloff field, if any, lies in the photo's own coordinates.
        let frame = crate::tone::Frame {
            to_after: out_to_src(matrix, region, out_w, out_h),
            size: src.dimensions(),
        };
        crate::tone::apply_framed_mut(&mut img, t, &frame);
    }
    img
}

/// Names the way outputs are derived, hashed into every case key, so a gallery made by another
/// renderer is re-rendered rather than reused or reported as changed by `verify`.
pub const RENDERER: &str = "master-lanczos3.2";

/// A photo rendered into the before photo's frame once: `region` at the size of the image, tone
/// applied. Outputs of that photo are derived from it (see the module docs).
pub struct Master {
    pub img: RgbImage,
    region: Region,
}

impl Master {
    /// Render `region` of `src` at `out_w`×`out_h` (see [`render_photo`]).
    #[must_use]
    pub fn render(
        src: &RgbImage,
        matrix: &Matrix,
        tone: Option<&crate::tone::ToneFit>,
        region: &Region,
        out_w: u32,
        out_h: u32,
    ) -> Master {
        Master {
            img: render_photo(src, matrix, tone, region, out_w, out_h),
            region: *region,
        }
    }

    /// Whether `region` is the master's own, to within half a master pixel at each edge: a
    /// composite panel of the master's size whose region rounding made a third of a source pixel
    /// narrower is the master itself, not a 0.01% enlargement of it (which the density check
    /// below refuses, and which would cost a full warp from the source).
    fn frames(&self, region: &Region) -> bool {
        let (sx, sy) = (
            self.region.w / f64::from(self.img.width()),
            self.region.h / f64::from(self.img.height()),
        );
        let near = |a: f64, b: f64, px: f64| (a - b).abs() <= 0.5 * px;
        near(region.x, self.region.x, sx)
            && near(region.y, self.region.y, sy)
            && near(region.x + region.w, self.region.x + self.region.w, sx)
            && near(region.y + region.h, self.region.y + self.region.h, sy)
    }

    /// `region` at `out_w`×`out_h`, resized from the master; `None` when that needs more pixels
    /// per unit of the before frame than the master has (never upscale from it).
    #[must_use]
    pub fn derive(&self, region: &Region, out_w: u32, out_h: u32) -> Option<RgbImage> {
        let (mw, mh) = (f64::from(self.img.width()), f64::from(self.img.height()));
        let (sx, sy) = (self.region.w / mw, self.region.h / mh);
        if (out_w, out_h) == self.img.dimensions() && self.frames(region) {
            return Some(self.img.clone());
        }
        let tol = 1.0 + 1e-9;
        if f64::from(out_w) * sx > region.w * tol || f64::from(out_h) * sy > region.h * tol {
            return None;
        }
        // Master pixel u's centre is at before x = region.x + (u + 0.5) sx - 0.5.
        let master_to_before = [
            [sx, 0.0, self.region.x + 0.5 * sx - 0.5],
            [0.0, sy, self.region.y + 0.5 * sy - 0.5],
        ];
        Some(resample(&self.img, &master_to_before, region, out_w, out_h))
    }
}

/// The matrix from an output pixel of `region` rendered at `out_w`×`out_h` to a source pixel.
pub fn out_to_src(src_to_before: &Matrix, region: &Region, out_w: u32, out_h: u32) -> Matrix {
    let sx = region.w / f64::from(out_w);
    let sy = region.h / f64::from(out_h);
    // Output centre u maps to before continuous x + (u + 0.5) sx, i.e. before centre that - 0.5.
    let out_to_before = [
        [sx, 0.0, region.x + 0.5 * sx - 0.5],
        [0.0, sy, region.y + 0.5 * sy - 0.5],
    ];
    let before_to_src = align::invert(src_to_before).expect("alignment matrices are invertible");
    align::compose(&before_to_src, &out_to_before)
}

/// Render `region` (before coordinates) of `src` at `out_w`×`out_h`, resampling once from the
/// source with antialiasing. Axis-aligned mappings use a Lanczos3 convolution; rotated ones a
/// supersampled warp.
#[must_use]
pub fn resample(
    src: &RgbImage,
    src_to_before: &Matrix,
    region: &Region,
    out_w: u32,
    out_h: u32,
) -> RgbImage {
    let m = out_to_src(src_to_before, region, out_w, out_h);
    let axis_aligned =
        m[0][1].abs() < 1e-9 && m[1][0].abs() < 1e-9 && m[0][0] > 0.0 && m[1][1] > 0.0;
    if axis_aligned && let Some(img) = resize_box(src, &m, out_w, out_h) {
        return img;
    }
    align::warp(src, &m, out_w, out_h)
}

/// The axis-aligned case: a crop box in the source resized by convolution. `None` when the box
/// leaves the source (then the warp, which clamps at the edges, is used).
fn resize_box(src: &RgbImage, m: &Matrix, out_w: u32, out_h: u32) -> Option<RgbImage> {
    // Source continuous coordinate of output continuous 0 is centre(-0.5) + 0.5.
    let left = m[0][2] - 0.5 * m[0][0] + 0.5;
    let top = m[1][2] - 0.5 * m[1][1] + 0.5;
    let width = m[0][0] * f64::from(out_w);
    let height = m[1][1] * f64::from(out_h);
    let (sw, sh) = (f64::from(src.width()), f64::from(src.height()));
    let eps = 1e-6 * sw.max(sh);
    if left < -eps || top < -eps || left + width > sw + eps || top + height > sh + eps {
        return None;
    }
    let left = left.max(0.0);
    let top = top.max(0.0);
    let width = width.min(sw - left);
    let height = height.min(sh - top);
    let src_view = fir::images::ImageRef::new(
        src.width(),
        src.height(),
        src.as_raw(),
        fir::PixelType::U8x3,
    )
    .ok()?;
    let mut dst = fir::images::Image::new(out_w, out_h, fir::PixelType::U8x3);
    let options = fir::ResizeOptions::new()
        .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3))
        .crop(left, top, width, height);
    fir::Resizer::new()
        .resize(&src_view, &mut dst, &options)
        .ok()?;
    RgbImage::from_raw(out_w, out_h, dst.into_vec())
}

/// Resize an RGB image to exactly `w`×`h` (used for working-resolution copies).
#[must_use]
pub fn resize_exact(src: &RgbImage, w: u32, h: u32) -> RgbImage {
    let region = Region {
        x: 0.0,
        y: 0.0,
        w: f64::from(src.width()),
        h: f64::from(src.height()),
    };
    resample(src, &align::identity(), &region, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_never_upscale_and_keep_aspect() {
        assert_eq!(
            output_sizes(1200, 900, &[480, 1024, 2048]),
            vec![(480, 360), (1024, 768), (1200, 900)]
        );
        assert_eq!(output_sizes(300, 300, &[480, 1024]), vec![(300, 300)]);
    }

    #[test]
    fn identity_full_region_resample_keeps_pixels() {
        let src = RgbImage::from_fn(40, 30, |x, y| image::Rgb([(x * 6) as u8, (y * 8) as u8, 7]));
        let out = resample(
            &src,
            &align::identity(),
            &Region::from_crop([0, 0, 40, 30]),
            40,
            30,
        );
        assert_eq!(out, src);
    }

    #[test]
    fn crop_region_picks_the_right_pixels() {
        let src = RgbImage::from_fn(40, 30, |x, y| image::Rgb([(x * 6) as u8, (y * 8) as u8, 7]));
        let out = resample(
            &src,
            &align::identity(),
            &Region::from_crop([10, 5, 20, 10]),
            20,
            10,
        );
        assert_eq!(out.get_pixel(0, 0), src.get_pixel(10, 5));
        assert_eq!(out.get_pixel(19, 9), src.get_pixel(29, 14));
    }

    #[test]
    fn a_master_serves_its_own_framing_and_refuses_to_enlarge() {
        let src = RgbImage::from_fn(400, 300, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let region = Region::from_crop([10, 10, 352, 264]);
        let m = Master::render(&src, &align::identity(), None, &region, 200, 150);
        // A third of a source pixel narrower (a composite panel's rounding): the master itself.
        let near = Region {
            x: 10.17,
            w: 351.66,
            ..region
        };
        assert_eq!(m.derive(&near, 200, 150).as_ref(), Some(&m.img));
        // Half the region at the same size needs twice the pixels: refused.
        let half = Region {
            w: 176.0,
            h: 132.0,
            ..region
        };
        assert!(m.derive(&half, 200, 150).is_none());
        assert_eq!(
            m.derive(&region, 100, 75).map(|i| i.dimensions()),
            Some((100, 75))
        );
    }

    #[test]
    fn centred_sub_region() {
        let r = Region::from_crop([0, 0, 400, 300]).centred_with_aspect(1.0);
        assert_eq!(
            r,
            Region {
                x: 50.0,
                y: 0.0,
                w: 300.0,
                h: 300.0
            }
        );
    }
}
