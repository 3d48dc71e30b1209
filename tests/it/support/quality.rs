//! Quality-gate pairs cut from the real photos (shared by `tests/it/quality.rs` and
//! `benches/quality.rs`; the including file declares `mod scene` from `truth/scene.rs`).
//!
//! Every pair starts as a truth pair: the before photo is a window of the scene; the after photo
//! sees it through a similarity (rotation ±6°, scale 0.9–1.1, shift ±4%) after a stipple
//! treatment, under a light change (per-channel gain 0.75–1.3, gamma 0.85–1.2), with noise and
//! JPEG (q90, or q70 on odd variants). That is a clean pair. A faulty pair gets one fault of
//! realistic size, made on the scene in linear light before the camera's noise and JPEG:
//! - blur: Gaussian defocus, σ 2–4 px of the after photo;
//! - overexposed / underexposed: exposure +/−1.5–2.5 EV (underexposure also gets the steeper
//!   toe, gamma ×1.25, of a phone tone curve on a dark frame), raised until at least 10% of the
//!   photo is newly clipped or crushed, or the pair is dropped;
//! - perspective: the scene plane seen from a camera orbited by 12–25° about a random in-plane
//!   axis (focal length 0.60 of the diagonal, a phone's 26 mm equivalent), zoomed so the frame
//!   stays inside the scene;
//! - shine: 3–6 white specular blobs (σ 0.3–0.8% of the diagonal) on the central part.

use std::sync::Arc;

use beforeafter::align::{self, Matrix};
use beforeafter::synth::Rng;
use image::RgbImage;

use super::truth::scene::{self, Linear, Spec};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Clean,
    Blur,
    Overexposed,
    Underexposed,
    Perspective,
    Shine,
}

impl Kind {
    pub const FAULTS: [Kind; 5] = [
        Kind::Blur,
        Kind::Overexposed,
        Kind::Underexposed,
        Kind::Perspective,
        Kind::Shine,
    ];
}

/// One pair, decoded, with what was injected.
pub struct Case {
    pub name: String,
    pub kind: Kind,
    /// Fault size: σ px, EV, degrees or patches (0 for clean).
    pub size: f64,
    pub before: RgbImage,
    pub after: RgbImage,
}

/// Pair `variant` of `photo` with fault `kind`; `None` when the scene cannot show the fault at
/// the required size. `shrink` < 1 renders a smaller pair (for fast tests).
#[must_use]
pub fn make(photo: &'static str, variant: u64, kind: Kind, scene: &Arc<Linear>) -> Option<Case> {
    let mut spec = scene::spec(photo, variant);
    spec.after_width_factor = 1.0;
    spec.quality = if variant % 2 == 1 { 70 } else { 90 };
    spec.seed ^= (kind as u64) << 40;
    let pair = scene::make(&spec, Arc::clone(scene));
    let before = decode(&pair.before_jpeg);
    let (aw, ah) = decode(&pair.after_jpeg).dimensions();
    let treated = pair.treated_scene();
    let after_to_scene = align::compose(&pair.before_to_scene, &pair.truth);
    let mut rng = Rng::new(spec.seed ^ 0xFA17);
    let name = format!("{}-v{variant}-{kind:?}", photo.replace('_', "-"));
    let render = |lin: &Linear, light: &scene::Light| {
        let img = lin.to_srgb(Some(light), Some((spec.noise, spec.seed)));
        decode(&scene::jpeg(&img, spec.quality))
    };
    let clean = || treated.sample(&after_to_scene, aw, ah);
    let (after, size) = match kind {
        Kind::Clean => (render(&clean(), &spec.light), 0.0),
        Kind::Blur => {
            let sigma = rng.range(2.0, 4.0);
            (render(&gaussian(&clean(), sigma), &spec.light), sigma)
        }
        Kind::Overexposed | Kind::Underexposed => {
            return exposure(&spec, &clean(), kind, &mut rng, before, name);
        }
        Kind::Perspective => {
            let deg = rng.range(12.0, 25.0);
            let axis = rng.range(0.0, 180.0);
            let lin = tilted(&treated, &after_to_scene, (aw, ah), deg, axis);
            (render(&lin, &spec.light), deg)
        }
        Kind::Shine => {
            let n = 3 + (rng.next_u64() % 4) as usize;
            (render(&shine(&clean(), n, &mut rng), &spec.light), n as f64)
        }
    };
    Some(Case {
        name,
        kind,
        size,
        before,
        after,
    })
}

