//! The generator: a before/after pair cut out of one real photo (the scene), with the exact
//! geometry, treatment and light that made it.

use std::sync::Arc;

use beforeafter::align::{self, Matrix};
use beforeafter::synth::Rng;
use beforeafter::tone::{srgb_decode, srgb_encode};

pub use super::light::{Light, LightKind};
use image::{GrayImage, RgbImage};
use rayon::prelude::*;

/// The real photos under `tests/fixtures/real/` (see its LICENSE.md), by file stem.
pub const PHOTOS: [&str; 6] = [
    "astronaut",
    "chelsea",
    "coffee",
    "hubble_deep_field",
    "retina",
    "rocket",
];

/// A photo in linear light, `[0, 1]` per channel; pixel `i`'s centre is at coordinate `i`.
pub struct Linear {
    pub w: u32,
    pub h: u32,
    pub px: Vec<[f32; 3]>,
}

impl Linear {
    #[must_use]
    pub fn from_srgb(img: &RgbImage) -> Linear {
        let lut: Vec<f32> = (0..256)
            .map(|v| srgb_decode(f64::from(v) / 255.0) as f32)
            .collect();
        Linear {
            w: img.width(),
            h: img.height(),
            px: img.pixels().map(|p| p.0.map(|v| lut[v as usize])).collect(),
        }
    }

    /// Bilinear, clamped at the edges.
    fn at(&self, x: f64, y: f64) -> [f32; 3] {
        let x = x.clamp(0.0, f64::from(self.w - 1));
        let y = y.clamp(0.0, f64::from(self.h - 1));
        let (x0, y0) = (x.floor() as u32, y.floor() as u32);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (fx, fy) = ((x - f64::from(x0)) as f32, (y - f64::from(y0)) as f32);
        let p = |x: u32, y: u32| self.px[(y * self.w + x) as usize];
        let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
        std::array::from_fn(|k| {
            let top = a[k] + (b[k] - a[k]) * fx;
            let bottom = c[k] + (d[k] - c[k]) * fx;
            top + (bottom - top) * fy
        })
    }

    /// `w`×`h` pixels whose centres map to this photo through `out_to_self`, each the average of
    /// an `ss`×`ss` grid of bilinear samples over its footprint (an integer shift is an exact
    /// copy).
    #[must_use]
    pub fn sample(&self, out_to_self: &Matrix, w: u32, h: u32) -> Linear {
        let m = out_to_self;
        let exact = m[0][0] == 1.0
            && m[1][1] == 1.0
            && m[0][1] == 0.0
            && m[1][0] == 0.0
            && m[0][2].fract() == 0.0
            && m[1][2].fract() == 0.0;
        let ss = if exact { 1 } else { 3 };
        let mut px = vec![[0f32; 3]; (w * h) as usize];
        px.par_chunks_mut(w as usize)
            .enumerate()
            .for_each(|(y, row)| {
                for (x, out) in row.iter_mut().enumerate() {
                    let mut sum = [0f32; 3];
                    for j in 0..ss {
                        for i in 0..ss {
                            let u = x as f64 - 0.5 + (f64::from(i) + 0.5) / f64::from(ss);
                            let v = y as f64 - 0.5 + (f64::from(j) + 0.5) / f64::from(ss);
                            let p = align::apply(m, [u, v]);
                            let s = self.at(p[0], p[1]);
                            (0..3).for_each(|k| sum[k] += s[k]);
                        }
                    }
                    *out = sum.map(|s| s / (ss * ss) as f32);
                }
            });
        Linear { w, h, px }
    }

    /// Encoded through `light` (None = as is), rounded to 8 bits.
    #[must_use]
    pub fn to_srgb(&self, light: Option<&Light>, noise: Option<(f64, u64)>) -> RgbImage {
        let mut rng = noise.map(|(_, seed)| Rng::new(seed));
        let mut out = RgbImage::new(self.w, self.h);
        let (w, h) = (f64::from(self.w), f64::from(self.h));
        for (i, (o, p)) in out.pixels_mut().zip(&self.px).enumerate() {
            let at = [
                (i % self.w as usize) as f64 / w,
                (i / self.w as usize) as f64 / h,
            ];
            o.0 = std::array::from_fn(|k| {
                let v = f64::from(p[k]);
                let v = match light {
                    Some(l) => l.encode(v, k, at),
                    None => srgb_encode(v.min(1.0)),
                };
                let mut e = v * 255.0;
                if let (Some(r), Some((sigma, _))) = (rng.as_mut(), noise) {
                    e += sigma * r.normal();
                }
                e.round().clamp(0.0, 255.0) as u8
            });
        }
        out
    }
}

