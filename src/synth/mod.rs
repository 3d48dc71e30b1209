//! Synthetic scalp photographs with exactly known ground truth.
//!
//! A [`Scene`] is a procedural head (skin, hair strands, follicles, optional
//! scalp-micropigmentation dots) defined in resolution-independent scene
//! coordinates: the reference frame spans `x` in `[0, 1]` and `y` in
//! `[0, aspect]`, with `y` pointing down. A [`Shot`] is one photograph of it:
//! an affine pixel-to-scene map, a global light/tone rendition, sensor noise
//! and whether the treatment is visible. Because every shot is rendered by
//! evaluating the scene at its pixels, the geometric relation between two
//! shots ([`shot_to_shot`]), the treated region ([`treatment_mask`]) and the
//! tone change ([`Light`]) are known exactly, which is what the registration
//! and tone-matching benchmarks, the tests and the sample generator rely on.

mod exif;
mod hair;
mod layout;
mod noise;
mod prims;
mod scene;

pub use exif::{
    DEFAULT_DATE_TIME_ORIGINAL, EXIF_ARTIST, EXIF_MAKE, EXIF_MODEL, EXIF_SERIAL, jpeg_with_exif,
};
pub use scene::Scene;

use image::{GrayImage, RgbImage};
use rayon::prelude::*;

/// SplitMix64: tiny, fast and good enough for procedural content; we need
/// bit-exact determinism across platforms, not cryptographic quality.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal deviate (Box–Muller; one of the pair is discarded to
    /// keep the generator state a plain `u64`).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // in (0, 1], so ln is finite
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Uniform in `[a, b)`.
    pub fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.next_f64()
    }
}

/// The SplitMix64 output finaliser, also used as a stateless hash.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Which part of the head the photo shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// Forehead and frontal hairline, eyebrows at the bottom edge.
    Front,
    /// Looking down on the top of the head; front hairline at the bottom.
    Top,
    /// The vertex with its whorl and a thinning/bald centre.
    Crown,
    /// Temple, sideburn and ear; the face is to the left.
    Side,
}

impl View {
    pub const ALL: [View; 4] = [View::Front, View::Top, View::Crown, View::Side];

    pub fn name(self) -> &'static str {
        match self {
            View::Front => "front",
            View::Top => "top",
            View::Crown => "crown",
            View::Side => "side",
        }
    }
}

/// Global photographic rendition of a shot (white balance, exposure, tone).
///
/// The scene produces linear-light RGB radiance `lin` (roughly `0..1`). The
/// 8-bit value before noise and rounding is, per channel `c`:
///
/// `out_c = 255 * srgb_encode(min(1, gain_c * lin_c)) ^ (1 / gamma)`
///
/// where `srgb_encode` is the standard sRGB transfer function. So `gain` acts
/// in linear light (exposure and white balance) and `gamma > 1` brightens
/// the mid-tones of the encoded image while leaving black and white fixed.
#[derive(Clone, Copy, Debug)]
pub struct Light {
    pub gain: [f64; 3],
    pub gamma: f64,
}

impl Light {
    pub const NEUTRAL: Light = Light {
        gain: [1.0; 3],
        gamma: 1.0,
    };

    /// Maps linear radiance to 8-bit levels as documented on [`Light`]
    /// (unrounded, no noise).
    pub fn apply(&self, lin: [f64; 3]) -> [f64; 3] {
        let mut out = [0.0; 3];
        for c in 0..3 {
            let v = (self.gain[c] * lin[c]).clamp(0.0, 1.0);
            out[c] = 255.0 * srgb_encode(v).powf(1.0 / self.gamma);
        }
        out
    }
}

