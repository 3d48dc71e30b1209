//! Watermarks: a PNG logo with alpha, or text in the bundled font, at one of nine anchors or
//! tiled, sized relative to the image width, blended at a set opacity.

use fast_image_resize as fir;
use image::{RgbImage, Rgba, RgbaImage};
use serde::{Deserialize, Serialize};

use crate::render::text;

/// Where the mark goes (`[watermark] position`).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Anchor {
    TopLeft,
    Top,
    TopRight,
    Left,
    Center,
    Right,
    BottomLeft,
    Bottom,
    BottomRight,
    Tiled,
}

/// What a watermark does, as applied (and recorded in the manifest): the mark, where, how large
/// and how strong, in the units of the config.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatermarkParams {
    /// The published copy of the logo (`assets/watermark.<hash>.png`, re-encoded from its
    /// pixels), never a path on the clinic's machine; empty for a text mark.
    pub logo: String,
    /// The text drawn when there is no logo.
    pub text: String,
    pub anchor: Anchor,
    pub opacity: f32,
    /// Mark width / image width.
    pub size: f32,
    /// Edge distance / image width.
    pub margin: f32,
    /// Narrower images stay clean.
    pub min_width: u32,
}

/// A ready-to-apply watermark: the mark at full resolution plus where and how to put it.
pub struct Watermark {
    mark: RgbaImage,
    params: WatermarkParams,
}

/// Height at which a text mark is drawn before scaling to its final width.
const TEXT_MARK_HEIGHT: f32 = 160.0;
/// The text mark's outline: how quickly the blurred glyphs' edge turns solid, and its alpha.
const OUTLINE_GAIN: f32 = 3.0;
const OUTLINE_ALPHA: f32 = 0.85;

impl Watermark {
    /// The mark `params` describe: `logo_png` is the logo's bytes (the published copy), `None`
    /// for a text mark; `None` when the logo cannot be read.
    pub fn new(params: &WatermarkParams, logo_png: Option<&[u8]>) -> Option<Watermark> {
        let mark = match logo_png {
            Some(bytes) => image::load_from_memory(bytes).ok()?.into_rgba8(),
            None => text_mark(&params.text),
        };
        Some(Watermark {
            mark,
            params: params.clone(),
        })
    }

    /// Whether an output of this width gets the mark.
    pub fn applies_to(&self, width: u32) -> bool {
        width >= self.params.min_width
    }

    /// Blend the mark into `img`, sized to its width.
    pub fn apply_mut(&self, img: &mut RgbImage) {
        let p = &self.params;
        let w = ((img.width() as f32 * p.size).round() as u32).clamp(1, img.width());
        let h = ((w as f32 * self.mark.height() as f32 / self.mark.width() as f32).round() as u32)
            .clamp(1, img.height());
        let mark = scale_rgba(&self.mark, w, h);
        let margin = (img.width() as f32 * p.margin).round() as i64;
        for (x, y) in positions(p.anchor, (img.width(), img.height()), (w, h), margin) {
            blend_rgba_mut(img, &mark, x, y, p.opacity);
        }
    }
}

/// White text in a dark outline, so it reads on light and dark photos alike (a soft shadow
/// alone vanished on light skin at the default opacity).
fn text_mark(text: &str) -> RgbaImage {
    let mask = text::text_mask(text, TEXT_MARK_HEIGHT);
    let pad = (TEXT_MARK_HEIGHT / 10.0).ceil() as u32;
    let (w, h) = (mask.width() + 2 * pad, mask.height() + 2 * pad);
    let mut out = RgbaImage::new(w, h);
    let shadow = soft_edge(&mask, pad);
    for (x, y, p) in out.enumerate_pixels_mut() {
        let s = shadow(x, y);
        let t = if x >= pad && y >= pad && x - pad < mask.width() && y - pad < mask.height() {
            f32::from(mask.get_pixel(x - pad, y - pad).0[0]) / 255.0
        } else {
            0.0
        };
        let outline = (s * OUTLINE_GAIN).min(1.0) * OUTLINE_ALPHA;
        let a = t + outline * (1.0 - t);
        let v = if a > 0.0 {
            (255.0 * t / a).round() as u8
        } else {
            0
        };
        *p = Rgba([v, v, v, (a * 255.0).round() as u8]);
    }
    out
}

