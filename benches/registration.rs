//! Ground-truth registration and tone benchmark on synthetic scalp pairs; prints a markdown
//! table. `BA_CASES` / `BA_UNRELATED` change the pair counts, `BA_VERBOSE=1` prints per-pair
//! rows, `BA_SYNTH_CACHE=dir` caches the renders between runs.

#[path = "../tests/it/support/registration.rs"]
mod registration;

use beforeafter::align;
use beforeafter::pipeline::{FitParams, working_copy};
use beforeafter::tone;
use image::RgbImage;
use registration::{
    Case, Outcome, default_fit, grid_error, make_cached, mask_to, median, median_delta_e, run,
    spec, unrelated_spec,
};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Default)]
struct Tally {
    errors: Vec<f64>,
    flagged_true: usize,
    flagged_unrelated: usize,
    unrelated: usize,
    seconds: Vec<f64>,
}

impl Tally {
    fn success(&self) -> f64 {
        self.errors.iter().filter(|&&e| e <= 2.0).count() as f64 / self.errors.len().max(1) as f64
    }
}

#[derive(Default)]
struct ToneTally {
    off_ours: Vec<f64>,
    off_hist: Vec<f64>,
    off_floor: Vec<f64>,
    treat_ratio_ours: Vec<f64>,
    treat_ratio_hist: Vec<f64>,
}

fn tone_measures(case: &Case, out: &Outcome, cfg: &FitParams, t: &mut ToneTally) {
    let fit = &out.fit;
    let (w, h) = fit.before.dimensions();
    let mask = mask_to(&case.mask, w, h);
    let valid = &fit.valid;
    let mut ours = fit.warped.clone();
    if let Some(fitted) = &fit.tone {
        tone::apply_mut(&mut ours, fitted);
    }
    let hist = tone::baseline::histogram_match_baseline(&fit.before, &fit.warped, Some(valid));
    // The true after under the before's light, brought to working resolution and warped with the
    // same estimated matrix, so that only the tone differs.
    let true_light = case.after_true_light.as_ref().expect("related");
    let tw = working_copy(true_light, cfg.working_size).image;
    let inv = align::invert(&fit.estimate.matrix).unwrap_or(align::identity());
    let true_w = align::warp(&tw, &inv, w, h);
    let off = |x: u32, y: u32| valid.get_pixel(x, y).0[0] > 0 && mask.get_pixel(x, y).0[0] == 0;
    let on = |x: u32, y: u32| valid.get_pixel(x, y).0[0] > 0 && mask.get_pixel(x, y).0[0] > 0;
    t.off_ours.push(median_delta_e(&fit.before, &ours, off));
    t.off_hist.push(median_delta_e(&fit.before, &hist, off));
    t.off_floor.push(median_delta_e(&fit.before, &true_w, off));
    let reference = median_delta_e(&fit.before, &true_w, on);
    if reference.is_finite() && reference > 0.0 {
        t.treat_ratio_ours
            .push(median_delta_e(&fit.before, &ours, on) / reference);
        t.treat_ratio_hist
            .push(median_delta_e(&fit.before, &hist, on) / reference);
    }
}

/// Add one pair's outcomes (ours, feature baseline) to the tallies; print a row if verbose.
fn tally_case(
    case: &Case,
    o: &Outcome,
    f: &Outcome,
    cfg: &FitParams,
    tallies: [&mut Tally; 2],
    tt: &mut ToneTally,
    verbose: bool,
) {
    for (tally, out) in tallies.into_iter().zip([o, f]) {
        tally.seconds.push(out.seconds);
        match &case.truth {
            Some(t) => {
                tally
                    .errors
                    .push(grid_error(&out.fit.matrix, t, case.before.dimensions()));
                tally.flagged_true += usize::from(out.flagged);
            }
            None => {
                tally.unrelated += 1;
                tally.flagged_unrelated += usize::from(out.flagged);
            }
        }
    }
    if case.truth.is_some() {
        tone_measures(case, o, cfg, tt);
    }
    if verbose {
        print_row(case, o, f, tt);
    }
}

fn print_row(case: &Case, o: &Outcome, f: &Outcome, tt: &ToneTally) {
    let err = |out: &Outcome| match &case.truth {
        Some(t) => format!(
            "{:.3}",
            grid_error(&out.fit.matrix, t, case.before.dimensions())
        ),
        None => "-".into(),
    };
    let tone_info = match (case.truth.is_some(), tt.off_ours.last(), tt.off_hist.last()) {
        (true, Some(a), Some(b)) => format!("dE off {a:.2} hist {b:.2}"),
        _ => String::new(),
    };
    eprintln!(
        "{:32} ours err {:>8} conf {:.2} ncc {:.2} flag {} {:5.1} ms {} | feat err {:>8} conf {:.2} flag {} | {tone_info} gain {:.3?} gamma {:.3?}",
        case.name,
        err(o),
        o.fit.estimate.confidence,
        o.fit.estimate.tile_ncc,
        o.flagged,
        o.seconds * 1e3,
        o.fit.estimate.method,
        err(f),
        f.fit.estimate.confidence,
        f.flagged,
        o.fit.tone.as_ref().map(|t| t.gain),
        o.fit.tone.as_ref().map(|t| t.gamma)
    );
}

