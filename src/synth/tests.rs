//! Tests of the synthetic scene: determinism, exact geometry and masks.

use super::*;

#[test]
fn rng_is_deterministic_and_uniform() {
    let mut a = Rng::new(42);
    let mut b = Rng::new(42);
    let xs: Vec<f64> = (0..10_000).map(|_| a.next_f64()).collect();
    assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
    assert_eq!(xs[17], {
        (0..17).for_each(|_| {
            b.next_f64();
        });
        b.next_f64()
    });
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    assert!((mean - 0.5).abs() < 0.01);
    let mut n = Rng::new(7);
    let zs: Vec<f64> = (0..20_000).map(|_| n.normal()).collect();
    let m = zs.iter().sum::<f64>() / zs.len() as f64;
    let v = zs.iter().map(|z| (z - m) * (z - m)).sum::<f64>() / zs.len() as f64;
    assert!(m.abs() < 0.03 && (v - 1.0).abs() < 0.05, "mean {m} var {v}");
}

#[test]
fn moved_without_motion_is_reference() {
    let scene = Scene::new(View::Crown, 1);
    let r = Shot::reference(&scene, 400);
    let m = Shot::moved(&scene, 400, 300, 0.0, 1.0, [0.0, 0.0]);
    for i in 0..2 {
        for j in 0..3 {
            assert!((r.matrix[i][j] - m.matrix[i][j]).abs() < 1e-12);
        }
    }
}

#[test]
fn shot_to_shot_is_exact() {
    let scene = Scene::new(View::Top, 3);
    let a = Shot::moved(&scene, 640, 480, 5.0, 1.1, [0.03, -0.02]);
    let b = Shot::moved(&scene, 1000, 750, -3.0, 0.9, [-0.05, 0.04]);
    let m = shot_to_shot(&a, &b);
    for p in [[0.0, 0.0], [320.0, 240.0], [639.0, 17.5]] {
        let q = apply(&m, p);
        let pa = a.to_scene(p[0], p[1]);
        let pb = b.to_scene(q[0], q[1]);
        assert!((pa[0] - pb[0]).abs() < 1e-12 && (pa[1] - pb[1]).abs() < 1e-12);
    }
}

#[test]
fn moved_semantics() {
    // Scale 2 about the centre: a point at the frame centre stays, a point
    // 0.1 right of it appears 0.2 shot widths right.
    let scene = Scene::new(View::Front, 2);
    let s = Shot::moved(&scene, 1000, 750, 0.0, 2.0, [0.1, 0.0]);
    let inv = invert(&s.matrix);
    let q = apply(&inv, [0.6, 0.375]);
    assert!((q[0] - (499.5 + 300.0)).abs() < 1e-9, "{q:?}");
    // Positive rotation turns the subject clockwise (y down): a point right
    // of centre moves down.
    let r = Shot::moved(&scene, 1000, 750, 10.0, 1.0, [0.0, 0.0]);
    let q = apply(&invert(&r.matrix), [0.7, 0.375]);
    assert!(q[1] > 374.5 + 20.0, "{q:?}");
}

#[test]
fn render_is_deterministic_and_treatment_is_local() {
    let scene = Scene::new(View::Crown, 11);
    let mut shot = Shot::moved(&scene, 320, 240, 4.0, 1.05, [0.02, 0.0]);
    shot.noise_sigma = 2.0;
    shot.seed = 9;
    let a = render(&scene, &shot);
    assert_eq!(a, render(&scene, &shot));
    shot.treated = true;
    let b = render(&scene, &shot);
    let mask = treatment_mask(&scene, &shot);
    let mut inside_diff = 0u64;
    let mut inside = 0u64;
    for (x, y, m) in mask.enumerate_pixels() {
        let (pa, pb) = (a.get_pixel(x, y), b.get_pixel(x, y));
        if m[0] == 0 {
            assert_eq!(pa, pb, "treatment leaked outside the mask at {x},{y}");
        } else {
            inside += 1;
            inside_diff += (0..3).map(|c| pa[c].abs_diff(pb[c]) as u64).sum::<u64>();
        }
    }
    let frac = inside as f64 / (320.0 * 240.0);
    assert!((0.05..0.36).contains(&frac), "treated area fraction {frac}");
    assert!(
        inside_diff as f64 / inside as f64 > 6.0,
        "treatment too faint"
    );
}

#[test]
fn every_view_has_hair_skin_and_background() {
    for view in View::ALL {
        let scene = Scene::new(view, 5);
        let img = render(&scene, &Shot::reference(&scene, 200));
        let luma: Vec<f64> = img
            .pixels()
            .map(|p| 0.3 * p[0] as f64 + 0.59 * p[1] as f64 + 0.11 * p[2] as f64)
            .collect();
        let dark = luma.iter().filter(|&&l| l < 60.0).count() as f64 / luma.len() as f64;
        let bright = luma.iter().filter(|&&l| l > 140.0).count() as f64 / luma.len() as f64;
        assert!(
            dark > 0.1 && bright > 0.05,
            "{view:?}: dark {dark} bright {bright}"
        );
    }
}

#[test]
fn different_seeds_differ() {
    let a = Scene::new(View::Crown, 1);
    let b = Scene::new(View::Crown, 2);
    let sa = Shot::reference(&a, 160);
    assert_ne!(render(&a, &sa), render(&b, &sa));
}

#[test]
fn resolution_independent_content() {
    // A 4x render box-downsampled matches the 1x render closely.
    let scene = Scene::new(View::Top, 4);
    let small = render(&scene, &Shot::reference(&scene, 200));
    let big = render(&scene, &Shot::reference(&scene, 800));
    let mut err = 0.0;
    for (x, y, p) in small.enumerate_pixels() {
        for c in 0..3 {
            let mut s = 0.0;
            for dy in 0..4 {
                for dx in 0..4 {
                    s += srgb_decode(big.get_pixel(4 * x + dx, 4 * y + dy)[c] as f64 / 255.0);
                }
            }
            let e = srgb_encode(s / 16.0) * 255.0;
            err += (e - p[c] as f64).abs();
        }
    }
    let mean = err / (200.0 * 150.0 * 3.0);
    assert!(mean < 6.0, "mean abs diff {mean}");
}

#[test]
fn treated_area_is_plausible_for_every_view() {
    for view in View::ALL {
        for seed in 0..4 {
            let scene = Scene::new(view, seed);
            let mask = treatment_mask(&scene, &Shot::reference(&scene, 160));
            let frac = mask.pixels().filter(|p| p[0] > 0).count() as f64 / (160.0 * 120.0);
            assert!((0.03..0.34).contains(&frac), "{view:?} seed {seed}: {frac}");
        }
    }
}