/// A box-blurred copy of `mask` (padded by `pad`), as a lookup closure returning 0..1: the mean
/// of the `(2r + 1)²` mask pixels around each point (outside the mask counts as 0), from a
/// summed-area table, so building a mark costs a pass over it rather than `(2r + 1)²` reads
/// per pixel (that was 0.12 s at the start of every run).
fn soft_edge(mask: &image::GrayImage, pad: u32) -> impl Fn(u32, u32) -> f32 + '_ {
    let r = i64::from(pad / 2).max(1);
    let (w, h) = (i64::from(mask.width()), i64::from(mask.height()));
    // sat[(y * (w + 1) + x)]: the sum of mask pixels above and left of (x, y), exclusive.
    let stride = (w + 1) as usize;
    let mut sat = vec![0u32; stride * (h + 1) as usize];
    for y in 0..h as usize {
        let mut row = 0u32;
        for x in 0..w as usize {
            row += u32::from(mask.get_pixel(x as u32, y as u32).0[0]);
            sat[(y + 1) * stride + x + 1] = sat[y * stride + x + 1] + row;
        }
    }
    let n = ((2 * r + 1) * (2 * r + 1)) as f32;
    move |x: u32, y: u32| {
        let (cx, cy) = (i64::from(x) - i64::from(pad), i64::from(y) - i64::from(pad));
        let (x0, x1) = (
            (cx - r).clamp(0, w) as usize,
            (cx + r + 1).clamp(0, w) as usize,
        );
        let (y0, y1) = (
            (cy - r).clamp(0, h) as usize,
            (cy + r + 1).clamp(0, h) as usize,
        );
        let sum = sat[y1 * stride + x1] + sat[y0 * stride + x0]
            - sat[y0 * stride + x1]
            - sat[y1 * stride + x0];
        sum as f32 / (n * 255.0)
    }
}

fn scale_rgba(src: &RgbaImage, w: u32, h: u32) -> RgbaImage {
    let view = fir::images::ImageRef::new(
        src.width(),
        src.height(),
        src.as_raw(),
        fir::PixelType::U8x4,
    )
    .expect("RGBA buffer matches its size");
    let mut dst = fir::images::Image::new(w, h, fir::PixelType::U8x4);
    let options = fir::ResizeOptions::new()
        .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3))
        .use_alpha(true);
    fir::Resizer::new()
        .resize(&view, &mut dst, &options)
        .expect("resize of a valid RGBA image");
    RgbaImage::from_raw(w, h, dst.into_vec()).expect("buffer matches size")
}

/// Top-left corners where the mark goes.
fn positions(anchor: Anchor, img: (u32, u32), mark: (u32, u32), margin: i64) -> Vec<(i64, i64)> {
    let (iw, ih) = (i64::from(img.0), i64::from(img.1));
    let (mw, mh) = (i64::from(mark.0), i64::from(mark.1));
    let left = margin;
    let right = iw - mw - margin;
    let top = margin;
    let bottom = ih - mh - margin;
    let cx = (iw - mw) / 2;
    let cy = (ih - mh) / 2;
    let one = |x, y| vec![(x, y)];
    match anchor {
        Anchor::TopLeft => one(left, top),
        Anchor::Top => one(cx, top),
        Anchor::TopRight => one(right, top),
        Anchor::Left => one(left, cy),
        Anchor::Center => one(cx, cy),
        Anchor::Right => one(right, cy),
        Anchor::BottomLeft => one(left, bottom),
        Anchor::Bottom => one(cx, bottom),
        Anchor::BottomRight => one(right, bottom),
        Anchor::Tiled => {
            // Rows offset by half a step, spaced so the photo stays readable.
            let (sx, sy) = (mw * 2, mh * 4);
            let mut out = Vec::new();
            let mut row = 0;
            let mut y = -mh / 2;
            while y < ih {
                let shift = if row % 2 == 0 { 0 } else { sx / 2 };
                let mut x = -mw / 2 + shift;
                while x < iw {
                    out.push((x, y));
                    x += sx;
                }
                y += sy;
                row += 1;
            }
            out
        }
    }
}

