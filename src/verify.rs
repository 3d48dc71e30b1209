//! `beforeafter verify`: anyone holding the original photos can check a published gallery.
//!
//! From the originals and `manifest.json` alone (each photo's matrix, crop and tone fit, the
//! render settings, the published watermark), every published image is rendered again through
//! the same code a batch uses ([`render_view`]) and compared with the file in the output folder:
//! byte for byte, or, where the bytes differ (another CPU's SIMD paths can round differently),
//! pixel by pixel within [`TOLERANCE`]. It also checks that every original still has its
//! recorded content hash, that every listed file exists with its recorded size, that no image
//! carries metadata, and that no image in the folder is unaccounted for.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{ExitCode, Fatal};
use crate::ingest::{self, IngestParams, Photo};
use crate::manifest::{self, CaseEntry, Manifest, StageEntry, ViewEntry};
use crate::render::composite::Kind;
use crate::render::outputs::{Clock, Renderer, SHARE_KINDS, Sink, Step, ViewOutputs, render_view};
use crate::render::params::RenderParams;
use crate::render::watermark::Watermark;

/// Where bytes differ, the largest mean absolute difference (levels, 0–255) any 8×8 block of
/// any channel may have. Rounding differences of another machine stay well below it; a
/// retouched region of a few blocks does not.
pub const TOLERANCE: f64 = 2.0;

/// What `verify` found.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub cases: usize,
    /// Published images rendered again and compared.
    pub compared: usize,
    pub identical: usize,
    pub within_tolerance: usize,
    /// Everything that does not hold, each naming the file.
    pub problems: Vec<Finding>,
    pub notes: Vec<String>,
    /// Who signed the manifest and when, when it is signed (`beforeafter keys new`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// The published file, or the original photo (relative to its folder).
    pub path: String,
    pub problem: String,
}

impl Report {
    /// Done when everything holds, Attention when something differs.
    #[must_use]
    pub fn outcome(&self) -> ExitCode {
        ExitCode::attention_if(!self.problems.is_empty())
    }

    /// [`Report::outcome`] as a bare code, for `publish`'s live check.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        self.outcome().code()
    }

    fn problem(&mut self, path: impl Into<String>, problem: impl Into<String>) {
        self.problems.push(Finding {
            path: path.into(),
            problem: problem.into(),
        });
    }
}

/// Check the gallery in `out` against the original photos in `input`. `progress` is called
/// with each case's id as it is finished.
pub fn verify(input: &Path, out: &Path, progress: &(dyn Fn(&str) + Sync)) -> Result<Report, Fatal> {
    let manifest = load_manifest(out)?;
    let mut report = Report::default();
    let ours = format!("beforeafter {}", env!("CARGO_PKG_VERSION"));
    if manifest.generator != ours {
        report.notes.push(format!(
            "the gallery was made by {}, this is {ours}: files may differ where rendering changed",
            manifest.generator
        ));
    }
    let settings = Recorded::from(&manifest, out)?;
    let originals = Originals::scan(input)?;
    let private = Manifest::load_private(input);
    let private = private.by_id();
    let cases: Vec<&CaseEntry> = manifest.cases.iter().filter(|c| c.published).collect();
    report.cases = cases.len();
    let results: Vec<Report> = cases
        .par_iter()
        .map(|case| {
            let r = verify_case(
                case,
                private.get(case.id.as_str()).copied(),
                &originals,
                out,
                &settings,
            );
            progress(&case.id);
            r
        })
        .collect();
    for r in results {
        report.compared += r.compared;
        report.identical += r.identical;
        report.within_tolerance += r.within_tolerance;
        report.problems.extend(r.problems);
    }
    check_files(out, &manifest, &settings, &mut report);
    let signed = crate::sign::check::signature(input, out);
    report.signature = signed.said;
    for (path, problem) in signed.problems {
        report.problem(path, problem);
    }
    Ok(report)
}

