//! The audit trail, `<out>/manifest.json`: what was done to every published photo, with the
//! exact values the renderer applied (typed records, never free-form JSON), so `verify` can
//! re-derive every published image from the original photos and this file. It doubles as the
//! cache index: each case records the key of everything that shaped its outputs, so an unchanged
//! case is not decoded again.
//!
//! The output folder is uploaded as it is, so the public manifest names no patient: no source
//! paths (content hashes only), no case without consent, no held or failed case, no day. The
//! private records beside the photos, in `<input>/.beforeafter/`, keep what the clinic needs:
//! `held.json` (cases held for review or failed: why, and the figures a reviewer needs) and
//! `published.json` (the published cases with their source paths: the clinic's own audit trail).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::align::{Matrix, Model};
use crate::casefile::CaseMeta;
use crate::config::RenderSections;
use crate::disk;
use crate::error::Fatal;
use crate::render::outputs::{PlannedStage, ViewPlan};
use crate::render::params::RenderParams;
use crate::tone::ToneFit;

pub use crate::render::outputs::OutputEntry;

pub const FILE_NAME: &str = "manifest.json";
/// The folder in the input folder that keeps records of cases that were not published.
pub const HELD_DIR: &str = ".beforeafter";
/// Those records, relative to the input folder.
pub const HELD_FILE: &str = ".beforeafter/held.json";
/// The published cases with their source paths, relative to the input folder.
pub const PRIVATE_FILE: &str = ".beforeafter/published.json";
/// 2: typed `align`/`tone` records, `render` settings (the config sections), no source paths in
/// public. 3: `render` holds the parameters rendering applied ([`RenderParams`]). Cases are
/// recorded alike in both, so a schema-2 manifest is still read, reused and verified.
pub const SCHEMA: u32 = 3;
/// The oldest schema this version reads.
pub const OLDEST_SCHEMA: u32 = 2;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: u32,
    pub generator: String,
    /// What rendering applied to every published image: sizes and formats, the encoders'
    /// settings, labels, watermark and composites (absent in private records). With the
    /// original photos and the per-stage records, `verify` renders every output again from this
    /// alone.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "recorded_render"
    )]
    pub render: Option<RenderParams>,
    pub cases: Vec<CaseEntry>,
}

/// `render` as either schema wrote it.
#[derive(Deserialize)]
#[serde(untagged)]
enum RecordedRender {
    /// Schema 3: the parameters themselves.
    Applied(Box<RenderParams>),
    /// Schema 2: the config sections, `watermark.logo` the published copy of the mark.
    Sections(Box<RenderSections>),
}

fn recorded_render<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<RenderParams>, D::Error> {
    Ok(Option::<RecordedRender>::deserialize(d)?.map(|r| match r {
        RecordedRender::Applied(params) => *params,
        RecordedRender::Sections(s) => {
            let logo = Some(s.watermark.logo.as_str()).filter(|l| !l.is_empty());
            s.params(logo)
        }
    }))
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
    /// The public id: the case's web address (`case.toml` `slug`, or opaque).
    pub id: String,
    /// The case folder or flat-pair name in the input folder: private records only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub title: String,
    pub status: CaseStatus,
    pub published: bool,
    /// Flagged for review; with `published` too, it was published unconfirmed
    /// (`--publish-review`), and its page says so.
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
    /// The square and social images kept for staff in `<input>/.beforeafter/social/` (paths
    /// relative to it), when the public page does not offer them. Private records only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staff: Vec<OutputEntry>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StageEntry {
    pub stage: String,
    /// Path relative to the input folder: private records only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// BLAKE3 of the source file's bytes.
    pub source_hash: String,
    /// Pixel size after EXIF orientation.
    pub oriented_size: [u32; 2],
    /// The EXIF orientation that was applied (1 = none).
    pub orientation: u8,
    /// Colour management applied at ingest.
    pub colour: String,
    /// Time between the before photo and this one ("10 weeks"), from EXIF capture days; the
    /// days themselves never leave the input folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_before: Option<String>,
    /// Capture month ("YYYY-MM"), only with `[gallery] dates = "month"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured: Option<String>,
    /// Registration: the matrix applied, how it was found, and how sure it is.
    pub align: Option<AlignRecord>,
    /// The global photometric transform applied to every output of this photo.
    pub tone: Option<ToneFit>,
    /// How the photo was fitted to the before photo's frame when no alignment ran:
    /// the 2×3 matrix from this photo's pixels to the before photo's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framing: Option<Matrix>,
    /// `[x, y, w, h]` in the before photo's oriented full-resolution pixels.
    pub crop: [u32; 4],
    pub outputs: Vec<OutputEntry>,
    pub review: bool,
    pub reasons: Vec<String>,
    /// Everything the quality gate found about this photo (`warning`s included), per
    /// `[quality]` policy; `review` flags are also the `reasons`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<crate::flags::Flag>,
}