fn decode(jpeg: &[u8]) -> RgbImage {
    image::load_from_memory(jpeg).expect("decode").to_rgb8()
}

/// Exposure fault: EV from 1.5 upward in the draw's order until ≥ 10% of the photo is newly
/// clipped (crushed), at most 2.5 EV.
fn exposure(
    spec: &Spec,
    lin: &Linear,
    kind: Kind,
    rng: &mut Rng,
    before: RgbImage,
    name: String,
) -> Option<Case> {
    let over = kind == Kind::Overexposed;
    let base = lin.to_srgb(Some(&spec.light), None);
    let mut ev = rng.range(1.5, 2.5);
    loop {
        let mut light = spec.light;
        let k = if over { 2f64.powf(ev) } else { 2f64.powf(-ev) };
        light.gain = light.gain.map(|g| g * k);
        if !over {
            light.gamma *= 1.25;
        }
        let img = lin.to_srgb(Some(&light), None);
        let changed = base
            .pixels()
            .zip(img.pixels())
            .filter(|(b, a)| {
                let (bm, am) = (*b.0.iter().max().unwrap(), *a.0.iter().max().unwrap());
                if over {
                    am >= 250 && bm < 250
                } else {
                    am <= 16 && bm > 16
                }
            })
            .count();
        if changed as f64 >= 0.10 * f64::from(img.width() * img.height()) {
            let noisy = lin.to_srgb(Some(&light), Some((spec.noise, spec.seed)));
            return Some(Case {
                name,
                kind,
                size: if over { ev } else { -ev },
                before,
                after: decode(&scene::jpeg(&noisy, spec.quality)),
            });
        }
        if ev >= 2.5 {
            return None;
        }
        ev = (ev + 0.25).min(2.5);
    }
}

/// Separable Gaussian blur, σ in pixels, edges clamped.
fn gaussian(lin: &Linear, sigma: f64) -> Linear {
    let r = (3.0 * sigma).ceil() as i64;
    let k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp() as f32)
        .collect();
    let sum: f32 = k.iter().sum();
    let k: Vec<f32> = k.iter().map(|v| v / sum).collect();
    let (w, h) = (i64::from(lin.w), i64::from(lin.h));
    let pass = |src: &[[f32; 3]], dx: i64, dy: i64| -> Vec<[f32; 3]> {
        (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let mut acc = [0f32; 3];
                for (j, kv) in k.iter().enumerate() {
                    let o = j as i64 - r;
                    let sx = (x + o * dx).clamp(0, w - 1);
                    let sy = (y + o * dy).clamp(0, h - 1);
                    let p = src[(sy * w + sx) as usize];
                    (0..3).for_each(|c| acc[c] += kv * p[c]);
                }
                acc
            })
            .collect()
    };
    let px = pass(&pass(&lin.px, 1, 0), 0, 1);
    Linear {
        w: lin.w,
        h: lin.h,
        px,
    }
}

/// `n` white Gaussian specular blobs on the central 60% of the photo.
fn shine(lin: &Linear, n: usize, rng: &mut Rng) -> Linear {
    let mut px = lin.px.clone();
    let diag = f64::from(lin.w).hypot(f64::from(lin.h));
    for _ in 0..n {
        let c = [
            f64::from(lin.w) * rng.range(0.2, 0.8),
            f64::from(lin.h) * rng.range(0.2, 0.8),
        ];
        let sigma = diag * rng.range(0.003, 0.008);
        let peak = rng.range(1.2, 2.0) as f32;
        let r = (3.0 * sigma).ceil();
        for y in (c[1] - r).max(0.0) as u32..((c[1] + r) as u32).min(lin.h) {
            for x in (c[0] - r).max(0.0) as u32..((c[0] + r) as u32).min(lin.w) {
                let d2 = (f64::from(x) - c[0]).powi(2) + (f64::from(y) - c[1]).powi(2);
                let a = peak * (-d2 / (2.0 * sigma * sigma)).exp() as f32;
                let p = &mut px[(y * lin.w + x) as usize];
                (0..3).for_each(|k| p[k] += a);
            }
        }
    }
    Linear {
        w: lin.w,
        h: lin.h,
        px,
    }
}