fn load_manifest(out: &Path) -> Result<Manifest, Fatal> {
    let path = out.join(manifest::FILE_NAME);
    let fatal = |message: String| Fatal::Input {
        path: path.clone(),
        message,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        fatal(format!(
            "{e}: give the folder a beforeafter run wrote with --out (it holds manifest.json)"
        ))
    })?;
    // The schema first, so a manifest another version wrote is named as such, not as unreadable.
    #[derive(serde::Deserialize)]
    struct Made {
        schema: u32,
        generator: String,
    }
    let made: Made =
        serde_json::from_str(&text).map_err(|e| fatal(format!("not a readable manifest: {e}")))?;
    if !(manifest::OLDEST_SCHEMA..=manifest::SCHEMA).contains(&made.schema) {
        return Err(fatal(format!(
            "made by {} (manifest schema {}), which this version cannot read (schemas {} to {}); \
             verify it with that version, or run `beforeafter batch` with this one again",
            made.generator,
            made.schema,
            manifest::OLDEST_SCHEMA,
            manifest::SCHEMA
        )));
    }
    let m: Manifest =
        serde_json::from_str(&text).map_err(|e| fatal(format!("not a readable manifest: {e}")))?;
    if m.render.is_none() {
        return Err(fatal(format!(
            "made by {} without render settings; run `beforeafter batch` with this version again",
            m.generator
        )));
    }
    Ok(m)
}

/// What every image is rendered again with: the parameters the manifest records, the
/// published watermark, and decode limits no original of a published case can exceed.
struct Recorded {
    render: RenderParams,
    watermark: Option<Watermark>,
    ingest: IngestParams,
}

impl Recorded {
    fn from(manifest: &Manifest, out: &Path) -> Result<Recorded, Fatal> {
        let render = manifest.render.clone().expect("checked by load_manifest");
        let logo = match render.watermark.as_ref().filter(|w| !w.logo.is_empty()) {
            Some(w) => {
                let logo = crate::disk::resolve(out, &w.logo)?;
                Some(std::fs::read(&logo).map_err(|e| Fatal::Input {
                    path: logo.clone(),
                    message: format!("{e}: the manifest's watermark is missing from the gallery"),
                })?)
            }
            None => None,
        };
        let watermark =
            (render.watermark.as_ref()).and_then(|w| Watermark::new(w, logo.as_deref()));
        // Limits are the clinic's; the originals were within them when they were published, so
        // only the largest `[limits]` allows apply here.
        let ingest = IngestParams {
            max_pixels: 1000 * 1_000_000,
            max_file_bytes: 2000 * 1_000_000,
        };
        Ok(Recorded {
            render,
            watermark,
            ingest,
        })
    }

    fn renderer(&self) -> Renderer<'_> {
        Renderer {
            params: &self.render,
            watermark: self.watermark.as_ref(),
            clock: &NoClock,
        }
    }

    /// The published copy of the watermark's logo, when the mark is a logo.
    fn logo(&self) -> Option<&str> {
        (self.render.watermark.as_ref())
            .map(|w| w.logo.as_str())
            .filter(|l| !l.is_empty())
    }
}

/// `verify` does not count where its time goes.
struct NoClock;

impl Clock for NoClock {
    fn add(&self, _: Step, _: u64) {}
}

/// Every photo in the input folder by content hash, so a renamed original is still found and a
/// changed one is named.
struct Originals {
    by_hash: HashMap<String, PathBuf>,
    root: PathBuf,
}

impl Originals {
    fn scan(input: &Path) -> Result<Originals, Fatal> {
        let fatal = |e: std::io::Error| Fatal::Input {
            path: input.to_owned(),
            message: format!("{e}; give the folder that holds the original photos"),
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(input).map_err(fatal)?.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if crate::discover::is_hidden(&name) {
                continue;
            }
            if path.is_dir() {
                let inner = std::fs::read_dir(&path).into_iter().flatten().flatten();
                files.extend(inner.map(|e| e.path()).filter(|p| is_photo(p)));
            } else if is_photo(&path) {
                files.push(path);
            }
        }
        let by_hash = files
            .into_par_iter()
            .filter_map(|p| {
                let bytes = std::fs::read(&p).ok()?;
                Some((blake3::hash(&bytes).to_hex().to_string(), p))
            })
            .collect();
        Ok(Originals {
            by_hash,
            root: input.to_owned(),
        })
    }

    fn rel(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        rel.to_string_lossy().replace('\\', "/")
    }
}

