//! Ground truth on real photographs, measured on what the real binary publishes (shared by
//! `tests/it/truth.rs` and `benches/truth.rs`).
//!
//! From one real photo (the scene, from `tests/fixtures/real/`) a pair is cut whose truth is
//! exact: the before photo is an axis-aligned window of the scene; the after photo sees the same
//! scene through a known similarity (rotation, scale, shift; sometimes at a higher resolution),
//! after a simulated treatment (a stipple of dark pigment dots in an ellipse) and under a known
//! global light change (per-channel gain in linear light, a gamma on encoded values, or one of
//! the changes of `light.rs` the fit's model cannot represent), with noise
//! and JPEG. The pairs are written as case folders, `beforeafter batch` runs once, and every
//! measure is taken on the files it wrote into `--out`: the slider photos and the side composite,
//! against the truth rendered onto the same grid.
#![allow(dead_code)]

pub mod light;
mod measure;
mod run;
pub mod scene;
mod shift;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

// The test and the bench each use part of this.
#[allow(unused_imports)]
pub use measure::{Measures, measure, published_like};
#[allow(unused_imports)]
pub use run::{Published, find_case, read_published};
#[allow(unused_imports)]
pub use scene::{Light, LightKind, PHOTOS, Pair, load_scene, make, spec};

use run::{held_reasons, run_batch, write_cases};
use scene::Linear;

/// `variants` pairs of each of `photos`, each scene decoded once.
#[must_use]
pub fn generate(photos: &[&'static str], variants: u64) -> Vec<Pair> {
    let mut scenes: HashMap<&str, Arc<Linear>> = HashMap::new();
    let mut pairs = Vec::new();
    for &photo in photos {
        let scene = scenes.entry(photo).or_insert_with(|| load_scene(photo));
        for v in 0..variants {
            pairs.push(make(&spec(photo, v), Arc::clone(scene)));
        }
    }
    pairs
}

/// [`generate`], each after photo shot under a light change of `kind` instead.
#[must_use]
pub fn generate_lit(photos: &[&'static str], variants: u64, kind: LightKind) -> Vec<Pair> {
    let mut scenes: HashMap<&str, Arc<Linear>> = HashMap::new();
    let mut pairs = Vec::new();
    for &photo in photos {
        let scene = scenes.entry(photo).or_insert_with(|| load_scene(photo));
        for v in 0..variants {
            let mut spec = spec(photo, v);
            spec.light = Light::of_kind(spec.light, kind, spec.seed);
            pairs.push(make(&spec, Arc::clone(scene)));
        }
    }
    pairs
}

/// What [`evaluate`] found: per pair its measures or what is missing or malformed in the output.
pub struct Evaluation {
    pub results: Vec<Result<Measures, String>>,
    /// Wall time of the batch run alone.
    pub batch_seconds: f64,
}

/// Write the pairs under `dir/in`, run `bin` into `dir/out` once, and measure every pair.
pub fn evaluate(pairs: &[Pair], bin: &Path, dir: &Path) -> Evaluation {
    let (input, out) = (dir.join("in"), dir.join("out"));
    write_cases(pairs, &input);
    let t = std::time::Instant::now();
    let manifest = run_batch(bin, &input, &out);
    let batch_seconds = t.elapsed().as_secs_f64();
    let manifest = match manifest {
        Ok(m) => m,
        Err(e) => {
            return Evaluation {
                results: pairs.iter().map(|_| Err(e.clone())).collect(),
                batch_seconds,
            };
        }
    };
    let results = pairs
        .iter()
        .map(|pair| {
            let case = find_case(&manifest, &pair.name)
                .ok_or_else(|| format!("{}: {}", pair.name, held_reasons(&input, &pair.name)))?;
            let published =
                read_published(&out, case).map_err(|e| format!("{}: {e}", pair.name))?;
            measure(pair, &published).map_err(|e| format!("{}: {e}", pair.name))
        })
        .collect();
    Evaluation {
        results,
        batch_seconds,
    }
}
