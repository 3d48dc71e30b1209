//! End-to-end throughput: 12 pairs of 12-MP photos through the real pipeline, as `batch` runs
//! them. Prints wall time, photos per second, peak memory and where the time went.
//! `cargo bench --bench throughput` (first run renders and caches the inputs).
//! `cargo bench --bench throughput -- --prepare-only` only makes the inputs (for sigal_compare.sh).

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use beforeafter::config::Config;
use beforeafter::pipeline::{self, Reporter, RunOptions};

const PAIRS: usize = 12;

fn main() {
    let input = support::pairs(PAIRS);
    if std::env::args().any(|a| a == "--prepare-only") {
        println!("{}", input.display());
        return;
    }
    let jobs: Vec<(&str, &str)> = vec![
        ("full pipeline (default config)", ""),
        (
            "sigal-equivalent job: 3 JPEG sizes, watermark >= 1024, no WebP/composites/align/tone",
            include_str!("sigal_equivalent.toml"),
        ),
    ];
    println!("| job | wall time | photos/s | peak RSS |");
    println!("| --- | --- | --- | --- |");
    for (name, toml) in jobs {
        let mut config = if toml.is_empty() {
            Config::defaults()
        } else {
            Config::from_str_at(toml, std::path::Path::new("benches/sigal_equivalent.toml"))
                .unwrap()
        };
        // Synthetic photos: every case may be published.
        config.cases.default_consent = true;
        let out = tempfile::tempdir().unwrap();
        let start = Instant::now();
        let summary = pipeline::run(
            &input,
            out.path(),
            &config,
            &RunOptions::default(),
            &Reporter::new(true),
        )
        .unwrap();
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(summary.published, PAIRS, "{:?}", summary.cases);
        println!(
            "| {name} | {secs:.2} s | {:.2} | {:.0} MiB |",
            (2 * PAIRS) as f64 / secs,
            support::peak_rss_mib().unwrap_or(f64::NAN)
        );
        println!("|   stage CPU time | {} | | |", summary.timings);
    }
}
