//! Calibration of the quality gate on real photographs: pairs cut from `tests/fixtures/real/`
//! (see `tests/it/support/quality.rs`), one injected fault per faulty pair and as many clean pairs
//! with normal drift; each pair is registered like the pipeline does, measured, and judged with
//! the default thresholds. Prints the confusion table per code, the margins of each measure and
//! the time of `quality::measure` per photo (one thread). `BA_VARIANTS` sets the faulty pairs
//! per photo and code (default 2; clean pairs: 5× that per photo), `BA_VERBOSE=1` prints a row
//! per pair, `BA_PHOTO=name` keeps the photos whose name contains it.

#[path = "../tests/it/support/quality.rs"]
mod set;
#[path = "../tests/it/support/truth/mod.rs"]
mod truth;

use truth::scene;

use beforeafter::quality::{self, Fault, Measures, Thresholds};
use rayon::prelude::*;
use set::Kind;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The fault a kind should raise.
fn expected(kind: Kind) -> Option<Fault> {
    match kind {
        Kind::Clean => None,
        Kind::Blur => Some(Fault::Blur),
        Kind::Overexposed => Some(Fault::Overexposed),
        Kind::Underexposed => Some(Fault::Underexposed),
        Kind::Perspective => Some(Fault::Perspective),
        Kind::Shine => Some(Fault::Shine),
    }
}

/// The measure behind a fault, signed so that larger means worse.
fn value(m: &Measures, f: Fault) -> f32 {
    match f {
        Fault::Blur => -m.sharpness_ratio,
        Fault::Overexposed => m.highlights,
        Fault::Underexposed => m.shadows,
        Fault::Perspective => m.tilt_deg,
        Fault::Shine => m.shine,
    }
}

struct Row {
    name: String,
    kind: Kind,
    size: f64,
    confidence: f64,
    m: Measures,
    ms: f64,
    pixels: u32,
    /// The pair registered (measured side by side) rather than read by the keystone rescue.
    registered: bool,
}

fn jobs(variants: u64) -> Vec<(&'static str, u64, Kind)> {
    let only = std::env::var("BA_PHOTO").unwrap_or_default();
    let mut out = Vec::new();
    for photo in scene::PHOTOS.into_iter().filter(|p| p.contains(&only)) {
        for kind in Kind::FAULTS {
            out.extend((0..variants).map(|v| (photo, v, kind)));
        }
        out.extend((0..5 * variants).map(|v| (photo, 100 + v, Kind::Clean)));
    }
    out
}

fn main() {
    let variants = env("BA_VARIANTS", 2);
    let t = std::time::Instant::now();
    let scenes: Vec<_> = scene::PHOTOS.iter().map(|p| scene::load_scene(p)).collect();
    let prepared: Vec<(set::Case, set::Prepared)> = jobs(variants)
        .par_iter()
        .filter_map(|&(photo, v, kind)| {
            let i = scene::PHOTOS.iter().position(|p| *p == photo)?;
            let case = set::make(photo, v, kind, &scenes[i])?;
            let prepared = set::prepare(&case, 1024);
            Some((case, prepared))
        })
        .collect();
    eprintln!(
        "{} pairs made and registered in {:.1} s",
        prepared.len(),
        t.elapsed().as_secs_f64()
    );
    let params = quality::MeasureParams::default();
    // Measured one after another, so the time is one core's.
    let rows: Vec<Row> = prepared
        .iter()
        .map(|(c, p)| {
            let (m, ms) = p.measure(&params);
            Row {
                name: c.name.clone(),
                kind: c.kind,
                size: c.size,
                confidence: p.confidence,
                m,
                ms,
                pixels: p.before.width() * p.before.height(),
                registered: p.registered,
            }
        })
        .collect();
    let t = Thresholds::default();
    if env("BA_VERBOSE", 0) == 1 {
        rows.iter().for_each(|r| print_row(r, &t));
    }
    print_confusion(&rows, &t);
    print_margins(&rows);
    print_times(&rows);
}

fn print_row(r: &Row, t: &Thresholds) {
    let m = &r.m;
    let flags: Vec<&str> = quality::faults(m, t).iter().map(|f| f.code()).collect();
    eprintln!(
        "{:32} size {:+6.2} conf {:.2} | sharp {:.3} high {:.4} shad {:.4} tilt {:5.1} shine {:.5} | {:?}",
        r.name,
        r.size,
        r.confidence,
        m.sharpness_ratio,
        m.highlights,
        m.shadows,
        m.tilt_deg,
        m.shine,
        flags
    );
}

