//! Per-view anatomy of a procedural head: silhouette, hair density, hair
//! flow direction, the treatment region and the ear. Everything is a pure
//! function of scene coordinates plus a few random shape parameters drawn
//! once per scene, so any shot can evaluate it at any resolution.

use super::noise::fbm;
use super::{Rng, View};
use std::f64::consts::{FRAC_PI_2, PI};

/// A rotated ellipse in scene coordinates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ellipse {
    pub c: [f64; 2],
    pub r: [f64; 2],
    pub angle: f64,
    /// Cached `angle.sin_cos()`: this is evaluated per pixel.
    sc: (f64, f64),
}

impl Ellipse {
    pub fn new(c: [f64; 2], r: [f64; 2], angle: f64) -> Ellipse {
        Ellipse {
            c,
            r,
            angle,
            sc: angle.sin_cos(),
        }
    }

    /// Coordinates normalised so the boundary is the unit circle.
    #[inline]
    pub fn local(&self, p: [f64; 2]) -> [f64; 2] {
        let (s, c) = self.sc;
        let (dx, dy) = (p[0] - self.c[0], p[1] - self.c[1]);
        [
            (c * dx + s * dy) / self.r[0],
            (-s * dx + c * dy) / self.r[1],
        ]
    }

    #[inline]
    pub fn rho(&self, p: [f64; 2]) -> f64 {
        let [u, v] = self.local(p);
        (u * u + v * v).sqrt()
    }

    /// Approximate signed distance to the boundary (negative inside); first
    /// order accurate near the boundary, which is all antialiasing needs.
    pub fn sdist(&self, p: [f64; 2]) -> f64 {
        let [u, v] = self.local(p);
        let rho = (u * u + v * v).sqrt().max(1e-9);
        let (gu, gv) = (u / self.r[0], v / self.r[1]);
        let grad = (gu * gu + gv * gv).sqrt() / rho;
        (rho - 1.0) / grad.max(1e-9)
    }

    /// Axis-aligned bounding box `[x0, y0, x1, y1]`.
    pub fn bbox(&self) -> [f64; 4] {
        let (s, c) = self.sc;
        let hx = (self.r[0] * c).hypot(self.r[1] * s);
        let hy = (self.r[0] * s).hypot(self.r[1] * c);
        [
            self.c[0] - hx,
            self.c[1] - hy,
            self.c[0] + hx,
            self.c[1] + hy,
        ]
    }
}

fn jitter(rng: &mut Rng, a: f64) -> f64 {
    rng.range(-a, a)
}

pub(crate) fn smoothstep(e0: f64, e1: f64, x: f64) -> f64 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Random shape of one head in one view.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub view: View,
    pub head: Ellipse,
    /// Thinning area (crown, top, side temple) or ear-relative anchor.
    pub thin: Ellipse,
    /// Treatment region core (crown, top, side); unused for the front band.
    pub region: Ellipse,
    pub ear: Ellipse,
    /// Hairline height (front, top) and whorl spiral (crown).
    pub k: [f64; 4],
    pub seed: u64,
}

impl Layout {
    pub fn new(view: View, rng: &mut Rng) -> Layout {
        let seed = rng.next_u64();
        let mut l = Layout {
            view,
            head: Ellipse::new([0.5, 0.375], [0.45, 0.42], 0.0),
            thin: Ellipse::new([0.5, 0.35], [0.2, 0.2], 0.0),
            region: Ellipse::new([0.5, 0.35], [0.2, 0.2], 0.0),
            ear: Ellipse::new([-9.0, -9.0], [0.01, 0.01], 0.0),
            k: [0.0; 4],
            seed,
        };
        match view {
            View::Crown => l.shape_crown(rng),
            View::Top => l.shape_top(rng),
            View::Front => l.shape_front(rng),
            View::Side => l.shape_side(rng),
        }
        l
    }

    /// Head seen from above-behind; the whorl sits in a thinning ellipse.
    fn shape_crown(&mut self, rng: &mut Rng) {
        let c = [0.5 + jitter(rng, 0.03), 0.39 + jitter(rng, 0.02)];
        let r = [rng.range(0.45, 0.5), rng.range(0.41, 0.46)];
        self.head = Ellipse::new(c, r, jitter(rng, 0.1));
        let w = [c[0] + jitter(rng, 0.05), c[1] + rng.range(-0.07, 0.0)];
        let b = rng.range(0.2, 0.26);
        let ang = jitter(rng, 0.6);
        self.thin = Ellipse::new(w, [b, b * rng.range(0.78, 0.92)], ang);
        self.region = Ellipse::new(w, [b * 0.98, self.thin.r[1] * 0.98], ang);
        let spiral = if rng.next_f64() < 0.5 { 1.2 } else { -1.2 };
        self.k = [rng.range(0.3, 0.5), spiral, 0.0, 0.0];
    }

