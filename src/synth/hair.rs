//! Generation of a scene's primitives: hair strands following the flow
//! field, follicle openings in thinning skin, and the micropigmentation dots
//! of the treatment. All randomness comes from the scene's seed, so the same
//! scene always yields the same primitives in the same order.

use super::Rng;
use super::layout::{Layout, smoothstep};
use super::prims::{Dot, Seg};
use std::f64::consts::{PI, TAU};

/// Mean strand length and width, in frame widths. Real hairs are thinner
/// (~0.0004 of a 20 cm frame) but would vanish below a pixel at gallery sizes.
const STRAND_LEN: f64 = 0.03;
const STRAND_HALF_WIDTH: f64 = 0.000_42;
/// Strands per unit area at full density, as a multiple of what would tile
/// the area once: >1 so full-density hair hides the skin.
const STRAND_OVERLAP: f64 = 1.1;
const SEGMENTS: usize = 4;

/// Treatment dot spacing (jittered grid) and the inset from the region edge
/// that keeps every dot, soft edge included, inside the treatment mask.
const DOT_SPACING: f64 = 0.004_2;
const DOT_INSET: f64 = 0.003_5;

fn wrap(a: f64) -> f64 {
    (a + PI).rem_euclid(TAU) - PI
}

/// Hair strands and the follicle dots at the roots of sparse ones.
pub(crate) fn strands(
    layout: &Layout,
    hair: [f64; 3],
    bounds: [f64; 4],
    rng: &mut Rng,
) -> (Vec<Seg>, Vec<Dot>) {
    let hb = layout.head.bbox();
    let b = [
        hb[0].max(bounds[0]),
        hb[1].max(bounds[1]),
        hb[2].min(bounds[2]),
        hb[3].min(bounds[3]),
    ];
    let area = (b[2] - b[0]) * (b[3] - b[1]);
    let per_area = STRAND_OVERLAP / (STRAND_LEN * 2.0 * STRAND_HALF_WIDTH);
    let candidates = (area * per_area) as usize;
    let mut segs = Vec::with_capacity(candidates * SEGMENTS / 2);
    let mut dots = Vec::new();
    let mut strand = 0u32;
    for _ in 0..candidates {
        let p = [rng.range(b[0], b[2]), rng.range(b[1], b[3])];
        let d = layout.density(p);
        if rng.next_f64() >= d {
            continue;
        }
        add_strand(layout, hair, p, d, strand, rng, &mut segs);
        if d < 0.65 {
            dots.push(follicle(p, hair, rng));
        }
        strand += 1;
    }
    add_empty_follicles(layout, hair, b, rng, &mut dots);
    (segs, dots)
}

/// One curved strand as a short polyline that starts at its follicle and
/// bends back towards the flow direction as it grows.
fn add_strand(
    layout: &Layout,
    hair: [f64; 3],
    p: [f64; 2],
    d: f64,
    strand: u32,
    rng: &mut Rng,
    segs: &mut Vec<Seg>,
) {
    // Miniaturised hairs in thinning areas are shorter and finer.
    let len = STRAND_LEN * rng.range(0.6, 1.4) * (0.45 + 0.55 * d);
    let hw = STRAND_HALF_WIDTH * rng.range(0.7, 1.25) * (0.55 + 0.45 * d);
    let step = len / SEGMENTS as f64;
    let mut th = layout.flow(p) + 0.25 * rng.normal();
    let curl = 0.15 * rng.normal();
    let colour = strand_colour(hair, rng);
    let alpha = rng.range(0.8, 1.0) as f32;
    let mut q = p;
    for i in 0..SEGMENTS {
        th += curl + 0.25 * wrap(layout.flow(q) - th);
        let q2 = [q[0] + step * th.cos(), q[1] + step * th.sin()];
        let taper = 1.0 - 0.2 * i as f64;
        let mut s = Seg::new(q, q2, hw * taper, strand);
        s.colour = colour;
        s.alpha = alpha;
        segs.push(s);
        q = q2;
    }
}

fn strand_colour(hair: [f64; 3], rng: &mut Rng) -> [f32; 3] {
    let roll = rng.next_f64();
    let k = (0.28 * rng.normal()).exp();
    let mut c = hair.map(|v| v * k);
    if roll < 0.004 {
        // A few grey hairs.
        c = [0.16, 0.15, 0.14].map(|v| v * k);
    } else if roll < 0.1 {
        // Strands catching the light.
        c = c.map(|v| v * 1.8);
    }
    c.map(|v| v.min(1.0) as f32)
}

fn follicle(p: [f64; 2], hair: [f64; 3], rng: &mut Rng) -> Dot {
    Dot {
        c: [p[0] as f32, p[1] as f32],
        r: (0.000_33 * rng.range(0.8, 1.3)) as f32,
        soft: 0.000_3,
        colour: hair.map(|v| (v * 1.6) as f32),
        alpha: rng.range(0.3, 0.5) as f32,
        rank: -1.0,
    }
}

/// Follicles without a visible hair, densest where hair is thinning.
fn add_empty_follicles(
    layout: &Layout,
    hair: [f64; 3],
    b: [f64; 4],
    rng: &mut Rng,
    dots: &mut Vec<Dot>,
) {
    let n = ((b[2] - b[0]) * (b[3] - b[1]) * 9000.0) as usize;
    for _ in 0..n {
        let p = [rng.range(b[0], b[2]), rng.range(b[1], b[3])];
        let d = layout.density(p);
        let bump = (4.0 * d * (1.0 - d)).min(1.0) * smoothstep(0.0, 0.05, d);
        if rng.next_f64() < 0.8 * bump {
            dots.push(follicle(p, hair, rng));
        }
    }
}

/// Micropigmentation dots on a jittered grid over the treatment region,
/// thinned towards its edge the way practitioners feather a treatment.
pub(crate) fn pigment(layout: &Layout, rng: &mut Rng) -> Vec<Dot> {
    let b = layout.region_bbox();
    let nx = ((b[2] - b[0]) / DOT_SPACING).ceil() as usize;
    let ny = ((b[3] - b[1]) / DOT_SPACING).ceil() as usize;
    let tint = [rng.range(0.9, 1.1), 1.0, rng.range(0.85, 1.0)];
    let mut dots = Vec::new();
    for iy in 0..ny {
        for ix in 0..nx {
            let jx = rng.range(-0.45, 0.45);
            let jy = rng.range(-0.45, 0.45);
            let p = [
                b[0] + (ix as f64 + 0.5 + jx) * DOT_SPACING,
                b[1] + (iy as f64 + 0.5 + jy) * DOT_SPACING,
            ];
            let keep = rng.next_f64();
            let r = rng.range(0.000_75, 0.001_5);
            let t = layout.region_sd(p);
            if t < DOT_INSET || keep > 0.35 + 0.65 * smoothstep(DOT_INSET, DOT_INSET + 0.03, t) {
                continue;
            }
            let shade = rng.range(0.7, 1.3);
            dots.push(Dot {
                c: [p[0] as f32, p[1] as f32],
                r: r as f32,
                soft: (r * rng.range(0.35, 0.7)) as f32,
                colour: [0.030 * tint[0], 0.025 * tint[1], 0.022 * tint[2]]
                    .map(|v| (v * shade) as f32),
                alpha: rng.range(0.78, 0.95) as f32,
                rank: rng.next_f64() as f32,
            });
        }
    }
    dots
}
