//! The audit trail, `<out>/manifest.json`: what was done to every published photo. It doubles as
//! the cache index: each case records the key of everything that shaped its outputs, so an
//! unchanged case is not decoded again.
//!
//! The output folder is uploaded as it is, so it names only published cases. The records of
//! cases held for review or failed (why, and the alignment figures a reviewer needs) are kept in
//! `<input>/.beforeafter/held.json`, beside the patients' photos, which are private anyway.
//! Cases without marketing consent are recorded nowhere.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::discover::CaseMeta;
use crate::error::Fatal;
use crate::output;

pub const FILE_NAME: &str = "manifest.json";
/// The folder in the input folder that keeps records of cases that were not published.
pub const HELD_DIR: &str = ".beforeafter";
/// Those records, relative to the input folder.
pub const HELD_FILE: &str = ".beforeafter/held.json";
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

    /// The previous run's records: the published manifest in `out` and the held records in
    /// `input`. What is absent or unreadable counts as empty (its cases are simply redone), with
    /// a note why.
    pub fn load(out: &Path, input: &Path) -> (Manifest, Vec<String>) {
        let (mut m, public) = Manifest::load_file(&out.join(FILE_NAME));
        let (held, private) = Manifest::load_file(&input.join(HELD_FILE));
        let ids: std::collections::HashSet<String> = m.cases.iter().map(|c| c.id.clone()).collect();
        m.cases.extend(
            held.cases
                .into_iter()
                .filter(|c| !c.published && !ids.contains(&c.id)),
        );
        (m, public.into_iter().chain(private).collect())
    }

    fn load_file(path: &Path) -> (Manifest, Option<String>) {
        let Ok(text) = std::fs::read_to_string(path) else {
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

    /// Write the published cases to `out/manifest.json`, then the others to the held records in
    /// `input`. The manifest failing is fatal; the held records failing (a read-only share, say)
    /// only costs redoing those cases next time, so it comes back as a note.
    pub fn save(&self, out: &Path, input: &Path) -> Result<Option<String>, Fatal> {
        let (published, held): (Vec<CaseEntry>, Vec<CaseEntry>) =
            self.cases.iter().cloned().partition(|c| c.published);
        output::write_atomic(out, FILE_NAME, &Manifest::new(published).to_json()?)?;
        let held_path = input.join(HELD_FILE);
        if held.is_empty() && !held_path.exists() {
            return Ok(None);
        }
        let note = |e: Fatal| {
            format!("cannot keep the records of held cases ({e}); they will be redone next run")
        };
        let bytes = Manifest::new(held).to_json()?;
        Ok(output::write_if_changed(input, HELD_FILE, &bytes)
            .err()
            .map(note))
    }

    fn to_json(&self) -> Result<Vec<u8>, Fatal> {
        let mut json =
            serde_json::to_string_pretty(self).map_err(|e| Fatal::Other(e.to_string()))?;
        json.push('\n');
        Ok(json.into_bytes())
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
