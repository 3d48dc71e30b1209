//! Text rendering with the bundled DejaVu Sans Bold (free licence, see fonts/LICENSE-DejaVu.txt),
//! for labels and text watermarks. No system fonts are used, so output is the same everywhere.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use image::{GrayImage, Luma, RgbImage};

const FONT_BYTES: &[u8] = include_bytes!("fonts/DejaVuSans-Bold.ttf");

fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).expect("bundled font parses"))
}

/// A coverage mask (255 = ink) of `text` set one line high at `height` pixels (cap to descender).
#[must_use]
pub fn text_mask(text: &str, height: f32) -> GrayImage {
    let font = font().as_scaled(PxScale::from(height.max(1.0)));
    let mut x = 0.0f32;
    let mut glyphs = Vec::new();
    let mut previous = None;
    for ch in text.chars() {
        let id = font.glyph_id(ch);
        if let Some(prev) = previous {
            x += font.kern(prev, id);
        }
        glyphs.push(id.with_scale_and_position(font.scale(), ab_glyph::point(x, font.ascent())));
        x += font.h_advance(id);
        previous = Some(id);
    }
    let w = x.ceil().max(1.0) as u32;
    let h = (font.ascent() - font.descent()).ceil().max(1.0) as u32;
    let mut mask = GrayImage::new(w, h);
    for glyph in glyphs {
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            let px = bounds.min.x as i64 + i64::from(gx);
            let py = bounds.min.y as i64 + i64::from(gy);
            if px >= 0 && py >= 0 && (px as u32) < w && (py as u32) < h {
                let old = mask.get_pixel(px as u32, py as u32).0[0];
                let new = (coverage.clamp(0.0, 1.0) * 255.0).round() as u8;
                mask.put_pixel(px as u32, py as u32, Luma([old.max(new)]));
            }
        });
    }
    mask
}

/// Blend `colour` into `img` through `mask` placed at (`x`, `y`), times `opacity`.
pub fn blend_mask_mut(
    img: &mut RgbImage,
    mask: &GrayImage,
    x: i64,
    y: i64,
    colour: [u8; 3],
    opacity: f32,
) {
    for (mx, my, m) in mask.enumerate_pixels() {
        let (px, py) = (x + i64::from(mx), y + i64::from(my));
        if px < 0 || py < 0 || px >= i64::from(img.width()) || py >= i64::from(img.height()) {
            continue;
        }
        let a = f32::from(m.0[0]) / 255.0 * opacity;
        if a <= 0.0 {
            continue;
        }
        let p = img.get_pixel_mut(px as u32, py as u32);
        for (c, &ink) in p.0.iter_mut().zip(&colour) {
            *c = (f32::from(*c) * (1.0 - a) + f32::from(ink) * a).round() as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_ink_and_grows_with_height() {
        let small = text_mask("BEFORE", 20.0);
        let big = text_mask("BEFORE", 40.0);
        assert!(big.width() > small.width() * 3 / 2);
        assert!(small.pixels().filter(|p| p.0[0] > 128).count() > 50);
    }
}