fn warp_timing() -> f64 {
    let src = RgbImage::from_fn(4032, 3024, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x ^ y) % 255) as u8])
    });
    let m = align::compose(
        &align::similarity(1.0, 3.0, 10.0, -5.0),
        &[
            [4032.0 / 2048.0, 0.0, 0.5 * 4032.0 / 2048.0 - 0.5],
            [0.0, 3024.0 / 1536.0, 0.5 * 3024.0 / 1536.0 - 0.5],
        ],
    );
    let _ = align::warp(&src, &m, 2048, 1536);
    let t = std::time::Instant::now();
    let runs = 5;
    for _ in 0..runs {
        std::hint::black_box(align::warp(&src, &m, 2048, 1536));
    }
    t.elapsed().as_secs_f64() * 1000.0 / f64::from(runs)
}

fn pct(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        f64::NAN
    } else {
        s[((s.len() - 1) as f64 * p).round() as usize]
    }
}

fn main() {
    let (n, nu) = (env("BA_CASES", 44), env("BA_UNRELATED", 6));
    let verbose = env("BA_VERBOSE", 0) == 1;
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let cfg = default_fit();
    let mut ours = Tally::default();
    let mut feat = Tally::default();
    let mut tt = ToneTally::default();
    let specs: Vec<_> = (0..n)
        .map(|i| spec(i, 1600))
        .chain((0..nu).map(|i| unrelated_spec(i, 1600)))
        .collect();
    for s in &specs {
        let case = make_cached(s);
        let (o, f) = one.install(|| {
            let ours = run(&case, &cfg, align::estimate);
            (
                ours,
                run(&case, &cfg, align::baseline::estimate_features_only),
            )
        });
        tally_case(
            &case,
            &o,
            &f,
            &cfg,
            [&mut ours, &mut feat],
            &mut tt,
            verbose,
        );
    }
    let warp_ms = one.install(warp_timing);
    print_table(&ours, &feat, &tt, warp_ms);
}

fn print_table(ours: &Tally, feat: &Tally, tt: &ToneTally, warp_ms: f64) {
    let within = |v: &[f64]| v.iter().filter(|r| (**r - 1.0).abs() <= 0.1).count();
    println!(
        "| measure | ours (fourier-mellin + robust ECC; robust tone) | baseline (ORB+RANSAC; histogram matching) | target |"
    );
    println!("|---|---|---|---|");
    println!(
        "| alignment success (err ≤ 2 px @1000 px) | {:.1}% ({}/{}) | {:.1}% | ≥ 95% |",
        100.0 * ours.success(),
        ours.errors.iter().filter(|&&e| e <= 2.0).count(),
        ours.errors.len(),
        100.0 * feat.success()
    );
    println!(
        "| alignment error median / p90 / max (px @1000) | {:.3} / {:.3} / {:.2} | {:.3} / {:.3} / {:.2} | median ≤ 0.3 |",
        pct(&ours.errors, 0.5),
        pct(&ours.errors, 0.9),
        pct(&ours.errors, 1.0),
        pct(&feat.errors, 0.5),
        pct(&feat.errors, 0.9),
        pct(&feat.errors, 1.0)
    );
    println!(
        "| unrelated pairs flagged | {}/{} | {}/{} | 100% |",
        ours.flagged_unrelated, ours.unrelated, feat.flagged_unrelated, feat.unrelated
    );
    println!(
        "| true pairs flagged | {}/{} | {}/{} | 0 |",
        ours.flagged_true,
        ours.errors.len(),
        feat.flagged_true,
        feat.errors.len()
    );
    let mut v = tt.off_ours.clone();
    let mut h = tt.off_hist.clone();
    let mut fl = tt.off_floor.clone();
    println!(
        "| ΔE2000 off the treatment (median of pair medians) | {:.2} | {:.2} | ≤ 2.0 (floor with true light: {:.2}) |",
        median(&mut v),
        median(&mut h),
        median(&mut fl)
    );
    let mut r = tt.treat_ratio_ours.clone();
    let mut rh = tt.treat_ratio_hist.clone();
    println!(
        "| treatment ΔE vs truth (median ratio; pairs within ±10%) | {:.3}; {}/{} | {:.3}; {}/{} | within 10% |",
        median(&mut r),
        within(&tt.treat_ratio_ours),
        tt.treat_ratio_ours.len(),
        median(&mut rh),
        within(&tt.treat_ratio_hist),
        tt.treat_ratio_hist.len()
    );
    println!(
        "| time per pair, align + tone, 1 thread (median / max) | {:.1} / {:.1} ms | {:.1} / {:.1} ms | ≤ 60 ms |",
        1e3 * pct(&ours.seconds, 0.5),
        1e3 * pct(&ours.seconds, 1.0),
        1e3 * pct(&feat.seconds, 0.5),
        1e3 * pct(&feat.seconds, 1.0)
    );
    println!("| warp 4032x3024 -> 2048x1536, 1 thread | {warp_ms:.1} ms | | ≤ 60 ms |");
}