impl StageEntry {
    /// The matrix every output of this photo was rendered through: this photo's pixels to the
    /// before photo's.
    #[must_use]
    pub fn matrix(&self) -> Matrix {
        self.align
            .as_ref()
            .map(|a| a.matrix)
            .or(self.framing)
            .unwrap_or_else(crate::align::identity)
    }
}

/// What to render for one view, from its stages' records and their decoded photos (in series
/// order, the before photo first): the one plan a run renders and `verify` renders again, so
/// the renderer takes every value from the record.
pub fn view_plan<'a>(
    prefix: String,
    key: &'a str,
    crop: [u32; 4],
    stages: &[StageEntry],
    pixels: impl IntoIterator<Item = &'a image::RgbImage>,
    share: bool,
) -> ViewPlan<'a> {
    ViewPlan {
        prefix,
        key,
        crop,
        stages: (stages.iter().zip(pixels))
            .map(|(s, pixels)| PlannedStage {
                stage: s.stage.clone(),
                pixels,
                matrix: s.matrix(),
                tone: s.tone.clone(),
            })
            .collect(),
        share,
    }
}

/// How a stage was registered onto the before photo. `matrix` is exactly what the renderer
/// applied; the other figures say how it was found.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AlignRecord {
    /// "reference" (the before photo), the estimator's hypothesis chain, or a case.toml method.
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Model>,
    /// Full-resolution pixels of this photo -> the before photo's.
    pub matrix: Matrix,
    /// In [0, 1]; `None` when given by hand.
    pub confidence: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_deg: Option<f64>,
    /// Framing scale against the before photo, both at the working size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framing_scale: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inlier_fraction: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_size: Option<u32>,
    /// Root-mean-square landmark residual (pixels) for `[[align]]` landmarks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landmark_rms_px: Option<f64>,
    /// Approved by hand in `beforeafter review` ("Approve as shown"): when, in UTC (the public
    /// manifest keeps the month only). Who approved is not recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<String>,
}

impl AlignRecord {
    /// The before photo's own record.
    #[must_use]
    pub fn reference() -> AlignRecord {
        AlignRecord {
            method: "reference".into(),
            model: None,
            matrix: crate::align::identity(),
            confidence: Some(1.0),
            rotation_deg: None,
            framing_scale: None,
            inlier_fraction: None,
            overlap: None,
            working_size: None,
            landmark_rms_px: None,
            approved: None,
        }
    }
}

impl Manifest {
    pub fn new(cases: Vec<CaseEntry>) -> Manifest {
        Manifest {
            schema: SCHEMA,
            generator: format!("beforeafter {}", env!("CARGO_PKG_VERSION")),
            render: None,
            cases,
        }
    }

    /// The previous run's records: the published manifest in `out`, completed by the private
    /// records in `input` (source paths of published cases, held and failed cases). What is
    /// absent or unreadable counts as empty (its cases are simply redone), with a note why.
    pub fn load(out: &Path, input: &Path) -> (Manifest, Vec<String>) {
        let (mut m, public) = Manifest::load_file(&out.join(FILE_NAME));
        let (private, private_note) = Manifest::load_file(&input.join(PRIVATE_FILE));
        let private = private.by_id();
        for case in &mut m.cases {
            if let Some(p) = private.get(case.id.as_str()).filter(|p| p.key == case.key) {
                *case = (*p).clone();
            }
        }
        let (held, held_note) = Manifest::load_file(&input.join(HELD_FILE));
        let ids: std::collections::HashSet<String> = m.cases.iter().map(|c| c.id.clone()).collect();
        m.cases.extend(
            held.cases
                .into_iter()
                .filter(|c| !c.published && !ids.contains(&c.id)),
        );
        let notes = [public, private_note, held_note].into_iter().flatten();
        (m, notes.collect())
    }

    /// The private records of published cases (with their source paths), or none.
    #[must_use]
    pub fn load_private(input: &Path) -> Manifest {
        Manifest::load_file(&input.join(PRIVATE_FILE)).0
    }