fn is_photo(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| crate::discover::is_photo(n) && !crate::discover::is_hidden(n))
}

fn verify_case(
    case: &CaseEntry,
    private: Option<&CaseEntry>,
    originals: &Originals,
    out: &Path,
    settings: &Recorded,
) -> Report {
    let mut report = Report::default();
    for (i, view) in case.views.iter().enumerate() {
        let private_view = private
            .and_then(|p| p.views.get(i))
            .filter(|v| v.view == view.view);
        verify_view(
            case,
            view,
            private_view,
            originals,
            out,
            settings,
            &mut report,
        );
    }
    report
}

fn verify_view(
    case: &CaseEntry,
    view: &ViewEntry,
    private: Option<&ViewEntry>,
    originals: &Originals,
    out: &Path,
    settings: &Recorded,
    report: &mut Report,
) {
    let mut photos = Vec::new();
    for (j, stage) in view.stages.iter().enumerate() {
        let recorded = private
            .and_then(|v| v.stages.get(j))
            .and_then(|s| s.source.clone());
        let at = (case.id.as_str(), view.view.as_str());
        if let Some(p) = original(stage, recorded, at, originals, &settings.ingest, report) {
            photos.push(p);
        }
    }
    if photos.len() != view.stages.len() {
        return;
    }
    // Made again only when published: staff's copies (`[gallery] social_downloads = false`)
    // are not in the output folder, nor its manifest.
    let share = (view.composites.iter())
        .any(|o| o.kind.as_deref().is_some_and(|k| SHARE_KINDS.contains(&k)));
    let plan = manifest::view_plan(
        format!("{}/{}", case.id, view.view),
        &case.key,
        view.stages[0].crop,
        &view.stages,
        photos.iter().map(|p| &p.pixels),
        share,
    );
    let sink = CompareSink {
        out,
        report: Mutex::new(Report::default()),
    };
    let rendered = render_view(&plan, settings.renderer(), &sink);
    let mut found = sink.report.into_inner().expect("no panics while comparing");
    match rendered {
        Ok(outputs) => check_listed(view, &outputs, &mut found),
        Err(e) => found.problem(&plan.prefix, format!("cannot be rendered again: {e}")),
    }
    report.compared += found.compared;
    report.identical += found.identical;
    report.within_tolerance += found.within_tolerance;
    report.problems.extend(found.problems);
}

/// The original of one stage, found by content hash and decoded, or the problem reported:
/// changed or missing (named by the private record, when there is one), undecodable, or not
/// the recorded size.
fn original(
    stage: &StageEntry,
    recorded: Option<String>,
    (case, view): (&str, &str),
    originals: &Originals,
    limits: &IngestParams,
    report: &mut Report,
) -> Option<Photo> {
    let Some(path) = originals.by_hash.get(&stage.source_hash) else {
        let (path, problem) = match recorded {
            Some(rel) if originals.root.join(&rel).is_file() => (
                rel,
                "this original changed since it was published: its content hash is not the manifest's",
            ),
            Some(rel) => (rel, "this original is missing from the input folder"),
            None => (
                format!("{case}/{view}/{}", stage.stage),
                "no photo in the input folder has this stage's recorded content hash",
            ),
        };
        report.problem(path, problem);
        return None;
    };
    let rel = originals.rel(path);
    let decoded = std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| ingest::decode(&b, Path::new(&rel), limits).map_err(|e| e.reason));
    match decoded {
        Ok(p) if p.pixels.dimensions() == (stage.oriented_size[0], stage.oriented_size[1]) => {
            return Some(p);
        }
        Ok(_) => report.problem(rel, "its upright size is not the manifest's oriented_size"),
        Err(e) => report.problem(rel, format!("cannot be decoded: {e}")),
    }
    None
}

/// The files the manifest lists for a view and the files its settings make must be the same.
fn check_listed(view: &ViewEntry, outputs: &ViewOutputs, found: &mut Report) {
    let listed: Vec<&str> = view
        .stages
        .iter()
        .flat_map(|s| &s.outputs)
        .chain(&view.composites)
        .map(|o| o.path.as_str())
        .collect();
    let made = outputs.stages.iter().flatten().chain(&outputs.composites);
    let made: Vec<&str> = made.map(|o| o.path.as_str()).collect();
    for path in made.iter().filter(|p| !listed.contains(p)) {
        found.problem(
            *path,
            "the manifest's settings make this file, but it is not listed",
        );
    }
    for path in listed.iter().filter(|p| !made.contains(p)) {
        found.problem(
            *path,
            "listed, but the manifest's settings do not make this file",
        );
    }
}

