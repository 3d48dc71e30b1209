//! The measures, taken on the files the binary published and compared with the pair's truth.

use beforeafter::align::{self, Matrix};
use beforeafter::config::Config;
use beforeafter::render::Region;
use beforeafter::render::composite::{self, CompositeParams, Kind};
use beforeafter::tone::{delta_e2000, srgb_to_lab};
use image::{GrayImage, RgbImage};

use super::run::Published;
use super::scene::Pair;
use super::shift;

/// Scene pixels added to the treatment's radii before "outside" starts (dots near the edge,
/// blur, misregistration).
const OUTSIDE_GROW: f64 = 6.0;

/// One pair's figures. Alignment errors are in before pixels per 1000 px of before width.
#[derive(Clone, Debug)]
pub struct Measures {
    pub name: String,
    pub review: bool,
    /// From the manifest's matrix: largest displacement of the crop's corners.
    pub align_manifest: f64,
    /// On the files: largest residual shift (per quadrant) of the published after photo against
    /// the truth on the same grid, outside the treatment.
    pub align_files: Option<f64>,
    /// Median ΔE2000 outside the treatment, published after vs published before.
    pub delta_e_off: f64,
    /// The same with the truth (unencoded) as the after photo: about what encoding the before
    /// photo costs, the floor for a perfect after photo.
    pub delta_e_floor: f64,
    /// Mean ΔE inside the treatment, published after vs published before, / the same with the
    /// truth shot (the after photo shot under the before's light, on the published grid through
    /// the true matrix, JPEG-encoded as published) as the after photo. `None` when the truth shows no effect
    /// (dots on black).
    pub treatment_ratio: Option<f64>,
    /// Mean signed difference per channel of the side composite's after panel minus the slider
    /// after photo on the panel's grid, labels and watermarks left out (8-bit levels).
    pub slider_vs_composite: [f64; 3],
    /// Inside the treatment, where the truth shot differs from the before photo by at least 5
    /// ΔE (the dots) and elsewhere: mean ΔE of the published after and of the truth shot vs
    /// the before photo, and the mean signed level difference per channel, published after
    /// minus truth shot (a diagnosis of what a light model gets wrong).
    pub diagnosis: [[f64; 5]; 2],
}

impl Measures {
    /// Largest per-channel slider-vs-composite difference.
    #[must_use]
    pub fn slider_vs_composite_max(&self) -> f64 {
        self.slider_vs_composite
            .iter()
            .fold(0.0, |m, v| m.max(v.abs()))
    }
}

/// Measure what was published for `pair`.
pub fn measure(pair: &Pair, p: &Published) -> Result<Measures, String> {
    let (w, h) = p.after.dimensions();
    if p.before.dimensions() != (w, h) {
        return Err("slider photos differ in size".into());
    }
    let g2s = pair.grid_to_scene(p.crop, w, h);
    let inside = pair.mask_on(&g2s, w, h, 0.0);
    let near = pair.mask_on(&g2s, w, h, OUTSIDE_GROW);
    let wm = watermark_footprint(w, h);
    let marked = |x, y| {
        wm.as_ref()
            .is_some_and(|m: &GrayImage| m.get_pixel(x, y)[0] > 0)
    };
    let off = |x, y| near.get_pixel(x, y)[0] == 0 && !marked(x, y);
    let on = |x, y| inside.get_pixel(x, y)[0] > 0 && !marked(x, y);
    let truth_after = pair.truth_on(p.crop, w, h);
    let to_before_px = f64::from(p.crop[2]) / f64::from(w) * 1000.0 / f64::from(pair.before_size.0);
    // The same published before on both sides, so that only the after photo differs. The truth
    // of the effect is the after photo shot under the before's light (same camera JPEG and
    // noise) through the binary's resampler, with the true matrix, and its JPEG encoding: the
    // treatment as a perfect light model would publish it. (The treated scene itself, unencoded
    // and unresampled, shows crisper dots than any published file can: against it, every pair
    // read about 10% weak, which hid overstatements of that size.)
    let truth_shot = published_like(&pair.truth_shot_on(p.crop, w, h));
    let effect = mean_delta_e(&truth_shot, &p.before, &on);
    Ok(Measures {
        name: pair.name.clone(),
        review: p.review,
        align_manifest: p.after_matrix.map_or(f64::INFINITY, |m| {
            corner_error(&m, &pair.truth, p.crop) * 1000.0 / f64::from(pair.before_size.0)
        }),
        align_files: shift::residual(&p.after, &truth_after, &off).map(|d| d * to_before_px),
        delta_e_off: median_delta_e(&p.after, &p.before, &off),
        delta_e_floor: median_delta_e(&truth_after, &p.before, &off),
        treatment_ratio: (effect >= 1.0).then(|| mean_delta_e(&p.after, &p.before, &on) / effect),
        slider_vs_composite: slider_vs_composite(p)?,
        diagnosis: diagnose(&p.after, &truth_shot, &p.before, &on),
    })
}