    fn load_file(path: &Path) -> (Manifest, Option<String>) {
        let Ok(text) = std::fs::read_to_string(path) else {
            return (Manifest::default(), None);
        };
        match serde_json::from_str::<Manifest>(&text) {
            Ok(m) if (OLDEST_SCHEMA..=SCHEMA).contains(&m.schema) => (m, None),
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

    /// Write the published cases to `out/manifest.json` without their source paths, then the
    /// private records in `input`. Files whose bytes would not change are not rewritten. The
    /// manifest failing is fatal; the private records failing (a read-only share, say) only
    /// costs redoing held cases next time, so it comes back as a note.
    pub fn save(
        &self,
        out: &Path,
        input: &Path,
        render: &RenderParams,
    ) -> Result<Option<String>, Fatal> {
        let (published, held): (Vec<CaseEntry>, Vec<CaseEntry>) =
            self.cases.iter().cloned().partition(|c| c.published);
        let mut public = Manifest::new(published.iter().map(CaseEntry::public).collect());
        public.render = Some(render.clone());
        disk::write_if_changed(out, FILE_NAME, &public.to_json()?)?;
        // Not `Fatal`'s own words: those speak of the output folder.
        let note = |e: Fatal| {
            let what = match e {
                Fatal::Output { path, cause } => format!("{}: {cause}", path.display()),
                other => other.to_string(),
            };
            format!(
                "cannot keep the private records in the photo folder ({what}); held cases will be redone next run"
            )
        };
        for (rel, cases) in [(HELD_FILE, held), (PRIVATE_FILE, published)] {
            if cases.is_empty() && !input.join(rel).exists() {
                continue;
            }
            let bytes = Manifest::new(cases).to_json()?;
            if let Err(e) = disk::write_if_changed(input, rel, &bytes) {
                return Ok(Some(note(e)));
            }
        }
        Ok(None)
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

    /// Every case by id, for many lookups (a gallery may hold 100 000 cases).
    #[must_use]
    pub fn by_id(&self) -> std::collections::HashMap<&str, &CaseEntry> {
        self.cases.iter().map(|c| (c.id.as_str(), c)).collect()
    }

    /// Newer records replace the ones with their id; the others are added.
    pub fn update(&mut self, newer: impl IntoIterator<Item = CaseEntry>) {
        let mut at: std::collections::HashMap<String, usize> = (self.cases.iter().enumerate())
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        for entry in newer {
            match at.get(&entry.id) {
                Some(&i) => self.cases[i] = entry,
                None => {
                    at.insert(entry.id.clone(), self.cases.len());
                    self.cases.push(entry);
                }
            }
        }
    }

    /// Every output file this manifest owns.
    pub fn output_paths(&self) -> impl Iterator<Item = &str> {
        self.cases.iter().flat_map(CaseEntry::output_paths)
    }
}

/// Where a case's photos are in the input folder: all that its private record adds to its
/// public one (so a shard keeps its published cases' paths apart from the output folder).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SourcePaths {
    pub id: String,
    pub case: Option<String>,
    /// Per view, per stage.
    pub stages: Vec<Vec<Option<String>>>,
    /// Per view, the images kept for staff ([`ViewEntry::staff`]).
    #[serde(default)]
    pub staff: Vec<Vec<OutputEntry>>,
}

impl CaseEntry {
    /// The paths [`CaseEntry::public`] leaves out.
    #[must_use]
    pub fn source_paths(&self) -> SourcePaths {
        SourcePaths {
            id: self.id.clone(),
            case: self.source.clone(),
            stages: (self.views.iter())
                .map(|v| v.stages.iter().map(|s| s.source.clone()).collect())
                .collect(),
            staff: self.views.iter().map(|v| v.staff.clone()).collect(),
        }
    }

    /// A public entry made private again with its [`SourcePaths`].
    #[must_use]
    pub fn with_source_paths(mut self, paths: &SourcePaths) -> CaseEntry {
        self.source.clone_from(&paths.case);
        for (v, staff) in self.views.iter_mut().zip(&paths.staff) {
            v.staff.clone_from(staff);
        }
        for (v, sources) in self.views.iter_mut().zip(&paths.stages) {
            for (s, source) in v.stages.iter_mut().zip(sources) {
                s.source.clone_from(source);
            }
        }
        self
    }

    /// This entry as the output folder may show it: no source paths.
    #[must_use]
    pub fn public(&self) -> CaseEntry {
        let mut c = self.clone();
        c.source = None;
        for v in &mut c.views {
            v.staff.clear();
        }
        for s in c.views.iter_mut().flat_map(|v| v.stages.iter_mut()) {
            s.source = None;
            // When a case was approved by hand, to the month: no day leaves the input folder.
            if let Some(when) = s.align.as_mut().and_then(|a| a.approved.as_mut()) {
                when.truncate(7);
            }
        }
        c
    }

    /// Every flag of every photo of the case.
    pub fn flags(&self) -> Vec<crate::flags::Flag> {
        let stages = self.views.iter().flat_map(|v| &v.stages);
        stages.flat_map(|s| s.flags.iter().cloned()).collect()
    }

    /// The images kept for staff, relative to `<input>/.beforeafter/social/`.
    pub fn staff_paths(&self) -> impl Iterator<Item = &str> {
        (self.views.iter()).flat_map(|v| v.staff.iter().map(|o| o.path.as_str()))
    }

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
