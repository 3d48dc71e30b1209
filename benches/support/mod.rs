//! Bench inputs: realistic 12-MP (4032×3024) before/after pairs made by the synthetic scalp
//! renderer, cached under `target/bench-input/` because rendering them takes minutes.
#![allow(dead_code)]

use std::path::PathBuf;

use beforeafter::synth::{self, Light, Scene, Shot, View};

pub const W: u32 = 4032;
pub const H: u32 = 3024;

pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-input")
}

/// A folder of `n` cases, each `case-NN/before.jpg` + `after.jpg` at 12 MP, created once.
/// The bench clinic's settings, written into every bench input folder: the photos are
/// synthetic, so every case may be published, under its folder name.
pub const BENCH_CLINIC: &str = "[cases]\ndefault_consent = true\nids = \"folder\"\n";

/// Write [`BENCH_CLINIC`] as `dir/beforeafter.toml`.
pub fn clinic_config(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("beforeafter.toml"), BENCH_CLINIC).unwrap();
}

pub fn pairs(n: usize) -> PathBuf {
    let dir = cache_dir().join("pairs-12mp");
    clinic_config(&dir);
    let views = [View::Crown, View::Top, View::Front, View::Side];
    for i in 0..n {
        let case = dir.join(format!("case-{i:02}"));
        if case.join("after.jpg").is_file() {
            continue;
        }
        std::fs::create_dir_all(&case).unwrap();
        let scene = Scene::new(views[i % views.len()], 1000 + i as u64);
        let before = Shot::reference(&scene, W);
        let mut after = Shot::moved(&scene, W, H, 4.0 - i as f64, 1.05, [0.03, -0.02]);
        after.treated = true;
        after.light = Light {
            gain: [1.1, 1.0, 0.9],
            gamma: 1.05,
        };
        eprintln!("rendering bench pair {i} at {W}×{H} (cached afterwards)");
        let b = synth::render(&scene, &before);
        let a = synth::render(&scene, &after);
        std::fs::write(
            case.join("before.jpg"),
            synth::jpeg_with_exif(&b, 1, 92, None),
        )
        .unwrap();
        std::fs::write(
            case.join("after.jpg"),
            synth::jpeg_with_exif(&a, 1, 92, None),
        )
        .unwrap();
    }
    dir
}

/// One cached 12-MP JPEG's path.
pub fn one_photo() -> PathBuf {
    pairs(1).join("case-00/before.jpg")
}

/// Peak resident memory of this process so far, in MiB (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