/// Standard sRGB transfer function, linear `[0, 1]` to encoded `[0, 1]`.
pub fn srgb_encode(v: f64) -> f64 {
    if v <= 0.003_130_8 {
        12.92 * v
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// Inverse of [`srgb_encode`].
pub fn srgb_decode(e: f64) -> f64 {
    if e <= 0.040_45 {
        e / 12.92
    } else {
        ((e + 0.055) / 1.055).powf(2.4)
    }
}

/// One photograph of a [`Scene`].
#[derive(Clone, Debug)]
pub struct Shot {
    pub width: u32,
    pub height: u32,
    /// 2x3 matrix mapping a shot pixel (x, y) (pixel centres at integer coordinates) to scene coordinates,
    /// where the scene's reference frame spans x in [0, 1] and y in [0, aspect].
    pub matrix: [[f64; 3]; 2],
    pub light: Light,
    /// Whether the scalp-micropigmentation dots are present.
    pub treated: bool,
    /// Fraction of the treatment's dots present when `treated` (1.0 = the
    /// finished treatment). Dots are ranked once per scene, so a session
    /// with a higher density contains every dot of a lower one.
    pub density: f64,
    /// Standard deviation of the Gaussian sensor noise, in 8-bit levels.
    pub noise_sigma: f64,
    /// Seed of the noise pattern.
    pub seed: u64,
}

impl Shot {
    /// The identity framing of the reference frame at this width.
    pub fn reference(scene: &Scene, width: u32) -> Shot {
        let height = (width as f64 * scene.aspect()).round().max(1.0) as u32;
        let k = 1.0 / width as f64;
        Shot::with_matrix(width, height, [[k, 0.0, 0.5 * k], [0.0, k, 0.5 * k]])
    }

    /// The same camera moved: rotation (degrees, about the frame centre;
    /// positive turns the subject clockwise as displayed), uniform scale
    /// (>1 = subject appears larger), shift (fraction of the shot width,
    /// positive moves the subject right/down).
    ///
    /// A scene point `p` appears at centred shot coordinates (in shot widths)
    /// `u = scale * R(rotation) * (p - centre) + shift`, where `centre` is
    /// the middle of the reference frame. With no motion and
    /// `height = width * aspect` this equals [`Shot::reference`].
    pub fn moved(
        scene: &Scene,
        width: u32,
        height: u32,
        rotation_deg: f64,
        scale: f64,
        shift: [f64; 2],
    ) -> Shot {
        let (s, c) = rotation_deg.to_radians().sin_cos();
        let w = width as f64;
        let a0 = (0.5 - 0.5 * w) / w - shift[0];
        let a1 = (0.5 - 0.5 * height as f64) / w - shift[1];
        let centre = [0.5, 0.5 * scene.aspect()];
        let k = 1.0 / (scale * w);
        let matrix = [
            [c * k, s * k, centre[0] + (c * a0 + s * a1) / scale],
            [-s * k, c * k, centre[1] + (-s * a0 + c * a1) / scale],
        ];
        Shot::with_matrix(width, height, matrix)
    }

    fn with_matrix(width: u32, height: u32, matrix: [[f64; 3]; 2]) -> Shot {
        Shot {
            width,
            height,
            matrix,
            light: Light::NEUTRAL,
            treated: false,
            density: 1.0,
            noise_sigma: 0.0,
            seed: 0,
        }
    }

    /// Scene coordinates of shot pixel `(x, y)`.
    pub fn to_scene(&self, x: f64, y: f64) -> [f64; 2] {
        apply(&self.matrix, [x, y])
    }

    /// Scene units covered by one pixel (the matrix is a similarity, so this
    /// is its uniform scale).
    pub fn footprint(&self) -> f64 {
        let m = &self.matrix;
        (m[0][0] * m[1][1] - m[0][1] * m[1][0]).abs().sqrt()
    }
}

/// Applies a 2x3 affine matrix to a point.
pub fn apply(m: &[[f64; 3]; 2], p: [f64; 2]) -> [f64; 2] {
    [
        m[0][0] * p[0] + m[0][1] * p[1] + m[0][2],
        m[1][0] * p[0] + m[1][1] * p[1] + m[1][2],
    ]
}

/// Inverse of a 2x3 affine matrix (panics on a singular one, which no shot
/// constructor can produce).
pub fn invert(m: &[[f64; 3]; 2]) -> [[f64; 3]; 2] {
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    assert!(det != 0.0, "singular shot matrix");
    let (a, b, c, d) = (m[1][1] / det, -m[0][1] / det, -m[1][0] / det, m[0][0] / det);
    [
        [a, b, -(a * m[0][2] + b * m[1][2])],
        [c, d, -(c * m[0][2] + d * m[1][2])],
    ]
}

/// `outer ∘ inner`: first `inner`, then `outer`.
pub fn compose(outer: &[[f64; 3]; 2], inner: &[[f64; 3]; 2]) -> [[f64; 3]; 2] {
    let mut r = [[0.0; 3]; 2];
    for i in 0..2 {
        for j in 0..3 {
            r[i][j] = outer[i][0] * inner[0][j] + outer[i][1] * inner[1][j];
        }
        r[i][2] += outer[i][2];
    }
    r
}

/// Exact map from a pixel of `from` to a pixel of `to`.
pub fn shot_to_shot(from: &Shot, to: &Shot) -> [[f64; 3]; 2] {
    compose(&invert(&to.matrix), &from.matrix)
}

/// Renders a shot as 8-bit sRGB. Every pixel is evaluated independently from
/// scene coordinates (with footprint-aware analytic antialiasing), so the
/// result is deterministic regardless of thread scheduling.
pub fn render(scene: &Scene, shot: &Shot) -> RgbImage {
    let (w, h) = (shot.width as usize, shot.height as usize);
    let mut buf = vec![0u8; w * h * 3];
    let footprint = shot.footprint();
    let density = if shot.treated { shot.density } else { -1.0 };
    let tone = ToneLut::new(shot.light.gamma);
    buf.par_chunks_mut(w * 3).enumerate().for_each(|(y, row)| {
        let mut scratch = Vec::new();
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let p = shot.to_scene(x as f64, y as f64);
            let lin = scene.radiance(p, footprint, density, &mut scratch);
            let noise = if shot.noise_sigma > 0.0 {
                pixel_noise(shot.seed, (y * w + x) as u64).map(|n| n * shot.noise_sigma)
            } else {
                [0.0; 3]
            };
            for c in 0..3 {
                let v = tone.get(shot.light.gain[c] * lin[c]) + noise[c];
                px[c] = (v + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
    });
    RgbImage::from_raw(shot.width, shot.height, buf).expect("buffer size matches")
}

/// Three independent standard normal deviates for one pixel, from a hash of
/// the shot seed and pixel index (order-independent, so thread-safe).
fn pixel_noise(seed: u64, index: u64) -> [f64; 3] {
    let mut rng = Rng::new(mix64(seed ^ mix64(index)));
    // Box–Muller pairs, both outputs used: this is per pixel.
    let r1 = (-2.0 * (1.0 - rng.next_f64()).ln()).sqrt();
    let (s1, c1) = (std::f64::consts::TAU * rng.next_f64()).sin_cos();
    let r2 = (-2.0 * (1.0 - rng.next_f64()).ln()).sqrt();
    let c2 = (std::f64::consts::TAU * rng.next_f64()).cos();
    [r1 * c1, r1 * s1, r2 * c2]
}

/// Tabulated `255 * srgb_encode(v)^(1/gamma)` on `[0, 1]`: two `powf` per
/// channel per pixel dominated render time. With 16k linearly interpolated
/// entries the error is far below one 8-bit level.
struct ToneLut(Vec<f32>);

impl ToneLut {
    const N: usize = 16384;

    fn new(gamma: f64) -> ToneLut {
        let l = Light {
            gain: [1.0; 3],
            gamma,
        };
        ToneLut(
            (0..=Self::N)
                .map(|i| l.apply([i as f64 / Self::N as f64; 3])[0] as f32)
                .collect(),
        )
    }

    #[inline]
    fn get(&self, v: f64) -> f64 {
        let f = v.clamp(0.0, 1.0) * Self::N as f64;
        let i = (f as usize).min(Self::N - 1);
        let t = (f - i as f64) as f32;
        (self.0[i] + (self.0[i + 1] - self.0[i]) * t) as f64
    }
}

/// 255 where the treated region is (evaluated at pixel centres), 0 elsewhere.
/// Independent of `shot.treated` and `shot.density`: it is where the
/// treatment goes, whether or not this shot shows it.
pub fn treatment_mask(scene: &Scene, shot: &Shot) -> GrayImage {
    GrayImage::from_fn(shot.width, shot.height, |x, y| {
        let p = shot.to_scene(x as f64, y as f64);
        image::Luma([if scene.in_treatment(p) { 255 } else { 0 }])
    })
}

#[cfg(test)]
mod tests;