fn print_confusion(rows: &[Row], t: &Thresholds) {
    println!("| injected | pairs | caught | flagged with another code |");
    println!("|---|---|---|---|");
    for kind in Kind::FAULTS {
        let of: Vec<&Row> = rows.iter().filter(|r| r.kind == kind).collect();
        let want = expected(kind).expect("a fault");
        let caught = of
            .iter()
            .filter(|r| quality::faults(&r.m, t).contains(&want))
            .count();
        let others: Vec<String> = Fault::ALL
            .iter()
            .filter(|&&f| f != want)
            .filter_map(|&f| {
                let n = of
                    .iter()
                    .filter(|r| quality::faults(&r.m, t).contains(&f))
                    .count();
                (n > 0).then(|| format!("{} {n}", f.code()))
            })
            .collect();
        println!(
            "| {} | {} | {caught}/{} ({:.0}%) | {} |",
            want.code(),
            of.len(),
            of.len(),
            100.0 * caught as f64 / of.len().max(1) as f64,
            if others.is_empty() {
                "-".into()
            } else {
                others.join(", ")
            }
        );
    }
    let clean: Vec<&Row> = rows.iter().filter(|r| r.kind == Kind::Clean).collect();
    let any = clean
        .iter()
        .filter(|r| !quality::faults(&r.m, t).is_empty())
        .count();
    let per: Vec<String> = Fault::ALL
        .iter()
        .map(|&f| {
            let n = clean
                .iter()
                .filter(|r| quality::faults(&r.m, t).contains(&f))
                .count();
            format!("{} {n}", f.code())
        })
        .collect();
    println!(
        "| clean (false flags) | {} | {any}/{} flagged ({:.1}%) | {} |",
        clean.len(),
        clean.len(),
        100.0 * any as f64 / clean.len().max(1) as f64,
        per.join(", ")
    );
}

/// Per code: the worst clean value and the mildest faulty value (larger = worse).
fn print_margins(rows: &[Row]) {
    println!();
    println!("| measure | worst clean | clean p95 | mildest injected | injected median |");
    println!("|---|---|---|---|---|");
    for f in Fault::ALL {
        let mut clean: Vec<f32> = rows
            .iter()
            .filter(|r| r.kind == Kind::Clean)
            .map(|r| value(&r.m, f))
            .collect();
        let mut bad: Vec<f32> = rows
            .iter()
            .filter(|r| expected(r.kind) == Some(f))
            .map(|r| value(&r.m, f))
            .collect();
        clean.sort_by(f32::total_cmp);
        bad.sort_by(f32::total_cmp);
        let q = |v: &[f32], p: f64| {
            v.get(((v.len().max(1) - 1) as f64 * p).round() as usize)
                .copied()
                .unwrap_or(f32::NAN)
        };
        println!(
            "| {} | {:.4} | {:.4} | {:.4} | {:.4} |",
            f.code(),
            q(&clean, 1.0),
            q(&clean, 0.95),
            q(&bad, 0.0),
            q(&bad, 0.5)
        );
    }
    println!("(blur is shown as −sharpness_ratio so that larger is worse everywhere)");
}

fn print_times(rows: &[Row]) {
    println!();
    type Pick = fn(&Row) -> bool;
    let groups: [(&str, Pick); 3] = [
        ("registered pairs", |r| r.registered),
        (
            "registered pairs of ≥ 0.9 MP (1024 px working size)",
            |r| r.registered && r.pixels >= 900_000,
        ),
        (
            "pairs that did not register (feature or direct rescue)",
            |r| !r.registered,
        ),
    ];
    for (label, pick) in groups {
        let mut ms: Vec<f64> = rows.iter().filter(|r| pick(r)).map(|r| r.ms).collect();
        if ms.is_empty() {
            continue;
        }
        ms.sort_by(f64::total_cmp);
        let q = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
        println!(
            "quality::measure per photo, one thread, {label} ({}): median {:.2} ms, p90 {:.2} ms, max {:.2} ms",
            ms.len(),
            q(0.5),
            q(0.9),
            q(1.0)
        );
    }
}
