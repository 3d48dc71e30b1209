//! The renderer's master against resampling every output straight from the source: on the
//! throughput bench's 12-MP pairs, registered as a run does, each output (the three widths of
//! both photos, both panels of every composite) is made both ways and compared (PSNR over RGB,
//! SSIM on luma in 8×8 windows), with the wall time each way takes. Both are also
//! compared with a reference: the photo warped at the crop's full resolution (about one source
//! pixel per output pixel, so the warp's box footprint does not matter), then Lanczos3-resized.
//! `cargo bench --bench renderer` (`BA_PAIRS` pairs, default 4).

#[path = "support/metrics.rs"]
mod metrics;
#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use beforeafter::config::Config;
use beforeafter::pipeline::{self, Settings, timings::Timings};
use beforeafter::render::{self, Master, Region, composite};
use image::RgbImage;
use metrics::{psnr, ssim};

#[derive(Default)]
struct Tally {
    psnr: Vec<f64>,
    ssim: Vec<f64>,
    /// PSNR against the reference: straight from the source, from the master.
    reference: [Vec<f64>; 2],
}

fn main() {
    let pairs: usize = std::env::var("BA_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let dir = support::pairs(pairs);
    let config = Config::defaults();
    let settings = Settings::new(&config, false);
    let composite = settings
        .render
        .composites
        .as_ref()
        .expect("composites on by default");
    let mut rows: Vec<(String, Tally)> = Vec::new();
    let (mut t_direct, mut t_master) = (0.0, 0.0);
    for i in 0..pairs {
        let case = dir.join(format!("case-{i:02}"));
        let before = image::open(case.join("before.jpg")).unwrap().to_rgb8();
        let after = image::open(case.join("after.jpg")).unwrap().to_rgb8();
        let fit = pipeline::fit_pair(
            &before,
            &after,
            &settings.fit,
            beforeafter::align::estimate,
            &Timings::default(),
        );
        let (bw, bh) = before.dimensions();
        let crop = beforeafter::align::common_crop(
            (bw, bh),
            &[(fit.matrix, after.dimensions())],
            f64::from(bw) / f64::from(bh),
        )
        .expect("a common crop");
        let region = Region::from_crop(crop);
        let sizes = render::output_sizes(crop[2], crop[3], &config.outputs.widths);
        let photos = [
            (&before, beforeafter::align::identity(), None),
            (&after, fit.matrix, fit.tone.clone()),
        ];
        for (p, (src, m, tone)) in photos.iter().enumerate() {
            let mut wanted: Vec<(String, Region, u32, u32)> = sizes
                .iter()
                .map(|&(w, h)| (format!("photo {w} px"), region, w, h))
                .collect();
            for kind in composite::Kind::ALL {
                let l = composite::layout(kind, &region, composite);
                wanted.push((
                    format!("{} panel", kind.name()),
                    l.region,
                    l.panels[p].2,
                    l.panels[p].3,
                ));
            }
            let t = Instant::now();
            let direct: Vec<RgbImage> = wanted
                .iter()
                .map(|(_, r, w, h)| render::render_photo(src, m, tone.as_ref(), r, *w, *h))
                .collect();
            t_direct += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let &(mw, mh) = sizes.last().unwrap();
            let master = Master::render(src, m, tone.as_ref(), &region, mw, mh);
            let derived: Vec<RgbImage> = wanted
                .iter()
                .map(|(_, r, w, h)| {
                    master
                        .derive(r, *w, *h)
                        .unwrap_or_else(|| render::render_photo(src, m, tone.as_ref(), r, *w, *h))
                })
                .collect();
            t_master += t.elapsed().as_secs_f64();
            let full = Master::render(src, m, tone.as_ref(), &region, crop[2], crop[3]);
            let refs: Vec<RgbImage> = wanted
                .iter()
                .map(|(_, r, w, h)| full.derive(r, *w, *h).expect("full size"))
                .collect();
            for (((name, ..), (a, b)), rf) in
                wanted.iter().zip(direct.iter().zip(&derived)).zip(&refs)
            {
                let name = format!(
                    "{name} ({})",
                    if p == 0 { "before" } else { "after, warped" }
                );
                let at = match rows.iter().position(|(n, _)| *n == name) {
                    Some(at) => at,
                    None => {
                        rows.push((name, Tally::default()));
                        rows.len() - 1
                    }
                };
                rows[at].1.psnr.push(psnr(a, b));
                rows[at].1.ssim.push(ssim(a, b));
                rows[at].1.reference[0].push(psnr(a, rf));
                rows[at].1.reference[1].push(psnr(b, rf));
            }
        }
    }
    println!(
        "| output | master vs source: min PSNR (dB) | mean PSNR | min SSIM | vs reference: from source, mean PSNR | from master, mean PSNR |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for (name, t) in &rows {
        let min = t.psnr.iter().copied().fold(f64::INFINITY, f64::min);
        let mean = t.psnr.iter().sum::<f64>() / t.psnr.len() as f64;
        let smin = t.ssim.iter().copied().fold(f64::INFINITY, f64::min);
        let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (r0, r1) = (avg(&t.reference[0]), avg(&t.reference[1]));
        println!("| {name} | {min:.1} | {mean:.1} | {smin:.4} | {r0:.1} | {r1:.1} |");
    }
    println!(
        "\nwall time, {pairs} pairs (the warp runs on every core): every output from the source {t_direct:.2} s, from a master {t_master:.2} s"
    );
}