/// An axis-aligned ellipse in scene pixels.
#[derive(Clone, Copy, Debug)]
pub struct Ellipse {
    pub centre: [f64; 2],
    pub radii: [f64; 2],
}

impl Ellipse {
    /// Whether `p` is inside, with both radii grown by `grow` pixels.
    #[must_use]
    pub fn contains(&self, p: [f64; 2], grow: f64) -> bool {
        let dx = (p[0] - self.centre[0]) / (self.radii[0] + grow);
        let dy = (p[1] - self.centre[1]) / (self.radii[1] + grow);
        dx * dx + dy * dy <= 1.0
    }
}

/// Knobs of one pair, all drawn from its seed by [`spec`].
#[derive(Clone, Debug)]
pub struct Spec {
    pub photo: &'static str,
    pub variant: u64,
    pub seed: u64,
    /// After-photo width / before-photo width.
    pub after_width_factor: f64,
    pub rot_deg: f64,
    /// Framing scale of the after photo (> 1: closer).
    pub scale: f64,
    /// Shift of the after photo's centre, as fractions of the before photo's size.
    pub shift: [f64; 2],
    pub light: Light,
    /// Noise of the after photo, in 8-bit levels.
    pub noise: f64,
    pub quality: u8,
}

/// Pair number `variant` of `photo`: rotation ±6°, scale 0.9–1.1, shift ±4%, gains 0.75–1.3,
/// gamma 0.85–1.2; every third after photo is 1.25× wider.
#[must_use]
pub fn spec(photo: &'static str, variant: u64) -> Spec {
    let index = PHOTOS.iter().position(|p| *p == photo).unwrap_or(0) as u64;
    let seed = 0x7207_0000 + 100 * index + variant;
    let mut rng = Rng::new(seed);
    let log_uniform = |rng: &mut Rng, lo: f64, hi: f64| rng.range(lo.ln(), hi.ln()).exp();
    Spec {
        photo,
        variant,
        seed,
        after_width_factor: if variant % 3 == 2 { 1.25 } else { 1.0 },
        rot_deg: rng.range(-6.0, 6.0),
        scale: log_uniform(&mut rng, 0.9, 1.1),
        shift: [rng.range(-0.04, 0.04), rng.range(-0.04, 0.04)],
        light: Light::linear(
            std::array::from_fn(|_| log_uniform(&mut rng, 0.75, 1.3)),
            rng.range(0.85, 1.2),
        ),
        noise: rng.range(1.0, 2.0),
        quality: 90,
    }
}

/// One generated pair and its truth.
pub struct Pair {
    pub name: String,
    pub spec: Spec,
    pub before_jpeg: Vec<u8>,
    pub after_jpeg: Vec<u8>,
    pub before_size: (u32, u32),
    /// Exact after-photo pixel -> before-photo pixel map.
    pub truth: Matrix,
    /// Before-photo pixel -> scene pixel.
    pub before_to_scene: Matrix,
    /// The treated region, in scene pixels.
    pub treatment: Ellipse,
    /// The treated region in the before photo's pixels (255 inside).
    pub mask: GrayImage,
    /// The treated scene in the before frame, under the before's light: what a perfect pipeline
    /// shows as the after photo.
    pub truth_after: RgbImage,
    /// The after photo as the camera would have shot it under the before photo's light (same
    /// framing, noise and JPEG): what a perfect light model starts from.
    pub after_unlit_jpeg: Vec<u8>,
    scene: Arc<Linear>,
    dots: Vec<Dot>,
}

/// One pigment dot of the simulated treatment, in scene pixels.
#[derive(Clone, Copy)]
struct Dot {
    centre: [f64; 2],
    radius: f64,
}

/// Pigment colour (linear) and the dots' opacity.
const PIGMENT: [f32; 3] = [0.030, 0.024, 0.020];
const PIGMENT_OPACITY: f64 = 0.85;
/// Share of the treated area covered by dots.
const DOT_COVER: f64 = 0.25;

/// A real photo from `tests/fixtures/real/`, in linear light.
#[must_use]
pub fn load_scene(photo: &str) -> Arc<Linear> {
    let path = format!(
        "{}/tests/fixtures/real/{photo}.jpg",
        env!("CARGO_MANIFEST_DIR")
    );
    let img = image::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Arc::new(Linear::from_srgb(&img.to_rgb8()))
}