fn blend_rgba_mut(img: &mut RgbImage, mark: &RgbaImage, x: i64, y: i64, opacity: f32) {
    for (mx, my, m) in mark.enumerate_pixels() {
        let (px, py) = (x + i64::from(mx), y + i64::from(my));
        if px < 0 || py < 0 || px >= i64::from(img.width()) || py >= i64::from(img.height()) {
            continue;
        }
        let a = f32::from(m.0[3]) / 255.0 * opacity;
        if a <= 0.0 {
            continue;
        }
        let p = img.get_pixel_mut(px as u32, py as u32);
        for k in 0..3 {
            p.0[k] = (f32::from(p.0[k]) * (1.0 - a) + f32::from(m.0[k]) * a).round() as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(position: Anchor) -> WatermarkParams {
        WatermarkParams {
            logo: String::new(),
            text: "Clinic".into(),
            anchor: position,
            opacity: 1.0,
            size: 0.3,
            margin: 0.02,
            min_width: 100,
        }
    }

    fn changed(a: &RgbImage, b: &RgbImage) -> Vec<(u32, u32)> {
        a.enumerate_pixels()
            .filter(|(x, y, p)| b.get_pixel(*x, *y) != *p)
            .map(|(x, y, _)| (x, y))
            .collect()
    }

    #[test]
    fn bottom_right_text_mark_changes_only_the_bottom_right() {
        let wm = Watermark::new(&config(Anchor::BottomRight), None).unwrap();
        let plain = RgbImage::from_pixel(400, 300, image::Rgb([90, 120, 150]));
        let mut marked = plain.clone();
        wm.apply_mut(&mut marked);
        let px = changed(&plain, &marked);
        assert!(!px.is_empty());
        assert!(
            px.iter().all(|&(x, y)| x >= 200 && y >= 200),
            "mark stays in its corner"
        );
    }

    #[test]
    fn tiled_mark_covers_the_whole_image() {
        let wm = Watermark::new(&config(Anchor::Tiled), None).unwrap();
        let plain = RgbImage::from_pixel(600, 600, image::Rgb([90, 120, 150]));
        let mut marked = plain.clone();
        wm.apply_mut(&mut marked);
        let px = changed(&plain, &marked);
        let quadrants =
            |fx: fn(u32) -> bool, fy: fn(u32) -> bool| px.iter().any(|&(x, y)| fx(x) && fy(y));
        assert!(quadrants(|x| x < 300, |y| y < 300) && quadrants(|x| x >= 300, |y| y >= 300));
    }

    /// The mean change the default mark makes to a plain image of `grey`, in its bounding box.
    fn mark_contrast(grey: u8) -> f64 {
        let mut cfg = config(Anchor::Center);
        cfg.opacity = 0.6;
        let wm = Watermark::new(&cfg, None).unwrap();
        let plain = RgbImage::from_pixel(600, 400, image::Rgb([grey; 3]));
        let mut marked = plain.clone();
        wm.apply_mut(&mut marked);
        let px = changed(&plain, &marked);
        let diff: f64 = px
            .iter()
            .map(|&(x, y)| (f64::from(marked.get_pixel(x, y).0[0]) - f64::from(grey)).abs())
            .sum();
        diff / px.len().max(1) as f64
    }

    #[test]
    fn text_mark_stays_legible_on_light_and_dark_photos() {
        for grey in [20, 128, 235] {
            let c = mark_contrast(grey);
            assert!(c > 30.0, "grey {grey}: mean change {c:.1}");
        }
    }

    #[test]
    fn soft_edge_is_the_box_mean_around_each_point() {
        let mask =
            image::GrayImage::from_fn(37, 23, |x, y| image::Luma([((x * 7 + y * 13) % 256) as u8]));
        let pad = 6;
        let blur = soft_edge(&mask, pad);
        let r = i64::from(pad / 2);
        for y in 0..mask.height() + 2 * pad {
            for x in 0..mask.width() + 2 * pad {
                let mut sum = 0u32;
                for dy in -r..=r {
                    for dx in -r..=r {
                        let (sx, sy) = (
                            i64::from(x) - i64::from(pad) + dx,
                            i64::from(y) - i64::from(pad) + dy,
                        );
                        if sx >= 0 && sy >= 0 && sx < 37 && sy < 23 {
                            sum += u32::from(mask.get_pixel(sx as u32, sy as u32).0[0]);
                        }
                    }
                }
                let want = sum as f32 / (((2 * r + 1) * (2 * r + 1)) as f32 * 255.0);
                assert!((blur(x, y) - want).abs() < 1e-6, "({x}, {y})");
            }
        }
    }

    #[test]
    fn narrow_outputs_are_left_clean() {
        let wm = Watermark::new(&config(Anchor::Center), None).unwrap();
        assert!(!wm.applies_to(99) && wm.applies_to(100));
    }
}
