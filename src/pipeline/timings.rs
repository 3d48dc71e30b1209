//! CPU time spent per stage, summed over all threads, so benches and `--json` can show where a
//! run's time went (e.g. that alignment is not the bottleneck).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::Serialize;

use crate::render::Format;
use crate::render::composite::Kind;
use crate::render::outputs::{Clock, Step};

#[derive(Clone, Copy, Debug)]
pub enum Stage {
    Decode,
    Align,
    Tone,
    /// The quality gate's measures (blur, exposure, tilt, shine).
    Quality,
    Resample,
    Watermark,
    Encode,
    /// Handing files to the output folder (synced writes), on a thread of its own: waiting on
    /// the disk, not CPU, and overlapped with encoding.
    Write,
}

const COUNT: usize = 8;
const NAMES: [&str; COUNT] = [
    "decode",
    "align",
    "tone",
    "quality",
    "resample",
    "watermark",
    "encode",
    "write",
];

/// What an encoded file is, for the encode split: a slider photo (every width), a downloadable
/// composite (side by side and square), the social (OpenGraph) image, an index thumbnail.
pub const KINDS: [&str; 4] = ["photo", "composite", "social", "thumb"];
const FORMATS: [Format; 3] = [Format::Jpeg, Format::Webp, Format::Avif];

#[derive(Debug, Default)]
pub struct Timings {
    nanos: [AtomicU64; COUNT],
    /// Encode time per kind (index into [`KINDS`]) and format (index into `FORMATS`).
    encodes: [[AtomicU64; 3]; 4],
}

impl Timings {
    /// Run `f`, adding its duration to `stage`.
    pub fn time<T>(&self, stage: Stage, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        self.add_ns(stage, start.elapsed().as_nanos() as u64);
        out
    }

    fn add_ns(&self, stage: Stage, ns: u64) {
        self.nanos[stage as usize].fetch_add(ns, Ordering::Relaxed);
    }

    /// Encode CPU seconds per kind and format ("photo jpeg"), those that ran.
    pub fn encode_split(&self) -> BTreeMap<String, f64> {
        let mut split = BTreeMap::new();
        for (kind, per_format) in KINDS.iter().zip(&self.encodes) {
            for (format, ns) in FORMATS.iter().zip(per_format) {
                let ns = ns.load(Ordering::Relaxed);
                if ns > 0 {
                    let secs = (ns as f64 / 1e6).round() / 1e3;
                    split.insert(format!("{kind} {}", format.extension()), secs);
                }
            }
        }
        split
    }

    pub fn snapshot(&self) -> StageSeconds {
        StageSeconds(std::array::from_fn(|i| {
            self.nanos[i].load(Ordering::Relaxed) as f64 / 1e9
        }))
    }
}

/// Rendering's steps: an encoding counts as encode time, and in the split by kind and format.
impl Clock for Timings {
    fn add(&self, step: Step, ns: u64) {
        match step {
            Step::Resample => self.add_ns(Stage::Resample, ns),
            Step::Watermark => self.add_ns(Stage::Watermark, ns),
            Step::Write => self.add_ns(Stage::Write, ns),
            Step::Encode(kind, format) => {
                self.add_ns(Stage::Encode, ns);
                // Index into `KINDS`.
                let kind = match kind {
                    None => 0,
                    Some(Kind::Social) => 2,
                    Some(Kind::Thumb) => 3,
                    Some(_) => 1,
                };
                let at = FORMATS.iter().position(|&x| x == format).unwrap_or(0);
                self.encodes[kind][at].fetch_add(ns, Ordering::Relaxed);
            }
        }
    }
}

/// Seconds per stage.
#[derive(Clone, Debug, Default)]
pub struct StageSeconds(pub [f64; COUNT]);

impl StageSeconds {
    /// Seconds per stage from a list in stage order (a shard's record), missing ones 0.
    #[must_use]
    pub fn from_list(list: &[f64]) -> StageSeconds {
        StageSeconds(std::array::from_fn(|i| list.get(i).copied().unwrap_or(0.0)))
    }

    /// Another run's seconds added (the shards of one merge).
    pub fn add(&mut self, other: &StageSeconds) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}

impl Serialize for StageSeconds {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(COUNT))?;
        for (name, v) in NAMES.iter().zip(self.0) {
            map.serialize_entry(name, &((v * 1000.0).round() / 1000.0))?;
        }
        map.end()
    }
}

impl fmt::Display for StageSeconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total: f64 = self.0.iter().sum();
        let parts: Vec<String> = NAMES
            .iter()
            .zip(self.0)
            .map(|(n, v)| format!("{n} {v:.2} s ({:.0}%)", 100.0 * v / total.max(1e-9)))
            .collect();
        f.write_str(&parts.join(", "))
    }
}