/// Render the pair of `spec` from `scene` (see the module docs of `truth`).
#[must_use]
pub fn make(spec: &Spec, scene: Arc<Linear>) -> Pair {
    let (before_to_scene, after_to_scene, before_size, after_size) = framing(spec, &scene);
    let truth = align::compose(
        &align::invert(&before_to_scene).expect("invertible"),
        &after_to_scene,
    );
    let mut rng = Rng::new(spec.seed ^ 0xD075);
    let (bw, bh) = before_size;
    let treatment = Ellipse {
        centre: align::apply(
            &before_to_scene,
            [
                f64::from(bw) * rng.range(0.4, 0.6),
                f64::from(bh) * rng.range(0.4, 0.6),
            ],
        ),
        radii: {
            let aspect = rng.range(0.75, 1.33);
            let r = (0.10 * f64::from(bw * bh) / std::f64::consts::PI).sqrt();
            [r * aspect.sqrt(), r / aspect.sqrt()]
        },
    };
    let dots = stipple(&treatment, &mut rng);
    let mut pair = Pair {
        name: name(spec),
        spec: spec.clone(),
        before_jpeg: Vec::new(),
        after_jpeg: Vec::new(),
        before_size,
        truth,
        before_to_scene,
        treatment,
        mask: GrayImage::new(bw, bh),
        truth_after: RgbImage::new(1, 1),
        after_unlit_jpeg: Vec::new(),
        scene,
        dots,
    };
    let treated = pair.treated_scene();
    let before = pair
        .scene
        .sample(&before_to_scene, bw, bh)
        .to_srgb(None, None);
    pair.before_jpeg = jpeg(&before, 92);
    let shot = treated.sample(&after_to_scene, after_size.0, after_size.1);
    let after = shot.to_srgb(Some(&spec.light), Some((spec.noise, spec.seed)));
    pair.after_jpeg = jpeg(&after, spec.quality);
    let unlit = shot.to_srgb(None, Some((spec.noise, spec.seed)));
    pair.after_unlit_jpeg = jpeg(&unlit, spec.quality);
    pair.truth_after = treated.sample(&before_to_scene, bw, bh).to_srgb(None, None);
    pair.mask = pair.mask_on(&before_to_scene, bw, bh, 0.0);
    pair
}

/// The case folder's name: photo, variant, `-hires` for a wider after photo.
fn name(spec: &Spec) -> String {
    let hires = if spec.after_width_factor > 1.0 {
        "-hires"
    } else {
        ""
    };
    let light = match spec.light.kind {
        LightKind::Linear => String::new(),
        kind => format!("-{}", kind.short()),
    };
    format!(
        "{}-v{}{hires}{light}",
        spec.photo.replace('_', "-"),
        spec.variant
    )
}

/// Before window (centred, 75% of the scene, smaller when the after photo would leave the scene)
/// and the after photo's placement: (before->scene, after->scene, before size, after size).
fn framing(spec: &Spec, scene: &Linear) -> (Matrix, Matrix, (u32, u32), (u32, u32)) {
    let (sw, sh) = (f64::from(scene.w), f64::from(scene.h));
    let mut fraction = 0.75;
    loop {
        let (bw, bh) = ((sw * fraction).round(), (sh * fraction).round());
        let (x0, y0) = (((sw - bw) / 2.0).floor(), ((sh - bh) / 2.0).floor());
        let before_to_scene = translation(x0, y0);
        let (aw, ah) = (
            (bw * spec.after_width_factor).round(),
            (bh * spec.after_width_factor).round(),
        );
        let centre = [
            x0 + (bw - 1.0) / 2.0 + spec.shift[0] * bw,
            y0 + (bh - 1.0) / 2.0 + spec.shift[1] * bh,
        ];
        let k = bw / aw / spec.scale;
        let after_to_scene = align::compose(
            &align::similarity(k, spec.rot_deg, centre[0], centre[1]),
            &translation(-(aw - 1.0) / 2.0, -(ah - 1.0) / 2.0),
        );
        let inside = [
            [-0.5, -0.5],
            [aw - 0.5, -0.5],
            [-0.5, ah - 0.5],
            [aw - 0.5, ah - 0.5],
        ]
        .iter()
        .all(|&c| {
            let p = align::apply(&after_to_scene, c);
            p[0] >= 0.0 && p[1] >= 0.0 && p[0] <= sw - 1.0 && p[1] <= sh - 1.0
        });
        if inside || fraction < 0.5 {
            let size = |w: f64, h: f64| (w as u32, h as u32);
            return (before_to_scene, after_to_scene, size(bw, bh), size(aw, ah));
        }
        fraction -= 0.01;
    }
}

fn translation(x: f64, y: f64) -> Matrix {
    [[1.0, 0.0, x], [0.0, 1.0, y]]
}

