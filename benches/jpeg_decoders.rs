//! Temporary comparison (issue 32 item 1): today's strict walk + zune-jpeg decode, against
//! zune-jpeg strict and libjpeg-turbo (warnings as errors), on the 12-MP throughput set: CPU time
//! per photo on one thread, and PSNR of each candidate's pixels against today's.
#[path = "support/mod.rs"]
mod support;
#[path = "support/jpeg_candidates.rs"]
mod candidates;
#[path = "support/metrics.rs"]
mod metrics;

use std::path::Path;

/// CPU time of this thread, in ms: the machine is shared, so wall time drifts with the load.
fn cpu_ms() -> f64 {
    use turbojpeg::libc;
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

use beforeafter::ingest::{self, IngestParams};

/// CPU time of the whole process (libheif's threads too), in ms.
fn process_ms() -> f64 {
    use turbojpeg::libc;
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

fn heic(params: &IngestParams) {
    for (name, path) in [("pug.heic", "tests/fixtures/heic/pug.heic"), ("arrow.heic", "tests/fixtures/heic/arrow.heic"), ("pug.jpg (heif-convert -q 92)", "/tmp/hj/pug.jpg")] {
        let bytes = std::fs::read(path).unwrap();
        let p = Path::new(path);
        let (mut cpu, mut wall) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..5 {
            let (c, w) = (process_ms(), std::time::Instant::now());
            std::hint::black_box(ingest::decode(&bytes, p, params).unwrap());
            cpu = cpu.min(process_ms() - c);
            wall = wall.min(w.elapsed().as_secs_f64() * 1e3);
        }
        println!("| {name} | CPU {cpu:.0} ms | wall {wall:.0} ms |");
    }
}

fn best_ms<T>(f: impl Fn() -> T) -> f64 {
    (0..5)
        .map(|_| {
            let t = cpu_ms();
            std::hint::black_box(f());
            cpu_ms() - t
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let params = IngestParams { max_pixels: 100_000_000, max_file_bytes: 100_000_000 };
    if std::env::var_os("HEIC_ONLY").is_some() {
        return heic(&params);
    }
    let dir = support::pairs(12);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten()
        .filter(|e| e.path().is_dir())
        .flat_map(|e| ["before.jpg", "after.jpg"].map(|n| e.path().join(n)))
        .collect();
    files.sort();
    if let Some(extra) = std::env::var_os("EXTRA_JPEG") { files.push(extra.into()); }
    println!("| file | walk+zune (today) | walk only | zune only | zune strict | turbo strict | PSNR zune strict | PSNR turbo |");
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let p = Path::new("x.jpg");
        let today = ingest::decode(&bytes, p, &params).unwrap().pixels;
        let t_today = best_ms(|| ingest::decode(&bytes, p, &params).unwrap());
        let t_walk = best_ms(|| ingest::check_complete(&bytes, p, &params).unwrap());
        let t_zune = best_ms(|| ingest::decode_checked(&bytes, p, &params, true).unwrap());
        let t_zs = best_ms(|| candidates::zune_strict(&bytes).unwrap());
        let t_tj = best_ms(|| candidates::turbo_strict(&bytes).unwrap());
        let zs = candidates::zune_strict(&bytes).unwrap();
        let tj = candidates::turbo_strict(&bytes).unwrap();
        println!("| {} | {t_today:.1} | {t_walk:.1} | {t_zune:.1} | {t_zs:.1} | {t_tj:.1} | {:.2} | {:.2} |",
            f.strip_prefix(&dir).unwrap_or(f).display(),
            metrics::psnr(&today, &zs), metrics::psnr(&today, &tj));
    }
}
