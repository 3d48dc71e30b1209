//! The residual shift between a published photo and the truth on the same grid, measured on the
//! pixels: normalised cross-correlation (insensitive to gain and offset, so a tone error does not
//! move it) searched coarse to fine per quadrant, with a parabola through the peak.

use image::RgbImage;

/// Luminance with a validity flag per pixel.
struct Plane {
    w: usize,
    h: usize,
    v: Vec<f32>,
    ok: Vec<bool>,
}

impl Plane {
    fn new(img: &RgbImage, valid: &dyn Fn(u32, u32) -> bool) -> Plane {
        let (w, h) = img.dimensions();
        Plane {
            w: w as usize,
            h: h as usize,
            v: img
                .pixels()
                .map(|p| {
                    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
                })
                .collect(),
            ok: (0..h)
                .flat_map(|y| (0..w).map(move |x| (x, y)))
                .map(|(x, y)| valid(x, y))
                .collect(),
        }
    }

    /// 2×2 box average; valid where all four are.
    fn half(&self) -> Plane {
        let (w, h) = (self.w / 2, self.h / 2);
        let mut out = Plane {
            w,
            h,
            v: vec![0.0; w * h],
            ok: vec![false; w * h],
        };
        for y in 0..h {
            for x in 0..w {
                let i = [0, 1, self.w, self.w + 1].map(|d| 2 * y * self.w + 2 * x + d);
                out.v[y * w + x] = i.iter().map(|&i| self.v[i]).sum::<f32>() / 4.0;
                out.ok[y * w + x] = i.iter().all(|&i| self.ok[i]);
            }
        }
        out
    }
}

/// NCC of `a` shifted by `d` against `t` over `rect` (x0, y0, x1, y1) of `t`.
fn ncc(a: &Plane, t: &Plane, rect: [usize; 4], d: (i64, i64)) -> Option<f64> {
    let (mut n, mut sa, mut st, mut saa, mut stt, mut sat) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for y in rect[1]..rect[3] {
        let ay = y as i64 + d.1;
        if ay < 0 || ay >= a.h as i64 {
            continue;
        }
        for x in rect[0]..rect[2] {
            let ax = x as i64 + d.0;
            let (ti, ai) = (y * t.w + x, ay as usize * a.w + ax as usize);
            if ax < 0 || ax >= a.w as i64 || !t.ok[ti] || !a.ok[ai] {
                continue;
            }
            let (va, vt) = (f64::from(a.v[ai]), f64::from(t.v[ti]));
            n += 1.0;
            (sa, st) = (sa + va, st + vt);
            (saa, stt, sat) = (saa + va * va, stt + vt * vt, sat + va * vt);
        }
    }
    let (va, vt) = (saa - sa * sa / n, stt - st * st / n);
    // Too few pixels, or a flat region (black sky), says nothing.
    (n >= 64.0 && va > n * 4.0 && vt > n * 4.0).then(|| (sat - sa * st / n) / (va * vt).sqrt())
}

/// The best integer shift within `radius` of `centre`, and the NCC there.
fn search(
    a: &Plane,
    t: &Plane,
    rect: [usize; 4],
    centre: (i64, i64),
    radius: i64,
) -> Option<(i64, i64)> {
    let mut best: Option<((i64, i64), f64)> = None;
    for dy in -radius..=radius {
        for dx in -radius..=radius {
            let d = (centre.0 + dx, centre.1 + dy);
            if let Some(c) = ncc(a, t, rect, d)
                && best.is_none_or(|(_, b)| c > b)
            {
                best = Some((d, c));
            }
        }
    }
    best.map(|(d, _)| d)
}

/// Shifts searched at 1/4 resolution: ±8 there, ±32 px at full resolution (a larger residual
/// reads as 32 px or so, which is failure anyway).
const LEVELS: usize = 2;
const COARSE_RADIUS: i64 = 8;

/// Sub-pixel shift `d` with `a(x + d) ≈ t(x)` in each quadrant of the valid pixels; the largest
/// length (px of the grid), or `None` when no quadrant has texture.
#[must_use]
pub fn residual(a: &RgbImage, t: &RgbImage, valid: &dyn Fn(u32, u32) -> bool) -> Option<f64> {
    let mut pyr = vec![(Plane::new(a, valid), Plane::new(t, valid))];
    for _ in 0..LEVELS {
        let (pa, pt) = pyr.last().expect("level 0");
        pyr.push((pa.half(), pt.half()));
    }
    let (w, h) = (pyr[0].1.w, pyr[0].1.h);
    let mut worst: Option<f64> = None;
    for q in 0..4 {
        let rect = [
            q % 2 * w / 2,
            q / 2 * h / 2,
            (q % 2 + 1) * w / 2,
            (q / 2 + 1) * h / 2,
        ];
        let Some(d) = quadrant(&pyr, rect) else {
            continue;
        };
        let len = d[0].hypot(d[1]);
        worst = Some(worst.map_or(len, |w| w.max(len)));
    }
    worst
}

fn quadrant(pyr: &[(Plane, Plane)], rect: [usize; 4]) -> Option<[f64; 2]> {
    let mut d = (0, 0);
    for (level, (a, t)) in pyr.iter().enumerate().rev() {
        let k = 1 << level;
        let r = rect.map(|v| v / k);
        let radius = if level == LEVELS { COARSE_RADIUS } else { 2 };
        d = search(a, t, r, d, radius)?;
        if level > 0 {
            d = (2 * d.0, 2 * d.1);
        }
    }
    let (a, t) = &pyr[0];
    let at = |dx, dy| ncc(a, t, rect, (d.0 + dx, d.1 + dy));
    let peak = |m: Option<f64>, c: f64, p: Option<f64>| match (m, p) {
        (Some(m), Some(p)) if m + p - 2.0 * c < 0.0 => {
            (0.5 * (m - p) / (m + p - 2.0 * c)).clamp(-0.5, 0.5)
        }
        _ => 0.0,
    };
    let c = at(0, 0)?;
    Some([
        d.0 as f64 + peak(at(-1, 0), c, at(1, 0)),
        d.1 as f64 + peak(at(0, -1), c, at(0, 1)),
    ])
}