/// Compares each rendered file with the published one.
struct CompareSink<'a> {
    out: &'a Path,
    report: Mutex<Report>,
}

impl Sink for CompareSink<'_> {
    fn accept(&self, rel: &str, _kind: Option<Kind>, expected: &[u8]) -> Result<(), Fatal> {
        let verdict = std::fs::read(self.out.join(rel))
            .map_err(|e| format!("missing or unreadable: {e}"))
            .and_then(|actual| compare(expected, &actual));
        let mut r = self.report.lock().expect("no panics while comparing");
        r.compared += 1;
        match verdict {
            Ok(Match::Identical) => r.identical += 1,
            Ok(Match::Within) => r.within_tolerance += 1,
            Err(problem) => r.problem(rel, problem),
        }
        Ok(())
    }
}

enum Match {
    Identical,
    Within,
}

/// Bytes first; where they differ, decoded pixels block by block.
fn compare(expected: &[u8], actual: &[u8]) -> Result<Match, String> {
    if expected == actual {
        return Ok(Match::Identical);
    }
    let decode = |b: &[u8]| image::load_from_memory(b).map(image::DynamicImage::into_rgb8);
    let (Ok(want), Ok(have)) = (decode(expected), decode(actual)) else {
        return Err(
            "its bytes differ from what the manifest makes, and its pixels cannot be compared here"
                .into(),
        );
    };
    if want.dimensions() != have.dimensions() {
        return Err(format!(
            "{}×{} where the manifest makes {}×{}",
            have.width(),
            have.height(),
            want.width(),
            want.height()
        ));
    }
    let (worst, at) = worst_block(&want, &have);
    if worst <= TOLERANCE {
        Ok(Match::Within)
    } else {
        Err(format!(
            "its pixels differ from what the manifest makes: mean difference {worst:.1} levels in the 8×8 block at ({}, {}) (tolerance {TOLERANCE}); the image was changed after it was made",
            at.0, at.1
        ))
    }
}

/// The largest mean absolute difference of any channel over any 8×8 block, and where.
fn worst_block(a: &image::RgbImage, b: &image::RgbImage) -> (f64, (u32, u32)) {
    let (w, h) = a.dimensions();
    let mut worst = (0.0, (0, 0));
    for by in (0..h).step_by(8) {
        for bx in (0..w).step_by(8) {
            let mut sum = [0u32; 3];
            let mut n = 0u32;
            for y in by..(by + 8).min(h) {
                for x in bx..(bx + 8).min(w) {
                    let (p, q) = (a.get_pixel(x, y).0, b.get_pixel(x, y).0);
                    for c in 0..3 {
                        sum[c] += u32::from(p[c].abs_diff(q[c]));
                    }
                    n += 1;
                }
            }
            let m = sum
                .iter()
                .map(|&s| f64::from(s) / f64::from(n))
                .fold(0.0, f64::max);
            if m > worst.0 {
                worst = (m, (bx, by));
            }
        }
    }
    worst
}

/// Every listed file exists with its recorded size; every image in `out` is listed (or is the
/// header logo or the watermark) and carries no metadata.
fn check_files(out: &Path, manifest: &Manifest, settings: &Recorded, report: &mut Report) {
    let mut listed: HashMap<&str, u64> = HashMap::new();
    for case in &manifest.cases {
        for v in &case.views {
            for o in v
                .stages
                .iter()
                .flat_map(|s| &s.outputs)
                .chain(&v.composites)
            {
                listed.insert(&o.path, o.bytes);
            }
        }
    }
    for (path, bytes) in &listed {
        match std::fs::metadata(out.join(path)) {
            Ok(m) if *bytes == 0 || m.len() == *bytes => {}
            Ok(m) => report.problem(
                *path,
                format!("{} bytes where the manifest records {bytes}", m.len()),
            ),
            Err(_) => report.problem(*path, "listed in the manifest but missing"),
        }
    }
    let watermark = settings.logo();
    for rel in image_files(out) {
        let own_asset = rel.starts_with("assets/logo.") || Some(rel.as_str()) == watermark;
        if !own_asset && !listed.contains_key(rel.as_str()) {
            report.problem(&rel, "an image no published case accounts for");
        }
        if let Ok(bytes) = std::fs::read(out.join(&rel))
            && let Some(block) = metadata_block(&bytes)
        {
            report.problem(&rel, format!("carries metadata: {block}"));
        }
    }
}