    /// Top of the head, front hairline at the bottom, thinning mid-scalp.
    fn shape_top(&mut self, rng: &mut Rng) {
        let c = [0.5 + jitter(rng, 0.02), 0.33 + jitter(rng, 0.02)];
        let r = [rng.range(0.41, 0.45), rng.range(0.45, 0.5)];
        self.head = Ellipse::new(c, r, jitter(rng, 0.06));
        let m = [c[0] + jitter(rng, 0.03), c[1] + rng.range(0.0, 0.05)];
        let r = [rng.range(0.15, 0.19), rng.range(0.19, 0.23)];
        self.thin = Ellipse::new(m, r, jitter(rng, 0.2));
        self.region = Ellipse::new(m, [r[0] * 1.1, r[1] * 1.05], self.thin.angle);
        self.k = [rng.range(0.6, 0.65), rng.range(0.04, 0.08), 0.0, 0.0];
    }

    /// Forehead and receded frontal hairline, eyebrows at the bottom.
    fn shape_front(&mut self, rng: &mut Rng) {
        let r = [rng.range(0.48, 0.52), 0.72];
        self.head = Ellipse::new([0.5 + jitter(rng, 0.02), 0.66], r, 0.0);
        self.k = [
            rng.range(0.22, 0.27),
            rng.range(0.05, 0.08),
            rng.range(0.69, 0.715),
            0.0,
        ];
    }

    /// Side of the head: ear, sideburn and a thinning temple.
    fn shape_side(&mut self, rng: &mut Rng) {
        let c = [0.6 + jitter(rng, 0.02), 0.36 + jitter(rng, 0.02)];
        self.head = Ellipse::new(c, [0.58, 0.5], jitter(rng, 0.05));
        let e = [0.62 + jitter(rng, 0.03), 0.53 + jitter(rng, 0.02)];
        let r = [rng.range(0.06, 0.07), rng.range(0.1, 0.115)];
        self.ear = Ellipse::new(e, r, rng.range(0.15, 0.35));
        let t = [e[0] - rng.range(0.2, 0.24), e[1] - rng.range(0.27, 0.31)];
        let r = [rng.range(0.12, 0.15), rng.range(0.08, 0.1)];
        self.thin = Ellipse::new(t, r, rng.range(-0.7, -0.4));
        self.region = Ellipse::new(t, [r[0] * 1.05, r[1] * 1.1], self.thin.angle);
    }

    /// `rho` of an ellipse with a wobbly, noise-displaced boundary.
    fn wobbly(&self, e: &Ellipse, p: [f64; 2], amount: f64, salt: u64) -> f64 {
        e.rho(p) * (1.0 + amount * fbm(self.seed ^ salt, p, 7.0, 2, 0.0))
    }

    /// Hair density in `[0, 1]`: 1 = full thick hair, 0 = bald skin.
    pub fn density(&self, p: [f64; 2]) -> f64 {
        if self.head.rho(p) > 1.02 {
            return 0.0;
        }
        match self.view {
            View::Crown => {
                let rho = self.wobbly(&self.thin, p, 0.2, 1);
                0.03 + 0.97 * smoothstep(self.k[0], 1.05, rho)
            }
            View::Top => {
                let mid = 0.1 + 0.9 * smoothstep(0.45, 1.25, self.wobbly(&self.thin, p, 0.2, 1));
                let yh = self.top_hairline(p[0]);
                mid * smoothstep(yh + 0.01, yh - 0.045, p[1])
            }
            View::Front => {
                let yh = self.front_hairline(p[0]);
                let hair = smoothstep(yh + 0.012, yh - 0.05, p[1]);
                hair.max(self.eyebrow(p).0)
            }
            View::Side => self.side_density(p),
        }
    }

    fn top_hairline(&self, x: f64) -> f64 {
        let dx = (x - self.head.c[0]) / 0.3;
        self.k[0] + self.k[1] * dx * dx + 0.012 * fbm(self.seed ^ 2, [x, 0.0], 12.0, 2, 0.0)
    }

    /// Frontal hairline height (y grows downwards) with receded temples:
    /// a forelock in the middle at `k0 + k1`, the temples up at `k0`.
    fn front_hairline(&self, x: f64) -> f64 {
        let ax = (x - self.head.c[0]).abs();
        let temple = (-((ax - 0.19) / 0.07).powi(2)).exp();
        self.k[0]
            + self.k[1] * (1.0 - temple)
            + 0.03 * (ax / 0.3).powi(2)
            + 0.01 * fbm(self.seed ^ 3, [x, 0.0], 15.0, 2, 0.0)
    }