/// Dots 2–4 px across at random places in the ellipse, covering about [`DOT_COVER`] of it.
fn stipple(e: &Ellipse, rng: &mut Rng) -> Vec<Dot> {
    let area = std::f64::consts::PI * e.radii[0] * e.radii[1];
    let n = (DOT_COVER * area / (std::f64::consts::PI * 1.5 * 1.5)) as usize;
    let mut dots = Vec::with_capacity(n);
    while dots.len() < n {
        let p = [
            e.centre[0] + e.radii[0] * rng.range(-1.0, 1.0),
            e.centre[1] + e.radii[1] * rng.range(-1.0, 1.0),
        ];
        let radius = rng.range(1.0, 2.0);
        if e.contains(p, -radius) {
            dots.push(Dot { centre: p, radius });
        }
    }
    dots
}

impl Pair {
    /// The scene with the treatment's dots (antialiased discs of pigment).
    #[must_use]
    pub fn treated_scene(&self) -> Linear {
        let s = &self.scene;
        let mut px = s.px.clone();
        for d in &self.dots {
            let r = d.radius + 1.0;
            let (x0, x1) = ((d.centre[0] - r).floor(), (d.centre[0] + r).ceil());
            let (y0, y1) = ((d.centre[1] - r).floor(), (d.centre[1] + r).ceil());
            for y in (y0.max(0.0) as u32)..=(y1.min(f64::from(s.h - 1)) as u32) {
                for x in (x0.max(0.0) as u32)..=(x1.min(f64::from(s.w - 1)) as u32) {
                    let dist = (f64::from(x) - d.centre[0]).hypot(f64::from(y) - d.centre[1]);
                    let a = ((d.radius + 0.5 - dist).clamp(0.0, 1.0) * PIGMENT_OPACITY) as f32;
                    let p = &mut px[(y * s.w + x) as usize];
                    (0..3).for_each(|k| p[k] += (PIGMENT[k] - p[k]) * a);
                }
            }
        }
        Linear { w: s.w, h: s.h, px }
    }

    /// The matrix from a `w`×`h` grid showing `crop` (`[x, y, w, h]`, before pixels) to the scene.
    #[must_use]
    pub fn grid_to_scene(&self, crop: [u32; 4], w: u32, h: u32) -> Matrix {
        let (sx, sy) = (
            f64::from(crop[2]) / f64::from(w),
            f64::from(crop[3]) / f64::from(h),
        );
        let grid_to_before = [
            [sx, 0.0, f64::from(crop[0]) + 0.5 * sx - 0.5],
            [0.0, sy, f64::from(crop[1]) + 0.5 * sy - 0.5],
        ];
        align::compose(&self.before_to_scene, &grid_to_before)
    }

    /// The truth after photo (treated scene, before's light) rendered onto a `w`×`h` grid showing
    /// `crop` of the before photo: what a published after photo of that size is compared with.
    #[must_use]
    pub fn truth_on(&self, crop: [u32; 4], w: u32, h: u32) -> RgbImage {
        let m = self.grid_to_scene(crop, w, h);
        self.treated_scene().sample(&m, w, h).to_srgb(None, None)
    }

    /// The after photo shot under the before's light ([`Pair::after_unlit_jpeg`]) taken onto a
    /// `w`×`h` grid showing `crop` by the true matrix, with the binary's own resampler: what
    /// the binary would publish with a perfect registration and a perfect light model (before
    /// its JPEG encoding).
    #[must_use]
    pub fn truth_shot_on(&self, crop: [u32; 4], w: u32, h: u32) -> RgbImage {
        let shot = image::load_from_memory(&self.after_unlit_jpeg)
            .expect("unlit after")
            .to_rgb8();
        let region = beforeafter::render::Region::from_crop(crop);
        beforeafter::render::render_photo(&shot, &self.truth, None, &region, w, h)
    }

    /// The treated region on a grid (`grid_to_scene`), radii grown by `grow` scene pixels.
    #[must_use]
    pub fn mask_on(&self, grid_to_scene: &Matrix, w: u32, h: u32, grow: f64) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            let p = align::apply(grid_to_scene, [f64::from(x), f64::from(y)]);
            image::Luma([if self.treatment.contains(p, grow) {
                255
            } else {
                0
            }])
        })
    }
}

/// Baseline JPEG bytes (the encoder's default chroma subsampling).
#[must_use]
pub fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    jpeg_encoder::Encoder::new(&mut bytes, quality)
        .encode(
            img.as_raw(),
            img.width() as u16,
            img.height() as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .expect("encode");
    bytes
}