/// See [`Measures::diagnosis`].
fn diagnose(
    published: &RgbImage,
    truth: &RgbImage,
    before: &RgbImage,
    on: &dyn Fn(u32, u32) -> bool,
) -> [[f64; 5]; 2] {
    let mut acc = [[0.0; 6]; 2];
    for (x, y, b) in before.enumerate_pixels().filter(|(x, y, _)| on(*x, *y)) {
        let (p, t) = (published.get_pixel(x, y).0, truth.get_pixel(x, y).0);
        let lab = |v: [u8; 3]| srgb_to_lab(v);
        let dt = delta_e2000(lab(t), lab(b.0));
        let row = &mut acc[usize::from(dt < 5.0)];
        row[0] += delta_e2000(lab(p), lab(b.0));
        row[1] += dt;
        for c in 0..3 {
            row[2 + c] += f64::from(p[c]) - f64::from(t[c]);
        }
        row[5] += 1.0;
    }
    acc.map(|r| std::array::from_fn(|i| r[i] / r[5].max(1.0)))
}

/// `img` encoded as the binary encodes its JPEG outputs under the default config, and decoded.
#[must_use]
pub fn published_like(img: &RgbImage) -> RgbImage {
    let params = Config::defaults().outputs.encode_params();
    let bytes =
        beforeafter::render::encode::encode(img, beforeafter::config::Format::Jpeg, &params)
            .expect("encode the truth");
    image::load_from_memory(&bytes)
        .expect("decode the truth")
        .to_rgb8()
}

/// Largest distance, in before pixels, between where the crop's corners land when taken into the
/// after photo by the truth and brought back by the estimate.
#[must_use]
pub fn corner_error(estimate: &Matrix, truth: &Matrix, crop: [u32; 4]) -> f64 {
    let inv_truth = align::invert(truth).expect("truth invertible");
    let [x, y, w, h] = crop.map(f64::from);
    [
        [x, y],
        [x + w - 1.0, y],
        [x, y + h - 1.0],
        [x + w - 1.0, y + h - 1.0],
    ]
    .iter()
    .map(|&c| {
        let q = align::apply(estimate, align::apply(&inv_truth, c));
        (q[0] - c[0]).hypot(q[1] - c[1])
    })
    .fold(0.0, f64::max)
}

fn delta_es(a: &RgbImage, b: &RgbImage, sel: &dyn Fn(u32, u32) -> bool) -> Vec<f64> {
    a.enumerate_pixels()
        .filter(|(x, y, _)| sel(*x, *y))
        .map(|(x, y, p)| delta_e2000(srgb_to_lab(p.0), srgb_to_lab(b.get_pixel(x, y).0)))
        .collect()
}

/// Median CIEDE2000 over the selected pixels (NaN when none).
#[must_use]
pub fn median_delta_e(a: &RgbImage, b: &RgbImage, sel: &dyn Fn(u32, u32) -> bool) -> f64 {
    let mut d = delta_es(a, b, sel);
    if d.is_empty() {
        return f64::NAN;
    }
    d.sort_by(f64::total_cmp);
    d[d.len() / 2]
}

/// Mean CIEDE2000 over the selected pixels (NaN when none).
#[must_use]
pub fn mean_delta_e(a: &RgbImage, b: &RgbImage, sel: &dyn Fn(u32, u32) -> bool) -> f64 {
    let d = delta_es(a, b, sel);
    d.iter().sum::<f64>() / d.len() as f64
}

/// Pixels the default watermark touches on a `w`×`h` output (grown for JPEG ringing), or `None`
/// when outputs that narrow are not watermarked.
fn watermark_footprint(w: u32, h: u32) -> Option<GrayImage> {
    let wm = beforeafter::pipeline::Settings::new(&Config::defaults(), false).watermark?;
    if !wm.applies_to(w) {
        return None;
    }
    Some(changed_by(w, h, &|img| wm.apply_mut(img)))
}

