//! The procedural scene: a lit head in front of a clinic wall, with skin
//! texture, hair and treatment primitives, evaluated at a scene point to a
//! linear-light radiance. Shots sample this function; see `mod.rs`.

use super::hair;
use super::layout::{Layout, smoothstep};
use super::noise::{cell_hash, fbm, floor};
use super::prims::{Dot, GRID_MARGIN, Grid, Seg, filter_width};
use super::{Rng, View, srgb_decode};

const ASPECT: f64 = 0.75;
/// Primitives are generated (and the scene is fully detailed) within this
/// margin around the reference frame, enough for zoomed-out moved shots.
const MARGIN: f64 = 0.3;
const GRID_CELL: f64 = 0.002;

/// A procedural scalp scene, deterministic from `(view, seed)`.
pub struct Scene {
    view: View,
    seed: u64,
    layout: Layout,
    skin: [f64; 3],
    hair: [f64; 3],
    wall: [[f64; 3]; 2],
    key: [f64; 3],
    half: [f64; 3],
    noise_seed: u64,
    segs: Vec<Seg>,
    seg_grid: Grid,
    dots: Vec<Dot>,
    dot_grid: Grid,
}

/// Linear colour from 8-bit sRGB.
fn lin(c: [u8; 3]) -> [f64; 3] {
    c.map(|v| srgb_decode(v as f64 / 255.0))
}

