//! The audit trail, `<out>/manifest.json`: what was done to every published photo, and why a
//! case was held back. It doubles as the cache index: each case records the key of everything
//! that shaped its outputs, so an unchanged case is not decoded again.
//!
//! Cases without marketing consent are left out entirely: the output folder is uploaded as is.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::discover::CaseMeta;
use crate::error::Fatal;
use crate::output;

pub const FILE_NAME: &str = "manifest.json";
pub const SCHEMA: u32 = 1;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: u32,
    pub generator: String,
    pub cases: Vec<CaseEntry>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Published,
    Review,
    Failed,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseEntry {
    pub id: String,
    pub title: String,
    pub status: CaseStatus,
    pub published: bool,
    pub review: bool,
    pub reasons: Vec<String>,
    /// Hash of the inputs, settings and tool version that shaped this case's outputs.
    pub key: String,
    pub meta: CaseMeta,
    pub views: Vec<ViewEntry>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ViewEntry {
    pub view: String,
    pub stages: Vec<StageEntry>,
    /// Before|after composites (side by side, square, social).
    #[serde(default)]
    pub composites: Vec<OutputEntry>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StageEntry {
    pub stage: String,
    /// Path relative to the input folder.
    pub source: String,
    /// BLAKE3 of the source file's bytes.
    pub source_hash: String,
    /// Pixel size after EXIF orientation.
    pub oriented_size: [u32; 2],
    /// The EXIF orientation that was applied (1 = none).
    pub orientation: u8,
    /// Colour management applied at ingest.
    pub colour: String,
    /// Capture month ("YYYY-MM") from EXIF; the full date is never written out.
    pub captured: Option<String>,
    /// Registration: matrix, confidence, method. `null` until that stage runs.
    pub align: Option<serde_json::Value>,
    /// Photometric normalization parameters. `null` until that stage runs.
    pub tone: Option<serde_json::Value>,
    /// How the photo was fitted to the before photo's frame when no alignment ran:
    /// the 2×3 matrix from this photo's pixels to the before photo's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framing: Option<[[f64; 3]; 2]>,
    /// `[x, y, w, h]` in the before photo's oriented full-resolution pixels.
    pub crop: [u32; 4],
    pub outputs: Vec<OutputEntry>,
    pub review: bool,
    pub reasons: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OutputEntry {
    /// Relative to the output folder, `/`-separated.
    pub path: String,
    pub width: u32,
    pub height: u32,
    pub format: String,
    pub watermarked: bool,
    /// For composites: "side", "square" or "social".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl Manifest {
    pub fn new(cases: Vec<CaseEntry>) -> Manifest {
        Manifest {
            schema: SCHEMA,
            generator: format!("beforeafter {}", env!("CARGO_PKG_VERSION")),
            cases,
        }
    }

    /// The previous run's manifest; an empty one when absent or unreadable (then every case is
    /// simply redone), with a note why.
    pub fn load(out: &Path) -> (Manifest, Option<String>) {
        let path = out.join(FILE_NAME);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return (Manifest::default(), None);
        };
        match serde_json::from_str::<Manifest>(&text) {
            Ok(m) if m.schema == SCHEMA => (m, None),
            Ok(m) => (
                Manifest::default(),
                Some(format!(
                    "{}: schema {} is not {SCHEMA}; redoing every case",
                    path.display(),
                    m.schema
                )),
            ),
            Err(e) => (
                Manifest::default(),
                Some(format!(
                    "{}: unreadable ({e}); redoing every case",
                    path.display()
                )),
            ),
        }
    }

    pub fn save(&self, out: &Path) -> Result<(), Fatal> {
        let mut json =
            serde_json::to_string_pretty(self).map_err(|e| Fatal::Other(e.to_string()))?;
        json.push('\n');
        output::write_atomic(out, FILE_NAME, json.as_bytes())
    }

    pub fn case(&self, id: &str) -> Option<&CaseEntry> {
        self.cases.iter().find(|c| c.id == id)
    }

    /// Every output file this manifest owns.
    pub fn output_paths(&self) -> impl Iterator<Item = &str> {
        self.cases.iter().flat_map(CaseEntry::output_paths)
    }
}

impl CaseEntry {
    pub fn output_paths(&self) -> impl Iterator<Item = &str> {
        self.views.iter().flat_map(|v| {
            v.stages
                .iter()
                .flat_map(|s| s.outputs.iter())
                .chain(v.composites.iter())
                .map(|o| o.path.as_str())
        })
    }
}