/// Plane-tilt homography (row-major 3×3, pixels centred on the frame, focal `f`): a new view
/// pixel -> the frontal view's pixel, for a camera orbited by `deg` about the in-plane axis at
/// `axis_deg`, scaled by `zoom`.
fn tilt_h(deg: f64, axis_deg: f64, f: f64, zoom: f64) -> [[f64; 3]; 3] {
    let (s, c) = deg.to_radians().sin_cos();
    let (ay, ax) = axis_deg.to_radians().sin_cos();
    // Rotation about the unit axis (ax, ay, 0) (Rodrigues); the plane's point (X, Y, 0) moves to
    // R (X, Y, 0) + (0, 0, 1), seen with focal f: x = f (R X)_xy / (R X)_z.
    let r = |i: usize, j: usize| {
        let a = [ax, ay, 0.0];
        let k = [[0.0, 0.0, ay], [0.0, 0.0, -ax], [-ay, ax, 0.0]];
        let id = if i == j { 1.0 } else { 0.0 };
        id * c + (1.0 - c) * a[i] * a[j] + s * k[i][j]
    };
    // new pixel (u, v) -> plane point: invert M = [[f r00, f r01, 0], [f r10, f r11, 0], [r20, r21, 1]].
    let m = [
        [f * r(0, 0), f * r(0, 1), 0.0],
        [f * r(1, 0), f * r(1, 1), 0.0],
        [r(2, 0), r(2, 1), 1.0],
    ];
    let inv = invert3(&m);
    // plane point (X, Y) -> frontal pixel f (X, Y) / 1, and the zoom about the centre.
    let k = f / zoom;
    [
        [k * inv[0][0], k * inv[0][1], k * inv[0][2]],
        [k * inv[1][0], k * inv[1][1], k * inv[1][2]],
        inv[2],
    ]
}

fn invert3(m: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let c = |r: usize, k: usize| {
        let (r1, r2, k1, k2) = ((r + 1) % 3, (r + 2) % 3, (k + 1) % 3, (k + 2) % 3);
        m[r1][k1] * m[r2][k2] - m[r1][k2] * m[r2][k1]
    };
    let det = m[0][0] * c(0, 0) + m[0][1] * c(0, 1) + m[0][2] * c(0, 2);
    std::array::from_fn(|i| std::array::from_fn(|j| c(j, i) / det))
}

fn apply3(h: &[[f64; 3]; 3], p: [f64; 2]) -> [f64; 2] {
    let z = h[2][0] * p[0] + h[2][1] * p[1] + h[2][2];
    [
        (h[0][0] * p[0] + h[0][1] * p[1] + h[0][2]) / z,
        (h[1][0] * p[0] + h[1][1] * p[1] + h[1][2]) / z,
    ]
}

/// The after photo re-shot with a tilted camera: each new pixel goes through the tilt (about
/// the frame centre) into the old after frame, then into the scene; zoomed in until the whole
/// frame stays inside the old frame. 2×2 samples per pixel.
fn tilted(
    scene: &Linear,
    after_to_scene: &Matrix,
    size: (u32, u32),
    deg: f64,
    axis: f64,
) -> Linear {
    let (w, h) = (f64::from(size.0), f64::from(size.1));
    let f = 0.60 * w.hypot(h);
    let centre = [(w - 1.0) / 2.0, (h - 1.0) / 2.0];
    let mut zoom = 1.0;
    let hm = loop {
        let hm = tilt_h(deg, axis, f, zoom);
        let inside = [[0.0, 0.0], [w, 0.0], [0.0, h], [w, h]].iter().all(|&p| {
            let q = apply3(&hm, [p[0] - centre[0], p[1] - centre[1]]);
            q[0].abs() <= centre[0] && q[1].abs() <= centre[1]
        });
        if inside || zoom > 3.0 {
            break hm;
        }
        zoom *= 1.02;
    };
    let mut px = vec![[0f32; 3]; (size.0 * size.1) as usize];
    for (i, out) in px.iter_mut().enumerate() {
        let (x, y) = ((i as u32 % size.0) as f64, (i as u32 / size.0) as f64);
        let mut acc = [0f32; 3];
        for (ox, oy) in [(-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25)] {
            let q = apply3(&hm, [x + ox - centre[0], y + oy - centre[1]]);
            let s = align::apply(after_to_scene, [q[0] + centre[0], q[1] + centre[1]]);
            let v = bilinear(scene, s);
            (0..3).for_each(|c| acc[c] += v[c] / 4.0);
        }
        *out = acc;
    }
    Linear {
        w: size.0,
        h: size.1,
        px,
    }
}

