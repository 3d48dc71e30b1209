//! Before|after composites: side by side (stacked for wide photos) at a set width, a square one
//! and a social (OpenGraph) one, with optional burned-in labels; and the index's thumbnails, one
//! shape for every case: the left half of the before photo beside the right half of the after
//! photo (the slider at its middle), unlabelled (the page labels them in text, readable at any
//! size).
//!
//! Layout is computed here; the pipeline derives each panel from its photo's master (see
//! `render::Master`; from the source only where a panel needs more pixels than the master has),
//! then `assemble` places them.

use image::RgbImage;

use crate::render::Region;
use crate::render::text;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Side by side (or stacked) at the configured width.
    Side,
    Square,
    Social,
    /// The index cards' split thumbnail (see [`thumb_layouts`]).
    Thumb,
}

impl Kind {
    /// The composites a visitor can download; thumbnails are made by [`thumb_layouts`].
    pub const ALL: [Kind; 3] = [Kind::Side, Kind::Square, Kind::Social];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Side => "side",
            Kind::Square => "square",
            Kind::Social => "social",
            Kind::Thumb => "thumb",
        }
    }

    /// Made only with the patient's consent to social media: the square and social images.
    #[must_use]
    pub fn is_share(self) -> bool {
        matches!(self, Kind::Square | Kind::Social)
    }
}

/// The composites and thumbnails, as applied (and recorded in the manifest).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompositeParams {
    pub width: u32,
    pub thumb_widths: Vec<u32>,
    /// Thumbnail width / height.
    pub thumb_aspect: f64,
    pub square: u32,
    pub social: [u32; 2],
    pub stack_above_aspect: f64,
    /// Gap / composite width.
    pub gap: f64,
    pub background: [u8; 3],
    /// Label text height / panel width; `None` = no labels.
    pub label_size: Option<f64>,
}

/// Where the two panels go, and which part of the crop each shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub size: (u32, u32),
    /// (x, y, w, h) of the first and second panel in the composite.
    pub panels: [(u32, u32, u32, u32); 2],
    /// The part of the view's crop (before coordinates) shown in each panel.
    pub region: Region,
}

/// The layout of composite `kind` for a view whose crop is `crop`.
///
/// The free-height side composite stacks photos wider than `stack_above_aspect`; the fixed-size
/// ones pick whichever arrangement keeps more of the photo. Never upscaled: when the panels
/// would be wider than the part of the crop they show, the whole composite is made smaller (a
/// social image of small photos comes out at, say, 600×315 rather than blown up to 1200×630).
pub fn layout(kind: Kind, crop: &Region, p: &CompositeParams) -> Layout {
    let (w, h) = match kind {
        Kind::Side | Kind::Thumb => (p.width, 0),
        Kind::Square => (p.square, p.square),
        Kind::Social => (p.social[0], p.social[1]),
    };
    let (mut w, mut h) = (w, h);
    let mut l = layout_at(kind, crop, p, w, h);
    // Rounding of the gap and panel sizes can leave a panel a pixel too wide: shrink again.
    while f64::from(l.panels[0].2) > l.region.w + 1e-9 && w > 16 {
        let k = l.region.w / f64::from(l.panels[0].2);
        let scale = |v: u32| (f64::from(v) * k).floor() as u32;
        (w, h) = (
            scale(w).min(w - 1),
            if h == 0 { 0 } else { scale(h).max(8) },
        );
        l = layout_at(kind, crop, p, w, h);
    }
    l
}

