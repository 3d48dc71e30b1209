//! What one photo costs to decode, per photo and in CPU time (user + system of every thread, so a
//! machine shared with other work does not inflate it): each of the throughput set's 24 12-MP
//! JPEGs (strict check and decode, as a run reads them), and a real iPhone 13 Pro HEIC against
//! the JPEG of the same photo. Prints min (and median) of `RUNS` decodes per photo. For the
//! JPEGs the one-pass decoder and the strict check + zune-jpeg it replaced run interleaved, and
//! their pixels are compared (PSNR, samples that differ).
//! `cargo bench --bench decode_cost` (`-- --heic` for the iPhone pair only).

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use beforeafter::ingest::{self, IngestParams};

const RUNS: usize = 7;
const PARAMS: IngestParams = IngestParams {
    max_pixels: 100_000_000,
    max_file_bytes: 100_000_000,
};

/// CPU time of the whole process so far (all threads, user + system), in milliseconds.
fn cpu_ms() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &raw mut t) };
    t.tv_sec as f64 * 1e3 + t.tv_nsec as f64 / 1e6
}

/// Min and median CPU milliseconds of decoding `bytes` (named `name`) `RUNS` times.
fn cost(bytes: &[u8], name: &str) -> (f64, f64) {
    let path = Path::new(name);
    ingest::decode(bytes, path, &PARAMS).expect("the bench photo decodes");
    let mut ms: Vec<f64> = (0..RUNS)
        .map(|_| once(ingest::decode, bytes, path))
        .collect();
    ms.sort_by(f64::total_cmp);
    (ms[0], ms[RUNS / 2])
}

type Decode =
    fn(&[u8], &Path, &IngestParams) -> Result<ingest::Photo, beforeafter::error::PhotoError>;

/// CPU milliseconds of one decode.
fn once(decode: Decode, bytes: &[u8], path: &Path) -> f64 {
    let start = cpu_ms();
    let photo = decode(bytes, path, &PARAMS).unwrap();
    let took = cpu_ms() - start;
    drop(photo);
    took
}

/// The one-pass decoder against the strict check + zune-jpeg, runs interleaved so that the
/// machine's load hits both alike: min CPU ms of each, and how far apart their pixels are.
fn a_b(bytes: &[u8], name: &str) -> (f64, f64, f64, usize) {
    let path = Path::new(name);
    let new = ingest::decode(bytes, path, &PARAMS).unwrap().pixels;
    let old = ingest::decode_two_pass(bytes, path, &PARAMS)
        .unwrap()
        .pixels;
    let (mut a, mut b) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..RUNS {
        a = a.min(once(ingest::decode, bytes, path));
        b = b.min(once(ingest::decode_two_pass, bytes, path));
    }
    let differ = new.iter().zip(old.iter()).filter(|(x, y)| x != y).count();
    let se: f64 = (new.iter().zip(old.iter()))
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum();
    let psnr = 10.0 * (255.0f64.powi(2) / (se / new.len() as f64)).log10();
    (a, b, psnr, differ)
}

fn throughput_set() {
    let dir = support::pairs(12);
    let (mut news, mut olds) = (Vec::new(), Vec::new());
    println!(
        "| photo | MB | one pass, CPU ms min | check + zune-jpeg, CPU ms min | PSNR dB | samples differing |"
    );
    println!("|---|---|---|---|---|---|");
    for i in 0..12 {
        for side in ["before", "after"] {
            let rel = format!("case-{i:02}/{side}.jpg");
            let bytes = std::fs::read(dir.join(&rel)).unwrap();
            let (new, old, psnr, differ) = a_b(&bytes, &rel);
            let mb = bytes.len() as f64 / 1e6;
            println!("| {rel} | {mb:.1} | {new:.1} | {old:.1} | {psnr:.1} | {differ} |");
            news.push(new);
            olds.push(old);
        }
    }
    for (what, v) in [("one pass", &mut news), ("check + zune-jpeg", &mut olds)] {
        v.sort_by(f64::total_cmp);
        let under = v.iter().filter(|&&ms| ms <= 100.0).count();
        println!(
            "{what}: 24 JPEGs of 12 MP, min CPU per photo {:.1}–{:.1} ms, median {:.1} ms, {under} of 24 at or under 100 ms",
            v[0],
            v[v.len() - 1],
            v[v.len() / 2]
        );
    }
}

/// tests/fixtures/heic/pug.heic and its JPEG, made once with heif-convert -q 92 and cached.
fn iphone_pair() -> Option<(PathBuf, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let heic = root.join("tests/fixtures/heic/pug.heic");
    let jpeg = support::cache_dir().join("pug-heif-convert-q92.jpg");
    let made = jpeg.is_file()
        || std::process::Command::new("heif-convert")
            .args(["-q", "92"])
            .arg(&heic)
            .arg(&jpeg)
            .status()
            .is_ok_and(|s| s.success());
    if ingest::heif::available().is_err() || !made {
        eprintln!("iPhone HEIC SKIPPED: needs libheif and heif-convert (libheif-examples)");
        return None;
    }
    Some((heic, jpeg))
}

fn iphone() {
    let Some((heic, jpeg)) = iphone_pair() else {
        return;
    };
    let (heic, jpeg) = (std::fs::read(heic).unwrap(), std::fs::read(jpeg).unwrap());
    let (hmin, hmed) = cost(&heic, "pug.heic");
    // As a run decodes it: on a worker of a pool of several threads, where libheif decodes the
    // tiles on the calling thread (`ingest::heif`).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let (pmin, pmed) = pool.install(|| cost(&heic, "pug.heic"));
    let (jmin, jmed) = cost(&jpeg, "pug.jpg");
    println!(
        "| pug.heic (iPhone 13 Pro, 48 tiles), alone: libheif's tile threads | {hmin:.1} | {hmed:.1} |"
    );
    println!(
        "| pug.heic in a run's thread pool: tiles on the calling thread | {pmin:.1} | {pmed:.1} |"
    );
    println!("| pug.jpg (the same photo, heif-convert -q 92) | {jmin:.1} | {jmed:.1} |");
    println!(
        "HEIC / JPEG per core: {:.2}× alone, {:.2}× in a pool (medians)",
        hmed / jmed,
        pmed / jmed
    );
}

fn main() {
    let heic_only = std::env::args().any(|a| a == "--heic");
    if !heic_only {
        throughput_set();
    }
    iphone();
}