const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "webp", "avif", "gif", "tif", "tiff", "heic", "heif", "bmp",
];

/// Image files under `out`, relative, `/`-separated.
fn image_files(out: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![out.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()) {
                let rel = path.strip_prefix(out).unwrap_or(&path);
                found.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found.sort();
    found
}

/// The first metadata block in an image file (EXIF, XMP, ICC, comments, text), if any.
#[must_use]
pub fn metadata_block(bytes: &[u8]) -> Option<String> {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        return jpeg_metadata(bytes);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return png_metadata(bytes);
    }
    if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return riff_metadata(bytes);
    }
    let find = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    if bytes.len() > 12 && &bytes[4..8] == b"ftyp" {
        return [&b"Exif"[..], b"application/rdf+xml", b"prof"]
            .iter()
            .find(|n| find(n))
            .map(|n| format!("ISOBMFF item {:?}", String::from_utf8_lossy(n)));
    }
    None
}

fn jpeg_metadata(b: &[u8]) -> Option<String> {
    let mut i = 2;
    while i + 4 <= b.len() && b[i] == 0xFF {
        let marker = b[i + 1];
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        if (0xE1..=0xEF).contains(&marker) {
            return Some(format!("JPEG APP{} segment", marker - 0xE0));
        }
        if marker == 0xFE {
            return Some("JPEG comment".into());
        }
        i += 2 + len;
    }
    None
}

fn png_metadata(b: &[u8]) -> Option<String> {
    let mut i = 8;
    while i + 8 <= b.len() {
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        let kind = &b[i + 4..i + 8];
        if [&b"tEXt"[..], b"zTXt", b"iTXt", b"eXIf", b"iCCP", b"tIME"].contains(&kind) {
            return Some(format!("PNG {} chunk", String::from_utf8_lossy(kind)));
        }
        i += 12 + len;
    }
    None
}

fn riff_metadata(b: &[u8]) -> Option<String> {
    let mut i = 12;
    while i + 8 <= b.len() {
        let kind = &b[i..i + 4];
        let len = u32::from_le_bytes([b[i + 4], b[i + 5], b[i + 6], b[i + 7]]) as usize;
        if [&b"EXIF"[..], b"XMP ", b"ICCP"].contains(&kind) {
            return Some(format!("WebP {} chunk", String::from_utf8_lossy(kind)));
        }
        i += 8 + len + (len & 1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_blocks_are_found() {
        let clean = crate::render::encode::encode(
            &image::RgbImage::new(16, 16),
            crate::render::Format::Jpeg,
            &crate::render::encode::EncodeParams {
                jpeg_quality: 80,
                jpeg_progressive: false,
                webp_quality: 80,
                webp_effort: 0,
                avif_quality: 60,
                avif_speed: 10,
            },
        )
        .unwrap();
        assert_eq!(metadata_block(&clean), None);
        let mut tagged = clean[..2].to_vec();
        tagged.extend([0xFF, 0xE1, 0x00, 0x08]);
        tagged.extend(b"Exif\0\0");
        tagged.extend(&clean[2..]);
        assert_eq!(metadata_block(&tagged).unwrap(), "JPEG APP1 segment");
    }

    #[test]
    fn blocks_find_a_local_change() {
        let a = image::RgbImage::from_pixel(64, 64, image::Rgb([100, 100, 100]));
        let mut b = a.clone();
        for y in 16..24 {
            for x in 40..48 {
                b.put_pixel(x, y, image::Rgb([130, 100, 100]));
            }
        }
        let (worst, at) = worst_block(&a, &b);
        assert_eq!((worst, at), (30.0, (40, 16)));
    }
}