fn layout_at(kind: Kind, crop: &Region, p: &CompositeParams, w: u32, h: u32) -> Layout {
    let gap = (f64::from(w) * p.gap).round() as u32;
    let (stacked, pw, ph, size) = if matches!(kind, Kind::Side | Kind::Thumb) {
        if crop.aspect() > p.stack_above_aspect {
            let ph = (f64::from(w) / crop.aspect()).round() as u32;
            (true, w, ph, (w, 2 * ph + gap))
        } else {
            let pw = (w - gap) / 2;
            let ph = (f64::from(pw) / crop.aspect()).round() as u32;
            (false, pw, ph, (w, ph))
        }
    } else {
        let side = ((w - gap) / 2, h);
        let stack = (w, (h - gap) / 2);
        let kept = |(pw, ph): (u32, u32)| {
            let a = f64::from(pw) / f64::from(ph);
            (a / crop.aspect()).min(crop.aspect() / a)
        };
        if kept(stack) > kept(side) {
            (true, stack.0, stack.1, (w, h))
        } else {
            (false, side.0, side.1, (w, h))
        }
    };
    let second = if stacked {
        (0, size.1 - ph, pw, ph)
    } else {
        (size.0 - pw, 0, pw, ph)
    };
    Layout {
        size,
        panels: [(0, 0, pw, ph), second],
        region: crop.centred_with_aspect(f64::from(pw) / f64::from(ph)),
    }
}

/// Whether the side composite of `crop` stacks its photos top and bottom.
pub fn stacks(crop: &Region, p: &CompositeParams) -> bool {
    crop.aspect() > p.stack_above_aspect
}

/// The thumbnails' sizes and the part of the crop they show: the largest centred region of
/// the thumbnail shape, at each configured width that it has the pixels for (never upscaled;
/// widths that would repeat one another are written once).
pub fn thumb_layouts(crop: &Region, p: &CompositeParams) -> (Region, Vec<(u32, u32)>) {
    let region = crop.centred_with_aspect(p.thumb_aspect);
    let mut sizes: Vec<(u32, u32)> = Vec::new();
    for &w in &p.thumb_widths {
        let w = w.min(region.w.floor() as u32).max(2);
        let h = ((f64::from(w) / p.thumb_aspect).round() as u32).max(1);
        if !sizes.iter().any(|s| s.0 == w) {
            sizes.push((w, h));
        }
    }
    sizes.sort_unstable();
    (region, sizes)
}

/// The split thumbnail: the left half of `before` and the right half of `after` (both rendered
/// over the same region at the same size), with a thin divider in the background colour.
#[must_use]
pub fn split(before: &RgbImage, after: &RgbImage, p: &CompositeParams) -> RgbImage {
    let w = before.width();
    let line = (w / 200).max(1);
    let from = w / 2 - line / 2;
    let mut out = before.clone();
    for (x, y, px) in out.enumerate_pixels_mut() {
        if x >= from + line {
            *px = *after.get_pixel(x.min(after.width() - 1), y.min(after.height() - 1));
        } else if x >= from {
            *px = image::Rgb(p.background);
        }
    }
    out
}

/// Place the rendered panels on the background and burn in their labels.
#[must_use]
pub fn assemble(
    layout: &Layout,
    panels: [&RgbImage; 2],
    labels: [&str; 2],
    p: &CompositeParams,
) -> RgbImage {
    let mut out = RgbImage::from_pixel(layout.size.0, layout.size.1, image::Rgb(p.background));
    for ((x, y, _, _), (panel, label)) in layout.panels.iter().zip(panels.iter().zip(labels)) {
        image::imageops::replace(&mut out, *panel, i64::from(*x), i64::from(*y));
        if let Some(size) = p.label_size {
            draw_label(&mut out, label, (*x, *y), panel.width(), size);
        }
    }
    out
}

