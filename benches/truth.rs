//! Ground truth on real photographs, end to end: pairs cut from the photos in
//! `tests/fixtures/real/`, one run of the real binary, every measure taken on the files it
//! published; prints a markdown table over every pair, then one row per light model (the fit's own
//! model and the changes it cannot represent: `truth::LightKind`). `BA_VARIANTS` sets the pairs
//! per photo and light model (3: 18 pairs per model, 126 in all), `BA_LIGHT=linear` (or
//! contrast, wb, flare, clipped, vignette, mixed) keeps one model,
//! `BA_VERBOSE=1` prints a row per pair, `BA_TRUTH_BIN=path` runs another build of the binary, `BA_TRUTH_SLUG=0` leaves `slug` out of case.toml (for a
//! binary that does not know the key), `BA_TRUTH_DIR=dir` keeps the cases and gallery there.

#[path = "../tests/it/support/truth/mod.rs"]
mod truth;

use std::path::PathBuf;
use std::time::Instant;

use truth::{LightKind, Measures};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(v: &[f64], p: f64) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    s[((s.len() - 1) as f64 * p).round() as usize]
}

fn share(v: &[f64], ok: impl Fn(f64) -> bool) -> String {
    let n = v.iter().filter(|&&x| ok(x)).count();
    format!(
        "{:.0}% ({n}/{})",
        100.0 * n as f64 / v.len().max(1) as f64,
        v.len()
    )
}

fn main() {
    let variants = env("BA_VARIANTS", 3);
    let verbose = env("BA_VERBOSE", 0) == 1;
    let only = std::env::var("BA_LIGHT").ok();
    let kinds: Vec<LightKind> = LightKind::ALL
        .into_iter()
        .filter(|k| only.as_deref().is_none_or(|o| o == k.short()))
        .collect();
    let t = Instant::now();
    let pairs: Vec<truth::Pair> = kinds
        .iter()
        .flat_map(|&k| truth::generate_lit(&truth::PHOTOS, variants, k))
        .collect();
    let generate_s = t.elapsed().as_secs_f64();
    let (_tmp, dir): (Option<tempfile::TempDir>, PathBuf) = match std::env::var("BA_TRUTH_DIR") {
        Ok(d) => {
            let _ = std::fs::remove_dir_all(&d);
            (None, PathBuf::from(d))
        }
        Err(_) => {
            let tmp = tempfile::tempdir().expect("temp dir");
            let path = tmp.path().to_path_buf();
            (Some(tmp), path)
        }
    };
    let bin = std::env::var("BA_TRUTH_BIN").map_or_else(
        |_| PathBuf::from(env!("CARGO_BIN_EXE_beforeafter")),
        PathBuf::from,
    );
    let bin = bin.as_path();
    let t = Instant::now();
    let evaluation = truth::evaluate(&pairs, bin, &dir);
    let times = [
        generate_s,
        evaluation.batch_seconds,
        t.elapsed().as_secs_f64(),
    ];
    let mut measures = Vec::new();
    for r in evaluation.results {
        match r {
            Ok(m) => {
                if verbose {
                    print_row(&m);
                }
                measures.push(m);
            }
            Err(e) => eprintln!("failed: {e}"),
        }
    }
    print_table(&measures, pairs.len(), times);
    print_by_light(&measures, &pairs);
}

/// One row per light model: how the treatment's visible effect compares with the truth on the
/// published files. The promise is never to overstate it: no pair above +15%.
fn print_by_light(m: &[Measures], pairs: &[truth::Pair]) {
    println!();
    println!(
        "| light model | pairs | effect within ±10% | overstated > +15% | effect ratio min / median / max | ΔE2000 off, median |"
    );
    println!("|---|---|---|---|---|---|");
    for kind in LightKind::ALL {
        let names: Vec<&str> = pairs
            .iter()
            .filter(|p| p.spec.light.kind == kind)
            .map(|p| p.name.as_str())
            .collect();
        let of: Vec<&Measures> = m
            .iter()
            .filter(|m| names.contains(&m.name.as_str()))
            .collect();
        if names.is_empty() {
            continue;
        }
        let ratio: Vec<f64> = of.iter().filter_map(|m| m.treatment_ratio).collect();
        let de: Vec<f64> = of.iter().map(|m| m.delta_e_off).collect();
        println!(
            "| {} | {}/{} | {} | {} | {:.3} / {:.3} / {:.3} | {:.2} |",
            kind.name(),
            of.len(),
            names.len(),
            share(&ratio, |r| (r - 1.0).abs() <= 0.1),
            ratio.iter().filter(|&&r| r > 1.15).count(),
            pct(&ratio, 0.0),
            pct(&ratio, 0.5),
            pct(&ratio, 1.0),
            pct(&de, 0.5)
        );
    }
}