fn bilinear(l: &Linear, p: [f64; 2]) -> [f32; 3] {
    let x = p[0].clamp(0.0, f64::from(l.w - 1));
    let y = p[1].clamp(0.0, f64::from(l.h - 1));
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(l.w - 1), (y0 + 1).min(l.h - 1));
    let (fx, fy) = ((x - f64::from(x0)) as f32, (y - f64::from(y0)) as f32);
    let at = |x: u32, y: u32| l.px[(y * l.w + x) as usize];
    let (a, b, c, d) = (at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1));
    std::array::from_fn(|k| {
        let top = a[k] + (b[k] - a[k]) * fx;
        top + (c[k] + (d[k] - c[k]) * fx - top) * fy
    })
}

/// What the pipeline has at hand for a case: working copies (long side ≤ `working_size`), the
/// later photo warped into the before's frame by the registration's matrix, and its coverage.
pub struct Prepared {
    pub before: RgbImage,
    pub warped: RgbImage,
    pub valid: image::GrayImage,
    /// The after photo's working copy (not warped).
    pub moving: RgbImage,
    /// Whether registration placed the pair (no `mismatch` finding), as the pipeline decides.
    pub registered: bool,
    /// The registration's confidence.
    pub confidence: f64,
}

#[must_use]
pub fn prepare(c: &Case, working_size: u32) -> Prepared {
    // The library's own fit, as `batch` runs it: working copies, registration, warp.
    let config = beforeafter::config::Config::defaults();
    let mut cfg =
        beforeafter::pipeline::FitParams::resolve(&config.align, &config.tone, &config.review);
    cfg.working_size = working_size;
    let timings = beforeafter::pipeline::timings::Timings::default();
    let fit = beforeafter::pipeline::fit_pair(&c.before, &c.after, &cfg, align::estimate, &timings);
    Prepared {
        before: fit.before,
        warped: fit.warped,
        valid: fit.valid,
        moving: fit.moving,
        registered: !fit
            .findings
            .iter()
            .any(|f| f.code == beforeafter::flags::Code::Mismatch),
        confidence: fit.estimate.confidence,
    }
}

impl Prepared {
    /// The measures and the time `quality::measure` took (ms): the CPU time of this thread
    /// where Linux reports it (so other work on a shared machine does not count), else wall
    /// time. The kernel's per-thread figure moves in scheduler ticks (4 ms here), so the time
    /// is the mean of eight runs.
    #[must_use]
    pub fn measure(
        &self,
        params: &beforeafter::quality::MeasureParams,
    ) -> (beforeafter::quality::Measures, f64) {
        const RUNS: u32 = 8;
        let (t, cpu) = (std::time::Instant::now(), thread_cpu_ns());
        let mut out = None;
        for _ in 0..RUNS {
            // The pipeline's own call: aligned photos are measured side by side, a pair that
            // did not register for tilt only.
            let aligned = self.registered.then_some((&self.warped, &self.valid));
            out = Some(beforeafter::quality::measure_pair(
                &self.before,
                &self.moving,
                aligned,
                params,
            ));
        }
        let ms = match (cpu, thread_cpu_ns()) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e6,
            _ => t.elapsed().as_secs_f64() * 1e3,
        };
        let best = ms / f64::from(RUNS);
        (out.expect("measured"), best)
    }
}

/// Nanoseconds this thread has run on a CPU (`/proc/thread-self/schedstat`, Linux).
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}