    /// Eyebrow (density, side) at the bottom of the front view.
    fn eyebrow(&self, p: [f64; 2]) -> (f64, f64) {
        let side = if p[0] < self.head.c[0] { -1.0 } else { 1.0 };
        let ex = self.head.c[0] + side * 0.175;
        let t = (p[0] - ex) / 0.095 * side; // -1 medial .. 1 lateral
        if t.abs() >= 1.0 {
            return (0.0, side);
        }
        let arc = self.k[2] - 0.022 * (1.0 - (t - 0.2).powi(2));
        let thick = 0.017 * (1.0 - 0.45 * (t + 1.0) / 2.0);
        let d = smoothstep(1.0, 0.75, t.abs()) * smoothstep(thick, 0.5 * thick, (p[1] - arc).abs());
        (0.95 * d, side)
    }

    fn side_density(&self, p: [f64; 2]) -> f64 {
        let e = &self.ear;
        let ear_top = e.c[1] - e.r[1];
        let x = p[0];
        let front = 0.13 + (ear_top + 0.02 - 0.13) * smoothstep(0.08, e.c[0] - 0.08, x);
        let yt = front + 0.8 * smoothstep(e.c[0] - 0.02, e.c[0] + 0.12, x);
        let wob = 0.012 * fbm(self.seed ^ 4, p, 10.0, 2, 0.0);
        let mut d = smoothstep(yt + 0.015, yt - 0.04, p[1] + wob);
        // Sideburn: a strip in front of the ear narrowing downwards.
        let taper = smoothstep(e.c[1] + 0.05, e.c[1] - e.r[1], p[1]);
        let half = 0.008 + 0.014 * taper;
        let burn_x = smoothstep(
            half + 0.006,
            half - 0.004,
            (x - (e.c[0] - 0.095) + wob).abs(),
        );
        let burn_y = smoothstep(e.c[1] + 0.05, e.c[1] + 0.01, p[1]);
        d = d.max(burn_x * burn_y);
        d *= smoothstep(1.05, 1.3, e.rho(p));
        d * (0.08 + 0.92 * smoothstep(0.45, 1.2, self.wobbly(&self.thin, p, 0.2, 5)))
    }

    /// Direction hair grows in (radians, y down).
    pub fn flow(&self, p: [f64; 2]) -> f64 {
        let n = 0.35 * fbm(self.seed ^ 6, p, 5.0, 2, 0.0);
        match self.view {
            View::Crown => {
                let c = self.thin.c;
                (p[1] - c[1]).atan2(p[0] - c[0]) + self.k[1] + n
            }
            View::Top => FRAC_PI_2 + 1.3 * (p[0] - self.head.c[0]) + n,
            View::Front => {
                let (brow, side) = self.eyebrow(p);
                if brow > 0.0 && p[1] > self.k[2] - 0.06 {
                    if side > 0.0 {
                        -0.25 + 0.5 * n
                    } else {
                        PI + 0.25 + 0.5 * n
                    }
                } else {
                    FRAC_PI_2 + 0.9 * (p[0] - self.head.c[0]) + n
                }
            }
            View::Side => {
                let e = &self.ear;
                if p[0] < e.c[0] - 0.06 && p[1] > e.c[1] - e.r[1] {
                    FRAC_PI_2 - 0.15 + n
                } else {
                    0.3 + 1.0 * ((p[1] - 0.05) / 0.6).clamp(0.0, 1.0) + n
                }
            }
        }
    }

    /// Approximate signed distance to the treatment region boundary
    /// (positive inside), in scene units.
    pub fn region_sd(&self, p: [f64; 2]) -> f64 {
        match self.view {
            View::Front => {
                let x = p[0] - self.head.c[0];
                let wob = 0.006 * fbm(self.seed ^ 8, [p[0], 0.0], 18.0, 2, 0.0);
                // The restored hairline runs below the receded temples.
                let bottom = self.k[0] + self.k[1] + 0.01 + 0.04 * (x / 0.27).powi(2) + wob;
                let top = bottom - 0.1;
                (bottom - p[1]).min(p[1] - top).min(0.27 - x.abs())
            }
            _ => {
                let rho = self.wobbly(&self.region, p, 0.1, 9);
                (1.0 - rho) * self.region.r[0].min(self.region.r[1])
            }
        }
    }

    /// Bounding box of the treatment region.
    pub fn region_bbox(&self) -> [f64; 4] {
        match self.view {
            View::Front => {
                let c = self.head.c[0];
                [c - 0.28, self.k[0] - 0.1, c + 0.28, self.k[0] + 0.15]
            }
            _ => {
                let b = self.region.bbox();
                let g = 0.15 * self.region.r[0].max(self.region.r[1]);
                [b[0] - g, b[1] - g, b[2] + g, b[3] + g]
            }
        }
    }
}