/// Pixels that `draw` changes on a black or a white `w`×`h` image, grown by 3 px.
fn changed_by(w: u32, h: u32, draw: &dyn Fn(&mut RgbImage)) -> GrayImage {
    let mut mask = GrayImage::new(w, h);
    for grey in [0, 255] {
        let plain = RgbImage::from_pixel(w, h, image::Rgb([grey; 3]));
        let mut drawn = plain.clone();
        draw(&mut drawn);
        for (x, y, p) in drawn.enumerate_pixels() {
            if p != plain.get_pixel(x, y) {
                mask.put_pixel(x, y, image::Luma([255]));
            }
        }
    }
    grow(&mask, 3)
}

fn grow(mask: &GrayImage, r: u32) -> GrayImage {
    let (w, h) = mask.dimensions();
    GrayImage::from_fn(w, h, |x, y| {
        let hit = (y.saturating_sub(r)..(y + r + 1).min(h)).any(|yy| {
            (x.saturating_sub(r)..(x + r + 1).min(w)).any(|xx| mask.get_pixel(xx, yy)[0] > 0)
        });
        image::Luma([if hit { 255 } else { 0 }])
    })
}

/// The composite settings exactly as the binary resolves them from the default config.
fn composite_params(cfg: &Config) -> CompositeParams {
    beforeafter::pipeline::Settings::new(cfg, false)
        .render
        .composites
        .expect("composites are on by default")
}

/// The side composite's after panel minus the slider after photo sampled (bilinear) on the
/// panel's grid, per channel, over pixels that no label or watermark touches in either.
fn slider_vs_composite(p: &Published) -> Result<[f64; 3], String> {
    let cfg = Config::defaults();
    let params = composite_params(&cfg);
    let layout = composite::layout(Kind::Side, &Region::from_crop(p.crop), &params);
    if layout.size != p.side.dimensions() {
        return Err(format!(
            "side composite is {:?}, the default layout {:?}",
            p.side.dimensions(),
            layout.size
        ));
    }
    let labels = [cfg.labels.before.as_str(), cfg.labels.after.as_str()];
    let (cw, ch) = layout.size;
    let burned = changed_by(cw, ch, &|img| {
        let blank =
            |i: usize| RgbImage::from_pixel(layout.panels[i].2, layout.panels[i].3, img[(0, 0)]);
        *img = composite::assemble(&layout, [&blank(0), &blank(1)], labels, &params);
        let mark = beforeafter::pipeline::Settings::new(&cfg, false).watermark;
        if let Some(wm) = mark.filter(|wm| wm.applies_to(cw)) {
            wm.apply_mut(img);
        }
    });
    let (sw, sh) = p.after.dimensions();
    let slider_marks = watermark_footprint(sw, sh);
    let (px, py, pw, ph) = layout.panels[1];
    let r = layout.region;
    let (mut sum, mut n) = ([0.0; 3], 0.0);
    for v in 1..ph - 1 {
        for u in 1..pw - 1 {
            if burned.get_pixel(px + u, py + v)[0] > 0 {
                continue;
            }
            // Panel pixel -> continuous before position -> slider pixel centre.
            let bx = r.x + (f64::from(u) + 0.5) * r.w / f64::from(pw);
            let by = r.y + (f64::from(v) + 0.5) * r.h / f64::from(ph);
            let sx = (bx - f64::from(p.crop[0])) * f64::from(sw) / f64::from(p.crop[2]) - 0.5;
            let sy = (by - f64::from(p.crop[1])) * f64::from(sh) / f64::from(p.crop[3]) - 0.5;
            if let Some(m) = &slider_marks
                && m.get_pixel(
                    sx.round().clamp(0.0, f64::from(sw - 1)) as u32,
                    sy.round().clamp(0.0, f64::from(sh - 1)) as u32,
                )[0] > 0
            {
                continue;
            }
            let s = bilinear(&p.after, sx, sy);
            let c = p.side.get_pixel(px + u, py + v);
            (0..3).for_each(|k| sum[k] += f64::from(c[k]) - s[k]);
            n += 1.0;
        }
    }
    Ok(sum.map(|s| s / n))
}

fn bilinear(img: &RgbImage, x: f64, y: f64) -> [f64; 3] {
    let (w, h) = img.dimensions();
    let x = x.clamp(0.0, f64::from(w - 1));
    let y = y.clamp(0.0, f64::from(h - 1));
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - f64::from(x0), y - f64::from(y0));
    let p = |x, y| img.get_pixel(x, y).0.map(f64::from);
    let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    std::array::from_fn(|k| {
        let top = a[k] + (b[k] - a[k]) * fx;
        top + (c[k] + (d[k] - c[k]) * fx - top) * fy
    })
}