/// A label in the panel's top-left corner: white text on a translucent dark plate.
fn draw_label(img: &mut RgbImage, label: &str, at: (u32, u32), panel_w: u32, size: f64) {
    if label.trim().is_empty() {
        return;
    }
    let height = (f64::from(panel_w) * size).max(8.0) as f32;
    let mask = text::text_mask(label, height);
    let pad = (height * 0.35).round() as u32;
    let plate = image::GrayImage::from_pixel(
        mask.width() + 2 * pad,
        mask.height() + pad,
        image::Luma([255]),
    );
    let (x, y) = (i64::from(at.0 + pad), i64::from(at.1 + pad));
    text::blend_mask_mut(img, &plate, x, y, [0, 0, 0], 0.55);
    text::blend_mask_mut(
        img,
        &mask,
        x + i64::from(pad),
        y + i64::from(pad / 2),
        [255, 255, 255],
        1.0,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> CompositeParams {
        CompositeParams {
            width: 2048,
            thumb_widths: vec![360, 720],
            thumb_aspect: 1.5,
            square: 1080,
            social: [1200, 630],
            stack_above_aspect: 1.25,
            gap: 0.0,
            background: [255, 255, 255],
            label_size: Some(0.05),
        }
    }

    #[test]
    fn portrait_photos_go_side_by_side() {
        let l = layout(
            Kind::Side,
            &Region::from_crop([0, 0, 3000, 4000]),
            &params(),
        );
        assert_eq!(l.size, (2048, 1365));
        assert_eq!(l.panels[1].0, 1024);
    }

    #[test]
    fn wide_photos_are_stacked() {
        let l = layout(
            Kind::Side,
            &Region::from_crop([0, 0, 3200, 1800]),
            &params(),
        );
        assert_eq!(l.size, (2048, 2304));
        assert_eq!(l.panels[1], (0, 1152, 2048, 1152));
    }

    #[test]
    fn small_crops_are_never_upscaled() {
        let crop = Region::from_crop([0, 0, 400, 300]);
        for kind in Kind::ALL {
            let l = layout(kind, &crop, &params());
            for (_, _, pw, ph) in l.panels {
                assert!(
                    f64::from(pw) <= l.region.w + 1e-9,
                    "{kind:?}: {pw} > {}",
                    l.region.w
                );
                assert!(
                    f64::from(ph) <= l.region.h + 1.0,
                    "{kind:?}: {ph} > {}",
                    l.region.h
                );
            }
        }
        let social = layout(Kind::Social, &crop, &params());
        let aspect = f64::from(social.size.0) / f64::from(social.size.1);
        assert!((aspect - 1200.0 / 630.0).abs() < 0.02, "{:?}", social.size);
    }

    #[test]
    fn thumbnails_have_one_shape_for_every_crop_and_are_never_upscaled() {
        for crop in [[0, 0, 3000, 4000], [0, 0, 3200, 1800], [0, 0, 500, 500]] {
            let (region, sizes) = thumb_layouts(&Region::from_crop(crop), &params());
            assert!((region.aspect() - 1.5).abs() < 1e-9, "{crop:?}");
            for (w, h) in &sizes {
                assert!(f64::from(*w) <= region.w, "{crop:?}: {w}");
                assert!(
                    (f64::from(*w) / f64::from(*h) - 1.5).abs() < 0.01,
                    "{w}x{h}"
                );
            }
        }
        let (_, small) = thumb_layouts(&Region::from_crop([0, 0, 500, 500]), &params());
        assert_eq!(small, [(360, 240), (500, 333)]);
    }

    #[test]
    fn split_thumbnail_is_before_on_the_left_and_after_on_the_right() {
        let before = RgbImage::from_pixel(360, 240, image::Rgb([10, 10, 10]));
        let after = RgbImage::from_pixel(360, 240, image::Rgb([200, 200, 200]));
        let t = split(&before, &after, &params());
        assert_eq!(t.get_pixel(10, 100).0, [10, 10, 10]);
        assert_eq!(t.get_pixel(350, 100).0, [200, 200, 200]);
        assert_eq!(t.get_pixel(180, 100).0, [255, 255, 255]);
    }

    #[test]
    fn fixed_sizes_are_exact() {
        let crop = Region::from_crop([0, 0, 1200, 900]);
        assert_eq!(layout(Kind::Square, &crop, &params()).size, (1080, 1080));
        let social = layout(Kind::Social, &crop, &params());
        assert_eq!(social.size, (1200, 630));
        assert!((social.region.aspect() - 600.0 / 630.0).abs() < 1e-9);
    }
}