fn print_row(m: &Measures) {
    let opt = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3}"));
    eprintln!(
        "{:24} review {:5} align manifest {:7.3} files {:>7} | ΔE off {:5.2} (floor {:4.2}) | treatment {:>6} | slider-composite {:+.1?}",
        m.name,
        m.review,
        m.align_manifest,
        opt(m.align_files),
        m.delta_e_off,
        m.delta_e_floor,
        opt(m.treatment_ratio),
        m.slider_vs_composite
    );
    let d = |r: [f64; 5]| {
        format!(
            "{:.1}/{:.1} [{:+.1} {:+.1} {:+.1}]",
            r[0], r[1], r[2], r[3], r[4]
        )
    };
    eprintln!(
        "    dots {} | between {}",
        d(m.diagnosis[0]),
        d(m.diagnosis[1])
    );
}

/// `times`: generating the pairs, the batch run, writing + batch + measuring (seconds).
fn print_table(m: &[Measures], pairs: usize, times: [f64; 3]) {
    let align: Vec<f64> = m.iter().map(|m| m.align_manifest).collect();
    let files: Vec<f64> = m
        .iter()
        .map(|m| m.align_files.unwrap_or(f64::NAN))
        .collect();
    let de: Vec<f64> = m.iter().map(|m| m.delta_e_off).collect();
    let floor: Vec<f64> = m.iter().map(|m| m.delta_e_floor).collect();
    let ratio: Vec<f64> = m.iter().filter_map(|m| m.treatment_ratio).collect();
    let slider: Vec<f64> = m.iter().map(Measures::slider_vs_composite_max).collect();
    println!(
        "| measure (on the published files, {} of {pairs} pairs measured) | value | target |",
        m.len()
    );
    println!("|---|---|---|");
    println!(
        "| alignment success, manifest matrix (≤ 2 px @1000 px) | {} | ≥ 95% |",
        share(&align, |e| e <= 2.0)
    );
    println!(
        "| alignment error, manifest matrix: median / p90 / max (px @1000) | {:.3} / {:.3} / {:.2} | |",
        pct(&align, 0.5),
        pct(&align, 0.9),
        pct(&align, 1.0)
    );
    println!(
        "| residual shift on the files: median / p90 / max (px @1000; {} measurable) | {:.3} / {:.3} / {:.2} | ≤ 2 |",
        files.iter().filter(|v| !v.is_nan()).count(),
        pct(&files, 0.5),
        pct(&files, 0.9),
        pct(&files, 1.0)
    );
    println!(
        "| pairs flagged for review (all are true pairs) | {} | 0 |",
        m.iter().filter(|m| m.review).count()
    );
    println!(
        "| ΔE2000 outside the treatment, slider after vs before: median of pair medians / worst | {:.2} / {:.2} | ≤ 1.5 (truth, unencoded, as the after: {:.2}) |",
        pct(&de, 0.5),
        pct(&de, 1.0),
        pct(&floor, 0.5)
    );
    println!(
        "| treatment effect vs truth: median ratio; pairs within ±10% (of those with a visible effect) | {:.3}; {} | ≥ 90% |",
        pct(&ratio, 0.5),
        share(&ratio, |r| (r - 1.0).abs() <= 0.1)
    );
    println!(
        "| slider vs side composite, after panel: worst mean difference per channel (levels) | {:.2} (median {:.2}) | ≤ 2 |",
        pct(&slider, 1.0),
        pct(&slider, 0.5)
    );
    println!(
        "| wall time: generating the pairs / the batch run / write + batch + measure | {:.1} s / {:.1} s / {:.1} s | |",
        times[0], times[1], times[2]
    );
}