fn mix3(a: [f64; 3], b: [f64; 3], t: f64) -> [f64; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn normalise(v: [f64; 3]) -> [f64; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    v.map(|x| x / n)
}

/// Picks a point on a palette polyline (t in [0, 1]).
fn palette(stops: &[[u8; 3]], t: f64) -> [f64; 3] {
    let f = t.clamp(0.0, 1.0) * (stops.len() - 1) as f64;
    let i = (f as usize).min(stops.len() - 2);
    mix3(lin(stops[i]), lin(stops[i + 1]), f - i as f64)
}

impl Scene {
    pub fn new(view: View, seed: u64) -> Scene {
        let mut rng = Rng::new(seed ^ 0x5CA1_9000 ^ ((view as u64) << 56));
        let layout = Layout::new(view, &mut rng);
        let skin_stops = [
            [238, 200, 178],
            [224, 178, 150],
            [198, 150, 118],
            [160, 112, 84],
            [112, 76, 58],
        ];
        let skin = palette(&skin_stops, rng.next_f64().powf(1.4));
        let hair = palette(&[[16, 14, 13], [34, 26, 21], [58, 41, 30]], rng.next_f64());
        let walls = [
            [214, 216, 212],
            [222, 214, 200],
            [200, 210, 216],
            [226, 226, 222],
        ];
        let w0 = lin(walls[(rng.next_u64() % 4) as usize]);
        let wall = [w0.map(|v| v * 0.8), w0.map(|v| v * rng.range(0.62, 0.72))];
        let key = normalise([rng.range(-0.55, -0.25), rng.range(-0.6, -0.35), 0.75]);
        let half = normalise([key[0], key[1], key[2] + 1.0]);
        let noise_seed = rng.next_u64();
        let bounds = [-MARGIN, -MARGIN, 1.0 + MARGIN, ASPECT + MARGIN];
        let (segs, mut dots) = hair::strands(&layout, hair, bounds, &mut rng);
        // Pigment dots come first so they are composited under follicles.
        let mut all = hair::pigment(&layout, &mut rng);
        all.append(&mut dots);
        let seg_boxes: Vec<_> = segs.iter().map(Seg::bbox).collect();
        let dot_boxes: Vec<_> = all.iter().map(Dot::bbox).collect();
        Scene {
            view,
            seed,
            seg_grid: Grid::build(bounds, GRID_CELL, &seg_boxes),
            dot_grid: Grid::build(bounds, GRID_CELL, &dot_boxes),
            layout,
            skin,
            hair,
            wall,
            key,
            half,
            noise_seed,
            segs,
            dots: all,
        }
    }

    /// Reference frame height / width.
    pub fn aspect(&self) -> f64 {
        ASPECT
    }

    pub fn view(&self) -> View {
        self.view
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Hair density at a scene point (1 = full hair, 0 = bald).
    pub fn hair_density(&self, p: [f64; 2]) -> f64 {
        self.layout.density(p)
    }

    /// Number of hair strands and dots (diagnostics and benchmarks).
    pub fn primitive_counts(&self) -> (usize, usize) {
        let strands = self.segs.last().map_or(0, |s| s.strand as usize + 1);
        (strands, self.dots.len())
    }

    pub(crate) fn in_treatment(&self, p: [f64; 2]) -> bool {
        self.layout.region_sd(p) > 0.0
    }

    /// Linear-light radiance at scene point `p` for a pixel footprint (scene
    /// units). `density < 0` hides the treatment, otherwise treatment dots
    /// ranked below it are shown. `scratch` is a per-thread buffer.
    pub(crate) fn radiance(
        &self,
        p: [f64; 2],
        footprint: f64,
        density: f64,
        scratch: &mut Vec<u32>,
    ) -> [f64; 3] {
        let fw = filter_width(footprint);
        let head = &self.layout.head;
        let cover = (0.5 - head.sdist(p) / fw as f64).clamp(0.0, 1.0);
        let [u, v] = head.local(p);
        // Normals of the head ellipsoid, clamped at the rim so strands that
        // poke past the silhouette are still lit sensibly.
        let r2 = (u * u + v * v).min(0.995);
        let n = normalise([u, v, (1.0 - r2).sqrt()]);
        let lambert = (n[0] * self.key[0] + n[1] * self.key[1] + n[2] * self.key[2]).max(0.0);
        let nh = (n[0] * self.half[0] + n[1] * self.half[1] + n[2] * self.half[2]).max(0.0);
        let mut col = self.wall_colour(p);
        if cover > 0.0 {
            let mut albedo = self.skin_albedo(p, footprint, fw);
            self.composite_dots(p, fw, density, &mut albedo, scratch);
            let d = self.layout.density(p);
            // Dense hair below the individually drawn strands hides the skin.
            // Clumping makes the hair mass uneven, as combed hair is.
            let clump = 0.7 * (1.0 + 0.4 * fbm(self.noise_seed ^ 3, p, 28.0, 2, footprint));
            albedo = mix3(albedo, self.hair.map(|h| h * clump), 0.9 * d * d.sqrt());
            let shade = 0.26 + 0.85 * lambert;
            let spec = 0.07 * nh.powi(24) * (1.0 - d);
            let skin = albedo.map(|a| a * shade + spec);
            col = mix3(col, skin, cover);
        }
        let hair_shade = (0.3 + 0.8 * lambert + 0.25 * nh.powi(6)) as f32;
        self.composite_strands(p, fw, hair_shade, &mut col, scratch);
        col
    }

    /// Clinic wall: vertical gradient plus the head's soft shadow.
    fn wall_colour(&self, p: [f64; 2]) -> [f64; 3] {
        let g = smoothstep(-0.2, 1.0, p[1]) * 0.6 + 0.2 * (p[0] - 0.5).abs();
        let mut c = mix3(self.wall[0], self.wall[1], g);
        let mut shadow = self.layout.head;
        shadow.c = [
            shadow.c[0] - 0.04 * self.key[0],
            shadow.c[1] - 0.04 * self.key[1],
        ];
        shadow.r = shadow.r.map(|r| r * 1.02);
        let s = 0.35 * smoothstep(1.22, 0.95, shadow.rho(p));
        c = c.map(|v| v * (1.0 - s));
        c
    }

    /// Skin albedo with blotches, pores and (side view) the ear.
    fn skin_albedo(&self, p: [f64; 2], footprint: f64, fw: f32) -> [f64; 3] {
        let s = self.noise_seed;
        let blotch = fbm(s, p, 9.0, 2, footprint);
        let fine = fbm(s ^ 1, p, 70.0, 1, footprint);
        let k = (1.0 + 0.07 * fine) * (1.0 - 0.22 * self.pore(p, fw));
        let mut a = [
            self.skin[0] * (1.0 + 0.10 * blotch) * k,
            self.skin[1] * (1.0 - 0.04 * blotch) * k,
            self.skin[2] * (1.0 - 0.05 * blotch) * k,
        ];
        if self.view == View::Side {
            a = self.ear(p, a, fw as f64);
        }
        a
    }

    /// Skin pores: at most one soft dot per cell of a rotated lattice, kept
    /// clear of the cell border so only the containing cell matters (one
    /// hash per pixel, and no axis-aligned value-noise blockiness).
    fn pore(&self, p: [f64; 2], fw: f32) -> f64 {
        const CELL: f64 = 0.0028;
        const ROT: (f64, f64) = (0.479_425_538_604_203, 0.877_582_561_890_372_8); // sin, cos of 0.5
        let x = (ROT.1 * p[0] + ROT.0 * p[1]) / CELL;
        let y = (-ROT.0 * p[0] + ROT.1 * p[1]) / CELL;
        let (ix, iy) = (floor(x), floor(y));
        let h = cell_hash(self.noise_seed ^ 0x9045, ix, iy);
        if h & 0xFF < 90 {
            return 0.0;
        }
        let unit = |shift: u32| ((h >> shift) & 0xFFFF) as f64 / 65535.0;
        let r = 0.1 + 0.12 * unit(8);
        let cx = r + 0.05 + (0.9 - 2.0 * r) * unit(24);
        let cy = r + 0.05 + (0.9 - 2.0 * r) * unit(40);
        let dot = Dot {
            c: [cx as f32, cy as f32],
            r: r as f32,
            soft: (0.6 * r) as f32,
            colour: [0.0; 3],
            alpha: 1.0,
            rank: -1.0,
        };
        let local = [(x - ix as f64) as f32, (y - iy as f64) as f32];
        dot.coverage(local, (fw as f64 / CELL) as f32) as f64
    }

    /// The ear as shading on the skin: an egg-shaped, redder lobe with a
    /// lit helix rim and its fold, the dark concha, and a contact shadow cast
    /// away from the key light.
    fn ear(&self, p: [f64; 2], a: [f64; 3], fw: f64) -> [f64; 3] {
        let e = &self.layout.ear;
        let [u, v] = e.local(p);
        let u = u / (1.0 - 0.25 * v.clamp(-1.0, 1.0)); // broad top, narrow lobe
        let rho = (u * u + v * v).sqrt();
        if rho > 1.25 {
            return a;
        }
        let inside = (0.5 - (rho - 1.0) * e.r[0] / fw).clamp(0.0, 1.0);
        let fold = 1.0 - 0.3 * (-((rho - 0.76) / 0.07).powi(2)).exp();
        let rim = 1.0 + 0.12 * (-((rho - 0.9) / 0.05).powi(2)).exp();
        let (cu, cv) = ((u + 0.2) / 0.42, (v - 0.1) / 0.45);
        let cavity = 1.0 - 0.5 * smoothstep(1.0, 0.35, (cu * cu + cv * cv).sqrt());
        let bulge = 1.0 - 0.12 * (u + v);
        let k = fold * rim * cavity * bulge;
        let ear = [a[0] * 1.08 * k, a[1] * 0.93 * k, a[2] * 0.9 * k];
        let shadow = 1.0 - 0.4 * smoothstep(1.25, 1.0, rho) * smoothstep(-0.6, 0.8, u);
        mix3(a.map(|c| c * shadow), ear, inside)
    }

    fn composite_dots(
        &self,
        p: [f64; 2],
        fw: f32,
        density: f64,
        albedo: &mut [f64; 3],
        scratch: &mut Vec<u32>,
    ) {
        let q = [p[0] as f32, p[1] as f32];
        let ids = candidates(&self.dot_grid, q, fw, scratch);
        for &i in ids {
            let d = &self.dots[i as usize];
            if d.rank >= 0.0 && d.rank as f64 >= density {
                continue;
            }
            let a = (d.alpha * d.coverage(q, fw)) as f64;
            if a > 0.0 {
                *albedo = mix3(*albedo, d.colour.map(|c| c as f64), a);
            }
        }
    }

    fn composite_strands(
        &self,
        p: [f64; 2],
        fw: f32,
        shade: f32,
        col: &mut [f64; 3],
        scratch: &mut Vec<u32>,
    ) {
        let q = [p[0] as f32, p[1] as f32];
        let ids = candidates(&self.seg_grid, q, fw, scratch);
        let mut current = u32::MAX;
        let mut cov = 0.0f32;
        let mut last = 0usize;
        let put = |cov: f32, s: &Seg, col: &mut [f64; 3]| {
            let a = (cov * s.alpha) as f64;
            *col = mix3(*col, s.colour.map(|c| (c * shade) as f64), a);
        };
        for &i in ids {
            let s = &self.segs[i as usize];
            if s.strand != current {
                if cov > 0.0 {
                    put(cov, &self.segs[last], col);
                }
                current = s.strand;
                cov = 0.0;
            }
            let c = s.coverage(q, fw);
            if c > cov {
                cov = c;
                last = i as usize;
            }
        }
        if cov > 0.0 {
            put(cov, &self.segs[last], col);
        }
    }
}

/// Primitive indices that may touch a pixel at `q`: one grid cell normally,
/// a de-duplicated neighbourhood when the footprint exceeds the margin.
fn candidates<'a>(grid: &'a Grid, q: [f32; 2], fw: f32, scratch: &'a mut Vec<u32>) -> &'a [u32] {
    let extra = 0.5 * fw - GRID_MARGIN;
    if extra <= 0.0 {
        grid.at(q)
    } else {
        grid.gather(q, extra, scratch);
        scratch
    }
}
